"""Harbor trials still running: a trial folder with its config.json and no result.json yet,
written to lately, in a job that does not say it has finished. No Textual here."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cabtui.sources.common import Unreadable, obj, read_json

RUNNING = "_running"  # set in the TrialResult made for a trial still running (see running())


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


def job_finished(job_dir: Path) -> bool:
    """Whether the job in ``job_dir`` says it has finished (its result.json, a JobResult
    rewritten after every trial, with a finished_at): none of its trials is running then."""
    job = job_dir / "result.json"
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
    task = obj(obj(cfg).get("task"))
    name = task.get("name")
    if not isinstance(name, str) and isinstance(task.get("path"), str):
        name = Path(task["path"]).name
    started = datetime.fromtimestamp(config.stat().st_mtime, timezone.utc)
    return {
        "trial_name": obj(cfg).get("trial_name") or trial_dir.name,
        "task_name": name,
        "source": task.get("source"),
        "config": cfg,
        "started_at": started.isoformat(),
        RUNNING: True,
    }


def as_finished_ones_say(docs: list[tuple[Path, dict[str, Any]]]) -> None:
    """Name running trials as finished trials of the same task and agent are named (a result
    names the task and the model as the config may not): so a running trial is in its cell
    and keeps its run once finished."""

    def task_of(doc: dict[str, Any]) -> Any:
        task = obj(obj(doc.get("config")).get("task"))
        return task.get("path") or task.get("name")

    def agent_of(doc: dict[str, Any]) -> tuple[Any, Any]:
        agent = obj(obj(doc.get("config")).get("agent"))
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
