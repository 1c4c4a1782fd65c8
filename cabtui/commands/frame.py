"""``cab-tui frame``: the screen of a recording at one moment, printed as text or SVG."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import TextIO

from cabtui.replay.frame import render_frame
from cabtui.secrets import mask_text
from cabtui.sweep.asciicast import CastError
from cabtui.sweep.cast_reader import read_cast
from cabtui.sweep.cellid import parse_cell_id
from cabtui.sweep.layout import RECORDING_NAMES, run_dir_path
from cabtui.text import safe

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2


class FrameError(Exception):
    """A data problem; the message names the file or directory."""


def run_dirs(sweep_dir: Path, cell_id: str) -> list[Path]:
    """Candidate run directories of ``cell_id`` under ``sweep_dir`` (the sweep itself, or a
    directory holding sweeps named after their sweep_id)."""
    cid = parse_cell_id(cell_id)
    rel = run_dir_path(cid.tui, cid.model, cid.task_id, cid.run)
    return [sweep_dir / rel, sweep_dir / cid.sweep_id / rel]


def resolve_recording(sweep_dir: Path, cell_id: str) -> Path:
    """The recording of the run ``cell_id`` inside ``sweep_dir``; FrameError if there is none or
    it resolves outside ``sweep_dir``. ValueError for a malformed cell_id."""
    root = sweep_dir.resolve()
    for folder in run_dirs(sweep_dir, cell_id):
        for name in RECORDING_NAMES:
            cand = folder / name
            if not cand.exists():
                continue
            real = cand.resolve()
            if not real.is_relative_to(root):
                raise FrameError(f"{cand}: resolves outside {sweep_dir} ({real}); refused")
            return real
    tried = ", ".join(str(f) for f in run_dirs(sweep_dir, cell_id))
    raise FrameError(f"{sweep_dir}: no recording.cast[.gz] for {cell_id} (looked in {tried})")


def run(
    path: Path,
    cell_id: str | None,
    at: float,
    fmt: str = "text",
    out: TextIO | None = None,
    err: TextIO | None = None,
    reveal: bool = False,
) -> int:
    """Print the frame; return the exit code (0 ok, 1 data problem, 2 usage)."""
    out = out or sys.stdout
    err = err or sys.stderr
    if fmt not in ("text", "svg"):
        err.write(f"error: --format must be text or svg, not {safe(fmt)!r}\n")
        return EXIT_USAGE
    if not at >= 0 or math.isinf(at):
        err.write("error: --at must be a number of seconds, 0 or more\n")
        return EXIT_USAGE
    try:
        if path.is_dir():
            if not cell_id:
                err.write(f"error: {path} is a directory: give a CELL_ID too\n")
                return EXIT_USAGE
            try:
                path = resolve_recording(path, cell_id)
            except ValueError as exc:
                err.write(f"error: {safe(str(exc))}\n")
                return EXIT_USAGE
        elif cell_id:
            err.write(f"error: CELL_ID is only used with a sweep directory, not {path}\n")
            return EXIT_USAGE
        rec = read_cast(path)
    except (CastError, FrameError) as exc:
        err.write(f"error: {safe(str(exc))}\n")
        return EXIT_DATA
    for problem in rec.problems:
        err.write(f"warning: {safe(problem if reveal else mask_text(problem))}\n")
    out.write(render_frame(rec, at, fmt, reveal))
    return EXIT_OK
