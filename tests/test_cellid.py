"""The cell_id parser, and its agreement with the store's SQL pattern."""

from __future__ import annotations

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cabtui.sweep.cellid import CELL_ID_PATTERN, parse_cell_id

REAL = (
    "expansion-20260616/aider/meta/llama-4-maverick-17b-128e-instruct/mutations/rust-error-negated"
)


def test_real_cell_id_parts() -> None:
    c = parse_cell_id(REAL)
    assert (c.sweep_id, c.tui, c.model, c.task_id, c.family, c.run) == (
        "expansion-20260616", "aider", "meta/llama-4-maverick-17b-128e-instruct",
        "mutations/rust-error-negated", "mutations", 1,
    )  # fmt: skip
    assert str(c) == REAL


def test_run_suffix() -> None:
    c = parse_cell_id(REAL + "#run3")
    assert c.run == 3 and c.cell == REAL and str(c) == REAL + "#run3"


@pytest.mark.parametrize(
    "bad",
    ["", "a/b/c", "a/b/c/d/e/f/g", "a//c/d/e/f", "a/b/c/d/e/f#run0", "a/b/c/d/e/f#run", "a/b/c/d/e/f#x",
     "a/b/c/d/e/ f", "a/b/../d/e/f", "a/b/c/d/e/f#run2#run3", 42, None],
)  # fmt: skip
def test_bad_cell_ids(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_cell_id(bad)


part = st.text(alphabet=st.characters(exclude_categories=["Cs"]), min_size=1, max_size=8)


@settings(max_examples=300, deadline=None)
@given(parts=st.lists(part, min_size=6, max_size=6), run=st.integers(min_value=1, max_value=99))
def test_round_trip(parts: list[str], run: int) -> None:
    text = "/".join(parts) + (f"#run{run}" if run > 1 else "")
    try:
        c = parse_cell_id(text)
    except ValueError:
        return
    assert str(c) == text
    assert parse_cell_id(str(c)) == c
    assert c.run == run


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=40), st.lists(part, min_size=4, max_size=7).map("/".join)))
def test_python_and_sql_agree(text: str) -> None:
    """The store validates cell_ids in SQL with the same pattern; both must agree."""
    try:
        parse_cell_id(text)
        python_ok = True
    except ValueError:
        python_ok = False
    body = text.split("#run")[0] if "#run" in text else text
    sql_ok = duckdb.execute(
        "SELECT regexp_matches(?, ?) AND NOT list_has_any(string_split(?, '/'), ['.', '..'])",
        [text, CELL_ID_PATTERN, body],
    ).fetchall()[0][0]
    assert python_ok == sql_ok
