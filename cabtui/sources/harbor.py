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

import os
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cabtui.sources.atif import Walk, walk_trajectory
from cabtui.sources.common import (
    Out,
    Unreadable,
    When,
    cast_start,
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
    span_id,
    task_parts,
)
from cabtui.sweep.layout import STALE_S

PHASES = ("environment_setup", "agent_setup", "agent_execution", "verifier")
RUNNING = "_running"  # set in the TrialResult made for a trial still running (see running())
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


def job_name(trial_dir: Path, result: dict[str, Any], stop: Path) -> str:
    """The trial's job: the job_name of a job config.json above it (within ``stop``), else the
    name of the folder its config says trials were written to, else its job id."""
    d = trial_dir.parent
    for _ in range(2):
        cfg = d / "config.json"
        if cfg.is_file() and d != trial_dir:
            try:
                doc = read_json(cfg)
            except Unreadable:
                doc = None
            if is_job_config(doc):
                return part(doc["job_name"], "harbor")
        if d == stop or d.parent == d:
            break
        d = d.parent
    trials_dir = _dig(result, "config", "trials_dir")
    if isinstance(trials_dir, str) and trials_dir.strip("/"):
        return part(Path(trials_dir).name, "harbor")
    job_id = _dig(result, "config", "job_id")
    return part(str(job_id)[:8], "harbor") if job_id else "harbor"


def read_trial(trial_dir: Path, doc: dict[str, Any], stop: Path) -> Trial:
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
        job_name(trial_dir, doc, stop),
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


def emit(t: Trial, out: Out, label_of: Callable[[Path], str]) -> None:
    """The record, spans and model calls of one trial."""
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
    _spans(t, t0, finished, phases, ar, out, label, label_of)


def _spans(
    t: Trial,
    t0: When,
    finished: When | None,
    phases: dict[str, tuple[When | None, When | None]],
    ar: dict[str, Any],
    out: Out,
    label: str,
    label_of: Callable[[Path], str],
) -> None:
    cell = t.cell_id
    end = ms_between(t0, finished)
    root = span_id(cell, "trial")
    out.span(
        cell,
        root,
        None,
        "trial",
        str(t.result.get("trial_name") or t.dir.name),
        0.0,
        end,
        {
            "task": t.result.get("task_name"),
            "task_checksum": t.result.get("task_checksum"),
        },
    )
    agent_parent, agent_start = root, 0.0
    outside = []
    for name, (a, b) in phases.items():
        start, stop = ms_between(t0, a), ms_between(t0, b)
        if start is None or stop is None:
            continue
        if not phase_inside(start, stop, end):
            outside.append(f"{name} {iso(a)} .. {iso(b)}")
            continue
        sid = span_id(cell, name)
        out.span(cell, sid, root, "phase", name.replace("_", " "), start, stop - start)
        if name == "agent_execution":
            agent_parent, agent_start = sid, start
    if outside:
        out.problem(
            label,
            f"{len(outside)} phase{'s' if len(outside) > 1 else ''} outside the trial "
            f"({iso(t0)} .. {iso(finished)}), not drawn: " + "; ".join(outside),
        )
    cast = t.dir / "agent" / "recording.cast"
    if cast.is_file():
        ts = cast_start(cast)
        if ts is not None:
            at = (ts - t0.at.timestamp()) * 1000.0
            out.span(
                cell,
                span_id(cell, "terminal"),
                agent_parent,
                "container",
                "terminal recording (aligned within 1 s)",
                at,
                max(0.0, (end if end is not None else at) - at),
                {"recording": label_of(cast), "aligned": "cast header timestamp, whole seconds"},
            )
        else:
            out.problem(label_of(cast), "no timestamp in the header: played from the agent's start")
            out.span(
                cell,
                span_id(cell, "terminal"),
                agent_parent,
                "container",
                "terminal recording (not aligned: no header timestamp)",
                agent_start,
                0.0,
            )
    latencies = _dig(ar, "metadata", "api_request_times_msec")
    lat = (
        [float(x) for x in latencies if isinstance(x, (int, float))]
        if isinstance(latencies, list)
        else []
    )
    walk = Walk(out, cell, t0, lat)
    traj = t.dir / "agent" / "trajectory.json"
    if traj.is_file() and not (t.result.get(RUNNING) and not complete_json(traj)):
        walk_trajectory(walk, traj, label_of, agent_parent, agent_start)
        if walk.untimed:
            out.problem(label_of(traj), "steps have no timestamps: shown in order, 1 s apart")


def last_written(trial_dir: Path) -> float:
    """When the trial last wrote a file (its own, or its agent's), as a Unix time."""
    newest = 0.0
    for folder in (trial_dir, trial_dir / "agent"):
        try:
            with os.scandir(folder) as entries:
                for e in entries:
                    newest = max(newest, e.stat(follow_symlinks=False).st_mtime)
        except OSError:
            continue
    return newest


def job_finished(trial_dir: Path) -> bool:
    """Whether the trial's job says it has finished (its result.json, a JobResult rewritten
    after every trial, with a finished_at): none of its trials is running then."""
    job = trial_dir.parent / "result.json"
    if not job.is_file():
        return False
    try:
        doc = read_json(job)
    except Unreadable:
        return False
    return isinstance(doc, dict) and "n_total_trials" in doc and bool(doc.get("finished_at"))


def complete_json(path: Path) -> bool:
    """Whether ``path`` holds a whole JSON document (a running trial's may be mid-write)."""
    try:
        read_json(path)
    except Unreadable:
        return False
    return True


def running(trial_dir: Path) -> dict[str, Any]:
    """A trial still running (its config.json, no result.json yet) as a TrialResult with what
    is known: its name, task and agent from the config, started when the config was written.
    Its task and model are named as the config names them (the result may name them otherwise).
    """
    config = trial_dir / "config.json"
    cfg = read_json(config)
    task = obj(_dig(cfg, "task"))
    name = task.get("name")
    if not isinstance(name, str) and isinstance(task.get("path"), str):
        name = Path(task["path"]).name
    started = datetime.fromtimestamp(config.stat().st_mtime, timezone.utc)
    return {
        "trial_name": _dig(cfg, "trial_name") or trial_dir.name,
        "task_name": name,
        "source": task.get("source"),
        "config": cfg,
        "started_at": started.isoformat(),
        RUNNING: True,
    }


def _as_finished_ones_say(docs: list[tuple[Path, dict[str, Any]]]) -> None:
    """Name running trials as finished trials of the same task and agent are named (a result
    names the task and the model as the config may not): so a running trial is in its cell
    and keeps its run once finished."""

    def task_of(doc: dict[str, Any]) -> Any:
        task = obj(_dig(doc, "config", "task"))
        return task.get("path") or task.get("name")

    def agent_of(doc: dict[str, Any]) -> tuple[Any, Any]:
        agent = obj(_dig(doc, "config", "agent"))
        return agent.get("name"), agent.get("model_name")

    tasks: dict[Any, dict[str, Any]] = {}
    agents: dict[tuple[Any, Any], Any] = {}
    for _, doc in docs:
        if not doc.get(RUNNING):
            tasks.setdefault(task_of(doc), doc)
            agents.setdefault(agent_of(doc), doc.get("agent_info"))
    for _, doc in docs:
        if doc.get(RUNNING):
            known = tasks.get(task_of(doc))
            if known is not None:
                for key in ("task_name", "source", "task_checksum"):
                    doc[key] = known.get(key)
            if agents.get(agent_of(doc)) is not None:
                doc["agent_info"] = agents[agent_of(doc)]


def find_sweeps(
    trial_dirs: list[Path], root: Path, out_problem: Callable[[str, str], None]
) -> dict[str, list[Trial]]:
    """Trials grouped by job, each read once; unreadable ones reported."""
    docs: list[tuple[Path, dict[str, Any]]] = []
    for d in trial_dirs:
        done = (d / "result.json").exists()
        if not done and (job_finished(d) or time.time() - last_written(d) > STALE_S):
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
            continue
        docs.append((d, doc))
    _as_finished_ones_say(docs)
    trials = [read_trial(d, doc, root) for d, doc in docs]
    number_reruns(trials)
    jobs: dict[str, list[Trial]] = defaultdict(list)
    for t in trials:
        jobs[t.job].append(t)
    return dict(jobs)
