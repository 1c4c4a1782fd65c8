"""The linked cursor of the compare screen, without Textual: one position on run A's time axis,
the aligned row under it, and run B's time, either the same (clock mode) or mapped along the
span alignment (span mode, :class:`cabtui.compare.align.Lockstep`)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

from cabtui.compare.align import Lockstep, Pair

SPAN, CLOCK = "span", "clock"


def _spans(pairs: Sequence[dict[str, Any]], side: str) -> list[dict[str, Any]]:
    found = {p[side]["index"]: p[side] for p in pairs if p[side] is not None}
    return [found.get(i, {}) for i in range(max(found, default=-1) + 1)]


class Link:
    """Rows of the alignment (``diff_runs(...)["spans"]["pairs"]``) on A's time axis."""

    def __init__(self, pairs: Sequence[dict[str, Any]], mode: str = SPAN) -> None:
        self.pairs = pairs
        objs = [
            Pair(p["a"] and p["a"]["index"], p["b"] and p["b"]["index"], p["score"]) for p in pairs
        ]
        self.lock = Lockstep(objs, _spans(pairs, "a"), _spans(pairs, "b"))
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
        if p["a"] is not None and p["a"].get("start_ms") is not None:
            return float(p["a"]["start_ms"])
        if p["b"] is not None and p["b"].get("start_ms") is not None:
            return self.a_time(float(p["b"]["start_ms"]))
        return None

    def row_at(self, t_a: float) -> int | None:
        """The last row starting at or before ``t_a`` (None before the first)."""
        k = bisect_right(self._ceil, t_a) - 1
        return k if k >= 0 else None
