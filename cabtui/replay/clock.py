"""The play clock of a replay: one position on the run's time axis, shared by the spans, the
model calls and the terminal. No Textual here.

Positions are *run time*: milliseconds since the run's ``started_at``, the unit of span
``start_ms``. The recording's time 0 sits at ``offset_ms`` on that axis (the start of the run's
first ``container`` span, or 0), so recording second ``s`` is run time ``offset_ms + 1000*s``.

Playing advances the position by real elapsed time x speed. With the idle limit on, every gap
between two recording events is capped at the limit the way asciinema plays it
(:func:`cabtui.sweep.asciicast.timeline`): the clock runs through the first ``limit`` seconds of a
long gap, then jumps to the next event. The screen at a given run time is the same either way.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field

from cabtui.sweep.cast_limits import MAX_TIME

MAX_MS = MAX_TIME * 1000.0  # a position or an end past this is clamped to it
SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
DEFAULT_IDLE_LIMIT = 2.0
STEP_MS = 100.0


@dataclass(frozen=True, slots=True)
class TimeMap:
    """Recording seconds as written (``orig``) <-> seconds as played with gaps capped.

    Built from the ``(orig_time, time)`` pairs of :func:`timeline` (speed 1)."""

    orig: tuple[float, ...]
    played: tuple[float, ...]
    limit: float | None

    @classmethod
    def build(cls, orig_times: Sequence[float], limit: float | None) -> TimeMap:
        orig: list[float] = []
        played: list[float] = []
        prev, t = 0.0, 0.0
        for o in orig_times:
            gap = o - prev
            prev = o
            t += gap if limit is None else min(gap, limit)
            orig.append(o)
            played.append(t)
        return cls(tuple(orig), tuple(played), limit)

    def to_played(self, orig: float) -> float:
        """Played seconds at recording second ``orig`` (linear before 0 and after the end)."""
        i = bisect_right(self.orig, orig) - 1
        po, pp = (self.orig[i], self.played[i]) if i >= 0 else (0.0, 0.0)
        gap = orig - po
        if self.limit is not None and i + 1 < len(self.orig) and gap > 0:
            gap = min(gap, self.limit)
        return pp + gap

    def to_orig(self, played: float) -> float:
        """Recording second at played second ``played`` (the earliest, at a capped gap's jump)."""
        i = bisect_right(self.played, played) - 1
        po, pp = (self.orig[i], self.played[i]) if i >= 0 else (0.0, 0.0)
        return po + (played - pp)


@dataclass
class Clock:
    """Position (run ms), playing state, speed and idle limit of one replay."""

    end_ms: float
    offset_ms: float = 0.0
    event_times: tuple[float, ...] = field(default=(), repr=False)  # recording s, ascending
    idle_limit: float = DEFAULT_IDLE_LIMIT
    idle_on: bool = False
    position: float = 0.0
    playing: bool = False
    speed: float = 1.0

    def __post_init__(self) -> None:
        self.end_ms = _finite(self.end_ms, MAX_MS) if self.end_ms > 0 else 0.0
        self.offset_ms = _finite(self.offset_ms, MAX_MS)
        self._map = TimeMap.build(self.event_times, self.idle_limit if self.idle_on else None)

    # -- the two time axes -------------------------------------------------------------------

    def to_recording(self, run_ms: float) -> float:
        """Recording seconds at run time ``run_ms`` (negative before the recording starts)."""
        return (run_ms - self.offset_ms) / 1000.0

    def to_run(self, rec_s: float) -> float:
        """Run ms at recording second ``rec_s``."""
        return self.offset_ms + rec_s * 1000.0

    @property
    def recording_time(self) -> float:
        return self.to_recording(self.position)

    @property
    def fraction(self) -> float:
        return self.position / self.end_ms if self.end_ms else 0.0

    # -- moving ------------------------------------------------------------------------------

    def seek(self, run_ms: float) -> float:
        self.position = min(max(0.0, _finite(run_ms, self.end_ms)), self.end_ms)
        if self.position >= self.end_ms:
            self.playing = False
        return self.position

    def step(self, n: int = 1, step_ms: float = STEP_MS) -> float:
        return self.seek(self.position + n * step_ms)

    def jump_fraction(self, fraction: float) -> float:
        return self.seek(self.end_ms * min(max(fraction, 0.0), 1.0))

    def advance(self, real_seconds: float) -> float:
        """Play ``real_seconds`` of wall time at the current speed (idle limit applied)."""
        if not self.playing or not 0 < real_seconds < math.inf:
            return self.position
        delta = real_seconds * self.speed
        rec = self.recording_time
        if self.idle_on and self.event_times and 0 <= rec < self.event_times[-1]:
            target = self._map.to_orig(self._map.to_played(rec) + delta)
            return self.seek(self.to_run(target))
        return self.seek(self.position + delta * 1000.0)

    # -- state -------------------------------------------------------------------------------

    def toggle(self) -> bool:
        """Play or pause; playing at the end starts again from 0."""
        if not self.playing and self.position >= self.end_ms:
            self.position = 0.0
        self.playing = not self.playing and self.end_ms > 0
        return self.playing

    def faster(self) -> float:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 2
        self.speed = SPEEDS[min(i + 1, len(SPEEDS) - 1)]
        return self.speed

    def slower(self) -> float:
        i = SPEEDS.index(self.speed) if self.speed in SPEEDS else 2
        self.speed = SPEEDS[max(i - 1, 0)]
        return self.speed

    def toggle_idle(self) -> bool:
        self.idle_on = not self.idle_on
        self._map = TimeMap.build(self.event_times, self.idle_limit if self.idle_on else None)
        return self.idle_on

    @property
    def played_duration(self) -> float:
        """Seconds the recording takes to play at speed 1 with the current idle setting."""
        return self._map.played[-1] if self._map.played else 0.0


def _finite(x: float, limit: float) -> float:
    """``x`` within ``-limit..limit``; NaN is 0."""
    return max(-limit, min(limit, x)) if x == x else 0.0


def fmt_ms(ms: float) -> str:
    """``12.3s`` under a minute, ``4:05.2`` above (``?`` for a time that is not a number)."""
    if not math.isfinite(ms):
        return "?"
    s = ms / 1000.0
    if abs(s) < 60:
        return f"{s:.1f}s"
    m, rest = divmod(s, 60)
    return f"{int(m)}:{rest:04.1f}"
