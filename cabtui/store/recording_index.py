"""The recordings table: a header and a scan of each run's recording."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

from cabtui.sweep.asciicast import CastError
from cabtui.sweep.cast_reader import read_cast
from cabtui.sweep.layout import RunDir, Sweep


def index_recordings(
    con: duckdb.DuckDBPyConnection,
    sweep: Sweep,
    cell_of: dict[tuple[str, str, str, int], str],
    problem: Callable[[str, int | None, str], None],
    label: Callable[[Path], str],
    rds: list[RunDir] | None = None,
) -> None:
    """Header and a scan of each recording: size, terminal size, duration, events, markers
    (of the run folders ``rds``; all of the sweep's by default)."""
    rds = sweep.run_dirs if rds is None else rds
    rows: list[tuple[Any, ...]] = []
    for rd in rds:
        name = "recording.cast" if "recording.cast" in rd.files else "recording.cast.gz"
        if name not in rd.files or rd.key not in cell_of:
            continue
        path = sweep.path / rd.files[name]
        shown = label(path)
        try:
            rec = read_cast(path)
        except (CastError, OSError) as e:
            problem(shown, None, f"recording unreadable: {e}")
            rows.append(
                (
                    cell_of[rd.key],
                    shown,
                    None,
                    path.stat().st_size,
                    None,
                    None,
                    None,
                    0,
                    0,
                    0,
                    [str(e)],
                )
            )
            continue
        for p in rec.problems:  # "<path>: line <N>: <reason>" -> file, line, reason
            text = p.removeprefix(f"{path}: ")
            m = re.match(r"line (\d+): ", text)
            problem(shown, int(m.group(1)) if m else None, text[m.end() :] if m else text)
        codes = [e.code for e in rec.events]
        rows.append(
            (
                cell_of[rd.key],
                shown,
                rec.version,
                path.stat().st_size,
                rec.cols,
                rec.rows,
                rec.duration,
                len(codes),
                codes.count("m"),
                codes.count("r"),
                list(rec.problems),
            )
        )
    if rows:
        con.executemany("INSERT INTO recordings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    orphans = [rd for rd in rds if rd.key not in cell_of]
    for rd in orphans:
        problem(
            f"{label(sweep.path / rd.rel)}", None, "run directory without a run record; ignored"
        )
