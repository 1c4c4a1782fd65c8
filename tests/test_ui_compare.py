"""Pilot tests of the compare screen: choosing two runs (browser marks, detail, pivot), the
linked cursor moving both runs and both terminals, the lock-step modes, the diffs section and
comparing two cells."""

from __future__ import annotations

import gc

import pytest
from textual.screen import Screen

from cabtui.compare.diff import diff_runs
from cabtui.compare.link import CLOCK, SPAN, Link
from cabtui.compare.values import AlignedPair, CellDiff, RunDiff, SpanSide
from cabtui.replay.engine import Player
from cabtui.store.store import Store
from cabtui.sweep.cast_reader import read_cast
from cabtui.ui.app import CabApp
from cabtui.ui.screens.browser import BrowserScreen
from cabtui.ui.screens.compare import CompareScreen
from cabtui.ui.screens.detail import DetailScreen
from cabtui.ui.screens.pivot import PivotScreen
from cabtui.ui.screens.playback import EPS
from cabtui.ui.widgets.aligned import AlignedSpans
from cabtui.ui.widgets.axes_diff import Summary
from cabtui.ui.widgets.terminal import TerminalView
from tests.pilot_helpers import plain_text, settle

MODEL = "meta/llama-4-maverick-17b-128e-instruct"
PASS = f"recorded-20261123/aider/{MODEL}/polyglot/rust-fix-failing-test"
FAIL = PASS + "#run2"
AIDER = f"expansion-20260616/aider/{MODEL}/mutations/rust-error-negated"
COPILOT = f"expansion-20260616/copilot/{MODEL}/mutations/rust-error-negated"
SIZE = (180, 50)


def compared(app: CabApp) -> bool:
    s = app.screen
    return isinstance(s, CompareScreen) and s.diff is not None and None not in s.sessions.values()


def compare_app(store: Store, a: str, b: str) -> CabApp:
    return CabApp(lambda p: store, start=lambda s: CompareScreen(s, a, b), clock=lambda: 0.0)


def plain(renderable: object) -> str:
    return plain_text(renderable, width=200)


def shown(screen: CompareScreen, side: str, t: float) -> list[str]:
    """What a fresh Player of ``side``'s recording shows at run time ``t``."""
    s = screen.sessions[side]
    assert s is not None and s.source is not None
    p = Player(read_cast(s.source))
    p.seek(s.clock.to_recording(t) + EPS)
    return p.text()


async def test_marking_two_runs_in_the_browser_opens_them(sample_store: Store) -> None:
    app = CabApp(lambda p: sample_store, clock=lambda: 0.0)
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, BrowserScreen))
        await settle(pilot, lambda: bool(app.screen.grid().page.raw))  # type: ignore[attr-defined]  # the screen under test is reached through App.screen, typed as the base Screen
        rows = [r["cell_id"] for r in app.screen.grid().page.raw]  # type: ignore[attr-defined]  # the screen under test is reached through App.screen, typed as the base Screen
        await pilot.press("m", "j", "m", "c")
        await settle(pilot, lambda: compared(app))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert (screen.a, screen.b) == (rows[0], rows[1])
        assert screen.diff is not None and screen.diff.a["cell_id"] == rows[0]
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, BrowserScreen))


async def test_right_moves_both_rows_and_terminals_in_span_mode(sample_store: Store) -> None:
    app = compare_app(sample_store, PASS, FAIL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: compared(app))
        screen = app.screen
        assert isinstance(screen, CompareScreen) and screen.link is not None
        link, spans = screen.link, screen.query_one(AlignedSpans)
        assert link.mode == SPAN
        for _ in range(9):
            await pilot.press("right")
        await pilot.pause()
        assert screen.row == 9 and spans.cursor == 9
        pair = link.pairs[9]
        assert pair.a is not None and pair.b is not None and pair.a.start_ms is not None
        assert screen.clock.position == pair.a.start_ms
        # B follows along the alignment, not the same clock
        assert screen.time_b == pytest.approx(link.lock.a_to_b(pair.a.start_ms))
        assert screen.time_b == pytest.approx(pair.b.start_ms)
        assert screen.time_b != screen.clock.position
        sb = screen.sessions["b"]
        assert sb is not None and sb.clock.position == pytest.approx(screen.time_b)
        term_a = screen.query_one("#cmp-term-a", TerminalView).text()
        term_b = screen.query_one("#cmp-term-b", TerminalView).text()
        assert term_a == shown(screen, "a", screen.clock.position)
        assert term_b == shown(screen, "b", screen.time_b)
        await pilot.press("left")
        await pilot.pause()
        assert screen.row == 8 and spans.cursor == 8


async def test_clock_mode_keeps_one_time_and_steps_move_the_row(sample_store: Store) -> None:
    app = compare_app(sample_store, PASS, FAIL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: compared(app))
        screen = app.screen
        assert isinstance(screen, CompareScreen) and screen.link is not None
        await pilot.press("l")
        assert screen.link.mode == CLOCK
        for _ in range(9):
            await pilot.press("right")
        await pilot.pause()
        a9 = screen.link.pairs[9].a
        assert a9 is not None and screen.time_b == screen.clock.position == a9.start_ms
        assert screen.query_one("#cmp-term-b", TerminalView).text() == shown(
            screen, "b", screen.clock.position
        )
        before = screen.clock.position
        await pilot.press("full_stop", "full_stop")
        await pilot.pause()
        assert screen.clock.position == pytest.approx(before + 200)
        assert screen.time_b == screen.clock.position
        await pilot.press("end")
        await pilot.pause()
        assert screen.row == len(screen.link.pairs) - 1
        await pilot.press("home")
        await pilot.pause()
        assert screen.clock.position == 0.0


async def test_d_jumps_to_where_the_traces_part(sample_store: Store) -> None:
    app = compare_app(sample_store, AIDER, COPILOT)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: compared(app))
        screen = app.screen
        assert isinstance(screen, CompareScreen) and isinstance(screen.diff, RunDiff)
        parted = screen.diff.spans.parted_at
        assert parted is not None and screen.diff.spans.pairs[parted].status == "only_a"
        await pilot.press("d")
        await pilot.pause()
        assert screen.row == parted and screen.query_one(AlignedSpans).cursor == parted
        # neither of the five real runs has a recording
        assert "no recording" in (screen.query_one("#cmp-term-a", TerminalView).message or "")


async def test_diffs_section_shows_a_file_only_in_a(sample_store: Store) -> None:
    app = compare_app(sample_store, AIDER, COPILOT)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: compared(app))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        assert not screen.query_one("#cmp-diffs").display
        await pilot.press("f")
        await pilot.pause()
        assert screen.query_one("#cmp-diffs").display
        assert not screen.query_one("#cmp-terms").display
        text = plain(screen.query_one("#cmp-diffs-body").content)  # type: ignore[attr-defined]  # the screen under test is reached through App.screen, typed as the base Screen
        only_a = diff_runs(sample_store, AIDER, COPILOT).files["modified"].only_a
        assert only_a == ("src/lib.rs",)
        row = next(line for line in text.splitlines() if line.strip().startswith("modified"))
        assert "src/lib.rs" in row
        assert "-test tests::gives_up_after_max_attempts ... ok" in text
        await pilot.press("f")
        await pilot.pause()
        assert not screen.query_one("#cmp-diffs").display
        # neither run has a recording: the terminals stay out and the summary has their room
        assert screen.has_class("-no-recordings")
        assert not screen.query_one("#cmp-terms").display


async def test_detail_same_task_other_cli_opens_a_compare(sample_store: Store) -> None:
    app = CabApp(lambda p: sample_store, start=lambda s: DetailScreen(s, AIDER))
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "data", None) is not None)
        await pilot.press("c")
        await settle(pilot, lambda: compared(app))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        other = screen.b
        assert screen.a == AIDER and other.startswith("expansion-20260616/")
        assert other.endswith("/mutations/rust-error-negated") and "/aider/" not in other
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, DetailScreen))
        await pilot.press("M")  # no other model ran this task with aider
        await pilot.pause()
        assert isinstance(app.screen, DetailScreen)


async def test_pivot_best_and_worst_or_a_notice(sample_store: Store) -> None:
    app = CabApp(lambda p: sample_store, start=lambda s: Screen())
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: type(app.screen) is Screen)
        pivot = PivotScreen(sample_store, rows="task_id", cols="tui")
        app.push_screen(pivot)
        await settle(pilot, lambda: pivot.data is not None)
        assert pivot.data is not None
        task = "polyglot/rust-fix-failing-test"
        r, c = pivot.data.rows.index(task), pivot.data.cols.index("aider") + 1
        pivot.query_one("#pivot-grid").move_cursor(row=r, column=c)  # type: ignore[attr-defined]  # the screen under test is reached through App.screen, typed as the base Screen
        await pilot.press("b")
        await settle(pilot, lambda: compared(app))
        assert isinstance(app.screen, CompareScreen)
        assert (app.screen.a, app.screen.b) == (PASS, FAIL)  # best first
        await pilot.press("escape")
        await settle(pilot, lambda: app.screen is pivot)
        r = pivot.data.rows.index("mutations/rust-error-negated")
        pivot.query_one("#pivot-grid").move_cursor(row=r, column=c)  # type: ignore[attr-defined]  # the screen under test is reached through App.screen, typed as the base Screen
        await pilot.press("b")
        await settle(pilot, lambda: True)
        assert app.screen is pivot  # type: ignore[comparison-overlap]  # the screen changed since the isinstance above


async def test_two_cells_show_means_with_intervals(sample_store: Store) -> None:
    cell = f"recorded-20261123/pi/{MODEL}/polyglot/python-shipping-threshold"
    app = compare_app(sample_store, PASS, cell)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: getattr(app.screen, "diff", None) is not None)
        screen = app.screen
        assert isinstance(screen, CompareScreen) and screen.diff is not None
        assert isinstance(screen.diff, CellDiff)
        assert not screen.query_one("#cmp-spans").display
        assert "n=2" in "\n".join(screen.query_one(Summary).text())


def test_link_maps_b_only_rows_and_toggles() -> None:
    def span(index: int, start_ms: float, duration_ms: float) -> SpanSide:
        return SpanSide(index, "step", f"s{index}", start_ms, duration_ms, False)

    pairs = [
        AlignedPair("match", 2.0, span(0, 0.0, 10.0), span(0, 0.0, 20.0)),
        AlignedPair("only_b", -1.0, None, span(1, 10.0, 5.0)),
        AlignedPair("match", 2.0, span(1, 10.0, 5.0), span(2, 20.0, 5.0)),
    ]
    link = Link(pairs)
    assert link.b_time(10.0) == 20.0
    assert link.times == [0.0, 5.0, 10.0]  # B's 10 ms is A's 5 ms along the alignment
    assert link.row_at(7.0) == 1
    link.toggle()
    assert link.b_time(10.0) == 10.0 and link.times == [0.0, 10.0, 10.0]


async def test_a_step_back_repaints_only_the_rows_that_differ(sample_store: Store) -> None:
    app = compare_app(sample_store, PASS, FAIL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: compared(app))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        sa = screen.sessions["a"]
        assert sa is not None
        screen.clock.seek(sa.clock.to_run(9.5))  # A's recording is silent from 8.04 s to 10.2 s
        screen._sync()
        await pilot.pause()
        term = screen.query_one("#cmp-term-a", TerminalView)
        before = term.repainted
        await pilot.press("comma")
        await pilot.pause()
        assert sa.clock.recording_time == pytest.approx(9.4)
        assert term.repainted == before  # the engine reports every row after a seek back
        assert term.text() == shown(screen, "a", screen.clock.position)


async def test_closing_lets_go_of_the_runs_and_undoes_only_its_own_gc_freeze(
    sample_store: Store,
) -> None:
    gc.unfreeze()
    app = CabApp(lambda p: sample_store, start=lambda s: Screen(), clock=lambda: 0.0)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, lambda: type(app.screen) is Screen)
            for app_froze_first in (False, True):
                if app_froze_first:  # as CabApp(freeze_gc=True) does once its first screen is up
                    gc.freeze()
                before = gc.get_freeze_count()
                screen = CompareScreen(sample_store, PASS, FAIL)
                app.push_screen(screen)
                await settle(pilot, lambda: compared(app))
                assert gc.get_freeze_count() > before  # the loaded runs are out of the GC's way
                app.pop_screen()
                await settle(pilot, lambda: type(app.screen) is Screen)
                assert screen.sessions == {"a": None, "b": None} and screen.diff is None
                if app_froze_first:
                    assert gc.get_freeze_count() >= before  # the app's freeze is not undone
                else:
                    assert gc.get_freeze_count() == 0
    finally:
        gc.unfreeze()
