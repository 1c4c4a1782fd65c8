"""Helpers shared by the Pilot tests of the screens."""

from __future__ import annotations

import io
from collections.abc import Callable

from rich.console import Console
from textual.pilot import Pilot


async def settle(pilot: Pilot[None], ready: Callable[[], bool]) -> None:
    """Let messages and workers run until ``ready()``; fail if it never is."""
    for _ in range(200):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()
        if ready():
            return
    raise AssertionError("the screen never got ready")


def plain_text(renderable: object, width: int) -> str:
    """What a renderable shows, as plain text at the given width."""
    out = io.StringIO()
    console = Console(width=width, file=out, color_system=None)
    console.print(renderable)
    return out.getvalue()
