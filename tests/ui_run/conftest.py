"""Fixtures for the New Experiment wizard and Workers & Queues tests (helpers in ui_run_support.py)."""
from __future__ import annotations

import pytest
from ui_run_support import make_repo


@pytest.fixture
def repo(tmp_path):
    """A real git repository: main (tagged v1.0) with train.py and pkg/evaluate.py; branch feature adds tools/extra.py."""
    return make_repo(tmp_path)


@pytest.fixture(autouse=True)
def _background_work_ends_before_the_database_closes():
    yield
    from exptable_desktop.ui.new_experiment_wizard import wait_for_checks
    from exptable_desktop.ui.workers_queues import wait_for_readers
    wait_for_checks()
    wait_for_readers()


@pytest.fixture
def make_wizard(db, qtbot):
    from exptable_desktop.ui.new_experiment_wizard import NewExperimentWizard

    def make(project: str | None = "vision"):
        wizard = NewExperimentWizard(None, project)
        qtbot.addWidget(wizard)
        wizard.show()
        return wizard
    return make


@pytest.fixture
def wq_window(db, qtbot):
    """A Workers & Queues window of its own (no main window), its timer stopped."""
    from exptable_desktop.ui.workers_queues import WorkersQueuesWindow

    made = []

    def make():
        window = WorkersQueuesWindow()
        qtbot.addWidget(window)
        window.show()
        window.refresh_timer.stop()
        made.append(window)
        return window
    yield make
    for window in made:
        window.close()


@pytest.fixture
def main_window(qtbot, db, db_url):
    """The real main window on this test's database, auto-refresh off."""
    from exptable_desktop.ui import create_main_window

    win = create_main_window(db_url)
    qtbot.addWidget(win)
    win.resize(1400, 700)
    win.show()
    qtbot.waitExposed(win)
    win.auto_refresh_toggle.setChecked(False)
    yield win
    win._stop_loader()
    win.refresh_timer.stop()
    win._stop_fetcher(wait=True)
