"""Captured program output (a test's stdout_tail, stderr_tail) rendered through the terminal
engine: colours kept, carriage-return progress lines resolved, every other escape consumed.

A tail can be anything: only its last MAX_TAIL_LINES lines (of its last MAX_TAIL_CHARS
characters) are rendered, under a first row saying how many more there are. Masking secrets is
the caller's part (the output is rendered as given)."""

from __future__ import annotations

import avt
from rich.text import Text

from cabtui.replay.render import rich_rows, text_rows
from cabtui.sweep.cast_limits import MAX_TAIL_CHARS, MAX_TAIL_LINES


def cap_tail(output: str) -> tuple[str, int]:
    """The end of ``output`` within the limits, and how many lines before it are left out."""
    more = 0
    if len(output) > MAX_TAIL_CHARS:
        cut = len(output) - MAX_TAIL_CHARS
        if output[cut - 1] != "\n":  # the cut falls inside a line: leave all of it out
            nl = output.find("\n", cut)
            cut = nl + 1 if nl >= 0 else cut  # (unless it is the last line: show its end)
        more = output.count("\n", 0, cut)
        output = output[cut:]
    trail = output.endswith("\n")
    body = output[:-1] if trail else output
    lines = body.count("\n") + 1
    if lines > MAX_TAIL_LINES:
        more += lines - MAX_TAIL_LINES
        output = "\n".join(body.rsplit("\n", MAX_TAIL_LINES)[1:]) + ("\n" if trail else "")
    return output, more


def more_lines(more: int) -> str:
    return f"… {more:,} more line{'s' if more != 1 else ''} above"


def _screen(output: str, cols: int) -> list[avt.Line]:
    # A full reset (ESC c) would blank the whole tail; the text around it matters more here.
    data = output.replace("\x1bc", "").replace("\r\n", "\n").replace("\n", "\r\n")
    # a row per line and per wrap of a long one (escapes counted as text: rows to spare, which
    # are trimmed below), so no line scrolls off the top
    rows = max(1, min(MAX_TAIL_LINES + 1, sum(len(line) // cols + 1 for line in data.split("\n"))))
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
    output, more = cap_tail(output)
    rows = rich_rows(_screen(output, cols), reveal=True)
    if more:
        rows.insert(0, Text(more_lines(more), style="dim"))
    return Text("\n", end="").join(rows)


def tail_plain(output: str | None, cols: int = 160) -> list[str]:
    """``output`` as plain text rows, right-trimmed, safe to print."""
    if not output:
        return []
    output, more = cap_tail(output)
    rows = text_rows(_screen(output, cols), reveal=True)
    return [more_lines(more), *rows] if more else rows
