"""The cab-tui command line. Textual is imported lazily, inside the commands that open the UI."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

app = typer.Typer(
    help="cabtui: browse, replay and compare CodingAgentBench sweeps.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sweeps"


# Commands of each area are added below, one block per area.


def main() -> None:
    app()


if __name__ == "__main__":
    main()
