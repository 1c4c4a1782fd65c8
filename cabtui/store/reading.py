"""Reading JSON-lines streams into DuckDB, keeping every valid record.

DuckDB reads a file as it is when it can; when it cannot be trusted with a file, the file is
read carefully (:func:`cabtui.sweep.lines.scrub`): each unusable line is reported with its file,
line and reason and costs only itself. Per-run files are concatenated into one stream first, so
a sweep of many small files costs one read, not one per file.
"""

from __future__ import annotations

import json
import os
import tempfile
from array import array
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from cabtui.store.schema import lit, q
from cabtui.sweep.layout import RunDir, Sweep
from cabtui.sweep.lines import (
    BOM,
    JSON_STRING,
    MAX_DEPTH,
    MAX_KEYS,
    MAX_LINE_BYTES,
    check_line,
    exceeds,
    explain,
    has_long_line,
    nonblank_lines,
    scrub,
)

MAX_COLUMNS = 2000  # distinct top-level keys of one file before it is read carefully
# How DuckDB reads every stream (the one parameter: the largest line it holds, in bytes).
JSON_OPTIONS = (
    "format='newline_delimited', ignore_errors=true, maximum_object_size=?, "
    "map_inference_threshold=-1"
)
STRICT_JSON_OPTIONS = JSON_OPTIONS.replace("ignore_errors=true", "ignore_errors=false")
SAMPLE_ROWS = 20480  # DuckDB detects a file's types from its first rows (read_json's sample_size)


def columns_option(schema: dict[str, str] | None) -> str:
    """read_json's ``columns`` argument for ``schema`` (name -> DuckDB type), or nothing."""
    if schema is None:
        return ""
    pairs = ", ".join(f"{lit(k)}: {lit(v)}" for k, v in schema.items())
    return f", columns={{{pairs}}}"


class _Careful(Exception):
    """DuckDB's read of a file cannot be trusted whole: read it line by line."""


class NotIncremental(Exception):
    """A tail cannot be read the way a cold ingest reads its whole file: rebuild instead."""


@dataclass
class Source:
    """A stream DuckDB reads: a real file, or a concatenation of per-run files."""

    path: Path
    label: str  # file name shown in problems (relative to the opened directory)
    files: list[str] | None = None  # when concatenated: the files, and per row its file and line
    row_file: array[int] = field(default_factory=lambda: array("I"))
    row_line: array[int] = field(default_factory=lambda: array("I"))
    # A tail of a file read alone (a refresh): the rows and lines of the file before it, and
    # the types the whole file was read with (its columns are read as those).
    row_base: int = 0
    line_base: int = 0
    # the columns to read and their types (a file read whole by DuckDB: the keys not in it are
    # not read, nor measured)
    schema: dict[str, str] | None = None
    # a joined stream with a line that may be nested deeper or hold more keys than a line may,
    # counted as the runs' files are joined: read carefully, as each run's file would be alone
    careful: bool = False

    def where(self, rows: list[int]) -> dict[int, tuple[str, int]]:
        """Map 1-based row numbers (of this stream) to (file, line)."""
        if self.files is not None:
            n = len(self.row_file)
            return {
                r: (self.files[self.row_file[r - 1]], self.row_line[r - 1])
                for r in rows
                if 0 < r <= n
            }
        wanted, found = set(rows), {}
        for i, (number, _) in enumerate(nonblank_lines(self.path), start=1):
            if i in wanted:
                found[i] = (self.label, number + self.line_base)
        return found

    def raw_lines(self, rows: list[int]) -> dict[int, tuple[bytes, bool]]:
        """The raw text of the given rows, and whether each is the stream's last line."""
        wanted, found, last = set(rows), {}, 0
        for i, (_, raw) in enumerate(nonblank_lines(self.path), start=1):
            last = i
            if i in wanted:
                found[i] = (raw, False)
        if last in found:
            found[last] = (found[last][0], True)
        return found


class Reading:
    """The reading half of an ingest: what it needs of the ingest is its connection, its scratch
    directory, a counter for scratch file names, and where problems go."""

    con: duckdb.DuckDBPyConnection
    tmp: tempfile.TemporaryDirectory[str]
    order: int
    strict = False  # a refresh: a stream that needs the careful reading raises NotIncremental
    read_types: list[tuple[str, str]] | None = None  # the types of the last fast read

    def problem(self, file: str, line: int | None, reason: str) -> None:
        raise NotImplementedError

    def label(self, path: Path) -> str:
        raise NotImplementedError

    def read(self, source: Source, table: str, required: str | None) -> bool:
        """Read ``source`` into temp table ``table``; report unusable lines. False when no row
        can be used (nothing readable, or no line has ``required``).

        DuckDB reads the file as it is when it can. When it cannot read it whole (a line nested
        too deep, too long or too wide), when some lines are not objects or start with a byte
        order mark, or when it drops a line that is valid JSON, the file is read carefully
        instead: :func:`scrub` writes a copy in which each unusable line is an empty object
        (reported with its reason) and every other line is plain JSON, and DuckDB reads that."""
        skip: dict[int, str] = {}
        self.read_types = None
        self.con.execute(f"DROP TABLE IF EXISTS {table}")
        try:
            cols = self._fast(source, table, required)
        except (duckdb.Error, _Careful) as e:
            if self.strict:
                raise NotIncremental(f"{source.label} needs the careful reading") from e
            cols = None
        if cols is None:
            try:
                cols, skip = self._careful(source, table)
            except (duckdb.Error, OSError) as e:
                self.problem(source.label, None, f"cannot read: {str(e).splitlines()[0]}")
                return False
        if required is None:
            return True
        bad = [r for r in self._rows_without(table, cols, required) if r not in skip]
        if bad:
            lines, where = source.raw_lines(bad), source.where(bad)
            for r in bad:
                raw, last = lines.get(r, (b"", False))
                file, line = where.get(r, (source.label, None))
                self.problem(file, line, explain(raw, required, last) or f"no usable {required}")
        return required in cols and len(bad) + len(skip) < self._count(table)

    def _fast(self, source: Source, table: str, required: str | None) -> list[str]:
        """DuckDB's own read; raises _Careful when the careful reading is needed."""
        if source.careful:
            raise _Careful
        with open(source.path, "rb") as f:
            if f.read(len(BOM)) == BOM:
                raise _Careful
            f.seek(0, os.SEEK_END)
            whole = f.tell() == 0 or (f.seek(-1, os.SEEK_END) >= 0 and f.read(1) == b"\n")
        if has_long_line(source.path):
            raise _Careful
        # strict (duplicate keys are read carefully) unless the last line is still being
        # written: that one line is then reported (or held back) without reading all carefully
        cols = self._read_json(source.path, table, source.schema, strict=whole)
        self.read_types = [(c, str(t)) for c, t in zip(cols, self.con.table(table).types)]
        if cols == ["json"] or len(cols) > MAX_COLUMNS:
            raise _Careful  # lines that are not objects, or keys beyond reason
        if source.schema is not None and self._too_big(table, source.schema, required):
            raise _Careful
        if required is not None:
            bad = self._rows_without(table, cols, required)
            if bad:
                lines = source.raw_lines(bad[:1000])
                if any(explain(raw, required, last) is None for raw, last in lines.values()):
                    raise _Careful  # DuckDB dropped a line that Python reads
        return cols

    def _careful(self, source: Source, table: str) -> tuple[list[str], dict[int, str]]:
        clean = Path(self.tmp.name) / f"clean-{self.order}.jsonl"
        self.order += 1
        self.read_types = None
        skip, notes = scrub(source.path, clean)
        rows = sorted({*skip, *(r for r, _ in notes)})
        where = source.where(rows) if rows else {}
        for r, reason in [*skip.items(), *notes]:
            file, line = where.get(r, (source.label, None))
            self.problem(file, line, reason)
        return self._read_json(clean, table, source.schema), skip

    def _too_big(self, table: str, schema: dict[str, str], required: str | None) -> bool:
        """Whether an object kept as JSON text (read with ``schema``, which DuckDB does not
        measure) is nested deeper or holds more keys than a line may. DuckDB picks the texts
        with enough brackets, or commas and colons, then counts them again with the texts'
        strings taken out; Python measures the few left. (``required``, checked on its own,
        is not measured.)"""
        cols = [q(c) for c, t in schema.items() if t == "JSON" and c != required]
        if not cols:
            return False

        def enough(c: str) -> str:
            return (
                f"(strlen({c}) >= {2 * MAX_DEPTH} AND ("
                f"strlen({c}) - strlen(replace(replace({c}, '{{', ''), '[', '')) >= {MAX_DEPTH - 1}"
                f" OR strlen({c}) - strlen(replace(replace({c}, ',', ''), ':', '')) >= {MAX_KEYS - 1}))"
            )

        bare = [f"b{i}" for i in range(len(cols))]
        strip = ", ".join(
            f"CASE WHEN {enough(c)} THEN regexp_replace({c}, {lit(JSON_STRING)}, '', 'g') END AS {b}"
            for c, b in zip(cols, bare)
        )
        rows = self.con.execute(
            f"SELECT {', '.join(bare)} FROM (SELECT {strip} FROM {table} "
            f"WHERE {' OR '.join(enough(c) for c in cols)}) WHERE {' OR '.join(enough(b) for b in bare)}"
        ).fetchall()
        return any(exceeds(text) for row in rows for text in row if text is not None)

    def _rows_without(self, table: str, cols: list[str], key: str) -> list[int]:
        """1-based rows whose ``key`` is missing or not a string (made NULL here)."""
        if key not in cols:
            return [r for (r,) in self.con.execute(f"SELECT rowid + 1 FROM {table}").fetchall()]
        kind = str(dict(zip(cols, self.con.table(table).types))[key])
        if kind != "VARCHAR":
            # Read as JSON text (Source.schema), or some lines give the key a value that is not
            # a string: keep only the strings, as text.
            k = q(key)
            v = k if kind == "JSON" else f"to_json({k})"  # (JSON already: not written again)
            self.con.execute(
                f"ALTER TABLE {table} ALTER {k} TYPE VARCHAR USING (CASE WHEN "
                f"json_type({v}) = 'VARCHAR' THEN json_extract_string({v}, '$') END)"
            )
        sql = f"SELECT rowid + 1 FROM {table} WHERE {q(key)} IS NULL"
        return [r for (r,) in self.con.execute(sql).fetchall()]

    def _count(self, table: str) -> int:
        return int(self.con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])

    def _read_json(
        self, path: Path, table: str, schema: dict[str, str] | None = None, strict: bool = False
    ) -> list[str]:
        """The file as a table (``schema``: its columns' types, else detected). ``strict``: any
        line DuckDB cannot take whole is an error (with ignore_errors it would keep the first of
        duplicate keys, or a NULL row, silently)."""
        options = STRICT_JSON_OPTIONS if strict else JSON_OPTIONS
        self.con.execute(
            f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_json(?, "
            f"{options}{columns_option(schema)})",
            [str(path), MAX_LINE_BYTES + 1],
        )
        return list(self.con.table(table).columns)

    def concat(self, sweep: Sweep, runs: list[tuple[RunDir, str]], artefact: str) -> Source | None:
        """One stream of the given per-run artefact, each object tagged with its run's cell_id."""
        if not runs:
            return None
        out = Path(self.tmp.name) / f"{artefact}-{self.order}.jsonl"
        self.order += 1
        src = Source(out, artefact, files=[])
        assert src.files is not None
        with open(out, "wb") as w:
            for run_dir, cell_id in runs:
                rel = run_dir.files[artefact]
                label = self.label(sweep.path / rel)
                src.files.append(label)
                index = len(src.files) - 1
                prefix = b'{"cell_id":' + json.dumps(cell_id).encode() + b","
                try:
                    data = (sweep.path / rel).read_bytes()
                except OSError as e:
                    self.problem(label, None, f"unreadable: {e.strerror}")
                    continue
                if data.startswith(BOM):
                    data = data[len(BOM) :]
                if artefact == "record.json":
                    # One JSON document, possibly spread over many lines: make it one line.
                    doc, why, notes = check_line(data)
                    for note in notes:
                        self.problem(label, None, note)
                    if doc is None:
                        self.problem(label, None, why or "unusable")
                        continue
                    doc.setdefault("cell_id", cell_id)
                    w.write(json.dumps(doc, allow_nan=False).encode() + b"\n")
                    src.row_file.append(index)
                    src.row_line.append(1)
                    continue
                for number, raw in enumerate(data.splitlines(), start=1):
                    body = raw.strip()
                    if not body:
                        continue
                    if (
                        body.count(b"{") + body.count(b"[") >= MAX_DEPTH
                        or body.count(b",") + body.count(b":") >= MAX_KEYS - 1
                    ):
                        src.careful = True  # (counts that only a line too deep or wide reaches)
                    if body.startswith(b"{") and body[1:].lstrip().startswith(b"}"):
                        w.write(prefix[:-1] + b"}\n")
                    elif body.startswith(b"{"):
                        w.write(prefix + body[1:] + b"\n")
                    else:
                        w.write(body + b"\n")  # not an object: DuckDB gives a row of NULLs
                    src.row_file.append(index)
                    src.row_line.append(number)
        return src
