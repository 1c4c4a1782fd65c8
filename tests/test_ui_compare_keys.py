"""Pilot tests of the compare screen's reading keys: the summary scrolls to every axis key, `[`
`]` follow the markers of both recordings, `/` searches both recordings, and `i` caps the gaps
in which neither recording shows anything while playing."""

from __future__ import annotations

from pathlib import Path

import pytest

from cabtui.compare.diff import TAILS
from cabtui.compare.link import CLOCK
from cabtui.compare.values import AxisRow, CellAxisRow
from cabtui.store.store import Store
from cabtui.sweep.asciicast import format_cast
from cabtui.sweep.synth import synth_sweep
from cabtui.ui.app import CabApp
from cabtui.ui.screens.compare import CompareScreen
from cabtui.ui.widgets.axes_diff import diff_value
from cabtui.ui.widgets.terminal import TerminalView
from tests.pilot_helpers import settle
from tests.test_ui_compare import AIDER, COPILOT, FAIL, PASS, SIZE, compared, shown


class FrozenClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def compare_app(store: Store, a: str, b: str, clock: FrozenClock | None = None) -> CabApp:
    return CabApp(
        lambda p: store, start=lambda s: CompareScreen(s, a, b), clock=clock or FrozenClock()
    )


def region_text(app: CabApp, selector: str) -> list[str]:
    """The screen's rows where the widget ``selector`` is, as the user's terminal shows them."""
    region = app.screen.query_one(selector).region
    update = app.screen._compositor.render_full_update()
    rows = ["".join(seg.text for strip in line for seg in strip) for line in update.strips]
    return rows[region.y : region.bottom]


def term(screen: CompareScreen, side: str) -> list[str]:
    return screen.query_one(f"#cmp-term-{side}", TerminalView).text()


async def test_summary_scrolls_to_every_axis_key(sample_store: Store) -> None:
    app = compare_app(sample_store, AIDER, COPILOT)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: compared(app))
        screen = app.screen
        assert isinstance(screen, CompareScreen) and screen.diff is not None
        rows = [r for r in screen.diff.axes if r.key not in TAILS]
        assert len(rows) > 30  # far more than the strip's 14 lines

        def on_screen(row: AxisRow | CellAxisRow, lines: list[str]) -> bool:
            if isinstance(row.a, dict) and isinstance(row.b, dict):  # a row per key
                pairs = [(k, row.a.get(k), row.b.get(k)) for k in {*row.a, *row.b}]
                return any(f" {row.key}" in ln for ln in lines) and all(
                    any(
                        f" {k} " in ln and diff_value(va)[:5] in ln and diff_value(vb)[:5] in ln
                        for ln in lines
                    )
                    for k, va, vb in pairs
                    if k != "source"
                )
            delta = f"{row.delta:+.4g}" if row.delta is not None else ""
            a, b = diff_value(row.a)[:5], diff_value(row.b)[:5]
            return any(
                f" {row.key} " in ln and a in ln and b in ln and delta in ln for ln in lines
            )  # each axis is a heading over its keys

        seen = region_text(app, "#cmp-summary")
        strip = len(seen)
        # neither run has a recording: the summary has the terminals' room, still not enough
        assert screen.has_class("-no-recordings")
        assert not all(on_screen(r, seen) for r in rows)  # the strip alone cannot show them all
        for _ in range(60):
            await pilot.press("down")
            await pilot.pause()
            seen += region_text(app, "#cmp-summary")
        missing = [r.key for r in rows if not on_screen(r, seen)]
        assert not missing
        # `s`: the summary takes the screen, then hides, then is the strip again
        await pilot.press("s")
        await pilot.pause()
        assert screen.query_one("#cmp-summary").region.height > 30
        assert not screen.query_one("#cmp-spans").display
        await pilot.press("s")
        await pilot.pause()
        assert not screen.query_one("#cmp-summary").display
        await pilot.press("s")
        await pilot.pause()
        assert screen.query_one("#cmp-summary").region.height == strip
        assert screen.query_one("#cmp-spans").display


async def test_markers_of_both_recordings_in_order(sample_store: Store) -> None:
    app = compare_app(sample_store, PASS, FAIL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: compared(app))
        screen = app.screen
        assert isinstance(screen, CompareScreen) and screen.link is not None
        sa, sb = screen.sessions["a"], screen.sessions["b"]
        assert sa is not None and sb is not None
        mine = {sa.clock.to_run(m.time): ("a", m.time) for m in sa.timeline.markers}
        theirs = {screen.link.a_time(sb.clock.to_run(m.time)): ("b", m.time)
                  for m in sb.timeline.markers}  # fmt: skip
        assert len(theirs) == 4 and not set(theirs) & set(mine)
        expected = sorted({**mine, **theirs}.items())
        visited = []
        for t, (side, rec_t) in expected:
            await pilot.press("right_square_bracket")
            await pilot.pause()
            visited.append(screen.clock.position)
            # the marker's own recording is at the marker: B through the link, not A's clock
            s = sa if side == "a" else sb
            assert s.clock.recording_time == pytest.approx(rec_t, abs=1e-6)
        assert visited == pytest.approx([t for t, _ in expected])
        assert {side for _, (side, _) in expected} == {"a", "b"}
        assert term(screen, "b") == shown(screen, "b", screen.time_b)
        await pilot.press("right_square_bracket")  # no marker after the last one
        await pilot.pause()
        assert screen.clock.position == pytest.approx(expected[-1][0])
        await pilot.press("left_square_bracket", "left_square_bracket")
        await pilot.pause()
        assert screen.clock.position == pytest.approx(expected[-3][0])


async def test_search_finds_hits_in_both_recordings(sample_store: Store) -> None:
    app = compare_app(sample_store, PASS, FAIL)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: compared(app))
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        await pilot.press("slash")
        await pilot.press(*"FAILED")
        await pilot.press("enter")
        await settle(pilot, lambda: not screen.searching)
        assert screen.hits and screen.hit == 0
        sides = {label for _, label in screen.hits}
        assert any("A" in s for s in sides) and any("B" in s for s in sides)
        assert not screen.query_one("#cmp-search").display
        for k in range(len(screen.hits)):
            t, label = screen.hits[k]
            assert screen.hit == k and screen.clock.position == pytest.approx(t)
            for side in ("a", "b"):
                if side.upper() in label:  # the side the hit is in shows the text
                    assert any("failed" in row.lower() for row in term(screen, side))
            assert term(screen, "b") == shown(screen, "b", screen.time_b)
            status = str(screen.query_one("#cmp-status").render())
            assert f"hit {k + 1} of {len(screen.hits)}" in status
            await pilot.press("n")
            await pilot.pause()
        assert screen.hit == 0  # round again
        await pilot.press("N")
        await pilot.pause()
        assert screen.hit == len(screen.hits) - 1


@pytest.fixture(scope="module")
def idle_store(tmp_path_factory: pytest.TempPathFactory, cache_dir: Path) -> tuple[Store, str, str]:
    """Two synthetic runs whose recordings are both silent from 1 s to 30 s."""
    out = tmp_path_factory.mktemp("idle") / "sweep"
    synth_sweep(out, runs=2, spans_per_run=12, per_run_files=True)
    for side, d in zip("AB", sorted(p.parent for p in out.rglob("spans.jsonl"))[:2]):
        events = [(0.5, "o", f"start {side}\r\n"), (1.0, "o", f"busy {side}\r\n"),
                  (30.0, "o", f"after the gap {side}\r\n"), (31.0, "o", "done\r\n")]  # fmt: skip
        (d / "recording.cast").write_text(format_cast(40, 6, events))
    store = Store.open(out)
    a, b = sorted(store.runs(columns=("cell_id",), limit=None).column(0).to_pylist())[:2]
    return store, a, b


@pytest.mark.parametrize("idle", [False, True])
async def test_idle_limit_skips_the_silence_of_both(
    idle_store: tuple[Store, str, str], idle: bool
) -> None:
    store, a, b = idle_store
    clock = FrozenClock()
    app = compare_app(store, a, b, clock)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot, lambda: compared(app))
        screen = app.screen
        assert isinstance(screen, CompareScreen) and screen.link is not None
        sa, sb = screen.sessions["a"], screen.sessions["b"]
        assert sa is not None and sb is not None and sa.player is not None
        await pilot.press("l")  # one clock: B's 30 s is A's 30 s
        assert screen.link.mode == CLOCK
        start = max(sa.clock.to_run(1.0), sb.clock.to_run(1.0))  # both have gone quiet
        screen.clock.seek(start)
        if idle:
            await pilot.press("i")
            await pilot.pause()
            assert screen.clock.idle_on and sa.clock.idle_on and sb.clock.idle_on
            assert "idle limit 2s" in str(screen.query_one("#cmp-status").render())
        await pilot.press("space")
        clock.now += 3.0
        screen.tick()
        await pilot.pause()
        pos = screen.clock.position
        if not idle:
            assert pos == pytest.approx(start + 3000)
            assert not any("after the gap" in row for row in term(screen, "a"))
            return
        # 2 s of the silence played, then on from the next event of either recording
        first_after = min(sa.clock.to_run(30.0), sb.clock.to_run(30.0))
        assert pos > first_after
        assert pos == pytest.approx(first_after + 1000, abs=1.0)
        assert term(screen, "a") == shown(screen, "a", pos)
        assert term(screen, "b") == shown(screen, "b", screen.time_b)
        side = "a" if sa.clock.to_run(30.0) <= sb.clock.to_run(30.0) else "b"
        assert any(f"after the gap {side.upper()}" in row for row in term(screen, side))
