"""Harbor import figures on a generated job (issue: Harbor and Terminal-Bench, speed).

    .venv/bin/python bench/harbor_bench.py [--trials 10000] [--steps 50] [--repeat 3]
                                           [--dir /tmp/cabtui-harbor]

Generates a Harbor job (config.json, result.json, <task>__<id>/ trials with result.json and an
ATIF agent/trajectory.json of N steps) once, then prints:
- the floor: DuckDB's own read_json of the same files into two tables, in a fresh child process
  (an in-memory database, DuckDB's default threads): ``CREATE TABLE r AS SELECT * FROM
  read_json('<job>/*/result.json', format='unstructured')`` and the same for
  ``<job>/*/agent/trajectory.json``, each file one row of one JSON column. It only parses the
  files: no spans or model calls are made from them, nothing is written but the two tables;
- cabtui's cold ingest of the job (Store.open with refresh=True), in a child process, with its
  stages (discover: finding the trials and reading their result.json; import: writing their
  runs, spans and model calls as sweep files, over a process pool; then DuckDB reading those);
- warm open (cache hit) and the first page of the grid (Store.runs, 200 rows);
- a live refresh: a trial added to the job (a copy of one, a rerun of its cell), then taken
  away, each followed by Store.open (which reads again only the cells that changed).

Both children run after the files were generated and read once (so both read from the page
cache). Beside each wall time is the CPU time the child and its workers used (user + system):
on a machine shared with other work the wall times vary much, the CPU times less; the ratio is
given for both, the target is on wall time. With --repeat N, the floor and the cold ingest are
taken N times, one after the other, and the verdict is on the median of the N ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

AGENTS = [
    ("terminus-2", "2.0.0"),
    ("claude-code", "1.0.0"),
    ("codex", "0.9.0"),
    ("openhands", "1.1"),
]
MODELS = ["anthropic/claude-opus-4-5", "openai/gpt-5", "google/gemini-3-pro", "qwen/qwen3-coder"]


def generate(root: Path, trials: int, steps: int, seed: int = 7) -> Path:
    job = root / f"job-{trials}x{steps}"
    if (job / "result.json").exists():
        return job
    rng = random.Random(seed)
    job.mkdir(parents=True, exist_ok=True)
    (job / "config.json").write_text(
        json.dumps({"job_name": job.name, "n_attempts": 3, "agents": []})
    )
    t_base = datetime(2026, 11, 1, tzinfo=timezone.utc)
    for i in range(trials):
        agent, version = AGENTS[i % len(AGENTS)]
        model = MODELS[(i // len(AGENTS)) % len(MODELS)]
        task = f"task-{(i // 16) % 250:03d}"
        name = f"{task}__{i:07x}"
        d = job / name
        (d / "agent").mkdir(parents=True)
        start = t_base + timedelta(seconds=i * 7)
        t = start + timedelta(seconds=30)
        lat = []
        steps_out = [
            {
                "step_id": 1,
                "timestamp": t.isoformat(),
                "source": "user",
                "message": f"Solve {task}.",
            }
        ]
        for s in range(2, steps + 1):
            ms = rng.uniform(300, 4000)
            lat.append(ms)
            t += timedelta(milliseconds=ms + rng.uniform(10, 800))
            steps_out.append({
                "step_id": s, "timestamp": t.isoformat(), "source": "agent", "model_name": model,
                "message": "Analysis: " + "x" * rng.randint(50, 300),
                "tool_calls": [{"tool_call_id": f"c{s}", "function_name": "bash_command",
                                "arguments": {"keystrokes": f"ls -la /app/{s}\n", "duration": 0.1}}],
                "observation": {"results": [{"source_call_id": f"c{s}", "content": "total 0\n" * rng.randint(1, 20)}]},
                "metrics": {"prompt_tokens": rng.randint(500, 9000), "completion_tokens": rng.randint(20, 400),
                            "cost_usd": rng.uniform(0, 0.02)},
            })  # fmt: skip
        end = t + timedelta(seconds=5)
        traj = {"schema_version": "ATIF-v1.6", "session_id": name,
                "agent": {"name": agent, "version": version, "model_name": model}, "steps": steps_out}  # fmt: skip
        (d / "agent" / "trajectory.json").write_text(json.dumps(traj))
        reward = 1.0 if rng.random() < 0.4 else 0.0
        result = {
            "id": f"{i:08x}", "task_name": task, "trial_name": name, "trial_uri": f"file://{d}",
            "task_id": {"path": f"tasks/{task}"}, "source": "bench", "task_checksum": f"{hash(task) & 0xffffffff:08x}",
            "config": {"agent": {"name": agent, "model_name": model}, "trials_dir": str(job), "job_id": "job-1"},
            "agent_info": {"name": agent, "version": version, "model_info": {"name": model.split("/")[1], "provider": model.split("/")[0]}},
            "agent_result": {"n_input_tokens": rng.randint(10_000, 900_000), "n_cache_tokens": 0,
                             "n_output_tokens": rng.randint(1000, 30_000), "cost_usd": rng.uniform(0.1, 3),
                             "metadata": {"api_request_times_msec": lat}},
            "verifier_result": {"rewards": {"reward": reward}},
            "exception_info": None,
            "started_at": start.isoformat(), "finished_at": end.isoformat(),
            "environment_setup": {"started_at": start.isoformat(), "finished_at": (start + timedelta(seconds=20)).isoformat()},
            "agent_setup": {"started_at": (start + timedelta(seconds=20)).isoformat(), "finished_at": (start + timedelta(seconds=29)).isoformat()},
            "agent_execution": {"started_at": (start + timedelta(seconds=29)).isoformat(), "finished_at": t.isoformat()},
            "verifier": {"started_at": t.isoformat(), "finished_at": end.isoformat()},
        }  # fmt: skip
        (d / "result.json").write_text(json.dumps(result))
    (job / "result.json").write_text(
        json.dumps(
            {
                "id": "job-1",
                "n_total_trials": trials,
                "stats": {"n_trials": trials, "n_errors": 0, "evals": {}},
            }
        )
    )
    return job


def cpu() -> float:
    """CPU seconds (user + system) of this process and its children waited for."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def child_floor(job: str) -> None:
    import duckdb

    con = duckdb.connect()
    t, c = time.perf_counter(), cpu()
    for table, pattern in (("r", "*/result.json"), ("t", "*/agent/trajectory.json")):
        con.execute(
            f"CREATE TABLE {table} AS SELECT * FROM read_json(?, format='unstructured')",
            [f"{job}/{pattern}"],
        )
    print(json.dumps({"took": time.perf_counter() - t, "cpu": cpu() - c}))


def child_ingest(job: str, cache: str) -> None:
    os.environ["CABTUI_CACHE_DIR"] = cache
    from cabtui.store.store import Query, Store

    t, c = time.perf_counter(), cpu()
    store = Store.open(Path(job), refresh=True)
    took, used = time.perf_counter() - t, cpu() - c
    stages = store.report.seconds if store.report else {}
    store.close()
    t = time.perf_counter()
    store = Store.open(Path(job))
    warm = time.perf_counter() - t
    t = time.perf_counter()
    store.runs(Query(), limit=200)
    grid = time.perf_counter() - t
    n = store.total()
    store.close()
    live = live_refresh(Path(job))
    print(json.dumps({"took": took, "cpu": used, "stages": stages, "warm": warm, "grid": grid, "runs": n,
                      "live": live}))  # fmt: skip


def live_refresh(job: Path) -> dict[str, list[float | bool]]:
    """A trial added to the job (a copy of its first, under a new name: a rerun of that cell),
    then taken away: the time each refresh (Store.open) takes, and whether it read in part."""
    from cabtui.store.store import Store

    first = min(p for p in job.iterdir() if (p / "result.json").is_file())
    new = job / f"{first.name.split('__')[0]}__zzlive{os.getpid()}"
    out: dict[str, list[float | bool]] = {}
    for step in ("added", "removed"):
        if step == "added":
            shutil.copytree(first, new)
        else:
            shutil.rmtree(new)
        t = time.perf_counter()
        store = Store.open(job)
        took = time.perf_counter() - t
        seconds = store.report.seconds if store.report else {}
        out[step] = [took, "refresh" in seconds]
        store.close()
    return out


def run_child(*args: str) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", *args], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, default=10_000)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument(
        "--repeat", type=int, default=3, help="floors and cold ingests, one after the other"
    )
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "cabtui-harbor")
    ap.add_argument("--child", nargs="+")
    a = ap.parse_args()
    if a.child:
        if a.child[0] == "floor":
            child_floor(a.child[1])
        else:
            child_ingest(a.child[1], a.child[2])
        return
    t = time.perf_counter()
    job = generate(a.dir, a.trials, a.steps)
    size = sum(f.stat().st_size for f in job.rglob("*") if f.is_file())
    print(
        f"== {job} ({size / 1e6:.0f} MB, {a.trials} trials x {a.steps} steps; made in {time.perf_counter() - t:.1f} s)"
    )
    pairs = []
    for _ in range(max(1, a.repeat)):
        f = run_child("floor", str(job))
        r = run_child("ingest", str(job), str(a.dir / "cache"))
        pairs.append((f, r))
        print(f"      floor {f['took']:7.2f} s (cpu {f['cpu']:6.2f} s)   cold ingest {r['took']:7.2f} s "
              f"(cpu {r['cpu']:6.2f} s)   ratio {r['took'] / f['took']:5.2f}x", flush=True)  # fmt: skip
    f, r = pairs[-1]
    print("      floor: DuckDB read_json of every result.json and trajectory.json into two")
    print(
        f"      tables (format='unstructured', a glob each)  {f['took']:8.2f} s  cpu {f['cpu']:6.2f} s"
    )
    print(
        f"      cabtui cold ingest                          {r['took']:8.2f} s  cpu {r['cpu']:6.2f} s  {r['runs']} runs"
    )
    for k, v in r["stages"].items():
        print(f"        stage {k:<36}{v:8.2f} s")
    ratios = sorted(r["took"] / f["took"] for f, r in pairs)
    cpus = sorted(r["cpu"] / max(f["cpu"], 1e-9) for f, r in pairs)
    ratio = ratios[len(ratios) // 2]
    print(f"      cpu ratio cold ingest / floor, median       {cpus[len(cpus) // 2]:8.2f}x")
    print(f"{'PASS' if ratio <= 1.5 else 'FAIL'}  ratio cold ingest / floor (wall), median of {len(pairs)} "
          f"{ratio:5.2f}x  < 1.5x  (range {ratios[0]:.2f}-{ratios[-1]:.2f}x)")  # fmt: skip
    warm = sorted(r["warm"] for _, r in pairs)[len(pairs) // 2]
    grid = sorted(r["grid"] for _, r in pairs)[len(pairs) // 2]
    print(
        f"{'PASS' if warm < 0.5 else 'FAIL'}  warm open (cache hit), median             {warm * 1000:8.0f} ms  < 500 ms"
    )
    print(
        f"{'PASS' if grid < 1.5 else 'FAIL'}  first grid page (store query), median     {grid * 1000:8.0f} ms  < 1500 ms"
    )
    for step, (took, part) in r["live"].items():
        how = "read in part" if part else "built again whole"
        print(f"      refresh, a trial {step:<8} (Store.open)      {took:8.2f} s  {how}")


if __name__ == "__main__":
    main()
