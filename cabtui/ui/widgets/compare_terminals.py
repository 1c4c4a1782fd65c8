"""The compare screen's two terminals, A beside B, each titled with its run id (the part the
two ids share shortened so the part that differs reads whole)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical

from cabtui.replay.session import Session
from cabtui.text import safe, shown
from cabtui.ui.widgets.fit import differing
from cabtui.ui.widgets.terminal import TerminalView

SIDES = ("a", "b")


class CompareTerminals(Horizontal):
    def compose(self) -> ComposeResult:
        for side in SIDES:
            with Vertical(id=f"cmp-col-{side}", classes="cmp-col"):
                yield TerminalView(id=f"cmp-term-{side}")

    def terminal(self, side: str) -> TerminalView:
        return self.query_one(f"#cmp-term-{side}", TerminalView)

    def show_message(self, side: str, message: str | Text) -> None:
        self.terminal(side).show_message(message)

    def titles(self, a: str, b: str) -> None:
        """Border titles (read as markup: the ids go in as Text)."""
        width = self.query_one("#cmp-col-a").size.width - 8
        a, b = differing(shown(a), shown(b), max(8, width))
        self.query_one("#cmp-col-a").border_title = Text(f"A  {a}")
        self.query_one("#cmp-col-b").border_title = Text(f"B  {b}")

    def loaded(self, side: str, s: Session) -> None:
        """The recording plays; what was skipped, cut or clamped is said under it."""
        if s.problems:
            first = s.problems[0].removeprefix(f"{s.source}: ")
            more = f" (+{len(s.problems) - 1} more)" if len(s.problems) > 1 else ""
            self.query_one(f"#cmp-col-{side}").border_subtitle = Text(
                "⚠ " + shown(first) + more, style="yellow"
            )
        if s.message is not None:
            self.show_message(side, Text(safe(s.message), style="bold"))

    def show(self, side: str, s: Session, eps: float) -> None:
        """``s`` at its clock's position (``eps`` late)."""
        if s.player is not None:
            changed = s.player.advance(s.clock.recording_time + eps)
            self.terminal(side).show_screen(s.player.lines(), changed, s.player.cursor())

    def toggle_secrets(self) -> bool:
        """Show or mask the secrets on both; whether they are shown now."""
        reveal = not self.terminal("a").reveal
        for side in SIDES:
            self.terminal(side).reveal = reveal
        return reveal
