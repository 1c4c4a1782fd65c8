"""A published sweep on a local S3 server (issue: sweeps on object storage, speed).

    .venv/bin/python bench/remote_bench.py [--runs 100000] [--dir /tmp/cabtui-remote-bench]

Builds (or reuses) a synthetic sweep, exports it, uploads the export to SeaweedFS (``weed
mini`` from the dev extra, on loopback) and prints: the export's size; open to first grid (the
manifest and the runs index fetched into a fresh cache, then the first page and the counts);
a run's detail, spans and model calls on its first visit and on its second; each with seconds
and bytes received. Targets: first grid under 2 s and 5 MB; a first visit under 0.5 s and 3 MB.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.fs as pafs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cabtui.store.export import export  # noqa: E402
from cabtui.store.remote import RemoteStore  # noqa: E402
from cabtui.store.store import Store  # noqa: E402
from cabtui.sweep.synth import synth_sweep  # noqa: E402
from tests.remote_servers import ACCESS_KEY, SECRET_KEY, start_seaweed  # noqa: E402


def mb(n: int) -> str:
    return f"{n / 1e6:.2f} MB"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=100_000)
    ap.add_argument("--sweep", type=Path, help="Use this sweep instead of a synthetic one.")
    ap.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "cabtui-remote-bench")
    args = ap.parse_args()
    work: Path = args.dir
    work.mkdir(parents=True, exist_ok=True)
    os.environ["CABTUI_CACHE_DIR"] = str(work / "cache")
    sweep = args.sweep or work / f"synth-{args.runs}"
    if not (sweep / "results.jsonl").is_file():
        t = time.perf_counter()
        synth_sweep(sweep, args.runs, seed=0)
        print(f"synth {args.runs} runs: {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    local = Store.open(sweep)
    print(f"local store: {local.total()} runs ({time.perf_counter() - t:.1f} s)")
    out = work / f"export-{sweep.name}"
    if not (out / "manifest.json").is_file():
        t = time.perf_counter()
        export(local, out)
        print(f"export: {time.perf_counter() - t:.1f} s")
    files = [p for p in out.rglob("*") if p.is_file()]
    index = sum((out / n).stat().st_size for n in ("runs.parquet", "manifest.json"))
    print(f"export size: {mb(sum(p.stat().st_size for p in files))} in {len(files)} files; "
          f"runs index + manifest {mb(index)}")  # fmt: skip

    weed = start_seaweed(work / "weed", "sweeps")
    try:
        fs = pafs.S3FileSystem(access_key=ACCESS_KEY, secret_key=SECRET_KEY, scheme="http",
                               endpoint_override=weed.endpoint.split("://")[1], region="us-east-1")  # fmt: skip
        for _ in range(100):
            try:
                fs.create_dir("sweeps/team", recursive=True)
                break
            except OSError:
                time.sleep(0.1)
        pafs.copy_files(str(out), "sweeps/team/synth", source_filesystem=pafs.LocalFileSystem(),
                        destination_filesystem=fs, use_threads=True)  # fmt: skip
        os.environ.update(AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                          AWS_ENDPOINT_URL=weed.endpoint, AWS_REGION="us-east-1")  # fmt: skip
        os.environ["CABTUI_CACHE_DIR"] = str(work / f"cache-{time.time_ns()}")  # a fresh cache
        url = "s3://sweeps/team/synth"
        t = time.perf_counter()
        store = RemoteStore.open_url(url)
        page = store.runs(limit=200)
        n = store.count()
        store.cells(limit=200)
        took = time.perf_counter() - t
        got = store.transport.stats.bytes
        print(f"open to first grid: {took:.2f} s, {mb(got)} ({n} runs, first page {page.num_rows})")
        ids = store.runs(limit=None, columns=("cell_id",)).column("cell_id").to_pylist()
        for label, cid in (("first visit", ids[len(ids) // 2]), ("second visit", ids[len(ids) // 2]),
                           ("first visit, another part", ids[-7])):  # fmt: skip
            before = store.transport.stats.bytes
            t = time.perf_counter()
            detail = store.run(cid)  # the detail screen: the run, its scores, its related runs
            store.scores(cid)
            store.related(cid)
            spans = store.spans(cid)
            calls = store.model_calls(cid)
            store.recording(cid)
            took = time.perf_counter() - t
            assert detail is not None
            print(f"run detail, {label}: {took:.3f} s, {mb(store.transport.stats.bytes - before)} "
                  f"({len(spans)} spans, {len(calls)} model calls)")  # fmt: skip
        store.close()
        t = time.perf_counter()
        again = RemoteStore.open_url(url)
        again.runs(limit=200)
        print(f"reopen (cache kept, manifest read): {time.perf_counter() - t:.2f} s, "
              f"{mb(again.transport.stats.bytes)}")  # fmt: skip
        again.close()
    finally:
        weed.stop()


if __name__ == "__main__":
    main()
