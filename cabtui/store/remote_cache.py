"""A published sweep's local cache: the manifest read and checked, and the runs index (with
the sweeps and problems) fetched, checked against its sha256 and written into a DuckDB file
keyed by the URL and the export id (:func:`cache_paths`). The per-run tables are created empty;
:class:`cabtui.store.remote.RemoteStore` fills them run by run."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from cabtui.store.cache_files import cache_dir
from cabtui.store.export_layout import (
    FORMAT,
    FORMAT_VERSION,
    MANIFEST,
    ORD,
    PACK_COLUMNS,
    RUNS_FILE,
    SMALL_TABLES,
)
from cabtui.store.ingest import Progress
from cabtui.store.remote_io import HttpTransport, RemoteError, Transport
from cabtui.store.tables import SCHEMA_VERSION, scores_view_sql


def _cols(cols: list[list[str]]) -> str:
    return ", ".join(f'"{n}" {t}' for n, t in cols)


def _verified(t: Transport, name: str, info: dict[str, Any]) -> bytes:
    data = t.read(name, info.get("size"))
    if hashlib.sha256(data).hexdigest() != info.get("sha256"):
        raise RemoteError(
            f"checksum mismatch in {t.shown(name)}: the export is damaged or changing"
        )
    return data


def read_manifest(t: Transport) -> dict[str, Any]:
    if isinstance(t, HttpTransport):
        t.check_ranges(MANIFEST)
    raw = t.read(MANIFEST)
    try:
        m = json.loads(raw)
    except ValueError:
        raise RemoteError(f"{t.shown(MANIFEST)} is not a cab-tui export manifest") from None
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise RemoteError(f"{t.shown(MANIFEST)} is not a cab-tui export manifest")
    if m.get("version") != FORMAT_VERSION or m.get("schema_version") != SCHEMA_VERSION:
        raise RemoteError(
            f"the export at {t.shown('')} is of another cab-tui version (format "
            f"{m.get('version')}, schema {m.get('schema_version')}); re-export it or upgrade"
        )
    if not re.fullmatch(r"[0-9a-f]{8,64}", str(m.get("export_id", ""))):
        raise RemoteError(f"{t.shown(MANIFEST)} has no valid export id")
    if not _well_formed(m):
        raise RemoteError(f"{t.shown(MANIFEST)} is malformed (its columns or files)")
    return m


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_TYPE = re.compile(r"[A-Z]+( WITH TIME ZONE)?(\[\])?")
_TABLES = ("runs", "spans", "model_calls", "recordings", *SMALL_TABLES)


def _well_formed(m: dict[str, Any]) -> bool:
    """The manifest's columns (they become the cache's DDL) are plain names and types, and
    each file has an integer size and a sha256."""
    cols, files, details = m.get("columns"), m.get("files"), m.get("detail_columns")
    if not isinstance(cols, dict) or not isinstance(files, dict) or not isinstance(details, list):
        return False
    for table in _TABLES:
        listed = cols.get(table)
        if not isinstance(listed, list) or not listed:
            return False
        for c in listed:
            if not (isinstance(c, list) and len(c) == 2 and all(isinstance(x, str) for x in c)):
                return False
            if not (_NAME.fullmatch(c[0]) and _TYPE.fullmatch(c[1])):
                return False
    if not all(isinstance(d, str) and _NAME.fullmatch(d) for d in details):
        return False
    return all(
        isinstance(f, dict)
        and isinstance(f.get("size"), int)
        and f["size"] >= 0
        and isinstance(f.get("sha256"), str)
        for f in files.values()
    )


def cache_paths(url: str, export_id: str) -> tuple[Path, Path]:
    """The cache file and the directory of fetched recordings of one export of ``url``."""
    key = hashlib.sha1(url.rstrip("/").encode()).hexdigest()[:12]
    name = re.sub(r"[^A-Za-z0-9._-]", "_", url.rstrip("/").rsplit("/", 1)[-1])[:40] or "sweep"
    stem = cache_dir() / f"remote-{name}-{key}-{export_id}"
    return stem.with_suffix(".duckdb"), Path(f"{stem}.rec")


def build(t: Transport, m: dict[str, Any], db: Path, progress: Progress | None) -> None:
    db.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    work = Path(tempfile.mkdtemp(prefix=f"{db.name}.", suffix=".tmp", dir=db.parent))
    tmp = work / db.name
    cols = m["columns"]
    details = set(m["detail_columns"])
    runs = [c for c in cols["runs"] if c[0] not in details]
    detail_cols = [c for c in cols["runs"] if c[0] in details or c[0] == "cell_id"]
    recs = [c for c in cols["recordings"] if c[0] not in PACK_COLUMNS]
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.execute("CREATE TABLE meta (key VARCHAR, value VARCHAR)")
            con.execute(f"CREATE TABLE runs_index ({_cols(runs)}, {ORD} BIGINT)")
            con.execute(f"CREATE TABLE run_details ({_cols(detail_cols)})")
            for table in ("spans", "model_calls", *SMALL_TABLES):
                con.execute(f"CREATE TABLE {table} ({_cols(cols[table])})")
            con.execute(f"CREATE TABLE recordings ({_cols(recs)})")
            con.execute("CREATE TABLE fetched (cell_id VARCHAR PRIMARY KEY)")
            names = [RUNS_FILE, *(f"{s}.parquet" for s in SMALL_TABLES)]
            for i, (name, table) in enumerate(zip(names, ("runs_index", *SMALL_TABLES))):
                if progress:
                    progress(("the runs index", "the sweeps", "the problems")[i], i, len(names))
                info = m["files"].get(name)
                if info is None:
                    raise RemoteError(f"{t.shown(MANIFEST)} lists no {name}")
                data = pq.read_table(pa.BufferReader(_verified(t, name, info)))
                if table == "runs_index":  # sorted by export_ord: its row number
                    data = data.append_column(ORD, pa.array(range(data.num_rows), pa.int64()))
                con.register("incoming", data)
                con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
                con.unregister("incoming")
            con.execute(
                "CREATE VIEW runs AS SELECT i.* EXCLUDE (export_ord), d.* EXCLUDE (cell_id) "
                "FROM runs_index i LEFT JOIN run_details d USING (cell_id)"
            )
            con.execute(scores_view_sql())
            con.executemany(
                "INSERT INTO meta VALUES (?, ?)",
                [("schema_version", SCHEMA_VERSION), ("source", t.url),
                 ("export_id", m["export_id"]), ("fingerprint", f"export:{m['export_id']}")],
            )  # fmt: skip
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.chmod(tmp, 0o600)
        os.replace(tmp, db)
    except (duckdb.Error, pa.ArrowException) as e:
        raise RemoteError(
            f"cannot read the runs index of {t.shown('')}: {type(e).__name__}"
        ) from None
    finally:
        remove_tree(work)


def remove_tree(path: Path) -> None:
    for p in sorted(path.rglob("*"), reverse=True):
        with contextlib.suppress(OSError):
            p.unlink() if p.is_file() else p.rmdir()
    with contextlib.suppress(OSError):
        path.rmdir()
