"""The linked cursor of the compare screen, without Textual: one position on run A's time axis,
the aligned row under it, and run B's time, either the same (clock mode) or mapped along the
span alignment (span mode, :class:`cabtui.compare.align.Lockstep`). Moments of either recording
(markers, search hits, events for the idle limit) are placed on A's axis the same way."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from typing import Any, Literal

from cabtui.compare.align import Lockstep, Pair
from cabtui.compare.values import AlignedPair
from cabtui.replay.clock import Clock

SPAN, CLOCK = "span", "clock"


def _side_spans(pairs: Sequence[AlignedPair], side: Literal["a", "b"]) -> list[dict[str, Any]]:
    """One run's spans as far as the pairs hold them, by index (start and duration)."""
    found = {s.index: s for p in pairs if (s := p.side(side)) is not None}
    return [
        {"start_ms": s.start_ms, "duration_ms": s.duration_ms} if s is not None else {}
        for s in (found.get(i) for i in range(max(found, default=-1) + 1))
    ]


class Link:
    """Rows of the alignment (``diff_runs(...).spans.pairs``) on A's time axis."""

    def __init__(self, pairs: Sequence[AlignedPair], mode: str = SPAN) -> None:
        self.pairs = pairs
        objs = [
            Pair(p.a.index if p.a else None, p.b.index if p.b else None, p.score) for p in pairs
        ]
        self.lock = Lockstep(objs, _side_spans(pairs, "a"), _side_spans(pairs, "b"))
        self.set_mode(mode)

    def set_mode(self, mode: str) -> None:
        self.mode = mode
        self.times: list[float] = []
        for i in range(len(self.pairs)):
            t = self.row_time(i)
            self.times.append(t if t is not None else self.times[-1] if self.times else 0.0)
        # running maximum, so bisect finds the last row starting at or before a time
        self._ceil: list[float] = []
        top = float("-inf")
        for t in self.times:
            top = max(top, t)
            self._ceil.append(top)

    def toggle(self) -> str:
        self.set_mode(CLOCK if self.mode == SPAN else SPAN)
        return self.mode

    def b_time(self, t_a: float) -> float:
        """B's time at A's time ``t_a``."""
        return self.lock.a_to_b(t_a) if self.mode == SPAN else t_a

    def a_time(self, t_b: float) -> float:
        return self.lock.b_to_a(t_b) if self.mode == SPAN else t_b

    def row_time(self, i: int) -> float | None:
        """A's time at the start of row ``i`` (a B-only row: its start mapped to A)."""
        p = self.pairs[i]
        if p.a is not None and p.a.start_ms is not None:
            return float(p.a.start_ms)
        if p.b is not None and p.b.start_ms is not None:
            return self.a_time(float(p.b.start_ms))
        return None

    def row_at(self, t_a: float) -> int | None:
        """The last row starting at or before ``t_a`` (None before the first)."""
        k = bisect_right(self._ceil, t_a) - 1
        return k if k >= 0 else None


# -- moments of both recordings on A's axis ----------------------------------------------------

MOMENT_EPS = (
    1e-3  # ms: a moment this close to the cursor is the cursor's, neither next nor previous
)


def moments(link: Link, items: Iterable[tuple[str, float, str]]) -> list[tuple[float, str]]:
    """``(side, run ms on that side's axis, label)`` as ``(A's time, label)``, ascending; moments
    of both sides that meet on A's axis become one, their labels joined."""
    out: list[tuple[float, str]] = []
    for t, label in sorted(
        (t if side == "a" else link.a_time(t), label) for side, t, label in items
    ):
        if out and t - out[-1][0] <= MOMENT_EPS:
            out[-1] = (out[-1][0], f"{out[-1][1]} · {label}")
        else:
            out.append((t, label))
    return out


def step_to(
    times: Sequence[tuple[float, str]], pos: float, forward: bool
) -> tuple[float, str] | None:
    """The first moment after ``pos`` (or the last before it)."""
    if forward:
        return next((m for m in times if m[0] > pos + MOMENT_EPS), None)
    return next((m for m in reversed(times) if m[0] < pos - MOMENT_EPS), None)


def idle_events(link: Link, clocks: Iterable[tuple[str, Clock]]) -> tuple[float, ...]:
    """Every recording event of each side's clock as seconds on A's axis, ascending: the events
    an idle limit on the linked clock caps the gaps between."""
    out: list[float] = []
    for side, c in clocks:
        run = (c.to_run(t) for t in c.event_times)
        out.extend((t if side == "a" else link.a_time(t)) / 1000.0 for t in run)
    return tuple(sorted(out))


def linked_end(link: Link, clocks: Iterable[tuple[str, Clock]]) -> float:
    """The end of A's axis: A's end and B's end seen from A, each the later of its spans' ends
    and its loaded recording's clock (``clocks``, by side)."""
    ends = {side: [0.0] for side in ("a", "b")}
    for p in link.pairs:
        for side, span in (("a", p.a), ("b", p.b)):
            if span is not None and span.start_ms is not None:
                ends[side].append(span.start_ms + (span.duration_ms or 0.0))
    for side, c in clocks:
        ends[side].append(c.end_ms)
    return max(max(ends["a"]), link.a_time(max(ends["b"])))


def relinked(clock: Clock, end_ms: float, events: tuple[float, ...]) -> Clock:
    """``clock`` with a new end and idle events, its position, speed and states kept."""
    return Clock(end_ms=end_ms, event_times=events, idle_limit=clock.idle_limit,
                 idle_on=clock.idle_on, position=clock.position, playing=clock.playing,
                 speed=clock.speed)  # fmt: skip
