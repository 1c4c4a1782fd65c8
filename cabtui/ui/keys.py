"""Commands, each declared once: its key binding, its footer entry, its palette entry and its
line in the help screen all come from the same :class:`KeyCommand`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from textual.binding import Binding, BindingType


@dataclass(frozen=True)
class KeyCommand:
    action: str  # the action name, e.g. "toggle_grid" for action_toggle_grid
    key: str  # Textual key names, comma-separated ("j,down")
    description: str  # short, for the footer
    help: str = ""  # a sentence, for the palette and the help screen
    show: bool = True  # in the footer
    key_display: str | None = None
    priority: bool = False

    @property
    def keys(self) -> list[str]:
        return [k.strip() for k in self.key.split(",") if k.strip()]


def bindings(commands: Iterable[KeyCommand]) -> list[BindingType]:
    return [
        Binding(
            c.key,
            c.action,
            c.description,
            show=c.show,
            key_display=c.key_display,
            priority=c.priority,
        )
        for c in commands
    ]
