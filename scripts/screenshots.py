"""Screenshots of each screen for the README: screenshots/<screen>.svg, made headless via Pilot.

    .venv/bin/python scripts/screenshots.py [--sweep data/sweeps] [--out screenshots]

Every screen is shot on --sweep, except the Harbor grid (data/harbor, a real Harbor job).
Screens that are not written yet are skipped (each is imported inside its own step).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cabtui.store.store import Query, Store  # noqa: E402
from cabtui.ui.app import CabApp  # noqa: E402

SIZE = (140, 40)
HARBOR = ROOT / "data" / "harbor"
Step = Callable[[object, Store], Awaitable[None]]


def exists(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


async def settle(pilot) -> None:  # type: ignore[no-untyped-def]
    for _ in range(4):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()


def first_recorded(store: Store) -> str | None:
    t = store.runs(Query(filter="recording"), limit=1, columns=("cell_id",))
    return t.column(0)[0].as_py() if t.num_rows else None


async def browser(pilot, store: Store) -> None:  # type: ignore[no-untyped-def]
    pass


async def browser_filtered(pilot, store: Store) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("slash", *"-tui:pi composite>=0.5", "enter")
    await settle(pilot)


async def cells(pilot, store: Store) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("g")


async def detail(pilot, store: Store) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("enter")


async def pivot(pilot, store: Store) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("p")


async def replay(pilot, store: Store) -> None:  # type: ignore[no-untyped-def]
    from cabtui.ui.screens.replay import ReplayScreen

    cell_id = first_recorded(store)
    if cell_id is not None:
        pilot.app.push_screen(ReplayScreen(store, cell_id))
        await settle(pilot)
        # nine spans on and 1.2 s into the next: the recording has something on its screen
        await pilot.press(*["right"] * 9, *["full_stop"] * 12)


async def harbor(pilot, store: Store) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("P")  # the load problems panel hidden: the grid is the subject


async def compare(pilot, store: Store) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("m", "j", "m", "c")


# (file name, module the screen needs, what to do once the grid is up, sweep if not --sweep)
SHOTS: list[tuple[str, str | None, Step, Path | None]] = [
    ("browser", None, browser, None),
    ("browser-filtered", None, browser_filtered, None),
    ("cells", None, cells, None),
    ("detail", "cabtui.ui.screens.detail", detail, None),
    ("pivot", "cabtui.ui.screens.pivot", pivot, None),
    ("replay", "cabtui.ui.screens.replay", replay, None),
    ("compare", "cabtui.ui.screens.compare", compare, None),
    ("harbor", None, harbor, HARBOR),
]


async def shoot(store: Store, name: str, step: Step, out: Path) -> None:
    app = CabApp(lambda progress: store, clock=lambda: 0.0)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await step(pilot, store)
        await settle(pilot)
        path = app.save_screenshot(filename=f"{name}.svg", path=str(out))
        print(f"{path}  ({type(app.screen).__name__})")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sweep", type=Path, default=ROOT / "data" / "sweeps")
    ap.add_argument("--out", type=Path, default=ROOT / "screenshots")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    stores: dict[Path, Store] = {}
    for name, module, step, sweep in SHOTS:
        if module is not None and not exists(module):
            print(f"skipped {name}: {module} does not exist yet")
            continue
        try:
            sweep = sweep or args.sweep
            if sweep not in stores:
                stores[sweep] = Store.open(sweep)
            asyncio.run(shoot(stores[sweep], name, step, args.out))
        except Exception as e:  # noqa: BLE001 - one broken screen must not stop the others
            print(f"failed {name}: {type(e).__name__}: {e}")


if __name__ == "__main__":
    main()
