"""A writer of a sweep in progress, run as its own process by the live tests.

``python tests/live_writer.py cab FULL LIVE DELAY``: FULL is a complete cabtui sweep (its
results.jsonl and spans.jsonl, perhaps per-run folders); LIVE already holds its first lines.
Each run of FULL not yet in LIVE is written as a harness would: its per-run folder (spans,
recording), its spans lines, then its results line in two writes ``DELAY`` seconds apart (a
last line without its newline in between). An optional fifth argument writes only that many runs.

``python tests/live_writer.py harbor FULL LIVE DELAY``: each trial folder of FULL (a folder with
result.json) missing from LIVE is copied without its result.json, which is then written in two
halves ``DELAY`` seconds apart (a JSON document caught mid-write in between).
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any


def _copy(src: Path, dst: Path, ignore: Any = None) -> None:
    """``src`` copied to ``dst`` as new files and folders (modified now, as a harness writes)."""
    shutil.copytree(src, dst, ignore=ignore, copy_function=shutil.copyfile, dirs_exist_ok=True)
    for folder in [dst, *(d for d in dst.rglob("*") if d.is_dir())]:
        os.utime(folder)


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as f:
        f.write(text)
        f.flush()


def cab(full: Path, live: Path, delay: float, limit: int | None = None) -> None:
    have = {json.loads(line)["cell_id"] for line in (live / "results.jsonl").open()}
    spans: dict[str, list[str]] = {}
    if (full / "spans.jsonl").is_file():
        for line in (full / "spans.jsonl").open():
            spans.setdefault(json.loads(line)["cell_id"], []).append(line)
    for line in (full / "results.jsonl").open():
        cid = json.loads(line)["cell_id"]
        if cid in have:
            continue
        if limit is not None:
            if limit <= 0:
                return
            limit -= 1
        folder = _run_folder(cid)
        if (full / folder).is_dir():
            _copy(full / folder, live / folder)
        if cid in spans:
            _append(live / "spans.jsonl", "".join(spans[cid]))
        half = len(line) // 2
        _append(live / "results.jsonl", line[:half])
        time.sleep(delay)
        _append(live / "results.jsonl", line[half:])
        time.sleep(delay)


def _run_folder(cell_id: str) -> Path:
    """runs/<tui>/<vendor>/<model>/<family>/<task>/run-<N> of a cell_id."""
    path, _, run = cell_id.partition("#run")
    return Path("runs", *path.split("/")[1:], f"run-{run or 1}")


def harbor(full: Path, live: Path, delay: float) -> None:
    for result in sorted(full.rglob("result.json")):
        trial = result.parent
        target = live / trial.relative_to(full)
        if (target / "result.json").exists():
            continue
        _copy(trial, target, shutil.ignore_patterns("result.json"))
        text = result.read_text()
        half = len(text) // 2
        (target / "result.json").write_text(text[:half])
        time.sleep(delay)
        _append(target / "result.json", text[half:])
        time.sleep(delay)


if __name__ == "__main__":
    kind, full_dir, live_dir, pause = sys.argv[1:5]
    if kind == "cab":
        cab(
            Path(full_dir), Path(live_dir), float(pause), int(sys.argv[5]) if sys.argv[5:] else None
        )
    else:
        harbor(Path(full_dir), Path(live_dir), float(pause))
