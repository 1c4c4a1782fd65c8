"""Comparing runs, cells, CLIs and models: span alignment, run and cell diffs, paired
statistics. Headless: nothing here imports Textual."""

from cabtui.compare.align import Lockstep, Pair, align, lockstep, normalise, parted_at

__all__ = ["Lockstep", "Pair", "align", "lockstep", "normalise", "parted_at"]
