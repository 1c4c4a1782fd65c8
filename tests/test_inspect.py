"""Inspect eval logs read through the store, checked against inspect_ai's own reader: logs made
here by Inspect itself (mockllm, a bash tool in the local sandbox), Inspect's own test logs
(tests/data/inspect, see its PROVENANCE.md), and broken logs."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cabtui.cli import app
from cabtui.compare.stats import paired
from cabtui.sources import discover
from cabtui.sources.common import model_parts
from cabtui.sources.inspect_map import PASS_SCORER_ENV, to_float
from cabtui.store.query import Query
from cabtui.store.store import Store
from tests.conftest import ROOT

inspect_log = pytest.importorskip("inspect_ai.log")
REAL = ROOT / "tests" / "data" / "inspect"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Logs made now by Inspect: shell_model.eval, shell_other.eval, shell_model.json."""
    import sys

    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from make_inspect_logs import make  # type: ignore[import-not-found]  # a script, on the path only here
    finally:
        sys.path.pop(0)
    out = tmp_path_factory.mktemp("inspect")
    make(out)
    return out


@pytest.fixture(scope="module")
def made_store(made: Path, cache_dir: Path) -> Store:
    return Store.open(made)


def _runs(store: Store) -> list[dict[str, Any]]:
    cols = ("cell_id", "source", "sweep_id", "tui", "model", "task_id", "run", "status", "pass",
            "wall_clock_ms", "agent_ms", "prompt_tokens", "completion_tokens", "cost_usd",
            "n_spans", "n_model_calls", "composite")  # fmt: skip
    rows: list[dict[str, Any]] = store.runs(Query(), limit=None, columns=cols).to_pylist()
    return rows


def _value(v: Any) -> dict[str, float | None]:
    if isinstance(v, dict):
        return {k: to_float(x) for k, x in v.items()}
    return {"value": to_float(v)}


def _cross_check(store: Store, logs: list[Path]) -> int:
    """Every sample, epoch, score and token count of each log as inspect_ai reads it equals
    what the store holds. Returns the number of samples checked."""
    runs = _runs(store)
    checked = 0
    for path in logs:
        log = inspect_log.read_eval_log(str(path))
        model = "/".join(model_parts(log.eval.model))
        mine = [r for r in runs if r["model"] == model]
        by_key: dict[tuple[str, int], dict[str, Any]] = {}
        for r in mine:
            info = store.run(r["cell_id"]) or {}
            if info["extra"].get("log", "").split("/")[0].startswith(path.name):
                by_key[(info["extra"]["sample_id"], info["extra"]["epoch"])] = r | {"info": info}
        assert len(by_key) == len(log.samples or []), path.name
        for s in log.samples or []:
            r = by_key[(str(s.id), s.epoch)]
            assert r["source"] == "inspect" and r["composite"] is None
            assert r["task_id"].split("/", 1)[1] == str(s.id).replace("/", "_")
            usage = list(s.model_usage.values())
            assert r["prompt_tokens"] == (sum(u.input_tokens for u in usage) if usage else None)
            assert r["completion_tokens"] == (
                sum(u.output_tokens for u in usage) if usage else None
            )
            if s.total_time is not None:
                assert r["wall_clock_ms"] == pytest.approx(s.total_time * 1000)
            if s.working_time is not None:
                assert r["agent_ms"] == pytest.approx(s.working_time * 1000)
            status = "error" if s.error else (f"limit:{s.limit.type}" if s.limit else "ok")
            assert r["status"] == status
            axes = store.score_map([r["cell_id"]]).get(r["cell_id"], {})
            for name, score in (s.scores or {}).items():
                got = {k: v for k, v in axes[name].items() if v is not None}
                want = {k: v for k, v in _value(score.value).items() if v is not None}
                assert got == pytest.approx(want), (name, got, want)
            first = next(iter(log.eval.scorers or []), None)
            if first is not None and first.name in (s.scores or {}):
                v = to_float((s.scores or {})[first.name].value)
                assert r["pass"] == (v if isinstance(v, float) and 0 <= v <= 1 else None)
            scorers = {d["name"]: d for d in r["info"]["extra"]["scorers"]}
            for name, score in (s.scores or {}).items():
                if isinstance(score.answer, str) and not score.answer.startswith("attachment:"):
                    assert scorers[name]["answer"] == score.answer[:4000]
            models = [e for e in s.events if e.event == "model"]
            tools = [e for e in s.events if e.event == "tool"]
            assert r["n_model_calls"] == len(models)
            spans = store.spans(r["cell_id"])
            assert sum(1 for x in spans if x["kind"] == "tool_call") == len(tools)
            assert sum(1 for x in spans if x["kind"] == "model_call") == len(models)
            calls = store.model_calls(r["cell_id"])
            for call, ev in zip(calls, models):
                assert call["prompt_tokens"] == (
                    ev.output.usage.input_tokens if ev.output.usage else None
                )
                if ev.completed is not None:
                    ms = (ev.completed - ev.timestamp).total_seconds() * 1000
                    assert call["latency_ms"] == pytest.approx(ms, abs=0.01)
            checked += 1
    return checked


# -- logs made here ---------------------------------------------------------------------------


def test_made_logs_equal_inspect_read_eval_log(made_store: Store, made: Path) -> None:
    logs = sorted(made.iterdir())
    assert _cross_check(made_store, logs) == 36  # 4 samples x 3 epochs x 3 logs
    runs = _runs(made_store)
    assert {r["status"] for r in runs} == {"ok", "error", "limit:message"}
    assert {r["tui"] for r in runs} == {"mock_agent"}
    # The json log runs the same task, solver and model again: its epochs follow the first's.
    model_runs = sorted(
        r["run"] for r in runs if r["model"] == "mockllm/model" and r["task_id"].endswith("/echo")
    )
    assert model_runs == [1, 2, 3, 4, 5, 6]


def test_made_logs_spans_markers_and_tool_errors(made_store: Store) -> None:
    runs = {(r["task_id"].split("/")[1], r["model"], r["run"]): r for r in _runs(made_store)}
    wrong = runs[("wrong", "mockllm/model", 1)]
    spans = made_store.spans(wrong["cell_id"])
    kinds = {s["kind"] for s in spans}
    assert {
        "sample",
        "solvers",
        "solver",
        "scorers",
        "scorer",
        "model_call",
        "tool_call",
        "marker",
    } <= kinds
    tools = [s for s in spans if s["kind"] == "tool_call"]
    assert any(s["error"] and "parsing" in json.dumps(s["error"]) for s in tools)
    assert any("missing.txt" in json.dumps(s["attrs"]) for s in tools)
    markers = [s for s in spans if s["kind"] == "marker"]
    assert all(m["duration_ms"] == 0 for m in markers)
    assert any(m["name"].startswith("sandbox exec") for m in markers)
    assert sum(1 for m in markers if m["name"].startswith("score ")) == 2
    loop = runs[("loop", "mockllm/model", 1)]
    assert any(m["name"].startswith("limit message") for m in made_store.spans(loop["cell_id"]))
    # every span lies within the sample and model calls carry their seq
    for s in spans:
        assert s["start_ms"] is not None and s["start_ms"] >= 0
    calls = made_store.model_calls(wrong["cell_id"])
    assert [c["seq"] for c in calls] == [1, 2, 3]
    assert "Run the script for wrong" in calls[0]["prompt"]
    assert calls[0]["completion"]["tool_calls"][0]["function"] == "bash"
    assert calls[-1]["completion"]["message"] == "It says goodbye"
    info = made_store.run(runs[("crash", "mockllm/model", 1)]["cell_id"]) or {}
    assert "the agent fell over" in info["extra"]["error"]["message"]


def test_paired_over_the_samples_two_logs_share(made_store: Store, made: Path) -> None:
    r = paired(made_store, "model", "mockllm/model", "mockllm/other")
    pass_metric = r["metrics"]["pass"] if "metrics" in r else r["pass"]
    assert pass_metric["n"] == 3  # echo, wrong, loop: crash has no score on either side
    result = CliRunner().invoke(
        app, ["paired", str(made), "model", "mockllm/model", "mockllm/other", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["paired_on"] == ["sweep_id", "task_id", "tui"]


def test_pass_scorer_names_another_scorer(made: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASS_SCORER_ENV, "shell_work.files")
    store = Store.open(made, refresh=True)
    try:
        for r in _runs(store):
            axes = store.score_map([r["cell_id"]]).get(r["cell_id"], {})
            assert r["pass"] == (axes["shell_work"]["files"] if "shell_work" in axes else None)
    finally:
        store.close()
    monkeypatch.delenv(PASS_SCORER_ENV)
    Store.open(made, refresh=True).close()


def test_one_log_file_opens_alone(made: Path) -> None:
    sweeps, problems = discover(made / "shell_other.eval")
    assert not problems and len(sweeps) == 1 and sweeps[0].source == "inspect"
    result = CliRunner().invoke(
        app, ["ls", str(made / "shell_other.eval"), "--format", "json", "--limit", "100"]
    )
    assert result.exit_code == 0, result.output
    assert len(json.loads(result.output)) == 12


def test_filters_on_scorer_axes(made_store: Store) -> None:
    runs = _runs(made_store)
    assert made_store.count(Query("source:inspect includes.value=1")) == sum(
        1 for r in runs if r["pass"] == 1
    )
    assert made_store.count(Query("status:error")) == 9


# -- Inspect's own test logs ------------------------------------------------------------------------


def test_real_inspect_logs(tmp_path: Path) -> None:
    for p in REAL.iterdir():
        if p.suffix in (".eval", ".json"):
            shutil.copy(p, tmp_path / p.name)
    store = Store.open(tmp_path)
    try:
        assert not store.problems(), store.problems()
        logs = sorted(p for p in tmp_path.iterdir())
        assert _cross_check(store, logs) == 25
        runs = _runs(store)
        # the two popularity logs of one model: epochs numbered on across the two logs
        gpt = sorted(
            r["run"]
            for r in runs
            if r["model"] == "openai/gpt-4o-mini" and r["task_id"] == "popularity/1"
        )
        assert gpt == [1, 2]
        # older logs: step events make the tree, times come from the events
        old = next(r for r in runs if r["model"] == "openai/gpt-4o-mini")
        assert old["wall_clock_ms"] is not None and old["wall_clock_ms"] > 0
        assert any(s["kind"] == "solver" for s in store.spans(old["cell_id"]))
    finally:
        store.close()


# -- bad input -----------------------------------------------------------------------------------


def _rezip(src: Path, dst: Path, drop: str = "", edit: dict[str, bytes] | None = None) -> None:
    """``src`` rewritten as a deflate zip, without member ``drop`` and with ``edit`` applied."""
    from cabtui.sources.evalzip import EvalZip

    with EvalZip(src) as z, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as out:
        for name in z.members:
            if name != drop:
                out.writestr(name, (edit or {}).get(name) or z.read(name))


def test_bad_logs_are_reported_once_and_the_rest_loads(made: Path, tmp_path: Path) -> None:
    good = made / "shell_model.eval"
    shutil.copy(good, tmp_path / "good.eval")
    with zipfile.ZipFile(tmp_path / "notalog.eval", "w") as z:
        z.writestr("hello.txt", "not a log")
    (tmp_path / "text.eval").write_text("plain text")
    data = good.read_bytes()
    (tmp_path / "cut.eval").write_bytes(data[: len(data) // 2])
    _rezip(good, tmp_path / "missing.eval", drop="samples/echo_epoch_2.json")
    sample = json.loads(
        zipfile.ZipFile(tmp_path / "missing.eval").read("samples/wrong_epoch_1.json")
    )
    sample["events"].insert(3, {"event": "teleport", "timestamp": sample["events"][3]["timestamp"]})
    _rezip(
        good,
        tmp_path / "odd.eval",
        edit={"samples/wrong_epoch_1.json": json.dumps(sample).encode()},
    )
    store = Store.open(tmp_path)
    try:
        problems = [(p.file, p.reason) for p in store.problems()]
        text = "\n".join(f"{f}: {r}" for f, r in problems)
        assert "notalog.eval: not a readable Inspect log: not an Inspect log" in text
        assert "text.eval: not a readable Inspect log: not a zip file" in text
        assert "cut.eval: the zip's directory is missing" in text
        assert "missing.eval/samples/echo_epoch_2.json: sample file missing from the log" in text
        assert (
            sum(1 for f, r in problems if "teleport" in r) == 1
            and "odd.eval: unknown event type 'teleport'" in text
        )
        runs = _runs(store)
        by_log: dict[str, int] = {}
        for r in runs:
            log = (store.run(r["cell_id"]) or {})["extra"]["log"].split("/")[0]
            by_log[log] = by_log.get(log, 0) + 1
        assert (
            by_log["good.eval"] == 12 and by_log["missing.eval"] == 12 and by_log["odd.eval"] == 12
        )
        assert 0 < by_log["cut.eval"] < 12  # the samples before the cut
    finally:
        store.close()


def test_a_log_still_being_written_loads_what_it_has(made: Path, tmp_path: Path) -> None:
    from cabtui.sources.evalzip import EvalZip

    with (
        EvalZip(made / "shell_model.eval") as z,
        zipfile.ZipFile(tmp_path / "running.eval", "w") as out,
    ):
        for name in list(z.members)[:6]:  # _journal/start.json, 4 samples, the first summaries
            out.writestr(name, z.read(name))
    store = Store.open(tmp_path)
    try:
        assert len(_runs(store)) == 4
        assert not store.problems()
    finally:
        store.close()


def _zstd_member(path: Path, payload: bytes, honest: bool) -> None:
    """A zip whose one member is zstd data (method 93); unless ``honest``, its headers claim the
    compressed length as the decompressed size (a size that lies) and the packed bytes' CRC."""
    import zlib

    import zstandard

    packed = zstandard.ZstdCompressor().compress(payload)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("samples/bomb_epoch_1.json", packed)
    data = bytearray(path.read_bytes())
    central = data.rfind(b"PK\x01\x02")
    for method_at, crc_at, size_at in ((8, 14, 22), (central + 10, central + 16, central + 24)):
        data[method_at : method_at + 2] = (93).to_bytes(2, "little")
        if honest:
            data[crc_at : crc_at + 4] = zlib.crc32(payload).to_bytes(4, "little")
            data[size_at : size_at + 4] = len(payload).to_bytes(4, "little")
    path.write_bytes(bytes(data))


def test_a_zstd_member_that_lies_about_its_size_stops_at_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tracemalloc

    from cabtui.sources import evalzip

    monkeypatch.setattr(evalzip, "MAX_MEMBER_BYTES", 1 << 20)
    log = tmp_path / "bomb.eval"
    _zstd_member(log, bytes(64 << 20), honest=False)  # 64 MiB of zeros, a few KiB packed
    z = evalzip.EvalZip(log)
    try:
        tracemalloc.start()
        with pytest.raises(evalzip.ZipProblem, match="larger than 1 MiB"):
            z.read("samples/bomb_epoch_1.json")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        z.f.close()
    assert peak < 40 << 20  # stopped near the limit, never the whole 64 MiB
    small = tmp_path / "small.eval"
    _zstd_member(small, b'{"id": 1}', honest=True)
    z = evalzip.EvalZip(small)
    try:
        assert z.read("samples/bomb_epoch_1.json") == b'{"id": 1}'
    finally:
        z.f.close()
