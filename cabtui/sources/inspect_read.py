"""Reading Inspect eval logs without inspect_ai: ``.eval`` (a zip of header.json,
samples/<id>_epoch_<n>.json, summaries, reductions, _journal/) and ``.json`` (one document).
Samples are yielded one at a time, so memory holds one sample, never the log. No Textual here.

Every log format version Inspect still reads: version 1 and 2 documents, samples with the
deprecated single ``score`` and ``transcript`` fields, condensed samples (model inputs as
``input_refs`` into ``events_data.messages``), logs still being written (no header.json: the
eval spec from ``_journal/start.json``, the samples written so far).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from cabtui.sources.evalzip import EvalZip, ZipProblem, is_zip
from cabtui.sweep.layout import not_regular, peek_regular

MAX_SAMPLE_CHARS = 512 * 1024 * 1024  # one sample of a .json log
_CHUNK = 1 << 20
_WS = re.compile(r"[ \t\n\r]*")
_SAMPLE = re.compile(r"^samples/(.+)_epoch_(\d+)\.json$")
SCORER_PLACEHOLDER = "88F74D2C"  # what Inspect names the scorer of a version-1 ``score``


class LogProblem(Exception):
    """A log (or part of one) that cannot be read, with the reason."""


def looks_like_log(path: Path) -> bool:
    """An Inspect log by name and first bytes: a ``.eval`` zip, or a ``.json`` EvalLog."""
    name = path.name.lower()
    if name.endswith(".eval"):
        return True  # a .eval that is not a zip is reported as such
    if name.endswith(".json"):
        head = peek_regular(path)
        return (
            head.lstrip()[:1] == b"{"
            and b'"eval"' in head
            and b'"version"' in head
            and (b'"task"' in head or b'"status"' in head)
        )
    return False


@dataclass
class Sample:
    """One sample as read (a dict), or the reason it could not be."""

    where: str  # the member of the zip, or ``sample N`` of a .json log
    doc: dict[str, Any] | None
    problem: str | None = None
    from_summary: bool = False


@dataclass
class Log:
    path: Path
    header: dict[str, Any]  # version, status, eval, plan, results, stats, error
    problems: list[str] = field(default_factory=list)

    @property
    def eval(self) -> dict[str, Any]:
        e = self.header.get("eval")
        return e if isinstance(e, dict) else {}


def read_header(path: Path) -> Log:
    """The log's header (LogProblem when there is none to be had)."""
    path = Path(path)
    why = not_regular(path)
    if why is not None:
        raise LogProblem(why)
    if path.name.lower().endswith(".eval") or is_zip(peek_regular(path, 4)):
        return _zip_header(path)
    return _json_header(path)


def samples(log: Log) -> Iterator[Sample]:
    """Each sample of the log in the order written (one in memory at a time)."""
    if log.path.name.lower().endswith(".eval") or is_zip(peek_regular(log.path, 4)):
        yield from _zip_samples(log)
    else:
        yield from _json_samples(log)


# -- .eval ---------------------------------------------------------------------------------------


def _load(z: EvalZip, name: str) -> Any:
    data = z.read(name)
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        raise ZipProblem(f"{name}: not valid JSON") from None


def _zip_header(path: Path) -> Log:
    try:
        z = EvalZip(path)
    except ZipProblem as e:
        raise LogProblem(f"{e} (an .eval log is a zip)") from None
    except OSError as e:
        raise LogProblem(f"cannot read: {e.strerror or e}") from None
    problems = []
    with z:
        if z.truncated:
            problems.append("the zip's directory is missing (file cut short?): read what is there")
        header = None
        for name in ("header.json", "_journal/start.json"):
            if name in z.members:
                try:
                    header = _load(z, name)
                    break
                except ZipProblem as e:
                    problems.append(str(e))
        if not isinstance(header, dict) or not isinstance(header.get("eval"), dict):
            raise LogProblem(
                "; ".join(problems) or "not an Inspect log: no header.json or _journal/start.json"
            )
        if "status" not in header:
            header["status"] = "started"
    return Log(path, header, problems)


def _zip_samples(log: Log) -> Iterator[Sample]:
    try:
        z = EvalZip(log.path)
    except (ZipProblem, OSError) as e:
        yield Sample(log.path.name, None, f"cannot read: {e}")
        return
    with z:
        seen: set[tuple[str, int]] = set()
        for name in z.members:
            m = _SAMPLE.match(name)
            if not m:
                continue
            seen.add((m.group(1), int(m.group(2))))
            try:
                doc = _load(z, name)
            except ZipProblem as e:
                yield Sample(name, None, str(e))
                continue
            if not isinstance(doc, dict):
                yield Sample(name, None, "not a sample (not a JSON object)")
                continue
            yield Sample(name, _migrate(doc))
        # Samples the summaries list whose file is missing: read from their summary.
        for summary in _summaries(z):
            key = (str(summary.get("id")), _int(summary.get("epoch"), 1))
            if key not in seen:
                seen.add(key)
                where = f"samples/{key[0]}_epoch_{key[1]}.json"
                yield Sample(where, _migrate(dict(summary)), from_summary=True)


def _summaries(z: EvalZip) -> Iterator[dict[str, Any]]:
    names = ["summaries.json"] if "summaries.json" in z.members else []
    if not names:
        names = sorted(
            (n for n in z.members if n.startswith("_journal/summaries/")),
            key=lambda n: _int(Path(n).stem, 0),
        )
    for n in names:
        try:
            items = _load(z, n)
        except ZipProblem:
            continue
        for s in items if isinstance(items, list) else []:
            if isinstance(s, dict) and "id" in s:
                yield s


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


# -- .json: a streaming reader of the top-level object --------------------------------------------


class _Stream:
    """Values of a JSON document read one at a time with the C decoder, the buffer growing only
    as far as one value needs."""

    def __init__(self, f: IO[str]) -> None:
        self.f, self.buf, self.pos, self.eof = f, "", 0, False
        self.dec = json.JSONDecoder()

    def _more(self, at_least: int = _CHUNK) -> bool:
        if self.eof:
            return False
        chunk = self.f.read(max(at_least, _CHUNK))
        if not chunk:
            self.eof = True
            return False
        self.buf = self.buf[self.pos :] + chunk
        self.pos = 0
        return True

    def peek(self) -> str:
        while True:
            self.pos = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]  # the whitespace pattern always matches (it matches the empty string)
            if self.pos < len(self.buf) or not self._more():
                return self.buf[self.pos : self.pos + 1]

    def expect(self, ch: str) -> None:
        got = self.peek()
        if got != ch:
            raise LogProblem(f"expected {ch!r}, found {got or 'end of file'!r}")
        self.pos += 1

    def value(self) -> Any:
        self.peek()
        while True:
            try:
                v, end = self.dec.raw_decode(self.buf, self.pos)
                if end < len(self.buf) or self.eof or not self._more():
                    self.pos = end
                    return v
                continue  # a number may go on in the next chunk: decode again
            except json.JSONDecodeError as e:
                held = len(self.buf) - self.pos
                if held > MAX_SAMPLE_CHARS:
                    raise LogProblem(f"a value larger than {MAX_SAMPLE_CHARS // 2**20} MiB")
                if not self._more(held):  # double what is held: linear work overall
                    raise LogProblem(
                        "truncated JSON" if self.eof and "Unterminated" in e.msg or
                        "Expecting" in e.msg and self.eof else f"malformed JSON ({e.msg})"
                    ) from None  # fmt: skip
            except RecursionError:
                raise LogProblem("nested too deep") from None


def _open_text(path: Path) -> IO[str]:
    f = open(path, encoding="utf-8", errors="replace")
    if f.read(1) != "\ufeff":
        f.seek(0)
    return f


def _json_header(path: Path) -> Log:
    try:
        f = _open_text(path)
    except OSError as e:
        raise LogProblem(f"cannot read: {e.strerror or e}") from None
    header: dict[str, Any] = {}
    with f:
        s = _Stream(f)
        s.expect("{")
        while s.peek() not in ("}", ""):
            key = s.value()
            s.expect(":")
            if key == "samples" and "eval" in header:
                break
            value = s.value()
            if key not in ("samples", "reductions"):
                header[str(key)] = value
            if s.peek() == ",":
                s.pos += 1
    if not isinstance(header.get("eval"), dict):
        raise LogProblem("not an Inspect log: no eval")
    return Log(path, header, [])


def _json_samples(log: Log) -> Iterator[Sample]:
    try:
        f = _open_text(log.path)
    except OSError as e:
        yield Sample(log.path.name, None, f"cannot read: {e.strerror or e}")
        return
    n = 0
    with f:
        s = _Stream(f)
        try:
            s.expect("{")
            while s.peek() not in ("}", ""):
                key = s.value()
                s.expect(":")
                if key != "samples" or s.peek() != "[":
                    s.value()
                else:
                    s.expect("[")
                    while s.peek() != "]":
                        n += 1
                        doc = s.value()
                        if isinstance(doc, dict):
                            yield Sample(f"sample {n}", _migrate(doc))
                        else:
                            yield Sample(f"sample {n}", None, "not a sample (not a JSON object)")
                        if s.peek() == ",":
                            s.pos += 1
                    s.expect("]")
                if s.peek() == ",":
                    s.pos += 1
        except LogProblem as e:
            where = f"sample {n}" if n else "the log"
            yield Sample(where, None, f"{e}; the rest of the file cannot be read")


# -- older shapes ----------------------------------------------------------------------------------


def _migrate(doc: dict[str, Any]) -> dict[str, Any]:
    """A sample of any version in the current shape (Inspect's own migrations)."""
    if "score" in doc and "scores" not in doc:
        doc["scores"] = {SCORER_PLACEHOLDER: doc.pop("score")}
    if isinstance(doc.get("transcript"), dict) and "events" not in doc:
        t = doc.pop("transcript")
        doc["events"] = t.get("events") or []
        doc["attachments"] = t.get("content") or {}
    return doc
