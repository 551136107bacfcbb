"""The Workers & Queues window on a database it may not change: it shows the queues, and every
change (drag, top/bottom, move to queue, remove, new/rename/delete queue) is off and says why.

SQLite: a file chmod 0444 in a folder nobody can reach, read with the effective ids of user
nobody (root writes through the chmod). PostgreSQL: a database set ``default_transaction_read_only``.
"""
from __future__ import annotations

import contextlib
import os
from urllib.parse import urlparse

import pytest
from PySide6.QtCore import QModelIndex, QPoint, Qt
from PySide6.QtWidgets import QMenu
from read_only_support import as_nobody, can_drop_privileges, listing, shared_folder
from ui_run_support import order, queued

from exptable_desktop.core import queues as queue_ops
from exptable_desktop.store import close_database, open_database
from exptable_desktop.store.db import read_only_reason
from exptable_desktop.ui import workers_queues as wq

EDITING_BUTTONS = ("new_queue_button", "rename_queue_button", "delete_queue_button", "top_button",
                   "bottom_button", "move_queue_button", "remove_button")


def _fill(url: str) -> None:
    open_database(url)
    try:
        queued(["a", "b", "c"])
        queue_ops.create_queue("spare")  # empty: Delete would be offered on a writable database
    finally:
        close_database()


def _select(window, names) -> None:
    selection = window.entries_view.selectionModel()
    selection.clearSelection()
    for row, entry in enumerate(window.entries_model.rows):
        if entry.name in names:
            selection.select(window.entries_model.index(row, 0),
                             selection.SelectionFlag.Select | selection.SelectionFlag.Rows)


def _open(qtbot, queue: str = "default") -> wq.WorkersQueuesWindow:
    window = wq.WorkersQueuesWindow()
    qtbot.addWidget(window)
    window.show()
    window.refresh_timer.stop()
    window.select_queue(queue)
    return window


def _menu_entries(window, open_menu, name: str) -> dict[str, bool]:
    open_menu(QPoint(5, 5))
    menu = window.findChild(QMenu, name)
    entries = {a.text(): a.isEnabled() for a in menu.actions() if a.text()}
    for sub in (a.menu() for a in menu.actions() if a.menu() is not None):
        entries.update({f"{menu.title()}/{a.text()}": a.isEnabled() for a in sub.actions() if a.text()})
    menu.close()
    menu.deleteLater()
    return entries


@contextlib.contextmanager
def _read_only_database(backend: str, qtbot):
    """Yields the URL of a database holding queues "default" (a, b, c) and "spare", opened read-only; on
    SQLite the block runs as nobody, and nothing in the database's folder may change."""
    if backend == "sqlite":
        if not can_drop_privileges():
            pytest.skip("running as root without a user 'nobody'")
        with shared_folder() as folder:
            url = f"sqlite:///{folder / 'team.db'}"
            _writable_then_read_only(url, qtbot, lambda: (folder / "team.db").chmod(0o444))
            before = listing(folder)
            with as_nobody():
                open_database(url)
                try:
                    yield url
                finally:
                    close_database()
            assert listing(folder) == before
        return
    if not os.environ.get("EXPTABLE_TEST_PG_URL"):
        pytest.skip("EXPTABLE_TEST_PG_URL not set")
    from pg_support import drop_pg_database, new_pg_database, pg_admin

    url = new_pg_database()
    try:
        _writable_then_read_only(url, qtbot, lambda: pg_admin(
            f'ALTER DATABASE "{urlparse(url).path[1:]}" SET default_transaction_read_only = on'))
        open_database(url)
        try:
            yield url
        finally:
            close_database()
    finally:
        drop_pg_database(url)


def _writable_then_read_only(url, qtbot, make_read_only):
    """Fill the database, and check once while it is writable that the same window offers every change
    (so the read-only checks below cannot pass on a window that never offers them)."""
    _fill(url)
    open_database(url)
    try:
        window = _open(qtbot)
        _select(window, {"b"})
        assert all(getattr(window, name).isEnabled() for name in EDITING_BUTTONS if name != "delete_queue_button")
        assert window.entries_view.dragEnabled()
        window.close()
    finally:
        close_database()
    make_read_only()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.pg)])
def test_a_read_only_database_turns_off_every_change_and_says_why(backend, qtbot):
    with _read_only_database(backend, qtbot):
        reason = read_only_reason()
        assert reason and reason.startswith("The database is read-only")
        window = _open(qtbot)
        try:
            assert [e.name for e in window.entries_model.rows] == ["a", "b", "c"]  # reading works
            _select(window, {"b"})
            window.select_queue("spare")
            window.select_queue("default")
            _select(window, {"b"})
            for name in EDITING_BUTTONS:
                button = getattr(window, name)
                assert not button.isEnabled(), name
                assert reason in button.toolTip(), name

            # No drag starts, and a drop is refused.
            model = window.entries_model
            assert not window.entries_view.dragEnabled()
            assert not model.flags(model.index(1, 1)) & Qt.ItemFlag.ItemIsDragEnabled
            data = model.mimeData([model.index(2, 1)])
            assert not model.canDropMimeData(data, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
            assert not model.dropMimeData(data, Qt.DropAction.MoveAction, 0, 0, QModelIndex())

            # The context menus show the entries, all off.
            entries = _menu_entries(window, window._entry_menu, "queueEntryMenu")
            assert {"Move to top", "Move to bottom", "Remove from queue"} <= set(entries)
            assert not any(entries.values()), entries
            entries = _menu_entries(window, window._queue_menu, "queueMenu")
            assert set(entries) == {"New queue…", "Rename…", "Delete"} and not any(entries.values()), entries

            # The keys (Delete, Ctrl+Home) and the calls behind the buttons change nothing and say why.
            window.activateWindow()
            qtbot.waitUntil(window.isActiveWindow)
            window.entries_view.setFocus()
            qtbot.keyClick(window.entries_view, Qt.Key.Key_Delete)
            assert window.status_label.text() == reason
            qtbot.keyClick(window.entries_view, Qt.Key.Key_Home, Qt.KeyboardModifier.ControlModifier)
            assert window.remove_selected() is None and window.move_selected_to_top() is None
            assert window.move_selected_to_queue("spare") is None
            assert window.create_queue("new") is None and window.rename_queue("renamed") is None
            window.select_queue("spare")
            assert window.delete_queue() is False
            assert window.status_label.text() == reason
            assert order() == ["a", "b", "c"] and order("spare") == []
            assert [q.name for q in queue_ops.list_queues()] == ["default", "spare"]
        finally:
            window.close()
