"""The store's tables: their DDL, and the SQL that fills them from the raw reads of a sweep."""

from __future__ import annotations

import dataclasses
import json

import duckdb

from cabtui.scoring import Weights
from cabtui.store.orphans import orphan_problems
from cabtui.store.schema import AXES, KEYS, lit, q
from cabtui.store.tails import FileState
from cabtui.sweep.layout import Sweep
from cabtui.sweep.problems import Problem

SCHEMA_VERSION = "7"

_RUNS_STAGE = ",\n".join(
    [
        "cell_id VARCHAR, cell VARCHAR, sweep_id VARCHAR, tui VARCHAR, model VARCHAR",
        "task_id VARCHAR, family VARCHAR, run INTEGER, sweep_dir VARCHAR",
        "source_file VARCHAR, source_row BIGINT, source_order INTEGER",
        *(f"{q(k.column)} {k.type}" for k in KEYS),
        "extra JSON",
    ]
)

# Derived columns of the runs table, filled once every run, span and recording is read.
_DERIVED = (
    "composite DOUBLE, composite_mismatch BOOLEAN, total_tokens BIGINT, duration_ms DOUBLE, "
    "n_spans BIGINT, n_model_calls BIGINT, recording VARCHAR, has_recording BOOLEAN"
)
# A refresh stages its runs in a temporary table, then adds them to the runs table; a cold
# ingest stages them in the file itself, in the table that becomes the runs table (written once).
STAGE_DDL = f"CREATE TEMP TABLE runs_stage ({_RUNS_STAGE})"
COLD_STAGE_DDL = f"CREATE TABLE runs_stage ({_RUNS_STAGE}, {_DERIVED})"
_NAMES = tuple(c.split()[0] for c in _DERIVED.split(", "))
DDL = f"""
CREATE TABLE meta (key VARCHAR, value VARCHAR);
CREATE TABLE sweeps (sweep_dir VARCHAR, sweep_id VARCHAR, path VARCHAR, manifest JSON,
    synthetic BOOLEAN, w_pass_rate DOUBLE, w_integrity DOUBLE, w_cost DOUBLE, w_latency DOUBLE,
    w_blast_radius DOUBLE, latency_ref_ms DOUBLE);
{COLD_STAGE_DDL};
CREATE TABLE spans (cell_id VARCHAR, seq BIGINT, span_id VARCHAR, parent_id VARCHAR,
    kind VARCHAR, name VARCHAR, start_ms DOUBLE, duration_ms DOUBLE, attrs JSON, error JSON,
    source_file VARCHAR);
CREATE TABLE model_calls (cell_id VARCHAR, seq BIGINT, "timestamp" TIMESTAMPTZ,
    request_hash VARCHAR, prompt JSON, completion JSON, prompt_tokens BIGINT,
    completion_tokens BIGINT, latency_ms DOUBLE, finish_reason VARCHAR, source_file VARCHAR,
    source_row BIGINT);
CREATE TABLE recordings (cell_id VARCHAR, path VARCHAR, version INTEGER, size BIGINT,
    cols INTEGER, "rows" INTEGER, duration DOUBLE, events BIGINT, markers BIGINT,
    resizes BIGINT, problems VARCHAR[]);
CREATE TABLE problems (file VARCHAR, line BIGINT, reason VARCHAR);
CREATE TABLE counts (cell_id VARCHAR, what VARCHAR, source_file VARCHAR, n BIGINT);
CREATE TABLE run_files (rel VARCHAR, size BIGINT, mtime_ns BIGINT, sweep_dir VARCHAR,
    tui VARCHAR, model VARCHAR, task_id VARCHAR, run INTEGER);
"""
# counts: spans and model calls per run and file (what: 'spans' or 'model calls'), from which
# the runs' counts and the problems of runs unknown are derived, and which a refresh updates
# by what it adds and takes back instead of counting a million spans again.
# run_files: each file of a run folder when the cache was built or refreshed (its path from the
# opened directory, size, modification time and run), from which a refresh knows the run
# folders that changed (cabtui.store.increment_runs).

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
_JSON_COLUMNS = ("attrs", "error", "prompt", "completion")


def _fixed_read(wanted: dict[str, str], cell_id: str) -> dict[str, str]:
    """How a stream of spans or model calls is read: every column typed alike whatever the
    lines hold (text, cast once read; objects kept as JSON text), so that a run's rows never
    depend on the other lines read with them (DuckDB would otherwise type each object column as
    the union of every line's keys, and read a whole file twice to make it JSON again). Keys
    other than ``wanted`` are not read."""
    return {"cell_id": cell_id, **{k: "JSON" if k in _JSON_COLUMNS else "VARCHAR" for k in wanted}}


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
    """(tui, model, task_id, run) -> cell_id for the runs of this sweep loaded so far; only
    run folders look runs up in it, so it is empty for a sweep without any."""
    if not sweep.run_dirs:
        return {}
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
    row_base: int,
) -> None:
    cols = con.table(raw).columns
    src = lit(label) if label is not None else "NULL"
    # per-run files (label None) come in one stream: each row is numbered within its run's
    # file, so that a run's rows are numbered alike whichever other runs were read with it
    row = (
        f"rowid + {int(row_base)}"
        if label is not None
        else "row_number() OVER (PARTITION BY cell_id ORDER BY rowid) - 1"
    )
    seq_expr = f"{row} AS seq, " if seq else f"{row} AS source_row, "
    con.execute(
        f"INSERT INTO {table} BY NAME SELECT cell_id, {seq_expr}{_typed(cols, wanted)}, "
        f"{src} AS source_file FROM {raw} "
        f"WHERE cell_id IS NOT NULL AND typeof(cell_id) = 'VARCHAR'"
    )


_WANTED = {"spans.jsonl": _SPAN_COLS, "model_calls.jsonl": _CALL_COLS}
# a run's own files come in one stream whose cell_id is the stream's own (reading.concat); a
# sweep-level file's cell_id is the line's, read as JSON so that one that is not text is told
PER_RUN_READ = {name: _fixed_read(cols, "VARCHAR") for name, cols in _WANTED.items()}
SWEEP_READ = {name: _fixed_read(cols, "JSON") for name, cols in _WANTED.items()}


def load_spans(
    con: duckdb.DuckDBPyConnection, raw: str, label: str | None, row_base: int = 0
) -> None:
    """Spans, ``seq`` their row in the stream (``row_base``: rows of the file before a tail)."""
    _load(con, "spans", raw, _SPAN_COLS, label, True, row_base)


def load_calls(
    con: duckdb.DuckDBPyConnection, raw: str, label: str | None, row_base: int = 0
) -> None:
    _load(con, "model_calls", raw, _CALL_COLS, label, False, row_base)


def _runs_select(
    composite_expr: str, tolerance: float, stage_only: bool, imported: list[str]
) -> str:
    """The runs of runs_stage with their derived columns: recomputed composite, counts,
    recording path (``stage_only``: the counts of the staged runs only). The runs of the
    sweeps ``imported`` (by sweep_dir) come each from a file of its own (its source_file):
    their source_row, their row among the files written for them while staged, becomes 1."""
    only = " WHERE cell_id IN (SELECT cell_id FROM runs_stage)" if stage_only else ""
    staged = (
        "r.* EXCLUDE (source_order)"
        if stage_only
        else f"r.* EXCLUDE (source_order, {', '.join(_NAMES)})"
    )
    if imported:
        row = f"CASE WHEN r.sweep_dir IN ({', '.join(lit(s) for s in imported)}) THEN 1 ELSE r.source_row END"
        staged += f" REPLACE ({row} AS source_row)"
    return f"""WITH c AS (SELECT {staged}, {composite_expr} AS composite
            FROM runs_stage r)
        SELECT c.*,
            abs(c.composite - c.composite_recorded) > {tolerance!r} AS composite_mismatch,
            c.prompt_tokens + c.completion_tokens AS total_tokens,
            CASE WHEN c.ended_at >= c.started_at
                THEN (epoch_ms(c.ended_at) - epoch_ms(c.started_at))::DOUBLE END AS duration_ms,
            coalesce(k.s, 0) AS n_spans, coalesce(k.m, 0) AS n_model_calls,
            rec.path AS recording, rec.path IS NOT NULL AS has_recording
        FROM c
        LEFT JOIN ({_PER_RUN}{only} GROUP BY cell_id) k USING (cell_id)
        LEFT JOIN recordings rec USING (cell_id)"""


_PER_RUN = (
    "SELECT cell_id, CAST(sum(n) FILTER (WHERE what = 'spans') AS BIGINT) AS s, "
    "CAST(sum(n) FILTER (WHERE what = 'model calls') AS BIGINT) AS m FROM counts"
)


def count(con: duckdb.DuckDBPyConnection) -> None:
    """Count the spans and model calls of each run and file (a cold ingest)."""
    con.execute(
        "INSERT INTO counts SELECT cell_id, 'spans', source_file, count(*) FROM spans GROUP BY ALL "
        "UNION ALL SELECT cell_id, 'model calls', source_file, count(*) FROM model_calls "
        "GROUP BY ALL"
    )


DELTA_DDL = "CREATE TEMP TABLE delta (cell_id VARCHAR, what VARCHAR, source_file VARCHAR, n BIGINT)"


def add_counts(con: duckdb.DuckDBPyConnection) -> None:
    """Add to counts the temp table delta (cell_id, what, source_file, rows added or, negative,
    taken back; source_file NULL for a run's own files)."""
    con.execute(
        "CREATE OR REPLACE TEMP TABLE delta AS SELECT cell_id, what, source_file, "
        "CAST(sum(n) AS BIGINT) AS n FROM delta GROUP BY ALL"
    )
    same = (
        "c.cell_id = d.cell_id AND c.what = d.what "
        "AND c.source_file IS NOT DISTINCT FROM d.source_file"
    )
    con.execute(
        "UPDATE counts SET n = counts.n + d.n FROM delta d WHERE counts.cell_id = d.cell_id "
        "AND counts.what = d.what AND counts.source_file IS NOT DISTINCT FROM d.source_file"
    )
    con.execute(
        f"INSERT INTO counts SELECT d.* FROM delta d WHERE NOT EXISTS "
        f"(SELECT 1 FROM counts c WHERE {same})"
    )
    if con.execute("SELECT count(*) FROM delta WHERE n < 0").fetchall()[0][0]:
        con.execute("DELETE FROM counts WHERE n = 0")


def finish(
    con: duckdb.DuckDBPyConnection, composite_expr: str, tolerance: float, imported: list[str]
) -> None:
    """Make the runs staged by a cold ingest the runs table, with their derived columns (only
    those are written again), and the views over it (``imported``: see _runs_select)."""
    count(con)
    con.execute(
        f"UPDATE runs_stage SET source = coalesce(runs_stage.source, 'cab'), "
        f"{', '.join(f'{c} = d.{c}' for c in (*_NAMES, 'source_row'))} "
        f"FROM ({_runs_select(composite_expr, tolerance, False, imported)}) d "
        "WHERE runs_stage.cell_id = d.cell_id"
    )
    con.execute("ALTER TABLE runs_stage DROP COLUMN source_order")
    con.execute("ALTER TABLE runs_stage RENAME TO runs")
    orphan_problems(con)
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


def append_runs(
    con: duckdb.DuckDBPyConnection, composite_expr: str, tolerance: float, imported: list[str]
) -> None:
    """Add the runs of runs_stage to the runs table (a refresh; ``imported``: see
    _runs_select)."""
    sql = _runs_select(composite_expr, tolerance, True, imported)
    con.execute(f"INSERT INTO runs BY NAME {sql}")


def recount(con: duckdb.DuckDBPyConnection, cell_ids: list[str]) -> None:
    """Set again the counts of spans and model calls of the runs ``cell_ids`` (a refresh)."""
    if not cell_ids:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE touched AS SELECT unnest(?::VARCHAR[]) AS cell_id",
                [sorted(set(cell_ids))])  # fmt: skip
    con.execute(
        f"""UPDATE runs SET n_spans = k.s, n_model_calls = k.m FROM (
              SELECT t.cell_id, coalesce(c.s, 0) AS s, coalesce(c.m, 0) AS m FROM touched t
              LEFT JOIN ({_PER_RUN} WHERE cell_id IN (SELECT cell_id FROM touched)
                  GROUP BY cell_id) c USING (cell_id)) k
            WHERE runs.cell_id = k.cell_id
              AND (runs.n_spans <> k.s OR runs.n_model_calls <> k.m)"""
    )


def rerecord(con: duckdb.DuckDBPyConnection, cell_ids: list[str]) -> None:
    """Set again the recording of the runs ``cell_ids`` from the recordings table (a refresh
    of their run folders)."""
    con.execute(
        "UPDATE runs SET recording = k.path, has_recording = k.path IS NOT NULL FROM ("
        "SELECT t.cell_id, rec.path FROM (SELECT unnest(?::VARCHAR[]) AS cell_id) t "
        "LEFT JOIN recordings rec USING (cell_id)) k WHERE runs.cell_id = k.cell_id",
        [sorted(set(cell_ids))],
    )


def files_json(files: list[FileState]) -> str:
    """The files a refresh follows, as meta 'files' holds them."""
    return json.dumps([dataclasses.asdict(f) for f in files])


def listed_json(problems: list[Problem]) -> str:
    """The problems of listing the sweeps, as meta 'listed' holds them (in order)."""
    rows = sorted((p.file, -1 if p.line is None else p.line, p.reason) for p in problems)
    return json.dumps(rows)


def files_of(text: str | None) -> list[FileState]:
    out = []
    for row in json.loads(text or "[]"):
        types = row.pop("types")
        out.append(FileState(**row, types=None if types is None else [tuple(t) for t in types]))
    return out


def add_problems(con: duckdb.DuckDBPyConnection, problems: list[Problem]) -> None:
    if problems:
        con.executemany(
            "INSERT INTO problems VALUES (?, ?, ?)", [(p.file, p.line, p.reason) for p in problems]
        )
