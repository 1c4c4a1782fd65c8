"""Following a sweep on disk from the browser: a status line that polls the sweep in a thread
worker and posts the store re-opened on it whenever its files change.

``live: +12 runs, last 3 s ago``. The polling itself (fingerprints, re-opening, problems of
files still being written) is :class:`~cabtui.store.live.Watcher`'s, headless; here are only
the timer, the worker and the message. A store replaced is closed once no screen holds it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import partial

from rich.text import Text
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Static

from cabtui.store.live import Watcher
from cabtui.store.store import Store
from cabtui.text import safe

POLL = 0.5  # seconds between looks at the sweep's files
RETIRE = 5.0  # seconds a replaced store stays open for the queries still running on it
BUSY = 20  # a poll that found nothing waits 19 times its own length before the next


class LiveStatus(Static):
    """Polls ``watcher`` every ``interval`` seconds while not paused."""

    DEFAULT_CSS = "LiveStatus { height: 1; padding: 0 1; background: $panel; color: $text-muted; }"

    class Changed(Message):
        """The sweep's files changed: ``store`` is opened on them; ``added`` runs more."""

        def __init__(self, store: Store, added: int) -> None:
            super().__init__()
            self.store, self.added = store, added

    class Settled(Message):
        """Problems held back while their files were written may now be reported."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, LiveStatus.Settled)

    paused: reactive[bool] = reactive(False)

    def __init__(
        self,
        watcher: Watcher,
        store: Store,
        interval: float = POLL,
        clock: Callable[[], float] = time.monotonic,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.watcher = watcher
        self._base: Store | None = store  # the store first shown: counted by the first poll
        self.total: int | None = None  # runs in the store shown; None until counted
        self.interval = interval
        self.clock = clock
        self.added = 0  # runs arrived since opened
        self.last: float | None = None  # when runs last arrived
        self.error: str | None = None
        self._polling = False
        self._not_before = 0.0  # perf_counter time before which no poll starts (see _poll)

    def on_mount(self) -> None:
        self.set_interval(self.interval, self._tick)
        self.set_interval(1.0, self._show)
        self._show()

    def toggle(self) -> None:
        self.paused = not self.paused

    def watch_paused(self) -> None:
        self._show()

    def _tick(self) -> None:
        if self.paused or self._polling or time.perf_counter() < self._not_before:
            return
        self._polling = True
        self.run_worker(self._poll, thread=True, group="live-poll", exit_on_error=False)

    def _poll(self) -> None:
        """In a worker: the store re-opened if the files changed, its run count and shape."""
        store, total, error = None, None, None
        began = time.perf_counter()
        try:
            if self._base is not None:
                base, self._base = self._base, None
                base_total = base.total()
                self.app.call_from_thread(setattr, self, "total", base_total)
            store = self.watcher.poll()
            if store is not None:
                total = store.total()
                store.shape()  # for the screens, which never query on the UI thread
        except Exception as e:  # a file replaced as it was read (or worse): said, and next time
            error = str(e).splitlines()[0] if str(e) else type(e).__name__
        # a sweep of many files takes long to fingerprint: poll it at most 1/BUSY of the time
        took = time.perf_counter() - began if store is None else 0.0
        self._not_before = time.perf_counter() + took * (BUSY - 1)
        self.app.call_from_thread(self._polled, store, total, error)

    def _polled(self, store: Store | None, total: int | None, error: str | None) -> None:
        self._polling = False
        self.error = error
        if store is not None and total is not None:
            added = total - self.total if self.total is not None else 0
            self.total = total
            if added > 0:
                self.added += added
                self.last = self.clock()
            self.post_message(self.Changed(store, added))
        elif self.watcher.holding:
            self.post_message(self.Settled())
        self._show()

    def retire(self, old: Store) -> None:
        """Close ``old`` once no screen holds it and its last queries have had time to end."""
        self.set_timer(RETIRE, partial(self._close, old))

    def _close(self, old: Store) -> None:
        if any(getattr(s, "store", None) is old for s in self.app.screen_stack):
            self.retire(old)
        else:
            old.close()

    def _show(self) -> None:
        head = "live (paused: L resumes)" if self.paused else "live"
        if self.added:
            ago = int(self.clock() - (self.last or 0))
            body = f"+{self.added:,} run{'s' if self.added != 1 else ''}, last {ago} s ago"
        else:
            body = "no new runs yet"
        if self.error:
            body += f" · reading again ({self.error})"
        self.update(Text(safe(f"{head}: {body}")))
