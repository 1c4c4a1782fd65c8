"""Shared fixtures: a cache directory per test session, and the bundled sample sweeps opened
once into a real DuckDB store."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from cabtui.store.store import Store

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "data" / "sweeps"
EXPANSION = SAMPLE / "expansion-20260616"


@pytest.fixture(scope="session", autouse=True)
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every store of the test session is cached in a temporary directory."""
    path = tmp_path_factory.mktemp("cabtui-cache")
    os.environ["CABTUI_CACHE_DIR"] = str(path)
    return path


@pytest.fixture(scope="session")
def sample_store(cache_dir: Path) -> Store:
    """The bundled sample sweeps (data/sweeps), opened once."""
    return Store.open(SAMPLE)


@pytest.fixture(scope="session")
def expansion_store(cache_dir: Path) -> Store:
    """The five real published runs (data/sweeps/expansion-20260616), opened once."""
    return Store.open(EXPANSION)


@pytest.fixture()
def sweep_copy(tmp_path: Path) -> Path:
    """A writable copy of the five real runs, for tests that damage a sweep."""
    dst = tmp_path / "expansion-20260616"
    shutil.copytree(EXPANSION, dst)
    return dst
