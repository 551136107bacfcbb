"""Helpers for the tests of tests/views."""
from __future__ import annotations

from PySide6.QtCore import Qt


def open_window(qtbot, db_url, *, show: bool = True):
    from exptable_desktop.ui import create_main_window

    win = create_main_window(db_url)
    qtbot.addWidget(win)
    win.resize(1400, 700)
    if show:
        win.show()
        qtbot.waitExposed(win)
    win.auto_refresh_toggle.setChecked(False)
    return win


def close_window(win) -> None:
    """Stop the window's threads and timers (the test's database goes away next)."""
    custom = getattr(win, "custom_actions", None)
    if custom is not None:
        custom.wait()
    win._stop_loader()
    win.refresh_timer.stop()
    win._stop_fetcher(wait=True)


def shown_names(win) -> list[str]:
    model = win.model
    column = model.column_of("name")
    return [model.index(row, column).data(Qt.ItemDataRole.DisplayRole) for row in range(model.rowCount())]


def names_of(table, mask) -> list[str]:
    import numpy as np
    slots = np.flatnonzero(mask)
    return sorted(table.text["name"][slots].tolist())
