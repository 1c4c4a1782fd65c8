"""Fitting identifiers into a width without cutting what matters: long ids break at their
``/`` (never inside a name), ids sharing a prefix with their neighbours lose the shared part
first, and of two compared values the part that differs is what stays."""

from __future__ import annotations

import os

from rich.cells import cell_len
from rich.text import Text

ELLIPSIS = "…"


def wrap_path(value: str, width: int, sep: str = "/") -> str:
    """``value`` on lines of at most ``width`` cells, broken after a ``sep`` where it can be
    (a part longer than a line is folded)."""
    if width <= 0 or cell_len(value) <= width:
        return value
    parts = value.split(sep)
    pieces = [p + sep for p in parts[:-1]] + [parts[-1]]
    lines: list[str] = []
    line = ""
    for piece in pieces:
        if line and cell_len(line + piece) > width:
            lines.append(line)
            line = ""
        while cell_len(piece) > width:
            lines.append(piece[:width])
            piece = piece[width:]
        line += piece
    if line:
        lines.append(line)
    return "\n".join(lines)


def shared_prefix(values: list[str], sep: str = "/") -> str:
    """The leading ``sep``-separated parts all ``values`` share (ending with ``sep``)."""
    if len(values) < 2:
        return ""
    common = os.path.commonprefix(values)
    cut = common.rfind(sep)
    return common[: cut + 1] if cut >= 0 else ""


def differing(a: str, b: str, width: int, cut_end: bool = True) -> tuple[str, str]:
    """``a`` and ``b`` each within ``width`` cells, keeping the part where they differ: the
    shared start is replaced by "…" as needed, then (``cut_end``) the end is cut; equal values
    are cut at the end. Without ``cut_end`` only the shared start goes (the rest may fold)."""
    if cell_len(a) <= width and cell_len(b) <= width:
        return a, b
    if a == b:
        return clip_end(a, width), clip_end(b, width)
    start = len(os.path.commonprefix([a, b]))
    # keep a little of the shared start for context, back to a separator when close
    for sep in "/-_.:@ ":
        cut = max(a.rfind(sep, 0, start), -1)
        if start - cut <= 8:
            start = cut + 1
            break
    out = []
    for v in (a, b):
        s = v
        if start > 0 and cell_len(s) > width:
            s = ELLIPSIS + s[start:]
        out.append(clip_end(s, width) if cut_end else s)
    return out[0], out[1]


def clip_end(value: str, width: int) -> str:
    if cell_len(value) <= width:
        return value
    if width <= 1:
        return ELLIPSIS[:width]
    out = ""
    for ch in value:
        if cell_len(out + ch) > width - 1:
            break
        out += ch
    return out + ELLIPSIS


def path_text(value: str, width: int, style: str = "") -> Text:
    return Text(wrap_path(value, width), style=style)
