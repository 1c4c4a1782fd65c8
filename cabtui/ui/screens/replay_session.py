"""One run's replay session for the replay screen: loaded in a thread worker (a published
sweep's recording fetched with its progress shown), read again when the recording's file grows
(``end`` then follows its live edge, like tail -f, until another key moves the clock), switched
to the run's next recording at the same moment, and searched. The screen shows it
(:meth:`SessionPlayback._loaded`); the clock keys and the search prompt are
:class:`~cabtui.ui.screens.playback.PlaybackScreen`'s."""

from __future__ import annotations

import contextlib
from pathlib import Path

from textual import work

from cabtui.replay.clock import Clock
from cabtui.replay.engine import Player
from cabtui.replay.session import Session, load_session
from cabtui.store.store import Store
from cabtui.store.tails import stat_of
from cabtui.text import shown
from cabtui.ui.screens.playback import PlaybackScreen
from cabtui.ui.widgets.terminal import TerminalView


class SessionPlayback(PlaybackScreen):
    """The run ``cell_id`` of ``store``, or the bare ``recording``; see the module's docstring."""

    def __init__(
        self, store: Store | None, cell_id: str | None, recording: Path | None = None
    ) -> None:
        super().__init__()
        self.store, self.cell_id, self.recording = store, cell_id, recording
        self.session: Session | None = None
        self.hits: list[float] = []  # run ms of the search hits
        self._which = 0  # which of the run's recordings is shown
        self._resume_ms: float | None = None  # where to be once a switched recording loads
        # a recording still being written: read again when its file changes; ``end`` follows
        # its live edge (like tail -f) until another key moves the clock
        self.following = False
        self._stamp: tuple[int, int] | None = None  # the shown recording's size and mtime
        self._loading = True
        self._regrown = False  # a load because the file changed is under way
        self._grown = False  # the recording has grown while shown

    def _loaded(self, s: Session, stamp: tuple[int, int] | None = None) -> None:
        """Show the session ``s`` (loaded, or read again); ``stamp``: its file's size and mtime."""
        raise NotImplementedError

    @work(thread=True, exclusive=True, group="replay-load", exit_on_error=False)
    def load(self) -> None:
        self._loading = True
        before = self.session.source if self.session is not None else None
        stamp = stat_of(Path(before)) if before is not None else None  # taken before reading it

        def fetching(done: int, total: int) -> None:  # a published sweep's large recording
            message = f"Fetching the recording… {done / 1e6:.1f} of {total / 1e6:.1f} MB"
            self.app.call_from_thread(
                self.query_one("#terminal", TerminalView).show_message, message
            )

        with self.store.watching(fetching) if self.store else contextlib.nullcontext():
            session = load_session(self.store, self.cell_id, self.recording, self._which)
        if session.source != before:
            stamp = stat_of(Path(session.source)) if session.source is not None else None
        self.app.call_from_thread(self._loaded, session, stamp)

    @work(thread=True, exclusive=True, group="replay-grow", exit_on_error=False)
    def _look_for_growth(self) -> None:
        s = self.session
        if s is None or s.source is None or self._loading:
            return
        if stat_of(Path(s.source)) != self._stamp:
            self.app.call_from_thread(self._grew)

    def _grew(self) -> None:
        """The recording's file changed: read it again, at the same moment or at its new end
        when following."""
        s = self.session
        if s is None or self._loading:
            return
        self._regrown = True  # _loaded keeps the moment the clock has reached by then
        self.load()

    def action_end(self) -> None:
        super().action_end()
        self.following = self.session is not None and self.session.player is not None
        self._status()

    def playing_clock(self) -> Clock | None:
        return self.session.clock if self.session is not None else None

    def action_toggle_idle(self) -> None:
        if self.session is not None:
            self.session.clock.toggle_idle()
            self._status()

    def action_switch_recording(self) -> None:
        s = self.session
        if s is None or len(s.recordings) < 2:
            self.notify("This run has one recording.", severity="information")
            return
        if s.clock.playing:
            self.action_play_pause()
        self._which = (s.which + 1) % len(s.recordings)
        self._resume_ms = s.clock.position
        self.notify(f"recording {shown(s.recordings[self._which])}", markup=False)
        self.load()

    # -- search ------------------------------------------------------------------------------

    def searchable(self) -> list[tuple[str, Player, Clock]]:
        s = self.session
        return [("", s.player, s.clock)] if s is not None and s.player is not None else []

    def _clear_hits(self) -> None:
        self.hits = []

    def _place_hits(self, raw: list[tuple[str, float]]) -> None:
        self.hits = sorted({t for _, t in raw})  # one hit per moment

    def hit_times(self) -> list[float]:
        return self.hits
