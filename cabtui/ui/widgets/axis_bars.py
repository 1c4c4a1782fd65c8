"""Per-axis bars of one run: each axis's score in [0, 1], its weight, and its contribution to
the composite. Built from :func:`cabtui.scoring.components`; no store access here."""

from __future__ import annotations

from dataclasses import dataclass

from rich.table import Table
from rich.text import Text
from textual.widgets import Static

from cabtui.scoring import MISMATCH_TOLERANCE, Components, Weights, composite

AXES = ("pass_rate", "integrity", "cost", "latency", "blast_radius")
LABELS = {
    "pass_rate": "pass",
    "integrity": "integrity",
    "cost": "cost efficiency",
    "latency": "latency efficiency",
    "blast_radius": "clean blast (1-blast)",
}
BAR_WIDTH = 24


@dataclass(frozen=True)
class AxisRow:
    axis: str
    score: float | None  # the axis's input to the composite, in [0, 1]
    weight: float
    contribution: float | None


def axis_rows(c: Components, weights: Weights) -> list[AxisRow]:
    scores = {
        "pass_rate": c.pass_,
        "integrity": c.integrity,
        "cost": c.cost_efficiency,
        "latency": c.latency_efficiency,
        "blast_radius": c.clean_blast,
    }
    w = weights.as_dict()
    return [AxisRow(a, scores[a], w[a], c.contributions.get(a)) for a in AXES]


def bar(score: float | None, width: int = BAR_WIDTH) -> Text:
    if score is None:
        return Text("missing".center(width), style="dim italic")
    filled = max(0.0, min(1.0, score)) * width
    full = int(filled)
    style = "green" if score >= 0.75 else "yellow" if score >= 0.4 else "red"
    out = Text("█" * full, style=style)
    if full < width:
        out.append("▌" if filled - full >= 0.5 else " ", style=style)
        out.append("·" * (width - full - 1), style="dim")
    return out


def fmt(v: float | None, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


class AxisBars(Static):
    """The bars, the refusal factor, and recomputed vs recorded composite."""

    DEFAULT_CSS = "AxisBars { height: auto; }"

    def show(self, c: Components, weights: Weights, recorded: float | None, baseline: float | None,
             what_if: bool) -> None:  # fmt: skip
        """``baseline`` is the composite under the sweep's own weights, compared with the recorded
        one; ``c`` and ``weights`` are what is shown (the what-if weights when ``what_if``)."""
        self.rows = axis_rows(c, weights)
        self.recomputed = composite(c)
        self.baseline = baseline
        self.recorded = recorded
        table = Table(box=None, padding=(0, 1), show_edge=False, expand=False)
        for name, justify in (("axis", "left"), ("score", "left"), ("", "right"),
                              ("weight", "right"), ("contribution", "right")):  # fmt: skip
            table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]
        for r in self.rows:
            table.add_row(
                LABELS[r.axis], bar(r.score), fmt(r.score), fmt(r.weight, 2), fmt(r.contribution, 4)
            )
        factor = Text(
            fmt(c.refusal_factor, 2), style="bold" if c.refusal_factor == 1 else "bold yellow"
        )
        table.add_row(
            "× refusal factor", Text("applied to every contribution", style="dim"), factor, "", ""
        )
        label = "composite (what-if weights)" if what_if else "composite (recomputed)"
        table.add_row(
            Text(label, style="bold"),
            bar(self.recomputed),
            "",
            "",
            Text(fmt(self.recomputed, 4), style="bold"),
        )
        if what_if:
            table.add_row("composite (sweep weights)", "", "", "", fmt(baseline, 4))
        rec = Text(fmt(recorded, 4))
        if self.mismatch:
            diff = abs((recorded or 0.0) - (baseline or 0.0))
            rec.append(f"  MISMATCH: differs from recomputed by {diff:.4f}", style="bold red")
        elif recorded is None:
            rec = Text("not recorded", style="dim italic")
        table.add_row("composite (recorded)", "", "", "", rec)
        self.update(table)

    @property
    def mismatch(self) -> bool:
        if self.recorded is None or self.baseline is None:
            return False
        return abs(self.recorded - self.baseline) > MISMATCH_TOLERANCE
