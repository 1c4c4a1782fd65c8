"""Benchmark of the compare screen on two synthetic runs of 2,000 spans, each with a 40-minute
recording: time from pushing the screen to its first complete paint, and each step key's answer.

Run: .venv/bin/python bench/compare_ui_bench.py [--presses 60] [--no-freeze-gc]

Times are read inside the app, as in ``bench/ui_bench.py``: Pilot's own waits sleep in 20 ms
steps and wait for the whole process (loader threads included) to go idle, so they measure
Pilot. First paint runs from ``push_screen`` to the refresh after the diff is shown (identities,
axes, composite, aligned spans); a key runs from its action starting to the refresh after the
cursor moved (the aligned row, both terminals and the status line repainted).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from replay_bench import make_recording  # noqa: E402
from textual._compositor import CompositorUpdate  # noqa: E402
from textual.screen import Screen  # noqa: E402

from cabtui.store.store import Store  # noqa: E402
from cabtui.sweep.synth import synth_sweep  # noqa: E402
from cabtui.ui.app import CabApp  # noqa: E402
from cabtui.ui.screens.compare import CompareScreen  # noqa: E402

PAINT_TARGET_S, KEY_TARGET_MS = 1.0, 30.0
KEYS = {"right": "→ next row", "left": "← prev row", "full_stop": ". +100ms", "comma": ", -100ms"}


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


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


class Stopwatch:
    """Paints read inside the app. Every screen write is timed, including turning the
    compositor's update into the terminal's bytes (which a headless app skips; the bench does it
    so that the figure is what a terminal would cost). A goal is met at the paint after which
    the widgets it waits for have all been rendered since the goal was set."""

    def __init__(self) -> None:
        self.t0 = 0.0
        self.paints: list[float] = []  # seconds since t0 at the end of each screen write
        self.rendered: set[str] = set()  # widget ids rendered since the last goal was set
        self.goals: dict[str, set[str]] = {}  # name -> widget ids still to be rendered
        self.marks: dict[str, float] = {}

    def start(self) -> None:
        self.t0, self.paints, self.marks = time.perf_counter(), [], {}

    def goal(self, name: str, *widget_ids: str) -> None:
        self.goals[name] = set(widget_ids)
        self.rendered.difference_update(widget_ids)

    def install(self, app: CabApp, screen: CompareScreen) -> None:
        from textual.widget import Widget

        watch = self
        display, render_lines = app._display, Widget.render_lines

        def timed_render_lines(self, crop):  # type: ignore[no-untyped-def]
            if self.id:
                watch.rendered.add(self.id)
            return render_lines(self, crop)

        def timed_display(scr, update):  # type: ignore[no-untyped-def]
            if isinstance(update, CompositorUpdate):
                update.render_segments(app.console)  # what a terminal driver would be sent
            display(scr, update)
            now = time.perf_counter() - watch.t0
            watch.paints.append(now)
            for name, ids in list(watch.goals.items()):
                if ids <= watch.rendered:
                    watch.marks.setdefault(name, now)
                    del watch.goals[name]

        Widget.render_lines = timed_render_lines  # type: ignore[method-assign]
        app._display = timed_display  # type: ignore[method-assign]
        diff_loaded, side_loaded = screen._diff_loaded, screen._side_loaded

        def timed_diff_loaded(d):  # type: ignore[no-untyped-def]
            watch.goal("diff", "cmp-summary", "cmp-spans")
            diff_loaded(d)

        def timed_side_loaded(side, s):  # type: ignore[no-untyped-def]
            watch.goal(f"side {side}", f"cmp-term-{side}")
            side_loaded(side, s)

        screen._diff_loaded = timed_diff_loaded  # type: ignore[method-assign]
        screen._side_loaded = timed_side_loaded  # type: ignore[method-assign]
        for name in ("action_next_row", "action_prev_row", "action_step"):
            action = getattr(screen, name)

            def timed(*args, _action=action):  # type: ignore[no-untyped-def]
                watch.start()
                _action(*args)

            setattr(screen, name, timed)


async def until(pilot, done) -> None:  # type: ignore[no-untyped-def]
    for _ in range(2000):
        if done():
            return
        await pilot.pause(0.002)
    raise SystemExit("timed out waiting for the compare screen")


async def measure(store: Store, a: str, b: str, presses: int, freeze: bool) -> int:
    # An empty first screen, so that nothing else is loading while the compare screen is timed;
    # the GC set up as `cab-tui` runs the app (what is alive once the first screen is up frozen).
    app = CabApp(lambda p: store, start=lambda s: Screen(), clock=lambda: 0.0, freeze_gc=freeze)
    failed = 0
    watch = Stopwatch()
    async with app.run_test(size=(180, 50)) as pilot:
        await until(pilot, lambda: app.store is not None)
        await pilot.pause(0.2)
        screen = CompareScreen(store, a, b)
        watch.install(app, screen)
        watch.start()
        app.push_screen(screen)
        await until(pilot, lambda: {"diff", "side a", "side b"} <= watch.marks.keys())
        marks = dict(watch.marks)
        assert screen.link is not None and screen.diff is not None
        print(f"aligned rows: {len(screen.link.pairs)} ({screen.diff['spans']['counts']}), "
              f"axis keys: {len(screen.diff['axes'])}")  # fmt: skip
        paint = marks["diff"]
        ok = paint < PAINT_TARGET_S
        failed += not ok
        print(f"{verdict(ok)}  first paint (identities, axes, composite, aligned spans)  "
              f"{paint * 1000:6.0f} ms  (target < {PAINT_TARGET_S * 1000:.0f} ms)")  # fmt: skip
        for side in ("a", "b"):
            print(f"      run {side.upper()}'s recording loaded and shown                    "
                  f"{marks[f'side {side}'] * 1000:6.0f} ms  (not part of the target)")  # fmt: skip
        await app.workers.wait_for_complete()
        await pilot.press("5")
        await pilot.pause()
        for key, label in KEYS.items():
            lat: list[float] = []
            for _ in range(presses):
                watch.t0, watch.paints = float("inf"), []  # started by the action, not the press
                await pilot.press(key)
                await pilot.pause()  # until the app is idle: every paint the key caused is done
                assert watch.paints, f"{key} painted nothing"
                lat.append(watch.paints[-1] * 1000)
            med, p95 = statistics.median(lat), pct(lat, 95)
            ok = med < KEY_TARGET_MS and p95 < KEY_TARGET_MS
            failed += not ok
            print(f"{verdict(ok)}  key {label:<12} median {med:5.1f} ms  p95 {p95:5.1f} ms  "
                  f"max {max(lat):5.1f} ms  ({presses} presses; target < {KEY_TARGET_MS:.0f} ms)")  # fmt: skip
    return failed


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--presses", type=int, default=60)
    ap.add_argument("--no-freeze-gc", action="store_true", help="CabApp(freeze_gc=False), as tests")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        store, a, b = build(Path(tmp))
        print(f"built and ingested the sweep in {time.perf_counter() - t0:.1f}s: {a} vs {b}")
        failed = asyncio.run(measure(store, a, b, args.presses, not args.no_freeze_gc))
        gc.unfreeze()  # as CabApp.run does on exit
    print("PASS" if not failed else f"FAIL ({failed} targets missed)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
