"""The screen of a recording at one moment, as text or SVG (what ``cab-tui frame`` prints)."""

from __future__ import annotations

from pathlib import Path

from cabtui.replay.engine import Player
from cabtui.replay.render import svg, text_rows
from cabtui.secrets import mask_text
from cabtui.sweep.asciicast import Recording


def player_at(rec: Recording, at: float) -> Player:
    player = Player(rec)
    player.seek(at)
    return player


def render_frame(rec: Recording, at: float, fmt: str = "text", reveal: bool = False) -> str:
    """The screen at ``at`` seconds: ``rows`` right-trimmed lines, or an SVG document. Secrets
    on screen (and in the title) are masked unless ``reveal``; nothing from the recording is
    printed uninterpreted."""
    player = player_at(rec, at)
    if fmt == "svg":
        title = rec.title or Path(rec.source).name
        title = title if reveal else mask_text(title)
        return svg(player.lines(), player.cols, title=f"{title} @ {at:.2f}s", reveal=reveal)
    return "\n".join(text_rows(player.lines(), reveal)) + "\n"
