"""Ingest and query figures on synthetic sweeps (issue: foundation, speed).

    .venv/bin/python bench/ingest_bench.py [--runs 100000] [--dir /tmp/cabtui-bench]

Prints: DuckDB's own read_json of results.jsonl vs cabtui's cold ingest (and their ratio); the
floor of the whole ingest, DuckDB reading the sweep's three JSON-lines files (results, spans,
model calls) each into a table of its own (``CREATE TABLE AS SELECT * FROM read_json``, into a
DuckDB file, in this process) and the ratio of the cold ingest to it; the same floor into a file
with the cache's row groups (ROW_GROUP_ROWS), and the ratio to that; warm open, grid query
medians for several filters, the median ratio of --repeat cold ingests to floors taken beside
them (this machine's figures vary from run to run), and ingest peak memory (measured in a child process); then the
same for a sweep of 1,000 runs with 2,000 spans each in per-run files.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

from cabtui.store.cache_files import ROW_GROUP_ROWS
from cabtui.store.store import Query, Store
from cabtui.sweep.synth import synth_sweep

FILTERS = [
    "",
    "tui:aider,pi",
    "pass:0 wall<30s",
    "model:*llama* -tui:copilot",
    "composite>=0.5 family:mutations",
    "rust",
]


def child_ingest(sweep: str, cache: str) -> None:
    """Run in a child process: a cold ingest; prints seconds and peak RSS."""
    os.environ["CABTUI_CACHE_DIR"] = cache
    t = time.perf_counter()
    store = Store.open(Path(sweep), refresh=True)
    took = time.perf_counter() - t
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    stages = store.report.seconds if store.report else {}
    print(json.dumps({"took": took, "peak": peak, "runs": store.total(), "stages": stages}))


def ingest_in_child(sweep: Path, cache: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(sweep), str(cache)],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(out)


def baseline(results: Path) -> float:
    with tempfile.TemporaryDirectory() as d:
        con = duckdb.connect(str(Path(d) / "t.duckdb"))
        t = time.perf_counter()
        con.execute("CREATE TABLE t AS SELECT * FROM read_json(?)", [str(results)])
        took = time.perf_counter() - t
        con.close()
    return took


def floor(sweep: Path, row_group: int | None = None) -> float:
    """DuckDB reading the sweep-level JSON-lines files, each into a table (``row_group``: into
    a file whose row groups are that size, as the cache's are; else DuckDB's default)."""
    files = [sweep / n for n in ("results.jsonl", "spans.jsonl", "model_calls.jsonl")]
    with tempfile.TemporaryDirectory() as d:
        if row_group is None:
            con = duckdb.connect(str(Path(d) / "t.duckdb"))
        else:
            con = duckdb.connect()
            con.execute(f"ATTACH '{d}/t.duckdb' AS t (ROW_GROUP_SIZE {row_group})")
            con.execute("USE t")
        t = time.perf_counter()
        for i, f in enumerate(p for p in files if p.is_file()):
            con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_json(?)", [str(f)])
        con.execute("CHECKPOINT")
        took = time.perf_counter() - t
        con.close()
    return took


def report(name: str, value: str, target: str = "", ok: bool | None = None) -> None:
    mark = "" if ok is None else ("PASS" if ok else "FAIL")
    print(f"{mark:4}  {name:44} {value:>14}  {target}")


def bench(sweep: Path, cache: Path, per_run: bool, repeat: int = 1) -> None:
    size = sum(p.stat().st_size for p in sweep.rglob("*") if p.is_file())
    print(f"\n== {sweep} ({size / 1e6:.0f} MB{', per-run files' if per_run else ''})")
    base = baseline(sweep / "results.jsonl")
    child = ingest_in_child(sweep, cache)
    cold, peak, stages = child["took"], child["peak"], child["stages"]
    report("DuckDB read_json(results.jsonl)", f"{base:.2f} s")
    report("cabtui cold ingest (whole sweep)", f"{cold:.2f} s", f"{child['runs']} runs")
    for stage, secs in stages.items():
        report(f"  stage {stage}", f"{secs:.2f} s")
    if not per_run:
        runs = stages.get("runs", cold)
        report(
            "ratio runs ingest / read_json, same file",
            f"{runs / base:.2f}x",
            "< 2x",
            runs / base < 2,
        )
        report("ratio whole-sweep ingest / read_json", f"{cold / base:.2f}x", "(spans, calls too)")
        three = floor(sweep)
        report("DuckDB read_json of the three files (floor)", f"{three:.2f} s")
        report("ratio cold ingest / floor", f"{cold / three:.2f}x", "< 1.2x", cold / three < 1.2)
        same = floor(sweep, ROW_GROUP_ROWS)
        report(f"floor, row groups of {ROW_GROUP_ROWS} rows as the cache", f"{same:.2f} s")
        report("ratio cold ingest / that floor", f"{cold / same:.2f}x", "(same layout)")
        if repeat > 1:  # the ratio again, each cold ingest beside a floor taken just after it
            ratios = [cold / three]
            for _ in range(repeat - 1):
                again = ingest_in_child(sweep, cache)["took"]
                ratios.append(again / floor(sweep))
            med = statistics.median(ratios)
            spread = f"{min(ratios):.2f}-{max(ratios):.2f}"
            report(
                f"ratio cold ingest / floor, median of {repeat}",
                f"{med:.2f}x",
                f"< 1.2x ({spread})",
                med < 1.2,
            )
    report("ingest peak memory (RSS)", f"{peak:.0f} MB", "< 1024 MB", peak < 1024)
    os.environ["CABTUI_CACHE_DIR"] = str(cache)
    t = time.perf_counter()
    store = Store.open(sweep)
    warm = time.perf_counter() - t
    report("warm open (cache hit)", f"{warm * 1000:.0f} ms", "< 500 ms", warm < 0.5)
    for f in FILTERS:
        times = []
        for _ in range(7):
            t = time.perf_counter()
            store.runs(Query(f), limit=200)
            store.count(Query(f))
            times.append(time.perf_counter() - t)
        med = statistics.median(times) * 1000
        report(f"grid query {f or '(no filter)'!r}", f"{med:.1f} ms", "< 50 ms median", med < 50)
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "cabtui-bench")
    ap.add_argument("--child", nargs=2)
    ap.add_argument("--repeat", type=int, default=5, help="cold ingests beside floors")
    args = ap.parse_args()
    if args.child:
        child_ingest(*args.child)
        return
    big, deep = args.dir / f"synth-{args.runs}", args.dir / "synth-1000x2000"
    if not (big / "results.jsonl").exists():
        synth_sweep(big, args.runs, seed=1)
    if not (deep / "results.jsonl").exists():
        synth_sweep(deep, 1000, seed=2, spans_per_run=2000, per_run_files=True)
    cache = args.dir / "cache"
    bench(big, cache, per_run=False, repeat=args.repeat)
    bench(deep, cache, per_run=True)


if __name__ == "__main__":
    main()
