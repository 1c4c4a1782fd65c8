"""One output policy for text from the data: every string from a sweep (a cell id, a note, a
tail, a span name, an attribute, a file name in a problem, an argument echoed back) passes
through here on its way to the user.

- :func:`safe` replaces every control character (C0, DEL, C1, bidirectional overrides) with
  U+FFFD, so nothing in the data can drive the user's terminal (no OSC 52 clipboard writes, no
  title changes, no cursor moves);
- :func:`shown` masks secrets (unless revealed) and then makes the text safe;
- :func:`rich_text` gives a rich ``Text`` of it: never parsed as markup, never turned into emoji;
- :func:`finite` and :func:`dumps` make JSON output valid (NaN and infinities become null).

A leaf module: it imports only :mod:`cabtui.secrets` (rich inside :func:`rich_text` only).
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cabtui.secrets import MASK, find_secrets, mask, mask_text

if TYPE_CHECKING:
    from rich.text import Text

REPLACEMENT = "\ufffd"
_UNSAFE = (
    [chr(c) for c in range(0x20)]
    + [chr(c) for c in range(0x7F, 0xA0)]
    + ["\u061c", "\u200e", "\u200f", "\u2028", "\u2029"]
    + [chr(c) for c in range(0x202A, 0x202F)]
    + [chr(c) for c in range(0x2066, 0x206A)]
)
_SAFE_TABLE = {ord(c): REPLACEMENT for c in _UNSAFE}
_SAFE_LINES = {k: v for k, v in _SAFE_TABLE.items() if k != ord("\n")}
_UNSAFE_SET = frozenset(_UNSAFE)


def safe(text: str) -> str:
    """``text`` with every control character replaced by U+FFFD."""
    return text.translate(_SAFE_TABLE)


def safe_lines(text: str) -> str:
    """Like :func:`safe`, but newlines are kept (for multi-line values such as tails)."""
    return text.replace("\r\n", "\n").translate(_SAFE_LINES)


def is_safe(text: str) -> bool:
    return not any(ch in _UNSAFE_SET for ch in text)


def shown(value: Any, reveal: bool = False, lines: bool = False) -> str:
    """Any value from the data as the text to show: secrets masked unless ``reveal``, control
    characters replaced (newlines kept if ``lines``). ``None`` is the empty string."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    if not reveal:
        text = mask_text(text)
    return safe_lines(text) if lines else safe(text)


def shown_value(value: Any, reveal: bool = False) -> Any:
    """A JSON value from the data with its secrets masked (by name and by form) unless
    ``reveal``. Numbers, booleans and null are kept; strings are not made safe here (JSON
    escapes them; a renderer calls :func:`shown` or :func:`safe` on each)."""
    return value if reveal else mask(value)


def rich_text(value: Any, reveal: bool = False, style: str = "", lines: bool = False) -> Text:
    """``shown(value, reveal)`` as a rich ``Text``: printed literally, never as markup or
    emoji."""
    from rich.text import Text

    return Text(shown(value, reveal, lines), style=style)


def _masked_keeping_lines(text: str, ranges: list[tuple[int, int]]) -> str:
    parts: list[str] = []
    at = 0
    for start, end in ranges:
        parts.append(text[at:start])
        pieces = text[start:end].split("\n")
        parts.append("\n".join(MASK if piece.strip() else piece for piece in pieces))
        at = end
    parts.append(text[at:])
    return "".join(parts)


def mask_lines(lines: list[str], reveal: bool = False, diff: bool = False) -> list[str]:
    """Lines of one text (a tail) with their secrets masked, found across the lines (a PEM key
    spans several); as many lines come back, each masked piece one mask. With ``diff``, the
    lines are a unified diff: the +/-/space marker of each line is kept, header lines too."""
    if reveal or not lines:
        return list(lines)
    heads: list[str] = []
    bodies: list[str] = []
    for line in lines:
        if diff and line.startswith(("@@", "+++ ", "--- ")):
            heads.append(line)
            bodies.append("")
        elif diff:
            heads.append(line[:1])
            bodies.append(line[1:])
        else:
            heads.append("")
            bodies.append(line)
    text = "\n".join(bodies)
    ranges = find_secrets(text)
    if not ranges:
        return list(lines)
    masked = _masked_keeping_lines(text, ranges).split("\n")
    return [head + body for head, body in zip(heads, masked, strict=True)]


def mask_rich(text: Text, reveal: bool = False) -> Text:
    """A rich ``Text`` (e.g. a tail rendered through the terminal engine, colours kept) with the
    secrets of its plain text masked; the styles around them are kept, lines too."""
    if reveal:
        return text
    ranges = find_secrets(text.plain)
    if not ranges:
        return text
    out = text[0:0]
    at = 0
    for start, end in ranges:
        out.append_text(text[at:start])
        pieces = text.plain[start:end].split("\n")
        out.append("\n".join(MASK if piece.strip() else piece for piece in pieces), "bold")
        at = end
    out.append_text(text[at:])
    return out


def finite(value: Any) -> Any:
    """A copy of a JSON-like value fit for strict JSON: NaN and infinities become None, dates
    ISO strings, paths and other objects their ``str``; tuples become lists."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, dict):
        return {str(k): finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    return str(value)


def dumps(value: Any, indent: int | None = 1) -> str:
    """Strict JSON (no NaN or Infinity, non-ASCII escaped so no control byte reaches a
    terminal) of a value from the data."""
    return json.dumps(finite(value), indent=indent, allow_nan=False)
