"""The terminal pane of a replay: the screen of a recording at one moment.

Rows arrive as avt lines and are turned into rich Text through
:func:`cabtui.replay.render.line_rich` (which replaces every control character), so nothing
from a recording reaches the user's terminal uninterpreted. Secrets on the screen are masked
cell by cell unless :attr:`TerminalView.reveal` is set. Each row's Strip is cached and only
the rows the engine reports as changed are rendered and refreshed again.

A recording smaller than the pane is centred in it, the margin around it in the screen's
background and its size said under it ("100×30 recording"), so a wide terminal shows where the
recorded screen ends rather than a corner of text and a pane of blank; one larger than the pane
is cropped around its cursor (``pan`` moves the view).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import avt
from rich.style import Style
from rich.text import Text
from textual.geometry import Region
from textual.strip import Strip
from textual.widget import Widget

from cabtui.replay.render import line_rich, screen_hidden
from cabtui.text import safe

CURSOR = Style(reverse=True)


class TerminalView(Widget):
    """Shows recorded terminal rows, or a message (no recording, unreadable recording)."""

    COMPONENT_CLASSES = {"terminalview--margin"}
    DEFAULT_CSS = """
    TerminalView { width: 1fr; height: 1fr; overflow: hidden; }
    TerminalView > .terminalview--margin { background: $panel; color: $text-muted; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._rows: list[Text] = []
        self._lines: list[avt.Line] = []  # the rows shown, to compare the next ones against
        self._hidden: list[set[int] | None] = []  # per row, the cells masked as secrets
        self._strips: list[Strip | None] = []
        self._cursor: tuple[int, int] | None = None
        self._message: Text | None = None
        self._message_strips: list[Strip] = []
        self._message_width = -1
        self.repainted = 0  # rows rendered since mount: lets tests check partial repaints
        # A recording larger than the pane is cropped: the view's top-left corner on the
        # recorded screen. It follows the cursor unless panned by hand (``pan``).
        self.view_x = self.view_y = 0
        self.panned = False
        self._reveal = False  # show secrets on the screen (masked cell by cell when off)
        self._cols = 0  # the recorded terminal's width

    # -- feeding -----------------------------------------------------------------------------

    def show_screen(
        self,
        lines: Sequence[avt.Line],
        changed: Iterable[int] | None = None,
        cursor: tuple[int, int, bool] | None = None,
    ) -> None:
        """Show ``lines``. Only rows in ``changed`` (every row when None) whose cells differ
        from the row shown, and the rows the cursor leaves or enters, are rendered again."""
        was_message = self._message is not None
        self._message = None
        old_cursor = self._cursor
        self._cursor = (cursor[0], cursor[1]) if cursor and cursor[2] else None
        cols = max((len(line.cells) for line in lines), default=0)
        full = len(lines) != len(self._rows) or was_message or cols != self._cols
        self._cols = cols
        if full:
            todo: set[int] = set(range(len(lines)))
            self._rows = [Text() for _ in lines]
            self._strips = [None] * len(lines)
        else:
            rows = range(len(lines)) if changed is None else changed
            old = self._lines
            todo = {r for r in rows if 0 <= r < len(lines) and lines[r] != old[r]}
            if old_cursor != self._cursor:
                for pos in (old_cursor, self._cursor):
                    if pos is not None and 0 <= pos[0] < len(lines):
                        todo.add(pos[0])
        self._lines = list(lines)
        hidden = self._hidden_of(lines)
        if not full:  # a row's secret can start or end on another row (a wrapped line)
            todo.update(r for r, h in enumerate(hidden) if h != self._hidden[r])
        self._hidden = hidden
        for r in todo:
            self._rows[r] = line_rich(lines[r], hidden[r])
            self._strips[r] = None
        if self._follow() or full:
            self.refresh()
        else:
            width, (_, oy) = self.size.width, self.margins()
            for r in todo:
                self.refresh(Region(0, r - self.view_y + oy, width, 1))

    # -- the view of a recording larger than the pane ---------------------------------------

    def cropped(self) -> bool:
        """The recorded screen is larger than the pane (part of it is out of view)."""
        w, h = self.size
        return bool(self._lines) and (len(self._lines) > h or self._width() > w)

    def _width(self) -> int:
        """The recorded screen's width (its terminal's, or its widest row if wider)."""
        return max(self._cols, max((row.cell_len for row in self._rows), default=0))

    def margins(self) -> tuple[int, int]:
        """Columns left of and rows above the recorded screen: where the pane is larger than
        the recording, half of what it leaves (the recording centred)."""
        w, h = self.size
        if not self._lines:
            return 0, 0
        return max(0, (w - self._width()) // 2), max(0, (h - len(self._lines)) // 2)

    def _follow(self) -> bool:
        """Keep the cursor in view (unless panned by hand); True if the view moved."""
        if self.panned or self._cursor is None:
            return self._clamp()
        w, h = self.size
        y, x = self._cursor
        vx, vy = self.view_x, self.view_y
        if h and not vy <= y < vy + h:
            vy = max(0, y - h + 1) if y >= vy + h else y
        if w and not vx <= x < vx + w:
            vx = max(0, x - w + 1) if x >= vx + w else x
        moved = (vx, vy) != (self.view_x, self.view_y)
        self.view_x, self.view_y = vx, vy
        return self._clamp() or moved

    def _clamp(self) -> bool:
        w, h = self.size
        vx = max(0, min(self.view_x, self._width() - w)) if w else 0
        vy = max(0, min(self.view_y, len(self._lines) - h)) if h else 0
        moved = (vx, vy) != (self.view_x, self.view_y)
        self.view_x, self.view_y = vx, vy
        return moved

    def pan(self, dx: int, dy: int) -> None:
        """Move the view over a recording larger than the pane; (0, 0) follows the cursor
        again."""
        if dx == dy == 0:
            self.panned = False
            self._follow()
        else:
            self.panned = True
            self.view_x += dx
            self.view_y += dy
            self._clamp()
        self.refresh()

    def on_resize(self) -> None:
        self._follow()

    @property
    def reveal(self) -> bool:
        return self._reveal

    @reveal.setter
    def reveal(self, on: bool) -> None:
        """Show (True) or mask (False) the secrets on the screen; every row is rendered again."""
        if on != self._reveal:
            self._reveal = on
            self._hidden = self._hidden_of(self._lines)
            self._rows = [line_rich(line, h) for line, h in zip(self._lines, self._hidden)]
            self._strips = [None] * len(self._rows)
            self.refresh()

    def _hidden_of(self, lines: Sequence[avt.Line]) -> list[set[int] | None]:
        """Per row, the cells masked as secrets (none when revealed)."""
        return [None] * len(lines) if self._reveal else screen_hidden(lines)

    def show_message(self, message: str | Text) -> None:
        """Replace the screen with a message (made safe)."""
        self._message = message if isinstance(message, Text) else Text(safe(message))
        self._message_width = -1
        self._rows, self._strips, self._lines, self._cursor = [], [], [], None
        self._hidden = []
        self._cols = 0
        self.refresh()

    @property
    def message(self) -> str | None:
        return None if self._message is None else self._message.plain

    def text(self) -> list[str]:
        """The rows shown, right-trimmed (the message's lines when one is shown)."""
        if self._message is not None:
            return self._message.plain.split("\n")
        return [row.plain.rstrip() for row in self._rows]

    # -- rendering ---------------------------------------------------------------------------

    def _strip(self, y: int) -> Strip:
        strip = self._strips[y]
        if strip is None:
            text = self._rows[y]
            if self._cursor is not None and self._cursor[0] == y:
                col = self._cursor[1]
                text = text.copy()
                if text.cell_len <= col:
                    text.append(" " * (col - text.cell_len + 1))
                text.stylize(CURSOR, col, col + 1)
            segments = list(text.render(self.app.console))
            strip = self._strips[y] = Strip(segments, text.cell_len)
            self.repainted += 1
        return strip

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        if self._message is not None:
            if self._message_width != width:
                wrapped = self._message.wrap(self.app.console, max(1, width - 2))
                self._message_strips = [
                    Strip(list(line.render(self.app.console)), line.cell_len) for line in wrapped
                ]
                self._message_width = width
            row = y - 1
            if 0 <= row < len(self._message_strips):
                return self._message_strips[row].apply_style(base).crop_extend(0, width, base)
            return Strip.blank(width, base)
        ox, oy = self.margins()
        if ox == oy == 0:
            y += self.view_y
            if y >= len(self._rows):
                return Strip.blank(width, base)
            x = self.view_x
            return self._strip(y).apply_style(base).crop_extend(x, x + width, base)
        margin = self.get_component_rich_style("terminalview--margin")
        row = y - oy + self.view_y
        if not 0 <= row < len(self._rows):
            if row == len(self._rows) + 1 and ox + oy > 0:  # the size, under the screen
                cols = self._width()
                note = Text(f"{cols}×{len(self._rows)} recording", style=margin)
                pad = Strip.blank(ox + max(0, cols - note.cell_len), margin)
                strip = Strip(list(note.render(self.app.console)), note.cell_len)
                return Strip.join([pad, strip]).crop_extend(0, width, margin)
            return Strip.blank(width, margin)
        inner = min(self._width(), width)
        x = self.view_x
        strip = self._strip(row).apply_style(base).crop_extend(x, x + inner, base)
        return Strip.join([Strip.blank(ox, margin), strip]).crop_extend(0, width, margin)
