"""The sections of a run's detail page as rich renderables, from the loaded
:class:`~cabtui.store.detail.DetailData`: the status line, the identity rows, the terminal
captures, the scorer breakdown and the test-output tails. No Textual here; every string from
the data is masked unless ``reveal`` and made safe to print."""

from __future__ import annotations

from typing import Any

from rich.console import Group
from rich.text import Text

from cabtui.replay.tail import tail_text
from cabtui.secrets import mask_text
from cabtui.store.detail import TAIL_KEYS, DetailData, carried, duration, scorer_rows, tokens_line
from cabtui.text import mask_rich, safe, shown
from cabtui.ui.widgets.kv import kv_table, masked, value_text


def _missing_text(value: Any) -> bool:
    return isinstance(value, Text) and value.plain == "not recorded"


def status_text(data: DetailData, reveal: bool) -> Text:
    """The verdict, the run's CLI, model, task and rerun, and what is unusual about it."""
    run = data.run
    verdict = run.get("pass")
    out = Text()
    if verdict is None:
        out.append(" PASS: not recorded ", style="bold reverse")
    elif verdict >= 1:
        out.append(" PASS ", style="bold black on green")
    else:
        out.append(" FAIL ", style="bold white on red")
    out.append(
        f"  {shown(str(run.get('tui')), reveal)} × {shown(str(run.get('model')), reveal)}  ·  "
    )
    out.append(f"{shown(str(run.get('task_id')), reveal)}  ·  run {run.get('run')}")
    if run.get("timed_out"):
        out.append("  TIMED OUT", style="bold red")
    if data.what_if is not None:
        out.append("  (what-if weights)", style="bold yellow")
    if reveal:
        out.append("  SECRETS SHOWN", style="bold red")
    return out


def identity_rows(run: dict[str, Any], reveal: bool) -> list[tuple[str, Any, str]]:
    """(key, value, note) of the run's identity, then the keys of ``extra``."""

    def rec(v: Any) -> Any:
        return Text("not recorded", style="dim italic") if v is None else masked(v, reveal)

    tokens = tokens_line(run)
    cab = run.get("source") in (None, "cab")
    rows: list[tuple[str, Any, str]] = []
    if not cab:  # what another harness records of a run, where it records it
        for key, label in (
            ("source", "source"), ("status", "status"), ("agent_version", "agent version"),
            ("task_version", "task version"), ("cost_usd", "cost (USD)"),
            ("cache_tokens", "cache tokens"), ("agent_ms", "agent time (ms)"),
        ):  # fmt: skip
            if run.get(key) is not None:
                rows.append((label, rec(run[key]), ""))
    rows += [
        ("sweep_id", rec(run.get("sweep_id")), ""),
        ("container_image", rec(run.get("container_image")), ""),
        ("image_digest", rec(run.get("image_digest")), ""),
        ("model_build_id", rec(run.get("model_build_id") or run.get("model")), ""),
        ("exit_code (CLI)", rec(run.get("exit_code")), ""),
        ("exit_code (grader)", rec(run.get("grader_exit_code")), ""),
        ("started_at", rec(run.get("started_at") and str(run["started_at"])), ""),
        ("ended_at", rec(run.get("ended_at") and str(run["ended_at"])), ""),
        ("duration", duration(run.get("duration_ms")), ""),
        (
            "tokens",
            Text("not recorded", style="dim italic") if tokens is None else rec(tokens),
            "",
        ),
    ]
    if not cab:
        rows = [r for r in rows if not _missing_text(r[1])]
    for key, value in (run.get("extra") or {}).items():
        if key in ("panes", "tests") or (not cab and str(key).startswith("scores.")):
            continue  # shown as captures and in the scorer breakdown
        rows.append((str(key), masked(value, reveal), "unknown key" if cab else ""))
    tests = (run.get("extra") or {}).get("tests")
    if isinstance(tests, list):
        verdicts = Text()
        for t in tests[:200]:
            if isinstance(t, dict):
                ok = t.get("verdict") == "passed"
                verdicts.append("✓ " if ok else "✗ ", style="green" if ok else "red")
                verdicts.append(shown(str(t.get("name")), reveal) + "\n")
        rows.append(("tests", verdicts, ""))
    return rows


def panes_renderable(run: dict[str, Any], reveal: bool) -> Text | None:
    """Terminal captures another harness saved (Harbor's agent/*.pane, Terminal-Bench's
    panes/*.txt), each under its name, through the terminal engine like the tails."""
    panes = (run.get("extra") or {}).get("panes")
    if not isinstance(panes, list) or not panes:
        return None
    out = Text()
    for p in panes:
        if not isinstance(p, dict):
            continue
        out.append(shown(str(p.get("name")), reveal) + "\n", style="bold")
        text = p.get("text")
        raw = text if isinstance(text, str) else ""
        raw = raw.lstrip("\n")  # captures of a tall pane start with its empty rows
        out.append_text(mask_rich(tail_text(raw if reveal else mask_text(raw)), reveal))
        out.append("\n")
    return out


def scores_renderable(data: DetailData, reveal: bool) -> Group:
    """The scorer breakdown: each axis over its keys (a test tail: how many lines)."""
    parts: list[Any] = []
    cab = data.run.get("source") in (None, "cab")
    scores = data.scores if cab else carried(data.scores)
    for axis, rows in scorer_rows(scores).items():
        parts.append(Text(safe(axis), style="bold underline"))
        keys: list[tuple[str, Any, str]] = []
        for key, value, unknown in rows:
            if axis == "pass_rate" and key in TAIL_KEYS and value:
                lines = value.count("\n") + 1
                value = Text(f"{lines} lines, shown below", style="dim italic")
            else:
                value = masked(value, reveal)
            keys.append(
                (
                    key,
                    value if isinstance(value, Text) else value_text(value),
                    "unknown key" if unknown and cab else "",
                )
            )
        parts.append(kv_table(keys))
    return Group(*parts)


def tail_renderable(run: dict[str, Any], key: str, reveal: bool) -> Text:
    """The test output ``key`` (stdout_tail, stderr_tail) through the terminal engine."""
    raw = run.get(key)
    # tail_text consumes escapes itself (colours kept): mask only, safe() would eat them;
    # masked again once rendered (a secret drawn in pieces, or behind colour codes)
    out = mask_rich(tail_text((raw if reveal else mask_text(raw)) if raw else None), reveal)
    empty = Text("(empty)" if run.get(key) == "" else "not recorded", style="dim italic")
    return out if out.plain else empty
