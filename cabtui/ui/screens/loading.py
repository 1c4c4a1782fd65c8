"""Opening a sweep: the store is opened (and ingested if needed) in a worker, with progress."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Header, ProgressBar, Static

from cabtui.store.store import Store


class LoadingScreen(Screen[None]):
    CSS_PATH = "loading.tcss"

    class Stage(Message):
        def __init__(self, stage: str, done: int, total: int) -> None:
            super().__init__()
            self.stage, self.done, self.total = stage, done, total

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LoadingScreen.Stage)

    def __init__(self, open_store, start=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.open_store = open_store
        self.start = start

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static("Opening sweep…", id="loading-stage")
        yield ProgressBar(id="loading-bar", show_eta=False)
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @work(thread=True, exclusive=True)
    def load(self) -> None:
        try:
            store = self.open_store(lambda s, d, t: self.post_message(self.Stage(s, d, t)))
        except Exception as e:  # noqa: BLE001 - shown to the user, not a traceback
            self.app.call_from_thread(self.failed, f"{type(e).__name__}: {e}")
            return
        self.app.call_from_thread(self.loaded, store)

    def on_loading_screen_stage(self, msg: Stage) -> None:
        self.query_one("#loading-stage", Static).update(f"Reading {msg.stage}…")
        self.query_one("#loading-bar", ProgressBar).update(total=msg.total, progress=msg.done)

    def failed(self, reason: str) -> None:
        from rich.text import Text

        self.query_one("#loading-stage", Static).update(
            Text(f"Could not open the sweep: {reason}", style="bold red")
        )

    def loaded(self, store: Store) -> None:
        from cabtui.ui.screens.browser import BrowserScreen

        self.app.store = store  # type: ignore[attr-defined]
        self.app.switch_screen(self.start(store) if self.start else BrowserScreen(store))
