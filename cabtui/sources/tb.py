"""Terminal-Bench runs (``run_metadata.json``, ``results.json``, one folder per trial with its
``results.json`` and ``sessions/agent.cast``) as cabtui runs. No Textual here.

Agent and model come from the run's metadata, the task and pass (``is_resolved``), status
(``failure_mode``), tokens, phase times and per-test verdicts (``parser_results``) from each
trial's results.json. Several runs of one agent and model (a leaderboard submission) form one
sweep; the rerun index counts the trials of a task across those runs, in the order of the runs'
start and of ``k`` in ``<task>.<k>-of-<n>.<run_id>``.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from cabtui.sources.common import (
    Unreadable,
    When,
    cast_start,
    clip,
    iso,
    model_parts,
    ms_between,
    parse_time,
    part,
    phase_inside,
    read_json,
    read_text,
    span_id,
    task_parts,
)
from cabtui.sources.out import Out, write_sweep
from cabtui.sweep.layout import RunDir, Sweep
from cabtui.sweep.problems import Problem

_K_OF_N = re.compile(r"\.(\d{1,6})-of-(\d{1,6})(?:\.|$)")
CASTS = ("agent.cast", "tests.cast")


@dataclass
class TbTrial:
    dir: Path
    doc: dict[str, Any]
    run_order: int
    k: int
    agent: str
    vendor: str
    model: str
    family: str
    task: str
    sweep_id: str = ""
    rerun: int = 0

    @property
    def cell_id(self) -> str:
        body = f"{self.sweep_id}/{self.agent}/{self.vendor}/{self.model}/{self.family}/{self.task}"
        return body if self.rerun == 1 else f"{body}#run{self.rerun}"


def _trials(
    run: Path,
    meta: dict[str, Any],
    order: int,
    label_of: Callable[[Path], str],
    problems: list[Problem],
) -> list[TbTrial]:
    agent = part(meta.get("agent_name"), "agent")
    vendor, model = model_parts(meta.get("model_name"))
    family_default = meta.get("dataset_name") or "terminal-bench"
    out = []
    for task_dir in sorted(p for p in run.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for trial_dir in sorted(p for p in task_dir.iterdir() if p.is_dir()):
            res = trial_dir / "results.json"
            if not res.is_file():
                if (trial_dir / "sessions").is_dir():
                    problems.append(
                        Problem(
                            label_of(trial_dir), None, "trial folder without results.json; skipped"
                        )
                    )
                continue
            try:
                doc = read_json(res)
            except Unreadable as e:
                problems.append(Problem(label_of(res), None, f"unreadable trial result: {e}"))
                continue
            if not isinstance(doc, dict) or "task_id" not in doc:
                problems.append(
                    Problem(
                        label_of(res),
                        None,
                        "not a Terminal-Bench trial result (no task_id); skipped",
                    )
                )
                continue
            m = _K_OF_N.search(str(doc.get("trial_name") or trial_dir.name))
            k = int(m.group(1)) if m else 1
            family, task = task_parts(doc.get("task_id"), family_default)
            out.append(TbTrial(trial_dir, doc, order, k, agent, vendor, model, family, task))
    return out


def find_sweeps(
    runs: list[Path], label_of: Callable[[Path], str], problems: list[Problem]
) -> list[Sweep]:
    """One sweep per agent and model over the runs found (each run's metadata read once)."""
    groups: dict[tuple[str, str], list[tuple[Path, dict[str, Any]]]] = defaultdict(list)
    for run in runs:
        try:
            meta = read_json(run / "run_metadata.json")
        except Unreadable as e:
            problems.append(
                Problem(label_of(run / "run_metadata.json"), None, f"unreadable run metadata: {e}")
            )
            continue
        if not isinstance(meta, dict):
            problems.append(Problem(label_of(run / "run_metadata.json"), None, "not a JSON object"))
            continue
        groups[(str(meta.get("agent_name")), str(meta.get("model_name")))].append((run, meta))
    sweeps = []
    for (agent, model), members in sorted(groups.items()):
        members.sort(key=lambda rm: (str(rm[1].get("start_time") or ""), rm[0].name))
        if len(members) == 1:
            sweep_id = part(members[0][1].get("run_id") or members[0][0].name, "tb-run")
            base = members[0][0]
        else:
            base = Path(os.path.commonpath([r for r, _ in members]))
            sweep_id = part(f"{agent}__{model}", "tb-runs")
        trials: list[TbTrial] = []
        for order, (run, meta) in enumerate(members):
            trials += _trials(run, meta, order, label_of, problems)
        cells: dict[str, list[TbTrial]] = defaultdict(list)
        for t in trials:
            t.sweep_id = sweep_id
            cells[t.cell_id].append(t)
        for group in cells.values():
            group.sort(key=lambda t: (t.run_order, t.k, str(t.dir)))
            for i, t in enumerate(group, start=1):
                t.rerun = i
        sweeps.append(_sweep(sweep_id, base, trials, dict(members[0][1]), label_of))
    return sweeps


def _sweep(
    sweep_id: str,
    base: Path,
    trials: list[TbTrial],
    meta: dict[str, Any],
    label_of: Callable[[Path], str],
) -> Sweep:
    run_dirs = []
    for t in trials:
        files = {}
        cast = t.dir / "sessions" / "agent.cast"
        if cast.is_file():
            files["recording.cast"] = str(cast.relative_to(base))
        run_dirs.append(
            RunDir(
                str(t.dir.relative_to(base)),
                t.agent,
                f"{t.vendor}/{t.model}",
                f"{t.family}/{t.task}",
                t.rerun,
                files,
            )
        )

    def write(out: Out) -> None:
        for t in trials:
            out.run(label_of(t.dir / "results.json"), partial(emit, t, out, label_of))

    def importer(sweep: Sweep, folder: Path) -> None:
        write_sweep(sweep, folder, write)

    return Sweep(
        path=base,
        name=sweep_id,
        manifest={
            "sweep_id": sweep_id,
            "source": "tb",
            "run": {
                k: meta.get(k)
                for k in (
                    "run_id",
                    "agent_name",
                    "model_name",
                    "dataset_name",
                    "dataset_version",
                    "commit_hash",
                )
            },
        },
        run_dirs=sorted(run_dirs, key=lambda r: r.rel),
        source="tb",
        importer=importer,
    )


def emit(t: TbTrial, out: Out, label_of: Callable[[Path], str]) -> None:
    doc = t.doc
    label = label_of(t.dir / "results.json")
    times = {
        k: parse_time(doc.get(k))
        for k in (
            "trial_started_at",
            "trial_ended_at",
            "agent_started_at",
            "agent_ended_at",
            "test_started_at",
            "test_ended_at",
        )
    }
    start, end = times["trial_started_at"], times["trial_ended_at"]
    resolved = doc.get("is_resolved")
    parser = doc.get("parser_results") if isinstance(doc.get("parser_results"), dict) else None
    agent_ms = ms_between(times["agent_started_at"], times["agent_ended_at"])
    panes = {}
    if (t.dir / "panes").is_dir():
        panes = {
            p.name: clip(read_text(p) or "") for p in sorted((t.dir / "panes").glob("*.txt"))[:8]
        }
    failure = doc.get("failure_mode")
    record: dict[str, Any] = {
        "cell_id": t.cell_id,
        "sweep_id": t.sweep_id,
        "source": "tb",
        "model_build_id": f"{t.vendor}/{t.model}",
        "trial_name": doc.get("trial_name"),
        "status": failure if isinstance(failure, str) else None,
        "started_at": iso(start),
        "ended_at": iso(end),
        "tokens": {
            "prompt_tokens": doc.get("total_input_tokens"),
            "completion_tokens": doc.get("total_output_tokens"),
            "source": "terminal-bench results.json",
        },
        "scores": {
            "pass_rate": {
                "pass": (1.0 if resolved else 0.0) if isinstance(resolved, bool) else None,
                "stdout_tail": panes.get("post-test.txt"),
            },
            "latency": {
                "wall_clock_ms": ms_between(start, end),
                "agent_ms": agent_ms if agent_ms is not None and agent_ms >= 0 else None,
            },
        },
        "instruction": clip(doc.get("instruction"), 4000),
    }
    if parser:
        verdicts = {str(k): str(v) for k, v in list(parser.items())[:5000]}
        record["tests"] = [{"name": k, "verdict": v} for k, v in verdicts.items()]
        passed = sum(1 for v in verdicts.values() if v == "passed")
        record["scores"]["tests"] = {
            "passed": passed,
            "failed": sum(1 for v in verdicts.values() if v == "failed"),
            "fraction": passed / len(verdicts) if verdicts else None,
        }
    if panes:
        record["panes"] = [{"name": k, "text": v} for k, v in panes.items()]
    tests_cast = t.dir / "sessions" / "tests.cast"
    if tests_cast.is_file():
        record["tests_recording"] = label_of(tests_cast)
    if any(w is not None and w.naive for w in times.values()):
        record["time_zone"] = "times written without a zone, read as local time"
    out.record(record)
    t0 = start or times["agent_started_at"]
    if t0 is None:
        out.problem(label, "no trial_started_at: the trial's spans cannot be placed")
        return
    _spans(t, t0, times, out, label, label_of)


def _spans(
    t: TbTrial,
    t0: When,
    times: dict[str, When | None],
    out: Out,
    label: str,
    label_of: Callable[[Path], str],
) -> None:
    cell = t.cell_id
    end = ms_between(t0, times["trial_ended_at"])
    root = span_id(cell, "trial")
    out.span(cell, root, None, "trial", str(t.doc.get("trial_name") or t.dir.name), 0.0, end)
    spans = {}
    for name, a, b in (
        ("setup", "trial_started_at", "agent_started_at"),
        ("agent", "agent_started_at", "agent_ended_at"),
        ("tests", "test_started_at", "test_ended_at"),
    ):
        s, e = ms_between(t0, times[a]), ms_between(t0, times[b])
        if s is None or e is None:
            continue
        if not phase_inside(s, e, end):
            out.problem(
                label,
                f"phase {name} ({iso(times[a])} .. {iso(times[b])}) lies outside its trial; not drawn",
            )
            continue
        spans[name] = (span_id(cell, name), s, e)
        out.span(cell, spans[name][0], root, "phase", name, s, e - s)
    for cast_name, phase in (("agent.cast", "agent"), ("tests.cast", "tests")):
        cast = t.dir / "sessions" / cast_name
        if not cast.is_file():
            continue
        ts = cast_start(cast)
        parent, p_start, p_end = spans.get(phase, (root, 0.0, end or 0.0))
        kind = "container" if cast_name == "agent.cast" else "recording"
        if ts is None:
            out.problem(label_of(cast), "no timestamp in the header: played from the phase's start")
            at = p_start
        else:
            at = (ts - t0.at.timestamp()) * 1000.0
        out.span(
            cell,
            span_id(cell, cast_name),
            parent,
            kind,
            f"{cast_name} (aligned within 1 s)",
            at,
            max(0.0, p_end - at),
            {"recording": label_of(cast)},
        )
    commands = t.dir / "commands.txt"
    if commands.is_file() and "agent" in spans:
        text = read_text(commands, 64 * 1024) or ""
        lines = [ln for ln in text.splitlines() if ln.strip()][:500]
        sid, s, e = spans["agent"]
        for i, line in enumerate(lines):
            out.span(
                cell,
                span_id(cell, "cmd", i),
                sid,
                "tool_call",
                f"keys {i + 1}",
                s + (e - s) * i / max(1, len(lines)),
                0.0,
                {"keys": clip(line, 2000), "timing": "order only: commands.txt has no times"},
            )
