"""Opening a sweep: the store is opened (and ingested if needed) in a worker, with progress.

Keys typed while it loads are kept and sent on to the first screen once it is up, so a user can
type ``/tui:pi`` before the grid appears. The app's own keys (quit, help, palette) work at once,
except inside a filter being typed (after ``/``, until enter or esc).

The opener runs in a daemon thread of its own (not Textual's thread pool, which the app would
wait for on exit): quitting never waits for it, whatever it is doing. The app registers the
thread and, if it is still running once the terminal is restored, removes this process's
temporary files and ends the process (CabApp.run).
"""

from __future__ import annotations

import asyncio
import threading

from rich.text import Text
from textual import events, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import Footer, Header, ProgressBar, Static

from cabtui.store.store import Store
from cabtui.text import safe
from cabtui.ui.base import StartScreen, StoreOpener
from cabtui.ui.screens.base import CabScreen

TEXT_START, TEXT_END = {"slash"}, {"enter", "escape"}


class LoadingScreen(CabScreen[None]):
    CSS_PATH = "loading.tcss"

    class Stage(Message):
        def __init__(self, stage: str, done: int, total: int) -> None:
            super().__init__()
            self.stage, self.done, self.total = stage, done, total

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LoadingScreen.Stage)

    def __init__(self, open_store: StoreOpener, start: StartScreen | None = None) -> None:
        super().__init__()
        self.open_store = open_store
        self.start = start
        self.typed: list[tuple[str, str | None]] = []  # (key, character), in order
        self._in_text = False
        self._failed = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Opening sweep…", id="loading-stage")
        yield ProgressBar(id="loading-bar", show_eta=False)
        yield Static(id="loading-typed")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(exclusive=True, group="open", exit_on_error=False)
    async def load(self) -> None:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[tuple[Store | None, str]] = loop.create_future()

        def settle(result: tuple[Store | None, str]) -> None:
            if not done.done():
                done.set_result(result)
            elif done.cancelled() and result[0] is not None:
                result[0].close()  # the screen or the app went while the store opened

        def progress(stage: str, done: int, total: int) -> None:
            self.post_message(self.Stage(stage, done, total))

        def run() -> None:
            result: tuple[Store | None, str]
            try:
                store = self.open_store(progress)
                store.shape()  # what the grids show, asked here rather than on the UI thread
                result = (store, "")
            except Exception as e:  # noqa: BLE001 - shown to the user, not a traceback
                result = (None, _reason(e))
            try:
                loop.call_soon_threadsafe(settle, result)
            except RuntimeError:  # the app has gone and its loop with it
                if result[0] is not None:
                    result[0].close()

        thread = threading.Thread(target=run, name="cabtui-open", daemon=True)
        self.app.openers.append(thread)
        thread.start()
        store, reason = await done
        if store is None:
            self.failed(reason)
        else:
            self.loaded(store)

    def on_loading_screen_stage(self, msg: Stage) -> None:
        self.query_one("#loading-stage", Static).update(f"Reading {msg.stage}…")
        self.query_one("#loading-bar", ProgressBar).update(total=msg.total, progress=msg.done)

    # -- type-ahead --------------------------------------------------------------------------

    def on_key(self, event: events.Key) -> None:
        if self._failed or (not self._in_text and self.app.app_key(event.key)):
            return  # the app's binding answers it now
        event.stop()
        event.prevent_default()
        self.typed.append((event.key, event.character))
        if event.key in TEXT_START:
            self._in_text = True
        elif event.key in TEXT_END:
            self._in_text = False
        shown = "".join(
            ch if ch is not None and ch.isprintable() else f"<{key}>" for key, ch in self.typed
        )
        self.query_one("#loading-typed", Static).update(
            Text.assemble(("typed ahead: ", "dim"), safe(shown[-60:]))
        )

    # -- done --------------------------------------------------------------------------------

    def show_failure(self, group: str, reason: str) -> bool:
        self.failed(reason)
        return True

    def failed(self, reason: str) -> None:
        self._failed = True
        self.query_one("#loading-stage", Static).update(
            Text(f"Could not open the sweep: {safe(reason)}", style="bold red")
        )

    def loaded(self, store: Store) -> None:
        from cabtui.ui.screens.browser import BrowserScreen

        app, typed = self.app, list(self.typed)
        app.store = store
        if getattr(store, "warning", None):
            app.notify(
                safe(store.warning or ""),
                title="Cache",
                severity="warning",
                timeout=10,
                markup=False,
            )
        first = self.start(store) if self.start else BrowserScreen(store)

        def replay() -> None:
            app.freeze_first_screen()
            for key, character in typed:
                app.post_message(events.Key(key, character))

        app.switch_screen(first)
        first.call_after_refresh(replay)  # once the first screen has composed


def _reason(e: Exception) -> str:
    """One line saying why the sweep could not be opened."""
    from cabtui.store.cache import CacheError
    from cabtui.store.remote_io import RemoteError

    first = (str(e).strip().splitlines() or [""])[0]
    return first if isinstance(e, (CacheError, RemoteError)) else f"{type(e).__name__}: {first}"
