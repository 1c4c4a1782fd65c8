"""Every screen on the samples at 80x24, 100x30 and 200x60: no number is cut (a digit
followed by "…"); in the compare screen's identity and axes tables no value is cut (every
scorer key that differs shows both values whole, an object's keys each on a row of its own),
nor in the detail screen's identity table (every value whole, folded over lines where it is
longer than the room)."""

from __future__ import annotations

import re

import pytest

from cabtui.compare.diff import TAILS, diff_runs
from cabtui.store.store import Store
from cabtui.ui.screens.detail_sections import identity_rows
from cabtui.ui.widgets.axes_diff import diff_value
from tests.screens_at_size import AIDER, COPILOT, SCREENS, make_app, screen_lines

SIZES = [(80, 24), (100, 30), (200, 60)]
CUT_NUMBER = re.compile(r"\d…")


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("name", list(SCREENS))
async def test_no_number_is_cut(sample_store: Store, name: str, size: tuple[int, int]) -> None:
    app = make_app(sample_store, name)
    async with app.run_test(size=size) as pilot:
        await SCREENS[name][1](pilot)
        lines = screen_lines(app)
        cut = [line for line in lines if CUT_NUMBER.search(line)]
        assert not cut, f"{name} at {size}: a number cut in {cut}"


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_compare_shows_every_differing_axis_whole(
    sample_store: Store, size: tuple[int, int]
) -> None:
    from cabtui.ui.widgets.axes_diff import Summary

    app = make_app(sample_store, "compare")
    async with app.run_test(size=size) as pilot:
        await SCREENS["compare"][1](pilot)
        text = "\n".join(app.screen.query_one(Summary).text())
        d = diff_runs(sample_store, AIDER, COPILOT)
        for row in d.axes:
            if row.key in TAILS or row.a == row.b:
                continue
            if isinstance(row.a, dict) and isinstance(row.b, dict):  # one row per key
                pairs = [(k, row.a.get(k), row.b.get(k)) for k in {*row.a, *row.b}]
            else:
                pairs = [(row.key, row.a, row.b)]
            for key, va, vb in pairs:
                if va == vb or key == "source":
                    continue
                a, b = diff_value(va), diff_value(vb)
                assert any(f" {key} " in ln and a in ln and b in ln for ln in text.splitlines()), (
                    row.key,
                    key,
                )
        for key in d.identity_diff:
            if key in d.a and key != "cell_id":
                assert key in text


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_detail_identity_values_whole(sample_store: Store, size: tuple[int, int]) -> None:
    from rich.text import Text
    from textual.geometry import Region

    from cabtui.ui.screens.detail import DetailScreen, Section
    from cabtui.ui.widgets.kv import value_text

    app = make_app(sample_store, "detail")
    async with app.run_test(size=size) as pilot:
        await SCREENS["detail"][1](pilot)
        screen = app.screen
        assert isinstance(screen, DetailScreen) and screen.data is not None
        section = screen.query_one("#detail-identity", Section)
        # render_lines draws the padding too: read the outer width, or the last column of each
        # line (the end of a folded value) would be left out
        width, height = section.outer_size
        assert width > 0 and height > 0
        strips = section.render_lines(Region(0, 0, width, height))  # what it draws, whole
        text = "\n".join(strip.text for strip in strips)
        assert "…" not in text, f"a value cut at {size}:\n{text}"
        assert max(len(line.rstrip()) for line in text.splitlines()) <= width
        joined = "".join(text.split())  # a folded value reads whole once the folds are joined
        for key, value, _ in identity_rows(screen.data.run, screen.reveal):
            shown = value.plain if isinstance(value, Text) else value_text(value).plain
            assert key.replace(" ", "") in joined, key
            assert "".join(shown.split()) in joined, (key, shown, text)
