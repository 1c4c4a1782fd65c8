"""The search prompt of the replay and compare screens: ``/`` opens it, enter posts
:class:`SearchBar.Find` with its text and closes it, escape closes it."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widgets import Input


class SearchBar(Input):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close", show=False)]

    class Find(Message):
        """Search for ``needle`` (as typed: the screen says when there is nothing to find)."""

        def __init__(self, needle: str) -> None:
            super().__init__()
            self.needle = needle

    def open(self) -> None:
        self.display = True
        self.focus()

    def close(self) -> bool:
        """Hide the prompt; whether it was open."""
        was_open = bool(self.display)
        self.display = False
        return was_open

    def action_close(self) -> None:
        self.close()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.close()
        self.post_message(self.Find(event.value))
