"""Benchmark of the compare screen's headless work: span alignment and diff_runs on two runs of
2,000 spans each, plus the worst case of two unrelated timelines and a paired CLI comparison.

    .venv/bin/python bench/compare_bench.py [--spans 2000] [--out /tmp/cabtui-compare-bench]

Target: the compare screen opens in under 1 s, so alignment + diff should be well under that.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any


def timed(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    """Median wall time in ms over ``repeat`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--spans", type=int, default=2000)
    ap.add_argument(
        "--out", type=Path, default=Path(tempfile.gettempdir()) / "cabtui-compare-bench"
    )
    args = ap.parse_args()
    os.environ.setdefault("CABTUI_CACHE_DIR", str(args.out / "cache"))

    from cabtui.compare.align import Lockstep, align
    from cabtui.compare.diff import diff_cells, diff_runs
    from cabtui.compare.stats import paired
    from cabtui.store.store import Store
    from cabtui.sweep.synth import synth_sweep

    sweep = args.out / f"sweep-{args.spans}"
    if sweep.exists():
        shutil.rmtree(sweep)
    t = time.perf_counter()
    synth_sweep(sweep, runs=6, seed=0, spans_per_run=args.spans)
    store = Store.open(sweep)
    print(
        f"sweep of 6 runs x {args.spans} spans written and ingested in {time.perf_counter() - t:.2f} s"
    )
    ids = [
        r[0] for r in store.cursor().execute("SELECT cell_id FROM runs ORDER BY cell_id").fetchall()
    ]
    rerun_a, rerun_b, other = ids[0], ids[1], ids[3]  # two reruns of one cell; a run of another

    a = store.spans(rerun_a)
    b = store.spans(rerun_b)
    c = store.spans(other)
    ms, _ = timed(lambda: store.spans(rerun_a))
    print(f"store.spans (with attrs)           {len(a):>5} spans   {ms:7.1f} ms")

    for label, x, y in (
        ("reruns of one cell", a, b),
        ("two different cells", a, c),
        ("a run with itself", a, a),
    ):
        ms, pairs = timed(lambda x=x, y=y: align(x, y))
        counts = Counter(p.status for p in pairs)
        print(f"align, {label:<26} {len(x)}x{len(y)}   {ms:7.1f} ms   {dict(counts)}")

    rng = random.Random(1)
    kinds, names = (
        ["shell", "edit", "tool_call", "model_call", "test"],
        ["".join(rng.choice("ghijklmnop") for _ in range(4)) for _ in range(40)],
    )
    r1 = [
        {"kind": rng.choice(kinds), "name": rng.choice(names), "start_ms": i}
        for i in range(args.spans)
    ]
    r2 = [
        {"kind": rng.choice(kinds), "name": rng.choice(names), "start_ms": i}
        for i in range(args.spans)
    ]
    ms, pairs = timed(lambda: align(r1, r2))
    print(
        f"align, unrelated random timelines  {len(r1)}x{len(r2)}   {ms:7.1f} ms   {dict(Counter(p.status for p in pairs))}"
    )

    pairs = align(a, b)
    ms, ls = timed(lambda: Lockstep(pairs, a, b))
    n = 10_000
    t = time.perf_counter()
    for i in range(n):
        ls.a_to_b(i * 3.7)
    per = (time.perf_counter() - t) / n * 1e6
    print(f"lockstep: build {ms:.1f} ms, {per:.2f} us per cursor mapping")

    for label, x, y in (
        ("reruns of one cell", rerun_a, rerun_b),
        ("two different cells", rerun_a, other),
    ):
        ms, d = timed(lambda x=x, y=y: diff_runs(store, x, y))
        print(
            f"diff_runs, {label:<22}             {ms:7.1f} ms   {len(d.axes)} axes, {len(d.spans.pairs)} span pairs"
        )
    cells = [
        r[0]
        for r in store.cursor().execute("SELECT DISTINCT cell FROM runs ORDER BY cell").fetchall()
    ]
    ms, _ = timed(lambda: diff_cells(store, cells[0], cells[1]))
    print(f"diff_cells                                      {ms:7.1f} ms")

    big = args.out / "sweep-paired"
    if big.exists():
        shutil.rmtree(big)
    synth_sweep(big, runs=30_000, seed=2)
    bstore = Store.open(big)
    tuis = bstore.distinct("tui")
    ms, r = timed(lambda: paired(bstore, "tui", tuis[0], tuis[1]), repeat=3)
    m = r["metrics"]["composite"]
    print(f"paired (30,000-run sweep), {tuis[0]} vs {tuis[1]}: {r['n_pairs']} pairs, 2,000 resamples x 2 metrics"
          f"   {ms:7.1f} ms   composite mean diff {m['mean_diff']:+.3f} CI {m['ci'][0]:+.3f}..{m['ci'][1]:+.3f} p {m['p']:.3g}")  # fmt: skip


if __name__ == "__main__":
    main()
