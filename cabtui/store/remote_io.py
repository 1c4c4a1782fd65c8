"""Reading an exported sweep where it was published: a local directory, ``s3://bucket/prefix``
(pyarrow's S3 filesystem: credentials, region and endpoint from the standard AWS environment
and config files, or ``endpoint_url``) or ``http(s)://host/prefix`` (range requests; a server
that ignores Range is refused rather than downloaded again for every read).

Every failure is a :class:`RemoteError` whose message is one line that names the file, never a
credential. Each transport counts the bytes it received (:class:`Stats`).
"""

from __future__ import annotations

import http.client
import io
import os
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.fs as pafs

from cabtui.secrets import mask_text

DEFAULT_TIMEOUT = 20.0
URL_SCHEMES = ("s3://", "http://", "https://", "file://")


class RemoteError(Exception):
    """A read of a published sweep failed; the message is one line fit for the screen."""


def is_url(text: str) -> bool:
    return text.startswith(URL_SCHEMES)


def from_path_text(text: str) -> str | None:
    """The URL in an argument that went through ``pathlib.Path`` (which folds ``s3://b`` into
    ``s3:/b``), or None when it is a plain path."""
    for scheme in URL_SCHEMES:
        folded = scheme[:-1]
        if text.startswith(scheme):
            return text
        if text.startswith(folded) and not text.startswith(scheme):
            if scheme == "file://":  # file:///tmp/x was folded into file:/tmp/x
                return "file://" + text[len("file:") :]
            return scheme + text[len(folded) :]
    return None


@dataclass
class Stats:
    bytes: int = 0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, n: int) -> None:
        with self.lock:
            self.bytes += n
            self.requests += 1


class _Counted(io.RawIOBase):
    """A random-access file read through ``read_at`` (for pyarrow's Parquet reader)."""

    def __init__(self, size: int, read_at: Any):
        self._size, self._read_at, self._pos = size, read_at, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self._pos, 2: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def read(self, n: int | None = -1) -> bytes:
        if n is None or n < 0:
            n = self._size - self._pos
        n = min(n, self._size - self._pos)
        if n <= 0:
            return b""
        data: bytes = self._read_at(self._pos, n)
        self._pos += len(data)
        return data

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[: len(data)] = data
        return len(data)


class Transport:
    """Reads of the files under one published prefix."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.stats = Stats()

    def shown(self, name: str) -> str:
        return mask_text(f"{self.url}/{name}")

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        raise NotImplementedError

    def read(self, name: str, size: int | None = None) -> bytes:
        raise NotImplementedError

    def open(self, name: str, size: int) -> pa.NativeFile:
        """A random-access file for pyarrow, every read a range read."""
        return pa.PythonFile(_Counted(size, lambda at, n: self.read_range(name, at, n)), mode="r")


# -- pyarrow filesystems: local paths and S3 -----------------------------------------------------


def _fs_error(e: BaseException, what: str) -> RemoteError:
    text = str(e)
    low = text.lower()
    if "access_denied" in low or "403" in text or "accessdenied" in low or "forbidden" in low:
        return RemoteError(f"access denied (403) reading {what}: check the credentials")
    if (
        "not_found" in low
        or "404" in text
        or "nosuchkey" in low
        or "does not exist" in low
        or (isinstance(e, FileNotFoundError))
    ):
        return RemoteError(f"not found (404): {what}")
    if "timeout" in low or "timed out" in low:
        return RemoteError(f"timed out reading {what}")
    if "network_connection" in low or "connect" in low or "curl" in low or "reset" in low:
        return RemoteError(f"connection lost reading {what}")
    return RemoteError(
        f"cannot read {what}: {mask_text(text.splitlines()[0] if text else type(e).__name__)}"
    )


class FsTransport(Transport):
    def __init__(self, url: str, fs: pafs.FileSystem, base: str):
        super().__init__(url)
        self.fs, self.base = fs, base.rstrip("/")
        self._files: dict[str, Any] = {}  # open handles: S3 asks the size once per file
        self._lock = threading.Lock()

    def _path(self, name: str) -> str:
        return f"{self.base}/{name}"

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        try:
            with self._lock:
                f = self._files.get(name)
                if f is None:
                    f = self._files[name] = self.fs.open_input_file(self._path(name))
            data = bytes(f.read_at(length, offset))
        except (OSError, pa.ArrowException) as e:
            raise _fs_error(e, self.shown(name)) from None
        self.stats.add(len(data))
        if len(data) != length:
            raise RemoteError(f"short read of {self.shown(name)}: the file changed or was cut")
        return data

    def read(self, name: str, size: int | None = None) -> bytes:
        try:
            with self.fs.open_input_stream(self._path(name)) as f:
                data: bytes = f.read()
        except (OSError, pa.ArrowException) as e:
            raise _fs_error(e, self.shown(name)) from None
        self.stats.add(len(data))
        return data


def s3_filesystem(endpoint_url: str | None, timeout: float) -> pafs.S3FileSystem:
    """pyarrow's S3 filesystem: credentials from the AWS default chain (environment, config and
    credentials files, profiles), region and endpoint from the environment unless given."""
    kwargs: dict[str, Any] = {
        "connect_timeout": timeout,
        "request_timeout": timeout,
        "retry_strategy": pafs.AwsStandardS3RetryStrategy(max_attempts=2),
    }
    endpoint = (
        endpoint_url or os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    )
    if endpoint:
        parts = urllib.parse.urlsplit(endpoint if "://" in endpoint else f"https://{endpoint}")
        kwargs["endpoint_override"] = parts.netloc + parts.path.rstrip("/")
        kwargs["scheme"] = parts.scheme
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if region or endpoint:
        kwargs["region"] = region or "us-east-1"
    return pafs.S3FileSystem(**kwargs)


# -- HTTP with Range --------------------------------------------------------------------------------


class HttpTransport(Transport):
    def __init__(self, url: str, timeout: float):
        super().__init__(url)
        self.timeout = timeout

    def _get(self, name: str, headers: dict[str, str]) -> tuple[int, bytes, int | None]:
        req = urllib.request.Request(f"{self.url}/{urllib.parse.quote(name)}", headers=headers)
        what = self.shown(name)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status = resp.status
                if "Range" in headers and status == 200:
                    raise RemoteError(
                        f"the server of {mask_text(self.url)} ignores range requests: "
                        "cab-tui reads a sweep by ranges and will not download whole files"
                    )
                data = resp.read()
                length = resp.headers.get("Content-Length")
        except urllib.error.HTTPError as e:
            if e.code in (401, 403):
                raise RemoteError(f"access denied ({e.code}) reading {what}") from None
            if e.code == 404:
                raise RemoteError(f"not found (404): {what}") from None
            if e.code == 416:
                raise RemoteError(f"range not satisfiable (416) reading {what}") from None
            raise RemoteError(f"HTTP {e.code} reading {what}") from None
        except (TimeoutError, socket.timeout):
            raise RemoteError(f"timed out reading {what}") from None
        except (urllib.error.URLError, http.client.HTTPException, ConnectionError, OSError) as e:
            reason = getattr(e, "reason", None)
            if isinstance(reason, (TimeoutError, socket.timeout)):
                raise RemoteError(f"timed out reading {what}") from None
            raise RemoteError(f"connection lost reading {what}") from None
        self.stats.add(len(data))
        return status, data, int(length) if length and length.isdigit() else None

    def read_range(self, name: str, offset: int, length: int) -> bytes:
        _, data, _ = self._get(name, {"Range": f"bytes={offset}-{offset + length - 1}"})
        if len(data) != length:
            raise RemoteError(f"short read of {self.shown(name)}: connection cut or file changed")
        return data

    def read(self, name: str, size: int | None = None) -> bytes:
        _, data, length = self._get(name, {})
        if length is not None and len(data) != length:
            raise RemoteError(f"short read of {self.shown(name)}: connection cut")
        return data

    def check_ranges(self, name: str) -> None:
        """Refuse a server that answers a range request with the whole file."""
        self.read_range(name, 0, 1)


def transport_for(
    url: str, endpoint_url: str | None = None, timeout: float = DEFAULT_TIMEOUT
) -> Transport:
    if url.startswith(("http://", "https://")):
        t = HttpTransport(url, timeout)
        return t
    if url.startswith("s3://"):
        base = url[len("s3://") :].strip("/")
        if not base:
            raise RemoteError("give s3://bucket/prefix")
        try:
            fs = s3_filesystem(endpoint_url, timeout)
        except (OSError, pa.ArrowException, ValueError) as e:
            raise RemoteError(f"cannot set up S3: {mask_text(str(e).splitlines()[0])}") from None
        return FsTransport(url, fs, base)
    path = url[len("file://") :] if url.startswith("file://") else url
    return FsTransport(url, pafs.LocalFileSystem(), os.path.abspath(path))
