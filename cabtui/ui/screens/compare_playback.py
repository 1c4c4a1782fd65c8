"""Two runs' recordings on one linked clock, for the compare screen: the replay sessions of
runs A and B loaded one after the other, the clock on A's time axis (its end and idle limit
over both recordings), and both runs' markers and search hits placed on that axis
(:mod:`cabtui.compare.link`). The clock keys and the search prompt are
:class:`~cabtui.ui.screens.playback.PlaybackScreen`'s; B follows the cursor through ``link``,
which the screen sets once its diff is shown."""

from __future__ import annotations

from textual import work
from textual.worker import get_current_worker

from cabtui.compare.link import (
    MOMENT_EPS,
    Link,
    idle_events,
    linked_end,
    moments,
    relinked,
    step_to,
)
from cabtui.replay.clock import Clock
from cabtui.replay.engine import Player
from cabtui.replay.session import Session, load_session
from cabtui.store.store import Store
from cabtui.text import shown
from cabtui.ui.screens.playback import PlaybackScreen
from cabtui.ui.widgets.compare_terminals import CompareTerminals


class LinkedPlayback(PlaybackScreen):
    """Runs ``a`` and ``b`` of ``store`` played on one clock; see the module's docstring."""

    HIT_EPS = MOMENT_EPS  # a hit at the cursor counts

    def __init__(self, store: Store, a: str, b: str) -> None:
        super().__init__()
        self.store, self.a, self.b = store, a, b
        self.link: Link | None = None
        self.sessions: dict[str, Session | None] = {"a": None, "b": None}
        self.clock = Clock(end_ms=0.0)  # A's time axis
        self._raw_hits: list[tuple[str, float]] = []  # (side, run ms on that side's axis)
        self.hits: list[tuple[float, str]] = []  # (A's time, "A" / "B" / "A · B")
        self._frozen: bool | None = None  # frozen (True: first, so thawed on unmount)
        self._closed = False  # unmounted: a loader finishing late changes nothing
        self._idle_chosen = False  # `i` was pressed: a header no longer turns the limit on

    def release(self) -> None:
        """Let go of the sessions and hits, and undo the GC freeze (:meth:`CabBase.thaw`)."""
        self._closed = True
        self.sessions = {"a": None, "b": None}
        self.link = None
        self._raw_hits, self.hits = [], []
        if self._frozen is not None:
            self.app.thaw(self._frozen)
        self._frozen = None

    @property
    def terminals(self) -> CompareTerminals:
        return self.query_one(CompareTerminals)

    @work(thread=True, exclusive=True, group="compare-session", exit_on_error=False)
    def load_sides(self) -> None:
        """A's session, then B's: one at a time, so A's terminal plays while B's loads."""
        worker = get_current_worker()
        for side, cell_id in (("a", self.a), ("b", self.b)):
            if worker.is_cancelled or self._closed:
                return
            try:
                s = load_session(self.store, cell_id)
            except Exception as e:  # noqa: BLE001 - one side failing leaves the other playing
                self.app.call_from_thread(self._side_failed, side, f"{type(e).__name__}: {e}")
                continue
            self.app.call_from_thread(self._side_loaded, side, s)

    def _side_failed(self, side: str, reason: str) -> None:
        self.terminals.show_message(side, f"Cannot replay: {reason}")

    def _side_loaded(self, side: str, s: Session) -> None:
        if self._closed:
            return
        self.sessions[side] = s
        self.terminals.loaded(side, s)
        limits = [o.recording.idle_time_limit for o in self.sessions.values()
                  if o is not None and o.recording is not None and o.recording.idle_time_limit]  # fmt: skip
        if limits:  # a recording's header asks for an idle limit, as the replay screen honours
            self.clock.idle_limit = min(limits)
            self.clock.idle_on = self.clock.idle_on or not self._idle_chosen
        if s.clock.idle_on != self.clock.idle_on:
            s.clock.toggle_idle()
        self._rebuild_clock()
        self._sync()
        if None not in self.sessions.values():
            # neither run recorded: the summary takes the terminals' room
            self.set_class(
                all(o is not None and o.player is None for o in self.sessions.values()),
                "-no-recordings",
            )
            # two recordings' events, keyframes, 2,000-span alignments: a full collection
            # walked all of it, a 60-70 ms stall every few dozen key presses or seconds of play
            if self._frozen is None:
                self._frozen = self.app.freeze_loaded()

    def _rebuild_clock(self) -> None:
        """A's axis spans both runs: A's end, and B's end seen from A. With the idle limit on,
        it caps the gaps between the events of both recordings (B's seen from A)."""
        if self.link is None:
            return
        end = linked_end(self.link, self._clocks())
        events = idle_events(self.link, self._clocks()) if self.clock.idle_on else ()
        self.clock = relinked(self.clock, end, events)

    def _clocks(self) -> list[tuple[str, Clock]]:
        """The loaded sessions' own clocks, by side."""
        return [(side, s.clock) for side, s in self.sessions.items() if s is not None]

    def playing_clock(self) -> Clock | None:
        return self.clock if self.link is not None else None

    def _marker(self, forward: bool) -> None:
        """The nearest marker of either recording, B's placed on A's axis by the link."""
        if self.link is None:
            return
        marks = moments(
            self.link,
            ((side, s.clock.to_run(m.time), f"{side.upper()}: {m.label}")
             for side, s in self.sessions.items() if s is not None
             for m in s.timeline.markers),
        )  # fmt: skip
        if not marks:
            self.notify("Neither recording has markers.", timeout=2)
            return
        m = step_to(marks, self.clock.position, forward)
        if m is not None:
            self.clock.seek(m[0])
            self._moved()
            self.notify(shown(m[1]), title="marker", timeout=2, markup=False)

    def _toggle_reveal(self) -> bool:
        return self.terminals.toggle_secrets()

    def action_toggle_idle(self) -> None:
        self._idle_chosen = True
        self.clock.idle_on = not self.clock.idle_on
        for _, c in self._clocks():  # the sessions' own clocks say the same (they only seek)
            if c.idle_on != self.clock.idle_on:
                c.toggle_idle()
        self._rebuild_clock()
        self._status()

    # -- search ------------------------------------------------------------------------------

    def search_ready(self) -> bool:
        return self.link is not None

    def searchable(self) -> list[tuple[str, Player, Clock]]:
        return [(side, s.player, s.clock) for side, s in list(self.sessions.items())
                if s is not None and s.player is not None]  # fmt: skip

    def revealed(self) -> bool:
        return self.terminals.terminal("a").reveal

    def _clear_hits(self) -> None:
        self._raw_hits, self.hits = [], []

    def _place_hits(self, raw: list[tuple[str, float]] | None = None) -> None:
        """The hits on A's axis (again after the link changes), one per moment."""
        if raw is not None:
            self._raw_hits = raw
        if self.link is None:
            return
        self.hits = moments(self.link, ((side, t, side.upper()) for side, t in self._raw_hits))
        if self.hit is not None:
            self.hit = min(self.hit, len(self.hits) - 1) if self.hits else None

    def hit_times(self) -> list[float]:
        return [t for t, _ in self.hits]

    def hit_label(self, i: int) -> str:
        return f" ({self.hits[i][1]})"
