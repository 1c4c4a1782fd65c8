"""The paired test as a rich table, shared by ``cab-tui paired`` and the pivot screen. No Textual."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text

from cabtui.text import safe

GOOD, BAD = "green", "red"


def _signed_delta(v: float | None, pct: bool) -> str:
    if v is None:
        return "—"
    return f"{v * 100:+.1f} pp" if pct else f"{v:+.3f}"


def paired_summary(r: dict[str, Any]) -> Text:
    """One line: what was compared with what, over how many pairs and tasks, on which filter."""
    t = Text()
    t.append(f"{r['dim']} ", style="bold")
    t.append(safe(str(r["x"])), style="bold cyan")
    t.append(" vs ", style="bold")
    t.append(safe(str(r["y"])), style="bold magenta")
    t.append(f"   {r['n_pairs']} pairs over {r['n_tasks']} tasks")
    t.append(f" (paired on {', '.join(r['paired_on'][1:])})", style="dim")
    for col, value in r.get("fixed", {}).items():
        t.append(f"   {col}={safe(str(value))}", style="dim")
    if r.get("filter"):
        t.append(f"   filter: {safe(r['filter'])}", style="dim")
    return t


def paired_table(r: dict[str, Any]) -> Group:
    """Per metric: wins of x, losses, ties, mean x − y with its paired-bootstrap 95% interval,
    the sign test's p; the winner coloured when the interval leaves zero."""
    table = Table(
        "metric", "pairs", "x wins", "y wins", "ties", "mean x − y", "95% CI (bootstrap)",
        "sign test p", box=None, header_style="bold", pad_edge=False,
    )  # fmt: skip
    for name, m in r["metrics"].items():
        pct = name == "pass"
        ci = m["ci"]
        style = ""
        if ci is not None and ci[0] > 0:
            style = GOOD
        elif ci is not None and ci[1] < 0:
            style = BAD
        table.add_row(
            name,
            str(m["n"]),
            str(m["wins"]),
            str(m["losses"]),
            str(m["ties"]),
            Text(_signed_delta(m["mean_diff"], pct), style=style),
            "—" if ci is None else f"[{_signed_delta(ci[0], pct)}, {_signed_delta(ci[1], pct)}]",
            f"{m['p']:.3g}",
        )
    parts: list[Any] = [paired_summary(r), table]
    if r["n_pairs"] == 0:
        parts.append(Text("no task is shared: nothing to pair", style="yellow"))
    elif r["n_pairs"] < 6:
        parts.append(Text(f"only {r['n_pairs']} pairs: read with care", style="yellow"))
    return Group(*parts)
