"""Snapshots of the screens on a real Harbor job (data/harbor, 9 trials of one task)."""

from __future__ import annotations

from pathlib import Path

from textual.pilot import Pilot

from cabtui.store.query import Query
from cabtui.store.store import Store
from cabtui.ui.app import CabApp
from cabtui.ui.screens.browser import BrowserScreen
from cabtui.ui.screens.detail import DetailScreen
from cabtui.ui.screens.replay import ReplayScreen

ROOT = Path(__file__).resolve().parent.parent
HARBOR = ROOT / "data" / "harbor"


def _store() -> Store:
    store = Store.open(HARBOR)
    store.shape()
    return store


async def _settle(pilot: Pilot[None]) -> None:
    for _ in range(8):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def test_harbor_job_grid(snap_compare, cache_dir: Path) -> None:  # type: ignore[no-untyped-def]  # pytest-textual-snapshot's snap_compare fixture and Pilot arguments are untyped here
    """The runs grid of the Harbor sample: nine trials (gemini, gpt, opus x 3 reruns) with the
    columns a Harbor job has: tui, model, task, run, pass (✓ for gemini runs 1 and 3 and opus
    run 3), status "ok", the three reward keys (score, score_binary, score_continuous_v2, 1.00
    or 0.00), cost ($0.69 .. $2.60), wall (246.4s .. 700.4s) and tokens (624k .. 2.4M); no
    composite, blast, refusal, integrity or exit code columns. The load problems panel lists
    the phases lying outside their trials."""
    store = _store()
    app = CabApp(lambda progress: store)

    async def run_before(pilot: Pilot[None]) -> None:
        await _settle(pilot)
        assert isinstance(pilot.app.screen, BrowserScreen)

    assert snap_compare(app, terminal_size=(140, 30), run_before=run_before)


def test_harbor_trial_detail(snap_compare, cache_dir: Path) -> None:  # type: ignore[no-untyped-def]  # pytest-textual-snapshot's snap_compare fixture and Pilot arguments are untyped here
    """The detail of the passing opus trial (run 3): PASS, its identity as Harbor records it
    (source harbor, status ok, agent version, task version = the task checksum, cost, cache
    tokens, the job mm-opus, start, end, duration, tokens), no per-axis composite breakdown."""
    store = _store()
    cid = store.runs(Query("agent:opus run:3"), limit=1).to_pylist()[0]["cell_id"]
    app = CabApp(lambda progress: store, start=lambda s: DetailScreen(s, cid))

    async def run_before(pilot: Pilot[None]) -> None:
        await _settle(pilot)

    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


def test_harbor_replay_atif_steps_beside_the_recording(snap_compare, cache_dir: Path) -> None:  # type: ignore[no-untyped-def]  # pytest-textual-snapshot's snap_compare fixture and Pilot arguments are untyped here
    """Replay of the passing opus trial, eight spans in: the ruler with model calls (purple ●)
    over the whole trial; the waterfall with the trial, the terminal recording "aligned within
    1 s", user and agent steps and under each agent step its claude model call and tool call;
    the terminal pane showing the recording at that moment; the side panel with the step's
    message; the status line with the run time and the span number."""
    store = _store()
    cid = store.runs(Query("agent:opus run:3"), limit=1).to_pylist()[0]["cell_id"]
    app = CabApp(lambda progress: store, start=lambda s: ReplayScreen(s, cid), clock=lambda: 0.0)

    async def run_before(pilot: Pilot[None]) -> None:
        for _ in range(50):
            await pilot.app.workers.wait_for_complete()
            await pilot.pause()
            if isinstance(pilot.app.screen, ReplayScreen) and pilot.app.screen.session is not None:
                break
        for _ in range(8):
            await pilot.press("right")
        await pilot.pause()

    assert snap_compare(app, terminal_size=(160, 48), run_before=run_before)
