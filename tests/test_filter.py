"""The filter language, run against a small in-memory DuckDB ``runs`` table."""

from __future__ import annotations

import functools
import re
import string

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cabtui.store.filter import FIELDS, Compiled, FilterError, compile_filter, field_names

COLUMNS = {
    "cell_id": "VARCHAR",
    "cell": "VARCHAR",
    "sweep_id": "VARCHAR",
    "tui": "VARCHAR",
    "model": "VARCHAR",
    "task_id": "VARCHAR",
    "family": "VARCHAR",
    "run": "INTEGER",
    "container_image": "VARCHAR",
    "image_digest": "VARCHAR",
    "exit_code": "INTEGER",
    "grader_exit_code": "INTEGER",
    "timed_out": "BOOLEAN",
    "pass": "DOUBLE",
    "partial_score": "DOUBLE",
    "prompt_tokens": "BIGINT",
    "completion_tokens": "BIGINT",
    "total_tokens": "BIGINT",
    "model_calls": "INTEGER",
    "wall_clock_ms": "DOUBLE",
    "container_active_ms": "DOUBLE",
    "model_call_ms": "DOUBLE",
    "duration_ms": "DOUBLE",
    "blast_radius": "DOUBLE",
    "refusal": "DOUBLE",
    "integrity": "DOUBLE",
    "refusal_correct": "VARCHAR",
    "note": "VARCHAR",
    "composite": "DOUBLE",
    "composite_recorded": "DOUBLE",
    "composite_mismatch": "BOOLEAN",
    "has_recording": "BOOLEAN",
    "n_spans": "INTEGER",
    "source": "VARCHAR",
    "status": "VARCHAR",
    "agent_version": "VARCHAR",
    "task_version": "VARCHAR",
    "cost_usd": "DOUBLE",
    "agent_ms": "DOUBLE",
    "cache_tokens": "BIGINT",
}

A1 = "s1/aider/meta/llama-4-maverick/mutations/rust-error-negated"
A2 = A1 + "#run2"
PI = "s1/pi/openai/gpt-4o/mutations/py-off-by-one"
CO = "s1/copilot/meta/llama-3.1/refactor/split-module"
GO = "s1/goose/acme/m_1/refactor/odd_name%100"  # tui missing; % and _ in the id
ALL = {A1, A2, PI, CO, GO}

ROWS: list[dict[str, object]] = [
    dict(cell_id=A1, tui="aider", model="meta/llama-4-maverick", family="mutations", run=1,
         exit_code=0, timed_out=False, **{"pass": 1.0}, composite=0.8, wall_clock_ms=5_000.0,
         total_tokens=12_000, note="rate limit hit", composite_mismatch=False, n_spans=3),
    dict(cell_id=A2, tui="aider", model="meta/llama-4-maverick", family="mutations", run=2,
         exit_code=124, timed_out=True, **{"pass": 0.0}, composite=0.3, wall_clock_ms=15_000.0,
         total_tokens=8_000, note=None, composite_mismatch=False, n_spans=0),
    dict(cell_id=PI, tui="pi", model="openai/gpt-4o", family="mutations", run=1,
         exit_code=1, timed_out=False, **{"pass": 0.0}, composite=0.5, wall_clock_ms=9_000.0,
         total_tokens=30_000, note="Rate Limit", composite_mismatch=True, n_spans=7),
    dict(cell_id=CO, tui="copilot", model="meta/llama-3.1", family="refactor", run=1,
         exit_code=0, timed_out=None, **{"pass": 1.0}, composite=None, wall_clock_ms=120_000.0,
         total_tokens=None, note="a, b", composite_mismatch=None, n_spans=None),
    dict(cell_id=GO, tui=None, model="acme/m_1", family="refactor", run=1,
         exit_code=None, timed_out=False, **{"pass": None}, composite=0.65, wall_clock_ms=None,
         total_tokens=500, note="star*lit", composite_mismatch=False, n_spans=1),
]  # fmt: skip


@functools.cache
def connection() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    con.execute("CREATE TABLE runs (" + ", ".join(f'"{c}" {t}' for c, t in COLUMNS.items()) + ")")
    cols = ", ".join(f'"{c}"' for c in COLUMNS)
    marks = ", ".join("?" for _ in COLUMNS)
    for row in ROWS:
        con.execute(f"INSERT INTO runs ({cols}) VALUES ({marks})", [row.get(c) for c in COLUMNS])
    con.execute(
        "UPDATE runs SET cell = regexp_replace(cell_id, '#run[0-9]+$', ''), "
        "sweep_id = split_part(cell_id, '/', 1)"
    )
    return con


def run(compiled: Compiled) -> set[str]:
    rows = (
        connection()
        .execute(f"SELECT cell_id FROM runs WHERE {compiled.sql}", compiled.params)
        .fetchall()
    )
    return {r[0] for r in rows}


def match(text: str) -> set[str]:
    return run(compile_filter(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ALL),
        ("   ", ALL),
        ("tui:aider", {A1, A2}),
        ("TUI:AIDER", {A1, A2}),
        ("tui:aider,pi", {A1, A2, PI}),
        ("model:llama*", set()),
        ("model:meta/llama*", {A1, A2, CO}),
        ("model:*LLAMA*", {A1, A2, CO}),
        ("model:meta/llama-?.1", {CO}),
        ("model:acme/m_1", {GO}),
        ("model:acme/m?1", {GO}),
        ("model:acme/mx1", set()),  # _ in user text is literal, not a LIKE wildcard
        ("family:mutations pass:0", {A2, PI}),
        ("tui:aider,pi family:mutations pass:0", {A2, PI}),
        ("-tui:copilot", {A1, A2, PI, GO}),  # missing tui is kept by the negation
        ("-tui:aider,pi", {CO, GO}),
        ("tui!=aider", {PI, CO}),  # != never matches a missing value
        ("-pass:1", {A2, PI, GO}),
        ("pass:1", {A1, CO}),
        ("composite>=0.5", {A1, PI, GO}),
        ("composite>0.5", {A1, GO}),
        ("composite<0.5", {A2}),
        ("composite<=0.5", {A2, PI}),
        ("composite=0.5", {PI}),
        ("composite!=0.5", {A1, A2, GO}),
        ("-composite>=0.5", {A2, CO}),
        ("composite:0.4..0.7", {PI, GO}),
        ("composite:..0.5", {A2, PI}),
        ("composite:0.7..", {A1}),
        ("composite:0.3,0.8", {A1, A2}),
        ("wall<10s", {A1, PI}),
        ("wall<10000", {A1, PI}),
        ("wall<10000ms", {A1, PI}),
        ("wall>=2m", {CO}),
        ("wall>1.9m", {CO}),
        ("wall:5s..15s", {A1, A2, PI}),
        ("duration:null", ALL),
        ("tokens>=12k", {A1, PI}),
        ("tokens:8k,0.5k", {A2, GO}),
        ("total_tokens<10K", {A2, GO}),
        ("run:2", {A2}),
        ("run>1", {A2}),
        ("exit:0", {A1, CO}),
        ("exit_code!=0", {A2, PI}),
        ("spans:0", {A2}),
        ("llama", {A1, A2, CO}),
        ("LLAMA", {A1, A2, CO}),
        ("run2", {A2}),
        ("llama*negated", {A1, A2}),
        ("-llama", {PI, GO}),
        ("gpt,goose", {PI, GO}),
        ("%100", {GO}),
        ("_name", {GO}),
        ("a%b", set()),
        ("timed_out:true", {A2}),
        ("timeout:yes", {A2}),
        ("timeout:false", {A1, PI, GO}),
        ("timeout", {A2}),
        ("-timeout", {A1, PI, CO, GO}),
        ('"timeout"', set()),  # quoted: a cell_id substring, not the flag
        ("mismatch:yes", {PI}),
        ("mismatch", {PI}),
        ("mismatch:no", {A1, A2, GO}),
        ("timed_out:null", {CO}),
        ("composite:null", {CO}),
        ("-composite:null", {A1, A2, PI, GO}),
        ("composite!=null", {A1, A2, PI, GO}),
        ("tui:null", {GO}),
        ("tui:copilot,null", {CO, GO}),
        ("note:null", {A2}),
        ('note:"rate limit"', {PI}),
        ('note:"rate limit*"', set()),  # glob characters inside quotes are literal
        ('note:"rate limit"*', {A1, PI}),
        ('note:"a, b"', {CO}),
        ("note:a,b", set()),
        ('note:"star*lit"', {GO}),
        ('note:star"*"lit', {GO}),
        ('note:"null"', set()),
        ('"rust-error"', {A1, A2}),
        ('"split module"', set()),
        ("cell:" + A1, {A1, A2}),  # cell is the cell column: both runs of the cell
        ("cell_id:" + A1, {A1}),
        ("sweep:s1 family:refactor -tui:null", {CO}),
        ("tui:aider,pi model:meta* family:mutations pass:0 composite<0.5 wall<20s -tui:pi", {A2}),
    ],
)
def test_matches(text: str, expected: set[str]) -> None:
    assert match(text) == expected


def test_empty_filter_is_true() -> None:
    assert compile_filter("") == Compiled("TRUE", [])


def test_values_travel_as_params() -> None:
    compiled = compile_filter('note:"rate limit" wall<10s tokens:12k tui:ai*')
    assert compiled.params == ["rate limit", 10_000, 12_000, "ai%"]
    assert "rate" not in compiled.sql and "ai" not in compiled.sql.replace('"', " ").split()
    assert compiled.sql.count("?") == len(compiled.params)


@pytest.mark.parametrize(
    ("text", "message", "term", "position"),
    [
        ("tui:aider foo:1", "unknown field 'foo'", "foo:1", 10),
        ("pass:1  -Foo<3", "unknown field 'Foo'", "-Foo<3", 8),
        ("wall<10x", "bad number '10x'", "wall<10x", 0),
        ("tokens>12s", "bad number '12s'", "tokens>12s", 0),
        ("composite:abc", "bad number 'abc'", "composite:abc", 0),
        ("composite>nan", "bad number 'nan'", "composite>nan", 0),
        ("composite>1e999", "out of range", "composite>1e999", 0),
        ("run:1*", "bad number '1*'", "run:1*", 0),
        ("a tui<3", "operator '<' does not apply to text field 'tui'", "tui<3", 2),
        ("timeout>=1", "operator '>=' does not apply to bool field", "timeout>=1", 0),
        ("timeout:maybe", "bad boolean 'maybe'", "timeout:maybe", 0),
        ("composite>0.1,0.2", "takes a single value", "composite>0.1,0.2", 0),
        ("composite<null", "bad number 'null'", "composite<null", 0),
        ('x note:"rate limit', "unterminated quote", 'note:"rate limit', 2),
        ('"abc', "unterminated quote", '"abc', 0),
        ("tui: pass:1", "empty value", "tui:", 0),
        ("pass:1 tui:a,,b", "empty value", "tui:a,,b", 7),
        ("tui:a,", "empty value", "tui:a,", 0),
        ("pass:1 -", "empty term", "-", 7),
        ("composite:..", "empty range", "composite:..", 0),
        ("a tui:\udcff", "not valid UTF-8", "tui:\udcff", 2),
    ],
)
def test_errors(text: str, message: str, term: str, position: int) -> None:
    with pytest.raises(FilterError) as info:
        compile_filter(text)
    err = info.value
    assert message in err.message
    assert (err.term, err.position) == (term, position)
    assert (err.start, err.end) == (position, position + len(term))
    assert text[err.start : err.end] == term or message == "unterminated quote"
    assert str(err) == f"{err.message} in term {term!r} at column {position}"
    assert isinstance(err, ValueError)


def test_error_message_format() -> None:
    with pytest.raises(FilterError, match=r"^unknown field 'foo' in term 'foo:1' at column 12$"):
        compile_filter("tui:a run:1 foo:1")


def test_sql_injection_matches_nothing_and_table_survives() -> None:
    for text in (
        "tui:x'); DROP TABLE runs; --",
        '"x\'); DROP TABLE runs; --"',
        'note:"\'; DELETE FROM runs; --"',
        "x' OR '1'='1",
    ):
        compiled = compile_filter(text)
        assert (
            "DROP" not in compiled.sql
            and "DELETE" not in compiled.sql
            and "'1'" not in (compiled.sql)
        )
        assert run(compiled) == set()
    assert connection().execute("SELECT count(*) FROM runs").fetchone() == (len(ROWS),)


def test_field_names() -> None:
    names = field_names()
    assert names == sorted(names)
    for name in ("tui", "task", "cell", "wall", "tokens", "timeout", "mismatch", "spans"):
        assert name in names
    for column in COLUMNS:
        assert column in names and FIELDS[column].column == column
    assert {f.column for f in FIELDS.values()} == set(COLUMNS)
    assert {f.kind for f in FIELDS.values()} == {"text", "number", "time", "tokens", "bool"}
    assert FIELDS["wall"].kind == "time" and FIELDS["tokens"].column == "total_tokens"


# --- property tests --------------------------------------------------------------------------

# Every token the compiler may put in the SQL string: known identifiers and fixed SQL.
_KEYWORDS = {"TRUE", "FALSE", "AND", "OR", "NOT", "IS", "NULL", "LIKE", "ESCAPE", "BETWEEN"}
_ALLOWED = _KEYWORDS | {"lower", "coalesce", "'\\'", "?", "(", ")", ",", "=", "<>", "!="}
_ALLOWED |= {"<", "<=", ">", ">="} | {f'"{c}"' for c in COLUMNS}
_SQL_TOKEN = re.compile(r"\s*('[^']*'|\"[^\"]*\"|[A-Za-z_]+|<=|>=|!=|<>|[?(),=<>])")


def sql_tokens(sql: str) -> list[str]:
    tokens, pos = [], 0
    while pos < len(sql.rstrip()):
        m = _SQL_TOKEN.match(sql, pos)
        assert m, f"unexpected SQL at {pos}: {sql[pos:]!r}"
        tokens.append(m.group(1))
        pos = m.end()
    return tokens


def check(text: str) -> Compiled | None:
    try:
        compiled = compile_filter(text)
    except FilterError as err:
        assert 0 <= err.start <= err.end <= len(text)
        assert err.term in text
        return None
    assert set(sql_tokens(compiled.sql)) <= _ALLOWED, compiled.sql
    assert compiled.sql.count("?") == len(compiled.params)
    run(compiled)  # executes without error
    return compiled


_printable = st.text(alphabet=st.characters() | st.sampled_from(["\x00", "\udcff", "\u2028"]))
_filterish = st.text(alphabet=string.printable + "é∗\u00a0", max_size=40)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(_printable, _filterish))
def test_any_text_compiles_safely_or_raises_filter_error(text: str) -> None:
    check(text)


_MARK = "zq"  # the value strategies below all start with it; the compiler never emits it
_value = st.text(alphabet=string.ascii_letters + string.digits + "'\";-%_\\*?() ", max_size=12)


@settings(max_examples=200)
@given(
    st.sampled_from(sorted(n for n, f in FIELDS.items() if f.kind == "text")),
    st.lists(_value.map(lambda v: _MARK + v.replace('"', "")), min_size=1, max_size=3),
    st.booleans(),
)
def test_user_values_never_reach_sql(name: str, values: list[str], negate: bool) -> None:
    quoted = ",".join(f'"{v}"' for v in values)
    field, bare = (check(f"{'-' * negate}{t}") for t in (f"{name}:{quoted}", quoted))
    assert field is not None and bare is not None
    assert _MARK not in field.sql.lower() and _MARK not in bare.sql.lower()
    assert field.params == values  # quoted: compared for equality, verbatim
    assert all(str(p).startswith("%" + _MARK) for p in bare.params)
    assert len(bare.params) == len(values)


_number = st.one_of(
    st.integers(-(10**6), 10**6).map(str),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda x: f"{x:.3f}"),
)


def _number_value(kind: str) -> st.SearchStrategy[str]:
    units = {"time": ["", "ms", "s", "m", "h"], "tokens": ["", "k", "K", "m"]}.get(kind, [""])
    one = st.tuples(_number, st.sampled_from(units)).map("".join)
    return st.one_of(
        one,
        st.tuples(one, one).map("..".join),
        one.map(lambda v: v + ".."),
        one.map(lambda v: ".." + v),
        st.just("null"),
    )


@st.composite
def valid_term(draw: st.DrawFn) -> str:
    name = draw(st.sampled_from(field_names()))
    kind = FIELDS[name].kind
    neg = draw(st.sampled_from(["", "-"]))
    if kind == "text":
        values = draw(st.lists(_value.filter(lambda v: v.strip()), min_size=1, max_size=3))
        op = draw(st.sampled_from([":", "=", "!="]))
        return neg + name + op + ",".join('"' + v.replace('"', "") + '"' for v in values)
    if kind == "bool":
        values = draw(st.lists(st.sampled_from(["true", "no", "YES", "0", "null"]), min_size=1))
        return neg + name + draw(st.sampled_from([":", "=", "!="])) + ",".join(values)
    op = draw(st.sampled_from([":", "=", "!=", "<", "<=", ">", ">="]))
    if op in ("<", "<=", ">", ">="):
        unit = {"time": "s", "tokens": "k"}.get(kind, "")
        return neg + name + op + draw(_number) + unit
    return neg + name + op + ",".join(draw(st.lists(_number_value(kind), min_size=1, max_size=3)))


_bare = st.text(alphabet=string.ascii_letters + string.digits + "/-#.*?%_", min_size=1).filter(
    lambda w: not w.startswith("-") and w.lower() not in FIELDS and ":" not in w
)


@settings(max_examples=300)
@given(st.lists(st.one_of(valid_term(), _bare), max_size=6))
def test_valid_terms_compile_with_one_param_per_placeholder(terms: list[str]) -> None:
    compiled = check(" ".join(terms))
    assert compiled is not None
    assert compiled.sql.count("?") == len(compiled.params)
    assert (compiled.sql == "TRUE") == (not terms)


def test_too_many_terms_are_refused_at_once() -> None:
    """3,000 pasted terms: refused naming the first term past the limit, before any SQL."""
    from cabtui.store.filter import MAX_TERMS

    text = " ".join(f"tui:a{i}" for i in range(3000))
    with pytest.raises(FilterError) as err:
        compile_filter(text)
    assert f"more than {MAX_TERMS} terms" in err.value.message
    assert err.value.term == f"tui:a{MAX_TERMS}"
    assert len(compile_filter(" ".join(f"tui:a{i}" for i in range(MAX_TERMS))).params) == MAX_TERMS


def test_too_many_values_and_too_long_a_filter_are_refused() -> None:
    from cabtui.store.filter import MAX_CHARS, MAX_VALUES

    with pytest.raises(FilterError, match="values in one term"):
        compile_filter("tui:" + ",".join(str(i) for i in range(MAX_VALUES + 1)))
    assert (
        len(compile_filter("tui:" + ",".join(str(i) for i in range(MAX_VALUES))).params)
        == MAX_VALUES
    )
    with pytest.raises(FilterError, match="longer than"):
        compile_filter("x" * (MAX_CHARS + 1))
