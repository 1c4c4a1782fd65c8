"""Refreshing what a cache holds of the run folders that changed (runs/<tui>/.../run-<N>/).

A cache remembers every file of its sweeps' run folders (the ``run_files`` table: path, size,
modification time and run). A refresh compares them with the files there now; a run folder
with a new, grown, rewritten or deleted file is read again on its own: its spans and model
calls of its own files, its recording, its problems, and whether it is still running. The
folders of runs added or taken back by the appended lines of results.jsonl are read again too
(a run folder means nothing until its run has a record), and so is every folder without a
record, since whether one is still running depends on when results.jsonl was last written.

A run's own files are read with fixed column types (cabtui.store.tables.PER_RUN_READ), so that
its rows are the same whichever other runs are read with it. What this cannot follow exactly
builds the cache again whole (:class:`NotIncremental`): a run's own record.json, a row of a
run's own file that names another run, two folders of one run (run-1 and run-01), two sweeps
of one sweep_id with run folders; and, checked by :mod:`cabtui.store.increment`, a sweep
added or removed, or a listing of the sweep that found problems.
"""

from __future__ import annotations

import posixpath
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cabtui.store import tables
from cabtui.store.ingest import SOURCES_PER_SWEEP, Ingest
from cabtui.store.reading import NotIncremental, Source
from cabtui.store.recording_index import index_recordings
from cabtui.store.schema import lit
from cabtui.store.tails import Entry, RunKey
from cabtui.sweep.layout import RunDir, Sweep, run_dir_path

# a run's artefacts read again by a refresh: file name, what counts call them, table, loader
ARTEFACTS = (
    ("spans.jsonl", "spans", "spans", tables.load_spans),
    ("model_calls.jsonl", "model calls", "model_calls", tables.load_calls),
)
_NO_RECORD = "run directory without a run record; ignored"


@dataclass
class Folders:
    """What the refresh of run folders changed, for the steps after it."""

    gone: set[str] = field(default_factory=set)  # cell_ids of runs taken back
    keys: set[tuple[str, str, str, str, int]] = field(default_factory=set)  # runs taken back
    touched: set[str] = field(default_factory=set)  # runs whose spans or calls changed


def changed_folders(
    con: duckdb.DuckDBPyConnection, entries: list[Entry], owned: dict[str, RunKey]
) -> dict[RunKey, str]:
    """The runs whose folder has a file added, changed or removed since the cache was built
    or refreshed, with the folder's path from the opened directory."""
    entries = [*entries, *_folders(owned)]
    before = {
        rel: (size, mtime, (sweep_dir, tui, model, task_id, int(run)))
        for rel, size, mtime, sweep_dir, tui, model, task_id, run in con.execute(
            "SELECT * FROM run_files"
        ).fetchall()
    }
    now = {rel: (size, mtime, owned[rel]) for rel, size, mtime in entries if rel in owned}
    changed: dict[RunKey, str] = {}
    for rel in before.keys() | now.keys():
        was, got = before.get(rel), now.get(rel)
        if was == got:
            continue
        for side in (was, got):
            if side is not None:
                changed[side[2]] = posixpath.dirname(rel)
        if rel.endswith("/record.json"):
            raise NotIncremental(f"{rel}: a run's own record changed")
    return changed


def _folders(owned: dict[str, RunKey]) -> list[Entry]:
    """The run folders themselves, as entries (a folder is there before any file of it)."""
    return [(rel, 0, 0) for rel in owned if rel.endswith("/")]


def store_run_files(
    con: duckdb.DuckDBPyConnection, entries: list[Entry], owned: dict[str, RunKey]
) -> None:
    """Remember the files of the run folders (``owned``: their runs) as ``entries`` gives
    them."""
    rows = [
        (rel, size, mtime, *owned[rel])
        for rel, size, mtime in [*entries, *_folders(owned)]
        if rel in owned
    ]
    con.execute("DELETE FROM run_files")
    if rows:
        cols = list(zip(*rows, strict=True))
        types = ("VARCHAR", "BIGINT", "BIGINT", "VARCHAR", "VARCHAR", "VARCHAR", "VARCHAR",
                 "INTEGER")  # fmt: skip
        con.execute(
            "INSERT INTO run_files SELECT " + ", ".join(f"unnest(?::{t}[])" for t in types),
            [list(c) for c in cols],
        )


def refresh_folders(
    ingest: Ingest,
    sweeps: list[Sweep],
    changed: dict[RunKey, str],
    gone: dict[str, set[str]],
    taken: set[tuple[str, str, str, str, int]],
    origins: dict[int, Source],
) -> Folders:
    """Read again the run folders of ``changed``, of the runs staged or taken back (``gone``:
    their cell_ids by sweep; ``taken``) and of every run without a record, in the copy of the
    cache ``ingest`` writes to. Counts of the rows taken back and added go to the temp table
    delta."""
    con = ingest.con
    out = Folders()
    cab = [s for s in sweeps if s.importer is None and s.source == "cab"]
    ids = Counter(s.sweep_id for s in cab)
    if any(ids[s.sweep_id] > 1 and s.run_dirs for s in cab):
        raise NotIncremental("two sweeps of one sweep_id: their runs' folders may cross")
    index = {s.name: i for i, s in enumerate(sweeps)}
    staged = {
        (sd, t, m, k, int(r))
        for sd, t, m, k, r in con.execute(
            "SELECT sweep_dir, tui, model, task_id, run FROM runs_stage"
        ).fetchall()
    }
    for sweep in sweeps:
        if sweep.importer is not None or sweep.source != "cab":
            continue
        by_key = {rd.key: rd for rd in sweep.run_dirs}
        if len(by_key) < len(sweep.run_dirs):
            raise NotIncremental(f"{sweep.name}: two run folders of one run (run-1, run-01)")
        mine = {k[1:] for k in changed if k[0] == sweep.name}
        mine |= {k[1:] for k in (*staged, *taken) if k[0] == sweep.name and k[1:] in by_key}
        mine |= _without_record(ingest, sweep)
        if mine:
            order = SOURCES_PER_SWEEP * index[sweep.name] + 2  # the sweep's running runs
            labels = [
                ingest.label(sweep.path / by_key[k].rel) if k in by_key
                else changed.get((sweep.name, *k), ingest.label(sweep.path / run_dir_path(*k)))
                for k in mine
            ]  # fmt: skip
            _drop_problems(ingest, sweep, labels)
            here = gone.get(sweep.name, set())
            _refresh_sweep(ingest, sweep, by_key, mine, (order, origins), here, out)
    return out


def _without_record(ingest: Ingest, sweep: Sweep) -> set[tuple[str, str, str, int]]:
    """The run folders the cache holds as running or as without a record."""
    con = ingest.con
    keys = {
        (t, m, k, int(r))
        for t, m, k, r in con.execute(
            "SELECT tui, model, task_id, run FROM runs WHERE sweep_dir = ? AND source_file = ?",
            [sweep.name, "running"],
        ).fetchall()
    }
    labels = {
        f for (f,) in con.execute(
            "SELECT file FROM problems WHERE reason = ?", [_NO_RECORD]
        ).fetchall()
    }  # fmt: skip
    if labels:
        base = ingest.label(sweep.path)  # "." for the opened directory itself
        rels = {f if base == "." else f.removeprefix(f"{base}/") for f in labels}
        keys |= {rd.key for rd in sweep.run_dirs if rd.rel in rels}
    return keys


def _refresh_sweep(
    ingest: Ingest,
    sweep: Sweep,
    by_key: dict[tuple[str, str, str, int], RunDir],
    mine: set[tuple[str, str, str, int]],
    running: tuple[int, dict[int, Source]],
    gone: set[str],
    out: Folders,
) -> None:
    """Read again the run folders ``mine`` of one sweep (``running``: the place of its running
    runs among the sources of run records, and those sources)."""
    con = ingest.con
    rds = sorted((by_key[k] for k in mine if k in by_key), key=lambda rd: rd.rel)
    if any("record.json" in rd.files for rd in rds):
        raise NotIncremental("a run folder with its own record changed")
    con.execute(
        "CREATE OR REPLACE TEMP TABLE mine AS SELECT unnest(?::VARCHAR[]) AS tui, "
        "unnest(?::VARCHAR[]) AS model, unnest(?::VARCHAR[]) AS task_id, "
        "unnest(?::INTEGER[]) AS run",
        [list(c) for c in zip(*sorted(mine), strict=True)],
    )
    mine_runs = (
        f"FROM runs WHERE sweep_dir = {lit(sweep.name)} AND (tui, model, task_id, run) IN "
        "(SELECT (tui, model, task_id, run) FROM mine)"
    )
    if con.execute(f"SELECT count(*) {mine_runs} AND source_file = 'record.json'").fetchall()[0][0]:
        raise NotIncremental("a run whose record is its own record.json")
    stopped = set()  # runs running before: staged again below if they still run
    for cell_id, *key in con.execute(
        f"DELETE {mine_runs} AND source_file = 'running' "
        "RETURNING cell_id, tui, model, task_id, run"
    ).fetchall():
        stopped.add(cell_id)
        out.keys.add((sweep.name, key[0], key[1], key[2], int(key[3])))
    out.gone |= stopped
    cells = sorted(
        {c for (c,) in con.execute(f"SELECT cell_id {mine_runs}").fetchall()} | gone | stopped
    )
    take_back(con, cells, out)
    known = _cells(con, sweep, mine_runs)
    ingest.load_running(sweep, set(known), running[1], running[0], rds)
    cell_of = _cells(con, sweep, mine_runs)
    allowed = set(cell_of.values())
    for name, what, _, loader in ARTEFACTS:
        if ingest.per_run(sweep, cell_of, name, loader, rds):
            count_read(con, what, out, allowed)
    index_recordings(con, sweep, cell_of, ingest.problem, ingest.label, rds)
    tables.rerecord(con, cells)  # the runs read before; those staged join it when added


def _cells(
    con: duckdb.DuckDBPyConnection, sweep: Sweep, mine_runs: str
) -> dict[tuple[str, str, str, int], str]:
    """The runs of the folders read again (in the cache, and staged): key -> cell_id."""
    rows = con.execute(
        f"SELECT cell_id, tui, model, task_id, run {mine_runs} UNION ALL SELECT r.cell_id, "
        "r.tui, r.model, r.task_id, r.run FROM runs_stage r JOIN mine m USING "
        "(tui, model, task_id, run) WHERE r.sweep_dir = ?",
        [sweep.name],
    ).fetchall()
    return {(t, m, k, int(r)): c for c, t, m, k, r in rows}


def count_read(
    con: duckdb.DuckDBPyConnection, what: str, out: Folders, allowed: set[str] | None = None
) -> None:
    """Add to delta the rows just read (in raw) of each run, as ``what`` (spans or model
    calls) from a run's own files; ``allowed``: the runs they may name."""
    added = con.execute(
        "SELECT cell_id, count(*) FROM raw WHERE cell_id IS NOT NULL "
        "AND typeof(cell_id) = 'VARCHAR' GROUP BY cell_id"
    ).fetchall()
    if allowed is not None and any(c not in allowed for c, _ in added):
        raise NotIncremental(f"a run's own {what} names another run")
    con.executemany("INSERT INTO delta VALUES (?, ?, NULL, ?)", [(c, what, n) for c, n in added])
    out.touched.update(c for c, _ in added)


def take_back(con: duckdb.DuckDBPyConnection, cells: list[str], out: Folders) -> None:
    """Remove the rows of the runs' own files and their recordings."""
    if not cells:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE cells AS SELECT unnest(?::VARCHAR[]) AS cell_id",
                [cells])  # fmt: skip
    for _, what, table, _ in ARTEFACTS:
        taken = Counter(
            c for (c,) in con.execute(
                f"DELETE FROM {table} WHERE source_file IS NULL AND cell_id IN "
                "(SELECT cell_id FROM cells) RETURNING cell_id"
            ).fetchall()
        )  # fmt: skip
        if taken:
            con.executemany(
                "INSERT INTO delta VALUES (?, ?, NULL, ?)",
                [(c, what, -n) for c, n in taken.items()],
            )
            out.touched.update(taken)
    con.execute("DELETE FROM recordings WHERE cell_id IN (SELECT cell_id FROM cells)")


def _drop_problems(ingest: Ingest, sweep: Sweep, labels: list[str]) -> None:
    """Remove the problems reported of the folders read again (``labels``) and of their
    files, and report again those found when the sweep was listed."""
    ingest.con.execute(
        "DELETE FROM problems WHERE list_contains(?::VARCHAR[], file) OR list_contains("
        "?::VARCHAR[], regexp_extract(file, '^(.*)/[^/]*$', 1))",
        [labels, labels],
    )
    folders = set(labels)
    for p in sweep.problems:
        file = ingest.label(Path(p.file))
        if file in folders or posixpath.dirname(file) in folders:
            ingest.problem(file, p.line, p.reason)
