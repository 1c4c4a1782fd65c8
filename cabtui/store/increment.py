"""Refreshing a cache by reading only what was appended to a sweep's files and what changed in
its run folders.

A cache remembers each sweep-level JSON-lines file it read (results.jsonl, spans.jsonl,
model_calls.jsonl: meta ``files``) with its size, modification time, the bytes up to its
last newline and how DuckDB typed it; each file of its run folders (the ``run_files`` table);
and a digest of every other file of the opened directory (meta ``tree``). When only those
files changed, a refresh reads the appended tails of the sweep-level files: the runs, spans,
model calls and problems of the tails are added, the counts of the runs they touch are
recounted, and everything else stays. A last line without its newline is read (a cold ingest
reads it too) but not passed: the next refresh removes what it gave and reads it again. The
run folders that changed are read again one by one (:mod:`cabtui.store.increment_runs`), and
the cells of a Harbor job whose trial folders changed are imported again
(:mod:`cabtui.store.increment_jobs`).

Whatever this cannot do exactly as a cold ingest would, it does not do: it raises
:class:`NotIncremental` and the cache is built again whole. That is the case for any change to
another file (sweep.json, a new or deleted sweep file, a run's own record.json), a file that
shrank or whose read part changed, a file read carefully, a tail whose lines DuckDB would type
otherwise, a stream that needs the careful reading, and a run line that takes precedence over
one read before. A Terminal-Bench run or an Inspect log that changed is built again whole (its
files are in the digest).

The refresh writes a copy of the cache and renames it into place: a process that has the cache
open keeps reading the file it opened, never a half-applied refresh.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cabtui.scoring import MISMATCH_TOLERANCE
from cabtui.sources import discover
from cabtui.store import tables
from cabtui.store.cache_files import open_to_write, put_in_place, staged
from cabtui.store.checks import at
from cabtui.store.increment_jobs import refresh_jobs
from cabtui.store.increment_runs import changed_folders, refresh_folders, store_run_files
from cabtui.store.ingest import (
    MEMORY_LIMIT,
    Ingest,
    IngestReport,
    Progress,
    imported,
    weights_case,
)
from cabtui.store.orphans import update_orphans
from cabtui.store.reading import JSON_OPTIONS, SAMPLE_ROWS, NotIncremental, Source
from cabtui.store.tails import (
    Entry,
    FileState,
    RunKey,
    count_lines,
    digest,
    run_files_of,
    with_contents,
)
from cabtui.sweep.layout import Sweep
from cabtui.sweep.lines import MAX_LINE_BYTES

Digest = Callable[[list[Entry], frozenset[str]], str]
_ORDER = {"results.jsonl": 0, "spans.jsonl": 1, "model_calls.jsonl": 2}
_WHAT = {"spans.jsonl": "spans", "model_calls.jsonl": "model calls"}


@dataclass
class Tail(Source):
    """The appended part of a file, copied aside; its lines are counted after those before it
    (counted only when a problem needs a line number)."""

    before: Callable[[], int] = lambda: 0

    def where(self, rows: list[int]) -> dict[int, tuple[str, int]]:
        self.line_base = self.before()
        return super().where(rows)


@dataclass
class _Job:
    ingest: Ingest
    root: Path
    sweeps: dict[str, Sweep]
    origins: dict[int, Source] = field(default_factory=dict)
    touched: set[str] = field(default_factory=set)  # runs whose spans or calls changed
    keys: set[tuple[str, str, str, str, int]] = field(default_factory=set)  # runs added/removed
    gone: set[str] = field(default_factory=set)  # cell_ids of runs taken back
    gone_in: dict[str, set[str]] = field(default_factory=dict)  # the same by sweep
    states: list[FileState] = field(default_factory=list)
    n: int = 0
    checked: int = 0  # the problems reported before this many were checked


def refresh(
    sweep: Path,
    db: Path,
    meta: dict[str, str],
    source: str | None,
    walked: tuple[list[Entry], str],
    digest_of: Digest,
    suffix: str,
    progress: Progress | None = None,
) -> IngestReport:
    """Bring the cache ``db`` of ``sweep`` up to date by reading what was appended; raise
    NotIncremental when that cannot give what a cold ingest gives (nothing is changed then).
    ``walked``: the files of the sweep as walked, and the fingerprint the cache gets of them."""
    started = time.perf_counter()
    entries, fp = walked
    if source not in (None, "cab") or meta.get("schema_version") != tables.SCHEMA_VERSION:
        raise NotIncremental("another reading or schema")
    if "tree" not in meta:
        raise NotIncremental("the cache does not follow its files")
    try:
        known = tables.files_of(meta.get("files"))
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise NotIncremental("the files of the cache cannot be read") from e
    tracked = frozenset(f.rel for f in known)
    sweeps, found = discover(sweep, source)
    if any(s.problems for s in sweeps):
        raise NotIncremental("the sweeps' own files have problems: a cold ingest reports them")
    if tables.listed_json(found) != meta.get("listed", "[]"):
        # the same problems (a trial that stopped without its result, an unreadable one) are
        # in the cache already; others are reported by a cold ingest
        raise NotIncremental("listing the sweep found other problems than before")
    owned: dict[str, RunKey] = {}
    for s in sweeps:
        owned.update(run_files_of(s, sweep))
    owned = with_contents(entries, owned)
    if digest_of(entries, tracked | owned.keys()) + suffix != meta["tree"]:
        raise NotIncremental("files other than the sweep-level JSON lines and run folders changed")
    now = {rel: (size, mtime) for rel, size, mtime in entries}
    grown: list[tuple[FileState, int, int]] = []
    for f in known:
        if f.rel not in now:
            raise NotIncremental(f"{f.rel} was removed")
        size, mtime = now[f.rel]
        if (size, mtime) == (f.size, f.mtime_ns):
            continue
        if size < f.size or digest(sweep / f.rel, f.offset) != f.head:
            raise NotIncremental(f"{f.rel} was rewritten")
        if f.rows and f.types is None:
            raise NotIncremental(f"{f.rel} was read carefully")
        grown.append((f, size, mtime))
    with staged(db) as tmp:
        copied = time.perf_counter()
        shutil.copyfile(db, tmp)
        copied = time.perf_counter() - copied
        report = _apply(
            sweep, tmp, (sweeps, entries, owned), grown, known, (meta.get("fingerprint"), fp),
            progress,
        )  # fmt: skip
        put_in_place(tmp, db)
    report.seconds["copy"] = copied
    report.seconds["refresh"] = time.perf_counter() - started
    return report


def _apply(
    root: Path,
    tmp: Path,
    found: tuple[list[Sweep], list[Entry], dict[str, RunKey]],
    grown: list[tuple[FileState, int, int]],
    known: list[FileState],
    fingerprints: tuple[str | None, str],
    progress: Progress | None,
) -> IngestReport:
    """Apply the tails of ``grown`` and the run folders that changed to the copy ``tmp`` of
    the cache whose fingerprint was the first of ``fingerprints`` (and is the second after);
    ``found``: the sweeps there now, the files (the walk) and the files of their run folders."""
    fingerprint_before, fp = fingerprints
    sweeps, entries, owned = found
    con = open_to_write(tmp, MEMORY_LIMIT)
    ingest = Ingest(con, root, progress)
    ingest.strict = True
    try:
        copied = con.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchall()
        if copied != [(fingerprint_before,)]:
            raise NotIncremental("the cache was replaced meanwhile")
        con.execute(tables.STAGE_DDL)
        con.execute(tables.DELTA_DDL)
        listed = sorted((s.name, ingest.label(s.path)) for s in sweeps)
        if con.execute("SELECT sweep_dir, path FROM sweeps ORDER BY ALL").fetchall() != listed:
            raise NotIncremental("a sweep was added or removed")
        changed = changed_folders(con, entries, owned)
        job = _Job(ingest, root, {s.name: s for s in sweeps})
        index = {s.name: i for i, s in enumerate(sweeps)}
        grown.sort(key=lambda g: (index.get(g[0].sweep_dir, -1), _ORDER.get(g[0].name, 3)))
        with ingest.timed("tails"):
            for f, size, mtime in grown:
                _read_tail(job, f, size, mtime)
        for p in ingest.report.problems:
            if p.line is None:
                raise NotIncremental(f"{p.file}: {p.reason}")
        with ingest.timed("run folders"):
            folders = refresh_folders(ingest, sweeps, changed, job.gone_in, job.keys, job.origins)
            jobs = refresh_jobs(ingest, sweeps, changed, job.origins)
            for part in (folders, jobs):
                job.gone |= part.gone
                job.keys |= part.keys
                job.touched |= part.touched
            job.checked = len(ingest.report.problems)  # a folder's problems may have no line
        with ingest.timed("runs"):
            tables.add_counts(con)
            _runs(job, known)
        with ingest.timed("counts"):
            tables.recount(con, sorted(job.touched))
            update_orphans(con, job.gone)
        tables.add_problems(con, ingest.report.problems)
        now = {f.rel: f for f in job.states}
        files = tables.files_json([now.get(f.rel, f) for f in known])
        con.execute("UPDATE meta SET value = ? WHERE key = 'files'", [files])
        store_run_files(con, entries, owned)
        con.execute("UPDATE meta SET value = ? WHERE key = 'fingerprint'", [fp])
        # every run that was running was read again (run folders without a record, cells of
        # a job with a trial running): when that was decided is now (cabtui.store.store)
        con.execute("UPDATE meta SET value = ? WHERE key = 'built_at'", [repr(time.time())])
        for name in ("runs", "spans", "model_calls", "recordings"):
            n = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
            setattr(ingest.report, name, n)
        ingest.report.sweeps = list(job.sweeps)
        with ingest.timed("checkpoint"):
            con.execute("CHECKPOINT")
    except duckdb.Error as e:
        raise NotIncremental(str(e).splitlines()[0] if str(e) else type(e).__name__) from e
    finally:
        con.close()
        ingest.tmp.cleanup()
    return ingest.report


def _read_tail(job: _Job, f: FileState, size: int, mtime: int) -> None:
    """Read what follows ``f.offset`` in its file (up to ``size``), first taking back what the
    last read gave of a line that had no newline yet."""
    con, ingest = job.ingest.con, job.ingest
    sweep = job.sweeps.get(f.sweep_dir)
    if sweep is None or sweep.importer is not None or sweep.source != "cab":
        raise NotIncremental(f"{f.sweep_dir} is not a sweep of cabtui's own format")
    path = job.root / f.rel
    lines: list[int | None] = [f.lines]

    def lines_before() -> int:
        known = lines[0]
        if known is None:
            known = lines[0] = count_lines(path, f.offset)
        return known

    if f.size > f.offset:  # the last read ended in a line without its newline: take it back
        _take_back(job, f, lines_before())
    with open(path, "rb") as r:
        r.seek(f.offset)
        data = r.read(size - f.offset)
    if len(data) != size - f.offset:
        raise NotIncremental(f"{f.rel} changed while read")
    cut = data.rfind(b"\n") + 1
    if not data.strip():  # blank lines, or nothing: no rows
        new_lines = None if lines[0] is None else lines[0] + data[:cut].count(b"\n")
        job.states.append(
            dataclasses.replace(f, size=size, mtime_ns=mtime, offset=f.offset + cut,
                                lines=new_lines, head=digest(path, f.offset + cut))
        )  # fmt: skip
        return
    job.n += 1
    out = Path(ingest.tmp.name) / f"tail-{job.n}.jsonl"
    out.write_bytes(data)
    tail = Tail(out, f.label, row_base=f.rows, before=lines_before)
    fixed = tables.SWEEP_READ.get(f.name)  # spans and model calls: their types are fixed
    if fixed is not None:
        tail.schema = fixed
    elif f.rows:
        tail.schema = dict(f.types or [])
        if f.rows < SAMPLE_ROWS:  # DuckDB types a file by its first rows: some are new
            _same_types(con, path, size, f, Path(ingest.tmp.name) / f"whole-{job.n}.jsonl")
    if f.name == "results.jsonl":
        if f.source_order is None:
            raise NotIncremental(f"{f.rel} has no place among the runs")
        job.origins[f.source_order] = tail
        ingest.load_runs(sweep, tail, f.source_order)
    else:
        loader = tables.load_spans if f.name == "spans.jsonl" else tables.load_calls
        if ingest.read(tail, "raw", "cell_id"):
            loader(con, "raw", f.label, f.rows)
            added = con.execute(
                "INSERT INTO delta SELECT cell_id, ?, ?, count(*) FROM raw WHERE cell_id IS NOT NULL "
                "AND typeof(cell_id) = 'VARCHAR' GROUP BY cell_id RETURNING cell_id",
                [_WHAT[f.name], f.label],
            ).fetchall()
            job.touched.update(c for (c,) in added)
    rows = int(con.execute("SELECT count(*) FROM raw").fetchall()[0][0])
    if data[cut:].strip():
        rows -= 1  # again a last line without its newline: read again next time
    new_lines = None if lines[0] is None else lines[0] + data[:cut].count(b"\n")
    offset = f.offset + cut
    job.states.append(
        FileState(f.sweep_dir, f.name, f.rel, f.label, f.source_order, size, mtime, offset,
                  f.rows + rows, new_lines, digest(path, offset),
                  f.types if f.rows else ingest.read_types)
    )  # fmt: skip
    if not f.rows and ingest.read_types is None and f.rows + rows:
        raise NotIncremental(f"{f.rel} needs the careful reading")


def _same_types(con: duckdb.DuckDBPyConnection, path: Path, size: int, f: FileState,
                whole: Path) -> None:  # fmt: skip
    """NotIncremental unless DuckDB types the file as it is now as it typed it before."""
    with open(path, "rb") as r, open(whole, "wb") as w:
        w.write(r.read(size))
    rows = con.execute(
        f"DESCRIBE SELECT * FROM read_json(?, {JSON_OPTIONS})", [str(whole), MAX_LINE_BYTES + 1]
    ).fetchall()
    if [(r[0], r[1]) for r in rows] != [tuple(t) for t in (f.types or [])]:
        raise NotIncremental(f"{f.rel}: its new lines change how its columns are typed")
    whole.unlink()


def _take_back(job: _Job, f: FileState, lines: int) -> None:
    """Remove what the last read gave of the line that had no newline yet."""
    con = job.ingest.con
    if f.name == "results.jsonl":
        gone = con.execute(
            "DELETE FROM runs WHERE sweep_dir = ? AND source_file = ? AND source_row > ? "
            "RETURNING cell_id, sweep_dir, tui, model, task_id, run",
            [f.sweep_dir, f.label, f.rows],
        ).fetchall()
        for cell_id, *key in gone:
            job.keys.add((key[0], key[1], key[2], key[3], int(key[4])))
            job.touched.discard(cell_id)
            job.gone.add(cell_id)
            job.gone_in.setdefault(f.sweep_dir, set()).add(cell_id)
            first = con.execute(
                "SELECT count(*) FROM problems WHERE starts_with(reason, ?)",
                [f"duplicate cell_id {cell_id} (first at {f.label}:"],
            ).fetchall()[0][0]
            if first:
                raise NotIncremental("a run taken back was the first of a duplicate")
    else:
        table, row = ("spans", "seq") if f.name == "spans.jsonl" else ("model_calls", "source_row")
        taken = Counter(
            c for (c,) in con.execute(
                f"DELETE FROM {table} WHERE source_file = ? AND {row} >= ? RETURNING cell_id",
                [f.label, f.rows],
            ).fetchall()
        )  # fmt: skip
        if taken:
            con.execute(
                "INSERT INTO delta SELECT unnest(?::VARCHAR[]), ?, ?, -unnest(?::BIGINT[])",
                [list(taken), _WHAT[f.name], f.label, list(taken.values())],
            )
        job.touched.update(taken)
    con.execute("DELETE FROM problems WHERE file = ? AND line > ?", [f.label, lines])


def _runs(job: _Job, known: list[FileState]) -> None:
    """Check the staged runs against those read before, as a cold ingest's checks would, and
    add them."""
    con, ingest = job.ingest.con, job.ingest
    staged = con.execute(
        "SELECT cell_id, sweep_dir, tui, model, task_id, run, source_order, source_row "
        "FROM runs_stage"
    ).fetchall()
    for r in staged:
        job.keys.add((r[1], r[2], r[3], r[4], int(r[5])))
    if not staged:
        return
    order_of = {(f.sweep_dir, f.label): f for f in known if f.source_order is not None}
    before = con.execute(
        "SELECT cell_id, sweep_dir, source_file, source_row FROM runs "
        "WHERE cell_id IN (SELECT cell_id FROM runs_stage)"
    ).fetchall()
    first: dict[str, tuple[int, int, str | None]] = {}  # cell_id -> order, row, file if before
    for cell_id, sweep_dir, file, row in before:
        f = order_of.get((sweep_dir, file))
        if f is None or f.source_order is None:
            raise NotIncremental("a new run has the cell_id of a run of another file")
        first[cell_id] = (f.source_order, int(row), f.rel)
    dups: list[tuple[str, int, int]] = []
    for cell_id, *_, s_order, s_row in sorted(staged, key=lambda r: (r[6], r[7])):
        here = (int(s_order), int(s_row))
        if cell_id not in first:
            first[cell_id] = (*here, None)
            continue
        if first[cell_id][:2] > here:
            raise NotIncremental("a new run line comes before one read already")
        dups.append((cell_id, *here))
    for cell_id, order, row in dups:
        file, line = at(job.origins[order], row)
        f_order, f_row, f_rel = first[cell_id]
        if f_rel is None:
            origin = job.origins[f_order]
        else:
            origin = Source(job.root / f_rel, next(f.label for f in known if f.rel == f_rel))
        ffile, fline = at(origin, f_row, "?")
        ingest.problem(
            file, line, f"duplicate cell_id {cell_id} (first at {ffile}:{fline}); skipped"
        )
    if dups:
        con.execute("CREATE TEMP TABLE dups (c VARCHAR, o INTEGER, r BIGINT)")
        con.executemany("INSERT INTO dups VALUES (?, ?, ?)", dups)
        con.execute(
            "DELETE FROM runs_stage WHERE (cell_id, source_order, source_row) IN "
            "(SELECT (c, o, r) FROM dups)"
        )
    con.execute("UPDATE runs_stage SET source = 'cab' WHERE source IS NULL")
    ingest.check_values(job.origins)
    for p in ingest.report.problems[job.checked :]:
        if p.line is None:
            raise NotIncremental(f"{p.file}: {p.reason}")
    sweeps = list(job.sweeps.values())
    tables.append_runs(con, weights_case(sweeps), MISMATCH_TOLERANCE, imported(sweeps))
    # the runs added were counted as they were added: only those read before are counted again
    job.touched.difference_update(
        c for (c,) in con.execute("SELECT cell_id FROM runs_stage").fetchall()
    )


__all__ = ["NotIncremental", "refresh"]
