"""The cabtui application shell: screens, the command palette and error handling; nothing else."""

from __future__ import annotations

import asyncio
import gc
import os
import signal
import sys
import threading
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
StartScreen = Callable[[Store], Screen[Any]]

QUIT_COMMANDS = [
    Command("quit", "q", "Quit", "Leave cabtui."),
    Command(
        "quit", "ctrl+c", "Quit", "Leave cabtui, whatever it is doing.", show=False, priority=True
    ),
]


def exit_on_signals(app: App[Any]) -> None:
    """SIGTERM and SIGHUP end ``app`` as ``q`` does (terminal restored, temporary files
    removed), with exit code 128 + the signal. For a real terminal only: not in tests."""
    if app.is_headless or threading.current_thread() is not threading.main_thread():
        return
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            try:
                loop.add_signal_handler(sig, partial(app.exit, None, 128 + sig))
            except (NotImplementedError, RuntimeError, ValueError):
                pass


def leave_stuck_threads(threads: list[threading.Thread], return_code: int | None) -> None:
    """Once an app has ended and restored the terminal: if one of ``threads`` (opening a
    sweep) is still running, perhaps blocked for good, remove this process's temporary files
    and end the process now rather than wait for it."""
    if not any(t.is_alive() for t in threads):
        return
    from cabtui.store.cache import remove_own_temps

    remove_own_temps()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(return_code or 0)


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
        *QUIT_COMMANDS,
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
        self.openers: list[threading.Thread] = []  # threads opening the store (LoadingScreen)

    def run(self, *args: Any, **kwargs: Any) -> Any:
        try:
            result = super().run(*args, **kwargs)
        finally:
            if self.freeze_gc:
                gc.unfreeze()  # let the interpreter's exit free what was frozen, quietly
        leave_stuck_threads(self.openers, self.return_code)
        return result

    def on_mount(self) -> None:
        from cabtui.ui.screens.loading import LoadingScreen

        exit_on_signals(self)
        self.push_screen(LoadingScreen(self.open_store, self.start))

    def action_help(self) -> None:
        from cabtui.ui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))
