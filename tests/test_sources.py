"""Other harnesses' output, read through the store: the real Harbor sample (9 trials, ATIF v1.7,
recordings), Harbor's own ATIF test trajectories, and the Terminal-Bench run recorded here."""

from __future__ import annotations

import json
import os
import shutil
import string
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cabtui.sources import discover
from cabtui.sources.common import parse_time, pass_at_k
from cabtui.sources.detect import _SKIP, scan
from cabtui.store.query import Query
from cabtui.store.store import Store
from tests.conftest import ROOT

HARBOR = ROOT / "data" / "harbor" / "milo-sample"
TRIALS = HARBOR / "trajectories" / "bb3167f2-79e5-4aa9-9e0d-7cf34b3420c0"
TB = next((ROOT / "data" / "terminal-bench").iterdir())
GOLDEN = ROOT / "tests" / "data" / "atif-golden"


@pytest.fixture(scope="module")
def harbor(cache_dir: Path) -> Store:
    return Store.open(HARBOR)


@pytest.fixture(scope="module")
def tb(cache_dir: Path) -> Store:
    return Store.open(TB)


def _runs(store: Store) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = store.runs(Query(), limit=None, columns=("cell_id", "source", "sweep_id", "tui",
                      "model", "task_id", "run", "status", "pass", "cost_usd", "wall_clock_ms",
                      "agent_ms", "total_tokens", "has_recording", "n_spans", "composite"),
                      ).to_pylist()  # fmt: skip
    return rows


# -- Harbor: the real sample ---------------------------------------------------------------------


def test_harbor_identity_from_the_files(harbor: Store) -> None:
    runs = _runs(harbor)
    assert len(runs) == 9
    for r in runs:
        trial = (
            TRIALS
            / {"gpt": "gpt-5.5", "opus": "claude-opus-4-8", "gemini": "gemini-3.1-pro-preview"}[
                r["tui"]
            ]
            / f"run_{r['run']}"
        )
        doc = json.loads((trial / "result.json").read_text())
        assert r["source"] == "harbor"
        assert r["tui"] == doc["agent_info"]["name"]
        assert r["model"].endswith("/" + doc["agent_info"]["model_info"]["name"])
        assert r["task_id"] == doc["task_name"]
        assert r["sweep_id"] == Path(doc["config"]["trials_dir"]).name
        score = doc["verifier_result"]["scores"]
        assert r["pass"] == score["score_binary"]
        assert r["cost_usd"] == pytest.approx(doc["agent_result"]["cost_usd"])
        n_in, n_out = doc["agent_result"]["n_input_tokens"], doc["agent_result"]["n_output_tokens"]
        assert r["total_tokens"] == n_in + n_out
        assert r["status"] == "ok"
        assert r["composite"] is None  # Harbor defines no composite
        assert r["has_recording"]


def test_harbor_rewards_are_axes_under_their_own_names(harbor: Store) -> None:
    cid = next(r["cell_id"] for r in _runs(harbor) if r["tui"] == "gemini" and r["run"] == 1)
    doc = json.loads((TRIALS / "gemini-3.1-pro-preview" / "run_1" / "result.json").read_text())
    rewards = harbor.score_map([cid])[cid]["rewards"]
    assert rewards == doc["verifier_result"]["scores"]


def test_harbor_rerun_order_is_the_run_folder(harbor: Store) -> None:
    for r in _runs(harbor):
        doc = json.loads((TRIALS / "gpt-5.5" / f"run_{r['run']}" / "result.json").read_text())
        if r["tui"] == "gpt":
            assert r["wall_clock_ms"] == pytest.approx(
                (datetime.fromisoformat(doc["finished_at"].replace("Z", "+00:00"))
                 - datetime.fromisoformat(doc["started_at"].replace("Z", "+00:00"))).total_seconds() * 1000
            )  # fmt: skip


def test_harbor_spans_from_atif(harbor: Store) -> None:
    cid = next(r["cell_id"] for r in _runs(harbor) if r["tui"] == "gpt" and r["run"] == 1)
    traj = json.loads((TRIALS / "gpt-5.5" / "run_1" / "agent" / "trajectory.json").read_text())
    steps = traj["steps"]
    spans = harbor.spans(cid)
    kinds = [s["kind"] for s in spans]
    assert kinds.count("step") == len(steps)
    agent_steps = [s for s in steps if s["source"] == "agent"]
    assert kinds.count("model_call") == len(agent_steps)
    assert kinds.count("tool_call") == sum(len(s.get("tool_calls") or []) for s in steps)
    calls = harbor.model_calls(cid)
    assert len(calls) == len(agent_steps)
    # each model call ends at its step's timestamp and lasts the step's measured latency
    run = harbor.run(cid) or {}
    t0 = run["started_at"]
    for call, step in zip(calls, agent_steps):
        latency = step["metrics"]["extra"]["latency_s"] * 1000
        end = datetime.fromisoformat(step["timestamp"])
        assert call["latency_ms"] == pytest.approx(latency)
        start = call["timestamp"]
        assert (end - start).total_seconds() * 1000 == pytest.approx(latency, abs=1.0)
        assert start >= t0 - timedelta(seconds=5)
    assert calls[0]["completion"]["message"] == agent_steps[0]["message"]


def test_harbor_recording_is_placed_by_its_header_time(harbor: Store) -> None:
    cid = next(r["cell_id"] for r in _runs(harbor) if r["tui"] == "opus" and r["run"] == 2)
    cast = TRIALS / "claude-opus-4-8" / "run_2" / "agent" / "recording.cast"
    header = json.loads(cast.read_text().split("\n", 1)[0])
    run = harbor.run(cid) or {}
    terminal = [s for s in harbor.spans(cid) if s["kind"] == "container"]
    assert len(terminal) == 1 and "aligned within 1 s" in terminal[0]["name"]
    expected = (header["timestamp"] - run["started_at"].timestamp()) * 1000
    assert terminal[0]["start_ms"] == pytest.approx(expected, abs=1.0)
    rec = harbor.recording(cid)
    assert rec is not None and Path(rec["file"]).resolve() == cast.resolve()


def test_harbor_phases_outside_their_trial_are_problems_not_bars(harbor: Store) -> None:
    """The sample's phase times lie outside its trials' start and end: reported once per trial,
    and no phase span is drawn; the agent time is not taken from them."""
    probs = [p for p in harbor.problems() if "outside the trial" in p.reason]
    assert len(probs) == 9 and all(p.file.endswith("result.json") for p in probs)
    for r in _runs(harbor):
        assert not [s for s in harbor.spans(r["cell_id"]) if s["kind"] == "phase"]
        assert r["agent_ms"] is None


def test_harbor_cells_give_pass_at_k(harbor: Store) -> None:
    cells = harbor.cells(Query(), limit=None).to_pylist()
    assert len(cells) == 3
    for c in cells:
        runs = [r for r in _runs(harbor) if r["cell_id"].startswith(c["cell"])]
        n, passed = len(runs), sum(1 for r in runs if r["pass"] == 1)
        assert c["pass_at"] == pytest.approx([pass_at_k(n, passed, k) for k in range(1, n + 1)])


def test_harbor_filters_on_source_status_and_reward(harbor: Store) -> None:
    assert harbor.count(Query("source:harbor status:ok")) == 9
    assert harbor.count(Query("agent:gpt")) == 3
    assert harbor.count(Query("rewards.score_binary=1")) == sum(
        1 for r in _runs(harbor) if r["pass"] == 1
    )
    assert harbor.count(Query("cost>1")) == sum(1 for r in _runs(harbor) if r["cost_usd"] > 1)


# -- Harbor: what can go wrong ---------------------------------------------------------------------


def _copy_trial(tmp: Path, src: Path, name: str) -> Path:
    dst = tmp / "job" / name
    shutil.copytree(src, dst)
    for p in dst.rglob("*"):
        p.chmod(0o644 if p.is_file() else 0o755)
    return dst


def test_bad_harbor_input_is_reported_and_the_rest_loads(tmp_path: Path) -> None:
    good = _copy_trial(tmp_path, TRIALS / "gpt-5.5" / "run_1", "run_1")
    trunc = _copy_trial(tmp_path, TRIALS / "gpt-5.5" / "run_2", "run_2")
    text = (trunc / "agent" / "trajectory.json").read_text()
    (trunc / "agent" / "trajectory.json").write_text(text[: len(text) // 2])
    odd = _copy_trial(tmp_path, TRIALS / "gpt-5.5" / "run_3", "run_3")
    doc = json.loads((odd / "agent" / "trajectory.json").read_text())
    doc["schema_version"] = "ATIF-v9.0"
    (odd / "agent" / "trajectory.json").write_text(json.dumps(doc))
    (odd / "agent" / "recording.cast").write_text("not a cast\n")
    broken = _copy_trial(tmp_path, TRIALS / "claude-opus-4-8" / "run_1", "run_4")
    (broken / "result.json").unlink()
    named = _copy_trial(tmp_path, TRIALS / "claude-opus-4-8" / "run_2", "run_5")
    doc = json.loads((named / "result.json").read_text())
    doc["trial_name"] = 5  # named as a trial, not one
    (named / "result.json").write_text(json.dumps(doc))
    long_ago = time.time() - 2 * 3600  # nothing written for two hours: not running
    for f in [broken, *broken.rglob("*")]:
        os.utime(f, (long_ago, long_ago))
    store = Store.open(tmp_path / "job")
    runs = _runs(store)
    assert sorted(r["run"] for r in runs) == [1, 2, 3]
    reasons = {(p.file, p.reason) for p in store.problems()}
    joined = "\n".join(f"{f}: {r}" for f, r in reasons)
    assert "run_2/agent/trajectory.json: trajectory unreadable: truncated JSON" in joined
    assert "run_3/agent/trajectory.json: unknown trajectory version 'ATIF-v9.0'" in joined
    assert "run_3/agent/recording.cast" in joined
    assert "run_4: Harbor trial without result.json" in joined
    assert "run_5/result.json: not a Harbor trial result" in joined
    n_steps = len(json.loads((good / "agent" / "trajectory.json").read_text())["steps"])
    by_run = {r["run"]: r for r in runs}
    assert sum(1 for s in store.spans(by_run[1]["cell_id"]) if s["kind"] == "step") == n_steps
    assert not [s for s in store.spans(by_run[2]["cell_id"]) if s["kind"] == "step"]
    assert [s for s in store.spans(by_run[3]["cell_id"]) if s["kind"] == "step"]


def test_a_trial_still_running_shows_as_running_with_its_elapsed_time(tmp_path: Path) -> None:
    """A trial folder with its config.json and agent files but no result.json yet, written to
    a minute ago: a run with status running, no pass, its wall time the time since its config
    was written, its recording playable; printed by tail only once it has completed."""
    from cabtui.commands.tail import new_runs

    _copy_trial(tmp_path, TRIALS / "gpt-5.5" / "run_1", "run_1")
    live = _copy_trial(tmp_path, TRIALS / "gpt-5.5" / "run_2", "run_2")
    (live / "result.json").unlink()
    started = time.time() - 150
    os.utime(live / "config.json", (started, started))
    os.utime(live / "agent" / "recording.cast", (started + 90, started + 90))
    store = Store.open(tmp_path / "job")
    try:
        runs = {r["run"]: r for r in _runs(store)}
        assert set(runs) == {1, 2}
        running = runs[2]
        # named as the finished trial of its task and agent names them: the same cell
        assert running["cell_id"] == runs[1]["cell_id"] + "#run2"
        assert running["status"] == "running" and running["pass"] is None
        assert 150_000 <= running["wall_clock_ms"] < 150_000 + 120_000
        assert running["has_recording"]
        assert runs[1]["status"] == "ok"
        assert not [p for p in store.problems() if "without result.json" in p.reason]
        assert store.recording(running["cell_id"]) is not None
        printed = [r["cell_id"] for r in new_runs(store, Query(), set(), reveal=False)]
        assert printed == [runs[1]["cell_id"]]
    finally:
        store.close()


def test_a_trial_without_result_in_a_finished_job_is_not_running(tmp_path: Path) -> None:
    """The job's result.json says it has finished: a trial folder without its result.json,
    however recently written (a fresh copy), stopped before it finished."""
    _copy_trial(tmp_path, TRIALS / "gpt-5.5" / "run_1", "run_1")
    stopped = _copy_trial(tmp_path, TRIALS / "gpt-5.5" / "run_2", "run_2")
    (stopped / "result.json").unlink()
    os.utime(stopped / "config.json")  # written just now
    job = {"id": "j1", "started_at": "2026-06-25T02:50:00Z", "n_total_trials": 2,
           "stats": {"n_trials": 1, "n_errors": 0, "evals": {}}}  # fmt: skip
    (tmp_path / "job" / "result.json").write_text(json.dumps(job))
    store = Store.open(tmp_path / "job")
    try:
        assert sorted(r["status"] for r in _runs(store)) == ["ok", "running"]  # not finished
    finally:
        store.close()
    job["finished_at"] = "2026-06-25T03:40:00Z"
    (tmp_path / "job" / "result.json").write_text(json.dumps(job))
    store = Store.open(tmp_path / "job")
    try:
        assert [r["status"] for r in _runs(store)] == ["ok"]
        assert any(
            p.file.endswith("run_2") and "in a finished job" in p.reason for p in store.problems()
        )
    finally:
        store.close()


def test_a_cached_running_trial_is_read_again_once_it_may_have_stopped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whether a trial still runs depends on the clock, not only on its files: a cache holding
    a running trial is used while younger than RUNNING_TTL_S, then read again (here the trial
    is by then taken as stopped, and reported)."""
    from cabtui.sources import harbor as harbor_source
    from cabtui.store.store import RUNNING_TTL_S

    _copy_trial(tmp_path, TRIALS / "gpt-5.5" / "run_1", "run_1")
    live = _copy_trial(tmp_path, TRIALS / "gpt-5.5" / "run_2", "run_2")
    (live / "result.json").unlink()
    os.utime(live / "config.json")  # written just now

    def statuses() -> tuple[list[str], Path]:
        store = Store.open(tmp_path / "job")
        try:
            return sorted(r["status"] for r in _runs(store)), store.db_path
        finally:
            store.close()

    assert statuses()[0] == ["ok", "running"]
    monkeypatch.setattr(harbor_source, "STALE_S", -1.0)  # from now on, any silence is too long
    shown, cache = statuses()
    assert shown == ["ok", "running"]  # the cache, younger than RUNNING_TTL_S
    import duckdb

    con = duckdb.connect(str(cache))  # the cache as if built RUNNING_TTL_S + 60 s ago
    old = time.time() - RUNNING_TTL_S - 60
    con.execute("UPDATE meta SET value = ? WHERE key = 'built_at'", [repr(old)])
    con.close()
    assert statuses()[0] == ["ok"]


def _golden_trial(tmp_path: Path, stem: str) -> Path:
    """A Harbor trial holding one of Harbor's own test trajectories (with its continuations and
    sub-agent trajectories) and a TrialResult of the older shape (no model_info)."""
    trial = tmp_path / "jobs" / "2026-01-05__10-00-00" / "hello-world__abc1234"
    (trial / "agent").mkdir(parents=True)
    for f in GOLDEN.glob(f"{stem}.trajectory*.json"):
        (trial / "agent" / f.name.replace(f"{stem}.", "")).write_text(f.read_text())
    (trial.parent / "config.json").write_text(json.dumps({
        "job_name": "2026-01-05__10-00-00", "n_attempts": 1,
        "orchestrator": {"type": "local", "n_concurrent_trials": 1},
    }))  # fmt: skip
    result = {
        "id": "0b7c", "task_name": "hello-world", "trial_name": trial.name,
        "trial_uri": f"file://{trial}", "task_checksum": "abc",
        "agent_info": {"name": "terminus-2", "version": "2.0.0", "model_info": None},
        "config": {"agent": {"name": "terminus-2", "model_name": "openai/gpt-4o"}},
        "agent_result": {"n_input_tokens": 7802, "n_output_tokens": 1030, "cost_usd": 0.03},
        "verifier_result": {"rewards": {"reward": 1.0}},
        "exception_info": None,
        "started_at": "2026-01-05T10:00:00.000000", "finished_at": "2026-01-05T10:01:00.000000",
    }  # fmt: skip
    (trial / "result.json").write_text(json.dumps(result))
    return trial


def test_golden_trajectory_with_continuation_and_no_timestamps(tmp_path: Path) -> None:
    stem = "hello-world-context-summarization-linear-history"
    _golden_trial(tmp_path, stem)
    store = Store.open(tmp_path / "jobs")
    (run,) = _runs(store)
    assert run["tui"] == "terminus-2" and run["model"] == "openai/gpt-4o"
    assert run["sweep_id"] == "2026-01-05__10-00-00" and run["pass"] == 1.0
    main = json.loads((GOLDEN / f"{stem}.trajectory.json").read_text())["steps"]
    cont = json.loads((GOLDEN / f"{stem}.trajectory.cont-1.json").read_text())["steps"]
    expected = len(main) + sum(1 for s in cont if not s.get("is_copied_context"))
    steps = [s for s in store.spans(run["cell_id"]) if s["kind"] == "step"]
    assert len(steps) == expected
    starts = [s["start_ms"] for s in steps]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)  # in order, 1 s apart
    reasons = " ".join(p.reason for p in store.problems())
    assert "no timestamps" in reasons
    info = store.run(run["cell_id"]) or {}
    assert "local time" in json.dumps(info["extra"])  # naive times are said to be local


# -- Terminal-Bench: the run recorded here ---------------------------------------------------------


def test_tb_identity_pass_status_and_tests(tb: Store) -> None:
    meta = json.loads((TB / "run_metadata.json").read_text())
    runs = _runs(tb)
    assert len(runs) == 4
    for r in runs:
        task = r["task_id"].split("/", 1)[1]
        trial = next((TB / task).glob(f"{task}.{r['run']}-of-2.*"))
        doc = json.loads((trial / "results.json").read_text())
        assert r["source"] == "tb" and r["tui"] == meta["agent_name"]
        assert r["model"] == meta["model_name"] and r["sweep_id"] == meta["run_id"]
        assert r["pass"] == (1.0 if doc["is_resolved"] else 0.0)
        assert r["status"] == doc["failure_mode"]
        tests = tb.score_map([r["cell_id"]])[r["cell_id"]]["tests"]
        verdicts = doc["parser_results"]
        assert tests["passed"] == sum(1 for v in verdicts.values() if v == "passed")
        info = tb.run(r["cell_id"]) or {}
        assert {t["name"]: t["verdict"] for t in info["extra"]["tests"]} == verdicts
        panes = {p["name"] for p in info["extra"]["panes"]}
        assert panes == {"pre-agent.txt", "post-agent.txt", "post-test.txt"}


def test_tb_recordings_on_the_span_clock(tb: Store) -> None:
    for r in _runs(tb):
        task = r["task_id"].split("/", 1)[1]
        trial = next((TB / task).glob(f"{task}.{r['run']}-of-2.*"))
        run = tb.run(r["cell_id"]) or {}
        spans = {s["name"].split(" ")[0]: s for s in tb.spans(r["cell_id"])}
        for cast in ("agent.cast", "tests.cast"):
            header = json.loads((trial / "sessions" / cast).read_text().split("\n", 1)[0])
            at = (header["timestamp"] - run["started_at"].timestamp()) * 1000
            assert spans[cast]["start_ms"] == pytest.approx(at, abs=1.0)
        phases = {s["name"]: s for s in tb.spans(r["cell_id"]) if s["kind"] == "phase"}
        assert set(phases) == {"setup", "agent", "tests"}
        assert abs(spans["agent.cast"]["start_ms"] - phases["agent"]["start_ms"]) < 1500
        assert r["has_recording"]


# -- detection and times ---------------------------------------------------------------------------


def test_mixed_tree_opens_together(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "data" / "sweeps" / "expansion-20260616", tmp_path / "a" / "cab")
    shutil.copytree(TB.parent, tmp_path / "b" / "c" / "tb")
    _copy_trial(tmp_path / "d", TRIALS / "gpt-5.5" / "run_1", "x")
    store = Store.open(tmp_path)
    sources = sorted({r["source"] for r in _runs(store)})
    assert sources == ["cab", "harbor", "tb"]
    assert store.total() == 5 + 4 + 1


_KINDS = st.sampled_from(["cab", "harbor", "tb", "empty"])
# folder names; those detection never searches (node_modules, venv, .git...) left out
_NAMES = st.text(string.ascii_lowercase, min_size=1, max_size=5).filter(lambda s: s not in _SKIP)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    plan=st.lists(
        st.tuples(_KINDS, st.lists(_NAMES, max_size=4)),
        min_size=1, max_size=6,
    )
)  # fmt: skip
def test_detection_finds_each_kind_at_any_depth(
    tmp_path_factory: pytest.TempPathFactory, plan: list[tuple[str, list[str]]]
) -> None:
    root = tmp_path_factory.mktemp("tree")
    want: dict[str, set[Path]] = {"cab": set(), "harbor": set(), "tb": set()}
    for i, (kind, parts) in enumerate(plan):
        where = root.joinpath(*parts, f"{kind}{i}")
        where.mkdir(parents=True, exist_ok=True)
        if kind == "cab":
            (where / "results.jsonl").write_text("")
        elif kind == "harbor":
            (where / "result.json").write_text('{"task_name": "t", "trial_name": "t__x"}')
        elif kind == "tb":
            (where / "run_metadata.json").write_text('{"run_id": "r", "agent_name": "a"}')
        if kind != "empty":
            want[kind].add(where)
    found = scan(root)

    # a unit inside another recognised unit is not searched for
    def top(paths: set[Path]) -> set[Path]:
        every = want["cab"] | want["harbor"] | want["tb"]
        return {p for p in paths if not any(q != p and q in p.parents for q in every)}

    assert set(found.cab) == top(want["cab"])
    assert set(found.harbor) == top(want["harbor"])
    assert set(found.tb) == top(want["tb"])


def test_nothing_to_open_says_what_it_looked_for(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    sweeps, problems = discover(tmp_path)
    assert not sweeps and "Harbor trial" in problems[0].reason


@given(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(2100, 1, 1)),
       st.sampled_from(["Z", "+00:00", "+05:30", "-08:00", ""]))  # fmt: skip
def test_parse_time_reads_every_zone_form(dt: datetime, zone: str) -> None:
    text = dt.isoformat() + zone
    when = parse_time(text)
    assert when is not None
    assert when.naive == (zone == "")
    if zone in ("Z", "+00:00"):
        assert when.at == dt.replace(tzinfo=timezone.utc)
    if zone == "":
        assert when.at.replace(tzinfo=None) == dt or when.at.astimezone().replace(tzinfo=None) == dt


@given(st.one_of(st.text(max_size=50), st.integers(), st.floats(), st.none(), st.booleans()))
def test_parse_time_never_raises(value: object) -> None:
    parse_time(value)


def test_source_forces_one_reading(tmp_path: Path) -> None:
    """--source reads a mixed tree as one kind only; anything else is a usage error."""
    import subprocess
    import sys

    def ls(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cabtui.cli", "ls", str(ROOT / "data"), "--format", "json", *extra],
            capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    every = json.loads(ls().stdout)
    assert {r["source"] for r in every} >= {"cab", "harbor", "tb"}
    for kind in ("harbor", "tb"):
        only = json.loads(ls("--source", kind).stdout)
        assert only and {r["source"] for r in only} == {kind}
        assert len(only) == sum(1 for r in every if r["source"] == kind)
    bad = ls("--source", "nope")
    assert bad.returncode == 2 and "--source" in bad.stderr


def test_tb_replay_switches_between_its_two_recordings(tb: Store) -> None:
    from cabtui.replay.session import load_session

    cid = _runs(tb)[0]["cell_id"]
    first = load_session(tb, cid)
    second = load_session(tb, cid, which=1)
    assert first.recordings == second.recordings == ("agent.cast", "tests.cast")
    assert first.source is not None and first.source.endswith("agent.cast")
    assert second.source is not None and second.source.endswith("tests.cast")
    run = tb.run(cid) or {}
    for session in (first, second):
        header = json.loads(Path(session.source or "").read_text().split("\n", 1)[0])
        at = (header["timestamp"] - run["started_at"].timestamp()) * 1000
        assert session.clock.offset_ms == pytest.approx(at, abs=1.0)
    assert load_session(tb, cid, which=2).source == first.source  # round and round


def test_a_large_job_imported_over_several_processes_equals_one(
    harbor: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Split over processes (forced here for the nine trials), the import gives the same runs,
    spans, model calls and problems as in one process."""
    from cabtui.sources import harbor_import as harbor_source

    monkeypatch.setattr(harbor_source, "PARALLEL_FROM", 2)
    monkeypatch.setenv("CABTUI_CACHE_DIR", str(tmp_path / "cache"))
    split = Store.open(HARBOR, refresh=True)

    def tables(store: Store) -> list[list[tuple[object, ...]]]:
        cur = store.cursor()
        return [
            cur.execute(f"SELECT * EXCLUDE (source_file) FROM {t} ORDER BY ALL").fetchall()
            for t in ("spans", "model_calls")
        ] + [cur.execute("SELECT cell_id, pass, cost_usd, n_spans FROM runs ORDER BY 1").fetchall()]

    assert tables(split) == tables(harbor)
    assert sorted(map(str, split.problems())) == sorted(map(str, harbor.problems()))


def test_harbor_each_model_call_span_shows_its_own_call(harbor: Store) -> None:
    """Stepping onto a model call's span shows that call's prompt (its time, in whole
    microseconds, may fall a fraction of one after the span's start)."""
    from cabtui.replay.session import load_session

    checked = 0
    for run in _runs(harbor):
        timeline = load_session(harbor, run["cell_id"]).timeline
        for span in timeline.spans:
            if span.kind == "model_call":
                call = timeline.call_at(span.start_ms)
                assert call is not None and call.seq == span.attrs["seq"], span.name
                checked += 1
    assert checked > 100
