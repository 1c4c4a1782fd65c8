"""The screens on runs of other harnesses: a Harbor trial's detail and replay (ATIF steps beside
its recording), a Terminal-Bench trial's two recordings, the grids' columns."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cabtui.store.query import Query
from cabtui.store.store import Store
from cabtui.ui.app import CabApp
from cabtui.ui.screens.browser import BrowserScreen
from cabtui.ui.screens.detail import DetailScreen
from cabtui.ui.screens.replay import ReplayScreen
from cabtui.ui.widgets.terminal import TerminalView
from cabtui.ui.widgets.waterfall import Waterfall
from tests.conftest import ROOT
from tests.pilot_helpers import plain_text
from tests.test_ui_replay import FrozenClock, ready

HARBOR = ROOT / "data" / "harbor"
TB = ROOT / "data" / "terminal-bench"
SIZE = (140, 44)


@pytest.fixture(scope="module")
def harbor(cache_dir: Path) -> Store:
    store = Store.open(HARBOR)
    store.shape()
    return store


@pytest.fixture(scope="module")
def tb(cache_dir: Path) -> Store:
    store = Store.open(TB)
    store.shape()
    return store


def _plain(screen: object, selector: str) -> str:
    from textual.widgets import Static

    return plain_text(screen.query_one(selector, Static).content, width=250)  # type: ignore[attr-defined]  # any screen


async def _settle(app: CabApp, pilot) -> None:  # type: ignore[no-untyped-def]  # Pilot and the test's callables are untyped here
    for _ in range(6):
        await pilot.pause()
        await app.workers.wait_for_complete()


async def test_grids_show_the_columns_a_harbor_job_has(harbor: Store) -> None:
    app = CabApp(lambda progress: harbor)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        labels = [c.label for c in screen.grid("runs").grid_columns]
        for wanted in ("tui", "model", "task", "pass", "status", "score_binary", "cost", "wall"):
            assert wanted in labels
        for cab_only in ("comp", "rec", "blast", "ref", "int", "exit", "grd"):
            assert cab_only not in labels  # Harbor defines no composite, blast, refusal...
        await pilot.press("g")
        await _settle(app, pilot)
        cells = screen.grid("cells")
        assert "pass@1..n" in [c.label for c in cells.grid_columns]
        rows = {r["tui"]: r for r in cells.page.raw}
        assert rows["gemini"]["pass_at"][-1] == 1.0 and rows["gpt"]["pass_at"][-1] == 0.0


async def test_harbor_detail_shows_what_the_trial_carries(harbor: Store) -> None:
    cid = harbor.runs(Query("agent:gemini run:1"), limit=1).to_pylist()[0]["cell_id"]
    app = CabApp(lambda progress: harbor, start=lambda s: DetailScreen(s, cid))
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen)
        assert not screen.query_one("#detail-axes").display  # no composite to break down
        identity = _plain(screen, "#detail-identity")
        assert "harbor" in identity and "2.0.0" in identity and "0.687" in identity
        scores = _plain(screen, "#detail-scores")
        assert "score_binary" in scores and "rewards" in scores and "unknown key" not in scores
        pane = (HARBOR / "milo-sample").rglob("gemini-3.1-pro-preview/run_1/agent/gemini.pane")
        text = next(pane).read_text().strip().splitlines()[0]
        assert text.strip() in _plain(screen, "#detail-panes")


async def test_harbor_replay_steps_through_atif_beside_the_recording(harbor: Store) -> None:
    cid = harbor.runs(Query("agent:opus run:3"), limit=1).to_pylist()[0]["cell_id"]
    clock = FrozenClock()
    app = CabApp(lambda progress: harbor, start=lambda s: ReplayScreen(s, cid), clock=clock)
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        s = screen.session
        assert s is not None and s.player is not None
        names = [sp.name for sp in s.timeline.spans]
        assert any(n.startswith("agent step") for n in names)
        calls = [sp for sp in s.timeline.spans if sp.kind == "model_call"]
        assert calls and len(s.timeline.calls) == len(calls)
        before = s.clock.position
        for _ in range(6):
            await pilot.press("right")
        await _settle(app, pilot)
        assert s.clock.position > before
        assert screen.selected is not None
        assert s.timeline.spans[screen.selected].start_ms == pytest.approx(s.clock.position)
        terminal = screen.query_one(TerminalView).text()
        assert len(terminal) > 0
        assert screen.query_one(Waterfall).display


async def test_tb_replay_switches_recordings_at_the_same_moment(tb: Store) -> None:
    cid = tb.runs(Query("task:*fix-greeting* run:1"), limit=1).to_pylist()[0]["cell_id"]
    app = CabApp(lambda progress: tb, start=lambda s: ReplayScreen(s, cid), clock=FrozenClock())
    async with app.run_test(size=SIZE) as pilot:
        screen = await ready(app, pilot)
        assert screen.session is not None and screen.session.which == 0
        assert (screen.session.source or "").endswith("agent.cast")
        await pilot.press("9")  # to 90% of the run: the tests are running
        await _settle(app, pilot)
        at = screen.session.clock.position
        await pilot.press("t")
        for _ in range(20):
            await _settle(app, pilot)
            if screen.session is not None and screen.session.which == 1:
                break
        s = screen.session
        assert s is not None and s.which == 1 and (s.source or "").endswith("tests.cast")
        assert s.clock.position == pytest.approx(at)
        assert "recording 2 of 2" in _plain(screen, "#status")
        shown = "\n".join(screen.query_one(TerminalView).text())
        header = json.loads(Path(s.source or "").read_text().split("\n", 1)[0])
        assert header["version"] == 2 and "failed" in shown  # the test run, not the agent


async def test_what_if_weights_over_a_harbor_jobs_axes(harbor: Store) -> None:
    """w on a sweep without a composite weighs its own axes: pass and cost (lower is better)
    give each run a what-if score, shown and sortable in both grids; the sweep's own takes it
    away again."""
    from textual.widgets import Input

    from cabtui.ui.screens.weights import WeightsScreen

    app = CabApp(lambda progress: harbor)
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        await pilot.press("w")
        form = app.screen
        assert isinstance(form, WeightsScreen) and not form.cab
        assert form.fields[:3] == ("pass", "total_tokens", "cost_usd")
        assert "rewards.score_binary" in form.fields
        form.query_one("#w-a0", Input).value = "1"
        form.query_one("#w-a2", Input).value = "1"
        await _settle(app, pilot)
        await pilot.press("ctrl+s")
        await _settle(app, pilot)
        assert isinstance(app.screen, BrowserScreen) and app.weights is not None
        assert app.weights.axes == (("pass", 1.0), ("cost_usd", 1.0))
        grid = screen.grid("runs")
        assert "what-if" in [c.label for c in grid.grid_columns]
        rows = harbor.runs(Query(), limit=None).to_pylist()
        lo, hi = min(r["cost_usd"] for r in rows), max(r["cost_usd"] for r in rows)
        expected = {r["cell_id"]: (r["pass"] + (hi - r["cost_usd"]) / (hi - lo)) / 2 for r in rows}
        shown = {r["cell_id"]: r["composite"] for r in grid.page.raw}
        assert shown.keys() == expected.keys()
        assert all(abs(shown[k] - expected[k]) < 1e-9 for k in expected)
        await pilot.press("g")
        await _settle(app, pilot)
        assert "what-if" in [c.label for c in screen.grid("cells").grid_columns]
        await pilot.press("g", "w", "ctrl+r")
        await _settle(app, pilot)
        assert screen.runs_query.weights is None
        assert "what-if" not in [c.label for c in screen.grid("runs").grid_columns]
        assert all(r["composite"] is None for r in screen.grid("runs").page.raw)


async def test_pivot_of_a_harbor_job_opens_on_pass_rate(harbor: Store) -> None:
    from cabtui.ui.screens.pivot import PivotScreen

    app = CabApp(lambda progress: harbor, start=lambda s: PivotScreen(s))
    async with app.run_test(size=SIZE) as pilot:
        await _settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, PivotScreen) and screen.value == "pass"
        assert screen.data is not None
        title = _plain(screen, "#pivot-title")
        assert "pass" in title.lower()


def test_what_if_score_of_a_run_missing_an_axis_stays_within_0_and_1() -> None:
    """A run without a value on an axis that every other run shares (one still running, say)
    is scored on the axes it has: the missing one neither adds nor weighs."""
    import duckdb

    from cabtui.scoring import axes_score_sql

    score = axes_score_sql([("a", 1.0, True), ("b", 1.0, True), ("c", 2.0, False)])
    rows = (
        duckdb.connect()
        .execute(
            f"SELECT {score} FROM (VALUES (1.0, 0.0, 1.0, NULL, 5.0, 5.0, 3.0, 1.0, 3.0), "
            "(0.0, 0.0, 1.0, 5.0, 5.0, 5.0, 1.0, 1.0, 3.0)) "
            "AS t(a, a_lo, a_hi, b, b_lo, b_hi, c, c_lo, c_hi)"
        )
        .fetchall()
    )
    # first: a at its best (1), c at its worst (0 after flipping): (1*1 + 2*0) / 3
    # second: a 0, b constant (1), c at its best: (0 + 1 + 2) / 4
    assert [round(r[0], 9) for r in rows] == [round(1 / 3, 9), 0.75]
