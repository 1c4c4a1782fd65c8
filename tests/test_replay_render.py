"""Rendering, output safety, the `cab-tui frame` command and import hygiene."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.color import Color, ColorType
from rich.style import Style

from cabtui.commands.frame import resolve_recording
from cabtui.replay.engine import Player
from cabtui.replay.render import rich_rows, svg, text_rows
from cabtui.sweep.asciicast import Recording, format_cast
from cabtui.sweep.cast_reader import parse_cast
from cabtui.text import is_safe, safe

Events = list[tuple[float, str, str]]

CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # all C0 (but \t \n), DEL, C1

HOSTILE = (
    "\x1b]0;evil title\x07\x1b]2;another\x1b\\"
    "\x1b]52;c;ZWNobyBwd25lZA==\x07"
    "before reset\x1bc"
    "bell\x07 dsr\x1b[6n da\x1b[c da2\x1b[>c\x1bP+q544e\x1b\\"
    "\x7fdel \u202eRTL\u202c \x9b31mc1\x1b[5n"
    "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\"
)


def hostile_rec() -> Recording:
    return parse_cast(format_cast(40, 4, [(0.5, "o", HOSTILE)]).encode())


def test_hostile_recording_renders_without_control_characters() -> None:
    player = Player(hostile_rec())
    player.seek(1.0)
    rows = text_rows(player.lines())
    assert "bell dsr da da2" in rows[0]
    assert "before reset" not in "".join(rows)  # ESC c cleared the screen
    for row in rows:
        assert not CONTROL.search(row) and is_safe(row)
    for text in rich_rows(player.lines()):
        assert not CONTROL.search(text.plain) and is_safe(text.plain)
    doc = svg(player.lines(), player.cols, title="t\x1b]0;x\x07")
    assert "\x1b" not in doc and "\x07" not in doc and not CONTROL.search(doc)


def test_safe_replaces_controls() -> None:
    assert safe("a\x1bb\x07c\x9bd\u202ee") == "a\ufffdb\ufffdc\ufffdd\ufffde"
    assert not is_safe("\x7f") and is_safe("plain \u4e2d")


def as_style(style: str | Style) -> Style:
    """A span's style, which rich_rows gives as a Style object, never a style name."""
    assert isinstance(style, Style)
    return style


def color(c: Color | None) -> Color:
    """A colour the test expects the style to have."""
    assert c is not None
    return c


def test_rich_styles_from_pens() -> None:
    data = (
        "\x1b[1;3;4;5;7;9;38;5;200;48;2;1;2;3mA\x1b[0m \x1b[2;31mB\x1b[0m "
        "\x1b[38;2;10;20;30mC\x1b[0m \u4e2dD\x1b[44m  \x1b[0m   "
    )
    player = Player(parse_cast(format_cast(20, 2, [(0.1, "o", data)]).encode()))
    player.seek(1.0)
    row = rich_rows(player.lines())[0]
    assert row.plain == "A B C \u4e2dD  "  # wide char is one character; styled blanks kept
    assert row.cell_len == 11

    def style_at(i: int) -> Style:
        return Style.combine(as_style(s.style) for s in row.spans if s.start <= i < s.end)

    a = style_at(0)
    assert (a.bold, a.italic, a.underline, a.blink, a.reverse, a.strike) == (True,) * 6
    assert color(a.color).type == ColorType.EIGHT_BIT and color(a.color).number == 200
    assert color(a.bgcolor).triplet == (1, 2, 3)
    b = style_at(2)
    assert b.dim and color(b.color).number == 1 and not b.bold
    assert color(style_at(4).color).triplet == (10, 20, 30)
    assert color(style_at(9).bgcolor).number == 4
    assert text_rows(player.lines())[0] == "A B C \u4e2dD"


def test_svg_is_a_document_with_the_text() -> None:
    player = Player(parse_cast(format_cast(20, 2, [(0.1, "o", "\x1b[31mhello")]).encode()))
    player.seek(1.0)
    doc = svg(player.lines(), player.cols)
    assert doc.lstrip().startswith("<svg") and doc.rstrip().endswith("</svg>")
    assert "hello" in doc


# -- the frame command -------------------------------------------------------------------------


def cab(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    code = (
        "import sys, typer.main\n"
        "from cabtui.cli import app\n"
        "cmd = typer.main.get_command(app)\n"
        "argv = sys.argv[1:]\n"
        "if not hasattr(cmd, 'commands'):\n"  # a single-command app runs it without its name
        "    argv = argv[1:]\n"
        "cmd.main(argv, prog_name='cab-tui')\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], check=False, capture_output=True, text=True, timeout=60
    )


def write_cast(path: Path, events: Events, cols: int = 30, rows: int = 5, extra: str = "") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(format_cast(cols, rows, events) + extra)
    return path


def test_frame_text_prints_exactly_rows_lines(tmp_path: Path) -> None:
    p = write_cast(tmp_path / "a.cast", [(1.0, "o", "first   \r\n"), (2.0, "o", "\x1b[31msecond")])
    res = cab("frame", str(p), "--at", "1.5")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "first\n\n\n\n\n"
    res = cab("frame", str(p), "--at", "9")
    assert res.stdout.split("\n")[:2] == ["first", "second"] and res.stdout.count("\n") == 5


def test_frame_svg(tmp_path: Path) -> None:
    p = write_cast(tmp_path / "a.cast", [(1.0, "o", "hello")])
    res = cab("frame", str(p), "--at", "2", "--format", "svg")
    assert res.returncode == 0 and res.stdout.lstrip().startswith("<svg")


def test_frame_of_hostile_recording_is_clean(tmp_path: Path) -> None:
    p = write_cast(tmp_path / "h.cast", [(0.5, "o", HOSTILE)], cols=40, rows=4)
    for fmt in ("text", "svg"):
        res = cab("frame", str(p), "--at", "1", "--format", fmt)
        assert res.returncode == 0
        assert not CONTROL.search(res.stdout.replace("\n", "")), fmt


def test_frame_problems_go_to_stderr_and_frame_still_prints(tmp_path: Path) -> None:
    p = write_cast(tmp_path / "a.cast", [(1.0, "o", "ok")], extra='[2.0, "o", "cut')
    res = cab("frame", str(p), "--at", "5")
    assert res.returncode == 0
    assert res.stdout.startswith("ok\n")
    assert f"{p}: line 3: truncated last line" in res.stderr


def test_frame_exit_codes(tmp_path: Path) -> None:
    missing = cab("frame", str(tmp_path / "nope.cast"), "--at", "1")
    assert missing.returncode == 1 and "nope.cast" in missing.stderr
    empty = tmp_path / "empty.cast"
    empty.write_text("")
    res = cab("frame", str(empty), "--at", "1")
    assert res.returncode == 1 and "empty.cast: empty recording" in res.stderr
    assert "Traceback" not in res.stderr
    p = write_cast(tmp_path / "a.cast", [(1.0, "o", "x")])
    assert cab("frame", str(p), "--at", "1", "--format", "png").returncode == 2
    assert cab("frame", str(p)).returncode == 2  # --at missing
    assert cab("frame", str(p), "--at", "-1").returncode == 2
    assert cab("frame", str(tmp_path), "--at", "1").returncode == 2  # dir without cell id


CELL = "sw-1/aider/meta/llama-4/mutations/rust-error-negated#run2"


def test_frame_by_cell_id(tmp_path: Path) -> None:
    run = tmp_path / "runs/aider/meta/llama-4/mutations/rust-error-negated/run-2"
    write_cast(run / "recording.cast", [(1.0, "o", "from the sweep")])
    res = cab("frame", str(tmp_path), CELL, "--at", "3")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("from the sweep\n")
    assert cab("frame", str(tmp_path), CELL.replace("run2", "run3"), "--at", "1").returncode == 1
    assert cab("frame", str(tmp_path), "not/a/cell", "--at", "1").returncode == 2


def test_frame_by_cell_id_gz_and_nested_sweep(tmp_path: Path) -> None:
    import gzip

    run = tmp_path / "sw-1/runs/aider/meta/llama-4/mutations/rust-error-negated/run-2"
    run.mkdir(parents=True)
    (run / "recording.cast.gz").write_bytes(
        gzip.compress(format_cast(10, 2, [(1.0, "o", "zipped")]).encode())
    )
    assert resolve_recording(tmp_path, CELL).name == "recording.cast.gz"


def test_recording_outside_the_sweep_is_refused(tmp_path: Path) -> None:
    outside = write_cast(tmp_path / "elsewhere/secret.cast", [(1.0, "o", "secret")])
    sweep = tmp_path / "sweep"
    run = sweep / "runs/aider/meta/llama-4/mutations/rust-error-negated/run-2"
    run.mkdir(parents=True)
    (run / "recording.cast").symlink_to(outside)
    res = cab("frame", str(sweep), CELL, "--at", "2")
    assert res.returncode == 1
    assert "outside" in res.stderr and "secret" not in res.stdout


# -- import hygiene ----------------------------------------------------------------------------


def test_replay_never_imports_textual() -> None:
    code = (
        "import sys\n"
        "import cabtui.sweep.asciicast, cabtui.replay.engine, cabtui.replay.render, "
        "cabtui.replay.frame\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] == 'textual')))\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", "import json\n" + code], capture_output=True, text=True, check=True
    )
    assert json.loads(res.stdout) == []


def test_no_textual_in_replay_sources() -> None:
    src = Path(__file__).resolve().parent.parent / "cabtui" / "replay"
    for path in src.glob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+textual", path.read_text(), re.MULTILINE), path


@pytest.mark.parametrize("at", ["0", "0.5", "100"])
def test_frame_at_edges(tmp_path: Path, at: str) -> None:
    p = write_cast(tmp_path / "a.cast", [(0.5, "o", "x")], rows=3)
    res = cab("frame", str(p), "--at", at)
    assert res.returncode == 0 and res.stdout.count("\n") == 3
    assert res.stdout.startswith("x" if at != "0" else "\n")
