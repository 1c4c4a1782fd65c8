"""Finding sweeps and their per-run artefacts on disk, without reading their contents."""

from __future__ import annotations

import errno
import json
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

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
RECORDING_NAMES = ("recording.cast", "recording.cast.gz")


def run_dir_path(tui: str, model: str, task_id: str, run: int) -> Path:
    """The run directory of a run, relative to its sweep:
    runs/<tui>/<vendor>/<model>/<family>/<task>/run-<N> (``model`` is vendor/model and
    ``task_id`` family/task)."""
    return Path("runs", tui, *model.split("/"), *task_id.split("/"), f"run-{run}")


# A run folder (or a Harbor trial) without its result that wrote nothing for this long is not
# running any more: it stopped before it finished.
STALE_S = 3600.0


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
    source: str = "cab"  # cab, harbor or tb
    # Sweeps of other harnesses are turned into sweep files first: ``importer(folder)`` writes
    # them there and fills ``generated`` (results.jsonl -> its path), ``columnar`` (spans.jsonl
    # and model_calls.jsonl -> the Parquet files of their rows, cabtui.sources.out) and
    # ``row_files`` (for each line of the generated results.jsonl, the file it came from).
    importer: Callable[[Sweep, Path], None] | None = None
    # An imported sweep a refresh can read in part (a Harbor job): ``reimport(folder, keys)``
    # writes as ``importer`` does only the runs of ``keys`` (tui, model, task_id, run).
    reimport: Callable[[Sweep, Path, set[tuple[str, str, str, int]]], None] | None = None
    generated: dict[str, Path] = field(default_factory=dict)
    columnar: dict[str, list[Path]] = field(default_factory=dict)
    row_files: list[str] = field(default_factory=list)

    @property
    def sweep_id(self) -> str:
        sid = (self.manifest or {}).get("sweep_id")
        return sid if isinstance(sid, str) and sid else self.name

    def file(self, name: str) -> Path | None:
        """The sweep-level file ``name``, or None; one that is there but unusable is reported."""
        if self.importer is not None:
            return self.generated.get(name)
        p = self.path / name
        if not os.path.lexists(p):
            return None
        why = not_regular(p)
        if why is None and inside(self.path, p):
            return p
        self.report(p, why or "leads outside the sweep; refused")
        return None

    def report(self, path: Path, reason: str) -> None:
        problem = Problem(str(path), None, reason)
        if problem not in self.problems:
            self.problems.append(problem)


def is_sweep_dir(path: Path) -> bool:
    # lexists: a sweep file that is there but unusable (a FIFO, a broken link) is reported.
    return any(os.path.lexists(path / f) for f in SWEEP_FILES) or (path / "runs").is_dir()


def inside(root: Path, path: Path) -> bool:
    """True when ``path``, with every link resolved, stays inside ``root``."""
    try:
        path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
        return False
    return True


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)


def _kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a file")


def not_regular(path: Path | str) -> str | None:
    """None when ``path`` (links followed) is a regular file; else why it is not read.

    Only regular files are ever opened: a FIFO would block the reader forever, a device could
    be endless, a socket cannot be opened at all, a symlink loop never resolves.
    """
    try:
        st = os.stat(path)
    except OSError as e:
        if e.errno == errno.ELOOP:
            return "symlink loop; ignored"
        if e.errno == errno.ENOENT and os.path.islink(path):
            return "is a broken link"
        return f"cannot read: {e.strerror or e}"
    if stat.S_ISREG(st.st_mode):
        return None
    return f"not a regular file ({_kind(st.st_mode)}); ignored"


class NotRegularFile(OSError):
    """Raised by :func:`open_regular` for a FIFO, socket, device or directory."""


def open_regular(path: Path | str) -> IO[bytes]:
    """Open ``path`` for reading in binary, only if it is a regular file, without ever blocking.

    The check is made on the opened descriptor (O_NONBLOCK makes opening a FIFO return at
    once), so a file swapped for a FIFO after a check is refused too. NotRegularFile says why.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotRegularFile(
                errno.EINVAL, f"not a regular file ({_kind(st.st_mode)})", str(path)
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_regular(path: Path | str) -> bytes:
    """The bytes of a regular file (see :func:`open_regular`)."""
    with open_regular(path) as f:
        return f.read()


def peek_regular(path: Path | str, n: int = 4096) -> bytes:
    """The first ``n`` bytes of a regular file; empty bytes for anything that cannot be read as
    one (a FIFO, a device, a missing file...), never blocking."""
    try:
        with open_regular(path) as f:
            return f.read(n)
    except OSError:
        return b""


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
    sweeps = [read_sweep(d) for d in dirs]
    problems = []
    if not sweeps:
        problems.append(
            Problem(str(path), None, "no sweep here (no results.jsonl, runs/ or sweep.json)")
        )
    return sweeps, problems


def read_sweep(path: Path) -> Sweep:
    sweep = Sweep(path=path, name=path.name, manifest=None)
    manifest = sweep.file("sweep.json")
    if manifest is not None:
        try:
            data = json.loads(read_regular(manifest).decode("utf-8"))
            if isinstance(data, dict):
                sweep.manifest = data
            else:
                sweep.problems.append(Problem(str(manifest), None, "not a JSON object; ignored"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
            reason = e.strerror if isinstance(e, OSError) and e.strerror else e
            if isinstance(e, RecursionError):
                reason = "JSON nested too deep"
            sweep.problems.append(
                Problem(str(manifest), None, f"unreadable, defaults used: {reason}")
            )
    sweep.run_dirs = _walk_runs(sweep)
    return sweep


def _walk_runs(sweep: Sweep) -> list[RunDir]:
    runs_root = sweep.path / "runs"
    found: list[RunDir] = []
    if not runs_root.is_dir():
        return found
    root = sweep.path.resolve()

    def unlistable(e: OSError) -> None:
        where = e.filename or str(runs_root)
        sweep.report(Path(where), f"cannot list directory: {e.strerror or e}; skipped")

    linked = not inside(root, runs_root) or runs_root.is_symlink()
    # runs/<tui>/<vendor>/<model>/<family>/<task>/run-<N>: six levels below runs/.
    top = str(runs_root)
    for dirpath, dirnames, filenames in os.walk(top, onerror=unlistable, followlinks=False):
        parts = tuple(dirpath[len(top) + 1 :].split(os.sep)) if dirpath != top else ()
        depth = len(parts)
        for d in list(dirnames):
            full = os.path.join(dirpath, d)
            if os.path.islink(full) and not inside(root, Path(full)):
                sweep.problems.append(
                    Problem(full, None, "link leads outside the sweep; not followed")
                )
                dirnames.remove(d)
        if depth < 6:
            continue
        if depth == 6 and parts[5].startswith("run-"):
            for d in dirnames:
                if d in ARTEFACTS:
                    sweep.report(Path(dirpath) / d, "not a regular file (a directory); ignored")
        dirnames.clear()
        if depth > 6 or not parts[5].startswith("run-"):
            continue
        tui, vendor, model, family, task, run_part = parts
        try:
            run = int(run_part[4:])
        except ValueError:
            sweep.problems.append(Problem(str(dirpath), None, "run directory is not run-<N>"))
            continue
        files: dict[str, str] = {}
        folder = os.path.join("runs", *parts)
        for name in filenames:
            if name not in ARTEFACTS:
                continue
            full = os.path.join(dirpath, name)
            why = not_regular(full)
            if why is not None:
                sweep.report(Path(full), why)
                continue
            # the walk follows no link to a folder: only a link (or a runs/ that is one) can
            # lead outside, and only then is the path resolved
            if (linked or os.path.islink(full)) and not inside(root, Path(full)):
                sweep.problems.append(Problem(full, None, "path leads outside the sweep; refused"))
                continue
            files[name] = os.path.join(folder, name)
        found.append(
            RunDir(
                rel=folder,
                tui=tui,
                model=f"{vendor}/{model}",
                task_id=f"{family}/{task}",
                run=run,
                files=files,
            )
        )
    found.sort(key=lambda r: r.rel)
    return found
