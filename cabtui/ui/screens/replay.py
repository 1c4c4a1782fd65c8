"""Replay one run: its span waterfall, its terminal and its model calls on one clock.

``ReplayScreen(store, cell_id)`` replays a run of a sweep; ``ReplayScreen(None, None, path)`` a
bare recording. The session is loaded in a thread worker; searches run in one too
(:class:`~cabtui.ui.screens.playback.PlaybackScreen`, shared with the compare screen). Every
clock move posts ``Moved``, which coalesces, and its handler repaints: the terminal only in the
rows the engine reports as changed.
"""

from __future__ import annotations

import contextlib
import math
from pathlib import Path
from typing import ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Footer, Static

from cabtui.replay.clock import Clock, fmt_ms
from cabtui.replay.engine import Player
from cabtui.replay.session import Session, load_session
from cabtui.store.store import Store
from cabtui.store.tails import stat_of
from cabtui.text import safe, shown
from cabtui.ui.keys import KeyCommand, bindings
from cabtui.ui.screens.playback import EPS, PlaybackScreen, clock_commands
from cabtui.ui.widgets.replay_panels import call_text, span_text
from cabtui.ui.widgets.ruler import Ruler
from cabtui.ui.widgets.search_bar import SearchBar
from cabtui.ui.widgets.terminal import TerminalView
from cabtui.ui.widgets.waterfall import Waterfall

GROWTH_POLL_S = 1.0  # how often the shown recording's file is looked at for growth


class ReplayScreen(PlaybackScreen):
    CSS_PATH = "replay.tcss"
    COMMAND_LIST: ClassVar[list[KeyCommand]] = [
        KeyCommand("play_pause", "space", "Play", "Play or pause.", key_display="space"),
        KeyCommand("prev_span", "left", "Prev span", "Jump to the start of the previous span.", key_display="←"),
        KeyCommand("next_span", "right", "Next span", "Jump to the start of the next span.", key_display="→"),
        *clock_commands("the run", "Jump to the end; on a recording still being written, follow its live edge (like tail -f) until another key moves the clock."),
        KeyCommand("prev_marker", "left_square_bracket", "Prev marker", "Jump to the previous recording marker.", show=False, key_display="["),
        KeyCommand("next_marker", "right_square_bracket", "Next marker", "Jump to the next recording marker.", show=False, key_display="]"),
        KeyCommand("search", "slash", "Search", "Search the terminal text across the recording.", key_display="/"),
        KeyCommand("next_hit", "n", "Next hit", "Jump to the next search hit.", show=False),
        KeyCommand("prev_hit", "N", "Prev hit", "Jump to the previous search hit.", show=False),
        KeyCommand("toggle_idle", "i", "Idle limit", "Cap idle gaps while playing (asciinema's idle_time_limit).", show=False),
        KeyCommand("toggle_prompt", "p", "Prompt", "Show or hide the current model call's prompt and completion."),
        KeyCommand("toggle_secrets", "x", "Secrets", "Show or mask the secrets on the recorded screen.", show=False),
        KeyCommand("pan(-8,0)", "shift+left", "Pan left", "A recording larger than its pane is cropped around the cursor: look further left.", show=False, key_display="shift+←"),
        KeyCommand("pan(8,0)", "shift+right", "Pan right", "Look further right on a cropped recording.", show=False, key_display="shift+→"),
        KeyCommand("pan(0,-4)", "shift+up", "Pan up", "Look further up on a cropped recording.", show=False, key_display="shift+↑"),
        KeyCommand("pan(0,4)", "shift+down", "Pan down", "Look further down on a cropped recording.", show=False, key_display="shift+↓"),
        KeyCommand("pan(0,0)", "c", "Follow cursor", "The cropped view follows the recording's cursor again.", show=False),
        KeyCommand("switch_recording", "t", "Recording", "Switch to the run's next recording (a Terminal-Bench trial's agent.cast and tests.cast), at the same moment.", show=False),
        KeyCommand("back", "escape", "Back", "Leave the replay."),
    ]  # fmt: skip
    BINDINGS = bindings(COMMAND_LIST)

    def __init__(
        self, store: Store | None, cell_id: str | None, recording: Path | None = None
    ) -> None:
        super().__init__()
        self.store, self.cell_id, self.recording = store, cell_id, recording
        self.session: Session | None = None
        self.selected: int | None = None  # the highlighted span's index
        self.hits: list[float] = []  # run ms of the search hits
        self._shown_span: int | None = -1
        self._shown_call: object = -1
        self._force_narrow = False  # the status line in its short forms whatever the width
        self._which = 0  # which of the run's recordings is shown
        self._resume_ms: float | None = None  # where to be once a switched recording loads
        # a recording still being written: read again when its file changes; ``end`` follows
        # its live edge (like tail -f) until another key moves the clock
        self.following = False
        self._stamp: tuple[int, int] | None = None  # the shown recording's size and mtime
        self._loading = True
        self._regrown = False  # a load because the file changed is under way
        self._grown = False  # the recording has grown while shown

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

    @work(thread=True, exclusive=True, group="replay-load", exit_on_error=False)
    def load(self) -> None:
        self._loading = True
        before = self.session.source if self.session is not None else None
        stamp = stat_of(Path(before)) if before is not None else None  # taken before reading it

        def fetching(done: int, total: int) -> None:  # a published sweep's large recording
            message = f"Fetching the recording… {done / 1e6:.1f} of {total / 1e6:.1f} MB"
            self.app.call_from_thread(
                self.query_one("#terminal", TerminalView).show_message, message
            )

        with self.store.watching(fetching) if self.store else contextlib.nullcontext():
            session = load_session(self.store, self.cell_id, self.recording, self._which)
        if session.source != before:
            stamp = stat_of(Path(session.source)) if session.source is not None else None
        self.app.call_from_thread(self._loaded, session, stamp)

    @work(thread=True, exclusive=True, group="replay-grow", exit_on_error=False)
    def _look_for_growth(self) -> None:
        s = self.session
        if s is None or s.source is None or self._loading:
            return
        if stat_of(Path(s.source)) != self._stamp:
            self.app.call_from_thread(self._grew)

    def _grew(self) -> None:
        """The recording's file changed: read it again, at the same moment or at its new end
        when following."""
        s = self.session
        if s is None or self._loading:
            return
        self._regrown = True  # _loaded keeps the moment the clock has reached by then
        self.load()

    def action_end(self) -> None:
        super().action_end()
        self.following = self.session is not None and self.session.player is not None
        self._status()

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

    def playing_clock(self) -> Clock | None:
        return self.session.clock if self.session is not None else None

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
        c = s.clock
        # short forms where the long ones would not fit on one line
        narrow = self.size.width < 100 or self._force_narrow
        idle = f"idle {c.idle_limit:g}s" if narrow else f"idle limit {c.idle_limit:g}s"
        parts = [
            ("▶" if narrow else "▶ playing") if c.playing else ("⏸" if narrow else "⏸ paused"),
            f"{fmt_ms(c.position)} / {fmt_ms(c.end_ms)}",
            f"rec {c.recording_time:.2f}s" if s.player is not None else "no recording",
            f"{c.speed:g}x",
            f"{idle} {'on' if c.idle_on else 'off'}",
        ]
        if narrow:  # the defaults (1x, idle limit off) go unsaid
            parts = [p for p in parts if p not in ("1x", f"{idle} off")]
        if self.selected is not None:
            parts.append(f"span {s.timeline._rank[self.selected] + 1}/{len(s.timeline.spans)}")
        terminal = self.query_one("#terminal", TerminalView)
        if s.player is not None and terminal.cropped():
            # said early: a narrow status line cuts its end
            how = "panned, c: follow" if terminal.panned else "at cursor, shift+arrows pan"
            w, h, x, y = terminal.size.width, terminal.size.height, terminal.view_x, terminal.view_y
            parts.insert(
                2,
                f"crop {w}x{h}@{x},{y} {'panned, c' if terminal.panned else '⇧←→'}"
                if narrow
                else f"{s.player.cols}x{s.player.rows} cropped to {w}x{h} from {x},{y} ({how})",
            )
        if self.following and self._grown:
            parts.append("following" if narrow else "following the live edge (end)")
        if len(s.recordings) > 1:
            parts.append(
                f"rec {s.which + 1}/{len(s.recordings)} t"
                if narrow
                else f"recording {s.which + 1} of {len(s.recordings)} (t switches)"
            )
        if self.searching:
            parts.append(f"searching {self.needle!r}…")
        elif self.needle:
            parts.append(
                f"hit {self.hit + 1} of {len(self.hits)}"
                if self.hit is not None
                else f"no hits for {self.needle!r}"
            )
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

    def action_next_marker(self) -> None:
        self._marker(True)

    def action_prev_marker(self) -> None:
        self._marker(False)

    def action_toggle_idle(self) -> None:
        if self.session is not None:
            self.session.clock.toggle_idle()
            self._status()

    def action_switch_recording(self) -> None:
        s = self.session
        if s is None or len(s.recordings) < 2:
            self.notify("This run has one recording.", severity="information")
            return
        if s.clock.playing:
            self.action_play_pause()
        self._which = (s.which + 1) % len(s.recordings)
        self._resume_ms = s.clock.position
        self.notify(f"recording {shown(s.recordings[self._which])}", markup=False)
        self.load()

    def action_toggle_secrets(self) -> None:
        terminal = self.query_one("#terminal", TerminalView)
        terminal.reveal = not terminal.reveal
        self.notify("Secrets shown." if terminal.reveal else "Secrets masked.", timeout=2)

    def action_pan(self, dx: int, dy: int) -> None:
        self.query_one("#terminal", TerminalView).pan(dx, dy)
        self._status()

    def action_toggle_prompt(self) -> None:
        panel = self.query_one("#prompt")
        panel.display = not panel.display
        self._shown_call = -1
        self._sync()

    # -- search ------------------------------------------------------------------------------

    def searchable(self) -> list[tuple[str, Player, Clock]]:
        s = self.session
        return [("", s.player, s.clock)] if s is not None and s.player is not None else []

    def revealed(self) -> bool:
        return self.query_one("#terminal", TerminalView).reveal

    def _clear_hits(self) -> None:
        self.hits = []

    def _place_hits(self, raw: list[tuple[str, float]]) -> None:
        self.hits = sorted({t for _, t in raw})  # one hit per moment

    def hit_times(self) -> list[float]:
        return self.hits
