"""One output policy for text from the data: on a sweep with hostile records (rich markup, emoji
codes, OSC 52 clipboard and OSC 0 title writes, C1 controls, a secret in a tail, NaN), every
command prints no raw control byte, no markup is interpreted, JSON is strict, secrets are masked
unless --reveal-secrets, and arguments that look like markup are errors, not tracebacks."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from textual.widgets import Static

from cabtui.compare.values import RunDiff
from cabtui.store.store import Store
from cabtui.text import dumps, finite, rich_text, safe, shown
from cabtui.ui.app import CabApp
from cabtui.ui.screens.detail import DetailScreen
from tests.conftest import EXPANSION
from tests.pilot_helpers import plain_text, settle

TASK = "rust[link=https:evil]x:100:"  # a valid task id holding markup and an emoji code
NOTE_SECRET = "abc123def456"
TOKEN = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
SPAN_SECRET = "hunter2"
SCORE_SECRET = "sk-proj-ScoreKeyText0123456789abcdef"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x0c\x0e-\x1f\x7f-\x9f]")  # all but \t \n \r


def hostile(sweep: Path) -> tuple[str, str]:
    """Make the aider run of ``sweep`` hostile; return its cell_id and the copilot run's."""
    path = sweep / "results.jsonl"
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    aider = next(r for r in recs if "/aider/" in r["cell_id"])
    copilot = next(r for r in recs if "/copilot/" in r["cell_id"])
    task_dir = next((sweep / "runs" / "aider").rglob("run-1")).parent
    task_dir.rename(task_dir.parent / TASK)
    aider["cell_id"] = aider["cell_id"].replace("rust-error-negated", TASK)
    aider["note"] = (
        "look \x1b]0;pwned\x07 [link=http://evil.example]click[/link] :100: [bold]x[/] "
        f"\x9b31m Authorization: Bearer {NOTE_SECRET}"
    )
    aider["scores"]["pass_rate"]["stdout_tail"] = (
        f"building\nexport GH_PAT={TOKEN}\n\x1b]52;c;aGk=\x07done\x9b31m\n"
    )
    aider["scores"]["pass_rate"]["grader_log"] = f"graded with OPENAI_API_KEY={SCORE_SECRET}"
    aider["scores"]["blast_radius"]["added"].append("evil\x1b[2J:100:[link=x]")
    copilot["scores"]["latency"]["wall_clock_ms"] = float("nan")  # json.dumps writes NaN
    lines = [json.dumps(r) for r in recs]
    bad = {"cell_id": "x/[/]/[link=http://e]:100:\x1b]0;t\x07", "note": "token=zzz999"}
    lines.append(json.dumps(bad))  # a bad cell_id: reported as a problem on stderr
    path.write_text("\n".join(lines) + "\n")
    spans = next((sweep / "runs" / "aider").rglob("spans.jsonl"))
    rows = [json.loads(line) for line in spans.read_text().splitlines()]
    rows[0]["name"] = (
        f"span \x1b]52;c;aGk=\x07 [link=http://x]y[/link] :100: password={SPAN_SECRET}"
    )
    spans.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return aider["cell_id"], copilot["cell_id"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    dst = tmp_path_factory.mktemp("hostile") / "expansion-20260616"
    shutil.copytree(EXPANSION, dst)
    aider, copilot = hostile(dst)
    return dst, aider, copilot


def cab(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cabtui.cli", *args],
        capture_output=True,
        text=True,
        env=dict(os.environ),
        timeout=120,
    )


def clean(res: subprocess.CompletedProcess[str]) -> None:
    """Nothing that could drive a terminal, no traceback, no emoji made from data."""
    for stream in (res.stdout, res.stderr):
        assert not CONTROL.search(stream), repr(CONTROL.search(stream))
        assert "Traceback" not in stream
        assert "💯" not in stream


def no_secret(text: str) -> None:
    for secret in (NOTE_SECRET, TOKEN, SPAN_SECRET, SCORE_SECRET, "zzz999"):
        assert secret not in text, secret


# -- ls ----------------------------------------------------------------------------------------


def test_ls_table_prints_data_literally(sweep: tuple[Path, str, str]) -> None:
    res = cab("ls", str(sweep[0]))
    assert res.returncode == 1  # the bad record is a problem
    clean(res)
    assert "[link=https:evil]" in res.stdout and ":100:" in res.stdout  # printed, not read
    # the bad record's problem is on stderr, its markup shown, not read
    assert "[/]" in res.stderr and "problem" in res.stderr


def test_ls_json_is_strict_masked_and_revealable(sweep: tuple[Path, str, str]) -> None:
    path, aider, copilot = sweep
    res = cab("ls", str(path), "--format", "json")
    clean(res)
    assert "NaN" not in res.stdout and "Infinity" not in res.stdout
    rows = {r["cell_id"]: r for r in json.loads(res.stdout)}
    assert rows[copilot]["wall_clock_ms"] is None
    assert "[link=http://evil.example]click[/link]" in rows[aider]["note"]
    no_secret(res.stdout + res.stderr)
    assert "graded with" in rows[aider]["scores"]["pass_rate"]["grader_log"]  # kept, masked
    revealed = json.loads(cab("ls", str(path), "--format", "json", "--reveal-secrets").stdout)
    assert any(NOTE_SECRET in (r["note"] or "") for r in revealed)
    assert any(
        SCORE_SECRET in r["scores"].get("pass_rate", {}).get("grader_log", "") for r in revealed
    )


def test_ls_csv_has_no_control_bytes(sweep: tuple[Path, str, str]) -> None:
    res = cab("ls", str(sweep[0]), "--format", "csv")
    clean(res)
    assert "\x07" not in res.stdout and "\x1b" not in res.stdout and "\x9b" not in res.stdout
    assert "\ufffd]0;pwned\ufffd" in res.stdout  # the title write, defused, still readable
    no_secret(res.stdout)


# -- show --------------------------------------------------------------------------------------


def test_show_text_is_literal_safe_and_masked(sweep: tuple[Path, str, str]) -> None:
    path, aider, _ = sweep
    res = cab("show", str(path), aider)
    assert res.returncode == 0, res.stderr
    clean(res)
    flat = res.stdout.replace("\n", "")
    assert "[link=http://evil.example]click[/link]" in flat  # markup printed, not read
    assert ":100:" in flat and "[bold]x[/]" in flat
    assert "export GH_PAT=" in res.stdout
    no_secret(res.stdout)
    revealed = cab("show", str(path), aider, "--reveal-secrets")
    clean(revealed)
    assert TOKEN in revealed.stdout and NOTE_SECRET in revealed.stdout.replace("\n", "")


def test_show_json_is_strict_and_masked(sweep: tuple[Path, str, str]) -> None:
    path, aider, copilot = sweep
    res = cab("show", str(path), aider, "--format", "json")
    clean(res)
    doc = json.loads(res.stdout)
    no_secret(res.stdout)
    assert doc["run"]["prompt_tokens"] == 1400  # a count, not a secret
    res = cab("show", str(path), copilot, "--format", "json")
    assert "NaN" not in res.stdout
    doc = json.loads(res.stdout)
    assert doc["run"]["wall_clock_ms"] is None
    values = {(s["axis"], s["key"]): s["value"] for s in doc["scores"]}
    assert values[("latency", "wall_clock_ms")] is None
    revealed = cab("show", str(path), aider, "--format", "json", "--reveal-secrets").stdout
    assert TOKEN in revealed and SPAN_SECRET in revealed


# -- diff --------------------------------------------------------------------------------------


def test_diff_table_and_json(sweep: tuple[Path, str, str]) -> None:
    path, aider, copilot = sweep
    res = cab("diff", str(path), aider, copilot)
    assert res.returncode == 0, res.stderr
    clean(res)
    assert "GH_PAT=" in res.stdout and ":100:" in res.stdout
    no_secret(res.stdout)
    res = cab("diff", str(path), aider, copilot, "--format", "json")
    clean(res)
    assert "NaN" not in res.stdout
    json.loads(res.stdout)
    no_secret(res.stdout)
    revealed = cab("diff", str(path), aider, copilot, "--format", "json", "--reveal-secrets")
    assert TOKEN in revealed.stdout


# -- arguments ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("show", "{dir}", "[/]"), 1),
        (("show", "{dir}", "[link=http://x]a[/link]"), 1),
        (("diff", "{dir}", "[/]", "aider"), 1),
        (("paired", "{dir}", "tui", "[/]", "aider"), 1),
        (("ls", "{dir}", "--sort", "[/]"), 2),
        (("replay", "/nonexistent/[/]"), 2),
        (("open", "/nonexistent/[/]"), 2),
    ],
)
def test_markup_in_arguments_is_an_error_not_a_traceback(
    sweep: tuple[Path, str, str], args: tuple[str, ...], code: int
) -> None:
    res = cab(*(a.format(dir=sweep[0]) for a in args))
    assert res.returncode == code, res.stderr
    clean(res)
    assert "error" in res.stderr
    assert "[/]" in res.stderr or "[link=http://x]a[/link]" in res.stderr


# -- the text module ---------------------------------------------------------------------------


def test_safe_replaces_c0_del_c1_and_bidi() -> None:
    text = "a\x1b]52;c;aGk=\x07b\x9b31m\x7f\u202e\u2066c\n"
    out = safe(text)
    assert not CONTROL.search(out) and "\u202e" not in out and "\u2066" not in out
    assert out.startswith("a\ufffd]52;c;aGk=\ufffdb\ufffd31m")


def test_shown_masks_unless_revealed_and_is_always_safe() -> None:
    text = f"\x1b[31mexport GH_PAT={TOKEN}"
    assert TOKEN not in shown(text) and "\x1b" not in shown(text)
    assert TOKEN in shown(text, reveal=True) and "\x1b" not in shown(text, reveal=True)
    assert shown(None) == ""
    assert shown("a\nb", lines=True) == "a\nb"


def test_rich_text_never_reads_markup_or_emoji() -> None:
    value = "[link=http://x]y[/link] [/] :100: [bold]z[/bold]"
    console = Console(file=io.StringIO(), width=200, color_system=None)
    console.print(rich_text(value))
    assert console.file.getvalue().strip() == value  # type: ignore[attr-defined]  # Console.file is typed IO[str]; here it is the StringIO given above


def test_strict_json_writes_null_for_nan_and_infinity() -> None:
    doc = {"a": float("nan"), "b": [float("inf"), -float("inf"), 1.5], "c": Path("/x")}
    assert finite(doc) == {"a": None, "b": [None, None, 1.5], "c": "/x"}
    assert json.loads(dumps(doc)) == {"a": None, "b": [None, None, 1.5], "c": "/x"}
    assert "\x1b" not in dumps({"s": "\x1b]0;t\x07"})  # escaped as \u001b


# -- the detail screen -------------------------------------------------------------------------


def _edit(sweep: Path, cell_id: str, edit: Callable[[dict[str, Any]], None]) -> None:
    path = sweep / "results.jsonl"
    recs = [json.loads(line) for line in path.read_text().splitlines()]
    for rec in recs:
        if rec["cell_id"] == cell_id:
            edit(rec)
    path.write_text("".join(json.dumps(r) + "\n" for r in recs))


async def test_detail_masks_a_token_in_the_tail_until_x(sweep_copy: Path) -> None:
    copilot = next(
        json.loads(line)["cell_id"]
        for line in (sweep_copy / "results.jsonl").read_text().splitlines()
        if "/copilot/" in line
    )
    _edit(
        sweep_copy,
        copilot,
        lambda rec: rec["scores"]["pass_rate"].update(
            stdout_tail=f"cloning\n\x1b[1mexport GH_PAT=\x1b[0m{TOKEN}\nprompt_tokens: 1400\n"
        ),
    )
    store = Store.open(sweep_copy)
    app = CabApp(lambda p: store, start=lambda s: DetailScreen(s, copilot))
    async with app.run_test(size=(160, 50)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, DetailScreen) and app.screen.data is not None
        )
        tail = app.screen.query_one("#detail-stdout", Static)
        text = plain_text(tail.content, width=200)
        assert "export GH_PAT=" in text and TOKEN not in text
        assert "prompt_tokens: 1400" in text
        await pilot.press("x")
        await pilot.pause()
        text = plain_text(tail.content, width=200)
        assert TOKEN in text
        await pilot.press("x")
        await pilot.pause()
        assert TOKEN not in plain_text(tail.content, width=200)


async def test_compare_screen_masks_tails_and_span_names(sweep: tuple[Path, str, str]) -> None:
    from cabtui.ui.screens.compare import CompareScreen
    from cabtui.ui.widgets.axes_diff import diffs

    path, aider, copilot = sweep
    store = Store.open(path)
    app = CabApp(lambda p: store, start=lambda s: CompareScreen(s, aider, copilot))
    async with app.run_test(size=(180, 50)) as pilot:
        await settle(
            pilot, lambda: isinstance(app.screen, CompareScreen) and app.screen.diff is not None
        )
        screen = app.screen
        assert isinstance(screen, CompareScreen)
        d = screen.diff
        assert d is not None
        assert isinstance(d, RunDiff)
        text = plain_text(diffs(d), width=200)
        assert "GH_PAT=" in text and TOKEN not in text
        names = json.dumps(d.spans.to_json()["pairs"])
        assert "password=" in names and SPAN_SECRET not in names
        border = app.screen.query_one("#cmp-col-a").border_title
        assert border is not None and "[link=https:evil]" in str(border)  # shown, not read


def test_text_module_is_a_leaf() -> None:
    code = (
        "import sys, cabtui.text; "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('rich', 'textual', 'avt') "
        "or (m.startswith('cabtui.') and m not in ('cabtui.text', 'cabtui.secrets'))]; "
        "assert not bad, bad"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
