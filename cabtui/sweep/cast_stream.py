"""Bytes to lines, within the limits (:mod:`cabtui.sweep.cast_limits`): a recording's file read
in chunks, gunzipped when it is gzip (never inflated whole), and split into lines each read with
a size bound; UTF-8 decoding of whole lines and of lines cut at the bound.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from typing import IO

from cabtui.sweep.asciicast import CastError

_CHUNK = 1 << 20


def chunks(f: IO[bytes], name: str, notes: list[str]) -> Iterator[bytes]:
    """The file's bytes, gunzipped when it starts with the gzip magic (whatever its name), in
    chunks of at most 1 MiB (a gzip bomb is never inflated whole). A truncated or corrupt gzip
    stream keeps what decompresses and adds a note; CastError when nothing does."""
    data = f.read(_CHUNK)
    if data[:2] != b"\x1f\x8b":
        while data:
            yield data
            data = f.read(_CHUNK)
        return
    d = zlib.decompressobj(wbits=31)
    produced = False
    while True:
        try:
            out = d.decompress(data, _CHUNK)
        except zlib.error as exc:
            if not produced:
                raise CastError(f"{name}: corrupt gzip data ({exc})") from None
            notes.append(f"{name}: gzip stream is truncated or corrupt ({exc})")
            return
        if out:
            produced = True
            yield out
        if d.eof:  # end of a member: another may follow
            data = d.unused_data or f.read(_CHUNK)
            if not data:
                return
            if data[:2] != b"\x1f\x8b":
                notes.append(f"{name}: data after the gzip stream ignored")
                return
            d = zlib.decompressobj(wbits=31)
            continue
        data = d.unconsumed_tail or f.read(_CHUNK)
        if not data:
            out = d.flush()
            if out:
                yield out
            notes.append(f"{name}: gzip stream is truncated or corrupt (it ends early)")
            return


class Lines:
    """Lines of a byte stream (split on ``\\n``), each read with a size bound: a longer line is
    cut at the bound and the rest of it skipped unread into memory."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks = chunks
        self._pending: list[bytes] = []
        self._i = 0
        self._part = b""
        self.total = 0  # bytes read so far, newlines included

    def next(self, limit: int) -> tuple[bytes, int] | None:
        """(line cut to ``limit`` bytes, the line's whole length), or None at the end."""
        if self._i < len(self._pending):
            line = self._pending[self._i]
            self._i += 1
            self.total += len(line) + 1
            return line[:limit], len(line)
        buf, size = [self._part[:limit]], len(self._part)
        kept = len(buf[0])
        self._part = b""
        for chunk in self.chunks:
            pieces = chunk.split(b"\n")
            head = pieces[0]
            size += len(head)
            if kept < limit:
                buf.append(head[: limit - kept])
                kept += len(buf[-1])
            if len(pieces) > 1:
                self._pending, self._i, self._part = pieces, 1, pieces[-1]
                del pieces[-1]
                self.total += size + 1
                return b"".join(buf), size
        if size == 0:
            return None
        self.total += size
        return b"".join(buf), size


def decode(raw: bytes, no: int, bad: list[int]) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        bad.append(no)
        return raw.decode("utf-8", errors="replace")


def decode_cut(raw: bytes) -> str:
    """A line cut at a byte bound: a character the cut splits is dropped, not replaced."""
    for back in range(4):
        try:
            return raw[: len(raw) - back].decode("utf-8")
        except UnicodeDecodeError as exc:
            if exc.start < len(raw) - back - 3:
                break
    return raw.decode("utf-8", errors="replace")
