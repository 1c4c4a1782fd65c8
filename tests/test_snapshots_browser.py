"""Snapshots of the sweep browser. Regenerate with
``pytest tests/test_snapshots_browser.py --snapshot-update`` and look at each SVG before
accepting it (the docstrings say what to look for)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cabtui.store.store import Store
from cabtui.ui.app import CabApp

SIZE = (140, 40)


def make_app(store: Store) -> CabApp:
    return CabApp(lambda progress: store, clock=lambda: 0.0)


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]  # Pilot and the test's callables are untyped here
    for _ in range(4):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()


@pytest.fixture()
def empty_store(tmp_path: Path) -> Store:
    sweep = tmp_path / "empty-20260101"
    sweep.mkdir()
    (sweep / "sweep.json").write_text(json.dumps({"sweep_id": "empty-20260101"}))
    return Store.open(sweep)


@pytest.fixture()
def broken_store(sweep_copy: Path) -> Store:
    with open(sweep_copy / "results.jsonl", "a") as f:
        f.write(
            '{"cell_id": "expansion-20260616/aider/m/x/mutations/t", "scores": \x1b[31mbroken\n'
        )
    return Store.open(sweep_copy)


def test_browser_sample(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # pytest-textual-snapshot's snap_compare fixture and Pilot arguments are untyped here
    """The twelve sample runs, one per row, sorted by cell_id: header "cabtui — sweeps", an empty
    filter bar with its placeholder, no problems panel. Pass is a green ✓ or red ✗, composites
    coloured green to red with the recorded one beside, wall time in seconds, missing tokens as
    "—". The status line reads "shown 12 of 12 runs · filter none · sort cell"."""
    assert snap_compare(make_app(sample_store), terminal_size=SIZE, run_before=settle)


def test_browser_filtered_and_sorted(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # pytest-textual-snapshot's snap_compare fixture and Pilot arguments are untyped here
    """The filter bar holds "-tui:pi" and the grid is sorted by composite, best first: eight
    rows, no pi; the cursor on the comp column; status "shown 8 of 12 runs · filter -tui:pi · sort
    comp ↓". The second aider rerun has been marked with m: a magenta ● in its first column and
    "● 1 marked" in the status line."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]  # Pilot and the test's callables are untyped here
        await settle(pilot)
        await pilot.press("slash", *"-tui:pi", "enter")
        await settle(pilot)
        await pilot.press(*"lllllll", "s", "S")
        await settle(pilot)
        grid = pilot.app.screen.grid()
        row = next(i for i, r in enumerate(grid.page.raw) if r["cell_id"].endswith("#run2"))
        grid.move_cursor(row=row)
        await pilot.press("m")
        await settle(pilot)

    assert snap_compare(make_app(sample_store), terminal_size=SIZE, run_before=run_before)


def test_browser_cells(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # pytest-textual-snapshot's snap_compare fixture and Pilot arguments are untyped here
    """The cells grid (g): ten cells, n = 1 or 2, mean composite, sd, and the pass rate with its
    Wilson interval, e.g. "1.00 [0.21–1.00]" for one pass in one run and "0.50 [0.09–0.91]" for
    the two-rerun cells, and pass@1..n ("0.50 1.00" for those). Status "10 cells (reruns
    aggregated) · filter none · sort cell"."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]  # Pilot and the test's callables are untyped here
        await settle(pilot)
        await pilot.press("g")
        await settle(pilot)

    assert snap_compare(make_app(sample_store), terminal_size=SIZE, run_before=run_before)


def test_browser_bad_filter(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # pytest-textual-snapshot's snap_compare fixture and Pilot arguments are untyped here
    """A filter with a bad term, "tui:aider wall<soon": "wall<soon" is underlined in red inside
    the bar, with a caret beneath it and the parser's message after it; the grid keeps the last
    filter that compiled (the three aider runs) and the status line says "bad filter (see
    above)"."""

    async def run_before(pilot) -> None:  # type: ignore[no-untyped-def]  # Pilot and the test's callables are untyped here
        await settle(pilot)
        await pilot.press("slash", *"tui:aider ")
        await settle(pilot)
        pilot.app.screen.filter_bar.input.insert_text_at_cursor("wall<soon")
        await settle(pilot)
        pilot.app.screen.grid().focus()  # no blinking input cursor in the picture
        await settle(pilot)

    assert snap_compare(make_app(sample_store), terminal_size=SIZE, run_before=run_before)


def test_browser_empty_sweep(snap_compare, empty_store: Store) -> None:  # type: ignore[no-untyped-def]  # pytest-textual-snapshot's snap_compare fixture and Pilot arguments are untyped here
    """A sweep with only a sweep.json: the grid's header row (only the identity columns and
    pass: no run fills any other) and no rows, "No runs in this sweep." beneath it, status
    "shown 0 of 0 runs · filter none · sort cell"; no crash."""
    assert snap_compare(make_app(empty_store), terminal_size=SIZE, run_before=settle)


def test_browser_load_problems(snap_compare, broken_store: Store) -> None:  # type: ignore[no-untyped-def]  # pytest-textual-snapshot's snap_compare fixture and Pilot arguments are untyped here
    """The five real runs plus a broken line in results.jsonl: the problems panel opens by itself
    above the grid with "1 load problem" and "results.jsonl:6: malformed JSON: …"; no colour
    change from the escape character in the broken line. The five runs below."""
    assert snap_compare(make_app(broken_store), terminal_size=SIZE, run_before=settle)
