"""Read asciicast v1, v2 and v3 recordings, plain or gzip-compressed, into a
:class:`~cabtui.sweep.asciicast.Recording`: the header and the events, checked one by one.

The reader is forgiving: a bad line is skipped and described in ``Recording.problems`` (each
problem names the file and the line number). Only a file that cannot be read at all (empty, or
an unreadable header) raises :class:`CastError`.

It is also bounded (:mod:`cabtui.sweep.cast_limits`): the file is read in chunks and line by line
with a size bound (:mod:`cabtui.sweep.cast_stream`), JSON is checked for its depth
(:mod:`cabtui.sweep.cast_json`), and a terminal size, a resize, an event, a time or a nesting
depth beyond the limits is clamped, cut or skipped before anything is allocated for it, and
reported.
"""

from __future__ import annotations

import io
import json
import math
import re
from dataclasses import replace
from pathlib import Path
from typing import IO, Any

from cabtui.sweep.asciicast import CastError, Event, Recording, requested_size
from cabtui.sweep.cast_json import DeepError, depth_over, load_json, salvage
from cabtui.sweep.cast_limits import (
    MAX_DEPTH,
    MAX_EVENTS,
    MAX_LINE_BYTES,
    MAX_PROBLEMS,
    MAX_RECORDING_BYTES,
    MAX_TEXT,
    MAX_TIME,
    MAX_V1_BYTES,
    clamp_size,
    mib,
)
from cabtui.sweep.cast_stream import Lines, chunks, decode, decode_cut
from cabtui.sweep.layout import open_regular

CODES = frozenset("oimrx")
DEFAULT_SIZE = (80, 24)


class _Problems(list[str]):
    """The problems of one recording: the first MAX_PROBLEMS, then a count of the rest."""

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name
        self.more = 0

    def add(self, line: int | None, what: str) -> None:
        if len(self) < MAX_PROBLEMS:
            self.append(f"{self.name}: line {line}: {what}" if line else f"{self.name}: {what}")
        else:
            self.more += 1

    def finish(self, first: list[str]) -> list[str]:
        out = first + list(self)
        if self.more:
            out.append(f"{self.name}: {self.more:,} more problems not listed")
        return out


_SURROGATE = re.compile("[\ud800-\udfff]")


def _without_surrogates(value: str, no: int | None, problems: _Problems, what: str = "text") -> str:
    """``value`` with lone UTF-16 surrogates (they cannot be encoded) replaced by U+FFFD."""
    if not value.isascii() and _SURROGATE.search(value):
        problems.add(no, f"{what} holds a lone UTF-16 surrogate; replaced with U+FFFD")
        return _SURROGATE.sub("\ufffd", value)
    return value


# -- the header -------------------------------------------------------------------------------------


def _header_size(hdr: dict[str, Any], problems: _Problems) -> tuple[int, int]:
    term = hdr.get("term")
    src = term if isinstance(term, dict) else hdr
    keys = ("cols", "rows") if isinstance(term, dict) else ("width", "height")
    cols, rows = src.get(keys[0]), src.get(keys[1])
    if (isinstance(cols, int) and isinstance(rows, int) and not isinstance(cols, bool)
            and not isinstance(rows, bool) and cols > 0 and rows > 0):  # fmt: skip
        shown = clamp_size(cols, rows)
        if shown != (cols, rows):
            problems.add(1, f"header says {_size_text(cols, rows)}; shown as {shown[0]}x{shown[1]}")
        return shown
    problems.add(1, "header has no valid terminal size; using 80x24")
    return DEFAULT_SIZE


def _size_text(cols: int, rows: int) -> str:
    big = 10**12
    return f"{cols if cols < big else 'huge'}x{rows if rows < big else 'huge'}"


def _short(value: Any, problems: _Problems, what: str) -> str:
    text = value if isinstance(value, str) else str(value)
    if len(text) > MAX_TEXT:
        problems.add(1, f"header {what} is {len(text):,} characters; cut to {MAX_TEXT:,}")
        text = text[:MAX_TEXT]
    return _without_surrogates(text, 1, problems, f"header {what}")


def _title(value: Any, problems: _Problems) -> str | None:
    return _short(value, problems, "title") if isinstance(value, str) else None


def _str_env(env: Any, problems: _Problems) -> dict[str, str]:
    if not isinstance(env, dict):
        return {}
    return {_short(k, problems, "env name"): _short(v, problems, f"env {str(k)[:40]!r}")
            for k, v in env.items() if v is not None}  # fmt: skip


def _time_or_none(x: Any) -> float | None:
    """A time in seconds: a finite number, not negative; else None."""
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(x) and x >= 0 else None


# -- events -----------------------------------------------------------------------------------------


class _Events:
    """Checks each event against the limits and keeps the good ones."""

    def __init__(self, problems: _Problems) -> None:
        self.events: list[Event] = []
        self.problems = problems
        self.full = False

    def add(self, no: int, t: float, code: str, data: str, escapes: bool = True) -> None:
        """Keep the event if it is within the limits. ``escapes``: whether its JSON may hold a
        ``\\u`` escape of a surrogate (only then is the data searched for lone ones)."""
        if len(self.events) >= MAX_EVENTS:
            if not self.full:
                self.problems.add(no, f"more than {MAX_EVENTS:,} events; the rest is not read")
            self.full = True
            return
        if code == "r":
            asked = requested_size(data)
            if asked is None:
                self.problems.add(no, f"bad resize {data[:20]!r}; skipped")
                return
            shown = clamp_size(*asked)
            if shown != asked:
                self.problems.add(
                    no, f"resize to {_size_text(*asked)}; shown as {shown[0]}x{shown[1]}"
                )
                data = f"{shown[0]}x{shown[1]}"
        elif len(data) > MAX_LINE_BYTES:
            self.problems.add(no, f"event data is {len(data):,} characters; cut to "
                                  f"the first {MAX_LINE_BYTES:,}")  # fmt: skip
            data = data[:MAX_LINE_BYTES]
        if escapes:
            data = _without_surrogates(data, no, self.problems, "event data")
        self.events.append(Event(t, code, data))


def _read_v1(doc: dict[str, Any], problems: _Problems) -> Recording:
    cols, rows = _header_size(doc, problems)
    stdout = doc.get("stdout")
    kept = _Events(problems)
    if not isinstance(stdout, list):
        problems.add(1, "v1 document has no 'stdout' list")
        stdout = []
    t = 0.0
    for i, item in enumerate(stdout):
        delay = _time_or_none(item[0]) if isinstance(item, list) and len(item) == 2 else None
        if delay is None or not isinstance(item[1], str):
            problems.add(1, f"stdout[{i}] is not [delay, text]; skipped")
            continue
        if t + delay > MAX_TIME:
            problems.add(1, f"stdout[{i}] is at {t + delay:g} s, past {MAX_TIME:g} s; skipped")
            continue
        t += delay
        kept.add(1, t, "o", item[1])
        if kept.full:
            break
    return Recording(
        1, cols, rows, kept.events, title=_title(doc.get("title"), problems),
        env=_str_env(doc.get("env"), problems), problems=problems, source=problems.name,
    )  # fmt: skip


def _read_lines(
    reader: Lines, hdr: dict[str, Any], problems: _Problems, bad: list[int]
) -> Recording:
    version = hdr["version"]
    cols, rows = _header_size(hdr, problems)
    kept = _Events(problems)
    add = kept.add
    t = 0.0
    no = 1
    blank = 0
    backwards: list[int] = []  # lines whose time is before the previous event's
    unread = 0  # an unparsable line: "truncated last line" if no other follows, else "invalid JSON"
    while (item := reader.next(MAX_LINE_BYTES)) is not None:
        raw, size = item
        no += 1
        if size > len(raw):
            line = decode_cut(raw)
        elif raw.isascii():
            line = raw.decode("ascii")
        else:
            line = decode(raw, no, bad)
        stripped = line.strip()
        if not stripped:
            blank = blank or no
            continue
        if unread:
            problems.add(unread, "invalid JSON; skipped")
            unread = 0
        if blank and version == 2:
            problems.add(blank, "blank line inside a v2 file; kept reading")
        blank = 0
        if reader.total > MAX_RECORDING_BYTES:
            problems.add(no, f"the recording is longer than {mib(MAX_RECORDING_BYTES)}; "
                             "the rest is not read")  # fmt: skip
            break
        if version == 3 and stripped.startswith("#"):
            continue
        if size > len(raw):
            ev = salvage(line)
            if ev is None:
                problems.add(no, f"line is {size:,} bytes, over the limit of "
                                 f"{mib(MAX_LINE_BYTES)}; skipped")  # fmt: skip
                continue
            problems.add(no, f"event is {size:,} bytes, over the limit of {mib(MAX_LINE_BYTES)}; "
                             "its data is cut there")  # fmt: skip
        else:
            try:
                ev = json.loads(stripped)
            except RecursionError:  # deeper than the interpreter's limit: far past MAX_DEPTH
                problems.add(no, f"nested deeper than {MAX_DEPTH}; skipped")
                continue
            except ValueError:
                unread = no
                continue
        if not (isinstance(ev, list) and len(ev) == 3 and _time_or_none(ev[0]) is not None):
            if depth_over(ev):
                problems.add(no, f"nested deeper than {MAX_DEPTH}; skipped")
            elif (isinstance(ev, list) and len(ev) == 3 and isinstance(ev[0], float)
                  and not math.isfinite(ev[0])):  # fmt: skip
                problems.add(no, f"time {ev[0]} is not a finite number; skipped")
            else:
                problems.add(no, "event is not [time, code, data]; skipped")
            continue
        stamp, code, data = float(ev[0]), ev[1], ev[2]
        if not isinstance(code, str) or not isinstance(data, str):
            problems.add(no, "event code and data must be strings; skipped")
            continue
        if version == 3:
            if t + stamp > MAX_TIME:
                problems.add(no, f"time {t + stamp:g} s is past {MAX_TIME:g} s; skipped")
                continue
            t += stamp
        else:
            if stamp > MAX_TIME:
                problems.add(no, f"time {stamp:g} s is past {MAX_TIME:g} s; skipped")
                continue
            if stamp < t:
                backwards.append(no)
            t = max(t, stamp)
        if code not in CODES:
            continue
        add(no, t, code, data, "\\ud" in stripped or "\\uD" in stripped)
        if kept.full:
            break
    if backwards:  # one problem, not one a line: some writers do this all through a file
        more = f" (and at {len(backwards) - 1:,} more lines)" if len(backwards) > 1 else ""
        problems.add(backwards[0], f"time goes backwards; clamped{more}")
    if unread:
        problems.add(unread, "truncated last line; skipped")
    term = hdr.get("term")
    env = _str_env(hdr.get("env"), problems)
    if version == 3 and isinstance(term, dict) and isinstance(term.get("type"), str):
        env.setdefault("TERM", _short(term["type"], problems, "term type"))
    return Recording(
        version, cols, rows, kept.events, title=_title(hdr.get("title"), problems), env=env,
        idle_time_limit=_time_or_none(hdr.get("idle_time_limit")), problems=problems, source=problems.name,
    )  # fmt: skip


def _read(f: IO[bytes], name: str) -> Recording:
    notes: list[str] = []  # about the stream (gzip), listed first
    bad: list[int] = []  # lines with invalid UTF-8
    problems = _Problems(name)
    reader = Lines(chunks(f, name, notes))
    first = reader.next(MAX_V1_BYTES)
    lead = 0  # blank lines before the first: no v2 or v3 header then (v1 at best)
    while first is not None and not first[0].strip():
        first, lead = reader.next(MAX_V1_BYTES), lead + 1
    if first is None:
        raise CastError(f"{name}: empty recording")
    raw, size = first
    if size > len(raw):
        raise CastError(f"{name}: line 1 is {size:,} bytes, over the limit of "
                        f"{mib(MAX_V1_BYTES)}; not read")  # fmt: skip
    head = decode(raw, lead + 1, bad).removeprefix("\ufeff")
    try:
        hdr = load_json(head)
    except DeepError:
        raise CastError(f"{name}: line 1: nested deeper than {MAX_DEPTH}; not read") from None
    if lead:
        rec = _read_document(reader, head, None, problems, bad, lead + 1)
    elif isinstance(hdr, dict) and hdr.get("version") in (2, 3):
        rec = _read_lines(reader, hdr, problems, bad)
    else:
        rec = _read_document(reader, head, hdr, problems, bad, 1)
    if bad:
        where = ", ".join(str(n) for n in bad[:5]) + (" ..." if len(bad) > 5 else "")
        notes.append(f"{name}: line {where}: invalid UTF-8 bytes replaced with U+FFFD")
    return replace(rec, problems=problems.finish(notes))


def _read_document(
    reader: Lines, head: str, hdr: Any, problems: _Problems, bad: list[int], no: int
) -> Recording:
    """Line 1 is not a v2 or v3 header: the whole file is one JSON document, asciicast v1."""
    name = problems.name
    if isinstance(hdr, dict):
        found = hdr.get("version")
        if found != 1:
            raise CastError(f"{name}: unsupported asciicast version {found!r} (expected 1, 2 or 3)")
        doc = hdr
        while (item := reader.next(64)) is not None:
            if item[0].strip():
                problems.add(None, "text after the v1 document; ignored")
                break
        return _read_v1(doc, problems)
    parts = [head]
    while (item := reader.next(MAX_V1_BYTES)) is not None:
        no += 1
        if reader.total > MAX_V1_BYTES:
            raise CastError(f"{name}: line 1 is not a v2 or v3 header, and the file is over "
                            f"{mib(MAX_V1_BYTES)}, too long for a v1 document; not read")  # fmt: skip
        parts.append(decode(item[0], no, bad))
    try:
        doc = load_json("\n".join(parts))
    except DeepError:
        raise CastError(f"{name}: nested deeper than {MAX_DEPTH}; not read") from None
    if isinstance(doc, dict) and doc.get("version") == 1:
        return _read_v1(doc, problems)
    if isinstance(doc, dict):
        found = doc.get("version")
        raise CastError(f"{name}: unsupported asciicast version {found!r} (expected 1, 2 or 3)")
    raise CastError(f"{name}: line 1: not an asciicast header (unreadable JSON)")


def parse_cast(raw: bytes, name: str = "<memory>") -> Recording:
    """Parse the bytes of a recording; ``name`` is used in messages."""
    return _read(io.BytesIO(raw), name)


def read_cast(path: str | Path) -> Recording:
    """Read a recording file; raise CastError if it cannot be read at all. The file is read in
    bounded chunks: nothing in it makes the reader hold more than the limits allow."""
    p = Path(path)
    try:
        with open_regular(p) as f:  # never blocks on a FIFO, never reads a device
            return _read(f, str(p))
    except OSError as exc:
        raise CastError(f"{p}: cannot read ({exc.strerror or exc})") from None
