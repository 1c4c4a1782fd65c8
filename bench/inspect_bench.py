"""Inspect logs: cold ingest and warm open of a generated .eval log, against a floor.

    .venv/bin/python bench/inspect_bench.py [--samples 5000] [--events 60]

The log: one task, SAMPLES samples (epoch 1) of EVENTS events each, in the shape Inspect writes
(span_begin/span_end around solvers and scorers, model events with input and output, tool
events, sandbox and score events), members deflate-compressed (Python's zipfile cannot write
zstd; cabtui reads both the same way, zstd decompresses faster).

The floor: the same sample JSON documents, already extracted to files, read by DuckDB into
tables (``read_json`` of every sample into ``samples``, then ``unnest(events)`` into
``events``): what loading this data costs DuckDB with no Python in the loop. Cold ingest is
``Store.open`` on an empty cache (discover, read the zip member by member, write cabtui's
records, spans and model calls, ingest them); warm open is ``Store.open`` again (fingerprint
unchanged, cache reused). Peak RSS of this process is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def sample(i: int, n_events: int, t0: datetime) -> dict[str, object]:
    events: list[dict[str, object]] = []
    t = t0

    def ev(kind: str, **kw: object) -> dict[str, object]:
        nonlocal t
        t += timedelta(milliseconds=37)
        e = {"uuid": f"u{i}-{len(events)}", "span_id": "solver", "timestamp": t.isoformat(),
             "working_start": (t - t0).total_seconds(), "event": kind} | kw  # fmt: skip
        events.append(e)
        return e

    ev("span_begin", id="solvers", type="solvers", name="solvers")
    ev("span_begin", id="solver", parent_id="solvers", type="solver", name="react")
    k = 0
    while len(events) < n_events - 6:
        k += 1
        m = ev("model", model="mockllm/model",
               input=[{"role": "user", "content": f"step {k} of sample {i}: " + "x" * 200}],
               tools=[], tool_choice="auto", config={},
               output={"model": "model", "choices": [{"message": {"role": "assistant",
                       "content": f"running step {k}", "tool_calls": [{"id": f"c{k}",
                       "function": "bash", "arguments": {"command": f"echo {k}"}}]},
                       "stop_reason": "tool_calls"}],
                       "usage": {"input_tokens": 100 + k, "output_tokens": 20, "total_tokens": 120 + k}})  # fmt: skip
        m["completed"] = (t + timedelta(milliseconds=20)).isoformat()
        ev("tool", type="function", id=f"c{k}", function="bash", arguments={"command": f"echo {k}"},
           result=f"{k}\n", completed=(t + timedelta(milliseconds=30)).isoformat())  # fmt: skip
        ev("sandbox", action="exec", cmd=f"bash -c 'echo {k}'", result=0, output=f"{k}\n",
           completed=(t + timedelta(milliseconds=10)).isoformat())  # fmt: skip
    ev("span_end", id="solver")
    ev("span_end", id="solvers")
    ev("span_begin", id="scorers", type="scorers", name="scorers")
    ev(
        "score",
        score={"value": "C" if i % 3 else "I", "answer": "a"},
        target="t",
        intermediate=False,
    )
    ev("span_end", id="scorers")
    return {
        "id": i, "epoch": 1, "input": f"task {i}", "target": "t", "messages": [],
        "output": {"model": "model", "choices": []},
        "scores": {"match": {"value": "C" if i % 3 else "I", "answer": "a", "explanation": "e"}},
        "metadata": {}, "store": {}, "events": events,
        "model_usage": {"mockllm/model": {"input_tokens": 1000 + i, "output_tokens": 200, "total_tokens": 1200 + i}},
        "started_at": t0.isoformat(), "completed_at": t.isoformat(),
        "total_time": (t - t0).total_seconds(), "working_time": (t - t0).total_seconds() * 0.9,
        "uuid": f"s{i}", "attachments": {},
    }  # fmt: skip


def make_log(path: Path, raw: Path, n: int, n_events: int) -> int:
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    header = {
        "version": 2, "status": "success",
        "eval": {"eval_id": "bench", "run_id": "bench", "created": t0.isoformat(), "task": "bench",
                 "task_id": "bench", "model": "mockllm/model", "solver": "react",
                 "config": {"epochs": 1}, "dataset": {"samples": n},
                 "scorers": [{"name": "match", "options": {}, "metrics": []}]},
        "plan": {"name": "plan", "steps": []}, "results": {}, "stats": {},
    }  # fmt: skip
    raw.mkdir(parents=True)
    events = 0
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr(
            "_journal/start.json", json.dumps({k: header[k] for k in ("version", "eval", "plan")})
        )
        for i in range(1, n + 1):
            s = sample(i, n_events, t0 + timedelta(seconds=i))
            events += len(s["events"])  # type: ignore[arg-type]
            text = json.dumps(s)
            z.writestr(f"samples/{i}_epoch_1.json", text)
            (raw / f"{i}_epoch_1.json").write_text(text)
        z.writestr("header.json", json.dumps(header))
    return events


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--events", type=int, default=60)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as work:
        root = Path(work)
        os.environ["CABTUI_CACHE_DIR"] = str(root / "cache")
        logs = root / "logs"
        logs.mkdir()
        t = time.perf_counter()
        n_events = make_log(logs / "bench.eval", root / "raw", args.samples, args.events)
        print(f"log: {args.samples:,} samples, {n_events:,} events, "
              f"{(logs / 'bench.eval').stat().st_size / 2**20:.1f} MiB zipped "
              f"(made in {time.perf_counter() - t:.1f} s)")  # fmt: skip

        import duckdb

        con = duckdb.connect(str(root / "floor.duckdb"))
        t = time.perf_counter()
        con.execute(
            f"CREATE TABLE samples AS SELECT * FROM read_json('{root / 'raw'}/*.json', "
            "format='auto', maximum_object_size=268435456)"
        )
        con.execute("CREATE TABLE events AS SELECT id, unnest(events) AS e FROM samples")
        floor = time.perf_counter() - t
        n_floor = con.execute("SELECT count(*) FROM events").fetchone()[0]  # type: ignore[index]
        con.close()
        print(f"floor (DuckDB read_json of the extracted samples + unnest events): {floor:.2f} s "
              f"({n_floor:,} events)")  # fmt: skip

        from cabtui.store.store import Store

        t = time.perf_counter()
        store = Store.open(logs)
        cold = time.perf_counter() - t
        runs, spans, calls = (
            store.total(),
            *(
                store.cursor().execute(f"SELECT count(*) FROM {tbl}").fetchone()[0]  # type: ignore[index]
                for tbl in ("spans", "model_calls")
            ),
        )
        store.close()
        print(f"cold ingest: {cold:.2f} s ({runs:,} runs, {spans:,} spans, {calls:,} model calls)"
              f" = {cold / floor:.2f}x the floor")  # fmt: skip
        t = time.perf_counter()
        Store.open(logs).close()
        print(f"warm open: {time.perf_counter() - t:.3f} s")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of this process: {rss:.0f} MiB")


if __name__ == "__main__":
    main()
