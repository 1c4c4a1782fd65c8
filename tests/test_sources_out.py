"""The writer of imported sweeps (cabtui.sources.out.Out): what it writes of a span or a
model call, read back from its Parquet files through DuckDB as the store reads them, is what
it was given, whatever its values; each is numbered within its run; an object that a JSON
line could not hold is left out and reported against its run, and the rest is kept."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from cabtui.sources.out import ROW_KEYS, Out, write_sweep
from cabtui.store import tables
from cabtui.store.columnar import load_columnar
from cabtui.sweep.layout import Sweep
from cabtui.sweep.lines import MAX_DEPTH, MAX_KEYS

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


def _utf8(text: str) -> str:
    """A text as UTF-8 can hold it: each lone surrogate U+FFFD."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _utf8_value(value: Any) -> Any:
    """A JSON value with every text (keys too) as UTF-8 can hold it."""
    if isinstance(value, str):
        return _utf8(value)
    if isinstance(value, dict):
        return {_utf8(k): _utf8_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_utf8_value(v) for v in value]
    return value


def _same(a: Any, b: Any) -> bool:
    """Equal as JSON values, NaN equal to NaN, a text equal to its UTF-8 form."""
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a):
        return math.isnan(b)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def _loaded(tmp_path: Path, write: Any) -> tuple[duckdb.DuckDBPyConnection, Sweep]:
    """A sweep written by ``write(out)``, its spans and model calls loaded into a store's
    tables as an ingest loads them."""
    sweep = Sweep(tmp_path, "s", None)
    write_sweep(sweep, tmp_path / "gen", write)
    con = duckdb.connect()
    tables.create(con)
    for artefact, paths in sweep.columnar.items():
        load_columnar(con, artefact, paths)
    return con, sweep


def _text(value: Any) -> Any:
    """How a text column holds a value: a string as UTF-8 can hold it, anything else as JSON."""
    if value is None:
        return None
    if isinstance(value, str):
        return _utf8(value)
    return json.loads(json.dumps(value))


# a lone surrogate (JSON can escape one; DuckDB's JSON refuses it), a pair, in a name too
@example(("c", "s", None, "k", "n\udfff", 0.0, None, {"m": "a\ud800", "e": "\U0001f600"}, "\ud800"))
@settings(max_examples=150, deadline=None)
@given(
    st.tuples(
        texts,
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
def test_a_span_is_read_back_as_it_was_given(fields: tuple[Any, ...]) -> None:
    import tempfile

    cell, sid, parent, kind, name, start, duration, attrs, error = fields
    with tempfile.TemporaryDirectory() as tmp:
        con, sweep = _loaded(Path(tmp), lambda out: out.span(*fields))
        ((c, seq, s, p, k, n, st_, du, at, er),) = con.execute(
            "SELECT cell_id, seq, span_id, parent_id, kind, name, start_ms, duration_ms, "
            "attrs, error FROM spans"
        ).fetchall()
        con.close()
    assert (c, s, p, k, n) == tuple(_text(v) for v in (cell, sid, parent, kind, name))
    assert seq == 0
    for got, given_ in ((st_, start), (du, duration)):
        if isinstance(given_, float) or (type(given_) is int and abs(given_) < 2**63):
            assert _same(got, float(given_))  # a time is a float, whatever its size
        else:
            assert got is None  # not a number, or a whole number no float column holds
    assert _same(json.loads(at), _utf8_value(attrs or {}))
    assert (er is None and error is None) or _same(json.loads(er), _utf8_value(error))
    assert sweep.problems == []


@settings(max_examples=100, deadline=None)
@given(texts, st.one_of(st.none(), texts, values), st.one_of(st.none(), values), numbers)
def test_a_model_call_is_read_back_as_it_was_given(
    cell: str, prompt: Any, completion: Any, tokens: Any
) -> None:
    import tempfile

    call = {"cell_id": cell, "seq": 3, "timestamp": "2026-11-01T10:00:00.250Z", "prompt": prompt,
            "completion": completion, "prompt_tokens": tokens, "latency_ms": 12.5,
            "finish_reason": "stop", "ignored": [1, 2]}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        con, _ = _loaded(Path(tmp), lambda out: out.call(call))
        ((c, seq, ts, pr, co, pt, lat, fin, row),) = con.execute(
            "SELECT cell_id, seq, epoch_ms(timestamp), prompt, completion, prompt_tokens, "
            "latency_ms, finish_reason, source_row FROM model_calls"
        ).fetchall()
        con.close()
    assert (c, seq, ts, lat, fin, row) == (_utf8(cell), 3, 1793527200250, 12.5, "stop", 0)
    assert (pr is None and prompt is None) or _same(json.loads(pr), _utf8_value(prompt))
    assert (co is None and completion is None) or _same(json.loads(co), _utf8_value(completion))
    whole = not isinstance(tokens, bool) and isinstance(tokens, (int, float))
    if whole and math.isfinite(tokens) and abs(float(tokens)) < 2**63:  # what BIGINT holds
        assert abs(pt - tokens) <= max(0.5, abs(tokens) * 1e-15)  # rounded, through a float
    else:
        assert pt is None


def test_a_span_of_values_json_cannot_write_is_written_as_text(tmp_path: Path) -> None:
    con, _ = _loaded(
        tmp_path, lambda out: out.span("c", "s", None, "step", "n", 1.5, None, {"at": tmp_path})
    )
    (attrs,) = con.execute("SELECT attrs FROM spans").fetchone() or (None,)
    assert json.loads(attrs) == {"at": str(tmp_path)}


def test_rows_are_written_whole_in_order_and_numbered_within_their_run(tmp_path: Path) -> None:
    n = 20_011  # more than one row group, not a whole number of them

    def write(out: Out) -> None:
        for i in range(n):
            cell = f"job/a/v/m/f/t{i % 3}"
            out.span(cell, f"s{i}", None, "step", f"step {i}", float(i), 1.0, {"i": i})
            if i % 3 == 0:
                out.call({"cell_id": cell, "seq": i})
            if i == 5000:
                out.record({"cell_id": cell})

    con, sweep = _loaded(tmp_path, write)
    rows = con.execute("SELECT cell_id, seq, attrs->>'i' FROM spans ORDER BY rowid").fetchall()
    assert [int(i) for _, _, i in rows] == list(range(n))
    assert [(c, s) for c, s, _ in rows] == [(f"job/a/v/m/f/t{i % 3}", i // 3) for i in range(n)]
    calls = con.execute("SELECT seq, source_row FROM model_calls ORDER BY rowid").fetchall()
    assert calls == [(i, k) for k, i in enumerate(range(0, n, 3))]  # all of run t0
    assert len(sweep.generated["results.jsonl"].read_text().splitlines()) == 1


def _nested(depth: int) -> Any:
    value: Any = "leaf"
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.parametrize(
    "value, fits",
    [  # each is held one level down (attrs {"arguments": value}, completion {"tool_calls": ...})
        (_nested(MAX_DEPTH - 2), True),  # the row, attrs, the value: MAX_DEPTH levels
        (_nested(MAX_DEPTH - 1), False),
        ({"code": "{[" * 400}, True),  # brackets in a string are no nesting
        ({f"k{i}": i for i in range(MAX_KEYS - ROW_KEYS - 1)}, True),  # with the row's and attrs'
        ({f"k{i}": i for i in range(MAX_KEYS - ROW_KEYS)}, False),
        (list(range(3 * MAX_KEYS)), True),  # items are no keys
        ({"a": "x:" * MAX_KEYS, "b": [[[[1]]]] * 200}, True),  # colons in a string are no keys
        ({"s": "x" * (33 * 2**20)}, False),  # longer than a line
    ],
)
def test_an_object_a_line_could_not_hold_is_left_out_and_reported(
    tmp_path: Path, value: Any, fits: bool
) -> None:
    def write(out: Out) -> None:
        def trial() -> None:
            out.span("j/a/v/m/f/t", "s1", None, "step", "before", 0.0, 1.0, {"ok": 1})
            out.span("j/a/v/m/f/t", "s2", None, "tool_call", "deep", 1.0, 0.0, {"arguments": value})
            out.call({"cell_id": "j/a/v/m/f/t", "seq": 1, "completion": {"tool_calls": value}})
            out.span("j/a/v/m/f/t", "s3", None, "step", "after", 2.0, 1.0, {"ok": 3})

        out.run("job/trial/result.json", trial)

    con, sweep = _loaded(tmp_path, write)
    spans = con.execute("SELECT name, attrs FROM spans ORDER BY seq").fetchall()
    assert [n for n, _ in spans] == ["before", "deep", "after"]  # the span stays, the rest too
    assert json.loads(spans[0][1]) == {"ok": 1} and json.loads(spans[2][1]) == {"ok": 3}
    (completion,) = con.execute("SELECT completion FROM model_calls").fetchone() or (None,)
    if fits:
        assert json.loads(spans[1][1]) == {"arguments": value}
        assert json.loads(completion) == {"tool_calls": value}
        assert sweep.problems == []
    else:
        assert json.loads(spans[1][1]) == {} and completion is None
        assert [p.file for p in sweep.problems] == ["job/trial/result.json"] * 2
        assert "span 'deep': attributes" in sweep.problems[0].reason
        assert "model call 1: completion" in sweep.problems[1].reason


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


def test_a_call_s_time_in_unix_seconds_is_its_timestamp(tmp_path: Path) -> None:
    def write(out: Out) -> None:
        out.model_call("c", 1, None, None, None, None, None, None, at_s=1793527200.2500006)
        out.model_call("c", 2, None, None, None, None, None, None, at_s=253402300800.0)  # > 9999
        out.model_call("c", 3, "2026-11-01T10:00:00.5+01:00", None, None, None, None, None)
        out.model_call("c", 4, 1793527200.25, None, None, None, None, None)  # a number: no text

    con, _ = _loaded(tmp_path, write)
    rows = con.execute("SELECT seq, epoch_us(timestamp) FROM model_calls ORDER BY seq").fetchall()
    # to the nearest microsecond, as Python's datetime.fromtimestamp gives it
    assert rows == [(1, 1793527200250001), (2, None), (3, 1793523600500000), (4, None)]
