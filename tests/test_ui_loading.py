"""The loading screen: progress while the sweep opens, keys typed meanwhile reach the browser."""

from __future__ import annotations

import asyncio
import gc
import threading

import duckdb
import pytest

from cabtui.store.store import Store
from cabtui.ui.app import CabApp
from cabtui.ui.screens.browser import BrowserScreen
from cabtui.ui.screens.help import HelpScreen
from cabtui.ui.screens.loading import LoadingScreen
from tests.conftest import SAMPLE
from tests.pilot_helpers import settle


async def until(pilot, ready) -> None:  # type: ignore[no-untyped-def]  # Pilot and the test's callables are untyped here
    """Pause until ``ready()`` without waiting for workers (the opener is held on purpose)."""
    for _ in range(200):
        await pilot.pause()
        if ready():
            return
    raise AssertionError("never ready")


SIZE = (140, 40)


def gated(store: Store) -> tuple[threading.Event, object]:
    """An opener that reports a stage, then waits until the test lets it finish."""
    gate = threading.Event()

    def open_store(progress):  # type: ignore[no-untyped-def]  # Pilot and the test's callables are untyped here
        progress("runs", 1, 3)
        assert gate.wait(30), "the test never opened the gate"
        return store

    return gate, open_store


async def test_keys_typed_while_loading_reach_the_filter(sample_store: Store) -> None:
    gate, open_store = gated(sample_store)
    app = CabApp(open_store)  # type: ignore[arg-type]  # the gated opener is untyped (it takes and returns what Store.open does)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoadingScreen))
        # 'q' and '?' inside the filter text are text, not quit and help
        text = "tui:aider -model:q?* pass:0"
        await pilot.press("slash", *text, "enter")
        loading = app.screen
        assert isinstance(loading, LoadingScreen)
        assert text in str(loading.query_one("#loading-typed").render())
        gate.set()
        await settle(pilot, lambda: isinstance(app.screen, BrowserScreen))
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        await settle(pilot, lambda: screen.grid().page.total != 12)
        assert screen.filter_bar.text == text
        rows = screen.grid().page.raw
        assert rows and {r["tui"] for r in rows} == {"aider"}
        assert {r["pass"] for r in rows} == {0}
        assert app.focused is screen.grid()


async def test_app_keys_answer_while_loading(sample_store: Store) -> None:
    # its own store: the app quits before the opener returns, so the opener closes what it opened
    store = Store.open(SAMPLE)
    gate, open_store = gated(store)
    app = CabApp(open_store)  # type: ignore[arg-type]  # the gated opener is untyped (it takes and returns what Store.open does)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, LoadingScreen))
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert isinstance(app.screen, LoadingScreen)
        await pilot.press("q")
        await pilot.pause()
        assert app.return_code == 0 or not app.is_running
    gate.set()
    for thread in app.openers:
        thread.join(30)
    await asyncio.sleep(0.05)  # the opener hands its store back on the loop, which closes it
    with pytest.raises(duckdb.ConnectionException):
        store.cursor().execute("SELECT 1")
    assert sample_store.cursor().execute("SELECT 1").fetchone() == (1,)


@pytest.mark.parametrize("freeze", [False, True])
async def test_freeze_gc_once_the_first_screen_is_up(sample_store: Store, freeze: bool) -> None:
    gc.unfreeze()
    app = CabApp(lambda progress: sample_store, freeze_gc=freeze)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: isinstance(app.screen, BrowserScreen))
            await pilot.pause()
            assert (gc.get_freeze_count() > 0) is freeze
    finally:
        gc.unfreeze()
