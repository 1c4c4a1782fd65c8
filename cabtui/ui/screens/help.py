"""The list of every key of a screen and of the app."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.table import Table
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from cabtui.ui.keys import KeyCommand, bindings


class HelpScreen(ModalScreen[None]):
    CSS_PATH = "help.tcss"
    COMMAND_LIST: ClassVar[list[KeyCommand]] = [
        KeyCommand("dismiss", "escape,question_mark,q", "Close", "Close this list."),
    ]
    BINDINGS = bindings(COMMAND_LIST)

    def __init__(self, of: Screen[Any], app_commands: list[KeyCommand]) -> None:
        """The keys of the screen ``of`` and then ``app_commands``, the app's own."""
        super().__init__()
        self.of = of
        self.app_commands = app_commands

    def compose(self) -> ComposeResult:
        table = Table(title=f"Keys: {type(self.of).__name__.removesuffix('Screen')}", expand=True)
        table.add_column("key", style="bold cyan", no_wrap=True)
        table.add_column("command")
        table.add_column("what it does")
        screen_commands: list[KeyCommand] = getattr(type(self.of), "COMMAND_LIST", [])
        for c in [*screen_commands, *self.app_commands]:
            table.add_row(c.key_display or " ".join(c.keys), c.description, c.help)
        with VerticalScroll(id="help-box"):  # scrolls (j/k, arrows) when taller than the screen
            yield Static(table, id="help-table")
