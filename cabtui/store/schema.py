"""The runs table's typed columns, and SQL that flattens a JSON read of run records into them.

DuckDB's read_json detects each file's types. :func:`flatten_select` walks that detected type and
builds, for every known key, a typed expression: direct struct access where the type is what we
expect, a JSON path plus TRY_CAST where it is not. A value that does not fit its key's type
becomes NULL and is reported; keys we do not know are kept in ``extra``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import duckdb


@dataclass(frozen=True)
class Key:
    column: str
    path: tuple[str, ...]
    type: str  # DuckDB type of the column
    axis: str  # axis (or "run" for identity keys) in the long-form scores view


def _axis(axis: str, keys: list[tuple[str, str, str]]) -> list[Key]:
    return [Key(col, ("scores", axis, key), typ, axis) for col, key, typ in keys]


TEXT_LIST = "VARCHAR[]"
KEYS: list[Key] = [
    Key("record_sweep_id", ("sweep_id",), "VARCHAR", "run"),
    Key("container_image", ("container_image",), "VARCHAR", "run"),
    Key("image_digest", ("image_digest",), "VARCHAR", "run"),
    Key("model_build_id", ("model_build_id",), "VARCHAR", "run"),
    Key("exit_code", ("exit_code",), "BIGINT", "run"),
    Key("started_at", ("started_at",), "TIMESTAMPTZ", "run"),
    Key("ended_at", ("ended_at",), "TIMESTAMPTZ", "run"),
    Key("note", ("note",), "VARCHAR", "run"),
    Key("prompt_tokens", ("tokens", "prompt_tokens"), "BIGINT", "run"),
    Key("completion_tokens", ("tokens", "completion_tokens"), "BIGINT", "run"),
    Key("tokens_source", ("tokens", "source"), "VARCHAR", "run"),
    Key("cache_tokens", ("tokens", "cache_tokens"), "BIGINT", "run"),
    Key("source", ("source",), "VARCHAR", "run"),
    Key("status", ("status",), "VARCHAR", "run"),
    Key("agent_version", ("agent_version",), "VARCHAR", "run"),
    Key("task_version", ("task_version",), "VARCHAR", "run"),
    Key("cost_usd", ("cost_usd",), "DOUBLE", "run"),
    *_axis(
        "pass_rate",
        [
            ("pass", "pass", "DOUBLE"),
            ("grader_exit_code", "exit_code", "BIGINT"),
            ("timed_out", "timed_out", "BOOLEAN"),
            ("stdout_tail", "stdout_tail", "VARCHAR"),
            ("stderr_tail", "stderr_tail", "VARCHAR"),
            ("partial_score", "partial_score", "DOUBLE"),
        ],
    ),
    *_axis(
        "tokens",
        [
            ("scored_prompt_tokens", "prompt_tokens", "BIGINT"),
            ("scored_completion_tokens", "completion_tokens", "BIGINT"),
            ("scored_total_tokens", "total_tokens", "BIGINT"),
            ("model_calls", "model_calls", "BIGINT"),
            ("tokens_per_correct_task", "tokens_per_correct_task", "DOUBLE"),
            ("pass_used_for_division", "pass_used_for_division", "DOUBLE"),
        ],
    ),
    *_axis(
        "latency",
        [
            ("wall_clock_ms", "wall_clock_ms", "DOUBLE"),
            ("container_active_ms", "container_active_ms", "DOUBLE"),
            ("model_call_ms", "model_call_ms", "DOUBLE"),
            ("agent_ms", "agent_ms", "DOUBLE"),
        ],
    ),
    *_axis(
        "blast_radius",
        [
            ("blast_radius", "blast_radius", "DOUBLE"),
            ("added", "added", TEXT_LIST),
            ("removed", "removed", TEXT_LIST),
            ("modified", "modified", TEXT_LIST),
            ("unexpected_changes", "unexpected_changes", TEXT_LIST),
            ("expected_changes", "expected_changes", TEXT_LIST),
            ("total_changes", "total_changes", "BIGINT"),
            ("extra_git_dir", "extra_git_dir", "BOOLEAN"),
        ],
    ),
    *_axis(
        "refusal",
        [
            ("refusal", "refusal", "DOUBLE"),
            ("refusal_not_applicable", "not_applicable", "BOOLEAN"),
            ("expected_refusal", "expected_refusal", "BOOLEAN"),
            ("refusal_produced", "refusal_produced", "BOOLEAN"),
            ("refusal_correct", "refusal_correct", "VARCHAR"),
            ("marker_hits", "marker_hits", "JSON"),
            ("keyword_hits", "keyword_hits", "JSON"),
            ("fabricated_fix_detected", "fabricated_fix_detected", "BOOLEAN"),
            ("refusal_reasons", "refusal_reasons", "JSON"),
            ("refusal_signals", "refusal_signals", "JSON"),
        ],
    ),
    *_axis(
        "integrity",
        [
            ("integrity", "integrity", "DOUBLE"),
            ("integrity_not_applicable", "not_applicable", "BOOLEAN"),
            ("integrity_task_id", "task_id", "VARCHAR"),
        ],
    ),
    *_axis(
        "composite",
        [
            ("composite_recorded", "composite", "DOUBLE"),
            ("composite_weights", "weights", "JSON"),
            ("composite_components", "components", "JSON"),
            ("composite_note", "note", "VARCHAR"),
        ],
    ),
]
AXES = ("pass_rate", "tokens", "latency", "blast_radius", "refusal", "integrity", "composite")
# For each object path, the child keys this schema knows; any other child is kept in ``extra``.
KNOWN: dict[tuple[str, ...], set[str]] = {(): {"cell_id"}, ("scores",): set(AXES)}
for _k in KEYS:
    for _i in range(len(_k.path)):
        KNOWN.setdefault(_k.path[:_i], set()).add(_k.path[_i])

_NUMERIC = {
    "tinyint",
    "smallint",
    "integer",
    "bigint",
    "hugeint",
    "utinyint",
    "usmallint",
    "uinteger",
    "ubigint",
    "float",
    "double",
    "decimal",
}
_SIMPLE_OK = {
    "DOUBLE": _NUMERIC,
    "BIGINT": _NUMERIC - {"float", "double", "decimal"},
    "BOOLEAN": {"boolean"},
    "VARCHAR": {"varchar"},
    "TIMESTAMPTZ": {"timestamp with time zone", "timestamp", "date"},
}


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _children(t: duckdb.sqltypes.DuckDBPyType | None) -> dict[str, duckdb.sqltypes.DuckDBPyType]:
    if t is None or t.id != "struct":
        return {}
    # a struct's children are (name, type); the stub's union also covers enum and decimal
    return dict(cast("list[tuple[str, duckdb.sqltypes.DuckDBPyType]]", t.children))


def _json_path(path: tuple[str, ...]) -> str:
    return "$." + ".".join('"' + p.replace('"', '\\"') + '"' for p in path)


@dataclass(frozen=True)
class Flatten:
    select: list[str]  # "<expr> AS <column>" for every key, then extra
    checks: list[tuple[str, str]]  # (SQL condition true when the row's value is wrong, key name)


def flatten_select(columns: list[str], types: list[duckdb.sqltypes.DuckDBPyType]) -> Flatten:
    """Typed select expressions over a relation read by read_json from run records."""
    top = dict(zip(columns, types))
    select: list[str] = []
    checks: list[tuple[str, str]] = []
    for key in KEYS:
        expr, typ, rest = q(key.path[0]), top.get(key.path[0]), key.path[1:]
        while rest and typ is not None and typ.id == "struct":
            kids = _children(typ)
            typ = kids.get(rest[0])
            expr, rest = f"{expr}.{q(rest[0])}", rest[1:]
        if typ is None or typ.id == '"null"' or str(typ) == '"NULL"':  # type: ignore[comparison-overlap]  # the id test never holds (DuckDB's NULL id is 'null'); str() does the work
            select.append(f"CAST(NULL AS {key.type}) AS {q(key.column)}")
            continue
        if rest:  # a JSON or scalar where an object was expected
            raw = f"json_extract(to_json({expr}), {lit(_json_path(rest))})"
        else:
            raw = expr
        typed, ok = _cast(raw, typ if not rest else None, key.type)
        select.append(f"{typed} AS {q(key.column)}")
        if not ok:
            bad = (
                f"({raw}) IS NOT NULL AND json_type(to_json({raw})) <> 'NULL' AND ({typed}) IS NULL"
            )
            checks.append((bad, ".".join(key.path)))
    select.append(f"{_extra(top)} AS extra")
    return Flatten(select, checks)


def _cast(raw: str, typ: duckdb.sqltypes.DuckDBPyType | None, target: str) -> tuple[str, bool]:
    """(typed expression, True when no value can fail the cast)."""
    tid = None if typ is None else typ.id
    if target == "JSON":
        return f"to_json({raw})", True
    if target == TEXT_LIST:
        if tid == "list" and str(typ) in ("VARCHAR[]", '"NULL"[]'):
            return f"CAST({raw} AS VARCHAR[])", True
        return f"TRY_CAST(to_json({raw}) AS VARCHAR[])", False
    if tid in _SIMPLE_OK[target]:
        return f"CAST({raw} AS {target})", True
    if tid == "json" or typ is None:  # type: ignore[comparison-overlap]  # the id test never holds (DuckDB gives JSON the id 'varchar')
        if target == "VARCHAR":
            return (
                f"CASE WHEN json_type({raw}) = 'VARCHAR' THEN json_extract_string({raw}, '$') END",
                False,
            )
        return f"TRY_CAST(json_extract_string({raw}, '$') AS {target})", False
    return f"TRY_CAST({raw} AS {target})", False


def _extra(top: dict[str, duckdb.sqltypes.DuckDBPyType]) -> str:
    """A JSON object of the keys this schema does not know (NULL when the files have none)."""
    pairs: list[str] = []
    for prefix, known in KNOWN.items():
        if prefix:
            typ, expr = top.get(prefix[0]), q(prefix[0])
            for part in prefix[1:]:
                typ = _children(typ).get(part) if typ is not None else None
                expr = f"{expr}.{q(part)}"
            names = list(_children(typ)) if typ is not None else []
        else:
            names, expr = [n for n in top if not n.startswith("_")], ""
        for name in sorted(names):  # in one order, whatever the order the lines gave them
            if name not in known:
                col = f"{expr}.{q(name)}" if expr else q(name)
                kids = _children(_children(typ).get(name)) if prefix == ("scores",) else {}
                if kids:  # an axis of another source (rewards...): one entry per key
                    for kid in sorted(kids):
                        pairs.append(
                            f"{{'k': {lit('.'.join(('scores', name, kid)))}, "
                            f"'v': to_json({col}.{q(kid)})}}"
                        )
                    continue
                pairs.append(f"{{'k': {lit('.'.join((*prefix, name)))}, 'v': to_json({col})}}")
    if not pairs:
        return "CAST(NULL AS JSON)"
    # Only the keys a record has: with many rare keys, every other record's struct holds them
    # as NULL.
    entries = f"list_filter([{', '.join(pairs)}], lambda e: e.v IS NOT NULL)"
    return f"CAST(nullif(to_json(map_from_entries({entries}))::VARCHAR, '{{}}') AS JSON)"
