"""The clock keys the replay and compare screens share: play, 100 ms steps, speed, jumps,
search hits and back, each acting on the screen's :meth:`ClockKeys.playing_clock`.

A screen using it provides ``playing_clock()`` (None while nothing is loaded), ``_moved()``
(show the clock's new position), ``_status()``, ``_goto_hit(i)`` and a ``SEARCH_ID`` input;
it sets ``_timer`` (the frame timer, paused) and ``_last`` in its constructor.
"""

from __future__ import annotations

import time
from typing import Any

from cabtui.replay.clock import Clock
from cabtui.ui.keys import Command


def clock_commands(what: str) -> list[Command]:
    """Steps, speed, jumps to a tenth of ``what`` ("the run", "run A"), home and end."""
    return [
        Command("step(-1)", "comma", "-100ms", "Step back 100 ms.", show=False, key_display=","),
        Command("step(1)", "full_stop", "+100ms", "Step forward 100 ms.", show=False, key_display="."),
        Command("slower", "less_than_sign", "Slower", "Halve the speed (down to 0.25x).", show=False, key_display="<"),
        Command("faster", "greater_than_sign", "Faster", "Double the speed (up to 16x).", show=False, key_display=">"),
        *[Command(f"jump({n})", str(n), f"{n * 10}%", f"Jump to {n * 10}% of {what}.", show=False) for n in range(10)],
        Command("home", "home", "Start", "Jump to the start.", show=False),
        Command("end", "end", "End", "Jump to the end.", show=False),
    ]  # fmt: skip


class ClockKeys:
    SEARCH_ID = "search"
    hit: int | None
    _timer: Any
    _last: float

    def playing_clock(self) -> Clock | None:
        raise NotImplementedError

    def _now(self) -> float:
        return float(getattr(self.app, "clock", time.monotonic)())  # type: ignore[attr-defined]  # a mixin: the screen it is mixed into is a Screen

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
        self.post_message(self.Moved())  # type: ignore[attr-defined]  # a mixin: the screen it is mixed into defines Moved

    def action_play_pause(self) -> None:
        clock = self.playing_clock()
        if clock is None:
            return
        if clock.toggle():
            self._last = self._now()
            if self._timer is not None:
                self._timer.resume()
        self._moved()  # type: ignore[attr-defined]  # a mixin: the screen it is mixed into defines _moved

    def _clock_moved(self, move: str, *args: Any) -> None:
        clock = self.playing_clock()
        if clock is not None:
            getattr(clock, move)(*args)
            self._moved()  # type: ignore[attr-defined]  # a mixin: the screen it is mixed into defines _moved

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
            self._status()  # type: ignore[attr-defined]  # a mixin: the screen it is mixed into defines _status

    def action_faster(self) -> None:
        self._speed("faster")

    def action_slower(self) -> None:
        self._speed("slower")

    def action_next_hit(self) -> None:
        if self.hit is not None:
            self._goto_hit(self.hit + 1)  # type: ignore[attr-defined]  # a mixin: the screen it is mixed into defines _goto_hit

    def action_prev_hit(self) -> None:
        if self.hit is not None:
            self._goto_hit(self.hit - 1)  # type: ignore[attr-defined]  # a mixin: the screen it is mixed into defines _goto_hit

    def action_back(self) -> None:
        """Close the search prompt when it is open, else leave the screen (the app when it is
        the first one)."""
        search = self.query_one(f"#{self.SEARCH_ID}")  # type: ignore[attr-defined]  # a mixin: the screen it is mixed into is a Screen
        if search.display:
            search.display = False
            return
        app = self.app  # type: ignore[attr-defined]  # a mixin: the screen it is mixed into is a Screen
        if len(app.screen_stack) <= 2:
            app.exit()
        else:
            app.pop_screen()
