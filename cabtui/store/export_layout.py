"""The layout of an exported sweep: what ``cab-tui export`` writes and a remote store reads.

An export is a directory of immutable files and a ``manifest.json`` naming each with its size
and sha256, and an export id (a digest of those checksums: the same data gives the same id):

- ``runs.parquet``: the runs index, one row per run sorted by cell_id with the grid's columns
  (every column of the store's runs table except :data:`DETAIL_COLUMNS`); a run's row number
  there is its ``export_ord``;
- ``sweeps.parquet``, ``problems.parquet``: small, read whole;
- per-run tables in parts (:data:`PART_TABLES`): ``<table>/part-NNNNN.parquet`` holds the runs
  whose ``export_ord // RUNS_PER_PART`` is NNNNN, in small row groups of :data:`RUNS_PER_GROUP`
  runs each (the footer's ``cab_groups`` lists the group of each row group), so one run costs a
  footer and one row group;
- ``recordings.pack``: every recording gzipped and concatenated; the ``recordings`` parts give
  each run's offset, length and sha256 in it.
"""

from __future__ import annotations

MANIFEST = "manifest.json"
FORMAT = "cabtui-export"
FORMAT_VERSION = 1
RUNS_FILE = "runs.parquet"
SMALL_TABLES = ("sweeps", "problems")
PART_TABLES = ("details", "spans", "model_calls", "recordings")
PACK = "recordings.pack"
RUNS_PER_PART = 1024
RUNS_PER_GROUP = 8
GROUPS_KEY = b"cab_groups"
ORD = "export_ord"

# Columns of the runs table that only a run's own screens show (and neither the grid, the
# filter language nor the composite reads): fetched with the run.
DETAIL_COLUMNS = (
    "started_at", "ended_at", "scored_prompt_tokens", "scored_completion_tokens",
    "scored_total_tokens", "tokens_per_correct_task", "pass_used_for_division", "cache_tokens",
    "tokens_source", "source_file", "source_row", "record_sweep_id", "model_build_id", "stdout_tail",
    "stderr_tail", "added", "removed", "modified", "unexpected_changes", "expected_changes",
    "marker_hits", "keyword_hits", "refusal_reasons", "refusal_signals", "integrity_task_id",
    "composite_weights", "composite_components", "composite_note",
)  # fmt: skip
# Identity columns are never masked: they are the keys that join the files.
IDENTITY = frozenset(
    {"cell_id", "cell", "sweep_id", "tui", "model", "task_id", "family", "sweep_dir", "source",
     "status", "path", "recording"}
)  # fmt: skip
# The extra columns of the recordings parts: where each recording lies in the pack.
PACK_COLUMNS = ("pack_offset", "pack_length", "pack_sha256")


def part_name(table: str, part: int) -> str:
    return f"{table}/part-{part:05d}.parquet"


def locate(ord_: int) -> tuple[int, int]:
    """(part, group) of the run at ``ord_``."""
    return ord_ // RUNS_PER_PART, ord_ // RUNS_PER_GROUP
