"""``cab-tui export``: an opened sweep (any source) written as immutable Parquet and a manifest.

The layout is :mod:`cabtui.store.export_layout`. Secrets are masked in every text and JSON
column and in the recordings unless ``reveal``; identity columns are kept as they are.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
from duckdb.func import PythonUDFType

from cabtui.secrets import mask, mask_text
from cabtui.store.export_layout import (
    DETAIL_COLUMNS,
    FORMAT,
    FORMAT_VERSION,
    GROUPS_KEY,
    IDENTITY,
    MANIFEST,
    ORD,
    PACK,
    PACK_COLUMNS,
    RUNS_FILE,
    RUNS_PER_GROUP,
    RUNS_PER_PART,
    part_name,
)
from cabtui.store.store import Store
from cabtui.store.tables import SCHEMA_VERSION

ExportProgress = Callable[[str, int, int], None]


class ExportError(Exception):
    """The export could not be written; the message is one line."""


def _each(fn: Callable[[str | None], str | None]) -> Callable[[pa.Array], pa.Array]:
    """``fn`` over a whole Arrow column at a time (DuckDB calls it per vector, not per row)."""
    return lambda arr: pa.array([fn(v) for v in arr.to_pylist()], pa.string())


def _mask_json(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return json.dumps(mask(json.loads(text)), ensure_ascii=False)
    except ValueError:
        return mask_text(text)


def _mask_str(text: str | None) -> str | None:
    return None if text is None else mask_text(text)


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple[str, str]]:
    return [(r[0], r[1]) for r in con.execute(f"DESCRIBE src.{table}").fetchall()]


def _select(cols: list[tuple[str, str]], reveal: bool, prefix: str = "") -> str:
    """The columns, masked by type unless ``reveal`` (identity columns never)."""
    out = []
    for name, typ in cols:
        ref = f'{prefix}"{name}"'
        if reveal or name in IDENTITY:
            out.append(ref)
        elif typ == "VARCHAR":
            out.append(f'cab_mask_str({ref}) AS "{name}"')
        elif typ == "JSON":
            out.append(f'cab_mask_json({ref}::VARCHAR)::JSON AS "{name}"')
        elif typ == "VARCHAR[]":
            out.append(f'list_transform({ref}, lambda s: cab_mask_str(s)) AS "{name}"')
        else:
            out.append(ref)
    return ", ".join(out)


class _Writer:
    def __init__(self, out: Path):
        self.out = out
        self.files: dict[str, dict[str, Any]] = {}

    def done(self, name: str) -> None:
        path = self.out / name
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        self.files[name] = {"size": path.stat().st_size, "sha256": h.hexdigest()}

    def table(self, name: str, table: pa.Table) -> None:
        """A file read whole: compressed hard (floats split by byte first, which helps them)."""
        floats = [f.name for f in table.schema if pa.types.is_floating(f.type)]
        (self.out / name).parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(
            table, self.out / name, compression="zstd", compression_level=19,
            use_byte_stream_split=floats or False,
            use_dictionary=[c for c in table.column_names if c not in floats],
        )  # fmt: skip
        self.done(name)

    def parts(self, table: str, data: pa.Table) -> None:
        """``data`` (sorted by ORD) written as parts of small row groups."""
        if data.num_rows == 0:
            return
        ords = data.column(ORD).to_pylist()
        data = data.drop_columns([ORD])
        start = 0
        while start < len(ords):
            part = ords[start] // RUNS_PER_PART
            end = start
            while end < len(ords) and ords[end] // RUNS_PER_PART == part:
                end += 1
            slices: list[tuple[int, pa.Table]] = []
            at = start
            while at < end:
                group = ords[at] // RUNS_PER_GROUP
                stop = at
                while stop < end and ords[stop] // RUNS_PER_GROUP == group:
                    stop += 1
                slices.append((group, data.slice(at, stop - at)))
                at = stop
            name = part_name(table, part)
            (self.out / name).parent.mkdir(parents=True, exist_ok=True)
            meta = {GROUPS_KEY: json.dumps([g for g, _ in slices]).encode()}
            schema = data.schema.with_metadata(meta)
            with pq.ParquetWriter(
                self.out / name, schema, compression="zstd", write_statistics=False,
                write_page_checksum=True,
            ) as w:  # fmt: skip
                for _, piece in slices:
                    w.write_table(piece.replace_schema_metadata(meta))
            self.done(name)
            start = end


def _mask_cast(data: bytes) -> bytes:
    lines = []
    for line in data.decode("utf-8", "replace").splitlines():
        try:
            lines.append(json.dumps(mask(json.loads(line)), ensure_ascii=False))
        except ValueError:
            lines.append(mask_text(line))
    return ("\n".join(lines) + "\n").encode()


def _pack(store: Store, w: _Writer, recs: pa.Table, reveal: bool) -> pa.Table:
    """Write the recordings pack; ``recs`` with the pack columns added (None where unreadable)."""
    offsets: list[int | None] = []
    lengths: list[int | None] = []
    sums: list[str | None] = []
    at = 0
    with open(w.out / PACK, "wb") as f:
        for path in recs.column("path").to_pylist():
            try:
                raw = (store.root / path).read_bytes()
                if raw[:2] == b"\x1f\x8b":
                    raw = gzip.decompress(raw)
            except (OSError, EOFError, gzip.BadGzipFile):
                offsets.append(None)
                lengths.append(None)
                sums.append(None)
                continue
            blob = gzip.compress(raw if reveal else _mask_cast(raw), mtime=0)
            f.write(blob)
            offsets.append(at)
            lengths.append(len(blob))
            sums.append(hashlib.sha256(blob).hexdigest())
            at += len(blob)
    w.done(PACK)
    recs = recs.append_column(PACK_COLUMNS[0], pa.array(offsets, pa.int64()))
    recs = recs.append_column(PACK_COLUMNS[1], pa.array(lengths, pa.int64()))
    return recs.append_column(PACK_COLUMNS[2], pa.array(sums, pa.string()))


def export(
    store: Store, out: Path, reveal: bool = False, progress: ExportProgress | None = None
) -> dict[str, Any]:
    """Write ``store``'s sweep into ``out`` (a new or empty directory); return the manifest."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ExportError(f"{out} exists and is not an empty directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        return _export(store, out, reveal, progress or (lambda s, d, t: None))
    except (OSError, duckdb.Error) as e:
        raise ExportError(f"cannot write the export: {getattr(e, 'strerror', None) or e}") from None


def _export(store: Store, out: Path, reveal: bool, progress: ExportProgress) -> dict[str, Any]:
    con = duckdb.connect(":memory:")
    try:
        con.execute("ATTACH ? AS src (READ_ONLY)", [str(store.db_path)])
        con.execute("SET enable_progress_bar = false")
        for name, fn in (("cab_mask_str", _mask_str), ("cab_mask_json", _mask_json)):
            con.create_function(name, _each(fn), ["VARCHAR"], "VARCHAR", type=PythonUDFType.ARROW)
        con.execute(
            f"CREATE TEMP TABLE ord AS SELECT cell_id, min(o) AS {ORD} FROM (SELECT cell_id, "
            "row_number() OVER (ORDER BY cell_id) - 1 AS o FROM src.runs) GROUP BY cell_id"
        )
        w = _Writer(out)
        columns = {t: _columns(con, t) for t in ("runs", "spans", "model_calls", "recordings")}
        columns.update({t: _columns(con, t) for t in ("sweeps", "problems")})
        runs = columns["runs"]
        index = [c for c in runs if c[0] not in DETAIL_COLUMNS]
        details = [c for c in runs if c[0] in DETAIL_COLUMNS or c[0] == "cell_id"]
        steps = 6
        progress("runs index", 0, steps)

        def fetch(sql: str) -> pa.Table:
            return con.sql(sql).to_arrow_table()

        w.table(RUNS_FILE, fetch(
            f"SELECT {_select(index, reveal, 'r.')} FROM src.runs r "
            f"JOIN ord o USING (cell_id) ORDER BY o.{ORD}"
        ))  # fmt: skip
        for t in ("sweeps", "problems"):
            w.table(f"{t}.parquet", fetch(f"SELECT {_select(columns[t], reveal)} FROM src.{t}"))
        progress("run details", 1, steps)
        w.parts("details", fetch(
            f"SELECT {_select(details, reveal, 'r.')}, o.{ORD} FROM src.runs r "
            f"JOIN ord o USING (cell_id) ORDER BY o.{ORD}"
        ))  # fmt: skip
        for i, (t, order) in enumerate((("spans", "seq"), ("model_calls", "seq, timestamp"))):
            progress(t.replace("_", " "), 2 + i, steps)
            w.parts(t, fetch(
                f"SELECT {_select(columns[t], reveal, 'x.')}, o.{ORD} FROM src.{t} x "
                f"JOIN ord o USING (cell_id) ORDER BY o.{ORD}, {order}"
            ))  # fmt: skip
        progress("recordings", 4, steps)
        recs = fetch(
            f"SELECT x.*, o.{ORD} FROM src.recordings x JOIN ord o USING (cell_id) ORDER BY o.{ORD}"
        )
        w.parts("recordings", _pack(store, w, recs, reveal))
        columns["recordings"] += [(PACK_COLUMNS[0], "BIGINT"), (PACK_COLUMNS[1], "BIGINT"),
                                  (PACK_COLUMNS[2], "VARCHAR")]  # fmt: skip
        progress("manifest", 5, steps)
        n = con.execute("SELECT count(*) FROM ord").fetchall()[0][0]
    finally:
        con.close()
    digest = hashlib.sha256(json.dumps(sorted(w.files.items())).encode())
    manifest = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "export_id": digest.hexdigest()[:20],
        "schema_version": SCHEMA_VERSION,
        "created_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "masked": not reveal,
        "runs": n,
        "runs_per_part": RUNS_PER_PART,
        "runs_per_group": RUNS_PER_GROUP,
        "columns": {t: [list(c) for c in cols] for t, cols in columns.items()},
        "detail_columns": [c for c, _ in details if c != "cell_id"],
        "files": w.files,
    }
    tmp = out / f".{MANIFEST}.tmp"
    tmp.write_text(json.dumps(manifest, indent=1, sort_keys=True))
    os.replace(tmp, out / MANIFEST)
    return manifest
