"""Inspect logs as cabtui runs: one sweep per log (an eval: task, model, created time), one run
per sample and epoch. No Textual here.

Identity: the cell id's sweep part is the eval set (``eval_set_id``) or else the task, so that
two logs of one task (two models, say) pair in ``cab-tui paired``; tui is the solver (or the
plan's steps), model ``eval.model``, family the task, task the sample id, run the epoch (counted
on across logs of the same task, solver and model, in the order of their creation). Status is
``ok``, ``error`` (the sample's error) or ``limit:<type>``. Every scorer is an axis: C/I/P/N as
1/0/0.5/0, numbers as they are, a dict as one key per entry; answer and explanation go to the
detail. Pass comes from the scorer ``CABTUI_PASS_SCORER`` names (``name`` or ``name.key``; the
CLI's ``--pass-scorer``), by default the eval's first scorer.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from cabtui.sources.common import (
    arr,
    clip,
    iso,
    model_parts,
    ms_between,
    obj,
    parse_time,
    part,
)
from cabtui.sources.inspect_events import Walk, walk
from cabtui.sources.inspect_read import (
    SCORER_PLACEHOLDER,
    Log,
    LogProblem,
    looks_like_log,
    read_header,
    samples,
)
from cabtui.sources.out import Out, write_sweep
from cabtui.sweep.layout import Sweep
from cabtui.sweep.problems import Problem

__all__ = ["PASS_SCORER_ENV", "find_sweeps", "looks_like_log", "to_float"]

PASS_SCORER_ENV = "CABTUI_PASS_SCORER"
_CAB_AXES = {"pass_rate", "tokens", "latency", "blast_radius", "refusal", "integrity", "composite"}
_LETTERS = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}


@dataclass
class LogSweep:
    log: Log
    sweep_id: str
    tui: str
    vendor: str
    model: str
    family: str
    created: str
    run_offset: int = 0
    scorers: list[str] = field(default_factory=list)


def _solver(log: Log) -> str:
    ev = log.eval
    if isinstance(ev.get("solver"), str) and ev["solver"]:
        return part(ev["solver"].rsplit("/", 1)[-1], "solver")
    plan = log.header.get("plan")
    steps = plan.get("steps") if isinstance(plan, dict) else None
    names = [str(s.get("solver")) for s in steps or [] if isinstance(s, dict) and s.get("solver")]
    return part("+".join(n.rsplit("/", 1)[-1] for n in names), "solver")


def find_sweeps(
    files: list[Path], label_of: Callable[[Path], str], problems: list[Problem]
) -> list[Sweep]:
    """One sweep per readable log; logs that are not are reported and skipped."""
    logs: list[LogSweep] = []
    for path in files:
        try:
            log = read_header(path)
        except LogProblem as e:
            problems.append(Problem(label_of(path), None, f"not a readable Inspect log: {e}"))
            continue
        for p in log.problems:
            problems.append(Problem(label_of(path), None, p))
        ev = log.eval
        vendor, model = model_parts(ev.get("model"))
        task = str(ev.get("task") or "task").rsplit("/", 1)[-1]
        sweep_id = part(ev.get("eval_set_id") or task, "inspect")
        scorers = [
            str(s.get("name"))
            for s in ev.get("scorers") or []
            if isinstance(s, dict) and s.get("name")
        ]
        logs.append(
            LogSweep(log, sweep_id, _solver(log), vendor, model, part(task, "task"),
                     str(ev.get("created") or ""), scorers=scorers)
        )  # fmt: skip
    groups: dict[tuple[str, str, str, str, str], list[LogSweep]] = defaultdict(list)
    for ls in logs:
        groups[(ls.sweep_id, ls.tui, ls.vendor, ls.model, ls.family)].append(ls)
    for members in groups.values():
        members.sort(key=lambda s: (s.created, str(s.log.path)))
        offset = 0
        for s in members:
            s.run_offset = offset
            epochs = (s.log.eval.get("config") or {}).get("epochs")
            offset += epochs if isinstance(epochs, int) and epochs > 0 else 1
    return [_sweep(ls, label_of) for ls in logs]


def _sweep(ls: LogSweep, label_of: Callable[[Path], str]) -> Sweep:
    ev, label = ls.log.eval, label_of(ls.log.path)

    def importer(sweep: Sweep, folder: Path) -> None:
        write_sweep(sweep, folder, partial(emit_log, ls, label=label))

    keys = ("task", "model", "created", "eval_id", "run_id", "eval_set_id", "task_version")
    return Sweep(
        path=ls.log.path,
        name=part(ls.log.path.stem, "inspect"),
        manifest={
            "sweep_id": ls.sweep_id,
            "source": "inspect",
            "eval": {k: ev.get(k) for k in keys} | {"status": ls.log.header.get("status")},
            "log": label,
        },
        run_dirs=[],
        source="inspect",
        importer=importer,
    )


def emit_log(ls: LogSweep, out: Out, label: str) -> None:
    unknown: set[str] = set()
    for s in samples(ls.log):
        where = f"{label}/{s.where}" if s.where.startswith("samples/") else label
        if s.doc is None:
            member = s.where.startswith("samples/")
            out.problem(where, s.problem or "unreadable" if member else f"{s.where}: {s.problem}")
            continue
        if s.from_summary:
            out.problem(where, "sample file missing from the log: read from its summary, no events")
        out.run(where, partial(emit_sample, ls, s.doc, out, where, unknown))
    for kind in sorted(unknown):
        out.problem(label, f"unknown event type {kind!r}: skipped")


def to_float(value: Any) -> float | None:
    """Inspect's value_to_float: C/I/P/N, booleans, numbers, numeric or yes/no text."""
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        v = float(value)
        return v if math.isfinite(v) else None
    if isinstance(value, str):
        t = value.strip()
        if t in _LETTERS:
            return _LETTERS[t]
        if t.lower() in ("yes", "true"):
            return 1.0
        if t.lower() in ("no", "false"):
            return 0.0
        try:
            v = float(t)
        except ValueError:
            return None
        return v if math.isfinite(v) else None
    return None


def _axis(name: str) -> str:
    a = part(name, "score").replace(".", "_")
    return f"scorer_{a}" if a in _CAB_AXES else a


def _score_keys(value: Any) -> dict[str, float | None]:
    if isinstance(value, dict):
        return {
            part(k, "value").replace(".", "_"): to_float(v) for k, v in list(value.items())[:200]
        }
    if isinstance(value, list):
        return {str(i): to_float(v) for i, v in enumerate(value[:200])}
    return {"value": to_float(value)}


def _pass(ls: LogSweep, scores: dict[str, Any]) -> float | None:
    wanted = os.environ.get(PASS_SCORER_ENV, "").strip()
    name, key = wanted, None
    if wanted and wanted not in scores and "." in wanted:
        name, key = wanted.rsplit(".", 1)
    if not name:
        name = next((n for n in ls.scorers if n in scores), next(iter(scores), ""))
    score = scores.get(name)
    if not isinstance(score, dict):
        return None
    value = score.get("value")
    if isinstance(value, dict):
        if key is None and len(value) == 1:
            key = next(iter(value))
        value = value.get(key) if key is not None else None
    v = to_float(value)
    return v if v is not None and 0.0 <= v <= 1.0 else None


def _resolved_text(value: Any, attachments: dict[str, str], limit: int = 4000) -> Any:
    if isinstance(value, str):
        if value.startswith("attachment://"):
            value = attachments.get(value[13:], value)
        return clip(value, limit)
    if isinstance(value, list):  # messages
        from cabtui.sources.inspect_events import render_messages

        return clip(render_messages(value, attachments), limit)
    return clip(json.dumps(value, default=str), limit) if value is not None else None


def _usage(doc: dict[str, Any]) -> tuple[dict[str, Any], float | None]:
    usage = obj(doc.get("model_usage"))
    tot: dict[str, Any] = {"prompt_tokens": None, "completion_tokens": None, "cache_tokens": None}
    cost = None
    for u in usage.values():
        if not isinstance(u, dict):
            continue
        for src, dst in (("input_tokens", "prompt_tokens"), ("output_tokens", "completion_tokens"),
                         ("input_tokens_cache_read", "cache_tokens"),
                         ("input_tokens_cache_write", "cache_tokens")):  # fmt: skip
            v = u.get(src)
            if isinstance(v, int) and not isinstance(v, bool):
                tot[dst] = (tot[dst] or 0) + v
        c = u.get("total_cost")
        if isinstance(c, (int, float)) and not isinstance(c, bool) and math.isfinite(c):
            cost = (cost or 0.0) + float(c)
    tot["source"] = "inspect model_usage"
    return tot, cost


def _seconds_ms(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value) * 1000.0 if value >= 0 else None
    return None


def emit_sample(ls: LogSweep, doc: dict[str, Any], out: Out, where: str, unknown: set[str]) -> None:
    sample_id = doc.get("id")
    number = doc.get("epoch")
    epoch = number if isinstance(number, int) else 1
    run = ls.run_offset + max(1, epoch)
    body = f"{ls.sweep_id}/{ls.tui}/{ls.vendor}/{ls.model}/{ls.family}/{part(sample_id, 'sample')}"
    cell = body if run == 1 else f"{body}#run{run}"
    attachments = obj(doc.get("attachments"))
    events = arr(doc.get("events"))
    started = parse_time(doc.get("started_at"))
    first = (
        parse_time(events[0].get("timestamp")) if events and isinstance(events[0], dict) else None
    )
    if first is not None and (started is None or first.at < started.at):
        started = first  # the init span opens a little before the sample's started_at
    wall = _seconds_ms(doc.get("total_time"))
    ended = parse_time(doc.get("completed_at"))
    if ended is None and wall is None and events and isinstance(events[-1], dict):
        ended = parse_time(events[-1].get("timestamp"))  # older logs: the last event
    if wall is None and started is not None and ended is not None:
        wall = ms_between(started, ended)
        wall = wall if wall is not None and wall >= 0 else None
    if ended is None and started is not None and wall is not None:
        from datetime import timedelta

        from cabtui.sources.common import When

        ended = When(started.at + timedelta(milliseconds=wall), started.naive)
    raw_scores = obj(doc.get("scores"))
    scores_in = {
        (ls.scorers[0] if k == SCORER_PLACEHOLDER and ls.scorers else k): v
        for k, v in raw_scores.items()
    }
    error, limit = doc.get("error"), doc.get("limit")
    if error:
        status = "error"
    elif isinstance(limit, dict) and limit.get("type"):
        status = f"limit:{part(limit['type'], 'limit')}"
    elif isinstance(limit, str) and limit:  # a summary's limit
        status = f"limit:{part(limit, 'limit')}"
    else:
        status = "ok"
    tokens, cost = _usage(doc)
    scores: dict[str, Any] = {
        "pass_rate": {"pass": _pass(ls, scores_in)},
        "latency": {"wall_clock_ms": wall, "agent_ms": _seconds_ms(doc.get("working_time"))},
    }
    detail = []
    for name, sc in scores_in.items():
        if not isinstance(sc, dict):
            sc = {"value": sc}
        scores.setdefault(_axis(name), {}).update(_score_keys(sc.get("value")))
        detail.append({
            "name": str(name),
            "value": json.dumps(sc.get("value"), default=str),
            "answer": _resolved_text(sc.get("answer"), attachments),
            "explanation": _resolved_text(sc.get("explanation"), attachments),
        })  # fmt: skip
    record: dict[str, Any] = {
        "cell_id": cell,
        "sweep_id": ls.sweep_id,
        "source": "inspect",
        "model_build_id": f"{ls.vendor}/{ls.model}",
        "status": status,
        "started_at": iso(started),
        "ended_at": iso(ended),
        "tokens": tokens,
        "cost_usd": cost,
        "scores": scores,
        "sample_id": str(sample_id),
        "epoch": epoch,
        "input": _resolved_text(doc.get("input"), attachments),
        "target": _resolved_text(doc.get("target"), attachments, 2000),
        "scorers": detail,
        "log": where,
    }
    if isinstance(error, dict):
        record["error"] = {"message": clip(error.get("message"), 4000),
                           "traceback": clip(error.get("traceback"), 8000)}  # fmt: skip
    elif isinstance(error, str):
        record["error"] = {"message": clip(error, 4000), "traceback": None}
    if isinstance(limit, dict):
        record["limit"] = {"type": str(limit.get("type")), "limit": limit.get("limit"),
                           "message": clip(limit.get("message") or limit.get("reason"), 2000)}  # fmt: skip
    meta = doc.get("metadata")
    if isinstance(meta, dict) and meta:
        record["metadata"] = [
            {
                "name": str(k),
                "value": clip(v if isinstance(v, str) else json.dumps(v, default=str), 2000),
            }
            for k, v in list(meta.items())[:200]
        ]
    if doc.get("uuid"):
        record["uuid"] = str(doc["uuid"])
    out.record(record)
    if started is None:
        if events:
            out.problem(where, "no start time: the sample's events cannot be placed")
        return
    w = Walk(out, cell, started.at.timestamp(), attachments, doc.get("events_data"), unknown)
    w.root(f"{sample_id} epoch {epoch}", wall)
    walk(w, events)
    w.close()
