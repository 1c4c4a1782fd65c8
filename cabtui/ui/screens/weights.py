"""What-if weights: a small form over the five composite weights and latency_ref_ms, beside the
screen it re-scores. Each valid change sets the app's ``weights`` at once (every screen
re-ranks while the form is open); apply keeps them, cancel puts back the weights in use before,
reset returns to each sweep's own."""

from __future__ import annotations

import math
from typing import ClassVar

from rich.text import Text
from textual import getters, on
from textual.app import ComposeResult
from textual.containers import Grid, Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from cabtui.scoring import DEFAULT_WEIGHTS, Weights
from cabtui.ui.base import CabBase
from cabtui.ui.keys import Command, bindings

FIELDS = (*DEFAULT_WEIGHTS, "latency_ref_ms")


def parse(values: dict[str, str]) -> tuple[Weights | None, dict[str, str]]:
    """Weights from the form's texts, or None and an error per bad field."""
    errors: dict[str, str] = {}
    parsed: dict[str, float] = {}
    for name in FIELDS:
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
    if not errors and sum(v for k, v in parsed.items() if k != "latency_ref_ms") <= 0:
        errors[FIELDS[0]] = "the weights sum to 0: nothing would be scored"
    return (None if errors else Weights(**parsed)), errors


class WeightsScreen(ModalScreen[Weights | None]):
    CSS_PATH = "weights.tcss"
    COMMAND_LIST: ClassVar[list[Command]] = [
        Command(
            "apply", "ctrl+s", "Apply", "Re-score every run with these weights.", priority=True
        ),
        Command("reset", "ctrl+r", "Reset", "Use each sweep's own weights again.", priority=True),
        Command("cancel", "escape", "Cancel", "Close without changing the weights."),
    ]
    BINDINGS = bindings(COMMAND_LIST)
    app = getters.app(CabBase)

    def __init__(self, current: Weights | None, sweep_default: Weights) -> None:
        """``current`` is the app's what-if weights, None when the sweep's own are in use."""
        super().__init__()
        self.before = current
        self.current = current or sweep_default
        self.sweep_default = sweep_default

    def compose(self) -> ComposeResult:
        with Vertical(id="weights-box"):
            yield Static(Text("What-if composite weights", style="bold"), id="weights-title")
            with Grid(id="weights-grid"):
                for name in FIELDS:
                    yield Label(name)
                    yield Input(
                        repr(float(getattr(self.current, name))), type="number", id=f"w-{name}"
                    )
                    yield Static(
                        Text(f"sweep: {getattr(self.sweep_default, name):g}", style="dim"),
                        id=f"e-{name}",
                    )
            yield Static(id="weights-sum")
            with Horizontal(id="weights-buttons"):
                yield Button("Apply ⏎", id="weights-apply", variant="primary")
                yield Button("Sweep's own ^r", id="weights-reset")
                yield Button("Cancel esc", id="weights-cancel")

    def on_mount(self) -> None:
        self.query_one(f"#w-{FIELDS[0]}", Input).focus()
        self.validate()

    def values(self) -> dict[str, str]:
        return {name: self.query_one(f"#w-{name}", Input).value for name in FIELDS}

    @on(Input.Changed)
    def validate(self) -> Weights | None:
        weights, errors = parse(self.values())
        for name in FIELDS:
            note = self.query_one(f"#e-{name}", Static)
            if name in errors:
                note.update(Text(errors[name], style="bold red"))
            else:
                note.update(Text(f"sweep: {getattr(self.sweep_default, name):g}", style="dim"))
        total = Text("sum of weights: ")
        if weights is None:
            total.append("—", style="dim")
        else:
            s = sum(weights.as_dict().values())
            total.append(f"{s:.3f}", style="bold" if abs(s - 1) < 1e-9 else "bold yellow")
            if abs(s - 1) >= 1e-9:
                total.append("  (not 1: composites leave the 0–1 scale)", style="yellow")
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
