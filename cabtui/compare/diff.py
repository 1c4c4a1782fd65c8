"""Two runs (or two cells) side by side: every scorer key, the composite's parts, the span
alignment, the blast-radius file sets, the test-output tails and the model calls. No Textual.

:func:`diff_runs` and :func:`diff_cells` return typed values (:mod:`cabtui.compare.values`):
the compare screen shows them, the CLI prints them or writes their ``to_json()``. ``delta`` is always ``a - b``; ``better`` names the side that is
better by the key's direction, or is None when the key has no direction or they tie.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import replace
from datetime import datetime
from typing import Any

from cabtui.compare.align import align, parted_at
from cabtui.compare.stats import mean_ci, proportion_ci
from cabtui.compare.values import (
    AlignedPair,
    AxisRow,
    CallTotals,
    CellAxisRow,
    CellDiff,
    CompositeRow,
    Diff,
    Estimate,
    FileSetDiff,
    RunDiff,
    SpanAlignment,
    SpanSide,
)
from cabtui.replay.tail import tail_plain
from cabtui.scoring import Weights, components, composite
from cabtui.secrets import mask, mask_text
from cabtui.store.store import Store
from cabtui.text import mask_lines, safe

IDENTITY = (
    "cell_id", "sweep_id", "tui", "model", "task_id", "family", "run", "container_image",
    "image_digest", "exit_code", "grader_exit_code", "started_at", "ended_at", "duration_ms",
    "tokens",
)  # fmt: skip
HIGHER = {("pass_rate", "pass"), ("pass_rate", "partial_score"), ("integrity", "integrity"),
          ("refusal", "refusal"), ("composite", "composite")}  # fmt: skip
LOWER = {("latency", "wall_clock_ms"), ("latency", "container_active_ms"),
         ("latency", "model_call_ms"), ("blast_radius", "blast_radius"),
         ("tokens", "prompt_tokens"), ("tokens", "completion_tokens"),
         ("tokens", "total_tokens"), ("tokens", "model_calls")}  # fmt: skip
FILE_SETS = ("added", "removed", "modified", "unexpected_changes", "expected_changes")
TAILS = ("stdout_tail", "stderr_tail")


class UnknownRun(LookupError):
    """A cell_id the store does not hold."""


def direction(axis: str, key: str) -> int:
    """+1 when higher is better, -1 when lower is, 0 when the key has no direction."""
    return 1 if (axis, key) in HIGHER else -1 if (axis, key) in LOWER else 0


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def _better(axis: str, key: str, a: Any, b: Any) -> str | None:
    na, nb, d = _number(a), _number(b), direction(axis, key)
    if na is None or nb is None or d == 0 or na == nb:
        return None
    return "a" if (na - nb) * d > 0 else "b"


def jsonable(v: Any) -> Any:
    """``v`` with datetimes as ISO text and non-finite floats as None, recursively."""
    if isinstance(v, datetime):
        return v.isoformat()
    if isinstance(v, float) and not math.isfinite(v):
        return None
    if isinstance(v, dict):
        return {str(k): jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [jsonable(x) for x in v]
    return v


def identity(run: dict[str, Any]) -> dict[str, Any]:
    out = {k: jsonable(run.get(k)) for k in IDENTITY if k != "tokens"}
    if run.get("prompt_tokens") is None and run.get("completion_tokens") is None:
        out["tokens"] = None
    else:
        out["tokens"] = {
            "prompt_tokens": run.get("prompt_tokens"),
            "completion_tokens": run.get("completion_tokens"),
            "total_tokens": run.get("total_tokens"),
            "source": run.get("tokens_source"),
        }
    return out


def _weights(store: Store, run: dict[str, Any]) -> Weights:
    rows = (
        store.cursor()
        .execute(
            "SELECT w_pass_rate, w_integrity, w_cost, w_latency, w_blast_radius, latency_ref_ms "
            "FROM sweeps WHERE sweep_dir = ?",
            [run.get("sweep_dir")],
        )
        .fetchall()
    )
    return Weights(*rows[0]) if rows and None not in rows[0] else store.weights()


def _components(run: dict[str, Any], w: Weights) -> dict[str, Any]:
    c = components(
        pass_=run.get("pass"), integrity=run.get("integrity"),
        wall_clock_ms=run.get("wall_clock_ms"), blast_radius=run.get("blast_radius"),
        refusal=run.get("refusal"), refusal_not_applicable=run.get("refusal_not_applicable"),
        weights=w,
    )  # fmt: skip
    inputs = {"pass_rate": c.pass_, "integrity": c.integrity, "cost": c.cost_efficiency,
              "latency": c.latency_efficiency, "blast_radius": c.clean_blast}  # fmt: skip
    return {"inputs": inputs, "contributions": c.contributions, "refusal_factor": c.refusal_factor,
            "composite": composite(c), "composite_recorded": run.get("composite_recorded"),
            "weights": {**w.as_dict(), "latency_ref_ms": w.latency_ref_ms}}  # fmt: skip


def composite_parts(ca: dict[str, Any], cb: dict[str, Any]) -> tuple[CompositeRow, ...]:
    """The composite's components side by side (input in [0, 1] and weighted contribution)."""
    rows = []
    for name in ca["inputs"]:
        a, b = ca["contributions"][name], cb["contributions"][name]
        rows.append(CompositeRow(
            name, ca["inputs"][name], cb["inputs"][name], a, b,
            None if a is None or b is None else a - b, _better("composite", "composite", a, b),
        ))  # fmt: skip
    for name in ("refusal_factor", "composite", "composite_recorded"):
        a, b = ca[name], cb[name]
        d = None if _number(a) is None or _number(b) is None else a - b
        rows.append(
            CompositeRow(name, None, None, a, b, d, _better("composite", "composite", a, b))
        )
    return tuple(rows)


def axes(sa: list[tuple[str, str, Any]], sb: list[tuple[str, str, Any]]) -> tuple[AxisRow, ...]:
    """One row per scorer key of either run (a's order, then b's keys a lacks)."""
    da = {(ax, k): v for ax, k, v in sa}
    db = {(ax, k): v for ax, k, v in sb}
    keys = list(dict.fromkeys([*da, *db]))
    rows = []
    for ax, k in keys:
        a, b = da.get((ax, k)), db.get((ax, k))
        na, nb = _number(a), _number(b)
        rows.append(AxisRow(
            ax, k, jsonable(a), jsonable(b), None if na is None or nb is None else na - nb,
            _better(ax, k, a, b), (ax, k) in da, (ax, k) in db,
        ))  # fmt: skip
    return tuple(rows)


def _lean_spans(store: Store, cell_id: str) -> list[dict[str, Any]]:
    """kind, name, start and duration of each span, in ``Store.spans`` order."""
    rows = (
        store.cursor()
        .execute(
            "SELECT kind, name, start_ms, duration_ms, error IS NOT NULL AND json_type(error) <> 'NULL' "
            "FROM spans WHERE cell_id = ? ORDER BY start_ms NULLS LAST, seq",
            [cell_id],
        )
        .fetchall()
    )
    return [
        {"kind": k, "name": n, "start_ms": s, "duration_ms": d, "error": bool(e)}
        for k, n, s, d, e in rows
    ]


def _span_side(spans: list[dict[str, Any]], i: int | None) -> SpanSide | None:
    if i is None:
        return None
    s = spans[i]
    return SpanSide(i, s["kind"], s["name"], s["start_ms"], s["duration_ms"], s["error"])


def span_alignment(store: Store, ra: dict[str, Any], rb: dict[str, Any]) -> SpanAlignment:
    a_sp, b_sp = _lean_spans(store, ra["cell_id"]), _lean_spans(store, rb["cell_id"])
    own = ("tui", "model")
    pairs = align(
        a_sp, b_sp, {k: ra[k] for k in own if ra.get(k)}, {k: rb[k] for k in own if rb.get(k)}
    )
    counts = {"match": 0, "partial": 0, "only_a": 0, "only_b": 0}
    rows = []
    for p in pairs:
        counts[p.status] += 1
        rows.append(AlignedPair(p.status, p.score, _span_side(a_sp, p.a), _span_side(b_sp, p.b)))
    return SpanAlignment(len(a_sp), len(b_sp), counts, parted_at(pairs), tuple(rows))


def file_sets(ra: dict[str, Any], rb: dict[str, Any]) -> dict[str, FileSetDiff]:
    out = {}
    for name in FILE_SETS:
        a, b = ra.get(name), rb.get(name)
        sa, sb = set(a or []), set(b or [])
        out[name] = FileSetDiff(tuple(sorted(sa - sb)), tuple(sorted(sb - sa)),
                                tuple(sorted(sa & sb)), a is None, b is None)  # fmt: skip
    return out


def tail_diff(a: str | None, b: str | None, context: int = 3) -> tuple[str, ...]:
    """A unified line diff of two captured outputs, each first rendered to plain text."""
    la, lb = tail_plain(a), tail_plain(b)
    return tuple(
        safe(line) for line in difflib.unified_diff(la, lb, "a", "b", n=context, lineterm="")
    )


def call_totals(store: Store, cell_id: str) -> CallTotals:
    n, pt, ct, lat = (
        store.cursor()
        .execute(
            "SELECT count(*), sum(prompt_tokens), sum(completion_tokens), sum(latency_ms) "
            "FROM model_calls WHERE cell_id = ?",
            [cell_id],
        )
        .fetchall()[0]
    )
    return CallTotals(int(n), pt, ct, lat)


def _run(store: Store, cell_id: str, weights: Weights | None) -> dict[str, Any]:
    run = store.run(cell_id, weights)
    if run is None:
        raise UnknownRun(cell_id)
    return run


def diff_runs(store: Store, a: str, b: str, weights: Weights | None = None) -> RunDiff:
    """Run ``a`` against run ``b`` (cell_ids). Raises :class:`UnknownRun`.

    ``weights`` are what-if composite weights; by default each run's sweep's own.
    """
    ra, rb = _run(store, a, weights), _run(store, b, weights)
    ia, ib = identity(ra), identity(rb)
    ca = _components(ra, weights or _weights(store, ra))
    cb = _components(rb, weights or _weights(store, rb))
    return RunDiff(
        a=ia,
        b=ib,
        identity_diff=tuple(k for k in IDENTITY if ia.get(k) != ib.get(k)),
        axes=axes(store.scores(a), store.scores(b)),
        composite=composite_parts(ca, cb),
        spans=span_alignment(store, ra, rb),
        files=file_sets(ra, rb),
        tails={k: tail_diff(ra.get(k), rb.get(k)) for k in TAILS},
        calls_a=call_totals(store, a),
        calls_b=call_totals(store, b),
    )


# per-axis summaries of a cell's reruns: (axis, key, runs column, bounds; None for a proportion)
_UNIT = (0.0, 1.0)
CELL_AXES: tuple[tuple[str, str, str, tuple[float | None, float | None] | None], ...] = (
    ("pass_rate", "pass", "pass", None),
    ("composite", "composite", "composite", _UNIT),
    ("integrity", "integrity", "integrity", _UNIT),
    ("refusal", "refusal", "refusal", _UNIT),
    ("latency", "wall_clock_ms", "wall_clock_ms", (0.0, None)),
    ("blast_radius", "blast_radius", "blast_radius", _UNIT),
    ("tokens", "total_tokens", "total_tokens", (0.0, None)),
)


def cell_runs(store: Store, cell: str) -> list[str]:
    """The cell_ids of a cell's reruns (``cell`` is a cell_id without ``#run``)."""
    rows = (
        store.cursor()
        .execute("SELECT cell_id FROM runs WHERE cell = ? ORDER BY run", [cell])
        .fetchall()
    )
    return [r[0] for r in rows]


def diff_cells(store: Store, cell_a: str, cell_b: str) -> CellDiff:
    """Two cells' reruns: per axis the mean, 95% interval (Wilson for pass, t otherwise), n."""
    cols = ", ".join(c for _, _, c, _ in CELL_AXES)
    sides = {}
    for side, cell in (("a", cell_a), ("b", cell_b)):
        rows = (
            store.cursor()
            .execute(f"SELECT {cols} FROM runs WHERE cell = ? ORDER BY run", [cell])
            .fetchall()
        )
        if not rows:
            raise UnknownRun(cell)
        sides[side] = rows
    out_axes = []
    for k, (axis, key, _, bounds) in enumerate(CELL_AXES):
        va = [r[k] for r in sides["a"] if r[k] is not None]
        vb = [r[k] for r in sides["b"] if r[k] is not None]
        if bounds is None:
            sa, sb = proportion_ci(va), proportion_ci(vb)
        else:
            sa, sb = mean_ci(va, bounds), mean_ci(vb, bounds)
        ma, mb = sa["mean"], sb["mean"]
        out_axes.append(CellAxisRow(
            axis, key, Estimate.of(sa), Estimate.of(sb),
            None if ma is None or mb is None else ma - mb, _better(axis, key, ma, mb),
        ))  # fmt: skip
    first = {
        s: _run(store, cell_runs(store, c)[0], None) for s, c in (("a", cell_a), ("b", cell_b))
    }
    ia, ib = identity(first["a"]), identity(first["b"])
    same = ("sweep_id", "tui", "model", "task_id", "family", "container_image", "image_digest")
    return CellDiff(
        cell_a, cell_b, tuple(cell_runs(store, cell_a)), tuple(cell_runs(store, cell_b)),
        {k: ia[k] for k in same}, {k: ib[k] for k in same},
        tuple(k for k in same if ia[k] != ib[k]), tuple(out_axes),
    )  # fmt: skip


def diff_ids(store: Store, a: str, b: str, weights: Weights | None = None) -> Diff:
    """What the compare screen shows for two ids, secrets masked: the per-axis means of two
    cells (ids without ``#run``, one of them with several reruns), else the two runs."""
    cells = "#" not in a and "#" not in b
    if cells and max(len(cell_runs(store, a)), len(cell_runs(store, b))) > 1:
        return masked(diff_cells(store, a, b))
    return masked(diff_runs(store, a, b, weights))


def masked(d: Diff) -> Diff:
    """A diff of :func:`diff_runs` or :func:`diff_cells` with the secrets of every text from the
    data masked (identities, score values, span names, file names, tails)."""
    if isinstance(d, CellDiff):
        sa = mask({"cell": d.cell_a, "runs": list(d.runs_a), **d.a})
        sb = mask({"cell": d.cell_b, "runs": list(d.runs_b), **d.b})
        return replace(
            d, cell_a=sa.pop("cell"), runs_a=tuple(sa.pop("runs")),
            cell_b=sb.pop("cell"), runs_b=tuple(sb.pop("runs")), a=sa, b=sb,
        )  # fmt: skip

    def masked_span(s: SpanSide | None) -> SpanSide | None:
        return None if s is None else replace(s, kind=mask(s.kind), name=mask(s.name))

    pairs = tuple(replace(p, a=masked_span(p.a), b=masked_span(p.b)) for p in d.spans.pairs)
    return replace(
        d,
        a=mask(d.a),
        b=mask(d.b),
        axes=tuple(replace(r, a=mask(r.a, str(r.key)), b=mask(r.b, str(r.key))) for r in d.axes),
        spans=replace(d.spans, pairs=pairs),
        files={
            name: replace(
                f,
                only_a=tuple(mask_text(str(x)) for x in f.only_a),
                only_b=tuple(mask_text(str(x)) for x in f.only_b),
                both=tuple(mask_text(str(x)) for x in f.both),
            )
            for name, f in d.files.items()
        },
        tails={k: tuple(mask_lines(list(v), diff=True)) for k, v in d.tails.items()},
    )
