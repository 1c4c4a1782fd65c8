"""The refresh of a Harbor job being written: each cell whose trials changed is taken back and
imported again, and the refreshed cache is, table by table, the cold ingest of the same files.
The trials are the real Harbor sample's, copied into a job as Harbor names them."""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone, tzinfo
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cabtui.store.cache import open_cache
from tests.conftest import ROOT
from tests.test_cache_incremental import refreshed_as_cold


class _Now(datetime):
    """The time a running trial's spans reach to, held still: a cold ingest made after a
    refresh would otherwise draw them a little longer."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _Now:
        return cls(2026, 11, 30, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def _still_clock() -> Iterator[None]:
    with patch("cabtui.sources.harbor.datetime", _Now):
        yield


TRIALS = sorted(
    (ROOT / "data" / "harbor" / "milo-sample" / "trajectories").glob("*/*/run_*")
)  # 3 models x 3 reruns of one task


@dataclass
class Job:
    """A Harbor job written trial by trial: ``<job>/<task>__<n>/`` and the job's result.json,
    rewritten after every trial as Harbor does."""

    path: Path
    clock: float = field(default_factory=lambda: time.time() - 600)
    n: int = 0
    running: list[tuple[Path, Path]] = field(default_factory=list)  # (trial, its source)

    def tick(self, *paths: Path) -> None:
        self.clock += 1
        for p in paths:
            os.utime(p, (self.clock, self.clock))

    def trial(self, source: int, finished: bool) -> Path:
        self.n += 1
        dst = self.path / f"milo__{self.n:07x}"
        src = TRIALS[source % len(TRIALS)]
        shutil.copytree(src, dst)
        files = sorted(p for p in dst.rglob("*") if p.is_file())
        if not finished:
            (dst / "result.json").unlink()
            files.remove(dst / "result.json")
            self.running.append((dst, src))
        self.tick(*files)
        self.job_result()
        return dst

    def finish(self, i: int) -> None:
        dst, src = self.running.pop(i % len(self.running))
        (dst / "result.json").write_text((src / "result.json").read_text())
        self.tick(dst / "result.json")
        self.job_result()

    def remove(self, i: int) -> None:
        trials = sorted(p for p in self.path.iterdir() if p.is_dir())
        gone = trials[i % len(trials)]
        shutil.rmtree(gone)
        self.running = [(d, s) for d, s in self.running if d != gone]

    def grow(self, i: int) -> None:
        trials = sorted(p for p in self.path.iterdir() if p.is_dir())
        cast = trials[i % len(trials)] / "agent" / "recording.cast"
        if cast.is_file():
            with cast.open("a") as f:
                f.write(json.dumps([9999.0, "o", "more output\r\n"]) + "\n")
            self.tick(cast)

    def job_result(self) -> None:
        n = sum(1 for p in self.path.iterdir() if (p / "result.json").is_file())
        doc = {"id": "j1", "started_at": "2026-06-25T02:50:00Z", "n_total_trials": 20,
               "stats": {"n_trials": n, "n_errors": 0, "evals": {}}}  # fmt: skip
        (self.path / "result.json").write_text(json.dumps(doc))
        self.tick(self.path / "result.json")


def new_job(where: Path) -> Job:
    where.mkdir(parents=True)
    (where / "config.json").write_text(json.dumps({"job_name": "live-job", "n_attempts": 3}))
    job = Job(where)
    job.tick(where / "config.json")
    for source in (0, 3, 6):
        job.trial(source, finished=True)
    return job


STEPS = st.lists(
    st.tuples(
        st.sampled_from(["finished", "start", "finish", "remove", "grow"]), st.integers(0, 8)
    ),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=int(os.environ.get("CABTUI_HYPOTHESIS_EXAMPLES", "12")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(steps=STEPS)
# a cell read again alone whose records hold keys in another order than the whole job's do
@example(steps=[("start", 3), ("remove", 1), ("finished", 3)])
def test_a_job_written_trial_by_trial_refreshes_as_a_cold_ingest(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[str, int]]
) -> None:
    """Trials added finished, started (running), finished, removed, their recordings grown,
    the job's result.json rewritten after each: after every step the refreshed cache is the
    cold ingest, and it was refreshed in part, not built again."""
    tmp = tmp_path_factory.mktemp("job")
    job = new_job(tmp / "jobs" / "live-job")
    first = open_cache(job.path)
    assert first.report is not None and first.report.runs == 3
    for what, i in steps:
        if what == "finished":
            job.trial(i, finished=True)
        elif what == "start":
            job.trial(i, finished=False)
        elif what == "finish" and job.running:
            job.finish(i)
        elif what == "remove" and len(list(job.path.iterdir())) > 3:
            job.remove(i)
        else:
            job.grow(i)
        refreshed_as_cold(job.path, tmp, why=what)


def test_a_new_trial_reads_only_its_cell(tmp_path: Path) -> None:
    """A trial of another model added: only its cell is imported again (one run staged), and
    a rerun added to a cell numbers the cell's trials by their start, as a cold ingest does."""
    job = new_job(tmp_path / "jobs" / "live-job")
    open_cache(job.path)
    job.trial(1, finished=True)
    refreshed_as_cold(job.path, tmp_path)
    job.trial(0, finished=False)  # the first trial's model again, running
    opened = refreshed_as_cold(job.path, tmp_path)
    import duckdb

    con = duckdb.connect(str(opened.path), read_only=True)
    try:
        statuses = con.execute(
            "SELECT run, status FROM runs WHERE model = (SELECT model FROM runs "
            "WHERE status = 'running') ORDER BY run"
        ).fetchall()
    finally:
        con.close()
    assert [s for _, s in statuses].count("running") == 1 and len(statuses) == 3


def test_a_trial_that_stopped_without_its_result_keeps_the_refresh_in_part(
    tmp_path: Path,
) -> None:
    """A trial folder without result.json, silent for two hours (a trial killed), is reported
    when the job is listed: the same problem on every later listing does not stop a refresh
    from reading only what changed, and stays reported; a problem new to the listing (another
    trial killed) builds the cache again, which then reports both."""
    job = new_job(tmp_path / "jobs" / "live-job")
    killed = job.trial(0, finished=False)
    job.running.clear()
    old = time.time() - 7200
    for p in [killed, *killed.rglob("*")]:
        os.utime(p, (old, old))
    open_cache(job.path)
    for source in (1, 2):
        job.trial(source, finished=True)
        refreshed_as_cold(job.path, tmp_path)
    again = job.trial(3, finished=False)
    job.running.clear()
    for p in [again, *again.rglob("*")]:
        os.utime(p, (old, old))
    job.job_result()
    opened = refreshed_as_cold(job.path, tmp_path, in_part=False)
    import duckdb

    con = duckdb.connect(str(opened.path), read_only=True)
    try:
        files = {
            f for (f,) in con.execute("SELECT file FROM problems WHERE line IS NULL").fetchall()
        }
    finally:
        con.close()
    assert {killed.name, again.name} <= files


def test_a_tool_call_too_deep_for_the_store_is_left_out_and_reported_alike_when_refreshed(
    tmp_path: Path,
) -> None:
    """A trajectory whose tool call carries arguments nested deeper than the store holds: the
    trial loads, with every step and tool call span; the tool call's attributes and its model
    call's completion are left out and reported against its trajectory, once each. A refresh that
    reads the cell again (a rerun added) gives what a cold ingest gives, and says so again."""
    job = new_job(tmp_path / "jobs" / "live-job")
    deep = job.trial(1, finished=True)
    path = deep / "agent" / "trajectory.json"
    doc = json.loads(path.read_text())
    step = next(s for s in doc["steps"] if s.get("tool_calls"))
    nested: object = "rm -rf /"
    for _ in range(300):
        nested = {"x": nested}
    step["tool_calls"][0]["arguments"] = nested
    path.write_text(json.dumps(doc))
    n_steps = sum(1 for s in doc["steps"] if isinstance(s, dict))
    opened = refreshed_as_cold(job.path, tmp_path, in_part=None)
    job.trial(1, finished=True)  # a rerun of the same cell: read again
    opened = refreshed_as_cold(job.path, tmp_path)
    import duckdb

    con = duckdb.connect(str(opened.path), read_only=True)
    try:
        problems = con.execute(
            "SELECT file, reason FROM problems WHERE reason LIKE '%nested deeper%'"
        ).fetchall()
        cell = con.execute(
            "SELECT cell_id FROM runs WHERE source_file = ?",
            [f"{deep.name}/result.json"],
        ).fetchall()
        steps = con.execute(
            "SELECT count(*) FILTER (WHERE kind = 'step'), count(*) FILTER (WHERE attrs = '{}') "
            "FROM spans WHERE cell_id = ?",
            [cell[0][0]],
        ).fetchall()
        calls = con.execute(
            "SELECT count(*) FILTER (WHERE completion IS NULL) FROM model_calls WHERE cell_id = ?",
            [cell[0][0]],
        ).fetchall()
    finally:
        con.close()
    assert len(problems) == 2 and {f for f, _ in problems} == {f"{deep.name}/agent/trajectory.json"}
    assert any(r.startswith("span ") and "attributes nested deeper" in r for _, r in problems)
    assert any(r.startswith("model call ") and "completion nested deeper" in r for _, r in problems)
    assert steps == [(n_steps, 1)] and calls == [(1,)]
