"""cab-tui load, ls, show and synth."""

from __future__ import annotations

import csv
import io
import json
import math
from datetime import datetime
from pathlib import Path
from typing import Any

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from cabtui.commands.common import err, open_store, report_problems, stdout_console
from cabtui.replay.render import safe
from cabtui.replay.tail import tail_text
from cabtui.secrets import mask
from cabtui.store.filter import FilterError
from cabtui.store.store import CELL_COLUMNS, RUN_COLUMNS, Query

out = stdout_console()
JSON_RUN_COLUMNS = (
    "cell_id", "sweep_id", "tui", "model", "task_id", "family", "run", "pass", "grader_exit_code",
    "exit_code", "timed_out", "wall_clock_ms", "blast_radius", "refusal", "integrity",
    "total_tokens", "composite", "composite_recorded", "composite_mismatch", "note",
    "has_recording", "n_spans",
)  # fmt: skip

TABLE_COLUMNS = (
    "tui", "model", "task_id", "run", "pass", "composite", "composite_mismatch", "wall_clock_ms",
    "blast_radius", "refusal", "integrity", "total_tokens", "exit_code", "grader_exit_code",
)  # fmt: skip


def _jsonable(v: Any) -> Any:
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


def load(path: Path, refresh: bool) -> None:
    store = open_store(path, refresh)
    c = store.cursor()
    counts = {
        t: c.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for t in ("runs", "spans", "model_calls", "recordings")
    }
    cells = store.count_cells()
    sweeps = ", ".join(escape(safe(s["sweep_id"] or "")) for s in store.sweeps())
    out.print(
        f"[bold]{escape(safe(str(path)))}[/]: sweeps {sweeps or '-'}; {counts['runs']} runs in {cells} "
        f"cells, {counts['spans']} spans, {counts['model_calls']} model calls, "
        f"{counts['recordings']} recordings"
    )
    out.print(f"store: {store.db_path}")
    n = report_problems(store, limit=None)
    out.print(f"{n} problem{'s' if n != 1 else ''}")
    raise typer.Exit(1 if n else 0)


def ls(
    path: Path, filter_text: str, by: str, sort: str | None, desc: bool, limit: int, fmt: str
) -> None:
    if by not in ("run", "cell"):
        err.print("[red]error:[/] --by is run or cell")
        raise typer.Exit(2)
    if fmt not in ("table", "json", "csv"):
        err.print("[red]error:[/] --format is table, json or csv")
        raise typer.Exit(2)
    allowed = RUN_COLUMNS + ("sweep_id",) if by == "run" else CELL_COLUMNS
    if sort is not None and sort not in allowed:
        err.print(f"[red]error:[/] cannot sort by {escape(sort)!s}; one of: {', '.join(allowed)}")
        raise typer.Exit(2)
    store = open_store(path)
    q = Query(filter_text, sort, desc)
    try:
        if by == "run":
            table = store.runs(q, limit=limit, columns=JSON_RUN_COLUMNS)
            total = store.count(q)
        else:
            table = store.cells(q, limit=limit)
            total = store.count_cells(q)
    except FilterError as e:
        err.print(f"[red]error:[/] {escape(safe(str(e)))}")
        err.print(
            f"  {escape(safe(filter_text))}\n  {' ' * e.start}{'^' * max(1, e.end - e.start)}"
        )
        raise typer.Exit(2) from None
    rows = [{k: _jsonable(v) for k, v in r.items()} for r in table.to_pylist()]
    if fmt == "json":
        print(json.dumps(rows, indent=1))
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=table.column_names)
        w.writeheader()
        w.writerows(rows)
        print(buf.getvalue(), end="")
    else:
        cols = (
            [c for c in TABLE_COLUMNS if c in table.column_names]
            if by == "run"
            else table.column_names
        )
        out.print(_table(rows, cols))
        err.print(f"{len(rows)} shown of {total} {by}s")
    raise typer.Exit(1 if report_problems(store) else 0)


def _cell(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3f}"
    return safe(str(v))


def _table(rows: list[dict[str, Any]], columns: list[str]) -> Table:
    t = Table(show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(c, overflow="fold")
    for r in rows:
        t.add_row(*(Text(_cell(r[c])) for c in columns))
    return t


def show(path: Path, cell_id: str, fmt: str, reveal: bool) -> None:
    if fmt not in ("text", "json"):
        err.print("[red]error:[/] --format is text or json")
        raise typer.Exit(2)
    store = open_store(path)
    found = store.find(cell_id)
    if len(found) != 1:
        msg = "no run" if not found else f"{len(found)} runs"
        err.print(f"[red]error:[/] {msg} match {escape(safe(cell_id))}")
        for f in found[:10]:
            err.print(f"  {escape(safe(f))}")
        raise typer.Exit(1)
    cid = found[0]
    run = store.run(cid) or {}
    scores = store.scores(cid)
    spans = store.spans(cid)
    calls = store.model_calls(cid)
    rec = store.recording(cid)
    shown = (lambda v: v) if reveal else mask
    if fmt == "json":
        doc = {
            "run": {k: _jsonable(shown(v) if k == "extra" else v) for k, v in run.items()},
            "scores": [{"axis": a, "key": k, "value": v} for a, k, v in scores],
            "spans": shown(spans),
            "model_calls": [{k: _jsonable(v) for k, v in c.items()} for c in shown(calls)],
            "recording": None
            if rec is None
            else {k: _jsonable(str(v) if isinstance(v, Path) else v) for k, v in rec.items()},
            "related": store.related(cid),
        }
        print(json.dumps(doc, indent=1, default=str))
        raise typer.Exit(0)
    _show_text(run, scores, shown(spans), rec, store.related(cid), shown)
    raise typer.Exit(0)


def _show_text(run: dict[str, Any], scores: list[tuple[str, str, Any]], spans: list[dict[str, Any]],
               rec: dict[str, Any] | None, related: dict[str, list[str]], shown: Any) -> None:  # fmt: skip
    def s(v: Any) -> str:
        return escape(safe(str(v)))

    out.print(f"[bold]{s(run['cell_id'])}[/]")
    if run.get("note"):
        out.print(f"[black on yellow] note [/] {s(run['note'])}")
    ident = Table.grid(padding=(0, 2))
    for k in ("sweep_id", "tui", "model", "task_id", "family", "run", "container_image",
              "image_digest", "exit_code", "grader_exit_code", "started_at", "ended_at",
              "duration_ms", "prompt_tokens", "completion_tokens", "tokens_source"):  # fmt: skip
        ident.add_row(k, Text(_cell(run.get(k))))
    out.print(ident)
    mark = " [red]≠ recorded[/]" if run.get("composite_mismatch") else ""
    out.print(
        f"composite {_cell(run.get('composite'))} (recorded {_cell(run.get('composite_recorded'))}){mark}"
    )
    t = Table("axis", "key", "value", header_style="bold")
    for axis, key, value in scores:
        if key in ("stdout_tail", "stderr_tail"):
            continue
        text = (
            json.dumps(shown(value), default=str)
            if isinstance(value, (dict, list))
            else _cell(value)
        )
        t.add_row(axis, key, Text(safe(text)))
    out.print(t)
    for key in ("stdout_tail", "stderr_tail"):
        out.print(f"[bold]{key}[/]")
        out.print(tail_text(run.get(key)))
    out.print(f"[bold]spans[/] ({len(spans)})")
    for sp in spans[:200]:
        out.print(
            Text(
                safe(
                    f"  {_cell(sp['start_ms']):>10} ms  +{_cell(sp['duration_ms'])} ms  "
                    f"{sp['kind']}  {sp['name']}"
                )
            )
        )
    if rec:
        out.print(
            f"recording: {s(rec['path'])} ({rec['cols']}x{rec['rows']}, {_cell(rec['duration'])} s)"
        )
    for group, ids in related.items():
        out.print(f"[bold]{group}[/]: {len(ids)}")
        for i in ids[:10]:
            out.print(f"  {s(i)}")
    out.print(f"rerun: cab-tui replay {s(run.get('sweep_dir', '.'))} {s(run['cell_id'])}")


def synth(out_dir: Path, runs: int, seed: int, spans: int | None, per_run: bool) -> None:
    from cabtui.sweep.synth import synth_sweep

    if runs < 1:
        err.print("[red]error:[/] --runs must be 1 or more")
        raise typer.Exit(2)
    stats = synth_sweep(out_dir, runs, seed=seed, spans_per_run=spans, per_run_files=per_run)
    out.print(
        f"wrote {escape(str(out_dir))}: {stats.runs} runs in {stats.cells} cells, {stats.spans} spans, "
        f"{stats.model_calls} model calls, {stats.bytes / 1e6:.1f} MB"
    )
