"""A virtual grid over a query's rows: it holds a window of a few hundred formatted rows and the
total count, and asks for another window (``Grid.WindowNeeded``) when the viewport leaves it.

Built on textual-fastdatatable's DataTable with a backend of our own (:class:`WindowBackend`),
so a 100k-run sweep costs what its visible window costs. The rows arrive as a :class:`Page`
made in a worker thread; the grid itself never queries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.text import Text
from textual.binding import BindingType
from textual.message import Message
from textual_fastdatatable import DataTable
from textual_fastdatatable.backend import DataTableBackend

from cabtui.ui.widgets.columns import Column

MARK = "●"
PENDING = Text("·", style="dim")


@dataclass(frozen=True)
class Page:
    """A window of formatted rows: rows[i] is row ``offset + i`` of ``total``."""

    total: int
    offset: int = 0
    rows: tuple[tuple[Text, ...], ...] = ()
    keys: tuple[str, ...] = ()  # the cell_id (runs) or cell (cells) of each row
    generation: int = 0
    raw: tuple[dict[str, Any], ...] = field(default=(), compare=False, repr=False)

    def key(self, row: int) -> str | None:
        i = row - self.offset
        return self.keys[i] if 0 <= i < len(self.keys) else None


class WindowBackend(DataTableBackend[Page]):
    """Serves a :class:`Page`; a row outside it shows "·" and is reported to ``on_miss``."""

    def __init__(self, columns: Sequence[Column], on_miss: Any = None) -> None:  # type: ignore[override]
        self._render_markup = False
        self.grid_columns = tuple(columns)
        self.data = Page(0)
        self.marked: frozenset[str] = frozenset()
        self.on_miss = on_miss

    @classmethod
    def from_pydict(
        cls, data: Any, max_rows: int | None = None, column_names: Any = None
    ) -> WindowBackend:
        raise NotImplementedError

    @property
    def source_data(self) -> Page:
        return self.data

    @property
    def source_row_count(self) -> int:
        return self.data.total

    @property
    def row_count(self) -> int:
        return self.data.total

    @property
    def columns(self) -> Sequence[str]:
        return [MARK, *(c.label for c in self.grid_columns)]

    @property
    def column_content_widths(self) -> Sequence[int]:
        return [1, *(c.width for c in self.grid_columns)]

    def get_cell_at(self, row_index: int, column_index: int) -> Any:
        page = self.data
        i = row_index - page.offset
        if not 0 <= i < len(page.rows):
            if self.on_miss is not None:
                self.on_miss(row_index)
            return PENDING
        if column_index == 0:
            return Text(MARK, style="bold magenta") if page.keys[i] in self.marked else Text(" ")
        return page.rows[i][column_index - 1]

    def get_row_at(self, index: int) -> Sequence[Any]:
        return [self.get_cell_at(index, c) for c in range(len(self.grid_columns) + 1)]

    def get_column_at(self, index: int) -> Sequence[Any]:
        return [
            self.get_cell_at(r, index)
            for r in range(self.data.offset, self.data.offset + len(self.data.rows))
        ]

    def append_column(self, label: str, default: Any | None = None) -> int:
        raise NotImplementedError

    def append_rows(self, records: Any) -> list[int]:
        raise NotImplementedError

    def drop_row(self, row_index: int) -> None:
        raise NotImplementedError

    def update_cell(self, row_index: int, column_index: int, value: Any) -> None:
        raise NotImplementedError

    def sort(self, by: Any) -> None:
        raise NotImplementedError  # the store sorts


class Grid(DataTable, inherit_bindings=False):
    """The grid of the browser: a window of rows, the cursor, and a mark column."""

    # DataTable's own keys, less enter: opening a row is the screen's command.
    BINDINGS: ClassVar[list[BindingType]] = [
        b for b in DataTable.BINDINGS if getattr(b, "action", "") != "select_cursor"
    ]

    class WindowNeeded(Message):
        """Row ``row`` is on screen but outside the window held."""

        def __init__(self, grid: Grid, row: int) -> None:
            super().__init__()
            self.grid, self.row = grid, row

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, Grid.WindowNeeded) and message.grid is self.grid

    def __init__(self, columns: Sequence[Column], *, id: str | None = None) -> None:
        self.grid_columns = tuple(columns)
        self._wanted: int | None = None
        backend = WindowBackend(columns, on_miss=self._miss)
        super().__init__(
            backend=backend,
            column_widths=[1, *(c.width for c in columns)],
            show_row_labels=False,
            render_markup=False,
            null_rep="—",
            id=id,
        )
        self.window = backend

    @property
    def page(self) -> Page:
        return self.window.data

    def _miss(self, row: int) -> None:
        if self._wanted is None:
            self._wanted = row
            self.post_message(self.WindowNeeded(self, row))

    def load(self, page: Page, keep_cursor: bool = True) -> None:
        """Show ``page``; the cursor stays where it was unless the rows are new."""
        self.window.data = page
        self._wanted = None
        self._repaint()
        if not keep_cursor:
            self.move_cursor(row=0)
        elif page.total and self.cursor_row >= page.total:
            self.move_cursor(row=page.total - 1)

    def set_marked(self, marked: Sequence[str]) -> None:
        self.window.marked = frozenset(marked)
        self._repaint()

    def _repaint(self) -> None:
        # fastdatatable has no public way to swap data in place; these are its own steps.
        self._clear_caches()
        self._update_count += 1
        self._update_dimensions([])
        self.refresh()

    def current_key(self) -> str | None:
        return self.page.key(self.cursor_row)

    def current_row(self) -> dict[str, Any] | None:
        i = self.cursor_row - self.page.offset
        return self.page.raw[i] if 0 <= i < len(self.page.raw) else None

    def column_at_cursor(self) -> Column | None:
        c = self.cursor_column - 1
        return self.grid_columns[c] if 0 <= c < len(self.grid_columns) else None

    def column_at(self, index: int) -> Column | None:
        c = index - 1
        return self.grid_columns[c] if 0 <= c < len(self.grid_columns) else None
