"""Read asciicast v1, v2 and v3 recordings, plain or gzip-compressed.

The reader is forgiving: a bad line is skipped and described in ``Recording.problems`` (each
problem names the file and the line number). Only a file that cannot be read at all (empty, or
an unreadable header) raises :class:`CastError`.
"""

from __future__ import annotations

import gzip
import json
import math
import zlib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

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


def parse_size(data: str) -> tuple[int, int] | None:
    """Parse a resize payload ``"COLSxROWS"``; None when malformed."""
    cols, sep, rows = data.partition("x")
    if not sep or not cols.strip().isdigit() or not rows.strip().isdigit():
        return None
    c, r = int(cols), int(rows)
    return (c, r) if c > 0 and r > 0 else None


def _decode(raw: bytes, name: str, problems: list[str]) -> str:
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            # A truncated .gz: keep what decompresses.
            d = zlib.decompressobj(wbits=31)
            try:
                raw = d.decompress(raw)
            except zlib.error:
                raise CastError(f"{name}: corrupt gzip data ({exc})") from None
            problems.append(f"{name}: gzip stream is truncated or corrupt ({exc})")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("utf-8", errors="replace")
        bad = [i + 1 for i, ln in enumerate(text.split("\n")) if "\ufffd" in ln]
        where = ", ".join(str(n) for n in bad[:5]) + (" ..." if len(bad) > 5 else "")
        problems.append(f"{name}: line {where}: invalid UTF-8 bytes replaced with U+FFFD")
        return text


def _header_size(hdr: dict[str, Any], name: str, problems: list[str]) -> tuple[int, int]:
    term = hdr.get("term")
    src = term if isinstance(term, dict) else hdr
    keys = ("cols", "rows") if isinstance(term, dict) else ("width", "height")
    cols, rows = src.get(keys[0]), src.get(keys[1])
    if isinstance(cols, int) and isinstance(rows, int) and cols > 0 and rows > 0:
        return cols, rows
    problems.append(f"{name}: line 1: header has no valid terminal size; using 80x24")
    return DEFAULT_SIZE


def _str_env(env: Any) -> dict[str, str]:
    if not isinstance(env, dict):
        return {}
    return {str(k): str(v) for k, v in env.items() if v is not None}


def _num(x: Any) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(x) and x >= 0 else None


def _read_v1(doc: dict[str, Any], name: str, problems: list[str]) -> Recording:
    cols, rows = _header_size(doc, name, problems)
    stdout = doc.get("stdout")
    events: list[Event] = []
    if not isinstance(stdout, list):
        problems.append(f"{name}: line 1: v1 document has no 'stdout' list")
        stdout = []
    t = 0.0
    for i, item in enumerate(stdout):
        delay = _num(item[0]) if isinstance(item, list) and len(item) == 2 else None
        if delay is None or not isinstance(item[1], str):
            problems.append(f"{name}: line 1: stdout[{i}] is not [delay, text]; skipped")
            continue
        t += delay
        events.append(Event(t, "o", item[1]))
    return Recording(
        1, cols, rows, events, title=doc.get("title") if isinstance(doc.get("title"), str) else None,
        env=_str_env(doc.get("env")), problems=problems, source=name,
    )  # fmt: skip


def _read_lines(lines: list[str], hdr: dict[str, Any], name: str, problems: list[str]) -> Recording:
    version = hdr["version"]
    cols, rows = _header_size(hdr, name, problems)
    events: list[Event] = []
    t = 0.0
    last = max((i + 1 for i, ln in enumerate(lines) if ln.strip()), default=1)
    blank = 0
    for no, line in enumerate(lines[1:], start=2):
        stripped = line.strip()
        if not stripped:
            blank = blank or no
            continue
        if blank and version == 2:
            problems.append(f"{name}: line {blank}: blank line inside a v2 file; kept reading")
        blank = 0
        if version == 3 and stripped.startswith("#"):
            continue
        try:
            ev = json.loads(stripped)
        except ValueError:
            what = "truncated last line" if no == last else "invalid JSON"
            problems.append(f"{name}: line {no}: {what}; skipped")
            continue
        if not (isinstance(ev, list) and len(ev) == 3 and _num(ev[0]) is not None):
            problems.append(f"{name}: line {no}: event is not [time, code, data]; skipped")
            continue
        stamp, code, data = float(ev[0]), ev[1], ev[2]
        if not isinstance(code, str) or not isinstance(data, str):
            problems.append(f"{name}: line {no}: event code and data must be strings; skipped")
            continue
        if version == 3:
            t += stamp
        else:
            if stamp < t:
                problems.append(f"{name}: line {no}: time goes backwards; clamped")
            t = max(t, stamp)
        if code not in CODES:
            continue
        if code == "r" and parse_size(data) is None:
            problems.append(f"{name}: line {no}: bad resize {data[:20]!r}; skipped")
            continue
        events.append(Event(t, code, data))
    title = hdr.get("title")
    term = hdr.get("term")
    env = _str_env(hdr.get("env"))
    if version == 3 and isinstance(term, dict) and isinstance(term.get("type"), str):
        env.setdefault("TERM", term["type"])
    return Recording(
        version, cols, rows, events,
        title=title if isinstance(title, str) else None, env=env,
        idle_time_limit=_num(hdr.get("idle_time_limit")), problems=problems, source=name,
    )  # fmt: skip


def parse_cast(raw: bytes, name: str = "<memory>") -> Recording:
    """Parse the bytes of a recording; ``name`` is used in messages."""
    problems: list[str] = []
    text = _decode(raw, name, problems)
    if not text.strip():
        raise CastError(f"{name}: empty recording")
    text = text.removeprefix("\ufeff")
    lines = text.split("\n")
    try:
        hdr = json.loads(lines[0])
    except ValueError:
        hdr = None
    if isinstance(hdr, dict) and hdr.get("version") in (2, 3):
        return _read_lines(lines, hdr, name, problems)
    try:
        doc = json.loads(text)
    except ValueError:
        doc = None
    if isinstance(doc, dict) and doc.get("version") == 1:
        return _read_v1(doc, name, problems)
    if isinstance(hdr, dict) or isinstance(doc, dict):
        found = (hdr if isinstance(hdr, dict) else doc).get("version")  # type: ignore[union-attr]
        raise CastError(f"{name}: unsupported asciicast version {found!r} (expected 1, 2 or 3)")
    raise CastError(f"{name}: line 1: not an asciicast header (unreadable JSON)")


def read_cast(path: str | Path) -> Recording:
    """Read a recording file; raise CastError if it cannot be read at all."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise CastError(f"{p}: cannot read ({exc.strerror or exc})") from None
    return parse_cast(raw, str(p))


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
