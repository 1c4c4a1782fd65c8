"""The incremental cache: a refresh that reads only what was appended gives, table by table,
what a cold ingest of the same files gives; whatever it cannot follow rebuilds the cache."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cabtui.store.cache import Cache, cache_path, open_cache
from cabtui.store.ingest import ingest
from cabtui.store.store import Store
from cabtui.sweep.synth import synth_sweep

TABLES = ("sweeps", "runs", "spans", "model_calls", "recordings", "problems", "scores", "counts")
FILES = ("results.jsonl", "spans.jsonl", "model_calls.jsonl")


def dump(db: Path) -> dict[str, tuple[list[str], list[str]]]:
    """Every table of a cache: its columns and its rows (sorted: the order is not the data)."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            t: (
                list(con.table(t).columns),
                sorted(repr(r) for r in con.execute(f"SELECT * FROM {t}").fetchall()),
            )
            for t in TABLES
        }
    finally:
        con.close()


def assert_same_as_cold(sweep: Path, db: Path, scratch: Path) -> None:
    cold = scratch / "cold.duckdb"
    cold.unlink(missing_ok=True)
    ingest(sweep, cold)
    got, want = dump(db), dump(cold)
    for t in TABLES:
        assert got[t][0] == want[t][0], t
        extra = sorted(set(got[t][1]) - set(want[t][1]))[:3]
        missing = sorted(set(want[t][1]) - set(got[t][1]))[:3]
        assert got[t][1] == want[t][1], f"{t}: refreshed has {extra}, cold has {missing}"


def incremental(opened: Cache) -> bool:
    return opened.report is not None and "refresh" in opened.report.seconds


def refreshed_as_cold(
    sweep: Path, scratch: Path, in_part: bool | None = True, why: str = ""
) -> Cache:
    """Open ``sweep``'s cache and assert it is its cold ingest, and that it was refreshed in
    part (``in_part``), or built again whole (False), or either (None)."""
    opened = open_cache(sweep)
    if in_part:
        assert incremental(opened), why
    elif in_part is not None:
        assert opened.report is not None and not incremental(opened), why
    assert_same_as_cold(sweep, opened.path, scratch)
    return opened


@dataclass
class Live:
    """A sweep written line by line from a complete synthetic one."""

    sweep: Path
    pool: dict[str, list[str]]
    sent: dict[str, int] = field(default_factory=dict)
    cut: dict[str, str] = field(default_factory=dict)  # the rest of a line written in part
    clock: int = 1_700_000_000 * 10**9

    def write(self, name: str, text: str, mode: str = "a") -> None:
        path = self.sweep / name
        with path.open(mode, encoding="utf-8") as f:
            f.write(text)
        self.clock += 10**7  # each write its own modification time, however fast the test
        os.utime(path, ns=(self.clock, self.clock))

    def append(self, name: str, n: int, cut: float | None) -> None:
        start = self.sent.get(name, 0)
        lines = self.pool[name][start : start + n]
        self.sent[name] = start + len(lines)
        text = self.cut.pop(name, "") + "".join(lines)
        if cut is not None and lines:
            at = len(text) - len(lines[-1]) + max(1, int(len(lines[-1]) * cut))
            text, self.cut[name] = text[:at], text[at:]
        if text:
            self.write(name, text)

    def hostile(self, name: str, kind: str) -> None:
        rest = self.cut.pop(name, "")
        done = (self.sweep / name).read_text().splitlines(keepends=True) if (
            self.sweep / name
        ).exists() else []  # fmt: skip
        line = {
            "malformed": "{not json\n",
            "no cell_id": '{"x": 1}\n',
            "blank": "\n",
            "not an object": "[1, 2]\n",
            "duplicate": done[len(done) // 2] if done else "\n",
        }.get(kind)
        if line is None:  # a value that cannot be true, on the next line of the pool
            start = self.sent.get(name, 0)
            if start >= len(self.pool[name]):
                return
            doc = json.loads(self.pool[name][start])
            self.sent[name] = start + 1
            if name == "results.jsonl":
                doc.setdefault("scores", {}).setdefault("latency", {})["wall_clock_ms"] = -5
                doc["scores"].setdefault("pass_rate", {})["pass"] = "yes"
            else:
                doc["duration_ms"] = "long"
            line = json.dumps(doc) + "\n"
        self.write(name, rest + line)

    def rewrite(self, name: str, how: str) -> None:
        self.cut.pop(name, None)
        path = self.sweep / name
        if not path.exists():
            return
        if how == "delete":
            path.unlink()
            return
        lines = path.read_text().splitlines(keepends=True)
        lines = lines[::-1] if how == "reverse" else lines[:-1]
        self.write(name, "".join(lines), "w")


def uniform(full: Path, runs: int) -> dict[str, list[str]]:
    """The lines of ``runs`` reruns of one synthetic run, each with its spans and model calls:
    lines of one shape, which DuckDB types alike however many of them it reads."""
    first = json.loads((full / "results.jsonl").read_text().splitlines()[0])
    base = first["cell_id"].partition("#")[0]
    mine = {n: [json.loads(line) for line in (full / n).read_text().splitlines()] for n in FILES}
    pool: dict[str, list[str]] = {n: [] for n in FILES}
    for i in range(runs):
        cell_id = f"{base}#run{i + 1}"
        doc = json.loads(json.dumps(first))
        doc["cell_id"] = cell_id
        doc["scores"]["latency"]["wall_clock_ms"] = 1000.5 + i
        pool["results.jsonl"].append(json.dumps(doc) + "\n")
        for name in ("spans.jsonl", "model_calls.jsonl"):
            for k, row in enumerate(r for r in mine[name] if r["cell_id"] == first["cell_id"]):
                row = {**row, "cell_id": cell_id}
                if "span_id" in row:
                    row["span_id"] = f"{i}-{k}"
                pool[name].append(json.dumps(row) + "\n")
    return pool


def live_sweep(root: Path, runs: int = 30, start: int = 10) -> Live:
    full, sweep = root / "full", root / "live"
    synth_sweep(full, 3, seed=5, spans_per_run=12)
    sweep.mkdir()
    shutil.copy(full / "sweep.json", sweep)
    pool = uniform(full, runs)
    live = Live(sweep, pool)
    ids = {json.loads(line)["cell_id"] for line in pool["results.jsonl"][:start]}
    for name in FILES:  # the first runs, with their spans and calls
        n = sum(1 for line in pool[name] if json.loads(line)["cell_id"] in ids)
        live.append(name, n, None)
    return live


STEP = st.one_of(
    st.tuples(
        st.just("append"),
        st.sampled_from(FILES),
        st.integers(0, 6),
        st.one_of(st.none(), st.floats(0.05, 0.95)),
    ),
    st.tuples(
        st.just("hostile"),
        st.sampled_from(FILES),
        st.sampled_from(["malformed", "no cell_id", "blank", "not an object", "duplicate", "bad"]),
    ),
    st.tuples(st.just("rewrite"), st.sampled_from(FILES), st.sampled_from(["reverse", "shrink"])),
    st.tuples(st.just("rewrite"), st.sampled_from(FILES), st.just("delete")),
)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(STEP, min_size=1, max_size=6))
def test_a_refreshed_cache_is_the_cold_ingest_of_the_same_files(
    steps: list[tuple[object, ...]], cache_dir: Path
) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        live = live_sweep(root)
        open_cache(live.sweep)
        for step in steps:
            kind, name = str(step[0]), str(step[1])
            if kind == "append":
                cut = step[3]
                live.append(name, int(str(step[2])), cut if isinstance(cut, float) else None)
            elif kind == "hostile":
                live.hostile(name, str(step[2]))
            else:
                live.rewrite(name, str(step[2]))
            opened = open_cache(live.sweep)
            assert_same_as_cold(live.sweep, opened.path, root)


def test_appended_runs_spans_and_calls_are_read_incrementally(tmp_path: Path) -> None:
    live = live_sweep(tmp_path)
    open_cache(live.sweep)
    for name in FILES:
        live.append(name, 5, None)
    opened = open_cache(live.sweep)
    assert incremental(opened) and opened.report is not None
    assert opened.report.runs == 15
    assert_same_as_cold(live.sweep, opened.path, tmp_path)
    live.hostile("results.jsonl", "duplicate")  # a duplicate: reported as a cold ingest does
    opened = open_cache(live.sweep)
    assert incremental(opened) and opened.report is not None
    assert [p.reason.split(" (")[0] for p in opened.report.problems] == [
        f"duplicate cell_id {json.loads(live.pool['results.jsonl'][7])['cell_id']}"
    ]
    assert_same_as_cold(live.sweep, opened.path, tmp_path)


def test_a_line_without_its_newline_is_read_again_once_complete(tmp_path: Path) -> None:
    live = live_sweep(tmp_path)
    open_cache(live.sweep)
    live.append("results.jsonl", 3, 0.5)  # two runs and half of a third
    opened = open_cache(live.sweep)
    assert incremental(opened) and opened.report is not None
    assert [(p.line, p.reason.split(":")[0]) for p in opened.report.problems] == [
        (13, "truncated line")
    ]
    assert_same_as_cold(live.sweep, opened.path, tmp_path)
    live.append("results.jsonl", 1, None)  # the rest of it, and one more
    opened = open_cache(live.sweep)
    assert incremental(opened) and opened.report is not None
    assert opened.report.problems == [] and opened.report.runs == 14
    store = Store(opened.path, live.sweep)
    try:
        assert store.problems() == []
    finally:
        store.close()
    assert_same_as_cold(live.sweep, opened.path, tmp_path)


def test_any_other_change_rebuilds_the_cache(tmp_path: Path) -> None:
    live = live_sweep(tmp_path)
    open_cache(live.sweep)
    manifest = json.loads((live.sweep / "sweep.json").read_text())
    manifest["latency_ref_ms"] = 20000
    (live.sweep / "sweep.json").write_text(json.dumps(manifest))
    live.append("results.jsonl", 2, None)
    opened = open_cache(live.sweep)
    assert opened.report is not None and not incremental(opened)
    assert_same_as_cold(live.sweep, opened.path, tmp_path)
    live.rewrite("spans.jsonl", "reverse")
    opened = open_cache(live.sweep)
    assert opened.report is not None and not incremental(opened)
    assert_same_as_cold(live.sweep, opened.path, tmp_path)


def test_a_store_open_on_the_cache_keeps_reading_the_file_it_opened(tmp_path: Path) -> None:
    live = live_sweep(tmp_path)
    store = Store.open(live.sweep)
    live.append("results.jsonl", 4, None)
    fresh = Store.open(live.sweep)
    try:
        assert fresh.report is not None and "refresh" in fresh.report.seconds
        assert (store.total(), fresh.total()) == (10, 14)
        assert store.count() == 10 and len(store.runs()) == 10  # never half an update
        assert fresh.db_path == cache_path(live.sweep)
    finally:
        store.close()
        fresh.close()


def test_a_folder_of_sweeps_follows_each_of_them(tmp_path: Path) -> None:
    """Two sweeps opened together: each one's files are followed, their runs kept in order
    (a run of the second sweep that repeats one of the first is the duplicate)."""
    a, b = live_sweep(tmp_path / "a"), live_sweep(tmp_path / "b")
    root = tmp_path / "both"
    root.mkdir()
    a.sweep = a.sweep.rename(root / "one")
    b.sweep = b.sweep.rename(root / "two")
    open_cache(root)
    a.append("results.jsonl", 3, None)
    b.append("results.jsonl", 2, None)
    b.append("spans.jsonl", 30, 0.5)
    opened = open_cache(root)
    assert incremental(opened) and opened.report is not None
    assert_same_as_cold(root, opened.path, tmp_path)
    b.append("spans.jsonl", 5, None)
    a.append("model_calls.jsonl", 4, None)
    opened = open_cache(root)
    assert incremental(opened)
    assert_same_as_cold(root, opened.path, tmp_path)
