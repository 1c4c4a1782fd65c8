"""cab-tui load, ls, show and synth."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import typer
from rich.table import Table
from rich.text import Text

from cabtui.commands.common import err, error, open_store, report_problems, stdout_console
from cabtui.replay.tail import tail_text
from cabtui.secrets import mask
from cabtui.store.filter import FilterError
from cabtui.store.query import CELL_COLUMNS, RUN_COLUMNS, Query
from cabtui.store.store import Store
from cabtui.text import dumps, finite, mask_rich, safe, shown

out = stdout_console()
JSON_RUN_COLUMNS = (
    "cell_id", "source", "sweep_id", "tui", "model", "task_id", "family", "run", "status", "pass",
    "grader_exit_code", "exit_code", "timed_out", "wall_clock_ms", "agent_ms", "blast_radius",
    "refusal", "integrity", "total_tokens", "cost_usd", "composite", "composite_recorded",
    "composite_mismatch", "note", "has_recording", "n_spans",
)  # fmt: skip

TABLE_COLUMNS = (
    "tui", "model", "task_id", "run", "status", "pass", "composite", "composite_mismatch",
    "wall_clock_ms", "blast_radius", "refusal", "integrity", "total_tokens", "cost_usd",
    "exit_code", "grader_exit_code",
)  # fmt: skip
ALWAYS = ("tui", "model", "task_id", "run", "pass")  # shown even when every value is missing


def load(path: Path, refresh: bool, source: str | None = None) -> None:
    store = open_store(path, refresh, source)
    c = store.cursor()
    counts = {
        t: c.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
        for t in ("runs", "spans", "model_calls", "recordings")
    }
    cells = store.count_cells()
    sweeps = ", ".join(shown(s["sweep_id"]) for s in store.sweeps())
    line = Text.assemble((shown(path), "bold"), f": sweeps {sweeps or '-'}; ")
    line.append(
        f"{counts['runs']} runs in {cells} cells, {counts['spans']} spans, "
        f"{counts['model_calls']} model calls, {counts['recordings']} recordings"
    )
    out.print(line)
    out.print(Text(f"store: {safe(str(store.db_path))}"))
    n = report_problems(store, limit=None)
    out.print(f"{n} problem{'s' if n != 1 else ''}")
    raise typer.Exit(1 if n else 0)


def ls(
    path: Path,
    filter_text: str,
    by: str,
    sort: str | None,
    desc: bool,
    limit: int,
    fmt: str,
    reveal: bool = False,
    source: str | None = None,
) -> None:
    if by not in ("run", "cell"):
        error("--by is run or cell")
        raise typer.Exit(2)
    if fmt not in ("table", "json", "csv"):
        error("--format is table, json or csv")
        raise typer.Exit(2)
    allowed = RUN_COLUMNS + ("sweep_id",) if by == "run" else CELL_COLUMNS
    if sort is not None and sort not in allowed:
        error("cannot sort by ", sort)
        err.print(Text(f"  one of: {', '.join(allowed)}"))
        raise typer.Exit(2)
    store = open_store(path, source=source)
    q = Query(filter_text, sort, desc)
    try:
        if by == "run":
            table = store.runs(q, limit=limit, columns=JSON_RUN_COLUMNS)
            total = store.count(q)
        else:
            table = store.cells(q, limit=limit)
            total = store.count_cells(q)
    except FilterError as e:
        error("", str(e), reveal=True)
        err.print(Text(f"  {safe(filter_text)}"))
        err.print(Text(f"  {' ' * e.start}{'^' * max(1, e.end - e.start)}"))
        raise typer.Exit(2) from None
    rows = shown_rows(store, table, reveal, scores=by == "run" and fmt == "json")
    if fmt == "json":
        print(dumps(rows))
    elif fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=[safe(c) for c in table.column_names])
        w.writeheader()
        w.writerows({safe(k): _csv(v) for k, v in r.items()} for r in rows)
        print(buf.getvalue(), end="")
    else:
        cols = (
            [
                c
                for c in TABLE_COLUMNS
                if c in table.column_names
                and (c in ALWAYS or any(r.get(c) is not None for r in rows))
            ]
            if by == "run"
            else table.column_names
        )
        out.print(_table(rows, cols))
        err.print(f"{len(rows)} shown of {total} {by}s")
    raise typer.Exit(1 if report_problems(store, reveal=reveal) else 0)


def shown_rows(store: Store, table: pa.Table, reveal: bool, scores: bool) -> list[dict[str, Any]]:
    """Rows as ``ls`` prints them: masked unless revealed, non-finite numbers as null, and with
    ``scores`` each run's score keys by axis (the json form)."""
    rows: list[dict[str, Any]] = table.to_pylist()
    if scores:
        every = store.score_map([r["cell_id"] for r in rows])
        for r in rows:
            r["scores"] = every.get(r["cell_id"], {})
    return [finite(r if reveal else mask(r)) for r in rows]


def _csv(v: Any) -> Any:
    """A CSV field: text with its control characters replaced (every other value as is)."""
    if isinstance(v, str):
        return safe(v)
    if isinstance(v, (dict, list)):
        return safe(json.dumps(v, allow_nan=False))
    return v


def _cell(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.3f}"
    return safe(str(v))


def _table(rows: list[dict[str, Any]], columns: list[str]) -> Table:
    t = Table(show_lines=False, header_style="bold")
    for c in columns:
        t.add_column(Text(safe(c)), overflow="fold")
    for r in rows:
        t.add_row(*(Text(_cell(r[c])) for c in columns))
    return t


def show(path: Path, cell_id: str, fmt: str, reveal: bool) -> None:
    if fmt not in ("text", "json"):
        error("--format is text or json")
        raise typer.Exit(2)
    store = open_store(path)
    found = store.find(cell_id)
    if len(found) != 1:
        error(("no run" if not found else f"{len(found)} runs") + " match ", cell_id, reveal)
        for f in found[:10]:
            err.print(Text("  " + shown(f, reveal)))
        raise typer.Exit(1)
    cid = found[0]
    run = store.run(cid) or {}
    scores = store.scores(cid)
    spans = store.spans(cid)
    calls = store.model_calls(cid)
    rec = store.recording(cid)
    related = store.related(cid)

    def hide(v: Any, name: str = "") -> Any:
        return v if reveal else mask(v, name)

    if fmt == "json":
        doc = {
            "run": hide(run),
            "scores": [{"axis": a, "key": k, "value": hide(v, k)} for a, k, v in scores],
            "spans": hide(spans),
            "model_calls": hide(calls),
            "recording": None if rec is None else hide(finite(rec)),
            "related": hide(related),
        }
        print(dumps(doc))
        raise typer.Exit(0)
    _show_text(hide(run), scores, hide(spans), rec, hide(related), reveal)
    raise typer.Exit(0)


def _show_text(run: dict[str, Any], scores: list[tuple[str, str, Any]], spans: list[dict[str, Any]],
               rec: dict[str, Any] | None, related: dict[str, list[str]], reveal: bool) -> None:  # fmt: skip
    """One run as text. ``run``, ``spans`` and ``related`` come masked (unless revealed); every
    string goes out as rich Text, made safe."""

    def s(v: Any) -> str:
        return shown(v, reveal=True)  # already masked; only made safe here

    out.print(Text(s(run["cell_id"]), style="bold"))
    if run.get("note"):
        out.print(Text.assemble((" note ", "black on yellow"), " ", s(run["note"])))
    ident = Table.grid(padding=(0, 2))
    cab = run.get("source") in (None, "cab")
    for k in ("source", "sweep_id", "tui", "agent_version", "model", "task_id", "task_version",
              "family", "run", "status", "container_image", "image_digest", "exit_code",
              "grader_exit_code", "started_at", "ended_at", "duration_ms", "prompt_tokens",
              "completion_tokens", "cache_tokens", "tokens_source", "cost_usd"):  # fmt: skip
        if cab or run.get(k) is not None:  # other sources: only what they carry
            ident.add_row(k, Text(_cell(run.get(k))))
    out.print(ident)
    if cab:
        line = Text(
            f"composite {_cell(run.get('composite'))} "
            f"(recorded {_cell(run.get('composite_recorded'))})"
        )
        if run.get("composite_mismatch"):
            line.append(" ≠ recorded", style="red")
        out.print(line)
    t = Table("axis", "key", "value", header_style="bold")
    for axis, key, value in scores:
        if key in ("stdout_tail", "stderr_tail") or (not cab and value is None):
            continue
        value = value if reveal else mask(value, key)
        text = (
            json.dumps(finite(value), allow_nan=False)
            if isinstance(value, (dict, list))
            else _cell(value)
        )
        t.add_row(Text(s(axis)), Text(s(key)), Text(safe(text)))
    out.print(t)
    for key in ("stdout_tail", "stderr_tail"):
        out.print(Text(key, style="bold"))
        raw = run.get(key)  # masked before and after the terminal engine renders it
        out.print(mask_rich(tail_text(raw), reveal))
    out.print(Text(f"spans ({len(spans)})", style="bold"))
    for sp in spans[:200]:
        out.print(
            Text(
                s(
                    f"  {_cell(sp['start_ms']):>10} ms  +{_cell(sp['duration_ms'])} ms  "
                    f"{sp['kind']}  {sp['name']}"
                )
            )
        )
    if rec:
        out.print(
            Text(
                f"recording: {shown(rec['path'], reveal)} ({rec['cols']}x{rec['rows']}, "
                f"{_cell(rec['duration'])} s)"
            )
        )
    for group, ids in related.items():
        out.print(Text.assemble((s(group), "bold"), f": {len(ids)}"))
        for i in ids[:10]:
            out.print(Text(f"  {s(i)}"))
    out.print(Text(f"rerun: cab-tui replay {s(run.get('sweep_dir', '.'))} {s(run['cell_id'])}"))


def synth(out_dir: Path, runs: int, seed: int, spans: int | None, per_run: bool) -> None:
    from cabtui.sweep.synth import synth_sweep

    if runs < 1:
        error("--runs must be 1 or more")
        raise typer.Exit(2)
    stats = synth_sweep(out_dir, runs, seed=seed, spans_per_run=spans, per_run_files=per_run)
    out.print(
        Text(
            f"wrote {safe(str(out_dir))}: {stats.runs} runs in {stats.cells} cells, "
            f"{stats.spans} spans, {stats.model_calls} model calls, {stats.bytes / 1e6:.1f} MB"
        )
    )
