"""Explaining the lines of a JSON-lines file that DuckDB could not use.

DuckDB's read_json gives one row per non-blank line, a row of NULLs for a line it cannot parse.
When a read shows problems, these helpers map rows back to line numbers and say, for each bad
line, what is wrong with it. They read the file in Python, so they run only when needed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path


def nonblank_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) for each line DuckDB turns into a row, in order."""
    with open(path, "rb") as f:
        for number, raw in enumerate(f, start=1):
            if raw.strip():
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
