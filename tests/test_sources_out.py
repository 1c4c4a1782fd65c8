"""The writer of imported sweeps (cabtui.sources.common.Out): a span's line, written field by
field, is the text the JSON encoder gives the span's object, whatever its values; lines held
back for a batched write come out whole and in order."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cabtui.sources.common import Out, close_out, open_out

_ENCODE = json.JSONEncoder(check_circular=False).encode

texts = st.text(alphabet=st.characters(codec=None), max_size=40)  # with lone surrogates
numbers = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.booleans(),
)
leaves = st.one_of(texts, numbers)
values = st.recursive(
    leaves,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(texts, inner, max_size=3)),
    max_leaves=8,
)


def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def _expected(fields: tuple[Any, ...]) -> str:
    cell, sid, parent, kind, name, start, duration, attrs, error = fields
    obj = {
        "cell_id": cell,
        "span_id": sid,
        "parent_id": parent,
        "kind": kind,
        "name": name,
        "start_ms": start,
        "duration_ms": duration,
        "attrs": attrs or {},
        "error": error,
    }
    try:
        return _ENCODE(obj) + "\n"
    except (TypeError, ValueError, RecursionError):
        return json.dumps(obj, default=str) + "\n"


@settings(max_examples=300, deadline=None)
@given(
    st.tuples(
        st.one_of(texts, numbers),
        texts,
        st.one_of(st.none(), texts),
        texts,
        texts,
        numbers,
        numbers,
        st.one_of(st.none(), st.dictionaries(texts, values, max_size=4)),
        st.one_of(st.none(), values),
    )
)
def test_a_span_line_is_the_encoders_text_of_its_object(fields: tuple[Any, ...]) -> None:
    out = Out(None, None, None)  # type: ignore[arg-type]  # no file: the lines are held
    out.span(*fields)
    assert out.held_spans == [_expected(fields)]


times = st.one_of(
    st.none(),
    st.floats(),
    st.sampled_from([float("nan"), float("inf"), -float("inf"), -0.0, 0.0, 5e-324, 1e300]),
)


@settings(max_examples=300, deadline=None)
@given(texts, texts, st.one_of(st.none(), texts), texts, texts, times, times, values)
def test_the_spans_an_import_writes_are_the_encoders_text(
    cell: str,
    sid: str,
    parent: str | None,
    kind: str,
    name: str,
    start: float | None,
    duration: float | None,
    attr: Any,
) -> None:
    """The shapes the importers write: text, times as floats, attributes of any JSON."""
    fields = (cell, sid, parent, kind, name, start, duration, {"a": attr}, None)
    out = Out(None, None, None)  # type: ignore[arg-type]  # no file: the lines are held
    out.span(*fields)
    assert out.held_spans == [_expected(fields)]


def test_a_span_of_values_json_cannot_write_is_written_as_text(tmp_path: Path) -> None:
    out, files = open_out(tmp_path)
    out.span("c", "s", None, "step", "n", 1.5, None, {"at": tmp_path})
    close_out(out)
    (line,) = _lines(files["spans.jsonl"])
    assert json.loads(line)["attrs"] == {"at": str(tmp_path)}


def test_held_lines_are_written_whole_and_in_order(tmp_path: Path) -> None:
    out, files = open_out(tmp_path)
    n = 10_007  # more than one batch, not a whole number of them
    for i in range(n):
        out.span("job/a/v/m/f/t", f"s{i}", None, "step", f"step {i}", float(i), 1.0, {"i": i})
        if i % 3 == 0:
            out.call({"cell_id": "job/a/v/m/f/t", "seq": i})
        if i == 5000:
            out.record({"cell_id": "job/a/v/m/f/t"})
    close_out(out)
    spans = [json.loads(line) for line in _lines(files["spans.jsonl"])]
    assert [s["attrs"]["i"] for s in spans] == list(range(n))
    assert [c["seq"] for c in map(json.loads, _lines(files["model_calls.jsonl"]))] == list(
        range(0, n, 3)
    )
    assert len(_lines(files["results.jsonl"])) == 1


def test_parts_are_joined_whole_when_the_kernel_copy_fails_midway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A large job's parts are appended in the kernel (copy_file_range); when that fails after
    copying some bytes, the part is copied by hand from its start, with nothing doubled."""
    from cabtui.sources import harbor_import

    whole, part = tmp_path / "whole.jsonl", tmp_path / "part.jsonl"
    whole.write_bytes(b'{"a": 1}\n')
    part.write_bytes(b"".join(b'{"b": %d}\n' % i for i in range(1000)))
    calls = []

    def copy_some_then_fail(src: int, dst: int, count: int, *args: Any) -> int:
        calls.append(count)
        if len(calls) > 1:
            raise OSError(18, "Invalid cross-device link")
        return os.write(dst, os.read(src, 100))

    monkeypatch.setattr(os, "copy_file_range", copy_some_then_fail)
    harbor_import._append(part, whole)
    assert len(calls) == 2
    assert whole.read_bytes() == b'{"a": 1}\n' + part.read_bytes()
    monkeypatch.undo()
    harbor_import._append(part, whole)  # and in the kernel
    assert whole.read_bytes() == b'{"a": 1}\n' + part.read_bytes() * 2
