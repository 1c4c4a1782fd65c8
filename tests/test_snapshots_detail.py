"""Snapshots of the run detail screen and the pivot (pytest-textual-snapshot)."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen

from cabtui.store.query import Query
from cabtui.store.store import Store
from cabtui.ui.app import CabApp
from cabtui.ui.screens.detail import DetailScreen
from cabtui.ui.screens.pivot import PivotScreen

COPILOT = "expansion-20260616/copilot/meta/llama-4-maverick-17b-128e-instruct/mutations/rust-error-negated"


async def _settle(pilot: Pilot[None], screen_type: type[Screen[Any]]) -> None:
    for _ in range(200):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        screen = pilot.app.screen
        if isinstance(screen, screen_type) and getattr(screen, "data", None) is not None:
            break
    await pilot.pause()


def test_failing_run_detail(snap_compare: Any, sample_store: Store) -> None:
    """The copilot run that failed its tests: a red FAIL badge; pass bar empty and contributing
    0.0000 while the other four axes sum to the composite 0.5816, recomputed equal to recorded;
    CLI exit code 0 beside grader exit code 101; tokens "not recorded"; the cab-tui replay and
    docker rerun commands; the aider (pass) and openhands (fail) runs listed as other CLIs on
    this task."""
    app = CabApp(lambda p: sample_store, start=lambda s: DetailScreen(s, COPILOT))

    async def run_before(pilot: Pilot[None]) -> None:
        await _settle(pilot, DetailScreen)

    assert snap_compare(app, terminal_size=(140, 60), run_before=run_before)


def test_pivot_tui_by_model(snap_compare: Any, sample_store: Store) -> None:
    """Mean composite of the sample sweeps, CLIs down and models across: cells coloured from red
    (0) through yellow to green (1), dashes where a CLI never ran a model, row means on the
    right and column means at the bottom (n=12 in the corner), the cursor on aider x llama with
    its n, sd, pass rate and 95% interval in the detail line, and the colour legend."""
    app = CabApp(lambda p: sample_store, start=lambda s: PivotScreen(s, Query()))

    async def run_before(pilot: Pilot[None]) -> None:
        await _settle(pilot, PivotScreen)

    assert snap_compare(app, terminal_size=(120, 30), run_before=run_before)
