"""The run detail screen and the what-if weights form, driven with Pilot on real runs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from textual.screen import Screen
from textual.widgets import Input, OptionList, Static

from cabtui.scoring import Weights
from cabtui.store.query import Query
from cabtui.store.store import Store
from cabtui.ui.app import CabApp
from cabtui.ui.screens.detail import DetailScreen
from cabtui.ui.screens.weights import WeightsScreen
from cabtui.ui.widgets.axis_bars import AxisBars
from cabtui.ui.widgets.kv import value_text
from tests.pilot_helpers import plain_text, settle

SWEEP = "expansion-20260616"
MODEL = "meta/llama-4-maverick-17b-128e-instruct"
COPILOT = f"{SWEEP}/copilot/{MODEL}/mutations/rust-error-negated"
AIDER = f"{SWEEP}/aider/{MODEL}/mutations/rust-error-negated"
SECRET = "sk-abcdefghijklmnop1234"


def plain(widget: Static) -> str:
    return plain_text(widget.content, width=250)


def loaded(app: CabApp) -> bool:
    return isinstance(app.screen, DetailScreen) and app.screen.data is not None


def screen_now(app: CabApp) -> Screen[Any]:
    """``app.screen``, read afresh: mypy keeps a narrowing of it past the key presses that change
    it."""
    return app.screen


def weights_now(app: CabApp) -> Weights | None:
    """``app.weights``, read afresh (as :func:`screen_now`)."""
    return app.weights


def edit_record(sweep: Path, cell_id: str, edit: Callable[[dict[str, Any]], None]) -> None:
    path = sweep / "results.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines()]
    for rec in records:
        if rec["cell_id"] == cell_id:
            edit(rec)
    path.write_text("".join(json.dumps(r) + "\n" for r in records))


async def test_failing_run_shows_fail_exit_codes_and_bars_summing_to_composite(
    sample_store: Store,
) -> None:
    app = CabApp(lambda p: sample_store, start=lambda store: DetailScreen(store, COPILOT))
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot, lambda: loaded(app))
        screen = app.screen
        assert "FAIL" in plain(screen.query_one("#detail-status", Static))
        identity = plain(screen.query_one("#detail-identity", Static))
        assert "exit_code (CLI)" in identity and "exit_code (grader)" in identity
        assert "101" in identity and "not recorded" in identity  # tokens not recorded
        bars = screen.query_one(AxisBars)
        total = sum(r.contribution or 0.0 for r in bars.rows)
        run = sample_store.run(COPILOT)
        assert run is not None
        assert total == pytest.approx(bars.recomputed) == pytest.approx(run["composite"])
        assert bars.recorded == run["composite_recorded"] and not bars.mismatch
        assert "refusal factor" in plain(bars)
        assert not screen.query_one("#detail-note").display  # no note on this run


async def test_every_scorer_key_is_shown(sample_store: Store) -> None:
    app = CabApp(lambda p: sample_store, start=lambda store: DetailScreen(store, AIDER))
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot, lambda: loaded(app))
        text = plain(app.screen.query_one("#detail-scores", Static))
        for axis, key, value in sample_store.scores(AIDER):
            assert axis in text and key in text, (axis, key)
        # file lists item by item, booleans as true/false, nulls as null
        assert ".aider.chat.history.md" in text and "src/lib.rs" in text
        assert "true" in text and "null" in text


async def test_unknown_keys_tails_and_note_banner(sweep_copy: Path) -> None:
    def edit(rec: dict[str, Any]) -> None:
        rec["note"] = "Provider returned HTTP 429 (rate limited)"
        rec["scores"]["pass_rate"]["stdout_tail"] = "\x1b[31mred failure\x1b[0m\nplain line\n"
        rec["scores"]["pass_rate"]["stderr_tail"] = "progress 10%\rprogress 100%\n"
        rec["scores"]["latency"]["queue_ms"] = 12.5

    edit_record(sweep_copy, COPILOT, edit)
    store = Store.open(sweep_copy)
    app = CabApp(lambda p: store, start=lambda s: DetailScreen(s, COPILOT))
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot, lambda: loaded(app))
        screen = app.screen
        banner = screen.query_one("#detail-note", Static)
        assert banner.display and "HTTP 429" in plain(banner)
        scores = plain(screen.query_one("#detail-scores", Static))
        assert "queue_ms (unknown key)" in scores
        out = screen.query_one("#detail-stdout", Static).content
        err = plain(screen.query_one("#detail-stderr", Static))
        assert "\x1b" not in out.plain and "red failure" in out.plain  # type: ignore[union-attr]  # Static.content is typed as any visual; the tail is a rich Text
        colours = [getattr(span.style, "color", None) for span in out.spans]  # type: ignore[union-attr]  # Static.content is typed as any visual; the tail is a rich Text
        assert any(c is not None and c.number == 1 for c in colours)  # ANSI red kept as a colour
        assert "progress 100%" in err and "\r" not in err and "progress 10%" not in err


async def test_secrets_masked_until_x(sweep_copy: Path) -> None:
    edit_record(
        sweep_copy, COPILOT, lambda rec: rec.update(note=f"retried with --api-key {SECRET}")
    )
    store = Store.open(sweep_copy)
    app = CabApp(lambda p: store, start=lambda s: DetailScreen(s, COPILOT))
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot, lambda: loaded(app))
        banner = app.screen.query_one("#detail-note", Static)
        assert SECRET not in plain(banner) and "--api-key" in plain(banner)
        await pilot.press("x")
        await pilot.pause()
        assert SECRET in plain(banner)
        assert any("secrets shown" in str(n.message) for n in app._notifications)
        await pilot.press("x")
        await pilot.pause()
        assert SECRET not in plain(banner)


async def test_related_run_opens_and_escape_returns(sample_store: Store) -> None:
    app = CabApp(lambda p: sample_store, start=lambda store: DetailScreen(store, COPILOT))
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot, lambda: loaded(app))
        first = app.screen
        assert isinstance(first, DetailScreen)
        assert AIDER in first.related_ids
        options = first.query_one("#detail-related", OptionList)
        options.focus()
        options.highlighted = first.related_ids.index(AIDER)
        await pilot.press("enter")
        await settle(pilot, lambda: loaded(app) and app.screen is not first)
        assert isinstance(app.screen, DetailScreen) and app.screen.cell_id == AIDER
        assert "PASS" in plain(app.screen.query_one("#detail-status", Static))
        await pilot.press("escape")
        await pilot.pause()
        assert app.screen is first


async def test_copy_command_and_what_if_weights(sample_store: Store) -> None:
    app = CabApp(lambda p: sample_store, start=lambda store: DetailScreen(store, COPILOT))
    async with app.run_test(size=(140, 45)) as pilot:
        await settle(pilot, lambda: loaded(app))
        copied: list[str] = []

        def copy(text: str) -> None:
            copied.append(text)

        app.copy_to_clipboard = copy  # type: ignore[method-assign]  # records what is copied
        await pilot.press("y")
        assert copied and copied[0].startswith("cab-tui replay ") and COPILOT in copied[0]
        app.weights = Weights(pass_rate=0.0, integrity=1.0, cost=0.0, latency=0.0, blast_radius=0.0)
        await settle(
            pilot,
            lambda: (
                isinstance(app.screen, DetailScreen)
                and app.screen.data is not None
                and app.screen.data.what_if is not None
            ),
        )
        bars = app.screen.query_one(AxisBars)
        assert bars.recomputed == pytest.approx(1.0)  # integrity 1, everything else weighted 0
        assert not bars.mismatch  # the recorded composite is compared with the sweep's weights


async def test_weights_apply_and_reset(sample_store: Store) -> None:
    app = CabApp(lambda p: sample_store, start=lambda s: Screen())
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot, lambda: app.store is not None and type(app.screen) is Screen)
        results: list[Weights | None] = []
        app.push_screen(WeightsScreen(None, sample_store.weights()), results.append)
        await pilot.pause()
        app.screen.query_one("#w-pass_rate", Input).value = "0.5"
        app.screen.query_one("#w-latency_ref_ms", Input).value = "oops"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert (
            isinstance(screen_now(app), WeightsScreen) and weights_now(app) is None
        )  # invalid: not applied
        assert "not a number" in plain(app.screen.query_one("#e-latency_ref_ms", Static))
        app.screen.query_one("#w-latency_ref_ms", Input).value = "20000"
        await pilot.pause()
        assert "1.100" in plain(app.screen.query_one("#weights-sum", Static))
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.weights == Weights(pass_rate=0.5, latency_ref_ms=20000.0)
        assert results == [app.weights] and not isinstance(app.screen, WeightsScreen)
        app.push_screen(WeightsScreen(app.weights, sample_store.weights()))
        await pilot.pause()
        assert app.screen.query_one("#w-pass_rate", Input).value == "0.5"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert weights_now(app) is None and not isinstance(app.screen, WeightsScreen)


def test_values_render_as_json_words() -> None:
    assert value_text(None).plain == "null"
    assert value_text(True).plain == "true" and value_text(False).plain == "false"
    assert value_text(12989.314999999999).plain == "12989.315"
    assert value_text(["a", "b"]).plain == "list of 2\n• a\n• b"
    assert value_text("bell\x07").plain == "bell\ufffd"


async def test_weights_re_rank_the_grid_while_typed_and_cancel_restores(
    sample_store: Store,
) -> None:
    from cabtui.ui.screens.browser import BrowserScreen

    app = CabApp(lambda p: sample_store)
    async with app.run_test(size=(160, 40)) as pilot:
        await settle(
            pilot,
            lambda: isinstance(app.screen, BrowserScreen) and bool(app.screen.grid().page.raw),
        )
        browser = app.screen
        assert isinstance(browser, BrowserScreen)
        before = {r["cell_id"]: r["composite"] for r in browser.grid().page.raw}
        await pilot.press("w")
        await settle(pilot, lambda: isinstance(app.screen, WeightsScreen))
        for name, value in (("pass_rate", "0"), ("cost", "0"), ("latency", "1"), ("blast_radius", "0"),
                            ("integrity", "0")):  # fmt: skip
            app.screen.query_one(f"#w-{name}", Input).value = value
        want = Weights(pass_rate=0, integrity=0, cost=0, latency=1, blast_radius=0,
                       latency_ref_ms=sample_store.weights().latency_ref_ms)  # fmt: skip
        await settle(pilot, lambda: app.weights == want)
        # the grid behind the open form shows composites under the typed weights
        await settle(pilot, lambda: browser.runs_query.weights == want)
        live = {r["cell_id"]: r["composite"] for r in browser.grid().page.raw}
        expected = {
            r["cell_id"]: r["composite"]
            for r in sample_store.runs(Query(weights=want), limit=None).to_pylist()
        }
        assert live == pytest.approx(expected)
        assert live != pytest.approx(before)
        await pilot.press("escape")
        await settle(pilot, lambda: isinstance(app.screen, BrowserScreen))
        assert app.weights is None
        await settle(pilot, lambda: browser.runs_query.weights is None)
        assert {r["cell_id"]: r["composite"] for r in browser.grid().page.raw} == pytest.approx(
            before
        )
