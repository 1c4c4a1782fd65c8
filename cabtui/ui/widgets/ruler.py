"""The time ruler of a replay: ticks, recording markers, span starts and model calls on the
run's time axis, with the clock's cursor. Columns line up with the waterfall's bars."""

from __future__ import annotations

import math

from rich.style import Style
from rich.text import Text
from textual.widget import Widget

from cabtui.replay.clock import fmt_ms
from cabtui.ui.widgets.waterfall import DUR_W

MARKER = Style(color="yellow", bold=True)
SPAN_START = Style(color="grey50")
CALL = Style(color="medium_purple", bold=True)
CURSOR = Style(color="bright_white", bold=True)


def bar_geometry(width: int) -> tuple[int, int]:
    """(label width, bar width) shared with the waterfall."""
    label_w = max(12, min(44, width // 3))
    return label_w, max(1, width - label_w - DUR_W - 1)


class Ruler(Widget):
    """Two lines: tick labels, then marks (▼ marker, ╵ span start, ● model call, ┃ cursor)."""

    DEFAULT_CSS = """
    Ruler { height: 2; }
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.end_ms = 1.0
        self.position = 0.0
        self.markers: list[float] = []  # run ms
        self.span_starts: list[float] = []
        self.calls: list[float] = []

    def set_marks(
        self, end_ms: float, markers: list[float], span_starts: list[float], calls: list[float]
    ) -> None:
        self.end_ms = end_ms if 1.0 <= end_ms < math.inf else 1.0
        self.markers, self.span_starts, self.calls = markers, span_starts, calls
        self.refresh()

    def set_position(self, position: float) -> None:
        self.position = position
        self.refresh()

    def render(self) -> Text:
        width = self.content_region.width or 80
        label_w, bar_w = bar_geometry(width)

        def col(t: float) -> int:  # any float: NaN at 0, infinities at the ends
            x = t / self.end_ms * bar_w
            return (
                min(bar_w - 1, max(0, int(x))) if math.isfinite(x) else (bar_w - 1 if x > 0 else 0)
            )

        ticks = [" "] * bar_w
        step = max(1, bar_w // 8)
        for x in range(0, bar_w, step):
            at = self.end_ms * x / bar_w
            label = f"{at / 1000:.2f}s" if self.end_ms < 5000 else fmt_ms(at)
            if x + len(label) <= bar_w and all(
                c == " " for c in ticks[max(0, x - 1) : x + len(label)]
            ):
                ticks[x : x + len(label)] = list(label)
        marks: list[tuple[str, Style]] = [(" ", Style())] * bar_w
        for t in self.span_starts:
            marks[col(t)] = ("╵", SPAN_START)
        for t in self.calls:
            marks[col(t)] = ("●", CALL)
        for t in self.markers:
            marks[col(t)] = ("▼", MARKER)
        cursor = col(self.position)
        marks[cursor] = ("┃", CURSOR)
        out = Text(no_wrap=True, overflow="crop", end="")
        out.append(f"{fmt_ms(self.position):>{label_w - 1}} ", CURSOR)
        out.append("".join(ticks), "dim")
        out.append("\n")
        out.append(" ▼ marker ● call ╵ span"[: label_w - 1].ljust(label_w), "dim")
        for ch, style in marks:
            out.append(ch, style)
        return out
