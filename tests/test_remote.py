"""cab-tui export, and the export read back through file:// and a real HTTP server with Range
(tests/remote_servers.py): every screen's data equals the local store's, byte budgets are taken
from the server's own count, and every failure is a one-line RemoteError."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cabtui.compare.stats import paired
from cabtui.secrets import MASK, mask
from cabtui.store.export import ExportError, export
from cabtui.store.export_layout import MANIFEST, PACK
from cabtui.store.remote import RemoteStore
from cabtui.store.remote_cache import cache_paths
from cabtui.store.remote_io import RemoteError, from_path_text
from cabtui.store.store import Store
from cabtui.sweep.cast_reader import read_cast
from tests.remote_servers import RangeServer, range_server

DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLES = ["sweeps", "harbor", "terminal-bench", "inspect"]


@pytest.fixture(scope="module")
def local(cache_dir: Path) -> dict[str, Store]:
    return {name: Store.open(DATA / name) for name in SAMPLES}


@pytest.fixture(scope="module")
def exports(local: dict[str, Store], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = {}
    for name, store in local.items():
        dest = tmp_path_factory.mktemp("export") / name
        export(store, dest, reveal=True)
        out[name] = dest
    return out


def frames(path: Path) -> list[tuple[float, str, str]]:
    return [(e.time, e.code, e.data) for e in read_cast(path).events]


def assert_same(a: Store, b: Store) -> None:
    """Every query of the screens gives the same answer on both stores."""
    assert b.total() == a.total() > 0
    assert b.runs(limit=None).equals(a.runs(limit=None))
    assert b.cells(limit=None).equals(a.cells(limit=None))
    assert b.pivot("tui", "model").equals(a.pivot("tui", "model"))
    assert b.shape() == a.shape()
    assert b.sweeps() == a.sweeps()
    for cid in a.runs(limit=None).column("cell_id").to_pylist():
        assert b.run(cid) == a.run(cid)
        assert b.scores(cid) == a.scores(cid)
        assert b.spans(cid) == a.spans(cid)
        assert b.model_calls(cid) == a.model_calls(cid)
        ra, rb = a.recording(cid), b.recording(cid)
        assert (ra is None) == (rb is None)
        if ra is not None and rb is not None:
            assert frames(rb["file"]) == frames(ra["file"])


@pytest.mark.parametrize("name", SAMPLES)
def test_export_read_back_equals_the_local_store(
    name: str, local: dict[str, Store], exports: dict[str, Path]
) -> None:
    remote = RemoteStore.open_url(f"file://{exports[name]}")
    assert_same(local[name], remote)
    manifest = json.loads((exports[name] / MANIFEST).read_text())
    assert manifest["runs"] == local[name].total()
    assert set(manifest["files"]) >= {"runs.parquet", "sweeps.parquet", "problems.parquet"}


def test_paired_is_the_same(local: dict[str, Store], exports: dict[str, Path]) -> None:
    a = local["sweeps"]
    b = RemoteStore.open_url(f"file://{exports['sweeps']}")
    tuis = a.distinct("tui")
    assert paired(b, "tui", tuis[0], tuis[1]) == paired(a, "tui", tuis[0], tuis[1])


def test_secrets_are_masked_unless_revealed(local: dict[str, Store], tmp_path: Path) -> None:
    a = local["sweeps"]
    export(a, tmp_path / "masked")
    b = RemoteStore.open_url(f"file://{tmp_path / 'masked'}")
    changed = 0
    for cid in a.runs(limit=None).column("cell_id").to_pylist():
        for x, y in zip(a.spans(cid), b.spans(cid)):
            assert y["attrs"] == mask(x["attrs"])
            if x["attrs"] != y["attrs"]:
                changed += 1
                assert MASK in json.dumps(y["attrs"], ensure_ascii=False)
    assert changed > 0  # the sample carries secrets, and they are gone


def test_export_refuses_a_directory_in_use(local: dict[str, Store], tmp_path: Path) -> None:
    (tmp_path / "x").write_text("mine")
    with pytest.raises(ExportError, match="not an empty directory"):
        export(local["sweeps"], tmp_path)


def test_url_survives_pathlib() -> None:
    assert from_path_text(str(Path("s3://bucket/sweeps/x"))) == "s3://bucket/sweeps/x"
    assert from_path_text(str(Path("https://h/p"))) == "https://h/p"
    assert from_path_text(str(Path("file:///tmp/x"))) == "file:///tmp/x"
    assert from_path_text("data/sweeps") is None


# -- over HTTP ------------------------------------------------------------------------------------


@pytest.fixture()
def server(exports: dict[str, Path]) -> Iterator[RangeServer]:
    with range_server(exports["sweeps"].parent) as s:
        yield s


def small_files(root: Path) -> int:
    return sum(
        (root / n).stat().st_size
        for n in ("manifest.json", "runs.parquet", "sweeps.parquet", "problems.parquet")
    )


def test_http_open_pulls_only_the_index_and_a_run_once(
    server: RangeServer, local: dict[str, Store], exports: dict[str, Path]
) -> None:
    url = f"{server.url}/sweeps"
    store = RemoteStore.open_url(url, timeout=5)
    opened = server.behaviour.sent
    # the manifest (after a one-byte range probe) and the index files, nothing else
    assert opened == small_files(exports["sweeps"]) + 1
    assert not any("part-" in p or PACK in p for p, _, _ in server.behaviour.log)
    a = local["sweeps"]
    assert store.runs(limit=None).equals(a.runs(limit=None))
    assert store.pivot("tui", "model").equals(a.pivot("tui", "model"))
    assert server.behaviour.sent == opened  # browsing is local
    cid = next(r["cell_id"] for r in a.runs(limit=None).to_pylist() if r["has_recording"])
    assert store.spans(cid) == a.spans(cid)
    rec = store.recording(cid)
    assert rec is not None
    first = server.behaviour.sent - opened
    assert 0 < first < 200_000
    assert all(r is not None for p, r, _ in server.behaviour.log if "part-" in p or PACK in p)
    assert store.run(cid) == a.run(cid) and store.model_calls(cid) == a.model_calls(cid)
    assert server.behaviour.sent - opened == first  # the second visit reads nothing
    store.close()
    # reopened: the cache is kept, only the manifest is read (and the run is still there)
    again = RemoteStore.open_url(url, timeout=5)
    before = server.behaviour.sent
    assert again.spans(cid) == a.spans(cid)
    assert server.behaviour.sent == before


def test_a_new_export_id_is_a_new_cache(local: dict[str, Store], tmp_path: Path) -> None:
    dest = tmp_path / "pub"
    export(local["harbor"], dest, reveal=True)
    with range_server(tmp_path) as s:
        url = f"{s.url}/pub"
        first = RemoteStore.open_url(url)
        old_id = first.manifest["export_id"]
        first.close()
        for p in sorted(dest.rglob("*"), reverse=True):
            p.unlink() if p.is_file() else p.rmdir()
        export(local["terminal-bench"], dest, reveal=True)
        second = RemoteStore.open_url(url)
        assert second.manifest["export_id"] != old_id
        assert second.total() == local["terminal-bench"].total()
        assert cache_paths(url, old_id)[0].is_file()  # the old cache is left alone
        second.close()


def test_a_server_without_ranges_is_refused(server: RangeServer) -> None:
    server.behaviour.ranges = False
    with pytest.raises(RemoteError, match="ignores range requests"):
        RemoteStore.open_url(f"{server.url}/sweeps")
    # refused at the answer to the first (one-byte) request: nothing else asked
    assert [(p, r) for p, r, _ in server.behaviour.log] == [("/sweeps/manifest.json", "bytes=0-0")]


@pytest.mark.parametrize(
    ("setting", "message"),
    [({"status": 403}, r"access denied \(403\)"), ({"status": 404}, r"not found \(404\)"),
     ({"stall": 3.0}, "timed out"), ({"cut_after": 0}, "connection lost|short read")],
)  # fmt: skip
def test_failures_opening_are_one_line(
    server: RangeServer, setting: dict[str, Any], message: str
) -> None:
    for k, v in setting.items():
        setattr(server.behaviour, k, v)
    with pytest.raises(RemoteError, match=message) as e:
        RemoteStore.open_url(f"{server.url}/sweeps", timeout=1)
    assert "\n" not in str(e.value)


def test_failures_fetching_a_run_leave_the_sweep_usable(
    server: RangeServer, local: dict[str, Store]
) -> None:
    store = RemoteStore.open_url(f"{server.url}/sweeps", timeout=1)
    ids = local["sweeps"].runs(limit=None).column("cell_id").to_pylist()
    server.behaviour.cut_after = 10  # a server dying mid-response
    with pytest.raises(RemoteError, match="connection lost|short read"):
        store.spans(ids[0])
    server.behaviour.cut_after = None
    server.behaviour.stall = 3.0
    with pytest.raises(RemoteError, match="timed out"):
        store.spans(ids[0])
    server.behaviour.stall = 0.0
    assert store.count() == len(ids)  # the grid still answers
    assert not store.fetched(ids[0])  # and nothing half-fetched was kept
    assert store.spans(ids[0]) == local["sweeps"].spans(ids[0])


def test_a_damaged_file_is_a_checksum_mismatch(
    local: dict[str, Store], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dest = tmp_path / "pub"
    export(local["sweeps"], dest, reveal=True)
    pack = bytearray((dest / PACK).read_bytes())
    pack[len(pack) // 2] ^= 0xFF
    (dest / PACK).write_bytes(bytes(pack))
    with range_server(tmp_path) as s:
        store = RemoteStore.open_url(f"{s.url}/pub")
        bad = [c for c in local["sweeps"].runs(limit=None).to_pylist() if c["has_recording"]]
        errors = 0
        for r in bad:
            try:
                store.recording(r["cell_id"])
            except RemoteError as e:
                assert "checksum mismatch" in str(e)
                errors += 1
        assert errors == 1
        runs = bytearray((dest / "runs.parquet").read_bytes())
        runs[100] ^= 0xFF
        (dest / "runs.parquet").write_bytes(bytes(runs))
        monkeypatch.setenv("CABTUI_CACHE_DIR", str(tmp_path / "another-cache"))
        with pytest.raises(RemoteError, match="checksum mismatch"):
            RemoteStore.open_url(f"{s.url}/pub")


def test_cache_prune_keeps_published_sweeps_until_asked(
    exports: dict[str, Path],
    local: dict[str, Store],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from cabtui.store.cache_files import entries, prunable, remove

    monkeypatch.setenv("CABTUI_CACHE_DIR", str(tmp_path / "cache"))
    store = RemoteStore.open_url(f"file://{exports['sweeps']}")
    cid = next(
        r["cell_id"] for r in local["sweeps"].runs(limit=None).to_pylist() if r["has_recording"]
    )
    rec = store.recording(cid)
    assert rec is not None and rec["file"].is_file()
    store.close()
    found = entries()
    assert [e.source for e in found] == [f"file://{exports['sweeps']}"]
    assert prunable(found) == []  # the published sweep is not asked for over the network
    for e in prunable(found, everything=True):
        assert remove(e)
    assert list((tmp_path / "cache").iterdir()) == []  # the fetched recordings went too


def test_a_sweep_open_in_another_process_opens_from_a_private_copy(
    exports: dict[str, Path],
    local: dict[str, Store],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import subprocess
    import sys

    from cabtui.store.cache import CacheWarning

    monkeypatch.setenv("CABTUI_CACHE_DIR", str(tmp_path / "cache"))
    url = f"file://{exports['sweeps']}"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from cabtui.store.remote import RemoteStore; "
         f"s = RemoteStore.open_url({url!r}); print('open', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "open"
        with pytest.warns(CacheWarning, match="open in another cab-tui"):
            store = RemoteStore.open_url(url)
        assert store.private is not None and store.private.is_dir()
        cid = local["sweeps"].runs(limit=None).column("cell_id").to_pylist()[0]
        assert store.spans(cid) == local["sweeps"].spans(cid)
        store.close()
        assert not store.private.exists()
    finally:
        holder.communicate("", timeout=30)


def test_a_large_recording_reports_its_progress(
    local: dict[str, Store],
    exports: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CABTUI_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr("cabtui.store.remote.CHUNK", 1000)
    a = local["sweeps"]
    with range_server(exports["sweeps"].parent) as server:
        store = RemoteStore.open_url(f"{server.url}/sweeps")
        cid = next(r["cell_id"] for r in a.runs(limit=None).to_pylist() if r["has_recording"])
        seen: list[tuple[int, int]] = []
        with store.watching(lambda done, total: seen.append((done, total))):
            rec = store.recording(cid)
        assert rec is not None and frames(rec["file"]) == frames(a.recording(cid)["file"])  # type: ignore[index]  # a recording of the same run exists locally
        total = seen[-1][1]
        assert len(seen) == -(-total // 1000) > 1  # one report per range of 1,000 bytes
        assert [d for d, _ in seen] == sorted(d for d, _ in seen) and seen[-1][0] == total
        packed = [n for p, r, n in server.behaviour.log if p.endswith(PACK)]
        assert max(packed) <= 1000 and sum(packed) == total
        store.close()


def _broken(m: dict[str, Any], how: str) -> str:
    if how == "not json":
        return "{not json"
    if how == "format":
        m["format"] = "something-else"
    elif how == "version":
        m["version"] = 99
    elif how == "export id":
        m["export_id"] = "../../etc"
    elif how == "column name":
        m["columns"]["spans"][0][0] = 'x" VARCHAR); DROP TABLE runs; --'
    elif how == "column type":
        m["columns"]["runs"][0][1] = "VARCHAR); DROP TABLE runs; --"
    elif how == "file size":
        m["files"]["runs.parquet"]["size"] = "big"
    elif how == "no columns":
        del m["columns"]
    return json.dumps(m)


@pytest.mark.parametrize(
    ("how", "message"),
    [("not json", "not a cab-tui export"), ("format", "not a cab-tui export"),
     ("version", "another cab-tui version"), ("export id", "no valid export id"),
     ("column name", "malformed"), ("column type", "malformed"), ("file size", "malformed"),
     ("no columns", "malformed")],
)  # fmt: skip
def test_a_bad_manifest_is_refused_in_one_line(
    how: str, message: str, exports: dict[str, Path], tmp_path: Path
) -> None:
    import shutil

    dest = tmp_path / "pub"
    shutil.copytree(exports["harbor"], dest)
    m = json.loads((dest / MANIFEST).read_text())
    (dest / MANIFEST).write_text(_broken(m, how))
    with pytest.raises(RemoteError, match=message) as e:
        RemoteStore.open_url(f"file://{dest}")
    assert "\n" not in str(e.value) and "DROP" not in str(e.value)


def test_the_rerun_command_names_the_url(exports: dict[str, Path], local: dict[str, Store]) -> None:
    from cabtui.store.detail import load_detail, rerun_commands

    url = f"file://{exports['sweeps']}"
    store = RemoteStore.open_url(url)
    cid = local["sweeps"].runs(limit=1).column("cell_id").to_pylist()[0]
    data = load_detail(store, cid, None)
    assert data is not None
    assert rerun_commands(data)[0] == f"cab-tui replay {url} {cid}"
    assert data.related == load_detail(local["sweeps"], cid, None).related  # type: ignore[union-attr]  # the local store has the run too


def test_a_damaged_part_is_refused_and_the_run_not_kept(
    local: dict[str, Store],
    exports: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import shutil

    import pyarrow.parquet as pq

    monkeypatch.setenv("CABTUI_CACHE_DIR", str(tmp_path / "cache"))
    dest = tmp_path / "pub"
    shutil.copytree(exports["sweeps"], dest)
    part = dest / "spans" / "part-00000.parquet"
    meta = pq.ParquetFile(part).metadata.row_group(0).column(0)  # the first run's cell_ids
    data = bytearray(part.read_bytes())
    start = meta.dictionary_page_offset or meta.data_page_offset
    data[start + meta.total_compressed_size - 2] ^= 0xFF  # inside the last page's values
    part.write_bytes(bytes(data))
    store = RemoteStore.open_url(f"file://{dest}")
    cid = local["sweeps"].runs(limit=None).column("cell_id").to_pylist()[0]
    with pytest.raises(RemoteError, match="checksum mismatch in .*spans/part-00000.parquet"):
        store.spans(cid)
    assert not store.fetched(cid) and store.count() == local["sweeps"].total()
