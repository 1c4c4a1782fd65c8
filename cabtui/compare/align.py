"""Aligning two runs' span timelines, for a side-by-side comparison. No Textual here.

Each span is a token ``(kind, normalised name)``. The alignment is a two-tier longest common
subsequence: first the most spans paired on an exact token (a *match*), then, inside each
stretch between two matches, the most spans paired on kind alone (a *partial* match); the rest
are gaps, one side only. Both tiers use the bit-parallel LCS of Allison and Dix (Python's big
integers as bit vectors), so two runs of 2,000 spans align in a few milliseconds, where a
plain Needleman-Wunsch table of 4M cells would take seconds in pure Python.

Names are compared after :func:`normalise` strips what varies between runs of the same step:
temporary paths, hex ids and UUIDs, numbers, and each run's own CLI and model names (so
``aider:launch`` pairs with ``copilot:launch``).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MATCH = 2.0  # same kind, same normalised name
PARTIAL = 1.0  # same kind, another name
GAP = -1.0  # a span on one side only

_UUID = re.compile(
    r"\b[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\b"
)
_TMP = re.compile(r"(?:[A-Za-z]:)?[/\\]\S*?(?:tmp|temp|scratch|var/folders)\S*", re.IGNORECASE)
_HEX = re.compile(r"\b(?:0x[0-9a-fA-F]+|(?=[0-9a-fA-F]*\d)[0-9a-fA-F]{6,})\b")
_NUM = re.compile(r"\d+(?:\.\d+)?")


def normalise(name: str | None, own: Mapping[str, str] | None = None) -> str:
    """``name`` with its volatile parts replaced by placeholders.

    ``own`` maps a placeholder to a value that names this run (``{"tui": "aider"}``); each
    value is replaced by ``<placeholder>`` first, longest first, so two runs of different CLIs
    or models still pair their corresponding steps.
    """
    text = name or ""
    if own:
        for key, value in sorted(own.items(), key=lambda kv: -len(kv[1] or "")):
            if value:
                text = text.replace(value, f"<{key}>")
    text = _TMP.sub("<path>", text)
    text = _UUID.sub("<id>", text)
    text = _HEX.sub("<id>", text)
    return _NUM.sub("<n>", text)


@dataclass(frozen=True, slots=True)
class Pair:
    """One row of the alignment: indices into each run's span list (None for a gap)."""

    a: int | None
    b: int | None
    score: float

    @property
    def status(self) -> str:
        """``match``, ``partial``, ``only_a`` or ``only_b``."""
        if self.a is None:
            return "only_b"
        if self.b is None:
            return "only_a"
        return "match" if self.score >= MATCH else "partial"


def lcs(a: Sequence[int], b: Sequence[int]) -> list[tuple[int, int]]:
    """Index pairs of a longest common subsequence of two integer sequences, in order.

    Bit-parallel (Allison-Dix / Crochemore et al.): one big-integer row per element of ``a``,
    bit j of row i is 0 where the LCS length grows at column j.
    """
    n, m = len(a), len(b)
    if n == 0 or m == 0:
        return []
    masks: dict[int, int] = {}
    for j, tok in enumerate(b):
        masks[tok] = masks.get(tok, 0) | (1 << j)
    full = (1 << m) - 1
    v = full
    rows = [v]
    for tok in a:
        u = v & masks.get(tok, 0)
        v = ((v + u) | (v - u)) & full
        rows.append(v)

    def length(i: int, j: int) -> int:  # LCS of a[:i] and b[:j]
        return j - (rows[i] & ((1 << j) - 1)).bit_count()

    out: list[tuple[int, int]] = []
    i, j = n, m
    here = length(i, j)
    while i > 0 and j > 0 and here > 0:
        if a[i - 1] == b[j - 1]:
            i, j, here = i - 1, j - 1, here - 1
            out.append((i, j))
            continue
        up = length(i - 1, j)
        if up == here:
            i -= 1
        else:
            j -= 1
    out.reverse()
    return out


def _start(span: Mapping[str, Any]) -> float:
    s = span.get("start_ms")
    return float("inf") if s is None else float(s)


def align(
    a_spans: Sequence[Mapping[str, Any]],
    b_spans: Sequence[Mapping[str, Any]],
    a_own: Mapping[str, str] | None = None,
    b_own: Mapping[str, str] | None = None,
) -> list[Pair]:
    """Align two span lists (each ordered by start, as ``Store.spans`` returns them).

    Every index of each side appears exactly once, in order; unmatched spans of a stretch are
    interleaved by start time. ``a_own``/``b_own`` name each run for :func:`normalise`.
    """
    tokens: dict[tuple[str, str], int] = {}
    kinds: dict[str, int] = {}

    def encode(
        spans: Sequence[Mapping[str, Any]], own: Mapping[str, str] | None
    ) -> tuple[list[int], list[int]]:
        toks, ks = [], []
        for s in spans:
            kind = str(s.get("kind") or "")
            toks.append(tokens.setdefault((kind, normalise(s.get("name"), own)), len(tokens)))
            ks.append(kinds.setdefault(kind, len(kinds)))
        return toks, ks

    ta, ka = encode(a_spans, a_own)
    tb, kb = encode(b_spans, b_own)
    out: list[Pair] = []

    def gaps(i0: int, i1: int, j0: int, j1: int) -> None:
        i, j = i0, j0
        while i < i1 or j < j1:
            if j >= j1 or (i < i1 and _start(a_spans[i]) <= _start(b_spans[j])):
                out.append(Pair(i, None, GAP))
                i += 1
            else:
                out.append(Pair(None, j, GAP))
                j += 1

    def stretch(i0: int, i1: int, j0: int, j1: int) -> None:
        if i0 == i1 or j0 == j1:
            gaps(i0, i1, j0, j1)
            return
        base_i, base_j = i0, j0
        for di, dj in lcs(ka[i0:i1], kb[j0:j1]):
            i, j = base_i + di, base_j + dj
            gaps(i0, i, j0, j)
            out.append(Pair(i, j, MATCH if ta[i] == tb[j] else PARTIAL))
            i0, j0 = i + 1, j + 1
        gaps(i0, i1, j0, j1)

    i0 = j0 = 0
    for i, j in lcs(ta, tb):
        stretch(i0, i, j0, j)
        out.append(Pair(i, j, MATCH))
        i0, j0 = i + 1, j + 1
    stretch(i0, len(ta), j0, len(tb))
    return out


def parted_at(pairs: Sequence[Pair]) -> int | None:
    """Index of the first pair that is not a match: where the two traces part (None if never)."""
    for k, p in enumerate(pairs):
        if p.status != "match":
            return k
    return None


class Lockstep:
    """Maps a time in one run to the corresponding time in the other, along the alignment.

    Piecewise linear between the starts of paired spans (matches and partial matches), with
    both runs' starts (0) and ends as extra anchors; outside the anchors, a constant offset.
    """

    def __init__(self, pairs: Sequence[Pair], a_spans: Sequence[Mapping[str, Any]],
                 b_spans: Sequence[Mapping[str, Any]]) -> None:  # fmt: skip
        pts = [(0.0, 0.0)]
        for p in pairs:
            if p.a is None or p.b is None:
                continue
            sa, sb = a_spans[p.a].get("start_ms"), b_spans[p.b].get("start_ms")
            if sa is not None and sb is not None:
                pts.append((float(sa), float(sb)))
        ends = [_end(a_spans), _end(b_spans)]
        if ends[0] is not None and ends[1] is not None:
            pts.append((ends[0], ends[1]))
        # keep a monotone, strictly increasing chain in both coordinates
        xs: list[float] = []
        ys: list[float] = []
        for x, y in pts:
            if xs and (x <= xs[-1] or y < ys[-1]):
                continue
            xs.append(x)
            ys.append(y)
        self.xs, self.ys = xs, ys
        # ys may repeat a value; the inverse keeps the first x of each y
        self._inv_x: list[float] = []
        self._inv_y: list[float] = []
        for x, y in zip(xs, ys):
            if not self._inv_y or y > self._inv_y[-1]:
                self._inv_x.append(x)
                self._inv_y.append(y)

    @staticmethod
    def _map(t: float, xs: list[float], ys: list[float]) -> float:
        k = bisect.bisect_right(xs, t) - 1
        if k < 0:
            return ys[0] + (t - xs[0])
        if k >= len(xs) - 1:
            return ys[-1] + (t - xs[-1])
        x0, x1, y0, y1 = xs[k], xs[k + 1], ys[k], ys[k + 1]
        return y0 + (t - x0) * (y1 - y0) / (x1 - x0)

    def a_to_b(self, t_a: float) -> float:
        return self._map(t_a, self.xs, self.ys)

    def b_to_a(self, t_b: float) -> float:
        return self._map(t_b, self._inv_y, self._inv_x)


def _end(spans: Sequence[Mapping[str, Any]]) -> float | None:
    ends = [
        float(s["start_ms"]) + float(s.get("duration_ms") or 0.0)
        for s in spans
        if s.get("start_ms") is not None
    ]
    return max(ends) if ends else None


def lockstep(pairs: Sequence[Pair], a_spans: Sequence[Mapping[str, Any]],
             b_spans: Sequence[Mapping[str, Any]], t_a: float) -> float:  # fmt: skip
    """The time in run B (ms from its start) that corresponds to ``t_a`` in run A.

    For a cursor that moves often, build one :class:`Lockstep` and call ``a_to_b``.
    """
    return Lockstep(pairs, a_spans, b_spans).a_to_b(t_a)
