"""The compare screen's summary: the two runs' identities, axes and composite parts side by side
(stacked when narrow), or the per-axis means and intervals of two cells."""

from __future__ import annotations

from rich.table import Table
from rich.text import Text

from cabtui.compare.values import CellDiff, Diff
from cabtui.text import safe
from cabtui.ui.widgets.axes_diff import (
    Summary,
    axes_table,
    composite_table,
    identity_table,
    least_width,
)

RATIOS = (4, 6, 4)  # identities, axes, composite, side by side from 120 columns


class CompareSummary(Summary):
    """``show(diff)`` with a diff of :mod:`cabtui.compare.diff`. ``all_axes``: every scorer key
    or only those that differ; None for the default (only those that differ when stacked)."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.diff: Diff | None = None
        self.all_axes: bool | None = None

    def show(self, d: Diff) -> None:
        self.diff = d
        if isinstance(d, CellDiff):
            self.set_columns(
                self._identity,
                self._axes,
                cells_note(d),
                ratios=RATIOS,
                least=(40, least_width(axes_table(d)), 0),
                stack_order=(1, 0, 2),
            )
            self.add_class("-tall")
            return
        self.set_columns(
            self._identity,
            self._axes,
            composite_table(d),
            ratios=RATIOS,
            stack_order=(1, 0, 2),
            least=(40, least_width(axes_table(d)), least_width(composite_table(d))),
        )

    def _identity(self, width: int, stacked: bool) -> Table:
        assert self.diff is not None
        return identity_table(self.diff, width, stacked)

    def _axes(self, width: int, stacked: bool) -> Table:
        assert self.diff is not None
        only = not self.all_axes if self.all_axes is not None else stacked
        return axes_table(self.diff, width, only_differing=only)

    def toggle_axes(self) -> None:
        shown_all = self.all_axes if self.all_axes is not None else not self.stacked
        self.all_axes = not shown_all
        self.rebuild()

    def scroll_lines(self, n: int) -> None:
        self.scroll_to(y=self.scroll_y + n, animate=False)

    def scroll_pages(self, n: int) -> None:
        page = max(1, self.scrollable_content_region.height - 1)
        self.scroll_to(y=self.scroll_y + n * page, animate=False)


def cells_note(d: CellDiff) -> Text:
    t = Text("cells: means with 95% intervals\n", style="bold")
    for side, style, cell, runs in (("A", "cyan", d.cell_a, d.runs_a),
                                    ("B", "magenta", d.cell_b, d.runs_b)):  # fmt: skip
        t.append(f"{side} {len(runs)} runs: ", style=style)
        t.append(safe(cell) + "\n")
    return t
