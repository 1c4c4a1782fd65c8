"""The incremental cache and run folders: a refresh reads again only the run folders that
changed (new, grown, rewritten or deleted files: spans, model calls, recordings) and the folders
of runs added by results.jsonl, and gives what a cold ingest of the same files gives."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cabtui.store.cache import open_cache
from cabtui.sweep.cellid import parse_cell_id
from cabtui.sweep.layout import run_dir_path
from cabtui.sweep.synth import synth_sweep
from tests.test_cache_incremental import assert_same_as_cold, incremental, refreshed_as_cold

RECORDING = Path(__file__).parent.parent / "recordings" / "cargo-fix.cast"


def folder_of(cell_id: str) -> Path:
    c = parse_cell_id(cell_id)
    return run_dir_path(c.tui, c.model, c.task_id, c.run)


@dataclass
class Writer:
    """A sweep written run by run as a harness writes it: the run's folder (its own spans,
    a recording that grows), then its results line."""

    templates: list[Path]  # the run folders runs' folders are copied from, in turn (they differ)
    sweep: Path
    lines: list[str]
    sent: int = 0
    clock: int = 1_700_000_000 * 10**9
    started: list[str] = field(default_factory=list)  # folders written, results line not yet

    def _stamp(self, path: Path) -> None:
        self.clock += 10**7
        os.utime(path, ns=(self.clock, self.clock))

    def start(self) -> None:
        """Write the next run's folder: its spans and the first part of its recording."""
        if self.sent + len(self.started) >= len(self.lines):
            return
        cid = json.loads(self.lines[self.sent + len(self.started)])["cell_id"]
        dst = self.sweep / folder_of(cid)
        dst.mkdir(parents=True, exist_ok=True)
        template = self.templates[(self.sent + len(self.started)) % len(self.templates)]
        for f in template.iterdir():
            shutil.copyfile(f, dst / f.name)
            self._stamp(dst / f.name)
        cast = RECORDING.read_text().splitlines(keepends=True)
        (dst / "recording.cast").write_text("".join(cast[: len(cast) // 3]))
        self._stamp(dst / "recording.cast")
        self.started.append(cid)

    def grow(self) -> None:
        """The recording of the oldest run started grows to its end."""
        if self.started:
            path = self.sweep / folder_of(self.started[0]) / "recording.cast"
            shutil.copyfile(RECORDING, path)
            self._stamp(path)

    def finish(self) -> None:
        """The oldest run started gets its results line."""
        if not self.started:
            return
        self.started.pop(0)
        with (self.sweep / "results.jsonl").open("a") as f:
            f.write(self.lines[self.sent])
        self.sent += 1
        self._stamp(self.sweep / "results.jsonl")

    def remove(self) -> None:
        """A finished run's folder is deleted."""
        for line in self.lines[: self.sent]:
            folder = self.sweep / folder_of(json.loads(line)["cell_id"])
            if folder.is_dir():
                shutil.rmtree(folder)
                return

    def spans(self) -> None:
        """A finished run's own spans file gains a line."""
        for line in self.lines[: self.sent]:
            path = self.sweep / folder_of(json.loads(line)["cell_id"]) / "spans.jsonl"
            if path.is_file():
                first = path.read_text().splitlines(keepends=True)[0]
                doc = json.loads(first)
                doc["span_id"] = f"{doc.get('span_id')}-more"
                with path.open("a") as f:
                    f.write(json.dumps(doc) + "\n")
                self._stamp(path)
                return


def writer(root: Path, runs: int = 9, start: int = 3, recent: bool = False) -> Writer:
    """``recent``: the files are written now (folders without their results line are running
    while newer than results.jsonl), else long ago (none is running)."""
    full, sweep = root / "full", root / "live"
    synth_sweep(full, runs, seed=3, spans_per_run=8, per_run_files=True)
    sweep.mkdir()
    shutil.copy(full / "sweep.json", sweep)
    # reruns of one run: lines of one shape, which DuckDB types alike however many it reads
    first = json.loads((full / "results.jsonl").read_text().splitlines()[0])
    base = first["cell_id"].partition("#")[0]
    lines = []
    for i in range(runs):
        doc = {**first, "cell_id": f"{base}#run{i + 1}"}
        lines.append(json.dumps(doc) + "\n")
    # the folders of every synthetic run: their spans and model calls differ in keys and types
    templates = sorted({p.parent for p in full.glob("runs/**/spans.jsonl")})
    w = Writer(templates, sweep, lines)
    if recent:
        w.clock = time.time_ns() - 600 * 10**9
    (sweep / "results.jsonl").write_text("")
    for _ in range(start):
        w.start()
        w.finish()
    return w


def test_a_new_run_folder_and_its_results_line_are_read_incrementally(tmp_path: Path) -> None:
    w = writer(tmp_path)
    open_cache(w.sweep)
    w.start()  # a folder without its results line: running, or without a record
    refreshed_as_cold(w.sweep, tmp_path)
    w.grow()
    refreshed_as_cold(w.sweep, tmp_path)
    w.finish()
    opened = open_cache(w.sweep)
    assert incremental(opened) and opened.report is not None
    assert opened.report.runs == 4 and opened.report.recordings == 4  # each run writes one
    assert_same_as_cold(w.sweep, opened.path, tmp_path)


def test_a_deleted_run_folder_takes_its_spans_and_recording_away(tmp_path: Path) -> None:
    w = writer(tmp_path)
    w.start()
    w.grow()
    w.finish()
    open_cache(w.sweep)
    w.remove()
    refreshed_as_cold(w.sweep, tmp_path)


def test_a_runs_own_record_json_rebuilds(tmp_path: Path) -> None:
    w = writer(tmp_path)
    open_cache(w.sweep)
    w.start()
    (w.sweep / folder_of(w.started[0]) / "record.json").write_text(w.lines[w.sent])
    refreshed_as_cold(w.sweep, tmp_path, in_part=False)


STEP = st.sampled_from(["start", "grow", "finish", "remove", "spans"])


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(STEP, min_size=1, max_size=7), recent=st.booleans())
def test_a_refreshed_cache_of_run_folders_is_the_cold_ingest(
    steps: list[str], recent: bool
) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        w = writer(root, recent=recent)
        open_cache(w.sweep)
        for step in steps:
            getattr(w, step)()
            opened = open_cache(w.sweep)
            assert opened.report is None or incremental(opened)  # None: nothing was written
            assert_same_as_cold(w.sweep, opened.path, root)


def test_a_run_folder_written_now_is_running_until_its_results_line(tmp_path: Path) -> None:
    w = writer(tmp_path, recent=True)
    open_cache(w.sweep)
    w.start()
    opened = open_cache(w.sweep)
    assert incremental(opened)
    con = duckdb.connect(str(opened.path), read_only=True)
    try:
        running = "SELECT cell_id, status FROM runs WHERE status = 'running'"
        assert con.execute(running).fetchall() == [(w.started[0], "running")]
    finally:
        con.close()
    assert_same_as_cold(w.sweep, opened.path, tmp_path)
    cid = w.started[0]
    w.finish()
    opened = open_cache(w.sweep)
    assert incremental(opened)
    con = duckdb.connect(str(opened.path), read_only=True)
    try:
        spans = len((w.templates[w.sent - 1] / "spans.jsonl").read_text().splitlines())
        assert con.execute(
            "SELECT status IS DISTINCT FROM 'running', n_spans, has_recording FROM runs "
            "WHERE cell_id = ?",
            [cid],
        ).fetchall() == [(True, spans, True)]
    finally:
        con.close()
    assert_same_as_cold(w.sweep, opened.path, tmp_path)
