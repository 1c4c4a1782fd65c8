"""The pivot's aggregates: one dimension down, one across, a row of aggregates for each cell and
for each margin (no Textual here: the heatmap widget only draws a :class:`PivotData`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cabtui.store.query import Query
from cabtui.store.store import Store

MARGIN = "mean"  # the label of the margin row and column


@dataclass
class PivotData:
    """Long-form aggregates (``cells``, one dict per row x column) and the margins, each a dict
    with n, composite_mean, pass_rate, pass_lo, pass_hi, wall_mean, blast_mean."""

    rows_dim: str
    cols_dim: str
    rows: list[Any]
    cols: list[Any]
    cells: dict[tuple[Any, Any], dict[str, Any]]
    row_margin: dict[Any, dict[str, Any]]
    col_margin: dict[Any, dict[str, Any]]
    total: int = 0
    scale: tuple[float, float] = field(default=(0.0, 1.0))

    def stats(self, row: int, col: int) -> dict[str, Any] | None:
        """The aggregate under table coordinate (row, col); margins at the last row/column."""
        r = self.rows[row] if row < len(self.rows) else MARGIN
        c = (
            self.cols[col - 1]
            if 0 < col <= len(self.cols)
            else MARGIN
            if col > len(self.cols)
            else None
        )
        if c is None:
            return None
        if r is MARGIN and c is MARGIN:
            return None
        if r is MARGIN:
            return self.col_margin.get(c)
        if c is MARGIN:
            return self.row_margin.get(r)
        return self.cells.get((r, c))


def _key(v: Any) -> tuple[bool, str]:
    return (v is None, "" if v is None else str(v))


def load_pivot(store: Store, rows: str, cols: str, q: Query) -> PivotData:
    """The pivot's aggregates; run in a worker thread."""
    cells = {(r[rows], r[cols]): r for r in store.pivot(rows, cols, q).to_pylist()}
    row_margin = {r[rows]: r for r in store.aggregate((rows,), q).to_pylist()}
    col_margin = {r[cols]: r for r in store.aggregate((cols,), q).to_pylist()}
    total = sum(int(r["n"]) for r in row_margin.values())
    return PivotData(
        rows,
        cols,
        sorted(row_margin, key=_key),
        sorted(col_margin, key=_key),
        cells,
        row_margin,
        col_margin,
        total,
    )
