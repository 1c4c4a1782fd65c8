"""Asciicast recordings as values: :class:`Recording`, its :class:`Event` list, :class:`CastError`
for a file that cannot be read at all, and the resize payload ``"COLSxROWS"``; a recording retimed
the way asciinema plays it (:func:`timeline`) and written out as v2 or v3 (:func:`format_cast`).

Reading a file into a Recording is :mod:`cabtui.sweep.cast_reader`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from typing import Any

from cabtui.sweep.cast_limits import clamp_size


class CastError(Exception):
    """The recording cannot be read at all; the message names the file."""


@dataclass(frozen=True, slots=True)
class Event:
    """One event. ``time`` is absolute seconds on the (possibly retimed) timeline;
    ``orig_time`` is the absolute time in the recording as written."""

    time: float
    code: str
    data: str
    orig_time: float = math.nan

    def __post_init__(self) -> None:
        if math.isnan(self.orig_time):
            object.__setattr__(self, "orig_time", self.time)


@dataclass(frozen=True, slots=True)
class Recording:
    version: int
    cols: int
    rows: int
    events: list[Event]
    title: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    idle_time_limit: float | None = None
    problems: list[str] = field(default_factory=list)
    source: str = "<memory>"

    @property
    def duration(self) -> float:
        return self.events[-1].time if self.events else 0.0


def _size_part(text: str) -> int | None:
    text = text.strip()
    if not (text.isascii() and text.isdigit()):
        return None
    return int(text) if len(text) <= 12 else 10**12  # beyond any limit; never a huge int


def requested_size(data: str) -> tuple[int, int] | None:
    """The size a resize payload ``"COLSxROWS"`` asks for, unclamped; None when malformed."""
    cols, sep, rows = data.partition("x")
    c, r = _size_part(cols), _size_part(rows) if sep else None
    return (c, r) if c and r else None


def parse_size(data: str) -> tuple[int, int] | None:
    """Parse a resize payload ``"COLSxROWS"``, clamped to the limits; None when malformed."""
    size = requested_size(data)
    return clamp_size(*size) if size else None


def timeline(rec: Recording, idle_time_limit: float | None = None, speed: float = 1.0) -> Recording:
    """Retime ``rec`` the way asciinema plays it: every gap between consecutive events is capped
    at ``idle_time_limit`` (default: the header's), later events shift, then all is divided by
    ``speed``. Each event keeps its original time in ``orig_time``."""
    if speed <= 0:
        raise ValueError("speed must be positive")
    limit = rec.idle_time_limit if idle_time_limit is None else idle_time_limit
    if limit is not None and limit <= 0:
        limit = None
    out: list[Event] = []
    prev_orig = 0.0
    t = 0.0
    for ev in rec.events:
        gap = ev.orig_time - prev_orig
        prev_orig = ev.orig_time
        if limit is not None:
            gap = min(gap, limit)
        t += gap
        out.append(Event(t / speed, ev.code, ev.data, ev.orig_time))
    return replace(rec, events=out)


def format_cast(
    cols: int,
    rows: int,
    events: list[tuple[float, str, str]],
    version: int = 2,
    **header: Any,
) -> str:
    """Write ``events`` (absolute times) as an asciicast v2 or v3 document."""
    if version == 3:
        hdr: dict[str, Any] = {"version": 3, "term": {"cols": cols, "rows": rows}, **header}
    else:
        hdr = {"version": 2, "width": cols, "height": rows, **header}
    out = [json.dumps(hdr)]
    prev = 0.0
    for t, code, data in events:
        stamp = t - prev if version == 3 else t
        prev = t
        out.append(json.dumps([stamp, code, data], ensure_ascii=False))
    return "\n".join(out) + "\n"
