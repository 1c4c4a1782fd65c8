"""The keyframed player: seeks agree with a straight replay; dump() round-trips terminal state."""

from __future__ import annotations

import random
from typing import Any

import avt
import pytest

from cabtui.replay.engine import Player
from cabtui.sweep.asciicast import Recording, format_cast
from cabtui.sweep.cast_reader import parse_cast

Events = list[tuple[float, str, str]]


def rec_of(events: Events, cols: int = 20, rows: int = 5) -> Recording:
    return parse_cast(format_cast(cols, rows, events).encode())


def reference(
    events: Events, t: float, cols: int = 20, rows: int = 5
) -> tuple[list[str], tuple[int, int, bool]]:
    """The screen at t by feeding everything from the start into one Vt, one event at a time."""
    vt = avt.Vt(cols, rows, scrollback_limit=1000)
    for time, code, data in events:
        if time > t:
            break
        if code == "o":
            vt.feed_str(data.replace("\x7f", ""))
        elif code == "r":
            cols_text, rows_text = data.split("x")
            vt.resize(int(cols_text), int(rows_text))
    c = vt.cursor
    return [ln.text.rstrip() for ln in vt.view()], (c.row, c.col, c.visible)


def noisy_events(seed: int, n: int = 400) -> Events:
    rnd = random.Random(seed)
    pieces = [
        "line {i}\r\n", "\x1b[{r};{c}H*", "\x1b[2J", "\x1b[?1049h", "\x1b[?1049l", "\x1b[K",
        "\x1b[3{c}m{i}\x1b[0m", "\x1b[2;4r", "\x1b[r", "\x1b[?25l", "\x1b[?25h", "\x1b7",
        "\x1b8", "\x1b(0lqk\x1b(B", "\u4e2d\u6587", "\x1b[4h", "\x1b[4l", "\x1b[?7l", "\x1b[?7h",
        "\x1b[", "31m", "\x1b]0;ti", "tle\x07",
    ]  # fmt: skip
    t, out = 0.0, []
    for i in range(n):
        t += rnd.choice([0.0, 0.01, 0.3, 2.0])
        if rnd.random() < 0.03:
            out.append((t, "r", f"{rnd.randint(8, 30)}x{rnd.randint(3, 9)}"))
            continue
        data = "".join(
            rnd.choice(pieces).format(i=i, r=rnd.randint(1, 6), c=rnd.randint(1, 7))
            for _ in range(rnd.randint(1, 4))
        )
        out.append((t, "o", data))
    return out


@pytest.mark.parametrize("seed", range(6))
def test_seek_matches_straight_replay(seed: int) -> None:
    events = noisy_events(seed)
    # tiny keyframe spacing so nearly every seek restores a keyframe
    player = Player(rec_of(events), keyframe_seconds=0.5, keyframe_bytes=64)
    assert len(player.keyframes) > 20
    rnd = random.Random(seed)
    for t in [rnd.uniform(0, player.duration) for _ in range(40)] + [player.duration, 0.0]:
        player.seek(t)
        text, cursor = reference(events, t)
        assert player.text() == text, t
        assert player.cursor() == cursor, t


def test_advance_returns_changed_rows_and_matches_seek() -> None:
    events = noisy_events(99)
    player = Player(rec_of(events), keyframe_bytes=128)
    other = Player(rec_of(events), keyframe_bytes=128)
    t = 0.0
    while t < player.duration:
        before = player.text()
        changed = player.advance(t)
        after = player.text()
        if len(before) == len(after):
            differing = {i for i, (a, b) in enumerate(zip(before, after, strict=True)) if a != b}
            assert differing <= changed
        other.seek(t)
        assert other.text() == after
        t += 0.37
    assert player.advance(1.0) == set(range(player.rows))  # backwards: everything


def test_advance_reports_only_touched_rows() -> None:
    player = Player(rec_of([(1.0, "o", "a\r\nb"), (2.0, "o", "\x1b[4;1Hz")]))
    assert player.advance(1.0) == {0, 1}
    assert player.advance(2.0) == {3}
    assert player.advance(2.5) == set()


def test_keyframe_not_taken_inside_an_escape_sequence() -> None:
    events = [(i * 1.0, "o", "x" * 10) for i in range(5)]
    events += [(5.0, "o", "\x1b[3"), (6.0, "o", "1mRED\x1b[0m")]
    player = Player(rec_of(events, 120, 3), keyframe_bytes=1, keyframe_seconds=0.1)
    assert 6 not in {k.index for k in player.keyframes}
    player.seek(6.0)
    cells = player.lines()[0].cells
    assert player.text()[0] == "x" * 50 + "RED"
    assert any(c.char == "R" and c.pen.foreground is not None for c in cells)


def test_resize_events_change_size() -> None:
    player = Player(rec_of([(1.0, "o", "hello"), (2.0, "r", "10x3"), (3.0, "o", "\r\nx")]))
    player.seek(1.5)
    assert (player.cols, player.rows) == (20, 5)
    player.seek(2.5)
    assert (player.cols, player.rows) == (10, 3) and len(player.text()) == 3
    player.seek(0.0)
    assert (player.cols, player.rows) == (20, 5)


def test_search_finds_new_appearances_case_insensitively() -> None:
    events = [
        (1.0, "o", "compiling\r\n"),
        (2.0, "o", "ERROR: one\r\n"),
        (3.0, "o", "more\r\nmore\r\n"),  # the error line scrolls: no new appearance
        (4.0, "o", "\x1b[2J\x1b[H"),
        (5.0, "o", "error: two"),
        (6.0, "o", "\x1b[1;1Hgone      "),
        (7.0, "o", "\x1b[3;1Hsome Error again"),
    ]
    player = Player(rec_of(events, 20, 3))
    assert player.search("error") == [2.0, 5.0, 7.0]
    assert player.search("nothing") == []
    assert player.search("") == []


def test_search_does_not_find_a_masked_secret_unless_revealed() -> None:
    token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    events = [(1.0, "o", "$ ls\r\n"), (2.0, "o", f"export GH_PAT={token}\r\n")]
    player = Player(rec_of(events, 80, 5))
    assert player.search("GH_PAT") == [2.0]  # the words around a secret are found
    assert player.search(token[:12]) == []  # its value is masked on screen, so not found
    assert player.search(token[:12], reveal=True) == [2.0]


def test_keyframe_memory_is_reported() -> None:
    player = Player(rec_of(noisy_events(3)), keyframe_bytes=256)
    assert player.keyframe_bytes() == sum(len(k.state) for k in player.keyframes) > 0


STATE_CASES = {
    "scroll region": ("\x1b[2;4r\x1b[4;1H", "a\nb\nc\nd\ne"),
    "autowrap off": ("\x1b[?7l", "x" * 30),
    "pending wrap": ("x" * 20, "Y"),
    "origin mode": ("\x1b[2;4r\x1b[?6h", "\x1b[1;1HO"),
    "insert mode": ("abc\x1b[4h\x1b[1G", "ZZ"),
    "G0 charset": ("\x1b(0", "lqk"),
    "G1 shifted": ("\x1b)0\x0e", "lqk"),
    "tab stops": ("\x1b[3g\x1bH\x1b[5G\x1bH\r", "\tT\tU"),
    "saved cursor": ("\x1b[3;3H\x1b7\x1b[1;1H", "\x1b8S"),
    "saved cursor on alt": ("\x1b[3;3H\x1b7\x1b[?1049h\x1b[1;1H", "\x1b8S"),
    "pen 256": ("\x1b[1;4;38;5;3;48;5;200m", "P"),
    "pen truecolor": ("\x1b[3;9;38;2;1;2;3;48;2;250;0;9m", "P"),
    "alt screen leave": ("main\x1b[?1049h\x1b[5;5Halt", "\x1b[?1049lP"),
    "newline mode": ("\x1b[20h", "a\nb"),
    "hidden cursor": ("\x1b[?25l", "x"),
    "wide chars": ("\u4e2d\u6587\U0001f600", "a"),
}


def snapshot(vt: avt.Vt) -> tuple[list[list[tuple[str, int, str]]], int, int, bool]:
    cells = [[(c.char, c.width, repr(c.pen)) for c in ln.cells] for ln in vt.view()]
    return cells, vt.cursor.row, vt.cursor.col, vt.cursor.visible


@pytest.mark.parametrize("case", STATE_CASES)
def test_avt_dump_round_trips_state(case: Any) -> None:
    before, after = STATE_CASES[case]
    a = avt.Vt(20, 5)
    a.feed_str(before)
    b = avt.Vt(20, 5)
    b.feed_str(a.dump())
    assert snapshot(a) == snapshot(b)
    a.feed_str(after)
    b.feed_str(after)
    assert snapshot(a) == snapshot(b)
    a.resize(9, 3)
    b.resize(9, 3)
    assert snapshot(a) == snapshot(b)
