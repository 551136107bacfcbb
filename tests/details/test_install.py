"""``install_details`` on the real main window: modes, dock, narrow list, selection, links."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTabWidget

from exptable_desktop.core import actions, recording
from exptable_desktop.ui.details import install_details
from exptable_desktop.ui import create_main_window
from exptable_desktop.ui.details.cards import ROLE_INFO


@pytest.fixture
def experiments(db):
    ids = []
    for n in range(5):
        ids.append(recording.create_experiment("proj", f"run {n}", tags=["nightly"] if n % 2 else ()))
    return ids


def open_window(qtbot, db_url, count):
    win = create_main_window(db_url)
    qtbot.addWidget(win)
    win.resize(1300, 800)
    win.show()
    qtbot.waitUntil(lambda: len(win.visible_ids()) == count, timeout=5000)
    return win


@pytest.fixture
def window(qtbot, db_url, experiments):
    return open_window(qtbot, db_url, len(experiments))


def test_details_mode_shows_the_dock_with_list_and_panel(window, qtbot, experiments):
    controller = install_details(window)
    panel = controller.panel
    assert window.details_dock.widget() is controller.splitter
    assert window.details_dock.isHidden()
    window.select_experiment(experiments[2])
    window.set_view_mode("details")
    assert window.details_dock.isVisible() and window.centralWidget().isHidden()
    assert panel.experiment_id == experiments[2]
    # The details take the room of the table, not the projects tree.
    qtbot.waitUntil(lambda: window.details_dock.width() > window.width() * 0.7, timeout=2000)
    assert controller.card_list.isVisible()
    assert controller.cards_model.ids() == window.visible_ids()
    card = controller.cards_model.index(controller.cards_model.row_of(experiments[1])).data(ROLE_INFO)
    assert card["name"] == "run 1" and card["tags"] == ["nightly"] and card["last_update"] is not None
    assert controller.card_list.currentIndex().row() == controller.cards_model.row_of(experiments[2])
    window.set_view_mode("table")
    assert window.details_dock.isHidden() and window.centralWidget().isVisible()


def test_selection_reaches_the_panel_debounced(window, qtbot, experiments):
    controller = install_details(window)
    window.set_view_mode("details")
    targets = [e for e in experiments if e != controller.panel.experiment_id]
    for exp_id in targets:  # moving quickly through the list
        window.select_experiment(exp_id)
    assert controller.selection_timer.isActive()
    shown = []
    controller.panel.header.show_header = lambda info, real=controller.panel.header.show_header: (
        shown.append(info and info["id"]), real(info))
    qtbot.waitUntil(lambda: controller.panel.experiment_id == targets[-1], timeout=3000)
    assert shown == [targets[-1]]  # one load, where the selection stopped


def test_activate_opens_details_and_cards_select_rows(window, qtbot, experiments):
    controller = install_details(window)
    window.table_view.activate_handler(experiments[3])  # what Enter or double-click on a row calls
    assert window.view_mode() == "details" and controller.panel.experiment_id == experiments[3]
    assert window.current_experiment_id() == experiments[3]
    row = controller.cards_model.row_of(experiments[0])
    controller.card_list.setCurrentIndex(controller.cards_model.index(row))
    assert window.current_experiment_id() == experiments[0]
    qtbot.waitUntil(lambda: controller.panel.experiment_id == experiments[0], timeout=3000)


def test_full_screen_hides_the_list_puts_tabs_left_and_returns(window, qtbot, experiments):
    controller = install_details(window)
    window.table_view.activate_handler(experiments[0])
    controller.panel.header.full_screen_button.click()
    assert controller.is_full_screen()
    assert controller.list_host.isHidden() and window.centralWidget().isHidden()
    assert controller.panel.tabs.tabPosition() == QTabWidget.TabPosition.West
    assert controller.panel.scalars_tab.sidebar.isVisibleTo(controller.panel.scalars_tab)
    controller.panel.header.full_screen_button.click()
    assert not controller.is_full_screen() and controller.list_host.isVisible()
    assert controller.panel.tabs.tabPosition() == QTabWidget.TabPosition.North
    controller.set_full_screen(True)
    window.set_view_mode("table")
    assert not controller.is_full_screen() and window.centralWidget().isVisible()
    assert window.details_dock.isHidden()


def test_back_button_returns_to_the_table(window, experiments):
    controller = install_details(window)
    window.table_view.activate_handler(experiments[0])
    controller.back_button.click()
    assert window.view_mode() == "table" and window.centralWidget().isVisible()


def test_closing_the_dock_returns_to_the_table_and_floating_shows_the_table(window, qtbot, experiments):
    controller = install_details(window)
    window.table_view.activate_handler(experiments[1])
    window.details_dock.setFloating(True)
    assert window.centralWidget().isVisible() and controller.list_host.isHidden()
    window.details_dock.setFloating(False)
    assert window.centralWidget().isHidden()
    window.details_dock.close()
    qtbot.waitUntil(lambda: window.view_mode() == "table", timeout=2000)
    window.set_view_mode("details")
    assert window.details_dock.isVisible()


def test_dock_place_is_remembered(qtbot, db_url, experiments):
    first = open_window(qtbot, db_url, len(experiments))
    install_details(first)
    first.set_view_mode("details")
    first.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, first.details_dock)
    first.close()  # the window saves its docks' places
    second = open_window(qtbot, db_url, len(experiments))
    controller = install_details(second)
    assert second.dockWidgetArea(second.details_dock) == Qt.DockWidgetArea.LeftDockWidgetArea
    second.set_view_mode("details")
    assert second.details_dock.widget() is controller.splitter and second.details_dock.isVisible()


def test_edits_refresh_the_table_and_links_select(window, qtbot, experiments):
    controller = install_details(window)
    child = actions.clone([experiments[0]]).created[experiments[0]]
    from exptable_desktop.store.schema import Experiment
    Experiment.update(parent=experiments[0]).where(Experiment.id == child).execute()
    window.refresh_now()
    qtbot.waitUntil(lambda: child in window.visible_ids(), timeout=5000)
    window.table_view.activate_handler(child)
    controller.panel.header.name_edit.setText("renamed child")
    controller.panel.header.commit_name()  # the table refreshes the row at once
    qtbot.waitUntil(lambda: window.rows_info([child])[0]["name"] == "renamed child", timeout=5000)
    assert window.status_message.label.text() == "Renamed"
    controller.panel.select_tab("INFO")
    controller.panel.info_tab.values["PARENT TASK"].linkActivated.emit(experiments[0])
    assert window.current_experiment_id() == experiments[0]
    assert controller.panel.experiment_id == experiments[0]


def test_card_list_follows_table_changes(window, qtbot, experiments, qtmodeltester):
    controller = install_details(window)
    window.table_view.activate_handler(experiments[0])
    qtmodeltester.check(controller.cards_model)
    actions.rename([experiments[4]], "renamed in table")
    changed = []
    controller.cards_model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row())))
    window.refresh_now()  # the table's model changes: the list reloads after a short debounce
    row = controller.cards_model.row_of(experiments[4])
    qtbot.waitUntil(lambda: controller.cards_model.index(row).data(Qt.ItemDataRole.DisplayRole)
                    == "renamed in table", timeout=3000)
    assert (row, row) in changed
    new = recording.create_experiment("proj", "brand new")
    window.refresh_now()
    qtbot.waitUntil(lambda: controller.cards_model.row_of(new) >= 0, timeout=3000)
    qtmodeltester.check(controller.cards_model)


def test_list_search_drives_the_table_search(window, qtbot, experiments):
    controller = install_details(window)
    window.table_view.activate_handler(experiments[0])
    controller.search_box.setText("run 3")
    controller.search_box.textEdited.emit("run 3")
    assert window.search_box.text() == "run 3"
    qtbot.waitUntil(lambda: controller.cards_model.ids() == [experiments[3]], timeout=5000)
    window.search_box.setText("")
    assert controller.search_box.text() == ""


def test_details_mode_without_a_selection_opens_the_first_row(window, experiments):
    controller = install_details(window)
    assert window.current_experiment_id() is None
    window.view_mode_buttons["details"].click()
    first = window.visible_ids()[0]
    assert window.current_experiment_id() == first and controller.panel.experiment_id == first
