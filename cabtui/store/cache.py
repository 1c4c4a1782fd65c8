"""The DuckDB file cached per sweep directory in the user's cache directory.

The sweep is never written. A cache is built in a temporary file beside its final name and
renamed into place, so a crash mid-ingest leaves no broken cache, and two cab-tui processes
opening the same sweep at once each build or reuse a complete file. Caches are opened read-only,
which DuckDB lets many processes do at once.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path

import duckdb

from cabtui.store.ingest import IngestReport, Progress, ingest
from cabtui.store.tables import SCHEMA_VERSION


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


def _cached_fingerprint(db: Path) -> str | None:
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error:
        return None
    try:
        row = con.execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchone()
        return row[0] if row else None
    except duckdb.Error:
        return None
    finally:
        con.close()


def ensure_cache(
    sweep: Path, progress: Progress | None = None, refresh: bool = False
) -> tuple[Path, IngestReport | None]:
    """The cache file for ``sweep``, built or rebuilt when needed.

    Returns the path and the ingest report when an ingest ran (None on a cache hit).
    """
    sweep = Path(sweep)
    db = cache_path(sweep)
    fp = fingerprint(sweep)
    if not refresh and db.exists() and _cached_fingerprint(db) == fp:
        return db, None
    db.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=db.name + ".", suffix=".tmp", dir=db.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()  # DuckDB creates the file itself
    try:
        report = ingest(sweep, tmp, progress)
        con = duckdb.connect(str(tmp))
        con.execute(
            "INSERT INTO meta VALUES ('fingerprint', ?), ('source', ?)", [fp, str(sweep.resolve())]
        )
        con.close()
        os.replace(tmp, db)
    finally:
        for leftover in (tmp, Path(str(tmp) + ".wal")):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return db, report
