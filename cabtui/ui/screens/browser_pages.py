"""The browser's two grids (runs and cells) fed a window of rows at a time.

Every query runs in a thread worker with its own cursor and comes back as a :class:`Page` of
formatted rows; each grid holds one window and asks for the next when its cursor nears an edge.
A query asked anew (filter, sort, weights, a sweep changed on disk) bumps the grid's generation,
and a page of an older generation is dropped when it arrives.
"""

from __future__ import annotations

from dataclasses import replace
from functools import partial
from typing import Literal

from textual.worker import get_current_worker
from textual_fastdatatable import DataTable

from cabtui.scoring import Weights
from cabtui.store.query import RUN_COLUMNS, Query
from cabtui.store.store import Store
from cabtui.ui.screens.base import CabScreen
from cabtui.ui.widgets.columns import Column, cell_grid, format_rows, run_grid
from cabtui.ui.widgets.grid import Grid, Page, next_window, swap_grid

Kind = Literal["runs", "cells"]
WINDOW = 400  # rows held per grid
MARGIN = 120  # rows either side of the cursor the window must hold; past that, the next is fetched


class PagedGrids(CabScreen[None]):
    """A screen with a runs grid and a cells grid (ids ``runs`` and ``cells``) over ``store``.

    The screen provides :meth:`grid`, :meth:`shown_kind`, :meth:`query_of`, :meth:`set_query`
    and :meth:`fresh_page` (what a fresh first window changes beside the grid)."""

    def __init__(self, store: Store) -> None:
        super().__init__()
        self.store = store
        shape = store.known_shape  # computed by the opener, off the UI thread
        self.run_columns = run_grid(shape)
        self.cell_columns = cell_grid(shape)
        self._generation: dict[Kind, int] = {"runs": 0, "cells": 0}
        self._stale: set[Kind] = {"cells"}
        self._asked: dict[Kind, tuple[int, int] | None] = {"runs": None, "cells": None}

    # -- what the screen provides -------------------------------------------------------------

    def grid(self, kind: Kind | None = None) -> Grid:
        raise NotImplementedError

    def shown_kind(self) -> Kind:
        raise NotImplementedError

    def query_of(self, kind: Kind) -> Query:
        raise NotImplementedError

    def set_query(self, kind: Kind, q: Query) -> None:
        """Ask ``q`` of ``kind``'s grid (a reactive of the screen, whose watcher reloads)."""
        raise NotImplementedError

    def fresh_page(self, kind: Kind, page: Page) -> None:
        """A fresh first window of ``kind`` is shown (the count may have changed)."""

    def columns_of(self, kind: Kind) -> tuple[Column, ...]:
        return self.run_columns if kind == "runs" else self.cell_columns

    # -- columns and sorting ------------------------------------------------------------------

    async def what_if_columns(self, weights: Weights | None) -> None:
        """Show (or take away) the what-if score column of other sources' runs: each grid whose
        columns change is made anew (the queries that follow fill it)."""
        what_if = weights is not None and bool(weights.axes)
        shape = self.store.known_shape
        self.run_columns, self.cell_columns = run_grid(shape, what_if), cell_grid(shape, what_if)
        kinds: tuple[tuple[Kind, tuple[Column, ...]], ...] = (
            ("runs", self.run_columns), ("cells", self.cell_columns)
        )  # fmt: skip
        for kind, columns in kinds:
            await self.swap_columns(kind, columns)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        grid = event.data_table
        if isinstance(grid, Grid):
            column = grid.column_at(event.column_index)
            if column is not None:
                self.sort_by(grid.id, column.sort)  # type: ignore[arg-type]  # the grids' ids are the two Kind values (runs, cells)

    def sort_by(self, kind: Kind, column: str | None) -> None:
        """Sort ``kind``'s grid by ``column`` (again: reverse)."""
        if column is None:
            return
        q = self.query_of(kind)
        q = replace(q, sort=column, descending=not q.descending if q.sort == column else False)
        self.set_query(kind, q)

    # -- queries (thread workers) -------------------------------------------------------------

    def reload(self, kind: Kind) -> None:
        """Query ``kind`` afresh (filter, sort or weights changed): count and first window.
        A grid that is not shown is only marked stale, and queried when it is shown."""
        self._generation[kind] += 1
        if kind != self.shown_kind():
            self._stale.add(kind)
            return
        self._stale.discard(kind)
        self._run(kind, self.query_of(kind), 0, True, f"fetch-{kind}")

    def reload_if_stale(self, kind: Kind) -> None:
        if kind in self._stale:
            self.reload(kind)

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
                c.key for c in self.columns_of("runs") if c.key not in RUN_COLUMNS and "." in c.key
            )
            rows = self.store.runs(q, limit=WINDOW, offset=offset, scores=scores).to_pylist()
            keys = tuple(r["cell_id"] for r in rows)
        else:
            total = self.store.count_cells(q) if fresh else None
            rows = self.store.cells(q, limit=WINDOW, offset=offset).to_pylist()
            keys = tuple(r["cell"] for r in rows)
        formatted = tuple(format_rows(rows, self.columns_of(kind)))
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
        self.fresh_page(kind, page)

    def _follow(self, grid: Grid, row: int) -> None:
        """Keep ``MARGIN`` rows either side of ``row`` held, or on their way: if neither the
        window held nor the one asked for covers them, ask for one reaching ``WINDOW - MARGIN``
        rows further on, in the direction ``row`` left the window by."""
        kind: Kind = grid.id  # type: ignore[assignment]  # the grids' ids are the two Kind values (runs, cells)
        asked = self._asked[kind]
        held = asked[1] if asked is not None and asked[0] == self._generation[kind] else None
        offset = next_window(grid.page, held, row, WINDOW, MARGIN)
        if offset is not None:
            self._run(kind, self.query_of(kind), offset, False, f"window-{kind}")

    def on_grid_window_needed(self, event: Grid.WindowNeeded) -> None:
        self._follow(event.grid, event.row)

    def on_data_table_cell_highlighted(self, event: DataTable.CellHighlighted) -> None:
        if isinstance(event.data_table, Grid):
            self._follow(event.data_table, event.coordinate.row)

    async def swap_columns(self, kind: Kind, columns: tuple[Column, ...]) -> None:
        """Make ``kind``'s grid anew with ``columns`` (the queries that follow fill it)."""
        self._generation[kind] += 1  # a page asked for the old columns is dropped
        if await swap_grid(self.grid(kind), columns) is not None:
            self._asked[kind] = None

    def refetch_at_cursor(self) -> None:
        """The store changed (the sweep on disk): query the grid shown again with the cursor on
        the same run (or cell); the other grid when next shown."""
        shown = self.shown_kind()
        other: Kind = "cells" if shown == "runs" else "runs"
        self._generation[other] += 1
        self._stale.add(other)
        key = self.grid(shown).current_key()
        self._generation[shown] += 1
        self.run_worker(
            partial(self._page_at, shown, self.query_of(shown), key, self._generation[shown]),
            thread=True, exclusive=True, group=f"fetch-{shown}", name=f"fetch-{shown}",
            exit_on_error=False,
        )  # fmt: skip

    def _page_at(self, kind: Kind, q: Query, key: str | None, generation: int) -> None:
        """In a worker: the window around ``key``'s new row, the cursor on it."""
        by = "run" if kind == "runs" else "cell"
        row = self.store.row_of(key, q, by) if key is not None else None
        self._page(kind, q, max(0, (row or 0) - MARGIN), generation, True, row)
