"""The store's tables: their DDL, and the SQL that fills them from the raw reads of a sweep."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from cabtui.scoring import Weights
from cabtui.store.schema import AXES, KEYS, lit, q
from cabtui.sweep.asciicast import CastError
from cabtui.sweep.cast_reader import read_cast
from cabtui.sweep.layout import Sweep
from cabtui.sweep.problems import Problem

SCHEMA_VERSION = "4"

_RUNS_STAGE = ",\n".join(
    [
        "cell_id VARCHAR, cell VARCHAR, sweep_id VARCHAR, tui VARCHAR, model VARCHAR",
        "task_id VARCHAR, family VARCHAR, run INTEGER, sweep_dir VARCHAR",
        "source_file VARCHAR, source_row BIGINT, source_order INTEGER",
        *(f"{q(k.column)} {k.type}" for k in KEYS),
        "extra JSON",
    ]
)

DDL = f"""
CREATE TABLE meta (key VARCHAR, value VARCHAR);
CREATE TABLE sweeps (sweep_dir VARCHAR, sweep_id VARCHAR, path VARCHAR, manifest JSON,
    synthetic BOOLEAN, w_pass_rate DOUBLE, w_integrity DOUBLE, w_cost DOUBLE, w_latency DOUBLE,
    w_blast_radius DOUBLE, latency_ref_ms DOUBLE);
CREATE TEMP TABLE runs_stage ({_RUNS_STAGE});
CREATE TABLE spans (cell_id VARCHAR, seq BIGINT, span_id VARCHAR, parent_id VARCHAR,
    kind VARCHAR, name VARCHAR, start_ms DOUBLE, duration_ms DOUBLE, attrs JSON, error JSON,
    source_file VARCHAR);
CREATE TABLE model_calls (cell_id VARCHAR, seq BIGINT, "timestamp" TIMESTAMPTZ,
    request_hash VARCHAR, prompt JSON, completion JSON, prompt_tokens BIGINT,
    completion_tokens BIGINT, latency_ms DOUBLE, finish_reason VARCHAR, source_file VARCHAR);
CREATE TABLE recordings (cell_id VARCHAR, path VARCHAR, version INTEGER, size BIGINT,
    cols INTEGER, "rows" INTEGER, duration DOUBLE, events BIGINT, markers BIGINT,
    resizes BIGINT, problems VARCHAR[]);
CREATE TABLE problems (file VARCHAR, line BIGINT, reason VARCHAR);
"""

_SPAN_COLS = {
    "span_id": "VARCHAR",
    "parent_id": "VARCHAR",
    "kind": "VARCHAR",
    "name": "VARCHAR",
    "start_ms": "DOUBLE",
    "duration_ms": "DOUBLE",
    "attrs": "JSON",
    "error": "JSON",
}
_CALL_COLS = {
    "seq": "BIGINT",
    "timestamp": "TIMESTAMPTZ",
    "request_hash": "VARCHAR",
    "prompt": "JSON",
    "completion": "JSON",
    "prompt_tokens": "BIGINT",
    "completion_tokens": "BIGINT",
    "latency_ms": "DOUBLE",
    "finish_reason": "VARCHAR",
}


def create(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(DDL)
    con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])


def add_sweep(con: duckdb.DuckDBPyConnection, sweep: Sweep, label: str) -> None:
    w = Weights.from_manifest(sweep.manifest)
    con.execute(
        "INSERT INTO sweeps VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            sweep.name,
            sweep.sweep_id,
            label,
            json.dumps(sweep.manifest) if sweep.manifest is not None else None,
            bool((sweep.manifest or {}).get("synthetic")),
            w.pass_rate,
            w.integrity,
            w.cost,
            w.latency,
            w.blast_radius,
            w.latency_ref_ms,
        ],
    )


def run_dirs(con: duckdb.DuckDBPyConnection, sweep: Sweep) -> dict[tuple[str, str, str, int], str]:
    """(tui, model, task_id, run) -> cell_id for the runs of this sweep loaded so far."""
    rows = con.execute(
        "SELECT tui, model, task_id, run, cell_id FROM runs_stage WHERE sweep_dir = ?",
        [sweep.name],
    ).fetchall()
    return {(t, m, k, r): c for t, m, k, r, c in rows}


def _typed(cols: list[str], wanted: dict[str, str]) -> str:
    out = []
    for name, typ in wanted.items():
        if name not in cols:
            out.append(f"CAST(NULL AS {typ}) AS {q(name)}")
        elif typ == "JSON":
            out.append(f"to_json({q(name)}) AS {q(name)}")
        elif typ == "VARCHAR":
            out.append(
                f"CASE WHEN typeof({q(name)}) = 'JSON' THEN json_extract_string({q(name)}, '$') "
                f"ELSE CAST({q(name)} AS VARCHAR) END AS {q(name)}"
            )
        else:
            out.append(f"TRY_CAST({q(name)} AS {typ}) AS {q(name)}")
    return ", ".join(out)


def _load(
    con: duckdb.DuckDBPyConnection,
    table: str,
    raw: str,
    wanted: dict[str, str],
    label: str | None,
    seq: bool,
) -> None:
    cols = con.table(raw).columns
    src = lit(label) if label is not None else "NULL"
    seq_expr = "rowid AS seq, " if seq else ""
    con.execute(
        f"INSERT INTO {table} BY NAME SELECT cell_id, {seq_expr}{_typed(cols, wanted)}, "
        f"{src} AS source_file FROM {raw} "
        f"WHERE cell_id IS NOT NULL AND typeof(cell_id) = 'VARCHAR'"
    )


def load_spans(con: duckdb.DuckDBPyConnection, raw: str, label: str | None) -> None:
    _load(con, "spans", raw, _SPAN_COLS, label, seq=True)


def load_calls(con: duckdb.DuckDBPyConnection, raw: str, label: str | None) -> None:
    _load(con, "model_calls", raw, _CALL_COLS, label, seq=False)


def index_recordings(
    con: duckdb.DuckDBPyConnection,
    sweep: Sweep,
    cell_of: dict[tuple[str, str, str, int], str],
    problem: Callable[[str, int | None, str], None],
    label: Callable[[Path], str],
) -> None:
    """Header and a scan of each recording: size, terminal size, duration, events, markers."""
    rows: list[tuple[Any, ...]] = []
    for rd in sweep.run_dirs:
        name = "recording.cast" if "recording.cast" in rd.files else "recording.cast.gz"
        if name not in rd.files or rd.key not in cell_of:
            continue
        path = sweep.path / rd.files[name]
        shown = label(path)
        try:
            rec = read_cast(path)
        except (CastError, OSError) as e:
            problem(shown, None, f"recording unreadable: {e}")
            rows.append(
                (
                    cell_of[rd.key],
                    shown,
                    None,
                    path.stat().st_size,
                    None,
                    None,
                    None,
                    0,
                    0,
                    0,
                    [str(e)],
                )
            )
            continue
        for p in rec.problems:  # "<path>: line <N>: <reason>" -> file, line, reason
            text = p.removeprefix(f"{path}: ")
            m = re.match(r"line (\d+): ", text)
            problem(shown, int(m.group(1)) if m else None, text[m.end() :] if m else text)
        codes = [e.code for e in rec.events]
        rows.append(
            (
                cell_of[rd.key],
                shown,
                rec.version,
                path.stat().st_size,
                rec.cols,
                rec.rows,
                rec.duration,
                len(codes),
                codes.count("m"),
                codes.count("r"),
                list(rec.problems),
            )
        )
    if rows:
        con.executemany("INSERT INTO recordings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    orphans = [rd for rd in sweep.run_dirs if rd.key not in cell_of]
    for rd in orphans:
        problem(
            f"{label(sweep.path / rd.rel)}", None, "run directory without a run record; ignored"
        )


def finish(con: duckdb.DuckDBPyConnection, composite_expr: str, tolerance: float) -> None:
    """Build the final runs table: recomputed composite, counts, recording path."""
    con.execute(
        f"""CREATE TABLE runs AS
        WITH c AS (SELECT r.* EXCLUDE (source_order), {composite_expr} AS composite FROM runs_stage r)
        SELECT c.*,
            abs(c.composite - c.composite_recorded) > {tolerance!r} AS composite_mismatch,
            c.prompt_tokens + c.completion_tokens AS total_tokens,
            CASE WHEN c.ended_at >= c.started_at
                THEN (epoch_ms(c.ended_at) - epoch_ms(c.started_at))::DOUBLE END AS duration_ms,
            coalesce(s.n, 0) AS n_spans, coalesce(m.n, 0) AS n_model_calls,
            rec.path AS recording, rec.path IS NOT NULL AS has_recording
        FROM c
        LEFT JOIN (SELECT cell_id, count(*) AS n FROM spans GROUP BY cell_id) s USING (cell_id)
        LEFT JOIN (SELECT cell_id, count(*) AS n FROM model_calls GROUP BY cell_id) m USING (cell_id)
        LEFT JOIN recordings rec USING (cell_id)
        ORDER BY c.sweep_dir, c.tui, c.model, c.task_id, c.run"""
    )
    unknown = con.execute(
        """SELECT t, source_file, count(*) FROM (
             SELECT 'spans' AS t, cell_id, source_file FROM spans
             UNION ALL SELECT 'model calls', cell_id, source_file FROM model_calls)
           WHERE cell_id NOT IN (SELECT cell_id FROM runs) GROUP BY ALL"""
    ).fetchall()
    for what, file, n in unknown:
        con.execute(
            "INSERT INTO problems VALUES (?, NULL, ?)",
            [file or "runs/", f"{n} {what} for cell_ids with no run record; kept but not shown"],
        )
    con.execute(scores_view_sql())


def scores_view_sql() -> str:
    """The long-form scores view over the runs table: one row per run, axis and key."""
    return "CREATE VIEW scores AS " + scores_sql()


def scores_sql(runs: str = "runs") -> str:
    """The SELECT of the scores view over ``runs`` (a table, or a subquery aliased ``runs``)."""
    return (
        " UNION ALL ".join(
            f"SELECT cell_id, {lit(k.axis)} AS axis, {lit(k.path[-1])} AS key, "
            f"to_json({q(k.column)}) AS value FROM {runs}"
            for k in KEYS
            if k.axis in AXES
        )
        + " UNION ALL SELECT cell_id, split_part(e.key, '.', 2) AS axis, "
        f"string_split(e.key, '.')[-1] AS key, e.value FROM {runs}, "
        "json_each(runs.extra) AS e WHERE runs.extra IS NOT NULL AND e.key LIKE 'scores.%'"
    )


def add_problems(con: duckdb.DuckDBPyConnection, problems: list[Problem]) -> None:
    if problems:
        con.executemany(
            "INSERT INTO problems VALUES (?, ?, ?)", [(p.file, p.line, p.reason) for p in problems]
        )
