"""The cabtui application shell: screens, the command palette and error handling; nothing else."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from functools import partial
from typing import Any, ClassVar

from textual.app import App
from textual.command import Hit, Hits, Provider
from textual.reactive import reactive
from textual.screen import Screen

from cabtui.scoring import Weights
from cabtui.store.ingest import Progress
from cabtui.store.store import Store
from cabtui.ui.keys import Command, bindings

StoreOpener = Callable[[Progress], Store]
StartScreen = Callable[[Store], Screen]


class KeysProvider(Provider):
    """Every command of the current screen and of the app, in the command palette."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        screen = self.app.screen
        seen: set[str] = set()
        for owner, commands in (
            (screen, getattr(screen, "COMMAND_LIST", [])),
            (self.app, CabApp.COMMAND_LIST),
        ):
            for c in commands:
                if c.action in seen:
                    continue
                seen.add(c.action)
                label = f"{c.description} ({c.keys[0] if c.keys else ''})"
                score = matcher.match(f"{label} {c.help}")
                if score > 0:
                    yield Hit(
                        score,
                        matcher.highlight(label),
                        partial(owner.run_action, c.action),
                        help=c.help,
                    )


class CabApp(App[None]):
    """``CabApp(open_store, start=...)``: ``open_store(progress)`` returns the Store and runs in a
    worker; ``start(store)`` makes the first screen (the browser when not given).

    ``weights`` are the what-if composite weights, None for each sweep's own; screens watch it.
    ``freeze_gc``: once the first screen is up, move every object alive then out of the garbage
    collector's reach (``gc.freeze()``), so its full passes stop rescanning the store and the
    app on every page of a large sweep. For the app's own process; tests leave it off.
    """

    TITLE = "cabtui"
    CSS_PATH = "app.tcss"
    COMMAND_LIST: ClassVar[list[Command]] = [
        Command("quit", "q", "Quit", "Leave cabtui."),
        Command("help", "question_mark", "Keys", "List every key of this screen.", key_display="?"),
        Command("command_palette", "ctrl+p", "Palette", "Search every command.", show=False),
    ]
    BINDINGS = bindings(COMMAND_LIST)
    COMMANDS = App.COMMANDS | {KeysProvider}

    weights: reactive[Weights | None] = reactive(None)

    def __init__(
        self,
        open_store: StoreOpener,
        start: StartScreen | None = None,
        clock: Callable[[], float] = time.monotonic,
        freeze_gc: bool = False,
    ) -> None:
        super().__init__()
        self.open_store = open_store
        self.start = start
        self.clock = clock
        self.freeze_gc = freeze_gc
        self.store: Store | None = None
        self.marked: list[str] = []  # cell_ids marked for comparison, oldest first

    def run(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().run(*args, **kwargs)
        finally:
            if self.freeze_gc:
                gc.unfreeze()  # let the interpreter's exit free what was frozen, quietly

    def on_mount(self) -> None:
        from cabtui.ui.screens.loading import LoadingScreen

        self.push_screen(LoadingScreen(self.open_store, self.start))

    def action_help(self) -> None:
        from cabtui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))
