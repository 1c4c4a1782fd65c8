"""A heatmap on a DataTable: cells coloured on a red-to-green scale, row means on the right and
column means at the bottom. It only draws what it is given (a :class:`PivotData`)."""

from __future__ import annotations

import math
from typing import Any

from rich.color import Color
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from cabtui.store.pivot import MARGIN, PivotData
from cabtui.text import safe

# value name -> (aggregate column, label, higher is better)
VALUES: dict[str, tuple[str, str, bool]] = {
    "composite": ("composite_mean", "mean composite", True),
    "pass": ("pass_rate", "pass rate", True),
    "wall": ("wall_mean", "mean wall time", False),
    "blast": ("blast_mean", "mean blast radius", False),
}
RED, YELLOW, GREEN = (
    Color.from_rgb(190, 40, 40),
    Color.from_rgb(200, 170, 30),
    Color.from_rgb(40, 150, 60),
)


def fmt_value(value: str, v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "—"
    if value == "pass":
        return f"{v * 100:.0f}%"
    if value == "wall":
        return f"{v / 1000:.1f}s"
    return f"{v:.3f}"


def colour(t: float) -> Color:
    """t in [0, 1]: 0 red, 0.5 yellow, 1 green."""
    t = max(0.0, min(1.0, t))
    a, b, u = (RED, YELLOW, t * 2) if t < 0.5 else (YELLOW, GREEN, t * 2 - 1)
    ta, tb = a.get_truecolor(), b.get_truecolor()
    return Color.from_rgb(*(round(x + (y - x) * u) for x, y in zip(ta, tb)))


def short(label: Any, width: int = 24) -> str:
    """A header label: a model's organisation prefix dropped, then cut at ``width``."""
    text = "null" if label is None else safe(str(label))
    if (
        len(text) > width
        and "/" in text
        and not text.startswith(("integrity/", "mutations/", "polyglot/"))
    ):
        text = text.rsplit("/", 1)[-1]
    return text if len(text) <= width else text[: width - 1] + "…"


BREAKS = "-_.: "


def _cut(text: str, width: int) -> int:
    """Where to end a header line: after a ``/`` ending a long prefix ("integrity/",
    "deepseek-ai/"), else after the last break that fits, else at ``width``."""
    slash = text.rfind("/", 0, width)
    if slash >= width // 2 - 1:
        return slash + 1
    other = max(text.rfind(c, 0, width) for c in BREAKS + "/")
    return other + 1 if other >= 2 else width


def wrap_label(label: Any, width: int = 14, lines: int = 3) -> str:
    """A column header over up to ``lines`` lines of ``width``, broken after ``/`` or after
    ``-``, ``_``, ``.``, ``:`` or a space where it can, mid-word where it must; the last line cut
    with "…" when the label is longer still."""
    text = "null" if label is None else safe(str(label))
    out: list[str] = []
    while text and len(out) < lines:
        if len(text) <= width:
            out.append(text)
            text = ""
            break
        cut = _cut(text, width)
        out.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        out[-1] = out[-1][: width - 1] + "…"
    return "\n".join(out)


class Heatmap(DataTable[Text]):
    """The pivot grid, with a cell cursor."""

    DEFAULT_CSS = "Heatmap { height: auto; max-height: 100%; }"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(cursor_type="cell", zebra_stripes=False, **kwargs)
        self.data: PivotData | None = None
        self.value = "composite"
        self.marked_row: Any = None  # a row value marked for a paired test

    def show(self, data: PivotData, value: str) -> None:
        self.data, self.value = data, value
        column, _, higher = VALUES[value]
        values = [s[column] for s in data.cells.values() if s.get(column) is not None]
        lo, hi = (
            (0.0, 1.0)
            if value in ("composite", "pass")
            else (min(values, default=0.0), max(values, default=1.0))
        )
        data.scale = (lo, hi)
        cursor = self.cursor_coordinate
        self.clear(columns=True)
        self.add_column(Text(f"{data.rows_dim} \\ {data.cols_dim}", style="bold"), key="__label")
        labels = [wrap_label(c) for c in data.cols]
        self.header_height = max((label.count("\n") + 1 for label in labels), default=1)
        for label in labels:
            self.add_column(Text(label, style="bold", justify="right"))
        self.add_column(Text(MARGIN, style="bold italic", justify="right"))
        for r in [*data.rows, MARGIN]:
            head = Text(short(r, 32), style="bold italic" if r is MARGIN else "bold")
            if r is not MARGIN and r is not None and r == self.marked_row:
                head = Text.assemble(("● ", "bold magenta"), head)
            cells = [head]
            for c in [*data.cols, MARGIN]:
                if r is MARGIN and c is MARGIN:
                    cells.append(Text(f"n={data.total}", style="dim", justify="right"))
                    continue
                stats = (
                    data.row_margin.get(r)
                    if c is MARGIN
                    else data.col_margin.get(c)
                    if r is MARGIN
                    else data.cells.get((r, c))
                )
                cells.append(self.cell_text(stats, column, lo, hi, higher, margin=MARGIN in (r, c)))
            self.add_row(*cells)
        self.cursor_coordinate = cursor if cursor.column > 0 else cursor._replace(column=1)

    def cell_text(
        self,
        stats: dict[str, Any] | None,
        column: str,
        lo: float,
        hi: float,
        higher: bool,
        margin: bool,
    ) -> Text:
        v = None if stats is None else stats.get(column)
        text = f" {fmt_value(self.value, v)} "
        if v is None:
            return Text(text, style="dim", justify="right")
        t = 0.5 if hi <= lo else (v - lo) / (hi - lo)
        bg = colour(t if higher else 1 - t)
        style = Style(bgcolor=bg, color="white", bold=not margin, italic=margin)
        return Text(text, style=style, justify="right")

    def legend(self) -> Text:
        if self.data is None:
            return Text("")
        lo, hi = self.data.scale
        _, label, higher = VALUES[self.value]
        out = Text(f"{label}:  ")
        out.append(fmt_value(self.value, lo) + " ")
        for i in range(11):
            t = i / 10
            out.append("  ", style=Style(bgcolor=colour(t if higher else 1 - t)))
        out.append(" " + fmt_value(self.value, hi))
        out.append(
            "   (green is better; " + ("higher" if higher else "lower") + " is better)", style="dim"
        )
        return out
