"""The headless layers never import Textual: the CLI, benchmarks and tests use them without a
screen."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS = [
    "cabtui.scoring",
    "cabtui.secrets",
    "cabtui.sweep.cellid",
    "cabtui.sweep.layout",
    "cabtui.sweep.synth",
    "cabtui.store.ingest",
    "cabtui.store.cache",
    "cabtui.store.cache_files",
    "cabtui.store.store",
    "cabtui.store.export",
    "cabtui.store.remote",
    "cabtui.store.remote_cache",
    "cabtui.store.remote_io",
    "cabtui.commands.publish",
    "cabtui.store.filter",
    "cabtui.store.detail",
    "cabtui.store.pivot",
    "cabtui.sweep.asciicast",
    "cabtui.sweep.cast_limits",
    "cabtui.sweep.cast_reader",
    "cabtui.replay.tail",
    "cabtui.replay.frame",
    "cabtui.replay.engine",
    "cabtui.replay.render",
    "cabtui.replay.session",
    "cabtui.compare.align",
    "cabtui.compare.diff",
    "cabtui.compare.stats",
    "cabtui.compare.render",
    "cabtui.compare.link",
    "cabtui.commands.data",
    "cabtui.commands.compare",
    "cabtui.commands.frame",
    "cabtui.commands.cache",
    "cabtui.cli",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_no_textual(module: str) -> None:
    code = f"import sys, {module}; assert 'textual' not in sys.modules, sorted(m for m in sys.modules if m.startswith('textual'))"
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
