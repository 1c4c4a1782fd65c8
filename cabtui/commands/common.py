"""Shared pieces of the command line: opening a store with a progress bar, reporting problems."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cabtui.replay.render import safe
from cabtui.store.store import Store

err = Console(stderr=True)
PIPED_WIDTH = 240  # tables written to a pipe or file are not squeezed into 80 columns


def stdout_console() -> Console:
    """The console for results: the terminal's width, or a wide one when piped (COLUMNS wins)."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(width=PIPED_WIDTH if piped else None)


def open_store(path: Path, refresh: bool = False) -> Store:
    """Open (ingesting if needed) the sweep at ``path``, with a progress bar on stderr."""
    if not path.exists():
        err.print(f"[red]error:[/] no such directory: {escape(safe(str(path)))}")
        raise typer.Exit(2)
    if not path.is_dir():
        err.print(f"[red]error:[/] not a directory: {escape(safe(str(path)))}")
        raise typer.Exit(2)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task("reading sweep", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"reading {stage}", completed=done, total=total)

        return Store.open(path, progress, refresh)


def report_problems(store: Store, limit: int | None = 20) -> int:
    """Print the store's problems on stderr; return how many there are."""
    problems = store.problems()
    shown = problems if limit is None else problems[:limit]
    for p in shown:
        err.print(f"[yellow]problem:[/] {escape(safe(str(p)))}")
    if limit is not None and len(problems) > limit:
        err.print(f"[yellow]… and {len(problems) - limit} more (cab-tui load shows them all)[/]")
    return len(problems)
