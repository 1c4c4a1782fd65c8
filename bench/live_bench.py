"""Live sweeps: how long a refresh takes once runs arrive, and how long a new run takes to
reach the browser's grid (issue #12, part 7).

    .venv/bin/python bench/live_bench.py [--runs 100000] [--new 100] [--dir /tmp/cabtui-live] [--check]
        [--per-run]

Writes a synthetic sweep of RUNS + NEW runs (``cab-tui synth``), keeps back the last NEW runs'
results and spans lines, opens it (cold), appends them, and times the watcher's refresh (the
fingerprint walk plus the re-opened store); then opens the live browser headless, writes one
more run and times until its row is counted on screen. The refresh reads only the appended lines
(cabtui.store.increment) into a copy of the cache renamed into place. ``--check`` also ingests
the sweep cold and compares the two caches table by table. ``--per-run``: each run's spans are
in its own run folder (runs/.../spans.jsonl), and the new runs' folders appear with their
results lines (cabtui.store.increment_runs reads those folders alone).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from cabtui.store.cache import cache_fingerprint
from cabtui.store.live import Watcher
from cabtui.store.store import Store
from cabtui.sweep.cellid import parse_cell_id
from cabtui.sweep.layout import run_dir_path
from cabtui.sweep.synth import synth_sweep
from cabtui.ui.widgets.live import POLL  # the browser's poll interval


def hold_back(sweep: Path, n: int) -> tuple[list[str], list[str]]:
    """Remove the last ``n`` runs' results lines and their spans lines; return both."""
    lines = (sweep / "results.jsonl").read_text().splitlines(keepends=True)
    kept, held = lines[:-n], lines[-n:]
    ids = {json.loads(line)["cell_id"] for line in held}
    (sweep / "results.jsonl").write_text("".join(kept))
    spans_kept, spans_held = [], []
    if (sweep / "spans.jsonl").is_file():
        with (sweep / "spans.jsonl").open() as f:
            for line in f:
                cid = line[12 : line.index('"', 12)] if line.startswith('{"cell_id":"') else None
                if cid is None:
                    cid = json.loads(line)["cell_id"]
                (spans_held if cid in ids else spans_kept).append(line)
        (sweep / "spans.jsonl").write_text("".join(spans_kept))
    return held, spans_held


def folder_of(cell_id: str) -> Path:
    c = parse_cell_id(cell_id)
    return run_dir_path(c.tui, c.model, c.task_id, c.run)


def move_folders(results: list[str], src: Path, dst: Path) -> None:
    """Move the run folders of ``results`` lines from under ``src`` to under ``dst`` (out of
    the sweep, into a folder aside, and back)."""
    for line in results:
        rel = folder_of(json.loads(line)["cell_id"])
        if (src / rel).is_dir():
            (dst / rel).parent.mkdir(parents=True, exist_ok=True)
            os.rename(src / rel, dst / rel)


def append(sweep: Path, results: list[str], spans: list[str]) -> None:
    if spans:  # (a sweep whose spans are in its run folders has no sweep-level spans.jsonl)
        with (sweep / "spans.jsonl").open("a") as f:
            f.write("".join(spans))
    with (sweep / "results.jsonl").open("a") as f:
        f.write("".join(results))


async def on_screen(
    sweep: Path, results: list[str], spans: list[str], aside: Path | None = None
) -> float:
    """Seconds from one run written to the browser's grid counting it (live, headless)."""
    from cabtui.ui.app import CabApp
    from cabtui.ui.screens.browser import BrowserScreen

    app = CabApp(lambda progress: Store.open(sweep), start=lambda s: BrowserScreen(s, Watcher(s)))
    async with app.run_test(size=(140, 40)) as pilot:
        while not (isinstance(app.screen, BrowserScreen) and app.screen.grid().page.total):
            await pilot.pause(0.05)
        screen = app.screen
        before = screen.grid().page.total
        await pilot.pause(1.0)
        t0 = time.perf_counter()
        if aside is not None:
            move_folders(results, aside, sweep)
        append(sweep, results, spans)
        while screen.grid().page.total == before:
            await pilot.pause(0.02)
            if time.perf_counter() - t0 > 600:
                return float("inf")
        return time.perf_counter() - t0


def same_as_cold(sweep: Path, db: Path) -> list[str]:
    """The tables in which the cache ``db`` differs from a cold ingest of ``sweep``."""
    from cabtui.store.ingest import ingest

    with tempfile.TemporaryDirectory() as d:
        cold = Path(d) / "cold.duckdb"
        ingest(sweep, cold)
        con = duckdb.connect()
        con.execute("ATTACH ? AS a (READ_ONLY)", [str(db)])
        con.execute("ATTACH ? AS b (READ_ONLY)", [str(cold)])
        differ = []
        for t in ("sweeps", "runs", "spans", "model_calls", "recordings", "problems", "scores"):
            for x, y in (("a", "b"), ("b", "a")):
                sql = f"SELECT count(*) FROM (FROM {x}.{t} EXCEPT ALL FROM {y}.{t})"
                if con.execute(sql).fetchall()[0][0] and t not in differ:
                    differ.append(t)
        con.close()
    return differ


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--new", type=int, default=100)
    ap.add_argument("--dir", type=Path, default=None)
    ap.add_argument("--check", action="store_true", help="compare with a cold ingest")
    ap.add_argument("--per-run", action="store_true", help="spans in per-run folders")
    args = ap.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="cabtui-live-bench-"))
    os.environ["CABTUI_CACHE_DIR"] = str(base / "cache")
    sweep = base / "sweep"
    shutil.rmtree(sweep, ignore_errors=True)
    t = time.perf_counter()
    synth_sweep(sweep, args.runs + args.new + 1, seed=7, per_run_files=args.per_run)
    print(f"synth {args.runs + args.new + 1} runs: {time.perf_counter() - t:.1f} s")
    last_results, last_spans = hold_back(sweep, 1)
    results, spans = hold_back(sweep, args.new)
    aside = None
    if args.per_run:
        aside = base / "aside"
        shutil.rmtree(aside, ignore_errors=True)
        move_folders(last_results + results, sweep, aside)

    t = time.perf_counter()
    store = Store.open(sweep)
    print(f"cold open of {store.total():,} runs: {time.perf_counter() - t:.2f} s")
    watcher = Watcher(store)
    t = time.perf_counter()
    assert watcher.poll() is None
    print(f"poll, nothing changed (fingerprint): {time.perf_counter() - t:.3f} s")

    if aside is not None:
        move_folders(results, aside, sweep)
    append(sweep, results, spans)
    t = time.perf_counter()
    cache_fingerprint(sweep)
    walk = time.perf_counter() - t
    t = time.perf_counter()
    fresh = watcher.poll()
    refresh = time.perf_counter() - t
    assert fresh is not None
    print(
        f"refresh after {args.new} new runs: {refresh:.2f} s (target 0.5 s; of which the "
        f"fingerprint {walk:.3f} s) -> {fresh.total():,} runs"
    )
    stages = fresh.report.seconds if fresh.report else {}
    print("  stages: " + ", ".join(f"{k} {v:.3f} s" for k, v in stages.items()))
    if args.check:
        differ = same_as_cold(sweep, fresh.db_path)
        print(
            f"refreshed cache = cold ingest: {'yes' if not differ else 'NO: ' + ', '.join(differ)}"
        )
    store.close()
    fresh.close()
    latency = asyncio.run(on_screen(sweep, last_results, last_spans, aside))
    print(f"one new run written -> on screen: {latency:.2f} s (target 1 s; poll every {POLL} s)")


if __name__ == "__main__":
    main()
