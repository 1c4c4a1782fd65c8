"""ATIF trajectories (Harbor's agent/trajectory.json) as spans and model calls. No Textual here.

Each step becomes a span from the previous step's time to its own; an agent step's model call
is a child span ``[timestamp - latency, timestamp]`` where a latency is known (the step's
``metrics.extra.latency_s``, or terminus-2's ``api_request_times_msec`` in order), its tool
calls point spans with their arguments and observation. Continuations
(``continued_trajectory_ref``) follow in place; sub-agent trajectories (embedded, or referenced
by path beside the trajectory) nest under the tool call that started them. Steps without
timestamps keep their order, one second apart, and say so.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cabtui.sources.common import (
    Unreadable,
    When,
    clip,
    obj,
    parse_time,
    read_json,
    span_id,
)
from cabtui.sources.out import Out

MAX_DEPTH = 3  # sub-agent nesting followed
MAX_CONTINUATIONS = 50
UNTIMED_STEP_MS = 1000.0


def _content_text(value: Any) -> str:
    """The text of a message or observation content (str, or a list of content parts)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        parts = []
        for p in value:
            if isinstance(p, dict):
                if p.get("type") == "image":
                    src = p.get("source") or {}
                    parts.append(f"[image {src.get('path', '') if isinstance(src, dict) else ''}]")
                elif isinstance(p.get("text"), str):
                    parts.append(p["text"])
            elif isinstance(p, str):
                parts.append(p)
        return "\n".join(parts)
    return "" if value is None else json.dumps(value, default=str)


def _finite_number(value: Any) -> float | None:
    """A JSON number (not a boolean, NaN or infinite, under 1e15 either way) as a float."""
    kind = type(value)
    if kind is float or kind is int:
        return float(value) if -1e15 < value < 1e15 else None  # (NaN compares false)
    return None


def _first_line(text: str, width: int = 60) -> str:
    line = text.strip().split("\n", 1)[0]
    return line[:width] + ("…" if len(line) > width else "")


@dataclass
class Walk:
    """The state of one trial's trajectory walk."""

    out: Out
    cell_id: str
    t0: When  # the run's start
    latencies: list[float]  # api_request_times_msec, in order
    seq: int = 0  # model calls so far
    agent_steps: int = 0
    untimed: bool = False
    files: list[str] = field(default_factory=list)


def load_trajectory(path: Path, out: Out, label: str) -> dict[str, Any] | None:
    try:
        doc = read_json(path)
    except Unreadable as e:
        out.problem(label, f"trajectory unreadable: {e}")
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list):
        out.problem(label, "not an ATIF trajectory (no steps); its steps are not shown")
        return None
    version = doc.get("schema_version")
    if not (isinstance(version, str) and version.startswith("ATIF-v1.")):
        out.problem(label, f"unknown trajectory version {version!r}; read as ATIF v1")
    return doc


def walk_trajectory(
    w: Walk, path: Path, label_of: Any, parent: str, start_ms: float, depth: int = 0
) -> float:
    """Spans and model calls of the trajectory at ``path`` (and its continuations) under span
    ``parent``, its first step starting at ``start_ms``; returns the time of the last step."""
    doc = load_trajectory(path, w.out, label_of(path))
    if doc is None:
        return start_ms
    subs = {
        s.get("session_id"): s
        for s in doc.get("subagent_trajectories") or []
        if isinstance(s, dict) and isinstance(s.get("steps"), list)
    }
    prev = start_ms
    conts = 0
    origin, current = w.out.origin, path
    try:
        while doc is not None:
            w.out.origin = label_of(current)  # what its steps cannot store is said of it
            prev = _steps(w, doc, path, label_of, parent, prev, depth, subs)
            ref = doc.get("continued_trajectory_ref")
            doc = None
            if isinstance(ref, str) and ref and conts < MAX_CONTINUATIONS:
                current = path.parent / Path(ref).name
                conts += 1
                if current.is_file():
                    doc = load_trajectory(current, w.out, label_of(current))
                else:
                    w.out.problem(label_of(path), f"continuation {ref} not found")
    finally:
        w.out.origin = origin
    return prev


def _steps(
    w: Walk,
    doc: dict[str, Any],
    path: Path,
    label_of: Any,
    parent: str,
    prev: float,
    depth: int,
    subs: dict[Any, dict[str, Any]],
) -> float:
    seen: list[str] = []  # what the agent saw since its last model call
    span, cell, t0 = w.out.span, w.cell_id, w.t0.at
    prefix = f"{parent}/{path.name}:"  # a step's span id: this and its index
    for n, step in enumerate(doc.get("steps") or []):
        if not isinstance(step, dict) or step.get("is_copied_context") is True:
            continue
        ts = parse_time(step.get("timestamp"))
        if ts is None:
            w.untimed = True
            at = prev + UNTIMED_STEP_MS
        else:
            at = (ts.at - t0).total_seconds() * 1000.0
        at = max(at, prev)
        source = step.get("source")
        if not isinstance(source, str):
            source = "?"
        message = step.get("message")
        if not isinstance(message, str):
            message = _content_text(message)
        sid = f"{prefix}{n}"  # unique within the run, cheap
        metrics = obj(step.get("metrics"))
        attrs: dict[str, Any] = {"step_id": step.get("step_id"), "source": source}
        if message:
            attrs["message"] = clip(message)
        reasoning = step.get("reasoning_content")
        if isinstance(reasoning, str):
            attrs["reasoning"] = clip(reasoning)
        model = step.get("model_name")
        if model:
            attrs["model"] = model
        if ts is None:
            attrs["timing"] = "no timestamp: placed after the previous step"
        name = f"{source} step {step.get('step_id', n + 1)}"
        if message.strip():
            name += f": {_first_line(message)}"
        latency = _latency(w, metrics) if source == "agent" else None
        # A model call is [timestamp - latency, timestamp]; a step starts after the previous one,
        # or earlier when its call began before that (calls whose steps overlap).
        call_start = at - latency if latency is not None else prev
        begin = min(prev, call_start)
        span(cell, sid, parent, "step", name, begin, at - begin, attrs)
        if source == "agent":
            _model_call(w, step, metrics, message, seen, sid, call_start, at, latency)
            seen = []
        elif message:
            seen.append(message)
        observation = step.get("observation")
        results = observation.get("results") if isinstance(observation, dict) else None
        by_call: dict[Any, list[dict[str, Any]]] = {}
        for r in results or []:
            if isinstance(r, dict):
                by_call.setdefault(r.get("source_call_id"), []).append(r)
                content = _content_text(r.get("content"))
                if content:
                    seen.append(content)
        for k, call in enumerate(step.get("tool_calls") or []):
            if not isinstance(call, dict):
                continue
            tid = f"{sid}/t{k}"
            obs = by_call.pop(call.get("tool_call_id"), [])
            tattrs: dict[str, Any] = {"arguments": call.get("arguments")}
            if obs:
                tattrs["observation"] = clip(
                    "\n".join(_content_text(o.get("content")) for o in obs)
                )
            function = call.get("function_name")
            fname = function if isinstance(function, str) else "tool"
            span(cell, tid, sid, "tool_call", fname, at, 0.0, tattrs)
            for o in obs:
                _subagents(w, o, path, label_of, tid, at, depth, subs)
        for rest in by_call.values():
            for o in rest:
                _subagents(w, o, path, label_of, sid, at, depth, subs)
        prev = at
    return prev


def _latency(w: Walk, metrics: dict[str, Any]) -> float | None:
    """The latency of an agent step's model call in ms: the step's own ``latency_s``, else the
    next of terminus-2's ``api_request_times_msec``; None when neither is known."""
    extra = obj(metrics.get("extra"))
    n = w.agent_steps
    w.agent_steps += 1
    value = _finite_number(extra.get("latency_s"))
    if value is not None and value >= 0:
        return value * 1000.0
    if n < len(w.latencies) and w.latencies[n] >= 0:
        return w.latencies[n]
    return None


def _model_call(
    w: Walk,
    step: dict[str, Any],
    metrics: dict[str, Any],
    message: str,
    seen: list[str],
    parent: str,
    start: float,
    at: float,
    latency: float | None,
) -> None:
    w.seq += 1
    duration = at - start
    prompt_tokens = _finite_number(metrics.get("prompt_tokens"))
    completion_tokens = _finite_number(metrics.get("completion_tokens"))
    model = step.get("model_name") or "model"
    w.out.span(
        w.cell_id,
        f"{parent}/call",
        parent,
        "model_call",
        f"{model} #{w.seq}",
        start,
        duration,
        {
            "seq": w.seq,
            "model": model,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "cached_tokens": _finite_number(metrics.get("cached_tokens")),
            "cost_usd": _finite_number(metrics.get("cost_usd")),
        },
    )
    completion: dict[str, Any] = {"message": clip(message)}
    if isinstance(step.get("reasoning_content"), str):
        completion["reasoning"] = clip(step["reasoning_content"])
    if step.get("tool_calls"):
        completion["tool_calls"] = step["tool_calls"]
    when = w.t0.at.timestamp() + start / 1000.0
    w.out.model_call(
        w.cell_id,
        w.seq,
        None,
        clip("\n\n".join(seen)) if seen else None,
        completion,
        prompt_tokens,
        completion_tokens,
        latency,
        at_s=when,
    )


def _subagents(
    w: Walk,
    result: dict[str, Any],
    path: Path,
    label_of: Any,
    parent: str,
    at: float,
    depth: int,
    subs: dict[Any, dict[str, Any]],
) -> None:
    if depth >= MAX_DEPTH:
        return
    for ref in result.get("subagent_trajectory_ref") or []:
        if not isinstance(ref, dict):
            continue
        embedded = subs.get(ref.get("session_id"))
        target = ref.get("trajectory_path")
        sid = span_id(parent, "sub", ref.get("session_id"), target)
        name = f"sub-agent {ref.get('session_id') or target or ''}".strip()
        w.out.span(w.cell_id, sid, parent, "subagent", name, at, 0.0, {"ref": ref})
        if embedded is not None:
            _steps(w, embedded, path, label_of, sid, at, depth + 1, subs)
        elif isinstance(target, str) and target:
            sub_path = path.parent / Path(target).name
            if sub_path.is_file():
                walk_trajectory(w, sub_path, label_of, sid, at, depth + 1)
            else:
                w.out.problem(label_of(path), f"sub-agent trajectory {target} not found")
