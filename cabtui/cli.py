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


# -- replay ------------------------------------------------------------------------------------
@app.command()
def frame(
    path: Path = typer.Argument(..., help="A recording.cast[.gz], or a sweep dir."),  # noqa: B008
    cell_id: str | None = typer.Argument(None, help="The run's cell_id, with a sweep dir."),
    at: float = typer.Option(..., "--at", help="Seconds into the recording."),
    fmt: str = typer.Option("text", "--format", help="text or svg."),
) -> None:
    """Print the terminal screen of a recording at one moment."""
    from cabtui.replay.frame import run

    raise typer.Exit(run(path, cell_id, at, fmt))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
