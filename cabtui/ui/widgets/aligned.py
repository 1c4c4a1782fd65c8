"""Two runs' span timelines as one aligned list: matched spans on one row, a span of one run
only on its own side, the row where the traces part flagged.

Rows come from ``diff_runs(...).spans.pairs``. Only the rows in view are rendered (line
API), so a list of 4,000 rows moves its cursor in constant time. Where side by side would cut
a span's name (the longest counted up to ``NAME_ROOM`` cells), each row takes two lines, A over
B, every name at the whole width.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from rich.cells import cell_len
from rich.style import Style
from rich.text import Text
from textual.geometry import Region, Size
from textual.strip import Strip
from textual.widget import Widget

from cabtui.compare.values import AlignedPair, SpanSide
from cabtui.replay.clock import fmt_ms
from cabtui.text import safe

MARK = {"match": ("=", "green"), "partial": ("≈", "yellow"), "only_a": ("◀", "red"),
        "only_b": ("▶", "magenta")}  # fmt: skip
CURSOR = Style(reverse=True)
PARTED = Style(bgcolor="grey23")
FIXED = 22  # a side's time (9) and kind (13) before its name
NAME_ROOM = 48  # a name longer than this may be cut side by side rather than stack the rows


def _side(span: SpanSide | None, width: int) -> Text:
    if span is None:
        return Text(" " * width)
    start = span.start_ms
    t = Text(f"{fmt_ms(start) if start is not None else '?':>8} ", style="dim")
    t.append(f"{safe(str(span.kind or '')):<12.12} ", style="cyan")
    t.append(safe(str(span.name or "")), style="bold red" if span.error else "")
    t.truncate(width, pad=True)
    return t


def longest_name(pairs: Sequence[AlignedPair]) -> int:
    """The longest span name of ``pairs`` in cells, counted up to ``NAME_ROOM``."""
    longest = 0
    for p in pairs:
        for span in (p.a, p.b):
            if span is not None:
                longest = max(longest, cell_len(safe(str(span.name or ""))))
                if longest >= NAME_ROOM:
                    return NAME_ROOM
    return longest


class AlignedSpans(Widget):
    """The aligned rows, a cursor row shared by both runs, and the first row that differs."""

    DEFAULT_CSS = """
    AlignedSpans { height: 1fr; overflow: hidden; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.pairs: Sequence[AlignedPair] = ()
        self.parted: int | None = None
        self.cursor = 0
        self.top = 0
        self.longest = 0

    def set_pairs(self, pairs: Sequence[AlignedPair], parted: int | None) -> None:
        self.pairs, self.parted, self.cursor, self.top = pairs, parted, 0, 0
        self.longest = longest_name(pairs)
        self.refresh(layout=True)

    def stacked(self, width: int) -> bool:
        """Whether rows at ``width`` read A over B: side by side a name would be cut."""
        return (width - 3) // 2 - FIXED < self.longest

    @property
    def lines_per_row(self) -> int:
        return 2 if self.stacked(self.size.width) else 1

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """The header and every row (for ``height: auto``: no blank lines under a short list)."""
        return 1 + len(self.pairs) * (2 if self.stacked(width) else 1)

    def on_resize(self) -> None:
        self._scroll_into_view()

    def _scroll_into_view(self) -> bool:
        """Move ``top`` so the cursor row is in view; whether it moved."""
        rows = max(1, (self.size.height - 1) // self.lines_per_row)
        top = self.top
        if self.cursor < top:
            top = self.cursor
        elif self.cursor >= top + rows:
            top = self.cursor - rows + 1
        moved, self.top = top != self.top, top
        return moved

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
        if self._scroll_into_view():
            self.refresh()
        else:
            w, n = self.size.width, self.lines_per_row
            for r in (old, row):
                self.refresh(Region(0, (r - self.top) * n + 1, w, n))

    def header(self, width: int) -> Text:
        """ "A over B", or A and B over their halves; then how many rows of each kind, and
        where the traces part (beside A: a long B half never hides it)."""
        counts: dict[str, int] = {}
        for p in self.pairs:
            counts[p.status] = counts.get(p.status, 0) + 1
        summary = " ".join(f"{MARK[k][0]}{v}" for k, v in counts.items())
        where = f"  parts at row {self.parted + 1}" if self.parted is not None else "  never part"
        t = Text("A over B" if self.stacked(width) else "A", style="bold")
        t.append_text(Text(f"  {summary}{where}", style="dim"))
        if not self.stacked(width):
            half = (width - 3) // 2
            t.truncate(half, pad=True)
            t.append("    B", style="bold")
        t.truncate(width)
        return t

    def row_text(self, i: int, width: int) -> Text:
        p = self.pairs[i]
        half = (width - 3) // 2
        mark, colour = MARK[p.status]
        t = _side(p.a, half)
        t.append(f" {mark} ", style=f"bold {colour}")
        t.append_text(_side(p.b, width - half - 3))
        return self._styled(i, t)

    def stacked_text(self, i: int, line: int, width: int) -> Text:
        """Line ``line`` (0: A, 1: B) of row ``i`` read A over B: the mark, then the side."""
        p = self.pairs[i]
        mark, colour = MARK[p.status]
        side: Literal["a", "b"] = "a" if line == 0 else "b"
        t = Text(f"{mark} " if line == 0 else "  ", style=f"bold {colour}")
        t.append(f"{side.upper()}", style="bold cyan" if side == "a" else "bold magenta")
        span = p.side(side)
        if span is None:
            t.append_text(Text("        —", style="dim"))
            t.truncate(width, pad=True)
        else:
            t.append_text(_side(span, width - 3))
        return self._styled(i, t)

    def _styled(self, i: int, t: Text) -> Text:
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
            n = self.lines_per_row
            i = self.top + (y - 1) // n
            if i >= len(self.pairs):
                return Strip.blank(width, base)
            text = self.stacked_text(i, (y - 1) % n, width) if n == 2 else self.row_text(i, width)
        return Strip(list(text.render(self.app.console)), text.cell_len).crop_extend(0, width, base)
