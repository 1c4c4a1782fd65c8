"""The pivot's keys, each declared once (its bindings, footer, help and palette entries), and
what its line under the grid says of the cell at the cursor."""

from __future__ import annotations

from typing import Any

from rich.text import Text

from cabtui.text import safe
from cabtui.ui.keys import KeyCommand
from cabtui.ui.widgets.heatmap import fmt_value

PIVOT_COMMANDS: list[KeyCommand] = [
    KeyCommand("close", "escape", "Back", "Close the pivot without filtering."),
    KeyCommand("cycle_rows", "1", "Rows", "Cycle the row dimension: tui, model, task, family."),
    KeyCommand("cycle_cols", "2", "Cols", "Cycle the column dimension: tui, model, task, family."),
    KeyCommand("swap", "t", "Transpose", "Swap rows and columns."),
    KeyCommand(
        "cycle_value",
        "v",
        "Value",
        "Cycle the value: mean composite, pass rate, wall time, blast radius.",
    ),
    KeyCommand("cursor('left')", "h", "Left", "Move the cursor left.", show=False),
    KeyCommand("cursor('down')", "j", "Down", "Move the cursor down.", show=False),
    KeyCommand("cursor('up')", "k", "Up", "Move the cursor up.", show=False),
    KeyCommand("cursor('right')", "l", "Right", "Move the cursor right.", show=False),
    KeyCommand(
        "compare_extremes", "b", "Best/worst", "Compare the best and worst run of this cell."
    ),
    KeyCommand("mark_row", "m", "Mark row", "Mark this row's CLI (or model) for a paired test."),
    KeyCommand(
        "paired",
        "c",
        "Paired test",
        "Paired test of the marked row against this row over the tasks they share.",
    ),
]


def cell_line(names: list[tuple[str, Any]], stats: dict[str, Any] | None) -> Text:
    """What the cell selecting ``names`` ((dimension, value) pairs) holds: its runs, mean
    composite and spread, pass rate with its interval, wall time and blast radius."""
    line = Text()
    line.append(
        " · ".join(f"{d}={'null' if v is None else safe(str(v))}" for d, v in names) or "all runs",
        style="bold",
    )
    if stats is None:
        return line
    line.append(f"   n={stats['n']}   composite {fmt_value('composite', stats['composite_mean'])}")
    line.append(f" ± {fmt_value('composite', stats['composite_sd'])} (sd)")
    line.append(
        f"   pass {fmt_value('pass', stats['pass_rate'])} [95% CI {fmt_value('pass', stats['pass_lo'])}"
    )
    line.append(f"–{fmt_value('pass', stats['pass_hi'])}]")
    line.append(
        f"   wall {fmt_value('wall', stats['wall_mean'])}   blast {fmt_value('blast', stats['blast_mean'])}"
    )
    return line
