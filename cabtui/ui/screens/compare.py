"""Two runs side by side: identities, axes and composite parts; the span timelines aligned with
one cursor; both terminal recordings in lock-step; the tail, file-set and model-call diffs.

``CompareScreen(store, a, b)``. The diff is computed in a thread worker; once it is shown, the
two runs' replay sessions are loaded in another, A then B (two loaders at once share the GIL
with each other and the UI, and both arrive late). Two cells (ids without ``#run`` whose cell
has several reruns) show the per-axis means and intervals of
:func:`cabtui.compare.diff.diff_cells` instead.

The cursor is one position on run A's time axis (``self.clock``); run B follows it either at
the same time (clock mode) or along the span alignment (span mode, the default; ``l``). B's
markers, search hits and recording events are placed on A's axis the same way
(:mod:`cabtui.compare.link`), so ``[`` ``]``, ``/`` and the idle limit ``i`` use
both recordings.
"""

from __future__ import annotations

import gc
from typing import Any, ClassVar

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input, Static
from textual.worker import get_current_worker

from cabtui.compare.diff import cell_runs, diff_cells, diff_runs, masked
from cabtui.compare.link import (
    MOMENT_EPS,
    SPAN,
    Link,
    idle_events,
    moments,
    relinked,
    step_to,
)
from cabtui.replay.clock import Clock, fmt_ms
from cabtui.replay.session import Session, load_session
from cabtui.store.store import Store
from cabtui.text import safe, shown
from cabtui.ui.keys import Command, bindings
from cabtui.ui.screens.clock_keys import ClockKeys, clock_commands
from cabtui.ui.widgets.aligned import AlignedSpans
from cabtui.ui.widgets.axes_diff import (
    Summary,
    axes_table,
    composite_table,
    diffs,
    identity_table,
    least_width,
)
from cabtui.ui.widgets.fit import differing
from cabtui.ui.widgets.terminal import TerminalView

FPS = 30
EPS = 1e-6  # as in the replay screen: an event at exactly the clock's time is on screen
SUMMARY_MODES = ("strip", "full", "hidden")  # `s` cycles: a strip at the top, the screen, none
RATIOS = (4, 6, 4)  # identities, axes, composite, side by side from 120 columns


class CompareScreen(ClockKeys, Screen[None]):
    SEARCH_ID = "cmp-search"
    CSS_PATH = "compare.tcss"
    COMMAND_LIST: ClassVar[list[Command]] = [
        Command("play_pause", "space", "Play", "Play or pause both runs.", key_display="space"),
        Command("prev_row", "left", "Prev row", "Move both runs to the previous aligned row.", key_display="←"),
        Command("next_row", "right", "Next row", "Move both runs to the next aligned row.", key_display="→"),
        Command("parted", "d", "Parting", "Jump to the row where the two traces part."),
        Command("toggle_link", "l", "Link", "Follow B by the span alignment or by the same clock."),
        Command("toggle_diffs", "f", "Diffs", "Show the tail, file-set and model-call diffs or the recordings."),
        Command("toggle_axes", "a", "All axes", "Show every scorer key, or only those that differ (the default under 120 columns)."),
        Command("toggle_summary", "s", "Summary", "Identities, axes and composite: a strip at the top, the whole screen, or hidden."),
        Command("scroll_summary(-1)", "up", "Scroll up", "Scroll the summary up a line.", show=False, key_display="↑"),
        Command("scroll_summary(1)", "down", "Scroll down", "Scroll the summary down a line.", show=False, key_display="↓"),
        Command("page_summary(-1)", "pageup", "Page up", "Scroll the summary up a page.", show=False, key_display="pgup"),
        Command("page_summary(1)", "pagedown", "Page down", "Scroll the summary down a page.", show=False, key_display="pgdn"),
        *clock_commands("run A"),
        Command("prev_marker", "left_square_bracket", "Prev marker", "Jump to the previous recording marker of either run (B's placed on A's time by the link).", show=False, key_display="["),
        Command("next_marker", "right_square_bracket", "Next marker", "Jump to the next recording marker of either run (B's placed on A's time by the link).", show=False, key_display="]"),
        Command("search", "slash", "Search", "Search both recordings' terminal text.", key_display="/"),
        Command("next_hit", "n", "Next hit", "Jump to the next search hit in either run.", show=False),
        Command("prev_hit", "N", "Prev hit", "Jump to the previous search hit in either run.", show=False),
        Command("toggle_secrets", "x", "Secrets", "Show or mask the secrets on both recorded screens.", show=False),
        Command("toggle_idle", "i", "Idle limit", "Cap the gaps in which neither recording shows anything new while playing (asciinema's idle_time_limit)."),
        Command("back", "escape", "Back", "Leave the comparison (or the search prompt)."),
    ]  # fmt: skip
    BINDINGS = bindings(COMMAND_LIST)

    class Moved(Message):
        """The cursor moved; only the latest one in the queue matters."""

        def can_replace(self, message: Message) -> bool:
            return isinstance(message, CompareScreen.Moved)

    def __init__(self, store: Store, a: str, b: str) -> None:
        super().__init__()
        self.store, self.a, self.b = store, a, b
        self.diff: dict[str, Any] | None = None
        self.link: Link | None = None
        self.sessions: dict[str, Session | None] = {"a": None, "b": None}
        self.clock = Clock(end_ms=0.0)  # A's time axis
        self.row: int | None = None  # the aligned row under the cursor
        self._pinned_at: float | None = None
        self.time_b = 0.0  # B's time for the cursor (not clamped to B's end)
        self._timer: Timer | None = None
        self._last = 0.0
        self.summary_mode = SUMMARY_MODES[0]
        self.needle = ""
        self.searching = False
        self._raw_hits: list[tuple[str, float]] = []  # (side, run ms on that side's axis)
        self.hits: list[tuple[float, str]] = []  # (A's time, "A" / "B" / "A · B")
        self.hit: int | None = None
        self._frozen = False
        self._frozen_before = 0  # objects frozen by someone else (the app) before this screen
        self._closed = False  # unmounted: a loader finishing late changes nothing
        self._idle_chosen = False  # `i` was pressed: a header no longer turns the limit on
        self.all_axes: bool | None = None  # None: only the differing ones under 120 columns

    def compose(self) -> ComposeResult:
        yield Summary(id="cmp-summary")
        yield AlignedSpans(id="cmp-spans")
        with Horizontal(id="cmp-terms"):
            for side in ("a", "b"):
                with Vertical(id=f"cmp-col-{side}", classes="cmp-col"):
                    yield TerminalView(id=f"cmp-term-{side}")
        with VerticalScroll(id="cmp-diffs"):
            yield Static(id="cmp-diffs-body")
        yield Static("Loading…", id="cmp-status")
        yield Input(placeholder="search both recordings' text, enter to find", id="cmp-search")
        yield Footer()

    # -- loading -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        # border titles are read as markup: data goes in as Text
        self._titles()
        for side in ("a", "b"):
            self.query_one(f"#cmp-term-{side}", TerminalView).show_message("Loading…")
        self._timer = self.set_interval(1 / FPS, self.tick, pause=True)
        self.load_diff()

    def on_unmount(self) -> None:
        """Let go of what was loaded (Textual keeps a popped screen alive a while through its
        finished workers), and undo this screen's GC freeze unless the app froze first
        (``CabApp(freeze_gc=True)``): unfreezing would undo the app's freeze too, so there only
        the screen's own small objects stay frozen, the loaded data going by reference count."""
        self._closed = True
        self.sessions = {"a": None, "b": None}
        self.diff = self.link = None
        self._raw_hits, self.hits = [], []
        if self._frozen and self._frozen_before == 0:
            gc.unfreeze()
        self._frozen = False

    def is_cells(self) -> bool:
        """Two cell ids (no ``#run``) of which one has several reruns: compare their means."""
        if "#" in self.a or "#" in self.b:
            return False
        return max(len(cell_runs(self.store, self.a)), len(cell_runs(self.store, self.b))) > 1

    @work(thread=True, exclusive=True, group="compare-diff")
    def load_diff(self) -> None:
        try:
            if self.is_cells():
                d = diff_cells(self.store, self.a, self.b)
            else:
                d = diff_runs(self.store, self.a, self.b, getattr(self.app, "weights", None))
            d = masked(d)  # secrets in tails, span names and identities
        except Exception as e:  # noqa: BLE001 - shown to the user, not a traceback
            self.app.call_from_thread(self._failed, f"{type(e).__name__}: {e}")
            return
        self.app.call_from_thread(self._diff_loaded, d)

    @work(thread=True, exclusive=True, group="compare-session")
    def load_sides(self) -> None:
        """A's session, then B's: one at a time, so A's terminal plays while B's loads."""
        worker = get_current_worker()
        for side, cell_id in (("a", self.a), ("b", self.b)):
            if worker.is_cancelled or self._closed:
                return
            try:
                s = load_session(self.store, cell_id)
            except Exception as e:  # noqa: BLE001
                self.app.call_from_thread(self._side_failed, side, f"{type(e).__name__}: {e}")
                continue
            self.app.call_from_thread(self._side_loaded, side, s)

    def _failed(self, reason: str) -> None:
        self.query_one("#cmp-status", Static).update(Text(safe(reason), style="bold red"))
        for side in ("a", "b"):
            self.query_one(f"#cmp-term-{side}", TerminalView).show_message("")

    def _diff_loaded(self, d: dict[str, Any]) -> None:
        if self._closed:
            return
        self.diff = d
        summary = self.query_one(Summary)
        if d["kind"] == "cells":
            summary.set_columns(
                self._identity,
                self._axes,
                self._cells_note(d),
                ratios=RATIOS,
                least=(40, least_width(axes_table(d)), 0),
                stack_order=(1, 0, 2),
            )
            for wid in ("#cmp-spans", "#cmp-terms"):
                self.query_one(wid).display = False
            summary.add_class("-tall")
            self._status()
            return
        summary.set_columns(
            self._identity,
            self._axes,
            composite_table(d),
            ratios=RATIOS,
            stack_order=(1, 0, 2),
            least=(40, least_width(axes_table(d)), least_width(composite_table(d))),
        )
        self.query_one("#cmp-diffs-body", Static).update(diffs(d))
        self.link = Link(d["spans"]["pairs"])
        self.query_one(AlignedSpans).set_pairs(d["spans"]["pairs"], d["spans"]["parted_at"])
        self._rebuild_clock()
        self.row = 0 if d["spans"]["pairs"] else None
        self._sync()
        self.load_sides()

    def _identity(self, width: int, stacked: bool) -> Table:
        assert self.diff is not None
        return identity_table(self.diff, width, stacked)

    def _axes(self, width: int, stacked: bool) -> Table:
        assert self.diff is not None
        only = not self.all_axes if self.all_axes is not None else stacked
        return axes_table(self.diff, width, only_differing=only)

    def action_toggle_axes(self) -> None:
        summary = self.query_one(Summary)
        shown_all = self.all_axes if self.all_axes is not None else not summary.stacked
        self.all_axes = not shown_all
        summary.rebuild()

    def on_resize(self) -> None:
        self.call_after_refresh(self._titles)

    def _titles(self) -> None:
        """Each terminal's title: its run id, the part the two ids share shortened (…) so the
        part that differs reads whole."""
        width = self.query_one("#cmp-col-a").size.width - 8
        a, b = differing(shown(self.a), shown(self.b), max(8, width))
        self.query_one("#cmp-col-a").border_title = Text(f"A  {a}")
        self.query_one("#cmp-col-b").border_title = Text(f"B  {b}")

    def _cells_note(self, d: dict[str, Any]) -> Text:
        t = Text("cells: means with 95% intervals\n", style="bold")
        for side, style in (("a", "cyan"), ("b", "magenta")):
            t.append(f"{side.upper()} {len(d[side]['runs'])} runs: ", style=style)
            t.append(safe(d[side]["cell"]) + "\n")
        return t

    def _side_failed(self, side: str, reason: str) -> None:
        self.query_one(f"#cmp-term-{side}", TerminalView).show_message(f"Cannot replay: {reason}")

    def _side_loaded(self, side: str, s: Session) -> None:
        if self._closed:
            return
        self.sessions[side] = s
        if s.problems:  # the recording plays; what was skipped, cut or clamped is said under it
            first = s.problems[0].removeprefix(f"{s.source}: ")
            more = f" (+{len(s.problems) - 1} more)" if len(s.problems) > 1 else ""
            self.query_one(f"#cmp-col-{side}").border_subtitle = Text(
                "⚠ " + shown(first) + more, style="yellow"
            )
        if s.message is not None:
            self.query_one(f"#cmp-term-{side}", TerminalView).show_message(
                Text(safe(s.message), style="bold")
            )
        limits = [o.recording.idle_time_limit for o in self.sessions.values()
                  if o is not None and o.recording is not None and o.recording.idle_time_limit]  # fmt: skip
        if limits:  # a recording's header asks for an idle limit, as the replay screen honours
            self.clock.idle_limit = min(limits)
            self.clock.idle_on = self.clock.idle_on or not self._idle_chosen
        if s.clock.idle_on != self.clock.idle_on:
            s.clock.toggle_idle()
        self._rebuild_clock()
        self._sync()
        if None not in self.sessions.values():
            # neither run recorded: the summary takes the terminals' room
            self.set_class(
                all(o is not None and o.player is None for o in self.sessions.values()),
                "-no-recordings",
            )
            self._freeze()

    def _freeze(self) -> None:
        """Exempt what is loaded now (two recordings' events, keyframes, 2,000-span alignments)
        from the cyclic GC while the screen is open: a full collection walked all of it, a
        60-70 ms stall every few dozen key presses or seconds of play. Undone on unmount."""
        if not self._frozen:
            self._frozen_before = gc.get_freeze_count()
            gc.freeze()
            self._frozen = True

    def _rebuild_clock(self) -> None:
        """A's axis spans both runs: A's end, and B's end seen from A. With the idle limit on,
        it caps the gaps between the events of both recordings (B's seen from A)."""
        if self.link is None:
            return
        ends_a = [p["a"]["start_ms"] + (p["a"]["duration_ms"] or 0.0) for p in self.link.pairs
                  if p["a"] is not None and p["a"]["start_ms"] is not None]  # fmt: skip
        ends_b = [p["b"]["start_ms"] + (p["b"]["duration_ms"] or 0.0) for p in self.link.pairs
                  if p["b"] is not None and p["b"]["start_ms"] is not None]  # fmt: skip
        sa, sb = self.sessions["a"], self.sessions["b"]
        end_a = max([*ends_a, sa.clock.end_ms if sa else 0.0, 0.0])
        end_b = max([*ends_b, sb.clock.end_ms if sb else 0.0, 0.0])
        end = max(end_a, self.link.a_time(end_b))
        events = idle_events(self.link, self._clocks()) if self.clock.idle_on else ()
        self.clock = relinked(self.clock, end, events)

    def _clocks(self) -> list[tuple[str, Clock]]:
        """The loaded sessions' own clocks, by side."""
        return [(side, s.clock) for side, s in self.sessions.items() if s is not None]

    # -- the linked cursor -------------------------------------------------------------------

    def playing_clock(self) -> Clock | None:
        return self.clock if self.link is not None else None

    def _moved(self, row: int | None = None) -> None:
        self._pinned_at = self.clock.position if row is not None else None
        if row is not None:
            self.row = row
        self.post_message(self.Moved())

    @on(Moved)
    def _on_moved(self) -> None:
        self._sync()

    def _sync(self) -> None:
        """Show the cursor: the aligned row, both terminals, the status line."""
        if self.link is None:
            return
        pos = self.clock.position
        if self._pinned_at != pos:
            self._pinned_at = None
            self.row = self.link.row_at(pos)
        self.query_one(AlignedSpans).set_cursor(self.row or 0)
        self.time_b = self.link.b_time(pos)
        for side, t in (("a", pos), ("b", self.time_b)):
            s = self.sessions[side]
            if s is None:
                continue
            s.clock.seek(t)
            if s.player is not None:
                changed = s.player.advance(s.clock.recording_time + EPS)
                self.query_one(f"#cmp-term-{side}", TerminalView).show_screen(
                    s.player.lines(), changed, s.player.cursor()
                )
        self._status()

    def _status(self) -> None:
        d = self.diff
        if d is None:
            return
        if d["kind"] == "cells":
            self.query_one("#cmp-status", Static).update(Text("two cells: per-axis means"))
            return
        c = self.clock
        n = len(d["spans"]["pairs"])
        parts = [
            "▶ playing" if c.playing else "⏸ paused",
            f"A {fmt_ms(c.position)}",
            f"B {fmt_ms(self.time_b)}",
            f"{c.speed:g}x",
            "B follows the alignment" if self.link and self.link.mode == SPAN else "one clock",
            f"row {(self.row or 0) + 1}/{n}" if n else "no spans",
        ]
        if c.idle_on:
            parts.append(f"idle limit {c.idle_limit:g}s")
        if self.searching:
            parts.append(f"searching {self.needle!r}…")
        elif self.needle:
            parts.append(
                f"hit {self.hit + 1} of {len(self.hits)} ({self.hits[self.hit][1]})"
                if self.hit is not None
                else f"no hits for {self.needle!r}"
            )
        self.query_one("#cmp-status", Static).update(Text(safe("  ·  ".join(parts))), layout=False)

    # -- actions -----------------------------------------------------------------------------

    def _goto_row(self, row: int) -> None:
        if self.link is None or not self.link.pairs:
            return
        row = min(max(0, row), len(self.link.pairs) - 1)
        self.clock.seek(self.link.times[row])
        self._moved(row)

    def action_next_row(self) -> None:
        self._goto_row((self.row if self.row is not None else -1) + 1)

    def action_prev_row(self) -> None:
        self._goto_row((self.row or 0) - 1)

    def action_parted(self) -> None:
        k = self.diff["spans"]["parted_at"] if self.diff and "spans" in self.diff else None
        if k is None:
            self.notify("The two traces never part.", timeout=2)
        else:
            self._goto_row(k)

    def action_toggle_link(self) -> None:
        if self.link is None:
            return
        self.link.toggle()
        self._rebuild_clock()
        self._place_hits()
        if self.row is not None:
            self._goto_row(self.row)

    def action_toggle_diffs(self) -> None:
        if self.diff is None or self.diff["kind"] == "cells":
            return
        self.toggle_class("-diffs")

    def action_toggle_summary(self) -> None:
        i = SUMMARY_MODES.index(self.summary_mode)
        self.summary_mode = SUMMARY_MODES[(i + 1) % len(SUMMARY_MODES)]
        for mode in SUMMARY_MODES[1:]:
            self.set_class(self.summary_mode == mode, f"-summary-{mode}")

    def action_scroll_summary(self, n: int) -> None:
        summary = self.query_one(Summary)
        summary.scroll_to(y=summary.scroll_y + n, animate=False)

    def action_page_summary(self, n: int) -> None:
        summary = self.query_one(Summary)
        page = max(1, summary.scrollable_content_region.height - 1)
        summary.scroll_to(y=summary.scroll_y + n * page, animate=False)

    def _marker(self, forward: bool) -> None:
        """The nearest marker of either recording, B's placed on A's axis by the link."""
        if self.link is None:
            return
        marks = moments(
            self.link,
            ((side, s.clock.to_run(m.time), f"{side.upper()}: {m.label}")
             for side, s in self.sessions.items() if s is not None
             for m in s.timeline.markers),
        )  # fmt: skip
        if not marks:
            self.notify("Neither recording has markers.", timeout=2)
            return
        m = step_to(marks, self.clock.position, forward)
        if m is not None:
            self.clock.seek(m[0])
            self._moved()
            self.notify(shown(m[1]), title="marker", timeout=2, markup=False)

    def action_next_marker(self) -> None:
        self._marker(True)

    def action_prev_marker(self) -> None:
        self._marker(False)

    def action_toggle_secrets(self) -> None:
        for side in ("a", "b"):
            terminal = self.query_one(f"#cmp-term-{side}", TerminalView)
            terminal.reveal = not terminal.reveal
        self.notify("Secrets shown." if terminal.reveal else "Secrets masked.", timeout=2)

    def action_toggle_idle(self) -> None:
        self._idle_chosen = True
        self.clock.idle_on = not self.clock.idle_on
        for _, c in self._clocks():  # the sessions' own clocks say the same (they only seek)
            if c.idle_on != self.clock.idle_on:
                c.toggle_idle()
        self._rebuild_clock()
        self._status()

    # -- search ------------------------------------------------------------------------------

    def action_search(self) -> None:
        if self.link is None:
            return
        search = self.query_one("#cmp-search", Input)
        search.display = True
        search.focus()

    @on(Input.Submitted, "#cmp-search")
    def _submitted(self, event: Input.Submitted) -> None:
        event.input.display = False
        self.find(event.value)

    def find(self, needle: str) -> None:
        """Search both recordings for ``needle`` (in a thread) and jump to the first hit, on
        either side, at or after the cursor."""
        players = [s for s in self.sessions.values() if s is not None and s.player is not None]
        if not players or not needle.strip():
            self.notify("Nothing to search." if needle.strip() else "Type some text.", timeout=2)
            return
        self.needle, self.searching, self.hit = needle, True, None
        self._raw_hits, self.hits = [], []
        self._status()
        self._search(needle)

    @work(thread=True, exclusive=True, group="compare-search")
    def _search(self, needle: str) -> None:
        hits: list[tuple[str, float]] = []
        for side, s in list(self.sessions.items()):
            if s is not None and s.player is not None:
                hits += [(side, s.clock.to_run(t)) for t in s.player.search(needle)]
        self.app.call_from_thread(self._found, needle, hits)

    def _found(self, needle: str, hits: list[tuple[str, float]]) -> None:
        if needle != self.needle or self._closed:
            return
        self.searching, self._raw_hits = False, hits
        self._place_hits()
        if not self.hits:
            self._status()
            return
        pos = self.clock.position - MOMENT_EPS  # a hit at the cursor counts
        self._goto_hit(next((i for i, h in enumerate(self.hits) if h[0] >= pos), 0))

    def _place_hits(self) -> None:
        """The hits on A's axis (again after the link changes), one per moment."""
        if self.link is None:
            return
        self.hits = moments(self.link, ((side, t, side.upper()) for side, t in self._raw_hits))
        if self.hit is not None:
            self.hit = min(self.hit, len(self.hits) - 1) if self.hits else None

    def _goto_hit(self, i: int) -> None:
        if not self.hits:
            return
        self.hit = i % len(self.hits)
        self.clock.seek(self.hits[self.hit][0])
        self._moved()

    def diffs_renderable(self) -> RenderableType | None:
        return diffs(self.diff) if self.diff and self.diff["kind"] == "runs" else None
