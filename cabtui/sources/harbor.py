"""Harbor trials (``result.json`` holding a TrialResult, ATIF trajectory, asciinema recording)
as cabtui runs. No Textual here.

A trial is recognised by its result.json, wherever it lies: a job's ``<task>__<id>/`` or any
regrouping (``<task>/<model>/run_N/``). Identity comes from the file: agent (``agent_info``,
else ``config.agent``), model (``agent_info.model_info``, else ``config.agent.model_name``),
task (``task_name``, ``task_checksum`` as its version). The rerun index is the ``run_N`` folder
when trials are regrouped so, else the order of ``started_at`` among the trials of one job,
agent, model and task.
"""

from __future__ import annotations

import functools
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cabtui.sources.atif_sql import Pending
from cabtui.sources.common import (
    Unreadable,
    When,
    clip,
    iso,
    model_parts,
    ms_between,
    obj,
    parse_time,
    part,
    phase_inside,
    read_json,
    read_text,
    task_parts,
)
from cabtui.sources.harbor_running import (
    RUNNING,
    as_finished_ones_say,
    job_finished,
    last_written,
    running,
)
from cabtui.sources.harbor_spans import PHASES, trial_spans
from cabtui.sources.out import Out
from cabtui.sweep.layout import STALE_S

_RUN_DIR = re.compile(r"^run[_-]?(\d{1,6})$")


def is_trial_result(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("trial_name"), str)
        and ("task_name" in doc or "agent_info" in doc or "verifier_result" in doc)
    )


def is_job_config(doc: Any) -> bool:
    return (
        isinstance(doc, dict)
        and isinstance(doc.get("job_name"), str)
        and ("agents" in doc or "orchestrator" in doc or "n_attempts" in doc)
    )


@dataclass
class Trial:
    dir: Path
    result: dict[str, Any]
    job: str
    agent: str
    vendor: str
    model: str
    family: str
    task: str
    started: When | None
    run: int = 0

    @property
    def key(self) -> tuple[str, str, str, str, str, str]:
        return (self.job, self.agent, self.vendor, self.model, self.family, self.task)

    @property
    def cell_id(self) -> str:
        body = "/".join(self.key)
        return body if self.run == 1 else f"{body}#run{self.run}"


def _dig(doc: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(p)
    return doc


def config_job_name(folder: Path, stop: Path) -> str | None:
    """The job_name of a job config.json in ``folder`` or the folder above it (within
    ``stop``), or None."""
    d = folder
    for _ in range(2):
        cfg = d / "config.json"
        if cfg.is_file():
            try:
                doc = read_json(cfg)
            except Unreadable:
                doc = None
            if is_job_config(doc):
                return part(doc["job_name"], "harbor")
        if d == stop or d.parent == d:
            break
        d = d.parent
    return None


def job_name(
    trial_dir: Path,
    result: dict[str, Any],
    stop: Path,
    config_name: Callable[[Path, Path], str | None] = config_job_name,
) -> str:
    """The trial's job: the job_name of a job config.json above it (within ``stop``), else the
    name of the folder its config says trials were written to, else its job id.
    ``config_name``: how a folder's job config is read (once per folder for a whole job)."""
    name = config_name(trial_dir.parent, stop) if trial_dir.parent != trial_dir else None
    if name is not None:
        return name
    trials_dir = _dig(result, "config", "trials_dir")
    if isinstance(trials_dir, str) and trials_dir.strip("/"):
        return part(Path(trials_dir).name, "harbor")
    job_id = _dig(result, "config", "job_id")
    return part(str(job_id)[:8], "harbor") if job_id else "harbor"


def read_trial(
    trial_dir: Path,
    doc: dict[str, Any],
    stop: Path,
    config_name: Callable[[Path, Path], str | None] = config_job_name,
) -> Trial:
    info = obj(doc.get("agent_info"))
    agent_cfg = _dig(doc, "config", "agent") or {}
    agent = info.get("name") or agent_cfg.get("name")
    if not agent and isinstance(agent_cfg.get("import_path"), str):
        agent = agent_cfg["import_path"].rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    model_info = obj(info.get("model_info"))
    model_name = model_info.get("name") or agent_cfg.get("model_name")
    cfg_model = agent_cfg.get("model_name")
    if isinstance(cfg_model, str) and "/" in cfg_model and model_name and "/" not in model_name:
        if cfg_model.endswith("/" + model_name):
            model_name = cfg_model  # the config's name carries the vendor
    vendor, model = model_parts(model_name, model_info.get("provider"))
    family, task = task_parts(doc.get("task_name"), doc.get("source") or "harbor")
    return Trial(
        trial_dir,
        doc,
        job_name(trial_dir, doc, stop, config_name),
        part(agent, "agent"),
        vendor,
        model,
        family,
        task,
        parse_time(doc.get("started_at")),
    )


def number_reruns(trials: list[Trial]) -> None:
    """run_N folders give the rerun; otherwise order by started_at in each cell."""
    cells: dict[tuple[str, ...], list[Trial]] = defaultdict(list)
    for t in trials:
        cells[t.key].append(t)
    for group in cells.values():
        named = [_RUN_DIR.match(t.dir.name) for t in group]
        numbers = [int(m.group(1)) for m in named if m]
        if all(named) and len(set(numbers)) == len(numbers) and min(numbers) >= 1:
            for t, n in zip(group, numbers):
                t.run = n
            continue
        group.sort(
            key=lambda t: (t.started.at.timestamp() if t.started else float("inf"), str(t.dir))
        )
        for i, t in enumerate(group, start=1):
            t.run = i


def _pass(rewards: dict[str, float], exception: Any) -> float | None:
    for key in ("reward", "score_binary", "pass", "passed", "resolved"):
        v = rewards.get(key)
        if v in (0, 1):
            return float(v)
    if "reward" in rewards:
        return 1.0 if rewards["reward"] >= 1 else 0.0
    return 0.0 if exception else None


def _ctrf(path: Path, out: Out, label: str) -> dict[str, str] | None:
    if not path.is_file():
        return None
    try:
        doc = read_json(path)
    except Unreadable as e:
        out.problem(label, f"test report unreadable: {e}")
        return None
    tests = _dig(doc, "results", "tests")
    if not isinstance(tests, list):
        return None
    return {
        str(t.get("name")): str(t.get("status"))
        for t in tests[:5000]
        if isinstance(t, dict) and t.get("name") is not None
    }


def emit(
    t: Trial, out: Out, label_of: Callable[[Path], str], later: list[Pending] | None = None
) -> None:
    """The record, spans and model calls of one trial (its trajectory's given to ``later``
    where there is one: trial_spans)."""
    doc = t.result
    label = label_of(t.dir / "result.json")
    ar = obj(doc.get("agent_result"))
    vr = obj(doc.get("verifier_result"))
    exc = doc.get("exception_info") if isinstance(doc.get("exception_info"), dict) else None
    raw_rewards = vr.get("rewards") if isinstance(vr.get("rewards"), dict) else vr.get("scores")
    rewards = {
        part(k, "reward"): float(v)
        for k, v in (raw_rewards or {}).items()
        if isinstance(v, (int, float)) and not isinstance(v, bool) and v == v
    }
    started, finished = t.started, parse_time(doc.get("finished_at"))
    phases = {
        p: (parse_time(_dig(doc, p, "started_at")), parse_time(_dig(doc, p, "finished_at")))
        for p in PHASES
    }
    t0 = started or next((a for a, _ in phases.values() if a), None)
    naive = any(
        w is not None and w.naive
        for w in (started, finished, *[x for p in phases.values() for x in p])
    )
    status = exc.get("exception_type") if exc else ("ok" if vr else "no verifier result")
    if doc.get(RUNNING):
        status = "running"
    wall = ms_between(started, finished)
    a_start, a_end = (ms_between(t0, w) for w in phases["agent_execution"])
    agent_ms = None  # only from an agent phase that lies inside its trial
    if a_start is not None and a_end is not None and phase_inside(a_start, a_end, wall):
        agent_ms = a_end - a_start
    verifier_dir = t.dir / "verifier"
    panes = (
        {p.name: clip(read_text(p) or "") for p in sorted((t.dir / "agent").glob("*.pane"))[:8]}
        if (t.dir / "agent").is_dir()
        else {}
    )
    tests = _ctrf(verifier_dir / "ctrf.json", out, label_of(verifier_dir / "ctrf.json"))
    info = obj(doc.get("agent_info"))
    record: dict[str, Any] = {
        "cell_id": t.cell_id,
        "sweep_id": t.job,
        "source": "harbor",
        "model_build_id": f"{t.vendor}/{t.model}",
        "agent_version": info.get("version"),
        "task_version": doc.get("task_checksum"),
        "trial_name": doc.get("trial_name"),
        "status": status,
        "started_at": iso(started),
        "ended_at": iso(finished),
        "cost_usd": ar.get("cost_usd"),
        "tokens": {
            "prompt_tokens": ar.get("n_input_tokens"),
            "completion_tokens": ar.get("n_output_tokens"),
            "cache_tokens": ar.get("n_cache_tokens"),
            "source": "harbor agent_result",
        },
        "note": (str(exc.get("exception_message") or "").strip().split("\n")[0][:500] or None)
        if exc
        else None,
        "scores": {
            "pass_rate": {
                "pass": _pass(rewards, exc),
                "stdout_tail": read_text(verifier_dir / "test-stdout.txt"),
                "stderr_tail": read_text(verifier_dir / "test-stderr.txt"),
            },
            "latency": {
                "wall_clock_ms": wall,
                "agent_ms": agent_ms,
            },
            "rewards": rewards or None,
        },
    }
    if tests:
        record["tests"] = [{"name": k, "verdict": v} for k, v in tests.items()]
        record["scores"]["tests"] = {
            "passed": sum(1 for v in tests.values() if v == "passed"),
            "failed": sum(1 for v in tests.values() if v == "failed"),
        }
    extra_vr = {k: v for k, v in vr.items() if k not in ("rewards", "scores")}
    if extra_vr:
        record["verifier"] = extra_vr
    if panes:
        record["panes"] = [{"name": k, "text": v} for k, v in panes.items()]
    if naive:
        record["time_zone"] = "times written without a zone, read as local time"
    if exc:
        record["exception"] = {
            "type": exc.get("exception_type"),
            "message": clip(exc.get("exception_message")),
            "occurred_at": exc.get("occurred_at"),
        }
    out.record(record)
    if t0 is None:
        out.problem(label, "no started_at: the trial's spans cannot be placed")
        return
    if doc.get(RUNNING):  # its spans reach to now
        finished = When(datetime.now(timezone.utc), False)
    trial_spans(t, t0, finished, phases, ar, out, label, label_of, later)


def find_sweeps(
    trial_dirs: list[Path], root: Path, out_problem: Callable[[str, str], None]
) -> dict[str, list[Trial]]:
    """Trials grouped by job, each read once; unreadable ones reported."""
    docs: list[tuple[Path, dict[str, Any]]] = []
    finished = functools.cache(job_finished)  # a job's result.json read once, not per trial
    for d in trial_dirs:
        done = (d / "result.json").exists()
        if not done and (finished(d.parent) or time.time() - last_written(d) > STALE_S):
            out_problem(
                str(d),
                "Harbor trial without result.json, in a finished job or silent for over an hour "
                "(stopped before it finished); skipped",
            )
            continue
        try:
            doc = read_json(d / "result.json") if done else running(d)
        except Unreadable as e:
            which = "result" if done else "config (a trial still running)"
            out_problem(
                str(d / ("result.json" if done else "config.json")),
                f"unreadable trial {which}: {e}",
            )
            continue
        if not is_trial_result(doc):
            if done:  # its first keys name a trial, its content is none
                out_problem(
                    str(d / "result.json"),
                    "not a Harbor trial result (trial_name not text, or no task_name, "
                    "agent_info or verifier_result); skipped",
                )
            continue
        docs.append((d, doc))
    as_finished_ones_say(docs)
    config_name = functools.cache(config_job_name)  # a job's config.json read once
    trials = [read_trial(d, doc, root, config_name) for d, doc in docs]
    number_reruns(trials)
    jobs: dict[str, list[Trial]] = defaultdict(list)
    for t in trials:
        jobs[t.job].append(t)
    return dict(jobs)
