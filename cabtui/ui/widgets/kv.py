"""Key/value rendering of data from a sweep: every value made safe, masked unless revealed.

Values arrive as JSON values (numbers, booleans, null, strings, lists, objects). Each is shown
the same way everywhere: booleans as true/false, null as "null", lists item by item, strings
through :func:`cabtui.replay.render.safe` inside rich ``Text`` (never read as markup).
"""

from __future__ import annotations

import math
from typing import Any

from rich.table import Table
from rich.text import Text

from cabtui.secrets import mask
from cabtui.text import safe

NULL_STYLE = "dim italic"
UNKNOWN_STYLE = "bold magenta"


def masked(value: Any, reveal: bool) -> Any:
    """``value`` with its secrets masked, unless ``reveal``; numbers are never masked (a key like
    ``prompt_tokens`` names a count, not a token)."""
    return value if reveal else _keep_numbers(value, mask(value))


def _keep_numbers(orig: Any, hidden: Any) -> Any:
    if isinstance(orig, dict) and isinstance(hidden, dict):
        return {k: _keep_numbers(v, hidden.get(k)) for k, v in orig.items()}
    if isinstance(orig, list) and isinstance(hidden, list) and len(orig) == len(hidden):
        return [_keep_numbers(o, h) for o, h in zip(orig, hidden)]
    if isinstance(orig, (int, float)) and not isinstance(orig, bool):
        return orig
    return hidden


def number_text(v: float) -> str:
    """A number without float noise: 12989.314999999999 -> 12989.315."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if not math.isfinite(v):
        return str(v)
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(round(v, 6))


def value_text(value: Any, indent: int = 0) -> Text:
    """One JSON value as rich Text (multi-line for lists and objects)."""
    pad = "  " * indent
    if value is None:
        return Text("null", style=NULL_STYLE)
    if isinstance(value, bool):
        return Text("true" if value else "false", style="green" if value else "red")
    if isinstance(value, (int, float)):
        return Text(number_text(value), style="cyan")
    if isinstance(value, str):
        return Text(safe(value)) if value else Text('""', style=NULL_STYLE)
    if isinstance(value, list):
        if not value:
            return Text("[] (empty list)", style=NULL_STYLE)
        out = Text(f"list of {len(value)}", style="dim")
        for item in value:
            out.append(f"\n{pad}• ")
            out.append_text(value_text(item, indent + 1))
        return out
    if isinstance(value, dict):
        if not value:
            return Text("{} (empty)", style=NULL_STYLE)
        out = Text()
        for i, (k, v) in enumerate(value.items()):
            if i:
                out.append("\n")
            out.append(f"{pad}{safe(str(k))}: ", style="bold")
            out.append_text(value_text(v, indent + 1))
        return out
    return Text(safe(repr(value)))


def kv_table(rows: list[tuple[str, Any, str]], key_width: int = 22) -> Table:
    """A two-column table of (key, value, tag) rows; a non-empty tag (e.g. "unknown key") is
    shown after the key in a warning colour."""
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, min_width=key_width, style="bold")
    table.add_column(ratio=1, overflow="fold")
    for key, value, tag in rows:
        label = Text(safe(key))
        if tag:
            label.append(f" ({tag})", style=UNKNOWN_STYLE)
        table.add_row(label, value if isinstance(value, Text) else value_text(value))
    return table
