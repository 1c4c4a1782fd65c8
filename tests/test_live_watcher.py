"""The headless watcher: a store re-opened only when the sweep's files change, and problems of
files still being written held back until they stay."""

from __future__ import annotations

import os
from pathlib import Path

from cabtui.store.live import Watcher
from cabtui.store.store import Store
from tests.test_live_tail import partial_cab_sweep


def test_poll_reopens_only_on_change_and_reads_the_rebuilt_cache(tmp_path: Path) -> None:
    full, live = partial_cab_sweep(tmp_path, runs=5, keep=2)
    store = Store.open(live)
    watcher = Watcher(store)
    assert watcher.poll() is None
    with (live / "results.jsonl").open("a") as f:
        f.write((full / "results.jsonl").read_text().splitlines(keepends=True)[2])
    fresh = watcher.poll()
    assert fresh is not None and fresh.total() == 3  # not the cache it replaced
    assert store.total() == 2  # the old store still reads its own file
    assert watcher.poll() is None


def test_a_cut_last_line_is_held_back_while_written_and_reported_once_it_stays(
    tmp_path: Path,
) -> None:
    full, live = partial_cab_sweep(tmp_path, runs=4, keep=2)
    line = (full / "results.jsonl").read_text().splitlines(keepends=True)[2]
    results = live / "results.jsonl"
    with results.open("a") as f:
        f.write(line[:40])  # a writer caught mid-line
    now = [results.stat().st_mtime + 0.5]
    store = Store.open(live)
    watcher = Watcher(store, settle=2.0, clock=lambda: now[0])
    problems = store.problems()
    assert [p.line for p in problems] == [3]
    assert watcher.settled(problems) == [] and watcher.holding
    now[0] += 1.0
    assert watcher.settled(problems) == []  # still fresh: not yet
    now[0] += 1.0
    assert watcher.settled(problems) == problems  # stayed broken for 2 s: reported
    os.utime(results)  # written to again: what was reported stays reported
    now[0] = results.stat().st_mtime
    assert watcher.settled(problems) == problems


def test_a_broken_line_in_a_file_that_keeps_growing_is_reported_after_settle(
    tmp_path: Path,
) -> None:
    full, live = partial_cab_sweep(tmp_path, runs=4, keep=2)
    results = live / "results.jsonl"
    with results.open("a") as f:
        f.write("{not json\n")
    store = Store.open(live)
    problems = store.problems()
    assert [p.line for p in problems] == [3]
    now = [results.stat().st_mtime]
    watcher = Watcher(store, settle=2.0, clock=lambda: now[0])
    for _ in range(4):  # the file modified again and again, each poll
        assert watcher.settled(problems) == []
        now[0] += 0.4
        os.utime(results, (now[0], now[0]))
    now[0] += 0.5
    os.utime(results, (now[0], now[0]))
    assert watcher.settled(problems) == problems  # broken for 2 s however fresh the file
