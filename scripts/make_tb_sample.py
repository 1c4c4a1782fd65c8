"""Make the bundled Terminal-Bench-shaped run: real programs recorded with asciinema.

    .venv/bin/python scripts/make_tb_sample.py [OUT]   # default data/terminal-bench

Writes one run in Terminal-Bench 1's layout (run_metadata.json, results.json, tb.lock and
``<task>/<task>.<k>-of-<n>.<run_id>/`` with results.json, commands.txt, panes/*.txt,
sessions/agent.cast and sessions/tests.cast), per its schema (terminal_bench/harness/models.py).
The "agent" is a shell script that types commands into a real bash, the tests are real pytest
runs; both are recorded by ``asciinema rec`` (the package in .venv), so the casts carry real
output, real timings and real header timestamps. Nothing here is a model's work: the run says so
in its metadata (agent ``scripted-shell``, model ``local/no-model``).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
ASCIINEMA = str(VENV_BIN / "asciinema")
PYTHON = str(VENV_BIN / "python")

GREET = 'import sys\n\n\ndef greet(name):\n    return "Hello, world"\n\n\nif __name__ == "__main__":\n    print(greet(sys.argv[1]))\n'
GREET_TEST = (
    "from greet import greet\n\n\ndef test_names_the_person():\n    assert greet('Ada') == 'Hello, Ada!'\n\n\n"
    "def test_other_names():\n    assert greet('Linus') == 'Hello, Linus!'\n"
)
COUNT = "import sys\n\n\ndef count(text):\n    return len(text.split(' '))\n"
COUNT_TEST = (
    "from count import count\n\n\ndef test_words():\n    assert count('a b  c') == 3\n\n\n"
    "def test_empty():\n    assert count('') == 0\n\n\ndef test_newlines():\n    assert count('a\\nb') == 2\n"
)

TASKS = {
    "fix-greeting": {
        "instruction": "greet.py should greet the person by name: greet('Ada') == 'Hello, Ada!'.",
        "files": {"greet.py": GREET, "test_greet.py": GREET_TEST},
        "tests": "test_greet.py",
        "attempts": [
            # attempt 1: a fix that keeps the comma out; attempt 2: the right fix
            ["cat greet.py", "sed -i 's/\"Hello, world\"/f\"Hello {name}!\"/' greet.py",
             "python3 greet.py Ada", "git diff --no-index /dev/null greet.py | tail -n 3 || true"],
            ["cat greet.py", "grep -n return greet.py",
             "sed -i 's/\"Hello, world\"/f\"Hello, {name}!\"/' greet.py", "python3 greet.py Ada",
             "python3 -c 'from greet import greet; print(greet(\"Linus\"))'"],
        ],
    },
    "count-words": {
        "instruction": "count.py's count() should count words separated by any whitespace.",
        "files": {"count.py": COUNT, "test_count.py": COUNT_TEST},
        "tests": "test_count.py",
        "attempts": [
            ["cat count.py", "sed -i \"s/text.split(' ')/text.split()/\" count.py",
             "python3 -c 'from count import count; print(count(\"a b  c\"), count(\"\"))'"],
            ["cat count.py", "ls -la", "printf 'a  b\\n' | python3 -c 'import sys; print(len(sys.stdin.read().split(\" \")))'"],
        ],
    },
}


def now() -> datetime:
    return datetime.now(timezone.utc)


def stamp(t: datetime) -> str:
    return t.isoformat()


def record(cast: Path, script: str, cwd: Path, cols: int = 100, rows: int = 24) -> None:
    """Record ``script`` (bash) running in ``cwd`` with asciinema."""
    env = dict(os.environ, PS1="$ ", TERM="xterm-256color", HOME=str(cwd), PYTHONDONTWRITEBYTECODE="1")
    env.pop("NO_COLOR", None)
    cmd = [ASCIINEMA, "rec", "-q", "--overwrite", "--cols", str(cols), "--rows", str(rows),
           "-c", f"bash --noprofile --norc -c {shlex.quote(script)}", str(cast)]
    subprocess.run(cmd, cwd=cwd, env=env, check=True, stdin=subprocess.DEVNULL, timeout=120)


def agent_script(commands: list[str]) -> str:
    lines = ["set +e"]
    for c in commands:
        lines.append(f"printf '\\033[1;32m$\\033[0m %s\\n' {shlex.quote(c)}")
        lines.append("sleep 0.4")
        lines.append(c)
        lines.append("sleep 0.6")
    return "\n".join(lines)


def trial(out: Path, run_id: str, task: str, spec: dict, k: int, n: int) -> dict:
    name = f"{task}.{k}-of-{n}.{run_id}"
    tdir = out / run_id / task / name
    (tdir / "sessions").mkdir(parents=True)
    (tdir / "panes").mkdir()
    (tdir / "agent-logs").mkdir()
    work = Path(tempfile.mkdtemp(prefix="cab-tb-"))
    try:
        for fname, text in spec["files"].items():
            (work / fname).write_text(text)
        commands = spec["attempts"][k - 1]
        started = now()
        (tdir / "panes" / "pre-agent.txt").write_text(
            subprocess.run(["ls", "-la"], cwd=work, capture_output=True, text=True).stdout
        )
        agent_start = now()
        record(tdir / "sessions" / "agent.cast", agent_script(commands), work)
        agent_end = now()
        (tdir / "commands.txt").write_text("".join(repr([c, "Enter"]) + "\n" for c in commands))
        (tdir / "panes" / "post-agent.txt").write_text(
            subprocess.run(["bash", "-c", "; ".join(f"echo '$ {c}'; {c}" for c in commands[-1:])],
                           cwd=work, capture_output=True, text=True).stdout
        )
        test_start = now()
        tests = f"{PYTHON} -m pytest -v -p no:cacheprovider --junitxml=report.xml {spec['tests']}"
        record(tdir / "sessions" / "tests.cast", f"printf '$ pytest -v {spec['tests']}\\n'; {tests}", work)
        test_end = now()
        verdicts = {}
        report = ET.parse(work / "report.xml")
        for case in report.iter("testcase"):
            failed = case.find("failure") is not None or case.find("error") is not None
            verdicts[case.get("name")] = "failed" if failed else "passed"
        post = subprocess.run([PYTHON, "-m", "pytest", "-q", "-p", "no:cacheprovider", spec["tests"]],
                              cwd=work, capture_output=True, text=True).stdout
        (tdir / "panes" / "post-test.txt").write_text(post)
        ended = now()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    resolved = all(v == "passed" for v in verdicts.values()) and bool(verdicts)
    result = {
        "id": str(uuid.uuid4()),
        "trial_name": name,
        "task_id": task,
        "instruction": spec["instruction"],
        "is_resolved": resolved,
        "failure_mode": "none" if resolved else "unset",
        "parser_results": verdicts,
        "recording_path": f"{run_id}/{task}/{name}/sessions/agent.cast",
        "total_input_tokens": None,
        "total_output_tokens": None,
        "trial_started_at": stamp(started),
        "trial_ended_at": stamp(ended),
        "agent_started_at": stamp(agent_start),
        "agent_ended_at": stamp(agent_end),
        "test_started_at": stamp(test_start),
        "test_ended_at": stamp(test_end),
    }
    (tdir / "results.json").write_text(json.dumps(result, indent=4))
    return result


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data" / "terminal-bench"
    start = now()
    run_id = start.strftime("%Y-%m-%d__%H-%M-%S")
    if out.exists():
        shutil.rmtree(out)
    (out / run_id).mkdir(parents=True)
    n = 2
    results = [trial(out, run_id, task, spec, k, n) for task, spec in TASKS.items() for k in range(1, n + 1)]
    end = now()
    resolved = [r["trial_name"] for r in results if r["is_resolved"]]
    meta = {
        "run_id": run_id,
        "uuid": str(uuid.uuid4()),
        "dataset_path": "scripts/make_tb_sample.py",
        "dataset_name": "cabtui-sample",
        "dataset_version": "1",
        "output_path": str(out),
        "agent_name": "scripted-shell",
        "no_rebuild": False,
        "cleanup": True,
        "log_level": 20,
        "task_ids": list(TASKS),
        "exclude_task_ids": None,
        "n_tasks": len(TASKS),
        "n_concurrent_trials": 1,
        "n_attempts": n,
        "dataset_size": len(TASKS),
        "accuracy": len(resolved) / len(results),
        "model_name": "local/no-model",
        "start_time": stamp(start),
        "end_time": stamp(end),
        "commit_hash": "unknown",
        "username": "cabtui",
        "s3_bucket": None,
        "agent_kwargs": {"note": "commands typed by a shell script, not by a model"},
        "pass_at_k": None,
        "resumed_at": None,
    }
    (out / run_id / "run_metadata.json").write_text(json.dumps(meta, indent=4))
    bench = {
        "id": str(uuid.uuid4()),
        "results": results,
        "pass_at_k": None,
        "n_resolved": len(resolved),
        "n_unresolved": len(results) - len(resolved),
        "resolved_ids": [r["task_id"] for r in results if r["is_resolved"]],
        "unresolved_ids": [r["task_id"] for r in results if not r["is_resolved"]],
        "accuracy": len(resolved) / len(results),
    }
    (out / run_id / "results.json").write_text(json.dumps(bench, indent=4))
    lock = {
        "lockfile_version": "1.0",
        "created_at": start.astimezone().isoformat(),
        "invocation": {"command": "python", "args": ["scripts/make_tb_sample.py"]},
        "harness": {"package": "cabtui-sample", "version": "1"},
        "agent": {"name": "scripted-shell", "import_path": None},
    }
    (out / run_id / "tb.lock").write_text(json.dumps(lock, indent=4))
    print(f"wrote {out / run_id}: {len(results)} trials, {len(resolved)} resolved")


if __name__ == "__main__":
    main()
