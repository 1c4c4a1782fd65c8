"""The sweep browser on a 100k-run synthetic sweep: start-up, filter keystrokes, page down, memory.

    .venv/bin/python bench/ui_bench.py [--runs 100000] [--sweep /tmp/cabtui-bench-100k]

Creates the sweep with ``synth_sweep`` if missing and warms its cache first, then prints each
figure against its target with PASS or FAIL:

* process start to first painted grid (a subprocess running the app headless)  < 1.5 s
* a keystroke in the filter bar to the repainted grid, median                   < 100 ms
* page down to the grid painting its new rows (not "·" placeholders), median   < 50 ms
* resident memory of the process after all of the above                         < 500 MB
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CHILD = r"""
import sys, time
t_launch = float(sys.argv[1]); sweep = sys.argv[2]
from pathlib import Path
from cabtui.store.store import Store
from cabtui.ui.app import CabApp

async def until_painted(pilot):
    from cabtui.ui.screens.browser import BrowserScreen
    app = pilot.app
    while not (isinstance(app.screen, BrowserScreen) and app.screen.grid().page.rows):
        await pilot.pause(0.005)
    await pilot.pause()  # the refresh that paints the rows
    print(f"PAINTED {time.time() - t_launch:.3f} rows={app.screen.grid().page.total}", flush=True)
    app.exit()

CabApp(lambda progress: Store.open(Path(sweep), progress), freeze_gc=True).run(
    headless=True, size=(140, 40), auto_pilot=until_painted
)
"""


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def ensure_sweep(path: Path, runs: int) -> None:
    from cabtui.store.store import Store
    from cabtui.sweep.synth import synth_sweep

    if not (path / "results.jsonl").exists():
        t = time.perf_counter()
        synth_sweep(path, runs)
        print(f"synthesised {runs:,} runs into {path} in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    Store.open(path).close()
    print(f"cache warm ({time.perf_counter() - t:.2f} s to open)")


def startup(path: Path, tries: int = 3) -> float:
    best = float("inf")
    for _ in range(tries):
        launched = time.time()
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(launched), str(path)],
            capture_output=True, text=True, timeout=120, cwd=ROOT,
        )  # fmt: skip
        line = next((x for x in out.stdout.splitlines() if x.startswith("PAINTED")), None)
        if line is None:
            raise SystemExit(
                f"the app did not paint a grid:\n{out.stdout[-2000:]}\n{out.stderr[-2000:]}"
            )
        best = min(best, float(line.split()[1]))
    return best


class Stopwatch:
    """Times a key from its arrival at the widget to the paint that shows its result.

    Pilot's own waits sleep in 20 ms steps, so the bench reads clocks inside the app: the start
    when the key reaches the filter input (or the grid's page-down action runs), the end after
    the refresh that follows the grid's new rows (or, for a page down whose rows are already
    held, the refresh that follows the cursor move)."""

    def __init__(self) -> None:
        self.start = 0.0
        self.end: float | None = None
        self.waiting_rows = False

    def install(self) -> None:
        from cabtui.ui.screens.browser import BrowserScreen
        from cabtui.ui.widgets.filter_bar import FilterInput
        from cabtui.ui.widgets.grid import Grid

        watch = self
        on_key, load, page_down = FilterInput._on_key, Grid.load, Grid.action_page_down
        changed = BrowserScreen.on_filter_bar_changed

        def timed_changed(self, event):  # type: ignore[no-untyped-def]
            changed(self, event)
            if event.error is not None:  # no query: the error beneath the bar is the result
                self.call_after_refresh(watch.stop)

        async def timed_key(self, event):  # type: ignore[no-untyped-def]
            watch.start, watch.end = time.perf_counter(), None
            await on_key(self, event)

        def timed_load(self, page, keep_cursor=True):  # type: ignore[no-untyped-def]
            load(self, page, keep_cursor)
            self.call_after_refresh(watch.stop)

        def timed_page_down(self, select=False):  # type: ignore[no-untyped-def]
            watch.start, watch.end = time.perf_counter(), None
            page_down(self, select)
            self.call_after_refresh(watch.check_rows, self)

        FilterInput._on_key = timed_key  # type: ignore[method-assign]
        Grid.load = timed_load  # type: ignore[method-assign]
        Grid.action_page_down = timed_page_down  # type: ignore[method-assign]
        BrowserScreen.on_filter_bar_changed = timed_changed  # type: ignore[method-assign]

    def stop(self) -> None:
        if self.end is None:
            self.end = time.perf_counter()

    def check_rows(self, grid) -> None:  # type: ignore[no-untyped-def]
        page = grid.page
        top = int(grid.scroll_y)
        bottom = min(page.total, top + grid.size.height)
        if page.offset <= top and bottom <= page.offset + len(page.rows):
            self.stop()  # the rows were held: this refresh painted them

    @property
    def elapsed(self) -> float:
        assert self.end is not None
        return self.end - self.start


async def interactive(path: Path) -> tuple[list[float], list[float], int]:
    from cabtui.store.store import Store
    from cabtui.ui.app import CabApp
    from cabtui.ui.screens.browser import BrowserScreen

    watch = Stopwatch()
    watch.install()
    store = Store.open(path)
    app = CabApp(lambda progress: store, freeze_gc=True)  # as `cab-tui open` runs it

    async with app.run_test(size=(140, 40)) as pilot:

        async def settled() -> None:
            for _ in range(2):
                await pilot.pause()
                await app.workers.wait_for_complete()

        async def measured() -> float:
            for _ in range(500):
                if watch.end is not None:
                    return watch.elapsed
                await pilot.pause()
            raise SystemExit("no repaint measured")

        await settled()
        screen = app.screen
        assert isinstance(screen, BrowserScreen)
        total = screen.grid().page.total

        keys: list[float] = []
        await pilot.press("slash")
        for text in ("model:meta*", " -tui:pi", " pass:1"):
            for ch in text:
                await pilot.press("space" if ch == " " else ch)
                keys.append(await measured())
                await settled()
        await pilot.press("escape")
        await settled()

        pages: list[float] = []
        grid = screen.grid()
        for _ in range(40):
            await pilot.press("pagedown")
            pages.append(await measured())
            await settled()
        assert grid.page.offset > 0, "paging never fetched a new window"
        return keys, pages, total


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--sweep", type=Path, default=Path("/tmp/cabtui-bench-100k"))
    args = ap.parse_args()

    ensure_sweep(args.sweep, args.runs)
    start = startup(args.sweep)
    keys, pages, total = asyncio.run(interactive(args.sweep))
    mem = rss_mb()
    gc.unfreeze()  # as CabApp.run does on exit

    k, p = statistics.median(keys) * 1000, statistics.median(pages) * 1000
    print(f"sweep: {total:,} runs")
    print(
        f"{verdict(start < 1.5)}  start to first painted grid   {start:.2f} s      (target < 1.5 s)"
    )
    print(f"{verdict(k < 100)}  filter keystroke, median       {k:.1f} ms    ({spread(keys)}, "
          f"{len(keys)} keys; target < 100 ms)")  # fmt: skip
    print(f"{verdict(p < 50)}  page down, median              {p:.1f} ms    ({spread(pages)}, "
          f"{len(pages)} pages; target < 50 ms)")  # fmt: skip
    print(
        f"{verdict(mem < 500)}  resident memory                {mem:.0f} MB     (target < 500 MB)"
    )


def spread(times: list[float]) -> str:
    """The 95th percentile and the maximum of ``times`` (seconds), in ms."""
    p95 = statistics.quantiles(times, n=20, method="inclusive")[-1]
    return f"p95 {p95 * 1000:.1f} ms, max {max(times) * 1000:.1f} ms"


if __name__ == "__main__":
    main()
