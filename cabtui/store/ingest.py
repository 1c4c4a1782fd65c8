"""Reading a sweep directory (and what other harnesses write, through :mod:`cabtui.sources`)
into a DuckDB file: the runs, spans, model calls and recordings of each sweep, then the checks
and the final tables. How each stream is read is :mod:`cabtui.store.reading`; the checks of the
runs are :mod:`cabtui.store.checks`."""

from __future__ import annotations

import json
import os
import tempfile
import time
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from cabtui.scoring import MISMATCH_TOLERANCE, Weights, composite_sql
from cabtui.sources import discover
from cabtui.store import tables
from cabtui.store.cache_files import open_to_write
from cabtui.store.checks import Checks
from cabtui.store.columnar import load_columnar
from cabtui.store.reading import Reading, Source
from cabtui.store.recording_index import index_recordings
from cabtui.store.schema import KEYS, flatten_select, lit
from cabtui.store.tails import FileState, RunKey, digest, last_newline_end, run_files_of, stat_of
from cabtui.sweep.cellid import CELL_ID_PATTERN, RUN_SUFFIX_PATTERN, CellId, parse_cell_id
from cabtui.sweep.layout import STALE_S, RunDir, Sweep
from cabtui.sweep.problems import Problem

Progress = Callable[[str, int, int], None]
Loader = Callable[[duckdb.DuckDBPyConnection, str, str | None, int], None]
SOURCES_PER_SWEEP = 3  # results.jsonl, the runs' own record.json, the runs still running
MEMORY_LIMIT = "640MB"  # DuckDB spills to disk past this; keeps an ingest's peak under 1 GB


@dataclass
class IngestReport:
    runs: int = 0
    spans: int = 0
    model_calls: int = 0
    recordings: int = 0
    sweeps: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # time spent per stage
    problems: list[Problem] = field(default_factory=list)
    files: list[FileState] = field(default_factory=list)  # the files a refresh can follow
    run_files: dict[str, RunKey] = field(default_factory=dict)  # run folder files it can follow
    listed: list[Problem] = field(default_factory=list)  # the problems of listing the sweeps


class Ingest(Reading, Checks):
    def __init__(self, con: duckdb.DuckDBPyConnection, root: Path, progress: Progress | None):
        self.con = con
        self.root = root
        self.progress = progress or (lambda stage, done, total: None)
        self.report = IngestReport()
        # the pid lets a later cab-tui remove it if this process is killed (cache_files.stale_temps)
        self.tmp = tempfile.TemporaryDirectory(prefix=f"cabtui-ingest-{os.getpid()}-")
        self.order = 0
        self.files: list[FileState] = []  # the sweep-level files read, for a later refresh

    def problem(self, file: str, line: int | None, reason: str) -> None:
        self.report.problems.append(Problem(file, line, reason))

    def label(self, path: Path) -> str:
        try:
            return str(path.relative_to(self.root))
        except ValueError:
            return str(path)

    # -- runs -----------------------------------------------------------------------------------

    def load_runs(self, sweep: Sweep, source: Source, order: int) -> None:
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
        params: list[object] = []
        file = lit(source.label)
        if sweep.importer is not None and source.files is not None:
            file = "list_element(?::VARCHAR[], CAST(rowid AS INTEGER) + 1)"  # the run's own file
            params.append([source.files[i] for i in source.row_file])
        self.con.execute(
            f"""INSERT INTO runs_stage BY NAME SELECT
                cell_id, {body} AS cell, {parts}[1] AS sweep_id, {parts}[2] AS tui,
                {parts}[3] || '/' || {parts}[4] AS model, {parts}[5] || '/' || {parts}[6] AS task_id,
                {parts}[5] AS family,
                coalesce(TRY_CAST(nullif(regexp_extract(cell_id, {lit(RUN_SUFFIX_PATTERN)}, 1), '') AS INTEGER), 1) AS run,
                {lit(sweep.name)} AS sweep_dir, {file} AS source_file,
                rowid + 1 + {source.row_base} AS source_row, {order} AS source_order,
                {", ".join(flat.select)}
            FROM raw WHERE {valid}""",
            params,
        )

    def track(
        self, sweep: Sweep, src: Source, order: int | None, before: tuple[int, int] | None
    ) -> None:
        """Remember how the sweep-level file ``src`` was just read into raw (``before``: its
        size and modification time before), so that a refresh reads only what follows. A file
        of another harness, read carefully, or written to while read is not remembered: any
        change to it rebuilds the cache."""
        path = src.path
        if sweep.importer is not None or before is None or path.is_symlink():
            return
        try:
            rows = self._count("raw")
        except duckdb.Error:
            return
        if (self.read_types is None and rows) or stat_of(path) != before:
            return
        size, mtime_ns = before
        offset = last_newline_end(path, size)
        with open(path, "rb") as f:
            f.seek(offset)
            if f.read(size - offset).strip():
                rows -= 1  # a last line without its newline: read again once it has one
        self.files.append(
            FileState(sweep.name, path.name, _rel(path, self.root), src.label, order, size,
                      mtime_ns, offset, rows, None, digest(path, offset), self.read_types)
        )  # fmt: skip

    @contextmanager
    def timed(self, stage: str) -> Iterator[None]:
        t = time.perf_counter()
        try:
            yield
        finally:
            secs = self.report.seconds
            secs[stage] = secs.get(stage, 0.0) + time.perf_counter() - t

    def sweep_runs(self, sweep: Sweep, origins: dict[int, Source], base: int) -> None:
        """The run records of results.jsonl, then runs/*/record.json for runs it lacks, then
        the runs still running; numbered ``base`` (+1, +2) among the sources of run records:
        which comes first decides between runs of one cell_id."""
        results = sweep.file("results.jsonl")
        if results is not None:
            src = Source(results, self.label(results))
            if sweep.row_files:  # imported: each line points at the file it came from
                src.files = list(sweep.row_files)
                src.row_file = array("I", range(len(sweep.row_files)))
                src.row_line = array("I", [1] * len(sweep.row_files))
            origins[base] = src
            before = stat_of(results)
            self.load_runs(sweep, src, base)
            self.track(sweep, src, base, before)
        known = set(tables.run_dirs(self.con, sweep))
        loose = [
            (rd, _cell_id(sweep, rd))
            for rd in sweep.run_dirs
            if "record.json" in rd.files and rd.key not in known
        ]
        src2 = self.concat(sweep, loose, "record.json")
        if src2 is not None:
            origins[base + 1] = src2
            self.load_runs(sweep, src2, base + 1)
        if sweep.importer is None:
            self.load_running(sweep, set(tables.run_dirs(self.con, sweep)), origins, base + 2)

    def load_running(
        self,
        sweep: Sweep,
        known: set[tuple[str, str, str, int]],
        origins: dict[int, Source],
        order: int,
        rds: list[RunDir] | None = None,
    ) -> None:
        """Stage the runs still running (see :meth:`running`) as the source ``order``."""
        src = self.running(sweep, known, rds)
        if src is not None:
            origins[order] = src
            self.load_runs(sweep, src, order)

    def running(
        self, sweep: Sweep, known: set[tuple[str, str, str, int]], rds: list[RunDir] | None = None
    ) -> Source | None:
        """Runs still running, in a sweep written to within the hour (its results.jsonl, else
        its sweep.json): a run folder (of ``rds``, by default all) with no record yet (in
        results.jsonl or its record.json) written to within the hour and since results.jsonl
        last was (a writer adds a run's line once the run is done). Each is a record with
        status running, started when its first file was written."""
        out = Path(self.tmp.name) / f"running-{self.order}.jsonl"
        self.order += 1
        src = Source(out, "running", files=[])
        assert src.files is not None
        now = time.time()
        results = sweep.file("results.jsonl")
        if results is None and os.path.lexists(sweep.path / "results.jsonl"):
            return None  # there but unusable (reported): nothing tells a run done from running
        since = _mtime(results if results is not None else sweep.path / "sweep.json")
        if since is None or now - since > STALE_S:
            return None  # the sweep is not being written
        with open(out, "w", encoding="utf-8") as w:
            for rd in sweep.run_dirs if rds is None else rds:
                if rd.key in known or "record.json" in rd.files or not rd.files:
                    continue
                times = [t for t in (_mtime(sweep.path / f) for f in rd.files.values()) if t]
                if not times or now - max(times) > STALE_S or max(times) < since:
                    continue  # silent for an hour, or before the last run done: not running
                started = datetime.fromtimestamp(min(times), timezone.utc).isoformat()
                record = {
                    "cell_id": _cell_id(sweep, rd),
                    "status": "running",
                    "started_at": started,
                }
                w.write(json.dumps(record) + "\n")
                src.files.append(self.label(sweep.path / rd.rel))
                src.row_file.append(len(src.files) - 1)
                src.row_line.append(1)
        return src if src.files else None

    def sweep_artefact(
        self,
        sweep: Sweep,
        cell_of: dict[tuple[str, str, str, int], str],
        artefact: str,
        loader: Loader,
    ) -> None:
        """Spans or model calls: the sweep-level file, then the per-run files in one stream."""
        self.sweep_level(sweep, artefact, loader)
        self.per_run(sweep, cell_of, artefact, loader)

    def sweep_level(self, sweep: Sweep, artefact: str, loader: Loader) -> bool:
        """The sweep-level file of an artefact; whether any row was read (left in raw: for an
        imported sweep, its rows' cell_ids)."""
        columnar = sweep.columnar.get(artefact)
        if columnar is not None:
            return load_columnar(self.con, artefact, columnar)
        level = sweep.file(artefact)
        if level is None:
            return False
        src = Source(level, self.label(level), schema=tables.SWEEP_READ[artefact])
        before = stat_of(level)
        read = self.read(src, "raw", "cell_id")
        if read:
            loader(self.con, "raw", src.label, 0)
        self.track(sweep, src, None, before)
        return read

    def per_run(
        self,
        sweep: Sweep,
        cell_of: dict[tuple[str, str, str, int], str],
        artefact: str,
        loader: Loader,
        rds: list[RunDir] | None = None,
    ) -> bool:
        """The per-run files of an artefact (of the run folders ``rds``; by default all) in
        one stream; whether any row was read (left in raw)."""
        per_run = [
            (rd, cell_of[rd.key])
            for rd in (sweep.run_dirs if rds is None else rds)
            if artefact in rd.files and rd.key in cell_of
        ]
        src = self.concat(sweep, per_run, artefact)
        if src is not None:
            src.schema = tables.PER_RUN_READ[artefact]
        if src is not None and self.read(src, "raw", "cell_id"):
            loader(self.con, "raw", None, 0)
            return True
        return False


def weights_case(sweeps: list[Sweep]) -> str:
    """The composite with each sweep's own weights; none for sources that define none."""
    if not sweeps:
        return "NULL"
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


def imported(sweeps: list[Sweep]) -> list[str]:
    """The sweeps (by sweep_dir) whose runs each come from a file of its own."""
    return [s.name for s in sweeps if s.importer is not None]


def ingest(
    path: Path, db_path: Path, progress: Progress | None = None, source: str | None = None
) -> IngestReport:
    """Read the sweep(s) at ``path`` into a new DuckDB file at ``db_path`` (``source``: read
    everything there as one kind: cab, harbor or tb)."""
    path = Path(path)
    started = time.perf_counter()
    sweeps, found = discover(path, source)
    con = open_to_write(db_path, MEMORY_LIMIT)
    job = Ingest(con, path, progress)
    job.report.seconds["discover"] = time.perf_counter() - started
    job.report.problems.extend(found)
    job.report.listed = list(found)
    try:
        tables.create(con)
        origins: dict[int, Source] = {}
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
                job.sweep_runs(sweep, origins, SOURCES_PER_SWEEP * i)
            cell_of = tables.run_dirs(con, sweep)
            for step, (artefact, loader) in enumerate(
                (("spans.jsonl", tables.load_spans), ("model_calls.jsonl", tables.load_calls)), 1
            ):
                job.progress(artefact, i * 4 + step, total)
                with job.timed(artefact):
                    job.sweep_artefact(sweep, cell_of, artefact, loader)
            job.progress("recordings", i * 4 + 3, total)
            with job.timed("recordings"):
                index_recordings(con, sweep, cell_of, job.problem, job.label)
            for p in sweep.problems:
                job.problem(job.label(Path(p.file)), p.line, p.reason)
            job.report.run_files.update(run_files_of(sweep, path))
        with job.timed("finish"):
            job.dedupe_runs(origins)
            job.check_values(origins)
            tables.finish(con, weights_case(sweeps), MISMATCH_TOLERANCE, imported(sweeps))
            tables.add_problems(con, job.report.problems)
            job.report.files = job.files
        for name in ("runs", "spans", "model_calls", "recordings"):
            setattr(job.report, name, con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])
        job.progress("done", total, total)
    finally:
        con.close()
        job.tmp.cleanup()
    return job.report


def _rel(path: Path, root: Path) -> str:
    """``path`` relative to the opened directory, as the fingerprint walk names it."""
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name


def _mtime(path: Path) -> float | None:
    try:
        return path.stat().st_mtime
    except OSError:
        return None


def _cell_id(sweep: Sweep, rd: RunDir) -> str:
    return str(CellId(sweep.sweep_id, rd.tui, rd.model, rd.task_id, rd.run))


__all__ = ["KEYS", "IngestReport", "ingest"]
