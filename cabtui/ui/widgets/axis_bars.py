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
        half = filled - full >= 0.5  # a half cell drawn; under it the track goes on unbroken
        out.append("▌" if half else "·", style=style if half else "dim")
        out.append("·" * (width - full - 1), style="dim")
    return out


def fmt_score(v: float | None, digits: int = 3) -> str:
    return "—" if v is None else f"{v:.{digits}f}"


NARROW = 100  # under this many columns, each bar goes on its own line under its numbers


class AxisBars(Static):
    """The bars, the refusal factor, and recomputed vs recorded composite. From ``NARROW``
    columns up, a bar and its numbers share a line; under it, the numbers come first, each in
    a column of its own, with the bar on the line below: no number is ever cut."""

    DEFAULT_CSS = "AxisBars { height: auto; }"

    def show(self, c: Components, weights: Weights, recorded: float | None, baseline: float | None,
             what_if: bool) -> None:  # fmt: skip
        """``baseline`` is the composite under the sweep's own weights, compared with the recorded
        one; ``c`` and ``weights`` are what is shown (the what-if weights when ``what_if``)."""
        self.rows = axis_rows(c, weights)
        self.components = c
        self.recomputed = composite(c)
        self.baseline = baseline
        self.recorded = recorded
        self.what_if = what_if
        self._width = -1
        self._layout()

    def on_resize(self) -> None:
        if hasattr(self, "rows"):
            self._layout()

    def _layout(self) -> None:
        width = self.size.width or self.app.size.width
        narrow = width < NARROW
        if narrow == (self._width < NARROW) and self._width != -1:
            return
        self._width = width
        self.update(self._narrow() if narrow else self._wide())

    def _factor(self) -> Text:
        f = self.components.refusal_factor
        return Text(fmt_score(f, 2), style="bold" if f == 1 else "bold yellow")

    def _recorded(self) -> tuple[Text, Text | None]:
        """The recorded composite, and the mismatch note when it differs."""
        if self.recorded is None:
            return Text("not recorded", style="dim italic"), None
        if self.mismatch:
            diff = abs(self.recorded - (self.baseline or 0.0))
            return Text(fmt_score(self.recorded, 4)), Text(
                f"MISMATCH: differs from recomputed by {diff:.4f}", style="bold red"
            )
        return Text(fmt_score(self.recorded, 4)), None

    def _label(self) -> str:
        return "composite (what-if weights)" if self.what_if else "composite (recomputed)"

    def _wide(self) -> Table:
        table = Table(box=None, padding=(0, 1), show_edge=False, expand=False)
        for name, justify in (("axis", "left"), ("score", "left"), ("", "right"),
                              ("weight", "right"), ("contribution", "right")):  # fmt: skip
            table.add_column(name, justify=justify, no_wrap=True)  # type: ignore[arg-type]  # rich's justify is a Literal; these names are among its values
        for r in self.rows:
            table.add_row(
                LABELS[r.axis],
                bar(r.score),
                fmt_score(r.score),
                fmt_score(r.weight, 2),
                fmt_score(r.contribution, 4),
            )
        table.add_row(
            "× refusal factor", Text("applied to every contribution", style="dim"),
            self._factor(), "", "",
        )  # fmt: skip
        table.add_row(Text(self._label(), style="bold"), bar(self.recomputed), "", "",
                      Text(fmt_score(self.recomputed, 4), style="bold"))  # fmt: skip
        if self.what_if:
            table.add_row("composite (sweep weights)", "", "", "", fmt_score(self.baseline, 4))
        rec, note = self._recorded()
        if note is not None:
            rec.append("  ")
            rec.append_text(note)
        table.add_row("composite (recorded)", "", "", "", rec)
        return table

    def _narrow(self) -> Table:
        table = Table(box=None, padding=(0, 1), show_edge=False, expand=False)
        table.add_column("axis", overflow="fold")
        for name in ("score", "weight", "contribution"):
            table.add_column(name, justify="right", no_wrap=True)
        bar_width = max(8, min(BAR_WIDTH, (self.size.width or 80) - 30))
        for r in self.rows:
            table.add_row(
                LABELS[r.axis],
                fmt_score(r.score),
                fmt_score(r.weight, 2),
                fmt_score(r.contribution, 4),
            )
            table.add_row(Text("  ").append_text(bar(r.score, bar_width)), "", "", "")
        table.add_row("× refusal factor", self._factor(), "", "")
        table.add_row(Text("  applied to every contribution", style="dim"), "", "", "")
        table.add_row(Text(self._label(), style="bold"), "", "",
                      Text(fmt_score(self.recomputed, 4), style="bold"))  # fmt: skip
        table.add_row(Text("  ").append_text(bar(self.recomputed, bar_width)), "", "", "")
        if self.what_if:
            table.add_row("composite (sweep weights)", "", "", fmt_score(self.baseline, 4))
        rec, note = self._recorded()
        table.add_row("composite (recorded)", "", "", rec)
        if note is not None:
            table.add_row(note, "", "", "")
        return table

    @property
    def mismatch(self) -> bool:
        if self.recorded is None or self.baseline is None:
            return False
        return abs(self.recorded - self.baseline) > MISMATCH_TOLERANCE
