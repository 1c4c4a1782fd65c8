"""The incremental refresh of run folders on the cases most likely to go wrong: each refreshed
cache is the cold ingest of the same files, read incrementally where the refresh can follow the
change and built again whole where it cannot."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from cabtui.store.cache import open_cache
from cabtui.sweep.synth import synth_sweep
from tests.test_cache_incremental import refreshed_as_cold

OLD = 1_700_000_000 * 10**9


class Clock:
    def __init__(self, recent: bool = False) -> None:
        # recent: written 20 minutes ago and on (a run folder without its record is running)
        self.t = time.time_ns() - 1200 * 10**9 if recent else OLD

    def stamp(self, path: Path) -> None:
        self.t += 10**7
        os.utime(path, ns=(self.t, self.t))

    def stamp_tree(self, root: Path) -> None:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                self.stamp(p)


def make_sweep(where: Path, runs: int = 3, clock: Clock | None = None, seed: int = 3) -> Path:
    """A synthetic sweep with its spans in run folders, every file written long ago."""
    synth_sweep(where, runs, seed=seed, spans_per_run=3, per_run_files=True)
    (clock or Clock()).stamp_tree(where)
    return where


def span_files(sweep: Path) -> list[Path]:
    return sorted(sweep.glob("runs/**/spans.jsonl"))


def append_line(path: Path, doc: dict[str, Any], clock: Clock) -> None:
    with path.open("a") as f:
        f.write(json.dumps(doc) + "\n")
    clock.stamp(path)


def test_a_span_whose_attrs_have_keys_no_other_run_has(tmp_path: Path) -> None:
    """A span whose attrs have a key no other run's span has, appended to one run's own file: read
    alone, that run's rows are what a cold ingest of every run's files together gives (the runs'
    own files are read with fixed column types, so no run's objects gain another run's keys)."""
    clock = Clock()
    sweep = make_sweep(tmp_path / "s", clock=clock)
    open_cache(sweep)
    first = span_files(sweep)[0]
    doc = json.loads(first.read_text().splitlines()[0])
    doc["span_id"] = "review-new-span"
    doc["attrs"] = {"a_key_no_other_span_has": 1}
    append_line(first, doc, clock)
    refreshed_as_cold(sweep, tmp_path)


def test_a_new_span_line_in_one_run_folder_of_a_sweep_whose_runs_differ(tmp_path: Path) -> None:
    """The same with nothing hostile: a copy of one of the run's own spans appended (same
    keys), while the runs' spans differ from one another (as real runs' do)."""
    clock = Clock()
    sweep = make_sweep(tmp_path / "s", clock=clock)
    open_cache(sweep)
    first = span_files(sweep)[0]
    doc = json.loads(first.read_text().splitlines()[0])
    doc["span_id"] = "review-new-span"
    append_line(first, doc, clock)
    refreshed_as_cold(sweep, tmp_path)


def uniform(sweep: Path, clock: Clock) -> Path:
    """Every run folder's spans.jsonl the same lines (so that how DuckDB types a stream of
    them does not depend on which runs it holds), written long ago."""
    files = span_files(sweep)
    for f in files[1:]:
        shutil.copyfile(files[0], f)
    clock.stamp_tree(sweep)
    return sweep


def more_span(path: Path, clock: Clock, tag: str = "more") -> None:
    doc = json.loads(path.read_text().splitlines()[0])
    doc["span_id"] = f"{doc['span_id']}-{tag}"
    append_line(path, doc, clock)


def test_control_uniform_runs_a_span_appended(tmp_path: Path) -> None:
    clock = Clock()
    sweep = uniform(make_sweep(tmp_path / "s", clock=clock), clock)
    open_cache(sweep)
    more_span(span_files(sweep)[0], clock)
    refreshed_as_cold(sweep, tmp_path)


def test_two_folders_of_one_run_run_1_and_run_01(tmp_path: Path) -> None:
    """runs/.../run-01/ and runs/.../run-1/ are both run 1, and a cold ingest reads both into it: a
    refresh, which reads one folder per run, builds the cache again whole."""
    clock = Clock()
    sweep = uniform(make_sweep(tmp_path / "s", clock=clock), clock)
    one = next(f for f in span_files(sweep) if f.parent.name == "run-1")
    shutil.copytree(one.parent, one.parent.parent / "run-01")
    clock.stamp_tree(one.parent.parent / "run-01")
    open_cache(sweep)
    more_span(one.parent.parent / "run-01" / "spans.jsonl", clock)
    refreshed_as_cold(
        sweep, tmp_path, in_part=False
    )  # two folders of one run are not followed alone


def two_sweeps_one_sweep_id(root: Path, clock: Clock) -> tuple[Path, Path]:
    """root/a and root/b: the same sweep (sweep.json, results.jsonl, run folders), b a copy
    of a (a backup, say): every run of b is a duplicate of a's run."""
    a = uniform(make_sweep(root / "a", clock=clock), clock)
    b = root / "b"
    shutil.copytree(a, b)
    clock.stamp_tree(b)
    return a, b


def test_a_run_folder_of_a_second_sweep_whose_runs_duplicate_the_first(tmp_path: Path) -> None:
    """A cold ingest reads b's run folders into the runs of its duplicate lines, which are a's: a
    refresh looks a folder's run up in its own sweep only, so two sweeps of one sweep_id with
    run folders build the cache again whole."""
    clock = Clock()
    root = tmp_path / "root"
    a, b = two_sweeps_one_sweep_id(root, clock)
    open_cache(root)
    more_span(span_files(b)[0], clock)
    refreshed_as_cold(
        root, tmp_path, in_part=False
    )  # two sweeps of one sweep_id are built again whole


def running_folder(sweep: Path, clock: Clock, run: int = 9) -> Path:
    """A new run folder (a copy of run-1's) without its results line, written after
    results.jsonl: running, in a sweep written to within the hour."""
    one = next(f for f in span_files(sweep) if f.parent.name == "run-1").parent
    new = one.parent / f"run-{run}"
    shutil.copytree(one, new)
    clock.stamp_tree(new)
    return new


def test_a_running_run_in_the_first_sweep_while_a_folder_of_the_second_changes(
    tmp_path: Path,
) -> None:
    """A refresh stages the first sweep's running runs again, then reads a folder of the second
    sweep: the runs taken back there are the second sweep's only, and the first sweep's running
    run keeps its spans."""
    clock = Clock(recent=True)
    root = tmp_path / "root"
    a = uniform(make_sweep(root / "a", clock=clock), clock)
    b = uniform(make_sweep(root / "b", runs=2, clock=clock, seed=4), clock)
    running_folder(a, clock)
    first = open_cache(root)
    con = duckdb.connect(str(first.path), read_only=True)
    try:
        assert con.execute(
            "SELECT count(*) FROM runs WHERE status = 'running' AND n_spans > 0"
        ).fetchall() == [(1,)]
    finally:
        con.close()
    more_span(span_files(b)[0], clock)
    refreshed_as_cold(root, tmp_path)


def test_a_bad_line_in_one_run_folder_and_another_folder_changes(tmp_path: Path) -> None:
    """A line that is not an object in run 2's spans: a cold ingest reads the whole stream of per-
    run files carefully; a refresh of run 1's folder reads it alone, fast, and gives the same
    rows."""
    clock = Clock()
    sweep = uniform(make_sweep(tmp_path / "s", clock=clock), clock)
    files = span_files(sweep)
    with files[1].open("a") as f:
        f.write("[1, 2]\n")
    clock.stamp(files[1])
    open_cache(sweep)
    more_span(files[0], clock)
    refreshed_as_cold(sweep, tmp_path)


def test_a_run_folders_spans_deleted_while_the_sweep_level_file_has_lines_of_it(
    tmp_path: Path,
) -> None:
    clock = Clock()
    sweep = uniform(make_sweep(tmp_path / "s", clock=clock), clock)
    files = span_files(sweep)
    cid = json.loads((sweep / "results.jsonl").read_text().splitlines()[0])["cell_id"]
    doc = json.loads(files[0].read_text().splitlines()[0])
    with (sweep / "spans.jsonl").open("w") as out:
        for i in range(3):
            out.write(json.dumps({**doc, "cell_id": cid, "span_id": f"level-{i}"}) + "\n")
        out.write(json.dumps({**doc, "cell_id": "synth-3-3/x/y/z/f/t", "span_id": "o"}) + "\n")
    clock.stamp_tree(sweep)
    open_cache(sweep)
    for f in files:
        f.unlink()
    refreshed_as_cold(sweep, tmp_path)


def test_sweep_level_spans_of_a_run_that_runs_then_stops_running(tmp_path: Path) -> None:
    """Sweep-level spans of a cell_id with no record are orphans; once its folder runs they
    are its spans; once results.jsonl gets a later line (another run's) it no longer runs."""
    clock = Clock(recent=True)
    sweep = uniform(make_sweep(tmp_path / "s", clock=clock), clock)
    lines = (sweep / "results.jsonl").read_text().splitlines(keepends=True)
    cid9 = json.loads(lines[0])["cell_id"].partition("#")[0] + "#run9"
    doc = json.loads(span_files(sweep)[0].read_text().splitlines()[0])
    with (sweep / "spans.jsonl").open("w") as f:
        for i in range(2):
            f.write(json.dumps({**doc, "cell_id": cid9, "span_id": f"level-{i}"}) + "\n")
    clock.stamp(sweep / "spans.jsonl")
    open_cache(sweep)
    running_folder(sweep, clock)
    refreshed_as_cold(sweep, tmp_path)
    with (sweep / "results.jsonl").open("a") as f:
        f.write(
            json.dumps({**json.loads(lines[0]), "cell_id": cid9.replace("#run9", "#run7")}) + "\n"
        )
    clock.stamp(sweep / "results.jsonl")
    refreshed_as_cold(sweep, tmp_path)


def test_an_empty_run_folder_made_before_its_files(tmp_path: Path) -> None:
    """A harness makes a run's folder, then writes its files. The empty folder is no file of the
    walk, but the cache remembers run folders as well as their files: a refresh made meanwhile
    (for another change) reports it as a cold ingest does (run directory without a run record)."""
    clock = Clock()
    sweep = uniform(make_sweep(tmp_path / "s", clock=clock), clock)
    files = span_files(sweep)
    open_cache(sweep)
    (files[0].parent.parent / "run-5").mkdir()
    more_span(files[0], clock)
    refreshed_as_cold(sweep, tmp_path)


def test_an_empty_run_folder_removed(tmp_path: Path) -> None:
    """The other way: the empty folder reported by the cold ingest is removed, and the refresh
    drops its problem."""
    clock = Clock()
    sweep = uniform(make_sweep(tmp_path / "s", clock=clock), clock)
    files = span_files(sweep)
    empty = files[0].parent.parent / "run-5"
    empty.mkdir()
    open_cache(sweep)
    empty.rmdir()
    more_span(files[0], clock)
    refreshed_as_cold(sweep, tmp_path)


def test_a_per_run_line_naming_another_run(tmp_path: Path) -> None:
    clock = Clock()
    sweep = uniform(make_sweep(tmp_path / "s", clock=clock), clock)
    files = span_files(sweep)
    open_cache(sweep)
    other = json.loads((sweep / "results.jsonl").read_text().splitlines()[1])["cell_id"]
    for extra in ({"cell_id": other}, {"cell_id": None}, {"cell_id": 5}):
        doc = json.loads(files[0].read_text().splitlines()[0])
        append_line(files[0], {**doc, **extra, "span_id": f"x{extra['cell_id']}"}, clock)
        refreshed_as_cold(sweep, tmp_path, in_part=False)  # built again whole


def test_duplicate_results_lines_and_late_folders(tmp_path: Path) -> None:
    clock = Clock(recent=True)
    sweep = uniform(make_sweep(tmp_path / "s", clock=clock), clock)
    files = span_files(sweep)
    lines = (sweep / "results.jsonl").read_text().splitlines(keepends=True)
    open_cache(sweep)
    steps = []

    def dup() -> None:
        with (sweep / "results.jsonl").open("a") as f:
            f.write(lines[0])
        clock.stamp(sweep / "results.jsonl")

    def late_folder() -> None:  # run 4's line first, its folder after
        doc = json.loads(lines[0])
        doc["cell_id"] = doc["cell_id"].partition("#")[0] + "#run4"
        with (sweep / "results.jsonl").open("a") as f:
            f.write(json.dumps(doc) + "\n")
        clock.stamp(sweep / "results.jsonl")
        steps.append("line")
        refreshed_as_cold(sweep, tmp_path, in_part=None)
        running_folder(sweep, clock, run=4)

    def partial() -> None:  # run 6: its folder, then its line in two writes
        running_folder(sweep, clock, run=6)
        refreshed_as_cold(sweep, tmp_path, in_part=None)
        doc = json.loads(lines[0])
        doc["cell_id"] = doc["cell_id"].partition("#")[0] + "#run6"
        text = json.dumps(doc)
        with (sweep / "results.jsonl").open("a") as f:
            f.write(text)
        clock.stamp(sweep / "results.jsonl")
        refreshed_as_cold(sweep, tmp_path)
        with (sweep / "results.jsonl").open("a") as f:
            f.write("\n")
        clock.stamp(sweep / "results.jsonl")

    for step in (dup, late_folder, partial, dup):
        step()
        refreshed_as_cold(sweep, tmp_path, why=step.__name__)
    more_span(files[0], clock)
    refreshed_as_cold(sweep, tmp_path)


def test_a_new_sweep_that_has_only_run_folders_yet(tmp_path: Path) -> None:
    """A directory holding runs/<tui>/.../run-<N>/ is a sweep (sources.detect.scan), even without
    sweep.json or results.jsonl yet: a harness starting a new sweep beside others. Its files are
    all files of run folders, which the tree digest leaves out: the refresh sees the sweep added
    to the sweeps found and builds the cache again whole."""
    clock = Clock()
    root = tmp_path / "root"
    a = uniform(make_sweep(root / "a", clock=clock), clock)
    open_cache(root)
    folder = span_files(a)[0].parent
    new = root / "b" / folder.relative_to(a)
    shutil.copytree(folder, new)
    clock.stamp_tree(root / "b")
    refreshed_as_cold(root, tmp_path, in_part=False)  # a sweep added is built again whole


def test_a_sweep_of_run_folders_only_removed(tmp_path: Path) -> None:
    """The other way: such a sweep removed builds the cache again whole."""
    clock = Clock()
    root = tmp_path / "root"
    a = uniform(make_sweep(root / "a", clock=clock), clock)
    folder = span_files(a)[0].parent
    new = root / "b" / folder.relative_to(a)
    shutil.copytree(folder, new)
    clock.stamp_tree(root / "b")
    open_cache(root)
    shutil.rmtree(root / "b")
    more_span(span_files(a)[0], clock)
    refreshed_as_cold(root, tmp_path, in_part=False)  # a sweep removed is built again whole


def test_a_broken_link_in_a_run_folder_that_does_not_change(tmp_path: Path) -> None:
    """A broken link in a run folder is reported by a cold ingest ("is a broken link"), though the
    walk skips it (its stat fails): a refresh made for another folder finds it among the
    problems of listing the sweep and builds the cache again whole."""
    clock = Clock()
    sweep = uniform(make_sweep(tmp_path / "s", clock=clock), clock)
    files = span_files(sweep)
    open_cache(sweep)
    (files[1].parent / "recording.cast").symlink_to(tmp_path / "nowhere.cast")
    more_span(files[0], clock)
    refreshed_as_cold(
        sweep, tmp_path, in_part=False
    )  # a sweep whose listing has problems is built again whole


def test_a_number_in_attrs_that_another_run_writes_as_a_float(tmp_path: Path) -> None:
    """The same keys everywhere, but one run (that does not change) writes a float where the others
    write an integer: each run keeps its own numbers (600 stays 600), read alone or with the
    others."""
    clock = Clock()
    sweep = uniform(make_sweep(tmp_path / "s", clock=clock), clock)
    files = span_files(sweep)
    text = files[2].read_text().replace('"timeout_s":600', '"timeout_s":600.5')
    assert text != files[2].read_text()
    files[2].write_text(text)
    clock.stamp(files[2])
    open_cache(sweep)
    more_span(files[0], clock)
    refreshed_as_cold(sweep, tmp_path)


def test_model_calls_in_run_folders_whose_prompts_differ(tmp_path: Path) -> None:
    """The same for the prompts of per-run model_calls.jsonl (lists of chat messages)."""
    clock = Clock()
    sweep = uniform(make_sweep(tmp_path / "s", clock=clock), clock)
    folders = [f.parent for f in span_files(sweep)]
    call = {"seq": 1, "timestamp": "2026-06-17T04:06:37.100Z", "request_hash": "sha256:0",
            "prompt": [{"role": "user", "content": "fix it"}], "completion": "ok",
            "prompt_tokens": 812, "completion_tokens": 95, "latency_ms": 1430.5,
            "finish_reason": "stop"}  # fmt: skip
    for i, folder in enumerate(folders):
        doc = dict(call)
        if i == 1:
            doc["prompt"] = [{"role": "tool", "content": "x", "tool_call_id": "c1"}]
        (folder / "model_calls.jsonl").write_text(json.dumps(doc) + "\n")
    clock.stamp_tree(sweep)
    open_cache(sweep)
    append_line(folders[0] / "model_calls.jsonl", {**call, "seq": 2}, clock)
    refreshed_as_cold(sweep, tmp_path)


def test_a_running_run_in_a_folder_run_04_then_its_line_then_its_folder_removed(
    tmp_path: Path,
) -> None:
    clock = Clock(recent=True)
    sweep = uniform(make_sweep(tmp_path / "s", clock=clock), clock)
    lines = (sweep / "results.jsonl").read_text().splitlines(keepends=True)
    open_cache(sweep)
    one = next(f for f in span_files(sweep) if f.parent.name == "run-1").parent
    new = one.parent / "run-04"
    shutil.copytree(one, new)
    clock.stamp_tree(new)
    refreshed_as_cold(sweep, tmp_path)
    doc = json.loads(lines[0])
    doc["cell_id"] = doc["cell_id"].partition("#")[0] + "#run4"
    with (sweep / "results.jsonl").open("a") as f:
        f.write(json.dumps(doc) + "\n")
    clock.stamp(sweep / "results.jsonl")
    refreshed_as_cold(sweep, tmp_path)
    shutil.rmtree(new)
    refreshed_as_cold(sweep, tmp_path)


DEEP = "[" * 200 + "]" * 200
HALF = json.dumps({f"k{i}": i for i in range(6000)})
ODD_LINES = {
    "deep name": '{"span_id": "odd", "name": %s}' % DEEP,
    "deep key no span has": '{"span_id": "odd", "other": %s}' % DEEP,
    "wide over two objects": '{"span_id": "odd", "attrs": %s, "error": %s}' % (HALF, HALF),
}


@pytest.mark.parametrize("kind", list(ODD_LINES))
def test_a_run_s_odd_line_fares_alike_read_alone_or_with_the_others(
    tmp_path: Path, kind: str
) -> None:
    """A line too deep or too wide somewhere in one run's spans, while another run's spans
    hold a line deep in attrs: read with every run's files (cold) or alone (its folder
    refreshed), the line needs the careful reading and costs itself alike. (A refresh does not
    read carefully: it builds the cache again, which is then the cold ingest.)"""
    clock = Clock()
    sweep = make_sweep(tmp_path / "s", clock=clock)
    a, b = span_files(sweep)[:2]
    for path, line in ((a, '{"span_id": "deep-attrs", "attrs": {"x": %s}}' % DEEP),
                       (b, ODD_LINES[kind])):  # fmt: skip
        with path.open("a") as f:
            f.write(line + "\n")
        clock.stamp(path)
    open_cache(sweep)
    append_line(b, {"span_id": "more"}, clock)
    opened = refreshed_as_cold(sweep, tmp_path, in_part=False)
    con = duckdb.connect(str(opened.path), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM spans WHERE span_id = 'odd'").fetchall() == [(0,)]
        lines = con.execute("SELECT count(*) FROM problems WHERE line IS NOT NULL").fetchall()
    finally:
        con.close()
    assert lines == [(2,)]  # the two odd lines, each at its line
