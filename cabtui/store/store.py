"""The query side of the store: what the CLI, the screens and the benchmarks ask of a sweep.

A :class:`Store` holds one read-only DuckDB connection; each thread asks through its own
cursor (:meth:`Store.cursor`). Every query that takes user text goes through the filter
language, which yields parameterised SQL.
"""

from __future__ import annotations

import contextlib
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from cabtui.scoring import MISMATCH_TOLERANCE, Weights, axes_score_sql, composite_sql, wilson_sql
from cabtui.store.cache import Cache, CacheWarning, open_cache, release
from cabtui.store.filter import compile_filter
from cabtui.store.ingest import IngestReport, Progress
from cabtui.store.query import (
    CELL_COLUMNS,
    DIM_ALIASES,
    DIMENSIONS,
    MAX_SCORE_COLUMNS,
    OPTIONAL_COLUMNS,
    PASS_AT,
    RUN_COLUMNS,
    SCORE_SQL,
    WEIGHABLE,
    Query,
    Shape,
    quoted,
    score_path,
)
from cabtui.store.run_reads import RunReads
from cabtui.sweep.problems import Problem

RUNNING_TTL_S = 300.0  # a cache holding runs still running is read again once this old


class Store(RunReads):
    """``warning``: set when the cache directory could not be written and the store was built
    in a temporary directory instead (removed by :meth:`close`, or at exit)."""

    ATTACH = "(READ_ONLY)"  # a published sweep's store writes the runs it fetches (store.remote)
    url: str | None = None  # where a published sweep was opened from (store.remote)

    def __init__(self, db_path: Path, root: Path, report: IngestReport | None = None):
        self.db_path = Path(db_path)
        self.root = Path(root)
        self.report = report
        self.warning: str | None = None
        self._cache: Cache | None = None
        # Attached to a connection of its own, not connected by path: DuckDB keeps one instance
        # per path in a process, and a cache rebuilt under the same name (a live sweep) would
        # otherwise be read as the file it replaced.
        self._con = duckdb.connect(":memory:", config={"temp_directory": f"{db_path}.tmp"})
        try:
            self._con.execute(f"ATTACH ? AS cache {self.ATTACH}", [str(db_path)])
        except BaseException:
            self._con.close()
            raise
        self._local = threading.local()
        self._shape: Shape | None = None
        self._running: bool | None = None
        self.source: str | None = None  # the reading forced by Store.open (cab, harbor, ...)

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
        store.warning, store._cache, store.source = opened.warning, opened, source
        if not refresh and store.has_running() and store.age() > RUNNING_TTL_S:
            # whether a run is still running depends on the time as well as on the files
            store.close()
            return cls.open(sweep, progress, refresh=True, source=source)
        if opened.warning:
            warnings.warn(CacheWarning(opened.warning), stacklevel=2)
        return store

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor on the store."""
        cur = getattr(self._local, "cur", None)
        if cur is None:
            cur = self._local.cur = self._con.cursor()
            cur.execute("USE cache")
        return cur

    @contextlib.contextmanager
    def watching(self, callback: Callable[[int, int], None]) -> Iterator[None]:
        """Report a large fetch's bytes (done, total) in this thread to ``callback`` (store.remote)."""
        yield

    def close(self) -> None:
        self._con.close()
        if self._cache is not None:
            release(self._cache)

    # -- sweep-level ------------------------------------------------------------------------

    def problems(self) -> list[Problem]:
        rows = self.cursor().execute("SELECT file, line, reason FROM problems").fetchall()
        return [Problem(f, line, r) for f, line, r in rows]

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
        params: list[object] = []
        runs = "runs"
        if self.has_running():  # a run still running: its wall time is the time elapsed
            runs = (
                "(SELECT * REPLACE (CASE WHEN status = 'running' THEN "
                "(epoch_ms(now()) - epoch_ms(started_at))::DOUBLE ELSE wall_clock_ms END "
                "AS wall_clock_ms) FROM runs)"
            )
        if q.weights is None:
            base = runs
        else:
            # Only sweeps of cabtui's own format define a composite; other sources' runs get the
            # what-if score of the axes weighed (none: no composite).
            inner, other, scratch = runs, "NULL", ""
            if q.weights.axes:
                inner, other, names, params = self._axes(q.weights.axes, runs)
                scratch = f" EXCLUDE ({', '.join(names)})"
            expr = f"CASE WHEN source = 'cab' THEN {composite_sql(q.weights)} ELSE {other} END"
            base = (
                f"(SELECT *{scratch} REPLACE ({expr} AS composite, "
                f"abs(({expr}) - composite_recorded) > {MISMATCH_TOLERANCE!r} AS composite_mismatch)"
                f" FROM {inner})"
            )
        compiled = compile_filter(q.filter)
        return f"SELECT * FROM {base} WHERE {compiled.sql}", params + list(compiled.params)

    @staticmethod
    def _axes(
        axes: tuple[tuple[str, float], ...], runs: str
    ) -> tuple[str, str, list[str], list[object]]:
        """The runs with each weighed axis as a number and its least and greatest value over
        the runs of other sources: (relation, score expression, scratch columns, params)."""
        columns = dict(WEIGHABLE)
        values, bounds, names, terms = [], [], [], []
        params: list[object] = []
        for i, (key, weight) in enumerate(axes):
            a = f"__axis{i}"
            if key in columns:
                values.append(f"CAST({quoted(key)} AS DOUBLE) AS {a}")
            else:  # a score key of another source, kept in extra
                values.append(f"{SCORE_SQL} AS {a}")
                params.append(score_path(key))
            other = f"CASE WHEN source <> 'cab' THEN {a} END"
            bounds.append(f"min({other}) OVER () AS {a}_lo, max({other}) OVER () AS {a}_hi")
            names += [a, f"{a}_lo", f"{a}_hi"]
            terms.append((a, weight, columns.get(key, True)))
        relation = (
            f"(SELECT *, {', '.join(bounds)} FROM (SELECT *, {', '.join(values)} FROM {runs}))"
        )
        return relation, axes_score_sql(terms), names, params

    def age(self) -> float:
        """Seconds since the cache was built or refreshed (0 when it does not say): since it
        last decided which runs are still running."""
        rows = self.cursor().execute("SELECT value FROM meta WHERE key = 'built_at'").fetchall()
        try:
            return max(0.0, time.time() - float(rows[0][0])) if rows else 0.0
        except ValueError:
            return 0.0

    @property
    def name(self) -> str:
        """What the opened sweep is called on screen: its folder's name."""
        return self.root.name

    def has_running(self) -> bool:
        """Whether a run is still running (a Harbor trial without its result yet)."""
        if self._running is None:
            row = self.cursor().execute("SELECT count(*) FROM runs WHERE status = 'running'")
            self._running = bool(row.fetchall()[0][0])
        return self._running

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
        extra = "".join(f", {SCORE_SQL} AS {quoted(k)}" for k in scores)
        params = [score_path(k) for k in scores] + params
        sql = f"SELECT {cols}{extra} FROM ({sql})" + self._order(
            q.sort, q.descending, RUN_COLUMNS + scores, "cell_id"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)} OFFSET {int(offset)}"
        return self.cursor().sql(sql, params=params).to_arrow_table()

    def runs_by_id(
        self,
        cell_ids: list[str],
        weights: Weights | None = None,
        columns: tuple[str, ...] = RUN_COLUMNS,
    ) -> list[dict[str, Any]]:
        """The runs ``cell_ids`` (any number of them), with ``columns``, scored with ``weights``."""
        if not cell_ids:
            return []
        sql, params = self.runs_sql(Query(weights=weights))
        cols = ", ".join(quoted(c) for c in columns if c in RUN_COLUMNS)
        return self._dicts(
            f"SELECT {cols} FROM ({sql}) WHERE cell_id IN (SELECT unnest(?::VARCHAR[]))",
            [*params, cell_ids],
        )

    def row_of(self, key: str, q: Query = Query(), by: str = "run") -> int | None:
        """The row at which ``key`` (a cell_id, or with ``by="cell"`` a cell) stands among the
        runs (or cells) of ``q`` in its order; None when it is not among them."""
        if by == "run" and q.sort is not None and q.sort not in RUN_COLUMNS:
            return None  # sorted by a score key: not known here
        if by == "run":
            sql, params = self.runs_sql(q)
            order = self._order(q.sort, q.descending, RUN_COLUMNS, "cell_id")
            column = "cell_id"
        else:
            sql, params = self._grouped(q, ("cell", "tui", "model", "task_id", "family"))
            order = self._order(q.sort, q.descending, CELL_COLUMNS, "cell")
            column = "cell"
        rows = (
            self.cursor()
            .execute(
                f"SELECT n FROM (SELECT {column}, row_number() OVER ({order.strip()}) - 1 AS n "
                f"FROM ({sql})) WHERE {column} = ?",
                params + [key],
            )
            .fetchall()
        )
        return int(rows[0][0]) if rows else None

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
                {PASS_AT} AS pass_at, avg(cost_usd) AS cost_mean
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
