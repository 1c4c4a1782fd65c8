"""A grid body cell laid out without rich's console: its text as (text, style) runs on one line
(:func:`layout`), and those runs as the line's segments (:func:`cell_line`), the same as rich
makes of ``Padding(cell, (0, 1))`` at a fraction of the cost. Used by
:class:`cabtui.ui.widgets.grid.Grid`'s cell renderer; anything :func:`layout` declines is left
to rich.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

NULL = Style.null()
Runs = list[tuple[str, Style]]


def layout(cell: Text, width: int, get_style: Any) -> Runs | None:
    """``cell`` laid out on one line of ``width`` cells, as (text, style) runs, exactly as rich
    lays it out inside the grid's cell (``Padding(cell, (0, 1))``); None for what takes more than
    that (too wide, a line break or tab, centred, empty), which rich then lays out itself.

    ``get_style`` resolves a style name (``Console.get_style``)."""
    plain = cell.plain
    justify = cell.justify or "default"
    if (
        not plain
        or not plain.isprintable()
        or justify not in ("default", "left", "right")
        or (justify == "right" and plain[-1].isspace())  # rich strips it before justifying
    ):
        return None
    room = width - cell_len(plain)
    if room < 0:
        return None
    # rich folds the text's own style in as the first span, under the others
    base = get_style(cell.style, default=NULL) if cell.style else NULL
    runs: Runs
    if not cell.spans:
        runs = [(plain, base)]
    else:
        spans = [(0, len(plain), base)]
        for span in cell.spans:
            if not 0 <= span.start < span.end <= len(plain):
                return None
            spans.append((span.start, span.end, get_style(span.style, default=NULL)))
        cuts = sorted({0, len(plain), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
        runs = []
        for start, end in zip(cuts, cuts[1:], strict=False):
            style = NULL
            for s, e, span_style in spans:
                if s <= start and end <= e:
                    style = style + span_style
            runs.append((plain[start:end], style))
    if room:
        # justified text is padded inside the text (its own style); unjustified, by rich
        if justify == "right":
            runs.insert(0, (" " * room, base))
        else:
            runs.append((" " * room, base if justify == "left" else NULL))
    return runs


def cell_line(runs: Runs, style: Callable[[Style], Style], meta: Style) -> list[Segment]:
    """The segments of a cell laid out as ``runs``, with a cell of padding either side: each
    stretch of one style is one segment, styled ``style(own style) + meta``. The meta (the
    cell's coordinate, for the mouse) has no colour, so it goes last and ``style`` can cache."""
    line: list[Segment] = []
    text, own = " ", NULL  # the left padding
    for run_text, run_style in (*runs, (" ", NULL)):
        if run_style == own:
            text += run_text
            continue
        line.append(Segment(text, style(own) + meta))
        text, own = run_text, run_style
    line.append(Segment(text, style(own) + meta))
    return line
