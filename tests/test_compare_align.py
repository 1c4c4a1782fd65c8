"""Span alignment: hand-built timelines, the real aider and copilot runs, and properties."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from cabtui.compare.align import (
    GAP,
    MATCH,
    PARTIAL,
    Lockstep,
    Pair,
    align,
    lcs,
    lockstep,
    normalise,
    parted_at,
)
from cabtui.store.store import Store

EXPANSION = Path(__file__).resolve().parent.parent / "data" / "sweeps" / "expansion-20260616"


def spans(*items: tuple[str, str], step: float = 10.0) -> list[dict[str, Any]]:
    return [
        {"kind": k, "name": n, "start_ms": i * step, "duration_ms": step}
        for i, (k, n) in enumerate(items)
    ]


BASE = [("task_setup", "prepare"), ("model_call", "chat"), ("tool_call", "read_file"),
        ("shell", "shell:cargo"), ("test", "test:cargo"), ("cleanup", "cleanup")]  # fmt: skip


def statuses(pairs: list[Pair]) -> list[str]:
    return [p.status for p in pairs]


def test_identical_all_matched() -> None:
    pairs = align(spans(*BASE), spans(*BASE))
    assert [(p.a, p.b) for p in pairs] == [(i, i) for i in range(len(BASE))]
    assert all(p.score == MATCH for p in pairs)
    assert parted_at(pairs) is None


def test_inserted_span_is_one_gap() -> None:
    b = BASE[:3] + [("edit", "edit:src/lib.rs")] + BASE[3:]
    pairs = align(spans(*BASE), spans(*b))
    assert statuses(pairs).count("only_b") == 1
    assert statuses(pairs).count("match") == len(BASE)
    gap = next(p for p in pairs if p.status == "only_b")
    assert gap.b == 3 and gap.a is None and gap.score == GAP
    assert parted_at(pairs) == 3


def test_same_kind_other_name_is_partial() -> None:
    b = list(BASE)
    b[2] = ("tool_call", "write_file")
    pairs = align(spans(*BASE), spans(*b))
    assert statuses(pairs) == ["match", "match", "partial", "match", "match", "match"]
    assert pairs[2].score == PARTIAL and (pairs[2].a, pairs[2].b) == (2, 2)
    assert parted_at(pairs) == 2


def test_different_kinds_never_pair() -> None:
    pairs = align(spans(("shell", "x")), spans(("edit", "x")))
    assert sorted(statuses(pairs)) == ["only_a", "only_b"]


def test_volatile_parts_normalised() -> None:
    assert normalise("span 7c5912bd53984263970eba17add012d5") == normalise(
        "span 3e850dc71d0a4457a2b3234186747010"
    )
    assert normalise("job 12") == normalise("job 3401")
    assert normalise("id 123e4567-e89b-12d3-a456-426614174000") == "id <id>"
    assert normalise("cd /tmp/tmpab12cd/work") == normalise("cd /tmp/tmpzz99qq/work")
    assert normalise("aider:launch", {"tui": "aider"}) == normalise(
        "copilot:launch", {"tui": "copilot"}
    )
    assert normalise("read_file") != normalise("write_file")
    a = spans(("container", "run a1b2c3d4e5f6"), ("shell", "sleep 10"))
    b = spans(("container", "run 0f9e8d7c6b5a"), ("shell", "sleep 250"))
    assert statuses(align(a, b)) == ["match", "match"]


def test_real_aider_vs_copilot() -> None:
    """The two real runs of one task: copilot lacks aider's git-init-marker step."""
    read = {}
    for tui in ("aider", "copilot"):
        (path,) = (EXPANSION / "runs" / tui).glob("**/spans.jsonl")
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        read[tui] = rows
    model = "meta/llama-4-maverick-17b-128e-instruct"
    store = Store.open(EXPANSION)
    a = store.spans(store.find("/aider/")[0])
    b = store.spans(store.find("/copilot/")[0])
    assert len(a) == len(read["aider"]) and len(b) == len(read["copilot"])
    pairs = align(a, b, {"tui": "aider", "model": model}, {"tui": "copilot", "model": model})
    only_a = [a[p.a]["name"] for p in pairs if p.status == "only_a" and p.a is not None]
    assert only_a == ["aider:git-init-marker"]
    assert statuses(pairs).count("match") == len(b)
    assert not any(p.status == "only_b" for p in pairs)
    k = parted_at(pairs)
    assert k is not None and pairs[k].status == "only_a"
    # the linked cursor: copilot's cleanup span is where aider's is
    ca = next(s for s in a if s["kind"] == "cleanup")["start_ms"]
    cb = next(s for s in b if s["kind"] == "cleanup")["start_ms"]
    assert abs(lockstep(pairs, a, b, ca) - cb) < 1e-9


def test_lockstep_piecewise_linear() -> None:
    a = spans(*BASE, step=10.0)  # starts 0, 10, ..., 50; ends at 60
    b = spans(*BASE, step=20.0)  # starts 0, 20, ..., 100; ends at 120
    pairs = align(a, b)
    ls = Lockstep(pairs, a, b)
    for t in (0.0, 5.0, 10.0, 33.0, 60.0):
        assert abs(ls.a_to_b(t) - 2 * t) < 1e-9
        assert abs(ls.b_to_a(2 * t) - t) < 1e-9
    assert abs(ls.a_to_b(70.0) - 130.0) < 1e-9  # past the end: constant offset
    assert lockstep([], [], [], 5.0) == 5.0


def _lcs_len(a: list[int], b: list[int]) -> int:
    prev = [0] * (len(b) + 1)
    for x in a:
        cur = [0]
        for j, y in enumerate(b):
            cur.append(prev[j] + 1 if x == y else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


ints = st.lists(st.integers(0, 4), max_size=40)


@given(ints, ints)
@settings(max_examples=200, deadline=None)
def test_lcs_is_a_longest_common_subsequence(a: list[int], b: list[int]) -> None:
    pairs = lcs(a, b)
    assert len(pairs) == _lcs_len(a, b)
    assert all(a[i] == b[j] for i, j in pairs)
    assert all(i1 < i2 and j1 < j2 for (i1, j1), (i2, j2) in pairwise(pairs))


span_lists = st.lists(
    st.tuples(
        st.sampled_from(["shell", "edit", "tool_call", "model_call"]),
        st.sampled_from(["x", "y", "z 42", "w"]),
    ),
    max_size=30,
)


@given(span_lists)
@settings(max_examples=100, deadline=None)
def test_self_alignment_matches_everything(items: list[tuple[str, str]]) -> None:
    s = spans(*items)
    pairs = align(s, s)
    assert [(p.a, p.b) for p in pairs] == [(i, i) for i in range(len(s))]
    assert parted_at(pairs) is None


@given(span_lists, span_lists)
@settings(max_examples=200, deadline=None)
def test_pairs_cover_each_side_once_in_order(
    x: list[tuple[str, str]], y: list[tuple[str, str]]
) -> None:
    a, b = spans(*x), spans(*y, step=7.0)
    pairs = align(a, b)
    assert [p.a for p in pairs if p.a is not None] == list(range(len(a)))
    assert [p.b for p in pairs if p.b is not None] == list(range(len(b)))
    for p in pairs:
        if p.a is not None and p.b is not None:
            assert a[p.a]["kind"] == b[p.b]["kind"]
            assert (p.score == MATCH) == (normalise(a[p.a]["name"]) == normalise(b[p.b]["name"]))
    # at least as many matches as exact (kind, name) tokens have in common
    ta = [hash((k, normalise(n))) for k, n in x]
    tb = [hash((k, normalise(n))) for k, n in y]
    assert sum(p.status == "match" for p in pairs) >= _lcs_len(ta, tb)
