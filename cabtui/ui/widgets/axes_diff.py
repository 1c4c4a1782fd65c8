"""Renderables of a run (or cell) diff from :mod:`cabtui.compare.diff`: identities with their
differences highlighted, per-axis values with the delta coloured by the better side, the
composite's components side by side, the test-output tail diffs, the blast-radius file sets and
the model calls. Every string from a sweep goes through ``safe()`` into a rich Text.

:class:`Summary` shows the first three side by side, scrolling when they are taller than it.
"""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cabtui.replay.render import safe

A_STYLE, B_STYLE = "bold cyan", "bold magenta"
SKIP_AXES = {"stdout_tail", "stderr_tail"}  # shown as diffs below, not as values


def fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1e3 else f"{v:,.0f}"
    if isinstance(v, (list, tuple)):
        return f"[{len(v)}]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={fmt(x)}" for k, x in v.items() if k != "source") + "}"
    return str(v)


def _cell(v: Any, width: int = 40) -> Text:
    s = safe(fmt(v))
    return Text(s if len(s) <= width else s[: width - 1] + "…")


def _delta(row: dict[str, Any]) -> Text:
    d = row.get("delta")
    if d is None:
        return Text("")
    better = row.get("better")
    style = "green" if better == "a" else "red" if better == "b" else "dim"
    return Text(f"{d:+.4g}", style=style)


def _table(title: str) -> Table:
    t = Table(title=title, title_justify="left", expand=True, box=None, padding=(0, 1),
              collapse_padding=True, title_style="bold")  # fmt: skip
    return t


def identity_table(diff: dict[str, Any]) -> Table:
    """Both sides' identity, the keys that differ in bold yellow."""
    t = _table("identity")
    t.add_column("key", style="dim", no_wrap=True, min_width=16)
    t.add_column("A", style="cyan", overflow="ellipsis", no_wrap=True, ratio=1)
    t.add_column("B", style="magenta", overflow="ellipsis", no_wrap=True, ratio=1)
    differs = set(diff.get("identity_diff", []))
    for key, a in diff["a"].items():
        if key in ("cell_id", "cell", "runs"):
            continue
        b = diff["b"].get(key)
        style = "bold yellow" if key in differs else ""
        t.add_row(Text(key, style=style), _cell(a), _cell(b))
    return t


def axes_table(diff: dict[str, Any]) -> Table:
    """Scorer keys: A, B and a - b, green when A is better, red when B is."""
    t = _table("axes (Δ = A − B, green: A better, red: B better)")
    t.add_column("axis", style="dim", no_wrap=True, max_width=13)  # with its padding
    t.add_column("key", style="dim", overflow="fold", min_width=12, ratio=3)
    t.add_column("A", justify="right", overflow="fold", ratio=1)
    t.add_column("B", justify="right", overflow="fold", ratio=1)
    t.add_column("Δ", justify="right", no_wrap=True, min_width=7)
    for row in diff["axes"]:
        if row["key"] in SKIP_AXES:
            continue
        a, b = row["a"], row["b"]
        if isinstance(a, dict) and "mean" in a:  # a cell diff: mean [lo, hi] (n)
            a, b = _interval(a), _interval(b)
        else:
            a, b = _cell(a, 36), _cell(b, 36)  # long values fold onto a second line
        # names from the data go in as Text: a str cell would be read as markup
        t.add_row(Text(safe(str(row["axis"]))), Text(safe(str(row["key"]))), a, b, _delta(row))
    return t


def _interval(s: dict[str, Any]) -> Text:
    if s.get("mean") is None:
        return Text("—")
    return Text(f"{s['mean']:.3g} [{fmt(s.get('lo'))}, {fmt(s.get('hi'))}] n={s.get('n')}")


def composite_table(diff: dict[str, Any]) -> Table:
    """The composite's components: each input in [0, 1] and its weighted contribution."""
    t = _table("composite components (input, then weighted)")
    t.add_column("component", style="dim", no_wrap=True, overflow="ellipsis", min_width=10)
    for name in ("in A", "in B", "A", "B", "Δ"):
        t.add_column(name, justify="right", no_wrap=True)

    def two(v: Any) -> Text:  # inputs and contributions are in [0, 1]: two decimals read whole
        return (
            Text(f"{v:.2f}")
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            else _cell(v)
        )

    for row in diff.get("composite", []):
        d = row.get("delta")
        delta = _delta(row) if d is None else Text(f"{d:+.2f}", style=_delta(row).style)
        t.add_row(Text(safe(str(row["component"]))), two(row["input_a"]), two(row["input_b"]),
                  two(row["a"]), two(row["b"]), delta)  # fmt: skip
    return t


def tail_text(lines: list[str]) -> Text:
    """A unified diff, + lines green and - lines red (lines already made safe)."""
    if not lines:
        return Text("  (no difference)", style="dim")
    out = Text()
    for line in lines:
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        out.append(safe(line) + "\n", style=style)
    return out


def files_table(files: dict[str, Any]) -> Table:
    """Each blast-radius file set as only in A / only in B / both."""
    t = _table("blast radius: file sets")
    t.add_column("set", style="dim", no_wrap=True)
    t.add_column("only in A", style="cyan")
    t.add_column("only in B", style="magenta")
    t.add_column("both")
    for name, s in files.items():

        def col(key: str, missing: bool) -> Text:
            if missing:
                return Text("(not recorded)", style="dim")
            return Text("\n".join(safe(f) for f in s[key]) or "—")

        t.add_row(name, col("only_a", s["missing_a"]), col("only_b", s["missing_b"]),
                  col("both", s["missing_a"] and s["missing_b"]))  # fmt: skip
    return t


def calls_table(calls: dict[str, Any]) -> Table:
    t = _table("model calls and tokens")
    t.add_column("", style="dim")
    t.add_column("A", justify="right", style="cyan")
    t.add_column("B", justify="right", style="magenta")
    for key in ("n", "prompt_tokens", "completion_tokens", "latency_ms"):
        t.add_row(key, _cell(calls["a"].get(key)), _cell(calls["b"].get(key)))
    return t


def diffs(diff: dict[str, Any]) -> RenderableType:
    """The diffs section: tails, file sets, model calls."""
    parts: list[RenderableType] = []
    for name, lines in diff.get("tails", {}).items():
        parts.append(Text(f"{name} (- A, + B)", style="bold"))
        parts.append(tail_text(lines))
    parts.append(files_table(diff["files"]))
    parts.append(Text(""))
    parts.append(calls_table(diff["model_calls"]))
    return Group(*parts)


class Summary(ScrollView, can_focus=False):
    """Renderables in equal columns side by side (identities, axes, composite parts), each
    rendered once per width into strips, so neither layout nor scrolling renders a table again.
    Scrolls with the wheel or the screen's keys; never takes the focus (the screen's arrows
    move the cursor)."""

    DEFAULT_CSS = """
    Summary { overflow-x: hidden; overflow-y: auto; scrollbar-gutter: stable;
              scrollbar-size-vertical: 1; }
    """
    PAD = 1  # blank columns either side of each renderable

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.columns: tuple[RenderableType, ...] = ()
        self.ratios: tuple[int, ...] = ()
        self._lines: list[Strip] = []
        self._width = -1

    def set_columns(self, *columns: RenderableType, ratios: tuple[int, ...] = ()) -> None:
        """Show ``columns``, their widths in proportion to ``ratios`` (equal by default)."""
        self.columns, self.ratios, self._width = columns, ratios or (1,) * len(columns), -1
        self.scroll_to(y=0, animate=False, immediate=True)
        self._build()
        self.refresh()

    def on_resize(self) -> None:
        self._build()

    def on_unmount(self) -> None:
        self.columns, self._lines = (), []  # a removed screen may be kept alive a while

    def _build(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0 or width == self._width:
            return
        self._width = width
        console = self.app.console
        total = sum(self.ratios) or 1
        edges = [width * sum(self.ratios[:i]) // total for i in range(len(self.ratios) + 1)]
        widths = [b - a for a, b in zip(edges, edges[1:])]
        cols: list[list[list[Segment]]] = []
        for renderable, w in zip(self.columns, widths):
            inner = max(1, w - 2 * self.PAD)
            cols.append(
                console.render_lines(renderable, console.options.update_width(inner), pad=True)
            )
        height = max((len(c) for c in cols), default=0)
        pad = Strip.blank(self.PAD)
        self._lines = []
        for y in range(height):
            parts: list[Strip] = []
            for lines, w in zip(cols, widths):
                inner = max(1, w - 2 * self.PAD)
                body = Strip(lines[y], inner) if y < len(lines) else Strip.blank(inner)
                parts += [pad, body.crop_extend(0, inner, None), pad]
            self._lines.append(Strip.join(parts))
        self.virtual_size = Size(width, height)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        base = self.rich_style
        i = self.scroll_offset.y + y
        if i >= len(self._lines):
            return Strip.blank(width, base)
        return self._lines[i].apply_style(base).crop_extend(0, width, base)

    def text(self, visible: bool = False) -> list[str]:
        """Every line (or only those in view), right-trimmed."""
        lines = self._lines
        if visible:
            top = self.scroll_offset.y
            lines = lines[top : top + self.scrollable_content_region.height]
        return ["".join(seg.text for seg in strip).rstrip() for strip in lines]
