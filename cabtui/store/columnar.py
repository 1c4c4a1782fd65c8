"""The spans and model calls of an imported sweep: the Parquet files its importer wrote
(cabtui.sources.out) with the tables' own columns, inserted as they are."""

from __future__ import annotations

from pathlib import Path

import duckdb

# The Parquet files of an imported sweep (cabtui.sources.out) hold the table's columns, typed
# and checked as they were written; numbers that are whole in the table are cast as a JSON line's
# text is, and JSON text is made JSON.
_COLUMNAR = {
    "spans.jsonl": (
        "spans",
        "cell_id, seq, span_id, parent_id, kind, name, start_ms, duration_ms, "
        "attrs::JSON AS attrs, error::JSON AS error, NULL AS source_file",
    ),
    "model_calls.jsonl": (
        "model_calls",
        "cell_id, TRY_CAST(seq AS BIGINT) AS seq, "
        'coalesce(TRY_CAST("timestamp" AS TIMESTAMPTZ), CASE WHEN at_s BETWEEN -62135596800 '
        "AND 253402300799 THEN make_timestamptz(round(at_s * 1e6)::BIGINT) END) "
        'AS "timestamp", '
        "request_hash, prompt::JSON AS prompt, completion::JSON AS completion, "
        "TRY_CAST(prompt_tokens AS BIGINT) AS prompt_tokens, "
        "TRY_CAST(completion_tokens AS BIGINT) AS completion_tokens, latency_ms, finish_reason, "
        "NULL AS source_file, source_row",
    ),
}


def load_columnar(con: duckdb.DuckDBPyConnection, artefact: str, files: list[Path]) -> bool:
    """The spans or model calls of an imported sweep, from its Parquet files; their cell_ids
    are left in raw (for a refresh's counts). Whether any row was read."""
    table, select = _COLUMNAR[artefact]
    paths = [str(f) for f in files]
    con.execute("DROP TABLE IF EXISTS raw")
    if not paths:
        con.execute("CREATE TEMP TABLE raw (cell_id VARCHAR)")
        return False
    some = "FROM read_parquet(?) WHERE cell_id IS NOT NULL"
    con.execute(f"INSERT INTO {table} BY NAME SELECT {select} {some}", [paths])
    con.execute(f"CREATE TEMP TABLE raw AS SELECT cell_id {some}", [paths])
    return bool(con.execute("SELECT count(*) FROM raw").fetchall()[0][0])
