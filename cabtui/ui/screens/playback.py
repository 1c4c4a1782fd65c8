"""What the replay and compare screens share: the clock keys (play, 100 ms steps, speed, jumps,
home, end), the frame timer, the coalescing :class:`PlaybackScreen.Moved`, the search prompt
(:class:`SearchBar`) with its worker, and the cycling through search hits.

A screen built on it provides :meth:`~PlaybackScreen.playing_clock` (None while nothing is
loaded), :meth:`~PlaybackScreen._sync` (show the clock's position), ``_status()``,
``_pick(i)`` (the span or row a key chose), ``_marker(forward)`` and ``_toggle_reveal()``, and
for the search :meth:`~PlaybackScreen.searchable`, ``_clear_hits()``, ``_place_hits(raw)``,
``hit_times()`` and ``hit_label(i)``.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.message import Message
from textual.timer import Timer
from textual.worker import get_current_worker

from cabtui.replay.clock import Clock
from cabtui.replay.engine import Player
from cabtui.ui.keys import KeyCommand
from cabtui.ui.screens.base import CabScreen
from cabtui.ui.widgets.search_bar import SearchBar

FPS = 30
# Seek a terminal a microsecond late, so an event at exactly the clock's time (a span start,
# a marker, a search hit) is on screen despite float rounding between run ms and seconds.
EPS = 1e-6


def clock_commands(what: str, end_help: str = "Jump to the end.") -> list[KeyCommand]:
    """Steps, speed, jumps to a tenth of ``what`` ("the run", "run A"), home and end."""
    return [
        KeyCommand("step(-1)", "comma", "-100ms", "Step back 100 ms.", show=False, key_display=","),
        KeyCommand("step(1)", "full_stop", "+100ms", "Step forward 100 ms.", show=False, key_display="."),
        KeyCommand("slower", "less_than_sign", "Slower", "Halve the speed (down to 0.25x).", show=False, key_display="<"),
        KeyCommand("faster", "greater_than_sign", "Faster", "Double the speed (up to 16x).", show=False, key_display=">"),
        *[KeyCommand(f"jump({n})", str(n), f"{n * 10}%", f"Jump to {n * 10}% of {what}.", show=False) for n in range(10)],
        KeyCommand("home", "home", "Start", "Jump to the start.", show=False),
        KeyCommand("end", "end", "End", end_help, show=False),
    ]  # fmt: skip


class PlaybackScreen(CabScreen[None]):
    HIT_EPS = 0.0  # a hit this far before the clock still counts as at it

    class Moved(Message):
        """The clock moved; only the latest one in the queue matters (the play timer posts
        ``FPS`` a second)."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, PlaybackScreen.Moved)

    def __init__(self) -> None:
        super().__init__()
        self._timer: Timer | None = None
        self._last = 0.0
        self._pinned_at: float | None = None  # position at which a key chose the span or row
        self.needle = ""
        self.searching = False
        self.hit: int | None = None

    # -- what a screen provides ----------------------------------------------------------------

    def playing_clock(self) -> Clock | None:
        raise NotImplementedError

    def _sync(self) -> None:
        raise NotImplementedError

    def _status(self) -> None:
        raise NotImplementedError

    def _pick(self, index: int) -> None:
        """A key chose the span (or row) ``index``: keep it highlighted until the clock moves."""

    def searchable(self) -> list[tuple[str, Player, Clock]]:
        """(side, player, its clock) of each recording to search."""
        return []

    def search_ready(self) -> bool:
        return True

    def revealed(self) -> bool:
        """Whether the recordings show their secrets (a search then finds them too)."""
        return False

    def _clear_hits(self) -> None:
        raise NotImplementedError

    def _place_hits(self, raw: list[tuple[str, float]]) -> None:
        """Keep ``raw`` hits, (side, run ms), as the screen places them."""
        raise NotImplementedError

    def hit_times(self) -> list[float]:
        """The clock position of each placed hit, in order."""
        raise NotImplementedError

    def hit_label(self, i: int) -> str:
        """What the status line says after hit ``i`` (whose recording it is in)."""
        return ""

    def _marker(self, forward: bool) -> None:
        """Jump to the next (or previous) recording marker."""

    def _toggle_reveal(self) -> bool:
        """Show (or mask again) the secrets on the recorded screens; whether they are shown."""
        raise NotImplementedError

    # -- the clock -----------------------------------------------------------------------------

    def start_timer(self) -> None:
        self._timer = self.set_interval(1 / FPS, self.tick, pause=True)

    def _now(self) -> float:
        return float(self.app.clock())

    def tick(self) -> None:
        """One frame of playing: advance by the real time elapsed since the last frame."""
        clock = self.playing_clock()
        now = self._now()
        dt, self._last = now - self._last, now
        if clock is None or not clock.playing:
            if self._timer is not None:
                self._timer.pause()
            return
        clock.advance(dt)
        self.post_message(self.Moved())

    def _moved(self, pick: int | None = None) -> None:
        """The clock moved (to ``pick``, the span or row a key chose): show it."""
        clock = self.playing_clock()
        if clock is None:
            return
        self._pinned_at = clock.position if pick is not None else None
        if pick is not None:
            self._pick(pick)
        self.post_message(self.Moved())

    @on(Moved)
    def _on_moved(self) -> None:
        self._sync()

    def action_play_pause(self) -> None:
        clock = self.playing_clock()
        if clock is None:
            return
        if clock.toggle():
            self._last = self._now()
            if self._timer is not None:
                self._timer.resume()
        self._moved()

    def _clock_moved(self, move: str, *args: Any) -> None:
        clock = self.playing_clock()
        if clock is not None:
            getattr(clock, move)(*args)
            self._moved()

    def action_step(self, n: int) -> None:
        self._clock_moved("step", n)

    def action_jump(self, n: int) -> None:
        self._clock_moved("jump_fraction", n / 10)

    def action_home(self) -> None:
        self._clock_moved("seek", 0)

    def action_end(self) -> None:
        clock = self.playing_clock()
        if clock is not None:
            self._clock_moved("seek", clock.end_ms)

    def _speed(self, change: str) -> None:
        clock = self.playing_clock()
        if clock is not None:
            getattr(clock, change)()
            self._status()

    def action_faster(self) -> None:
        self._speed("faster")

    def action_slower(self) -> None:
        self._speed("slower")

    def action_next_marker(self) -> None:
        self._marker(True)

    def action_prev_marker(self) -> None:
        self._marker(False)

    def action_toggle_secrets(self) -> None:
        shown = self._toggle_reveal()
        self.notify("Secrets shown." if shown else "Secrets masked.", timeout=2)

    def action_back(self) -> None:
        """Close the search prompt when it is open, else leave the screen (the app when it is
        the first one)."""
        if self.query_one(SearchBar).close():
            return
        if len(self.app.screen_stack) <= 2:
            self.app.exit()
        else:
            self.app.pop_screen()

    # -- search --------------------------------------------------------------------------------

    def search_status(self) -> str | None:
        """What the status line says of the search (None: nothing searched)."""
        if self.searching:
            return f"searching {self.needle!r}…"
        if not self.needle:
            return None
        if self.hit is None:
            return f"no hits for {self.needle!r}"
        return f"hit {self.hit + 1} of {len(self.hit_times())}{self.hit_label(self.hit)}"

    def action_search(self) -> None:
        if self.search_ready():
            self.query_one(SearchBar).open()

    @on(SearchBar.Find)
    def _find_asked(self, event: SearchBar.Find) -> None:
        self.find(event.needle)

    def find(self, needle: str) -> None:
        """Search the recordings for ``needle`` (in a thread) and jump to the first hit at or
        after the clock."""
        if not self.searchable() or not needle.strip():
            self.notify("Nothing to search." if needle.strip() else "Type some text.", timeout=2)
            return
        self.needle, self.searching, self.hit = needle, True, None
        self._clear_hits()
        self._status()
        self._search(needle, self.revealed())

    @work(thread=True, exclusive=True, group="search", exit_on_error=False)
    def _search(self, needle: str, reveal: bool) -> None:
        worker = get_current_worker()

        def cancelled() -> bool:
            return worker.is_cancelled

        hits: list[tuple[str, float]] = []
        for side, player, clock in self.searchable():
            hits += [(side, clock.to_run(t)) for t in player.search(needle, cancelled, reveal)]
        if not cancelled():
            self.app.call_from_thread(self._found, needle, hits)

    def show_failure(self, group: str, reason: str) -> bool:
        if group == "search":
            self.searching = False
            self._status()
        return False  # and the app notifies

    def _found(self, needle: str, hits: list[tuple[str, float]]) -> None:
        clock = self.playing_clock()
        if needle != self.needle or clock is None:
            return
        self.searching = False
        self._place_hits(hits)
        times = self.hit_times()
        if not times:
            self.hit = None
            self._status()
            return
        pos = clock.position - self.HIT_EPS
        self._goto_hit(next((i for i, t in enumerate(times) if t >= pos), 0))

    def _goto_hit(self, i: int) -> None:
        clock, times = self.playing_clock(), self.hit_times()
        if clock is None or not times:
            return
        self.hit = i % len(times)
        clock.seek(times[self.hit])
        self._moved()

    def action_next_hit(self) -> None:
        if self.hit is not None:
            self._goto_hit(self.hit + 1)

    def action_prev_hit(self) -> None:
        if self.hit is not None:
            self._goto_hit(self.hit - 1)
