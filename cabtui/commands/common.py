"""Shared pieces of the command line: opening a store with a progress bar, reporting problems."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from cabtui.sources.inspect_read import looks_like_log
from cabtui.store.remote import RemoteStore
from cabtui.store.remote_io import RemoteError, from_path_text
from cabtui.store.store import Store
from cabtui.text import shown

# Text from the data is printed as rich Text (never markup) through consoles that make no emoji.
err = Console(stderr=True, emoji=False)
Stages = Callable[[str, int, int], None]  # (stage, done, total) as a bar's progress
PIPED_WIDTH = 240  # tables written to a pipe or file are not squeezed into 80 columns


def stdout_console() -> Console:
    """The console for results: the terminal's width, or a wide one when piped (COLUMNS wins)."""
    piped = not sys.stdout.isatty() and "COLUMNS" not in os.environ
    return Console(width=PIPED_WIDTH if piped else None, emoji=False)


def error(message: str, value: object = None, reveal: bool = False) -> None:
    """``error: message`` on stderr, then ``value`` (an argument or a text from the data) as
    given, masked and safe: neither markup nor escapes in it reach the terminal."""
    line = Text.assemble(("error:", "red"), " ", message)
    if value is not None:
        line.append(shown(value, reveal))
    err.print(line)


def open_store(path: Path, refresh: bool = False, source: str | None = None) -> Store:
    """Open (ingesting if needed) the sweep at ``path``, with a progress bar on stderr; a URL
    (``s3://``, ``https://``: a published export) opens its runs index instead."""
    url = from_path_text(str(path))
    if url is not None:
        try:
            return RemoteStore.open_url(url)
        except RemoteError as e:
            error(str(e))
            raise typer.Exit(1) from None
    if not path.exists():
        error("no such directory: ", path)
        raise typer.Exit(2)
    if not path.is_dir() and not (path.is_file() and looks_like_log(path)):
        error("not a directory (nor an Inspect log): ", path)
        raise typer.Exit(2)
    with stage_bar("reading sweep", "reading") as progress:
        return Store.open(path, progress, refresh, source)


@contextmanager
def stage_bar(first: str, verb: str, elapsed: bool = True) -> Iterator[Stages]:
    """A progress bar on stderr (when it is a terminal), gone when done: ``first`` until the
    callback yielded says which stage is under way (``verb`` and the stage's name)."""
    columns = [TextColumn("[progress.description]{task.description}"), BarColumn()]
    if elapsed:
        columns.append(TimeElapsedColumn())
    with Progress(
        *columns,
        console=err,
        transient=True,
        disable=not sys.stderr.isatty(),
    ) as bar:
        task = bar.add_task(first, total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, description=f"{verb} {stage}", completed=done, total=total)

        yield progress


def report_problems(store: Store, limit: int | None = 20, reveal: bool = False) -> int:
    """Print the store's problems on stderr (file names and reasons come from the data: masked
    and made safe); return how many there are."""
    problems = store.problems()
    listed = problems if limit is None else problems[:limit]
    for p in listed:
        err.print(Text.assemble(("problem:", "yellow"), " ", shown(str(p), reveal)))
    if limit is not None and len(problems) > limit:
        more = len(problems) - limit
        err.print(Text(f"… and {more} more (cab-tui load shows them all)", style="yellow"))
    return len(problems)
