"""cab-tui cache ls and prune, and the guard every cab-tui process runs under."""

from __future__ import annotations

import json
import signal
import sys
import time
import warnings
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from cabtui.commands.common import stdout_console
from cabtui.text import safe

err = Console(stderr=True, emoji=False, highlight=False, soft_wrap=True)

EXIT_DATA, EXIT_USAGE = 1, 2


def _size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def _ago(t: float, now: float) -> str:
    secs = max(0.0, now - t)
    for limit, unit in ((60, "s"), (3600, "min"), (86400, "h")):
        if secs < limit:
            div = {"s": 1, "min": 60, "h": 3600}[unit]
            return f"{secs / div:.0f} {unit} ago"
    return f"{secs / 86400:.0f} days ago"


def _row(e: Any) -> dict[str, Any]:
    return {
        "cache": str(e.path),
        "sweep": e.source,
        "sweep_exists": e.sweep_exists,
        "size": e.size,
        "last_used": datetime.fromtimestamp(e.last_used).astimezone().isoformat(timespec="seconds"),
    }


def _table(found: list[Any], now: float) -> Table:
    table = Table(box=None, pad_edge=False)
    for name in ("sweep", "exists", "size", "last used", "cache file"):
        table.add_column(
            name, no_wrap=name != "sweep", justify="right" if name == "size" else "left"
        )
    for e in found:
        sweep = Text(safe(e.source)) if e.source else Text("(unreadable cache)", style="red")
        exists = Text("yes") if e.sweep_exists else Text("gone", style="yellow")
        table.add_row(sweep, exists, _size(e.size), _ago(e.last_used, now), Text(safe(e.path.name)))
    return table


def _check_format(fmt: str) -> None:
    if fmt not in ("table", "json"):
        err.print(Text("error: --format is table or json", style="red"))
        raise typer.Exit(EXIT_USAGE)


def ls(fmt: str) -> None:
    from cabtui.store.cache_files import cache_dir, entries

    _check_format(fmt)
    folder, now = cache_dir(), time.time()
    found = entries(folder)
    if fmt == "json":
        print(json.dumps([_row(e) for e in found], indent=1))
        return
    if found:
        stdout_console().print(_table(found, now))
    total = sum(e.size for e in found)
    gone = sum(not e.sweep_exists for e in found)
    err.print(
        Text(
            f"{len(found)} cache{'s' if len(found) != 1 else ''}, {_size(total)}, "
            f"{gone} of a sweep that is gone, in {safe(str(folder))}"
        )
    )


def prune(everything: bool, older_than: float | None, dry_run: bool, fmt: str) -> None:
    from cabtui.store.cache_files import (
        cache_dir,
        entries,
        prunable,
        remove,
        remove_stale_temps,
        stale_temps,
    )

    _check_format(fmt)
    folder = cache_dir()
    chosen = prunable(entries(folder), everything, older_than)
    if dry_run:
        removed, failed = chosen, []
        temps = stale_temps(folder)
    else:
        removed = [e for e in chosen if remove(e)]
        failed = [e for e in chosen if e not in removed]
        temps = remove_stale_temps(folder)
    if fmt == "json":
        print(
            json.dumps(
                {
                    "removed": [_row(e) for e in removed],
                    "failed": [_row(e) for e in failed],
                    "temporary_files": [str(p) for p in temps],
                    "dry_run": dry_run,
                },
                indent=1,
            )
        )
    else:
        verb = "would remove" if dry_run else "removed"
        for e in removed:
            what = safe(e.source) if e.source else "(unreadable cache)"
            err.print(Text(f"{verb} {safe(e.path.name)} ({what}, {_size(e.size)})"))
        for e in failed:
            err.print(Text(f"error: could not remove {safe(str(e.path))}", style="red"))
        for p in temps:
            err.print(Text(f"{verb} temporary {safe(str(p))}"))
        size = _size(sum(e.size for e in removed))
        err.print(
            Text(
                f"{verb} {len(removed)} cache{'s' if len(removed) != 1 else ''} ({size}) "
                f"and {len(temps)} temporary file{'s' if len(temps) != 1 else ''}"
            )
        )
    if failed:
        raise typer.Exit(EXIT_DATA)


# -- the guard of the cab-tui process -------------------------------------------------------------


def _terminate(signum: int, frame: FrameType | None) -> None:
    """SIGTERM or SIGHUP: unwind the main thread, so temporary files are removed on the way."""
    signal.signal(signum, signal.SIG_DFL)  # a second one ends the process at once
    raise SystemExit(128 + signum)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    err.print(Text.assemble(("warning:", "yellow"), " ", safe(str(message))))


def _error(message: str) -> None:
    first = (message.strip().splitlines() or ["unknown error"])[0]
    err.print(Text.assemble(("error:", "red"), " ", safe(first)))


def guarded(app: Callable[[], Any]) -> None:
    """Run ``app`` (the typer app) as the cab-tui process.

    SIGTERM and SIGHUP unwind the main thread (exit 143 / 129) so an ingest in progress removes
    its temporary files; warnings print as one line; an error no command expected (the cache
    and the temp dir both unwritable, a disk full, a file vanishing mid-read) prints as one line
    with exit 1, never a traceback.
    """
    import duckdb

    from cabtui.store.cache import CacheError
    from cabtui.store.remote_io import RemoteError

    for sig in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
        if sig is not None:
            signal.signal(sig, _terminate)
    warnings.showwarning = _show_warning
    try:
        app()
    except (CacheError, RemoteError) as e:
        _error(str(e))
        sys.exit(EXIT_DATA)
    except (OSError, duckdb.Error, MemoryError) as e:
        reason = str(e)
        if isinstance(e, OSError) and e.strerror:
            reason = f"{e.strerror}: {e.filename}" if e.filename else e.strerror
        _error(reason or type(e).__name__)
        sys.exit(EXIT_DATA)
