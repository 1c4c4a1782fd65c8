"""Hostile and unlucky JSON input: each bad line is reported with its file, line and reason, and
costs only itself; every valid record, span and model call still loads."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cabtui.store.store import Store
from cabtui.sweep.lines import MAX_DEPTH, MAX_KEYS, MAX_LINE_BYTES
from tests.conftest import EXPANSION

LINES = (EXPANSION / "results.jsonl").read_text().splitlines()
RECORDS = [json.loads(line) for line in LINES]
SWEEP = "expansion-20260616"


def _count(store: Store, table: str) -> int:
    return int(store.cursor().execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])


def _problems(store: Store) -> list[tuple[str, int | None, str]]:
    return [(p.file, p.line, p.reason) for p in store.problems()]


def _span_files(sweep: Path) -> list[Path]:
    return sorted((sweep / "runs").rglob("spans.jsonl"))


def _spans_per_file(sweep: Path) -> dict[Path, int]:
    return {
        f: sum(1 for line in f.read_text().splitlines() if line.strip()) for f in _span_files(sweep)
    }


def _cell(i: int) -> str:
    return f"{SWEEP}/aider/vendor/model-{i}/fam/task-{i}"


# -- record shapes DuckDB could misread ----------------------------------------------------------


def test_records_each_with_a_rare_key_all_load(tmp_path: Path) -> None:
    """100 records, each with one extra key of its own: all load, each key kept in extra."""
    sweep = tmp_path / SWEEP
    sweep.mkdir()
    lines = [json.dumps({"cell_id": _cell(i), f"extra_{i}": i}) for i in range(100)]
    (sweep / "results.jsonl").write_text("\n".join(lines) + "\n")
    store = Store.open(sweep)
    assert store.total() == 100
    assert _problems(store) == []
    extra = (
        store.cursor()
        .execute("SELECT extra FROM runs WHERE cell_id = ?", [_cell(42)])
        .fetchall()[0][0]
    )
    assert json.loads(extra) == {"extra_42": 42}


@pytest.mark.parametrize("artefact", ["spans.jsonl", "model_calls.jsonl"])
def test_sweep_level_artefact_with_rare_keys_loads(sweep_copy: Path, artefact: str) -> None:
    cell = RECORDS[0]["cell_id"]
    rows = [
        {"cell_id": cell, "name": f"s{i}", f"rare_{i}": i, "prompt_tokens": i} for i in range(100)
    ]
    (sweep_copy / artefact).write_text("".join(json.dumps(r) + "\n" for r in rows))
    store = Store.open(sweep_copy)
    table = "spans" if artefact == "spans.jsonl" else "model_calls"
    sweep_level = (
        store.cursor()
        .execute(f"SELECT count(*) FROM {table} WHERE source_file = ?", [artefact])
        .fetchall()[0][0]
    )
    assert sweep_level == 100
    assert store.total() == 5


@pytest.mark.parametrize("artefact", ["spans.jsonl", "model_calls.jsonl"])
def test_empty_artefact_files_open(sweep_copy: Path, artefact: str) -> None:
    """A run that made no model calls writes an empty file: the sweep still opens whole."""
    (sweep_copy / artefact).write_text("")
    for f in _span_files(sweep_copy):
        (f.parent / artefact).write_text("")
    store = Store.open(sweep_copy)
    assert store.total() == 5
    assert _problems(store) == []


def test_synth_with_few_spans_opens(tmp_path: Path) -> None:
    out = tmp_path / "synth"
    done = subprocess.run(
        [sys.executable, "-m", "cabtui.cli", "synth", str(out), "--runs", "20", "--spans", "3"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    written = sum(1 for line in (out / "spans.jsonl").read_text().splitlines() if line.strip())
    assert (out / "model_calls.jsonl").read_text().strip() == ""  # no model calls at this size
    store = Store.open(out)
    assert store.total() == 20
    assert _count(store, "spans") == written > 0
    assert _problems(store) == []


# -- one bad line costs only itself --------------------------------------------------------------


def _nested(depth: int) -> str:
    """JSON text of ``depth`` nested arrays."""
    return "[" * depth + "1" + "]" * depth


def _with_raw(rec: dict[str, Any], key: str, raw_json: str) -> str:
    """The record's JSON line with ``key`` set to the JSON text ``raw_json``."""
    return json.dumps(rec)[:-1] + f', "{key}": {raw_json}}}'


BAD_RECORD_LINES = {
    "deep": lambda: _with_raw({**RECORDS[0], "cell_id": _cell(900)}, "u", _nested(MAX_DEPTH + 40)),
    "wide": lambda: json.dumps(
        {"cell_id": _cell(901), **{f"k{i}": i for i in range(MAX_KEYS * 10)}}
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD_RECORD_LINES))
def test_one_bad_record_line_costs_only_itself(sweep_copy: Path, kind: str) -> None:
    bad = BAD_RECORD_LINES[kind]()
    (sweep_copy / "results.jsonl").write_text("\n".join([LINES[0], bad, *LINES[1:]]) + "\n")
    store = Store.open(sweep_copy)
    assert store.total() == 5
    probs = [p for p in _problems(store) if p[0] == "results.jsonl"]
    assert len(probs) == 1 and probs[0][1] == 2
    word = "nested deeper" if kind == "deep" else "keys"
    assert word in probs[0][2]


def test_line_over_the_size_limit_costs_only_itself(sweep_copy: Path) -> None:
    huge = json.dumps({"cell_id": _cell(902), "blob": "x" * (MAX_LINE_BYTES + 10)})
    (sweep_copy / "results.jsonl").write_text("\n".join([LINES[0], huge, *LINES[1:]]) + "\n")
    store = Store.open(sweep_copy)
    assert store.total() == 5
    probs = [p for p in _problems(store) if p[0] == "results.jsonl"]
    assert probs == [("results.jsonl", 2, "line longer than 32 MB")]


def test_deep_line_in_one_per_run_spans_file_costs_only_that_line(sweep_copy: Path) -> None:
    files = _spans_per_file(sweep_copy)
    victim = next(iter(files))
    good = victim.read_text().splitlines()
    deep = _with_raw({"span_id": "x", "name": "deep"}, "attrs", _nested(MAX_DEPTH + 40))
    victim.write_text("\n".join([good[0], deep, *good[1:]]) + "\n")
    store = Store.open(sweep_copy)
    assert _count(store, "spans") == sum(files.values())
    probs = _problems(store)
    assert len(probs) == 1
    assert probs[0][0].endswith("spans.jsonl") and probs[0][1] == 2
    assert str(victim.relative_to(sweep_copy)) == probs[0][0]


def test_byte_order_mark_keeps_the_first_record(sweep_copy: Path) -> None:
    data = (sweep_copy / "results.jsonl").read_bytes()
    (sweep_copy / "results.jsonl").write_bytes(b"\xef\xbb\xbf" + data)
    store = Store.open(sweep_copy)
    assert store.total() == 5
    assert RECORDS[0]["cell_id"] in {r["cell_id"] for r in store.runs(limit=None).to_pylist()}


def test_byte_order_mark_in_a_per_run_file(sweep_copy: Path) -> None:
    files = _spans_per_file(sweep_copy)
    victim = next(iter(files))
    victim.write_bytes(b"\xef\xbb\xbf" + victim.read_bytes())
    store = Store.open(sweep_copy)
    assert _count(store, "spans") == sum(files.values())
    assert _problems(store) == []


def _note(store: Store, cell_id: str) -> object:
    return (
        store.cursor()
        .execute("SELECT note FROM runs WHERE cell_id = ?", [cell_id])
        .fetchall()[0][0]
    )


def test_duplicate_keys_when_read_carefully_keep_the_last_and_say_so(sweep_copy: Path) -> None:
    """A record read line by line (here beside a line that is not an object) keeps the last of
    duplicate keys, as jq and Python do, and the duplicate is reported."""
    rec = dict(RECORDS[1])
    note_first = json.dumps(rec)[:-1] + ', "note": "first", "note": "last"}'
    (sweep_copy / "results.jsonl").write_text(
        "\n".join([LINES[0], "[1]", note_first, *LINES[2:]]) + "\n"
    )
    store = Store.open(sweep_copy)
    assert _note(store, rec["cell_id"]) == "last"
    reasons = {(line, reason) for _, line, reason in _problems(store)}
    assert (3, "duplicate key 'note': the last value is used") in reasons


def test_duplicate_keys_in_an_otherwise_clean_file_keep_the_last_and_say_so(
    sweep_copy: Path,
) -> None:
    """Every line an object: DuckDB's own read would keep the first of duplicate keys silently;
    the file is read carefully instead, the last value kept and the duplicate reported."""
    rec = dict(RECORDS[1])
    note_twice = json.dumps(rec)[:-1] + ', "note": "first", "note": "last"}'
    (sweep_copy / "results.jsonl").write_text("\n".join([LINES[0], note_twice, *LINES[2:]]) + "\n")
    store = Store.open(sweep_copy)
    assert _note(store, rec["cell_id"]) == "last"
    assert store.total() == len(LINES)
    reasons = {(line, reason) for _, line, reason in _problems(store)}
    assert reasons == {(2, "duplicate key 'note': the last value is used")}


def test_record_json_nested_deeply(sweep_copy: Path) -> None:
    """A per-run record.json nested past the limit is reported (no traceback); others load."""
    run_dir = _span_files(sweep_copy)[0].parent
    (run_dir.parent / "run-2").mkdir()
    (run_dir.parent / "run-2" / "record.json").write_text(
        _with_raw({"cell_id": _cell(903)}, "deep", _nested(5000))
    )
    store = Store.open(sweep_copy)
    assert store.total() == 5
    reasons = [r for f, _, r in _problems(store) if f.endswith("run-2/record.json")]
    assert reasons and "nested deeper" in reasons[0]


def test_lone_surrogate_is_replaced_not_lost(sweep_copy: Path) -> None:
    rec = dict(RECORDS[1])
    line = json.dumps({**rec, "note": "x\ud800y"})
    (sweep_copy / "results.jsonl").write_text("\n".join([LINES[0], line, *LINES[2:]]) + "\n")
    store = Store.open(sweep_copy)
    assert store.total() == 5
    note = (
        store.cursor()
        .execute("SELECT note FROM runs WHERE cell_id = ?", [rec["cell_id"]])
        .fetchall()[0][0]
    )
    assert note == "x\ufffdy"


# -- values checked where they enter -------------------------------------------------------------


def _with(rec: dict[str, Any], path: tuple[str, ...], value: object) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(json.dumps(rec))
    node = out
    for p in path[:-1]:
        if not isinstance(node.get(p), dict):
            node[p] = {}
        node = node[p]
    node[path[-1]] = value
    return out


@pytest.mark.parametrize(
    ("path", "value", "column"),
    [
        (("scores", "latency", "wall_clock_ms"), -5000, "wall_clock_ms"),
        (("scores", "pass_rate", "pass"), 7, "pass"),
        (("scores", "integrity", "integrity"), -0.5, "integrity"),
        (("tokens", "prompt_tokens"), -10, "prompt_tokens"),
    ],
)
def test_impossible_values_are_reported_and_not_scored(
    sweep_copy: Path, path: tuple[str, ...], value: object, column: str
) -> None:
    rec = _with(RECORDS[2], path, value)
    (sweep_copy / "results.jsonl").write_text(
        "\n".join([*LINES[:2], json.dumps(rec), *LINES[3:]]) + "\n"
    )
    store = Store.open(sweep_copy)
    got = (
        store.cursor()
        .execute(f'SELECT "{column}" FROM runs WHERE cell_id = ?', [rec["cell_id"]])
        .fetchall()[0][0]
    )
    assert got is None
    reasons = [(f, line, r) for f, line, r in _problems(store) if f == "results.jsonl"]
    assert len(reasons) == 1 and reasons[0][1] == 3 and str(value) in reasons[0][2]


def test_infinite_value_is_reported(sweep_copy: Path) -> None:
    text = json.dumps(RECORDS[2]).replace('"wall_clock_ms": ', '"wall_clock_ms": 1e999, "x_": ', 1)
    (sweep_copy / "results.jsonl").write_text("\n".join([*LINES[:2], text, *LINES[3:]]) + "\n")
    store = Store.open(sweep_copy)
    assert store.total() == 5
    wall = (
        store.cursor()
        .execute("SELECT wall_clock_ms FROM runs WHERE cell_id = ?", [RECORDS[2]["cell_id"]])
        .fetchall()[0][0]
    )
    assert wall is None
    assert any(line == 3 and "wall_clock_ms" in r for _, line, r in _problems(store))


def test_end_before_start_is_reported(sweep_copy: Path) -> None:
    rec = dict(RECORDS[0], ended_at="2026-06-17T03:00:00Z")
    (sweep_copy / "results.jsonl").write_text("\n".join([json.dumps(rec), *LINES[1:]]) + "\n")
    store = Store.open(sweep_copy)
    row = (
        store.cursor()
        .execute("SELECT duration_ms FROM runs WHERE cell_id = ?", [rec["cell_id"]])
        .fetchall()[0]
    )
    assert row[0] is None
    assert any(line == 1 and "before started_at" in r for _, line, r in _problems(store))


def test_run_number_beyond_range_is_a_bad_cell_id(sweep_copy: Path) -> None:
    rec = dict(RECORDS[0], cell_id=RECORDS[0]["cell_id"] + "#run99999999999999999999")
    (sweep_copy / "results.jsonl").write_text("\n".join([*LINES, json.dumps(rec)]) + "\n")
    store = Store.open(sweep_copy)
    assert store.total() == 5
    assert all(r["run"] < 10**9 for r in store.runs(limit=None).to_pylist())
    assert any(line == 6 and "run number" in r for _, line, r in _problems(store))


@pytest.mark.parametrize(
    ("manifest", "words"),
    [
        ('{"latency_ref_ms": 1e999}', "latency_ref_ms"),
        ('{"latency_ref_ms": -3}', "latency_ref_ms"),
        (
            '{"composite_weights": {"pass_rate": 0, "integrity": 0, "cost": 0, "latency": 0, '
            '"blast_radius": 0}}',
            "sum to 0",
        ),
        ('{"composite_weights": {"pass_rate": -1}}', "pass_rate"),
    ],
)
def test_unusable_weights_are_reported_and_defaults_used(
    sweep_copy: Path, manifest: str, words: str
) -> None:
    (sweep_copy / "sweep.json").write_text(manifest)
    store = Store.open(sweep_copy)
    assert store.total() == 5
    reasons = [r for f, _, r in _problems(store) if f.endswith("sweep.json")]
    assert len(reasons) == 1 and words in reasons[0]
    composites = [r["composite"] for r in store.runs(limit=None).to_pylist()]
    assert all(c is not None and 0 <= c <= 1 for c in composites)


# -- any mix of good and bad lines ---------------------------------------------------------------

HOSTILE = [
    "{bad json",
    "[1, 2]",
    '"a string"',
    '{"cell_id": 7}',
    _with_raw({"cell_id": "x"}, "attrs", _nested(MAX_DEPTH + 5)),
    json.dumps({"cell_id": "y", "attrs": {f"k{i}": i for i in range(MAX_KEYS + 1)}}),
    "\x00\x01garbage",
    '{"cell_id": "' + "a" * 10 + '", "v": tru}',
]


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=st.lists(st.one_of(st.integers(0, 4), st.sampled_from(HOSTILE)), min_size=1, max_size=10),
    rare=st.booleans(),
)
def test_any_mix_of_spans_lines(
    tmp_path_factory: pytest.TempPathFactory, plan: list[int | str], rare: bool
) -> None:
    """Sweep-level spans.jsonl of good spans (some with rare keys) and hostile lines: every good
    span loads and every hostile line is reported once, at its line."""
    sweep = tmp_path_factory.mktemp("mix") / SWEEP
    sweep.mkdir()
    (sweep / "results.jsonl").write_text("\n".join(LINES) + "\n")
    lines: list[str] = []
    good = 0
    bad: set[int] = set()
    for i, item in enumerate(plan, start=1):
        if isinstance(item, int):
            span: dict[str, Any] = {
                "cell_id": RECORDS[item]["cell_id"],
                "span_id": f"s{i}",
                "name": "n",
            }
            if rare:
                span[f"rare_{i}"] = i
            lines.append(json.dumps(span))
            good += 1
        else:
            lines.append(item)
            bad.add(i)
    (sweep / "spans.jsonl").write_text("\n".join(lines) + "\n")
    store = Store.open(sweep)
    assert _count(store, "spans") == good
    probs = [p for p in _problems(store) if p[0] == "spans.jsonl"]
    at = [line for _, line, _ in probs if line is not None]
    assert len(at) == len(probs)  # every problem has its line
    assert sorted(at) == sorted(bad)
    store.close()


@pytest.mark.parametrize(
    "extra",
    [_nested(MAX_DEPTH + 40), json.dumps({f"k{i}": i for i in range(MAX_KEYS + 1)})],
    ids=["deep", "wide"],
)
@pytest.mark.parametrize("key", ["other", "attrs"])
@pytest.mark.parametrize("per_run", [False, True], ids=["sweep-level", "per-run"])
def test_spans_are_measured_by_the_keys_read(
    sweep_copy: Path, extra: str, key: str, per_run: bool
) -> None:
    """A sweep-level file, read whole by DuckDB, is read by a span's own keys: a key that is
    not a span's is not read, however deep or wide, and costs the span nothing; the same value
    in attrs, which is read, costs its line (reported there) and nothing else. A run's own
    files are measured line by line as they are joined (so that a run's rows are the same
    whichever other runs are read with it): there either costs the line."""
    victim = next(iter(_spans_per_file(sweep_copy))) if per_run else sweep_copy / "spans.jsonl"
    cell = {} if per_run else {"cell_id": RECORDS[0]["cell_id"]}
    if not per_run:
        victim.write_text(json.dumps({**cell, "span_id": "a"}) + "\n")
    before = _count(Store.open(sweep_copy, refresh=True), "spans")
    lines = victim.read_text().splitlines()
    lines.append(_with_raw({**cell, "span_id": "new", "name": "n"}, key, extra))
    victim.write_text("\n".join(lines) + "\n")
    store = Store.open(sweep_copy, refresh=True)
    read = key != "other" or per_run
    assert _count(store, "spans") == before + (0 if read else 1)
    assert (("new",) in store.cursor().execute("SELECT span_id FROM spans").fetchall()) != read
    label = str(victim.relative_to(sweep_copy))
    assert [(f, line) for f, line, _ in _problems(store)] == ([(label, len(lines))] if read else [])


def test_what_if_weights_summing_to_zero_are_refused() -> None:
    from cabtui.ui.screens.weights import FIELDS, parse

    zero = {name: "0" for name in FIELDS if name != "latency_ref_ms"} | {"latency_ref_ms": "1000"}
    weights, errors = parse(zero)
    assert weights is None and "sum to 0" in errors["pass_rate"]
    weights, errors = parse(zero | {"pass_rate": "-1"})
    assert weights is None and "≥ 0" in errors["pass_rate"]
    weights, errors = parse(zero | {"cost": "1"})
    assert weights is not None and errors == {}


def test_sweep_json_nested_past_pythons_limit_is_a_problem(sweep_copy: Path) -> None:
    (sweep_copy / "sweep.json").write_text('{"a": ' + _nested(100_000) + "}")
    store = Store.open(sweep_copy)
    assert store.total() == 5
    reasons = [r for f, _, r in _problems(store) if f.endswith("sweep.json")]
    assert reasons == ["unreadable, defaults used: JSON nested too deep"]
