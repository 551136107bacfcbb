"""Fixtures of the import/export tests."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "cli"))  # cli_support
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))  # table_data


@pytest.fixture
def files_root(db, tmp_path) -> Path:
    """The storage root of the ``db`` fixture's database (EXPTABLE_FILES)."""
    return tmp_path / "files"
