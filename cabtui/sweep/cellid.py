"""Parse a cell_id into its parts.

``<sweep_id>/<tui>/<model_build_id>/<task_id>[#run<N>]`` where model_build_id and task_id each
hold exactly one slash (``meta/llama-4-maverick``, ``mutations/rust-error-negated``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_RUN = re.compile(r"#run(\d+)$")


@dataclass(frozen=True, slots=True)
class CellId:
    sweep_id: str
    tui: str
    model: str
    task_id: str
    run: int

    @property
    def family(self) -> str:
        return self.task_id.split("/", 1)[0]

    @property
    def cell(self) -> str:
        """The cell this run belongs to: the cell_id without its ``#run<N>`` suffix."""
        return f"{self.sweep_id}/{self.tui}/{self.model}/{self.task_id}"

    def __str__(self) -> str:
        return self.cell if self.run == 1 else f"{self.cell}#run{self.run}"


def parse_cell_id(text: str) -> CellId:
    """Parse ``text``; raise ValueError naming what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"cell_id must be a string, not {type(text).__name__}")
    body, run = text, 1
    m = _RUN.search(text)
    if m:
        body, run = text[: m.start()], int(m.group(1))
        if run < 1:
            raise ValueError(f"run number must be 1 or more in {text!r}")
    elif "#" in text:
        raise ValueError(f"bad run suffix in {text!r} (expected #run<N>)")
    parts = body.split("/")
    if len(parts) != 6:
        raise ValueError(
            f"cell_id {text!r} has {len(parts)} parts; expected "
            "<sweep_id>/<tui>/<vendor>/<model>/<family>/<task>[#run<N>]"
        )
    if any(p == "" or p.strip() != p for p in parts):
        raise ValueError(f"cell_id {text!r} has an empty or padded part")
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"cell_id {text!r} has a '.' or '..' part")
    sweep_id, tui, vendor, model, family, task = parts
    return CellId(sweep_id, tui, f"{vendor}/{model}", f"{family}/{task}", run)
