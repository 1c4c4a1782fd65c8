"""What every imported source shares: reading its JSON safely, times, identity parts (the
writer of what an import makes is :mod:`cabtui.sources.out`). No Textual here."""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, NamedTuple

from cabtui.sweep.layout import not_regular, open_regular, read_regular
from cabtui.sweep.lines import MAX_LINE_BYTES, check_line

MAX_FILE_BYTES = 256 * 1024 * 1024  # one imported JSON document
TAIL_CHARS = 64 * 1024  # of a test's stdout or stderr kept in a record
TEXT_CHARS = 16 * 1024  # of a prompt, message or observation kept in a span or model call


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


class When(NamedTuple):
    at: datetime  # aware
    naive: bool  # written without a zone: read as local time


def parse_time(value: Any) -> When | None:
    """An ISO-8601 time (``Z``, an offset, or none: local), or epoch seconds; None otherwise."""
    if isinstance(value, str):
        if not 10 <= len(value) <= 40:
            return None
        at: datetime | None
        try:
            at = datetime.fromisoformat(value)  # the common forms, Z included
        except ValueError:
            at = _iso_time(value)
        if at is None:
            return None
        if at.tzinfo is None:
            return When(at.astimezone(), True)
        return When(at, False)
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or not 0 <= value < 4e9:
            return None
        return When(datetime.fromtimestamp(value, timezone.utc), False)
    return None


def _iso_time(value: str) -> datetime | None:
    """An ISO-8601 time written with a space, a lower-case z or spaces around it."""
    text = value.strip().replace(" ", "T", 1)
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


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
