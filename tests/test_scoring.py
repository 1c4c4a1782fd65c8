"""The composite in Python and in SQL agree, and reproduce the published figures."""

from __future__ import annotations

import math
from typing import Any

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cabtui.scoring import Weights, components, composite, composite_sql, wilson, wilson_sql

unit = st.floats(min_value=0, max_value=1)


@settings(max_examples=200, deadline=None)
@given(p=st.sampled_from([0.0, 1.0]), i=unit, wall=st.floats(0, 1e7), blast=unit,
       refusal=st.sampled_from([0.0, 0.5, 1.0, None]), na=st.booleans())  # fmt: skip
def test_python_and_sql_agree(
    p: float, i: float, wall: float, blast: float, refusal: float | None, na: bool
) -> None:
    w = Weights()
    py = composite(components(pass_=p, integrity=i, wall_clock_ms=wall, blast_radius=blast,
                              refusal=refusal, refusal_not_applicable=na, weights=w))  # fmt: skip
    sql = duckdb.execute(
        f"SELECT {composite_sql(w)} FROM (SELECT ?::DOUBLE AS pass, ?::DOUBLE AS integrity, "
        "?::DOUBLE AS wall_clock_ms, ?::DOUBLE AS blast_radius, ?::DOUBLE AS refusal, "
        "?::BOOLEAN AS refusal_not_applicable)",
        [p, i, wall, blast, refusal, na],
    ).fetchall()[0][0]
    assert py == pytest.approx(sql, abs=1e-12)


def test_published_aider_figure() -> None:
    """The aider run of seeds/cell-aider-mutations-rust-error-negated.txt: composite 0.8713."""
    c = components(pass_=1, integrity=1, wall_clock_ms=12989.314999999999, blast_radius=0.8888888888888888,
                   refusal=0, refusal_not_applicable=True, weights=Weights())  # fmt: skip
    assert composite(c) == pytest.approx(0.871281608466031, abs=5e-4)
    assert c.latency_efficiency == pytest.approx(0.7344699823661318)


def test_refusal_halves_when_applicable_and_not_refused() -> None:
    kw: dict[str, Any] = dict(
        pass_=1, integrity=1, wall_clock_ms=1000, blast_radius=0, weights=Weights()
    )
    full = composite(components(refusal=1, refusal_not_applicable=False, **kw))
    half = composite(components(refusal=0, refusal_not_applicable=False, **kw))
    assert full is not None
    assert half == pytest.approx(full / 2)


def test_weights_from_manifest() -> None:
    w = Weights.from_manifest(
        {"composite_weights": {"pass_rate": 0.5, "cost": "x"}, "latency_ref_ms": 5000}
    )
    assert (w.pass_rate, w.cost, w.latency_ref_ms) == (0.5, 0.15, 5000)


@pytest.mark.parametrize("k,n", [(0, 1), (1, 1), (2, 3), (7, 10), (50, 100)])
def test_wilson_python_and_sql(k: int, n: int) -> None:
    lo, hi = wilson(k, n)
    assert 0 <= lo <= k / n <= hi <= 1
    slo, shi = wilson_sql(f"{k}.0", str(n))
    assert duckdb.execute(f"SELECT {slo}, {shi}").fetchall()[0] == (
        pytest.approx(lo),
        pytest.approx(hi),
    )
    # Wilson's closed form, written independently.
    z, p = 1.96, k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    assert lo == pytest.approx(max(0, centre - half))
