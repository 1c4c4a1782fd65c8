"""The replay screen's keys, each declared once (its bindings, footer, help and palette entries),
and what its status line says."""

from __future__ import annotations

from typing import NamedTuple

from cabtui.replay.clock import fmt_ms
from cabtui.replay.session import Session
from cabtui.ui.keys import KeyCommand
from cabtui.ui.screens.playback import clock_commands

REPLAY_COMMANDS: list[KeyCommand] = [
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


class Crop(NamedTuple):
    """The part of a recording larger than its pane that is shown: size, origin, panned."""

    width: int
    height: int
    x: int
    y: int
    panned: bool


def status_parts(
    s: Session,
    narrow: bool,
    selected: int | None,
    crop: Crop | None,
    following: bool,
    search: str | None,
) -> list[str]:
    """The replay's status: playing, the clock, the recording's time, speed and idle limit, the
    span, the crop, following the live edge, which recording, the search (``narrow``: the short
    forms)."""
    c = s.clock
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
    if selected is not None:
        parts.append(f"span {s.timeline._rank[selected] + 1}/{len(s.timeline.spans)}")
    if s.player is not None and crop is not None:
        # said early: a narrow status line cuts its end
        how = "panned, c: follow" if crop.panned else "at cursor, shift+arrows pan"
        w, h, x, y = crop.width, crop.height, crop.x, crop.y
        parts.insert(
            2,
            f"crop {w}x{h}@{x},{y} {'panned, c' if crop.panned else '⇧←→'}"
            if narrow
            else f"{s.player.cols}x{s.player.rows} cropped to {w}x{h} from {x},{y} ({how})",
        )
    if following:
        parts.append("following" if narrow else "following the live edge (end)")
    if len(s.recordings) > 1:
        parts.append(
            f"rec {s.which + 1}/{len(s.recordings)} t"
            if narrow
            else f"recording {s.which + 1} of {len(s.recordings)} (t switches)"
        )
    if search is not None:
        parts.append(search)
    return parts
