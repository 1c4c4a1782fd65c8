"""A sweep opened from where it was published (``cab-tui export``, then any sync).

Opening reads the manifest and the small files (the runs index, sweeps, problems) into a local
DuckDB cache keyed by the URL and the export id: browsing, filtering, pivots and paired
statistics then run locally. A run's details, spans, model calls and recording are fetched on
its first visit (a footer and one row group of each part, one range of the pack) and kept in the
cache: a second visit reads nothing. A new export id is a new cache; the old one is left alone.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from cabtui.scoring import Weights
from cabtui.store.cache import CacheWarning
from cabtui.store.cache_files import track
from cabtui.store.export_layout import (
    GROUPS_KEY,
    ORD,
    PACK,
    PACK_COLUMNS,
    PART_TABLES,
    locate,
    part_name,
)
from cabtui.store.ingest import Progress
from cabtui.store.remote_cache import build, cache_paths, read_manifest, remove_tree
from cabtui.store.remote_io import (
    DEFAULT_TIMEOUT,
    RemoteError,
    Transport,
    from_path_text,
    transport_for,
)
from cabtui.store.store import Store
from cabtui.store.tables import scores_sql

CHUNK = 1 << 20  # a recording is fetched in ranges of this many bytes
_CHECKSUM = re.compile(r"(?i)checksum|crc|corrupt|invalid|magic|thrift|deserializ")


class RemoteStore(Store):
    """A :class:`Store` over a published sweep; see the module's docstring."""

    ATTACH = ""

    def __init__(
        self, db_path: Path, rec_dir: Path, transport: Transport, manifest: dict[str, Any]
    ):
        super().__init__(db_path, rec_dir)
        self.transport, self.manifest, self.url = transport, manifest, transport.url
        self._lock = threading.Lock()
        self._footers: dict[str, Any] = {}
        self.private: Path | None = None  # a private copy of the cache, removed on close
        self._watch = threading.local()  # the callback of Store.watching, per thread

    @property
    def name(self) -> str:
        """The URL's last part (the published sweep's name)."""
        url = self.url or ""
        return url.rstrip("/").rsplit("/", 1)[-1] or super().name

    @classmethod
    def open_url(
        cls,
        url: str,
        progress: Progress | None = None,
        endpoint_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> RemoteStore:
        t = transport_for(url, endpoint_url, timeout)
        m = read_manifest(t)
        db, rec_dir = cache_paths(t.url, m["export_id"])
        if not db.is_file():
            build(t, m, db, progress)
        rec_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            return cls(db, rec_dir, t, m)
        except duckdb.IOException as e:
            if "lock" not in str(e).lower():
                raise RemoteError(f"cannot open the cache {db}: {type(e).__name__}") from None
        # Another cab-tui has this sweep open (and may be writing runs into its cache): this
        # one reads the index again into a private copy, removed on close.
        private = Path(tempfile.mkdtemp(prefix="cabtui-remote-"))
        track(private, True)  # removed at exit, if not on close
        try:
            build(t, m, private / db.name, progress)
            (private / "rec").mkdir(mode=0o700)
            store = cls(private / db.name, private / "rec", t, m)
        except BaseException:
            remove_tree(private)
            raise
        store.private = private
        store.warning = "this sweep is open in another cab-tui: runs fetched here are not kept"
        warnings.warn(CacheWarning(store.warning), stacklevel=2)
        return store

    def close(self) -> None:
        super().close()
        if self.private is not None:
            remove_tree(self.private)
            track(self.private, False)

    # -- fetching one run ---------------------------------------------------------------------

    def fetched(self, cell_id: str) -> bool:
        rows = self.cursor().execute("SELECT 1 FROM fetched WHERE cell_id = ?", [cell_id])
        return bool(rows.fetchall())

    def _group(self, table: str, part: int, group: int, cell_id: str) -> pa.Table | None:
        name = part_name(table, part)
        info = self.manifest["files"].get(name)
        if info is None:
            return None
        try:
            f = self.transport.open(name, int(info["size"]))
            pf = pq.ParquetFile(f, metadata=self._footers.get(name), pre_buffer=True,
                                page_checksum_verification=True)  # fmt: skip
            self._footers[name] = pf.metadata
            groups = json.loads(pf.schema_arrow.metadata[GROUPS_KEY])
            if group not in groups:
                return None
            data = pf.read_row_group(groups.index(group))
        except (pa.ArrowException, OSError, ValueError, KeyError) as e:
            # a failed read inside pyarrow's reader (a RemoteError of the transport) passes
            # through as it is; what is left is the data itself
            what = "checksum mismatch" if _CHECKSUM.search(str(e)) else "unreadable data"
            raise RemoteError(f"{what} in {self.transport.shown(name)}") from None
        return data.filter(pc.equal(data.column("cell_id"), cell_id))

    def _recording(self, recs: pa.Table, cell_id: str) -> pa.Table:
        row = recs.to_pylist()[0]
        offset, length, digest = (row[c] for c in PACK_COLUMNS)
        recs = recs.drop_columns(list(PACK_COLUMNS))
        if offset is None:
            return recs
        callback = getattr(self._watch, "callback", None)
        parts, done = [], 0
        while done < length:  # in chunks, so that a large recording can show its progress
            n = min(CHUNK, int(length) - done)
            parts.append(self.transport.read_range(PACK, int(offset) + done, n))
            done += n
            if callback is not None:
                callback(done, int(length))
        blob = b"".join(parts)
        if hashlib.sha256(blob).hexdigest() != digest:
            raise RemoteError(f"checksum mismatch in the recording of {cell_id}")
        name = hashlib.sha1(cell_id.encode()).hexdigest()[:20] + ".cast.gz"
        tmp = self.root / f".{name}.tmp"
        tmp.write_bytes(blob)
        os.replace(tmp, self.root / name)
        return recs.set_column(recs.schema.get_field_index("path"), "path", pa.array([name]))

    @contextlib.contextmanager
    def watching(self, callback: Callable[[int, int], None]) -> Iterator[None]:
        self._watch.callback = callback
        try:
            yield
        finally:
            self._watch.callback = None

    def ensure(self, cell_id: str) -> bool:
        """Fetch the run's details, spans, model calls and recording unless kept already;
        False when there is no such run. RemoteError when a read fails (nothing is kept then)."""
        if self.fetched(cell_id):
            return True
        with self._lock:
            if self.fetched(cell_id):
                return True
            cur = self.cursor()
            row = cur.execute(
                f"SELECT {ORD} FROM runs_index WHERE cell_id = ?", [cell_id]
            ).fetchall()
            if not row:
                return False
            part, group = locate(int(row[0][0]))
            got = {t: self._group(t, part, group, cell_id) for t in PART_TABLES}
            recs = got.pop("recordings")
            if recs is not None and recs.num_rows:
                got["recordings"] = self._recording(recs, cell_id)
            targets = {"details": "run_details", "spans": "spans", "model_calls": "model_calls",
                       "recordings": "recordings"}  # fmt: skip
            cur.execute("BEGIN")
            try:
                for t, data in got.items():
                    if data is not None and data.num_rows:
                        cur.register("incoming", data)
                        cur.execute(f"INSERT INTO {targets[t]} BY NAME SELECT * FROM incoming")
                        cur.unregister("incoming")
                cur.execute("INSERT INTO fetched VALUES (?)", [cell_id])
                cur.execute("COMMIT")
            except BaseException:
                cur.execute("ROLLBACK")
                raise
        return True

    # -- the Store's per-run queries, fetching first --------------------------------------------

    def run(self, cell_id: str, weights: Weights | None = None) -> dict[str, Any] | None:
        self.ensure(cell_id)
        return super().run(cell_id, weights)

    def scores(self, cell_id: str) -> list[tuple[str, str, Any]]:
        """As the Store's, from the one run (the view over the index and the details would
        scan every run)."""
        self.ensure(cell_id)
        rows = self.cursor().execute(
            "WITH one AS MATERIALIZED (SELECT * FROM runs WHERE cell_id = ?) "
            f"SELECT axis, key, value FROM ({scores_sql('one AS runs')})",
            [cell_id],
        )
        return [(a, k, None if v is None else json.loads(v)) for a, k, v in rows.fetchall()]

    def spans(self, cell_id: str) -> list[dict[str, Any]]:
        self.ensure(cell_id)
        return super().spans(cell_id)

    def model_calls(self, cell_id: str) -> list[dict[str, Any]]:
        self.ensure(cell_id)
        return super().model_calls(cell_id)

    def recording(self, cell_id: str) -> dict[str, Any] | None:
        self.ensure(cell_id)
        return super().recording(cell_id)


def open_target(
    target: str | Path,
    progress: Progress | None = None,
    refresh: bool = False,
    source: str | None = None,
    endpoint_url: str | None = None,
) -> Store:
    """A Store of a sweep directory, or of a published sweep at a URL."""
    url = from_path_text(str(target))
    if url is not None:
        return RemoteStore.open_url(url, progress, endpoint_url)
    return Store.open(Path(target), progress, refresh, source)
