"""The query side of the store: what the CLI, the screens and the benchmarks ask of a sweep.

A :class:`Store` holds one read-only DuckDB connection; each thread asks through its own
cursor (:meth:`Store.cursor`). Every query that takes user text goes through the filter
language, which yields parameterised SQL.
"""

from __future__ import annotations

import json
import threading
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cabtui.scoring import MISMATCH_TOLERANCE, Weights, composite_sql, wilson_sql
from cabtui.store.cache import Cache, CacheWarning, open_cache, release
from cabtui.store.filter import compile_filter
from cabtui.store.ingest import IngestReport, Progress
from cabtui.sweep.problems import Problem

# Sortable run columns and the grouping dimensions of cells and pivots.
DIMENSIONS = ("tui", "model", "task_id", "family")
DIM_ALIASES = {"task": "task_id"}
RUN_COLUMNS = (
    "cell_id", "tui", "model", "task_id", "family", "run", "pass", "composite",
    "composite_recorded", "composite_mismatch", "wall_clock_ms", "blast_radius", "refusal",
    "integrity", "total_tokens", "exit_code", "grader_exit_code", "timed_out", "note",
    "has_recording", "n_spans", "source", "status", "cost_usd", "agent_ms", "sweep_id",
)  # fmt: skip
CELL_COLUMNS = (
    "cell", "tui", "model", "task_id", "family", "n", "composite_mean", "composite_sd",
    "pass_rate", "pass_lo", "pass_hi", "wall_mean", "blast_mean", "mismatches", "pass_at",
    "cost_mean",
)  # fmt: skip
MAX_PASS_AT_K = 20  # pass@k is given for k = 1 up to a cell's reruns, at most this many
PIVOT_VALUES = {
    "composite": "avg(composite)",
    "pass": "avg(pass)",
    "wall": "avg(wall_clock_ms)",
    "blast": "avg(blast_radius)",
}


# The unbiased pass@k estimator, 1 - C(n-c, k) / C(n, k), for k = 1 .. n (n runs with a pass
# value, c of them passing), as a list; NULL where no run of the group has a pass value.
_N, _C = "CAST(count(pass) AS BIGINT)", "CAST(count_if(pass = 1) AS BIGINT)"
_PASS_AT = (
    f"CASE WHEN {_N} > 0 THEN list_transform(range(1, least({_N}, {MAX_PASS_AT_K}) + 1), "
    f"lambda k: CASE WHEN {_N} - {_C} < k THEN 1.0 ELSE 1.0 - coalesce(list_aggregate("
    f"list_transform(range({_N} - {_C} + 1, {_N} + 1), lambda i: 1.0 - k / i), 'product'), 1.0) "
    "END) END"
)


# Run columns that only some sources fill: grids show them where the opened sweeps have them.
OPTIONAL_COLUMNS = (
    "composite", "composite_recorded", "blast_radius", "refusal", "integrity", "exit_code",
    "grader_exit_code", "status", "cost_usd", "agent_ms", "total_tokens", "wall_clock_ms",
)  # fmt: skip
MAX_SCORE_COLUMNS = 12


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def score_path(key: str) -> str:
    """The JSON path in ``extra`` of a score key "axis.key"."""
    return '$."scores.' + key.replace('"', "") + '"'


@dataclass(frozen=True)
class Shape:
    """What the opened sweeps hold: the optional columns with a value in some run, the score
    keys of other sources ("axis.key", most common first), and the sources."""

    present: frozenset[str]
    score_keys: tuple[str, ...]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    """What a grid shows: filter text, sort, and optional what-if weights."""

    filter: str = ""
    sort: str | None = None
    descending: bool = False
    weights: Weights | None = None


class Store:
    """``warning``: set when the cache directory could not be written and the store was built
    in a temporary directory instead (removed by :meth:`close`, or at exit)."""

    def __init__(self, db_path: Path, root: Path, report: IngestReport | None = None):
        self.db_path = Path(db_path)
        self.root = Path(root)
        self.report = report
        self.warning: str | None = None
        self._cache: Cache | None = None
        self._con = duckdb.connect(str(db_path), read_only=True)
        self._local = threading.local()
        self._shape: Shape | None = None

    @classmethod
    def open(
        cls,
        sweep: Path,
        progress: Progress | None = None,
        refresh: bool = False,
        source: str | None = None,
    ) -> Store:
        """The store of ``sweep`` (``source``: read everything there as cab, harbor or tb)."""
        opened = open_cache(Path(sweep), progress, refresh, source)
        try:
            store = cls(opened.path, Path(sweep), opened.report)
        except BaseException:
            release(opened)
            raise
        store.warning, store._cache = opened.warning, opened
        if opened.warning:
            warnings.warn(CacheWarning(opened.warning), stacklevel=2)
        return store

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the store."""
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._local.cur = self._con.cursor()
        return cur

    def close(self) -> None:
        self._con.close()
        if self._cache is not None:
            release(self._cache)

    # -- sweep-level ------------------------------------------------------------------------

    def problems(self) -> list[Problem]:
        rows = self.cursor().execute("SELECT file, line, reason FROM problems").fetchall()
        return [Problem(f, line, r) for f, line, r in rows]

    def _dicts(
        self, sql: str, params: list[object], json_keys: tuple[str, ...] = ()
    ) -> list[dict[str, Any]]:
        """The rows of a query as dicts, with the JSON columns in ``json_keys`` decoded."""
        cur = self.cursor().execute(sql, params)
        names = [d[0] for d in cur.description]
        out = []
        for row in cur.fetchall():
            d = dict(zip(names, row))
            for k in json_keys:
                if isinstance(d.get(k), str):
                    d[k] = json.loads(d[k])
            out.append(d)
        return out

    def sweeps(self) -> list[dict[str, Any]]:
        return self._dicts("SELECT * FROM sweeps ORDER BY sweep_dir", [])

    def weights(self) -> Weights:
        """The weights of the (first) sweep's manifest, or the defaults."""
        sweeps = self.sweeps()
        if not sweeps:
            return Weights()
        s = sweeps[0]
        return Weights(
            s["w_pass_rate"], s["w_integrity"], s["w_cost"], s["w_latency"],
            s["w_blast_radius"], s["latency_ref_ms"],
        )  # fmt: skip

    def distinct(self, column: str) -> list[str]:
        if column not in DIMENSIONS + ("sweep_id",):
            raise ValueError(f"not a dimension: {column}")
        rows = self.cursor().execute(f"SELECT DISTINCT {column} FROM runs ORDER BY 1").fetchall()
        return [r[0] for r in rows if r[0] is not None]

    # -- runs ---------------------------------------------------------------------------------

    def runs_sql(self, q: Query) -> tuple[str, list[object]]:
        """A SELECT of the filtered runs (composite recomputed with q.weights when given)."""
        if q.weights is None:
            base = "runs"
        else:
            # Only sweeps of cabtui's own format define a composite.
            expr = f"CASE WHEN source = 'cab' THEN {composite_sql(q.weights)} END"
            base = (
                f"(SELECT * REPLACE ({expr} AS composite, "
                f"abs(({expr}) - composite_recorded) > {MISMATCH_TOLERANCE!r} AS composite_mismatch)"
                " FROM runs)"
            )
        compiled = compile_filter(q.filter)
        return f"SELECT * FROM {base} WHERE {compiled.sql}", list(compiled.params)

    @staticmethod
    def _order(sort: str | None, descending: bool, allowed: tuple[str, ...], tie: str) -> str:
        if sort is None or sort not in allowed:
            return f" ORDER BY {tie}"
        direction = "DESC" if descending else "ASC"
        return f' ORDER BY "{sort}" {direction} NULLS LAST, {tie}'

    def runs(self, q: Query = Query(), limit: int | None = 200, offset: int = 0,
             columns: tuple[str, ...] = RUN_COLUMNS,
             scores: tuple[str, ...] = ()) -> pa.Table:  # fmt: skip
        """Runs with ``columns`` and, as numbers, the score keys ``scores`` ("axis.key") that
        other sources keep in ``extra`` (each a column of that name, sortable)."""
        sql, params = self.runs_sql(q)
        cols = ", ".join(f'"{c}"' for c in columns)
        extra = "".join(
            f", TRY_CAST(json_extract_string(extra, ?) AS DOUBLE) AS {_quoted(k)}" for k in scores
        )
        params = [score_path(k) for k in scores] + params
        sql = f"SELECT {cols}{extra} FROM ({sql})" + self._order(
            q.sort, q.descending, RUN_COLUMNS + scores, "cell_id"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return self.cursor().sql(sql, params=params).to_arrow_table()

    def count(self, q: Query = Query()) -> int:
        sql, params = self.runs_sql(q)
        return int(self.cursor().execute(f"SELECT count(*) FROM ({sql})", params).fetchall()[0][0])

    @property
    def known_shape(self) -> Shape | None:
        """:meth:`shape` if it has been asked already (no query here: for the UI thread)."""
        return self._shape

    def shape(self) -> Shape:
        """Which columns the opened sweeps fill, and the score keys of other sources (computed
        once)."""
        if self._shape is None:
            cur = self.cursor()
            counts = cur.execute(
                "SELECT " + ", ".join(f'count("{c}")' for c in OPTIONAL_COLUMNS) + " FROM runs"
            ).fetchall()[0]
            keys = cur.execute(
                "SELECT substr(e.key, 8) AS k, count(*) AS n FROM runs, json_each(runs.extra) AS e "
                "WHERE runs.extra IS NOT NULL AND e.key LIKE 'scores.%' "
                "AND json_type(e.value) IN ('DOUBLE', 'BIGINT', 'UBIGINT', 'BOOLEAN') "
                f"GROUP BY 1 ORDER BY n DESC, k LIMIT {MAX_SCORE_COLUMNS}"
            ).fetchall()
            sources = cur.execute("SELECT DISTINCT source FROM runs ORDER BY 1").fetchall()
            self._shape = Shape(
                frozenset(c for c, n in zip(OPTIONAL_COLUMNS, counts) if n),
                tuple(k for k, _ in keys),
                tuple(s for (s,) in sources if s),
            )
        return self._shape

    def total(self) -> int:
        return int(self.cursor().execute("SELECT count(*) FROM runs").fetchall()[0][0])

    # -- cells, aggregates and pivots ----------------------------------------------------------

    def _grouped(self, q: Query, by: tuple[str, ...]) -> tuple[str, list[object]]:
        sql, params = self.runs_sql(q)
        lo, hi = wilson_sql("sum(pass)", "count(pass)")
        keys = ", ".join(by)
        return (
            f"""SELECT {keys}, count(*) AS n, avg(composite) AS composite_mean,
                coalesce(stddev_samp(composite), 0) AS composite_sd,
                avg(pass) AS pass_rate, {lo} AS pass_lo, {hi} AS pass_hi,
                avg(wall_clock_ms) AS wall_mean, avg(blast_radius) AS blast_mean,
                CAST(count_if(composite_mismatch) AS BIGINT) AS mismatches,
                {_PASS_AT} AS pass_at, avg(cost_usd) AS cost_mean
            FROM ({sql}) GROUP BY {keys}""",
            params,
        )

    def cells(self, q: Query = Query(), limit: int | None = 200, offset: int = 0) -> pa.Table:
        """One row per cell (tui x model x task), reruns aggregated."""
        sql, params = self._grouped(q, ("cell", "tui", "model", "task_id", "family"))
        sql += self._order(q.sort, q.descending, CELL_COLUMNS, "cell")
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return self.cursor().sql(sql, params=params).to_arrow_table()

    def count_cells(self, q: Query = Query()) -> int:
        sql, params = self.runs_sql(q)
        return int(
            self.cursor()
            .execute(f"SELECT count(DISTINCT cell) FROM ({sql})", params)
            .fetchall()[0][0]
        )

    def aggregate(self, by: tuple[str, ...], q: Query = Query()) -> pa.Table:
        """Aggregates per group of dimensions, e.g. ("tui", "model")."""
        by = tuple(DIM_ALIASES.get(b, b) for b in by)
        if not by or any(b not in DIMENSIONS for b in by):
            raise ValueError(f"group by one or more of {', '.join(DIMENSIONS)}")
        sql, params = self._grouped(q, by)
        return self.cursor().sql(sql + f" ORDER BY {', '.join(by)}", params=params).to_arrow_table()

    def pivot(self, rows: str, cols: str, q: Query = Query()) -> pa.Table:
        """Long-form pivot: one row per (row value, column value) with every aggregate."""
        return self.aggregate((rows, cols), q)

    # -- one run ----------------------------------------------------------------------------

    def score_map(self, cell_ids: list[str]) -> dict[str, dict[str, dict[str, Any]]]:
        """For each run, {axis: {key: value}} of every score key it carries (missing ones left
        out; test tails too)."""
        if not cell_ids:
            return {}
        rows = (
            self.cursor()
            .execute(
                "SELECT cell_id, axis, key, value FROM scores WHERE cell_id IN "
                "(SELECT unnest(?::VARCHAR[])) AND value IS NOT NULL AND value::VARCHAR <> 'null' "
                "AND key NOT IN ('stdout_tail', 'stderr_tail')",
                [cell_ids],
            )
            .fetchall()
        )
        out: dict[str, dict[str, dict[str, Any]]] = {}
        for cid, axis, key, value in rows:
            out.setdefault(cid, {}).setdefault(axis, {})[key] = json.loads(value)
        return out

    def run(self, cell_id: str, weights: Weights | None = None) -> dict[str, Any] | None:
        sql, params = self.runs_sql(Query(weights=weights))
        rows = self._dicts(
            f"SELECT * FROM ({sql}) WHERE cell_id = ?",
            params + [cell_id],
            ("extra", "composite_weights", "composite_components", "marker_hits",
             "keyword_hits", "refusal_reasons", "refusal_signals"),
        )  # fmt: skip
        return rows[0] if rows else None

    def find(self, text: str, limit: int = 20) -> list[str]:
        """cell_ids equal to, or else ending with or containing, ``text``."""
        cur = self.cursor()
        exact = cur.execute("SELECT cell_id FROM runs WHERE cell_id = ?", [text]).fetchall()
        if exact:
            return [exact[0][0]]
        rows = cur.execute(
            "SELECT cell_id FROM runs WHERE contains(cell_id, ?) ORDER BY cell_id LIMIT ?",
            [text, limit],
        ).fetchall()
        return [r[0] for r in rows]

    def scores(self, cell_id: str) -> list[tuple[str, str, Any]]:
        rows = (
            self.cursor()
            .execute("SELECT axis, key, value FROM scores WHERE cell_id = ?", [cell_id])
            .fetchall()
        )
        return [(a, k, None if v is None else json.loads(v)) for a, k, v in rows]

    def spans(self, cell_id: str) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT span_id, parent_id, kind, name, start_ms, duration_ms, attrs, error "
            "FROM spans WHERE cell_id = ? ORDER BY start_ms NULLS LAST, seq",
            [cell_id],
            ("attrs", "error"),
        )

    def model_calls(self, cell_id: str) -> list[dict[str, Any]]:
        return self._dicts(
            "SELECT * EXCLUDE (cell_id, source_file) FROM model_calls WHERE cell_id = ? "
            "ORDER BY seq NULLS LAST, timestamp",
            [cell_id],
            ("prompt", "completion"),
        )

    def recording(self, cell_id: str) -> dict[str, Any] | None:
        rows = self._dicts("SELECT * FROM recordings WHERE cell_id = ?", [cell_id])
        if not rows:
            return None
        rows[0]["file"] = self.root / rows[0]["path"]
        return rows[0]

    def related(self, cell_id: str, limit: int = 50) -> dict[str, list[str]]:
        """Runs related to this one, closest first: other CLIs on this task (same model first),
        other models with this CLI (same task first), other tasks in this family (same CLI and
        model), and the other reruns of this cell. Every opened sweep is searched, this one first."""
        run = self.run(cell_id)
        if run is None:
            return {}
        r = run
        groups: dict[str, tuple[str, list[object], str, list[object]]] = {
            "other CLIs on this task": (
                "task_id = ? AND tui <> ?", [r["task_id"], r["tui"]],
                "model <> ?, sweep_id <> ?", [r["model"], r["sweep_id"]],
            ),
            "other models with this CLI": (
                "tui = ? AND model <> ?", [r["tui"], r["model"]],
                "task_id <> ?, sweep_id <> ?", [r["task_id"], r["sweep_id"]],
            ),
            "other tasks in this family": (
                "tui = ? AND model = ? AND family = ? AND task_id <> ?",
                [r["tui"], r["model"], r["family"], r["task_id"]],
                "sweep_id <> ?", [r["sweep_id"]],
            ),
            "other reruns": ("cell = ? AND cell_id <> ?", [r["cell"], cell_id], "run", []),
        }  # fmt: skip
        out = {}
        for name, (where, params, order, order_params) in groups.items():
            rows = (
                self.cursor()
                .execute(
                    f"SELECT cell_id FROM runs WHERE {where} ORDER BY {order}, cell_id LIMIT {int(limit)}",
                    params + order_params,
                )
                .fetchall()
            )
            out[name] = [row[0] for row in rows]
        return out
