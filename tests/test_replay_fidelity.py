"""Fidelity: the engine's screen equals tmux's screen for the same bytes.

Each check starts a private tmux server (its own -L socket, no user config, status line off) with
one pane of the recording's size. The pane puts its tty in raw mode with no output processing
(so LF is not turned into CRLF), cats the recorded output, then asks tmux for the cursor position
(DSR) and waits for the answer: tmux answers in stream order, so the answer proves every byte
before it has been parsed. Resize events become ``tmux resize-window`` between parts.
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import avt
import pytest

from cabtui.replay.engine import Player
from cabtui.sweep.asciicast import Recording, format_cast, parse_size
from cabtui.sweep.cast_reader import parse_cast, read_cast

ROOT = Path(__file__).resolve().parent.parent
TMUX = shutil.which("tmux")
pytestmark = pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
_ids = itertools.count()

PANE_SCRIPT = r"""
stty raw -echo -opost -onlcr -icanon 2>/dev/null
i=0
while [ -e "$1/part$i" ]; do
  cat "$1/part$i"
  printf '\033[6n'
  IFS= read -r -s -d R _answer
  tmux wait-for -S "$2-done$i"
  tmux wait-for "$2-go$i"
  i=$((i+1))
done
exec sleep 3600
"""


def _parts(rec: Recording, t: float) -> list[tuple[tuple[int, int] | None, bytes]]:
    """The output up to t, split at resizes: [(size to set before this part or None, bytes)]."""
    parts: list[tuple[tuple[int, int] | None, list[str]]] = [(None, [])]
    for ev in rec.events:
        if ev.time > t:
            break
        if ev.code == "o":
            parts[-1][1].append(ev.data)
        elif ev.code == "r" and (size := parse_size(ev.data)):
            parts.append((size, []))
    return [(size, "".join(chunks).encode("utf-8")) for size, chunks in parts]


def tmux_screen(rec: Recording, t: float, work: Path) -> tuple[list[str], tuple[int, int]]:
    """Feed the recording's output up to t to a tmux pane; return (rows right-trimmed,
    (cursor row, cursor col))."""
    tmux_bin = TMUX
    assert tmux_bin is not None  # the module is skipped without tmux
    work.mkdir(parents=True, exist_ok=True)
    sock = f"cabtui-fid-{os.getpid()}-{next(_ids)}"
    conf = work / "tmux.conf"
    conf.write_text("set -g status off\nset -g history-limit 1000\nset -g escape-time 0\n")
    parts = _parts(rec, t)
    for n, (_, data) in enumerate(parts):
        (work / f"part{n}").write_bytes(data)
    (work / "pane.sh").write_text(PANE_SCRIPT)
    env = {**os.environ, "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    env.pop("TMUX", None)

    def tmux(*args: str, timeout: float = 20) -> str:
        return subprocess.run(
            [tmux_bin, "-u", "-L", sock, "-f", str(conf), *args],
            check=True, capture_output=True, text=True, env=env, timeout=timeout,
        ).stdout  # fmt: skip

    tmux("new-session", "-d", "-s", "fid", "-x", str(rec.cols), "-y", str(rec.rows),
         "bash", str(work / "pane.sh"), str(work), sock)  # fmt: skip
    try:
        for n, (size, _) in enumerate(parts):
            if size is not None:
                tmux("resize-window", "-t", "fid", "-x", str(size[0]), "-y", str(size[1]))
                tmux("wait-for", "-S", f"{sock}-go{n - 1}")
            tmux("wait-for", f"{sock}-done{n}")
        rows = tmux("capture-pane", "-p", "-t", "fid").split("\n")
        cx, cy = tmux("display-message", "-p", "-t", "fid", "#{cursor_x} #{cursor_y}").split()
    finally:
        kill = [tmux_bin, "-L", sock, "kill-server"]
        subprocess.run(kill, check=False, capture_output=True, env=env)
    height = rec.rows
    for size, _ in parts:
        height = size[1] if size else height
    rows = [r.rstrip() for r in rows[:height]]
    return rows + [""] * (height - len(rows)), (int(cy), int(cx))


# capture-pane prints DEC line-drawing cells as the ASCII bytes that selected them ("lqqk")
_UNDRAW = {ord(avt.Charset.Drawing.translate(chr(c))): chr(c) for c in range(0x5F, 0x7F)}


def assert_same_as_tmux(rec: Recording, t: float, work: Path, cursor: bool = True) -> None:
    player = Player(rec)
    player.seek(t)
    theirs, (crow, ccol) = tmux_screen(rec, t, work)
    ours = player.text()
    if any("\x1b(0" in e.data or "\x1b)0" in e.data for e in rec.events):
        ours = [row.translate(_UNDRAW) for row in ours]
    assert len(ours) == len(theirs)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a == b, f"t={t} row {i}:\n ours: {a!r}\n tmux: {b!r}"
    if cursor:
        assert player.cursor()[:2] == (crow, ccol)


def rec_of(cols: int, rows: int, *chunks: str | tuple[str, str]) -> Recording:
    evs = []
    for i, c in enumerate(chunks):
        code, data = c if isinstance(c, tuple) else ("o", c)
        evs.append((float(i + 1), code, data))
    return parse_cast(format_cast(cols, rows, evs).encode())


def redraw(frame: int) -> str:
    out = ["\x1b[H\x1b[2J"]
    for r in range(1, 11):
        out.append(f"\x1b[{r};{(r * 3 + frame) % 20 + 1}H\x1b[3{r % 8}mrow{r}-f{frame}\x1b[0m")
    out.append(f"\x1b[12;1H\x1b[7m status {frame} \x1b[0m")
    return "".join(out)


Case = tuple[int, int, *tuple[str | tuple[str, str], ...]]  # cols, rows, the chunks (rec_of)
CASES: dict[str, Case] = {
    "plain lines, LF without CR": (30, 6, "one\ntwo\r\nthree\r\n", "x" * 45, "\r\nlast"),
    "full-screen redraws": (40, 12, redraw(0), redraw(1), redraw(2) + "\x1b[5;5Hcursor"),
    "scroll region": (
        30, 8, "\x1b[H\x1b[2Jtop\x1b[8;1Hbottom\x1b[2;6r\x1b[6;1H",
        "".join(f"scrolled {i}\n\r" for i in range(12)), "\x1b[r\x1b[3;1H\x1bM\x1bMrev",
        "\x1b[2;5r\x1b[2;1H\x1b[2L\x1b[4;1H\x1b[1M\x1b[r",
    ),
    "256 and true colour": (
        40, 5, "".join(f"\x1b[38;5;{i}m{i % 10}" for i in range(0, 256, 9)),
        "\r\n\x1b[38;2;255;100;0;48;2;0;0;80mtruecolor\x1b[0m \x1b[1;3;4;9mstyled\x1b[0m",
    ),
    "wide characters": (
        20, 6, "\u4e2d\u6587\u5b57\u7b26 mixed\r\n", "\U0001f600 emoji \U0001f680 x\r\n",
        "12345678901234567\u4e2d\u6587\u5b57\r\n", "\x1b[1;2H\u6587\x1b[3;3Hab",
    ),
    "alternate screen": (
        30, 6, "main screen\r\nline 2", "\x1b[?1049h\x1b[H\x1b[2Jin alt\x1b[3;3Hdeep",
        "\x1b[?1049l", " back",
    ),
    "alternate screen, still in it": (30, 6, "main\r\n", "\x1b[?1049h\x1b[2;2Halt only"),
    "erase ops": (
        30, 6, "".join(f"{str(i) * 30}" for i in range(6)),
        "\x1b[2;5H\x1b[K\x1b[3;5H\x1b[1K\x1b[4;1H\x1b[2K\x1b[5;10H\x1b[J",
        "\x1b[1;5H\x1b[3X\x1b[1;20H\x1b[2P\x1b[1;3H\x1b[2@", "\x1b[1;1H\x1b[1J",
    ),
    "resize narrower and taller": (
        30, 6, "".join(f"line {i}\r\n" for i in range(12)) + "end", ("r", "20x9"), "\r\nafter",
    ),
    "resize wider and shorter": (
        20, 8, "\x1b[?1049h\x1b[Halt content\x1b[5;1Hrow5", ("r", "40x4"), "\x1b[H\x1b[2Jredrawn",
    ),
    "cursor movement and tabs": (
        40, 5, "a\tb\tc\r\n\x1b[5Cx\x1b[2Dy\x1b[Az\x1b[2Bw", "\x1b[3;30H\x1b[10Gm\x1b[99;99Hcorner",
    ),
    "line drawing charset": (20, 3, "\x1b(0lqqk\r\nx  x\r\nmqqj\x1b(B ok"),
    "hidden cursor and title": (20, 3, "\x1b]0;my title\x07\x1b[?25lhidden\x1b]2;t2\x1b\\ok"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_synthetic_stream_matches_tmux(case: str, tmp_path: Path) -> None:
    cols, rows, *chunks = CASES[case]
    rec = rec_of(cols, rows, *chunks)
    for t in sorted({1.0, rec.duration / 2, rec.duration}):
        assert_same_as_tmux(rec, t, tmp_path / f"t{t}")


def recordings() -> list[Path | None]:
    found: list[Path | None] = [
        *sorted((ROOT / "recordings").glob("*.cast")),
        *sorted((ROOT / "recordings").glob("*.cast.gz")),
    ]
    return found or [None]


@pytest.mark.parametrize("path", recordings(), ids=lambda p: p.name if p else "none-yet")
def test_recordings_match_tmux(path: Any, tmp_path: Path) -> None:
    if path is None:
        assert not list((ROOT / "recordings").glob("*.cast*"))
        return
    rec = read_cast(path)
    for frac in (0.1, 0.35, 0.6, 0.85, 1.0):
        t = rec.duration * frac
        assert_same_as_tmux(rec, t, tmp_path / f"f{frac}", cursor=False)


def test_helper_detects_a_difference(tmp_path: Path) -> None:
    """The comparison itself must be able to fail: LF->CRLF translation or a lost byte shows."""
    rec = rec_of(20, 4, "a\nb")
    theirs, _ = tmux_screen(rec, 5.0, tmp_path)
    assert theirs[:2] == ["a", " b"]  # no CRLF translation in the pane
    with pytest.raises(AssertionError):
        bad = rec_of(20, 4, "a\nb")
        object.__setattr__(bad.events[0], "data", "a\r\nb")
        player = Player(bad)
        player.seek(5.0)
        assert player.text() == theirs
