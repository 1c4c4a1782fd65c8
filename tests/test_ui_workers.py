"""The one worker policy: a worker that raises shows why on the screen that asked, and the app
keeps running; searches can be cancelled; help lists the keys of the app that runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from textual.screen import Screen
from textual.widgets import Static

from cabtui.replay.engine import Player
from cabtui.store.query import Query
from cabtui.store.store import Store
from cabtui.sweep.cast_reader import read_cast
from cabtui.ui.app import CabApp
from cabtui.ui.base import CabBase, KeysProvider
from cabtui.ui.replay_app import ReplayApp
from cabtui.ui.screens.browser import BrowserScreen
from cabtui.ui.screens.help import HelpScreen
from cabtui.ui.screens.pivot import PivotScreen
from cabtui.ui.screens.replay import ReplayScreen
from tests.pilot_helpers import plain_text, settle

ROOT = Path(__file__).resolve().parent.parent
CAST = ROOT / "recordings" / "cargo-fix.cast"


def broken(*args: Any, **kwargs: Any) -> Any:
    raise duckdb.IOException("IO Error: the cache file went away [x]")


def notes(app: CabBase) -> list[str]:
    return [n.message for n in app._notifications]


async def test_a_failing_query_is_shown_and_the_app_keeps_running(
    sample_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sample_store, "total", broken)  # the browser's facts worker
    app = CabApp(lambda p: sample_store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: any("went away" in n for n in notes(app)))
        assert app.is_running and isinstance(app.screen, BrowserScreen)
        assert "IOException: IO Error: the cache file went away [x]" in notes(app)
        await settle(pilot, lambda: app.screen.query_one("#runs").page.total > 0)  # type: ignore[attr-defined]  # the screen under test is reached through App.screen, typed as the base Screen
        await pilot.press("g")  # the screen still answers its keys
        await pilot.pause()
        assert isinstance(app.screen, BrowserScreen) and app.screen.view == "cells"
    assert app.return_code in (None, 0)


async def test_a_failing_page_fetch_is_shown(
    sample_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = CabApp(lambda p: sample_store)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, BrowserScreen))
        await app.workers.wait_for_complete()
        monkeypatch.setattr(sample_store, "count_cells", broken)
        await pilot.press("g")  # the cells grid is fetched afresh
        await settle(pilot, lambda: any("went away" in n for n in notes(app)))
        assert app.is_running


async def test_a_failing_pivot_says_why_in_its_title(
    sample_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = CabApp(lambda p: sample_store, start=lambda s: Screen())
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot, lambda: type(app.screen) is Screen)
        monkeypatch.setattr("cabtui.ui.screens.pivot.load_pivot", broken)
        screen = PivotScreen(sample_store, Query())
        app.push_screen(screen)

        def title() -> str:
            return str(screen.query_one("#pivot-title", Static).content)

        await settle(pilot, lambda: "went away" in title())
        assert title() == "IOException: IO Error: the cache file went away [x]"
        assert app.is_running and app.screen is screen


async def test_a_failing_replay_load_is_shown_on_the_replay(
    sample_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("cabtui.ui.screens.replay_session.load_session", broken)
    app = CabApp(lambda p: sample_store, start=lambda s: ReplayScreen(s, "anything"))
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, ReplayScreen))

        def status() -> str:
            return str(app.screen.query_one("#status", Static).content)

        await settle(pilot, lambda: "went away" in status())
        assert app.is_running and not notes(app)


def test_a_search_stops_once_cancelled() -> None:
    player = Player(read_cast(CAST))
    everything = player.search("e")
    assert everything
    assert player.search("e", lambda: True) == []
    assert player.search("e", lambda: False) == everything


async def test_help_of_the_bare_replay_lists_its_keys() -> None:
    app = ReplayApp(CAST, clock=lambda: 0.0)
    async with app.run_test(size=(120, 60)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, ReplayScreen))
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = plain_text(app.screen.query_one("#help-table", Static).content, 120)
        assert "Keys: Replay" in text
        for key in ("space", "Play or pause", "Search the terminal text", "ctrl+p", "Quit"):
            assert key in text
        assert "Filter" not in text  # no browser keys
    assert KeysProvider in ReplayApp.COMMANDS and ReplayApp.CSS_PATH == CabApp.CSS_PATH
