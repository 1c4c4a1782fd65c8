"""Importing Harbor trials as sweep files: in this process, or spread over the machine's cores
for a large job (spawned processes, each writing its part, joined in order). No Textual here."""

from __future__ import annotations

import multiprocessing
import os
import shutil
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from cabtui.sources.atif_sql import Pending, read_plain
from cabtui.sources.harbor import Trial, emit
from cabtui.sources.harbor_spans import walk
from cabtui.sources.out import COLUMNAR, RESULTS, close_out, open_out
from cabtui.sweep.layout import Sweep
from cabtui.sweep.problems import Problem

PARALLEL_FROM = 400  # trials; fewer are imported here (a process pool costs ~0.3 s to start)
PARTS_PER_WORKER = 4  # a job is cut in more parts than workers: a worker slowed by other work
# on its core takes fewer of them
MIN_PART = 1000  # trials; a part pays for its start (its DuckDB connection, its first batch)


@dataclass
class Imported:
    """What an import of trials wrote: the records (results.jsonl), the Parquet files of the
    spans and model calls (by the sweep file they stand for), the problems met, and for each
    record the result.json it came from."""

    results: Path
    columnar: dict[str, list[Path]]
    problems: list[Problem]
    rows: list[str]

    def give(self, sweep: Sweep) -> None:
        """Make these the sweep's generated files (replacing what an earlier import gave)."""
        sweep.generated = {RESULTS: self.results}
        sweep.columnar = self.columnar
        sweep.row_files[:] = self.rows
        sweep.problems[:] = self.problems


def _import_here(
    trials: list[Trial], folder: Path, root: Path, in_sql: bool = True, threads: int | None = None
) -> Imported:
    """The trials written into ``folder``: their trajectories read together by DuckDB where
    they are plain (``in_sql``: cabtui.sources.atif_sql, on ``threads``), the others walked in
    Python."""

    under = f"{root}{os.sep}"

    def label_of(p: Path) -> str:
        text = str(p)  # (a path under root, as the trials' are, without relpath's normalising)
        return text[len(under) :] if text.startswith(under) else os.path.relpath(p, root)

    out, files = open_out(folder)
    columnar = {k: [files[k]] for k in COLUMNAR}
    try:
        later: list[Pending] = []
        for t in trials:
            out.run(label_of(t.dir / "result.json"), partial(emit, t, out, label_of, later))
        done, rest = read_plain(later, folder / "atif", threads) if in_sql else ({}, later)
        for k, paths in done.items():
            columnar[k] += paths
        for p in rest:
            out.run(p.origin, partial(walk, p, out, label_of))
    finally:
        close_out(out)
    return Imported(files[RESULTS], columnar, out.problems, out.rows)


def import_trials(trials: list[Trial], folder: Path, root: Path, in_sql: bool = True) -> Imported:
    """Write the trials as an imported sweep's files in ``folder``. A large job is split over
    the cores, each part written to its own files: the records are joined in order, the
    Parquet files of the parts are read together."""
    workers = min(os.cpu_count() or 1, 8)
    if len(trials) < PARALLEL_FROM or workers < 2:
        return _import_here(trials, folder, root, in_sql)
    n = len(trials)  # (a part for each worker at least)
    size = max(-(-n // (workers * PARTS_PER_WORKER)), min(MIN_PART, -(-n // workers)))
    chunks = [trials[i : i + size] for i in range(0, len(trials), size)]
    # spawn: the caller may be a thread of the TUI, and forking a threaded process is unsafe
    ctx = multiprocessing.get_context("spawn")
    try:
        with ProcessPoolExecutor(min(workers, len(chunks)), mp_context=ctx) as pool:
            parts = list(
                pool.map(_import_here, chunks, [folder / f"part-{i}" for i in range(len(chunks))],
                         [root] * len(chunks), [in_sql] * len(chunks), [1] * len(chunks))
            )  # fmt: skip
    except (OSError, BrokenProcessPool):  # no processes to be had: do it here
        return _import_here(trials, folder, root, in_sql)
    folder.mkdir(parents=True, exist_ok=True)
    whole = Imported(folder / RESULTS, {k: [] for k in COLUMNAR}, [], [])
    os.replace(parts[0].results, whole.results)  # the first part is the start of the whole
    for part in parts[1:]:
        _append(part.results, whole.results)
        part.results.unlink()
    for part in parts:
        for k, paths in part.columnar.items():
            whole.columnar[k] += paths
        whole.problems += part.problems
        whole.rows += part.rows
    return whole


def _append(path: Path, whole: Path) -> None:
    """Add the bytes of ``path`` at the end of ``whole`` (copied in the kernel where it can)."""
    with open(path, "rb") as r, open(whole, "r+b") as w:
        end = w.seek(0, os.SEEK_END)
        try:
            while os.copy_file_range(r.fileno(), w.fileno(), 1 << 30):
                pass
            return
        except (AttributeError, OSError):  # not here, or not between these files: by hand
            os.ftruncate(w.fileno(), end)
            w.seek(end)
            r.seek(0)
        shutil.copyfileobj(r, w, 1 << 20)
