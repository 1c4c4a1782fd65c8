"""The sweep browser, driven through Pilot on the bundled sample sweeps (12 runs, 10 cells)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual_fastdatatable import DataTable

from cabtui.scoring import Weights
from cabtui.store.query import Query
from cabtui.store.store import Store
from cabtui.sweep.synth import synth_sweep
from cabtui.ui.app import CabApp
from cabtui.ui.screens.browser import BrowserScreen
from cabtui.ui.screens.browser_pages import WINDOW, Kind
from cabtui.ui.widgets.columns import RUN_GRID, clip, format_rows
from cabtui.ui.widgets.filter_bar import FilterBar
from cabtui.ui.widgets.grid import Grid, Page

SIZE = (140, 40)


async def settle(app: CabApp, pilot: Pilot[None]) -> None:
    """Until the messages and the query workers they start are done."""
    for _ in range(4):
        await pilot.pause()
        await app.workers.wait_for_complete()


async def browser(app: CabApp, pilot: Pilot[None]) -> BrowserScreen:
    await settle(app, pilot)
    screen = app.screen
    assert isinstance(screen, BrowserScreen)
    return screen


def status(screen: BrowserScreen) -> str:
    return str(screen.query_one("#status").render())


def column(grid: Grid, key: str) -> list[Any]:
    return [row[key] for row in grid.page.raw]


async def test_opens_on_every_run(sample_store: Store) -> None:
    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        grid = screen.grid()
        assert grid.id == "runs"
        assert grid.page.total == 12 == grid.row_count
        assert status(screen).startswith("shown 12 of 12 runs")
        assert app.focused is grid


async def test_filter_follows_keystrokes(sample_store: Store) -> None:
    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        await pilot.press("slash", *"tui:aider")
        await settle(app, pilot)
        grid = screen.grid()
        assert set(column(grid, "tui")) == {"aider"}
        assert grid.page.total == 3
        assert "shown 3 of 12 runs" in status(screen)
        assert "filter tui:aider" in status(screen)
        # enter keeps the filter and goes back to the grid; esc in the bar clears it
        await pilot.press("enter")
        assert app.focused is grid
        await pilot.press("slash", "escape")
        await settle(app, pilot)
        assert grid.page.total == 12
        assert app.focused is grid
        # history: up brings the last filter back
        await pilot.press("slash", "up")
        await settle(app, pilot)
        assert screen.filter_bar.text == "tui:aider"
        assert grid.page.total == 3


async def test_bad_term_is_shown_and_keeps_the_last_good_query(sample_store: Store) -> None:
    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        await pilot.press("slash", *"tui:pi ")
        await settle(app, pilot)
        screen.filter_bar.input.insert_text_at_cursor("wall<abc")  # pasted: one change
        await settle(app, pilot)
        bar = screen.query_one(FilterBar)
        assert bar.error is not None
        assert "wall<abc" == bar.text[bar.error.start : bar.error.end]
        assert bar.error.message in str(screen.query_one("#filter-error").render())
        # the bad term is underlined inside the input itself, and only that term
        line = bar.input.render_line(0)
        underlined = "".join(s.text for s in line if s.style is not None and s.style.underline)
        assert underlined == "wall<abc"
        assert line.text.startswith("tui:pi wall<abc")
        assert "bad filter" in status(screen)
        # the grid still shows the last filter that compiled: "tui:pi "
        assert set(column(screen.grid(), "tui")) == {"pi"}


async def test_sort_keys_and_header_click(sample_store: Store) -> None:
    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        grid = screen.grid()
        comp = 1 + [c.key for c in grid.grid_columns].index("composite")
        grid.move_cursor(column=comp)
        await pilot.press("s")
        await settle(app, pilot)
        values = column(grid, "composite")
        assert values == sorted(values)
        assert "sort comp ↑" in status(screen)
        await pilot.press("S")
        await settle(app, pilot)
        assert column(grid, "composite") == sorted(values, reverse=True)
        # a click on the wall header sorts by wall time
        await pilot.click(
            grid, offset=(sum(c.render_width for c in grid.ordered_columns[:9]) + 2, 0)
        )
        await settle(app, pilot)
        assert screen.runs_query.sort == "wall_clock_ms"
        walls = column(grid, "wall_clock_ms")
        assert walls == sorted(walls)


async def test_vim_keys_move_the_cursor(sample_store: Store) -> None:
    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        grid = screen.grid()
        await pilot.press("j", "j", "l")
        assert (grid.cursor_row, grid.cursor_column) == (2, 1)
        await pilot.press("k", "h")
        assert (grid.cursor_row, grid.cursor_column) == (1, 0)


async def test_cells_grid_and_drill_down(sample_store: Store) -> None:
    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        await pilot.press("g")
        await settle(app, pilot)
        cells = screen.grid()
        assert cells.id == "cells" and app.focused is cells
        assert cells.page.total == 10
        assert sum(column(cells, "n")) == 12
        # the cell with two reruns: a pass rate of 0.5 with its Wilson interval
        i = column(cells, "n").index(2)
        assert "0.50 [" in str(cells.page.rows[i][7])
        cells.move_cursor(row=i)
        await pilot.press("enter")
        await settle(app, pilot)
        runs = screen.grid()
        assert runs.id == "runs"
        assert runs.page.total == 2
        assert len(set(column(runs, "cell_id"))) == 2
        assert screen.filter_bar.text.startswith('cell:"')


@pytest.mark.skipif(
    importlib.util.find_spec("cabtui.ui.screens.detail") is None, reason="no detail screen"
)
async def test_enter_opens_the_detail_and_esc_comes_back(sample_store: Store) -> None:
    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        key = screen.grid().current_key()
        await pilot.press("enter")
        await settle(app, pilot)
        assert type(app.screen).__name__ == "DetailScreen"
        assert getattr(app.screen, "cell_id", key) == key
        await pilot.press("escape")
        await settle(app, pilot)
        assert app.screen is screen


async def test_pivot_drill_down_sets_the_filter(sample_store: Store) -> None:
    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        await pilot.press("g")
        await settle(app, pilot)
        screen.pivot_done("tui:opencode model:qwen*")
        await settle(app, pilot)
        assert screen.view == "runs"
        assert screen.filter_bar.text == "tui:opencode model:qwen*"
        assert column(screen.grid(), "tui") == ["opencode"]
        screen.pivot_done(None)  # dismissed without a choice: nothing changes
        await settle(app, pilot)
        assert screen.grid().page.total == 1


async def test_what_if_weights_re_rank(sample_store: Store) -> None:
    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        grid = screen.grid()
        before = dict(zip(column(grid, "cell_id"), column(grid, "composite"), strict=True))
        app.weights = Weights(pass_rate=0, integrity=0, cost=0, latency=1, blast_radius=0)
        await settle(app, pilot)
        assert screen.runs_query.weights == app.weights
        after = dict(zip(column(grid, "cell_id"), column(grid, "composite"), strict=True))
        assert after != before
        # the recorded composite stays visible beside the what-if one
        assert (
            dict(zip(column(grid, "cell_id"), column(grid, "composite_recorded"), strict=True))
            == before
        )
        assert "what-if weights" in status(screen)
        grid.move_cursor(column=1 + [c.key for c in grid.grid_columns].index("composite"))
        await pilot.press("s", "S")
        await settle(app, pilot)
        ranked = column(grid, "composite")
        assert ranked == sorted(ranked, reverse=True)


async def test_marking_keeps_the_two_latest(sample_store: Store) -> None:
    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        grid = screen.grid()
        keys = column(grid, "cell_id")
        await pilot.press("m", "j", "m", "j", "m")
        assert app.marked == [keys[1], keys[2]]
        assert "● 2 marked" in status(screen)
        assert str(grid.get_cell_at(Coordinate(2, 0))) == "●"
        assert str(grid.get_cell_at(Coordinate(0, 0))) == " "
        await pilot.press("m")  # unmark the current one
        assert app.marked == [keys[1]]
        await pilot.press("c")  # one marked: a hint, no screen
        await settle(app, pilot)
        assert app.screen is screen


@pytest.fixture()
def broken_store(sweep_copy: Path) -> Store:
    """The five real runs and one line of results.jsonl that is not JSON."""
    with open(sweep_copy / "results.jsonl", "a") as f:
        f.write('{"cell_id": broken\n')
    return Store.open(sweep_copy)


async def test_problems_panel(broken_store: Store) -> None:
    app = CabApp(lambda progress: broken_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        panel = screen.query_one("#problems")
        assert panel.display
        assert "results.jsonl:" in str(screen.query_one("#problems-text").render())
        await pilot.press("P")
        assert not panel.display


async def test_keys_typed_in_one_burst_after_slash_reach_the_filter(sample_store: Store) -> None:
    """Keys that arrive together with "/" (a fast typist, a paste, tmux send-keys) are queued
    before the binding runs; they must still land in the filter bar, and "/" inside the filter
    is text."""
    from textual import events
    from textual.keys import _character_to_key

    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        typed = "/tui:pi model:meta/llama*"
        for ch in typed:  # all queued at once, none processed in between
            app.post_message(events.Key(_character_to_key(ch), ch))
        await settle(app, pilot)
        assert screen.query_one(FilterBar).text == typed[1:]
        assert screen.grid().page.total == sample_store.count(Query(typed[1:])) == 3


@pytest.fixture(scope="module")
def big_store(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> Store:
    """A synthetic sweep of 2,000 runs: five of the grid's windows."""
    path = tmp_path_factory.mktemp("big") / "synthetic"
    synth_sweep(path, runs=2000)
    return Store.open(path)


def painted(grid: Grid) -> list[str]:
    """The grid's body lines, as painted."""
    return [grid.render_line(y).text for y in range(1, grid.size.height)]


def assert_shows_the_store(grid: Grid, store: Store) -> None:
    """Every row on screen is painted with the run the store has at that row, none as "·"."""
    top = round(grid.scroll_y)
    lines = painted(grid)
    runs = store.runs(Query(), limit=len(lines), offset=top).to_pylist()
    assert len(runs) == len(lines)
    for i, (line, run, cells) in enumerate(zip(lines, runs, format_rows(runs, RUN_GRID))):
        assert "·" not in line, f"row {top + i} is still a placeholder"
        assert grid.page.key(top + i) == run["cell_id"]
        widths = dict(grid.window.shown)  # tui, model, task, family, as laid out (clipped)
        shown = [str(clip(c, widths[n])) for n, c in enumerate(cells[:4])]
        assert line.split()[: len(" ".join(shown).split())] == " ".join(shown).split()


async def test_paging_far_paints_real_rows(big_store: Store) -> None:
    """Page down a sweep five windows long, in bursts of keys and one key at a time, then to
    the end and back: once the windows arrive, every row on screen is the store's."""
    app = CabApp(lambda progress: big_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        grid = screen.grid()
        assert grid.page.total == 2000 > 4 * WINDOW
        for _ in range(20):  # held down: queued together, none handled in between
            app.post_message(events.Key("pagedown", None))
        await settle(app, pilot)
        assert grid.cursor_row > WINDOW
        assert grid.page.offset > 0
        assert_shows_the_store(grid, big_store)
        for _ in range(15):
            await pilot.press("pagedown")
            await settle(app, pilot)
            assert_shows_the_store(grid, big_store)
        await pilot.press("ctrl+end")
        await settle(app, pilot)
        assert grid.cursor_row == 1999
        assert_shows_the_store(grid, big_store)
        for _ in range(12):
            app.post_message(events.Key("pageup", None))
        await settle(app, pilot)
        assert_shows_the_store(grid, big_store)
        await pilot.press("ctrl+home")
        await settle(app, pilot)
        assert (grid.cursor_row, grid.page.offset) == (0, 0)
        assert_shows_the_store(grid, big_store)


async def test_window_is_asked_for_once_ahead_of_the_cursor(big_store: Store) -> None:
    """Moving row by row towards the window's end asks for the next window once, before the
    cursor gets there; the rows it shares with the window held are not repainted."""
    app = CabApp(lambda progress: big_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        grid = screen.grid()
        asked: list[int] = []
        run = screen._run

        def counted(kind: Kind, q: Query, offset: int, fresh: bool, group: str) -> None:
            asked.append(offset)
            run(kind, q, offset, fresh, group)

        screen._run = counted  # type: ignore[method-assign]  # counts the windows asked for
        grid.move_cursor(row=WINDOW - 150)
        await settle(app, pilot)
        assert asked == []
        count = grid._update_count
        for _ in range(40):
            app.post_message(events.Key("down", None))
        await settle(app, pilot)
        assert len(asked) == 1
        assert grid.page.offset == asked[0] > 0
        assert grid.page.offset + len(grid.page.rows) > grid.cursor_row + 120
        assert grid._update_count == count  # the same rows: nothing to repaint
        assert_shows_the_store(grid, big_store)


CRAFTED = [
    Text("plain"),
    Text("left", style="bold red", justify="left"),
    Text("0.50", style="green", justify="right"),
    Text("trailing  ", justify="right"),  # rich strips before right-justifying
    Text("centre", justify="center"),
    Text("wider than its column, by far"),
    Text("line\nbreak"),
    Text("tab\there"),
    Text(""),
    Text("日本語", style="cyan"),
    Text("no such style", style="not-a-style"),
    Text.assemble(("0.5", "yellow"), ("*", "bold red"), justify="right"),
    Text.assemble(("a", "green"), ("bc", "bold"), " d", style="italic"),
    Text.assemble("0.67", (" [0.21–0.94]", "dim")),
]


async def test_cells_are_painted_as_fastdatatable_paints_them(sample_store: Store) -> None:
    """The grid lays its cells out itself (for speed); every cell, in every cursor and hover
    state and row style, must come out as the same segments as fastdatatable's own rendering
    through rich: the rows of both grids of the sample sweep, and texts made to hit every
    layout case."""
    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)

        def simplified(lines: list[list[Segment]]) -> list[list[Segment]]:
            return [list(Segment.simplify(s for s in line if s.text)) for line in lines]

        def compare(grid: Grid, rows: range) -> int:
            n = 0
            for row in rows:
                for col, column in enumerate(grid.ordered_columns):
                    for state in [(0, 0, 0), (1, 0, 0), (0, 1, 0), (0, 0, 1)]:
                        for base in (grid.rich_style, Style(bgcolor="blue", italic=True)):
                            cursor, hover, in_range = map(bool, state)
                            args = (row, col, base, column.render_width, cursor, hover, in_range)
                            grid._clear_caches()
                            ours = Grid._render_cell(grid, *args)
                            grid._clear_caches()
                            theirs = DataTable._render_cell(grid, *args)
                            assert simplified(ours) == simplified(theirs), (row, col, state)
                            n += 1
            return n

        runs = screen.grid()
        assert compare(runs, range(runs.page.total))
        await pilot.press("g")
        await settle(app, pilot)
        cells = screen.grid()
        assert cells.id == "cells"
        assert compare(cells, range(cells.page.total))
        width = len(RUN_GRID)
        rows = tuple(
            tuple(CRAFTED[(i + j) % len(CRAFTED)] for j in range(width))
            for i in range(len(CRAFTED))
        )
        keys = tuple(f"k{i}" for i in range(len(rows)))
        runs.load(Page(len(rows), 0, rows, keys, generation=-1))
        runs.set_marked(["k1"])
        assert compare(runs, range(len(rows)))


async def test_thousands_of_pasted_terms_are_refused_and_the_grid_kept(sample_store: Store) -> None:
    """A paste of 3,000 terms into the filter bar: the error shows, the last good query stays,
    and the app still answers keys."""
    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=SIZE) as pilot:
        screen = await browser(app, pilot)
        await pilot.press("slash", *"tui:pi ")
        await settle(app, pilot)
        screen.filter_bar.input.insert_text_at_cursor(" ".join(f"tui:a{i}" for i in range(3000)))
        await settle(app, pilot)
        bar = screen.query_one(FilterBar)
        assert bar.error is not None and "more than 64 terms" in bar.error.message
        assert set(column(screen.grid(), "tui")) == {"pi"}
        await pilot.press("escape")
        await settle(app, pilot)
        assert screen.filter_bar.text == ""
