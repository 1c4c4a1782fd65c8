"""The cabtui application shell: the sweep is opened (LoadingScreen), then the first screen;
everything an app has (commands, palette, help, weights, GC policy, failed workers) is
:class:`cabtui.ui.base.CabBase`'s."""

from __future__ import annotations

import time
from collections.abc import Callable

from cabtui.ui.base import CabBase, StartScreen, StoreOpener
from cabtui.ui.screens.loading import LoadingScreen

__all__ = ["CabApp", "StartScreen", "StoreOpener"]


class CabApp(CabBase):
    """``CabApp(open_store, start=...)``: ``open_store(progress)`` returns the Store and runs in a
    worker; ``start(store)`` makes the first screen (the browser when not given). ``clock`` and
    ``freeze_gc`` as in :class:`CabBase`."""

    def __init__(
        self,
        open_store: StoreOpener,
        start: StartScreen | None = None,
        clock: Callable[[], float] = time.monotonic,
        freeze_gc: bool = False,
    ) -> None:
        super().__init__(clock=clock, freeze_gc=freeze_gc)
        self.open_store = open_store
        self.start = start

    def on_mount(self) -> None:  # Textual runs CabBase.on_mount after this one
        self.push_screen(LoadingScreen(self.open_store, self.start))
