"""The asciicast reader: formats, bad input, timeline maths, agreement with asciinema."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cabtui.sweep.asciicast import CastError, Event, Recording, format_cast, timeline
from cabtui.sweep.cast_reader import parse_cast, read_cast

V2 = (
    '{"version": 2, "width": 100, "height": 30, "title": "demo", "idle_time_limit": 1.5,'
    ' "env": {"TERM": "xterm-256color", "SHELL": "/bin/bash"}}\n'
    '[0.25, "o", "hello"]\n'
    '[1.0, "i", "q"]\n'
    '[1.5, "m", "chapter"]\n'
    '[2.0, "r", "90x20"]\n'
    '[2.5, "z", "unknown code"]\n'
    '[4.0, "o", "\\u001b[31mred"]\n'
)


def write(tmp_path: Path, text: str | bytes, name: str = "r.cast") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode() if isinstance(text, str) else text)
    return p


def triples(rec: Recording) -> list[tuple[float, str, str]]:
    return [(e.time, e.code, e.data) for e in rec.events]


def test_v2_header_and_events(tmp_path: Path) -> None:
    rec = read_cast(write(tmp_path, V2))
    assert (rec.version, rec.cols, rec.rows, rec.title) == (2, 100, 30, "demo")
    assert rec.idle_time_limit == 1.5
    assert rec.env["SHELL"] == "/bin/bash"
    assert triples(rec) == [
        (0.25, "o", "hello"),
        (1.0, "i", "q"),
        (1.5, "m", "chapter"),
        (2.0, "r", "90x20"),
        (4.0, "o", "\x1b[31mred"),
    ]
    assert rec.duration == 4.0
    assert rec.problems == []


def test_v1(tmp_path: Path) -> None:
    doc = {"version": 1, "width": 40, "height": 10, "title": "t", "env": {"TERM": "x"},
           "stdout": [[0.5, "a"], [0.25, "b"], [1.0, "c"]]}  # fmt: skip
    rec = read_cast(write(tmp_path, json.dumps(doc, indent=2)))
    assert (rec.version, rec.cols, rec.rows) == (1, 40, 10)
    assert triples(rec) == [(0.5, "o", "a"), (0.75, "o", "b"), (1.75, "o", "c")]


def test_v3_relative_times_comments_exit(tmp_path: Path) -> None:
    text = (
        '{"version": 3, "term": {"cols": 120, "rows": 40, "type": "xterm-256color"},'
        ' "title": "v3"}\n'
        "# a comment\n"
        '[0.5, "o", "a"]\n'
        "\n"
        '[0.25, "m", ""]\n'
        "   # indented comment\n"
        '[1.0, "r", "100x30"]\n'
        '[0.25, "x", "0"]\n'
    )
    rec = read_cast(write(tmp_path, text))
    assert (rec.version, rec.cols, rec.rows) == (3, 120, 40)
    assert rec.env["TERM"] == "xterm-256color"
    assert triples(rec) == [(0.5, "o", "a"), (0.75, "m", ""), (1.75, "r", "100x30"),
                            (2.0, "x", "0")]  # fmt: skip
    assert rec.duration == 2.0
    assert rec.problems == []


def test_gzip_detected_by_magic_not_name(tmp_path: Path) -> None:
    rec = read_cast(write(tmp_path, gzip.compress(V2.encode()), name="plain-name.cast"))
    assert len(rec.events) == 5
    rec = read_cast(write(tmp_path, V2, name="misnamed.cast.gz"))
    assert len(rec.events) == 5


def test_truncated_gzip_keeps_what_it_can(tmp_path: Path) -> None:
    raw = gzip.compress((V2 * 1).encode())
    rec = read_cast(write(tmp_path, raw[: len(raw) - 6]))
    assert rec.events and any("gzip" in p for p in rec.problems)


def test_truncated_last_line(tmp_path: Path) -> None:
    rec = read_cast(write(tmp_path, V2 + '[5.0, "o", "cut o'))
    assert len(rec.events) == 5
    assert rec.problems == [f"{tmp_path / 'r.cast'}: line 8: truncated last line; skipped"]


def test_invalid_json_line_and_bad_shapes(tmp_path: Path) -> None:
    text = V2.replace('[1.0, "i", "q"]', "{not json") + (
        '[5, "o"]\n[-1, "o", "x"]\n["a", "o", "x"]\n[6, 7, "x"]\n[7, "o", 8]\n[8, "r", "wide"]\n'
        '[9, "o", "end"]\n'
    )
    rec = read_cast(write(tmp_path, text))
    assert triples(rec)[-1] == (9.0, "o", "end")
    name = str(tmp_path / "r.cast")
    assert f"{name}: line 3: invalid JSON; skipped" in rec.problems
    for no in (8, 9, 10):
        assert f"{name}: line {no}: event is not [time, code, data]; skipped" in rec.problems
    for no in (11, 12):
        assert any(p.startswith(f"{name}: line {no}: ") for p in rec.problems)
    assert f"{name}: line 13: bad resize 'wide'; skipped" in rec.problems


def test_non_utf8_bytes_replaced_and_reported(tmp_path: Path) -> None:
    raw = V2.encode().replace(b"hello", b"hel\xff\xfelo")
    rec = read_cast(write(tmp_path, raw))
    assert rec.events[0].data == "hel\ufffd\ufffdlo"
    assert rec.problems == [
        f"{tmp_path / 'r.cast'}: line 2: invalid UTF-8 bytes replaced with U+FFFD"
    ]


def test_header_without_size(tmp_path: Path) -> None:
    rec = read_cast(write(tmp_path, '{"version": 2}\n[1, "o", "x"]\n'))
    assert (rec.cols, rec.rows) == (80, 24)
    assert rec.problems == [
        f"{tmp_path / 'r.cast'}: line 1: header has no valid terminal size; using 80x24"
    ]


def test_blank_line_inside_v2_keeps_reading(tmp_path: Path) -> None:
    rec = read_cast(
        write(tmp_path, '{"version": 2, "width": 5, "height": 2}\n[1, "o", "a"]\n\n[2, "o", "b"]\n')
    )
    assert triples(rec) == [(1.0, "o", "a"), (2.0, "o", "b")]
    assert rec.problems == [
        f"{tmp_path / 'r.cast'}: line 3: blank line inside a v2 file; kept reading"
    ]


@pytest.mark.parametrize(
    "raw, words",
    [
        (b"", "empty"),
        (b"\n\n  \n", "empty"),
        (b'garbage\n[1, "o", "x"]\n', "not an asciicast header"),
        (b'{"version": 7}\n', "unsupported asciicast version 7"),
        (b"\x1f\x8bnot really gzip", "corrupt gzip"),
    ],
)
def test_unreadable_file_raises_cast_error_naming_it(tmp_path: Path, raw: Any, words: Any) -> None:
    p = write(tmp_path, raw)
    with pytest.raises(CastError) as info:
        read_cast(p)
    assert str(p) in str(info.value) and words in str(info.value)


def test_missing_file_is_cast_error(tmp_path: Path) -> None:
    with pytest.raises(CastError, match="cannot read"):
        read_cast(tmp_path / "nope.cast")


# -- timeline ----------------------------------------------------------------------------------


def make(times: list[float]) -> Recording:
    return parse_cast(format_cast(10, 2, [(t, "o", str(i)) for i, t in enumerate(times)]).encode())


def test_timeline_caps_idle_gaps_and_shifts() -> None:
    rec = make([1.0, 1.5, 11.5, 12.0, 30.0])
    out = timeline(rec, idle_time_limit=2.0)
    assert [e.time for e in out.events] == [1.0, 1.5, 3.5, 4.0, 6.0]
    assert [e.orig_time for e in out.events] == [1.0, 1.5, 11.5, 12.0, 30.0]
    assert out.duration == 6.0


def test_timeline_speed_and_header_limit() -> None:
    rec = make([1.0, 5.0])
    assert [e.time for e in timeline(rec, speed=2.0).events] == [0.5, 2.5]
    limited = parse_cast(
        format_cast(10, 2, [(1.0, "o", "a"), (9.0, "o", "b")], idle_time_limit=0.5).encode()
    )
    assert [e.time for e in timeline(limited).events] == [0.5, 1.0]
    assert [e.time for e in timeline(limited, speed=4.0).events] == [0.125, 0.25]
    assert [e.time for e in timeline(limited, idle_time_limit=3.0).events] == [1.0, 4.0]
    with pytest.raises(ValueError):
        timeline(rec, speed=0)


def test_timeline_is_idempotent_on_orig_time() -> None:
    rec = make([0.0, 10.0, 20.0])
    twice = timeline(timeline(rec, idle_time_limit=1.0), idle_time_limit=1.0)
    assert [e.time for e in twice.events] == [0.0, 1.0, 2.0]


# -- agreement with the asciinema package ------------------------------------------------------


def asciinema_events(path: Path) -> tuple[list[tuple[Any, ...]], Any]:
    from asciinema.asciicast import open_from_url  # type: ignore[import-untyped]  # asciinema ships no types

    with open_from_url(str(path)) as cast:
        return [tuple(e) for e in cast.events()], cast


def test_same_events_as_asciinema_v2(tmp_path: Path) -> None:
    p = write(tmp_path, V2.replace('[2.5, "z", "unknown code"]\n', ""))
    theirs, cast = asciinema_events(p)
    assert cast.v2_header["width"] == 100
    assert triples(read_cast(p)) == theirs


def test_same_events_as_asciinema_v1(tmp_path: Path) -> None:
    doc = {
        "version": 1,
        "width": 40,
        "height": 10,
        "stdout": [[0.5, "a\u00e9"], [0.125, "\u001b[1mb"], [2, "c"]],
    }
    p = write(tmp_path, json.dumps(doc))
    theirs, _ = asciinema_events(p)
    assert triples(read_cast(p)) == pytest.approx(theirs)
    assert [e[2] for e in theirs] == [e.data for e in read_cast(p).events]


# -- properties --------------------------------------------------------------------------------

texts = st.text(st.characters(codec="utf-8"), max_size=20)
codes = st.sampled_from(["o", "i", "m"])
events_st = st.lists(st.tuples(st.floats(0, 100, allow_nan=False), codes, texts), max_size=30).map(
    lambda evs: sorted(evs, key=lambda e: e[0])
)


@given(events_st, st.sampled_from([2, 3]))
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_round_trip_v2_v3(evs: Any, version: int) -> None:
    rec = parse_cast(format_cast(33, 7, evs, version=version).encode())
    assert rec.problems == []
    assert (rec.cols, rec.rows, rec.version) == (33, 7, version)
    assert [(e.code, e.data) for e in rec.events] == [(c, d) for _, c, d in evs]
    assert [e.time for e in rec.events] == pytest.approx([t for t, _, _ in evs], abs=1e-9)


@given(events_st, st.binary(max_size=200), st.sampled_from([1, 2, 3]), st.booleans())
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_garbage_only_ever_raises_cast_error(evs: Any, junk: Any, version: int, gz: bool) -> None:
    if version == 1:
        doc = json.dumps({"version": 1, "width": 5, "height": 5,
                          "stdout": [[1, d] for _, _, d in evs]})  # fmt: skip
    else:
        doc = format_cast(5, 5, evs, version=version)
    raw = doc.encode() + junk
    for data in (raw, raw[: len(raw) // 2], junk):
        if gz:
            data = gzip.compress(data)[: max(2, len(data) - len(junk))]
        try:
            rec = parse_cast(data, "g.cast")
        except CastError as exc:
            assert "g.cast" in str(exc)
        else:
            assert all(isinstance(e, Event) for e in rec.events)
            assert all(p.startswith("g.cast: ") for p in rec.problems)
