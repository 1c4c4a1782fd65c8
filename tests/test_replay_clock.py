"""The play clock: stepping, speed bounds, idle-limit mapping, span <-> recording time."""

from __future__ import annotations

import pytest

from cabtui.replay.clock import SPEEDS, Clock, TimeMap, fmt_ms
from cabtui.sweep.asciicast import Event, Recording, timeline


def test_step_and_bounds() -> None:
    c = Clock(end_ms=1000.0)
    assert c.step() == 100.0
    assert c.step(-1) == 0.0
    assert c.step(-1) == 0.0  # clamped at 0
    c.seek(950)
    assert c.step() == 1000.0  # clamped at the end
    assert c.jump_fraction(0.5) == 500.0
    assert c.jump_fraction(2.0) == 1000.0


def test_speed_doubles_between_quarter_and_sixteen() -> None:
    c = Clock(end_ms=1000.0)
    assert c.speed == 1.0
    seen = [c.faster() for _ in range(10)]
    assert seen[:4] == [2.0, 4.0, 8.0, 16.0] and seen[-1] == 16.0
    seen = [c.slower() for _ in range(10)]
    assert seen[-1] == 0.25 and min(seen) == SPEEDS[0]


def test_advance_uses_real_time_times_speed_and_only_while_playing() -> None:
    c = Clock(end_ms=10_000.0)
    assert c.advance(1.0) == 0.0  # paused
    assert c.toggle() is True
    c.advance(1.0)
    assert c.position == pytest.approx(1000.0)
    c.faster()
    c.advance(0.5)
    assert c.position == pytest.approx(2000.0)
    c.advance(100.0)
    assert c.position == 10_000.0 and not c.playing  # stops at the end
    assert c.toggle() is True and c.position == 0.0  # playing at the end starts again


def test_run_and_recording_time() -> None:
    c = Clock(end_ms=5000.0, offset_ms=13.0)
    assert c.to_recording(13.0) == 0.0
    assert c.to_run(1.5) == pytest.approx(1513.0)
    c.seek(1513.0)
    assert c.recording_time == pytest.approx(1.5)
    assert c.to_recording(0.0) < 0  # before the recording starts


def _rec(times: list[float]) -> Recording:
    return Recording(2, 80, 24, [Event(t, "o", "x") for t in times])


def test_time_map_matches_asciinema_timeline() -> None:
    times = [0.5, 1.0, 11.0, 12.0, 40.0]
    rec = _rec(times)
    retimed = timeline(rec, idle_time_limit=2.0)
    m = TimeMap.build(times, 2.0)
    for ev in retimed.events:
        assert m.to_played(ev.orig_time) == pytest.approx(ev.time)
        assert m.to_orig(ev.time) == pytest.approx(ev.orig_time)
    # inside a capped gap the clock runs for `limit` seconds, then jumps to the next event
    assert m.to_played(2.0) == pytest.approx(2.0)
    assert m.to_played(5.0) == pytest.approx(3.0)  # 1.0 + capped 2.0
    assert m.to_orig(2.5) == pytest.approx(2.5)
    assert m.to_orig(3.0 + 0.5) == pytest.approx(11.5)  # past the jump


def test_idle_limit_skips_long_gaps_while_playing() -> None:
    times = [0.1, 0.2, 30.0, 30.1]
    c = Clock(end_ms=30_100.0, event_times=tuple(times), idle_limit=2.0)
    c.toggle()
    c.seek(200.0)
    c.advance(3.0)
    assert c.position == pytest.approx(3200.0)  # idle limit off: plain real time
    c.toggle_idle()
    c.seek(200.0)
    c.advance(2.05)  # 2 s of the gap, then 0.05 s past the event at 30 s
    assert c.position == pytest.approx(30_050.0)


def test_idle_limit_lands_after_the_gap() -> None:
    times = [0.1, 0.2, 30.0, 60.0]
    c = Clock(end_ms=60_000.0, event_times=tuple(times), idle_limit=2.0, idle_on=True)
    c.toggle()
    c.seek(200.0)
    c.advance(2.5)  # 2 s capped gap, then 0.5 s past the event at 30 s
    assert c.position == pytest.approx(30_500.0)
    assert c.played_duration == pytest.approx(0.2 + 2.0 + 2.0)


def test_fmt_ms() -> None:
    assert fmt_ms(1234) == "1.2s"
    assert fmt_ms(125_000) == "2:05.0"


def test_headless_modules_do_not_import_textual() -> None:
    import subprocess
    import sys

    code = (
        "import sys, cabtui.replay.clock, cabtui.replay.spans, cabtui.replay.session\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
