"""Every screen at the smallest terminal cabtui is made for (80x24) and at a common larger one
(120x40), on the bundled samples with the clock frozen and no blinking cursor. The screens are
set up by tests/screens_at_size.py, as for the readability test (tests/test_ui_sizes.py).
Regenerate with ``pytest tests/test_snapshots_sizes.py --snapshot-update`` and look at each SVG
before accepting it: each docstring says what must be readable at that size."""

from __future__ import annotations

import threading
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets import Input

from cabtui.store.store import Store
from cabtui.ui.app import CabApp
from cabtui.ui.screens.loading import LoadingScreen
from tests.screens_at_size import SCREENS, make_app

SMALL, LARGE = (80, 24), (120, 40)
Snap = Callable[..., bool]


async def _no_blink(pilot: Pilot[None]) -> None:
    for field in pilot.app.screen.query(Input):
        field.cursor_blink = False
    await pilot.pause()


def _snap(snap_compare: Snap, store: Store, name: str, size: tuple[int, int]) -> bool:
    async def run_before(pilot: Pilot[None]) -> None:
        await SCREENS[name][1](pilot)
        await _no_blink(pilot)

    return snap_compare(make_app(store, name), terminal_size=size, run_before=run_before)


def _snap_loading(snap_compare: Snap, store: Store, size: tuple[int, int]) -> bool:
    """The loading screen, its opener held at "runs" 1 of 3 until the picture is taken."""
    gate = threading.Event()

    def open_store(progress: Callable[[str, int, int], None]) -> Store:
        progress("runs", 1, 3)
        gate.wait(30)
        raise RuntimeError("the snapshot is taken")

    async def run_before(pilot: Pilot[None]) -> None:
        for _ in range(200):
            await pilot.pause()
            screen = pilot.app.screen
            if isinstance(screen, LoadingScreen) and "runs" in str(
                screen.query_one("#loading-stage").render()
            ):
                break
        # the app ends the process at exit while an opener still runs (a sweep stuck opening);
        # this one is held by the test, which lets it go once the picture is taken
        pilot.app.openers.clear()  # type: ignore[attr-defined]  # the screen under test is reached through App.screen, typed as the base Screen
        await _no_blink(pilot)

    app = CabApp(open_store, clock=lambda: 0.0)
    try:
        return snap_compare(app, terminal_size=size, run_before=run_before)
    finally:
        gate.set()


def test_browser_80x24(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The runs grid at 80x24: the columns by priority (tui, model, task, pass, comp, rec,
    wall, tokens; model and task shortened with "…", e.g. "llama-4-ma…", "rust-error-…"), every
    number whole (composites 0.87, walls 13.0s .. 22.9s, tokens 2017 .. 583 or "—"), all twelve
    runs on screen; the status line starting "shown 12 of 12 runs · filter none · sort cell" and
    counting the columns left out, whole: "+7 cols if wider"."""
    assert _snap(snap_compare, sample_store, "browser", SMALL)


def test_browser_120x40(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The runs grid at 120x40: family, run, blast, ref, int and exit join the
    columns (family shortened "mutati…"), every number whole, twelve rows and room below; the
    status line whole: "shown 12 of 12 runs · filter none · sort cell · +1 col if wider"; the
    footer lists every browser key up to "? Keys"."""
    assert _snap(snap_compare, sample_store, "browser", LARGE)


def test_cells_80x24(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The cells grid (g) at 80x24: ten cells with tui, model, task, mean comp,
    "pass rate [95% CI]" and wall; each interval whole ("0.50 [0.09–0.91]"), walls whole
    ("22.6s"); names shortened, never a number; status "10 cells (reruns aggregated) · filter
    none · sort cell · +5 cols if wider", whole."""
    assert _snap(snap_compare, sample_store, "cells", SMALL)


def test_cells_120x40(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The cells grid at 120x40: n, sd, pass@1..n ("0.50 1.00" for the two cells
    with two reruns, one figure for the others) and blast join; every interval and number
    whole; status ends "+1 col if wider"."""
    assert _snap(snap_compare, sample_store, "cells", LARGE)


def test_pivot_80x24(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The pivot (mean composite by tui × model) at 80x24: model headers folded over
    three lines ("meta/llama-4-", "maverick-17b-", "128e-instruct"), every cell value whole
    (0.757, "—" where no run, means 0.706/0.957, n=12); the drill line under it folded over two
    lines ("tui=aider · model=… n=3 composite", "0.757 ± 0.224 (sd) pass 67% [95% CI 21%–94%]
    wall 19.4s blast 0.630"), then the colour legend; the footer cut after "m Mar…" (Textual's
    footer)."""
    assert _snap(snap_compare, sample_store, "pivot", SMALL)


def test_pivot_120x40(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The pivot at 120x40: the same table, the drill line on one line and a half
    (its CI wraps after "[95% CI"), the legend "mean composite: 0.000 … 1.000 (green is better;
    higher is better)" on one line; the footer lists every pivot key."""
    assert _snap(snap_compare, sample_store, "pivot", LARGE)


def test_detail_80x24(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The failed copilot run at 80x24: the cell id folded at a "/", the red FAIL
    badge line, and the per-axis scores in the narrow layout: each axis's score, weight and
    contribution in columns of their own (0.000 0.40 0.0000; latency 0.878 0.15 0.1316), its
    bar on the line below (pass a dotted empty track, latency 21 blocks then dots), the refusal
    factor 1.00, composite 0.5816 recomputed and recorded; the rest of the page below the
    fold (scrollbar at the right)."""
    assert _snap(snap_compare, sample_store, "detail", SMALL)


def test_detail_120x40(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The failed copilot run at 120x40: the wide layout, each bar on the same line
    as its numbers; then the whole run identity (the image digest sha256:6ad0…0607 on one line,
    timestamps, duration 3.79 s, tokens "not recorded"), the rerun commands folded at spaces
    (the digest of the docker line whole), and the related runs list starting "other CLIs on
    this task"."""
    assert _snap(snap_compare, sample_store, "detail", LARGE)


def test_replay_80x24(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The recorded aider run paused 1.2 s into `cargo test --offline`, at 80x24:
    the ruler with its tick times (0.0s .. 15.9s) and markers; five waterfall rows, names
    shortened with "…" and every duration whole (1.2s .. 2.0s); the 100x30 recording cropped
    to a 54x13 pane at its cursor (ls -R, the grep hit, "Compiling retry" and the cargo
    progress bar); the span's attrs folded beside it (exit status 101, argv, cwd); the status
    line in its short forms "⏸ · 7.7s / 22.3s · crop 54x13@0,0 ⇧←→ · rec 7.67s · span 10/17",
    every part of it on screen."""
    assert _snap(snap_compare, sample_store, "replay", SMALL)


def test_replay_120x40(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The same moment at 120x40: ten waterfall rows with longer names, the ruler
    ticks to 20.7s; the recording cropped to 88x25 (everything it has printed so far visible);
    the attrs whole (recording_t: [6.467, 7.711]); the status line in its short forms, since
    the long ones would not fit, and whole: "⏸ · 7.7s / 22.3s · crop 88x25@0,0 ⇧←→ · rec 7.67s
    · span 10/17"."""
    assert _snap(snap_compare, sample_store, "replay", LARGE)


def test_compare_80x24(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """aider (A) against copilot (B), cursor at the parting (d), at 80x24: the
    summary strip stacked, axes first ("axes that differ: 13 (a: all 39)"), each differing key
    with A, B and Δ whole (pass 1 0 +1, exit_code 0 101 -101, wall_clock_ms 12,989 3,787
    +9202); the aligned list "A over B =5 ◀1 parts at row 3", each step as an A line over a B
    line, the red ◀ row (aider:git-init-marker, B "—"); the status line whole "⏸ paused · A
    0.0s · B 0.0s · 1x · B follows the alignment · row 3/6"."""
    assert _snap(snap_compare, sample_store, "compare", SMALL)


def test_compare_120x40(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The same at 120x40 (still stacked: the summary is under 120 columns
    wide): the axes table to the composite components, whose two objects fold right-aligned
    side by side; every figure whole (blast_radius 0.889 0 +0.8889, composite 0.871 0.582
    +0.2896); the aligned list down to the cleanup rows (13.0s and 3.8s)."""
    assert _snap(snap_compare, sample_store, "compare", LARGE)


def test_weights_80x24(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The what-if weights form (w) over the runs grid at 80x24: the title, six
    fields each with the sweep's value beside ("pass_rate 0.4 sweep: 0.4" ..
    "latency_ref_ms 10000.0 sweep: 10000"), "sum of weights: 1.000", the three buttons (Apply
    ⏎, Sweep's own ^r, Cancel esc) whole inside the dialog's border."""
    assert _snap(snap_compare, sample_store, "weights", SMALL)


def test_weights_120x40(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The weights form at 120x40, the whole runs grid visible above it; the same
    fields and buttons, whole."""
    assert _snap(snap_compare, sample_store, "weights", LARGE)


def test_help_80x24(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The keys of the browser (?) at 80x24: "Keys: Browser" over a key / command /
    what-it-does table, descriptions wrapped inside their column ("Type a filter; the grid
    follows each keystroke."), the table running past the bottom of the screen (it scrolls)."""
    assert _snap(snap_compare, sample_store, "help", SMALL)


def test_help_120x40(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The browser's keys at 120x40: every key from / to ctrl+p on screen, each
    description on one line, the table closed at its bottom border."""
    assert _snap(snap_compare, sample_store, "help", LARGE)


def test_loading_80x24(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The loading screen at 80x24 while the opener is held at its first stage:
    "Reading runs…" over a progress bar at 33%, centred; the footer "q Quit ? Keys"."""
    assert _snap_loading(snap_compare, sample_store, SMALL)


def test_loading_120x40(snap_compare, sample_store: Store) -> None:  # type: ignore[no-untyped-def]  # snap_compare is pytest-textual-snapshot's untyped fixture
    """The loading screen at 120x40: the same, centred in the larger
    terminal."""
    assert _snap_loading(snap_compare, sample_store, LARGE)
