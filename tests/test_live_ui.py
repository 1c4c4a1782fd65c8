"""The browser following a sweep on disk while another process writes it (Pilot): new runs
appear in place, the cursor stays on its run, sort and marks stay, L pauses and resumes."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from textual.css.query import NoMatches
from textual.pilot import Pilot

from cabtui.store.live import Watcher
from cabtui.store.store import Store
from cabtui.ui.app import CabApp
from cabtui.ui.screens.browser import BrowserScreen
from cabtui.ui.widgets.live import LiveStatus
from tests.test_live_tail import HARBOR, partial_cab_sweep, writer

SIZE = (140, 40)


def live_app(path: Path) -> CabApp:
    return CabApp(lambda progress: Store.open(path), start=lambda s: BrowserScreen(s, Watcher(s)))


async def until(pilot: Pilot[None], ready: Callable[[], bool], timeout: float = 60) -> None:
    """Let the app run (its poll workers included) until ``ready()``; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not _ready(ready):
        if time.monotonic() > deadline:
            raise AssertionError("never ready")
        await pilot.pause(0.1)


def _ready(ready: Callable[[], bool]) -> bool:
    try:
        return ready()
    except NoMatches:  # the screen is up but has not composed its widgets yet
        return False


def browser(app: CabApp) -> BrowserScreen:
    assert isinstance(app.screen, BrowserScreen)
    return app.screen


async def showing(app: CabApp, pilot: Pilot[None], runs: int) -> BrowserScreen:
    """The browser, once its grid counts ``runs`` runs."""
    await until(pilot, lambda: isinstance(app.screen, BrowserScreen))
    screen = browser(app)
    await until(pilot, lambda: screen.grid().page.total == runs)
    return screen


def live_text(app: CabApp) -> str:
    return str(app.screen.query_one(LiveStatus).render())


async def test_runs_written_by_another_process_appear_with_cursor_sort_and_marks_kept(
    tmp_path: Path,
) -> None:
    full, live = partial_cab_sweep(tmp_path, runs=9, keep=3)
    app = live_app(live)
    async with app.run_test(size=SIZE) as pilot:
        screen = await showing(app, pilot, 3)
        # cell_id descending: runs arrive above the cursor and below it
        screen.runs_query = replace(screen.runs_query, sort="cell_id", descending=True)
        await until(pilot, lambda: screen.grid().page.keys[0] > screen.grid().page.keys[-1])
        await pilot.press("down", "down", "m")
        grid = screen.grid()
        at = grid.current_key()
        assert at is not None and grid.cursor_row == 2
        write = writer("cab", full, live, delay=0.2)
        await until(pilot, lambda: screen.grid().page.total == 9)
        assert write.wait(timeout=30) == 0
        grid = screen.grid()
        assert grid.current_key() == at  # same run, now further down
        assert grid.page.keys == tuple(sorted(grid.page.keys, reverse=True))
        assert screen.runs_query.sort == "cell_id" and screen.runs_query.descending
        assert app.marked == [at]
        assert live_text(app).startswith("live: +6 runs, last ")
        assert "shown 9 of 9 runs" in str(screen.query_one("#status").render())
        assert screen.store.total() == 9 and app.store is screen.store
        assert not screen.query_one("#problems").display  # half-written lines were not problems


async def test_l_pauses_and_resumes_following(tmp_path: Path) -> None:
    full, live = partial_cab_sweep(tmp_path, runs=4, keep=2)
    app = live_app(live)
    async with app.run_test(size=SIZE) as pilot:
        screen = await showing(app, pilot, 2)
        await pilot.press("L")
        assert live_text(app).startswith("live (paused: L resumes)")
        assert writer("cab", full, live, delay=0.05).wait(timeout=30) == 0
        await pilot.pause(1.5)
        assert screen.grid().page.total == 2  # paused: not followed
        await pilot.press("L")
        await until(pilot, lambda: screen.grid().page.total == 4)
        assert live_text(app).startswith("live: +2 runs")


async def test_trials_of_a_harbor_job_appear_as_they_are_written(tmp_path: Path) -> None:
    live = tmp_path / "job"
    shutil.copytree(HARBOR, live, ignore=shutil.ignore_patterns("run_2", "run_3"))
    app = live_app(live)
    async with app.run_test(size=SIZE) as pilot:
        screen = await showing(app, pilot, 3)
        write = writer("harbor", HARBOR, live, delay=0.2)
        await until(pilot, lambda: screen.grid().page.total == 9, timeout=90)
        assert write.wait(timeout=30) == 0
        assert sorted(r["run"] for r in screen.grid().page.raw) == [1, 1, 1, 2, 2, 2, 3, 3, 3]


async def test_an_open_pivot_and_detail_follow_runs_written_meanwhile(tmp_path: Path) -> None:
    """The pivot over the browser counts the runs that arrive; a run's detail open meanwhile
    is read again from the new store, not left on the old one."""
    from cabtui.store.detail import load_detail
    from cabtui.ui.screens.detail import DetailScreen
    from cabtui.ui.screens.pivot import PivotScreen

    full, live = partial_cab_sweep(tmp_path, runs=12, keep=3)
    app = live_app(live)
    async with app.run_test(size=SIZE) as pilot:
        screen = await showing(app, pilot, 3)
        await pilot.press("p")
        pivot = app.screen
        assert isinstance(pivot, PivotScreen)
        await until(pilot, lambda: pivot.data is not None and pivot.data.total == 3)
        first = writer("cab", full, live, delay=0.05, limit=4)
        assert first.wait(timeout=30) == 0
        await until(pilot, lambda: pivot.data is not None and pivot.data.total == 7)
        assert pivot.store is app.store
        await pilot.press("escape")
        await until(pilot, lambda: screen.grid().page.total == 7)
        await pilot.press("enter")
        detail = app.screen
        assert isinstance(detail, DetailScreen)
        await until(pilot, lambda: detail.data is not None)
        assert detail.data is not None
        before = detail.data
        assert writer("cab", full, live, delay=0.05).wait(timeout=30) == 0
        await until(pilot, lambda: app.store is not None and app.store.total() == 12)
        await until(pilot, lambda: detail.store is app.store)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert detail.data is not None and detail.data.run["cell_id"] == before.run["cell_id"]
        assert detail.data == load_detail(app.store, before.run["cell_id"], None)
