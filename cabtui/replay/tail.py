"""Captured program output (a test's stdout_tail, stderr_tail) rendered through the terminal
engine: colours kept, carriage-return progress lines resolved, every other escape consumed."""

from __future__ import annotations

import avt
from rich.text import Text

from cabtui.replay.render import rich_rows, text_rows


def _screen(output: str, cols: int) -> list[avt.Line]:
    # A full reset (ESC c) would blank the whole tail; the text around it matters more here.
    data = output.replace("\x1bc", "").replace("\r\n", "\n").replace("\n", "\r\n")
    rows = max(1, data.count("\n") + 1)
    vt = avt.Vt(cols=cols, rows=rows)
    vt.feed_str(data)
    lines = vt.view()
    while lines and not lines[-1].text.strip():
        lines.pop()
    return lines


def tail_text(output: str | None, cols: int = 160) -> Text:
    """``output`` as rich Text, one row per terminal line, safe to print."""
    if not output:
        return Text("")
    return Text("\n", end="").join(rich_rows(_screen(output, cols)))


def tail_plain(output: str | None, cols: int = 160) -> list[str]:
    """``output`` as plain text rows, right-trimmed, safe to print."""
    return text_rows(_screen(output, cols)) if output else []
