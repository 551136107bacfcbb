"""Fixtures for the action tests (the helpers live in actions_support.py)."""
from __future__ import annotations

import pytest
from actions_support import DialogRecorder, StandInWindow


@pytest.fixture
def make_window(db, db_url, qtbot):
    made = []

    def make(project: str | None = None, install: bool = True):
        from exptable_desktop.ui.actions import install_actions
        window = StandInWindow(db_url, project)
        qtbot.addWidget(window)
        window.resize(1100, 500)
        if install:
            install_actions(window)
        made.append(window)
        return window
    return make


@pytest.fixture
def answers(monkeypatch):
    return DialogRecorder().install(monkeypatch)
