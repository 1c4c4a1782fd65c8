"""``cab-tui replay FILE.cast``: a bare recording, replayed without a sweep."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import ClassVar

from textual.app import App

from cabtui.ui.app import QUIT_COMMANDS, exit_on_signals
from cabtui.ui.keys import Command, bindings


class ReplayApp(App[None]):
    """Shows :class:`ReplayScreen` on one recording; ``clock`` as in CabApp."""

    TITLE = "cabtui replay"
    COMMAND_LIST: ClassVar[list[Command]] = [
        *QUIT_COMMANDS,
        Command("help", "question_mark", "Keys", "List every key of this screen.", key_display="?"),
    ]
    BINDINGS = bindings(COMMAND_LIST)

    def __init__(self, recording: Path, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.recording = recording
        self.clock = clock

    def on_mount(self) -> None:
        from cabtui.ui.screens.replay import ReplayScreen

        exit_on_signals(self)
        self.push_screen(ReplayScreen(None, None, self.recording))

    def action_help(self) -> None:
        from cabtui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))
