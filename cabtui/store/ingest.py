"""Reading a sweep directory into a DuckDB file.

Each JSON-lines file is read by DuckDB in one stream (read_json). Per-run files (record.json,
spans.jsonl, model_calls.jsonl under runs/) are concatenated into one temporary stream first, so
a sweep of many small files costs one read, not one per file. Lines DuckDB cannot use are
explained by :mod:`cabtui.sweep.lines` and reported with file and line; every valid record loads.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cabtui.scoring import MISMATCH_TOLERANCE, Weights, composite_sql
from cabtui.sources import discover
from cabtui.store import tables
from cabtui.store.schema import KEYS, flatten_select, lit, q
from cabtui.sweep.cellid import CELL_ID_PATTERN, RUN_SUFFIX_PATTERN, CellId, parse_cell_id
from cabtui.sweep.layout import RunDir, Sweep
from cabtui.sweep.lines import (
    BOM,
    MAX_LINE_BYTES,
    check_line,
    explain,
    has_long_line,
    nonblank_lines,
    scrub,
)
from cabtui.sweep.problems import Problem

Progress = Callable[[str, int, int], None]
MEMORY_LIMIT = "640MB"  # DuckDB spills to disk past this; keeps an ingest's peak under 1 GB
MAX_COLUMNS = 2000  # distinct top-level keys of one file before it is read carefully


class _Careful(Exception):
    """DuckDB's read of a file cannot be trusted whole: read it line by line."""


@dataclass
class IngestReport:
    runs: int = 0
    spans: int = 0
    model_calls: int = 0
    recordings: int = 0
    sweeps: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # time spent per stage
    problems: list[Problem] = field(default_factory=list)


@dataclass
class _Source:
    """A stream DuckDB reads: a real file, or a concatenation of per-run files."""

    path: Path
    label: str  # file name shown in problems (relative to the opened directory)
    files: list[str] | None = None  # when concatenated: the files, and per row its file and line
    row_file: array[int] = field(default_factory=lambda: array("I"))
    row_line: array[int] = field(default_factory=lambda: array("I"))

    def where(self, rows: list[int]) -> dict[int, tuple[str, int]]:
        """Map 1-based row numbers to (file, line)."""
        if self.files is not None:
            n = len(self.row_file)
            return {
                r: (self.files[self.row_file[r - 1]], self.row_line[r - 1])
                for r in rows
                if 0 < r <= n
            }
        wanted, found = set(rows), {}
        for i, (number, _) in enumerate(nonblank_lines(self.path), start=1):
            if i in wanted:
                found[i] = (self.label, number)
        return found

    def raw_lines(self, rows: list[int]) -> dict[int, tuple[bytes, bool]]:
        """The raw text of the given rows, and whether each is the stream's last line."""
        wanted, found, last = set(rows), {}, 0
        for i, (_, raw) in enumerate(nonblank_lines(self.path), start=1):
            last = i
            if i in wanted:
                found[i] = (raw, False)
        if last in found:
            found[last] = (found[last][0], True)
        return found


class Ingest:
    def __init__(self, con: duckdb.DuckDBPyConnection, root: Path, progress: Progress | None):
        self.con = con
        self.root = root
        self.progress = progress or (lambda stage, done, total: None)
        self.report = IngestReport()
        # the pid lets a later cab-tui remove it if this process is killed (cache.stale_temps)
        self.tmp = tempfile.TemporaryDirectory(prefix=f"cabtui-ingest-{os.getpid()}-")
        self.order = 0

    def problem(self, file: str, line: int | None, reason: str) -> None:
        self.report.problems.append(Problem(file, line, reason))

    def label(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    # -- reading -------------------------------------------------------------------------------

    def read(self, source: _Source, table: str, required: str | None) -> bool:
        """Read ``source`` into temp table ``table``; report unusable lines. False when no row
        can be used (nothing readable, or no line has ``required``).

        DuckDB reads the file as it is when it can. When it cannot read it whole (a line nested
        too deep, too long or too wide), when some lines are not objects or start with a byte
        order mark, or when it drops a line that is valid JSON, the file is read carefully
        instead: :func:`scrub` writes a copy in which each unusable line is an empty object
        (reported with its reason) and every other line is plain JSON, and DuckDB reads that."""
        skip: dict[int, str] = {}
        try:
            cols = self._fast(source, table, required)
        except (duckdb.Error, _Careful):
            cols = None
        if cols is None:
            try:
                cols, skip = self._careful(source, table)
            except (duckdb.Error, OSError) as e:
                self.problem(source.label, None, f"cannot read: {str(e).splitlines()[0]}")
                return False
        if required is None:
            return True
        bad = [r for r in self._rows_without(table, cols, required) if r not in skip]
        if bad:
            lines, where = source.raw_lines(bad), source.where(bad)
            for r in bad:
                raw, last = lines.get(r, (b"", False))
                file, line = where.get(r, (source.label, None))
                self.problem(file, line, explain(raw, required, last) or f"no usable {required}")
        return required in cols and len(bad) + len(skip) < self._count(table)

    def _fast(self, source: _Source, table: str, required: str | None) -> list[str]:
        """DuckDB's own read; raises _Careful when the careful reading is needed."""
        with open(source.path, "rb") as f:
            if f.read(len(BOM)) == BOM:
                raise _Careful
        if has_long_line(source.path):
            raise _Careful
        cols = self._read_json(source.path, table)
        if cols == ["json"] or len(cols) > MAX_COLUMNS:
            raise _Careful  # lines that are not objects, or keys beyond reason
        if required is not None:
            bad = self._rows_without(table, cols, required)
            if bad:
                lines = source.raw_lines(bad[:1000])
                if any(explain(raw, required, last) is None for raw, last in lines.values()):
                    raise _Careful  # DuckDB dropped a line that Python reads
        return cols

    def _careful(self, source: _Source, table: str) -> tuple[list[str], dict[int, str]]:
        clean = Path(self.tmp.name) / f"clean-{self.order}.jsonl"
        self.order += 1
        skip, notes = scrub(source.path, clean)
        rows = sorted({*skip, *(r for r, _ in notes)})
        where = source.where(rows) if rows else {}
        for r, reason in [*skip.items(), *notes]:
            file, line = where.get(r, (source.label, None))
            self.problem(file, line, reason)
        return self._read_json(clean, table), skip

    def _rows_without(self, table: str, cols: list[str], key: str) -> list[int]:
        """1-based rows whose ``key`` is missing or not a string (made NULL here)."""
        if key not in cols:
            return [r for (r,) in self.con.execute(f"SELECT rowid + 1 FROM {table}").fetchall()]
        if str(dict(zip(cols, self.con.table(table).types))[key]) != "VARCHAR":
            # Some lines give the key a non-string value: keep only the string ones.
            k = q(key)
            text = f"CASE WHEN json_type(to_json({k})) = 'VARCHAR' THEN json_extract_string(to_json({k}), '$') END"
            self.con.execute(
                f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * REPLACE ({text} AS {k}) FROM {table}"
            )
        sql = f"SELECT rowid + 1 FROM {table} WHERE {q(key)} IS NULL"
        return [r for (r,) in self.con.execute(sql).fetchall()]

    def _count(self, table: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    def _read_json(self, path: Path, table: str) -> list[str]:
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_json(?, "
            "format='newline_delimited', ignore_errors=true, maximum_object_size=?, "
            "map_inference_threshold=-1)",
            [str(path), MAX_LINE_BYTES + 1],
        )
        return list(self.con.table(table).columns)

    def concat(self, sweep: Sweep, runs: list[tuple[RunDir, str]], artefact: str) -> _Source | None:
        """One stream of the given per-run artefact, each object tagged with its run's cell_id."""
        if not runs:
            return None
        out = Path(self.tmp.name) / f"{artefact}-{self.order}.jsonl"
        self.order += 1
        src = _Source(out, artefact, files=[])
        assert src.files is not None
        with open(out, "wb") as w:
            for run_dir, cell_id in runs:
                rel = run_dir.files[artefact]
                label = self.label(sweep.path / rel)
                src.files.append(label)
                index = len(src.files) - 1
                prefix = b'{"cell_id":' + json.dumps(cell_id).encode() + b","
                try:
                    data = (sweep.path / rel).read_bytes()
                except OSError as e:
                    self.problem(label, None, f"unreadable: {e.strerror}")
                    continue
                if data.startswith(BOM):
                    data = data[len(BOM) :]
                if artefact == "record.json":
                    # One JSON document, possibly spread over many lines: make it one line.
                    doc, why, notes = check_line(data)
                    for note in notes:
                        self.problem(label, None, note)
                    if doc is None:
                        self.problem(label, None, why or "unusable")
                        continue
                    doc.setdefault("cell_id", cell_id)
                    w.write(json.dumps(doc, allow_nan=False).encode() + b"\n")
                    src.row_file.append(index)
                    src.row_line.append(1)
                    continue
                for number, raw in enumerate(data.splitlines(), start=1):
                    body = raw.strip()
                    if not body:
                        continue
                    if body.startswith(b"{") and body[1:].lstrip().startswith(b"}"):
                        w.write(prefix[:-1] + b"}\n")
                    elif body.startswith(b"{"):
                        w.write(prefix + body[1:] + b"\n")
                    else:
                        w.write(body + b"\n")  # not an object: DuckDB gives a row of NULLs
                    src.row_file.append(index)
                    src.row_line.append(number)
        return src

    # -- runs -----------------------------------------------------------------------------------

    def load_runs(self, sweep: Sweep, source: _Source, order: int) -> None:
        if not self.read(source, "raw", "cell_id"):
            return
        rel = self.con.table("raw")
        if "cell_id" not in rel.columns:
            return  # no line has one: each was reported by read()
        flat = flatten_select(rel.columns, rel.types)
        body = f"regexp_replace(cell_id, {lit(RUN_SUFFIX_PATTERN)}, '')"
        valid = (
            f"typeof(cell_id) = 'VARCHAR' AND regexp_matches(cell_id, {lit(CELL_ID_PATTERN)}) "
            f"AND NOT list_has_any(string_split({body}, '/'), ['.', '..'])"
        )
        bad_ids = self.con.execute(
            f"SELECT rowid + 1, cell_id FROM raw WHERE cell_id IS NOT NULL "
            f"AND typeof(cell_id) = 'VARCHAR' AND NOT ({valid})"
        ).fetchall()
        if bad_ids:
            where = source.where([r for r, _ in bad_ids])
            for r, cid in bad_ids:
                file, line = where.get(r, (source.label, None))
                try:
                    parse_cell_id(cid)
                    reason = f"bad cell_id {cid!r}"
                except ValueError as e:
                    reason = str(e)
                self.problem(file, line, reason)
        for cond, key in flat.checks:
            rows = [
                r
                for (r,) in self.con.execute(
                    f"SELECT rowid + 1 FROM raw WHERE {valid} AND {cond}"
                ).fetchall()
            ]
            where = source.where(rows)
            for r in rows:
                file, line = where.get(r, (source.label, None))
                self.problem(file, line, f"{key} has a value of the wrong type; shown as missing")
        parts = f"string_split({body}, '/')"
        self.con.execute(
            f"""INSERT INTO runs_stage BY NAME SELECT
                cell_id, {body} AS cell, {parts}[1] AS sweep_id, {parts}[2] AS tui,
                {parts}[3] || '/' || {parts}[4] AS model, {parts}[5] || '/' || {parts}[6] AS task_id,
                {parts}[5] AS family,
                coalesce(TRY_CAST(nullif(regexp_extract(cell_id, {lit(RUN_SUFFIX_PATTERN)}, 1), '') AS INTEGER), 1) AS run,
                {lit(sweep.name)} AS sweep_dir, {lit(source.label)} AS source_file,
                rowid + 1 AS source_row, {order} AS source_order,
                {", ".join(flat.select)}
            FROM raw WHERE {valid}"""
        )

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            secs = self.report.seconds
            secs[stage] = secs.get(stage, 0.0) + time.perf_counter() - t

    def sweep_runs(self, sweep: Sweep, origins: dict[int, _Source]) -> None:
        """The run records of results.jsonl, then runs/*/record.json for runs it lacks."""
        results = sweep.file("results.jsonl")
        if results is not None:
            src = _Source(results, self.label(results))
            if sweep.row_files:  # imported: each line points at the file it came from
                src.files = list(sweep.row_files)
                src.row_file = array("I", range(len(sweep.row_files)))
                src.row_line = array("I", [1] * len(sweep.row_files))
            origins[len(origins)] = src
            self.load_runs(sweep, src, len(origins) - 1)
        known = set(tables.run_dirs(self.con, sweep))
        loose = [
            (rd, _cell_id(sweep, rd))
            for rd in sweep.run_dirs
            if "record.json" in rd.files and rd.key not in known
        ]
        src2 = self.concat(sweep, loose, "record.json")
        if src2 is not None:
            origins[len(origins)] = src2
            self.load_runs(sweep, src2, len(origins) - 1)

    def sweep_artefact(
        self,
        sweep: Sweep,
        cell_of: dict[tuple[str, str, str, int], str],
        artefact: str,
        loader: Callable[[duckdb.DuckDBPyConnection, str, str | None], None],
    ) -> None:
        """Spans or model calls: the sweep-level file, then the per-run files in one stream."""
        level = sweep.file(artefact)
        if level is not None:
            src = _Source(level, self.label(level))
            if self.read(src, "raw", "cell_id"):
                loader(self.con, "raw", src.label)
        per_run = [
            (rd, cell_of[rd.key])
            for rd in sweep.run_dirs
            if artefact in rd.files and rd.key in cell_of
        ]
        src3 = self.concat(sweep, per_run, artefact)
        if src3 is not None and self.read(src3, "raw", "cell_id"):
            loader(self.con, "raw", None)

    def dedupe_runs(self, origins: dict[int, _Source]) -> None:
        dups = self.con.execute(
            """SELECT cell_id, source_order, source_row, first_order, first_row FROM (
                 SELECT cell_id, source_order, source_row,
                   first_value(source_order) OVER w AS first_order,
                   first_value(source_row) OVER w AS first_row,
                   row_number() OVER w AS k
                 FROM runs_stage WINDOW w AS (PARTITION BY cell_id ORDER BY source_order, source_row))
               WHERE k > 1"""
        ).fetchall()
        for cell_id, order, row, first_order, first_row in dups:
            file, line = origins[order].where([row]).get(row, (origins[order].label, None))
            ffile, fline = origins[first_order].where([first_row]).get(first_row, ("?", None))
            self.problem(
                file, line, f"duplicate cell_id {cell_id} (first at {ffile}:{fline}); skipped"
            )
        if dups:
            self.con.execute(
                """DELETE FROM runs_stage WHERE (cell_id, source_order, source_row) IN (
                     SELECT (cell_id, source_order, source_row) FROM (SELECT cell_id, source_order,
                       source_row, row_number() OVER (PARTITION BY cell_id
                       ORDER BY source_order, source_row) AS k FROM runs_stage) WHERE k > 1)"""
            )

    def check_values(self, origins: dict[int, _Source]) -> None:
        """Values that cannot be true are reported and shown as missing, never scored: NaN or
        infinite numbers, negative times, counts and token figures, fractions outside [0, 1].
        A run that ends before it starts is reported (its duration is then missing)."""
        arms: list[tuple[str, str, str | None]] = []  # (condition, message SQL, column to clear)
        for key in KEYS:
            col, name = q(key.column), ".".join(key.path)
            if key.type == "DOUBLE":
                arms.append((f"NOT isfinite({col})", f"'{name} is ' || {col}", key.column))
            bounds = _BOUNDS.get(key.column)
            if bounds is not None:
                low, high = bounds
                cond = f"{col} < {low!r}" + (f" OR {col} > {high!r}" if high is not None else "")
                where = "[0, 1]" if high is not None else "0 or more"
                arms.append(
                    (
                        f"isfinite({col}) AND ({cond})" if key.type == "DOUBLE" else f"({cond})",
                        f"'{name} = ' || {col} || ' (must be {where})'",
                        key.column,
                    )
                )
        arms.append(
            (
                "ended_at < started_at",
                "'ended_at ' || ended_at || ' is before started_at ' || started_at",
                None,
            )
        )
        messages = ", ".join(f"CASE WHEN {c} THEN {m} END" for c, m, _ in arms)
        rows = self.con.execute(
            f"SELECT source_order, source_row, list_filter([{messages}], lambda x: x IS NOT NULL) "
            f"FROM runs_stage WHERE {' OR '.join(f'coalesce({c}, false)' for c, _, _ in arms)}"
        ).fetchall()
        places: dict[int, dict[int, tuple[str, int]]] = {}
        for order in {o for o, _, _ in rows}:
            places[order] = origins[order].where([r for o, r, _ in rows if o == order])
        for order, row, reasons in rows:
            file, line = places[order].get(row, (origins[order].label, None))
            for reason in reasons:
                shown = "; shown as missing" if "before started_at" not in reason else ""
                self.problem(file, line, reason + shown)
        if rows:
            clear: dict[str, list[str]] = {}
            for c, _, to_clear in arms:
                if to_clear is not None:
                    clear.setdefault(to_clear, []).append(f"coalesce({c}, false)")
            sets = ", ".join(
                f"{q(col)} = CASE WHEN {' OR '.join(conds)} THEN NULL ELSE {q(col)} END"
                for col, conds in clear.items()
            )
            any_bad = " OR ".join(f"coalesce({c}, false)" for c, _, col in arms if col)
            self.con.execute(f"UPDATE runs_stage SET {sets} WHERE {any_bad}")


# Values outside these bounds cannot be true: (low, high or None for no upper bound).
_BOUNDS: dict[str, tuple[float, float | None]] = {
    **{c: (0.0, 1.0) for c in ("pass", "partial_score", "blast_radius", "refusal", "integrity")},
    **{
        c: (0.0, None)
        for c in (
            "wall_clock_ms",
            "container_active_ms",
            "model_call_ms",
            "prompt_tokens",
            "completion_tokens",
            "scored_prompt_tokens",
            "scored_completion_tokens",
            "scored_total_tokens",
            "model_calls",
            "tokens_per_correct_task",
            "total_changes",
            "cost_usd",
            "cache_tokens",
            "agent_ms",
        )
    },
}


def _weights_case(sweeps: list[Sweep]) -> str:
    """The composite with each sweep's own weights; none for sources that define none."""
    cab = [s for s in sweeps if s.source == "cab"]
    if not cab:
        return "CAST(NULL AS DOUBLE)"
    if len(cab) == len(sweeps) and len(cab) == 1:
        return composite_sql(Weights.from_manifest(cab[0].manifest), "r")
    arms = " ".join(
        f"WHEN r.sweep_dir = {lit(s.name)} THEN {composite_sql(Weights.from_manifest(s.manifest), 'r')}"
        for s in cab
    )
    return f"CASE {arms} END"


def ingest(
    path: Path, db_path: Path, progress: Progress | None = None, source: str | None = None
) -> IngestReport:
    """Read the sweep(s) at ``path`` into a new DuckDB file at ``db_path`` (``source``: read
    everything there as one kind: cab, harbor or tb)."""
    path = Path(path)
    sweeps, found = discover(path, source)
    con = duckdb.connect(str(db_path), config={"memory_limit": MEMORY_LIMIT})
    job = Ingest(con, path, progress)
    job.report.problems.extend(found)
    try:
        tables.create(con)
        origins: dict[int, _Source] = {}
        total = max(1, len(sweeps) * 4)
        for i, sweep in enumerate(sweeps):
            job.report.sweeps.append(sweep.name)
            if sweep.importer is not None:
                job.progress(f"import {sweep.name}", i * 4, total)
                with job.timed("import"):
                    sweep.importer(sweep, Path(job.tmp.name) / f"import-{i}")
            tables.add_sweep(con, sweep, job.label(sweep.path))
            for reason in Weights.check(sweep.manifest)[1]:
                job.problem(job.label(sweep.path / "sweep.json"), None, reason)
            job.progress("runs", i * 4, total)
            with job.timed("runs"):
                job.sweep_runs(sweep, origins)
            cell_of = tables.run_dirs(con, sweep)
            for step, (artefact, loader) in enumerate(
                (("spans.jsonl", tables.load_spans), ("model_calls.jsonl", tables.load_calls)), 1
            ):
                job.progress(artefact, i * 4 + step, total)
                with job.timed(artefact):
                    job.sweep_artefact(sweep, cell_of, artefact, loader)
            job.progress("recordings", i * 4 + 3, total)
            with job.timed("recordings"):
                tables.index_recordings(con, sweep, cell_of, job.problem, job.label)
            for p in sweep.problems:
                job.problem(job.label(Path(p.file)), p.line, p.reason)
        with job.timed("finish"):
            job.dedupe_runs(origins)
            con.execute("UPDATE runs_stage SET source = 'cab' WHERE source IS NULL")
            job.check_values(origins)
            tables.finish(con, _weights_case(sweeps) if sweeps else "NULL", MISMATCH_TOLERANCE)
            tables.add_problems(con, job.report.problems)
        for name in ("runs", "spans", "model_calls", "recordings"):
            setattr(job.report, name, con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])
        job.progress("done", total, total)
    finally:
        con.close()
        job.tmp.cleanup()
    return job.report


def _cell_id(sweep: Sweep, rd: RunDir) -> str:
    return str(CellId(sweep.sweep_id, rd.tui, rd.model, rd.task_id, rd.run))


__all__ = ["KEYS", "IngestReport", "ingest"]
