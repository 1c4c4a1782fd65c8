"""The synthetic sweep generator: deterministic, well-formed, shaped like the real records."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from cabtui.sweep.cellid import parse_cell_id
from cabtui.sweep.synth import SynthStats, synth_sweep

REAL = Path(__file__).resolve().parents[1] / "data" / "sweeps" / "expansion-20260616"
AXES = {
    "pass_rate": {"pass", "exit_code", "timed_out", "stdout_tail", "stderr_tail", "partial_score"},
    "tokens": {
        "prompt_tokens",
        "completion_tokens",
        "total_tokens",
        "model_calls",
        "tokens_per_correct_task",
        "pass_used_for_division",
    },
    "latency": {"wall_clock_ms", "container_active_ms", "model_call_ms"},
    "blast_radius": {
        "blast_radius",
        "added",
        "removed",
        "modified",
        "unexpected_changes",
        "expected_changes",
        "total_changes",
        "extra_git_dir",
    },
    "refusal": {
        "refusal",
        "not_applicable",
        "expected_refusal",
        "refusal_produced",
        "refusal_correct",
        "marker_hits",
        "keyword_hits",
    },
    "integrity": {"integrity", "not_applicable", "task_id"},
    "composite": {"composite", "weights", "components", "note"},
}
EXPECTED_REFUSAL_KEYS = {"fabricated_fix_detected", "refusal_reasons", "refusal_signals"}
SPAN_KEYS = {"span_id", "parent_id", "kind", "name", "start_ms", "duration_ms", "attrs", "error"}
CALL_KEYS = {
    "seq",
    "timestamp",
    "request_hash",
    "prompt",
    "completion",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
    "finish_reason",
}


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def _recompute(rec: dict[str, Any], weights: dict[str, float], ref_ms: float) -> float:
    s = rec["scores"]
    refusal = s["refusal"]
    factor = 1 if refusal["not_applicable"] or refusal["refusal"] == 1 else 0.5
    wall = s["latency"]["wall_clock_ms"]
    lat = 1 / (1 + math.log10(1 + wall / ref_ms))
    return float(
        factor
        * (
            weights["pass_rate"] * s["pass_rate"]["pass"]
            + weights["integrity"] * s["integrity"]["integrity"]
            + weights["cost"] * 1
            + weights["latency"] * lat
            + weights["blast_radius"] * (1 - s["blast_radius"]["blast_radius"])
        )
    )


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SynthStats]:
    out = tmp_path_factory.mktemp("synth") / "s"
    seen: list[tuple[int, int]] = []
    stats = synth_sweep(out, 400, seed=7, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1] == (400, 400)
    return out, stats


def _tree(path: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
    }


def test_same_seed_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a = synth_sweep(tmp_path / "a", 200, seed=3)
    b = synth_sweep(tmp_path / "b", 200, seed=3)
    c = synth_sweep(tmp_path / "c", 200, seed=4)
    assert a == b and c.runs == 200
    ta, tb, tc = _tree(tmp_path / "a"), _tree(tmp_path / "b"), _tree(tmp_path / "c")
    assert ta == tb
    assert set(ta) == {"sweep.json", "results.jsonl", "spans.jsonl", "model_calls.jsonl"}
    assert ta["results.jsonl"] != tc["results.jsonl"]
    assert ta["spans.jsonl"] != tc["spans.jsonl"]


def test_sweep_json_says_synthetic(sweep: tuple[Path, SynthStats]) -> None:
    out, stats = sweep
    manifest = json.loads((out / "sweep.json").read_text())
    assert manifest["synthetic"] is True
    assert manifest["description"]
    assert manifest["seed"] == 7
    assert manifest["sweep_id"] == "synth-7-400"
    assert manifest["latency_ref_ms"] == 10000
    assert math.isclose(sum(manifest["composite_weights"].values()), 1.0)
    assert stats.bytes == sum(len(b) for b in _tree(out).values())


def test_records_have_every_axis_and_parse(sweep: tuple[Path, SynthStats]) -> None:
    out, stats = sweep
    recs = _lines(out / "results.jsonl")
    real_keys = set(_lines(REAL / "results.jsonl")[0])
    assert len(recs) == stats.runs == 400
    ids = [r["cell_id"] for r in recs]
    assert len(set(ids)) == len(ids)
    cells = {parse_cell_id(i).cell for i in ids}
    assert len(cells) == stats.cells == 134
    families, tuis, models, runs = set(), set(), set(), set()
    for rec in recs:
        assert real_keys <= set(rec) | {"note"}
        cid = parse_cell_id(rec["cell_id"])
        assert cid.sweep_id == rec["sweep_id"] == "synth-7-400"
        assert cid.model == rec["model_build_id"]
        assert cid.tui in rec["container_image"]
        assert rec["image_digest"].startswith("sha256:") and len(rec["image_digest"]) == 71
        families.add(cid.family)
        tuis.add(cid.tui)
        models.add(cid.model)
        runs.add(cid.run)
        assert rec["tokens"] is None or set(rec["tokens"]) == {
            "prompt_tokens",
            "completion_tokens",
            "source",
        }
        for axis, keys in AXES.items():
            assert keys <= set(rec["scores"][axis]), axis
        ref = rec["scores"]["refusal"]
        assert ref["refusal"] in (0, 0.5, 1)
        assert ref["refusal_correct"] in (None, "true", "false", "partial")
        assert ref["expected_refusal"] == (cid.family == "integrity")
        if ref["expected_refusal"]:
            assert EXPECTED_REFUSAL_KEYS <= set(ref)
        assert rec["scores"]["integrity"]["task_id"] == cid.task_id
        blast = rec["scores"]["blast_radius"]
        total = len(blast["added"]) + len(blast["removed"]) + len(blast["modified"])
        assert blast["total_changes"] == total
        assert blast["blast_radius"] == (len(blast["unexpected_changes"]) / total if total else 0)
    assert families == {"integrity", "mutations", "polyglot"}
    assert len(tuis) == 10 and 8 <= len(models) <= 12
    assert runs == {1, 2, 3}
    passes = [r["scores"]["pass_rate"]["pass"] for r in recs]
    assert 0.15 < sum(passes) / len(passes) < 0.85


def test_composite_matches_formula_except_planted(sweep: tuple[Path, SynthStats]) -> None:
    out, stats = sweep
    manifest = json.loads((out / "sweep.json").read_text())
    w, ref_ms = manifest["composite_weights"], manifest["latency_ref_ms"]
    recs = _lines(out / "results.jsonl")
    off = [
        r
        for r in recs
        if abs(r["scores"]["composite"]["composite"] - _recompute(r, w, ref_ms)) > 0.0005
    ]
    assert len(off) == stats.composite_mismatches == 4


def test_spans_nest_inside_parents_and_run(sweep: tuple[Path, SynthStats]) -> None:
    out, stats = sweep
    recs = {r["cell_id"]: r for r in _lines(out / "results.jsonl")}
    by_run: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for span in _lines(out / "spans.jsonl"):
        by_run[span.pop("cell_id")].append(span)
    assert set(by_run) == set(recs)
    assert sum(map(len, by_run.values())) == stats.spans
    kinds = set()
    for cid, spans in by_run.items():
        wall = recs[cid]["scores"]["latency"]["wall_clock_ms"]
        index = {s["span_id"]: s for s in spans}
        assert len(index) == len(spans)
        for s in spans:
            assert set(s) == SPAN_KEYS
            kinds.add(s["kind"])
            assert 0 <= s["start_ms"] and s["start_ms"] + s["duration_ms"] <= wall
            if s["parent_id"] is not None:
                p = index[s["parent_id"]]
                assert p["start_ms"] <= s["start_ms"]
                assert s["start_ms"] + s["duration_ms"] <= p["start_ms"] + p["duration_ms"]
    assert {"task_setup", "adapter_run", "container", "tool_call", "model_call", "cleanup"} <= kinds
    assert 8 <= stats.spans / stats.runs <= 12


def test_model_calls_match_record(sweep: tuple[Path, SynthStats]) -> None:
    out, stats = sweep
    counts: dict[str, int] = defaultdict(int)
    for call in _lines(out / "model_calls.jsonl"):
        cid = call.pop("cell_id")
        counts[cid] += 1
        assert set(call) == CALL_KEYS
        assert call["seq"] == counts[cid]  # 1-based, in order, per run
        assert isinstance(call["prompt"], list) and call["prompt"][0]["role"] == "system"
    assert sum(counts.values()) == stats.model_calls
    for rec in _lines(out / "results.jsonl"):
        assert rec["scores"]["tokens"]["model_calls"] == counts.get(rec["cell_id"], 0)


def test_spans_per_run_and_per_run_files(tmp_path: Path) -> None:
    stats = synth_sweep(tmp_path / "s", 12, seed=1, spans_per_run=300, per_run_files=True)
    assert stats.spans == 12 * 300
    assert not (tmp_path / "s" / "spans.jsonl").exists()
    run_dirs = sorted(p.parent for p in (tmp_path / "s" / "runs").rglob("spans.jsonl"))
    assert len(run_dirs) == 12
    for rec in _lines(tmp_path / "s" / "results.jsonl"):
        cid = parse_cell_id(rec["cell_id"])
        d = tmp_path / "s" / "runs" / cid.tui / cid.model / cid.task_id / f"run-{cid.run}"
        spans = _lines(d / "spans.jsonl")
        assert len(spans) == 300 and all("cell_id" not in s for s in spans)
        calls = _lines(d / "model_calls.jsonl")
        assert [c["seq"] for c in calls] == list(range(1, len(calls) + 1))
        assert len(calls) == rec["scores"]["tokens"]["model_calls"] > 50
