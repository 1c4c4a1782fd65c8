"""The state of a JSON-lines file as an ingest read it, so that a refresh reads only what was
appended since: where its last complete line ends, and a digest of what lies before."""

from __future__ import annotations

import hashlib
import os
import posixpath
from dataclasses import dataclass
from pathlib import Path

from cabtui.sweep.layout import Sweep

EDGE = 4096  # bytes at each end of the read part that the digest covers
_CHUNK = 1 << 20


@dataclass
class FileState:
    """One sweep-level file as read: see the ``files`` table (cabtui.store.tables)."""

    sweep_dir: str
    name: str  # results.jsonl, spans.jsonl or model_calls.jsonl
    rel: str  # its path relative to the opened directory, as the fingerprint walk gives it
    label: str
    source_order: int | None  # results.jsonl: its place among the run streams
    size: int
    mtime_ns: int
    offset: int  # bytes up to and with its last newline
    rows: int  # rows (non-blank lines) before offset
    lines: int | None  # lines before offset (None: not counted yet)
    head: str
    types: list[tuple[str, str]] | None  # how DuckDB read it (None: read carefully)


def last_newline_end(path: Path, size: int) -> int:
    """The offset just past the last newline in the first ``size`` bytes of ``path`` (0 if
    none)."""
    with open(path, "rb") as f:
        end = size
        while end > 0:
            start = max(0, end - _CHUNK)
            f.seek(start)
            block = f.read(end - start)
            i = block.rfind(b"\n")
            if i >= 0:
                return start + i + 1
            end = start
    return 0


def digest(path: Path, offset: int) -> str:
    """A digest of the first and last EDGE bytes before ``offset``: an appended file keeps it,
    a rewritten one almost never does."""
    h = hashlib.sha1(str(offset).encode())
    with open(path, "rb") as f:
        h.update(f.read(min(EDGE, offset)))
        start = max(0, offset - EDGE)
        f.seek(start)
        h.update(f.read(offset - start))
    return h.hexdigest()


def count_lines(path: Path, offset: int) -> int:
    """Newlines in the first ``offset`` bytes of ``path``."""
    n = 0
    with open(path, "rb") as f:
        left = offset
        while left > 0:
            block = f.read(min(_CHUNK * 8, left))
            if not block:
                break
            n += block.count(b"\n")
            left -= len(block)
    return n


def stat_of(path: Path) -> tuple[int, int] | None:
    """(size, mtime_ns) of a regular file, or None."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


Entry = tuple[str, int, int]  # a file's path relative to the opened directory, size, mtime_ns
RunKey = tuple[str, str, str, str, int]  # sweep_dir, tui, model, task_id, run


JOB = ("", "", "", 0)  # the run part of the key of a job's own files (cabtui.store.increment_jobs)


def run_files_of(sweep: Sweep, root: Path) -> dict[str, RunKey]:
    """The files of a sweep's run folders by their path from the opened directory ``root``, as
    the fingerprint walk names them, and each folder (its path ending in /): each with its run.
    For a sweep a refresh reads in part (a Harbor job), its trial folders (:func:`with_contents`
    adds the files in them) and its own result.json (run part JOB); none for other imports."""
    if sweep.importer is not None and sweep.reimport is None:
        return {}
    if sweep.importer is None and sweep.source != "cab":
        return {}
    try:
        base = sweep.path.relative_to(root).as_posix()
    except ValueError:
        return {}
    prefix = "" if base == "." else f"{base}/"
    out: dict[str, RunKey] = {}
    for rd in sweep.run_dirs:
        key = (sweep.name, *rd.key)
        out[f"{prefix}{rd.rel}/".replace(os.sep, "/")] = key  # the folder, even when empty
        for rel in rd.files.values():
            out[prefix + rel.replace(os.sep, "/")] = key
    if sweep.reimport is not None and (sweep.path / "result.json").is_file():
        out[f"{prefix}result.json"] = (sweep.name, *JOB)
    return out


def with_contents(entries: list[Entry], owned: dict[str, RunKey]) -> dict[str, RunKey]:
    """``owned`` and every walked file (of ``entries``) inside one of its folders, with that
    folder's run."""
    folders = {rel[:-1]: key for rel, key in owned.items() if rel.endswith("/")}
    out = dict(owned)
    for rel, _, _ in entries:
        if rel in out:
            continue
        d = posixpath.dirname(rel)
        while d:
            key = folders.get(d)
            if key is not None:
                out[rel] = key
                break
            d = posixpath.dirname(d)
    return out
