"""Where an import's time goes, per 1,000 trials of the generated Harbor job of harbor_bench.py.

    .venv/bin/python bench/atif_sql_bench.py [--trials 1000] [--repeat 3]
                                             [--dir /tmp/cabtui-harbor]

Prints, as CPU seconds of this process (the least of --repeat runs, on one DuckDB thread as in
the import's worker processes):
- the Python part of the import (records, the trial's own spans) with the trajectories left out;
- each SQL statement that reads the trajectories and makes their spans and model calls
  (cabtui.sources.atif_sql), after a first run that warms the page cache.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import duckdb  # noqa: E402
from harbor_bench import generate  # noqa: E402

from cabtui.sources import atif_queries, atif_sql, harbor  # noqa: E402
from cabtui.sources import harbor_import as importer  # noqa: E402
from cabtui.sources.detect import scan  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "cabtui-harbor")
    a = ap.parse_args()
    job = generate(a.dir, max(a.trials, 1000), 50)
    found = scan(job, None)
    trials = [t for ts in harbor.find_sweeps(found.harbor, job, lambda f, w: None).values()
              for t in ts][: a.trials]  # fmt: skip
    pending: list[atif_sql.Pending] = []

    def kept(p: list[atif_sql.Pending], *args: Any) -> Any:
        pending[:] = p
        return {}, []

    importer.read_plain = kept  # the Python part alone
    python = min(_cpu(lambda: importer._import_here(trials, Path(tempfile.mkdtemp()), job))
                 for _ in range(a.repeat))  # fmt: skip
    names = ["read steps", "tools", "results", "plain check", "plain", "place", "spans", "calls"]
    best = [float("inf")] * len(names)
    out = Path(tempfile.mkdtemp())
    for _ in range(a.repeat + 1):  # (the first warms the page cache)
        con = duckdb.connect(config={"threads": 1})
        atif_sql._run(con, atif_queries.MACROS)
        con.register("pending_in", atif_sql._pending_table(pending))
        con.execute("CREATE TEMP TABLE pending AS SELECT * FROM pending_in")
        paths = {"paths": [str(p.path) for p in pending]}
        statements = [s for s in atif_queries.READ.split(";\n") if s.strip()] + [
            atif_queries.PLACE,
            atif_queries.SPANS.replace("{spans}", str(out / "s.parquet")),
            atif_queries.CALLS.replace("{calls}", str(out / "c.parquet")),
        ]
        for k, statement in enumerate(statements):
            used = _cpu(lambda: con.execute(statement, paths if "$paths" in statement else {}))
            best[k] = min(best[k], used)
        con.close()
    scale = 1000 / len(trials)
    print(f"{len(trials)} trials x 50 steps; CPU seconds per 1,000 trials, least of {a.repeat}")
    print(f"  python part (records, trial spans)   {python * scale:6.3f} s")
    for name, used in zip(names, best):
        print(f"  sql {name:<34} {used * scale:6.3f} s")
    print(f"  sql in all                           {sum(best) * scale:6.3f} s")


def _cpu(work: Any) -> float:
    c = time.process_time()
    work()
    return time.process_time() - c


if __name__ == "__main__":
    main()
