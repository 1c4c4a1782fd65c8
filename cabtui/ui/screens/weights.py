"""What-if weights: a small form over the five composite weights and latency_ref_ms (for sweeps
of cabtui's own) and over the numeric axes of other sources (a what-if score for their runs),
beside the screen it re-scores. Each valid change sets the app's ``weights`` at once (every screen
re-ranks while the form is open); apply keeps them, cancel puts back the weights in use before,
reset returns to each sweep's own."""

from __future__ import annotations

import math
from typing import ClassVar

from rich.text import Text
from textual import getters, on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from cabtui.scoring import DEFAULT_WEIGHTS, Weights
from cabtui.text import shown
from cabtui.ui.base import CabBase
from cabtui.ui.keys import KeyCommand, bindings

FIELDS = (*DEFAULT_WEIGHTS, "latency_ref_ms")


def parse(
    values: dict[str, str], axes: tuple[str, ...] = (), cab: bool = True
) -> tuple[Weights | None, dict[str, str]]:
    """Weights from the form's texts, or None and an error per bad field. ``values`` holds the
    composite's fields when ``cab`` and, for each of ``axes`` (other sources' axes), its weight
    under the axis' name; axes weighed 0 are left out of the what-if score."""
    errors: dict[str, str] = {}
    parsed: dict[str, float] = {}
    for name in (*(FIELDS if cab else ()), *axes):
        try:
            v = float(values[name])
        except ValueError:
            errors[name] = "not a number"
            continue
        if not math.isfinite(v) or v < 0:
            errors[name] = "must be a finite number ≥ 0"
        elif name == "latency_ref_ms" and v <= 0:
            errors[name] = "must be > 0"
        else:
            parsed[name] = v
    if cab and not errors and sum(parsed[k] for k in DEFAULT_WEIGHTS) <= 0:
        errors[FIELDS[0]] = "the weights sum to 0: nothing would be scored"
    if errors:
        return None, errors
    weighed = tuple((a, parsed[a]) for a in axes if parsed[a] > 0)
    return Weights(**{k: parsed[k] for k in FIELDS if k in parsed}, axes=weighed), errors


class WeightsScreen(ModalScreen[Weights | None]):
    CSS_PATH = "weights.tcss"
    COMMAND_LIST: ClassVar[list[KeyCommand]] = [
        KeyCommand(
            "apply", "ctrl+s", "Apply", "Re-score every run with these weights.", priority=True
        ),
        KeyCommand(
            "reset", "ctrl+r", "Reset", "Use each sweep's own weights again.", priority=True
        ),
        KeyCommand("cancel", "escape", "Cancel", "Close without changing the weights."),
    ]
    BINDINGS = bindings(COMMAND_LIST)
    app = getters.app(CabBase)

    def __init__(
        self,
        current: Weights | None,
        sweep_default: Weights,
        axes: tuple[tuple[str, bool], ...] = (),
        cab: bool = True,
    ) -> None:
        """``current`` is the app's what-if weights, None when the sweep's own are in use;
        ``axes`` the other sources' axes a what-if score can weigh; ``cab``: a sweep of
        cabtui's own is open (its composite's weights are shown)."""
        super().__init__()
        self.before = current
        self.current = current or sweep_default
        self.sweep_default = sweep_default
        self.axes, self.higher, self.cab = tuple(a for a, _ in axes), dict(axes), cab
        self.fields: tuple[str, ...] = (*(FIELDS if cab else ()), *self.axes)

    def _field_id(self, name: str) -> str:
        return name if name in FIELDS else f"a{self.axes.index(name)}"

    def _initial(self, name: str) -> float:
        if name in FIELDS:
            return float(getattr(self.current, name))
        return dict(self.current.axes).get(name, 0.0)

    def _hint(self, name: str) -> Text:
        if name in FIELDS:
            return Text(f"sweep: {getattr(self.sweep_default, name):g}", style="dim")
        return Text("↑ better" if self.higher[name] else "↓ better", style="dim")

    def compose(self) -> ComposeResult:
        with Vertical(id="weights-box"):
            title = "What-if composite weights" if self.cab else "What-if score weights"
            yield Static(Text(title, style="bold"), id="weights-title")
            with VerticalScroll(id="weights-scroll"), Grid(id="weights-grid"):
                for name in self.fields:
                    yield Label(name if name in FIELDS else shown(name))
                    yield Input(
                        repr(self._initial(name)), type="number", id=f"w-{self._field_id(name)}"
                    )
                    yield Static(self._hint(name), id=f"e-{self._field_id(name)}")
            yield Static(id="weights-sum")
            with Horizontal(id="weights-buttons"):
                yield Button("Apply ⏎", id="weights-apply", variant="primary")
                yield Button("Sweep's own ^r", id="weights-reset")
                yield Button("Cancel esc", id="weights-cancel")

    def on_mount(self) -> None:
        if self.fields:
            self.query_one(f"#w-{self._field_id(self.fields[0])}", Input).focus()
        self.validate()

    def values(self) -> dict[str, str]:
        return {n: self.query_one(f"#w-{self._field_id(n)}", Input).value for n in self.fields}

    @on(Input.Changed)
    def validate(self) -> Weights | None:
        weights, errors = parse(self.values(), self.axes, self.cab)
        for name in self.fields:
            note = self.query_one(f"#e-{self._field_id(name)}", Static)
            if name in errors:
                note.update(Text(errors[name], style="bold red"))
            else:
                note.update(self._hint(name))
        total = Text()
        if self.cab:
            total.append("sum of weights: ")
            if weights is None:
                total.append("—", style="dim")
            else:
                s = sum(weights.as_dict().values())
                total.append(f"{s:.3f}", style="bold" if abs(s - 1) < 1e-9 else "bold yellow")
                if abs(s - 1) >= 1e-9:
                    total.append("  (not 1: composites leave the 0–1 scale)", style="yellow")
        if self.axes:
            total.append("\n" if self.cab else "")
            total.append(
                "other sources: each axis scaled 0–1 over their runs, weighted mean"
                if weights is None or weights.axes
                else "other sources: weigh an axis to give their runs a what-if score",
                style="dim",
            )
        self.query_one("#weights-sum", Static).update(total)
        if weights is not None:
            live = None if self.before is None and weights == self.sweep_default else weights
            if live != self.app.weights:
                self.app.weights = live
        return weights

    @on(Input.Submitted)
    @on(Button.Pressed, "#weights-apply")
    def action_apply(self) -> None:
        weights = self.validate()
        if weights is None:
            self.notify("Fix the highlighted weights first.", severity="error")
            return
        self.app.weights = weights
        self.dismiss(weights)

    @on(Button.Pressed, "#weights-reset")
    def action_reset(self) -> None:
        self.app.weights = None
        self.dismiss(None)

    @on(Button.Pressed, "#weights-cancel")
    def action_cancel(self) -> None:
        self.app.weights = self.before
        self.dismiss(self.before)
