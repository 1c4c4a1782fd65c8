"""The spans of one Harbor trial: the trial, its phases (a phase outside its trial is a
problem, not a bar), its recording placed by the cast header's time, and under the agent phase
the ATIF trajectory's steps, model calls and tool calls. No Textual here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cabtui.sources.atif import Walk, walk_trajectory
from cabtui.sources.atif_sql import Pending
from cabtui.sources.common import (
    When,
    cast_start,
    iso,
    ms_between,
    obj,
    phase_inside,
    span_id,
)
from cabtui.sources.harbor_running import RUNNING, complete_json
from cabtui.sources.out import Out

if TYPE_CHECKING:
    from cabtui.sources.harbor import Trial

PHASES = ("environment_setup", "agent_setup", "agent_execution", "verifier")


def trial_spans(
    t: Trial,
    t0: When,
    finished: When | None,
    phases: dict[str, tuple[When | None, When | None]],
    ar: dict[str, Any],
    out: Out,
    label: str,
    label_of: Callable[[Path], str],
    later: list[Pending] | None = None,
) -> None:
    """The spans of trial ``t``; its trajectory's are written now, or given to ``later`` to be
    read with others (cabtui.sources.atif_sql)."""
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
    latencies = obj(ar.get("metadata")).get("api_request_times_msec")
    lat = (
        [float(x) for x in latencies if isinstance(x, (int, float))]
        if isinstance(latencies, list)
        else []
    )
    traj = t.dir / "agent" / "trajectory.json"
    if traj.is_file() and not (t.result.get(RUNNING) and not complete_json(traj)):
        p = Pending(
            cell, traj, label, agent_parent, agent_start, t0, lat,
            out.span_seq.get(cell, 0), out.call_seq.get(cell, 0),
        )  # fmt: skip
        if later is None:
            walk(p, out, label_of)
        else:
            later.append(p)


def walk(p: Pending, out: Out, label_of: Callable[[Path], str]) -> None:
    """The spans and model calls of a trial's trajectory, walked in Python."""
    w = Walk(out, p.cell_id, p.t0, p.latencies)
    walk_trajectory(w, p.path, label_of, p.parent, p.start_ms)
    if w.untimed:
        out.problem(label_of(p.path), "steps have no timestamps: shown in order, 1 s apart")
