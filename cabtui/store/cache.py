"""The DuckDB file cached per sweep directory in the user's cache directory.

The sweep is never written. A cache is built in a private temporary directory beside its final
name (``<cache>.<host>-<pid>.<random>.tmp/``, mode 0700, holding DuckDB's file, its WAL and its
spill directory) and renamed into place, so a crash mid-ingest leaves no broken cache, and two
cab-tui processes opening the same sweep at once each build or reuse a complete file. Caches
are opened read-only, which DuckDB lets many processes do at once.

Caches hold raw run data (prompts, outputs, possibly secrets): the directory is created 0700
and every cache file is made 0600. The temporary files of an ingest that was killed are removed
by the next cab-tui that opens a sweep, once their owner process is gone (or, for temporary
files of unknown owner, after a day). When the cache directory cannot be written (read-only,
full, not a directory), the sweep is ingested into a temporary directory instead, with a
warning, so it still opens.

A cache whose sweep changed only by lines appended to its sweep-level JSON-lines files is
refreshed by reading those lines alone, into a copy renamed into place
(:mod:`cabtui.store.increment`); any other change rebuilds it.

The temporary files, and ``cab-tui cache ls|prune``, are :mod:`cabtui.store.cache_files`.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import stat
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from cabtui.sources.inspect_map import PASS_SCORER_ENV
from cabtui.store import increment
from cabtui.store.cache_files import (
    FALLBACK_PREFIX,
    cache_dir,
    open_to_write,
    put_in_place,
    read_meta,
    remove_path,
    remove_stale_temps,
    staged,
    track,
)
from cabtui.store.increment_runs import store_run_files
from cabtui.store.ingest import IngestReport, Progress, ingest
from cabtui.store.tables import SCHEMA_VERSION, files_json, listed_json
from cabtui.store.tails import Entry, with_contents

# What writing a file can raise: no permission, read-only or full file system, not a directory.
# (Other DuckDB errors are bugs or data, not the cache directory: they are not retried.)
WRITE_ERRORS = (OSError, duckdb.IOException, duckdb.PermissionException)


class CacheError(Exception):
    """Neither the cache nor a temporary copy could be written; the message is one line."""


class CacheWarning(UserWarning):
    """The cache directory could not be written: the sweep was opened from a temporary copy."""


@dataclass
class Cache:
    """An opened cache: its file, the ingest report when one ran (None on a cache hit), and,
    when the cache directory could not be written, the warning and the temporary directory
    holding the file instead (removed by :func:`release`, and at exit)."""

    path: Path
    report: IngestReport | None
    warning: str | None = None
    temporary: Path | None = None


def cache_path(sweep: Path) -> Path:
    key = hashlib.sha1(str(Path(sweep).resolve()).encode()).hexdigest()[:16]
    return cache_dir() / f"{Path(sweep).resolve().name}-{key}.duckdb"


def walk(sweep: Path) -> list[Entry]:
    """Every file under ``sweep`` (or ``sweep`` itself, named "", when it is a file)."""
    found: list[Entry] = []
    if os.path.isfile(sweep):  # one Inspect log opened alone
        st = os.stat(sweep)
        found.append(("", st.st_size, st.st_mtime_ns))
    # scandir with its cached entry types, depth first in name order, links to directories not
    # followed (as os.walk does): about twice as fast as os.walk and a stat per file
    stack = [(str(sweep), "")]
    while stack:
        folder, rel = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        below = []
        for e in entries:
            try:
                if e.is_dir(follow_symlinks=False):
                    below.append((e.path, f"{rel}{e.name}/"))
                    continue
                st = e.stat()
            except OSError:
                continue
            found.append((f"{rel}{e.name}", st.st_size, st.st_mtime_ns))
        stack.extend(reversed(below))
    return found


def digest_of(entries: list[Entry], skip: frozenset[str] = frozenset()) -> str:
    """A digest of ``entries`` (less those named in ``skip``)."""
    h = hashlib.sha1(SCHEMA_VERSION.encode())
    lines = [
        f"{rel}\0{size}\0{mtime}\n" if rel else f"{size}\0{mtime}\n"
        for rel, size, mtime in entries
        if rel not in skip
    ]
    h.update("".join(lines).encode())
    return h.hexdigest()


def fingerprint(sweep: Path) -> str:
    """A digest of every file's path, size and modification time under ``sweep``."""
    return digest_of(walk(sweep))


def reading_suffix(source: str | None = None) -> str:
    """What else a cache depends on: a forced source, Inspect's pass scorer."""
    suffix = f":{source}" if source else ""
    if os.environ.get(PASS_SCORER_ENV):
        suffix += f":pass={os.environ[PASS_SCORER_ENV]}"
    return suffix


def cache_fingerprint(sweep: Path, source: str | None = None) -> str:
    """What a cache of ``sweep`` read as ``source`` records: :func:`fingerprint`, and the
    reading (a forced source, Inspect's pass scorer), each of which is another cache."""
    return fingerprint(sweep) + reading_suffix(source)


def _cached_fingerprint(db: Path) -> str | None:
    meta = read_meta(db) if db.is_file() else None
    return (meta or {}).get("fingerprint")


def release(opened: Cache) -> None:
    """Remove the temporary copy of a cache built outside the cache directory, if any."""
    if opened.temporary is not None:
        remove_path(opened.temporary)
        track(opened.temporary, False)


# -- building ------------------------------------------------------------------------------------


def _private_dir(path: Path) -> None:
    """``path`` as a directory, created readable by its owner only (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not path.is_dir():
        raise NotADirectoryError(20, "not a directory", str(path))


def _private_file(path: Path) -> None:
    """Make a cache file of ours readable by its owner only (0600)."""
    with contextlib.suppress(OSError):
        st = path.stat()
        if st.st_uid == os.getuid() and stat.S_IMODE(st.st_mode) & 0o077:
            os.chmod(path, 0o600)


def _touch(db: Path) -> None:
    """Record the cache's last use (its modification time), for ``cab-tui cache ls``."""
    with contextlib.suppress(OSError):
        os.utime(db)


def _build(
    sweep: Path, db: Path, fp: str, progress: Progress | None, source: str | None = None
) -> IngestReport:
    """Ingest ``sweep`` into a private temporary directory beside ``db``, then rename the file
    into place. Whatever happens, the temporary directory is gone afterwards."""
    with staged(db) as tmp:
        report = ingest(sweep, tmp, progress, source)
        full = [p for p in report.problems if "No space left on device" in p.reason]
        if full:  # a read reported as failed because its scratch space ran out: not the data
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        after = walk(sweep)  # unchanged while read: a refresh may read only what follows
        tracked = frozenset(f.rel for f in report.files)
        owned = with_contents(after, report.run_files)
        steady = (tracked or owned) and digest_of(after) + reading_suffix(source) == fp
        con = open_to_write(tmp)
        try:
            con.execute(
                "INSERT INTO meta VALUES ('fingerprint', ?), ('source', ?), ('built_at', ?)",
                [fp, str(sweep.resolve()), repr(time.time())],
            )
            if steady:
                tree = digest_of(after, tracked | owned.keys()) + reading_suffix(source)
                con.execute(
                    "INSERT INTO meta VALUES ('tree', ?), ('files', ?), ('listed', ?)",
                    [tree, files_json(report.files), listed_json(report.listed)],
                )
                store_run_files(con, after, owned)
            # Write everything into the file now: DuckDB's close does not say when it cannot
            # (a full disk), and a file renamed without its WAL would lack tables.
            con.execute("CHECKPOINT")
        except duckdb.Error as e:
            raise OSError(errno.EIO, _reason(e)) from None
        finally:
            con.close()
        put_in_place(tmp, db)
    return report


def _reason(e: BaseException) -> str:
    if isinstance(e, OSError) and e.strerror:
        return f"{e.strerror}: {e.filename}" if e.filename else e.strerror
    text = (str(e).strip().splitlines() or [type(e).__name__])[0]
    # DuckDB's 'IO Error: Could not write file "<path>": No space left on device': the cause
    return text.rsplit('": ', 1)[-1] if '": ' in text else text


def open_cache(
    sweep: Path,
    progress: Progress | None = None,
    refresh: bool = False,
    source: str | None = None,
) -> Cache:
    """The cache of ``sweep``, built or rebuilt when needed; see :class:`Cache`.

    When the cache directory cannot be written, the cache is built in a temporary directory
    (with a warning); CacheError when that fails too.
    """
    sweep = Path(sweep)
    db = cache_path(sweep)
    entries = walk(sweep)
    fp = digest_of(entries) + reading_suffix(source)  # cache_fingerprint, of this walk
    meta = (read_meta(db) if db.is_file() else None) or {}
    if not refresh and meta.get("fingerprint") == fp:
        _private_file(db)
        _touch(db)
        return Cache(db, None)
    if not refresh and meta:
        try:
            report = increment.refresh(
                sweep,
                db,
                meta,
                source,
                (entries, fp),
                digest_of,
                reading_suffix(source),
                progress,
            )
            _private_file(db)
            return Cache(db, report)
        except Exception:  # NotIncremental, a write error, or a bug of the refresh itself
            pass  # whatever it was, the cache is built again whole below, which is always right
    try:
        _private_dir(db.parent)
        remove_stale_temps(db.parent)
        report = _build(sweep, db, fp, progress, source)
        return Cache(db, report)
    except WRITE_ERRORS as e:
        first = _reason(e)
    where = f"cannot write the cache in {db.parent} ({first})"
    try:
        temporary = Path(tempfile.mkdtemp(prefix=f"{FALLBACK_PREFIX}{os.getpid()}-"))
    except OSError as e:
        raise CacheError(f"{where}, nor a temporary directory ({_reason(e)})") from None
    track(temporary, True)
    try:
        report = _build(sweep, temporary / db.name, fp, progress, source)
    except WRITE_ERRORS as e:
        remove_path(temporary)
        track(temporary, False)
        raise CacheError(f"{where}, nor in {temporary.parent} ({_reason(e)})") from None
    return Cache(
        temporary / db.name,
        report,
        warning=f"{where}; opened from a temporary copy, removed on exit",
        temporary=temporary,
    )


def ensure_cache(
    sweep: Path, progress: Progress | None = None, refresh: bool = False
) -> tuple[Path, IngestReport | None]:
    """The cache file for ``sweep``, built or rebuilt when needed.

    Returns the path and the ingest report when an ingest ran (None on a cache hit).
    """
    opened = open_cache(sweep, progress, refresh)
    return opened.path, opened.report
