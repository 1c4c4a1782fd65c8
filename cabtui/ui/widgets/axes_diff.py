"""Renderables of a run (or cell) diff from :mod:`cabtui.compare.diff`: identities with their
differences highlighted, per-axis values with the delta coloured by the better side, the
composite's components side by side, the test-output tail diffs, the blast-radius file sets and
the model calls. Every string from a sweep goes through ``safe()`` into a rich Text."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from cabtui.replay.render import safe

A_STYLE, B_STYLE = "bold cyan", "bold magenta"
SKIP_AXES = {"stdout_tail", "stderr_tail"}  # shown as diffs below, not as values


def fmt(v: Any) -> str:
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.3g}" if abs(v) < 1e3 else f"{v:,.0f}"
    if isinstance(v, (list, tuple)):
        return f"[{len(v)}]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}={fmt(x)}" for k, x in v.items() if k != "source") + "}"
    return str(v)


def _cell(v: Any, width: int = 40) -> Text:
    s = safe(fmt(v))
    return Text(s if len(s) <= width else s[: width - 1] + "…")


def _delta(row: dict[str, Any]) -> Text:
    d = row.get("delta")
    if d is None:
        return Text("")
    better = row.get("better")
    style = "green" if better == "a" else "red" if better == "b" else "dim"
    return Text(f"{d:+.4g}", style=style)


def _table(title: str) -> Table:
    t = Table(title=title, title_justify="left", expand=True, box=None, padding=(0, 1),
              title_style="bold")  # fmt: skip
    return t


def identity_table(diff: dict[str, Any]) -> Table:
    """Both sides' identity, the keys that differ in bold yellow."""
    t = _table("identity")
    t.add_column("key", style="dim", no_wrap=True, min_width=16)
    t.add_column("A", style="cyan", overflow="ellipsis", no_wrap=True, ratio=1)
    t.add_column("B", style="magenta", overflow="ellipsis", no_wrap=True, ratio=1)
    differs = set(diff.get("identity_diff", []))
    for key, a in diff["a"].items():
        if key in ("cell_id", "cell", "runs"):
            continue
        b = diff["b"].get(key)
        style = "bold yellow" if key in differs else ""
        t.add_row(Text(key, style=style), _cell(a), _cell(b))
    return t


def axes_table(diff: dict[str, Any]) -> Table:
    """Scorer keys: A, B and a - b, green when A is better, red when B is."""
    t = _table("axes (Δ = A − B, green: A better, red: B better)")
    t.add_column("axis", style="dim", no_wrap=True, max_width=8)
    t.add_column("key", style="dim", no_wrap=True, min_width=12, max_width=20)
    t.add_column("A", justify="right", no_wrap=True, max_width=10)
    t.add_column("B", justify="right", no_wrap=True, max_width=10)
    t.add_column("Δ", justify="right", no_wrap=True, min_width=7)
    for row in diff["axes"]:
        if row["key"] in SKIP_AXES:
            continue
        a, b = row["a"], row["b"]
        if isinstance(a, dict) and "mean" in a:  # a cell diff: mean [lo, hi] (n)
            a, b = _interval(a), _interval(b)
        else:
            a, b = _cell(a, 18), _cell(b, 18)
        t.add_row(row["axis"], row["key"], a, b, _delta(row))
    return t


def _interval(s: dict[str, Any]) -> Text:
    if s.get("mean") is None:
        return Text("—")
    return Text(f"{s['mean']:.3g} [{fmt(s.get('lo'))}, {fmt(s.get('hi'))}] n={s.get('n')}")


def composite_table(diff: dict[str, Any]) -> Table:
    """The composite's components: each input in [0, 1] and its weighted contribution."""
    t = _table("composite components")
    t.add_column("component", style="dim", no_wrap=True, min_width=14)
    for name in ("in A", "in B", "A", "B", "Δ"):
        t.add_column(name, justify="right", no_wrap=True)
    for row in diff.get("composite", []):
        t.add_row(row["component"], _cell(row["input_a"]), _cell(row["input_b"]),
                  _cell(row["a"]), _cell(row["b"]), _delta(row))  # fmt: skip
    return t


def tail_text(lines: list[str]) -> Text:
    """A unified diff, + lines green and - lines red (lines already made safe)."""
    if not lines:
        return Text("  (no difference)", style="dim")
    out = Text()
    for line in lines:
        style = ""
        if line.startswith(("+++", "---")):
            style = "bold"
        elif line.startswith("+"):
            style = "green"
        elif line.startswith("-"):
            style = "red"
        elif line.startswith("@@"):
            style = "cyan"
        out.append(safe(line) + "\n", style=style)
    return out


def files_table(files: dict[str, Any]) -> Table:
    """Each blast-radius file set as only in A / only in B / both."""
    t = _table("blast radius: file sets")
    t.add_column("set", style="dim", no_wrap=True)
    t.add_column("only in A", style="cyan")
    t.add_column("only in B", style="magenta")
    t.add_column("both")
    for name, s in files.items():

        def col(key: str, missing: bool) -> Text:
            if missing:
                return Text("(not recorded)", style="dim")
            return Text("\n".join(safe(f) for f in s[key]) or "—")

        t.add_row(name, col("only_a", s["missing_a"]), col("only_b", s["missing_b"]),
                  col("both", s["missing_a"] and s["missing_b"]))  # fmt: skip
    return t


def calls_table(calls: dict[str, Any]) -> Table:
    t = _table("model calls and tokens")
    t.add_column("", style="dim")
    t.add_column("A", justify="right", style="cyan")
    t.add_column("B", justify="right", style="magenta")
    for key in ("n", "prompt_tokens", "completion_tokens", "latency_ms"):
        t.add_row(key, _cell(calls["a"].get(key)), _cell(calls["b"].get(key)))
    return t


def diffs(diff: dict[str, Any]) -> RenderableType:
    """The diffs section: tails, file sets, model calls."""
    parts: list[RenderableType] = []
    for name, lines in diff.get("tails", {}).items():
        parts.append(Text(f"{name} (- A, + B)", style="bold"))
        parts.append(tail_text(lines))
    parts.append(files_table(diff["files"]))
    parts.append(Text(""))
    parts.append(calls_table(diff["model_calls"]))
    return Group(*parts)
