"""The experiment menu: order, counts from the in-memory rows, and who it acts for."""
from __future__ import annotations

from PySide6.QtCore import QPoint

from exptable_desktop.core import states as st
from exptable_desktop.ui.actions.eligibility import eligibility

from actions_support import make_experiment


def menu_entries(menu):
    """[(label, enabled)] of the menu's entries, separators left out."""
    return [(a.text(), a.isEnabled()) for a in menu.actions() if not a.isSeparator()]


def mixed(window_factory):
    ids = {
        "draft1": make_experiment("draft one"),
        "draft2": make_experiment("draft two"),
        "running": make_experiment("running", st.RUNNING),
        "published": make_experiment("published", st.PUBLISHED),
    }
    window = window_factory("demo")
    return window, ids


def test_counts_for_a_mixed_selection(make_window):
    window, ids = mixed(make_window)
    window.set_checked(list(ids.values()), True)
    controller = window.action_controller

    controller.show_context_menu(QPoint(10, 10), ids["running"])
    entries = menu_entries(controller.last_menu)

    assert entries == [
        ("Details", True), ("View Full Screen", True), ("Manage Queue (0)", False), ("View Worker (0)", False),
        ("Archive (4)", True), ("Enqueue (2)", True), ("Retry (0)", False), ("Dequeue (0)", False),
        ("Reset (1)", True), ("Abort (1)", True), ("Abort All Children (0)", False), ("Publish (0)", False),
        ("Add Tag (4)", True), ("Clone (4)", True), ("Move to Project (4)", True), ("Compare (4)", True),
    ]
    tips = {a.objectName(): a.toolTip() for a in controller.last_menu.actions()}
    assert tips["action_enqueue"] == "Enqueue: applies to 2 of 4 selected"


def test_unchecked_row_acts_alone(make_window):
    window, ids = mixed(make_window)
    window.set_checked([ids["draft1"], ids["draft2"]], True)
    controller = window.action_controller

    controller.show_context_menu(QPoint(10, 10), ids["running"])
    entries = dict(menu_entries(controller.last_menu))
    assert entries["Abort (1)"] and entries["View Worker (1)"]
    assert entries["Enqueue (0)"] is False
    assert entries["Compare (0)"] is False  # one experiment cannot be compared
    assert window.checked_ids() == [ids["draft1"], ids["draft2"]]  # the checked set is left alone


def test_right_click_in_the_table_opens_the_menu(make_window, qtbot):
    window, ids = mixed(make_window)
    window.show()
    qtbot.waitExposed(window)
    rect = window.table_view.visualRect(window.row_index(ids["draft1"]))
    window.table_view.customContextMenuRequested.emit(rect.center())
    menu = window.action_controller.last_menu
    assert menu is not None and menu.isVisible()
    assert ("Enqueue (1)", True) in menu_entries(menu)
    menu.close()


def test_archive_mode_menu_has_restore_and_delete(make_window):
    window, ids = mixed(make_window)
    window.action_controller.run("archive", [ids["draft1"]])
    window.set_archive_mode(True)
    window.action_controller.build_menu([ids["draft1"]])
    entries = [label for label, _ in menu_entries(window.action_controller.last_menu)]
    assert entries[4:6] == ["Delete (1)", "Restore (1)"]
    assert not any(label.startswith("Archive") for label in entries)
    assert ("Enqueue (0)", False) in menu_entries(window.action_controller.last_menu)


def test_normal_mode_has_no_delete(make_window):
    window, ids = mixed(make_window)
    window.action_controller.build_menu(list(ids.values()))
    assert not any(label.startswith("Delete") for label, _ in menu_entries(window.action_controller.last_menu))


def test_single_pending_and_running_rows_offer_queue_and_worker():
    rows = [{"status": st.PENDING, "type": "training", "archived": False}]
    assert eligibility(rows).count("manage_queue") == 1
    assert eligibility(rows * 2).count("manage_queue") == 0  # exactly one experiment
    assert eligibility([{"status": st.RUNNING, "type": "training", "archived": False}]).count("view_worker") == 1


def test_menu_counts_come_from_memory_not_the_database(make_window, db):
    """Building the menu for 4 rows issues no SQL (the table's arrays answer)."""
    window, ids = mixed(make_window)
    window.set_checked(list(ids.values()), True)
    executed = []
    original = db.execute_sql

    def spy(sql, *args, **kwargs):
        executed.append(sql)
        return original(sql, *args, **kwargs)
    db.execute_sql = spy
    try:
        window.action_controller.build_menu(list(ids.values()))
    finally:
        db.execute_sql = original
    assert executed == []


def test_details_header_menu_factory_is_connected(make_window):
    """install_actions gives a details panel the same menu object."""
    from exptable_desktop.ui.actions import install_actions
    from PySide6.QtWidgets import QWidget

    class Panel(QWidget):
        factory = None

        def set_action_menu_factory(self, fn):
            self.factory = fn

    window = make_window("demo", install=False)
    exp_id = make_experiment("one")
    window.refresh_now()
    window.details_panel = Panel()
    install_actions(window)
    menu = window.details_panel.factory([exp_id])
    assert menu.objectName() == "experimentMenu"
    assert ("Enqueue (1)", True) in menu_entries(menu)


def test_details_opens_the_right_clicked_row_of_a_selection(make_window):
    window, ids = mixed(make_window)
    window.set_checked([ids["draft1"], ids["running"]], True)
    controller = window.action_controller
    controller.show_context_menu(QPoint(3, 3), ids["running"])
    details = next(a for a in controller.last_menu.actions() if a.objectName() == "action_details")
    controller.last_menu.close()
    details.trigger()
    assert window.view_mode() == "details" and window.current_experiment_id() == ids["running"]


def test_compare_takes_2_to_100():
    row = {"status": st.DRAFT, "type": "training", "archived": False}
    assert eligibility([row] * 100).count("compare") == 100
    many = eligibility([row] * 101)
    assert many.count("compare") == 0
    assert many.tooltip("compare") == "Compare: 100 or fewer experiments can be compared"
