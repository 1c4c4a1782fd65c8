"""The DuckDB store on real sweeps: typed columns, composite, aggregates, cache behaviour."""

from __future__ import annotations

import json
import multiprocessing
import os
from pathlib import Path

import duckdb
import pytest

from cabtui.scoring import Weights, wilson
from cabtui.store.cache import cache_path, ensure_cache
from cabtui.store.query import Query
from cabtui.store.store import Store
from tests.conftest import EXPANSION

RECORDS = [json.loads(line) for line in (EXPANSION / "results.jsonl").read_text().splitlines()]


def test_every_real_run_loads_with_its_figures(expansion_store: Store) -> None:
    assert expansion_store.total() == len(RECORDS) == 5
    assert expansion_store.problems() == []
    for rec in RECORDS:
        run = expansion_store.run(rec["cell_id"])
        assert run is not None
        s = rec["scores"]
        assert run["pass"] == s["pass_rate"]["pass"]
        assert run["grader_exit_code"] == s["pass_rate"]["exit_code"]
        assert run["exit_code"] == rec["exit_code"]
        assert run["wall_clock_ms"] == pytest.approx(s["latency"]["wall_clock_ms"])
        assert run["blast_radius"] == pytest.approx(s["blast_radius"]["blast_radius"])
        assert run["added"] == s["blast_radius"]["added"]
        assert run["refusal_correct"] == s["refusal"]["refusal_correct"]
        assert run["stdout_tail"] == s["pass_rate"]["stdout_tail"]
        assert run["composite_recorded"] == s["composite"]["composite"]
        # The recomputed composite reproduces the published one.
        assert abs(run["composite"] - s["composite"]["composite"]) <= 0.0005
        assert run["composite_mismatch"] is False
        tokens = rec.get("tokens")
        assert run["total_tokens"] == (
            None if tokens is None else tokens["prompt_tokens"] + tokens["completion_tokens"]
        )


def test_long_form_scores_hold_every_key(expansion_store: Store) -> None:
    for rec in RECORDS:
        got = {(a, k) for a, k, _ in expansion_store.scores(rec["cell_id"])}
        for axis, keys in rec["scores"].items():
            for key in keys:
                assert (axis, key) in got, (axis, key)


def test_spans_come_from_per_run_files(expansion_store: Store) -> None:
    for run_dir in (EXPANSION / "runs").glob("*/*/*/*/*/run-1"):
        lines = (run_dir / "spans.jsonl").read_text().splitlines()
        tui = run_dir.parts[-6]
        cell_id = next(r["cell_id"] for r in RECORDS if f"/{tui}/" in r["cell_id"])
        spans = expansion_store.spans(cell_id)
        assert {s["span_id"] for s in spans} == {json.loads(x)["span_id"] for x in lines}


def test_unknown_keys_are_kept(sweep_copy: Path) -> None:
    lines = (sweep_copy / "results.jsonl").read_text().splitlines()
    rec = json.loads(lines[0])
    rec["harness"] = {"version": "9.9"}
    rec["scores"]["pass_rate"]["flaky"] = True
    lines[0] = json.dumps(rec)
    (sweep_copy / "results.jsonl").write_text("\n".join(lines) + "\n")
    store = Store.open(sweep_copy)
    run = store.run(rec["cell_id"])
    assert run is not None
    assert run["extra"]["harness"] == {"version": "9.9"}
    assert run["extra"]["scores.pass_rate.flaky"] is True
    assert ("pass_rate", "flaky", True) in store.scores(rec["cell_id"])


def test_cells_and_aggregates(sample_store: Store) -> None:
    cells = sample_store.cells(limit=None).to_pylist()
    runs = sample_store.runs(limit=None).to_pylist()
    assert sum(c["n"] for c in cells) == len(runs)
    for c in cells:
        mine = [r for r in runs if r["cell_id"].split("#")[0] == c["cell"]]
        passes = [r["pass"] for r in mine]
        assert c["n"] == len(mine)
        assert c["pass_rate"] == pytest.approx(sum(passes) / len(passes))
        lo, hi = wilson(sum(passes), len(passes))
        assert (c["pass_lo"], c["pass_hi"]) == (pytest.approx(lo), pytest.approx(hi))
    by_tui = {r["tui"]: r for r in sample_store.aggregate(("tui",)).to_pylist()}
    for tui, agg in by_tui.items():
        mine = [r["composite"] for r in runs if r["tui"] == tui]
        assert agg["composite_mean"] == pytest.approx(sum(mine) / len(mine))


def test_what_if_weights_rerank(expansion_store: Store) -> None:
    only_pass = Weights(pass_rate=1, integrity=0, cost=0, latency=0, blast_radius=0)
    rows = expansion_store.runs(
        Query(sort="composite", descending=True, weights=only_pass)
    ).to_pylist()
    assert [r["composite"] for r in rows] == sorted((r["composite"] for r in rows), reverse=True)
    for r in rows:
        # refusal_factor is 1 on these mutations/polyglot tasks, so the composite is the pass.
        assert r["composite"] == pytest.approx(r["pass"])
        assert r["composite_recorded"] is not None


def test_filter_runs_in_sql(expansion_store: Store) -> None:
    assert expansion_store.count(Query("pass:0")) == sum(
        1 for r in RECORDS if r["scores"]["pass_rate"]["pass"] == 0
    )
    assert expansion_store.count(Query("tui:aider,pi")) == 2
    assert expansion_store.count(Query("-tui:copilot wall<10s")) == sum(
        1
        for r in RECORDS
        if "/copilot/" not in r["cell_id"] and r["scores"]["latency"]["wall_clock_ms"] < 10000
    )


def test_cache_reused_then_refreshed_on_change(sweep_copy: Path) -> None:
    db, report = ensure_cache(sweep_copy)
    assert report is not None  # cold: ingested
    db2, report2 = ensure_cache(sweep_copy)
    assert db2 == db and report2 is None  # warm: reused
    results = sweep_copy / "results.jsonl"
    results.write_text(results.read_text().splitlines()[0] + "\n")
    os.utime(results, ns=(1, 1))
    _, report3 = ensure_cache(sweep_copy)
    assert report3 is not None and report3.runs == 1


def test_sweep_is_never_written(sweep_copy: Path) -> None:
    before = sorted((p, p.stat().st_mtime_ns) for p in sweep_copy.rglob("*"))
    Store.open(sweep_copy)
    assert sorted((p, p.stat().st_mtime_ns) for p in sweep_copy.rglob("*")) == before


def _open_and_count(path: str, cache: str, q: multiprocessing.Queue[int | str]) -> None:
    os.environ["CABTUI_CACHE_DIR"] = cache
    try:
        q.put(Store.open(Path(path)).total())
    except Exception as e:
        q.put(repr(e))


def test_two_processes_open_the_same_sweep_at_once(sweep_copy: Path, cache_dir: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    q = ctx.Queue()
    procs = [
        ctx.Process(target=_open_and_count, args=(str(sweep_copy), str(cache_dir), q))
        for _ in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert sorted([q.get(), q.get()]) == [5, 5]


def test_crash_mid_ingest_leaves_no_broken_cache(
    sweep_copy: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cabtui.store import cache

    def boom(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cache, "ingest", boom)
    with pytest.raises(KeyboardInterrupt):
        ensure_cache(sweep_copy)
    assert not cache_path(sweep_copy).exists()
    assert not [p for p in cache_path(sweep_copy).parent.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    assert Store.open(sweep_copy).total() == 5


def test_cache_file_queryable_with_plain_duckdb(expansion_store: Store) -> None:
    con = duckdb.connect(str(expansion_store.db_path), read_only=True)
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert {"runs", "spans", "model_calls", "recordings", "problems", "sweeps", "scores"} <= tables


def test_several_sweeps_open_together(sample_store: Store) -> None:
    names = {s["sweep_dir"] for s in sample_store.sweeps()}
    assert names == {p.name for p in (EXPANSION.parent).iterdir() if p.is_dir()}
    assert sample_store.count(Query("sweep:expansion-20260616")) == 5


def test_a_run_with_many_related_runs_has_its_detail(tmp_path: Path) -> None:
    """A run of a large sweep is related to up to 200 others, more than the filter language
    takes in one term: the detail still gets each related run's pass and composite."""
    from cabtui.store.detail import load_detail
    from cabtui.sweep.synth import synth_sweep

    synth_sweep(tmp_path / "big", 3000, seed=5)
    store = Store.open(tmp_path / "big")
    try:
        cid = store.runs(Query(), limit=1).to_pylist()[0]["cell_id"]
        data = load_detail(store, cid, Weights(pass_rate=1.0))
        assert data is not None
        related = [r for rs in data.related.values() for r in rs]
        assert len(",".join(r.cell_id for r in related)) > 4096
        want = {
            r["cell_id"]: r
            for r in store.runs(Query(weights=Weights(pass_rate=1.0)), limit=None).to_pylist()
        }
        for r in related:
            assert (r.pass_, r.composite) == (want[r.cell_id]["pass"], want[r.cell_id]["composite"])
    finally:
        store.close()
