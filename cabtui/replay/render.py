"""Turn avt screen lines into plain text, rich Text and SVG.

Only interpreted cells reach the output. As a second guard, any control character that could
still sit in a cell (C0, DEL, C1, bidirectional overrides) is replaced with U+FFFD, so nothing
from a recording can drive the user's own terminal. Secrets shown on a row are masked cell by
cell (their styles kept) unless the caller reveals them.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

import avt
from rich.color import Color as RichColor
from rich.console import Console
from rich.style import Style
from rich.text import Text

from cabtui.secrets import find_secrets
from cabtui.text import safe


def _color(c: avt.Color | None) -> RichColor | None:
    if c is None:
        return None
    if isinstance(c, avt.Color.RGB):
        return RichColor.from_rgb(c[0], c[1], c[2])
    assert isinstance(c, avt.Color.Indexed)  # a Color is RGB or Indexed
    return RichColor.from_ansi(c[0] & 0xFF)


_STYLE_CACHE: dict[str, Style | None] = {}


def pen_style(p: avt.Pen) -> Style | None:
    """The rich Style of an avt Pen, None for the default pen (cached by the pen's repr, which
    pyavt makes complete)."""
    key = repr(p)
    if key in _STYLE_CACHE:
        return _STYLE_CACHE[key]
    if len(_STYLE_CACHE) > 4096:
        _STYLE_CACHE.clear()
    style = None
    if not p.is_default():
        style = Style(
            color=_color(p.foreground),
            bgcolor=_color(p.background),
            bold=p.bold or None,
            dim=p.faint or None,
            italic=p.italic or None,
            underline=p.underline or None,
            strike=p.strikethrough or None,
            blink=p.blink or None,
            reverse=p.inverse or None,
        )
    _STYLE_CACHE[key] = style
    return style


SECRET_CHAR = "•"
_SECRET_CACHE: dict[str, list[tuple[int, int]]] = {}
# Every form cabtui.secrets.find_secrets knows holds one of these (in lower case): a part of a
# secret's name (key, token, secret, pass, pat, auth, cred, cookie), a scheme (bearer), URL
# credentials (://), curl's -u/--user, or a service token's prefix. A row holding none is not
# searched: find_secrets takes ~100 us a row, this ~8 (a full screen is 40-60 rows).
# tests/test_hostile_recordings.py checks the two agree.
SECRET_HINTS = (
    "key", "token", "secret", "pass", "pat", "auth", "cred", "cookie", "bearer", "://", "-u",
    "sk-", "sk_", "rk_", "pk_", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "aiza", "hf_", "npm_",
    "xox", "xapp", "akia", "asia", "pypi", "eyj",
)  # fmt: skip
_HINT = re.compile("|".join(re.escape(h) for h in SECRET_HINTS))


def secret_ranges(text: str) -> list[tuple[int, int]]:
    """:func:`cabtui.secrets.find_secrets` of one screen row (cached: rows repeat from frame to
    frame)."""
    if _HINT.search(text.lower()) is None:
        return []
    found = _SECRET_CACHE.get(text)
    if found is None:
        if len(_SECRET_CACHE) > 4096:
            _SECRET_CACHE.clear()
        found = _SECRET_CACHE[text] = find_secrets(text)
    return found


def _wraps(line: avt.Line) -> bool:
    """Whether the row fills its last column: it may go on in the next row (a wrapped line)."""
    cells = line.cells
    return bool(cells) and cells[-1].char not in (" ", "")


def group_at(lines: Sequence[avt.Line], r: int) -> tuple[int, int]:
    """The rows ``[start, end)`` read as one line with row ``r``: a row that fills its width is
    read with the next, so a secret cut by the terminal's wrap is found whole."""
    start, end = r, r + 1
    while start > 0 and _wraps(lines[start - 1]):
        start -= 1
    while end < len(lines) and _wraps(lines[end - 1]):
        end += 1
    return start, end


def _group_hidden(lines: Sequence[avt.Line], start: int, end: int) -> list[set[int] | None]:
    """For rows ``start..end-1`` read as one line, the cells (in ``line.cells``) that show a
    secret; None for a row with none. Each row's text holds one character per cell of
    non-zero width."""
    texts = [lines[r].text for r in range(start, end)]
    # each row read alone and the rows read as one: a row that fills its width is not always
    # wrapped (a rule of dashes), and a token right after it reads as part of a word joined
    ranges = secret_ranges("".join(texts)) if end - start > 1 else []
    at = 0
    for text in texts:
        ranges += [(a + at, b + at) for a, b in secret_ranges(text)]
        at += len(text)
    out: list[set[int] | None] = [None] * (end - start)
    if not ranges:
        return out
    chars: set[int] = set()
    for a, b in ranges:
        chars.update(range(a, b))
    n = 0
    for k in range(end - start):
        cells: set[int] = set()
        for i, cell in enumerate(lines[start + k].cells):
            if cell.width:
                if n in chars:
                    cells.add(i)
                n += 1
        out[k] = cells or None
    return out


def screen_hidden(lines: Sequence[avt.Line]) -> list[set[int] | None]:
    """For each row, the cells that show a secret (None: none), wrapped rows read together."""
    out: list[set[int] | None] = [None] * len(lines)
    if _no_secret(lines):
        return out
    r = 0
    while r < len(lines):
        start, end = group_at(lines, r)
        out[start:end] = _group_hidden(lines, start, end)
        r = end
    return out


def masked_texts(lines: Sequence[avt.Line], start: int, end: int) -> list[str]:
    """The texts of rows ``start..end-1`` (one group, see :func:`group_at`) as they are shown:
    secrets masked, safe, right-trimmed."""
    hidden = _group_hidden(lines, start, end)
    return [line_text(lines[start + k], hidden[k]) for k in range(end - start)]


def line_text(line: avt.Line, hidden: set[int] | None = None) -> str:
    """The row's text, right-trimmed, safe; the cells in ``hidden`` masked."""
    if not hidden:
        return safe(line.text.rstrip())
    text = "".join(
        (SECRET_CHAR * cell.width if i in hidden else cell.char)
        for i, cell in enumerate(line.cells)
        if cell.width
    )
    return safe(text.rstrip())


def text_rows(lines: Sequence[avt.Line], reveal: bool = False) -> list[str]:
    """Each row's text; secrets masked (wrapped rows read together) unless ``reveal``."""
    hidden = [None] * len(lines) if reveal else screen_hidden(lines)
    return [line_text(line, h) for line, h in zip(lines, hidden)]


def line_rich(line: avt.Line, hidden: set[int] | None = None) -> Text:
    """The row as rich Text, one span per run of equally styled cells. A wide character is one
    character of cell width 2; its placeholder cell (width 0) is skipped. Trailing default blanks
    are trimmed; styled ones (e.g. a coloured background) are kept. The cells in ``hidden`` (a
    secret's, from :func:`screen_hidden`) show ``•`` in their own style."""
    out = Text(no_wrap=True, overflow="crop", end="")
    run: list[str] = []
    prev: avt.Pen | None = None
    for i, cell in enumerate(line.cells):
        pen = cell.pen
        if prev is None or pen != prev:
            if run:
                out.append(safe("".join(run)), pen_style(prev))  # type: ignore[arg-type]  # prev is a Pen whenever run holds characters
                run = []
            prev = pen
        if cell.width:
            run.append(SECRET_CHAR * cell.width if hidden and i in hidden else cell.char)
    if run:
        tail = safe("".join(run))
        style = pen_style(prev)  # type: ignore[arg-type]  # prev is a Pen whenever run holds characters
        if style is None:
            tail = tail.rstrip(" ")
        out.append(tail, style)
    return out


def _no_secret(lines: Sequence[avt.Line]) -> bool:
    """Whether no row can hold a secret (one search of the whole screen, the usual case)."""
    return _HINT.search("\n".join(line.text for line in lines).lower()) is None


def rich_rows(lines: Sequence[avt.Line], reveal: bool = False) -> list[Text]:
    """Each row as rich Text; secrets masked (wrapped rows read together) unless ``reveal``."""
    hidden = [None] * len(lines) if reveal else screen_hidden(lines)
    return [line_rich(line, h) for line, h in zip(lines, hidden)]


def rich_screen(lines: Sequence[avt.Line], reveal: bool = False) -> Text:
    """The whole screen as one Text, rows joined with newlines."""
    return Text("\n", no_wrap=True, end="").join(rich_rows(lines, reveal))


def svg(
    lines: Sequence[avt.Line], cols: int, title: str = "cabtui replay", reveal: bool = False
) -> str:
    """An SVG document of the screen (secrets masked unless ``reveal``)."""
    console = Console(
        record=True, width=cols, file=io.StringIO(), color_system="truecolor",
        force_terminal=True, legacy_windows=False,
    )  # fmt: skip
    for row in rich_rows(lines, reveal):
        console.print(row, crop=True, soft_wrap=False)
    return console.export_svg(title=safe(title))
