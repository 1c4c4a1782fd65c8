"""The browser's keys, each declared once (its bindings, footer, help and palette entries), and
what its status line says."""

from __future__ import annotations

from cabtui.store.query import Query
from cabtui.ui.keys import KeyCommand

BROWSER_COMMANDS: list[KeyCommand] = [
    KeyCommand(
        "focus_filter",
        "slash",
        "Filter",
        "Type a filter; the grid follows each keystroke.",
        key_display="/",
        # Checked before the key reaches the grid, so that keys typed right after "/"
        # (a fast typist, a paste, tmux send-keys) already go to the filter bar.
        priority=True,
    ),
    KeyCommand(
        "toggle_grid", "g", "Runs/cells", "Switch between the runs grid and the cells grid."
    ),
    KeyCommand(
        "open",
        "enter",
        "Open",
        "Open the run's detail; in the cells grid, show the cell's runs.",
    ),
    KeyCommand("sort_here", "s", "Sort", "Sort by the column at the cursor (again: reverse)."),
    KeyCommand("reverse_sort", "S", "Reverse", "Reverse the sort order.", show=False),
    KeyCommand("mark", "m", "Mark", "Mark or unmark the run for comparison (two at most)."),
    KeyCommand("compare", "c", "Compare", "Compare the two marked runs."),
    KeyCommand("pivot", "p", "Pivot", "Pivot the filtered runs; drill down into a cell of it."),
    KeyCommand("weights", "w", "Weights", "What-if composite weights: re-rank the grid."),
    KeyCommand("toggle_problems", "P", "Problems", "Show or hide the sweep's load problems."),
    KeyCommand(
        "toggle_live", "L", "Live", "Pause or resume following the sweep on disk.", show=False
    ),
    KeyCommand("cursor('down')", "j", "Down", "Cursor down.", show=False),
    KeyCommand("cursor('up')", "k", "Up", "Cursor up.", show=False),
    KeyCommand("cursor('left')", "h", "Left", "Cursor left.", show=False),
    KeyCommand("cursor('right')", "l", "Right", "Cursor right.", show=False),
    KeyCommand("cursor('page_down')", "ctrl+d", "Page down", "Half a page down.", show=False),
    KeyCommand("cursor('page_up')", "ctrl+u", "Page up", "Half a page up.", show=False),
]


def status_line(
    runs: bool,
    total: int,
    all_runs: int | None,
    q: Query,
    sort_label: str | None,
    bad_filter: bool,
    marked: int,
    hidden: int,
) -> str:
    """The browser's status: what is shown of how much, the filter, the sort, what-if weights,
    the marks, and how many columns a wider terminal would show."""
    parts = [
        f"shown {total:,} of {all_runs or 0:,} runs"
        if runs
        else f"{total:,} cells (reruns aggregated)"
    ]
    if bad_filter:
        parts.append("bad filter (see above)")
    parts.append(f"filter {q.filter.strip() or 'none'}")
    arrow = "↓" if q.descending else "↑"
    parts.append(f"sort {sort_label} {arrow}" if sort_label else "sort cell")
    if q.weights is not None:
        parts.append("what-if weights")
    if marked:
        parts.append(f"● {marked} marked")
    if hidden:
        parts.append(f"+{hidden} col{'s' if hidden > 1 else ''} if wider")
    return " · ".join(parts)
