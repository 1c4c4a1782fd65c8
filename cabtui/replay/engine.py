"""The terminal engine: replays a Recording through avt with a keyframe index for fast seeks.

A keyframe is the terminal's state serialised by ``avt.Vt.dump()`` (zlib-compressed). pyavt's
dump covers the primary and alternate screens, pen, cursor position and visibility, scroll
region, modes, charsets, tab stops and the saved cursor (checked by tests/test_replay_engine.py).
What it cannot capture is a half-parsed escape sequence, so keyframes are only taken after an
event whose output ends outside any escape sequence; nor the scrollback, which a terminal pulls
back onto the screen when it grows taller, so a keyframe followed by such a resize also stores
the scrollback lines that the resize can pull back (as SGR text, fed before the dump). pyavt also prints DEL (0x7f) as a glyph
where terminals ignore it; output is cleaned of DEL before it is fed.
"""

from __future__ import annotations

import re
import zlib
from bisect import bisect_right
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import avt

from cabtui.replay.render import group_at, masked_texts
from cabtui.sweep.asciicast import Event, Recording, parse_size
from cabtui.sweep.cast_limits import clamp_size

# An escape sequence left open at the end of a chunk: ESC/CSI/OSC/DCS/SOS/PM/APC not yet ended.
_OPEN_TAIL = re.compile(
    r"(?:\x1b[\[\x9b]?|\x9b)[0-?]*[ -/]*\Z"  # ESC, CSI without final byte
    r"|\x1b[ -/]+\Z"  # ESC with intermediates, no final
    r"|(?:\x1b[\]P^_X]|[\x9d\x90\x9e\x9f\x98])[^\x07\x1b\x9c]*\Z"  # string without terminator
)


def _ends_in_ground(data: str) -> bool:
    return _OPEN_TAIL.search(data[-4096:]) is None


@dataclass(frozen=True, slots=True)
class Keyframe:
    index: int  # events[index:] remain to be applied after restoring this keyframe
    time: float
    cols: int
    rows: int
    state: bytes  # zlib(scrollback prologue + dump)


SCROLLBACK = 1000


def _new_vt(cols: int, rows: int) -> avt.Vt:
    """A terminal of at most the limits' size, whatever a Recording made elsewhere says."""
    return avt.Vt(*clamp_size(cols, rows), scrollback_limit=SCROLLBACK)


def _sgr(pen: avt.Pen) -> str:
    ops = ["0"]
    for flag, code in ((pen.bold, "1"), (pen.faint, "2"), (pen.italic, "3"), (pen.underline, "4"),
                       (pen.blink, "5"), (pen.inverse, "7"), (pen.strikethrough, "9")):  # fmt: skip
        if flag:
            ops.append(code)
    for color, base in ((pen.foreground, 38), (pen.background, 48)):
        if isinstance(color, avt.Color.RGB):
            ops.append(f"{base};2;{color[0]};{color[1]};{color[2]}")
        elif isinstance(color, avt.Color.Indexed):
            ops.append(f"{base};5;{color[0]}")
    return "\x1b[" + ";".join(ops) + "m"


def _scrollback_prologue(vt: avt.Vt, count: int) -> str:
    """Output that leaves the last ``count`` scrollback lines in a fresh terminal's scrollback,
    with a blank screen and the cursor home."""
    every = vt.lines()
    lines = every[max(0, len(every) - vt.size[1] - count) : len(every) - vt.size[1]]
    if not lines:
        return ""
    out: list[str] = []
    for n, line in enumerate(lines):
        if n:
            out.append("\x1b[0m\r\n")
        prev = None
        for cell in line.cells:
            if prev is None or cell.pen != prev:
                prev = cell.pen
                out.append(_sgr(prev))
            if cell.width:
                out.append(cell.char)
    out.append("\x1b[0m" + "\r\n" * vt.size[1] + "\x1b[H")
    return "".join(out)


class Player:
    """Seekable playback of a Recording. All times are the Recording's event times."""

    vt: avt.Vt  # the terminal, as of ``time`` (set by seek)
    pos: int  # the index of the next event to apply
    time: float

    def __init__(
        self, rec: Recording, keyframe_seconds: float = 5.0, keyframe_bytes: int = 262_144
    ) -> None:
        self.rec = rec
        self.events: list[Event] = rec.events
        self._times = [e.time for e in self.events]
        self.duration = rec.duration
        self._kf_seconds = keyframe_seconds
        self._kf_bytes = keyframe_bytes
        self.keyframes: list[Keyframe] = []
        self._build_index()
        self._kf_times = [k.time for k in self.keyframes]
        self.seek(0.0)

    # -- index -------------------------------------------------------------------------------

    def _snapshot(self, vt: avt.Vt, index: int, time: float) -> None:
        cols, rows = vt.size
        pull = min(SCROLLBACK, max(0, self._future_rows[index] - rows))
        dump = _scrollback_prologue(vt, pull) + vt.dump() if pull else vt.dump()
        state = zlib.compress(dump.encode("utf-8"), 1)
        self.keyframes.append(Keyframe(index, time, cols, rows, state))

    def _build_index(self) -> None:
        # _future_rows[i]: the most rows any resize at or after event i asks for
        self._future_rows = [0] * (len(self.events) + 1)
        for i in range(len(self.events) - 1, -1, -1):
            ev = self.events[i]
            size = parse_size(ev.data) if ev.code == "r" else None
            self._future_rows[i] = max(self._future_rows[i + 1], size[1] if size else 0)
        vt = _new_vt(self.rec.cols, self.rec.rows)
        self._snapshot(vt, 0, 0.0)
        last_t, since = 0.0, 0
        min_bytes = max(1, self._kf_bytes // 16)
        for i, ev in enumerate(self.events):
            if ev.code == "o":
                vt.feed_str(_clean(ev.data))
                since += len(ev.data)
            elif ev.code == "r":
                size = parse_size(ev.data)
                if size:
                    vt.resize(*size)
                    since += 1
            else:
                continue
            due = since >= self._kf_bytes or (
                ev.time - last_t >= self._kf_seconds and since >= min_bytes
            )
            if due and (ev.code != "o" or _ends_in_ground(ev.data)):
                self._snapshot(vt, i + 1, ev.time)
                last_t, since = ev.time, 0

    def keyframe_bytes(self) -> int:
        """Bytes held by the keyframes' serialised states."""
        return sum(len(k.state) for k in self.keyframes)

    # -- playback ----------------------------------------------------------------------------

    def _apply(self, stop: int) -> set[int]:
        """Apply events[self.pos:stop]; return the changed rows."""
        changed: set[int] = set()
        batch: list[str] = []
        vt = self.vt
        for ev in self.events[self.pos : stop]:
            if ev.code == "o":
                batch.append(ev.data)
            elif ev.code == "r" and (size := parse_size(ev.data)):
                if batch:
                    changed.update(vt.feed_str(_clean("".join(batch)))[0])
                    batch = []
                vt.resize(*size)
                changed.update(range(size[1]))
        if batch:
            changed.update(vt.feed_str(_clean("".join(batch)))[0])
        self.pos = max(self.pos, stop)
        rows = vt.size[1]
        return {r for r in changed if r < rows}

    def seek(self, t: float) -> None:
        """Show the screen at time ``t``: every event with time <= t applied."""
        k = self.keyframes[max(0, bisect_right(self._kf_times, t) - 1)]
        self.vt = _new_vt(k.cols, k.rows)
        self.vt.feed_str(zlib.decompress(k.state).decode("utf-8"))
        self.pos = k.index
        self._apply(bisect_right(self._times, t))
        self.time = t

    def advance(self, t: float) -> set[int]:
        """Play forward to time ``t`` and return the rows that changed (all rows after a seek
        backwards)."""
        if t < self.time:
            self.seek(t)
            return set(range(self.rows))
        changed = self._apply(bisect_right(self._times, t))
        self.time = t
        return changed

    # -- the screen --------------------------------------------------------------------------

    @property
    def cols(self) -> int:
        return self.vt.size[0]

    @property
    def rows(self) -> int:
        return self.vt.size[1]

    def lines(self) -> list[avt.Line]:
        return self.vt.view()

    def text(self) -> list[str]:
        return [line.text.rstrip() for line in self.vt.view()]

    def cursor(self) -> tuple[int, int, bool]:
        """(row, col, visible)"""
        c = self.vt.cursor
        return c.row, c.col, c.visible

    def search(
        self, needle: str, cancelled: Callable[[], bool] | None = None, reveal: bool = False
    ) -> list[float]:
        """Times (ascending) at which ``needle`` newly appears on screen, case-insensitive. The
        screen is searched as it is shown: unless ``reveal``, with its secrets masked (a secret's
        own text is not found, the words around it are).

        A row whose text holds the needle and was not on screen before counts as an appearance
        (a line that scrolls keeps its text and does not count twice). ``cancelled`` is asked
        every ``CANCEL_EVERY`` events (a worker's cancel flag): once it says True, the search
        stops and returns the hits found so far."""
        needle = needle.casefold()
        if not needle:
            return []
        vt = _new_vt(self.rec.cols, self.rec.rows)
        rows = [""] * vt.size[1]
        hits: Counter[str] = Counter()
        found: list[float] = []
        for i, ev in enumerate(self.events):
            if cancelled is not None and i % CANCEL_EVERY == 0 and cancelled():
                break
            if ev.code == "o":
                changed = vt.feed_str(_clean(ev.data))[0]
            elif ev.code == "r" and (size := parse_size(ev.data)):
                vt.resize(*size)
                changed = list(range(size[1]))
                rows = (rows + [""] * size[1])[: size[1]]
            else:
                continue
            if not changed:
                continue
            view = vt.view()
            for r in changed:
                if r < len(rows):
                    rows[r] = view[r].text.casefold()
            found_in = [r for r, text in enumerate(rows) if needle in text]
            if not reveal and found_in:  # as shown: masked (wrapped rows read together)
                shown: dict[int, str] = {}
                for start, end in {group_at(view, r) for r in found_in}:
                    for k, text in enumerate(masked_texts(view, start, end)):
                        shown[start + k] = text.casefold()
                now = Counter(shown[r] for r in found_in if needle in shown[r])
            else:
                now = Counter(rows[r] for r in found_in)
            if now - hits:
                found.append(ev.time)
            hits = now
        return found


CANCEL_EVERY = 256  # events between two looks at a search's cancel flag


def _clean(data: str) -> str:
    return data.replace("\x7f", "") if "\x7f" in data else data
