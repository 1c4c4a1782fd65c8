"""Following a sweep that is still being written: poll its files, re-open the store when they
change, and tell half-written files from broken ones.

A :class:`Watcher` compares the sweep's fingerprint (every file's path, size and modification
time) with the one its store was built from; when they differ it opens the store again and
returns it: the cache reads only the lines appended to the sweep-level JSON-lines files when
that is all that changed (:mod:`cabtui.store.increment`), and is rebuilt otherwise. No Textual here: ``cab-tui tail`` and the browser's live
widget both poll through it.

A file still being written (a last line without its newline, a JSON document cut mid-write) is
not a problem yet: :meth:`Watcher.settled` keeps back the problems of files modified within
``settle`` seconds, which the next poll reads again once complete. What stays broken is reported.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from cabtui.store.cache import cache_fingerprint
from cabtui.store.store import Store
from cabtui.sweep.problems import Problem

SETTLE = 2.0  # seconds a file must stay unchanged before its problems are reported


class Watcher:
    """Polls the sweep under ``store`` (its root, read as its source).

    ``opener`` opens the store afresh (``Store.open`` by default); ``clock`` gives wall time,
    compared with the files' modification times.
    """

    def __init__(
        self,
        store: Store,
        opener: Callable[[Path, str | None], Store] | None = None,
        settle: float = SETTLE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = store.root
        self.source = store.source
        self.opener = opener or (lambda root, source: Store.open(root, source=source))
        self.settle = settle
        self.clock = clock
        self._first: Store | None = store  # its fingerprint is read by the first poll
        self.fingerprint: str | None = None
        self._seen: dict[Problem, float] = {}  # problems held back: when first seen
        self._told: set[Problem] = set()  # problems let through: they stay so

    @staticmethod
    def _built_from(store: Store) -> str | None:
        rows = store.cursor().execute("SELECT value FROM meta WHERE key = 'fingerprint'").fetchall()
        return rows[0][0] if rows else None

    def changed(self) -> bool:
        """Whether the sweep's files differ from those the last store was built from."""
        self._known()
        return cache_fingerprint(self.root, self.source) != self.fingerprint

    def _known(self) -> None:
        if self._first is not None:
            self.fingerprint, self._first = self._built_from(self._first), None

    def poll(self) -> Store | None:
        """A store re-opened on the sweep if its files changed since the last one; else None."""
        self._known()
        fp = cache_fingerprint(self.root, self.source)
        if fp == self.fingerprint:
            return None
        store = self.opener(self.root, self.source)
        self.fingerprint = self._built_from(store)
        return store

    @property
    def holding(self) -> bool:
        """Whether :meth:`settled` held problems back the last time it was asked."""
        return bool(self._seen)

    def settled(self, problems: list[Problem]) -> list[Problem]:
        """``problems`` less those of files still being written (modified within the last
        ``settle`` seconds), unless the problem has been there ``settle`` seconds already: a
        broken line that more lines followed stays broken, a cut last line is soon whole."""
        now = self.clock()
        out, seen = [], {}
        for p in problems:
            path = Path(p.file) if os.path.isabs(p.file) else self.root / p.file
            try:
                mtime = path.stat().st_mtime
            except OSError:
                out.append(p)  # not a file of the sweep (a folder, a name): as it is
                continue
            first = self._seen.get(p, now)
            if p in self._told or now - mtime >= self.settle or now - first >= self.settle:
                out.append(p)
            else:
                seen[p] = first
        self._seen, self._told = seen, set(out)
        return out
