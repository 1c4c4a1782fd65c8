"""Read asciicast v1, v2 and v3 recordings, plain or gzip-compressed.

The reader is forgiving: a bad line is skipped and described in ``Recording.problems`` (each
problem names the file and the line number). Only a file that cannot be read at all (empty, or
an unreadable header) raises :class:`CastError`.

It is also bounded (:mod:`cabtui.sweep.cast_limits`): the file is read in chunks and line by line
with a size bound, and a terminal size, a resize, an event, a time or a nesting depth beyond
the limits is clamped, cut or skipped before anything is allocated for it, and reported.
"""

from __future__ import annotations

import io
import json
import math
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

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
from cabtui.sweep.layout import open_regular

CODES = frozenset("oimrx")
DEFAULT_SIZE = (80, 24)


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


# -- bytes to lines, within the limits ------------------------------------------------------------

_CHUNK = 1 << 20


def _chunks(f: IO[bytes], name: str, notes: list[str]) -> Iterator[bytes]:
    """The file's bytes, gunzipped when it starts with the gzip magic (whatever its name), in
    chunks of at most 1 MiB (a gzip bomb is never inflated whole). A truncated or corrupt gzip
    stream keeps what decompresses and adds a note; CastError when nothing does."""
    data = f.read(_CHUNK)
    if data[:2] != b"\x1f\x8b":
        while data:
            yield data
            data = f.read(_CHUNK)
        return
    d = zlib.decompressobj(wbits=31)
    produced = False
    while True:
        try:
            out = d.decompress(data, _CHUNK)
        except zlib.error as exc:
            if not produced:
                raise CastError(f"{name}: corrupt gzip data ({exc})") from None
            notes.append(f"{name}: gzip stream is truncated or corrupt ({exc})")
            return
        if out:
            produced = True
            yield out
        if d.eof:  # end of a member: another may follow
            data = d.unused_data or f.read(_CHUNK)
            if not data:
                return
            if data[:2] != b"\x1f\x8b":
                notes.append(f"{name}: data after the gzip stream ignored")
                return
            d = zlib.decompressobj(wbits=31)
            continue
        data = d.unconsumed_tail or f.read(_CHUNK)
        if not data:
            out = d.flush()
            if out:
                yield out
            notes.append(f"{name}: gzip stream is truncated or corrupt (it ends early)")
            return


class _Lines:
    """Lines of a byte stream (split on ``\\n``), each read with a size bound: a longer line is
    cut at the bound and the rest of it skipped unread into memory."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._pending: list[bytes] = []
        self._i = 0
        self._part = b""
        self.total = 0  # bytes read so far, newlines included

    def next(self, limit: int) -> tuple[bytes, int] | None:
        """(line cut to ``limit`` bytes, the line's whole length), or None at the end."""
        if self._i < len(self._pending):
            line = self._pending[self._i]
            self._i += 1
            self.total += len(line) + 1
            return line[:limit], len(line)
        buf, size = [self._part[:limit]], len(self._part)
        kept = len(buf[0])
        self._part = b""
        for chunk in self._chunks:
            pieces = chunk.split(b"\n")
            head = pieces[0]
            size += len(head)
            if kept < limit:
                buf.append(head[: limit - kept])
                kept += len(buf[-1])
            if len(pieces) > 1:
                self._pending, self._i, self._part = pieces, 1, pieces[-1]
                del pieces[-1]
                self.total += size + 1
                return b"".join(buf), size
        if size == 0:
            return None
        self.total += size
        return b"".join(buf), size


def _decode(raw: bytes, no: int, bad: list[int]) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        bad.append(no)
        return raw.decode("utf-8", errors="replace")


def _decode_cut(raw: bytes) -> str:
    """A line cut at a byte bound: a character the cut splits is dropped, not replaced."""
    for back in range(4):
        try:
            return raw[: len(raw) - back].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(raw) - back - 3:
                break
    return raw.decode("utf-8", errors="replace")


# -- JSON within the limits ---------------------------------------------------------------------


def _too_deep(text: str) -> bool:
    """Whether the JSON ``text`` nests deeper than MAX_DEPTH, without parsing it: brackets
    inside strings do not count (escaped quotes and backslashes are removed first, then every
    other quote opens or closes a string)."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return False
    outside = "".join(text.replace("\\\\", "").replace('\\"', "").split('"')[::2])
    depth = 0
    for ch in outside:
        if ch in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif ch in "]}":
            depth -= 1
    return False


def _depth_over(value: Any, limit: int = MAX_DEPTH) -> bool:
    """Whether a parsed JSON value nests deeper than ``limit``."""
    level = [value]  # the values at one depth (value itself at depth 1)
    for _ in range(limit):
        level = [v for x in level if isinstance(x, (list, dict))
                 for v in (x.values() if isinstance(x, dict) else x)]  # fmt: skip
        if not level:
            return False
    return any(isinstance(x, (list, dict)) for x in level)


def _load(text: str) -> Any:
    """json.loads of a header or document, None when it is not JSON or nests too deep."""
    if _too_deep(text):
        raise _DeepError
    try:
        return json.loads(text)
    except RecursionError:
        raise _DeepError from None
    except ValueError:
        return None


class _DeepError(Exception):
    pass


_SURROGATE = re.compile("[\ud800-\udfff]")
_TRUNCATED_EVENT = re.compile(r'\s*\[\s*([-+0-9.eE]+)\s*,\s*"([a-z])"\s*,\s*"(.*)\Z', re.DOTALL)


def _salvage(text: str) -> list[Any] | None:
    """The ``[time, code, data]`` of an event line cut at the size bound, its data cut where the
    line was; None when the cut line is not the start of such an event."""
    m = _TRUNCATED_EVENT.match(text)
    if m is None:
        return None
    body = m.group(3)
    for back in range(8):  # the cut may split an escape (\\, \uXXXX)
        try:
            data = json.loads(f'"{body[: len(body) - back]}"')
        except ValueError:
            continue
        try:
            stamp = float(m.group(1))
        except ValueError:
            return None
        return [stamp, m.group(2), data]
    return None


def _text(value: str, no: int | None, problems: _Problems, what: str = "text") -> str:
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
    return _text(text, 1, problems, f"header {what}")


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
            data = _text(data, no, self.problems, "event data")
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
    reader: _Lines, hdr: dict[str, Any], problems: _Problems, bad: list[int]
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
            line = _decode_cut(raw)
        elif raw.isascii():
            line = raw.decode("ascii")
        else:
            line = _decode(raw, no, bad)
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
            ev = _salvage(line)
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
            if _depth_over(ev):
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
    reader = _Lines(_chunks(f, name, notes))
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
    head = _decode(raw, lead + 1, bad).removeprefix("\ufeff")
    try:
        hdr = _load(head)
    except _DeepError:
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
    reader: _Lines, head: str, hdr: Any, problems: _Problems, bad: list[int], no: int
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
        parts.append(_decode(item[0], no, bad))
    try:
        doc = _load("\n".join(parts))
    except _DeepError:
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
