"""Two runs' span timelines as one aligned list: matched spans on one row, a span of one run
only on its own side, the row where the traces part flagged.

Rows come from ``diff_runs(...)["spans"]["pairs"]``. Only the rows in view are rendered (line
API), so a list of 4,000 rows moves its cursor in constant time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from cabtui.replay.clock import fmt_ms
from cabtui.text import safe

MARK = {"match": ("=", "green"), "partial": ("≈", "yellow"), "only_a": ("◀", "red"),
        "only_b": ("▶", "magenta")}  # fmt: skip
CURSOR = Style(reverse=True)
PARTED = Style(bgcolor="grey23")


def _side(span: dict[str, Any] | None, width: int) -> Text:
    if span is None:
        return Text(" " * width)
    start = span.get("start_ms")
    t = Text(f"{fmt_ms(start) if start is not None else '?':>8} ", style="dim")
    t.append(f"{safe(str(span.get('kind') or '')):<12.12} ", style="cyan")
    t.append(safe(str(span.get("name") or "")), style="bold red" if span.get("error") else "")
    t.truncate(width, pad=True)
    return t


class AlignedSpans(Widget):
    """The aligned rows, a cursor row shared by both runs, and the first row that differs."""

    DEFAULT_CSS = """
    AlignedSpans { height: 1fr; overflow: hidden; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.pairs: Sequence[dict[str, Any]] = ()
        self.parted: int | None = None
        self.cursor = 0
        self.top = 0

    def set_pairs(self, pairs: Sequence[dict[str, Any]], parted: int | None) -> None:
        self.pairs, self.parted, self.cursor, self.top = pairs, parted, 0, 0
        self.refresh()

    def on_unmount(self) -> None:
        self.pairs = ()  # a removed screen may be kept alive a while; its rows need not be

    def set_cursor(self, row: int) -> None:
        """Move the cursor (clamped) and scroll it into view; repaint only what changed."""
        if not self.pairs:
            return
        row = min(max(0, row), len(self.pairs) - 1)
        if row == self.cursor:
            return
        old, self.cursor = self.cursor, row
        height = max(1, self.size.height - 1)
        top = self.top
        if row < top:
            top = row
        elif row >= top + height:
            top = row - height + 1
        if top != self.top:
            self.top = top
            self.refresh()
        else:
            w = self.size.width
            for r in (old, row):
                self.refresh(Region(0, r - top + 1, w, 1))

    def header(self, width: int) -> Text:
        half = (width - 3) // 2
        t = Text(f"{'A':<{half}} ", style="bold")
        t.append(" ")
        t.append(f" {'B':<{half}}", style="bold")
        counts: dict[str, int] = {}
        for p in self.pairs:
            counts[p["status"]] = counts.get(p["status"], 0) + 1
        summary = " ".join(f"{MARK[k][0]}{v}" for k, v in counts.items())
        where = f"  parts at row {self.parted + 1}" if self.parted is not None else "  never part"
        t.append_text(Text(f"  {summary}{where}", style="dim"))
        t.truncate(width)
        return t

    def row_text(self, i: int, width: int) -> Text:
        p = self.pairs[i]
        half = (width - 3) // 2
        mark, colour = MARK[p["status"]]
        t = _side(p["a"], half)
        t.append(f" {mark} ", style=f"bold {colour}")
        t.append_text(_side(p["b"], width - half - 3))
        if i == self.parted:
            t.stylize(PARTED)
        if i == self.cursor:
            t.stylize(CURSOR)
        return t

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if y == 0:
            text = self.header(width)
        else:
            i = self.top + y - 1
            if i >= len(self.pairs):
                return Strip.blank(width, base)
            text = self.row_text(i, width)
        return Strip(list(text.render(self.app.console)), text.cell_len).crop_extend(0, width, base)
