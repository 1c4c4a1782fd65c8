"""Hostile and unlucky input: FIFOs, symlink loops, unlistable directories, a cache that cannot
be written, killed ingests. Nothing valid is lost, nothing hangs, no traceback, no leak.

Commands that could hang run as subprocesses with a timeout, so a regression fails the test
instead of blocking the suite."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from cabtui.store import cache, cache_files
from cabtui.store.ingest import IngestReport, Progress
from cabtui.store.ingest import ingest as real_ingest
from cabtui.store.store import Store
from cabtui.sweep.layout import discover, open_regular
from tests.conftest import EXPANSION, ROOT, SAMPLE

RECORDED = SAMPLE / "recorded-20261123"
TIMEOUT = 30


def cab(*args: str, cache_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cabtui.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CABTUI_CACHE_DIR": str(cache_dir), "COLUMNS": "400", **env},
        timeout=TIMEOUT,
    )


def script_env(folder: Path) -> dict[str, str]:
    """The environment of a helper script: this checkout's cabtui, the given cache."""
    return {**os.environ, "CABTUI_CACHE_DIR": str(folder), "PYTHONPATH": str(ROOT)}


def no_traceback(res: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout, res.stderr


@pytest.fixture()
def recorded(tmp_path: Path) -> Path:
    """A writable copy of the recorded sample: per-run spans, model calls and recordings."""
    dst = tmp_path / "recorded-20261123"
    shutil.copytree(RECORDED, dst)
    return dst


def first_run(sweep: Path) -> Path:
    return sorted((sweep / "runs").rglob("run-1"))[0]


def fifo_at(path: Path) -> Path:
    if path.exists():
        path.unlink()
    os.mkfifo(path)
    return path


# -- only regular files are read ------------------------------------------------------------------


@pytest.mark.parametrize(
    "where, runs",
    [
        ("sweep.json", 7),
        ("results.jsonl", 0),
        ("spans.jsonl", 7),
        ("model_calls.jsonl", 7),
        ("run/spans.jsonl", 7),
        ("run/model_calls.jsonl", 7),
        ("run/recording.cast", 7),
        ("run/record.json", 7),
        ("run/stdout.txt", 7),
        ("runs/elsewhere", 7),
    ],
)
def test_fifo_is_reported_and_never_read(
    recorded: Path, tmp_path: Path, where: str, runs: int
) -> None:
    if where.startswith("run/"):
        fifo = fifo_at(first_run(recorded) / where[4:])
    elif where == "runs/elsewhere":
        fifo = fifo_at(recorded / "runs" / "aider" / "a-fifo")
    else:
        fifo = fifo_at(recorded / where)
    t = time.monotonic()
    res = cab("load", str(recorded), cache_dir=tmp_path / "cache")
    assert time.monotonic() - t < TIMEOUT
    no_traceback(res)
    assert f"{runs} runs" in res.stdout
    if where == "runs/elsewhere":  # not an artefact: never looked at, nothing to say
        assert res.returncode == 0, res.stderr
        return
    assert res.returncode == 1
    assert f"{fifo.relative_to(recorded)}: not a regular file (a FIFO)" in res.stderr


def test_fifo_recording_is_not_a_recording(recorded: Path) -> None:
    fifo_at(first_run(recorded) / "recording.cast")
    store = Store.open(recorded)
    assert store.total() == 7
    n = store.cursor().execute("SELECT count(*) FROM recordings").fetchall()[0][0]
    assert n == 6


def test_frame_of_a_fifo_recording_returns_with_the_reason(tmp_path: Path) -> None:
    fifo = tmp_path / "live.cast"
    os.mkfifo(fifo)
    done = subprocess.run(
        [sys.executable, "-m", "cabtui.cli", "frame", str(fifo), "--at", "1"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert done.returncode == 1
    assert "not a regular file (a FIFO)" in done.stderr and "Traceback" not in done.stderr


def test_socket_and_device_are_not_read(recorded: Path, tmp_path: Path) -> None:
    import socket

    run = first_run(recorded)
    (run / "spans.jsonl").unlink()
    # a socket path is limited to ~108 bytes: bind from the directory itself
    cwd = os.getcwd()
    os.chdir(run)
    sock = socket.socket(socket.AF_UNIX)
    try:
        sock.bind("spans.jsonl")
    finally:
        os.chdir(cwd)
    (run / "model_calls.jsonl").unlink()
    (run / "model_calls.jsonl").symlink_to("/dev/zero")  # endless, and outside the sweep
    try:
        sweeps, _ = discover(recorded)
        reasons = {Path(p.file).name: p.reason for p in sweeps[0].problems}
        assert "socket" in reasons["spans.jsonl"]
        assert "character device" in reasons["model_calls.jsonl"]
        assert Store.open(recorded).total() == 7
    finally:
        sock.close()


def test_symlink_loop_is_reported(recorded: Path) -> None:
    run = first_run(recorded)
    (run / "spans.jsonl").unlink()
    (run / "spans.jsonl").symlink_to("spans.jsonl")  # ln -s spans.jsonl spans.jsonl
    (run / "record.json").symlink_to("record.json")
    (recorded / "sweep.json").unlink()
    (recorded / "sweep.json").symlink_to("sweep.json")
    store = Store.open(recorded)
    assert store.total() == 7
    loops = {Path(p.file).name for p in store.problems() if "symlink loop" in p.reason}
    assert loops == {"spans.jsonl", "record.json", "sweep.json"}


def test_symlink_loop_through_the_cli(recorded: Path, tmp_path: Path) -> None:
    (first_run(recorded) / "record.json").symlink_to("record.json")
    res = cab("load", str(recorded), cache_dir=tmp_path / "cache")
    no_traceback(res)
    assert res.returncode == 1 and "7 runs" in res.stdout
    assert "record.json: symlink loop" in res.stderr.replace("\n", "")


def test_unlistable_directory_is_reported(recorded: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A directory under runs/ that cannot be listed (chmod 000; simulated, since root lists
    anything) is a problem naming it; the rest loads."""
    run = first_run(recorded)
    real = os.scandir

    def scandir(path: str | os.PathLike[str] = ".") -> Iterator[os.DirEntry[str]]:
        if isinstance(path, (str, os.PathLike)) and os.fspath(path) == str(run):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    store = Store.open(recorded)
    assert store.total() == 7  # its run record is in results.jsonl
    probs = [p for p in store.problems() if "cannot list directory" in p.reason]
    assert len(probs) == 1 and probs[0].file == str(run.relative_to(recorded))
    assert "Permission denied" in probs[0].reason
    assert store.cursor().execute("SELECT count(*) FROM recordings").fetchall()[0][0] == 6


@pytest.mark.skipif(os.geteuid() == 0, reason="root lists a chmod 000 directory anyway")
def test_chmod_000_directory_is_reported(recorded: Path) -> None:
    run = first_run(recorded)
    run.chmod(0)
    try:
        store = Store.open(recorded)
        assert store.total() == 7
        assert any("cannot list directory" in p.reason for p in store.problems())
    finally:
        run.chmod(0o755)


def test_open_regular_never_blocks_on_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "f"
    os.mkfifo(fifo)
    with pytest.raises(OSError, match="FIFO"):
        open_regular(fifo)
    (tmp_path / "r").write_bytes(b"ok")
    with open_regular(tmp_path / "r") as f:
        assert f.read() == b"ok"


# -- a cache that cannot be written -------------------------------------------------------------


def test_cache_dir_is_a_file(sweep_copy: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    res = cab("load", str(sweep_copy), cache_dir=blocker)
    no_traceback(res)
    assert res.returncode == 0, res.stderr
    assert "5 runs" in res.stdout
    warning = [x for x in res.stderr.splitlines() if x.startswith("warning:")]
    assert len(warning) == 1 and "cannot write the cache" in warning[0]
    assert str(blocker) in warning[0] and "temporary copy" in warning[0]
    assert blocker.read_text() == "x"
    # and under a file, as CABTUI_CACHE_DIR=file/cache
    res = cab("ls", str(sweep_copy), "--format", "json", cache_dir=blocker / "cache")
    no_traceback(res)
    assert res.returncode == 0 and len(json.loads(res.stdout)) == 5


def test_read_only_cache_dir_falls_back(
    sweep_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read-only cache directory (simulated: root writes anyway): the sweep opens from a
    temporary copy, with a warning; the copy is removed when the store closes."""
    folder = tmp_path / "ro-cache"
    monkeypatch.setenv("CABTUI_CACHE_DIR", str(folder))
    folder.mkdir()
    real = tempfile.mkdtemp  # the module cache uses

    def mkdtemp(
        suffix: str | None = None, prefix: str | None = None, dir: str | Path | None = None
    ) -> str:
        if dir is not None and Path(dir) == folder:
            raise PermissionError(errno.EROFS, "Read-only file system", str(dir))
        return real(suffix, prefix, dir)

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    with pytest.warns(cache.CacheWarning, match="Read-only file system"):
        store = Store.open(sweep_copy)
    assert store.total() == 5
    assert store.warning and str(folder) in store.warning
    copy = store.db_path.parent
    assert copy.name.startswith(f"cabtui-fallback-{os.getpid()}-")
    assert stat.S_IMODE(copy.stat().st_mode) & 0o077 == 0
    store.close()
    assert not copy.exists()
    assert list(folder.iterdir()) == []


def test_full_cache_dir_falls_back(
    sweep_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk (simulated: DuckDB fails to write in the cache directory)."""
    folder = tmp_path / "full-cache"
    monkeypatch.setenv("CABTUI_CACHE_DIR", str(folder))
    real = real_ingest  # what cache.ingest is

    def ingest(
        sweep: Path, db_path: Path, progress: Progress | None = None, source: str | None = None
    ) -> IngestReport:
        if folder in Path(db_path).parents:
            raise duckdb.IOException(
                f'IO Error: Could not write file "{db_path}": No space left on device'
            )
        return real(sweep, db_path, progress)

    monkeypatch.setattr(cache, "ingest", ingest)
    with pytest.warns(cache.CacheWarning, match="No space left on device"):
        store = Store.open(sweep_copy)
    assert store.total() == 5
    assert [p.name for p in folder.iterdir()] == []  # no temporary left behind
    store.close()


def test_neither_cache_nor_temp_writable_is_one_line(
    sweep_copy: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from cabtui.cli import app
    from cabtui.commands.cache import guarded

    monkeypatch.setenv("CABTUI_CACHE_DIR", str(tmp_path / "c"))

    def mkdtemp(*args: object, **kwargs: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    with pytest.raises(cache.CacheError):
        Store.open(sweep_copy)
    monkeypatch.setattr(sys, "argv", ["cab-tui", "load", str(sweep_copy)])
    with pytest.raises(SystemExit) as exit_:
        guarded(app)
    assert exit_.value.code == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: cannot write the cache")
    assert "No space left on device" in err


def test_ls_negative_limit_is_a_usage_error(tmp_path: Path) -> None:
    res = cab("ls", str(EXPANSION), "--limit", "-1", cache_dir=tmp_path / "cache")
    no_traceback(res)
    assert res.returncode == 2
    assert "--limit" in res.stderr
    assert "SELECT" not in res.stderr and "LIMIT" not in res.stderr


# -- permissions -------------------------------------------------------------------------------


def test_cache_is_readable_by_its_owner_only(
    sweep_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "fresh" / "cabtui"
    monkeypatch.setenv("CABTUI_CACHE_DIR", str(folder))
    old = os.umask(0o022)
    try:
        store = Store.open(sweep_copy)
    finally:
        os.umask(old)
    assert stat.S_IMODE(folder.stat().st_mode) & 0o077 == 0
    assert stat.S_IMODE(store.db_path.stat().st_mode) & 0o077 == 0
    store.close()
    # a cache left world-readable by an older version is made private when next used
    store.db_path.chmod(0o644)
    Store.open(sweep_copy).close()
    assert stat.S_IMODE(store.db_path.stat().st_mode) == 0o600


# -- temporary files of dead ingests ----------------------------------------------------------


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temps_of_dead_ingests_are_removed_live_ones_kept(
    sweep_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "cache"
    folder.mkdir()
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setenv("CABTUI_CACHE_DIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        host, dead = cache_files.this_host(), dead_pid()
        base = "x-0123456789abcdef.duckdb"
        dead_dir = folder / f"{base}.{host}-{dead}.abcd1234.tmp"
        live_dir = folder / f"{base}.{host}-{live.pid}.efgh5678.tmp"
        for d in (dead_dir, live_dir):
            (d / "spill").mkdir(parents=True)
            (d / base).write_bytes(b"\0" * 1000)
        other_host = folder / f"{base}.ffffffff-{dead}.ijkl9012.tmp"
        other_host.mkdir()
        # an older version's files: a temp database nobody holds, its WAL and spill directory
        legacy = folder / f"{base}.q1w2e3r4.tmp"
        legacy.write_bytes(b"\0" * 100)
        Path(f"{legacy}.wal").write_bytes(b"\0")
        Path(f"{legacy}.tmp").mkdir()
        scratch_dead = system_tmp / f"cabtui-ingest-{dead}-zz9yy8xx"
        scratch_live = system_tmp / f"cabtui-ingest-{live.pid}-aa1bb2cc"
        scratch_old = system_tmp / "cabtui-ingest-abc_defg"  # an older version's, unknown owner
        for d in (scratch_dead, scratch_live, scratch_old):
            d.mkdir()
        unrelated = folder / "notes.tmp"
        unrelated.write_text("mine")

        store = Store.open(sweep_copy)  # an ingest runs: it sweeps first
        assert store.total() == 5
        for gone in (dead_dir, legacy, Path(f"{legacy}.wal"), Path(f"{legacy}.tmp"), scratch_dead):
            assert not gone.exists(), gone
        for kept in (live_dir, scratch_live, scratch_old, other_host, unrelated):
            assert kept.exists(), kept
        # a day later, temporary files of unknown owner go too
        day_ago = time.time() - 2 * 86400
        for p in (scratch_old, other_host):
            os.utime(p, (day_ago, day_ago))
        assert set(cache_files.remove_stale_temps(folder)) == {scratch_old, other_host}
        assert live_dir.exists() and scratch_live.exists()
    finally:
        live.kill()
        live.wait()
    assert set(cache_files.remove_stale_temps(folder)) == {live_dir, scratch_live}


def test_legacy_temp_database_in_use_is_kept(tmp_path: Path) -> None:
    """An older version's temporary database that a live process has open (DuckDB's lock)."""
    legacy = tmp_path / "y-0123456789abcdef.duckdb.a1b2c3d4.tmp"
    holder = subprocess.Popen(
        [sys.executable, "-c", f"import duckdb, time; c = duckdb.connect({str(legacy)!r}); "
         "c.execute('CREATE TABLE t (x INT)'); print('open', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        assert legacy not in cache_files.stale_temps(tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert legacy in cache_files.stale_temps(tmp_path)


SIGTERM_LOAD = """
import sys, time
from pathlib import Path
from cabtui.store import cache

def ingest(sweep, db_path, progress=None, source=None):
    Path(db_path).write_bytes(b"half a cache")
    print("ingesting", flush=True)
    while True:
        time.sleep(0.05)

cache.ingest = ingest
from cabtui.cli import app
from cabtui.commands.cache import guarded
sys.argv = ["cab-tui", "load", sys.argv[1]]
guarded(app)
"""


def test_sigterm_during_load_removes_its_temp_files(sweep_copy: Path, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    script = tmp_path / "load.py"
    script.write_text(SIGTERM_LOAD)
    proc = subprocess.Popen(
        [sys.executable, str(script), str(sweep_copy)],
        cwd=ROOT,
        env=script_env(folder),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ingesting"
        assert [p for p in folder.iterdir() if p.name.endswith(".tmp")]
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=TIMEOUT)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM
    assert "Traceback" not in err
    assert list(folder.iterdir()) == []


# -- cab-tui cache ls / prune ------------------------------------------------------------------


def test_cache_ls_and_prune(tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    keep, gone, old = (tmp_path / n for n in ("keep", "gone", "old"))
    for d in (keep, gone, old):
        shutil.copytree(EXPANSION, d)
        assert cab("load", str(d), cache_dir=folder).returncode == 0
    shutil.rmtree(gone)
    (folder / "junk.duckdb").write_bytes(b"not a database")

    res = cab("cache", "ls", "--format", "json", cache_dir=folder)
    no_traceback(res)
    assert res.returncode == 0
    listed = {r["sweep"]: r for r in json.loads(res.stdout)}
    assert set(listed) == {str(keep), str(gone), str(old), None}
    assert listed[str(keep)]["sweep_exists"] and not listed[str(gone)]["sweep_exists"]
    assert listed[str(keep)]["size"] > 0 and listed[str(keep)]["last_used"]
    res = cab("cache", "ls", cache_dir=folder)
    assert res.returncode == 0 and str(gone) in res.stdout and "gone" in res.stdout
    assert "4 caches" in res.stderr

    res = cab("cache", "prune", "--dry-run", cache_dir=folder)
    assert res.returncode == 0 and len(list(folder.glob("*.duckdb"))) == 4
    res = cab("cache", "prune", "--format", "json", cache_dir=folder)
    no_traceback(res)
    removed = {r["sweep"] for r in json.loads(res.stdout)["removed"]}
    assert removed == {str(gone), None}
    assert len(list(folder.glob("*.duckdb"))) == 2

    old_cache = Path(listed[str(old)]["cache"])
    month_ago = time.time() - 30 * 86400
    os.utime(old_cache, (month_ago, month_ago))
    res = cab("cache", "prune", "--older-than", "7", cache_dir=folder)
    assert res.returncode == 0 and not old_cache.exists()
    assert "removed 1 cache" in res.stderr
    assert Path(listed[str(keep)]["cache"]).exists()

    res = cab("cache", "prune", "--all", cache_dir=folder)
    assert res.returncode == 0 and list(folder.glob("*.duckdb")) == []
    res = cab("cache", "ls", cache_dir=tmp_path / "none-yet")
    assert res.returncode == 0 and "0 caches" in res.stderr


def test_cache_use_updates_last_used(
    sweep_copy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CABTUI_CACHE_DIR", str(tmp_path / "c"))
    Store.open(sweep_copy).close()
    (entry,) = cache_files.entries()
    os.utime(entry.path, (1000, 1000))
    Store.open(sweep_copy).close()  # a cache hit
    (again,) = cache_files.entries()
    assert again.last_used > time.time() - 60 and again.source == str(sweep_copy.resolve())


# -- the app always quits ----------------------------------------------------------------------


async def test_q_quits_while_the_opener_is_blocked(sample_store: Store) -> None:
    from cabtui.ui.app import CabApp
    from cabtui.ui.screens.loading import LoadingScreen

    gate = threading.Event()

    def blocked(progress: Progress) -> Store:
        gate.wait(60)
        raise RuntimeError("released after the test")

    app = CabApp(blocked)
    t = time.monotonic()
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            for _ in range(100):
                await pilot.pause()
                if isinstance(app.screen, LoadingScreen) and app.openers:
                    break
            await pilot.press("q")
            for _ in range(100):
                if not app.is_running:
                    break
                await pilot.pause()
        assert not app.is_running
        assert time.monotonic() - t < 10
        assert app.openers and app.openers[0].is_alive()  # still blocked: the app did not wait
    finally:
        gate.set()


async def test_ctrl_c_quits_even_inside_a_filter(sample_store: Store) -> None:
    from cabtui.ui.app import CabApp
    from cabtui.ui.screens.browser import BrowserScreen
    from tests.pilot_helpers import settle

    app = CabApp(lambda progress: sample_store)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot, lambda: isinstance(app.screen, BrowserScreen))
        await pilot.press("slash", "t", "u")
        await pilot.press("ctrl+c")
        for _ in range(50):
            if not app.is_running:
                break
            await pilot.pause()
        assert not app.is_running


APP_BLOCKED = """
import sys, threading
from pathlib import Path
from cabtui.store import cache
from cabtui.store.store import Store
from cabtui.ui.app import CabApp

def ingest(sweep, db_path, progress=None, source=None):
    Path(db_path).write_bytes(b"half a cache")
    threading.Event().wait()  # blocked for good, as on a FIFO

cache.ingest = ingest
sweep = Path(sys.argv[1])
CabApp(lambda progress: Store.open(sweep, progress)).run()
print("app returned", file=sys.stderr)
"""


def run_in_pty(script: Path, sweep: Path, folder: Path, action: object) -> tuple[int, str]:
    """Run the app in a pseudo-terminal, wait for it to draw, do ``action(proc, master)``,
    and return its exit code and everything it wrote."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, str(script), str(sweep)],
        stdin=slave, stdout=slave, stderr=slave, cwd=ROOT, start_new_session=True,
        env={**script_env(folder), "TERM": "xterm-256color", "COLUMNS": "100", "LINES": "30"},
    )  # fmt: skip
    os.close(slave)
    out = bytearray()

    def drain() -> None:
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:
                return
            if not chunk:
                return
            out.extend(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + TIMEOUT
        while not [p for p in folder.glob("*.tmp")]:
            assert time.monotonic() < deadline and proc.poll() is None, bytes(out)[-2000:]
            time.sleep(0.05)
        time.sleep(0.5)
        action(proc, master)  # type: ignore[operator]  # each case's action is a callable taking the process and the pty
        code = proc.wait(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        reader.join(2)
        os.close(master)
    return code, bytes(out).decode(errors="replace")


@pytest.mark.parametrize("how", ["q", "ctrl+c", "SIGTERM"])
def test_app_ends_while_ingest_is_blocked(sweep_copy: Path, tmp_path: Path, how: str) -> None:
    folder = tmp_path / "cache"
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(APP_BLOCKED))

    def act(proc: subprocess.Popen[bytes], master: int) -> None:
        if how == "SIGTERM":
            proc.send_signal(signal.SIGTERM)
        else:
            os.write(master, b"q" if how == "q" else b"\x03")

    code, out = run_in_pty(script, sweep_copy, folder, act)
    assert code == (128 + signal.SIGTERM if how == "SIGTERM" else 0), out[-2000:]
    assert "Traceback" not in out
    assert "\x1b[?1049l" in out  # the alternate screen was left: the terminal is restored
    assert list(folder.iterdir()) == []  # the blocked ingest's temporary files are gone
