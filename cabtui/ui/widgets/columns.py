"""What the browser's grids show: their columns, and each value as coloured text.

Values are formatted here, in the worker thread that fetched them, for the window of rows the
grid holds (a few hundred), never for a whole sweep. Missing values read "—", never 0.
Colours run from green (good) to red (bad).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text

from cabtui.store.query import Shape
from cabtui.text import shown

MISSING = "—"
GOOD, FAIR, POOR, BAD = "green", "yellow", "dark_orange", "red"


@dataclass(frozen=True)
class Column:
    """A grid column. ``priority`` decides what a narrow terminal shows: columns are kept in
    order of priority (1 first; ties in declared order) while they fit. ``min_width`` is set
    for identifiers only, which are shortened (with "…") down to it before any column is
    dropped; a column without one (a number) is never cut: it is shown whole or not at all."""

    key: str  # the store column it sorts on (None-able for computed columns)
    label: str
    width: int
    render: Callable[[dict[str, Any]], Text]
    sort: str | None = None  # the store column sorted by; None: not sortable
    priority: int = 5
    min_width: int | None = None


PAD = 2  # a cell's padding, either side


def fit_columns(
    columns: tuple[Column, ...], widths: tuple[int, ...], room: int
) -> tuple[tuple[int, int], ...]:
    """The columns shown in ``room`` cells, as (index, width) in declared order. ``widths`` are
    the widths the columns' values need (at least each column's own). Columns are taken by
    priority while their least width (``min_width`` for identifiers, else the whole width) fits;
    what is left over widens the shortened identifiers back towards their whole width."""
    order = sorted(range(len(columns)), key=lambda i: (columns[i].priority, i))
    least = [columns[i].min_width or widths[i] for i in range(len(columns))]
    least = [min(m, w) for m, w in zip(least, widths)]
    kept: list[int] = []
    used = 0
    for i in order:
        need = least[i] + PAD
        if used + need > room:
            break
        kept.append(i)
        used += need
    shown = {i: least[i] for i in kept}
    spare = room - used
    growing = [i for i in sorted(kept) if shown[i] < widths[i]]
    while spare > 0 and growing:  # a cell at a time to each, so all read about as well
        for i in list(growing):
            if spare == 0:
                break
            shown[i] += 1
            spare -= 1
            if shown[i] >= widths[i]:
                growing.remove(i)
    return tuple((i, shown[i]) for i in sorted(kept))


def _missing() -> Text:
    return Text(MISSING, style="dim", justify="right")


def _scale(v: float) -> str:
    """Colour of a value in [0, 1] where 1 is good."""
    if v >= 0.75:
        return GOOD
    if v >= 0.5:
        return FAIR
    if v >= 0.25:
        return POOR
    return BAD


def cell_text(value: Any, width: int | None = None) -> Text:
    """Text as is (secrets masked, control characters made visible), clipped to ``width`` with an
    ellipsis (whole when None: the grid clips it to the width it has)."""
    if value is None:
        return Text(MISSING, style="dim")
    s = shown(value)
    return Text(s if width is None or len(s) <= width else s[: width - 1] + "…", no_wrap=True)


def clip(cell: Text, width: int) -> Text:
    """``cell`` shortened to ``width`` cells with an ellipsis (identifiers only)."""
    if cell.cell_len <= width:
        return cell
    out = cell.copy()
    keep = max(1, width - 1)
    # never end inside a number: "qwen3-coder-4…" would read as a figure; "qwen3-coder-…" not
    plain = out.plain
    while keep > 1 and plain[keep - 1].isdigit() and keep < len(plain) and plain[keep].isdigit():
        keep -= 1
    out.truncate(keep)
    out.append("…")
    return out


def unit(value: float | None, good_high: bool = True, digits: int = 2) -> Text:
    """A score in [0, 1], coloured by goodness."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return _missing()
    good = value if good_high else 1.0 - value
    return Text(f"{value:.{digits}f}", style=_scale(good), justify="right")


def passed(value: float | None) -> Text:
    if value is None:
        return _missing()
    if value >= 1:
        return Text("✓", style=f"bold {GOOD}", justify="right")
    if value <= 0:
        return Text("✗", style=f"bold {BAD}", justify="right")
    return Text(f"{value:.2f}", style=FAIR, justify="right")


def composite(value: float | None, mismatch: bool | None) -> Text:
    """The composite; a "*" when it differs from the recorded one."""
    t = unit(value)
    if value is not None and mismatch:
        t.append("*", style=f"bold {BAD}")
    return t


def seconds(ms: float | None) -> Text:
    """Wall time in seconds; under a minute is good, past ten is bad."""
    if ms is None:
        return _missing()
    s = ms / 1000.0
    style = GOOD if s < 60 else FAIR if s < 300 else POOR if s < 600 else BAD
    return Text(f"{s:.1f}s" if s < 1000 else f"{s:.0f}s", style=style, justify="right")


def tokens(n: int | None) -> Text:
    if n is None:
        return _missing()
    if n >= 1_000_000:
        return Text(f"{n / 1e6:.1f}M", justify="right")
    if n >= 10_000:
        return Text(f"{n / 1e3:.0f}k", justify="right")
    return Text(str(n), justify="right")


def exit_code(code: int | None) -> Text:
    if code is None:
        return _missing()
    return Text(str(code), style=GOOD if code == 0 else BAD, justify="right")


def rate_interval(rate: float | None, lo: float | None, hi: float | None) -> Text:
    """A pass rate with its Wilson interval: "0.67 [0.21–0.94]"."""
    if rate is None:
        return Text(MISSING, style="dim")
    t = Text(f"{rate:.2f}", style=_scale(rate))
    if lo is not None and hi is not None:
        t.append(f" [{lo:.2f}–{hi:.2f}]", style="dim")
    return t


def _r(key: str) -> Callable[[dict[str, Any]], Text]:
    return lambda row: cell_text(row.get(key))


def _after_slash(key: str) -> Callable[[dict[str, Any]], Text]:
    """The part after the first "/": the model without its vendor, the task without its family
    (both shown in full in the run's detail)."""

    def render(row: dict[str, Any]) -> Text:
        v = row.get(key)
        return cell_text(v.partition("/")[2] or v if isinstance(v, str) else v)

    return render


# priority: 1 what a run is and how it scored; then time, cost and the recorded composite;
# family and run (in the task and cell_id anyway) and the exit codes go first when narrow.
RUN_GRID: tuple[Column, ...] = (
    Column("tui", "tui", 9, _r("tui"), "tui", 1, 9),
    Column("model", "model", 16, _after_slash("model"), "model", 1, 9),
    Column("task", "task", 20, _after_slash("task_id"), "task_id", 1, 11),
    Column("family", "family", 9, _r("family"), "family", 6, 6),
    Column("run", "run", 3, lambda r: Text(str(r["run"]), justify="right") if r.get("run") else _missing(), "run", 6),
    Column("pass", "pass", 4, lambda r: passed(r.get("pass")), "pass", 1),
    Column("composite", "comp", 6, lambda r: composite(r.get("composite"), r.get("composite_mismatch")), "composite", 1),
    Column("recorded", "rec", 5, lambda r: unit(r.get("composite_recorded")), "composite_recorded", 3),
    Column("wall", "wall", 6, lambda r: seconds(r.get("wall_clock_ms")), "wall_clock_ms", 2),
    Column("blast", "blast", 5, lambda r: unit(r.get("blast_radius"), good_high=False), "blast_radius", 4),
    Column("refusal", "ref", 4, lambda r: unit(r.get("refusal")), "refusal", 5),
    Column("integrity", "int", 4, lambda r: unit(r.get("integrity")), "integrity", 5),
    Column("tokens", "tokens", 6, lambda r: tokens(r.get("total_tokens")), "total_tokens", 3),
    Column("exit", "exit", 4, lambda r: exit_code(r.get("exit_code")), "exit_code", 7),
    Column("grader", "grd", 4, lambda r: exit_code(r.get("grader_exit_code")), "grader_exit_code", 7),
)  # fmt: skip

CELL_GRID: tuple[Column, ...] = (
    Column("tui", "tui", 9, _r("tui"), "tui", 1, 9),
    Column("model", "model", 22, _after_slash("model"), "model", 1, 9),
    Column("task", "task", 24, _after_slash("task_id"), "task_id", 1, 11),
    Column("family", "family", 9, _r("family"), "family", 6, 6),
    Column("n", "n", 3, lambda r: Text(str(r.get("n", 0)), justify="right"), "n", 3),
    Column("composite", "mean comp", 9, lambda r: unit(r.get("composite_mean")), "composite_mean", 1),
    Column("sd", "sd", 4, lambda r: Text(f"{r['composite_sd']:.2f}", style="dim", justify="right")
           if r.get("composite_sd") is not None else _missing(), "composite_sd", 4),
    Column("pass", "pass rate [95% CI]", 18,
           lambda r: rate_interval(r.get("pass_rate"), r.get("pass_lo"), r.get("pass_hi")), "pass_rate", 1),
    Column("wall", "wall", 7, lambda r: seconds(r.get("wall_mean")), "wall_mean", 2),
    Column("blast", "blast", 5, lambda r: unit(r.get("blast_mean"), good_high=False), "blast_mean", 5),
)  # fmt: skip


def format_rows(rows: list[dict[str, Any]], columns: tuple[Column, ...]) -> list[tuple[Text, ...]]:
    return [tuple(c.render(row) for c in columns) for row in rows]


# Columns another source may add, and the run columns each CAB column needs to be shown.
_NEEDS = {
    "composite": "composite", "recorded": "composite_recorded", "blast": "blast_radius",
    "refusal": "refusal", "integrity": "integrity", "exit": "exit_code",
    "grader": "grader_exit_code", "tokens": "total_tokens", "wall": "wall_clock_ms",
}  # fmt: skip


def _status(row: dict[str, Any]) -> Text:
    v = row.get("status")
    if v is None:
        return Text(MISSING, style="dim")
    ok = str(v).lower() in ("ok", "none", "success")
    style = GOOD if ok else FAIR if v == "running" else BAD
    return Text(shown(v), style=style, no_wrap=True)


def _cost(row: dict[str, Any]) -> Text:
    v = row.get("cost_usd")
    if v is None:
        return _missing()
    return Text(f"${v:.2f}" if v < 100 else f"${v:.0f}", justify="right")


def _score(key: str) -> Callable[[dict[str, Any]], Text]:
    def render(row: dict[str, Any]) -> Text:
        v = row.get(key)
        if v is None:
            return _missing()
        if 0.0 <= v <= 1.0:
            return unit(v)
        return Text(f"{v:g}", justify="right")

    return render


def _label(key: str) -> str:
    """A score key's header: its key, without the axis ("rewards.score_binary" -> score_binary);
    the axis where the key says nothing of its own ("includes.value" -> includes)."""
    axis, _, name = key.partition(".")
    return axis if name in ("", "value") else name


WHAT_IF = Column("composite", "what-if", 7, lambda r: unit(r.get("composite")), "composite", 1)
WHAT_IF_MEAN = Column("composite", "what-if", 7, lambda r: unit(r.get("composite_mean")), "composite_mean", 1)  # fmt: skip


def _with_what_if(kept: list[Column], what_if: Column) -> list[Column]:
    """``kept`` with the what-if score after pass, where no sweep defines a composite."""
    if any(c.key == "composite" for c in kept):
        return kept
    at = next(i for i, c in enumerate(kept) if c.key == "pass") + 1
    return [*kept[:at], what_if, *kept[at:]]


def run_grid(shape: Shape | None, what_if: bool = False) -> tuple[Column, ...]:
    """The run columns of the opened sweeps: CAB's where a sweep fills them, and for other
    sources their status, cost, agent time and score keys (each by its priority); with
    ``what_if`` (weights over other sources' axes), their what-if score."""
    if shape is None:
        return RUN_GRID
    kept = [c for c in RUN_GRID if c.key not in _NEEDS or _NEEDS[c.key] in shape.present]
    if what_if:
        kept = _with_what_if(kept, WHAT_IF)
    extra: list[Column] = []
    if "status" in shape.present:
        extra.append(Column("status", "status", 8, _status, "status", 2, 6))
    for i, key in enumerate(shape.score_keys):
        label = _label(key)
        extra.append(Column(key, label, max(5, len(label)), _score(key), key, 2 if i < 2 else 4))
    if "cost_usd" in shape.present:
        extra.append(Column("cost", "cost", 6, _cost, "cost_usd", 3))
    if "agent_ms" in shape.present:
        extra.append(
            Column("agent", "agent", 6, lambda r: seconds(r.get("agent_ms")), "agent_ms", 4)
        )
    at = next(i for i, c in enumerate(kept) if c.key == "pass") + 1
    return (*kept[:at], *extra, *kept[at:])


def _pass_at(row: dict[str, Any]) -> Text:
    """pass@1 .. pass@n of a cell (n its reruns): "0.33 0.67 1.00"."""
    values = row.get("pass_at")
    if not values:
        return Text(MISSING, style="dim")
    t = Text()
    for i, v in enumerate(values):
        if i:
            t.append(" ")
        t.append(f"{v:.2f}", style=_scale(v))
    return t


def cell_grid(shape: Shape | None, what_if: bool = False) -> tuple[Column, ...]:
    """The cells grid with pass@k (k = 1 up to the reruns) and, where runs carry one, mean cost;
    the composite columns only where a sweep defines one (or, with ``what_if``, the mean
    what-if score)."""
    if shape is None:
        return CELL_GRID
    needs = {"composite": "composite", "sd": "composite", "blast": "blast_radius"}
    kept = [c for c in CELL_GRID if c.key not in needs or needs[c.key] in shape.present]
    if what_if:
        kept = _with_what_if(kept, WHAT_IF_MEAN)
    extra = [Column("pass_at", "pass@1..n", 14, _pass_at, "pass_at", 4)]
    if "cost_usd" in shape.present:
        extra.append(
            Column(
                "cost",
                "mean cost",
                9,
                lambda r: _cost({"cost_usd": r.get("cost_mean")}),
                "cost_mean",
                3,
            )
        )
    at = next(i for i, c in enumerate(kept) if c.key == "pass") + 1
    return (*kept[:at], *extra, *kept[at:])
