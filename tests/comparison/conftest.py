"""Fixtures for the comparison view: experiments with learning curves and a window to compare them in."""
from __future__ import annotations

import pytest

from comparison_helpers import make_experiment, open_window


@pytest.fixture
def experiments(db) -> list[str]:
    return [make_experiment(f"resnet run {n}", n) for n in range(4)]


@pytest.fixture
def window(qtbot, db_url, experiments):
    return open_window(qtbot, db_url, len(experiments))
