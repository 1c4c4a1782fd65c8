"""Snapshots of states the other snapshot files leave out: the bare-recording replay
(``cab-tui replay FILE.cast``), its help list, and the compare screen on two cells. Regenerate
with ``pytest tests/test_snapshots_states.py --snapshot-update`` and look at each SVG before
accepting it (the docstrings say what to look for)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from cabtui.store.store import Store
from cabtui.ui.app import CabApp
from cabtui.ui.replay_app import ReplayApp
from cabtui.ui.screens.compare import CompareScreen
from cabtui.ui.screens.replay import ReplayScreen

ROOT = Path(__file__).resolve().parent.parent
CAST = ROOT / "recordings" / "cargo-fix.cast"
CELL_A = (
    "recorded-20261123/aider/meta/llama-4-maverick-17b-128e-instruct/polyglot/rust-fix-failing-test"
)
CELL_B = "recorded-20261123/pi/meta/llama-4-maverick-17b-128e-instruct/polyglot/python-shipping-threshold"


async def replay_ready(pilot: Pilot[None]) -> None:
    for _ in range(50):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = pilot.app.screen
        if isinstance(screen, ReplayScreen) and screen.session is not None:
            return


def test_bare_recording_replay(snap_compare: Any) -> None:
    """``cab-tui replay recordings/cargo-fix.cast`` after ``5`` (50%): the ruler with its
    yellow ▼ markers and the cursor ┃ at 11.1s, no span waterfall (a bare recording has none),
    the terminal taking the room, titled cargo-fix.cast, showing cargo's three failed tests and
    "test result: FAILED. 1 passed; 3 failed"; the status line "⏸ paused · 11.1s / 22.3s ·
    rec 11.14s · 1x · idle limit 2s off"; the footer with the replay keys and ^p Palette."""
    app = ReplayApp(CAST, clock=lambda: 0.0)

    async def run_before(pilot: Pilot[None]) -> None:
        await replay_ready(pilot)
        await pilot.press("5")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 36), run_before=run_before)


def test_help_of_the_bare_replay(snap_compare: Any) -> None:
    """``?`` under ``cab-tui replay FILE``: a box titled "Keys: Replay" listing the replay
    screen's keys (space Play, ← → spans, , . steps, < > speed, 0–9, home, end, [ ] markers,
    / search, n N hits, i, p, x, shift+arrows pan, c, t, escape) and then the app's own (q and
    ctrl+c Quit, ? Keys, ctrl+p Palette: the palette the bare replay now has too); no browser
    keys. Behind it, the replay at 0.0s."""
    app = ReplayApp(CAST, clock=lambda: 0.0)

    async def run_before(pilot: Pilot[None]) -> None:
        await replay_ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(120, 60), run_before=run_before)


def test_compare_two_cells(snap_compare: Any, sample_store: Store) -> None:
    """Two cells of two reruns each (aider on rust-fix-failing-test against pi on
    python-shipping-threshold): the summary takes the screen (no span timelines, no
    terminals), stacked: the four axes that differ (composite, wall_clock_ms, blast_radius,
    total_tokens), each A and B as a mean with its 95% interval and n=2 and Δ = A − B; the
    identity (tui, task_id and container_image differ: A over B); the note "cells: means with
    95% intervals" naming each cell with "2 runs"; the status line "two cells: per-axis
    means"."""
    app = CabApp(
        lambda progress: sample_store,
        start=lambda s: CompareScreen(s, CELL_A, CELL_B),
        clock=lambda: 0.0,
    )

    async def run_before(pilot: Pilot[None]) -> None:
        for _ in range(50):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            screen = pilot.app.screen
            if isinstance(screen, CompareScreen) and screen.diff is not None:
                break
        await pilot.pause()

    assert snap_compare(app, terminal_size=(140, 40), run_before=run_before)
