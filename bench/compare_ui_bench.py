"""Benchmark of the compare screen on two synthetic runs of 2,000 spans, each with a 40-minute
recording: time from pushing the screen to its first complete paint, and each step key's answer.

Run: .venv/bin/python bench/compare_ui_bench.py [--presses 60]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from replay_bench import make_recording  # noqa: E402
from textual.screen import Screen

from cabtui.store.store import Store  # noqa: E402
from cabtui.sweep.synth import synth_sweep  # noqa: E402
from cabtui.ui.app import CabApp  # noqa: E402
from cabtui.ui.screens.compare import CompareScreen  # noqa: E402
from cabtui.ui.widgets.terminal import TerminalView  # noqa: E402

PAINT_TARGET_S, KEY_TARGET_MS = 1.0, 30.0
KEYS = ("right", "left", "full_stop", "comma")


def build(root: Path) -> tuple[Store, str, str]:
    out = root / "sweep"
    synth_sweep(out, runs=2, spans_per_run=2000, per_run_files=True)
    run_dirs = sorted(p.parent for p in out.rglob("spans.jsonl"))[:2]
    for seed, d in enumerate(run_dirs):
        text, _ = make_recording(seed=7 + seed)
        (d / "recording.cast").write_text(text)
    store = Store.open(out)
    ids = store.runs(columns=("cell_id",), limit=None).column(0).to_pylist()
    a, b = sorted(ids)[:2]
    return store, a, b


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, round(p / 100 * (len(xs) - 1)))]


async def measure(store: Store, a: str, b: str, presses: int) -> int:
    # An empty first screen, so that nothing else is loading while the compare screen is timed.
    app = CabApp(lambda p: store, start=lambda s: Screen(), clock=lambda: 0.0)
    failed = 0
    async with app.run_test(size=(180, 50)) as pilot:
        while app.store is None:
            await pilot.pause()
        await pilot.pause(0.2)
        screen = CompareScreen(store, a, b)
        t0 = time.perf_counter()
        app.push_screen(screen)
        painted = terms = None
        while terms is None:
            await pilot.pause(0.005)
            now = time.perf_counter() - t0
            if painted is None and screen.link is not None:
                await pilot.pause()  # the refresh after the diff arrived
                painted = time.perf_counter() - t0  # identities, axes, aligned list on screen
            if None not in screen.sessions.values():
                tv = screen.query_one("#cmp-term-a", TerminalView)
                if tv.message is None:
                    terms = now
        assert painted is not None and screen.link is not None
        n = len(screen.link.pairs)
        ok = painted < PAINT_TARGET_S
        failed += not ok
        print(f"aligned rows: {n} ({screen.diff['spans']['counts']})")  # type: ignore[index]
        print(f"first paint (identities, axes, composite, aligned spans): {painted * 1000:.0f} ms "
              f"(target < {PAINT_TARGET_S * 1000:.0f} ms) {'PASS' if ok else 'FAIL'}")  # fmt: skip
        print(f"both recordings loaded and shown: {terms * 1000:.0f} ms (not part of the target)")
        await pilot.press("5")
        await pilot.pause()
        for key in KEYS:
            lat = []
            for _ in range(presses):
                t = time.perf_counter()
                await pilot.press(key)
                await pilot.pause()
                lat.append((time.perf_counter() - t) * 1000)
            med, p95 = statistics.median(lat), pct(lat, 95)
            ok = med < KEY_TARGET_MS and p95 < KEY_TARGET_MS
            failed += not ok
            print(f"key {key:>9}: median {med:5.1f} ms, p95 {p95:5.1f} ms "
                  f"(target < {KEY_TARGET_MS:.0f} ms) {'PASS' if ok else 'FAIL'}")  # fmt: skip
        direct = []
        for k in range(presses * 4):
            t = time.perf_counter()
            (screen.action_next_row if k % 2 == 0 else screen.action_step)(
                *(() if k % 2 == 0 else (1,))
            )
            screen._sync()
            direct.append((time.perf_counter() - t) * 1000)
        print(f"key handler + sync alone (no Pilot round trip): median "
              f"{statistics.median(direct):.2f} ms, p95 {pct(direct, 95):.2f} ms")  # fmt: skip
    return failed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presses", type=int, default=60)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store, a, b = build(Path(tmp))
        print(f"built and ingested the sweep in {time.perf_counter() - t0:.1f}s: {a} vs {b}")
        failed = asyncio.run(measure(store, a, b, args.presses))
    print("PASS" if not failed else f"FAIL ({failed} targets missed)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
