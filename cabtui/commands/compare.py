"""cab-tui diff (two runs or two cells, as tables or JSON) and cab-tui compare (the TUI screen).

Every string that comes from the data is masked (unless ``--reveal-secrets``), passed through
``safe()`` and printed as rich ``Text``, so neither escapes, rich markup nor secrets in a record
reach the terminal. JSON output is strict: NaN and infinities are written as null.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.table import Table
from rich.text import Text

from cabtui.commands.common import err, error, open_store, stdout_console
from cabtui.compare.diff import cell_runs, diff_cells, diff_runs, masked
from cabtui.compare.values import (
    AxisRow,
    CallTotals,
    CellDiff,
    CompositeRow,
    Diff,
    Estimate,
    FileSetDiff,
    RunDiff,
    SpanAlignment,
    SpanSide,
)
from cabtui.store.store import Store
from cabtui.text import dumps, safe, shown

out = stdout_console()
GOOD, BAD = "green", "red"
WINDOW = 12  # span pairs shown around the point where the traces part


def _t(value: Any, style: str = "", width: int = 60) -> Text:
    """A value as safe Text: None as a dim dash, numbers compact, long text cut."""
    if value is None:
        return Text("—", style="dim")
    if isinstance(value, bool):
        s = "true" if value else "false"
    elif isinstance(value, float):
        s = (
            str(int(value))
            if value.is_integer()
            else f"{value:.1f}"
            if abs(value) >= 100
            else f"{value:.4f}"
        )
    elif isinstance(value, (list, dict)):
        s = (
            ", ".join(map(str, value))
            if isinstance(value, list)
            else json.dumps(value, default=str)
        )
    else:
        s = str(value)
    s = safe(s)
    if len(s) > width:
        s = s[: width - 1] + "…"
    return Text(s, style=style)


def resolve(store: Store, text: str) -> str:
    """The cell_id ``text`` names: an exact id, a unique part of one, or a part matching only
    the reruns of one cell (then the cell's first run). Exit 1 listing the candidates."""
    found = store.find(text, limit=50)
    if len(found) == 1:
        return found[0]
    cells = {c.split("#run", 1)[0] for c in found}
    if len(cells) == 1 and next(iter(cells)) in found:
        return next(iter(cells))
    if not found:
        error("no run matches ", repr(text))
    else:
        error(f"{len(found)} runs match ", repr(text))
        err.print(Text("say which:"))
        for c in found[:20]:
            err.print(Text("  " + shown(c)))
    raise typer.Exit(1)


def _sides(style_of: str | None) -> tuple[str, str]:
    return (GOOD if style_of == "a" else BAD if style_of == "b" else "",
            GOOD if style_of == "b" else BAD if style_of == "a" else "")  # fmt: skip


def _header(a: str, b: str) -> None:
    out.print(Text.assemble(("A ", "bold"), safe(a)))
    out.print(Text.assemble(("B ", "bold"), safe(b)))


def _identity(d: Diff, fields: list[str]) -> None:
    t = Table("field", "A", "B", title="identity", title_justify="left")
    for k in fields:
        differs = k in d.identity_diff
        t.add_row(Text(k, style="bold yellow" if differs else ""), _t(d.a.get(k)), _t(d.b.get(k)))
    out.print(t)


def _axes_table(rows: tuple[AxisRow, ...]) -> None:
    t = Table("axis", "key", "A", "B", "Δ a−b", title="axes", title_justify="left")
    for r in rows:
        sa, sb = _sides(r.better)
        if r.key in ("stdout_tail", "stderr_tail"):
            a = b = Text("(see the tail diff)", style="dim")
        else:
            a, b = _t(r.a, sa), _t(r.b, sb)
        t.add_row(Text(safe(r.axis)), Text(safe(r.key)), a, b, _t(r.delta))
    out.print(t)


def _composite(rows: tuple[CompositeRow, ...]) -> None:
    t = Table(
        "component",
        "input A",
        "input B",
        "A",
        "B",
        "Δ a−b",
        title="composite",
        title_justify="left",
    )
    for r in rows:
        sa, sb = _sides(r.better)
        t.add_row(
            Text(safe(str(r.component))),
            _t(r.input_a),
            _t(r.input_b),
            _t(r.a, sa),
            _t(r.b, sb),
            _t(r.delta),
        )
    out.print(t)


def _span_cell(s: SpanSide | None) -> Text:
    if s is None:
        return Text("—", style="dim")
    start = "?" if s.start_ms is None else f"{s.start_ms:.0f}"
    return Text.assemble(
        (safe(str(s.kind)), "bold"), " ", safe(str(s.name))[:50], (f" @{start} ms", "dim")
    )


def _spans(sp: SpanAlignment) -> None:
    c = sp.counts
    out.print(
        Text(
            f"spans: A {sp.n_a}, B {sp.n_b}: {c['match']} matched, {c['partial']} partial, "
            f"{c['only_a']} only in A, {c['only_b']} only in B",
            style="bold",
        )
    )
    k = sp.parted_at
    if k is None:
        out.print(Text("the traces never part: every span matches"))
        return
    out.print(Text(f"the traces part at pair {k}:"))
    t = Table("#", "", "A", "B")
    styles = {"match": "", "partial": "yellow", "only_a": "red", "only_b": "red"}
    for i in range(max(0, k - 2), min(len(sp.pairs), k - 2 + WINDOW)):
        p = sp.pairs[i]
        t.add_row(str(i), Text(p.status, style=styles[p.status]), _span_cell(p.a), _span_cell(p.b))
    out.print(t)


def _files(files: dict[str, FileSetDiff]) -> None:
    t = Table("files", "only A", "only B", "both", title="blast radius files", title_justify="left")
    for name, f in files.items():
        t.add_row(
            Text(safe(name)),
            *(Text("\n".join(safe(x) for x in s) or "—") for s in (f.only_a, f.only_b, f.both)),
        )
    out.print(t)


def _tails(tails: dict[str, tuple[str, ...]]) -> None:
    for name, lines in tails.items():
        if not lines:
            out.print(Text(f"{name}: same", style="dim"))
            continue
        out.print(Text(f"{name} (- A, + B):", style="bold"))
        for line in lines:
            style = (
                "cyan"
                if line.startswith("@@")
                else GOOD
                if line.startswith("+")
                else BAD
                if line.startswith("-")
                else ""
            )
            out.print(Text(safe(line), style=style))


def _calls(a: CallTotals, b: CallTotals) -> None:
    t = Table("model calls", "A", "B", title_justify="left")
    for k in ("n", "prompt_tokens", "completion_tokens", "latency_ms"):
        t.add_row(k, _t(getattr(a, k)), _t(getattr(b, k)))
    out.print(t)


def print_runs(d: RunDiff) -> None:
    _header(d.a["cell_id"], d.b["cell_id"])
    _identity(d, list(d.a))
    _axes_table(d.axes)
    _composite(d.composite)
    _spans(d.spans)
    _files(d.files)
    _tails(d.tails)
    _calls(d.calls_a, d.calls_b)


def print_cells(d: CellDiff) -> None:
    _header(d.cell_a + f"  ({len(d.runs_a)} runs)", d.cell_b + f"  ({len(d.runs_b)} runs)")
    _identity(d, list(d.a))
    t = Table(
        "axis",
        "key",
        "A mean [95%]",
        "n",
        "B mean [95%]",
        "n",
        "Δ a−b",
        title="axes",
        title_justify="left",
    )

    def ci(s: Estimate, style: str) -> Text:
        return Text.assemble(_t(s.mean, style), " [", _t(s.lo), ", ", _t(s.hi), "]")

    for r in d.axes:
        sa, sb = _sides(r.better)
        t.add_row(
            Text(safe(str(r.axis))),
            Text(safe(str(r.key))),
            ci(r.a, sa),
            str(r.a.n),
            ci(r.b, sb),
            str(r.b.n),
            _t(r.delta),
        )
    out.print(t)


def diff(
    path: Path, cell_a: str, cell_b: str, fmt: str, runs_only: bool, reveal: bool = False
) -> None:
    if fmt not in ("table", "json"):
        error("--format is table or json")
        raise typer.Exit(2)
    store = open_store(path)
    a, b = resolve(store, cell_a), resolve(store, cell_b)
    as_cells = (
        not runs_only
        and "#run" not in a
        and "#run" not in b
        and len(cell_runs(store, a)) > 1
        and len(cell_runs(store, b)) > 1
    )
    d: Diff = diff_cells(store, a, b) if as_cells else diff_runs(store, a, b)
    if not reveal:
        d = masked(d)
    if fmt == "json":
        typer.echo(dumps(d.to_json(), indent=2))
    elif isinstance(d, CellDiff):
        print_cells(d)
    else:
        print_runs(d)


def resolve_pair(path: Path, cell_a: str, cell_b: str) -> tuple[str, str]:
    """The two runs ``cab-tui compare`` opens the compare screen on (exit 1 listing the
    candidates when a name matches none or several)."""
    store = open_store(path)
    try:
        return resolve(store, cell_a), resolve(store, cell_b)
    finally:
        store.close()


def paired(
    path: Path, dim: str, x: str, y: str, fixed: list[str], filter_text: str, fmt: str, seed: int
) -> None:
    """Two CLIs (or two models) over the tasks they share: a paired test on composite and pass."""
    from cabtui.compare.render import paired_table
    from cabtui.compare.stats import FIXABLE, PAIRED_DIMS
    from cabtui.compare.stats import paired as run
    from cabtui.store.filter import FilterError, compile_filter
    from cabtui.store.query import Query

    if fmt not in ("table", "json"):
        error("--format is table or json")
        raise typer.Exit(2)
    if dim not in PAIRED_DIMS:
        error(f"compare along one of: {', '.join(PAIRED_DIMS)}")
        raise typer.Exit(2)
    fixes: dict[str, str] = {}
    for f in fixed:
        col, sep, value = f.partition("=")
        if not sep or col not in FIXABLE or col == dim:
            choices = ", ".join(c for c in FIXABLE if c != dim)
            err.print(
                Text(f"error: --fix takes COLUMN=VALUE with a column among {choices}", style="red")
            )
            raise typer.Exit(2)
        fixes[col] = value
    try:
        compile_filter(filter_text)
    except FilterError as e:
        error("bad filter: ", str(e))
        raise typer.Exit(2) from None
    store = open_store(path)
    known = store.distinct(dim)
    for v in (x, y):
        if v not in known:
            error(f"no {dim} named ", repr(v))
            err.print(Text(f"the {dim}s are:"))
            for k in known[:50]:
                err.print(Text("  " + shown(k)))
            raise typer.Exit(1)
    r = run(store, dim, x, y, fixes, seed=seed, query=Query(filter=filter_text))
    if fmt == "json":
        typer.echo(dumps(r, indent=2))
    else:
        out.print(paired_table(r))
