"""Bad input: each problem reported once with file, line and reason; every valid record loads."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cabtui.store.store import Store
from tests.conftest import EXPANSION

LINES = (EXPANSION / "results.jsonl").read_text().splitlines()


def _write(sweep: Path, lines: list[str], end: str = "\n") -> None:
    (sweep / "results.jsonl").write_text("\n".join(lines) + end)


def _problems(store: Store) -> list[tuple[str, int | None, str]]:
    """Problems of results.jsonl (a run dropped from it also leaves its runs/ directory orphaned,
    which is reported separately)."""
    return [(p.file, p.line, p.reason) for p in store.problems() if p.file == "results.jsonl"]


def test_malformed_line(sweep_copy: Path) -> None:
    _write(sweep_copy, [LINES[0], "{not json", *LINES[1:]])
    store = Store.open(sweep_copy)
    assert store.total() == 5
    probs = _problems(store)
    assert len(probs) == 1
    assert probs[0][:2] == ("results.jsonl", 2) and "malformed JSON" in probs[0][2]


def test_record_without_cell_id(sweep_copy: Path) -> None:
    rec = json.loads(LINES[2])
    del rec["cell_id"]
    _write(sweep_copy, [*LINES[:2], json.dumps(rec), *LINES[3:]])
    store = Store.open(sweep_copy)
    assert store.total() == 4
    assert _problems(store) == [("results.jsonl", 3, "no cell_id")]


def test_value_of_the_wrong_type(sweep_copy: Path) -> None:
    rec = json.loads(LINES[1])
    rec["scores"]["latency"]["wall_clock_ms"] = "slow"
    _write(sweep_copy, [LINES[0], json.dumps(rec), *LINES[2:]])
    store = Store.open(sweep_copy)
    assert store.total() == 5
    run = store.run(rec["cell_id"])
    assert run is not None
    assert run["wall_clock_ms"] is None  # shown as missing, not 0
    assert run["pass"] == rec["scores"]["pass_rate"]["pass"]  # the rest of the record loads
    probs = _problems(store)
    assert len(probs) == 1
    assert probs[0][:2] == ("results.jsonl", 2) and "scores.latency.wall_clock_ms" in probs[0][2]


def test_truncated_file(sweep_copy: Path) -> None:
    _write(sweep_copy, [*LINES[:4], LINES[4][: len(LINES[4]) // 2]], end="")
    store = Store.open(sweep_copy)
    assert store.total() == 4
    probs = _problems(store)
    assert len(probs) == 1
    assert probs[0][:2] == ("results.jsonl", 5) and "truncated" in probs[0][2]


def test_duplicate_cell_id(sweep_copy: Path) -> None:
    _write(sweep_copy, [*LINES, LINES[0]])
    store = Store.open(sweep_copy)
    assert store.total() == 5
    probs = _problems(store)
    assert len(probs) == 1
    assert probs[0][:2] == ("results.jsonl", 6)
    assert "duplicate cell_id" in probs[0][2] and "results.jsonl:1" in probs[0][2]


def test_bad_cell_id(sweep_copy: Path) -> None:
    rec = json.loads(LINES[0])
    rec["cell_id"] = "not/a/cell"
    _write(sweep_copy, [json.dumps(rec), *LINES[1:]])
    store = Store.open(sweep_copy)
    assert store.total() == 4
    probs = _problems(store)
    assert len(probs) == 1 and probs[0][:2] == ("results.jsonl", 1) and "bad cell_id" in probs[0][2]


def test_unreadable_file(sweep_copy: Path) -> None:
    """results.jsonl that cannot be read as a file (here a directory, which even root cannot
    read as one): reported by name; the per-run artefacts still load."""
    (sweep_copy / "results.jsonl").unlink()
    (sweep_copy / "results.jsonl").mkdir()
    store = Store.open(sweep_copy)
    probs = [p for p in store.problems() if p.file.endswith("results.jsonl")]
    assert len(probs) == 1 and "not a regular file" in probs[0].reason
    assert store.cursor().execute("SELECT count(*) FROM spans").fetchall()[0][0] == 0


def test_results_link_leading_outside(sweep_copy: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere.jsonl"
    outside.write_text((sweep_copy / "results.jsonl").read_text())
    (sweep_copy / "results.jsonl").unlink()
    (sweep_copy / "results.jsonl").symlink_to(outside)
    store = Store.open(sweep_copy)
    assert store.total() == 0
    assert any(
        "outside the sweep" in p.reason and p.file.endswith("results.jsonl")
        for p in store.problems()
    )


def test_unreadable_per_run_file(sweep_copy: Path) -> None:
    spans = next((sweep_copy / "runs").rglob("spans.jsonl"))
    spans.unlink()
    spans.mkdir()  # a directory where a file should be: cannot be read as one
    store = Store.open(sweep_copy)
    assert store.total() == 5


def test_link_leading_outside_the_sweep(sweep_copy: Path, tmp_path: Path) -> None:
    secret = tmp_path / "outside.cast"
    secret.write_text('{"version": 2, "width": 80, "height": 24}\n[0.1, "o", "secret"]\n')
    run_dir = next((sweep_copy / "runs").rglob("run-1"))
    (run_dir / "recording.cast").symlink_to(secret)
    store = Store.open(sweep_copy)
    assert store.total() == 5
    probs = store.problems()
    assert len(probs) == 1 and "outside the sweep" in probs[0].reason
    assert "recording.cast" in probs[0].file
    assert store.cursor().execute("SELECT count(*) FROM recordings").fetchall()[0][0] == 0


def test_spans_with_a_broken_line(sweep_copy: Path) -> None:
    spans = next((sweep_copy / "runs").rglob("spans.jsonl"))
    good = spans.read_text().splitlines()
    spans.write_text("\n".join([good[0], "[1, 2", *good[1:]]) + "\n")
    store = Store.open(sweep_copy)
    probs = store.problems()
    assert len(probs) == 1 and probs[0].line == 2 and probs[0].file.endswith("spans.jsonl")
    assert store.cursor().execute("SELECT count(*) FROM spans").fetchall()[0][0] == 26 - 0


CORRUPTIONS = [
    "{bad json",
    "[1, 2]",
    '{"cell_id": 7}',
    '{"note": "no id"}',
    "\x00\x01garbage",
    '"just a string"',
]


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=st.lists(
        st.one_of(st.integers(0, 4), st.sampled_from(CORRUPTIONS)), min_size=1, max_size=12
    ),
    tag=st.text(alphabet=string.ascii_lowercase, min_size=4, max_size=4),
)
def test_record_reader_property(
    tmp_path_factory: pytest.TempPathFactory, plan: list[int | str], tag: str
) -> None:
    """Any mix of valid records and broken lines: every valid record loads, once; each broken
    line is reported once, at its line number."""
    sweep = tmp_path_factory.mktemp("prop") / f"sweep-{tag}"
    sweep.mkdir()
    lines: list[str] = []
    valid: set[str] = set()
    bad_lines: set[int] = set()
    seen: set[str] = set()
    for i, item in enumerate(plan, start=1):
        if isinstance(item, int):
            rec = json.loads(LINES[item])
            lines.append(json.dumps(rec))
            if rec["cell_id"] in seen:
                bad_lines.add(i)  # a duplicate
            seen.add(rec["cell_id"])
            valid.add(rec["cell_id"])
        else:
            lines.append(item)
            bad_lines.add(i)
    _write(sweep, lines)
    store = Store.open(sweep)
    loaded = [r["cell_id"] for r in store.runs(limit=None).to_pylist()]
    assert sorted(loaded) == sorted(valid)
    probs = store.problems()
    at = [p.line for p in probs if p.line is not None]
    assert len(at) == len(probs)  # every problem has its line
    assert sorted(at) == sorted(bad_lines)
    assert all(p.file == "results.jsonl" for p in probs)  # no runs/ dir in this sweep
    store.close()
