"""The typed values of a run diff (:func:`cabtui.compare.diff.diff_runs`) and a cell diff
(:func:`cabtui.compare.diff.diff_cells`): what the compare screen and the CLI read, by attribute.

Each converts to the JSON that ``cab-tui diff --format json`` prints with ``to_json()``, the keys
in the order they have always been written. ``delta`` is ``a - b``; ``better`` names the side that
is better by the key's direction ("a", "b"), or is None.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Literal


@dataclass(frozen=True)
class SpanSide:
    """One run's span in an aligned pair: its index in the run's span list, and what it shows."""

    index: int
    kind: str | None
    name: str | None
    start_ms: float | None
    duration_ms: float | None
    error: bool


@dataclass(frozen=True)
class AlignedPair:
    """A row of the span alignment: a span of each run (None for the run that has none there).
    ``status``: match, partial, only_a or only_b."""

    status: str
    score: float
    a: SpanSide | None
    b: SpanSide | None

    def side(self, side: Literal["a", "b"]) -> SpanSide | None:
        return self.a if side == "a" else self.b


@dataclass(frozen=True)
class SpanAlignment:
    """Both runs' span timelines aligned; ``parted_at``: the first row where they differ."""

    n_a: int
    n_b: int
    counts: dict[str, int]
    parted_at: int | None
    pairs: tuple[AlignedPair, ...]

    @property
    def parted(self) -> AlignedPair | None:
        return None if self.parted_at is None else self.pairs[self.parted_at]

    def to_json(self) -> dict[str, Any]:
        pairs = [asdict(p) for p in self.pairs]
        k = self.parted_at
        return {"n_a": self.n_a, "n_b": self.n_b, "counts": dict(self.counts), "parted_at": k,
                "parted": None if k is None else pairs[k], "pairs": pairs}  # fmt: skip


@dataclass(frozen=True)
class AxisRow:
    """A scorer key of either run: its values (None where a run lacks it)."""

    axis: str
    key: str
    a: Any
    b: Any
    delta: float | None
    better: str | None
    in_a: bool
    in_b: bool


@dataclass(frozen=True)
class CompositeRow:
    """A component of the composite: its input in [0, 1] and its weighted contribution."""

    component: str
    input_a: float | None
    input_b: float | None
    a: Any
    b: Any
    delta: float | None
    better: str | None


@dataclass(frozen=True)
class FileSetDiff:
    """A blast-radius file set of both runs; ``missing_*``: the run did not record it."""

    only_a: tuple[str, ...]
    only_b: tuple[str, ...]
    both: tuple[str, ...]
    missing_a: bool
    missing_b: bool


@dataclass(frozen=True)
class CallTotals:
    """A run's model calls: how many, their tokens and their time."""

    n: int
    prompt_tokens: float | None
    completion_tokens: float | None
    latency_ms: float | None


@dataclass(frozen=True)
class RunDiff:
    """Two runs: identities (``a``, ``b``: field -> value, the fields of
    :data:`cabtui.compare.diff.IDENTITY`), scorer keys, composite parts, span alignment, file
    sets, test-output tail diffs (unified diff lines) and model calls."""

    kind: ClassVar[Literal["runs"]] = "runs"
    a: dict[str, Any]
    b: dict[str, Any]
    identity_diff: tuple[str, ...]
    axes: tuple[AxisRow, ...]
    composite: tuple[CompositeRow, ...]
    spans: SpanAlignment
    files: dict[str, FileSetDiff]
    tails: dict[str, tuple[str, ...]]
    calls_a: CallTotals
    calls_b: CallTotals

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "a": self.a,
            "b": self.b,
            "identity_diff": list(self.identity_diff),
            "axes": [asdict(r) for r in self.axes],
            "composite": [asdict(r) for r in self.composite],
            "spans": self.spans.to_json(),
            "files": {name: asdict(f) for name, f in self.files.items()},
            "tails": {k: list(v) for k, v in self.tails.items()},
            "model_calls": {"a": asdict(self.calls_a), "b": asdict(self.calls_b)},
        }


@dataclass(frozen=True)
class Estimate:
    """A mean over a cell's reruns with its 95% interval (None where it cannot be told)."""

    mean: float | None
    lo: float | None
    hi: float | None
    n: int

    @classmethod
    def of(cls, d: dict[str, Any]) -> Estimate:
        """From :func:`cabtui.compare.stats.mean_ci` or ``proportion_ci``."""
        return cls(d["mean"], d["lo"], d["hi"], d["n"])


@dataclass(frozen=True)
class CellAxisRow:
    """An axis of two cells: each side's mean over its reruns."""

    axis: str
    key: str
    a: Estimate
    b: Estimate
    delta: float | None
    better: str | None


@dataclass(frozen=True)
class CellDiff:
    """Two cells (their reruns): each cell's id and runs, the identity its first run gives
    (``a``, ``b``), and per axis the means with intervals."""

    kind: ClassVar[Literal["cells"]] = "cells"
    cell_a: str
    cell_b: str
    runs_a: tuple[str, ...]
    runs_b: tuple[str, ...]
    a: dict[str, Any]
    b: dict[str, Any]
    identity_diff: tuple[str, ...]
    axes: tuple[CellAxisRow, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "a": {"cell": self.cell_a, "runs": list(self.runs_a), **self.a},
            "b": {"cell": self.cell_b, "runs": list(self.runs_b), **self.b},
            "identity_diff": list(self.identity_diff),
            "axes": [asdict(r) for r in self.axes],
        }


Diff = RunDiff | CellDiff
