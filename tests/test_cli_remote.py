"""The command line on a published sweep, as a user runs it (a subprocess of the entry point):
export, then ls, show, diff and paired by http:// URL against a real Range server, with the same
answers as on the sweep directory; failures are one line on stderr."""

from __future__ import annotations

import json
from pathlib import Path

from tests.remote_servers import range_server
from tests.test_cli import cab
from tests.test_remote import DATA

SWEEP = DATA / "sweeps"


def test_export_then_every_command_by_url(tmp_path: Path) -> None:
    res = cab("export", str(SWEEP), str(tmp_path / "pub"), "--reveal-secrets")
    assert res.returncode == 0, res.stderr
    assert "exported 12 runs" in res.stdout and "not masked" in res.stderr
    again = cab("export", str(SWEEP), str(tmp_path / "pub"))
    assert again.returncode == 1 and "not an empty directory" in again.stderr
    with range_server(tmp_path) as server:
        url = f"{server.url}/pub"
        local = json.loads(cab("ls", str(SWEEP), "--format", "json").stdout)
        res = cab("ls", url, "--format", "json")
        assert res.returncode == 0, res.stderr
        remote = json.loads(res.stdout)
        # the same runs; the score keys that travel with a run's details come once it is visited
        assert [{k: v for k, v in r.items() if k != "scores"} for r in remote] == [
            {k: v for k, v in r.items() if k != "scores"} for r in local
        ]
        ids = [r["cell_id"] for r in local]
        assert len(ids) == 12
        for args in (("show", ids[0], "--format", "json"), ("diff", ids[0], ids[1], "--format", "json"),
                     ("paired", "tui", "aider", "pi", "--format", "json")):  # fmt: skip
            a = cab(args[0], str(SWEEP), *args[1:])
            b = cab(args[0], url, *args[1:])
            assert b.returncode == a.returncode, b.stderr
            assert json.loads(b.stdout) == json.loads(a.stdout), args[0]
        server.behaviour.status = 403
        denied = cab("ls", url)
        assert denied.returncode == 1
        assert denied.stderr.strip().count("\n") == 0 and "access denied (403)" in denied.stderr
        assert "Traceback" not in denied.stderr
