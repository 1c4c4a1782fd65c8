"""The members of a zip file, stored, deflated or zstd-compressed (method 93, which Python's
``zipfile`` reads only from 3.14): what Inspect's ``.eval`` logs are. No Textual here.

The central directory is read with ``zipfile`` (it lists members whatever their compression);
a member is read from its local header and decompressed here. A zip without a usable central
directory (a file cut short, a log still being written) is read by walking its local headers
from the start: every member complete before the cut is still read.
"""

from __future__ import annotations

import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

STORED, DEFLATED, ZSTD = 0, 8, 93
MAX_MEMBER_BYTES = 512 * 1024 * 1024  # one member, decompressed
_ZSTD_STEP = 1024  # compressed bytes fed at a time: a zstd block (at most 128 KiB out) takes 4 in, so one step yields 32 MiB at most
_LOCAL = b"PK\x03\x04"
_LOCAL_FMT = "<4sHHHHHIIIHH"  # signature .. extra length (30 bytes)
_CHUNK = 1 << 20


class ZipProblem(Exception):
    """A zip or one of its members that cannot be read, with the reason."""


@dataclass(frozen=True, slots=True)
class Member:
    name: str
    method: int
    offset: int  # of the local header
    compressed: int  # bytes, or -1 when unknown (a data descriptor follows the data)
    size: int  # bytes, or -1 when unknown
    crc: int


def _zstd() -> object:
    import zstandard

    return zstandard.ZstdDecompressor()


def _bounded_zstd(z: Any, raw: bytes, name: str) -> bytes:
    """``raw`` decompressed in small steps, stopping once past MAX_MEMBER_BYTES (zstandard's
    decompressobj takes no output limit, and a header may lie about the size)."""
    out: list[bytes] = []
    total = 0
    for at in range(0, len(raw), _ZSTD_STEP):
        piece = z.decompress(raw[at : at + _ZSTD_STEP])
        out.append(piece)
        total += len(piece)
        if total > MAX_MEMBER_BYTES:
            raise ZipProblem(f"{name}: larger than {MAX_MEMBER_BYTES // 2**20} MiB")
        if z.eof:
            break
    return b"".join(out)


class EvalZip:
    """An open zip file: its members by name (in the order written) and their bytes."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.f: IO[bytes] = open(self.path, "rb")
        self.members: dict[str, Member] = {}
        self.truncated = False  # no central directory: read from the local headers
        try:
            with zipfile.ZipFile(self.f) as z:
                for i in z.infolist():
                    self.members[i.filename] = Member(
                        i.filename, i.compress_type, i.header_offset, i.compress_size,
                        i.file_size, i.CRC,
                    )  # fmt: skip
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, struct.error):
            self.truncated = True
            self.members = {m.name: m for m in self._walk_local()}
            if not self.members:
                self.f.close()
                raise ZipProblem("not a zip file") from None

    def close(self) -> None:
        self.f.close()

    def __enter__(self) -> EvalZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _walk_local(self) -> Iterator[Member]:
        """Members found by their local headers, from the start of the file to the first gap."""
        f, pos = self.f, 0
        f.seek(0, 2)
        end = f.tell()
        while pos + 30 <= end:
            f.seek(pos)
            head = f.read(30)
            if len(head) < 30 or head[:4] != _LOCAL:
                return
            _, _, flags, method, _, _, crc, csize, size, nlen, xlen = struct.unpack(
                _LOCAL_FMT, head
            )
            name = f.read(nlen).decode("utf-8" if flags & 0x800 else "cp437", "replace")
            extra = f.read(xlen)
            data_at = pos + 30 + nlen + xlen
            if csize == 0xFFFFFFFF or size == 0xFFFFFFFF:  # zip64: sizes in the extra field
                csize, size = _zip64_sizes(extra, csize, size)
            if flags & 0x08 and csize == 0:
                # Sizes follow the data: decompress to find where it ends.
                used = self._stream_length(data_at, method)
                if used is None:
                    return
                m = Member(name, method, pos, used, -1, -1)
                pos = data_at + used
                f.seek(pos)
                desc = f.read(16)
                pos += 16 if desc[:4] == b"PK\x07\x08" else 12
            else:
                if data_at + csize > end:
                    return  # cut inside this member
                m = Member(name, method, pos, csize, size, crc)
                pos = data_at + csize
            yield m

    def _stream_length(self, at: int, method: int) -> int | None:
        """The compressed length of the data starting at ``at`` (deflate or zstd), or None."""
        self.f.seek(at)
        if method == DEFLATED:
            d = zlib.decompressobj(-15)
        elif method == ZSTD:
            d = _zstd().decompressobj()  # type: ignore[attr-defined]  # zstandard's stubs do not declare decompressobj
        else:
            return None
        used = 0
        while not d.eof:  # both decompressors say where their stream ends
            chunk = self.f.read(_CHUNK)
            if not chunk:
                return None
            d.decompress(chunk)
            used += len(chunk) - len(d.unused_data)
        return used

    def read(self, name: str) -> bytes:
        """The decompressed bytes of member ``name`` (ZipProblem when it cannot be read)."""
        m = self.members.get(name)
        if m is None:
            raise ZipProblem(f"no member {name}")
        if m.size > MAX_MEMBER_BYTES:
            raise ZipProblem(f"{name}: larger than {MAX_MEMBER_BYTES // 2**20} MiB")
        f = self.f
        f.seek(m.offset)
        head = f.read(30)
        if len(head) < 30 or head[:4] != _LOCAL:
            raise ZipProblem(f"{name}: no local header where the directory says (file cut?)")
        nlen, xlen = struct.unpack("<HH", head[26:30])
        f.seek(m.offset + 30 + nlen + xlen)
        raw = f.read(m.compressed)
        if len(raw) < m.compressed:
            raise ZipProblem(f"{name}: cut short ({len(raw):,} of {m.compressed:,} bytes)")
        try:
            if m.method == STORED:
                data = raw
            elif m.method == DEFLATED:
                d = zlib.decompressobj(-15)
                data = d.decompress(raw, MAX_MEMBER_BYTES + 1)
                if not d.eof and len(data) <= MAX_MEMBER_BYTES:
                    raise ZipProblem(f"{name}: compressed data cut short")
            elif m.method == ZSTD:
                z = _zstd().decompressobj()  # type: ignore[attr-defined]  # zstandard's stubs do not declare decompressobj
                data = _bounded_zstd(z, raw, name)
                if not z.eof:
                    raise ZipProblem(f"{name}: compressed data cut short")
            else:
                raise ZipProblem(f"{name}: compression method {m.method} not supported")
        except zlib.error as e:
            raise ZipProblem(f"{name}: bad deflate data ({e})") from None
        except ZipProblem:
            raise
        except Exception as e:  # zstandard.ZstdError
            raise ZipProblem(f"{name}: bad zstd data ({e})") from None
        if len(data) > MAX_MEMBER_BYTES:
            raise ZipProblem(f"{name}: larger than {MAX_MEMBER_BYTES // 2**20} MiB")
        if m.crc >= 0 and m.size >= 0 and zlib.crc32(data) != m.crc:
            raise ZipProblem(f"{name}: checksum mismatch (damaged)")
        return data


def _zip64_sizes(extra: bytes, csize: int, size: int) -> tuple[int, int]:
    i = 0
    while i + 4 <= len(extra):
        tag, n = struct.unpack("<HH", extra[i : i + 4])
        body = extra[i + 4 : i + 4 + n]
        if tag == 1:
            vals = [struct.unpack("<Q", body[j : j + 8])[0] for j in range(0, len(body) - 7, 8)]
            k = 0
            if size == 0xFFFFFFFF and k < len(vals):
                size, k = vals[k], k + 1
            if csize == 0xFFFFFFFF and k < len(vals):
                csize = vals[k]
        i += 4 + n
    return csize, size


def is_zip(head: bytes) -> bool:
    return head[:4] == _LOCAL or head[:4] == b"PK\x05\x06"
