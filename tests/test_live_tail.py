"""cab-tui tail on a sweep being written by another process (cabtui sweeps and Harbor jobs):
each run is printed once, as it arrives, with the keys of ``ls --format json``; half-written
files are not reported; an interrupt ends it with 0."""

from __future__ import annotations

import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

import pytest

from cabtui.commands.data import JSON_RUN_COLUMNS
from cabtui.sweep.synth import synth_sweep
from tests.conftest import ROOT

WRITER = ROOT / "tests" / "live_writer.py"
HARBOR = ROOT / "data" / "harbor" / "milo-sample"
CAB = [sys.executable, "-m", "cabtui.cli"]


def partial_cab_sweep(tmp: Path, runs: int, keep: int) -> tuple[Path, Path]:
    """A complete synthetic sweep, and a copy of it holding only its first ``keep`` runs."""
    full, live = tmp / "full", tmp / "live"
    synth_sweep(full, runs, seed=3, per_run_files=True)
    live.mkdir()
    shutil.copy(full / "sweep.json", live)
    lines = (full / "results.jsonl").read_text().splitlines(keepends=True)
    (live / "results.jsonl").write_text("".join(lines[:keep]))
    for line in lines[:keep]:
        path, _, run = json.loads(line)["cell_id"].partition("#run")
        folder = Path("runs", *path.split("/")[1:], f"run-{run or 1}")
        if (full / folder).is_dir():
            shutil.copytree(full / folder, live / folder)
    return full, live


def reader(stream: IO[str]) -> queue.Queue[str]:
    """The lines of ``stream``, read in a thread, as they come."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


def take(lines: queue.Queue[str], n: int, timeout: float) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while len(got) < n:
        try:
            got.append(json.loads(lines.get(timeout=max(0.01, deadline - time.monotonic()))))
        except queue.Empty:
            raise AssertionError(f"only {len(got)} of {n} runs printed") from None
    return got


def tail(path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [*CAB, "tail", str(path), *args, "--interval", "0.1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )


def writer(
    kind: str, full: Path, live: Path, delay: float, limit: int | None = None
) -> subprocess.Popen[bytes]:
    more = [] if limit is None else [str(limit)]
    return subprocess.Popen(
        [sys.executable, str(WRITER), kind, str(full), str(live), str(delay), *more]
    )


def interrupt(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    return proc.returncode, err


def test_tail_prints_each_run_of_a_cab_sweep_once_as_it_arrives(tmp_path: Path) -> None:
    full, live = partial_cab_sweep(tmp_path, runs=8, keep=3)
    proc = tail(live)
    try:
        assert proc.stdout is not None
        lines = reader(proc.stdout)
        first = take(lines, 3, timeout=60)
        write = writer("cab", full, live, delay=0.3)
        arrived = take(lines, 5, timeout=60)
        assert write.wait(timeout=30) == 0
        time.sleep(0.5)
        assert lines.empty()  # nothing printed twice
    finally:
        code, err = interrupt(proc)
    every = [json.loads(line)["cell_id"] for line in (full / "results.jsonl").open()]
    assert [r["cell_id"] for r in first + arrived] == sorted(every[:3]) + every[3:]
    for r in first + arrived:
        assert list(r) == [*JSON_RUN_COLUMNS, "scores"]
        assert r["scores"]["pass_rate"]["pass"] in (0, 1)
    assert any(r["n_spans"] for r in arrived)  # their per-run folders were read with them
    assert code == 0, err
    assert "problem" not in err  # the lines caught half-written were read again once whole


def test_tail_follows_a_harbor_job_whose_results_are_written_mid_way(tmp_path: Path) -> None:
    live = tmp_path / "live"
    shutil.copytree(HARBOR, live, ignore=shutil.ignore_patterns("run_2", "run_3"))
    proc = tail(live, "--new")
    try:
        assert proc.stdout is not None
        lines = reader(proc.stdout)
        time.sleep(2)  # --new: the three trials already there are not printed
        write = writer("harbor", HARBOR, live, delay=0.4)
        arrived = take(lines, 6, timeout=90)
        assert write.wait(timeout=30) == 0
    finally:
        code, err = interrupt(proc)
    assert sorted(r["run"] for r in arrived) == [2, 2, 2, 3, 3, 3]
    assert {r["source"] for r in arrived} == {"harbor"}
    assert code == 0, err
    assert "JSON" not in err and "truncated" not in err  # a result.json caught mid-write


def test_tail_filters_and_reports_a_line_that_stays_broken(tmp_path: Path) -> None:
    full, live = partial_cab_sweep(tmp_path, runs=6, keep=2)
    lines_of = (full / "results.jsonl").read_text().splitlines(keepends=True)
    proc = tail(live, "run:2", "--new")
    try:
        assert proc.stdout is not None
        lines = reader(proc.stdout)
        time.sleep(2)
        with (live / "results.jsonl").open("a") as f:
            f.write("{not json\n")  # broken for good: reported once the file settles
            f.writelines(lines_of[2:])
        arrived = take(lines, 1, timeout=60)
        time.sleep(3)
    finally:
        code, err = interrupt(proc)
    assert all(r["run"] == 2 for r in arrived)
    assert code == 0, err
    assert err.count("results.jsonl:3") == 1


def test_a_run_folder_without_its_record_is_a_run_still_running(tmp_path: Path) -> None:
    """A cabtui sweep's run folder written (its spans, its recording) since results.jsonl last
    was, without its results line yet: a run with status running and its elapsed time, its
    spans no orphans; once the line is written, the run as recorded. A folder silent for over
    an hour is not running."""
    from cabtui.store.orphans import ORPHANS
    from cabtui.store.query import Query
    from cabtui.store.store import Store

    full, live = partial_cab_sweep(tmp_path, runs=4, keep=2)
    lines = (full / "results.jsonl").read_text().splitlines(keepends=True)
    third = json.loads(lines[2])["cell_id"]
    path, _, run = third.partition("#run")
    folder = Path("runs", *path.split("/")[1:], f"run-{run or 1}")
    if not (full / folder).is_dir():
        pytest.skip("the synthetic sweep wrote no folder for this run")
    shutil.copytree(full / folder, live / folder)
    started = time.time() - 90
    for f in (live / folder).rglob("*"):
        os.utime(f, (started, started))
    earlier = started - 30  # the last run done before this one started
    os.utime(live / "results.jsonl", (earlier, earlier))

    def runs() -> dict[str, dict[str, object]]:
        store = Store.open(live)
        try:
            rows = store.runs(Query(), limit=None, columns=("cell_id", "status", "wall_clock_ms"))
            orphans = [p for p in store.problems() if p.reason.endswith(ORPHANS)]
            assert not orphans, orphans
            return {r["cell_id"]: r for r in rows.to_pylist()}
        finally:
            store.close()

    now = runs()
    assert len(now) == 3 and now[third]["status"] == "running"
    assert 90_000 <= float(now[third]["wall_clock_ms"]) < 90_000 + 120_000  # type: ignore[arg-type]  # a number here
    with (live / "results.jsonl").open("a") as results:
        results.write(lines[2])
    done = runs()
    assert len(done) == 3 and done[third]["status"] != "running"
    long_ago = time.time() - 2 * 3600
    for line in lines[3:]:
        cid = json.loads(line)["cell_id"]
        p, _, r = cid.partition("#run")
        f4 = Path("runs", *p.split("/")[1:], f"run-{r or 1}")
        if (full / f4).is_dir():
            shutil.copytree(full / f4, live / f4)
            for f in [live / f4, *(live / f4).rglob("*")]:
                os.utime(f, (long_ago, long_ago))
    store = Store.open(live, refresh=True)
    try:
        statuses = store.runs(Query(), limit=None, columns=("status",)).column("status")
        assert "running" not in statuses.to_pylist()
    finally:
        store.close()
