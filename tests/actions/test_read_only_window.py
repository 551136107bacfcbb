"""The window on a database it may not change: it opens, says "read-only" in its title, and
every action is off (context menu, batch bar, details editing) while reading still works.

The window runs with the effective ids of user nobody (root writes through chmod 0444),
on a database file in a folder nobody can reach; nothing in that folder may change.
"""
from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QFrame, QLabel, QLineEdit, QPushButton, QToolButton
from read_only_support import as_nobody, can_drop_privileges, listing, shared_folder

from exptable_desktop.core import editing, recording
from exptable_desktop.core import states as st
from exptable_desktop.store import close_database, open_database

pytest.importorskip("exptable_desktop.ui.main_window")

# Entries that only show things, or copy them out of the database: they stay available.
VIEWING = {"details", "full_screen", "compare", "manage_queue", "view_worker", "export_json", "export_bundle",
           "export_csv"}


def _team_database(folder) -> tuple[str, list[str]]:
    url = f"sqlite:///{folder / 'team.db'}"
    open_database(url)
    try:
        ids = [recording.create_experiment("Team", "draft run", tags=["baseline"]),
               recording.create_experiment("Team", "finished run", status=st.COMPLETED),
               recording.create_experiment("Team", "failed run", status=st.FAILED)]
        editing.require(editing.set_hyperparams([ids[0]], "Args", {"lr": 0.1}))
    finally:
        close_database()
    return url, ids


def _edit_buttons(tab) -> list[QPushButton]:
    """The Edit buttons of a details tab's sections that are on screen (or would be, if allowed)."""
    return [b for b in tab.findChildren(QPushButton)
            if b.objectName().endswith("_edit") and b.parentWidget().isVisibleTo(tab)]


def _open_window(qtbot, url):
    from exptable_desktop.ui import create_main_window

    window = create_main_window(url)
    qtbot.addWidget(window)
    window.resize(1300, 700)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.mark.skipif(not can_drop_privileges(), reason="running as root without a user 'nobody'")
@pytest.mark.parametrize("read_only", ["file", "folder"])
def test_the_window_opens_a_read_only_database_with_every_action_off(qtbot, read_only):
    with shared_folder() as folder:
        url, ids = _team_database(folder)
        draft = ids[0]
        # Once while writable, as root: everything the window imports is loaded before the
        # process takes nobody's ids (nobody cannot read this interpreter's files).
        window = _open_window(qtbot, url)
        assert window.windowTitle() == "team.db — ExpTable"
        assert not window.findChild(QLabel, "readOnlyLabel").isVisible()
        window.action_controller.open_details(draft)
        panel = window.details_controller.panel  # a Draft: its sections can be edited here
        qtbot.waitUntil(lambda: any(b.isEnabled() for b in _edit_buttons(panel.current_tab())))
        window.shutdown()

        if read_only == "file":
            (folder / "team.db").chmod(0o444)
        else:
            (folder / "team.db").chmod(0o666)  # writable itself: only the folder stops SQLite
            folder.chmod(0o555)
        before = listing(folder)
        with as_nobody():
            window = _open_window(qtbot, url)
            try:
                assert window.windowTitle() == "team.db (read-only) — ExpTable"
                label = window.findChild(QLabel, "readOnlyLabel")
                assert label.isVisible() and "read-only" in label.toolTip()
                assert set(window.visible_ids()) == set(ids)  # reading works

                window.set_checked(ids, True)
                bar = window.findChild(QFrame, "batchActionBar")
                qtbot.waitUntil(bar.isVisible)
                buttons = {b.objectName()[4:]: b for b in bar.findChildren(QToolButton)
                           if b.objectName().startswith("bar_")}
                assert "archive" in buttons and "enqueue" in buttons
                for key, button in buttons.items():
                    assert button.isEnabled() == (key in VIEWING), key
                    if key not in VIEWING:
                        assert "read-only" in button.toolTip()

                menu = window.action_controller.show_context_menu(QPoint(10, 10), draft)
                entries = {a.objectName()[7:]: a.isEnabled() for a in menu.actions()
                           if a.objectName().startswith("action_")}
                menu.close()
                assert entries["archive"] is False and entries["add_tags"] is False and entries["clone"] is False
                assert entries["details"] is True
                assert {k for k, on in entries.items() if on} <= VIEWING

                window.action_controller.open_details(draft)
                panel = window.details_controller.panel
                qtbot.waitUntil(lambda: panel.findChild(QLineEdit, "detailsName").text() == "draft run")
                assert panel.findChild(QLineEdit, "detailsName").isReadOnly()
                assert not panel.findChild(QToolButton, "detailsAddTag").isEnabled()
                assert not panel.findChild(QToolButton, "detailsEditDescription").isEnabled()
                for tab in ("execution", "configuration"):
                    panel.select_tab(tab)
                    qtbot.waitUntil(lambda: bool(_edit_buttons(panel.current_tab())))
                    assert not any(b.isEnabled() for b in _edit_buttons(panel.current_tab())), tab
                    reasons = [t.text() for t in panel.current_tab().findChildren(QLabel) if t.isVisibleTo(panel)]
                    assert any(text.startswith("The database is read-only") for text in reasons), tab

                # The Delete key archives; here it says why it did not.
                window.action_controller.delete_key()
                assert window.status_message.label.text() == "0 of 3 experiments archived"
            finally:
                window.shutdown()  # saves layout and geometry: kept for the session only
        assert listing(folder) == before
