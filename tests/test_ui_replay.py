"""Pilot tests of the replay screen: spans, terminal and clock agree; keys move the clock; a
run without a recording or with a broken one still replays its spans; nothing a recording
writes reaches the user's terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from textual.pilot import Pilot

from cabtui.replay.engine import Player
from cabtui.store.store import Store
from cabtui.ui.app import CabApp
from cabtui.ui.base import CabBase
from cabtui.ui.replay_app import ReplayApp
from cabtui.ui.screens.playback import EPS
from cabtui.ui.screens.replay import ReplayScreen
from cabtui.ui.widgets.terminal import TerminalView
from cabtui.ui.widgets.waterfall import Waterfall

ROOT = Path(__file__).resolve().parent.parent
RECORDED = (
    "recorded-20261123/aider/meta/llama-4-maverick-17b-128e-instruct/polyglot/rust-fix-failing-test"
)
NO_RECORDING = (
    "expansion-20260616/aider/meta/llama-4-maverick-17b-128e-instruct/mutations/rust-error-negated"
)
SIZE = (160, 48)


class FrozenClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def replay_app(store: Store, cell_id: str, clock: FrozenClock) -> CabApp:
    return CabApp(lambda progress: store, start=lambda s: ReplayScreen(s, cell_id), clock=clock)


async def ready(app: CabBase, pilot: Pilot[None]) -> ReplayScreen:
    """Wait until the replay screen has loaded its session."""
    for _ in range(50):
        await app.workers.wait_for_complete()
        await pilot.pause()
        screen = app.screen
        if isinstance(screen, ReplayScreen) and screen.session is not None:
            return screen
    raise AssertionError("the replay screen did not load")


def selected(screen: ReplayScreen) -> int:
    """The index of the selected span, which the test expects there to be."""
    assert screen.selected is not None
    return screen.selected


def screen_text(screen: ReplayScreen) -> list[str]:
    return screen.query_one(TerminalView).text()


def expected_text(screen: ReplayScreen) -> list[str]:
    """What a fresh Player shows at the clock's recording time."""
    s = screen.session
    assert s is not None and s.recording is not None
    p = Player(s.recording)
    p.seek(s.clock.recording_time + EPS)
    return p.text()


@pytest.fixture(scope="module")
def recorded_store(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Store:
    return Store.open(ROOT / "data" / "sweeps" / "recorded-20261123")


async def test_next_span_moves_clock_and_terminal_together(recorded_store: Store) -> None:
    clock = FrozenClock()
    app = replay_app(recorded_store, RECORDED, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        s = screen.session
        assert s is not None and s.player is not None and s.clock.position == 0.0
        first = screen.selected
        for _ in range(5):
            await pilot.press("right")
            await pilot.pause()
        span = s.timeline.spans[selected(screen)]
        assert screen.selected != first
        assert span.name == "ls -R"  # the fifth span after the first, in time order
        assert s.clock.position == span.start_ms
        assert screen.query_one(Waterfall).selected == span.index
        assert screen_text(screen) == expected_text(screen)
        # the command is typed from the span's first millisecond; 200 ms later it is all there
        assert any(row.endswith("$") for row in screen_text(screen))
        await pilot.press("full_stop", "full_stop")
        await pilot.pause()
        assert any(row.endswith("$ ls -R") for row in screen_text(screen))
        assert s.timeline.spans[selected(screen)].name == "ls -R"  # still inside it
        await pilot.press("left")  # inside a span, left goes back to its start
        await pilot.pause()
        assert s.clock.position == span.start_ms
        await pilot.press("left")
        await pilot.pause()
        assert s.timeline.spans[selected(screen)].name == "chat.completions #1"
        assert screen_text(screen) == expected_text(screen)


async def test_step_jump_and_home_end(recorded_store: Store) -> None:
    app = replay_app(recorded_store, RECORDED, FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        c = screen.session.clock  # type: ignore[union-attr]  # the value was checked not None by the wait before it (mypy cannot see across the await)
        await pilot.press("full_stop")
        await pilot.pause()
        assert c.position == pytest.approx(100.0)
        await pilot.press("comma", "comma")
        await pilot.pause()
        assert c.position == 0.0
        await pilot.press("5")
        await pilot.pause()
        assert c.position == pytest.approx(c.end_ms / 2)
        assert screen_text(screen) == expected_text(screen)
        await pilot.press("end")
        await pilot.pause()
        assert c.position == c.end_ms
        assert screen_text(screen) == expected_text(screen)
        await pilot.press("home")
        await pilot.pause()
        assert c.position == 0.0
        await pilot.press("greater_than_sign", "greater_than_sign", "less_than_sign")
        assert c.speed == 2.0


async def test_markers(recorded_store: Store) -> None:
    app = replay_app(recorded_store, RECORDED, FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        s = screen.session
        assert s is not None
        await pilot.press("right_square_bracket", "right_square_bracket")
        await pilot.pause()
        assert s.clock.recording_time == pytest.approx(s.timeline.markers[1].time)
        await pilot.press("left_square_bracket")
        await pilot.pause()
        assert s.clock.recording_time == pytest.approx(s.timeline.markers[0].time)


async def test_search_lands_on_a_hit_and_n_cycles(recorded_store: Store) -> None:
    app = replay_app(recorded_store, RECORDED, FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        s = screen.session
        assert s is not None
        await pilot.press("slash")
        await pilot.press(*"FAILED")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert screen.hits and screen.hit == 0
        assert s.clock.position == screen.hits[0]
        assert any("failed" in row.lower() for row in screen_text(screen))
        status = str(screen.query_one("#status").render())
        assert f"hit 1 of {len(screen.hits)}" in status
        if len(screen.hits) > 1:
            await pilot.press("n")
            await pilot.pause()
            assert screen.hit == 1 and s.clock.position == screen.hits[1]
            await pilot.press("N")
            await pilot.pause()
            assert screen.hit == 0


async def test_space_plays_with_the_frozen_clock(recorded_store: Store) -> None:
    clock = FrozenClock()
    app = replay_app(recorded_store, RECORDED, clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        c = screen.session.clock  # type: ignore[union-attr]  # the value was checked not None by the wait before it (mypy cannot see across the await)
        await pilot.press("space")
        assert c.playing
        clock.now += 1.5
        screen.tick()
        await pilot.pause()
        assert c.position == pytest.approx(1500.0)
        assert screen_text(screen) == expected_text(screen)
        await pilot.press("space")
        clock.now += 5.0
        screen.tick()
        assert c.position == pytest.approx(1500.0)  # paused


async def test_prompt_panel_shows_current_call(recorded_store: Store) -> None:
    app = replay_app(recorded_store, RECORDED, FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        for _ in range(5):
            await pilot.press("right")
        await pilot.press("p")
        await pilot.pause()
        text = str(screen.query_one("#prompt-text").render())
        assert "model call #1" in text and "PROMPT" in text and "system:" in text
        assert '"ls -R"' in text  # the completion


async def test_run_without_recording_still_steps_spans(expansion_store: Store) -> None:
    app = replay_app(expansion_store, NO_RECORDING, FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert screen.query_one(TerminalView).message == "This run has no recording."
        s = screen.session
        assert s is not None and s.player is None
        await pilot.press("right", "right")
        await pilot.pause()
        assert screen.selected is not None
        assert s.clock.position == s.timeline.spans[screen.selected].start_ms > 0


async def test_truncated_recording_names_file_and_line(sweep_copy: Path) -> None:
    run = (
        sweep_copy
        / "runs/aider/meta/llama-4-maverick-17b-128e-instruct/mutations/rust-error-negated/run-1"
    )
    raw = (ROOT / "recordings" / "cargo-fix.cast").read_bytes()
    (run / "recording.cast").write_bytes(raw[: len(raw) - 40])
    store = Store.open(sweep_copy)
    cell = store.find("aider")[0]
    app = replay_app(store, cell, FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        problems = str(screen.query_one("#rec-problems").render())
        assert "recording.cast: line" in problems and "truncated" in problems
        await pilot.press("right")
        await pilot.pause()
        assert screen.selected is not None
        assert screen_text(screen) == expected_text(screen)


async def test_empty_recording_shows_its_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.cast"
    path.write_bytes(b"")
    app = ReplayApp(path, clock=FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        message = screen.query_one(TerminalView).message or ""
        assert "empty.cast" in message and "empty recording" in message


HOSTILE = [
    "\x1b]0;pwned title\x07",
    "\x1b]52;c;cHduZWQ=\x07",
    "hello \x1b[6n world\r\n",
    "\x1bc",
    "after reset \x07 bell\r\n",
]


async def test_hostile_recording_cannot_reach_the_terminal(tmp_path: Path) -> None:
    path = tmp_path / "hostile.cast"
    lines = [json.dumps({"version": 2, "width": 60, "height": 10})]
    lines += [json.dumps([0.1 * (i + 1), "o", data]) for i, data in enumerate(HOSTILE)]
    path.write_text("\n".join(lines) + "\n")
    app = ReplayApp(path, clock=FrozenClock())
    async with app.run_test(size=(120, 30)) as pilot:
        screen = await ready(app, pilot)
        await pilot.press("end")
        await pilot.pause()
        rows = screen_text(screen)
        assert any("after reset" in r for r in rows)
        terminal = screen.query_one(TerminalView)
        for y in range(terminal.size.height):
            for seg in terminal.render_line(y):
                assert "\x1b" not in seg.text and "\x07" not in seg.text
        # everything the app would write to the user's terminal for a full repaint
        out = app.screen._compositor.render_full_update().render_segments(app.console)
        assert "\x1b]52" not in out and "\x1b]0;" not in out and "\x1b[6n" not in out
        assert "\x1bc" not in out and "pwned" not in out
        assert "\x1b]" not in app.export_screenshot().replace("\x1b]8;", "")


async def test_terminal_repaints_only_changed_rows(recorded_store: Store) -> None:
    app = replay_app(recorded_store, RECORDED, FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        for _ in range(5):  # to `ls -R`, typed one key at a time
            await pilot.press("right")
        await pilot.pause()
        terminal = screen.query_one(TerminalView)
        before = terminal.repainted
        await pilot.press("full_stop")  # two more keys echoed on the prompt's row
        await pilot.pause()
        assert terminal.repainted - before == 1
        assert screen_text(screen) == expected_text(screen)


async def test_end_follows_a_recording_still_being_written(tmp_path: Path) -> None:
    """asciinema records a program that prints a line a second; the replay opened on the
    first lines follows the file with ``end`` until the last line is on screen; a step back
    stops following."""
    import subprocess
    import sys
    import time

    path = tmp_path / "growing.cast"
    program = "for i in 1 2 3 4 5 6; do echo line-$i; sleep 0.7; done"
    asciinema = Path(sys.executable).with_name("asciinema")
    rec = subprocess.Popen(
        [str(asciinema), "rec", "-q", "--overwrite", "-c", f"bash -c '{program}'", str(path)],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while "line-1" not in (path.read_text() if path.exists() else ""):
            assert time.monotonic() < deadline, "asciinema wrote nothing"
            time.sleep(0.05)
        app = ReplayApp(path)
        async with app.run_test(size=SIZE) as pilot:
            screen = await ready(app, pilot)
            assert not any("line-6" in row for row in screen_text(screen))
            await pilot.press("end")
            assert screen.following
            deadline = time.monotonic() + 30
            while not any("line-6" in row for row in screen_text(screen)):
                assert time.monotonic() < deadline, "the last line never came"
                await pilot.pause(0.2)
            assert screen.following and rec.wait(timeout=20) == 0
            assert "following the live edge" in str(screen.query_one("#status").render())
            await pilot.press("comma")
            assert not screen.following
    finally:
        rec.kill()
