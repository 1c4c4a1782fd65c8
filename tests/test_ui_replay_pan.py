"""Panning a recording larger than its pane: shift+arrows move the view over the recorded
screen (clamped to its edges) and say so in the status line, c follows the cursor again; a
recording smaller than its pane is centred in it, its size said under it."""

from __future__ import annotations

from textual.widgets import Static

from cabtui.store.store import Store
from cabtui.ui.screens.replay import ReplayScreen
from cabtui.ui.widgets.terminal import TerminalView
from tests.screens_at_size import SCREENS, make_app, screen_lines


def _status(screen: ReplayScreen) -> str:
    return str(screen.query_one("#status", Static).render())


def _panned(term: TerminalView) -> bool:
    """Read afresh: mypy keeps an attribute narrowed by an earlier assert across a key press."""
    return term.panned


async def test_shift_arrows_pan_a_cropped_recording(sample_store: Store) -> None:
    app = make_app(sample_store, "replay")
    async with app.run_test(size=(80, 24)) as pilot:
        await SCREENS["replay"][1](pilot)
        screen = app.screen
        assert isinstance(screen, ReplayScreen) and screen.session is not None
        player = screen.session.player
        assert player is not None
        term = screen.query_one("#terminal", TerminalView)
        w, h = term.size
        assert term.cropped() and (player.cols, player.rows) == (100, 30) and w < 100 and h < 30
        assert not term.panned and "⇧←→" in _status(screen)  # narrow: the short form
        x0, y0 = term.view_x, term.view_y
        rows = [row.plain for row in term._rows]

        await pilot.press("shift+right")
        assert _panned(term) and (term.view_x, term.view_y) == (min(x0 + 8, 100 - w), y0)
        assert "panned, c" in _status(screen)
        # what the pane shows is the recorded screen from the new corner
        shown = term.render_line(0).text
        assert shown.rstrip() == rows[term.view_y][term.view_x : term.view_x + w].rstrip()

        await pilot.press("shift+down")
        assert term.view_y == min(y0 + 4, 30 - h)
        for _ in range(20):  # never past the recorded screen's edges
            await pilot.press("shift+right", "shift+down")
        assert (term.view_x, term.view_y) == (100 - w, 30 - h)
        for _ in range(20):
            await pilot.press("shift+left", "shift+up")
        assert (term.view_x, term.view_y) == (0, 0)

        await pilot.press("c")  # follow the cursor again
        assert not term.panned and (term.view_x, term.view_y) == (x0, y0)
        assert "⇧←→" in _status(screen)  # following the cursor again


async def test_a_small_recording_is_centred_with_its_size(sample_store: Store) -> None:
    app = make_app(sample_store, "replay_bare")
    async with app.run_test(size=(200, 60)) as pilot:
        await SCREENS["replay_bare"][1](pilot)
        screen = app.screen
        assert isinstance(screen, ReplayScreen)
        term = screen.query_one("#terminal", TerminalView)
        w, h = term.size
        assert not term.cropped()
        ox, oy = term.margins()
        assert (ox, oy) == ((w - 100) // 2, (h - 30) // 2) and ox > 0 and oy > 0
        lines = screen_lines(app)
        assert any("100×30 recording" in line for line in lines)
        ruler = next(i for i, line in enumerate(lines) if "ruler: 1234567890" in line)
        # the recorded rows start ox columns into the pane (after its border)
        assert lines[ruler].index("ruler:") == term.region.x + ox
