"""What every imported source shares: reading its JSON safely, times, identity parts, and the
writer of cabtui records (results, spans and model calls as JSON lines). No Textual here."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from cabtui.sweep.layout import Sweep, not_regular, open_regular, read_regular
from cabtui.sweep.lines import MAX_LINE_BYTES, check_line
from cabtui.sweep.problems import Problem

MAX_FILE_BYTES = 256 * 1024 * 1024  # one imported JSON document
TAIL_CHARS = 64 * 1024  # of a test's stdout or stderr kept in a record
TEXT_CHARS = 16 * 1024  # of a prompt, message or observation kept in a span or model call
# What a run's own data can raise while it is mapped (a value of a shape nobody expected).
IMPORT_ERRORS = (KeyError, TypeError, ValueError, AttributeError, OverflowError)


class Unreadable(Exception):
    """A file that cannot be used, with the reason."""


def read_json(path: Path) -> Any:
    """A JSON document from a regular file, within the limits of :mod:`cabtui.sweep.lines`."""
    why = not_regular(path)
    if why is not None:
        raise Unreadable(why)
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise Unreadable(f"larger than {MAX_FILE_BYTES // 2**20} MiB ({size:,} bytes)")
        data = read_regular(path)
    except OSError as e:
        raise Unreadable(f"cannot read: {e.strerror or e}") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return json.loads(data)  # the common case, at C speed
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        pass
    value, why, _ = check_line(data if data.endswith(b"\n") else data + b"\n")
    if value is None:
        # check_line wants an object; a document may be a list (results of some harnesses).
        try:
            return json.loads(data)
        except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
            if data and not data.rstrip().endswith((b"}", b"]")):
                raise Unreadable("truncated JSON") from None
            raise Unreadable(why or "malformed JSON") from None
    return value


def read_text(path: Path, limit: int = TAIL_CHARS) -> str | None:
    """The last ``limit`` characters of a regular text file, or None."""
    try:
        with open_regular(path) as f:  # never blocks on a FIFO, never reads a device
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - limit * 4))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return None
    return text[-limit:]


def obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}


def arr(value: Any) -> list[Any]:
    """``value`` if it is a JSON array, else an empty one."""
    return value if isinstance(value, list) else []


def clip(text: Any, limit: int = TEXT_CHARS) -> Any:
    if isinstance(text, str) and len(text) > limit:
        return text[:limit] + f"… ({len(text) - limit:,} more characters)"
    return text


# -- times -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class When:
    at: datetime  # aware
    naive: bool  # written without a zone: read as local time


def parse_time(value: Any) -> When | None:
    """An ISO-8601 time (``Z``, an offset, or none: local), or epoch seconds; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or not 0 <= value < 4e9:
            return None
        return When(datetime.fromtimestamp(value, timezone.utc), False)
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        return None
    if at.tzinfo is None:
        return When(at.astimezone(), True)
    return When(at, False)


def iso(when: When | datetime | None) -> str | None:
    if when is None:
        return None
    at = when.at if isinstance(when, When) else when
    return at.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def ms_between(a: When | None, b: When | None) -> float | None:
    if a is None or b is None:
        return None
    return (b.at - a.at).total_seconds() * 1000.0


# -- identity ----------------------------------------------------------------------------------

_BAD = re.compile(r"[/#\s]+")
_VENDORS = (
    ("claude", "anthropic"),
    ("gpt", "openai"),
    ("o1", "openai"),
    ("o3", "openai"),
    ("o4", "openai"),
    ("codex", "openai"),
    ("gemini", "google"),
    ("gemma", "google"),
    ("llama", "meta"),
    ("qwen", "qwen"),
    ("deepseek", "deepseek"),
    ("mistral", "mistral"),
    ("codestral", "mistral"),
    ("devstral", "mistral"),
    ("kimi", "moonshot"),
    ("glm", "zhipu"),
    ("grok", "xai"),
)


def part(text: Any, default: str) -> str:
    """One part of a cell id: no slash, hash or whitespace (each run of them becomes ``_``)."""
    s = _BAD.sub("_", str(text)).strip("_") if isinstance(text, (str, int)) else ""
    return s[:120] or default


def model_parts(name: Any, provider: Any = None) -> tuple[str, str]:
    """(vendor, model) of a model name like ``anthropic/claude-opus-4-5`` or ``gpt-5.5``."""
    text = name if isinstance(name, str) and name.strip() else "unknown"
    if "/" in text:
        vendor, rest = text.split("/", 1)
        return part(vendor, "unknown"), part(rest, "unknown")
    if isinstance(provider, str) and provider.strip() and provider.strip() != text:
        return part(provider, "unknown"), part(text, "unknown")
    low = text.lower()
    vendor = next((v for prefix, v in _VENDORS if low.startswith(prefix)), "unknown")
    return vendor, part(text, "unknown")


def task_parts(name: Any, family: Any = None) -> tuple[str, str]:
    """(family, task) of a task name like ``multi-swe-bench/fastify-1882`` or ``hello-world``."""
    text = name if isinstance(name, str) and name.strip() else "unknown"
    if "/" in text:
        fam, rest = text.split("/", 1)
        return part(fam, "tasks"), part(rest, "unknown")
    return part(family, "tasks"), part(text, "unknown")


PHASE_SLACK_MS = 2000.0  # a phase may start or end this much outside its trial (clock skew)


def phase_inside(start: float, stop: float, end: float | None) -> bool:
    """Whether a phase [start, stop] (ms from the trial's start) lies inside a trial ending at
    ``end``, give or take PHASE_SLACK_MS."""
    if stop < start or start < -PHASE_SLACK_MS:
        return False
    return end is None or stop <= end + PHASE_SLACK_MS


def span_id(*parts: Any) -> str:
    return hashlib.sha1("\0".join(map(str, parts)).encode()).hexdigest()[:16]


# -- the records a source writes ---------------------------------------------------------------


_ENCODER = json.JSONEncoder(check_circular=False)  # ASCII: lone surrogates stay escaped
_C_ENCODER = getattr(json.encoder, "c_make_encoder", None)  # None without the C accelerator
# The C encoder _ENCODER.encode() makes anew at every call (its arguments), made once.
_CHUNKS = None if _C_ENCODER is None else _C_ENCODER(
    None, _ENCODER.default, json.encoder.encode_basestring_ascii, None,
    _ENCODER.key_separator, _ENCODER.item_separator, False, False, True,
)  # fmt: skip


def _encode(obj: Any) -> str:
    """``obj`` as JSON text, as ``_ENCODER.encode(obj)`` gives it."""
    if _CHUNKS is None:
        return _ENCODER.encode(obj)
    return "".join(_CHUNKS(obj, 0))


_STR = json.encoder.encode_basestring_ascii  # how _encode writes a string (its C function)
_FLUSH = 4096  # lines held before they are written


@dataclass
class Out:
    """The JSON-lines streams of one imported sweep, and the problems met on the way."""

    results: IO[str]
    spans: IO[str]
    calls: IO[str]
    problems: list[Problem] = field(default_factory=list)
    n_records: int = 0
    rows: list[str] = field(default_factory=list)  # the file each record came from, in order
    # lines not yet written to spans and calls (written in batches: one write per line costs)
    held_spans: list[str] = field(default_factory=list)
    held_calls: list[str] = field(default_factory=list)

    def problem(self, file: Path | str, reason: str, line: int | None = None) -> None:
        self.problems.append(Problem(str(file), line, reason))

    @staticmethod
    def _line(obj: dict[str, Any]) -> str:
        # NaN and infinities pass as such: the store reports them where they enter.
        try:
            return _encode(obj) + "\n"
        except (TypeError, ValueError, RecursionError):
            return json.dumps(obj, default=str) + "\n"

    def record(self, rec: dict[str, Any]) -> None:
        self.results.write(self._line(rec))
        self.n_records += 1

    def run(self, origin: str, write: Callable[[], None]) -> None:
        """Write one run through ``write()``: data it cannot import is a problem of ``origin``
        (the rest of the sweep still loads); a record written is said to come from ``origin``."""
        before = self.n_records
        try:
            write()
        except IMPORT_ERRORS as e:
            self.problem(origin, f"cannot import: {e}")
        self.rows += [origin] * (self.n_records - before)

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
        self.held_spans.append(
            self._span_line(cell_id, sid, parent, kind, name, start_ms, duration_ms, attrs, error)
        )
        if len(self.held_spans) >= _FLUSH:
            self.flush()

    def _span_line(
        self,
        cell_id: str,
        sid: str,
        parent: str | None,
        kind: str,
        name: str,
        start_ms: float | None,
        duration_ms: float | None,
        attrs: dict[str, Any] | None,
        error: Any,
    ) -> str:
        """The span's line, the same text as _line gives its object, written field by field
        (a span is most of what an import writes)."""
        if (
            type(cell_id) is str and type(sid) is str and type(kind) is str and type(name) is str
            and (parent is None or type(parent) is str) and error is None
            and type(start_ms) is float and start_ms - start_ms == 0.0  # finite
            and (duration_ms is None or (type(duration_ms) is float and duration_ms - duration_ms == 0.0))
        ):  # fmt: skip
            try:
                body = _encode(attrs or {})
            except (TypeError, ValueError, RecursionError):
                pass
            else:
                return (
                    f'{{"cell_id": {_STR(cell_id)}, "span_id": {_STR(sid)}, "parent_id": '
                    f'{"null" if parent is None else _STR(parent)}, "kind": {_STR(kind)}, '
                    f'"name": {_STR(name)}, "start_ms": {float.__repr__(start_ms)}, '
                    f'"duration_ms": {"null" if duration_ms is None else float.__repr__(duration_ms)}, '
                    f'"attrs": {body}, "error": null}}\n'
                )
        return self._line(
            {
                "cell_id": cell_id,
                "span_id": sid,
                "parent_id": parent,
                "kind": kind,
                "name": name,
                "start_ms": start_ms,
                "duration_ms": duration_ms,
                "attrs": attrs or {},
                "error": error,
            }
        )

    def call(self, call: dict[str, Any]) -> None:
        self.held_calls.append(self._line(call))
        if len(self.held_calls) >= _FLUSH:
            self.flush()

    def flush(self) -> None:
        """Write the lines held."""
        self.spans.writelines(self.held_spans)
        self.calls.writelines(self.held_calls)
        self.held_spans.clear()
        self.held_calls.clear()


def open_out(folder: Path) -> tuple[Out, dict[str, Path]]:
    """An Out writing into ``folder``, and the files it writes (by sweep file name)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {n: folder / n for n in ("results.jsonl", "spans.jsonl", "model_calls.jsonl")}
    out = Out(
        open(files["results.jsonl"], "w", encoding="utf-8"),
        open(files["spans.jsonl"], "w", encoding="utf-8"),
        open(files["model_calls.jsonl"], "w", encoding="utf-8"),
    )
    return out, files


def write_sweep(sweep: Sweep, folder: Path, write: Callable[[Out], None]) -> None:
    """An imported sweep's files, written into ``folder`` by ``write(out)``: the sweep is given
    them, with the problems met and the file each record came from."""
    out, files = open_out(folder)
    try:
        write(out)
    finally:
        close_out(out)
    sweep.generated = files
    sweep.problems.extend(out.problems)
    sweep.row_files.extend(out.rows)


def close_out(out: Out) -> None:
    try:
        out.flush()
    finally:
        for f in (out.results, out.spans, out.calls):
            f.close()


def cast_start(path: Path) -> float | None:
    """The Unix time in a cast header's ``timestamp`` (whole seconds), or None."""
    try:
        with open_regular(path) as f:
            head = f.readline(min(MAX_LINE_BYTES, 1 << 20))
        value = json.loads(head)
    except (OSError, ValueError, RecursionError):
        return None
    ts = value.get("timestamp") if isinstance(value, dict) else None
    if isinstance(ts, (int, float)) and not isinstance(ts, bool) and 0 < ts < 4e9:
        return float(ts)
    return None


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimator: 1 - C(n-c, k) / C(n, k)."""
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod
