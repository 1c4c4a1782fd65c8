"""Replay one run: its span waterfall, its terminal and its model calls on one clock.

``ReplayScreen(store, cell_id)`` replays a run of a sweep; ``ReplayScreen(None, None, path)`` a
bare recording. The session is loaded in a thread worker; searches run in one too
(:class:`~cabtui.ui.screens.playback.PlaybackScreen`, shared with the compare screen). Every
clock move posts ``Moved``, which coalesces, and its handler repaints: the terminal only in the
rows the engine reports as changed.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Static

from cabtui.replay.session import Session
from cabtui.store.store import Store
from cabtui.text import safe, shown
from cabtui.ui.keys import KeyCommand, bindings
from cabtui.ui.screens.playback import EPS
from cabtui.ui.screens.replay_keys import REPLAY_COMMANDS, Crop, status_parts
from cabtui.ui.screens.replay_session import SessionPlayback
from cabtui.ui.widgets.replay_panels import call_text, span_text
from cabtui.ui.widgets.ruler import Ruler
from cabtui.ui.widgets.search_bar import SearchBar
from cabtui.ui.widgets.terminal import TerminalView
from cabtui.ui.widgets.waterfall import Waterfall

GROWTH_POLL_S = 1.0  # how often the shown recording's file is looked at for growth


class ReplayScreen(SessionPlayback):
    CSS_PATH = "replay.tcss"
    COMMAND_LIST: ClassVar[list[KeyCommand]] = REPLAY_COMMANDS
    BINDINGS = bindings(COMMAND_LIST)

    def __init__(
        self, store: Store | None, cell_id: str | None, recording: Path | None = None
    ) -> None:
        super().__init__(store, cell_id, recording)
        self.selected: int | None = None  # the highlighted span's index
        self._shown_span: int | None = -1
        self._shown_call: object = -1
        self._force_narrow = False  # the status line in its short forms whatever the width

    def compose(self) -> ComposeResult:
        yield Ruler(id="ruler")
        yield Waterfall(id="waterfall")
        with Horizontal(id="replay-body"):
            with Vertical(id="terminal-col"):
                yield Static(id="rec-problems")
                yield TerminalView(id="terminal")
            with Vertical(id="side"):
                yield Static(id="span-attrs")
                with VerticalScroll(id="prompt"):
                    yield Static(id="prompt-text")
        yield Static("Loading…", id="status")
        yield SearchBar(placeholder="search the terminal text, enter to find", id="search")
        yield Footer()

    # -- loading -----------------------------------------------------------------------------

    def on_mount(self) -> None:
        self.query_one("#terminal", TerminalView).show_message("Loading the recording…")
        self.start_timer()
        self.load()
        self.set_interval(GROWTH_POLL_S, self._look_for_growth)

    def show_failure(self, group: str, reason: str) -> bool:
        if group == "replay-load":
            self._failed(reason)
            return True
        return super().show_failure(group, reason)

    def _failed(self, reason: str) -> None:
        self._loading = False
        self.query_one("#terminal", TerminalView).show_message(f"Cannot open this replay: {reason}")
        self.query_one("#status", Static).update(Text(safe(reason), style="bold red"))

    def _loaded(self, s: Session, stamp: tuple[int, int] | None = None) -> None:
        old = self.session
        playing = old is not None and old.clock.playing and not self.following
        if self._regrown and old is not None:  # the same recording, longer: the same moment
            self._resume_ms = math.inf if self.following else old.clock.position
            self._grown, self._regrown = True, False
        self.session, self._stamp, self._loading = s, stamp, False
        terminal = self.query_one("#terminal", TerminalView)
        col = self.query_one("#terminal-col")
        if s.player is not None and s.timeline.spans:
            # as large as the recording where the terminal allows, the rest to the spans; a
            # recording larger than that is cropped around its cursor (shift+arrows pan)
            col.styles.max_width = s.player.cols + 2
            self.query_one("#replay-body").styles.max_height = (
                s.player.rows + 2 + (2 if s.problems else 0)
            )
        col.border_title = Text(shown(Path(s.source).name) if s.source else "terminal")
        problems = self.query_one("#rec-problems", Static)
        problems.display = bool(s.problems)
        if s.problems:
            more = f" (+{len(s.problems) - 1} more)" if len(s.problems) > 1 else ""
            problems.update(Text(shown(s.problems[0]) + more, style="bold yellow"))
        if s.message is not None:
            terminal.show_message(Text(safe(s.message), style="bold"))
        tl, clock = s.timeline, s.clock
        waterfall = self.query_one("#waterfall", Waterfall)
        waterfall.display = bool(tl.spans)  # a bare recording has none
        # without spans the terminal takes the room: no empty span pane beside or above it
        self.set_class(not tl.spans, "-no-spans")
        waterfall.set_spans(tl.spans, clock.end_ms)
        self.query_one("#ruler", Ruler).set_marks(
            clock.end_ms,
            [clock.to_run(m.time) for m in tl.markers],
            [sp.start_ms for sp in tl.spans],
            [c.start_ms for c in tl.calls],
        )
        self.sub_title = shown(s.title)
        if self._resume_ms is not None:
            s.clock.seek(self._resume_ms)
            self._resume_ms = None
        if playing:
            self.action_play_pause()
        self._sync()
        self.call_after_refresh(self._refit)

    def on_resize(self) -> None:
        self.call_after_refresh(self._refit)

    def _refit(self) -> None:
        """After a layout: the view of a cropped recording follows its cursor, and the status
        line says how much of it is shown."""
        terminal = self.query_one("#terminal", TerminalView)
        if not terminal.panned:
            terminal.pan(0, 0)
        self._status()

    # -- the clock ---------------------------------------------------------------------------

    def _pick(self, index: int) -> None:
        self.selected = index

    def _sync(self) -> None:
        s = self.session
        if s is None:
            return
        pos = s.clock.position
        if self.following and pos < s.clock.end_ms and not self._loading:
            self.following = False  # a key moved the clock off the live edge
        if self._pinned_at != pos:
            self._pinned_at = None
            cur = s.timeline.current(pos)
            self.selected = cur.index if cur else None
        self.query_one("#waterfall", Waterfall).set_position(pos, self.selected)
        self.query_one("#ruler", Ruler).set_position(pos)
        if s.player is not None:
            changed = s.player.advance(s.clock.recording_time + EPS)
            self.query_one("#terminal", TerminalView).show_screen(
                s.player.lines(), changed, s.player.cursor()
            )
        if self.selected != self._shown_span:  # repaint the panels only when they change
            self._shown_span = self.selected
            span = s.timeline.spans[self.selected] if self.selected is not None else None
            self.query_one("#span-attrs", Static).update(span_text(span))
        call = s.timeline.call_at(pos) if self.query_one("#prompt").display else None
        if call is not self._shown_call:
            self._shown_call = call
            if call is not None or self.query_one("#prompt").display:
                self.query_one("#prompt-text", Static).update(call_text(call))
        self._status()

    def _status(self) -> None:
        s = self.session
        if s is None:
            return
        # short forms where the long ones would not fit on one line
        narrow = self.size.width < 100 or self._force_narrow
        terminal = self.query_one("#terminal", TerminalView)
        crop = None
        if s.player is not None and terminal.cropped():
            w, h = terminal.size.width, terminal.size.height
            crop = Crop(w, h, terminal.view_x, terminal.view_y, terminal.panned)
        parts = status_parts(s, narrow, self.selected, crop, self.following and self._grown,
                             self.search_status())  # fmt: skip
        line = "  ·  ".join(parts)
        if not narrow and len(line) > self.size.width - 2:  # the long forms do not fit: short
            self._status_short()
            return
        self.query_one("#status", Static).update(
            Text(safe(line if not narrow else " · ".join(parts)))
        )

    def _status_short(self) -> None:
        self._force_narrow = True
        try:
            self._status()
        finally:
            self._force_narrow = False

    # -- actions -----------------------------------------------------------------------------

    def _span(self, forward: bool) -> None:
        s = self.session
        if s is None:
            return
        pos = s.clock.position
        find = s.timeline.next_span if forward else s.timeline.prev_span
        span = find(pos, self.selected)
        if span is not None:
            s.clock.seek(span.start_ms)
            self._moved(span.index)

    def action_next_span(self) -> None:
        self._span(True)

    def action_prev_span(self) -> None:
        self._span(False)

    def _marker(self, forward: bool) -> None:
        s = self.session
        if s is None:
            return
        rec_t = s.clock.recording_time
        m = s.timeline.next_marker(rec_t) if forward else s.timeline.prev_marker(rec_t)
        if m is not None:
            s.clock.seek(s.clock.to_run(m.time))
            self._moved()
            self.notify(shown(m.label) or "marker", title="marker", timeout=2, markup=False)

    def _toggle_reveal(self) -> bool:
        terminal = self.query_one("#terminal", TerminalView)
        terminal.reveal = not terminal.reveal
        return terminal.reveal

    def action_pan(self, dx: int, dy: int) -> None:
        self.query_one("#terminal", TerminalView).pan(dx, dy)
        self._status()

    def action_toggle_prompt(self) -> None:
        panel = self.query_one("#prompt")
        panel.display = not panel.display
        self._shown_call = -1
        self._sync()

    # -- search ------------------------------------------------------------------------------

    def revealed(self) -> bool:
        return self.query_one("#terminal", TerminalView).reveal
