"""The sweep browser: every run (or every cell) of the sweep in a grid, filtered live, sorted by
the store, re-ranked by what-if weights; the door to a run's detail, the pivot and compare.

Every query runs in a thread worker with its own cursor and comes back as a :class:`Page` of
formatted rows; the grids hold one window of rows each and ask for another when scrolled."""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Any, ClassVar, Literal

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets import ContentSwitcher, Footer, Header, Static
from textual.worker import get_current_worker
from textual_fastdatatable import DataTable

from cabtui.scoring import Weights
from cabtui.store.live import Watcher
from cabtui.store.query import RUN_COLUMNS, Query, weighable
from cabtui.store.store import Store
from cabtui.text import safe, shown
from cabtui.ui.keys import KeyCommand, bindings
from cabtui.ui.screens.base import CabScreen
from cabtui.ui.screens.browser_keys import BROWSER_COMMANDS, status_line
from cabtui.ui.widgets.columns import Column, cell_grid, format_rows, run_grid
from cabtui.ui.widgets.filter_bar import FilterBar
from cabtui.ui.widgets.grid import Grid, Page, next_window, swap_grid
from cabtui.ui.widgets.live import LiveStatus
from cabtui.ui.widgets.problems import ProblemsPanel

Kind = Literal["runs", "cells"]
WINDOW = 400  # rows held per grid
MARGIN = 120  # rows either side of the cursor the window must hold; past that, the next is fetched
MAX_MARKED = 2


class BrowserScreen(CabScreen[None]):
    CSS_PATH = "browser.tcss"
    COMMAND_LIST: ClassVar[list[KeyCommand]] = BROWSER_COMMANDS
    BINDINGS = bindings(COMMAND_LIST)

    runs_query: reactive[Query] = reactive(Query, init=False)
    cells_query: reactive[Query] = reactive(Query, init=False)
    view: reactive[Kind] = reactive("runs", init=False)

    def __init__(self, store: Store, watcher: Watcher | None = None) -> None:
        super().__init__()
        self.store = store
        self.watcher = watcher  # follow the sweep on disk (cab-tui open): a LiveStatus line
        shape = store.known_shape  # computed by the opener, off the UI thread
        self.run_columns = run_grid(shape)
        self.cell_columns = cell_grid(shape)
        self.all_runs: int | None = None
        self.filter_error: str | None = None
        self._generation: dict[Kind, int] = {"runs": 0, "cells": 0}
        self._stale: set[Kind] = {"cells"}
        self._asked: dict[Kind, tuple[int, int] | None] = {"runs": None, "cells": None}

    # -- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield FilterBar(id="filter")
        yield ProblemsPanel(id="problems")
        with ContentSwitcher(initial="runs", id="grids"):
            yield Grid(self.run_columns, id="runs")
            yield Grid(self.cell_columns, id="cells")
        yield Static("No runs in this sweep.", id="empty")
        yield Static(id="status")
        if self.watcher is not None:
            yield LiveStatus(self.watcher, self.store, id="live")
        yield Footer()

    def grid(self, kind: Kind | None = None) -> Grid:
        return self.query_one(f"#{kind or self.view}", Grid)

    @property
    def filter_bar(self) -> FilterBar:
        return self.query_one(FilterBar)

    def on_mount(self) -> None:
        self.title = "cabtui"
        self.sub_title = shown(self.store.name)
        self.query_one("#problems").display = False
        self.query_one("#empty").display = False
        weights = self.app.weights
        self.set_reactive(BrowserScreen.runs_query, Query(weights=weights))
        self.set_reactive(BrowserScreen.cells_query, Query(weights=weights))
        self.watch(self.app, "weights", self._weights_changed, init=False)
        self.grid("runs").focus()
        self.load_sweep_facts()
        self.reload("runs")

    # -- queries (thread workers) ---------------------------------------------------------

    @work(thread=True, exclusive=True, group="facts", exit_on_error=False)
    def load_sweep_facts(self) -> None:
        total = self.store.total()
        problems = self.store.problems()
        if self.watcher is not None:  # not yet those of files still being written
            problems = self.watcher.settled(problems)
        values = {
            c: self.store.distinct(c) for c in ("tui", "model", "task_id", "family", "sweep_id")
        }
        self.app.call_from_thread(self._facts_loaded, total, problems, values)

    def _facts_loaded(self, total: int, problems: list[Any], values: dict[str, list[str]]) -> None:
        self.all_runs = total
        self.filter_bar.suggester.values = values
        panel = self.query_one(ProblemsPanel)
        panel.show_problems(problems)
        panel.display = bool(problems)
        self._status()

    def reload(self, kind: Kind) -> None:
        """Query ``kind`` afresh (filter, sort or weights changed): count and first window.
        A grid that is not shown is only marked stale, and queried when it is shown."""
        self._generation[kind] += 1
        if kind != self.view:
            self._stale.add(kind)
            return
        self._stale.discard(kind)
        q = self.runs_query if kind == "runs" else self.cells_query
        self._run(kind, q, 0, True, f"fetch-{kind}")

    def _run(self, kind: Kind, q: Query, offset: int, fresh: bool, group: str) -> None:
        generation = self._generation[kind]
        self._asked[kind] = None if fresh else (generation, offset)
        self.run_worker(
            partial(self._page, kind, q, offset, generation, fresh),
            thread=True,
            exclusive=True,
            group=group,
            name=group,
            exit_on_error=False,
        )

    def _page(self, kind: Kind, q: Query, offset: int, generation: int, fresh: bool,
              cursor: int | None = None) -> None:  # fmt: skip
        """In a worker: the count (when fresh) and a window of rows, formatted (``cursor``: the
        row the cursor goes to, when fresh; else the first)."""
        if kind == "runs":
            total = self.store.count(q) if fresh else None
            scores = tuple(
                c.key for c in self.run_columns if c.key not in RUN_COLUMNS and "." in c.key
            )
            rows = self.store.runs(q, limit=WINDOW, offset=offset, scores=scores).to_pylist()
            keys = tuple(r["cell_id"] for r in rows)
        else:
            total = self.store.count_cells(q) if fresh else None
            rows = self.store.cells(q, limit=WINDOW, offset=offset).to_pylist()
            keys = tuple(r["cell"] for r in rows)
        formatted = tuple(
            format_rows(rows, self.run_columns if kind == "runs" else self.cell_columns)
        )
        if get_current_worker().is_cancelled:
            return
        page = Page(
            -1 if total is None else total, offset, formatted, keys, generation, tuple(rows)
        )
        self.app.call_from_thread(self._fetched, kind, page, fresh, cursor)

    def _fetched(self, kind: Kind, page: Page, fresh: bool, cursor: int | None = None) -> None:
        if page.generation != self._generation[kind]:
            return  # a newer query has been asked for
        grid = self.grid(kind)
        if not fresh:
            if self._asked[kind] == (page.generation, page.offset):
                self._asked[kind] = None
            grid.load(replace(page, total=grid.page.total))
            return
        grid.load(page, keep_cursor=cursor is not None)
        if cursor is not None:
            grid.move_cursor(row=cursor)
        grid.set_marked(self.app.marked)
        empty = self.query_one("#empty", Static)
        empty.display = page.total == 0
        q = self.runs_query if kind == "runs" else self.cells_query
        empty.update(
            "Nothing matches this filter." if q.filter.strip() else "No runs in this sweep."
        )
        self._status()

    def _follow(self, grid: Grid, row: int) -> None:
        """Keep ``MARGIN`` rows either side of ``row`` held, or on their way: if neither the
        window held nor the one asked for covers them, ask for one reaching ``WINDOW - MARGIN``
        rows further on, in the direction ``row`` left the window by."""
        kind: Kind = grid.id  # type: ignore[assignment]  # the grids' ids are the two Kind values (runs, cells)
        asked = self._asked[kind]
        held = asked[1] if asked is not None and asked[0] == self._generation[kind] else None
        offset = next_window(grid.page, held, row, WINDOW, MARGIN)
        if offset is not None:
            q = self.runs_query if kind == "runs" else self.cells_query
            self._run(kind, q, offset, False, f"window-{kind}")

    def on_grid_window_needed(self, event: Grid.WindowNeeded) -> None:
        self._follow(event.grid, event.row)

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        if isinstance(event.data_table, Grid):
            self._follow(event.data_table, event.coordinate.row)

    # -- reacting to state -----------------------------------------------------------------

    def watch_runs_query(self) -> None:
        self.reload("runs")

    def watch_cells_query(self) -> None:
        self.reload("cells")

    def watch_view(self, view: Kind) -> None:
        self.query_one(ContentSwitcher).current = view
        if view in self._stale:
            self.reload(view)
        self.grid(view).focus()
        self._status()

    async def _weights_changed(self, weights: Weights | None) -> None:
        await self._columns_for(weights)
        self.runs_query = replace(self.runs_query, weights=weights)
        self.cells_query = replace(self.cells_query, weights=weights)

    async def _columns_for(self, weights: Weights | None) -> None:
        """Show (or take away) the what-if score column of other sources' runs: each grid whose
        columns change is made anew (the queries that follow fill it)."""
        what_if = weights is not None and bool(weights.axes)
        shape = self.store.known_shape
        self.run_columns, self.cell_columns = run_grid(shape, what_if), cell_grid(shape, what_if)
        kinds: tuple[tuple[Kind, tuple[Column, ...]], ...] = (
            ("runs", self.run_columns), ("cells", self.cell_columns)
        )  # fmt: skip
        for kind, columns in kinds:
            self._generation[kind] += 1  # a page asked for the old columns is dropped
            if await swap_grid(self.grid(kind), columns) is not None:
                self._asked[kind] = None

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        self.filter_error = None if event.error is None else event.error.message
        if event.error is None:
            self.runs_query = replace(self.runs_query, filter=event.text)
            self.cells_query = replace(self.cells_query, filter=event.text)
        self._status()

    def on_filter_bar_done(self, event: FilterBar.Done) -> None:
        self.grid().focus()

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        grid = event.data_table
        if isinstance(grid, Grid):
            column = grid.column_at(event.column_index)
            if column is not None:
                self._sort(grid.id, column.sort)  # type: ignore[arg-type]  # the grids' ids are the two Kind values (runs, cells)

    def _sort(self, kind: Kind, column: str | None) -> None:
        if column is None:
            return
        q = self.runs_query if kind == "runs" else self.cells_query
        q = replace(q, sort=column, descending=not q.descending if q.sort == column else False)
        if kind == "runs":
            self.runs_query = q
        else:
            self.cells_query = q

    def on_resize(self) -> None:
        self.call_after_refresh(self._status)

    def _status(self) -> None:
        grid = self.grid()
        q = self.runs_query if self.view == "runs" else self.cells_query
        label = next((c.label for c in grid.grid_columns if c.sort == q.sort), None)
        line = status_line(self.view == "runs", grid.page.total, self.all_runs, q, label,
                           bool(self.filter_error), len(self.app.marked), len(grid.hidden))  # fmt: skip
        self.query_one("#status", Static).update(Text(safe(line)))

    # -- commands --------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # "/" typed inside the filter bar is text (model:meta/llama), not the binding.
        if action == "focus_filter" and self.focused is self.filter_bar.input:
            return False
        return True

    def action_focus_filter(self) -> None:
        # at once, not on the next idle (Widget.focus): keys typed right after "/" belong to it
        self.set_focus(self.filter_bar.input)

    def action_toggle_grid(self) -> None:
        self.view = "cells" if self.view == "runs" else "runs"

    def action_cursor(self, move: str) -> None:
        grid = self.grid()
        if move in ("page_down", "page_up"):
            step = max(1, grid.size.height // 2)
            grid.move_cursor(row=max(0, grid.cursor_row + (step if move == "page_down" else -step)))
        else:
            getattr(grid, f"action_cursor_{move}")()

    def action_sort_here(self) -> None:
        column = self.grid().column_at_cursor()
        if column is not None:
            self._sort(self.view, column.sort)

    def action_reverse_sort(self) -> None:
        if self.view == "runs":
            self.runs_query = replace(self.runs_query, descending=not self.runs_query.descending)
        else:
            self.cells_query = replace(self.cells_query, descending=not self.cells_query.descending)

    def action_open(self) -> None:
        key = self.grid().current_key()
        if key is None:
            return
        if self.view == "cells":
            self.show_filter(f'cell:"{key}"')
            return
        from cabtui.ui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(self.store, key))

    def show_filter(self, text: str) -> None:
        """Set the filter bar to ``text`` and show the runs grid (a drill-down)."""
        self.filter_bar.set_text(text)
        self.view = "runs"

    def action_mark(self) -> None:
        if self.view != "runs":
            return
        key = self.grid().current_key()
        if key is None:
            return
        marked = self.app.marked
        if key in marked:
            marked.remove(key)
        else:
            marked.append(key)
            del marked[:-MAX_MARKED]
        self.grid("runs").set_marked(marked)
        self._status()

    def action_compare(self) -> None:
        marked = self.app.marked
        if len(marked) < 2:
            self.notify("Mark two runs with m to compare them.", severity="warning")
            return
        try:
            from cabtui.ui.screens.compare import CompareScreen
        except ImportError:
            self.notify("compare is not available", severity="warning")
            return
        self.app.push_screen(CompareScreen(self.store, marked[0], marked[1]))

    def action_pivot(self) -> None:
        try:
            from cabtui.ui.screens.pivot import PivotScreen
        except ImportError:
            self.notify("pivot is not available", severity="warning")
            return
        self.app.push_screen(PivotScreen(self.store, self.runs_query), self.pivot_done)

    def pivot_done(self, result: str | None) -> None:
        if result is not None:
            self.show_filter(result)

    def action_weights(self) -> None:
        try:
            from cabtui.ui.screens.weights import WeightsScreen
        except ImportError:
            self.notify("what-if weights are not available", severity="warning")
            return
        shape = self.store.known_shape
        axes = tuple(weighable(shape)) if shape is not None else ()
        cab = shape is None or "cab" in shape.sources
        self.app.push_screen(WeightsScreen(self.app.weights, self.store.weights(), axes, cab))

    def action_toggle_problems(self) -> None:
        panel = self.query_one(ProblemsPanel)
        panel.display = not panel.display
        if panel.display and not panel.problems:
            self.notify("No load problems.")

    # -- following the sweep on disk (LiveStatus) -------------------------------------------

    def action_toggle_live(self) -> None:
        if self.watcher is None:
            self.notify("Not following this sweep (cab-tui open does).")
            return
        self.query_one(LiveStatus).toggle()

    def on_live_status_settled(self) -> None:
        self.load_sweep_facts()

    def on_live_status_changed(self, event: LiveStatus.Changed) -> None:
        """The sweep changed on disk: the grid shown is queried again with the cursor on the
        same run (or cell); filter, sort and marks stay; the other grid when next shown."""
        old, self.store = self.store, event.store
        self.app.store = event.store
        self.query_one(LiveStatus).retire(old)
        self.load_sweep_facts()
        other: Kind = "cells" if self.view == "runs" else "runs"
        self._generation[other] += 1
        self._stale.add(other)
        kind, key = self.view, self.grid().current_key()
        self._generation[kind] += 1
        q = self.runs_query if kind == "runs" else self.cells_query
        self.run_worker(
            partial(self._page_at, kind, q, key, self._generation[kind]),
            thread=True, exclusive=True, group=f"fetch-{kind}", name=f"fetch-{kind}",
        )  # fmt: skip

    def _page_at(self, kind: Kind, q: Query, key: str | None, generation: int) -> None:
        """In a worker: the window around ``key``'s new row, the cursor on it."""
        by = "run" if kind == "runs" else "cell"
        row = self.store.row_of(key, q, by) if key is not None else None
        self._page(kind, q, max(0, (row or 0) - MARGIN), generation, True, row)
