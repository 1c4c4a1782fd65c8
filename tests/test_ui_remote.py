"""The terminal UI over a published sweep served by a real HTTP server (tests/remote_servers):
the grid comes from the local copy of the runs index, and a run that cannot be fetched says why
on the screen that asked while the rest of the sweep stays usable."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from cabtui.store.export import export
from cabtui.store.remote import RemoteStore
from cabtui.store.store import Store
from cabtui.ui.app import CabApp
from cabtui.ui.screens.browser import BrowserScreen
from cabtui.ui.screens.replay import ReplayScreen
from tests.pilot_helpers import settle
from tests.remote_servers import range_server


async def test_a_run_that_cannot_be_fetched_says_why(sample_store: Store, tmp_path: Path) -> None:
    export(sample_store, tmp_path / "pub")
    cid = next(
        r["cell_id"] for r in sample_store.runs(limit=None).to_pylist() if r["has_recording"]
    )
    with range_server(tmp_path) as server:
        store = RemoteStore.open_url(f"{server.url}/pub", timeout=2)
        opened = server.behaviour.sent
        app = CabApp(lambda p: store)
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot, lambda: isinstance(app.screen, BrowserScreen))
            grid = app.screen.query_one("#runs")
            await settle(pilot, lambda: grid.page.total == sample_store.total())  # type: ignore[attr-defined]  # the grid widget is reached by id
            assert server.behaviour.sent == opened  # the grid is local
            server.behaviour.status = 403
            app.push_screen(ReplayScreen(store, cid))
            await settle(pilot, lambda: isinstance(app.screen, ReplayScreen))

            def status() -> str:
                return str(app.screen.query_one("#status", Static).content)

            await settle(pilot, lambda: "access denied (403)" in status())
            assert app.is_running and not store.fetched(cid)
            app.pop_screen()
            await pilot.press("g")  # the browser still answers
            await pilot.pause()
            assert isinstance(app.screen, BrowserScreen) and app.screen.view == "cells"
            server.behaviour.status = None
            app.push_screen(ReplayScreen(store, cid))
            await settle(pilot, lambda: isinstance(app.screen, ReplayScreen))
            await settle(pilot, lambda: store.fetched(cid))
        store.close()


async def test_a_url_that_cannot_be_opened_says_why(sample_store: Store, tmp_path: Path) -> None:
    from cabtui.ui.screens.loading import LoadingScreen

    export(sample_store, tmp_path / "pub")
    with range_server(tmp_path) as server:
        app = CabApp(lambda p: RemoteStore.open_url(f"{server.url}/gone", p, timeout=2))
        async with app.run_test(size=(120, 36)) as pilot:

            def stage() -> str:
                return str(app.screen.query_one("#loading-stage", Static).content)

            await settle(pilot, lambda: "Could not open" in stage())
            assert isinstance(app.screen, LoadingScreen)
            assert f"not found (404): {server.url}/gone/manifest.json" in stage()
            assert "Error" not in stage()
            assert app.is_running


async def test_a_detail_that_cannot_be_fetched_is_a_notification(
    sample_store: Store, tmp_path: Path
) -> None:
    from cabtui.ui.screens.detail import DetailScreen

    export(sample_store, tmp_path / "pub")
    cid = sample_store.runs(limit=1).column("cell_id").to_pylist()[0]
    with range_server(tmp_path) as server:
        store = RemoteStore.open_url(f"{server.url}/pub", timeout=1)
        server.behaviour.stall = 2.0  # slower than the timeout
        app = CabApp(lambda p: store, start=lambda s: DetailScreen(s, cid))
        async with app.run_test(size=(120, 36)) as pilot:
            for _ in range(200):  # (settle would re-raise the failed worker it waits for)
                if any("timed out" in n.message for n in app._notifications):
                    break
                await pilot.pause(0.05)
            note = next(n.message for n in app._notifications if "timed out" in n.message)
            assert note.startswith("timed out reading ") and "Error" not in note
            assert app.is_running and not store.fetched(cid)
        server.behaviour.stall = 0.0
        store.close()


async def test_the_replay_shows_a_large_recording_arriving(
    sample_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cabtui.ui.widgets.terminal import TerminalView

    export(sample_store, tmp_path / "pub")
    monkeypatch.setattr("cabtui.store.remote.CHUNK", 2000)
    shown: list[str] = []
    original = TerminalView.show_message

    def recorded(self: TerminalView, message: str) -> None:
        shown.append(message)
        original(self, message)

    monkeypatch.setattr(TerminalView, "show_message", recorded)
    cid = next(
        r["cell_id"] for r in sample_store.runs(limit=None).to_pylist() if r["has_recording"]
    )
    with range_server(tmp_path) as server:
        store = RemoteStore.open_url(f"{server.url}/pub")
        app = CabApp(lambda p: store, start=lambda s: ReplayScreen(s, cid))
        async with app.run_test(size=(120, 36)) as pilot:
            await settle(pilot, lambda: isinstance(app.screen, ReplayScreen))
            await settle(pilot, lambda: store.fetched(cid) and app.screen.session is not None)  # type: ignore[attr-defined]  # the replay screen under test, typed as the base Screen
            fetching = [m for m in shown if m.startswith("Fetching the recording…")]
            assert len(fetching) > 1 and fetching[-1].split("… ")[1].split(" of ")[0] == (
                fetching[-1].split(" of ")[1].removesuffix(" MB")
            )
        store.close()
