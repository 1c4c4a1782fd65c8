"""Snapshot of the replay screen (pytest-textual-snapshot); the clock is frozen."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from cabtui.store.store import Store
from cabtui.ui.app import CabApp
from cabtui.ui.screens.replay import ReplayScreen

ROOT = Path(__file__).resolve().parent.parent
RECORDED = (
    "recorded-20261123/aider/meta/llama-4-maverick-17b-128e-instruct/polyglot/rust-fix-failing-test"
)


def test_replay_paused_mid_recording(snap_compare, cache_dir: Path) -> None:  # type: ignore[no-untyped-def]  # pytest-textual-snapshot's snap_compare fixture and Pilot arguments are untyped here
    """Replay of the recorded aider run, paused 1.2 s into its first `cargo test --offline`
    span (nine spans forward, then twelve 100 ms steps). A reviewer should see: the ruler
    (yellow ▼ markers, purple ● model calls, grey ╵ span starts, the white ┃ cursor about a
    third of the way in, "7.7s" at its left); the waterfall with spans indented under
    aider:launch, bars coloured by kind, the red (failed) `cargo test --offline` row
    highlighted with the cursor at its right end; the terminal pane (100x30, titled
    recording.cast) showing `ls -R`, the grep hit and "Compiling retry" from cargo, in colour;
    the span's attrs beside it (error: exit status 101, argv, cwd); and the status line
    "⏸ paused · 7.7s / 22.3s · rec 7.67s · 1x · idle limit 2s off · span 10/17"."""
    store = Store.open(ROOT / "data" / "sweeps" / "recorded-20261123")
    app = CabApp(
        lambda progress: store, start=lambda s: ReplayScreen(s, RECORDED), clock=lambda: 0.0
    )

    async def run_before(pilot: Pilot[None]) -> None:
        for _ in range(50):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            if isinstance(pilot.app.screen, ReplayScreen) and pilot.app.screen.session is not None:
                break
        for _ in range(9):
            await pilot.press("right")
        await pilot.press(*["full_stop"] * 12)
        await pilot.pause()

    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)
