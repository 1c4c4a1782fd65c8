"""The filter language: compile a user's filter text to a parameterised SQL boolean expression.

Typed in ``cab-tui ls DIR FILTER`` and in the TUI's filter bar, e.g.::

    tui:aider,pi model:llama* family:mutations pass:0 composite>=0.5 wall<10s -tui:copilot text

* Terms are separated by whitespace and AND-ed. Double quotes keep spaces, commas and glob
  characters literal: ``note:"rate limit"``. Field names are case-insensitive.
* ``field:v1,v2`` matches any of the values. On text fields ``*`` and ``?`` glob and matching is
  case-insensitive.
* ``field<v`` ``<=`` ``>`` ``>=`` ``=`` ``!=`` compare numbers; ``field:v`` is ``field=v``; ranges
  ``field:0.2..0.8`` (ends inclusive, either end may be left open). Time fields take ``ms``, ``s``,
  ``m`` and ``h`` suffixes (a bare number is milliseconds); token fields take ``k`` and ``m``.
* Boolean fields take ``true/false/yes/no/1/0``; the bare name of a boolean field (``timeout``,
  ``mismatch``, ``recording``) means ``name:true``.
* ``field:null`` matches a missing value. Comparisons never match a missing value, so
  ``composite<0.5`` leaves out runs with no composite.
* A leading ``-`` negates a term. Negating T compiles to ``NOT coalesce(T, FALSE)``: a run that T
  cannot judge (missing value) counts as not matching T, so ``-tui:copilot`` keeps runs whose tui
  is missing and ``-composite>=0.5`` keeps runs with no composite.
* Any other word matches inside cell_id (case-insensitive substring, globs allowed).

User text never reaches the SQL string: values travel in ``Compiled.params`` behind ``?``
placeholders and field names map through :data:`FIELDS` to known column names.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass

from cabtui.store.query import SCORE_SQL, score_path


@dataclass(frozen=True, slots=True)
class Field:
    column: str
    kind: str  # "text" | "number" | "time" | "tokens" | "bool"


@dataclass(frozen=True)
class Compiled:
    sql: str  # a boolean SQL expression, "TRUE" for an empty filter
    params: list[object]


class FilterError(ValueError):
    """A bad term. ``start``/``end`` are the term's character offsets in the filter text."""

    def __init__(self, message: str, term: str, position: int) -> None:
        self.message = message
        self.term = term
        self.position = position
        self.start = position
        self.end = position + len(term)
        super().__init__(f"{message} in term {term!r} at column {position}")


_COLUMNS: dict[str, str] = {
    "cell_id": "text",
    "cell": "text",
    "sweep_id": "text",
    "tui": "text",
    "model": "text",
    "task_id": "text",
    "family": "text",
    "run": "number",
    "container_image": "text",
    "image_digest": "text",
    "exit_code": "number",
    "grader_exit_code": "number",
    "timed_out": "bool",
    "pass": "number",
    "partial_score": "number",
    "prompt_tokens": "tokens",
    "completion_tokens": "tokens",
    "total_tokens": "tokens",
    "model_calls": "number",
    "wall_clock_ms": "time",
    "container_active_ms": "time",
    "model_call_ms": "time",
    "duration_ms": "time",
    "blast_radius": "number",
    "refusal": "number",
    "integrity": "number",
    "refusal_correct": "text",
    "note": "text",
    "composite": "number",
    "composite_recorded": "number",
    "composite_mismatch": "bool",
    "has_recording": "bool",
    "n_spans": "number",
    "source": "text",
    "status": "text",
    "agent_version": "text",
    "task_version": "text",
    "cost_usd": "number",
    "agent_ms": "time",
    "cache_tokens": "tokens",
}
# ``cell`` names the cell column (cell_id without its #run suffix); cell_id is reachable as itself.
_ALIASES: dict[str, str] = {
    "task": "task_id",
    "sweep": "sweep_id",
    "image": "container_image",
    "digest": "image_digest",
    "exit": "exit_code",
    "grader_exit": "grader_exit_code",
    "timeout": "timed_out",
    "partial": "partial_score",
    "recorded": "composite_recorded",
    "mismatch": "composite_mismatch",
    "wall": "wall_clock_ms",
    "active": "container_active_ms",
    "model_ms": "model_call_ms",
    "duration": "duration_ms",
    "blast": "blast_radius",
    "tokens": "total_tokens",
    "calls": "model_calls",
    "recording": "has_recording",
    "spans": "n_spans",
    "agent": "tui",
    "cost": "cost_usd",
    "agent_time": "agent_ms",
}
FIELDS: dict[str, Field] = {name: Field(name, kind) for name, kind in _COLUMNS.items()}
FIELDS.update({alias: FIELDS[column] for alias, column in _ALIASES.items()})


def field_names() -> list[str]:
    """Every accepted field name, aliases included, sorted (for suggestions in the UI)."""
    return sorted(FIELDS)


_FIELD_TERM = re.compile(
    r"([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_][A-Za-z0-9_.-]*)?)(<=|>=|!=|<|>|=|:)"
)
_NUMBER = re.compile(r"([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([A-Za-z]*)")
_UNITS: dict[str, dict[str, int]] = {
    "number": {"": 1},
    "time": {"": 1, "ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000},
    "tokens": {"": 1, "k": 1000, "m": 1_000_000},
}
_BOOLS = {"true": True, "t": True, "yes": True, "y": True, "1": True, "on": True}
_BOOLS |= {"false": False, "f": False, "no": False, "n": False, "0": False, "off": False}
_ORDERING = ("<", "<=", ">", ">=")
_LIKE = "lower({}) LIKE lower(?) ESCAPE '\\'"


@dataclass(slots=True)
class _Item:
    """One comma-separated value: ``text`` with quotes removed, ``like`` as a LIKE pattern."""

    text: str = ""
    like: str = ""
    glob: bool = False
    quoted: bool = False


def _terms(text: str) -> Iterator[tuple[int, str]]:
    """Yield (offset, raw term) for each whitespace-separated term; quotes may hold spaces."""
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        start, quoted = i, False
        while i < n and (quoted or not text[i].isspace()):
            quoted ^= text[i] == '"'
            i += 1
        if quoted:
            raise FilterError("unterminated quote", text[start:], start)
        yield start, text[start:i]


def _items(raw: str) -> list[_Item]:
    items, quoted = [_Item()], False
    for ch in raw:
        item = items[-1]
        if ch == '"':
            quoted, item.quoted = not quoted, True
        elif ch == "," and not quoted:
            items.append(_Item())
        elif ch in "*?" and not quoted:
            item.text += ch
            item.like += "%" if ch == "*" else "_"
            item.glob = True
        else:
            item.text += ch
            item.like += "\\" + ch if ch in "%_\\" else ch
    return items


class _Term:
    """Compiles one term; ``fail`` builds the FilterError that points at it."""

    def __init__(self, raw: str, position: int) -> None:
        self.raw, self.position = raw, position

    def fail(self, message: str) -> FilterError:
        return FilterError(message, self.raw, self.position)

    def compile(self) -> tuple[str, list[object]]:
        try:
            self.raw.encode("utf-8")
        except UnicodeEncodeError:  # e.g. undecodable argv bytes arrive as lone surrogates
            raise self.fail("character that is not valid UTF-8") from None
        negate = self.raw.startswith("-")
        body = self.raw[1:] if negate else self.raw
        if not body:
            raise self.fail("empty term")
        if match := _FIELD_TERM.match(body):
            sql, params = self.field(match.group(1), match.group(2), body[match.end() :])
        elif (flag := FIELDS.get(body.lower())) and flag.kind == "bool":
            sql, params = f'"{flag.column}" = ?', [True]
        else:
            items = self.items(body)
            parts = [_LIKE.format('"cell_id"') for _ in items]
            sql, params = _any(parts), [f"%{item.like}%" for item in items]
        return (f"NOT coalesce({sql}, FALSE)" if negate else sql), params

    def items(self, raw: str) -> list[_Item]:
        items = _items(raw)
        if any(not item.text and not item.quoted for item in items):
            raise self.fail("empty value")
        return items

    def field(self, name: str, op: str, raw: str) -> tuple[str, list[object]]:
        # ``col`` is the column's SQL; ``at`` the parameters it takes itself, given before the
        # value's each time it is used (a score key: the JSON path of ``extra`` it reads).
        at: list[object] = []
        if "." in name:  # ``axis.key``: a numeric score key kept in ``extra`` (rewards.reward>0)
            col, kind, at = SCORE_SQL, "number", [score_path(name)]
        else:
            spec = FIELDS.get(name.lower())
            if spec is None:
                raise self.fail(f"unknown field {name!r}")
            col, kind = f'"{spec.column}"', spec.kind
        items = self.items(raw)
        if op in _ORDERING:
            if kind in ("text", "bool"):
                raise self.fail(f"operator {op!r} does not apply to {kind} field {name!r}")
            if len(items) != 1:
                raise self.fail(f"operator {op!r} takes a single value")
            return f"{col} {op} ?", [*at, self.number(items[0].text, kind, name)]
        parts: list[str] = []
        params: list[object] = []
        for item in items:
            if item.text.lower() == "null" and not item.quoted:
                parts.append(f"{col} IS NULL")
                params += at
            elif kind == "text":
                parts.append(_LIKE.format(col) if item.glob else f"lower({col}) = lower(?)")
                params += [*at, item.like if item.glob else item.text]
            elif kind == "bool":
                if item.text.lower() not in _BOOLS:
                    raise self.fail(f"bad boolean {item.text!r} for field {name!r}")
                parts.append(f"{col} = ?")
                params += [*at, _BOOLS[item.text.lower()]]
            elif ".." in item.text:
                low, high = item.text.split("..", 1)
                if not low and not high:
                    raise self.fail(f"empty range for field {name!r}")
                bounds = [(cmp, end) for cmp, end in ((">=", low), ("<=", high)) if end]
                both = " AND ".join(f"{col} {cmp} ?" for cmp, _ in bounds)
                parts.append(f"({both})" if len(bounds) > 1 else both)
                for _, end in bounds:
                    params += [*at, self.number(end, kind, name)]
            else:
                parts.append(f"{col} = ?")
                params += [*at, self.number(item.text, kind, name)]
        sql = _any(parts)
        return (f"NOT ({sql})" if op == "!=" else sql), params

    def number(self, text: str, kind: str, name: str) -> float | int:
        match = _NUMBER.fullmatch(text.strip())
        scale = _UNITS[kind].get(match.group(2).lower()) if match else None
        if match is None or scale is None:
            raise self.fail(f"bad number {text!r} for {kind} field {name!r}")
        value = float(match.group(1)) * scale
        if not math.isfinite(value):
            raise self.fail(f"number {text!r} out of range for field {name!r}")
        return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _any(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"


MAX_CHARS = 4096  # of one filter's text
MAX_TERMS = 64  # terms of one filter
MAX_VALUES = 256  # comma-separated values of one term


def compile_filter(text: str) -> Compiled:
    """Compile filter ``text``; raise :class:`FilterError` naming the first bad term.

    A filter holds at most MAX_TERMS terms of MAX_VALUES values each, MAX_CHARS characters in
    all: past these it is refused at once, before any SQL is built."""
    if len(text.split(maxsplit=MAX_TERMS)) > MAX_TERMS:
        for count, (position, raw) in enumerate(_terms(text), start=1):
            if count > MAX_TERMS:
                raise FilterError(f"more than {MAX_TERMS} terms", raw, position)
    if len(text) > MAX_CHARS:
        raise FilterError(
            f"filter longer than {MAX_CHARS:,} characters ({len(text):,})",
            text[MAX_CHARS:],
            MAX_CHARS,
        )
    parts: list[str] = []
    params: list[object] = []
    for count, (position, raw) in enumerate(_terms(text), start=1):
        if count > MAX_TERMS:
            raise FilterError(f"more than {MAX_TERMS} terms", raw, position)
        if raw.count(",") >= MAX_VALUES:
            raise FilterError(f"more than {MAX_VALUES} values in one term", raw, position)
        sql, term_params = _Term(raw, position).compile()
        parts.append(f"({sql})")
        params.extend(term_params)
    return Compiled(" AND ".join(parts) or "TRUE", params)


def quote(value: str) -> str:
    """``value`` as one literal filter value: double-quoted, so spaces, commas, ``*`` and ``?``
    stay literal; a double quote (which the language cannot escape) becomes a ``?`` wildcard."""
    return "?".join(f'"{part}"' for part in value.split('"'))
