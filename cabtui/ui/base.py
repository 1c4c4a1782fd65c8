"""The App base that the browser app (:class:`cabtui.ui.app.CabApp`) and the bare-recording
replay (:class:`cabtui.ui.replay_app.ReplayApp`) share: the app's commands (quit, help, the
palette), the stylesheet, the what-if weights, the GC-freeze policy and the one policy for
failed workers. Screens reach it typed through :class:`cabtui.ui.screens.base.CabScreen`'s
``app``; nothing here imports a screen but the help list.
"""

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
from typing import TYPE_CHECKING, Any, ClassVar

from textual.app import App
from textual.command import Hit, Hits, Provider
from textual.reactive import reactive
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from cabtui.scoring import Weights
from cabtui.store.ingest import Progress
from cabtui.store.store import Store
from cabtui.text import safe
from cabtui.ui.keys import KeyCommand, bindings
from cabtui.ui.screens.help import HelpScreen

if TYPE_CHECKING:
    from cabtui.ui.screens.base import CabScreen

StoreOpener = Callable[[Progress], Store]  # opens (ingesting if need be) the sweep, in a thread
StartScreen = Callable[[Store], Screen[Any]]  # the first screen on the opened store

QUIT_COMMANDS = [
    KeyCommand("quit", "q", "Quit", "Leave cabtui."),
    KeyCommand(
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
    from cabtui.store.cache_files import remove_own_temps

    remove_own_temps()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(return_code or 0)


def commands_of(node: object) -> list[KeyCommand]:
    """The commands a screen (or app) declares, none when it declares none."""
    commands: list[KeyCommand] = getattr(type(node), "COMMAND_LIST", [])
    return commands


def failure(error: BaseException | None) -> str:
    """One line saying why a worker failed, as the screens show it (a failed read of a
    published sweep says it in words already: no exception name)."""
    from cabtui.store.remote_io import RemoteError

    if isinstance(error, RemoteError):
        return str(error)
    return f"{type(error).__name__}: {error}" if error is not None else "failed"


class KeysProvider(Provider):
    """Every command of the current screen and of the app, in the command palette."""

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        screen = self.app.screen
        seen: set[str] = set()
        for owner, commands in ((screen, commands_of(screen)), (self.app, commands_of(self.app))):
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


class CabBase(App[None]):
    """What every cabtui app has.

    ``weights`` are the what-if composite weights, None for each sweep's own; screens watch it.
    ``store`` is the opened sweep (None for a bare recording), ``marked`` the cell_ids marked
    for comparison, oldest first; ``clock`` the time source of playing (tests freeze it).
    ``freeze_gc``: once the first screen is up, move every object alive then out of the garbage
    collector's reach (``gc.freeze()``), so its full passes stop rescanning the store and the
    app on every page of a large sweep. For the app's own process; tests leave it off.

    Workers run with ``exit_on_error=False``: a failed one reaches :meth:`worker_failed`,
    which shows its reason on the screen that ran it and keeps the app running.
    """

    TITLE = "cabtui"
    CSS_PATH = "app.tcss"
    COMMAND_LIST: ClassVar[list[KeyCommand]] = [
        *QUIT_COMMANDS,
        KeyCommand(
            "help", "question_mark", "Keys", "List every key of this screen.", key_display="?"
        ),
        KeyCommand("command_palette", "ctrl+p", "Palette", "Search every command.", show=False),
    ]
    BINDINGS = bindings(COMMAND_LIST)
    COMMANDS = App.COMMANDS | {KeysProvider}

    weights: reactive[Weights | None] = reactive(None)
    # the opened sweep; replaced while following it on disk (screens that hold it watch this)
    store: reactive[Store | None] = reactive(None, init=False)

    def __init__(
        self, clock: Callable[[], float] = time.monotonic, freeze_gc: bool = False
    ) -> None:
        super().__init__()
        self.clock = clock
        self.freeze_gc = freeze_gc
        self.marked: list[str] = []
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
        exit_on_signals(self)

    # -- keys --------------------------------------------------------------------------------

    def app_key(self, key: str) -> bool:
        """Whether ``key`` is one of the app's own keys (quit, help, palette)."""
        return any(key in c.keys for c in self.COMMAND_LIST)

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen, self.COMMAND_LIST))

    # -- the GC ------------------------------------------------------------------------------

    def freeze_first_screen(self) -> None:
        """The store, the app and its first screen live as long as the process: with
        ``freeze_gc``, exempt them from the cyclic GC."""
        if self.freeze_gc:
            gc.freeze()

    @staticmethod
    def freeze_loaded() -> bool:
        """Exempt what is alive now from the cyclic GC while a screen holds it; True when this
        was the first freeze, so :meth:`thaw` may undo it (undoing a later one would undo the
        app's own freeze too: then the screen's objects stay frozen and the loaded data goes by
        reference count)."""
        first = gc.get_freeze_count() == 0
        gc.freeze()
        return first

    @staticmethod
    def thaw(first: bool) -> None:
        if first:
            gc.unfreeze()

    # -- failed workers ----------------------------------------------------------------------

    def worker_failed(self, screen: Screen[Any], worker: Worker[Any]) -> None:
        """The one policy for a worker that raised: its reason goes to the screen that ran it
        (:meth:`CabScreen.show_failure`, else a notification), and the app keeps running."""
        from cabtui.ui.screens.base import CabScreen

        reason = failure(worker.error)
        if isinstance(screen, CabScreen) and screen.show_failure(worker.group, reason):
            return
        self.notify(safe(reason), title="Failed", severity="error", timeout=10, markup=False)

    def worker_changed(self, screen: CabScreen[Any], event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:
            self.worker_failed(screen, event.worker)
