"""What a directory holds, recognised by content at any depth: cabtui sweeps, Harbor trials
(grouped into their jobs), Terminal-Bench runs, Inspect logs (``.eval``, ``.json``). No Textual here."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from cabtui.sources.inspect_read import looks_like_log
from cabtui.sweep.layout import SWEEP_FILES, peek_regular
from cabtui.sweep.problems import Problem

MAX_DEPTH = 12  # folders below the opened one that are searched
_SKIP = {"node_modules", "__pycache__", ".git", ".venv", "venv"}
_CAB_RUN = re.compile(r"^run-[1-9][0-9]*$")
SOURCES = ("cab", "harbor", "tb", "inspect")


@dataclass
class Found:
    cab: list[Path] = field(default_factory=list)
    harbor: list[Path] = field(default_factory=list)  # trial folders
    tb: list[Path] = field(default_factory=list)  # run folders (run_metadata.json)
    inspect: list[Path] = field(default_factory=list)  # Inspect log files (.eval, .json)
    problems: list[Problem] = field(default_factory=list)


def looks_like_trial(result: Path) -> bool:
    """A Harbor TrialResult: its first keys name the trial and the task or agent."""
    head = peek_regular(result)
    return b'"trial_name"' in head and (
        b'"task_name"' in head or b'"agent_info"' in head or b'"task_checksum"' in head
    )


def looks_like_tb_run(folder: Path) -> bool:
    head = peek_regular(folder / "run_metadata.json")
    return b'"run_id"' in head or b'"agent_name"' in head


def is_cab_sweep(folder: Path, names: set[str]) -> bool:
    return any(n in names for n in SWEEP_FILES)


def scan(root: Path, only: str | None = None) -> Found:
    """Every sweep, trial and run under ``root`` (``only`` forces one reading: cab, harbor or
    tb). A recognised folder is not searched further."""
    found = Found()
    root = Path(root)
    cab_by_runs: set[Path] = set()

    def unlistable(e: OSError) -> None:
        found.problems.append(
            Problem(
                str(e.filename or root), None, f"cannot list directory: {e.strerror or e}; skipped"
            )
        )

    base = len(root.parts)
    for dirpath, dirnames, filenames in os.walk(root, onerror=unlistable, followlinks=False):
        here = Path(dirpath)
        names = set(filenames)
        depth = len(here.parts) - base
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP and not d.startswith("."))
        if only in (None, "cab") and _CAB_RUN.match(here.name) and depth >= 7:
            parts = here.parts
            if parts[-7] == "runs":  # runs/<tui>/<vendor>/<model>/<family>/<task>/run-<N>
                cab_by_runs.add(Path(*parts[:-7]))
                dirnames.clear()
                continue
        if only in (None, "cab") and (
            is_cab_sweep(here, names | set(dirnames)) or (only == "cab" and here == root)
        ):
            found.cab.append(here)
            dirnames.clear()
            continue
        if only in (None, "tb") and "run_metadata.json" in names and looks_like_tb_run(here):
            found.tb.append(here)
            dirnames.clear()
            continue
        if (
            only in (None, "harbor")
            and "result.json" in names
            and looks_like_trial(here / "result.json")
        ):
            found.harbor.append(here)
            dirnames.clear()
            continue
        if (
            only in (None, "harbor")
            and "config.json" in names
            and "agent" in dirnames
            and "result.json" not in names
            and b'"trial_name"' in peek_regular(here / "config.json")
        ):
            found.harbor.append(here)  # a trial still running: shown as such
            dirnames.clear()
            continue
        if only in (None, "inspect"):
            found.inspect += [
                here / n
                for n in sorted(names)
                if n.endswith((".eval", ".json")) and looks_like_log(here / n)
            ]
        if depth >= MAX_DEPTH:
            dirnames.clear()
    for sweep in sorted(cab_by_runs):
        if sweep not in found.cab:
            found.cab.append(sweep)
    # A cab sweep found by its runs/ folder holds no other kind of run.
    found.cab.sort()
    return found
