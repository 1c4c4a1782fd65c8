"""The compare screen's keys, each declared once (its bindings, footer, help and palette
entries), and what its status line says."""

from __future__ import annotations

from cabtui.replay.clock import Clock, fmt_ms
from cabtui.ui.keys import KeyCommand
from cabtui.ui.screens.playback import clock_commands

COMPARE_COMMANDS: list[KeyCommand] = [
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


def status_parts(
    c: Clock, time_b: float, by_spans: bool, row: int | None, rows: int, search: str | None
) -> list[str]:
    """The linked cursor: playing, A's and B's time, speed, how B follows, the aligned row, the
    idle limit and the search."""
    parts = [
        "▶ playing" if c.playing else "⏸ paused",
        f"A {fmt_ms(c.position)}",
        f"B {fmt_ms(time_b)}",
        f"{c.speed:g}x",
        "B follows the alignment" if by_spans else "one clock",
        f"row {(row or 0) + 1}/{rows}" if rows else "no spans",
    ]
    if c.idle_on:
        parts.append(f"idle limit {c.idle_limit:g}s")
    if search is not None:
        parts.append(search)
    return parts
