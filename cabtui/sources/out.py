"""The writer of imported sweeps: each run's record as a line of results.jsonl, its spans and
model calls as Parquet files with the store's column types, and the problems met on the way.

Spans and model calls are most of what an import writes (a Harbor job of 10,000 trials makes
over 700,000 spans). Written as columns, the store takes them as they are, with no JSON to
parse again; so what reading a JSON line would check is checked here: an object kept as JSON
text (a span's attributes, a call's prompt and completion) nested deeper, or holding more keys,
than a line may, or longer than one, is left out and reported against the run it came from.
Each span and call is numbered within its run, in the order it was written. No Textual here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pyarrow as pa
import pyarrow.parquet as pq

from cabtui.sweep.layout import Sweep
from cabtui.sweep.lines import MAX_DEPTH, MAX_KEYS, MAX_LINE_BYTES, shape
from cabtui.sweep.problems import Problem

# What a run's own data can raise while it is mapped (a value of a shape nobody expected).
IMPORT_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError)

_ENCODER = json.JSONEncoder(check_circular=False)  # ASCII: lone surrogates stay escaped
_C_ENCODER = getattr(json.encoder, "c_make_encoder", None)  # None without the C accelerator
# The C encoder _ENCODER.encode() makes anew at every call (its arguments), made once.
_CHUNKS = None if _C_ENCODER is None else _C_ENCODER(
    None, _ENCODER.default, json.encoder.encode_basestring_ascii, None,
    _ENCODER.key_separator, _ENCODER.item_separator, False, False, True,
)  # fmt: skip
_STR = json.encoder.encode_basestring_ascii  # how encode writes a string (its C function)
_JOIN = "".join


def encode(obj: Any) -> str:
    """``obj`` as JSON text (ASCII; NaN and infinities as such: DuckDB's JSON reads them);
    values JSON has no form for (a path, a date) as their text."""
    try:
        return _ENCODER.encode(obj) if _CHUNKS is None else _JOIN(_CHUNKS(obj, 0))
    except (TypeError, ValueError, RecursionError):
        return json.dumps(obj, default=str)


# An escape in a JSON string: a surrogate pair, a lone surrogate (group 1), or any other.
_ESCAPE = re.compile(r"\\(?:ud[89ab][0-9a-f]{2}\\ud[c-f][0-9a-f]{2}|u(d[89a-f][0-9a-f]{2})|.)")


def _without_lone_surrogates(text: str) -> str:
    """JSON text with each lone surrogate escaped in it (which Python's JSON writes, and
    DuckDB's JSON refuses) written as U+FFFD."""
    if "\\ud" not in text:
        return text
    return _ESCAPE.sub(lambda m: "\\ufffd" if m.group(1) else m.group(0), text)


_SHORT = 2 * (MAX_DEPTH - 1)  # a JSON text shorter than this can be neither too deep nor too wide
ROW_KEYS = 11  # the keys of a span's or model call's own row (as a line of JSON: its object)


def unfit(value: Any, text: str) -> str | None:
    """Why ``value``, written as the JSON ``text``, cannot be stored in a row as a line of JSON
    holds it (nested deeper than MAX_DEPTH with the row around it, more than MAX_KEYS keys
    with the row's own, longer than a line), or None. Brackets and colons are counted first
    (never fewer than there are levels and keys), so only a text that could be too much is
    measured."""
    n = len(text)  # (ASCII: its bytes)
    if n < _SHORT:
        return None
    if n > MAX_LINE_BYTES:
        return f"longer than {MAX_LINE_BYTES // 2**20} MB"
    if text.count("{") + text.count("[") < MAX_DEPTH and (
        n < MAX_KEYS - ROW_KEYS or text.count(":") <= MAX_KEYS - ROW_KEYS
    ):
        return None
    keys, depth = shape(value)
    if depth >= MAX_DEPTH:
        return f"nested deeper than {MAX_DEPTH - 1} levels"
    if keys > MAX_KEYS - ROW_KEYS:
        return f"holding more than {MAX_KEYS - ROW_KEYS:,} keys"
    return None


SPAN_SCHEMA = pa.schema(
    [
        ("cell_id", pa.string()),
        ("seq", pa.int64()),
        ("span_id", pa.string()),
        ("parent_id", pa.string()),
        ("kind", pa.string()),
        ("name", pa.string()),
        ("start_ms", pa.float64()),
        ("duration_ms", pa.float64()),
        ("attrs", pa.string()),  # JSON text
        ("error", pa.string()),  # JSON text
    ]
)
CALL_SCHEMA = pa.schema(
    [
        ("cell_id", pa.string()),
        ("source_row", pa.int64()),
        ("seq", pa.float64()),
        ("timestamp", pa.string()),
        ("at_s", pa.float64()),  # the time as Unix seconds, where no text gives it
        ("request_hash", pa.string()),
        ("prompt", pa.string()),  # JSON text
        ("completion", pa.string()),  # JSON text
        ("prompt_tokens", pa.float64()),
        ("completion_tokens", pa.float64()),
        ("latency_ms", pa.float64()),
        ("finish_reason", pa.string()),
    ]
)
_FLUSH = 8192  # rows held before they are written (a Parquet row group)


def _text(value: Any) -> str | None:
    """A value of a text column: a string as it is, anything else but None as its JSON."""
    return value if value is None or type(value) is str else encode(value)


def _number(value: Any) -> float | None:
    """A value of a number column: a number, or a text that is one (as a line's would be read)."""
    if type(value) is float:
        return value
    if type(value) is int:
        return float(value) if abs(value) < 2**63 else None
    if type(value) is str:
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _valid_utf8(values: tuple[Any, ...]) -> list[Any]:
    """Texts with their lone surrogates (which JSON can carry, UTF-8 cannot) made U+FFFD."""
    return [
        v.encode("utf-16", "surrogatepass").decode("utf-16", "replace") if isinstance(v, str) else v
        for v in values
    ]


class _Table:
    """Rows held, then written to a Parquet file a row group at a time."""

    def __init__(self, path: Path, schema: pa.Schema):
        self.schema = schema
        self.rows: list[tuple[Any, ...]] = []
        self.writer = pq.ParquetWriter(path, schema, compression="none", use_dictionary=False)

    def flush(self) -> None:
        if not self.rows:
            return
        arrays = []
        for values, f in zip(zip(*self.rows), self.schema):
            try:
                arrays.append(pa.array(values, f.type))
            except UnicodeEncodeError:
                arrays.append(pa.array(_valid_utf8(values), f.type))
        self.writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema))
        self.rows.clear()

    def close(self) -> None:
        try:
            self.flush()
        finally:
            self.writer.close()


@dataclass
class Out:
    """The streams of one imported sweep, and the problems met on the way."""

    results: IO[str]
    spans: _Table
    calls: _Table
    problems: list[Problem] = field(default_factory=list)
    n_records: int = 0
    rows: list[str] = field(default_factory=list)  # the file each record came from, in order
    origin: str = ""  # the file of the run being written
    span_seq: dict[str, int] = field(default_factory=dict)  # spans written so far, per run
    call_seq: dict[str, int] = field(default_factory=dict)

    def problem(self, file: Path | str, reason: str, line: int | None = None) -> None:
        self.problems.append(Problem(str(file), line, reason))

    def record(self, rec: dict[str, Any]) -> None:
        self.results.write(encode(rec) + "\n")
        self.n_records += 1

    def run(self, origin: str, write: Callable[[], None]) -> None:
        """Write one run through ``write()``: data it cannot import is a problem of ``origin``
        (the rest of the sweep still loads); a record written is said to come from ``origin``."""
        before = self.n_records
        self.origin = origin
        try:
            write()
        except IMPORT_ERRORS as e:
            self.problem(origin, f"cannot import: {e}")
        self.rows += [origin] * (self.n_records - before)

    def _json(self, value: Any, what: str, kind: str, name: Any, empty: str | None) -> str | None:
        """``value`` as JSON text for a JSON column, or ``empty`` when it cannot be stored as
        one (reported as the ``what`` of the span or call ``kind`` ``name``)."""
        if value is None:
            return None
        text = _STR(value) if type(value) is str else encode(value)
        if "\\ud" in text:
            text = _without_lone_surrogates(text)
        if len(text) < _SHORT:
            return text
        why = unfit(value, text)
        if why is None:
            return text
        shown = name if not isinstance(name, str) or len(name) <= 80 else name[:80] + "…"
        self.problem(self.origin, f"{kind} {shown!r}: {what} {why}; left out")
        return empty

    def span(
        self,
        cell_id: str,
        sid: str,
        parent: str | None,
        kind: str,
        name: str,
        start_ms: float | None,
        duration_ms: float | None,
        attrs: dict[str, Any] | None = None,
        error: Any = None,
    ) -> None:
        n = self.span_seq.get(cell_id, 0)
        self.span_seq[cell_id] = n + 1
        body = self._json(attrs or {}, "attributes", "span", name, "{}")
        row: tuple[Any, ...]
        if (
            type(cell_id) is str and type(sid) is str and type(kind) is str and type(name) is str
            and (parent is None or type(parent) is str) and error is None
            and type(start_ms) is float
            and (duration_ms is None or type(duration_ms) is float)
        ):  # fmt: skip
            row = (cell_id, n, sid, parent, kind, name, start_ms, duration_ms, body, None)
        else:  # values of other types, as their columns hold them
            row = (
                _text(cell_id), n, _text(sid), _text(parent), _text(kind), _text(name),
                _number(start_ms), _number(duration_ms), body,
                self._json(error, "error", "span", name, None),
            )  # fmt: skip
        rows = self.spans.rows
        rows.append(row)
        if len(rows) >= _FLUSH:
            self.spans.flush()

    def call(self, call: dict[str, Any]) -> None:
        """A model call given as an object with the keys of a model_calls row."""
        self.model_call(
            call.get("cell_id"), call.get("seq"), call.get("timestamp"), call.get("prompt"),
            call.get("completion"), call.get("prompt_tokens"), call.get("completion_tokens"),
            call.get("latency_ms"), call.get("finish_reason"), call.get("request_hash"),
        )  # fmt: skip

    def model_call(
        self,
        cell_id: Any,
        seq: Any,
        timestamp: Any,  # ISO 8601 text
        prompt: Any,
        completion: Any,
        prompt_tokens: Any,
        completion_tokens: Any,
        latency_ms: Any,
        finish_reason: Any = None,
        request_hash: Any = None,
        at_s: float | None = None,  # the time as Unix seconds, where no text gives it
    ) -> None:
        n = self.call_seq.get(cell_id, 0)
        self.call_seq[cell_id] = n + 1
        rows = self.calls.rows
        rows.append(
            (
                _text(cell_id), n, _number(seq), _text(timestamp), _number(at_s),
                _text(request_hash),
                self._json(prompt, "prompt", "model call", seq, None),
                self._json(completion, "completion", "model call", seq, None),
                _number(prompt_tokens), _number(completion_tokens), _number(latency_ms),
                _text(finish_reason),
            )
        )  # fmt: skip
        if len(rows) >= _FLUSH:
            self.calls.flush()


# The files an import writes: the runs' records, and the spans and model calls (by the name of
# the sweep file they stand for, as the store reads them: cabtui.store.ingest).
RESULTS = "results.jsonl"
COLUMNAR = {"spans.jsonl": "spans.parquet", "model_calls.jsonl": "model_calls.parquet"}


def open_out(folder: Path) -> tuple[Out, dict[str, Path]]:
    """An Out writing into ``folder``, and the files it writes (by the sweep file name each
    stands for: results.jsonl, spans.jsonl, model_calls.jsonl)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {RESULTS: folder / RESULTS, **{k: folder / v for k, v in COLUMNAR.items()}}
    results = open(files[RESULTS], "w", encoding="utf-8")
    try:
        spans = _Table(files["spans.jsonl"], SPAN_SCHEMA)
        calls = _Table(files["model_calls.jsonl"], CALL_SCHEMA)
    except BaseException:
        results.close()
        raise
    return Out(results, spans, calls), files


def close_out(out: Out) -> None:
    try:
        out.spans.close()
        out.calls.close()
    finally:
        out.results.close()


def write_sweep(sweep: Sweep, folder: Path, write: Callable[[Out], None]) -> None:
    """An imported sweep's files, written into ``folder`` by ``write(out)``: the sweep is given
    them, with the problems met and the file each record came from."""
    out, files = open_out(folder)
    try:
        write(out)
    finally:
        close_out(out)
    sweep.generated = {RESULTS: files[RESULTS]}
    sweep.columnar = {k: [files[k]] for k in COLUMNAR}
    sweep.problems.extend(out.problems)
    sweep.row_files.extend(out.rows)
