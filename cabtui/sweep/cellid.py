"""Parse a cell_id into its parts.

``<sweep_id>/<tui>/<model_build_id>/<task_id>[#run<N>]`` where model_build_id and task_id each
hold exactly one slash (``meta/llama-4-maverick``, ``mutations/rust-error-negated``).
The same pattern is used by the store's SQL (RE2), so both agree on what is valid.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WS = " \t\n\r\f\v"
_PART = rf"[^/#{_WS}](?:[^/#]*[^/#{_WS}])?"
MAX_RUN = 999_999_999  # #run<N> has at most nine digits (a 32-bit integer in the store)
CELL_ID_PATTERN = rf"^{_PART}(?:/{_PART}){{5}}(?:#run[1-9][0-9]{{0,8}})?$"
RUN_SUFFIX_PATTERN = r"#run([1-9][0-9]{0,8})$"
_CELL = re.compile(CELL_ID_PATTERN)
_RUN = re.compile(RUN_SUFFIX_PATTERN)


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


def parse_cell_id(text: object) -> CellId:
    """Parse ``text``; raise ValueError saying what is wrong."""
    if not isinstance(text, str):
        raise ValueError(f"cell_id must be a string, not {type(text).__name__}")
    if re.search(r"#run[0-9]{10,}$", text):
        raise ValueError(f"bad cell_id {text!r}: run number above {MAX_RUN:,}")
    if not _CELL.match(text) or text.endswith("\n"):
        raise ValueError(
            f"bad cell_id {text!r}: expected "
            "<sweep_id>/<tui>/<vendor>/<model>/<family>/<task>[#run<N>], "
            "no empty or space-padded parts"
        )
    body, run = text, 1
    m = _RUN.search(text)
    if m:
        body, run = text[: m.start()], int(m.group(1))
    parts = body.split("/")
    if any(p in (".", "..") for p in parts):
        raise ValueError(f"bad cell_id {text!r}: a part is '.' or '..'")
    sweep_id, tui, vendor, model, family, task = parts
    return CellId(sweep_id, tui, f"{vendor}/{model}", f"{family}/{task}", run)
