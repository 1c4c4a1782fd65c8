"""Everything a replay of one run needs, gathered off the UI thread. No Textual here.

:func:`load_session` asks the store for the run's spans, model calls and recording, reads the
recording and builds its Player. A run without a recording, or with one that cannot be read,
still gives a session: its spans replay and ``message`` says why the terminal is empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cabtui.replay.clock import DEFAULT_IDLE_LIMIT, Clock
from cabtui.replay.engine import Player
from cabtui.replay.spans import (
    Span,
    Timeline,
    markers,
    place_calls,
    recording_offset_ms,
    span_tree,
)
from cabtui.sweep.asciicast import CastError, Recording
from cabtui.sweep.cast_reader import read_cast
from cabtui.sweep.layout import inside

if TYPE_CHECKING:
    from cabtui.store.store import Store

NO_RECORDING = "This run has no recording."


@dataclass
class Session:
    title: str
    timeline: Timeline
    clock: Clock
    recording: Recording | None = None
    player: Player | None = None
    source: str | None = None  # the recording's file
    message: str | None = None  # why the terminal pane is empty
    problems: tuple[str, ...] = ()  # the recording's own problems (it still plays)
    recordings: tuple[str, ...] = ()  # every recording of the run (file names); the one shown
    which: int = 0  # is recordings[which]


def _read(path: Path) -> tuple[Recording | None, Player | None, str | None]:
    try:
        rec = read_cast(path)
    except CastError as e:
        return None, None, f"Cannot replay this recording.\n\n{e}"
    if not rec.events:
        return rec, None, f"{path}: the recording holds no events."
    return rec, Player(rec), None


def recordings_of(store: Store, cell_id: str, spans: list[Span]) -> list[tuple[Path, float]]:
    """Every recording of a run with the run time of its start: the run's own recording (at the
    first ``container`` span), then any other a span points at (``attrs.recording``, a file
    under the store's root: a Terminal-Bench run's tests.cast), at that span's start."""
    out: list[tuple[Path, float]] = []
    info = store.recording(cell_id)
    if info is not None:
        out.append((Path(info["file"]), recording_offset_ms(spans)))
    seen = {p.resolve() for p, _ in out}
    for s in spans:
        label = s.attrs.get("recording")
        if s.kind not in ("container", "recording") or not isinstance(label, str):
            continue
        p = store.root / label
        if p.is_file() and inside(store.root, p) and p.resolve() not in seen:
            seen.add(p.resolve())
            out.append((p, s.start_ms))
    return out


def load_session(
    store: Store | None, cell_id: str | None, recording: Path | None = None, which: int = 0
) -> Session:
    """The session of run ``cell_id`` in ``store`` (showing its recording number ``which``,
    counted modulo how many it has), or of a bare recording file."""
    spans, calls, started_at, title = [], [], None, str(recording or cell_id or "replay")
    problems: list[str] = []
    path = recording
    names: tuple[str, ...] = ()
    offset: float | None = None
    if store is not None and cell_id is not None:
        spans = span_tree(store.spans(cell_id))
        run = store.run(cell_id) or {}
        started_at = run.get("started_at")
        calls = place_calls(store.model_calls(cell_id), started_at, spans)
        title = cell_id
        if path is None:
            every = recordings_of(store, cell_id, spans)
            if every:
                which %= len(every)
                path, offset = every[which]
                names = tuple(p.name for p, _ in every)
    rec, player, message = _read(path) if path is not None else (None, None, NO_RECORDING)
    if rec is not None:
        problems = list(rec.problems)
    if offset is None:
        offset = recording_offset_ms(spans)
    timeline = Timeline(spans, calls, markers(rec))
    rec_end = offset + rec.duration * 1000.0 if rec is not None else 0.0
    header_limit = rec.idle_time_limit if rec is not None else None
    clock = Clock(
        end_ms=max(timeline.end_ms, rec_end),
        offset_ms=offset,
        event_times=tuple(e.orig_time for e in rec.events) if rec is not None else (),
        idle_limit=header_limit or DEFAULT_IDLE_LIMIT,
        idle_on=header_limit is not None,
    )
    return Session(
        title,
        timeline,
        clock,
        rec,
        player,
        str(path) if path else None,
        message,
        tuple(problems),
        names,
        which if names else 0,
    )
