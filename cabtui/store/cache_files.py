"""The files of the cache directory other than building one: where the directory is, the
temporary files of ingests (this process's, removed at exit, and those of ingests that died,
removed by the next cab-tui that opens a sweep), and the cache files that ``cab-tui cache ls``
lists and ``cab-tui cache prune`` removes.

Building and opening a sweep's cache is :mod:`cabtui.store.cache`.
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
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import duckdb

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


def cache_dir() -> Path:
    env = os.environ.get("CABTUI_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "cabtui"


# Rows per row group of the cache's tables (DuckDB's default: 122,880): a table is compressed
# and scanned a row group per thread, so smaller ones let a table of 100,000 runs be written
# (and read) on every core, not on one.
ROW_GROUP_ROWS = 16384


def open_to_write(db: Path, memory_limit: str | None = None) -> duckdb.DuckDBPyConnection:
    """A connection that writes the cache file ``db`` (made if missing), with its row groups
    of ROW_GROUP_ROWS. Every writer opens it so: a checkpoint by a connection with another
    row group size would write every table again in row groups of that size."""
    limit = {} if memory_limit is None else {"memory_limit": memory_limit}
    con = duckdb.connect(config={"temp_directory": f"{db}.tmp", **limit})
    try:
        con.execute(f"ATTACH '{_quoted(str(db))}' AS cache (ROW_GROUP_SIZE {ROW_GROUP_ROWS})")
        con.execute("USE cache")
    except duckdb.Error:
        con.close()
        raise
    return con


def _quoted(text: str) -> str:
    return text.replace("'", "''")


def read_meta(db: Path) -> dict[str, str] | None:
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


# -- temporary files: ours, and those of ingests that died -------------------------------------


@lru_cache(maxsize=1)
def this_host() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # exists, owned by someone else
    return True


def remove_path(path: Path) -> bool:
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
            if _dead(m.group("pid"), host is None or host == this_host(), path, now):
                found.append(path)
    return found


def remove_stale_temps(directory: Path | None = None) -> list[Path]:
    """Remove :func:`stale_temps`; return what was removed."""
    return [p for p in stale_temps(directory) if remove_path(p)]


_own: set[Path] = set()  # temporary directories of this process's ingests, and fallback caches
_own_lock = threading.Lock()


def track(path: Path, on: bool) -> None:
    with _own_lock:
        (_own.add if on else _own.discard)(path)


@contextlib.contextmanager
def staged(db: Path) -> Iterator[Path]:
    """Where a new cache file for ``db`` is written: in a private temporary directory beside
    it (``<cache>.<host>-<pid>.<random>.tmp/``, which :func:`stale_temps` knows), gone after."""
    work = Path(
        tempfile.mkdtemp(
            prefix=f"{db.name}.{this_host()}-{os.getpid()}.", suffix=".tmp", dir=db.parent
        )
    )
    track(work, True)
    try:
        yield work / db.name
    finally:
        if os.path.lexists(work / REPLACED):  # freeing a large file's blocks takes a while
            threading.Thread(target=_remove, args=(work,), daemon=True).start()
        else:
            _remove(work)


REPLACED = "replaced"  # the cache file a new one replaced, in the new one's work directory


def _remove(work: Path) -> None:
    remove_path(work)
    track(work, False)


def put_in_place(tmp: Path, db: Path) -> None:
    """Rename the finished cache file ``tmp`` onto ``db``, readable by its owner only; an
    OSError when DuckDB left part of it in its WAL (it could not write the whole file)."""
    if os.path.exists(f"{tmp}.wal"):
        raise OSError(errno.EIO, "cannot write the whole cache")
    os.chmod(tmp, 0o600)
    with contextlib.suppress(OSError):  # the file replaced is freed after, not by the rename
        os.link(db, tmp.parent / REPLACED)
    os.replace(tmp, db)


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
        remove_path(path)


atexit.register(remove_own_temps)


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
        if self.source is not None and "://" in self.source:
            return True  # a published sweep (store.remote): not asked over the network here
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
        meta = read_meta(path) or {}
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
    remove_path(Path(str(entry.path) + ".wal"))
    recordings = entry.path.with_suffix(".rec")  # a published sweep's fetched recordings
    if recordings.is_dir():
        remove_path(recordings)
    return remove_path(entry.path)
