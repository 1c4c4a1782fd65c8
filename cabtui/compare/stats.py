"""Statistics for comparisons: intervals of a mean, the sign test, the paired bootstrap, and
:func:`paired`, which compares two CLIs (or two models) over the tasks they share. No Textual.

Nothing here needs scipy: the sign test is an exact binomial sum over Python integers and the
t quantiles come from a table (a Cornish-Fisher expansion past 30 degrees of freedom).
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from cabtui.scoring import wilson
from cabtui.store.query import Query
from cabtui.store.store import Store

# two-sided 95% t quantiles (0.975) for 1..30 degrees of freedom
_T975 = (
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
    2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
    2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
)  # fmt: skip
Z975 = 1.959964


def t975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom."""
    if df < 1:
        raise ValueError("df must be at least 1")
    if df <= len(_T975):
        return _T975[df - 1]
    z = Z975
    return z + (z**3 + z) / (4 * df) + (5 * z**5 + 16 * z**3 + 3 * z) / (96 * df * df)


def mean_ci(
    values: Sequence[float], bounds: tuple[float | None, float | None] = (None, None)
) -> dict[str, Any]:
    """Mean and 95% t interval of ``values`` (None where undefined), clipped to ``bounds``
    (a composite cannot leave [0, 1], a wall-clock time cannot go below 0)."""
    xs = [float(v) for v in values if v is not None and math.isfinite(float(v))]
    n = len(xs)
    if n == 0:
        return {"mean": None, "lo": None, "hi": None, "n": 0}
    m = statistics.fmean(xs)
    if n == 1:
        return {"mean": m, "lo": None, "hi": None, "n": 1}
    half = t975(n - 1) * statistics.stdev(xs) / math.sqrt(n)
    lo, hi = m - half, m + half
    if bounds[0] is not None:
        lo = max(lo, bounds[0])
    if bounds[1] is not None:
        hi = min(hi, bounds[1])
    return {"mean": m, "lo": lo, "hi": hi, "n": n}


def proportion_ci(values: Sequence[float]) -> dict[str, Any]:
    """Mean and 95% Wilson interval of 0/1 ``values`` (partial values count as their sum)."""
    xs = [float(v) for v in values if v is not None]
    n = len(xs)
    if n == 0:
        return {"mean": None, "lo": None, "hi": None, "n": 0}
    lo, hi = wilson(sum(xs), n)
    return {"mean": sum(xs) / n, "lo": lo, "hi": hi, "n": n}


def sign_test(wins: int, losses: int) -> float:
    """Exact two-sided binomial sign test p (ties already dropped); 1.0 with no non-ties."""
    n = wins + losses
    if n == 0:
        return 1.0
    k = min(wins, losses)
    tail = sum(math.comb(n, i) for i in range(k + 1))
    return float(min(Fraction(1), Fraction(2 * tail, 2**n)))


def bootstrap_ci(diffs: Sequence[float], resamples: int = 2000, seed: int = 0,
                 level: float = 0.95) -> tuple[float, float] | None:  # fmt: skip
    """Percentile bootstrap interval of the mean of ``diffs`` (seeded; None when empty)."""
    xs = list(diffs)
    n = len(xs)
    if n == 0:
        return None
    rng = random.Random(seed)
    means = sorted(math.fsum(rng.choices(xs, k=n)) / n for _ in range(resamples))
    alpha = (1 - level) / 2
    lo = means[max(0, math.floor(alpha * resamples))]
    hi = means[min(resamples - 1, math.ceil((1 - alpha) * resamples) - 1)]
    return (lo, hi)


def compare_diffs(diffs: Sequence[float], resamples: int = 2000, seed: int = 0) -> dict[str, Any]:
    """Wins (diff > 0), losses, ties, mean diff, bootstrap CI and sign-test p of paired diffs."""
    wins = sum(1 for d in diffs if d > 0)
    losses = sum(1 for d in diffs if d < 0)
    ci = bootstrap_ci(diffs, resamples, seed)
    return {
        "n": len(diffs),
        "wins": wins,
        "losses": losses,
        "ties": len(diffs) - wins - losses,
        "mean_diff": statistics.fmean(diffs) if diffs else None,
        "ci": list(ci) if ci is not None else None,
        "p": sign_test(wins, losses),
    }


PAIRED_DIMS = {"tui": "model", "model": "tui"}
PAIRED_METRICS = ("composite", "pass")
FIXABLE = ("tui", "model", "task_id", "family", "sweep_id")


def paired(store: Store, dim: str, x: str, y: str, fixed: dict[str, str] | None = None,
           resamples: int = 2000, seed: int = 0, query: Query | None = None) -> dict[str, Any]:  # fmt: skip
    """Compare ``x`` with ``y`` along ``dim`` ("tui" or "model") over what they share.

    A pair is a (sweep, task, other dimension) where both have a cell: two CLIs are paired on
    the same task with the same model, two models on the same task with the same CLI. Each side
    is the cell's mean over its reruns. ``fixed`` restricts the runs, e.g. ``{"model": m}`` or
    ``{"family": "mutations"}``; ``query`` restricts them by a filter (and recomputes the
    composite with its what-if weights, when it has some). Per metric (composite, pass): wins of x, losses, ties, mean of
    x - y, a seeded paired-bootstrap 95% CI of it and the exact sign-test p.
    """
    if dim not in PAIRED_DIMS:
        raise ValueError(f"compare along one of: {', '.join(PAIRED_DIMS)}")
    other = PAIRED_DIMS[dim]
    where, params = [f"{dim} IN (?, ?)"], [x, y]
    for col, value in (fixed or {}).items():
        if col not in FIXABLE or col == dim:
            raise ValueError(
                f"cannot fix {col}; one of: {', '.join(c for c in FIXABLE if c != dim)}"
            )
        where.append(f"{col} = ?")
        params.append(value)
    base, base_params = store.runs_sql(query or Query())
    rows = (
        store.cursor()
        .execute(
            f"""SELECT sweep_id, task_id, {other}, {dim}, avg(composite), avg(pass)
            FROM ({base}) WHERE {" AND ".join(where)}
            GROUP BY sweep_id, task_id, {other}, {dim}""",
            [*base_params, *params],
        )
        .fetchall()
    )
    cells: dict[tuple[Any, ...], dict[str, tuple[float | None, float | None]]] = {}
    for sweep, task, oth, side, comp, pas in rows:
        cells.setdefault((sweep, task, oth), {})[side] = (comp, pas)
    keys = sorted(
        (k for k, v in cells.items() if x in v and y in v), key=lambda k: tuple(map(str, k))
    )
    metrics: dict[str, Any] = {}
    for m, name in enumerate(PAIRED_METRICS):
        diffs = []
        for k in keys:
            vx, vy = cells[k][x][m], cells[k][y][m]
            if vx is not None and vy is not None:
                diffs.append(float(vx) - float(vy))
        metrics[name] = compare_diffs(diffs, resamples, seed)
    return {
        "dim": dim,
        "x": x,
        "y": y,
        "paired_on": ["sweep_id", "task_id", other],
        "fixed": dict(fixed or {}),
        "filter": query.filter if query is not None else "",
        "n_pairs": len(keys),
        "n_tasks": len({(k[0], k[1]) for k in keys}),
        "metrics": metrics,
    }
