"""The span timeline of a replay: tree order and depth, next/prev span, current span, model
calls and markers, and the recording's time zero."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypeVar

from cabtui.replay.spans import Timeline, markers, place_calls, recording_offset_ms, span_tree
from cabtui.sweep.asciicast import Event, Recording

T = TypeVar("T")


def some(x: T | None) -> T:
    """``x``, which the test expects to be there."""
    assert x is not None
    return x


def _s(sid: str, parent: str | None, kind: str, start: float, dur: float) -> dict[str, object]:
    return {"span_id": sid, "parent_id": parent, "kind": kind, "name": sid, "start_ms": start,
            "duration_ms": dur, "attrs": {}, "error": None}  # fmt: skip


RAW = [
    _s("setup", None, "task_setup", 0, 12),
    _s("run", None, "adapter_run", 12, 1000),
    _s("plugins", "run", "tool_call", 12, 0),
    _s("launch", "run", "container", 13, 990),
    _s("call1", "launch", "model_call", 100, 200),
    _s("ls", "launch", "shell", 400, 50),
    _s("test", "launch", "test", 500, 300),
    _s("cleanup", None, "cleanup", 1012, 0),
]


def test_tree_order_and_depth() -> None:
    spans = span_tree(reversed(RAW))  # input order does not matter
    assert [s.span_id for s in spans] == [
        "setup", "run", "plugins", "launch", "call1", "ls", "test", "cleanup",
    ]  # fmt: skip
    assert {s.span_id: s.depth for s in spans} == {
        "setup": 0, "run": 0, "plugins": 1, "launch": 1, "call1": 2, "ls": 2, "test": 2, "cleanup": 0,
    }  # fmt: skip


def test_orphans_and_cycles_become_roots() -> None:
    spans = span_tree(
        [_s("a", "missing", "shell", 0, 1), _s("b", "c", "x", 1, 1), _s("c", "b", "x", 2, 1)]
    )
    assert sorted(s.span_id for s in spans) == ["a", "b", "c"]
    assert spans[0].span_id == "a" and spans[0].depth == 0


def test_recording_offset_is_first_container() -> None:
    spans = span_tree(RAW)
    assert recording_offset_ms(spans) == 13.0
    assert recording_offset_ms(span_tree(RAW[:3])) == 0.0


def test_next_and_prev_span_visit_spans_that_start_together() -> None:
    tl = Timeline(span_tree(RAW))
    seen = []
    pos, cur = 0.0, None
    while (s := tl.next_span(pos, cur)) is not None:
        seen.append(s.span_id)
        pos, cur = s.start_ms, s.index
    assert seen == ["run", "plugins", "launch", "call1", "ls", "test", "cleanup"]
    back = []
    while (s := tl.prev_span(pos, cur)) is not None:
        back.append(s.span_id)
        pos, cur = s.start_ms, s.index
    assert back == ["test", "ls", "call1", "launch", "plugins", "run", "setup"]
    assert some(tl.next_span(150.0)).span_id == "ls"  # from a position between spans
    assert some(tl.prev_span(150.0)).span_id == "call1"


def test_current_is_deepest_running_span() -> None:
    tl = Timeline(span_tree(RAW))
    assert some(tl.current(5)).span_id == "setup"
    assert some(tl.current(150)).span_id == "call1"
    assert some(tl.current(350)).span_id == "launch"
    assert some(tl.current(1012)).span_id == "cleanup"  # zero-length span at its instant
    assert tl.current(5000) is None


def test_model_calls_placed_by_timestamp_or_span_seq() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    spans = span_tree([{**_s("mc", None, "model_call", 700, 10), "attrs": {"seq": 2}}])
    calls = place_calls(
        [{"seq": 1, "timestamp": (start + timedelta(milliseconds=250)).isoformat()},
         {"seq": 2, "timestamp": None}, {"seq": 3}],
        start, spans,
    )  # fmt: skip
    assert [(c.seq, c.start_ms) for c in calls] == [(1, 250.0), (2, 700.0)]
    tl = Timeline(spans, calls)
    assert tl.call_at(100) is None
    assert some(tl.call_at(300)).seq == 1
    assert some(tl.call_at(800)).seq == 2


def test_markers_and_marker_jumps() -> None:
    rec = Recording(2, 80, 24, [Event(0.1, "o", "x"), Event(1.0, "m", "one"), Event(2.0, "o", "y"),
                                Event(3.0, "m", "two")])  # fmt: skip
    ms = markers(rec)
    assert [(m.time, m.label) for m in ms] == [(1.0, "one"), (3.0, "two")]
    tl = Timeline([], [], ms)
    assert some(tl.next_marker(0.0)).label == "one"
    assert some(tl.next_marker(1.0)).label == "two"  # from a marker, the next one
    assert tl.next_marker(3.0) is None
    assert some(tl.prev_marker(3.0)).label == "one"
    assert tl.prev_marker(1.0) is None
    assert markers(None) == []
