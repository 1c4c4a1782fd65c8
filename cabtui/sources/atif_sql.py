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

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from cabtui.sources.common import MAX_FILE_BYTES, TEXT_CHARS, When
from cabtui.sweep.lines import MAX_DEPTH, MAX_KEYS, MAX_LINE_BYTES

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


_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())  # what str.strip strips
_GLOB = frozenset("*?[]{}")  # a path holding these would be read by DuckDB as a pattern

_DOC = (
    '{"schema_version":"JSON","continued_trajectory_ref":"JSON","subagent_trajectories":"JSON",'
    '"steps":[{"step_id":"JSON","timestamp":"JSON","source":"JSON","message":"JSON",'
    '"reasoning_content":"JSON","model_name":"JSON","tool_calls":"JSON",'
    '"is_copied_context":"JSON","observation":{"results":"JSON"},'
    '"metrics":{"prompt_tokens":"JSON","completion_tokens":"JSON","cached_tokens":"JSON",'
    '"cost_usd":"JSON","extra":{"latency_s":"JSON"}}}]}'
)  # (an observation, its metrics or their extra that is no object reads as one holding none)
# An ISO time with its zone, as Python's fromisoformat and DuckDB's cast read it alike.
_ISO = (
    r"^[0-9]{4}-[01][0-9]-[0-3][0-9]T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)
# What may be in a step's tool calls for their arguments to fit a row (out.unfit), counted on
# their text: brackets bound the depth, colons the keys; a character takes 6 bytes at most.
_MAX_BRACKETS = MAX_DEPTH - 4
_MAX_COLONS = MAX_KEYS - 32
_MAX_CALLS_BYTES = MAX_LINE_BYTES // 8

_WS_CLASS = "".join(f"\\x{{{ord(c):x}}}" for c in _WHITESPACE)  # as a regular expression's class

_MACROS = f"""
CREATE TEMP MACRO str(j) AS CASE WHEN starts_with(j::VARCHAR, '"') THEN json_extract_string(j, '$') END;
CREATE TEMP MACRO jis(j, first) AS coalesce(j::VARCHAR, 'null') = 'null' OR starts_with(j::VARCHAR, first);
CREATE TEMP MACRO num(x) AS CASE WHEN isfinite(x) AND abs(x) < 1e15 THEN x END;
CREATE TEMP MACRO clip(t) AS CASE WHEN strlen(t) > {TEXT_CHARS} AND length(t) > {TEXT_CHARS}
    THEN left(t, {TEXT_CHARS}) || '… (' || format('{{:,}}', length(t) - {TEXT_CHARS})
         || ' more characters)' ELSE t END;
CREATE TEMP MACRO jnum(x) AS coalesce(to_json(x)::VARCHAR, 'null');
CREATE TEMP MACRO n_of(t, c) AS length(t) - length(replace(t, c, ''));
CREATE TEMP MACRO ws() AS {" || ".join(f"chr({ord(c)})" for c in _WHITESPACE)};
"""

# Each step of each trajectory, its values taken out of their JSON once; a trajectory without
# steps as one row (n_steps 0), for what is said of the whole document.
_READ = f"""
CREATE TEMP TABLE steps AS
WITH docs AS (
    SELECT p.i, from_json(b.c, '{_DOC}') AS d
    FROM (SELECT filename, try(decode(content)) AS c FROM read_blob($paths)) b
    JOIN pending p ON p.path = b.filename
    WHERE json_valid(b.c)
), raw AS (
    SELECT i, coalesce(len(d.steps), 0) AS n_steps,
        d.steps IS NULL OR NOT coalesce(starts_with(str(d.schema_version), 'ATIF-v1.'), false)
            OR coalesce(str(d.continued_trajectory_ref), '') <> ''
            OR NOT jis(d.subagent_trajectories, '[') AS doc_bad,
        unnest(CASE WHEN len(d.steps) > 0 THEN d.steps ELSE [NULL] END) AS s,
        unnest(range(greatest(coalesce(len(d.steps), 0), 1)::BIGINT)) AS n
    FROM docs
)
SELECT i, n, n_steps, doc_bad, s.step_id::VARCHAR AS step_id, str(s.timestamp) AS ts,
    coalesce(starts_with(s.source::VARCHAR, '"'), false) AS source_ok, str(s.source) AS src,
    jis(s.message, '"') AS message_ok, coalesce(str(s.message), '') AS m,
    jis(s.model_name, '"') AS model_ok, str(s.model_name) AS model,
    str(s.reasoning_content) AS reasoning,
    list_transform(
        [s.metrics.prompt_tokens, s.metrics.completion_tokens, s.metrics.cached_tokens,
         s.metrics.cost_usd, s.metrics.extra.latency_s],
        lambda x: num(TRY_CAST(x::VARCHAR AS DOUBLE))) AS metrics,
    s.tool_calls::VARCHAR AS tool_calls, s.observation.results::VARCHAR AS results
FROM raw
WHERE n_steps = 0 OR coalesce(s.is_copied_context::VARCHAR, '') <> 'true';

CREATE TEMP TABLE tools AS
SELECT i, n,
    unnest(from_json(tool_calls, '[{{"tool_call_id":"JSON","function_name":"JSON","arguments":"JSON"}}]'))
        AS c,
       unnest(range(json_array_length(tool_calls)::BIGINT)) AS k
FROM steps WHERE starts_with(tool_calls, '[');

CREATE TEMP TABLE results AS
SELECT i, n, str(r.source_call_id) AS id, str(r.content) AS content, pos,
    -- (what is no object reads as one holding none of these, and is passed over)
    jis(r.content, '"') AND jis(r.source_call_id, '"')
        AND coalesce(r.subagent_trajectory_ref::VARCHAR, 'null') IN ('null', 'false') AS ok
FROM (
    SELECT i, n, unnest(from_json(results,
        '[{{"source_call_id":"JSON","content":"JSON","subagent_trajectory_ref":"JSON"}}]')) AS r,
        unnest(range(json_array_length(results)::BIGINT)) AS pos
    FROM steps WHERE starts_with(results, '[')
);

CREATE TEMP TABLE bad AS
SELECT i FROM steps
WHERE doc_bad OR n_steps > 0 AND (
       NOT source_ok OR NOT coalesce(regexp_full_match(step_id, '-?[0-9]+'), false)
    OR NOT message_ok OR NOT model_ok OR NOT jis(tool_calls, '[') OR NOT jis(results, '[')
    OR NOT coalesce(regexp_full_match(ts, '{_ISO}'), false) OR ts[1:4] = '0000'
    OR TRY_CAST(ts AS TIMESTAMPTZ) IS NULL
    OR starts_with(tool_calls, '[') AND (
        n_of(tool_calls, '{{') + n_of(tool_calls, '[') > {_MAX_BRACKETS}
        OR n_of(tool_calls, ':') > {_MAX_COLONS} OR strlen(tool_calls) > {_MAX_CALLS_BYTES}))
UNION ALL
SELECT i FROM tools WHERE NOT coalesce(starts_with(c.tool_call_id::VARCHAR, '"'), false)
UNION ALL
SELECT i FROM tools GROUP BY i, n, str(c.tool_call_id) HAVING count(*) > 1
UNION ALL
SELECT i FROM results WHERE NOT ok
UNION ALL  -- a time more than 2^53 microseconds from the run's start: no exact double
SELECT i FROM steps JOIN pending USING (i)
WHERE abs(epoch_us(TRY_CAST(ts AS TIMESTAMPTZ)) - t0_us) >= 9007199254740992;

CREATE TEMP TABLE plain AS SELECT DISTINCT i FROM steps EXCEPT SELECT i FROM bad;
"""

# Each step of a plain trajectory with its place: its time (never before the one before it),
# its agent-step ordinal, its model call's latency and the spans written before it.
_PLACE = f"""
CREATE TEMP TABLE placed AS
WITH s AS (
    SELECT s.*, p.cell_id, p.parent, p.prefix, p.start_ms, p.t0_s, p.lat, p.span_base,
        p.call_base,
        (epoch_us(TRY_CAST(s.ts AS TIMESTAMPTZ)) - p.t0_us)::DOUBLE / 1000000.0 * 1000.0
            AS at_raw,
        src = 'agent' AS agent,
        coalesce(json_array_length(s.tool_calls), 0) AS n_tools
    FROM steps s JOIN plain USING (i) JOIN pending p USING (i)
    WHERE n_steps > 0
), w AS (
    SELECT *,
        greatest(start_ms, max(at_raw) OVER run) AS at_ms,
        coalesce(sum(agent::INT) OVER before, 0)::BIGINT AS a,
        coalesce(sum(1 + agent::INT + n_tools) OVER before, 0)::BIGINT AS spans_before,
        coalesce(greatest(start_ms, max(at_raw) OVER before), start_ms) AS prev
    FROM s
    WINDOW run AS (PARTITION BY i ORDER BY n ROWS UNBOUNDED PRECEDING),
        before AS (PARTITION BY i ORDER BY n ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
), l AS (
    SELECT *, CASE WHEN NOT agent THEN NULL
                   WHEN metrics[5] >= 0 THEN metrics[5] * 1000.0
                   WHEN a < len(lat) AND lat[a + 1] >= 0 THEN lat[a + 1] END AS latency,
        -- the first line of the message stripped (as Python's str.strip), for the name
        CASE WHEN regexp_matches(m, '^[{_WS_CLASS}]')
             THEN regexp_extract(m, '^[{_WS_CLASS}]*([^\\n]*)', 1)
             ELSE split_part(m, chr(10), 1) END AS line1,
        regexp_matches(m, '[^{_WS_CLASS}]') AS said
    FROM w
)
SELECT *, CASE WHEN latency IS NOT NULL THEN at_ms - latency ELSE prev END AS call_start,
    prefix || n AS sid,
    CASE WHEN regexp_matches(line1, '[{_WS_CLASS}]$')
              AND regexp_full_match(m, '[{_WS_CLASS}]*[^\\n]*[{_WS_CLASS}]*')
         THEN rtrim(line1, ws()) ELSE line1 END AS line
FROM l;
"""

_SPANS = """
COPY (
    SELECT cell_id, (span_base + spans_before)::BIGINT AS seq, sid AS span_id,
        parent AS parent_id, 'step' AS kind,
        src || ' step ' || step_id
            || CASE WHEN said THEN ': ' || left(line, 60)
                    || CASE WHEN length(line) > 60 THEN '…' ELSE '' END ELSE '' END AS name,
        least(prev, call_start) AS start_ms, at_ms - least(prev, call_start) AS duration_ms,
        '{"step_id":' || step_id || ',"source":' || to_json(src)::VARCHAR
            || CASE WHEN m <> '' THEN ',"message":' || to_json(clip(m))::VARCHAR ELSE '' END
            || CASE WHEN reasoning IS NOT NULL
                    THEN ',"reasoning":' || to_json(clip(reasoning))::VARCHAR ELSE '' END
            || CASE WHEN coalesce(model, '') <> ''
                    THEN ',"model":' || to_json(model)::VARCHAR ELSE '' END
            || '}' AS attrs,
        NULL::VARCHAR AS error
    FROM placed
    UNION ALL
    SELECT cell_id, (span_base + spans_before + 1)::BIGINT, sid || '/call', sid, 'model_call',
        coalesce(nullif(model, ''), 'model') || ' #' || (a + 1),
        call_start, at_ms - call_start,
        '{"seq":' || (a + 1) || ',"model":'
            || to_json(coalesce(nullif(model, ''), 'model'))::VARCHAR
            || ',"prompt_tokens":' || jnum(metrics[1])
            || ',"completion_tokens":' || jnum(metrics[2])
            || ',"cached_tokens":' || jnum(metrics[3])
            || ',"cost_usd":' || jnum(metrics[4]) || '}',
        NULL::VARCHAR
    FROM placed WHERE agent
    UNION ALL
    SELECT p.cell_id, (p.span_base + p.spans_before + 1 + p.agent::INT + t.k)::BIGINT,
        p.sid || '/t' || t.k, p.sid, 'tool_call',
        coalesce(str(t.c.function_name), 'tool'), p.at_ms, 0.0,
        '{"arguments":' || coalesce(t.c.arguments::VARCHAR, 'null')
            || CASE WHEN o.n_obs > 0 THEN ',"observation":' || to_json(clip(o.text))::VARCHAR
                    ELSE '' END || '}',
        NULL::VARCHAR
    FROM placed p JOIN tools t USING (i, n)
    LEFT JOIN (
        SELECT i, n, id, count(*) AS n_obs,
               string_agg(coalesce(content, ''), chr(10) ORDER BY pos) AS text
        FROM results WHERE id IS NOT NULL GROUP BY ALL
    ) o ON o.i = t.i AND o.n = t.n AND o.id = str(t.c.tool_call_id)
) TO '{spans}' (FORMAT parquet, COMPRESSION uncompressed);
"""

# What the agent saw before each model call: the messages of the steps since its last call
# and the observations since (an agent step's own are seen by its next call).
_CALLS = """
COPY (
    WITH seen AS (
        SELECT i, a AS seg, n, -1 AS pos, m AS text FROM placed WHERE NOT agent AND m <> ''
        UNION ALL
        SELECT r.i, p.a + p.agent::INT, r.n, r.pos, r.content
        FROM results r JOIN placed p USING (i, n)
        WHERE coalesce(r.content, '') <> ''
    ), prompts AS (
        SELECT i, seg, string_agg(text, chr(10) || chr(10) ORDER BY n, pos) AS prompt
        FROM seen GROUP BY i, seg
    )
    SELECT p.cell_id, (p.call_base + p.a)::BIGINT AS source_row, (p.a + 1)::DOUBLE AS seq,
        NULL::VARCHAR AS "timestamp", p.t0_s + p.call_start / 1000.0 AS at_s,
        NULL::VARCHAR AS request_hash, to_json(clip(q.prompt))::VARCHAR AS prompt,
        '{"message":' || to_json(clip(p.m))::VARCHAR
            || CASE WHEN p.reasoning IS NOT NULL
                    THEN ',"reasoning":' || to_json(clip(p.reasoning))::VARCHAR ELSE '' END
            || CASE WHEN json_array_length(p.tool_calls) > 0
                    THEN ',"tool_calls":' || p.tool_calls ELSE '' END
            || '}' AS completion,
        p.metrics[1] AS prompt_tokens, p.metrics[2] AS completion_tokens,
        p.latency AS latency_ms, NULL::VARCHAR AS finish_reason
    FROM placed p LEFT JOIN prompts q ON q.i = p.i AND q.seg = p.a
    WHERE p.agent
) TO '{calls}' (FORMAT parquet, COMPRESSION uncompressed);
"""


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


def _batches(pending: list[Pending]) -> list[list[Pending]]:
    """``pending`` cut in batches of BATCH trajectories or BATCH_BYTES of files, in order."""
    batches: list[list[Pending]] = [[]]
    size = 0
    for p in pending:
        try:
            n = p.path.stat().st_size
        except OSError:
            n = 0  # (gone: the walk will say so)
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
    rest = [p for p in pending if not _readable(p)]
    chosen = [p for p in pending if _readable(p)]
    con: duckdb.DuckDBPyConnection | None = None
    try:
        for k, batch in enumerate(_batches(chosen)):
            spans, calls = folder / f"atif-spans-{k}.parquet", folder / f"atif-calls-{k}.parquet"
            spans.parent.mkdir(parents=True, exist_ok=True)
            walk = None
            try:
                con = con or _connect(threads)
                walk = _read_batch(con, batch, spans, calls)
            except Exception:  # DuckDB's or Arrow's: the connection is not to be trusted again
                if con is not None:
                    con.close()
                con = None
            if walk is None:  # DuckDB failed: every one of them to the walk
                spans.unlink(missing_ok=True)
                calls.unlink(missing_ok=True)
                rest += batch
                continue
            files["spans.jsonl"].append(spans)
            files["model_calls.jsonl"].append(calls)
            rest += walk
    finally:
        if con is not None:
            con.close()
    return files, rest


def _readable(p: Pending) -> bool:
    """Whether DuckDB is to be given the trajectory: a path it takes as it is (no pattern
    characters, UTF-8) to a file the walk would read (not too large)."""
    text = str(p.path)
    try:
        text.encode()
        size = p.path.stat().st_size
    except (UnicodeError, OSError):
        return False
    return not _GLOB.intersection(text) and size <= MAX_FILE_BYTES


def _connect(threads: int | None) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"threads": threads} if threads else {})
    try:
        _run(con, _MACROS)
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
        _run(con, _READ, {"paths": [str(p.path) for p in pending]})
        con.execute(_PLACE)
        con.execute(_SPANS.replace("{spans}", str(spans).replace("'", "''")))
        con.execute(_CALLS.replace("{calls}", str(calls).replace("'", "''")))
        done = {row[0] for row in con.execute("SELECT i FROM plain").fetchall()}
    finally:
        con.unregister("pending_in")
        for table in _TABLES:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    return [p for k, p in enumerate(pending) if k not in done]
