"""Every screen of the app on the bundled samples, ready to be rendered at any terminal size:
for the snapshots at 80x24 and 120x40 and for the readability test (tests/test_ui_sizes.py).

``SCREENS`` maps a name to (the first screen, what to do once it is up). Every app is built on
the sample store with the clock frozen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from textual.pilot import Pilot
from textual.screen import Screen

from cabtui.store.query import Query
from cabtui.store.store import Store
from cabtui.ui.app import CabApp

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sweeps"
MODEL = "meta/llama-4-maverick-17b-128e-instruct"
AIDER = f"expansion-20260616/aider/{MODEL}/mutations/rust-error-negated"
COPILOT = f"expansion-20260616/copilot/{MODEL}/mutations/rust-error-negated"
RECORDED = f"recorded-20261123/aider/{MODEL}/polyglot/rust-fix-failing-test"
CAST = (
    SAMPLE / "recorded-20261123" / "runs" / "pi" / "qwen" / "qwen3-coder-480b-a35b-instruct"
    / "polyglot" / "terminal-colour-check" / "run-1" / "recording.cast"
)  # fmt: skip

Before = Callable[[Pilot[None]], Awaitable[None]]


async def settle(pilot: Pilot[None], ready: Callable[[Screen[Any]], bool] | None = None) -> None:
    """Let workers and messages run until ``ready(screen)`` (or a while)."""
    for _ in range(100):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if ready is not None and ready(pilot.app.screen):
            break
    await pilot.pause()


def _loaded(name: str, attr: str) -> Callable[[Screen[Any]], bool]:
    return lambda s: type(s).__name__ == name and getattr(s, attr, None) is not None


def _browser(store: Store) -> Screen[Any]:
    from cabtui.ui.screens.browser import BrowserScreen

    return BrowserScreen(store)


async def _browser_ready(pilot: Pilot[None]) -> None:
    await settle(pilot, _loaded("BrowserScreen", "all_runs"))


async def _cells(pilot: Pilot[None]) -> None:
    await _browser_ready(pilot)
    await pilot.press("g")
    await settle(pilot)


async def _weights(pilot: Pilot[None]) -> None:
    await _browser_ready(pilot)
    await pilot.press("w")
    await settle(pilot)


async def _help(pilot: Pilot[None]) -> None:
    await _browser_ready(pilot)
    await pilot.press("question_mark")
    await settle(pilot)


def _pivot(store: Store) -> Screen[Any]:
    from cabtui.ui.screens.pivot import PivotScreen

    return PivotScreen(store, Query())


def _detail(store: Store) -> Screen[Any]:
    from cabtui.ui.screens.detail import DetailScreen

    return DetailScreen(store, COPILOT)


def _replay(store: Store) -> Screen[Any]:
    from cabtui.ui.screens.replay import ReplayScreen

    return ReplayScreen(store, RECORDED)


def _replay_bare(store: Store) -> Screen[Any]:
    from cabtui.ui.screens.replay import ReplayScreen

    return ReplayScreen(None, None, CAST)


async def _replay_ready(pilot: Pilot[None]) -> None:
    await settle(pilot, _loaded("ReplayScreen", "session"))
    for _ in range(9):
        await pilot.press("right")
    await pilot.press(*["full_stop"] * 12)
    await settle(pilot)


async def _replay_bare_ready(pilot: Pilot[None]) -> None:
    await settle(pilot, _loaded("ReplayScreen", "session"))
    await pilot.press("5")
    await settle(pilot)


def _compare(store: Store) -> Screen[Any]:
    from cabtui.ui.screens.compare import CompareScreen

    return CompareScreen(store, AIDER, COPILOT)


async def _compare_ready(pilot: Pilot[None]) -> None:
    def ready(s: Screen[Any]) -> bool:
        sessions = getattr(s, "sessions", {})
        return getattr(s, "diff", None) is not None and None not in sessions.values()

    await settle(pilot, ready)
    await pilot.press("d")
    await settle(pilot)


class _Blocked:
    """A store opener that never finishes while the test looks (the loading screen)."""

    def __init__(self) -> None:
        import threading

        self.release = threading.Event()

    def __call__(self, progress: Any) -> Store:
        progress("reading results.jsonl", 3, 12)
        self.release.wait(30)
        raise RuntimeError("released")


SCREENS: dict[str, tuple[Callable[[Store], Screen[Any]] | None, Before]] = {
    "browser": (None, _browser_ready),
    "cells": (None, _cells),
    "pivot": (_pivot, lambda p: settle(p, _loaded("PivotScreen", "data"))),
    "detail": (_detail, lambda p: settle(p, _loaded("DetailScreen", "data"))),
    "replay": (_replay, _replay_ready),
    "replay_bare": (_replay_bare, _replay_bare_ready),
    "compare": (_compare, _compare_ready),
    "weights": (None, _weights),
    "help": (None, _help),
}


def make_app(store: Store, name: str) -> CabApp:
    start, _ = SCREENS[name]
    return CabApp(lambda progress: store, start=start, clock=lambda: 0.0)


def screen_lines(app: CabApp) -> list[str]:
    """What the terminal shows, one string a row."""
    strips = app.screen._compositor.render_strips()
    return ["".join(seg.text for seg in strip) for strip in strips]
