"""What the detail screen shows of one run, gathered from the store in a worker thread, and the
pure functions that turn it into text (no Textual here: testable without a screen)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cabtui.scoring import Components, Weights, components
from cabtui.store.store import Store

# The scorer keys the site documents, per axis (SWEEP_FORMAT.md); any other key is "unknown".
KNOWN_KEYS: dict[str, tuple[str, ...]] = {
    "pass_rate": ("pass", "exit_code", "timed_out", "stdout_tail", "stderr_tail", "partial_score"),
    "tokens": ("prompt_tokens", "completion_tokens", "total_tokens", "model_calls",
               "tokens_per_correct_task", "pass_used_for_division"),
    "latency": ("wall_clock_ms", "container_active_ms", "model_call_ms"),
    "blast_radius": ("blast_radius", "added", "removed", "modified", "unexpected_changes",
                     "expected_changes", "total_changes", "extra_git_dir"),
    "refusal": ("refusal", "not_applicable", "expected_refusal", "refusal_produced",
                "refusal_correct", "marker_hits", "keyword_hits", "fabricated_fix_detected",
                "refusal_reasons", "refusal_signals"),
    "integrity": ("integrity", "not_applicable", "task_id"),
    "composite": ("composite", "weights", "components", "note"),
}  # fmt: skip
TAIL_KEYS = ("stdout_tail", "stderr_tail")


@dataclass(frozen=True)
class Related:
    cell_id: str
    pass_: float | None
    composite: float | None


@dataclass(frozen=True)
class DetailData:
    run: dict[str, Any]
    scores: list[tuple[str, str, Any]]
    related: dict[str, list[Related]]
    sweep_weights: Weights
    sweep_path: Path | str  # a published sweep's URL
    what_if: Weights | None = None
    shown: Components | None = field(default=None)
    baseline: Components | None = field(default=None)


def load_detail(store: Store, cell_id: str, what_if: Weights | None) -> DetailData | None:
    """Everything the screen needs; run in a worker thread (the store gives it its own cursor)."""
    run = store.run(cell_id)
    if run is None:
        return None
    sweep = next((s for s in store.sweeps() if s["sweep_dir"] == run.get("sweep_dir")), None)
    if sweep is None:
        weights, path = store.weights(), store.root
    else:
        weights = Weights(
            sweep["w_pass_rate"], sweep["w_integrity"], sweep["w_cost"], sweep["w_latency"],
            sweep["w_blast_radius"], sweep["latency_ref_ms"],
        )  # fmt: skip
        path = store.root / (sweep.get("path") or ".")
    groups = store.related(cell_id)
    ids = sorted({c for cs in groups.values() for c in cs})
    found: dict[str, Related] = {}
    for row in store.runs_by_id(ids, what_if, ("cell_id", "pass", "composite")):
        found[row["cell_id"]] = Related(row["cell_id"], row["pass"], row["composite"])
    related = {g: [found.get(c, Related(c, None, None)) for c in cs] for g, cs in groups.items()}
    where = store.url or shown_path(path)
    return DetailData(
        run, store.scores(cell_id), related, weights, where, what_if,
        shown=run_components(run, what_if or weights), baseline=run_components(run, weights),
    )  # fmt: skip


def shown_path(path: Path) -> Path:
    """``path`` relative to the working directory when it lies inside it, else absolute."""
    path = path.resolve()
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


def run_components(run: dict[str, Any], weights: Weights) -> Components:
    tokens = None
    if run.get("prompt_tokens") is not None or run.get("completion_tokens") is not None:
        tokens = {
            "prompt_tokens": run.get("prompt_tokens"),
            "completion_tokens": run.get("completion_tokens"),
        }
    return components(
        pass_=run.get("pass"),
        integrity=run.get("integrity"),
        wall_clock_ms=run.get("wall_clock_ms"),
        blast_radius=run.get("blast_radius"),
        refusal=run.get("refusal"),
        refusal_not_applicable=run.get("refusal_not_applicable"),
        weights=weights,
        tokens=tokens,
    )


def scorer_rows(scores: list[tuple[str, str, Any]]) -> dict[str, list[tuple[str, Any, bool]]]:
    """Scores grouped by axis, documented axes first, as (key, value, is_unknown)."""
    grouped: dict[str, list[tuple[str, Any, bool]]] = {}
    for axis in KNOWN_KEYS:
        grouped[axis] = []
    for axis, key, value in scores:
        unknown = key not in KNOWN_KEYS.get(axis, ())
        grouped.setdefault(axis, []).append((key, value, unknown))
    return {a: rows for a, rows in grouped.items() if rows}


def carried(scores: list[tuple[str, str, Any]]) -> list[tuple[str, str, Any]]:
    """The score keys a run carries (a run of another harness leaves CAB's own keys empty)."""
    return [(a, k, v) for a, k, v in scores if v is not None and v != "null"]


def rerun_commands(data: DetailData, clean: Callable[[str], str] = str) -> list[str]:
    """The cab-tui command that replays this run, then the benchmark's own rerun of the cell
    (the site's "Run it yourself") when the image is known. ``clean`` (e.g. masking) is applied
    to each value taken from the data before it is shell-quoted."""
    run = data.run

    def q(value: Any) -> str:
        return shlex.quote(clean(str(value)))

    out = [f"cab-tui replay {q(data.sweep_path)} {q(run['cell_id'])}"]
    image = run.get("container_image")
    if image and run.get("tui") and run.get("model") and run.get("task_id"):
        digest = run.get("image_digest")
        ref = f"{image}@{digest}" if digest else image
        out.append(
            f'docker run --rm -e CAB_ENDPOINT="$YOUR_ENDPOINT" -e CAB_KEY="$YOUR_KEY" '
            f"{q(ref)} run-cell --tui {q(run['tui'])} --model {q(run['model'])} --task {q(run['task_id'])}"
        )
    return out


def duration(ms: float | None) -> str:
    if ms is None:
        return "not recorded"
    return f"{ms / 1000:.2f} s" if ms < 60_000 else f"{ms / 60_000:.1f} min"


def tokens_line(run: dict[str, Any]) -> str | None:
    """Prompt/completion tokens and their source, or None when the TUI reported none."""
    p, c = run.get("prompt_tokens"), run.get("completion_tokens")
    if p is None and c is None:
        return None
    total = (p or 0) + (c or 0)
    source = run.get("tokens_source") or "source not recorded"
    return f"{p if p is not None else '—'} prompt + {c if c is not None else '—'} completion = {total} ({source})"
