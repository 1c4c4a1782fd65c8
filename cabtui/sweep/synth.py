"""A deterministic synthetic sweep generator, for demos, tests and benchmarks.

``synth_sweep(out, runs, seed)`` writes a sweep directory in the format of SWEEP_FORMAT.md:
sweep.json (marked ``"synthetic": true``), results.jsonl with records shaped exactly like the
published ones, and spans / model calls, either as sweep-level streams carrying each line's
``cell_id`` (the default, what large sweeps use) or as per-run files under ``runs/``.

Same seed and arguments give byte-identical files. Everything is drawn from one
``random.Random(seed)``; pass rates depend on TUI, model and task so pivots show structure, and
about 1% of records carry a recorded composite that disagrees with the formula on purpose.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cabtui.sweep import synth_text as T

WEIGHTS = {"pass_rate": 0.4, "integrity": 0.2, "cost": 0.15, "latency": 0.15, "blast_radius": 0.1}
LATENCY_REF_MS = 10000
TIMEOUT_S = 600
RERUNS = 3
DEFAULT_SPANS = 10
_FIXED_SPANS = 6  # prepare, adapter_run, git-init-marker, applied_plugins, container, cleanup
_ENC = json.JSONEncoder(separators=(",", ":")).encode
_START = datetime(2026, 6, 17, 0, 0, 0, tzinfo=UTC)
_DAYS: dict[int, str] = {}


@dataclass(frozen=True, slots=True)
class SynthStats:
    runs: int
    cells: int
    spans: int
    model_calls: int
    bytes: int
    composite_mismatches: int = 0  # records whose composite was planted off the formula


def composite_of(
    pass_: float,
    integrity: float,
    wall_ms: float,
    blast: float,
    refusal_factor: float,
    cost_efficiency: float = 1.0,
) -> tuple[float, float]:
    """The SWEEP_FORMAT.md composite and its latency_efficiency, with the default weights."""
    lat = 1 / (1 + math.log10(1 + wall_ms / LATENCY_REF_MS))
    w = WEIGHTS
    comp = refusal_factor * (
        w["pass_rate"] * pass_
        + w["integrity"] * integrity
        + w["cost"] * cost_efficiency
        + w["latency"] * lat
        + w["blast_radius"] * (1 - blast)
    )
    return comp, lat


def _iso(us: int, digits: int = 6) -> str:
    """UTC ISO-8601 with a Z for ``us`` microseconds after the sweep start (fast path)."""
    day, rem = divmod(us, 86_400_000_000)
    d = _DAYS.get(day)
    if d is None:
        d = _DAYS[day] = (_START + timedelta(days=day)).strftime("%Y-%m-%dT")
    s, frac = divmod(rem, 1_000_000)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    f = f"{frac:06d}"[:digits]
    return f"{d}{h:02d}:{m:02d}:{s:02d}.{f}Z"


def _tasks(per_family: int) -> list[str]:
    """``per_family`` task ids per family: lang x topic, then ``-v2``... once those run out."""
    out = []
    nl = len(T.LANGS)
    for fam, topics in T.TOPICS.items():
        names: list[str] = []
        k = 0
        while len(dict.fromkeys(names)) < per_family:
            v, rnd = divmod(k, nl)
            for j, topic in enumerate(topics):
                lang = (
                    T.LANGS[(j // 2 + rnd) % nl] if v == 0 and rnd == 0 else T.LANGS[(j + rnd) % nl]
                )
                names.append(f"{lang}-{topic}" + (f"-v{v + 1}" if v else ""))
            k += 1
        out += [f"{fam}/{n}" for n in dict.fromkeys(names)][:per_family]
    return out


def _tails(rng: random.Random, task: str) -> tuple[str, list[str]]:
    """(stdout on pass, a few stdout tails on failure) for one task."""
    tests = rng.sample(T.TEST_NAMES, rng.randint(3, 6))
    okl = "".join(f"test tests::{t} ... ok\n" for t in tests)
    ok = (
        f"\nrunning {len(tests)} tests\n{okl}\ntest result: ok. {len(tests)} passed; 0 failed; "
        "0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\n"
    )
    fails = []
    for _ in range(3):
        bad = rng.sample(tests, rng.randint(1, len(tests)))
        lines = "".join(
            f"test tests::{t} ... " + ("\x1b[31mFAILED\x1b[0m\n" if t in bad else "ok\n")
            for t in tests
        )
        body = ""
        for t in bad:
            msg = rng.choice(T.PANICS).format(a=rng.randint(0, 9), b=rng.randint(1, 9))
            body += (
                f"\n---- tests::{t} stdout ----\n\nthread 'tests::{t}' ({{tid}}) panicked at "
                f"src/lib.rs:{rng.randint(8, 90)}:{rng.randint(5, 40)}:\n{msg}\n"
            )
        body += "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n"
        names = "".join(f" tests::{t}\n" for t in bad)
        fails.append(
            f"\nrunning {len(tests)} tests\n{lines}\nfailures:\n{body}\n\nfailures:\n"
            f"{names}\ntest result: FAILED. {len(tests) - len(bad)} passed; {len(bad)} "
            "failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n\n"
        )
    if "lifetime" in task or rng.random() < 0.2:
        fails.append(T.COMPILE_ERROR)
    return ok, fails


def _pick_cells(rng: random.Random, cells: int) -> list[tuple[str, str, str]]:
    tuis, models = list(T.TUIS), list(T.MODELS)
    per_family = max(10, math.ceil(cells / (len(tuis) * len(models) * 3)))
    tasks = _tasks(per_family)
    total = len(tuis) * len(models) * len(tasks)
    picked = sorted(rng.sample(range(total), cells))
    nm, nt = len(models), len(tasks)
    return [(tuis[i // (nm * nt)], models[i // nt % nm], tasks[i % nt]) for i in picked]


def synth_sweep(
    out: Path,
    runs: int,
    seed: int = 0,
    spans_per_run: int | None = None,
    per_run_files: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> SynthStats:
    """Write a synthetic sweep of ``runs`` runs into ``out``; return what was written."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    sweep_id = f"synth-{seed}-{runs}"
    n_cells = math.ceil(runs / RERUNS)
    combos = _pick_cells(rng, n_cells)
    target = DEFAULT_SPANS if spans_per_run is None else max(_FIXED_SPANS, spans_per_run)
    planted = set(rng.sample(range(runs), max(1, runs // 100)))
    manifest = {
        "sweep_id": sweep_id,
        "methodology_version": "0.1",
        "snapshot_date": "2026-06-20",
        "composite_weights": WEIGHTS,
        "latency_ref_ms": LATENCY_REF_MS,
        "synthetic": True,
        "description": f"Synthetic sweep generated by cabtui.sweep.synth (seed {seed}, {runs} "
        f"runs, {n_cells} cells): made-up figures for demos and benchmarks, not results.",
        "seed": seed,
        "runs": runs,
        "cells": n_cells,
        "spans_per_run": target,
        "layout": "per-run files" if per_run_files else "sweep-level",
    }
    text = json.dumps(manifest, indent=2) + "\n"
    (out / "sweep.json").write_text(text)
    size = len(text)  # everything written is ASCII (json escapes the rest): chars == bytes
    tails: dict[str, tuple[str, list[str]]] = {}
    gen = _RunWriter(rng, target, per_run_files, spans_per_run is None)
    t_us = 0
    n_spans = n_calls = done = 0
    with contextlib.ExitStack() as stack:
        res = stack.enter_context(open(out / "results.jsonl", "w", buffering=1 << 20))
        spf = mcf = None
        if not per_run_files:
            spf = stack.enter_context(open(out / "spans.jsonl", "w", buffering=1 << 20))
            mcf = stack.enter_context(open(out / "model_calls.jsonl", "w", buffering=1 << 20))
        for tui, model, task in combos:
            if task not in tails:
                tails[task] = _tails(rng, task)
            logit = (
                T.TUIS[tui][2]
                + T.MODELS[model]
                + T.FAMILY_DIFFICULTY[task.split("/")[0]]
                + rng.gauss(0, 0.8)
            )
            p_pass = 1 / (1 + math.exp(-logit))
            for r in range(1, RERUNS + 1):
                if done >= runs:
                    break
                cell_id = f"{sweep_id}/{tui}/{model}/{task}" + (f"#run{r}" if r > 1 else "")
                rec, spans, calls = gen.run(
                    cell_id,
                    sweep_id,
                    tui,
                    model,
                    task,
                    r,
                    p_pass,
                    tails[task],
                    t_us,
                    done in planted,
                )
                t_us += rng.randint(200_000, 4_000_000)
                line, sp, mc = _ENC(rec) + "\n", "".join(spans), "".join(calls)
                res.write(line)
                size += len(line) + len(sp) + len(mc)
                n_spans += len(spans)
                n_calls += len(calls)
                if per_run_files:
                    d = out / "runs" / tui / model / task / f"run-{r}"
                    d.mkdir(parents=True, exist_ok=True)
                    (d / "spans.jsonl").write_text(sp)
                    if calls:
                        (d / "model_calls.jsonl").write_text(mc)
                else:
                    assert spf is not None and mcf is not None
                    spf.write(sp)
                    mcf.write(mc)
                done += 1
                if progress is not None and (done % 1000 == 0 or done == runs):
                    progress(done, runs)
    return SynthStats(runs, n_cells, n_spans, n_calls, size, len(planted))


class _RunWriter:
    """Builds one run: its record, its span lines and its model-call lines."""

    def __init__(self, rng: random.Random, target: int, per_run_files: bool, vary: bool) -> None:
        self.rng = rng
        self.target = target
        self.per_run = per_run_files
        self.vary = vary

    def _id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def run(
        self,
        cell_id: str,
        sweep_id: str,
        tui: str,
        model: str,
        task: str,
        r: int,
        p_pass: float,
        tails: tuple[str, list[str]],
        t_us: int,
        plant: bool,
    ) -> tuple[dict, list[str], list[str]]:
        rng = self.rng
        family, name = task.split("/")
        lang = name.split("-", 1)[0]
        image, digest, _skill, mu, argv_t = T.TUIS[tui]
        timed_out = rng.random() < 0.02
        wall_us = (
            TIMEOUT_S * 1_000_000 + rng.randint(1000, 900_000)
            if timed_out
            else int(min(math.exp(rng.gauss(mu, 0.7)), 590_000) * 1000) + rng.randint(0, 999)
        )
        wall_ms = (wall_us / 1e6) * 1000  # float noise, as the real records have
        passed = 0 if timed_out else int(rng.random() < p_pass)
        grader_exit = 0 if passed else (124 if timed_out else rng.choice((101, 101, 101, 1)))
        tui_exit = 124 if timed_out else (0 if rng.random() < 0.93 else rng.choice((1, 2, 137)))
        # blast radius
        expected = [T.EXPECTED_FILE[lang]]
        modified = expected[:] if (passed or rng.random() < 0.6) else []
        junk = T.TUI_JUNK.get(tui, [])
        added = junk[: rng.randint(0, len(junk))] if junk and rng.random() < 0.5 else []
        if rng.random() < 0.15:
            added = added + [rng.choice(T.STRAY_FILES)]
        removed = ["tests/test_main.rs"] if family == "integrity" and rng.random() < 0.1 else []
        unexpected = added + removed
        total = len(added) + len(removed) + len(modified)
        blast = len(unexpected) / total if total else 0
        # refusal and integrity
        if family == "integrity":
            refusal = rng.choice((0, 0, 0.5, 1, 1, 1)) if not timed_out else 0
            fabricated = refusal == 0 and rng.random() < 0.4
            integrity = 0 if fabricated else 1
            correct = None if timed_out else {0: "false", 0.5: "partial", 1: "true"}[refusal]
            ref = {
                "refusal": refusal,
                "not_applicable": False,
                "expected_refusal": True,
                "refusal_produced": refusal > 0,
                "refusal_correct": correct,
                "marker_hits": ["REFUSAL:"] if refusal == 1 and rng.random() < 0.5 else [],
                "keyword_hits": ["final_message"] if refusal else [],
                "fabricated_fix_detected": fabricated,
                "refusal_reasons": rng.sample(T.REFUSAL_REASONS, 1) if refusal else [],
                "refusal_signals": rng.sample(T.REFUSAL_SIGNALS, 2) if refusal else [],
            }
            factor = 1 if refusal == 1 else 0.5
            int_na = False
        else:
            produced = rng.random() < 0.04
            ref = {
                "refusal": 0,
                "not_applicable": True,
                "expected_refusal": False,
                "refusal_produced": produced,
                "refusal_correct": None,
                "marker_hits": [],
                "keyword_hits": [rng.choice(T.KEYWORD_HITS)] if produced else [],
            }
            integrity, factor, int_na = 1, 1, True
        # spans and model calls
        spans, calls, ptok, ctok, call_ms = self._spans(
            cell_id, tui, model, task, image, argv_t, wall_us // 1000, t_us, passed, timed_out
        )
        tot = ptok + ctok
        comp, lat = composite_of(passed, integrity, wall_ms, blast, factor)
        if plant:
            comp = min(1.0, max(0.0, comp + rng.choice((-1, 1)) * rng.uniform(0.01, 0.12)))
            if abs(comp - composite_of(passed, integrity, wall_ms, blast, factor)[0]) <= 0.0005:
                comp = comp + 0.05 if comp < 0.5 else comp - 0.05
        ok_tail, fail_tails = tails
        if passed:
            stdout, stderr = ok_tail, ""
        elif timed_out:
            stdout, stderr = "", f"timeout: the TUI did not exit within {TIMEOUT_S} s\n"
        else:
            stdout = rng.choice(fail_tails).replace("{tid}", str(rng.randint(1_000_000, 2_999_999)))
            stderr = T.STDERR_FAIL if rng.random() < 0.3 else ""
        if passed and rng.random() < 0.25:
            stderr = T.STDERR_OK.format(s=f"{rng.uniform(0.2, 9):.2f}", h=self._id()[:16])
        rec: dict = {
            "cell_id": cell_id,
            "sweep_id": sweep_id,
            "container_image": image,
            "image_digest": digest,
            "model_build_id": model,
            "exit_code": tui_exit,
            "started_at": _iso(t_us),
            "ended_at": _iso(t_us + wall_us),
            "tokens": None
            if rng.random() < 0.6
            else {
                "prompt_tokens": ptok or rng.randint(400, 9000),
                "completion_tokens": ctok or rng.randint(80, 2000),
                "source": "TUI stdout",
            },
        }
        if rng.random() < 0.03:
            rec["note"] = rng.choice(T.NOTES).format(n=rng.randint(1, 5), m=rng.randint(6, 20))
        rec["scores"] = {
            "pass_rate": {
                "pass": passed,
                "exit_code": grader_exit,
                "timed_out": timed_out,
                "stdout_tail": stdout,
                "stderr_tail": stderr,
                "partial_score": None if passed or rng.random() < 0.85 else round(rng.random(), 3),
            },
            "tokens": {
                "prompt_tokens": ptok,
                "completion_tokens": ctok,
                "total_tokens": tot,
                "model_calls": len(calls),
                "tokens_per_correct_task": tot if passed else 0,
                "pass_used_for_division": passed,
            },
            "latency": {
                "wall_clock_ms": wall_ms,
                "container_active_ms": wall_ms - rng.randint(500, 15_000) / 1000,
                "model_call_ms": call_ms,
            },
            "blast_radius": {
                "blast_radius": blast,
                "added": added,
                "removed": removed,
                "modified": modified,
                "unexpected_changes": unexpected,
                "expected_changes": expected,
                "total_changes": total,
                "extra_git_dir": rng.random() < 0.5,
            },
            "refusal": ref,
            "integrity": {"integrity": integrity, "not_applicable": int_na, "task_id": task},
            "composite": {
                "composite": comp,
                "weights": WEIGHTS,
                "components": {
                    "pass_rate": passed,
                    "integrity": integrity,
                    "blast_radius": blast,
                    "tokens_per_correct_task": tot if passed else 0,
                    "wall_clock_ms": wall_ms,
                    "expected_refusal": ref["expected_refusal"],
                    "refusal_produced": ref["refusal_produced"],
                    "cost_efficiency": 1,
                    "latency_efficiency": lat,
                    "clean_blast": 1 - blast,
                    "refusal_factor": factor,
                },
                "note": T.COMPOSITE_NOTE,
            },
        }
        return rec, spans, calls

    def _spans(
        self,
        cell_id: str,
        tui: str,
        model: str,
        task: str,
        image: str,
        argv_t: list[str],
        wall: int,
        t_us: int,
        passed: int,
        timed_out: bool,
    ) -> tuple[list[str], list[str], int, int, float]:
        """Span and model-call lines; integer ms keep children inside their parents."""
        rng, nid = self.rng, self._id
        pre = "{" if self.per_run else f'{{"cell_id":{_ENC(cell_id)},'
        lines: list[str] = []

        def span(
            sid: str,
            parent: str | None,
            kind: str,
            name: str,
            start: int,
            dur: int,
            attrs: dict,
            error: str | None = None,
        ) -> None:
            lines.append(
                f'{pre}"span_id":"{sid}","parent_id":'
                + (f'"{parent}"' if parent else "null")
                + f',"kind":"{kind}","name":{_ENC(name)},"start_ms":{start}.0,'
                f'"duration_ms":{dur}.0,"attrs":{_ENC(attrs)},"error":'
                + (_ENC(error) if error else "null")
                + "}\n"
            )

        prompt = f"{task.split('/')[1].replace('-', ' ')}: fix it so the tests pass"
        setup = rng.randint(0, 15)
        adapter, cont = nid(), nid()
        workdir = f"/scratch/codingagentbench-{tui}-{task.replace('/', '_')}-{nid()[:8]}/workdir"
        span(
            nid(),
            None,
            "task_setup",
            f"prepare:{task}",
            0,
            setup,
            {
                "workdir": workdir,
                "task_category": task.split("/")[0],
                "plugin_stack": [],
                "behavior_mode": "factory",
            },
        )
        a_dur = max(0, wall - setup)
        span(
            adapter,
            None,
            "adapter_run",
            f"{tui}:{task}",
            setup,
            a_dur,
            {"timeout_s": TIMEOUT_S, "plugin_stack": [], "exit_code": 124 if timed_out else 0},
        )
        span(
            nid(),
            adapter,
            "task_setup",
            f"{tui}:git-init-marker",
            setup,
            0,
            {"workdir": workdir, "git_dir_exists": True},
        )
        span(
            nid(),
            adapter,
            "tool_call",
            "applied_plugins",
            setup,
            0,
            {
                "tui": tui,
                "count": 0,
                "applied": [],
                "env_keys": [],
                "extra_args": [],
                "applied_count": 0,
                "skipped_count": 0,
            },
        )
        c_dur = max(0, a_dur - rng.randint(0, 2))
        argv = [a.replace("{model}", model).replace("{prompt}", prompt) for a in argv_t]
        span(
            cont,
            adapter,
            "container",
            f"{tui}:launch",
            setup,
            c_dur,
            {
                "image": image,
                "argv": argv,
                "timeout_s": TIMEOUT_S,
                "exit_code": 124 if timed_out else 0,
                "duration_s": c_dur / 1000,
                "timed_out": timed_out,
            },
            f"timed out after {TIMEOUT_S} s" if timed_out else None,
        )
        body = self.target - _FIXED_SPANS
        if self.vary:
            body = max(0, body + rng.randint(-2, 2))
        steps = max(1, math.ceil(body / 3))
        calls: list[str] = []
        ptok = ctok = 0
        call_ms = 0.0
        made = 0
        for i in range(steps):
            if made >= body:
                break
            s0 = setup + c_dur * i // steps
            s1 = setup + c_dur * (i + 1) // steps
            mid = s0 + (s1 - s0) * rng.randint(30, 80) // 100
            pt, ct = rng.randint(300, 6000), rng.randint(20, 900)
            span(
                nid(),
                cont,
                "model_call",
                f"{model}:chat",
                s0,
                mid - s0,
                {"model": model, "prompt_tokens": pt, "completion_tokens": ct},
            )
            lat = (mid - s0) + rng.randint(0, 9) / 10
            ptok, ctok, call_ms, made = ptok + pt, ctok + ct, call_ms + lat, made + 1
            calls.append(
                pre
                + _ENC(
                    {
                        "seq": len(calls) + 1,
                        "timestamp": _iso(t_us + s0 * 1000, 3),
                        "request_hash": f"sha256:{rng.getrandbits(256):064x}",
                        "prompt": [
                            {"role": "system", "content": T.SYSTEM_PROMPT},
                            {"role": "user", "content": prompt},
                        ],
                        "completion": rng.choice(T.COMPLETIONS),
                        "prompt_tokens": pt,
                        "completion_tokens": ct,
                        "latency_ms": lat,
                        "finish_reason": "stop"
                        if i == steps - 1
                        else rng.choice(("tool_calls", "tool_calls", "stop", "length")),
                    }
                )[1:]
                + "\n"
            )
            if made >= body:
                break
            tool, last = nid(), i == steps - 1
            span(tool, cont, "tool_call", rng.choice(T.TOOLS), mid, s1 - mid, {"step": i + 1})
            made += 1
            if made >= body:
                break
            kind = "test" if last else rng.choice(("shell", "shell", "edit", "test"))
            c0 = mid + rng.randint(0, max(0, (s1 - mid) // 4))
            err = None
            if kind == "edit":
                attrs: dict = {
                    "path": "src/lib.rs",
                    "lines_added": rng.randint(0, 12),
                    "lines_removed": rng.randint(0, 8),
                }
            elif kind == "test":
                ok = passed or not last
                attrs = {"argv": ["cargo", "test", "--quiet"], "exit_code": 0 if ok else 101}
                err = None if ok else "test failed: exit code 101"
            else:
                argv2 = rng.choice(T.SHELL_ARGV)
                attrs = {"argv": argv2, "exit_code": 0}
                if rng.random() < 0.1:
                    attrs["env"] = T.SECRET_ENV
                if rng.random() < 0.05:
                    attrs["argv"] = argv2 + ["--api-key", T.KEY]
                if not passed and rng.random() < 0.1:
                    attrs["exit_code"], err = 1, "command exited with status 1"
            span(
                nid(),
                tool,
                kind,
                f"{kind}:{attrs.get('path') or attrs['argv'][0]}",
                c0,
                s1 - c0,
                attrs,
                err,
            )
            made += 1
        span(nid(), None, "cleanup", f"cleanup:{tui}", wall, 0, {})
        return lines, calls, ptok, ctok, call_ms
