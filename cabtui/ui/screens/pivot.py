"""The pivot: one dimension down, one across, a value in each cell as a heatmap, with marginal
means computed from the runs. Enter on a cell dismisses with a filter selecting its runs.

With CLIs (or models) down the side, ``m`` marks a row and ``c`` runs the paired test of the
marked row against the row under the cursor over the tasks they share (the pivot's filter and
what-if weights apply)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.widgets import DataTable, Footer, Header, Static

from cabtui.compare.render import paired_table
from cabtui.compare.stats import PAIRED_DIMS, paired
from cabtui.store.filter import quote
from cabtui.store.pivot import PivotData, load_pivot
from cabtui.store.query import Query
from cabtui.store.store import Store
from cabtui.text import safe
from cabtui.ui.keys import KeyCommand, bindings
from cabtui.ui.screens.base import CabScreen
from cabtui.ui.screens.pivot_keys import PIVOT_COMMANDS, cell_line
from cabtui.ui.widgets.heatmap import VALUES, Heatmap

DIMS = ("tui", "model", "task_id", "family")
VALUE_ORDER = tuple(VALUES)


def term(dim: str, value: Any) -> str:
    return f"{dim}:null" if value is None else f"{dim}:{quote(str(value))}"


class PivotScreen(CabScreen[str | None]):
    CSS_PATH = "pivot.tcss"
    COMMAND_LIST: ClassVar[list[KeyCommand]] = PIVOT_COMMANDS
    BINDINGS = bindings(COMMAND_LIST)

    def __init__(
        self, store: Store, query: Query | None = None, rows: str = "tui", cols: str = "model"
    ) -> None:
        super().__init__()
        self.store = store
        self.base_query = query or Query()
        shape = store.known_shape
        # a sweep that defines no composite (another harness's) opens on its pass rate
        first = "composite" if shape is None or "composite" in shape.present else "pass"
        self.rows, self.cols, self.value = rows, cols, first
        self.data: PivotData | None = None
        self.marked_row: tuple[str, Any] | None = None  # (dimension, value)
        self.paired_result: dict[str, Any] | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="pivot-title")
        yield Heatmap(id="pivot-grid")
        yield Static(id="pivot-detail")
        yield Static(id="pivot-legend")
        yield Static(id="pivot-paired")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "weights", lambda _: self.refresh_pivot(), init=False)
        self.watch(self.app, "store", self._store_changed, init=False)
        self.refresh_pivot()

    def _store_changed(self, store: Store | None) -> None:
        """The sweep changed on disk (cab-tui open follows it): the same pivot, its runs now."""
        if store is not None and store is not self.store:
            self.store = store
            self.load(self.rows, self.cols, self.query_)

    @property
    def query_(self) -> Query:
        return replace(self.base_query, weights=self.app.weights)

    def refresh_pivot(self) -> None:
        self.query_one("#pivot-title", Static).update(Text("Loading…", style="dim"))
        self.load(self.rows, self.cols, self.query_)

    @work(thread=True, exclusive=True, group="pivot", exit_on_error=False)
    def load(self, rows: str, cols: str, q: Query) -> None:
        data = load_pivot(self.store, rows, cols, q)  # a bad filter is shown (show_failure)
        self.app.call_from_thread(self.loaded, data)

    def show_failure(self, group: str, reason: str) -> bool:
        self.failed(reason)
        return True

    def failed(self, reason: str) -> None:
        self.query_one("#pivot-title", Static).update(Text(safe(reason), style="bold red"))

    def loaded(self, data: PivotData) -> None:
        self.data = data
        self.redraw()
        self.query_one(Heatmap).focus()

    def redraw(self) -> None:
        if self.data is None:
            return
        grid = self.query_one(Heatmap)
        if self.marked_row is None or self.marked_row[0] != self.rows:
            grid.marked_row = None
        grid.show(self.data, self.value)
        title = Text(f"{VALUES[self.value][1]} by {self.rows} × {self.cols}", style="bold")
        if self.base_query.filter:
            title.append(f"   filter: {safe(self.base_query.filter)}", style="dim")
        if self.app.weights is not None:
            title.append("   (what-if weights)", style="bold yellow")
        self.query_one("#pivot-title", Static).update(title)
        self.query_one("#pivot-legend", Static).update(grid.legend())
        self.update_detail()

    @on(DataTable.CellHighlighted)
    def update_detail(self) -> None:
        if self.data is None:
            return
        coord = self.query_one(Heatmap).cursor_coordinate
        stats = self.data.stats(coord.row, coord.column)
        names = self.selection(coord.row, coord.column)
        self.query_one("#pivot-detail", Static).update(cell_line(names, stats))

    def selection(self, row: int, col: int) -> list[tuple[str, Any]]:
        """The (dimension, value) pairs the table coordinate selects (margins select one)."""
        assert self.data is not None
        out: list[tuple[str, Any]] = []
        if row < len(self.data.rows):
            out.append((self.rows, self.data.rows[row]))
        if 0 < col <= len(self.data.cols):
            out.append((self.cols, self.data.cols[col - 1]))
        return out

    def filter_for(self, row: int, col: int) -> str | None:
        """The filter text that selects exactly the runs under (row, col), the pivot's own filter
        included; None for the corner."""
        pairs = self.selection(row, col)
        if not pairs:
            return None
        return " ".join([self.base_query.filter.strip(), *(term(d, v) for d, v in pairs)]).strip()

    @on(DataTable.CellSelected)
    def open_cell(self, event: DataTable.CellSelected) -> None:
        event.stop()
        chosen = self.filter_for(event.coordinate.row, event.coordinate.column)
        if chosen is not None:
            self.dismiss(chosen)

    # -- actions -----------------------------------------------------------------------------

    def _cycle(self, current: str, other: str) -> str:
        i = DIMS.index(current)
        for step in range(1, len(DIMS)):
            candidate = DIMS[(i + step) % len(DIMS)]
            if candidate != other:
                return candidate
        return current

    def action_cycle_rows(self) -> None:
        self.rows = self._cycle(self.rows, self.cols)
        self.refresh_pivot()

    def action_cycle_cols(self) -> None:
        self.cols = self._cycle(self.cols, self.rows)
        self.refresh_pivot()

    def action_swap(self) -> None:
        self.rows, self.cols = self.cols, self.rows
        self.refresh_pivot()

    def action_cycle_value(self) -> None:
        self.value = VALUE_ORDER[(VALUE_ORDER.index(self.value) + 1) % len(VALUE_ORDER)]
        self.redraw()

    def action_cursor(self, direction: str) -> None:
        grid = self.query_one(Heatmap)
        getattr(grid, f"action_cursor_{direction}")()

    def action_compare_extremes(self) -> None:
        coord = self.query_one(Heatmap).cursor_coordinate
        chosen = self.filter_for(coord.row, coord.column) if self.data is not None else None
        if chosen is not None:
            self.extremes(chosen)

    @work(thread=True, exclusive=True, group="pivot-extremes", exit_on_error=False)
    def extremes(self, chosen: str) -> None:
        """The cell's runs with the highest and lowest composite, compared."""
        q = replace(self.query_, filter=chosen)
        rows = self.store.runs(q, limit=None, columns=("cell_id", "composite")).to_pylist()
        rows = sorted((r for r in rows if r["composite"] is not None), key=lambda r: r["composite"])
        self.app.call_from_thread(self._extremes, [r["cell_id"] for r in rows])

    def _extremes(self, ids: list[str]) -> None:
        if len(ids) < 2:
            self.notify("This cell has a single run: nothing to compare.", severity="warning")
            return
        from cabtui.ui.screens.compare import CompareScreen

        self.app.push_screen(CompareScreen(self.store, ids[-1], ids[0]))

    def _row_value(self) -> tuple[str, Any] | None:
        """(dimension, value) of the row under the cursor when rows are CLIs or models."""
        if self.data is None:
            return None
        row = self.query_one(Heatmap).cursor_coordinate.row
        if self.rows not in PAIRED_DIMS:
            self.notify(
                "A paired test compares two CLIs or two models: put tui or model down the side (1).",
                severity="warning",
            )
            return None
        if row >= len(self.data.rows) or self.data.rows[row] is None:
            self.notify("Choose a CLI or model row, not the margin.", severity="warning")
            return None
        return self.rows, self.data.rows[row]

    def action_mark_row(self) -> None:
        chosen = self._row_value()
        if chosen is None:
            return
        self.marked_row = None if self.marked_row == chosen else chosen
        grid = self.query_one(Heatmap)
        grid.marked_row = self.marked_row[1] if self.marked_row else None
        self.redraw()
        said = (
            f"marked {chosen[0]} {safe(str(chosen[1]))}; move to another row and press c"
            if self.marked_row
            else "unmarked"
        )
        self.query_one("#pivot-paired", Static).update(Text(said, style="dim"))

    def action_paired(self) -> None:
        chosen = self._row_value()
        if chosen is None:
            return
        if self.marked_row is None or self.marked_row[0] != chosen[0]:
            self.notify(f"Mark a {chosen[0]} row with m first.", severity="warning")
            return
        if self.marked_row == chosen:
            self.notify("Move to another row: a row paired with itself says nothing.")
            return
        self.query_one("#pivot-paired", Static).update(Text("Pairing…", style="dim"))
        self.run_paired(chosen[0], str(self.marked_row[1]), str(chosen[1]), self.query_)

    @work(thread=True, exclusive=True, group="pivot-paired", exit_on_error=False)
    def run_paired(self, dim: str, x: str, y: str, q: Query) -> None:
        r = paired(self.store, dim, x, y, query=q)
        self.app.call_from_thread(self._paired_done, r)

    def _paired_done(self, r: dict[str, Any]) -> None:
        self.paired_result = r
        self.query_one("#pivot-paired", Static).update(paired_table(r))

    def action_close(self) -> None:
        self.dismiss(None)


__all__ = ["PivotScreen", "term"]
