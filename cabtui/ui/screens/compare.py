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
widgets of their own; the two sessions on the linked clock, their markers and search hits are
:class:`~cabtui.ui.screens.compare_playback.LinkedPlayback`'s; the clock keys and the search
prompt :class:`~cabtui.ui.screens.playback.PlaybackScreen`'s, shared with the replay screen.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Footer, Static

from cabtui.compare.diff import diff_ids
from cabtui.compare.link import SPAN, Link
from cabtui.compare.values import CellDiff, Diff, RunDiff
from cabtui.store.store import Store
from cabtui.text import safe
from cabtui.ui.keys import KeyCommand, bindings
from cabtui.ui.screens.compare_keys import COMPARE_COMMANDS, status_parts
from cabtui.ui.screens.compare_playback import LinkedPlayback
from cabtui.ui.screens.playback import EPS
from cabtui.ui.widgets.aligned import AlignedSpans
from cabtui.ui.widgets.axes_diff import diffs
from cabtui.ui.widgets.compare_summary import CompareSummary
from cabtui.ui.widgets.compare_terminals import SIDES, CompareTerminals
from cabtui.ui.widgets.search_bar import SearchBar

SUMMARY_MODES = ("strip", "full", "hidden")  # `s` cycles: a strip at the top, the screen, none


class CompareScreen(LinkedPlayback):
    CSS_PATH = "compare.tcss"
    COMMAND_LIST: ClassVar[list[KeyCommand]] = COMPARE_COMMANDS
    BINDINGS = bindings(COMMAND_LIST)

    def __init__(self, store: Store, a: str, b: str) -> None:
        super().__init__(store, a, b)
        self.diff: Diff | None = None
        self.row: int | None = None  # the aligned row under the cursor
        self.time_b = 0.0  # B's time for the cursor (not clamped to B's end)
        self.summary_mode = SUMMARY_MODES[0]

    def compose(self) -> ComposeResult:
        yield CompareSummary(id="cmp-summary")
        yield AlignedSpans(id="cmp-spans")
        yield CompareTerminals(id="cmp-terms")
        with VerticalScroll(id="cmp-diffs"):
            yield Static(id="cmp-diffs-body")
        yield Static("Loading…", id="cmp-status")
        yield SearchBar(placeholder="search both recordings' text, enter to find", id="cmp-search")
        yield Footer()

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
        self.diff = None
        self.release()

    @work(thread=True, exclusive=True, group="compare-diff", exit_on_error=False)
    def load_diff(self) -> None:
        d = diff_ids(self.store, self.a, self.b, self.app.weights)
        self.app.call_from_thread(self._diff_loaded, d)

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

    # -- the linked cursor -------------------------------------------------------------------

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
        by_spans = self.link is not None and self.link.mode == SPAN
        parts = status_parts(self.clock, self.time_b, by_spans, self.row, len(d.spans.pairs),
                             self.search_status())  # fmt: skip
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
