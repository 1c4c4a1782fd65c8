"""The events of an Inspect sample as cabtui spans and model calls. No Textual here.

``span_begin``/``span_end`` (and the ``step`` begin/end of older logs) give the span tree; a
``model`` event is a model call (input messages, output, tokens, from its timestamp to its
``completed``); a ``tool`` event a tool call span with its arguments, result and error; a
``subtask`` a span around its own events. Sandbox, approval, error, score, info, limit, logger
and input events are markers: spans of no duration, kind ``marker``. Start times are ms from
the sample's start.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cabtui.sources.common import TEXT_CHARS, arr, clip, obj, span_id
from cabtui.sources.out import Out

SILENT = {"sample_init", "state", "store", "anchor", "sentinel", "branch", "checkpoint", "pool"}
MARKERS = {
    "sandbox", "approval", "error", "score", "info", "sample_limit", "logger", "input",
    "score_edit", "review", "interrupt", "compaction",
}  # fmt: skip
MAX_DEPTH = 64  # nested tool and subtask events


def _ts(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.astimezone()
    return dt.timestamp()


def _content(content: Any, attachments: dict[str, str]) -> str:
    if isinstance(content, str):
        if content.startswith("attachment://"):
            return attachments.get(content[13:], content)
        return content
    if isinstance(content, list):
        parts = []
        for c in content:
            if not isinstance(c, dict):
                continue
            t = c.get("type")
            if t == "text":
                parts.append(_content(c.get("text"), attachments))
            elif t == "reasoning":
                parts.append(
                    "[reasoning] " + _content(c.get("reasoning") or c.get("summary"), attachments)
                )
            else:
                parts.append(f"[{t}]")
        return "\n".join(p for p in parts if p)
    return "" if content is None else str(content)


def _calls(calls: Any) -> list[dict[str, Any]]:
    return [
        {"function": str(c.get("function")),
         "arguments": clip(json.dumps(c.get("arguments"), default=str), 4000)}
        for c in calls or [] if isinstance(c, dict)
    ]  # fmt: skip


def render_messages(messages: list[Any], attachments: dict[str, str]) -> str:
    out = []
    for m in messages:
        if not isinstance(m, dict):
            continue
        text = _content(m.get("content"), attachments)
        for c in _calls(m.get("tool_calls")):
            text += f"\n-> {c['function']}({c['arguments']})"
        out.append(f"{m.get('role', '?')}: {text}")
    return "\n\n".join(out)


def _last_chars(text: str, limit: int = TEXT_CHARS) -> str:
    if len(text) > limit:
        return f"(… {len(text) - limit:,} characters before) " + text[-limit:]
    return text


@dataclass
class Walk:
    out: Out
    cell: str
    t0: float  # the sample's start, Unix seconds
    attachments: dict[str, str]
    events_data: Any
    unknown: set[str]
    seq: int = 0
    n: int = 0
    root_id: str = ""
    end_ms: float | None = None
    ids: dict[str, str] = field(default_factory=dict)  # Inspect span id -> ours
    open: dict[str, tuple[str, str, float | None, str, str]] = field(default_factory=dict)
    steps: list[tuple[str, str, str, float | None, str, str]] = field(default_factory=list)
    # a tool event inside its own "tool" span: its arguments and result go on that span
    merged: dict[str, tuple[dict[str, Any], Any]] = field(default_factory=dict)

    def ms(self, value: Any) -> float | None:
        t = _ts(value)
        return None if t is None else (t - self.t0) * 1000.0

    def new_id(self, *parts: Any) -> str:
        self.n += 1
        return span_id(self.cell, self.n, *parts)

    def root(self, name: str, wall: float | None) -> None:
        self.root_id = span_id(self.cell, "sample")
        self.end_ms = wall
        self.out.span(self.cell, self.root_id, None, "sample", name, 0.0, wall)

    def close(self) -> None:
        """Spans never ended (a sample cut short) end with the sample."""
        for sid, parent, start, kind, name in list(self.open.values()) + [
            s[1:] for s in self.steps
        ]:
            dur = None if start is None or self.end_ms is None else max(0.0, self.end_ms - start)
            self.out.span(self.cell, sid, parent, kind, name, start, dur, {"unfinished": True})
        self.open.clear()
        self.steps.clear()


def _input(w: Walk, ev: dict[str, Any]) -> list[Any]:
    msgs = arr(ev.get("input"))
    refs = ev.get("input_refs")
    pool = w.events_data.get("messages") if isinstance(w.events_data, dict) else None
    if not msgs and isinstance(refs, list) and isinstance(pool, list):
        msgs = []
        for r in refs:
            if isinstance(r, list) and len(r) == 2 and all(isinstance(i, int) for i in r):
                msgs.extend(pool[r[0] : r[1]])
    return msgs


def _model(w: Walk, ev: dict[str, Any], parent: str) -> None:
    w.seq += 1
    start = w.ms(ev.get("timestamp"))
    output = obj(ev.get("output"))
    end = w.ms(ev.get("completed"))
    latency = end - start if end is not None and start is not None and end >= start else None
    if latency is None and isinstance(output.get("time"), (int, float)):
        latency = float(output["time"]) * 1000.0
    usage = obj(output.get("usage"))
    choices = arr(output.get("choices"))
    first = choices[0] if choices and isinstance(choices[0], dict) else {}
    message = obj(first.get("message"))
    stop = first.get("stop_reason")
    model = str(ev.get("model") or output.get("model") or "model")
    completion = {
        "message": clip(_content(message.get("content"), w.attachments)),
        "tool_calls": _calls(message.get("tool_calls")),
        "stop_reason": stop,
    }
    prompt_tokens, completion_tokens = usage.get("input_tokens"), usage.get("output_tokens")
    w.out.span(
        w.cell, w.new_id("model"), parent, "model_call", f"{model} #{w.seq}", start, latency,
        {"seq": w.seq, "model": model, "prompt_tokens": prompt_tokens,
         "completion_tokens": completion_tokens,
         "cache_read_tokens": usage.get("input_tokens_cache_read"),
         "retries": ev.get("retries"), "cache": ev.get("cache")},
        ev.get("error"),
    )  # fmt: skip
    w.out.call({
        "cell_id": w.cell, "seq": w.seq, "timestamp": ev.get("timestamp"),
        "prompt": _last_chars(render_messages(_input(w, ev), w.attachments)),
        "completion": completion, "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens, "latency_ms": latency, "finish_reason": stop,
    })  # fmt: skip


def _marker(w: Walk, kind: str, ev: dict[str, Any], parent: str) -> None:
    at = w.ms(ev.get("timestamp"))
    attrs: dict[str, Any] = {"event": kind}
    if kind == "sandbox":
        what = ev.get("cmd") or ev.get("file") or ""
        name = (
            f"sandbox {ev.get('action')}: {str(what).strip().splitlines()[0][:80] if what else ''}"
        )
        attrs |= {"action": ev.get("action"), "cmd": clip(ev.get("cmd"), 2000),
                  "file": ev.get("file"), "result": ev.get("result"),
                  "output": clip(ev.get("output"), 2000), "completed": ev.get("completed")}  # fmt: skip
    elif kind == "score":
        sc = obj(ev.get("score"))
        name = f"score {ev.get('scorer') or ''}: {json.dumps(sc.get('value'), default=str)[:60]}"
        attrs |= {"value": json.dumps(sc.get("value"), default=str), "answer": clip(sc.get("answer"), 2000),
                  "explanation": clip(sc.get("explanation"), 2000),
                  "intermediate": ev.get("intermediate")}  # fmt: skip
    elif kind == "error":
        err = obj(ev.get("error"))
        name = f"error: {str(err.get('message') or '')[:80]}"
        attrs |= {
            "message": clip(err.get("message"), 4000),
            "traceback": clip(err.get("traceback"), 8000),
        }
    elif kind == "sample_limit":
        name = f"limit {ev.get('type')}: {str(ev.get('message') or '')[:80]}"
        attrs |= {"type": ev.get("type"), "limit": ev.get("limit"), "message": ev.get("message")}
    elif kind == "approval":
        name = f"approval {ev.get('decision')} ({ev.get('approver')})"
        attrs |= {k: clip(json.dumps(ev.get(k), default=str), 2000)
                  for k in ("decision", "approver", "explanation", "call")}  # fmt: skip
    elif kind == "logger":
        msg = obj(ev.get("message"))
        name = f"log {msg.get('level')}: {str(msg.get('message') or '')[:80]}"
        attrs |= {"message": clip(msg.get("message"), 2000), "level": msg.get("level")}
    else:
        name = f"{kind}: {str(ev.get('source') or ev.get('name') or '')[:80]}".rstrip(": ")
        body = {k: v for k, v in ev.items()
                if k not in ("event", "uuid", "span_id", "timestamp", "working_start", "metadata", "pending")}  # fmt: skip
        attrs["data"] = clip(json.dumps(body, default=str), 4000)
    w.out.span(w.cell, w.new_id(kind), parent, "marker", name, at, 0.0, attrs)


def walk(w: Walk, events: list[Any], default: str | None = None, depth: int = 0) -> None:
    """Spans and model calls of ``events`` (``default``: the parent of events outside any span)."""
    base = default or w.root_id
    for ev in events:
        if not isinstance(ev, dict):
            continue
        kind = ev.get("event")
        owner = ev.get("span_id")
        parent = w.ids.get(owner, base) if isinstance(owner, str) else base
        if kind == "span_begin":
            iid = str(ev.get("id"))
            pid = ev.get("parent_id")
            p = w.ids.get(pid, base) if isinstance(pid, str) else base
            sid = w.new_id("span", iid)
            w.ids[iid] = sid
            w.open[iid] = (sid, p, w.ms(ev.get("timestamp")), str(ev.get("type") or "span"),
                           str(ev.get("name") or ev.get("type") or "span"))  # fmt: skip
        elif kind == "span_end":
            got = w.open.pop(str(ev.get("id")), None)
            if got:
                sid, p, start, k, name = got
                end = w.ms(ev.get("timestamp"))
                dur = end - start if end is not None and start is not None else None
                attrs, error = w.merged.pop(str(ev.get("id")), ({}, None))
                w.out.span(w.cell, sid, p, k, name, start, dur, attrs or None, error)
        elif kind == "step":  # older logs: begin/end pairs instead of spans
            name, typ = str(ev.get("name") or "step"), str(ev.get("type") or "step")
            if ev.get("action") == "begin":
                p = w.steps[-1][1] if w.steps else parent
                w.steps.append(
                    (name, w.new_id("step", name), p, w.ms(ev.get("timestamp")), typ, name)
                )
            else:
                for i in range(len(w.steps) - 1, -1, -1):
                    if w.steps[i][0] == name:
                        _, sid, p, start, k, nm = w.steps.pop(i)
                        end = w.ms(ev.get("timestamp"))
                        dur = end - start if end is not None and start is not None else None
                        w.out.span(w.cell, sid, p, k, nm, start, dur)
                        break
        elif kind == "model":
            _model(w, ev, w.steps[-1][1] if w.steps and owner is None else parent)
        elif kind in ("tool", "subtask"):
            start, end = w.ms(ev.get("timestamp")), w.ms(ev.get("completed"))
            dur = end - start if end is not None and start is not None and end >= start else None
            sid = w.new_id(kind)
            if kind == "tool":
                name = str(ev.get("function") or "tool")
                attrs = {"id": ev.get("id"),
                         "arguments": clip(json.dumps(ev.get("arguments"), default=str), 4000),
                         "result": clip(_content(ev.get("result"), w.attachments), 4000),
                         "working_time": ev.get("working_time")}  # fmt: skip
            else:
                name = f"subtask {ev.get('name')}"
                attrs = {"input": clip(json.dumps(ev.get("input"), default=str), 4000),
                         "result": clip(json.dumps(ev.get("result"), default=str), 4000)}  # fmt: skip
            p = w.steps[-1][1] if w.steps and owner is None else parent
            span = w.open.get(owner) if isinstance(owner, str) else None
            if kind == "tool" and span is not None and span[3] == "tool" and span[4] == name:
                w.merged[str(owner)] = (attrs, ev.get("error"))  # one span for one tool call
                sid = span[0]
            else:
                w.out.span(w.cell, sid, p, "tool_call" if kind == "tool" else "subtask", name,
                           start, dur, attrs, ev.get("error"))  # fmt: skip
            inner = ev.get("events")
            if isinstance(inner, list) and inner and depth < MAX_DEPTH:
                walk(w, inner, sid, depth + 1)
        elif kind in MARKERS:
            _marker(w, kind, ev, w.steps[-1][1] if w.steps and owner is None else parent)
        elif kind not in SILENT:
            w.unknown.add(str(kind)[:60])
