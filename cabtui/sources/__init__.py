"""Every input layout cabtui opens, found by content: cabtui sweeps, Harbor jobs and trials,
Terminal-Bench runs. :func:`discover` turns a directory into sweeps the store ingests; sweeps
of other harnesses carry an importer that writes them as sweep files first. No Textual here."""

from __future__ import annotations

import os
from pathlib import Path

from cabtui.sources import harbor, inspect_map, tb
from cabtui.sources.detect import SOURCES, scan
from cabtui.sources.harbor_import import import_trials
from cabtui.sweep.layout import RunDir, Sweep, read_sweep
from cabtui.sweep.problems import Problem

__all__ = ["SOURCES", "discover"]


def discover(path: Path, only: str | None = None) -> tuple[list[Sweep], list[Problem]]:
    """The sweeps under ``path`` at any depth (``only``: read everything as cab, harbor or tb)."""
    path = Path(path)
    if not path.exists():
        return [], [Problem(str(path), None, "no such file or directory")]
    if path.is_file() and only in (None, "inspect") and inspect_map.looks_like_log(path):
        problems: list[Problem] = []
        return inspect_map.find_sweeps([path], lambda p: p.name, problems), problems
    if not path.is_dir():
        return [], [Problem(str(path), None, "not a directory (nor an Inspect log)")]
    found = scan(path, only)

    def label_of(p: Path) -> str:
        try:
            return os.path.relpath(p, path)
        except ValueError:
            return str(p)

    problems = [Problem(label_of(Path(p.file)), p.line, p.reason) for p in found.problems]
    sweeps = [read_sweep(d) for d in found.cab]
    names = {s.name for s in sweeps}

    def add(sweep: Sweep) -> None:
        name, n = sweep.name, 1
        while name in names:
            n += 1
            name = f"{sweep.name}-{n}"
        names.add(name)
        sweep.name = name
        sweeps.append(sweep)

    jobs = harbor.find_sweeps(
        found.harbor, path, lambda f, why: problems.append(Problem(label_of(Path(f)), None, why))
    )
    for job, trials in sorted(jobs.items()):
        add(_harbor_sweep(job, trials, path))
    for sweep in tb.find_sweeps(found.tb, label_of, problems):
        add(sweep)
    for sweep in inspect_map.find_sweeps(found.inspect, label_of, problems):
        add(sweep)
    if not sweeps and not problems:
        problems.append(
            Problem(
                str(path),
                None,
                "nothing to open here: no cabtui sweep (results.jsonl, runs/, sweep.json), "
                "Harbor trial (result.json), Terminal-Bench run (run_metadata.json) "
                "or Inspect log (.eval, .json)",
            )
        )
    return sweeps, problems


def _harbor_sweep(job: str, trials: list[harbor.Trial], root: Path) -> Sweep:
    base = Path(os.path.commonpath([t.dir for t in trials]))
    if len(trials) == 1:
        base = trials[0].dir.parent
    run_dirs = []
    for t in trials:
        cast = t.dir / "agent" / "recording.cast"
        files = {"recording.cast": str(cast.relative_to(base))} if cast.is_file() else {}
        run_dirs.append(
            RunDir(
                rel=str(t.dir.relative_to(base)),
                tui=t.agent,
                model=f"{t.vendor}/{t.model}",
                task_id=f"{t.family}/{t.task}",
                run=t.run,
                files=files,
            )
        )

    def importer(sweep: Sweep, folder: Path) -> None:
        import_trials(trials, folder, root).give(sweep)

    def reimport(sweep: Sweep, folder: Path, keys: set[tuple[str, str, str, int]]) -> None:
        """Only the trials of ``keys`` (a refresh): what was generated before is replaced."""
        chosen = [t for t, rd in zip(trials, run_dirs) if rd.key in keys]
        import_trials(chosen, folder, root).give(sweep)

    return Sweep(
        path=base,
        name=job,
        manifest={"sweep_id": job, "source": "harbor"},
        run_dirs=sorted(run_dirs, key=lambda r: r.rel),
        source="harbor",
        importer=importer,
        reimport=reimport,
    )
