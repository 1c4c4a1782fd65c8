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

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.binding import BindingType
from textual.message import Message
from textual.widget import Widget
from textual_fastdatatable import DataTable
from textual_fastdatatable.backend import DataTableBackend
from textual_fastdatatable.column import CELL_X_PADDING

from cabtui.ui.widgets.columns import Column, clip, fit_columns
from cabtui.ui.widgets.grid_cells import cell_line, layout

MARK = "●"
PENDING = Text("·", style="dim")
SCREEN_ROWS = 200  # rendered rows, lines and their cells kept: a screen of a tall terminal
WIDEST = 48  # an identifier column grows to its widest value up to this, when there is room


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

    def __init__(self, columns: Sequence[Column], on_miss: Any = None) -> None:
        self._render_markup = False
        self.grid_columns = tuple(columns)
        # the columns on screen, as (index into grid_columns, width): what the width allows
        self.shown: tuple[tuple[int, int], ...] = tuple(
            (i, c.width) for i, c in enumerate(self.grid_columns)
        )
        self.data = Page(0)
        self.marked: frozenset[str] = frozenset()
        self.on_miss = on_miss
        self.missed = False  # a row has been shown as "·" since the last repaint

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
        return [MARK, *(self.grid_columns[i].label for i, _ in self.shown)]

    @property
    def column_content_widths(self) -> Sequence[int]:
        return [1, *(w for _, w in self.shown)]

    def get_cell_at(self, row_index: int, column_index: int) -> Any:
        page = self.data
        i = row_index - page.offset
        if not 0 <= i < len(page.rows):
            self.missed = True
            if self.on_miss is not None:
                self.on_miss(row_index)
            return PENDING
        if column_index == 0:
            return Text(MARK, style="bold magenta") if page.keys[i] in self.marked else Text(" ")
        if column_index > len(self.shown):
            return Text(" ")
        c, width = self.shown[column_index - 1]
        cell = page.rows[i][c]
        if self.grid_columns[c].min_width is not None and isinstance(cell, Text):
            return clip(cell, width)
        return cell

    def get_row_at(self, index: int) -> Sequence[Any]:
        return [self.get_cell_at(index, c) for c in range(len(self.shown) + 1)]

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
        self._styles: dict[tuple[Style, Style, Style, Style], Style] = {}
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
        self._needed: tuple[int, ...] = tuple(c.width for c in self.grid_columns)
        # fastdatatable keeps 1,000 rendered rows and lines and 10,000 cells; the rows and lines
        # are keyed by the cursor, so stale as soon as it moves. Kept to a tall screen's worth,
        # they cost the garbage collector a third as much (its full passes stall repaints).
        self._row_render_cache.maxsize = self._line_cache.maxsize = SCREEN_ROWS
        self._cell_render_cache.maxsize = SCREEN_ROWS * (len(columns) + 1)

    @property
    def page(self) -> Page:
        return self.window.data

    def _miss(self, row: int) -> None:
        if self._wanted is None:
            self._wanted = row
            self.post_message(self.WindowNeeded(self, row))

    def load(self, page: Page, keep_cursor: bool = True) -> None:
        """Show ``page``; the cursor stays where it was unless the rows are new.

        Another window of the same rows (same query, same count) repaints nothing unless a row
        was shown as "·": every row painted so far reads the same in it."""
        held = self.window.data
        self.window.data = page
        self._wanted = None
        if page.rows:
            self._measure_page(page, grow=page.generation == held.generation)
            self.refit(repaint=False)
        if self.window.missed or (page.generation, page.total) != (held.generation, held.total):
            self._repaint()
        if not keep_cursor:
            self.move_cursor(row=0)
        elif page.total and self.cursor_row >= page.total:
            self.move_cursor(row=page.total - 1)

    # -- which columns the width allows --------------------------------------------------------

    def _measure_page(self, page: Page, grow: bool = False) -> None:
        """The width each column's values need in ``page`` (and its label, and its declared
        width): a number column is never narrower; an identifier column is widened towards it
        when there is room (at most WIDEST). ``grow``: another window of the
        same rows, which only widens."""
        needed = []
        for c, col in enumerate(self.grid_columns):
            widest = max((cell_len(row[c].plain) for row in page.rows if c < len(row)), default=0)
            if col.min_width is None:
                needed.append(max(col.width, widest, cell_len(col.label)))
            else:
                needed.append(max(cell_len(col.label), col.width, min(widest, WIDEST)))
        if grow:
            needed = [max(a, b) for a, b in zip(needed, self._needed)]
        self._needed = tuple(needed)

    @property
    def room(self) -> int:
        """The cells the columns can take: the width less the mark column and a scrollbar."""
        width = self.size.width or 200
        return width - (1 + CELL_X_PADDING) - self.styles.scrollbar_size_vertical

    def refit(self, repaint: bool = True) -> None:
        """Choose the columns that fit the width (:func:`fit_columns`)."""
        shown = fit_columns(self.grid_columns, self._needed, self.room)
        if shown == self.window.shown:
            return
        self.window.shown = shown
        self._column_widths = [1, *(w for _, w in shown)]
        self._ordered_columns = None
        if self.cursor_column > len(shown):
            self.cursor_coordinate = self.cursor_coordinate._replace(column=len(shown))
        if repaint:
            self._repaint()
        else:
            self.window.missed = True  # load() repaints

    @property
    def hidden(self) -> tuple[Column, ...]:
        """The columns the width leaves out."""
        shown = {i for i, _ in self.window.shown}
        return tuple(c for i, c in enumerate(self.grid_columns) if i not in shown)

    def on_resize(self) -> None:
        self.refit()

    def set_marked(self, marked: Sequence[str]) -> None:
        if frozenset(marked) != self.window.marked:
            self.window.marked = frozenset(marked)
            self._repaint()

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
        in_range: bool = False,
    ) -> list[list[Segment]]:
        """A body cell as segments, made from its text directly rather than through rich's
        console (``Styled(Padding(...))``), which costs most of a repaint; the segments are
        the same. Headers and anything :func:`layout` declines go to fastdatatable."""
        if (
            row_index < max(0, self.fixed_rows)
            or column_index < max(0, self.fixed_columns)
            or self.max_column_content_width is not None
        ):
            return super()._render_cell(
                row_index, column_index, base_style, width, cursor, hover, in_range
            )
        key = (
            row_index,
            column_index,
            base_style,
            cursor,
            hover,
            in_range,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        lines = self._cell_render_cache.get(key)
        if lines is not None:
            return lines
        cell = self.window.get_cell_at(row_index, column_index)
        console = self.app.console
        runs = (
            layout(cell, width - CELL_X_PADDING, console.get_style)
            if isinstance(cell, Text)
            else None
        )
        if runs is None:
            return super()._render_cell(
                row_index, column_index, base_style, width, cursor, hover, in_range
            )
        component, post = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover,
            cursor,
            in_range,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_type == "range",
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        # rich styles each segment (base + meta + component) + own + post; the meta (the cell's
        # coordinate, for the mouse) has no colour, so it goes last and the rest stays cached
        meta = Style.from_meta({"row": row_index, "column": column_index})
        lines = [
            cell_line(runs, lambda own: self._cell_style(base_style, component, own, post), meta)
        ]
        self._cell_render_cache[key] = lines
        return lines

    def _cell_style(self, base: Style, component: Style, own: Style, post: Style) -> Style:
        key = (base, component, own, post)
        style = self._styles.get(key)
        if style is None:
            style = self._styles[key] = ((base + component) + own) + post
        return style

    def _repaint(self) -> None:
        # fastdatatable has no public way to swap data in place; these are its own steps.
        self.window.missed = False
        if len(self._styles) > 4096:
            self._styles.clear()
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
        return self.column_at(self.cursor_column)

    def column_at(self, index: int) -> Column | None:
        """The column shown at grid column ``index`` (0 is the mark column)."""
        c = index - 1
        shown = self.window.shown
        return self.grid_columns[shown[c][0]] if 0 <= c < len(shown) else None

    def column_index(self, key: str) -> int | None:
        """The grid column showing the column ``key``; None when the width leaves it out."""
        for n, (i, _) in enumerate(self.window.shown, start=1):
            if self.grid_columns[i].key == key:
                return n
        return None


def next_window(page: Page, asked: int | None, row: int, window: int, margin: int) -> int | None:
    """The offset of the window to ask for so that ``margin`` rows either side of ``row`` are
    held, or None when the window held (or the one at ``asked``, on its way) covers them: one
    reaching ``window - margin`` rows further on, in the direction ``row`` left the window by."""
    total = page.total
    lo, hi = max(0, row - margin), min(total, row + margin + 1)
    windows = [(page.offset, page.offset + len(page.rows))]
    if asked is not None:
        windows.append((asked, asked + window))
    if any(start <= lo and hi <= end for start, end in windows):
        return None
    offset = row - margin if row >= page.offset + len(page.rows) // 2 else row + margin - window
    return max(0, min(offset, total - window))


async def swap_grid(old: Grid, columns: Sequence[Column]) -> Grid | None:
    """A new grid with ``columns`` in ``old``'s place (its id, display and focus kept), for
    columns that come or go (the what-if score); None when ``old`` has these columns."""
    if [c.label for c in columns] == [c.label for c in old.grid_columns]:
        return None
    parent, focused, shown = old.parent, old.has_focus, old.display
    assert isinstance(parent, Widget), "a grid on screen has a parent widget"
    await old.remove()
    grid = Grid(columns, id=old.id)
    grid.display = shown
    await parent.mount(grid)
    if focused:
        grid.focus()
    return grid
