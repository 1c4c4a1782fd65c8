"""The limits of what a recording may ask for, in one place. No Textual here.

A recording is data from elsewhere: its header, its resizes and its events are checked against
these limits *before* anything is allocated for them. Whatever is beyond a limit is clamped or
cut, and said so in the recording's problems (file and line); everything within still plays.
"""

from __future__ import annotations

MAX_COLS = 1000  # terminal width: a larger header size or resize is shown at this width
MAX_ROWS = 500  # terminal height, likewise
MAX_HEADER_BYTES = 1 << 20  # the header line (v2, v3); a longer one is not read as a header
MAX_LINE_BYTES = 1 << 20  # one event line: a longer one is cut there (its output truncated)
MAX_V1_BYTES = 32 << 20  # a whole asciicast v1 document (it is one JSON value)
MAX_RECORDING_BYTES = 256 << 20  # the recording's text (after gunzip); the rest is not read
MAX_EVENTS = 1_000_000  # events kept; the rest is not read
MAX_DEPTH = 64  # JSON nesting of a header or event line (an event is 1 deep)
MAX_TIME = 1e7  # seconds (115 days): a later event time is not a time
MAX_TEXT = 4096  # characters of a header string (title, env value) kept
MAX_PROBLEMS = 200  # problems listed per recording; the rest are counted in one more line
MAX_TAIL_LINES = 2000  # lines of a captured stdout/stderr tail shown (its last ones)
MAX_TAIL_CHARS = 1 << 20  # characters of a tail read (its last ones)


def mib(n: int) -> str:
    """``n`` bytes in MiB for messages (``1 MiB``, ``0.5 MiB``)."""
    return f"{n / (1 << 20):g} MiB"


def clamp_size(cols: int, rows: int) -> tuple[int, int]:
    """A terminal size within the limits (at least 1x1)."""
    return max(1, min(cols, MAX_COLS)), max(1, min(rows, MAX_ROWS))
