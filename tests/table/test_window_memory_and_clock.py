"""What the window remembers between sessions, and what moves on by itself."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt

from exptable_desktop.core.filters import NO_VALUE, ValueSetFilter
from tests.table.conftest import reopen


def test_reopens_on_the_last_project_used(window, qtbot, db_url):
    cnn = next(pid for pid, path in window.project_panel.model.paths.items() if path == "vision/cnn")
    window.open_project(cnn)
    again = reopen(qtbot, window, db_url)
    assert again.current_project_path() == "vision/cnn"
    again.close()


def test_window_size_dock_layout_and_refresh_interval_are_restored(window, qtbot, db_url):
    # The offscreen screen is narrower than the window's minimum width, and restoreGeometry
    # fits a window to its screen; the height shows the geometry came back.
    height = window.screen().availableGeometry().height() - 77
    window.resize(window.width(), height)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, window.projects_dock)
    window.set_refresh_interval(10)
    qtbot.waitUntil(lambda: window.height() == height)
    window.close()  # saves geometry, docks and the refresh setting
    from exptable_desktop.ui import create_main_window

    again = create_main_window(db_url)
    qtbot.addWidget(again)
    again.show()
    qtbot.waitExposed(again)
    assert again.height() == height
    assert again.dockWidgetArea(again.projects_dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert again.refresh_timer.interval() == 10_000
    again.close()


def test_relative_times_move_on_by_themselves(window, qtbot, monkeypatch):
    model = window.model
    column = model.column_of("last_update")
    before = model.index(0, column).data()
    assert "ago" in before
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 3 * 3600)
    with qtbot.waitSignal(model.dataChanged, timeout=1000):
        window._tick_clock()  # what the window's clock timer calls
    assert "hours ago" in model.index(0, column).data()
    assert window.clock_timer.isActive()


def test_refresh_interval_is_adjustable(window):
    window.auto_refresh_toggle.setChecked(True)
    window.set_refresh_interval(10)
    assert window.refresh_timer.interval() == 10_000 and window.refresh_timer.isActive()
    assert "10" in window.auto_refresh_toggle.toolTip()
    window.set_refresh_interval(1)
    assert window.refresh_timer.interval() == 1_000


def test_no_value_entry_matches_experiments_without_the_hyperparameter(window, qtbot, populated):
    key = "hp:Args/optimizer"
    window.add_custom_columns([key])
    qtbot.waitUntil(lambda: window.model.column_of(key) >= 0, timeout=3000)
    window.open_project(None, True)
    qtbot.waitUntil(lambda: len(window.visible_ids()) == len(populated), timeout=3000)
    window.model.set_filter(key, ValueSetFilter({NO_VALUE}))
    # The two experiments that never ran were given no Args; all the others have an optimizer.
    assert set(window.visible_ids()) == {populated["d-untagged"], populated["f-draft"]}
