"""Text for the replay's side panels: the current span's attrs and the current model call's
prompt and completion. Secrets are masked and every string goes through safe()."""

from __future__ import annotations

import json
from typing import Any

from rich.style import Style
from rich.text import Text

from cabtui.replay.clock import fmt_ms
from cabtui.replay.spans import Call, Span
from cabtui.secrets import mask
from cabtui.text import safe, shown
from cabtui.ui.widgets.waterfall import kind_style


def _value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)


def _lines(text: str) -> str:
    """``text`` made safe line by line: its line breaks stay line breaks (every other control
    character is replaced)."""
    return "\n".join(safe(line) for line in text.replace("\r\n", "\n").split("\n"))


def span_text(span: Span | None) -> Text:
    if span is None:
        return Text("No span at this moment.", style="dim")
    out = Text(end="")
    out.append(f"{shown(span.kind)} ", kind_style(span) + Style(bold=True))
    out.append(shown(span.name), "bold")
    out.append(f"\nstart {fmt_ms(span.start_ms)}  duration {fmt_ms(span.duration_ms)}", "dim")
    if span.error:
        out.append(f"\nerror: {safe(_value(mask(span.error)))}", "bold red")
    for key, value in span.attrs.items():
        if value is None:  # the store gives every run's attr keys; unset ones are None
            continue
        if not (isinstance(value, (int, float)) and not isinstance(value, bool)):
            value = mask(value, str(key))  # counts like prompt_tokens are not secrets
        out.append(f"\n{safe(str(key))}: ", "cyan")
        out.append(_lines(_value(value)))
    return out


def _content(content: Any) -> str:
    if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
        return "\n".join(
            str(p.get("text", _value(p))) if isinstance(p, dict) else _value(p) for p in content
        )
    return _value(content)


def _messages(out: Text, prompt: Any) -> None:
    if isinstance(prompt, list):
        for m in prompt:
            if isinstance(m, dict):
                out.append(f"\n{safe(str(m.get('role', '?')))}: ", "bold magenta")
                out.append(_lines(_content(mask(m.get("content")))))
            else:
                out.append("\n" + safe(_value(mask(m))))
    elif prompt is None:
        out.append("\n(not recorded)", "dim")
    elif isinstance(prompt, dict) and "message" in prompt:  # an ATIF step's completion
        for key in ("reasoning", "message"):
            if prompt.get(key):
                out.append(f"\n{key}: ", "bold magenta")
                out.append(_lines(_content(mask(prompt[key]))))
        for call in prompt.get("tool_calls") or []:
            if isinstance(call, dict):
                out.append(f"\ntool {safe(str(call.get('function_name')))}: ", "bold cyan")
                out.append(_lines(_value(mask(call.get("arguments")))))
    else:
        out.append("\n" + _lines(_value(mask(prompt))))


def call_text(call: Call | None) -> Text:
    if call is None:
        return Text("No model call before this moment.", style="dim")
    raw = call.raw
    out = Text(end="")
    out.append(f"model call #{call.seq}", "bold medium_purple")
    out.append(
        f"  at {fmt_ms(call.start_ms)}  latency {fmt_ms(call.latency_ms)}"
        f"  tokens {raw.get('prompt_tokens')}/{raw.get('completion_tokens')}"
        f"  finish {safe(str(raw.get('finish_reason')))}",
        "dim",
    )
    out.append("\n\nPROMPT", "bold underline")
    _messages(out, raw.get("prompt"))
    out.append("\n\nCOMPLETION", "bold underline")
    _messages(out, raw.get("completion"))
    return out
