"""The composite score, its weights, and confidence intervals. No Textual here.

The formula (SWEEP_FORMAT.md) reproduces every published composite to within 0.0005:

    composite = refusal_factor * (w_pass*pass + w_integrity*integrity + w_cost*cost_efficiency
                                  + w_latency*latency_efficiency + w_blast*clean_blast)

It exists twice, on purpose and tested for agreement: in Python (:func:`composite`) for single
records and in SQL (:func:`composite_sql`) for grids of 100k rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

MISMATCH_TOLERANCE = 0.0005
DEFAULT_WEIGHTS: dict[str, float] = {
    "pass_rate": 0.40,
    "integrity": 0.20,
    "cost": 0.15,
    "latency": 0.15,
    "blast_radius": 0.10,
}
DEFAULT_LATENCY_REF_MS = 10000.0


def _finite(v: object) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


@dataclass(frozen=True)
class Weights:
    pass_rate: float = DEFAULT_WEIGHTS["pass_rate"]
    integrity: float = DEFAULT_WEIGHTS["integrity"]
    cost: float = DEFAULT_WEIGHTS["cost"]
    latency: float = DEFAULT_WEIGHTS["latency"]
    blast_radius: float = DEFAULT_WEIGHTS["blast_radius"]
    latency_ref_ms: float = DEFAULT_LATENCY_REF_MS
    # What-if weights over the numeric axes of runs from sources that define no composite
    # (Harbor, Terminal-Bench, Inspect): (axis, weight), see :func:`axes_score_sql`.
    axes: tuple[tuple[str, float], ...] = ()

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any] | None) -> Weights:
        """Weights from a sweep.json object; unusable entries keep the defaults (see
        :meth:`check`)."""
        return cls.check(manifest)[0]

    @classmethod
    def check(cls, manifest: dict[str, Any] | None) -> tuple[Weights, list[str]]:
        """The weights of a sweep.json object, and what in it could not be used.

        A weight must be a finite number, 0 or more; weights summing to 0 keep the defaults;
        latency_ref_ms must be a finite number above 0."""
        manifest = manifest if isinstance(manifest, dict) else {}
        raw = manifest.get("composite_weights")
        values: dict[str, float] = {}
        problems: list[str] = []
        if isinstance(raw, dict):
            for name in DEFAULT_WEIGHTS:
                if name not in raw:
                    continue
                v = raw[name]
                if _finite(v) and v >= 0:
                    values[name] = float(v)
                else:
                    problems.append(
                        f"composite_weights.{name} = {v!r} is not a number of 0 or more; "
                        f"the default {DEFAULT_WEIGHTS[name]} is used"
                    )
            chosen = {**DEFAULT_WEIGHTS, **values}
            if values and sum(chosen.values()) <= 0:
                problems.append("composite_weights sum to 0; the default weights are used")
                values = {}
        elif raw is not None:
            problems.append("composite_weights is not an object; the default weights are used")
        if "latency_ref_ms" in manifest:
            ref = manifest["latency_ref_ms"]
            if _finite(ref) and ref > 0:
                values["latency_ref_ms"] = float(ref)
            else:
                problems.append(
                    f"latency_ref_ms = {ref!r} is not a number above 0; "
                    f"the default {DEFAULT_LATENCY_REF_MS:g} is used"
                )
        chosen = {**DEFAULT_WEIGHTS, **{k: v for k, v in values.items() if k in DEFAULT_WEIGHTS}}
        ref = values.get("latency_ref_ms", DEFAULT_LATENCY_REF_MS)
        return cls(
            chosen["pass_rate"], chosen["integrity"], chosen["cost"], chosen["latency"],
            chosen["blast_radius"], ref,
        ), problems  # fmt: skip

    def as_dict(self) -> dict[str, float]:
        return {
            "pass_rate": self.pass_rate,
            "integrity": self.integrity,
            "cost": self.cost,
            "latency": self.latency,
            "blast_radius": self.blast_radius,
        }


@dataclass(frozen=True)
class Components:
    """The inputs of the composite for one run, each in [0, 1] (None when missing)."""

    pass_: float | None
    integrity: float | None
    cost_efficiency: float | None
    latency_efficiency: float | None
    clean_blast: float | None
    refusal_factor: float
    contributions: dict[str, float | None] = field(default_factory=dict)


def latency_efficiency(wall_clock_ms: float | None, latency_ref_ms: float) -> float | None:
    if wall_clock_ms is None or wall_clock_ms < 0:
        return None
    return 1.0 / (1.0 + math.log10(1.0 + wall_clock_ms / latency_ref_ms))


def cost_efficiency(tokens: dict[str, Any] | None) -> float:
    """The cost axis. Its published formula is unknown; the site scores 1 throughout."""
    return 1.0


def refusal_factor(refusal: float | None, not_applicable: bool | None) -> float:
    if not_applicable or refusal is None or refusal == 1:
        return 1.0
    return 0.5


def components(
    *,
    pass_: float | None,
    integrity: float | None,
    wall_clock_ms: float | None,
    blast_radius: float | None,
    refusal: float | None,
    refusal_not_applicable: bool | None,
    weights: Weights,
    tokens: dict[str, Any] | None = None,
) -> Components:
    lat = latency_efficiency(wall_clock_ms, weights.latency_ref_ms)
    clean = None if blast_radius is None else 1.0 - blast_radius
    cost = cost_efficiency(tokens)
    factor = refusal_factor(refusal, refusal_not_applicable)
    parts = {
        "pass_rate": pass_,
        "integrity": integrity,
        "cost": cost,
        "latency": lat,
        "blast_radius": clean,
    }
    w = weights.as_dict()
    contributions = {k: None if v is None else factor * w[k] * v for k, v in parts.items()}
    return Components(pass_, integrity, cost, lat, clean, factor, contributions)


def composite(c: Components) -> float | None:
    values = list(c.contributions.values())
    if any(v is None for v in values):
        return None
    return float(sum(v for v in values if v is not None))


def composite_sql(weights: Weights, alias: str = "") -> str:
    """The composite as a SQL expression over the runs table's columns.

    The weights are floats formatted by Python, never user text.
    """
    p = f"{alias}." if alias else ""
    w = {k: float(v) for k, v in weights.as_dict().items()}
    ref = float(weights.latency_ref_ms)
    return (
        f"(CASE WHEN coalesce({p}refusal_not_applicable, FALSE) OR {p}refusal IS NULL "
        f"OR {p}refusal = 1 THEN 1.0 ELSE 0.5 END) * ("
        f"{w['pass_rate']!r} * {p}pass + {w['integrity']!r} * {p}integrity "
        f"+ {w['cost']!r} * 1.0 "
        f"+ {w['latency']!r} * (1.0 / (1.0 + log10(1.0 + greatest({p}wall_clock_ms, 0) / {ref!r}))) "
        f"+ {w['blast_radius']!r} * (1.0 - {p}blast_radius))"
    )


def axes_score_sql(axes: list[tuple[str, float, bool]]) -> str:
    """A what-if score in [0, 1] as a SQL expression: the weighted mean, over the axes a run
    has a value for, of each axis scaled to [0, 1] between its least and greatest value (flipped
    where lower is better). ``axes``: (SQL name of the value, weight, higher is better), where
    ``{name}_lo`` and ``{name}_hi`` name the axis' least and greatest values. Weights are
    floats formatted by Python, never user text."""
    parts, present = [], []
    for name, weight, higher in axes:
        w = float(weight)
        if w <= 0:
            continue
        lo, hi = f"{name}_lo", f"{name}_hi"
        scaled = f"({name} - {lo})" if higher else f"({hi} - {name})"
        # a run without a value adds nothing and weighs nothing (see ``present``)
        parts.append(
            f"{w!r} * (CASE WHEN {name} IS NULL THEN 0 "
            f"WHEN {hi} > {lo} THEN {scaled} / ({hi} - {lo}) ELSE 1.0 END)"
        )
        present.append(f"CASE WHEN {name} IS NULL THEN 0 ELSE {w!r} END")
    if not parts:
        return "NULL"
    return f"(({' + '.join(parts)}) / nullif({' + '.join(present)}, 0))"


def wilson(successes: float, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score 95% interval for a proportion; (0, 1) when n is 0."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, centre - half), min(1.0, centre + half))


def wilson_sql(k: str, n: str, z: float = 1.96) -> tuple[str, str]:
    """SQL expressions for the Wilson interval's low and high ends; k and n are SQL expressions."""
    zz = z * z
    p = f"(({k}) / nullif(({n}), 0))"
    denom = f"(1 + {zz!r} / ({n}))"
    centre = f"(({p} + {zz!r} / (2 * ({n}))) / {denom})"
    half = f"({z!r} * sqrt({p} * (1 - {p}) / ({n}) + {zz!r} / (4 * ({n}) * ({n}))) / {denom})"
    return (f"greatest(0.0, {centre} - {half})", f"least(1.0, {centre} + {half})")
