"""Checking rows: header box, All / None / Filtered, clicks with modifiers, keyboard, batch bar."""
from __future__ import annotations

from actions_support import bulk_experiments, make_experiment
from PySide6.QtCore import Qt

from exptable_desktop.core import actions as core
from exptable_desktop.core import states as st
from exptable_desktop.store.schema import Experiment


def test_filtered_selection_of_10000_experiments(make_window, qtbot):
    ids = bulk_experiments(10_000)
    window = make_window("big")
    control = window.action_controller.selection_control
    window.set_filter("7")
    expected = {i for i, n in zip(ids, (f"exp-{k:05d}" for k in range(10_000))) if "7" in n}
    assert len(expected) == 3439  # every name with a 7 among its five digits
    assert len(window.visible_ids()) == len(expected)

    control.filtered_action.trigger()
    assert set(window.checked_ids()) == expected
    qtbot.waitUntil(lambda: control.checkbox.checkState() == Qt.CheckState.Checked)
    bar = window.action_controller.batch_bar
    qtbot.waitUntil(lambda: bar.count_label.text() == "3,439 selected")
    assert bar.buttons["enqueue"].toolTip() == "Enqueue: applies to 3439 of 3439 selected"

    control.none_action.trigger()
    assert window.checked_ids() == []
    control.all_action.trigger()
    assert len(window.checked_ids()) == 10_000  # the whole project, filter or not


def test_header_box_is_tristate_over_visible_rows(make_window, qtbot):
    a, b, c = (make_experiment(n) for n in ("a1", "a2", "b1"))
    window = make_window("demo")
    window.show()
    qtbot.waitExposed(window)
    control = window.action_controller.selection_control
    assert control.isVisible() and control.checkbox.width() > 10
    window.set_filter("a")
    window.set_checked([a], True)
    qtbot.waitUntil(lambda: control.checkbox.checkState() == Qt.CheckState.PartiallyChecked)

    qtbot.mouseClick(control.checkbox, Qt.MouseButton.LeftButton)
    assert set(window.checked_ids()) == {a, b}  # the visible rows, not the filtered-out one
    assert control.checkbox.checkState() == Qt.CheckState.Checked

    qtbot.mouseClick(control.checkbox, Qt.MouseButton.LeftButton)
    assert window.checked_ids() == []
    assert control.checkbox.checkState() == Qt.CheckState.Unchecked


def test_ctrl_and_shift_clicks(make_window, qtbot):
    ids = [make_experiment(f"exp {i}") for i in range(6)]
    window = make_window("demo")
    window.show()
    qtbot.waitExposed(window)
    view = window.table_view

    def click(exp_id, mods=Qt.KeyboardModifier.NoModifier):
        rect = view.visualRect(window.row_index(exp_id))
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, mods, rect.center())

    click(ids[1])
    assert window.checked_ids() == []  # a plain click only moves the current row
    click(ids[4], Qt.KeyboardModifier.ShiftModifier)
    assert window.checked_ids() == ids[1:5]
    click(ids[2], Qt.KeyboardModifier.ControlModifier)
    assert window.checked_ids() == [ids[1], ids[3], ids[4]]
    click(ids[0], Qt.KeyboardModifier.ControlModifier)
    assert set(window.checked_ids()) == {ids[0], ids[1], ids[3], ids[4]}


def test_keyboard(make_window, qtbot, answers):
    ids = [make_experiment(f"exp {i}") for i in range(3)]
    window = make_window("demo")
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # shortcuts fire only in the active window
    view = window.table_view
    view.setFocus()
    window.select_experiment(ids[1])

    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert set(window.checked_ids()) == set(ids)

    refreshes = window.refresh_count
    qtbot.keyClick(view, Qt.Key.Key_F5)
    assert window.refresh_count == refreshes + 1

    window.clear_checked()
    window.set_checked([ids[0]], True)
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert Experiment.get_by_id(ids[0]).archived  # Delete archives outside the archive
    assert answers.named("confirm") == []

    window.set_archive_mode(True)
    view.setFocus()
    window.select_experiment(ids[0])
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert answers.named("confirm")[-1][1][1] == "Delete"  # in the archive: delete, after confirmation
    assert not Experiment.select().where(Experiment.id == ids[0]).exists()


def test_enter_opens_details_through_the_activate_handler(make_window):
    exp = make_experiment("x")
    window = make_window("demo")
    window.activate_handler(exp)
    assert window.view_mode() == "details" and window.current_experiment_id() == exp


def test_batch_bar_follows_the_checked_rows(make_window, qtbot, answers):
    draft = make_experiment("draft")
    running = make_experiment("running", st.RUNNING)
    window = make_window("demo")
    window.show()
    bar = window.action_controller.batch_bar
    assert bar.objectName() == "batchActionBar" and not bar.isVisible()

    window.set_checked([draft, running], True)
    qtbot.waitUntil(bar.isVisible)
    order = [k for k in bar.buttons]
    assert order == ["compare", "archive", "enqueue", "retry", "dequeue", "reset", "abort", "abort_children",
                     "publish", "add_tags", "move"]
    assert bar.buttons["abort"].toolTip() == "Abort: applies to 1 of 2 selected"
    assert bar.buttons["abort"].isEnabled() and not bar.buttons["retry"].isEnabled()
    assert bar.buttons["compare"].isEnabled()

    qtbot.mouseClick(bar.buttons["enqueue"], Qt.MouseButton.LeftButton)
    assert Experiment.get_by_id(draft).status == st.PENDING
    qtbot.waitUntil(lambda: not bar.buttons["enqueue"].isEnabled())  # counts follow the new states

    window.clear_checked()
    qtbot.waitUntil(lambda: not bar.isVisible())


def test_batch_bar_in_the_archive(make_window, qtbot):
    a = make_experiment("a")
    core.archive([a])
    window = make_window("demo")
    window.show()
    window.set_archive_mode(True)
    window.set_checked([a], True)
    bar = window.action_controller.batch_bar
    qtbot.waitUntil(bar.isVisible)
    assert list(bar.buttons)[:3] == ["compare", "restore", "delete"]
    assert bar.buttons["delete"].isEnabled() and bar.buttons["restore"].isEnabled()


def test_show_only_selected(make_window, qtbot):
    ids = [make_experiment(f"exp {i}") for i in range(4)]
    window = make_window("demo")
    window.show()
    window.set_checked(ids[:2], True)
    bar = window.action_controller.batch_bar
    qtbot.waitUntil(bar.isVisible)
    assert bar.show_only_button.text() == "Show only 2 selected"
    qtbot.mouseClick(bar.show_only_button, Qt.MouseButton.LeftButton)
    assert window.visible_ids() == ids[:2]
    assert bar.show_only_button.text() == "Show all"
    qtbot.mouseClick(bar.show_only_button, Qt.MouseButton.LeftButton)
    assert window.visible_ids() == ids
