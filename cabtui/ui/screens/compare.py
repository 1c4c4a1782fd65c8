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

The summary (:class:`CompareSummary`) and the two terminals (:class:`CompareTerminals`) are
widgets of their own; the clock keys, the search and its hits are
:class:`~cabtui.ui.screens.playback.PlaybackScreen`'s, shared with the replay screen.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static
from textual.worker import get_current_worker

from cabtui.compare.diff import diff_ids
from cabtui.compare.link import (
    MOMENT_EPS,
    SPAN,
    Link,
    idle_events,
    linked_end,
    moments,
    relinked,
    step_to,
)
from cabtui.compare.values import CellDiff, Diff, RunDiff
from cabtui.replay.clock import Clock, fmt_ms
from cabtui.replay.engine import Player
from cabtui.replay.session import Session, load_session
from cabtui.store.store import Store
from cabtui.text import safe, shown
from cabtui.ui.keys import KeyCommand, bindings
from cabtui.ui.screens.playback import EPS, PlaybackScreen, clock_commands
from cabtui.ui.widgets.aligned import AlignedSpans
from cabtui.ui.widgets.axes_diff import diffs
from cabtui.ui.widgets.compare_summary import CompareSummary
from cabtui.ui.widgets.compare_terminals import SIDES, CompareTerminals
from cabtui.ui.widgets.search_bar import SearchBar

SUMMARY_MODES = ("strip", "full", "hidden")  # `s` cycles: a strip at the top, the screen, none


class CompareScreen(PlaybackScreen):
    CSS_PATH = "compare.tcss"
    HIT_EPS = MOMENT_EPS  # a hit at the cursor counts
    COMMAND_LIST: ClassVar[list[KeyCommand]] = [
        KeyCommand("play_pause", "space", "Play", "Play or pause both runs.", key_display="space"),
        KeyCommand("prev_row", "left", "Prev row", "Move both runs to the previous aligned row.", key_display="←"),
        KeyCommand("next_row", "right", "Next row", "Move both runs to the next aligned row.", key_display="→"),
        KeyCommand("parted", "d", "Parting", "Jump to the row where the two traces part."),
        KeyCommand("toggle_link", "l", "Link", "Follow B by the span alignment or by the same clock."),
        KeyCommand("toggle_diffs", "f", "Diffs", "Show the tail, file-set and model-call diffs or the recordings."),
        KeyCommand("toggle_axes", "a", "All axes", "Show every scorer key, or only those that differ (the default under 120 columns)."),
        KeyCommand("toggle_summary", "s", "Summary", "Identities, axes and composite: a strip at the top, the whole screen, or hidden."),
        KeyCommand("scroll_summary(-1)", "up", "Scroll up", "Scroll the summary up a line.", show=False, key_display="↑"),
        KeyCommand("scroll_summary(1)", "down", "Scroll down", "Scroll the summary down a line.", show=False, key_display="↓"),
        KeyCommand("page_summary(-1)", "pageup", "Page up", "Scroll the summary up a page.", show=False, key_display="pgup"),
        KeyCommand("page_summary(1)", "pagedown", "Page down", "Scroll the summary down a page.", show=False, key_display="pgdn"),
        *clock_commands("run A"),
        KeyCommand("prev_marker", "left_square_bracket", "Prev marker", "Jump to the previous recording marker of either run (B's placed on A's time by the link).", show=False, key_display="["),
        KeyCommand("next_marker", "right_square_bracket", "Next marker", "Jump to the next recording marker of either run (B's placed on A's time by the link).", show=False, key_display="]"),
        KeyCommand("search", "slash", "Search", "Search both recordings' terminal text.", key_display="/"),
        KeyCommand("next_hit", "n", "Next hit", "Jump to the next search hit in either run.", show=False),
        KeyCommand("prev_hit", "N", "Prev hit", "Jump to the previous search hit in either run.", show=False),
        KeyCommand("toggle_secrets", "x", "Secrets", "Show or mask the secrets on both recorded screens.", show=False),
        KeyCommand("toggle_idle", "i", "Idle limit", "Cap the gaps in which neither recording shows anything new while playing (asciinema's idle_time_limit).", show=False),
        KeyCommand("back", "escape", "Back", "Leave the comparison (or the search prompt)."),
    ]  # fmt: skip
    BINDINGS = bindings(COMMAND_LIST)

    def __init__(self, store: Store, a: str, b: str) -> None:
        super().__init__()
        self.store, self.a, self.b = store, a, b
        self.diff: Diff | None = None
        self.link: Link | None = None
        self.sessions: dict[str, Session | None] = {"a": None, "b": None}
        self.clock = Clock(end_ms=0.0)  # A's time axis
        self.row: int | None = None  # the aligned row under the cursor
        self.time_b = 0.0  # B's time for the cursor (not clamped to B's end)
        self.summary_mode = SUMMARY_MODES[0]
        self._raw_hits: list[tuple[str, float]] = []  # (side, run ms on that side's axis)
        self.hits: list[tuple[float, str]] = []  # (A's time, "A" / "B" / "A · B")
        self._frozen: bool | None = None  # frozen (True: first, so thawed on unmount)
        self._closed = False  # unmounted: a loader finishing late changes nothing
        self._idle_chosen = False  # `i` was pressed: a header no longer turns the limit on

    def compose(self) -> ComposeResult:
        yield CompareSummary(id="cmp-summary")
        yield AlignedSpans(id="cmp-spans")
        yield CompareTerminals(id="cmp-terms")
        with VerticalScroll(id="cmp-diffs"):
            yield Static(id="cmp-diffs-body")
        yield Static("Loading…", id="cmp-status")
        yield SearchBar(placeholder="search both recordings' text, enter to find", id="cmp-search")
        yield Footer()

    @property
    def terminals(self) -> CompareTerminals:
        return self.query_one(CompareTerminals)

    # -- loading -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self._titles()
        for side in SIDES:
            self.terminals.show_message(side, "Loading…")
        self.start_timer()
        self.load_diff()

    def on_unmount(self) -> None:
        """Let go of what was loaded (Textual keeps a popped screen alive a while through its
        finished workers), and undo this screen's GC freeze (:meth:`CabBase.thaw`)."""
        self._closed = True
        self.sessions = {"a": None, "b": None}
        self.diff = self.link = None
        self._raw_hits, self.hits = [], []
        if self._frozen is not None:
            self.app.thaw(self._frozen)
        self._frozen = None

    @work(thread=True, exclusive=True, group="compare-diff", exit_on_error=False)
    def load_diff(self) -> None:
        d = diff_ids(self.store, self.a, self.b, self.app.weights)
        self.app.call_from_thread(self._diff_loaded, d)

    @work(thread=True, exclusive=True, group="compare-session", exit_on_error=False)
    def load_sides(self) -> None:
        """A's session, then B's: one at a time, so A's terminal plays while B's loads."""
        worker = get_current_worker()
        for side, cell_id in (("a", self.a), ("b", self.b)):
            if worker.is_cancelled or self._closed:
                return
            try:
                s = load_session(self.store, cell_id)
            except Exception as e:  # noqa: BLE001 - one side failing leaves the other playing
                self.app.call_from_thread(self._side_failed, side, f"{type(e).__name__}: {e}")
                continue
            self.app.call_from_thread(self._side_loaded, side, s)

    def show_failure(self, group: str, reason: str) -> bool:
        if group == "compare-diff":
            self._failed(reason)
            return True
        return super().show_failure(group, reason)

    def _failed(self, reason: str) -> None:
        self.query_one("#cmp-status", Static).update(Text(safe(reason), style="bold red"))
        for side in SIDES:
            self.terminals.show_message(side, "")

    def _diff_loaded(self, d: Diff) -> None:
        if self._closed:
            return
        self.diff = d
        self.query_one(CompareSummary).show(d)
        if isinstance(d, CellDiff):
            for wid in ("#cmp-spans", "#cmp-terms"):
                self.query_one(wid).display = False
            self._status()
            return
        self.query_one("#cmp-diffs-body", Static).update(diffs(d))
        self.link = Link(d.spans.pairs)
        self.query_one(AlignedSpans).set_pairs(d.spans.pairs, d.spans.parted_at)
        self._rebuild_clock()
        self.row = 0 if d.spans.pairs else None
        self._sync()
        self.load_sides()

    def action_toggle_axes(self) -> None:
        self.query_one(CompareSummary).toggle_axes()

    def on_resize(self) -> None:
        self.call_after_refresh(self._titles)

    def _titles(self) -> None:
        self.terminals.titles(self.a, self.b)

    def _side_failed(self, side: str, reason: str) -> None:
        self.terminals.show_message(side, f"Cannot replay: {reason}")

    def _side_loaded(self, side: str, s: Session) -> None:
        if self._closed:
            return
        self.sessions[side] = s
        self.terminals.loaded(side, s)
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
            # two recordings' events, keyframes, 2,000-span alignments: a full collection
            # walked all of it, a 60-70 ms stall every few dozen key presses or seconds of play
            if self._frozen is None:
                self._frozen = self.app.freeze_loaded()

    def _rebuild_clock(self) -> None:
        """A's axis spans both runs: A's end, and B's end seen from A. With the idle limit on,
        it caps the gaps between the events of both recordings (B's seen from A)."""
        if self.link is None:
            return
        end = linked_end(self.link, self._clocks())
        events = idle_events(self.link, self._clocks()) if self.clock.idle_on else ()
        self.clock = relinked(self.clock, end, events)

    def _clocks(self) -> list[tuple[str, Clock]]:
        """The loaded sessions' own clocks, by side."""
        return [(side, s.clock) for side, s in self.sessions.items() if s is not None]

    # -- the linked cursor -------------------------------------------------------------------

    def playing_clock(self) -> Clock | None:
        return self.clock if self.link is not None else None

    def _pick(self, index: int) -> None:
        self.row = index

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
            self.terminals.show(side, s, EPS)
        self._status()

    def _status(self) -> None:
        d = self.diff
        if d is None:
            return
        if isinstance(d, CellDiff):
            self.query_one("#cmp-status", Static).update(Text("two cells: per-axis means"))
            return
        c = self.clock
        n = len(d.spans.pairs)
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
        k = self.diff.spans.parted_at if isinstance(self.diff, RunDiff) else None
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
        if not isinstance(self.diff, RunDiff):
            return
        self.toggle_class("-diffs")

    def action_toggle_summary(self) -> None:
        i = SUMMARY_MODES.index(self.summary_mode)
        self.summary_mode = SUMMARY_MODES[(i + 1) % len(SUMMARY_MODES)]
        for mode in SUMMARY_MODES[1:]:
            self.set_class(self.summary_mode == mode, f"-summary-{mode}")

    def action_scroll_summary(self, n: int) -> None:
        self.query_one(CompareSummary).scroll_lines(n)

    def action_page_summary(self, n: int) -> None:
        self.query_one(CompareSummary).scroll_pages(n)

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
        shown_now = self.terminals.toggle_secrets()
        self.notify("Secrets shown." if shown_now else "Secrets masked.", timeout=2)

    def action_toggle_idle(self) -> None:
        self._idle_chosen = True
        self.clock.idle_on = not self.clock.idle_on
        for _, c in self._clocks():  # the sessions' own clocks say the same (they only seek)
            if c.idle_on != self.clock.idle_on:
                c.toggle_idle()
        self._rebuild_clock()
        self._status()

    # -- search ------------------------------------------------------------------------------

    def search_ready(self) -> bool:
        return self.link is not None

    def searchable(self) -> list[tuple[str, Player, Clock]]:
        return [(side, s.player, s.clock) for side, s in list(self.sessions.items())
                if s is not None and s.player is not None]  # fmt: skip

    def revealed(self) -> bool:
        return self.terminals.terminal("a").reveal

    def _clear_hits(self) -> None:
        self._raw_hits, self.hits = [], []

    def _place_hits(self, raw: list[tuple[str, float]] | None = None) -> None:
        """The hits on A's axis (again after the link changes), one per moment."""
        if raw is not None:
            self._raw_hits = raw
        if self.link is None:
            return
        self.hits = moments(self.link, ((side, t, side.upper()) for side, t in self._raw_hits))
        if self.hit is not None:
            self.hit = min(self.hit, len(self.hits) - 1) if self.hits else None

    def hit_times(self) -> list[float]:
        return [t for t, _ in self.hits]
