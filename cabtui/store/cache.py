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
"""

from __future__ import annotations

import atexit
import contextlib
import errno
import hashlib
import os
import re
import shutil
import socket
import stat
import tempfile
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb

from cabtui.sources.inspect_map import PASS_SCORER_ENV
from cabtui.store.ingest import IngestReport, Progress, ingest
from cabtui.store.tables import SCHEMA_VERSION

UNKNOWN_OWNER_AGE = 24 * 3600  # seconds: temporary files of unknown owner older than this go
INGEST_PREFIX = "cabtui-ingest-"  # the ingest's scratch directory in the system temp dir
FALLBACK_PREFIX = "cabtui-fallback-"  # a cache built in the system temp dir (cache unwritable)

# <cache>.duckdb.<host>-<pid>.<random>.tmp (a directory), or, from older versions, the files
# <cache>.duckdb.<random>.tmp, its .wal and its DuckDB spill directory .tmp.tmp.
_CACHE_TEMP = re.compile(
    r"^(?P<db>.+\.duckdb)\.(?:(?P<host>[0-9a-f]{8})-(?P<pid>\d+)\.)?[A-Za-z0-9_]+\.tmp"
    r"(?:\.wal|\.tmp)?$"
)
# cabtui-ingest-<pid>-<random> / cabtui-fallback-<pid>-<random>, or cabtui-ingest-<random>.
_SYSTEM_TEMP = re.compile(r"^cabtui-(?:ingest|fallback)-(?:(?P<pid>\d+)-)?[A-Za-z0-9_]+$")


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


def cache_dir() -> Path:
    env = os.environ.get("CABTUI_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cabtui"


def cache_path(sweep: Path) -> Path:
    key = hashlib.sha1(str(Path(sweep).resolve()).encode()).hexdigest()[:16]
    return cache_dir() / f"{Path(sweep).resolve().name}-{key}.duckdb"


def fingerprint(sweep: Path) -> str:
    """A digest of every file's path, size and modification time under ``sweep``."""
    h = hashlib.sha1(SCHEMA_VERSION.encode())
    if os.path.isfile(sweep):  # one Inspect log opened alone
        st = os.stat(sweep)
        h.update(f"{st.st_size}\0{st.st_mtime_ns}\n".encode())
    for dirpath, dirnames, filenames in os.walk(sweep):
        dirnames.sort()
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            try:
                st = os.stat(full)
            except OSError:
                continue
            h.update(f"{os.path.relpath(full, sweep)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def cache_fingerprint(sweep: Path, source: str | None = None) -> str:
    """What a cache of ``sweep`` read as ``source`` records: :func:`fingerprint`, and the
    reading (a forced source, Inspect's pass scorer), each of which is another cache."""
    fp = fingerprint(sweep) + (f":{source}" if source else "")
    if os.environ.get(PASS_SCORER_ENV):
        fp += f":pass={os.environ[PASS_SCORER_ENV]}"
    return fp


def _read_meta(db: Path) -> dict[str, str] | None:
    """The meta table of a cache file, or None when it cannot be read as one."""
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        return {k: v for k, v in con.execute("SELECT key, value FROM meta").fetchall()}
    except duckdb.Error:
        return None
    finally:
        con.close()


def _cached_fingerprint(db: Path) -> str | None:
    meta = _read_meta(db) if db.is_file() else None
    return (meta or {}).get("fingerprint")


# -- temporary files: ours, and those of ingests that died -------------------------------------


@lru_cache(maxsize=1)
def _host() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def _remove(path: Path) -> bool:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return True


def _old(path: Path, now: float) -> bool:
    try:
        return now - path.lstat().st_mtime > UNKNOWN_OWNER_AGE
    except OSError:
        return False


def _locked(path: Path) -> bool:
    """True when another process holds a lock on ``path`` (DuckDB locks a database it has open
    for writing, for as long as it has it open)."""
    try:
        import fcntl
    except ImportError:  # not POSIX: assume in use
        return True
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


def _dead(pid: str | None, same_host: bool, path: Path, now: float) -> bool:
    if pid is not None and same_host:
        return int(pid) != os.getpid() and not _alive(int(pid))
    if pid is None and path.name.endswith((".tmp.wal", ".tmp.tmp")):
        path = path.with_name(path.name[:-4])  # an older version's WAL or spill: its database
        if not os.path.lexists(path):
            return True
    if pid is None and path.is_file() and not path.is_symlink():
        # an older version's temporary database: in use while its writer holds DuckDB's lock
        return not _locked(path)
    return _old(path, now)


def stale_temps(directory: Path | None = None, now: float | None = None) -> list[Path]:
    """Temporary files and directories of ingests whose process is gone: in the cache
    directory, and cabtui's scratch and fallback directories in the system temp dir."""
    now = time.time() if now is None else now
    found: list[Path] = []
    for folder, pattern in (
        (directory or cache_dir(), _CACHE_TEMP),
        (Path(tempfile.gettempdir()), _SYSTEM_TEMP),
    ):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            m = pattern.match(name)
            if m is None:
                continue
            path = folder / name
            try:
                if path.lstat().st_uid != os.getuid():
                    continue
            except OSError:
                continue
            host = m.groupdict().get("host")
            if _dead(m.group("pid"), host is None or host == _host(), path, now):
                found.append(path)
    return found


def remove_stale_temps(directory: Path | None = None) -> list[Path]:
    """Remove :func:`stale_temps`; return what was removed."""
    return [p for p in stale_temps(directory) if _remove(p)]


_own: set[Path] = set()  # temporary directories of this process's ingests, and fallback caches
_own_lock = threading.Lock()


def _track(path: Path, on: bool) -> None:
    with _own_lock:
        (_own.add if on else _own.discard)(path)


def remove_own_temps() -> None:
    """Remove every temporary file of this process: its ingests in progress (for an exit that
    cannot wait for them), its scratch directories and its fallback caches."""
    with _own_lock:
        mine = list(_own)
        _own.clear()
    pid = f"-{os.getpid()}-"
    with contextlib.suppress(OSError):
        tmp = Path(tempfile.gettempdir())
        mine += [tmp / n for n in os.listdir(tmp) if _SYSTEM_TEMP.match(n) and pid in n]
    for path in mine:
        _remove(path)


atexit.register(remove_own_temps)


def release(opened: Cache) -> None:
    """Remove the temporary copy of a cache built outside the cache directory, if any."""
    if opened.temporary is not None:
        _remove(opened.temporary)
        _track(opened.temporary, False)


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
    work = Path(
        tempfile.mkdtemp(prefix=f"{db.name}.{_host()}-{os.getpid()}.", suffix=".tmp", dir=db.parent)
    )
    _track(work, True)
    try:
        tmp = work / db.name
        report = ingest(sweep, tmp, progress, source)
        full = [p for p in report.problems if "No space left on device" in p.reason]
        if full:  # a read reported as failed because its scratch space ran out: not the data
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        con = duckdb.connect(str(tmp))
        try:
            con.execute(
                "INSERT INTO meta VALUES ('fingerprint', ?), ('source', ?)",
                [fp, str(sweep.resolve())],
            )
            # Write everything into the file now: DuckDB's close does not say when it cannot
            # (a full disk), and a file renamed without its WAL would lack tables.
            con.execute("CHECKPOINT")
        except duckdb.Error as e:
            raise OSError(errno.EIO, _reason(e)) from None
        finally:
            con.close()
        if os.path.exists(f"{tmp}.wal"):
            raise OSError(errno.EIO, "cannot write the whole cache")
        os.chmod(tmp, 0o600)
        os.replace(tmp, db)
    finally:
        _remove(work)
        _track(work, False)
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
    fp = cache_fingerprint(sweep, source)
    if not refresh and _cached_fingerprint(db) == fp:
        _private_file(db)
        _touch(db)
        return Cache(db, None)
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
    _track(temporary, True)
    try:
        report = _build(sweep, temporary / db.name, fp, progress, source)
    except WRITE_ERRORS as e:
        _remove(temporary)
        _track(temporary, False)
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


# -- cab-tui cache ls / prune --------------------------------------------------------------------


@dataclass
class CacheEntry:
    path: Path
    size: int  # bytes
    last_used: float  # seconds since the epoch (the file's modification time)
    source: str | None  # the sweep directory it caches; None when the file cannot be read
    schema: str | None

    @property
    def sweep_exists(self) -> bool:
        return self.source is not None and Path(self.source).is_dir()


def entries(directory: Path | None = None) -> list[CacheEntry]:
    """Every cache file in the cache directory, most recently used first."""
    folder = directory or cache_dir()
    try:
        names = sorted(os.listdir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    out = []
    for name in names:
        path = folder / name
        if not name.endswith(".duckdb"):
            continue
        try:
            st = path.stat()
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode):
            continue
        meta = _read_meta(path) or {}
        out.append(
            CacheEntry(
                path, st.st_size, st.st_mtime, meta.get("source"), meta.get("schema_version")
            )
        )
    out.sort(key=lambda e: e.last_used, reverse=True)
    return out


def prunable(
    found: list[CacheEntry],
    everything: bool = False,
    older_than_days: float | None = None,
    now: float | None = None,
) -> list[CacheEntry]:
    """The caches to prune: those whose sweep is gone (or which cannot be read), those not
    used for ``older_than_days``, or all of them."""
    now = time.time() if now is None else now
    out = []
    for e in found:
        old = older_than_days is not None and now - e.last_used > older_than_days * 86400
        if everything or old or not e.sweep_exists:
            out.append(e)
    return out


def remove(entry: CacheEntry) -> bool:
    """Remove one cache file (and a WAL beside it, if any)."""
    _remove(Path(str(entry.path) + ".wal"))
    return _remove(entry.path)
