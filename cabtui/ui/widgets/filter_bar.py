"""The filter bar: an Input speaking the store's filter language, with history, suggestions of
field names and values, and a bad term underlined in the input with its error beneath.

It validates as the user types (compiling a filter is pure Python) and posts
:class:`FilterBar.Changed` with the text and its error, if any; it never queries.
"""

from __future__ import annotations

from typing import ClassVar

from rich.highlighter import Highlighter
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input, Static

from cabtui.store.filter import FIELDS, FilterError, compile_filter, field_names
from cabtui.text import safe
from cabtui.ui.keys import KeyCommand, bindings


class FilterSuggester(Suggester):
    """Completes the last term: a field name, or one of a field's values (tui names, models…)."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.fields = [f for f in field_names() if f != "cell_id"]
        self.values: dict[str, list[str]] = {}  # column -> distinct values

    async def get_suggestion(self, value: str) -> str | None:
        _, _, term = value.rpartition(" ")
        bare = term.lstrip("-")
        if not bare:
            return None
        if ":" not in bare:
            low = bare.lower()
            for name in self.fields:
                if name.startswith(low) and name != low:
                    return value + name[len(low) :] + ":"
            return None
        name, _, vals = bare.partition(":")
        f = FIELDS.get(name.lower())
        if f is None:
            return None
        last = vals.rpartition(",")[2]
        if not last:
            return None
        for v in self.values.get(f.column, []):
            if v.lower().startswith(last.lower()) and len(v) > len(last):
                return value + v[len(last) :]
        return None


class ErrorHighlighter(Highlighter):
    """Underlines the bad term of ``text`` (only while the input still holds that text)."""

    STYLE = "bold red underline"

    def __init__(self) -> None:
        self.text = ""
        self.span: tuple[int, int] | None = None

    def highlight(self, text: Text) -> None:
        if self.span is not None and text.plain == self.text:
            start, end = self.span
            text.stylize(self.STYLE, start, max(end, start + 1))


class FilterInput(Input):
    COMMAND_LIST: ClassVar[list[KeyCommand]] = [
        KeyCommand(
            "history(-1)", "up", "Older filter", "The previous filter from history.", show=False
        ),
        KeyCommand(
            "history(1)", "down", "Newer filter", "The next filter from history.", show=False
        ),
        KeyCommand(
            "clear_filter", "escape", "Clear filter", "Clear the filter and go back to the grid."
        ),
    ]
    BINDINGS: ClassVar[list[BindingType]] = bindings(COMMAND_LIST)

    def __init__(self, **kwargs) -> None:  # type: ignore[no-untyped-def]  # kwargs passed through to Textual's Input
        super().__init__(**kwargs)
        self.history: list[str] = []
        self._at = 0

    def remember(self, text: str) -> None:
        text = text.strip()
        if text and (not self.history or self.history[-1] != text):
            self.history.append(text)
        self._at = len(self.history)

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self._at = max(0, min(len(self.history), self._at + step))
        self.value = self.history[self._at] if self._at < len(self.history) else ""
        self.cursor_position = len(self.value)

    def action_clear_filter(self) -> None:
        self.remember(self.value)
        self.value = ""
        self.post_message(FilterBar.Done(self))


class FilterBar(Vertical):
    DEFAULT_CSS = """
    FilterBar { height: auto; }
    FilterBar > #filter-error { height: auto; display: none; }
    FilterBar.-error > #filter-error { display: block; }
    """

    class Changed(Message):
        """The filter text changed; ``error`` is None when it compiles."""

        def __init__(self, text: str, error: FilterError | None) -> None:
            super().__init__()
            self.text, self.error = text, error

    class Done(Message):
        """The user left the filter bar (esc or enter)."""

        def __init__(self, input: Input) -> None:
            super().__init__()
            self.input = input

    def __init__(self, id: str | None = None) -> None:
        super().__init__(id=id)
        self.suggester = FilterSuggester()
        self.highlighter = ErrorHighlighter()
        self.error: FilterError | None = None

    def compose(self) -> ComposeResult:
        yield FilterInput(
            placeholder="/ filter: tui:aider model:llama* pass:0 composite>=0.5 wall<10s -family:polyglot",
            suggester=self.suggester,
            highlighter=self.highlighter,
            select_on_focus=False,
            id="filter-input",
        )
        yield Static(id="filter-error")

    @property
    def input(self) -> FilterInput:
        return self.query_one(FilterInput)

    @property
    def text(self) -> str:
        return self.input.value

    def set_text(self, text: str) -> None:
        """Set the filter (e.g. from a pivot drill-down); a Changed message follows."""
        self.input.remember(text)
        self.input.value = text
        self.input.cursor_position = len(text)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        try:
            compile_filter(event.value)
            self.error = None
        except FilterError as e:
            self.error = e
        self._show_error(event.value)
        self.post_message(self.Changed(event.value, self.error))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.input.remember(event.value)
        self.post_message(self.Done(self.input))

    def _show_error(self, text: str) -> None:
        e = self.error
        self.set_class(e is not None, "-error")
        self.highlighter.text = text
        self.highlighter.span = None if e is None else (e.start, e.end)
        self.input.refresh()
        if e is None:
            return
        column = max(0, e.start - int(self.input.scroll_x))
        shown = Text(" " * (column + 2) + "^", style="red")  # beneath the term in the input
        shown.append(f" {safe(e.message)}", style="red")
        if e.term:
            shown.append(f" ({safe(e.term)})", style="dim")
        self.query_one("#filter-error", Static).update(shown)
