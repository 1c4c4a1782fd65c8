"""The SQL that makes a plain ATIF trajectory's steps, model calls and tool calls
(cabtui.sources.atif_sql runs it), as cabtui.sources.atif makes them in Python. No Textual here.

Over a table ``pending`` (a row per trajectory: its path, run and place), READ reads the files
into ``steps``, ``tools`` and ``results`` and says which trajectories are ``plain``; PLACE gives
each step its time, ordinal and latency (``placed``); SPANS and CALLS write the rows as Parquet
(their ``{spans}`` and ``{calls}`` are the files). MACROS are the functions they use.
"""

from __future__ import annotations

from cabtui.sources.common import TEXT_CHARS
from cabtui.sweep.lines import MAX_DEPTH, MAX_KEYS, MAX_LINE_BYTES

_WHITESPACE = "".join(c for c in map(chr, range(0x3001)) if c.isspace())  # what str.strip strips

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

MACROS = f"""
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
READ = f"""
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
    epoch_us(TRY_CAST(str(s.timestamp) AS TIMESTAMPTZ)) AS ts_us,
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
    OR ts_us IS NULL
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
WHERE abs(ts_us - t0_us) >= 9007199254740992;

CREATE TEMP TABLE plain AS SELECT DISTINCT i FROM steps EXCEPT SELECT i FROM bad;
"""

# Each step of a plain trajectory with its place: its time (never before the one before it),
# its agent-step ordinal, its model call's latency and the spans written before it.
PLACE = f"""
CREATE TEMP TABLE placed AS
WITH s AS (
    SELECT s.*, p.cell_id, p.parent, p.prefix, p.start_ms, p.t0_s, p.lat, p.span_base,
        p.call_base,
        (s.ts_us - p.t0_us)::DOUBLE / 1000000.0 * 1000.0
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

SPANS = """
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
CALLS = """
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
