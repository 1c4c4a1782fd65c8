"""The pivot heatmap, driven with Pilot on the sample sweeps."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rich.text import Text
from textual.coordinate import Coordinate
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Static

from cabtui.compare.stats import paired
from cabtui.scoring import Weights
from cabtui.store.filter import compile_filter
from cabtui.store.query import Query
from cabtui.store.store import Store
from cabtui.ui.app import CabApp
from cabtui.ui.screens.pivot import PivotScreen, term
from cabtui.ui.widgets.heatmap import Heatmap, fmt_value, wrap_label
from tests.pilot_helpers import plain_text, settle


async def open_pivot(
    pilot: Pilot[None], store: Store, query: Query, results: list[str | None]
) -> PivotScreen:
    app = pilot.app
    await settle(pilot, lambda: type(app.screen) is Screen)
    screen = PivotScreen(store, query)
    app.push_screen(screen, results.append)
    await settle(pilot, lambda: screen.data is not None)
    return screen


def cell(grid: Heatmap, row: int, col: int) -> str:
    value = grid.get_cell_at(Coordinate(row, col))
    return value.plain.strip() if isinstance(value, Text) else str(value).strip()


async def test_cursor_value_cycling_and_enter_filter(sample_store: Store) -> None:
    app = CabApp(lambda p: sample_store, start=lambda s: Screen())
    results: list[str | None] = []
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_pivot(pilot, sample_store, Query(), results)
        grid = screen.query_one(Heatmap)
        assert (screen.rows, screen.cols) == ("tui", "model")
        assert tuple(grid.cursor_coordinate) == (0, 1)
        await pilot.press("j", "j", "down")
        assert tuple(grid.cursor_coordinate) == (3, 1)
        await pilot.press("k")
        assert tuple(grid.cursor_coordinate) == (2, 1)  # opencode x llama
        before = cell(grid, 2, 1)
        await pilot.press("v")
        after = cell(grid, 2, 1)
        assert before != after and after.endswith("%")  # composite -> pass rate
        assert "95% CI" in str(screen.query_one("#pivot-detail", Static).content)
        stats = screen.data.stats(2, 1)  # type: ignore[union-attr]  # the value was checked not None by the wait before it (mypy cannot see across the await)
        await pilot.press("enter")
        await pilot.pause()
        assert len(results) == 1 and results[0] is not None
        chosen = results[0]
        assert "tui:" in chosen and "model:" in chosen
        assert sample_store.count(Query(chosen)) == stats["n"] > 0  # type: ignore[index]  # stats() gives None off the grid; (2, 1) is on it


async def test_margins_are_means_of_runs_and_dims_cycle(sample_store: Store) -> None:
    app = CabApp(lambda p: sample_store, start=lambda s: Screen())
    results: list[str | None] = []
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_pivot(pilot, sample_store, Query("family:polyglot,mutations"), results)
        grid = screen.query_one(Heatmap)
        data = screen.data
        assert data is not None
        rows = sample_store.aggregate(("tui",), Query("family:polyglot,mutations")).to_pylist()
        cols = sample_store.aggregate(("model",), Query("family:polyglot,mutations")).to_pylist()
        last_col, last_row = len(data.cols) + 1, len(data.rows)
        for i, r in enumerate(rows):
            assert cell(grid, i, last_col) == fmt_value("composite", r["composite_mean"])
        for j, c in enumerate(cols):
            assert cell(grid, last_row, j + 1) == fmt_value("composite", c["composite_mean"])
        # a row margin opens that row's runs, the pivot's own filter kept
        grid.cursor_coordinate = grid.cursor_coordinate._replace(row=0, column=last_col)
        chosen = screen.filter_for(0, last_col)
        assert chosen is not None and chosen.startswith("family:polyglot,mutations ")
        assert sample_store.count(Query(chosen)) == rows[0]["n"]
        await pilot.press("1")
        await settle(pilot, lambda: screen.data is not None and screen.data.rows_dim == "task_id")
        await pilot.press("2")
        await settle(pilot, lambda: screen.data is not None and screen.data.cols_dim == "family")
        for i, task in enumerate(screen.data.rows):  # type: ignore[union-attr]  # the value was checked not None by the wait before it (mypy cannot see across the await)
            assert sample_store.count(Query(screen.filter_for(i, 0))) > 0, task  # type: ignore[arg-type]  # filter_for may give None off the grid; these cells are on it
        await pilot.press("escape")
        await pilot.pause()
        assert results == [None]


async def test_what_if_weights_requery(sample_store: Store) -> None:
    app = CabApp(lambda p: sample_store, start=lambda s: Screen())
    results: list[str | None] = []
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_pivot(pilot, sample_store, Query(), results)
        grid = screen.query_one(Heatmap)
        before = cell(grid, 0, 1)
        screen.data = None
        app.weights = Weights(pass_rate=1.0, integrity=0.0, cost=0.0, latency=0.0, blast_radius=0.0)
        await settle(pilot, lambda: screen.data is not None)
        expected = sample_store.pivot("tui", "model", Query(weights=app.weights)).to_pylist()[0]
        assert cell(grid, 0, 1) == fmt_value("composite", expected["composite_mean"]) != before


@pytest.mark.parametrize(
    "value",
    [
        "aider",
        "meta/llama-4-maverick-17b-128e-instruct",
        "a b,c*d?",
        "polyglot/rust-fix.failing-test",
    ],
)
def test_terms_select_literal_values(value: str) -> None:
    """Slashes, dots, spaces, commas and glob characters stay literal: one exact comparison."""
    compiled = compile_filter(term("tui", value))
    assert compiled.params == [value] and "LIKE" not in compiled.sql


def test_a_double_quote_becomes_a_one_character_wildcard() -> None:
    compiled = compile_filter(term("tui", 'say "hi"'))
    assert compiled.params == ["say _hi_"] and "LIKE" in compiled.sql


@given(st.text(alphabet="abcdefgh-_/.:0123456789", max_size=80))
def test_header_labels_wrap_within_their_width(label: str) -> None:
    lines = wrap_label(label, width=14, lines=3).split("\n")
    assert len(lines) <= 3
    assert all(len(line) <= 14 for line in lines)
    joined = "".join(lines)
    if joined.endswith("…"):
        assert label.startswith(joined[:-1])  # cut only at the end
    else:
        assert joined == label  # nothing lost when it fits


async def test_long_model_names_are_whole_in_the_headers(sample_store: Store) -> None:
    app = CabApp(lambda progress: sample_store, start=lambda s: Screen())
    async with app.run_test(size=(140, 40)) as pilot:
        screen = await open_pivot(pilot, sample_store, Query(), [])
        grid = screen.query_one(Heatmap)
        headers = ["".join(str(c.label).split("\n")) for c in grid.columns.values()]
        models = {r["model"] for r in sample_store.runs(columns=("model",), limit=None).to_pylist()}
        assert any(len(m) > 24 for m in models)
        assert screen.data is not None and screen.data.cols_dim == "model"
        assert set(headers[1:-1]) == models


@pytest.fixture(scope="module")
def synth_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from cabtui.sweep.synth import synth_sweep

    path = tmp_path_factory.mktemp("pivot") / "s"
    synth_sweep(path, runs=600, seed=3)
    return Store.open(path)


async def test_paired_test_of_two_marked_rows(synth_store: Store) -> None:
    app = CabApp(lambda progress: synth_store, start=lambda s: Screen())
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await open_pivot(pilot, synth_store, Query(), [])
        assert screen.data is not None and screen.rows == "tui"
        rows = screen.data.rows
        # the two CLIs sharing the most tasks in this sparse sweep
        y = max(rows[1:], key=lambda v: paired(synth_store, "tui", rows[0], v)["n_pairs"])
        x = rows[0]
        await pilot.press("m")
        assert cell(screen.query_one(Heatmap), 0, 0) == f"● {x}"
        await pilot.press(*["j"] * rows.index(y), "c")
        await settle(pilot, lambda: screen.paired_result is not None)
        r = screen.paired_result
        assert r is not None and (r["dim"], r["x"], r["y"]) == ("tui", x, y)
        want = paired(synth_store, "tui", x, y)
        assert r["n_pairs"] == want["n_pairs"] > 0
        assert r["metrics"] == want["metrics"]
        shown = plain_text(screen.query_one("#pivot-paired", Static).content, 160)
        assert f"{r['n_pairs']} pairs over {r['n_tasks']} tasks" in shown
        assert "sign test p" in shown
        # rows of tasks cannot be paired: the screen says so and keeps the last result
        await pilot.press("1")
        await settle(pilot, lambda: screen.data is not None and screen.data.rows_dim == "task_id")
        await pilot.press("m")
        assert screen.marked_row == ("tui", x)
