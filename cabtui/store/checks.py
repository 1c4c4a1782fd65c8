"""Checks of the runs read so far: duplicate cell ids, and values that cannot be true."""

from __future__ import annotations

import duckdb

from cabtui.store.reading import Source
from cabtui.store.schema import KEYS, q


class Checks:
    """The checking half of an ingest (its connection and where problems go)."""

    con: duckdb.DuckDBPyConnection

    def problem(self, file: str, line: int | None, reason: str) -> None:
        raise NotImplementedError

    def dedupe_runs(self, origins: dict[int, Source]) -> None:
        dups = self.con.execute(
            """SELECT cell_id, source_order, source_row, first_order, first_row FROM (
                 SELECT cell_id, source_order, source_row,
                   first_value(source_order) OVER w AS first_order,
                   first_value(source_row) OVER w AS first_row,
                   row_number() OVER w AS k
                 FROM runs_stage WINDOW w AS (PARTITION BY cell_id ORDER BY source_order, source_row))
               WHERE k > 1"""
        ).fetchall()
        for cell_id, order, row, first_order, first_row in dups:
            file, line = at(origins[order], row)
            ffile, fline = at(origins[first_order], first_row, "?")
            self.problem(
                file, line, f"duplicate cell_id {cell_id} (first at {ffile}:{fline}); skipped"
            )
        if dups:
            self.con.execute(
                """DELETE FROM runs_stage WHERE (cell_id, source_order, source_row) IN (
                     SELECT (cell_id, source_order, source_row) FROM (SELECT cell_id, source_order,
                       source_row, row_number() OVER (PARTITION BY cell_id
                       ORDER BY source_order, source_row) AS k FROM runs_stage) WHERE k > 1)"""
            )

    def check_values(self, origins: dict[int, Source]) -> None:
        """Values that cannot be true are reported and shown as missing, never scored: NaN or
        infinite numbers, negative times, counts and token figures, fractions outside [0, 1].
        A run that ends before it starts is reported (its duration is then missing)."""
        arms: list[tuple[str, str, str | None]] = []  # (condition, message SQL, column to clear)
        for key in KEYS:
            col, name = q(key.column), ".".join(key.path)
            if key.type == "DOUBLE":
                arms.append((f"NOT isfinite({col})", f"'{name} is ' || {col}", key.column))
            bounds = _BOUNDS.get(key.column)
            if bounds is not None:
                low, high = bounds
                cond = f"{col} < {low!r}" + (f" OR {col} > {high!r}" if high is not None else "")
                where = "[0, 1]" if high is not None else "0 or more"
                arms.append(
                    (
                        f"isfinite({col}) AND ({cond})" if key.type == "DOUBLE" else f"({cond})",
                        f"'{name} = ' || {col} || ' (must be {where})'",
                        key.column,
                    )
                )
        arms.append(
            (
                "ended_at < started_at",
                "'ended_at ' || ended_at || ' is before started_at ' || started_at",
                None,
            )
        )
        messages = ", ".join(f"CASE WHEN {c} THEN {m} END" for c, m, _ in arms)
        rows = self.con.execute(
            f"SELECT source_order, source_row, list_filter([{messages}], lambda x: x IS NOT NULL) "
            f"FROM runs_stage WHERE {' OR '.join(f'coalesce({c}, false)' for c, _, _ in arms)}"
        ).fetchall()
        places: dict[int, dict[int, tuple[str, int]]] = {}
        for order in {o for o, _, _ in rows}:
            base = origins[order].row_base
            places[order] = origins[order].where([r - base for o, r, _ in rows if o == order])
        for order, row, reasons in rows:
            src = origins[order]
            file, line = places[order].get(row - src.row_base, (src.label, None))
            for reason in reasons:
                shown = "; shown as missing" if "before started_at" not in reason else ""
                self.problem(file, line, reason + shown)
        if rows:
            clear: dict[str, list[str]] = {}
            for c, _, to_clear in arms:
                if to_clear is not None:
                    clear.setdefault(to_clear, []).append(f"coalesce({c}, false)")
            sets = ", ".join(
                f"{q(col)} = CASE WHEN {' OR '.join(conds)} THEN NULL ELSE {q(col)} END"
                for col, conds in clear.items()
            )
            any_bad = " OR ".join(f"coalesce({c}, false)" for c, _, col in arms if col)
            self.con.execute(f"UPDATE runs_stage SET {sets} WHERE {any_bad}")


def at(source: Source, row: int, unknown: str | None = None) -> tuple[str, int | None]:
    """(file, line) of the run at ``row`` (counted in the whole file) of ``source``."""
    rel = row - source.row_base
    return source.where([rel]).get(rel, (source.label if unknown is None else unknown, None))


# Values outside these bounds cannot be true: (low, high or None for no upper bound).
_BOUNDS: dict[str, tuple[float, float | None]] = {
    **{c: (0.0, 1.0) for c in ("pass", "partial_score", "blast_radius", "refusal", "integrity")},
    **{
        c: (0.0, None)
        for c in (
            "wall_clock_ms",
            "container_active_ms",
            "model_call_ms",
            "prompt_tokens",
            "completion_tokens",
            "scored_prompt_tokens",
            "scored_completion_tokens",
            "scored_total_tokens",
            "model_calls",
            "tokens_per_correct_task",
            "total_changes",
            "cost_usd",
            "cache_tokens",
            "agent_ms",
        )
    },
}
