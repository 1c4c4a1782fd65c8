"""The steps, model calls and tool calls of ATIF trajectories made in SQL (atif_sql) are those the
Python walk (atif) makes of the same files: on the real Harbor sample, on Harbor's own test
trajectories, and on any trajectory hypothesis writes; what SQL cannot make exactly is walked."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from unittest.mock import patch

import duckdb
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import cabtui.sources.harbor_import as harbor_import
from cabtui.sources import atif_queries, atif_sql, common, harbor, harbor_spans
from cabtui.sources.common import TEXT_CHARS
from cabtui.sources.detect import scan
from cabtui.sources.harbor_import import Imported, import_trials
from tests.test_sources import GOLDEN, HARBOR, TRIALS, _golden_trial

_JSON_COLUMNS = {"spans.jsonl": ("attrs", "error"), "model_calls.jsonl": ("prompt", "completion")}


def _rows(imported: Imported, artefact: str) -> list[dict[str, Any]]:
    """The rows of the spans or model calls an import wrote, JSON columns parsed, in run order."""
    con = duckdb.connect()
    files = [str(f) for f in imported.columnar[artefact]]
    rel = con.execute("SELECT * FROM read_parquet(?, union_by_name = true)", [files])
    names = [d[0] for d in rel.description]
    rows = [dict(zip(names, r)) for r in rel.fetchall()]
    for r in rows:
        for c in _JSON_COLUMNS[artefact]:
            if r[c] is not None:
                r[c] = json.loads(r[c])
    order = "seq" if artefact == "spans.jsonl" else "source_row"
    return sorted(rows, key=lambda r: (r["cell_id"], r[order]))


def _import(root: Path, in_sql: bool) -> tuple[Imported, int]:
    """The trials under ``root`` imported, and how many trajectories were walked in Python."""
    found = scan(root, None)
    jobs = harbor.find_sweeps(found.harbor, root, lambda f, why: None)
    trials = [t for ts in jobs.values() for t in ts]
    walked = 0
    real_walk = harbor_spans.walk

    def counted(*args: Any) -> None:
        nonlocal walked
        walked += 1
        real_walk(*args)

    with patch.object(harbor_import, "walk", counted):
        imported = import_trials(trials, Path(tempfile.mkdtemp(dir=root.parent)), root, in_sql)
    return imported, walked


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN equal to NaN."""
    if isinstance(a, float) and isinstance(b, float):
        return a == b or (math.isnan(a) and math.isnan(b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return bool(a == b)


def _assert_alike(root: Path) -> tuple[int, int]:
    """Both readings of ``root`` write the same rows and problems; the trajectories walked in
    Python by each."""
    walk, walked_all = _import(root, in_sql=False)
    sql, walked_some = _import(root, in_sql=True)
    for artefact in _JSON_COLUMNS:
        a, b = _rows(walk, artefact), _rows(sql, artefact)
        assert len(a) == len(b), artefact
        for x, y in zip(a, b):
            assert _same(x, y), (artefact, x, y)
    assert Counter(map(str, walk.problems)) == Counter(map(str, sql.problems))
    return walked_all, walked_some


def test_every_trajectory_of_the_real_sample_is_read_in_sql_as_the_walk_reads_it(
    tmp_path: Path,
) -> None:
    root = tmp_path / "sample"
    shutil.copytree(HARBOR, root)
    walked_all, walked_some = _assert_alike(root)
    assert walked_all == 9  # (the walk alone walks each)
    assert walked_some == 0
    sql, _ = _import(root, in_sql=True)
    steps = [r for r in _rows(sql, "spans.jsonl") if r["kind"] == "step"]
    assert len(steps) == sum(
        len(json.loads(p.read_text())["steps"]) for p in TRIALS.rglob("trajectory.json")
    )


def test_a_trial_named_as_a_pattern_is_walked_and_reads_alike(tmp_path: Path) -> None:
    """DuckDB reads ``[`` and ``*`` in a path as a pattern: such a trajectory is walked."""
    root = tmp_path / "job"
    shutil.copytree(TRIALS / "gpt-5.5" / "run_1", root / "run[1]*")
    shutil.copytree(TRIALS / "gpt-5.5" / "run_2", root / "run_2")
    assert _assert_alike(root) == (2, 1)


def test_trajectories_are_read_in_batches_of_a_bounded_size(tmp_path: Path) -> None:
    """However they are cut in batches, the rows are the same."""
    root = tmp_path / "sample"
    shutil.copytree(HARBOR, root)
    whole, _ = _import(root, in_sql=True)
    with patch.object(atif_sql, "BATCH_BYTES", 1):  # a trajectory a batch
        cut, walked = _import(root, in_sql=True)
    assert walked == 0
    assert len([f for f in cut.columnar["spans.jsonl"] if "atif" in f.name]) == 9
    for artefact in _JSON_COLUMNS:
        assert _rows(whole, artefact) == _rows(cut, artefact)


def test_a_trajectory_gone_before_duckdb_reads_it_is_walked_and_reported(tmp_path: Path) -> None:
    """A trajectory removed after its trial was listed is walked, which says so; the others are
    read in SQL."""
    root = tmp_path / "job"
    for k in (1, 2):
        shutil.copytree(TRIALS / "gpt-5.5" / f"run_{k}", root / f"run_{k}")
    found = scan(root, None)
    trials = [t for ts in harbor.find_sweeps(found.harbor, root, lambda f, w: None).values()
              for t in ts]  # fmt: skip
    gone = root / "run_2" / "agent" / "trajectory.json"
    real_read = atif_sql.read_plain
    read: list[str] = []

    def removed_first(pending: list[atif_sql.Pending], *args: Any) -> Any:
        gone.unlink()
        files, rest = real_read(pending, *args)
        read.extend(str(p.path) for p in pending if p not in rest)
        return files, rest

    with patch.object(harbor_import, "read_plain", removed_first):
        imported = import_trials(trials, tmp_path / "out", root)
    assert read == [str(root / "run_1" / "agent" / "trajectory.json")]
    reasons = [f"{p.file}: {p.reason}" for p in imported.problems]
    assert any("run_2/agent/trajectory.json: trajectory unreadable" in r for r in reasons)
    steps = [r for r in _rows(imported, "spans.jsonl") if r["kind"] == "step"]
    kept = json.loads((root / "run_1" / "agent" / "trajectory.json").read_text())["steps"]
    assert len(steps) == len(kept)


def test_a_path_not_in_utf8_or_a_file_too_large_is_walked_and_reads_alike(tmp_path: Path) -> None:
    root = tmp_path / "job"
    shutil.copytree(TRIALS / "gpt-5.5" / "run_1", root / os.fsdecode(b"run\xff"))
    shutil.copytree(TRIALS / "gpt-5.5" / "run_2", root / "run_2")
    shutil.copytree(TRIALS / "gpt-5.5" / "run_3", root / "run_3")
    assert _assert_alike(root) == (3, 1)
    big = max(p.stat().st_size for p in root.rglob("trajectory.json"))
    with (
        patch.object(atif_sql, "MAX_FILE_BYTES", big - 1),
        patch.object(common, "MAX_FILE_BYTES", big - 1),
    ):
        walked_all, walked_some = _assert_alike(root)
    assert walked_some == 2  # the one not in UTF-8, the largest one (which the walk refuses)


def test_when_duckdb_fails_every_trajectory_of_the_batch_is_walked(tmp_path: Path) -> None:
    root = tmp_path / "sample"
    shutil.copytree(HARBOR, root)
    walk, _ = _import(root, in_sql=False)
    with patch.object(atif_queries, "PLACE", "CREATE TEMP TABLE placed AS SELECT nothing"):
        sql, walked = _import(root, in_sql=True)
    assert walked == 9
    assert not [f for fs in sql.columnar.values() for f in fs if f.exists() and "atif" in f.name]
    for artefact in _JSON_COLUMNS:
        assert _rows(walk, artefact) == _rows(sql, artefact)


def test_harbors_own_trajectories_read_alike(tmp_path: Path) -> None:
    """Continuations, sub-agents, content parts, no timestamps: walked, as before."""
    for n, trajectory in enumerate(sorted(GOLDEN.glob("*.trajectory.json"))):
        where = tmp_path / str(n)
        _golden_trial(where, trajectory.name.removesuffix(".trajectory.json"))
        _assert_alike(where / "jobs")


# -- any trajectory ----------------------------------------------------------------------------

_T0 = datetime(2026, 6, 25, 9, 21, 1, 58886, tzinfo=timezone.utc)  # the copied trial's start

_WHITESPACE = " \t\n\r\x0b\x1c\x85\xa0\u2028\u3000"
texts = st.one_of(
    st.text(st.sampled_from('ab é👍{}[]:"\\' + _WHITESPACE), max_size=12),
    st.text(max_size=20),
    st.builds(
        lambda c, n: c * n, st.sampled_from("a é\n"), st.integers(TEXT_CHARS - 2, TEXT_CHARS + 2)
    ),
)
json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.floats(),
        texts,
        st.just("\ud800 lone"),  # (JSON can write it, UTF-8 cannot)
    ),  # fmt: skip
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from("abxy"), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def timestamps(draw: st.DrawFn, wild: bool) -> Any:
    kinds = ["Z", "offset", "micro"] + (["naive", "space", "odd", "far"] if wild else [])
    kind = draw(st.sampled_from(kinds))
    at = _T0 + timedelta(microseconds=draw(st.integers(-(10**9), 10**10)))
    if kind == "Z":
        return at.isoformat().replace("+00:00", "Z")
    if kind == "offset":
        zone = timezone(timedelta(minutes=draw(st.integers(-23 * 60, 23 * 60))))
        return at.astimezone(zone).isoformat()
    if kind == "micro":
        return at.isoformat(timespec=draw(st.sampled_from(["seconds", "milliseconds"])))
    if kind == "naive":
        return at.replace(tzinfo=None).isoformat()
    if kind == "space":
        return at.isoformat(sep=" ")
    if kind == "far":
        return draw(st.sampled_from(["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"]))
    return draw(st.one_of(json_values, st.just("2026-02-30T00:00:00Z"), st.just("24:00")))


def _maybe(draw: st.DrawFn, wild: bool, plain: st.SearchStrategy[Any]) -> Any:
    """A value of the plain kind; in a wild trajectory, now and then any JSON value."""
    return draw(json_values) if wild and draw(st.integers(0, 4)) == 0 else draw(plain)


def _tool_call(draw: st.DrawFn, wild: bool, k: int) -> Any:
    if wild and draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    call: dict[str, Any] = {"tool_call_id": _maybe(draw, wild, st.just(f"c{k}"))}
    if draw(st.booleans()):
        call["function_name"] = _maybe(draw, wild, texts)
    if draw(st.booleans()):
        call["arguments"] = draw(json_values)
    return call


def _result(draw: st.DrawFn, wild: bool) -> Any:
    if wild and draw(st.integers(0, 9)) == 0:
        return draw(json_values)
    r: dict[str, Any] = {"source_call_id": _maybe(draw, wild, st.sampled_from(["c0", "c1", "c9"]))}
    if draw(st.integers(0, 5)):
        r["content"] = _maybe(draw, wild, st.one_of(texts, st.none()))
    if wild and draw(st.integers(0, 10)) == 0:
        r["subagent_trajectory_ref"] = [{"session_id": "s1", "trajectory_path": "sub.json"}]
    return r


@st.composite
def steps(draw: st.DrawFn, n: int, wild: bool) -> Any:
    if wild and draw(st.integers(0, 30)) == 0:
        return draw(json_values)
    step: dict[str, Any] = {}
    if not wild or draw(st.integers(0, 20)):
        step["step_id"] = _maybe(draw, wild, st.one_of(st.just(n + 1), st.integers(0, 2**64 - 1)))
    if not wild or draw(st.integers(0, 20)):
        step["timestamp"] = draw(timestamps(wild))
    if not wild or draw(st.integers(0, 20)):
        step["source"] = _maybe(draw, wild, st.sampled_from(["agent", "agent", "user", "system"]))
    if draw(st.integers(0, 5)):
        step["message"] = _maybe(draw, wild, st.one_of(texts, st.none()))
    if draw(st.booleans()):
        step["reasoning_content"] = draw(st.one_of(texts, json_values))
    if draw(st.booleans()):
        step["model_name"] = _maybe(draw, wild, st.sampled_from(["m1", "", None]))
    if draw(st.booleans()):
        number = st.one_of(st.integers(-10, 10**16), st.floats(), json_values)
        metrics = {k: draw(number) for k in draw(st.sets(st.sampled_from(
            ["prompt_tokens", "completion_tokens", "cached_tokens", "cost_usd"])))}  # fmt: skip
        if draw(st.booleans()):
            metrics["extra"] = _maybe(draw, wild, st.just({"latency_s": draw(number)}))
        step["metrics"] = metrics if draw(st.integers(0, 9)) else draw(json_values)
    if draw(st.booleans()):
        calls = [_tool_call(draw, wild, k) for k in range(draw(st.integers(0, 3)))]
        step["tool_calls"] = _maybe(draw, wild, st.just(calls))
    if draw(st.booleans()):
        results = [_result(draw, wild) for _ in range(draw(st.integers(0, 3)))]
        step["observation"] = _maybe(
            draw, wild, st.just({"results": _maybe(draw, wild, st.just(results))})
        )
    if draw(st.integers(0, 10)) == 0:
        step["is_copied_context"] = draw(st.one_of(st.just(True), json_values))
    return step


@st.composite
def trajectories(draw: st.DrawFn) -> Any:
    wild = draw(st.booleans())
    if wild and draw(st.integers(0, 30)) == 0:
        return draw(json_values)
    versions = ["ATIF-v1.6", "ATIF-v1.7"] + (["ATIF-v2.0", None] if wild else [])
    doc: dict[str, Any] = {
        "schema_version": draw(st.sampled_from(versions)),
        "steps": [draw(steps(n, wild)) for n in range(draw(st.integers(0, 6)))],
    }
    if wild and draw(st.integers(0, 15)) == 0:
        doc["continued_trajectory_ref"] = draw(
            st.one_of(st.just("trajectory.cont-1.json"), json_values)
        )
    if draw(st.integers(0, 15)) == 0:
        doc["subagent_trajectories"] = _maybe(draw, wild, st.just([]))
    return doc


latencies = st.lists(
    st.one_of(st.floats(-10, 1e5), st.integers(-5, 10**6), st.just(math.nan)), max_size=6
)


@settings(
    max_examples=150, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                           HealthCheck.data_too_large],
)  # fmt: skip
@given(docs=st.lists(st.tuples(trajectories(), latencies), min_size=1, max_size=3))
@example(docs=[({"schema_version": "ATIF-v1.6", "steps": [
    {"step_id": 1, "timestamp": "2026-06-25T09:21:02Z", "source": "user", "message": " \u3000hi\n"},
    {"step_id": 2, "timestamp": "2026-06-25T09:21:01+00:00", "source": "agent", "message": "ok  ",
     "tool_calls": [{"tool_call_id": "c1", "function_name": "bash", "arguments": {"k": "ls"}}],
     "observation": {"results": [{"source_call_id": "c1", "content": "out"},
                                 {"source_call_id": None, "content": "more"}]},
     "metrics": {"prompt_tokens": 5, "extra": {"latency_s": 0.5}}},
    {"step_id": 3, "timestamp": "2026-06-25T09:21:09.5Z", "source": "agent", "message": "done"},
]}, [100.0, 200.0])])  # fmt: skip
@example(docs=[({"schema_version": "ATIF-v1.7", "steps": [
    {"step_id": 1, "timestamp": "2026-06-25T09:21:02Z", "source": "user",
     "message": "é" * (TEXT_CHARS - 1)},
    {"step_id": 2, "timestamp": "2026-06-25T09:21:03Z", "source": "agent", "message": "é" * TEXT_CHARS,
     "reasoning_content": "👍" * (TEXT_CHARS + 1),
     "tool_calls": [{"tool_call_id": "c1", "function_name": "bash", "arguments": {}}],
     "observation": {"results": [{"source_call_id": "c1", "content": "a" * (TEXT_CHARS + 1)}]}},
    {"step_id": 3, "timestamp": "2026-06-25T09:21:04Z", "source": "agent", "message": "x"},
]}, [])])  # fmt: skip
@example(docs=[({"schema_version": "ATIF-v1.6", "steps": [
    {"step_id": 10**41, "timestamp": "2026-06-25T09:21:02Z", "source": "user", "message": "hi"},
    {"step_id": 2**64 - 1, "timestamp": "2026-06-25T09:21:03Z", "source": "agent"},
]}, [])])  # fmt: skip
def test_any_trajectory_reads_alike_in_sql_and_in_python(
    tmp_path: Path, docs: list[tuple[Any, list[float]]]
) -> None:
    root = Path(tempfile.mkdtemp(dir=tmp_path)) / "job"
    for k, (doc, lat) in enumerate(docs):
        trial = root / f"run_{k}"
        shutil.copytree(TRIALS / "claude-opus-4-8" / "run_2", trial)
        result = json.loads((trial / "result.json").read_text())
        result["trial_name"] = f"{result['trial_name']}-{k}"
        result["agent_result"]["metadata"] = {"api_request_times_msec": lat}
        (trial / "result.json").write_text(json.dumps(result))
        (trial / "agent" / "trajectory.json").write_text(json.dumps(doc))
    _assert_alike(root)
