"""Hostile and unlucky recordings: every valid event still plays, every bad line is reported
with its line, nothing raises, nothing allocates past the limits, no escape sequence or secret
reaches the user's terminal.

Each case is a real .cast file written in tmp_path."""

from __future__ import annotations

import io
import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from cabtui.commands import frame
from cabtui.replay.clock import Clock, fmt_ms
from cabtui.replay.engine import Player
from cabtui.replay.render import SECRET_HINTS, rich_rows, text_rows
from cabtui.replay.spans import span_tree
from cabtui.replay.tail import tail_plain, tail_text
from cabtui.secrets import find_secrets
from cabtui.sweep import cast_limits
from cabtui.sweep.asciicast import CastError, Event, Recording
from cabtui.sweep.cast_reader import read_cast
from cabtui.ui.replay_app import ReplayApp
from cabtui.ui.screens.replay import ReplayScreen
from cabtui.ui.widgets.ruler import Ruler
from cabtui.ui.widgets.terminal import TerminalView

ROOT = Path(__file__).resolve().parent.parent
CAB_TUI = ROOT / ".venv" / "bin" / "cab-tui"
HEADER = '{"version": 2, "width": 40, "height": 6}'
OPENAI = "sk-live-4eC39HqLyjWDarjtT1zdp7dc"
GITHUB = "ghp_R2D2c3p0L1ghtSab3rXw1ngF0rc3Y0da"
# ESC, C1 (CSI, OSC, ST...), BEL and every C0 but the newline: never in what is printed
UNSAFE = {chr(c) for c in range(0x20) if c != 0x0A} | {chr(c) for c in range(0x7F, 0xA0)}


def ev(t: float, code: str, data: str) -> str:
    return json.dumps([t, code, data])


def cast(tmp_path: Path, *lines: str, header: str = HEADER, name: str = "r.cast") -> Path:
    p = tmp_path / name
    p.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    return p


def problem_at(rec: Recording, line: int, words: str = "") -> str:
    """The problem naming ``line`` (and holding ``words``); fails if there is none."""
    found = [p for p in rec.problems if f": line {line}: " in p and words in p]
    assert found, f"no problem for line {line} ({words!r}) in {rec.problems}"
    assert all(p.startswith(rec.source) for p in found)
    return found[0]


def data(rec) -> list[str]:  # type: ignore[no-untyped-def]  # Pilot and the test's callables are untyped here
    return [e.data for e in rec.events]


def run_frame(path: Path, at: float = 100.0, fmt: str = "text", reveal: bool = False):  # type: ignore[no-untyped-def]  # Pilot and the test's callables are untyped here
    out, err = io.StringIO(), io.StringIO()
    code = frame.run(path, None, at, fmt, out=out, err=err, reveal=reveal)
    return code, out.getvalue(), err.getvalue()


def assert_printable(text: str) -> None:
    bad = sorted({f"U+{ord(c):04X}" for c in text if c in UNSAFE})
    assert not bad, f"control characters in the output: {bad}"
    text.encode("utf-8")  # no lone surrogate


# -- memory bombs -------------------------------------------------------------------------------


def header_bomb(tmp_path: Path) -> Path:
    p = tmp_path / "bomb.cast"
    p.write_bytes(b'{"version": 2, "width": 100000, "height": 100000}\n[0.5, "o", "hi"]\n')
    assert p.stat().st_size == 67
    return p


def test_header_bomb_is_clamped_and_reported(tmp_path: Path) -> None:
    rec = read_cast(header_bomb(tmp_path))
    assert (rec.cols, rec.rows) == (cast_limits.MAX_COLS, cast_limits.MAX_ROWS)
    assert data(rec) == ["hi"]
    assert "header says 100000x100000; shown as 1000x500" in problem_at(rec, 1)
    assert Player(rec).cols == cast_limits.MAX_COLS


def test_resize_bomb_is_clamped_and_reported(tmp_path: Path) -> None:
    p = cast(tmp_path, ev(0.1, "o", "a"), ev(0.2, "r", "10000x10000"), ev(0.3, "o", "b"),
             ev(0.4, "r", "9" * 5000 + "x3"), ev(0.5, "r", "²x5"), ev(0.6, "o", "c"))  # fmt: skip
    rec = read_cast(p)
    assert data(rec) == ["a", "1000x500", "b", "1000x3", "c"]
    assert "resize to 10000x10000; shown as 1000x500" in problem_at(rec, 3)
    assert "shown as 1000x3" in problem_at(rec, 5)
    problem_at(rec, 6, "bad resize")
    player = Player(rec)
    player.seek(1.0)
    assert (player.cols, player.rows) == (1000, 3)


def test_huge_output_event_is_cut_at_the_limit(tmp_path: Path) -> None:
    big = "\x1b[31m" + "x" * (2 << 20) + "\x1b[0m"  # 2 MiB of output in one event
    p = cast(tmp_path, ev(0.1, "o", "before"), ev(0.2, "o", big), ev(0.3, "o", "\r\nafter"))
    rec = read_cast(p)
    assert [e.time for e in rec.events] == [0.1, 0.2, 0.3]
    assert data(rec)[0] == "before" and data(rec)[2] == "\r\nafter"
    cut = data(rec)[1]
    assert big.startswith(cut) and 0 < len(cut) <= cast_limits.MAX_LINE_BYTES
    assert "over the limit of 1 MiB" in problem_at(rec, 3)


def test_huge_line_that_is_not_an_event_is_skipped(tmp_path: Path) -> None:
    p = cast(tmp_path, "[" + "1," * (1 << 20) + "1]", ev(1, "o", "ok"))
    rec = read_cast(p)
    assert data(rec) == ["ok"]
    problem_at(rec, 2, "over the limit")


def test_many_problems_are_capped(tmp_path: Path) -> None:
    rec = read_cast(cast(tmp_path, *(["{bad"] * 500), ev(1, "o", "ok")))
    assert data(rec) == ["ok"]
    assert len(rec.problems) == cast_limits.MAX_PROBLEMS + 1
    assert rec.problems[-1].endswith("300 more problems not listed")


# -- tracebacks that were -------------------------------------------------------------------------


def test_deep_nesting_in_a_line_is_skipped(tmp_path: Path) -> None:
    p = cast(tmp_path, ev(0.1, "o", "a"), "[" * 100_000, "[" * 65 + "]" * 65,
             "[" * 10 + "]" * 10, ev(0.2, "o", "b"))  # fmt: skip
    rec = read_cast(p)
    assert data(rec) == ["a", "b"]
    assert "nested deeper than 64" in problem_at(rec, 3)
    assert "nested deeper than 64" in problem_at(rec, 4)
    assert "not [time, code, data]" in problem_at(rec, 5)


@pytest.mark.parametrize(
    "header",
    [
        '{"version": 2, "env": ' + "[" * 100_000 + "}",
        '{"version": 2, "x": ' + "[" * 70 + "]" * 70 + "}",
    ],
)
def test_deep_nesting_in_the_header_is_a_cast_error(tmp_path: Path, header: str) -> None:
    p = cast(tmp_path, ev(1, "o", "x"), header=header)
    with pytest.raises(CastError, match="nested deeper than 64"):
        read_cast(p)
    code, out, err = run_frame(p)
    assert code == 1 and out == "" and "nested deeper than 64" in err


def test_brackets_inside_strings_are_not_nesting(tmp_path: Path) -> None:
    text = '\\"[' * 100 + "{" * 100
    rec = read_cast(
        cast(tmp_path, ev(1, "o", "x"), header=json.dumps({"version": 2, "title": text}))
    )
    assert rec.title == text and data(rec) == ["x"]


def test_lone_surrogate_is_replaced(tmp_path: Path) -> None:
    p = cast(tmp_path, '[0.1, "o", "a\\ud800b"]', '[0.2, "o", "\\ud83d\\ude00 ok"]',
             header='{"version": 2, "width": 20, "height": 2, "title": "t\\udfff"}')  # fmt: skip
    rec = read_cast(p)
    assert data(rec) == ["a\ufffdb", "\U0001f600 ok"]
    assert rec.title == "t\ufffd"
    problem_at(rec, 2, "surrogate")
    problem_at(rec, 1, "surrogate")
    code, out, err = run_frame(p, fmt="svg")
    assert code == 0
    assert_printable(out.replace("\n", ""))
    code, out, err = run_frame(p)
    assert code == 0 and "a\ufffdb" in out
    assert_printable(out + err)


@pytest.mark.parametrize("version", [2, 3])
def test_absurd_and_backwards_times(tmp_path: Path, version: int) -> None:
    header = json.dumps({"version": version, "width": 20, "height": 3} if version == 2
                        else {"version": 3, "term": {"cols": 20, "rows": 3}})  # fmt: skip
    lines = ["[1, \"o\", \"a\"]", "[1e308, \"o\", \"far\"]", "[Infinity, \"o\", \"inf\"]",
             "[NaN, \"o\", \"nan\"]", "[-1, \"o\", \"neg\"]", "[-Infinity, \"o\", \"ninf\"]",
             "[0.5, \"o\", \"b\"]", "[1e999, \"o\", \"overflow\"]"]  # fmt: skip
    rec = read_cast(cast(tmp_path, *lines, header=header))
    assert data(rec) == ["a", "b"]
    assert all(0 <= e.time <= cast_limits.MAX_TIME for e in rec.events)
    for no in (3, 4, 5, 6, 7, 9):
        problem_at(rec, no)
    if version == 2:
        assert "time goes backwards" in problem_at(rec, 8)
    code, out, err = run_frame(cast(tmp_path, *lines, header=header), at=1e300)
    assert code == 0 and "ab" in out


def test_v3_intervals_past_the_time_limit(tmp_path: Path) -> None:
    header = '{"version": 3, "term": {"cols": 10, "rows": 2}}'
    rec = read_cast(
        cast(tmp_path, ev(9e6, "o", "a"), ev(9e6, "o", "b"), ev(1, "o", "c"), header=header)
    )
    assert data(rec) == ["a", "c"] and rec.duration == 9e6 + 1
    problem_at(rec, 3, "past")


def test_clock_ruler_and_spans_take_any_float() -> None:
    for end in (float("inf"), float("nan"), 1e308, -5.0):
        c = Clock(end_ms=end, offset_ms=float("nan"), event_times=(0.0, 1.0))
        assert 0 <= c.end_ms <= cast_limits.MAX_TIME * 1000
        for t in (float("nan"), float("inf"), -float("inf"), 1e308):
            assert 0 <= c.seek(t) <= c.end_ms
        c.playing = True
        c.advance(float("inf"))
        c.advance(float("nan"))
    assert fmt_ms(float("nan")) == "?" and fmt_ms(float("inf")) == "?"
    spans = span_tree([{"span_id": "a", "kind": "k", "start_ms": 1e308, "duration_ms": 1e308},
                       {"span_id": "b", "kind": "k", "start_ms": float("nan")}])  # fmt: skip
    assert all(abs(s.end_ms) < float("inf") for s in spans)


async def test_ruler_renders_absurd_marks() -> None:
    class RulerApp(App[None]):
        def compose(self) -> ComposeResult:
            yield Ruler(id="ruler")

    app = RulerApp()
    async with app.run_test(size=(100, 5)) as pilot:
        ruler = app.query_one(Ruler)
        nan, inf = float("nan"), float("inf")
        for end in (inf, nan, 1e308, 0.0):
            ruler.set_marks(end, [nan, inf, -inf, 1e308], [nan, 1e308], [inf])
            ruler.set_position(nan)
            await pilot.pause()
            assert "┃" in ruler.render().plain


# -- escape sequences and secrets -------------------------------------------------------------


HOSTILE_OUTPUT = (
    "\x1b]52;c;cHduZWQ=\x07\x1b]0;pwned title\x07\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\ "
    "\x9b31mC1 CSI\x9c \x1bP+q\x1b\\ plain\r\n"
)


def test_escapes_never_reach_the_output(tmp_path: Path) -> None:
    header = json.dumps({"version": 2, "width": 60, "height": 4,
                         "title": "\x1b]52;c;cHduZWQ=\x07 title \x1b[2J\x9b",
                         "env": {"SHELL": "\x1b]0;x\x07", "TERM": "xterm"}})  # fmt: skip
    p = cast(tmp_path, ev(0.1, "o", HOSTILE_OUTPUT), ev(0.2, "m", "\x1b]52;c;bWFyaw==\x07mark"),
             header=header)  # fmt: skip
    rec = read_cast(p)
    assert len(rec.events) == 2
    for fmt in ("text", "svg"):
        code, out, err = run_frame(p, at=1, fmt=fmt)
        assert code == 0
        assert_printable(out.replace("\n", "") if fmt == "svg" else out)
        assert_printable(err)
        assert "plain" in out
    code, out, err = run_frame(p, at=1, fmt="svg")
    assert "title" in out and "pwned" not in out


def secret_cast(tmp_path: Path) -> Path:
    return cast(
        tmp_path,
        ev(0.1, "o", f"$ export OPENAI_API_KEY={OPENAI}\r\n"),
        ev(0.2, "o", f"token: \x1b[1;31m{GITHUB}\x1b[0m\r\n"),
        ev(0.3, "o", "just words\r\n"),
        ev(0.4, "r", "sk-live-notasizeatallreally1234"),
        header='{"version": 2, "width": 70, "height": 4}',
    )


def test_secrets_on_screen_are_masked_in_frame(tmp_path: Path) -> None:
    p = secret_cast(tmp_path)
    for fmt in ("text", "svg"):
        code, out, err = run_frame(p, at=1, fmt=fmt)
        assert code == 0
        for secret in (OPENAI, GITHUB, "R2D2c3p0", "4eC39Hq"):
            assert secret not in out
        assert "sk-live-notasize" not in err and "bad resize" in err
        assert "words" in out and "OPENAI_API_KEY=" in out
    code, out, err = run_frame(p, at=1)
    assert "•" * len(GITHUB) in out  # one dot per cell: the screen keeps its layout
    code, out, err = run_frame(p, at=1, reveal=True)
    assert OPENAI in out and GITHUB in out and "sk-live-notasize" in err


def test_masked_cells_keep_their_style(tmp_path: Path) -> None:
    player = Player(read_cast(secret_cast(tmp_path)))
    player.seek(1)
    row = rich_rows(player.lines())[1]
    assert GITHUB not in row.plain and "•" in row.plain
    start = row.plain.index("•")
    assert any(s.start <= start < s.end and s.style for s in row.spans)  # still bold red
    assert [r.plain for r in rich_rows(player.lines(), reveal=True)][1].endswith(GITHUB)
    assert text_rows(player.lines())[1] == row.plain


def test_a_secret_the_terminal_wrapped_is_masked_on_both_rows() -> None:
    """A token cut by the right margin is read across the wrap: neither row shows its parts,
    and a search does not find them until the secrets are revealed."""
    token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    events = [(0.5, "o", "$ env\r\n"), (1.0, "o", f"export GH_PAT={token} done\r\n$ ")]
    rec = Recording(version=2, cols=20, rows=5, events=[Event(t, c, d) for t, c, d in events])
    player = Player(rec)
    player.seek(2)
    shown = text_rows(player.lines())
    assert shown[1].startswith("export GH_PAT=") and shown[3].endswith(" done")
    pieces = [token[i : i + 6] for i in range(0, len(token) - 6)]
    for row in [*shown, *(r.plain for r in rich_rows(player.lines()))]:
        assert not any(p in row for p in pieces), row
    assert "".join(text_rows(player.lines(), reveal=True)[1:4]).startswith(f"export GH_PAT={token}")
    assert player.search("mnopqr") == [] and player.search("mnopqr", reveal=True) == [1.0]
    assert player.search("done") == [1.0]


def test_a_secret_below_a_full_width_rule_is_masked() -> None:
    """A row that fills its width without wrapping (a rule of dashes, or words) does not hide
    the token on the next row from the masker."""
    token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    for rule in ("-" * 60, "a" * 60):
        events = [(1.0, "o", f"{rule}{token}\r\n")]
        rec = Recording(version=2, cols=60, rows=4, events=[Event(t, c, d) for t, c, d in events])
        player = Player(rec)
        player.seek(2)
        rows = [*text_rows(player.lines()), *(r.plain for r in rich_rows(player.lines()))]
        assert not any(token[:10] in row for row in rows), rule
        assert player.search(token[:10]) == [] and player.search(token[:10], reveal=True) == [1.0]


SECRET_SAMPLES = [
    OPENAI, GITHUB, "Authorization: Bearer abcdef123456789", "curl -u bob:hunter22 https://x",
    "https://bob:hunter22@example.com/x", "password=hunter22", "GH_PAT=abc123def456",
    "X-Api-Key: 0123456789abcdef", "Cookie: session=abcdef0123", "AKIAIOSFODNN7EXAMPLE",
    "AIzaSyA1234567890abcdefghijklmnopqrstu", "hf_abcdefghijklmnopqrstuvwxyz",
    "npm_abcdefghijklmnopqrstuvwxyz", "xoxb-1234567890-abcdef", "glpat-abcdefghijklmnop1234",
    "pypi-" + "a" * 50, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc",
    "sk_live_abcdefghij1234", '"client_secret": "s3cr3t-value"', "--api-key abcdef123",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "Proxy-Authorization: Basic dXNlcjpwYXNz",
    "credentials: abc123xyz", "DB_PASSWD=hunter2",
]  # fmt: skip


@pytest.mark.parametrize("sample", SECRET_SAMPLES)
def test_the_secret_hints_cover_what_find_secrets_finds(sample: str) -> None:
    assert find_secrets(sample), sample  # the sample is a secret to find_secrets
    assert any(h in sample.lower() for h in SECRET_HINTS)


@given(st.lists(st.sampled_from([*SECRET_SAMPLES, " ", "=", ": ", "x", "ab12", "\t", "-", "_"]),
                max_size=8), st.text(max_size=30))  # fmt: skip
@settings(max_examples=300, deadline=None)
def test_rows_without_a_hint_hold_no_secret(parts: list[str], noise: str) -> None:
    text = noise + "".join(parts)
    if find_secrets(text):
        assert any(h in text.lower() for h in SECRET_HINTS), text


# -- tails --------------------------------------------------------------------------------------


def test_huge_tail_shows_its_end_under_a_count() -> None:
    out = "".join(f"line {i}\n" for i in range(1_800_000))
    rows = tail_plain(out)
    assert len(rows) == cast_limits.MAX_TAIL_LINES + 1
    assert rows[0].startswith("… ") and rows[0].endswith("more lines above")
    assert rows[-1] == "line 1799999"
    more = int(rows[0].split()[1].replace(",", ""))
    assert more + cast_limits.MAX_TAIL_LINES == 1_800_000
    text = tail_text("y" * (50 << 20)).plain  # one 50 MiB line: its end, wrapped
    assert text.endswith("y") and set(text) == {"y", "\n"}
    assert text.count("\n") <= cast_limits.MAX_TAIL_LINES  # rows bounded


# -- the commands, under a memory limit -----------------------------------------------------------


def frame_process(path: Path, *args: str, limit_mb: int = 1536) -> subprocess.CompletedProcess[str]:
    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_mb << 20, limit_mb << 20))

    cmd = [str(CAB_TUI), "frame", str(path), *args] if CAB_TUI.exists() else [
        sys.executable, "-m", "cabtui.cli", "frame", str(path), *args]  # fmt: skip
    return subprocess.run(cmd, preexec_fn=cap, capture_output=True, text=True, timeout=120)


def test_frame_on_bombs_stays_within_memory(tmp_path: Path) -> None:
    bomb = header_bomb(tmp_path)
    resize = cast(tmp_path, ev(0.1, "r", "10000x10000"), ev(0.2, "o", "x" * (2 << 20)),
                  ev(0.3, "o", f"\r\n{OPENAI}\r\n"), name="resize.cast")  # fmt: skip
    for path, at in ((bomb, "1"), (resize, "1")):
        r = frame_process(path, "--at", at)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "Traceback" not in r.stderr and "shown as 1000x500" in r.stderr
        assert_printable(r.stdout + r.stderr)
    assert OPENAI not in r.stdout and "•" in r.stdout
    r = frame_process(resize, "--at", "1", "--reveal-secrets")
    assert r.returncode == 0 and OPENAI in r.stdout


# -- the replay screen ----------------------------------------------------------------------------


async def test_replay_screen_opens_a_bomb_within_limits(tmp_path: Path) -> None:
    p = cast(tmp_path, ev(0.1, "o", f"{OPENAI}\r\n"), ev(0.2, "r", "10000x10000"),
             ev(0.3, "o", "[" * 10), "[" * 100_000, ev(0.4, "o", "\x1b]0;pwned\x07after"),
             header='{"version": 2, "width": 100000, "height": 100000, "title": "\\u001b]0;t\\u0007"}')  # fmt: skip
    app = ReplayApp(p)
    async with app.run_test(size=(120, 40)) as pilot:
        for _ in range(100):
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen
            if isinstance(screen, ReplayScreen) and screen.session is not None:
                break
        else:
            raise AssertionError("the replay screen did not load")
        s = screen.session
        assert s.player is not None and (s.player.cols, s.player.rows) == (1000, 500)
        assert len(s.problems) == 3
        shown = str(screen.query_one("#rec-problems").render())
        assert "shown as 1000x500" in shown and "+2 more" in shown
        await pilot.press("end")
        await pilot.pause()
        terminal = screen.query_one(TerminalView)
        rows = terminal.text()
        assert any("after" in r for r in rows)
        assert not any(OPENAI in r for r in rows) and any("•" * 10 in r for r in rows)
        await pilot.press("x")
        await pilot.pause()
        assert terminal.reveal and any(OPENAI in r for r in terminal.text())
        out = app.screen._compositor.render_full_update().render_segments(app.console)
        assert "pwned" not in out and "\x1b]0;" not in out and "\x07" not in out


# -- random mixes of good and bad lines ---------------------------------------------------------

BAD_LINES = [
    "{not json", "[" * 2000, "[" * 70 + "]" * 70, "[1, \"o\"]", "[Infinity, \"o\", \"x\"]",
    "[NaN, \"o\", \"x\"]", "[1e308, \"o\", \"x\"]", "[-1, \"o\", \"x\"]", "[1, \"o\", 5]",
    "[1, 2, \"x\"]", "\"just a string\"", "[1, \"r\", \"wide\"]", "{\"a\": 1}", "[true, \"o\", \"x\"]",
]  # fmt: skip


@given(
    st.lists(st.one_of(st.tuples(st.just("good"), st.text(max_size=20)),
                       st.tuples(st.just("bad"), st.sampled_from(BAD_LINES))),
             max_size=40),
    st.sampled_from([2, 3]),
)  # fmt: skip
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_random_mixes_keep_every_good_event(
    tmp_path: Path, items: list[tuple[str, str]], version: int
) -> None:
    header = HEADER if version == 2 else '{"version": 3, "term": {"cols": 40, "rows": 6}}'
    lines, good, bad = [], [], []
    for n, (kind, text) in enumerate(items):
        if kind == "good":
            lines.append(ev(0.01 if version == 3 else n * 0.01, "o", text))
            good.append(text)
        else:
            lines.append(text)
            bad.append(len(lines) + 1)
    rec = read_cast(cast(tmp_path, *lines, header=header, name=f"mix{version}.cast"))
    assert data(rec) == good
    for no in bad:
        problem_at(rec, no)
    times = [e.time for e in rec.events]
    assert times == sorted(times)
    Player(rec).seek(1e9)


# -- the compare screen ---------------------------------------------------------------------------


async def test_compare_screen_shows_a_bombed_recording_within_limits(tmp_path: Path) -> None:
    import shutil

    from cabtui.store.store import Store
    from cabtui.ui.app import CabApp
    from cabtui.ui.screens.compare import CompareScreen

    sweep = tmp_path / "recorded-20261123"
    shutil.copytree(ROOT / "data" / "sweeps" / "recorded-20261123", sweep)
    model = "meta/llama-4-maverick-17b-128e-instruct"
    run = sweep / "runs" / "aider" / model / "polyglot" / "rust-fix-failing-test" / "run-1"
    lines = (run / "recording.cast").read_text(encoding="utf-8").splitlines()
    hdr = json.loads(lines[0])
    hdr.update(width=100000, height=100000)
    extra = [ev(0.001, "r", "10000x10000"), "[" * 100_000, ev(0.002, "o", f"{OPENAI}\r\n")]
    (run / "recording.cast").write_text(
        "\n".join([json.dumps(hdr), *extra, *lines[1:]]) + "\n", encoding="utf-8"
    )
    a = f"recorded-20261123/aider/{model}/polyglot/rust-fix-failing-test"
    store = Store.open(sweep)
    app = CabApp(
        lambda p: store, start=lambda s: CompareScreen(s, a, a + "#run2"), clock=lambda: 0.0
    )
    async with app.run_test(size=(180, 50)) as pilot:
        for _ in range(200):
            await app.workers.wait_for_complete()
            await pilot.pause()
            screen = app.screen
            if isinstance(screen, CompareScreen) and None not in screen.sessions.values():
                break
        else:
            raise AssertionError("the compare screen did not load")
        s = screen.sessions["a"]
        assert s is not None
        assert s.player is not None and (s.player.cols, s.player.rows) == (1000, 500)
        subtitle = str(screen.query_one("#cmp-col-a").border_subtitle)
        assert "header says 100000x100000; shown as 1000x500" in subtitle and "+2 more" in subtitle
        await pilot.press("home", "full_stop")
        await pilot.pause()
        terminal = screen.query_one("#cmp-term-a", TerminalView)
        assert not any(OPENAI in r for r in terminal.text())
        await pilot.press("x")
        await pilot.pause()
        assert terminal.reveal and screen.query_one("#cmp-term-b", TerminalView).reveal
        assert any(OPENAI in r for r in terminal.text())
