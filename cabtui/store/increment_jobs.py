"""Refreshing the imported sweeps a refresh can read in part (Harbor jobs), in the copy of the
cache a refresh writes (cabtui.store.increment).

A trial's rerun is its place among the trials of its job, agent, model and task, and a trial
still running is named as the finished ones of its task are: a trial added, finished or
changed can change the others of its cell. So the unit read again is the cell: every cell with
a trial folder added, changed or removed, and every cell that had a trial running (it may have
finished or gone silent, and the job's own result.json, rewritten after every trial, says when
none runs any more), is taken back whole and imported again, its trials only. No Textual here.
"""

from __future__ import annotations

from pathlib import Path

from cabtui.store import tables
from cabtui.store.increment_runs import ARTEFACTS, Folders, count_read, take_back
from cabtui.store.ingest import SOURCES_PER_SWEEP, Ingest
from cabtui.store.reading import Source
from cabtui.store.recording_index import index_recordings
from cabtui.store.tails import JOB, RunKey
from cabtui.sweep.layout import Sweep

Cell = tuple[str, str, str]  # tui, model, task_id


def refresh_jobs(
    ingest: Ingest, sweeps: list[Sweep], changed: dict[RunKey, str], origins: dict[int, Source]
) -> Folders:
    """Take back and import again the cells of each job that changed (see the module); the
    runs are staged in runs_stage, the counts taken back and added go to delta."""
    out = Folders()
    for i, sweep in enumerate(sweeps):
        if sweep.reimport is None:
            continue
        cells = {k[1:4] for k in changed if k[0] == sweep.name and k[1:] != JOB}
        cells |= _running(ingest, sweep)
        if cells:
            _refresh_job(ingest, sweep, cells, (SOURCES_PER_SWEEP * i, origins), out)
    return out


def _running(ingest: Ingest, sweep: Sweep) -> set[Cell]:
    rows = ingest.con.execute(
        "SELECT DISTINCT tui, model, task_id FROM runs WHERE sweep_dir = ? AND status = 'running'",
        [sweep.name],
    ).fetchall()
    return {(t, m, k) for t, m, k in rows}


def _refresh_job(
    ingest: Ingest,
    sweep: Sweep,
    cells: set[Cell],
    place: tuple[int, dict[int, Source]],
    out: Folders,
) -> None:
    con = ingest.con
    assert sweep.reimport is not None
    con.execute(
        "CREATE OR REPLACE TEMP TABLE job_cells AS SELECT unnest(?::VARCHAR[]) AS tui, "
        "unnest(?::VARCHAR[]) AS model, unnest(?::VARCHAR[]) AS task_id",
        [list(c) for c in zip(*sorted(cells), strict=True)],
    )
    mine = "(tui, model, task_id) IN (SELECT (tui, model, task_id) FROM job_cells)"
    gone = con.execute(
        f"DELETE FROM runs WHERE sweep_dir = ? AND {mine} RETURNING cell_id, tui, model, "
        "task_id, run",
        [sweep.name],
    ).fetchall()
    for _, tui, model, task_id, run in gone:
        out.keys.add((sweep.name, tui, model, task_id, int(run)))
    out.gone.update(c for c, *_ in gone)
    take_back(con, sorted(c for c, *_ in gone), out)
    # the problems of the trial folders of these cells, as they were and as they are
    folders = [
        rel.removesuffix("/")
        for (rel,) in con.execute(
            f"SELECT rel FROM run_files WHERE sweep_dir = ? AND {mine} AND suffix(rel, '/')",
            [sweep.name],
        ).fetchall()
    ]
    keys = {rd.key for rd in sweep.run_dirs if rd.key[:3] in cells}
    folders += [ingest.label(sweep.path / rd.rel) for rd in sweep.run_dirs if rd.key in keys]
    con.execute(
        "DELETE FROM problems WHERE list_contains(?::VARCHAR[], file) OR len(list_filter("
        "?::VARCHAR[], lambda f: starts_with(file, f || '/'))) > 0",
        [folders, folders],
    )
    if not keys:
        return
    ingest.order += 1
    sweep.reimport(sweep, Path(ingest.tmp.name) / f"reimport-{ingest.order}", keys)
    for p in sweep.problems:
        ingest.problem(ingest.label(Path(p.file)), p.line, p.reason)
    order, origins = place
    ingest.sweep_runs(sweep, origins, order)
    cell_of = tables.run_dirs(con, sweep)
    for name, what, _, loader in ARTEFACTS:
        if ingest.sweep_level(sweep, name, loader):
            count_read(con, what, out)
    rds = [rd for rd in sweep.run_dirs if rd.key in keys]
    index_recordings(con, sweep, cell_of, ingest.problem, ingest.label, rds)
