"""The span waterfall of a replay: one line per span, indented by nesting, a bar scaled to the
run's time axis, coloured by kind, with the clock's cursor and the current span highlighted.

A ScrollView that renders only the visible lines, so a run with thousands of spans stays cheap.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cabtui.replay.clock import fmt_ms
from cabtui.replay.spans import Span
from cabtui.text import shown

KIND_COLOURS = {
    "task_setup": "grey62",
    "adapter_run": "steel_blue",
    "container": "dodger_blue2",
    "tool_call": "dark_orange",
    "model_call": "medium_purple",
    "shell": "green3",
    "edit": "gold3",
    "test": "cyan3",
    "cleanup": "grey50",
}
OTHER_COLOUR = "light_slate_grey"
ERROR_COLOUR = "red1"
SELECTED = Style(bgcolor="grey23", bold=True)
CURSOR = Style(color="bright_white", bold=True)
DUR_W = 9


def kind_style(span: Span) -> Style:
    colour = ERROR_COLOUR if span.error else KIND_COLOURS.get(span.kind, OTHER_COLOUR)
    return Style(color=colour)


class Waterfall(ScrollView):
    """Spans against time; ``set_spans`` once, then ``set_position`` on every clock move."""

    DEFAULT_CSS = """
    Waterfall { height: 1fr; overflow-x: hidden; }
    """
    # The screen's keys (left/right, home/end) drive the clock; the waterfall follows the
    # current span and scrolls with the mouse, so it takes no focus and binds no keys.
    can_focus = False

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.spans: list[Span] = []
        self.end_ms = 0.0
        self.position = 0.0
        self.selected: int | None = None
        self.names: dict[int, str] = {}  # masked, safe span names, made as they come in view

    def set_spans(self, spans: list[Span], end_ms: float) -> None:
        self.spans = spans
        self.names = {}
        self.end_ms = max(end_ms, 1.0)
        self.virtual_size = Size(self.size.width, len(spans))
        self.refresh()

    def set_position(self, position: float, selected: int | None) -> None:
        moved = selected != self.selected
        self.position, self.selected = position, selected
        if moved and selected is not None:
            top = int(self.scroll_offset.y)
            height = self.scrollable_content_region.height
            if not top <= selected < top + height:
                self.scroll_to(y=max(0, selected - height // 2), animate=False, immediate=True)
        self.refresh()

    def _column(self, t_ms: float, width: int) -> int:
        return min(width - 1, max(0, int(t_ms / self.end_ms * width)))

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index = int(self.scroll_offset.y) + y
        base = self.rich_style
        if index >= len(self.spans) or width <= 0:
            return Strip.blank(width, base)
        span = self.spans[index]
        label_w = max(12, min(44, width // 3))
        bar_w = max(1, width - label_w - DUR_W - 1)
        style = kind_style(span)
        label = Text(no_wrap=True, overflow="ellipsis", end="")
        label.append("  " * min(span.depth, 8))
        label.append("■ ", style)
        name = self.names.get(index)
        if name is None:
            name = self.names[index] = shown(span.name)
        label.append(name or f"({span.kind})")
        label.truncate(label_w - 1, overflow="ellipsis", pad=True)
        label.append(" ")
        start = self._column(span.start_ms, bar_w)
        end = max(start + 1, self._column(span.end_ms, bar_w) if span.duration_ms else start + 1)
        cursor = self._column(self.position, bar_w)
        cells: list[Segment] = []
        for x in range(bar_w):
            if x == cursor:
                on_bar = start <= x < end
                cells.append(
                    Segment("┃", CURSOR + Style(bgcolor=style.color) if on_bar else CURSOR)
                )
            elif start <= x < end:
                cells.append(Segment("█" if span.duration_ms else "▏", style))
            else:
                cells.append(Segment("·" if x % 10 == 0 else " ", Style(color="grey30")))
        dur = Text(f" {fmt_ms(span.duration_ms):>{DUR_W - 1}}", style="dim", end="")
        segments = [*label.render(self.app.console), *cells, *dur.render(self.app.console)]
        strip = Strip(segments).simplify()
        if index == self.selected:
            strip = strip.apply_style(SELECTED)
        return strip.apply_style(base).crop_extend(0, width, base)
