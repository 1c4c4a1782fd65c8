"""diff_runs, diff_cells and cab-tui diff, on the real copilot (fail) and aider (pass) runs."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cabtui.cli import app
from cabtui.compare.diff import UnknownRun, diff_cells, diff_runs
from cabtui.compare.values import RunDiff
from cabtui.scoring import wilson
from cabtui.store.store import Store
from cabtui.sweep.synth import synth_sweep

EXPANSION = Path(__file__).resolve().parent.parent / "data" / "sweeps" / "expansion-20260616"
FILES = ("added", "removed", "modified", "unexpected_changes")


def records(sweep: Path = EXPANSION) -> dict[str, dict[str, Any]]:
    out = {}
    for line in (sweep / "results.jsonl").read_text().splitlines():
        if line.strip():
            rec = json.loads(line)
            out[rec["cell_id"].split("/")[1]] = rec
    return out


@pytest.fixture(scope="module")
def pair(expansion_store: Store) -> tuple[str, str, RunDiff]:
    recs = records()
    a, b = recs["copilot"]["cell_id"], recs["aider"]["cell_id"]
    return a, b, diff_runs(expansion_store, a, b)


def test_axes_pass_delta_and_better(pair: tuple[str, str, RunDiff]) -> None:
    recs = records()
    _, _, d = pair
    row = next(r for r in d.axes if (r.axis, r.key) == ("pass_rate", "pass"))
    assert row.a == recs["copilot"]["scores"]["pass_rate"]["pass"] == 0
    assert row.b == recs["aider"]["scores"]["pass_rate"]["pass"] == 1
    assert row.delta == -1 and row.better == "b"
    wall = next(r for r in d.axes if r.key == "wall_clock_ms")
    assert wall.better == "a"  # copilot was faster
    assert d.a["tui"] == "copilot" and d.b["tui"] == "aider"
    assert "tui" in d.identity_diff and "task_id" not in d.identity_diff


def test_axes_one_row_per_scorer_key(
    expansion_store: Store, pair: tuple[str, str, RunDiff]
) -> None:
    a, b, d = pair
    keys = [(r.axis, r.key) for r in d.axes]
    assert len(keys) == len(set(keys))
    recorded = {
        (ax, k)
        for rec in (records()["copilot"], records()["aider"])
        for ax, v in rec["scores"].items()
        for k in v
    }
    assert recorded <= set(keys)
    assert set(keys) == {
        (ax, k) for ax, k, _ in expansion_store.scores(a) + expansion_store.scores(b)
    }


def test_file_sets_from_the_records(pair: tuple[str, str, RunDiff]) -> None:
    recs = records()
    _, _, d = pair
    for name in FILES:
        sa = set(recs["copilot"]["scores"]["blast_radius"][name])
        sb = set(recs["aider"]["scores"]["blast_radius"][name])
        got = d.files[name]
        assert set(got.only_a) == sa - sb
        assert set(got.only_b) == sb - sa
        assert set(got.both) == sa & sb
    assert "src/lib.rs" in d.files["modified"].only_b


def test_tails_and_spans(pair: tuple[str, str, RunDiff]) -> None:
    _, _, d = pair
    lines = d.tails["stdout_tail"]
    assert lines and lines[0].startswith("---")
    assert any(line.startswith("-") and "FAILED" in line for line in lines)
    assert not any("\x1b" in line for ls in d.tails.values() for line in ls)
    sp = d.spans
    assert sp.counts["only_b"] == 1 and sp.counts["only_a"] == 0
    assert sp.parted is not None and sp.parted.b is not None
    assert sp.parted.b.name == "aider:git-init-marker"
    assert len(sp.pairs) == sp.counts["match"] + sp.counts["partial"] + 1
    json.dumps(d.to_json())  # JSON-ready


def test_composite_parts(pair: tuple[str, str, RunDiff]) -> None:
    _, _, d = pair
    rows = {r.component: r for r in d.composite}
    assert rows["pass_rate"].a == 0 and abs(rows["pass_rate"].b - 0.4) < 1e-12
    for side, tui in (("a", "copilot"), ("b", "aider")):
        recorded = records()[tui]["scores"]["composite"]["composite"]
        assert abs(getattr(rows["composite"], side) - recorded) < 0.0005


def test_unknown_run(expansion_store: Store) -> None:
    with pytest.raises(UnknownRun):
        diff_runs(expansion_store, "nope", records()["aider"]["cell_id"])


def test_diff_cells_reruns(tmp_path: Path) -> None:
    synth_sweep(tmp_path / "s", runs=12, seed=5)
    store = Store.open(tmp_path / "s")
    cells = [
        r[0]
        for r in store.cursor().execute("SELECT DISTINCT cell FROM runs ORDER BY cell").fetchall()
    ]
    d = diff_cells(store, cells[0], cells[1])
    passes = [
        r[0]
        for r in store.cursor()
        .execute("SELECT pass FROM runs WHERE cell = ?", [cells[0]])
        .fetchall()
    ]
    comps = [
        r[0]
        for r in store.cursor()
        .execute("SELECT composite FROM runs WHERE cell = ?", [cells[0]])
        .fetchall()
    ]
    row = next(r for r in d.axes if r.key == "pass")
    assert row.a.n == len(passes) == 3
    assert (row.a.lo, row.a.hi) == pytest.approx(wilson(sum(passes), len(passes)))
    comp = next(r for r in d.axes if r.key == "composite")
    assert comp.a.mean == pytest.approx(statistics.fmean(comps))
    assert comp.a.lo is not None and comp.a.hi is not None and comp.a.mean is not None
    assert comp.a.lo <= comp.a.mean <= comp.a.hi
    assert len(d.runs_a) == 3


runner = CliRunner()


def test_cli_json(pair: tuple[str, str, RunDiff], expansion_store: Store) -> None:
    a, b, _ = pair
    res = runner.invoke(app, ["diff", str(EXPANSION), "/copilot/", "/aider/", "--format", "json"])
    assert res.exit_code == 0, res.output
    d = json.loads(res.output)
    for key in ("a", "b", "axes", "spans", "files", "tails", "model_calls", "composite"):
        assert key in d
    assert d["a"]["cell_id"] == a and d["b"]["cell_id"] == b
    assert all({"axis", "key", "a", "b", "delta"} <= set(r) for r in d["axes"])
    want = {(ax, k) for ax, k, _ in expansion_store.scores(a) + expansion_store.scores(b)}
    assert len(d["axes"]) == len(want)


def test_cli_errors() -> None:
    res = runner.invoke(app, ["diff", str(EXPANSION), "rust", "/aider/"])
    assert res.exit_code == 1  # several candidates
    res = runner.invoke(app, ["diff", str(EXPANSION), "no-such-run", "/aider/"])
    assert res.exit_code == 1
    res = runner.invoke(app, ["diff", str(EXPANSION), "/copilot/", "/aider/", "--format", "xml"])
    assert res.exit_code == 2


def test_cli_table_is_safe(sweep_copy: Path) -> None:
    """Escapes and rich markup in a record reach the table as inert text."""
    path = sweep_copy / "results.jsonl"
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines):
        rec = json.loads(line)
        if "/copilot/" in rec["cell_id"]:
            rec["scores"]["blast_radius"]["added"] = [
                "[bold red]marked[/]",
                "\x1b]0;pwned\x07title",
            ]
            rec["scores"]["pass_rate"]["stdout_tail"] += (
                "\x1b[2J\x1b[31mred\x1b[0m [link=x]y[/link]\n"
            )
            lines[i] = json.dumps(rec)
    path.write_text("\n".join(lines) + "\n")
    res = runner.invoke(app, ["diff", str(sweep_copy), "/copilot/", "/aider/"])
    assert res.exit_code == 0, res.output
    assert "\x1b" not in res.output and "\x07" not in res.output
    assert "[bold red]marked[/]" in res.output
    assert "the traces part at pair" in res.output
