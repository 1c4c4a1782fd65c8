"""Explaining the lines of a JSON-lines file that DuckDB could not use.

DuckDB's read_json gives one row per non-blank line, a row of NULLs for a line it cannot parse.
When a read shows problems, these helpers map rows back to line numbers and say, for each bad
line, what is wrong with it. They read the file in Python, so they run only when needed.
"""

from __future__ import annotations

import json
import mmap
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def nonblank_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) for each line DuckDB turns into a row, in order (a line over
    MAX_LINE_BYTES is given as empty bytes, never held whole)."""
    for number, raw in bounded_lines(path):
        if raw is None:
            yield number, b""
        elif raw.strip():
            yield number, raw


def line_numbers(path: Path) -> list[int]:
    """Line number of each row (index 0 = row 1)."""
    return [n for n, _ in nonblank_lines(path)]


def explain(raw: bytes, required: str, last: bool = False) -> str | None:
    """Why this line cannot be loaded as an object with key ``required``, or None if it can."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return f"not UTF-8 (byte {e.start})"
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        if last and not raw.endswith(b"\n"):
            return f"truncated line: {e.msg} at column {e.colno}"
        return f"malformed JSON: {e.msg} at column {e.colno}"
    if not isinstance(value, dict):
        return f"not a JSON object but {type(value).__name__}"
    if required not in value or value[required] is None:
        return f"no {required}"
    if not isinstance(value[required], str):
        return f"{required} is {type(value[required]).__name__}, not a string"
    return None


# -- the careful reading path ----------------------------------------------------------------

MAX_LINE_BYTES = 32 * 1024 * 1024  # one JSON line (DuckDB's maximum_object_size too)
MAX_DEPTH = 127  # nesting of one JSON line, an object counting 1 (DuckDB's own limit)
MAX_KEYS = 10_000  # keys and items of one JSON line, all levels together
BOM = b"\xef\xbb\xbf"
JSON_STRING = r'"(?:[^"\\]|\\.)*"'  # a JSON string (Python's re and DuckDB's regexp alike)


def exceeds(bare: str) -> bool:
    """Whether a JSON text (of one value of a line) whose strings were taken out may be nested
    deeper, or hold more keys, than a line may (with the line's own object around it). It
    counts over: separators for keys, so a True sends the line to be measured exactly."""
    if bare.count(",") + bare.count(":") >= MAX_KEYS - 1:
        return True
    depth = top = 0
    for ch in bare:
        if ch in "{[":
            depth += 1
            top = max(top, depth)
        elif ch in "}]":
            depth -= 1
    return top >= MAX_DEPTH - 1


_CHUNK = 1024 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")


def bounded_lines(path: Path, limit: int = MAX_LINE_BYTES) -> Iterator[tuple[int, bytes | None]]:
    """(line number, raw line) of every line; None for a line longer than ``limit`` bytes, which
    is skipped without being held in memory."""
    with open(path, "rb") as f:
        number = 0
        while True:
            raw = f.readline(limit + 1)
            if not raw:
                return
            number += 1
            if len(raw) > limit and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):
                    raw = f.readline(_CHUNK)
                yield number, None
                continue
            yield number, raw


def has_long_line(path: Path, limit: int = MAX_LINE_BYTES) -> bool:
    """Whether some line of ``path`` is longer than ``limit`` bytes (DuckDB would read it whole).
    Costs one search per ``limit`` bytes of file, not one per line."""
    size = path.stat().st_size
    if size <= limit:
        return False
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        start = 0
        while size - start > limit:
            nl = mm.rfind(b"\n", start, start + limit + 1)
            if nl < 0:
                return True
            start = nl + 1
    return False


class _Shape:
    """Counts keys and depth while a line is parsed; keeps the last of duplicate keys."""

    def __init__(self) -> None:
        self.keys = 0
        self.duplicates: list[str] = []
        self.non_finite = False

    def pairs(self, items: list[tuple[str, object]]) -> dict[str, object]:
        self.keys += len(items)
        out = dict(items)
        if len(out) != len(items):
            seen: set[str] = set()
            for k, _ in items:
                if k in seen and k not in self.duplicates:
                    self.duplicates.append(k)
                seen.add(k)
        return out

    def number(self, text: str) -> float | None:
        value = float(text)
        if value in (float("inf"), float("-inf")):
            self.non_finite = True
            return None
        return value

    def constant(self, text: str) -> None:
        self.non_finite = True
        return None


def shape(value: object) -> tuple[int, int]:
    """(keys of its objects at every level, nesting depth: a scalar is 0) of a parsed JSON
    value, without recursion: as :func:`check_line` counts a line."""
    keys, deepest, stack = 0, 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            keys += len(v)
            deepest = max(deepest, d)
            stack.extend((c, d + 1) for c in v.values())
        elif isinstance(v, list):
            deepest = max(deepest, d)
            stack.extend((c, d + 1) for c in v)
    return keys, deepest


def check_line(
    raw: bytes, first: bool = False
) -> tuple[dict[str, Any] | None, str | None, list[str]]:
    """Parse one line carefully: (object or None, why it is unusable, notes on a usable one).

    Unusable: not UTF-8, not JSON, not an object, nested deeper than MAX_DEPTH, more than
    MAX_KEYS keys. Usable with a note: duplicate keys (the last value is kept, as jq and Python
    do), NaN or infinite numbers (read as missing)."""
    if first and raw.startswith(BOM):
        raw = raw[len(BOM) :]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, f"not UTF-8 (byte {e.start})", []
    seen = _Shape()
    try:
        value = json.loads(
            text,
            object_pairs_hook=seen.pairs,
            parse_float=seen.number,
            parse_constant=seen.constant,
        )
    except RecursionError:
        return None, f"JSON nested deeper than {MAX_DEPTH} levels", []
    except json.JSONDecodeError as e:
        if not raw.endswith(b"\n"):
            return None, f"truncated line: {e.msg} at column {e.colno}", []
        return None, f"malformed JSON: {e.msg} at column {e.colno}", []
    if not isinstance(value, dict):
        return None, f"not a JSON object but {type(value).__name__}", []
    if seen.keys > MAX_KEYS:
        return None, f"more than {MAX_KEYS:,} keys ({seen.keys:,})", []
    if shape(value)[1] > MAX_DEPTH:
        return None, f"JSON nested deeper than {MAX_DEPTH} levels", []
    notes = [f"duplicate key {k!r}: the last value is used" for k in seen.duplicates]
    if seen.non_finite:
        notes.append("NaN or infinite number read as missing")
    return value, None, notes


def scrub(path: Path, out: Path) -> tuple[dict[int, str], list[tuple[int, str]]]:
    """Write a copy of ``path`` that DuckDB reads whole: one line per row of the original (row =
    non-blank line), each usable line re-written as plain JSON, each unusable one as ``{}``.

    Returns (row -> why it was unusable, [(row, note)] for usable rows that were changed)."""
    bad: dict[int, str] = {}
    notes: list[tuple[int, str]] = []
    row = 0
    with open(out, "wb") as w:
        for number, raw in bounded_lines(path):
            if raw is None:
                row += 1
                bad[row] = f"line longer than {MAX_LINE_BYTES // (1024 * 1024)} MB"
                w.write(b"{}\n")
                continue
            if not raw.strip():
                continue
            row += 1
            value, why, changed = check_line(raw, first=number == 1)
            if value is None:
                bad[row] = why or "unusable"
                w.write(b"{}\n")
                continue
            text = json.dumps(value, ensure_ascii=False, allow_nan=False)
            if _SURROGATE.search(text):
                text = _SURROGATE.sub("\ufffd", text)
                changed.append("lone UTF-16 surrogate replaced by U+FFFD")
            notes.extend((row, n) for n in changed)
            w.write(text.encode("utf-8") + b"\n")
    return bad, notes
