"""The load problems of a sweep: one line each, ``file:line: reason``, made safe to print."""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual.containers import VerticalScroll
from textual.widgets import Static

from cabtui.sweep.problems import Problem
from cabtui.text import shown


def problem_lines(problems: Sequence[Problem]) -> Text:
    out = Text()
    n = len(problems)
    out.append(f"{n} load problem{'s' if n != 1 else ''}", style="bold yellow")
    out.append("  (P hides this panel)\n", style="dim")
    for p in problems:
        where = shown(p.file) + (f":{p.line}" if p.line is not None else "")
        out.append(where, style="cyan")
        out.append(": " + shown(p.reason) + "\n")
    out.rstrip()
    return out


class ProblemsPanel(VerticalScroll):
    DEFAULT_CSS = """
    ProblemsPanel { height: auto; max-height: 8; }
    ProblemsPanel > Static { height: auto; }
    """

    def __init__(self, id: str | None = None) -> None:
        super().__init__(Static(id="problems-text"), id=id)
        self.problems: tuple[Problem, ...] = ()

    def show_problems(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        self.query_one("#problems-text", Static).update(problem_lines(self.problems))
