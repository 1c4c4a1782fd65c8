"""cab-tui tail: follow a sweep being written, printing each run once it is there.

Polls the sweep's files (:class:`~cabtui.store.live.Watcher`); each run matching the filter is
printed once, as one JSON line with the keys of ``cab-tui ls --format json`` (``scores``
included), in cell_id order within each poll. Problems are printed on stderr once they stay
(a half-written last line is read again once complete). Ends with 0 on an interrupt.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import typer
from rich.text import Text

from cabtui.commands.common import err, error, open_store
from cabtui.commands.data import JSON_RUN_COLUMNS, shown_rows
from cabtui.store.filter import FilterError, compile_filter
from cabtui.store.live import Watcher
from cabtui.store.query import Query
from cabtui.store.store import Store
from cabtui.sweep.problems import Problem
from cabtui.text import dumps, shown


def new_runs(store: Store, q: Query, printed: set[str], reveal: bool) -> list[dict[str, Any]]:
    """The runs of ``q`` not in ``printed``, as ``ls --format json`` rows (cell_id order); a run
    still running is printed once it has completed."""
    table = store.runs(q, limit=None, columns=JSON_RUN_COLUMNS)
    if store.has_running():
        table = table.filter(pc.fill_null(pc.not_equal(table["status"], "running"), True))
    if printed:
        known = pc.is_in(table["cell_id"], value_set=pa.array(sorted(printed), pa.string()))
        table = table.filter(pc.invert(known))
    return shown_rows(store, table, reveal, scores=True)


def tail(
    path: Path,
    filter_text: str,
    fmt: str,
    interval: float,
    new_only: bool,
    reveal: bool = False,
    source: str | None = None,
) -> None:
    if fmt != "json":
        error("--format is json")
        raise typer.Exit(2)
    try:
        compile_filter(filter_text)
    except FilterError as e:
        error("", str(e), reveal=True)
        raise typer.Exit(2) from None
    stop = threading.Event()

    def interrupted(signum: int, frame: object) -> None:
        if stop.is_set():  # a second ^C: at once, even mid-ingest
            raise KeyboardInterrupt
        stop.set()  # the first: once the read in progress ends (a query is not cut mid-way)

    previous = signal.signal(signal.SIGINT, interrupted)
    try:
        _follow(path, Query(filter_text), max(0.05, interval), new_only, reveal, source, stop)
    except KeyboardInterrupt:
        pass
    except BrokenPipeError:  # the reader went away (| head): nothing more to say
        sys.stderr.close()
    finally:
        signal.signal(signal.SIGINT, previous)
    raise typer.Exit(0)


def _follow(path: Path, q: Query, interval: float, new_only: bool, reveal: bool,
            source: str | None, stop: threading.Event) -> None:  # fmt: skip
    """Print runs as they arrive until ``stop`` is set."""
    store = open_store(path, source=source)
    watcher = Watcher(store)
    printed: set[str] = set()
    told: set[Problem] = set()
    first = True
    while not stop.is_set():
        rows = new_runs(store, q, printed, reveal)
        if not (first and new_only):
            for r in rows:
                sys.stdout.write(dumps(r, indent=None) + "\n")
        sys.stdout.flush()
        printed.update(r["cell_id"] for r in rows)
        first = False
        problems = store.problems()
        while not stop.is_set():
            for p in watcher.settled(problems):
                if p not in told:
                    told.add(p)
                    err.print(Text.assemble(("problem:", "yellow"), " ", shown(str(p), reveal)))
            if stop.wait(interval):
                return
            try:
                fresh = watcher.poll()
            except (OSError, duckdb.Error):  # a file replaced while read: read it again
                continue
            if fresh is not None:
                store.close()
                store = fresh
                break
