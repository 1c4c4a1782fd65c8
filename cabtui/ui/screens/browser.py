"""The sweep browser: every run (or every cell) of the sweep in a grid, filtered live, sorted by
the store, re-ranked by what-if weights; the door to a run's detail, the pivot and compare.

The grids are fed a window at a time by thread workers
(:class:`~cabtui.ui.screens.browser_pages.PagedGrids`)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.reactive import reactive
from textual.widgets import ContentSwitcher, Footer, Header, Static

from cabtui.scoring import Weights
from cabtui.store.live import Watcher
from cabtui.store.query import Query, weighable
from cabtui.store.store import Store
from cabtui.text import safe, shown
from cabtui.ui.keys import KeyCommand, bindings
from cabtui.ui.screens.browser_keys import BROWSER_COMMANDS, status_line
from cabtui.ui.screens.browser_pages import Kind, PagedGrids
from cabtui.ui.widgets.filter_bar import FilterBar
from cabtui.ui.widgets.grid import Grid, Page
from cabtui.ui.widgets.live import LiveStatus
from cabtui.ui.widgets.problems import ProblemsPanel

MAX_MARKED = 2


class BrowserScreen(PagedGrids):
    CSS_PATH = "browser.tcss"
    COMMAND_LIST: ClassVar[list[KeyCommand]] = BROWSER_COMMANDS
    BINDINGS = bindings(COMMAND_LIST)

    runs_query: reactive[Query] = reactive(Query, init=False)
    cells_query: reactive[Query] = reactive(Query, init=False)
    view: reactive[Kind] = reactive("runs", init=False)

    def __init__(self, store: Store, watcher: Watcher | None = None) -> None:
        super().__init__(store)
        self.watcher = watcher  # follow the sweep on disk (cab-tui open): a LiveStatus line
        self.all_runs: int | None = None
        self.filter_error: str | None = None

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

    def shown_kind(self) -> Kind:
        return self.view

    def query_of(self, kind: Kind) -> Query:
        return self.runs_query if kind == "runs" else self.cells_query

    def set_query(self, kind: Kind, q: Query) -> None:
        if kind == "runs":
            self.runs_query = q
        else:
            self.cells_query = q

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

    def fresh_page(self, kind: Kind, page: Page) -> None:
        self.grid(kind).set_marked(self.app.marked)
        empty = self.query_one("#empty", Static)
        empty.display = page.total == 0
        empty.update(
            "Nothing matches this filter."
            if self.query_of(kind).filter.strip()
            else "No runs in this sweep."
        )
        self._status()

    # -- reacting to state -----------------------------------------------------------------

    def watch_runs_query(self) -> None:
        self.reload("runs")

    def watch_cells_query(self) -> None:
        self.reload("cells")

    def watch_view(self, view: Kind) -> None:
        self.query_one(ContentSwitcher).current = view
        self.reload_if_stale(view)
        self.grid(view).focus()
        self._status()

    async def _weights_changed(self, weights: Weights | None) -> None:
        await self.what_if_columns(weights)
        self.runs_query = replace(self.runs_query, weights=weights)
        self.cells_query = replace(self.cells_query, weights=weights)

    def on_filter_bar_changed(self, event: FilterBar.Changed) -> None:
        self.filter_error = None if event.error is None else event.error.message
        if event.error is None:
            self.runs_query = replace(self.runs_query, filter=event.text)
            self.cells_query = replace(self.cells_query, filter=event.text)
        self._status()

    def on_filter_bar_done(self, event: FilterBar.Done) -> None:
        self.grid().focus()

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
            self.sort_by(self.view, column.sort)

    def action_reverse_sort(self) -> None:
        q = self.query_of(self.view)
        self.set_query(self.view, replace(q, descending=not q.descending))

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
        self.refetch_at_cursor()
