"""Renderables of a run (or cell) diff from :mod:`cabtui.compare.diff`: identities with their
differences highlighted, per-axis values with the delta coloured by the better side, the
composite's components side by side, the test-output tail diffs, the blast-radius file sets and
the model calls. Every string from a sweep goes through ``safe()`` into a rich Text.

:class:`Summary` shows the first three side by side, scrolling when they are taller than it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeGuard

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.segment import Segment
from rich.table import Table
from rich.text import Text
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from cabtui.compare.diff import TAILS
from cabtui.compare.values import (
    AxisRow,
    CallTotals,
    CellAxisRow,
    CompositeRow,
    Diff,
    Estimate,
    FileSetDiff,
    RunDiff,
)
from cabtui.text import safe
from cabtui.ui.widgets.fit import differing

A_STYLE, B_STYLE = "bold cyan", "bold magenta"


def diff_value(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1e3 else f"{v:,.0f}"
    if isinstance(v, (list, tuple)):
        return f"[{len(v)}]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={diff_value(x)}" for k, x in v.items() if k != "source") + "}"
    return str(v)


def _cell(v: Any, width: int = 40) -> Text:
    s = safe(diff_value(v))
    return Text(s if len(s) <= width else s[: width - 1] + "…")


def _delta(row: AxisRow | CellAxisRow | CompositeRow) -> Text:
    d = row.delta
    if d is None:
        return Text("")
    better = row.better
    style = "green" if better == "a" else "red" if better == "b" else "dim"
    return Text(f"{d:+.4g}", style=style)


def _table(title: str) -> Table:
    t = Table(title=title, title_justify="left", expand=True, box=None, padding=(0, 1),
              collapse_padding=True, title_style="bold")  # fmt: skip
    return t


STACK_BELOW = 120  # under this many columns the summary's tables stack, and A goes over B
Maker = Callable[[int, bool], RenderableType]  # (width, stacked) -> what the summary shows


def identity_table(diff: Diff, width: int = 0, stacked: bool = False) -> Table:
    """Both sides' identity, the keys that differ in bold yellow: a value equal on both sides
    once, two that differ A over B, the start they share shortened (…) when they are longer
    than the width, so the part that differs reads first. No value is cut: what does not fit
    folds onto the next line. (The same layout at every width: ``stacked`` is not needed.)"""
    t = _table("identity (bold yellow: differs)")
    t.add_column("key", style="dim", no_wrap=True)
    t.add_column("", no_wrap=True)  # A or B where the two differ
    t.add_column("value", overflow="fold", ratio=1)
    differs = set(diff.identity_diff)
    keys = [k for k in diff.a if k != "cell_id"]
    key_w = max((len(k) for k in keys), default=8)
    value_w = max(8, width - key_w - 4)
    for key in keys:
        a, b = safe(diff_value(diff.a.get(key))), safe(diff_value(diff.b.get(key)))
        label = Text(key, style="bold yellow" if key in differs else "")
        if a == b:
            t.add_row(label, "", Text(a))
            continue
        if width:
            a, b = differing(a, b, value_w - 2, cut_end=False)
        t.add_row(label, Text("A", style=A_STYLE), Text(a, style="cyan"))
        t.add_row(Text(""), Text("B", style=B_STYLE), Text(b, style="magenta"))
    return t


def axes_table(diff: Diff, width: int = 0, only_differing: bool = False) -> Table:
    """Scorer keys by axis: A, B and a - b, green when A is better, red when B is. Numbers are
    never cut (their columns do not wrap); ``only_differing`` leaves out the keys equal on both
    sides (and says how many)."""
    # tails: shown as diffs below
    rows: list[AxisRow | CellAxisRow] = [r for r in diff.axes if r.key not in TAILS]
    same = [r for r in rows if r.a == r.b]
    if only_differing:
        rows = [r for r in rows if r.a != r.b]
    title = "axes (Δ = A − B; green: A better, red: B better)"
    if only_differing:
        title = f"axes that differ: {len(rows)} (a: all {len(rows) + len(same)}); Δ = A − B"
    t = _table(title)
    t.add_column("key", style="dim", no_wrap=True)
    t.add_column("A", justify="right", overflow="fold", ratio=1)
    t.add_column("B", justify="right", overflow="fold", ratio=1)
    t.add_column("Δ", justify="right", no_wrap=True)
    axis = None
    for row in rows:
        if row.axis != axis:
            axis = row.axis
            # names from the data go in as Text: a str cell would be read as markup
            t.add_row(Text(safe(str(axis)), style="bold"), "", "", "")
        key = Text(" " + safe(str(row.key)))
        if isinstance(row, CellAxisRow):  # a cell diff: mean [lo, hi] (n)
            t.add_row(key, _interval(row.a), _interval(row.b), _delta(row))
            continue
        a, b = row.a, row.b
        if isinstance(a, dict) or isinstance(b, dict):  # an object: one row per key
            t.add_row(key, "", "", "")
            _object_rows(t, a if isinstance(a, dict) else {}, b if isinstance(b, dict) else {},
                         only_differing)  # fmt: skip
        else:
            t.add_row(key, Text(safe(diff_value(a))), Text(safe(diff_value(b))), _delta(row))
    return t


def _is_number(v: Any) -> TypeGuard[float]:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _object_rows(t: Table, a: dict[str, Any], b: dict[str, Any], only_differing: bool) -> None:
    """The keys of two objects (a composite's components, say), each a row with A, B and,
    for two numbers, a - b (dim: which is better is not known here)."""
    for key in dict.fromkeys([*a, *b]):
        va, vb = a.get(key), b.get(key)
        if key == "source" or (only_differing and va == vb):
            continue
        delta = Text("")
        if _is_number(va) and _is_number(vb) and va != vb:
            delta = Text(f"{va - vb:+.4g}", style="dim")
        t.add_row(
            Text("   " + safe(str(key))),
            Text(safe(diff_value(va))),
            Text(safe(diff_value(vb))),
            delta,
        )


def _interval(s: Estimate) -> Text:
    if s.mean is None:
        return Text("—")
    return Text(f"{s.mean:.3g} [{diff_value(s.lo)}, {diff_value(s.hi)}] n={s.n}")


def composite_table(diff: RunDiff) -> Table:
    """The composite's components: each input in [0, 1] and its weighted contribution."""
    t = _table("composite components (input, then weighted)")
    t.add_column("component", style="dim", overflow="fold", min_width=7)
    for name in ("in A", "in B", "A", "B", "Δ"):
        t.add_column(name, justify="right", no_wrap=True, min_width=4)

    def two(v: Any) -> Text:  # inputs and contributions are in [0, 1]: two decimals read whole
        return (
            Text(f"{v:.2f}")
            if isinstance(v, (int, float)) and not isinstance(v, bool)
            else _cell(v)
        )

    for row in diff.composite:
        d = row.delta
        delta = _delta(row) if d is None else Text(f"{d:+.2f}", style=_delta(row).style)
        t.add_row(Text(safe(str(row.component))), two(row.input_a), two(row.input_b),
                  two(row.a), two(row.b), delta)  # fmt: skip
    return t


def diff_text(lines: Sequence[str]) -> Text:
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


def files_table(files: dict[str, FileSetDiff]) -> Table:
    """Each blast-radius file set as only in A / only in B / both."""
    t = _table("blast radius: file sets")
    t.add_column("set", style="dim", no_wrap=True)
    t.add_column("only in A", style="cyan")
    t.add_column("only in B", style="magenta")
    t.add_column("both")
    for name, s in files.items():

        def col(names: tuple[str, ...], missing: bool) -> Text:
            if missing:
                return Text("(not recorded)", style="dim")
            return Text("\n".join(safe(f) for f in names) or "—")

        t.add_row(name, col(s.only_a, s.missing_a), col(s.only_b, s.missing_b),
                  col(s.both, s.missing_a and s.missing_b))  # fmt: skip
    return t


def calls_table(a: CallTotals, b: CallTotals) -> Table:
    t = _table("model calls and tokens")
    t.add_column("", style="dim")
    t.add_column("A", justify="right", style="cyan")
    t.add_column("B", justify="right", style="magenta")
    for key in ("n", "prompt_tokens", "completion_tokens", "latency_ms"):
        t.add_row(key, _cell(getattr(a, key)), _cell(getattr(b, key)))
    return t


def diffs(diff: RunDiff) -> RenderableType:
    """The diffs section: tails, file sets, model calls."""
    parts: list[RenderableType] = []
    for name, lines in diff.tails.items():
        parts.append(Text(f"{name} (- A, + B)", style="bold"))
        parts.append(diff_text(lines))
    parts.append(files_table(diff.files))
    parts.append(Text(""))
    parts.append(calls_table(diff.calls_a, diff.calls_b))
    return Group(*parts)


def least_width(table: Table, fold_cap: int = 8) -> int:
    """The width ``table`` needs so that no number is cut: every column as wide as its widest
    cell, except that a folding column (long strings) is counted at most ``fold_cap``."""
    total = 0
    for column in table.columns:
        widest = max(
            [cell_len(c.plain if isinstance(c, Text) else str(c)) for c in column._cells]
            + [cell_len(str(column.header))]
        )
        if column.overflow == "fold":
            widest = min(widest, fold_cap)
        total += widest + 1
    return total + 1


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
        self.columns: tuple[RenderableType | Maker, ...] = ()
        self.stack_order: tuple[int, ...] = ()
        self.least: tuple[int, ...] = ()
        self._stacked = False
        self.ratios: tuple[int, ...] = ()
        self._lines: list[Strip] = []
        self._width = -1

    @property
    def stacked(self) -> bool:
        """Whether the renderables go one under the other (as last laid out)."""
        return self._stacked

    def _widths(self, width: int) -> list[int]:
        total = sum(self.ratios) or 1
        edges = [width * sum(self.ratios[:i]) // total for i in range(len(self.ratios) + 1)]
        return [b - a for a, b in zip(edges, edges[1:])]

    def _stack(self, width: int) -> bool:
        if width < STACK_BELOW:
            return True
        widths = self._widths(width)
        return any(w - 2 * self.PAD < need for w, need in zip(widths, self.least))

    def set_columns(
        self,
        *columns: RenderableType | Maker,
        ratios: tuple[int, ...] = (),
        stack_order: tuple[int, ...] = (),
        least: tuple[int, ...] = (),
    ) -> None:
        """Show ``columns``, their widths in proportion to ``ratios`` (equal by default); a
        column may be a maker, called with its width and whether the summary is stacked.
        ``stack_order``: the order of the columns when stacked (as given by default).
        ``least``: the width each column needs side by side; where one would have less, or
        under ``STACK_BELOW`` columns, they are stacked."""
        self.least = least
        self.columns, self.ratios, self._width = columns, ratios or (1,) * len(columns), -1
        self.stack_order = stack_order or tuple(range(len(columns)))
        self.scroll_to(y=0, animate=False, immediate=True)
        self._build()
        self.refresh()

    def on_resize(self) -> None:
        self._build()

    def rebuild(self) -> None:
        """Render the columns again (what they show has changed)."""
        self._width = -1
        self._build()
        self.refresh()

    def on_unmount(self) -> None:
        self.columns, self._lines = (), []  # a removed screen may be kept alive a while

    def _build(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0 or width == self._width:
            return
        self._width = width
        console = self.app.console
        stacked = self._stacked = self._stack(width)
        if stacked:  # one under the other, each the whole width
            inner = max(1, width - 2 * self.PAD)
            lines: list[list[Segment]] = []
            for n, column in enumerate(self.columns[i] for i in self.stack_order):
                renderable = column(inner, True) if callable(column) else column
                if n:
                    lines.append([])
                lines += console.render_lines(
                    renderable, console.options.update_width(inner), pad=True
                )
            cols = [lines]
            widths = [width]
        else:
            widths = self._widths(width)
            cols = []
            for column, w in zip(self.columns, widths):
                inner = max(1, w - 2 * self.PAD)
                renderable = column(inner, False) if callable(column) else column
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
