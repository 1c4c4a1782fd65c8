"""Finding sweeps and their per-run artefacts on disk, without reading their contents."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cabtui.sweep.problems import Problem

ARTEFACTS = (
    "record.json",
    "spans.jsonl",
    "model_calls.jsonl",
    "recording.cast",
    "recording.cast.gz",
    "stdout.txt",
    "stderr.txt",
    "diff.patch",
)
SWEEP_FILES = ("sweep.json", "results.jsonl", "spans.jsonl", "model_calls.jsonl")


@dataclass(frozen=True)
class RunDir:
    """runs/<tui>/<vendor>/<model>/<family>/<task>/run-<N>/ and the artefacts it holds."""

    rel: str  # relative to the sweep directory
    tui: str
    model: str
    task_id: str
    run: int
    files: dict[str, str]  # artefact name -> path relative to the sweep directory

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.tui, self.model, self.task_id, self.run)


@dataclass
class Sweep:
    path: Path
    name: str  # the directory's name
    manifest: dict[str, Any] | None
    run_dirs: list[RunDir] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def sweep_id(self) -> str:
        sid = (self.manifest or {}).get("sweep_id")
        return sid if isinstance(sid, str) and sid else self.name

    def file(self, name: str) -> Path | None:
        """The sweep-level file ``name``, or None; one that is there but unusable is reported."""
        p = self.path / name
        if p.is_file() and inside(self.path, p):
            return p
        if p.is_symlink() or p.exists():
            reason = "leads outside the sweep; refused" if p.exists() else "is a broken link"
            if p.exists() and inside(self.path, p):
                reason = "is not a regular file; ignored"
            problem = Problem(str(p), None, reason)
            if problem not in self.problems:
                self.problems.append(problem)
        return None


def is_sweep_dir(path: Path) -> bool:
    return any((path / f).is_file() for f in SWEEP_FILES) or (path / "runs").is_dir()


def inside(root: Path, path: Path) -> bool:
    """True when ``path``, with every link resolved, stays inside ``root``."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError):
        return False
    return True


def discover(path: Path) -> tuple[list[Sweep], list[Problem]]:
    """The sweeps at ``path``: the directory itself, or each sweep directory directly in it."""
    path = Path(path)
    if not path.exists():
        return [], [Problem(str(path), None, "no such file or directory")]
    if not path.is_dir():
        return [], [Problem(str(path), None, "not a directory")]
    if is_sweep_dir(path):
        dirs = [path]
    else:
        try:
            dirs = sorted(p for p in path.iterdir() if p.is_dir() and is_sweep_dir(p))
        except OSError as e:
            return [], [Problem(str(path), None, f"cannot list directory: {e.strerror}")]
    sweeps = [_read_sweep(d) for d in dirs]
    problems = []
    if not sweeps:
        problems.append(
            Problem(str(path), None, "no sweep here (no results.jsonl, runs/ or sweep.json)")
        )
    return sweeps, problems


def _read_sweep(path: Path) -> Sweep:
    sweep = Sweep(path=path, name=path.name, manifest=None)
    manifest = path / "sweep.json"
    if manifest.is_file():
        try:
            data = json.loads(manifest.read_text(encoding="utf-8"))
            if isinstance(data, dict):
                sweep.manifest = data
            else:
                sweep.problems.append(Problem(str(manifest), None, "not a JSON object; ignored"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            sweep.problems.append(Problem(str(manifest), None, f"unreadable, defaults used: {e}"))
    sweep.run_dirs = _walk_runs(sweep)
    return sweep


def _walk_runs(sweep: Sweep) -> list[RunDir]:
    runs_root = sweep.path / "runs"
    found: list[RunDir] = []
    if not runs_root.is_dir():
        return found
    root = sweep.path.resolve()
    # runs/<tui>/<vendor>/<model>/<family>/<task>/run-<N>: six levels below runs/.
    for dirpath, dirnames, filenames in os.walk(runs_root, followlinks=False):
        rel = Path(dirpath).relative_to(runs_root)
        depth = len(rel.parts)
        for d in list(dirnames):
            full = Path(dirpath) / d
            if full.is_symlink() and not inside(root, full):
                sweep.problems.append(
                    Problem(str(full), None, "link leads outside the sweep; not followed")
                )
                dirnames.remove(d)
        if depth < 6:
            continue
        dirnames.clear()
        if depth > 6 or not rel.parts[5].startswith("run-"):
            continue
        tui, vendor, model, family, task, run_part = rel.parts
        try:
            run = int(run_part[4:])
        except ValueError:
            sweep.problems.append(Problem(str(dirpath), None, "run directory is not run-<N>"))
            continue
        files: dict[str, str] = {}
        for name in filenames:
            if name not in ARTEFACTS:
                continue
            full = Path(dirpath) / name
            if not inside(root, full):
                sweep.problems.append(
                    Problem(str(full), None, "path leads outside the sweep; refused")
                )
                continue
            files[name] = str(full.relative_to(sweep.path))
        found.append(
            RunDir(
                rel=str(Path("runs") / rel),
                tui=tui,
                model=f"{vendor}/{model}",
                task_id=f"{family}/{task}",
                run=run,
                files=files,
            )
        )
    found.sort(key=lambda r: r.rel)
    return found
