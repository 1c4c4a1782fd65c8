"""The ATIF trajectories of Harbor trials read by DuckDB: the steps, model calls and tool calls
of a plain trajectory made in SQL, as cabtui.sources.atif makes them in Python, and written as
the Parquet files of an imported sweep (cabtui.sources.out). No Textual here.

A large job holds hundreds of thousands of steps; a Python walk spends tens of microseconds on
each. A trajectory is plain when SQL can give it exactly what the walk would: UTF-8 JSON that
DuckDB reads, of ATIF v1, no continuation and no sub-agent, every step an object with a text
source, an integer step_id and a timestamp with its zone, text messages and observations, tool
calls that are objects with distinct text ids, and arguments small enough for a row. Any other
trajectory is left to the walk, which says what it finds wrong.

Where DuckDB's JSON reader and Python's differ, so do the two readings: of an object's keys
written twice, DuckDB takes the first and Python the last; DuckDB also reads a comma before a
closing bracket, lower-case nan and inf, and nesting deeper than Python's recursion allows,
which the walk refuses as malformed. No harness writes such files.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from cabtui.sources import atif_queries as q
from cabtui.sources.common import MAX_FILE_BYTES, When

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)


@dataclass
class Pending:
    """A trial's trajectory to be read: where its spans go, and what its walk would know."""

    cell_id: str
    path: Path
    origin: str  # the trial's result.json, as problems name it
    parent: str  # the span its steps hang under
    start_ms: float  # the agent's start, on the run's clock
    t0: When  # the run's start
    latencies: list[float]  # api_request_times_msec, in order
    span_base: int  # spans of the run written before its steps
    call_base: int  # model calls of the run written before


_GLOB = frozenset("*?[]{}")  # a path holding these would be read by DuckDB as a pattern


def _pending_table(pending: list[Pending]) -> pa.Table:
    def us(w: When) -> int:
        return (w.at - _EPOCH) // _US

    return pa.table(
        {
            "i": pa.array(range(len(pending)), pa.int64()),
            "path": [str(p.path) for p in pending],
            "cell_id": [p.cell_id for p in pending],
            "parent": [p.parent for p in pending],
            "prefix": [f"{p.parent}/{p.path.name}:" for p in pending],
            "start_ms": pa.array([p.start_ms for p in pending], pa.float64()),
            "t0_us": pa.array([us(p.t0) for p in pending], pa.int64()),
            "t0_s": pa.array([p.t0.at.timestamp() for p in pending], pa.float64()),
            # (a latency that is not a number is none: -1)
            "lat": pa.array(
                [[x if x == x else -1.0 for x in p.latencies] for p in pending],
                pa.list_(pa.float64()),
            ),
            "span_base": pa.array([p.span_base for p in pending], pa.int64()),
            "call_base": pa.array([p.call_base for p in pending], pa.int64()),
        }
    )


def _run(
    con: duckdb.DuckDBPyConnection, script: str, params: dict[str, object] | None = None
) -> None:
    """Each statement of ``script`` in turn (a statement given parameters must be alone)."""
    for statement in script.split(";\n"):
        if statement.strip():
            con.execute(
                statement, {k: v for k, v in (params or {}).items() if f"${k}" in statement}
            )


BATCH = 1000  # trajectories read at a time, at most
BATCH_BYTES = 64 * 2**20  # and of about this much JSON (real ones run to hundreds of KB each)


def _batches(sized: list[tuple[Pending, int]]) -> list[list[Pending]]:
    """Trajectories (with their files' sizes) cut in batches of BATCH of them or BATCH_BYTES
    of files, in order."""
    batches: list[list[Pending]] = [[]]
    size = 0
    for p, n in sized:
        if batches[-1] and (len(batches[-1]) >= BATCH or size + n > BATCH_BYTES):
            batches.append([])
            size = 0
        batches[-1].append(p)
        size += n
    return [b for b in batches if b]


def read_plain(
    pending: list[Pending], folder: Path, threads: int | None = None
) -> tuple[dict[str, list[Path]], list[Pending]]:
    """The spans and model calls of the plain trajectories among ``pending``, written as
    Parquet files in ``folder`` (by the sweep file they stand for); and the trajectories that
    are not plain, for the walk (``threads``: DuckDB's, where others share the cores). The
    batches share a connection (its memory is not asked of the system again for each)."""
    files: dict[str, list[Path]] = {"spans.jsonl": [], "model_calls.jsonl": []}
    sizes = [_size(p) for p in pending]
    rest = [p for p, n in zip(pending, sizes) if n is None]
    sized = [(p, n) for p, n in zip(pending, sizes) if n is not None]
    con: duckdb.DuckDBPyConnection | None = None
    try:
        for k, batch in enumerate(_batches(sized)):
            spans, calls = folder / f"atif-spans-{k}.parquet", folder / f"atif-calls-{k}.parquet"
            try:
                spans.parent.mkdir(parents=True, exist_ok=True)
                con = con or _connect(threads)
                rest += _read_batch(con, batch, spans, calls)
            except Exception:  # DuckDB's, Arrow's or the disk's: every one of them to the walk
                if con is not None:
                    con.close()  # (not to be trusted again)
                con = None
                for f in (spans, calls):
                    with contextlib.suppress(OSError):
                        f.unlink(missing_ok=True)
                rest += batch
                continue
            files["spans.jsonl"].append(spans)
            files["model_calls.jsonl"].append(calls)
    finally:
        if con is not None:
            con.close()
    return files, rest


def _size(p: Pending) -> int | None:
    """The size of the trajectory's file, where DuckDB is to be given it: a path it takes as it
    is (no pattern characters, UTF-8) to a file the walk would read (not too large); else None
    (the walk reads it, and says what is wrong)."""
    text = str(p.path)
    try:
        text.encode()
        size = p.path.stat().st_size
    except (UnicodeError, OSError):
        return None
    return None if _GLOB.intersection(text) or size > MAX_FILE_BYTES else size


def _connect(threads: int | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        _run(con, q.MACROS)
    except duckdb.Error:
        con.close()
        raise
    return con


_TABLES = ("pending", "steps", "tools", "results", "bad", "plain", "placed")


def _read_batch(
    con: duckdb.DuckDBPyConnection, pending: list[Pending], spans: Path, calls: Path
) -> list[Pending]:
    """Write the spans and model calls of the plain trajectories among ``pending``; those that
    are not plain. The batch's tables are dropped after."""
    con.register("pending_in", _pending_table(pending))
    try:
        con.execute("CREATE TEMP TABLE pending AS SELECT * FROM pending_in")
        _run(con, q.READ, {"paths": [str(p.path) for p in pending]})
        con.execute(q.PLACE)
        con.execute(q.SPANS.replace("{spans}", str(spans).replace("'", "''")))
        con.execute(q.CALLS.replace("{calls}", str(calls).replace("'", "''")))
        done = {row[0] for row in con.execute("SELECT i FROM plain").fetchall()}
    finally:
        con.unregister("pending_in")
        for table in _TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    return [p for k, p in enumerate(pending) if k not in done]
