"""``cab-tui replay FILE.cast``: a bare recording, replayed without a sweep."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from cabtui.ui.base import CabBase
from cabtui.ui.screens.replay import ReplayScreen


class ReplayApp(CabBase):
    """Shows :class:`ReplayScreen` on one recording; ``clock`` as in CabApp."""

    TITLE = "cabtui replay"

    def __init__(self, recording: Path, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(clock=clock)
        self.recording = recording

    def on_mount(self) -> None:  # Textual runs CabBase.on_mount after this one
        self.push_screen(ReplayScreen(None, None, self.recording))
