"""The spans, model calls and markers of one run, laid out for a replay. No Textual here.

Spans come from :meth:`Store.spans` (``start_ms`` relative to the run's start). They are shown
as a tree (children under their parent, siblings by start) and walked in time order (by start,
then tree order), so spans that start together are still visited one by one.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cabtui.sweep.asciicast import Recording
from cabtui.sweep.cast_limits import MAX_TIME


@dataclass(frozen=True, slots=True)
class Span:
    index: int  # position in tree order
    span_id: str
    parent_id: str | None
    kind: str
    name: str
    start_ms: float
    duration_ms: float
    depth: int
    attrs: dict[str, Any] = field(default_factory=dict)
    error: Any = None

    @property
    def end_ms(self) -> float:
        return self.start_ms + self.duration_ms

    def contains(self, t_ms: float) -> bool:
        return self.start_ms <= t_ms < self.end_ms or (
            self.duration_ms == 0 and t_ms == self.start_ms
        )


MAX_MS = MAX_TIME * 1000.0


def _clamped_ms(x: Any) -> float:
    """A time in ms: 0 unless a finite number, clamped to +-MAX_TIME (so ends stay finite)."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return 0.0
    return max(-MAX_MS, min(MAX_MS, float(x)))


def span_tree(raw: Iterable[dict[str, Any]]) -> list[Span]:
    """Spans in tree order with their depth. A span whose parent is missing (or that would make
    a cycle) is a root."""
    items = [dict(s) for s in raw]
    for n, s in enumerate(items):
        s["_n"] = n
        s["_start"] = _clamped_ms(s.get("start_ms"))
    ids = {str(s.get("span_id")): s for s in items if s.get("span_id") is not None}
    children: dict[str | None, list[dict[str, Any]]] = {}
    for s in items:
        parent = s.get("parent_id")
        key = str(parent) if parent is not None and str(parent) in ids else None
        if key is not None and key == str(s.get("span_id")):
            key = None
        children.setdefault(key, []).append(s)
    for kids in children.values():
        kids.sort(key=lambda s: (s["_start"], s["_n"]))
    out: list[Span] = []
    seen: set[int] = set()

    def walk(parent: str | None, depth: int) -> None:
        stack = [(s, depth) for s in reversed(children.get(parent, []))]
        while stack:
            s, d = stack.pop()
            if s["_n"] in seen:
                continue
            seen.add(s["_n"])
            attrs = s.get("attrs")
            out.append(Span(
                len(out), str(s.get("span_id") or ""), s.get("parent_id"), str(s.get("kind") or "?"),
                str(s.get("name") or ""), s["_start"], max(0.0, _clamped_ms(s.get("duration_ms"))), d,
                attrs if isinstance(attrs, dict) else {}, s.get("error"),
            ))  # fmt: skip
            sid = str(s.get("span_id"))
            stack.extend((c, d + 1) for c in reversed(children.get(sid, [])))

    walk(None, 0)
    for s in sorted(items, key=lambda s: s["_n"]):  # cycles: whatever was not reached
        if s["_n"] not in seen:
            children[f"\0{s['_n']}"] = [s]
            walk(f"\0{s['_n']}", 0)
    return out


def recording_offset_ms(spans: Iterable[Span]) -> float:
    """Run time of the recording's time 0: the start of the first ``container`` span, else 0."""
    starts = [s.start_ms for s in spans if s.kind == "container"]
    return min(starts) if starts else 0.0


@dataclass(frozen=True, slots=True)
class Marker:
    time: float  # recording seconds
    label: str


def markers(rec: Recording | None) -> list[Marker]:
    """The ``m`` events of a recording (times as written, not retimed)."""
    if rec is None:
        return []
    return [Marker(e.orig_time, e.data) for e in rec.events if e.code == "m"]


@dataclass(frozen=True, slots=True)
class Call:
    """A model call placed on the run's time axis."""

    seq: int
    start_ms: float
    latency_ms: float
    raw: dict[str, Any]


def _as_datetime(x: Any) -> datetime | None:
    if isinstance(x, datetime):
        return x
    if isinstance(x, str):
        try:
            return datetime.fromisoformat(x)
        except ValueError:
            return None
    return None


def place_calls(calls: list[dict[str, Any]], started_at: Any, spans: list[Span]) -> list[Call]:
    """Model calls in time order: by timestamp minus the run's start, else by the start of the
    ``model_call`` span with the same ``seq``; calls with neither are left out."""
    start = _as_datetime(started_at)
    by_seq = {s.attrs.get("seq"): s.start_ms for s in spans if s.kind == "model_call"}
    out: list[Call] = []
    for n, c in enumerate(calls):
        given = c.get("seq")
        seq = given if isinstance(given, int) else n + 1
        ts = _as_datetime(c.get("timestamp"))
        if ts is not None and start is not None:
            try:
                at = _clamped_ms((ts - start).total_seconds() * 1000.0)
            except (TypeError, OverflowError):  # naive vs aware, or out of range
                continue
        elif seq in by_seq:
            at = by_seq[seq]
        else:
            continue
        out.append(Call(seq, at, _clamped_ms(c.get("latency_ms")), c))
    out.sort(key=lambda c: (c.start_ms, c.seq))
    return out


CALL_TIME_SLACK_MS = 0.001


class Timeline:
    """Spans, calls and markers of one run, with the questions a replay asks of them."""

    def __init__(self, spans: list[Span], calls: list[Call] = (), marks: list[Marker] = ()) -> None:  # type: ignore[assignment]  # tuple defaults, never mutated, stand for empty lists
        self.spans = spans
        self.calls = list(calls)
        self.markers = list(marks)
        self.order = sorted(range(len(spans)), key=lambda i: (spans[i].start_ms, i))
        self._rank = {idx: r for r, idx in enumerate(self.order)}
        self._keys = [(spans[i].start_ms, r) for r, i in enumerate(self.order)]
        self._call_starts = [c.start_ms for c in self.calls]
        self._marker_times = [m.time for m in self.markers]

    @property
    def end_ms(self) -> float:
        return max((s.end_ms for s in self.spans), default=0.0)

    def _key(self, t_ms: float, current: int | None, after: bool) -> tuple[float, float]:
        if (
            current is not None
            and 0 <= current < len(self.spans)
            and self.spans[current].start_ms == t_ms
        ):
            return (t_ms, self._rank[current])
        return (t_ms, math.inf if after else -1)

    def next_span(self, t_ms: float, current: int | None = None) -> Span | None:
        """The first span (in time order) after position ``t_ms``, or after ``current`` when it
        starts exactly there."""
        i = bisect_right(self._keys, self._key(t_ms, current, after=True))
        return self.spans[self.order[i]] if i < len(self.order) else None

    def prev_span(self, t_ms: float, current: int | None = None) -> Span | None:
        i = bisect_left(self._keys, self._key(t_ms, current, after=False)) - 1
        return self.spans[self.order[i]] if i >= 0 else None

    def current(self, t_ms: float) -> Span | None:
        """The deepest span running at ``t_ms`` (the latest started among equals)."""
        best: Span | None = None
        for s in self.spans:
            if s.start_ms > t_ms:
                continue
            if s.contains(t_ms) and (
                best is None or (s.depth, s.start_ms) >= (best.depth, best.start_ms)
            ):
                best = s
        return best

    def call_at(self, t_ms: float) -> Call | None:
        """The latest model call started at or before ``t_ms`` (a call's time is in whole
        microseconds: one that starts where its span does may be up to half of one later)."""
        i = bisect_right(self._call_starts, t_ms + CALL_TIME_SLACK_MS) - 1
        return self.calls[i] if i >= 0 else None

    def next_marker(self, rec_s: float, eps: float = 1e-6) -> Marker | None:
        i = bisect_right(self._marker_times, rec_s + eps)
        return self.markers[i] if i < len(self.markers) else None

    def prev_marker(self, rec_s: float, eps: float = 1e-6) -> Marker | None:
        i = bisect_left(self._marker_times, rec_s - eps) - 1
        return self.markers[i] if i >= 0 else None
