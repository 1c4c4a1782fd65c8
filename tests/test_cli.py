"""The cab-tui command line, run as a user runs it (a subprocess of the installed entry point)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import EXPANSION

RECORDS = [json.loads(line) for line in (EXPANSION / "results.jsonl").read_text().splitlines()]


def cab(*args: str, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    return subprocess.run(
        [sys.executable, "-m", "cabtui.cli", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_ls_json_gives_the_five_runs_with_recomputed_composite() -> None:
    res = cab("ls", str(EXPANSION), "--format", "json")
    assert res.returncode == 0, res.stderr
    runs = json.loads(res.stdout)
    assert sorted(r["cell_id"] for r in runs) == sorted(r["cell_id"] for r in RECORDS)
    required = {"cell_id", "sweep_id", "tui", "model", "task_id", "family", "run", "pass", "wall_clock_ms",
                "blast_radius", "refusal", "integrity", "composite", "composite_recorded", "composite_mismatch"}  # fmt: skip
    for r in runs:
        assert required <= r.keys()
        assert abs(r["composite"] - r["composite_recorded"]) <= 0.0005
        assert r["composite_mismatch"] is False


def test_ls_filter_sort_limit_and_csv() -> None:
    res = cab(
        "ls", str(EXPANSION), "pass:0", "--sort", "wall_clock_ms", "--desc", "--format", "json"
    )
    walls = [r["wall_clock_ms"] for r in json.loads(res.stdout)]
    expected = sorted(
        (
            r["scores"]["latency"]["wall_clock_ms"]
            for r in RECORDS
            if r["scores"]["pass_rate"]["pass"] == 0
        ),
        reverse=True,
    )
    assert walls == pytest.approx(expected)
    res = cab("ls", str(EXPANSION), "--limit", "2", "--format", "csv")
    assert res.returncode == 0
    assert len(res.stdout.strip().splitlines()) == 3  # header + 2
    res = cab("ls", str(EXPANSION), "--by", "cell", "--format", "json")
    assert {c["n"] for c in json.loads(res.stdout)} == {1}


def test_bad_filter_is_a_usage_error_naming_the_term() -> None:
    res = cab("ls", str(EXPANSION), "pass:0 nosuch:1")
    assert res.returncode == 2
    assert "nosuch:1" in res.stderr and "column 7" in res.stderr
    assert "Traceback" not in res.stderr


def test_missing_directory_and_bad_options() -> None:
    res = cab("ls", "/nonexistent/sweep")
    assert (
        res.returncode == 2 and "no such directory" in res.stderr and "Traceback" not in res.stderr
    )
    assert cab("ls", str(EXPANSION), "--sort", "nope").returncode == 2
    assert cab("ls", str(EXPANSION), "--format", "xml").returncode == 2


def test_load_reports_problems_with_exit_1(sweep_copy: Path) -> None:
    assert cab("load", str(EXPANSION)).returncode == 0
    with open(sweep_copy / "results.jsonl", "a") as f:
        f.write("{broken\n")
    res = cab("load", str(sweep_copy))
    assert res.returncode == 1
    assert "results.jsonl:6" in res.stderr and "malformed JSON" in res.stderr
    assert "5 runs" in res.stdout


def test_show_json_has_every_key_and_masks_secrets(sweep_copy: Path) -> None:
    pi = next(r for r in RECORDS if "/pi/" in r["cell_id"])
    res = cab("show", str(EXPANSION), pi["cell_id"], "--format", "json")
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    keys = {(s["axis"], s["key"]) for s in doc["scores"]}
    assert {(a, k) for a, ks in pi["scores"].items() for k in ks} <= keys
    assert doc["run"]["cell_id"] == pi["cell_id"] and len(doc["spans"]) == 5
    text = json.dumps(doc["spans"])
    raw = (next((EXPANSION / "runs" / "pi").rglob("spans.jsonl"))).read_text()
    assert "--api-key" in raw and "sk-" in raw  # the real run carries a key in argv
    assert "sk-" not in text
    revealed = cab(
        "show", str(EXPANSION), pi["cell_id"], "--format", "json", "--reveal-secrets"
    ).stdout
    assert "sk-" in revealed


def test_show_text_renders_tails_without_raw_escapes() -> None:
    copilot = next(r for r in RECORDS if "/copilot/" in r["cell_id"])
    res = cab("show", str(EXPANSION), copilot["cell_id"])
    assert res.returncode == 0, res.stderr
    assert "\x1b" not in res.stdout
    assert "stdout_tail" in res.stdout and "grader_exit_code" in res.stdout


def test_show_unknown_cell_is_a_data_error() -> None:
    res = cab("show", str(EXPANSION), "no-such-cell")
    assert res.returncode == 1 and "no run" in res.stderr


def test_synth_is_deterministic_and_loads(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    assert cab("synth", str(a), "--runs", "30", "--seed", "4").returncode == 0
    assert cab("synth", str(b), "--runs", "30", "--seed", "4").returncode == 0
    assert (a / "results.jsonl").read_bytes() == (b / "results.jsonl").read_bytes()
    assert json.loads((a / "sweep.json").read_text())["synthetic"] is True
    res = cab("ls", str(a), "--format", "json", "--limit", "1000")
    assert len(json.loads(res.stdout)) == 30


def test_every_command_has_help() -> None:
    for command in ("load", "ls", "show", "synth", "open", "frame"):
        res = cab(command, "--help")
        assert res.returncode == 0 and "Usage" in res.stdout, command
