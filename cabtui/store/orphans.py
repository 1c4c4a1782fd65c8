"""The problems of spans and model calls whose cell_ids have no run: one per file, with their
number, counted from the counts table (cabtui.store.tables)."""

from __future__ import annotations

import duckdb

ORPHANS = "for cell_ids with no run record; kept but not shown"


def orphan_problems(con: duckdb.DuckDBPyConnection) -> None:
    """One problem per file of spans or model calls whose cell_ids have no run (replacing
    those of an earlier read)."""
    con.execute("DELETE FROM problems WHERE line IS NULL AND suffix(reason, ?)", [ORPHANS])
    unknown = con.execute(
        "SELECT what, source_file, sum(n) FROM counts WHERE cell_id NOT IN "
        "(SELECT cell_id FROM runs) GROUP BY ALL ORDER BY ALL"
    ).fetchall()
    for what, file, n in unknown:
        con.execute(
            "INSERT INTO problems VALUES (?, NULL, ?)",
            [file or "runs/", f"{n} {what} {ORPHANS}"],
        )


def update_orphans(con: duckdb.DuckDBPyConnection, gone: set[str]) -> None:
    """The problems of spans and model calls whose runs are unknown, updated by the runs whose
    counts changed (delta), were added (runs_stage) or were taken back: their share of each
    file's total before is taken off and their share now added."""
    con.execute(
        "CREATE TEMP TABLE x AS SELECT DISTINCT cell_id FROM (SELECT cell_id FROM delta "
        "UNION ALL SELECT cell_id FROM runs_stage UNION ALL SELECT unnest(?::VARCHAR[]))",
        [sorted(gone)],
    )
    con.execute(
        "CREATE TEMP TABLE x_run AS SELECT cell_id FROM runs WHERE cell_id IN (SELECT cell_id FROM x)"
    )
    # runs before = runs now less those added, and those taken back
    con.execute(
        "CREATE TEMP TABLE x_was AS SELECT cell_id FROM x WHERE cell_id IN (SELECT unnest(?::VARCHAR[])) "
        "OR (cell_id IN (SELECT cell_id FROM x_run) AND cell_id NOT IN (SELECT cell_id FROM runs_stage))",
        [sorted(gone)],
    )
    part = (
        "SELECT what, source_file, CAST(sum(n) AS BIGINT) FROM {t} WHERE cell_id IN "
        "(SELECT cell_id FROM x WHERE cell_id NOT IN (SELECT cell_id FROM {runs})) GROUP BY ALL"
    )
    now = con.execute(part.format(t="counts", runs="x_run")).fetchall()
    was_counts = con.execute(part.format(t="counts", runs="x_was")).fetchall()
    was_delta = con.execute(part.format(t="delta", runs="x_was")).fetchall()
    totals: dict[tuple[str, str], int] = {}
    for file, reason in con.execute(
        "SELECT file, reason FROM problems WHERE line IS NULL AND suffix(reason, ?)",
        [ORPHANS],
    ).fetchall():
        n, _, rest = reason.partition(" ")
        totals[(rest.removesuffix(f" {ORPHANS}"), file)] = int(n)
    for rows, sign in ((now, 1), (was_counts, -1), (was_delta, 1)):
        for what, file, n in rows:
            key = (what, file or "runs/")
            totals[key] = totals.get(key, 0) + sign * int(n)
    con.execute("DELETE FROM problems WHERE line IS NULL AND suffix(reason, ?)", [ORPHANS])
    for (what, file), n in sorted(totals.items()):
        if n:
            con.execute("INSERT INTO problems VALUES (?, NULL, ?)", [file, f"{n} {what} {ORPHANS}"])
