"""Snapshot of the compare screen (pytest-textual-snapshot); the clock is frozen."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from cabtui.store.store import Store
from cabtui.ui.app import CabApp
from cabtui.ui.screens.compare import CompareScreen

ROOT = Path(__file__).resolve().parent.parent
MODEL = "meta/llama-4-maverick-17b-128e-instruct"
AIDER = f"expansion-20260616/aider/{MODEL}/mutations/rust-error-negated"
COPILOT = f"expansion-20260616/copilot/{MODEL}/mutations/rust-error-negated"


def test_compare_aider_vs_copilot(snap_compare, cache_dir: Path) -> None:  # type: ignore[no-untyped-def]  # pytest-textual-snapshot's snap_compare fixture and Pilot arguments are untyped here
    """aider (A, passed) against copilot (B, failed) on mutations/rust-error-negated, cursor
    moved with `d` to where the traces part. A reviewer should see: the identity table with
    tui, container_image, image_digest, grader_exit_code, started/ended_at, duration_ms and
    tokens in bold yellow, each read A over B (cyan A, magenta B) and whole (the digests fold,
    the timestamps lose only their shared start); the axes table, each axis a heading over its
    keys, with pass 1 vs 0 and a green +1, wall_clock_ms 12,989 vs 3,787 with a red +9202 (B
    was faster); the composite components with A ahead on pass_rate; neither run is recorded,
    so no terminal panes: the aligned list only as tall as its rows, "A  =5 ◀1  parts at row
    3" over it, five `=` rows joining aider:… with copilot:… steps and one red `◀` row
    `task_setup aider:git-init-marker` (A only) on a grey band and under the cursor (row 3),
    every span name whole; the status line
    "⏸ paused · A 0.0s · B 0.0s · 1x · B follows the alignment · row 3/6"."""
    store = Store.open(ROOT / "data" / "sweeps" / "expansion-20260616")
    app = CabApp(
        lambda progress: store, start=lambda s: CompareScreen(s, AIDER, COPILOT), clock=lambda: 0.0
    )

    async def run_before(pilot: Pilot[None]) -> None:
        for _ in range(50):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            s = pilot.app.screen
            if isinstance(s, CompareScreen) and s.diff and None not in s.sessions.values():
                break
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(180, 50), run_before=run_before)
