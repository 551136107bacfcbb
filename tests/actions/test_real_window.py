"""install_actions on the real main window (exptable_desktop/ui/main_window.py)."""
from __future__ import annotations

import pytest
from actions_support import bulk_experiments, make_experiment
from PySide6.QtCore import Qt
from PySide6.QtGui import QContextMenuEvent

from exptable_desktop.core import states as st
from exptable_desktop.store.schema import Experiment

main_window = pytest.importorskip("exptable_desktop.ui.main_window")


@pytest.fixture
def real_window(db, db_url, qtbot):
    from exptable_desktop.ui.actions import install_actions

    def make():
        window = main_window.MainWindow(db_url)
        qtbot.addWidget(window)
        install_actions(window)
        window.resize(1300, 600)
        window.show()
        qtbot.waitExposed(window)
        return window
    return make


def right_click(window, exp_id):
    view = window.table_view
    row = view.model().row_of_id(exp_id)
    rect = view.visualRect(view.model().index(row, 2))
    event = QContextMenuEvent(QContextMenuEvent.Reason.Mouse, rect.center(), view.viewport().mapToGlobal(rect.center()))
    view.contextMenuEvent(event)
    return window.action_controller.last_menu


def test_context_menu_from_the_table(real_window, answers):
    draft1, draft2 = make_experiment("d1"), make_experiment("d2")
    running = make_experiment("r", st.RUNNING)
    published = make_experiment("p", st.PUBLISHED)
    window = real_window()
    window.set_checked([draft1, draft2, running, published], True)

    menu = right_click(window, running)
    labels = {a.objectName(): (a.text(), a.isEnabled()) for a in menu.actions() if a.objectName()}
    assert labels["action_enqueue"] == ("Enqueue (2)", True)
    assert labels["action_abort"] == ("Abort (1)", True)
    assert labels["action_publish"] == ("Publish (0)", False)
    assert labels["action_archive"] == ("Archive (4)", True)
    menu.close()

    next(a for a in menu.actions() if a.objectName() == "action_enqueue").trigger()
    statuses = dict(Experiment.select(Experiment.id, Experiment.status).tuples())
    assert statuses[draft1] == statuses[draft2] == st.PENDING
    assert statuses[running] == st.RUNNING and statuses[published] == st.PUBLISHED
    assert window.rows_info([draft1])[0]["status"] == st.PENDING  # the window refreshed


def test_header_box_bar_and_archive_undo(real_window, qtbot, answers):
    ids = [make_experiment(f"e{i}") for i in range(3)]
    window = real_window()
    control = window.action_controller.selection_control
    assert control.parent() is window.table_view.horizontalHeader() and control.isVisible()

    qtbot.mouseClick(control.checkbox, Qt.MouseButton.LeftButton)
    assert set(window.checked_ids()) == set(ids)
    bar = window.action_controller.batch_bar
    qtbot.waitUntil(bar.isVisible)

    qtbot.mouseClick(bar.buttons["archive"], Qt.MouseButton.LeftButton)
    assert Experiment.select().where(Experiment.archived).count() == 3
    assert window.visible_ids() == [] and window.checked_ids() == []
    qtbot.waitUntil(lambda: not bar.isVisible())
    status = window.status_message
    assert status.label.text() == "3 of 3 experiments archived" and status.undo_button.isVisible()
    qtbot.mouseClick(status.undo_button, Qt.MouseButton.LeftButton)
    assert Experiment.select().where(Experiment.archived).count() == 0
    assert set(window.visible_ids()) == set(ids)


def test_filtered_selection_on_10000_rows(real_window, qtbot):
    bulk_experiments(10_000)
    window = real_window()
    assert len(window.scope_ids()) == 10_000
    window.search_box.setText("exp-0007")
    qtbot.waitUntil(lambda: len(window.visible_ids()) == 10)  # exp-00070 … exp-00079
    control = window.action_controller.selection_control
    control.filtered_action.trigger()
    assert sorted(window.rows_info(window.checked_ids()), key=lambda r: r["name"])[0]["name"] == "exp-00070"
    assert len(window.checked_ids()) == 10
    control.all_action.trigger()
    assert len(window.checked_ids()) == 10_000


def test_space_and_ctrl_a_on_the_real_table(real_window, qtbot):
    ids = [make_experiment(f"e{i}") for i in range(3)]
    window = real_window()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    view = window.table_view
    view.setFocus()
    window.select_experiment(ids[0])
    qtbot.keyClick(view, Qt.Key.Key_Space)
    assert window.checked_ids() == [ids[0]]
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert set(window.checked_ids()) == set(ids)


def test_archive_mode_offers_restore_and_delete(real_window, qtbot, answers):
    from exptable_desktop.core import actions as core
    a, b = make_experiment("a"), make_experiment("b")
    core.archive([a, b])
    window = real_window()
    window.archive_toggle.click()
    assert window.is_archive_mode()
    qtbot.waitUntil(lambda: set(window.visible_ids()) == {a, b})
    window.set_checked([a, b], True)
    bar = window.action_controller.batch_bar
    qtbot.waitUntil(bar.isVisible)
    assert list(bar.buttons)[:3] == ["compare", "restore", "delete"]

    menu = right_click(window, a)
    names = [x.objectName() for x in menu.actions() if x.objectName()]
    assert names.index("action_delete") < names.index("action_restore") and "action_archive" not in names
    menu.close()

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.table_view.setFocus()
    qtbot.keyClick(window.table_view, Qt.Key.Key_Delete)
    assert answers.named("confirm")[-1][1][1] == "Delete"
    assert Experiment.select().count() == 0
    assert window.visible_ids() == [] and window.checked_ids() == []


def test_ctrl_and_shift_clicks_on_the_real_table(real_window, qtbot):
    ids = [make_experiment(f"e{i}") for i in range(5)]
    window = real_window()
    view = window.table_view
    order = window.visible_ids()
    name_column = view.model().column_of("name")

    def click(exp_id, mods=Qt.KeyboardModifier.NoModifier):
        rect = view.visualRect(view.model().index(view.model().row_of_id(exp_id), name_column))
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, mods, rect.center())

    click(order[0])
    assert window.checked_ids() == []
    click(order[2], Qt.KeyboardModifier.ShiftModifier)
    assert set(window.checked_ids()) == set(order[:3])
    click(order[1], Qt.KeyboardModifier.ControlModifier)
    assert set(window.checked_ids()) == {order[0], order[2]}

    check_column = view.model().column_of("check")
    rect = view.visualRect(view.model().index(view.model().row_of_id(order[4]), check_column))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, rect.center())
    assert set(window.checked_ids()) == {order[0], order[2], order[4]}  # the box toggled once, by the table
    assert sorted(ids) == sorted(order)


def test_show_only_selected_follows_the_table(real_window, qtbot):
    ids = [make_experiment(f"e{i}") for i in range(5)]
    window = real_window()
    window.set_checked(ids[:2], True)
    bar = window.action_controller.batch_bar
    qtbot.waitUntil(bar.isVisible)
    assert bar.show_only_button.isVisible()
    bar.show_only_button.click()
    assert window.is_show_only_checked()
    assert sorted(window.visible_ids()) == sorted(ids[:2])
    # A search cancels show-only in the table; the bar's button follows.
    window.search_box.setText("e")
    qtbot.waitUntil(lambda: not window.is_show_only_checked())
    qtbot.waitUntil(lambda: not bar.show_only_button.isChecked())


def test_batch_bar_recounts_after_a_refresh(real_window, qtbot):
    from exptable_desktop.core import recording

    exp_id = make_experiment("will run")
    window = real_window()
    window.set_checked([exp_id], True)
    bar = window.action_controller.batch_bar
    qtbot.waitUntil(lambda: bar.buttons["enqueue"].isEnabled())
    # The script starts elsewhere; the next refresh tick must grey Enqueue out.
    recording.set_status(exp_id, st.RUNNING)
    window.refresh_now()
    qtbot.waitUntil(lambda: not bar.buttons["enqueue"].isEnabled() and bar.buttons["abort"].isEnabled())


def test_batch_bar_never_widens_the_window(real_window, qtbot, answers):
    ids = [make_experiment(f"e{i}") for i in range(3)]
    window = real_window()
    # What the window needs without the bar (its top bar, the projects dock).
    needed = window.minimumSizeHint().width()
    window.set_checked(ids, True)
    bar = window.action_controller.batch_bar
    qtbot.waitUntil(bar.isVisible)
    window.resize(1000, 700)
    qtbot.waitUntil(lambda: window.width() <= max(1000, needed))
    assert window.minimumSizeHint().width() == needed

    # Every entry stays reachable: a button in view, or an entry of the ">>" menu.
    qtbot.waitUntil(lambda: bar.overflowed_keys() != [])
    overflowed = bar.overflowed_keys()
    for key, button in bar.buttons.items():
        assert button.isVisible() or key in overflowed, key
    assert overflowed[-1] == "move"  # the bar's last entry goes first
    assert bar.buttons["compare"].isVisible()
    menu_entry = next(a for a in bar.overflow_menu().actions() if a is bar.actions_by_key["move"])
    assert menu_entry.isEnabled()
    menu_entry.trigger()
    assert answers.named("ask_project")
    assert window.status_message.label.text().endswith("to moved/here")

    # Wide again: all the buttons come back into view.
    window.resize(1800, 700)
    qtbot.waitUntil(lambda: bar.overflowed_keys() == [] and all(b.isVisible() for b in bar.buttons.values()))
    window.clear_checked()
    qtbot.waitUntil(lambda: not bar.isVisible())
    window.resize(1000, 700)
    qtbot.waitUntil(lambda: window.width() <= max(1000, needed))


def test_row_menu_button_opens_the_rows_menu(real_window, qtbot):
    from PySide6.QtCore import QEvent, QPointF
    from PySide6.QtGui import QMouseEvent
    from PySide6.QtWidgets import QApplication

    draft = make_experiment("a draft")
    running = make_experiment("a running one", st.RUNNING)
    window = real_window()
    view = window.table_view
    row_menu = window.action_controller.row_menu
    assert row_menu.button.isHidden()
    name_cell = view.visualRect(view.model().index(view.model().row_of_id(running), view.model().column_of("name")))
    hover = QPointF(name_cell.center())
    move = QMouseEvent(QEvent.Type.MouseMove, hover, view.viewport().mapToGlobal(hover), Qt.MouseButton.NoButton,
                       Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    QApplication.sendEvent(view.viewport(), move)
    button = row_menu.button
    assert button.isVisible() and name_cell.contains(button.geometry())
    assert button.geometry().right() >= name_cell.right() - 2 * button.width()  # at the cell's right end

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    menu = window.action_controller.last_menu
    labels = {a.objectName(): (a.text(), a.isEnabled()) for a in menu.actions() if a.objectName()}
    assert labels["action_abort"] == ("Abort (1)", True)  # the hovered row alone: it is not checked
    assert labels["action_enqueue"] == ("Enqueue (0)", False)
    assert window.current_experiment_id() == running
    menu.close()

    window.set_checked([draft, running], True)  # a checked row's button acts on every checked row
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    menu = window.action_controller.last_menu
    labels = {a.objectName(): a.text() for a in menu.actions() if a.objectName()}
    assert labels["action_archive"] == "Archive (2)"
    menu.close()

    view.verticalScrollBar().valueChanged.emit(1)
    assert button.isHidden()
