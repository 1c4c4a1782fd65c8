"""What the store's queries are made of: the columns a grid asks for, the dimensions of cells
and pivots, the pass@k estimator, what a grid shows (:class:`Query`) and what the opened sweeps
hold (:class:`Shape`). No Textual here."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cabtui.scoring import Weights

# Sortable run columns and the grouping dimensions of cells and pivots.
DIMENSIONS = ("tui", "model", "task_id", "family")
DIM_ALIASES = {"task": "task_id"}
RUN_COLUMNS = (
    "cell_id", "tui", "model", "task_id", "family", "run", "pass", "composite",
    "composite_recorded", "composite_mismatch", "wall_clock_ms", "blast_radius", "refusal",
    "integrity", "total_tokens", "exit_code", "grader_exit_code", "timed_out", "note",
    "has_recording", "n_spans", "source", "status", "cost_usd", "agent_ms", "sweep_id",
)  # fmt: skip
CELL_COLUMNS = (
    "cell", "tui", "model", "task_id", "family", "n", "composite_mean", "composite_sd",
    "pass_rate", "pass_lo", "pass_hi", "wall_mean", "blast_mean", "mismatches", "pass_at",
    "cost_mean",
)  # fmt: skip
MAXPASS_AT_K = 20  # pass@k is given for k = 1 up to a cell's reruns, at most this many
PIVOT_VALUES = {
    "composite": "avg(composite)",
    "pass": "avg(pass)",
    "wall": "avg(wall_clock_ms)",
    "blast": "avg(blast_radius)",
}


# The unbiased pass@k estimator, 1 - C(n-c, k) / C(n, k), for k = 1 .. n (n runs with a pass
# value, c of them passing), as a list; NULL where no run of the group has a pass value.
_N, _C = "CAST(count(pass) AS BIGINT)", "CAST(count_if(pass = 1) AS BIGINT)"
PASS_AT = (
    f"CASE WHEN {_N} > 0 THEN list_transform(range(1, least({_N}, {MAXPASS_AT_K}) + 1), "
    f"lambda k: CASE WHEN {_N} - {_C} < k THEN 1.0 ELSE 1.0 - coalesce(list_aggregate("
    f"list_transform(range({_N} - {_C} + 1, {_N} + 1), lambda i: 1.0 - k / i), 'product'), 1.0) "
    "END) END"
)


# Run columns that only some sources fill: grids show them where the opened sweeps have them.
OPTIONAL_COLUMNS = (
    "composite", "composite_recorded", "blast_radius", "refusal", "integrity", "exit_code",
    "grader_exit_code", "status", "cost_usd", "agent_ms", "total_tokens", "wall_clock_ms",
)  # fmt: skip
MAX_SCORE_COLUMNS = 12


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# A score key that another source keeps in ``extra``, as a number: its path (score_path) is the
# one parameter it takes.
SCORE_SQL = "TRY_CAST(json_extract_string(extra, ?) AS DOUBLE)"


def score_path(key: str) -> str:
    """The JSON path in ``extra`` of a score key "axis.key"."""
    return '$."scores.' + key.replace('"', "") + '"'


@dataclass(frozen=True)
class Shape:
    """What the opened sweeps hold: the optional columns with a value in some run, the score
    keys of other sources ("axis.key", most common first), and the sources."""

    present: frozenset[str]
    score_keys: tuple[str, ...]
    sources: tuple[str, ...]


# Run columns a what-if score may weigh for sources without a composite: (column, higher is
# better). Score keys of those sources are weighed too (higher is better).
WEIGHABLE = (
    ("pass", True), ("total_tokens", False), ("cost_usd", False), ("wall_clock_ms", False),
    ("agent_ms", False),
)  # fmt: skip


# Score keys whose name says that less is better (tests.failed, errors, cost, time, tokens).
LOWER_IS_BETTER = re.compile(
    r"fail|error|cost|time|latency|duration|tokens|_ms$|_s$|refus|blast", re.IGNORECASE
)


def weighable(shape: Shape) -> list[tuple[str, bool]]:
    """The axes a what-if score can weigh in the opened sweeps' runs of other sources
    (none when every run is cabtui's own): (column or score key, higher is better)."""
    if not any(s != "cab" for s in shape.sources):
        return []
    cols = [(c, up) for c, up in WEIGHABLE if c == "pass" or c in shape.present]
    return cols + [(k, not LOWER_IS_BETTER.search(k)) for k in shape.score_keys]


@dataclass(frozen=True)
class Query:
    """What a grid shows: filter text, sort, and optional what-if weights."""

    filter: str = ""
    sort: str | None = None
    descending: bool = False
    weights: Weights | None = None
