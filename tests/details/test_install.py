"""``install_details`` on the real main window: modes, dock, narrow list, selection, links."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QToolButton

from exptable_desktop.core import actions, recording
from exptable_desktop.ui.details import install_details
from exptable_desktop.ui.details.install import LIST_WIDTH
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


def test_details_mode_shows_the_list_and_the_panel_in_the_details_dock(window, qtbot, experiments):
    controller = install_details(window)
    panel = controller.panel
    dock = window.findChild(type(window.details_dock), "detailsDock")
    assert dock is window.details_dock and dock.isHidden() and controller.list_host.isHidden()
    window.select_experiment(experiments[2])
    window.set_view_mode("details")
    assert panel.experiment_id == experiments[2]
    # The panel is in the docked details dock, beside the list that took the table's place;
    # the top bar and the bottom strip (batch bar) stay.
    assert dock.isVisible() and not dock.isFloating() and dock.widget() is panel
    assert window.dockWidgetArea(dock) == Qt.DockWidgetArea.RightDockWidgetArea
    assert dock.width() > window.width() // 3
    assert window.table_view.isHidden() and controller.list_host.isVisible()
    for widget in (window.search_box, window.archive_toggle, window.auto_refresh_toggle, window.columns_button,
                   *window.view_mode_buttons.values()):
        assert widget.isVisible(), widget.objectName()
    window.set_checked(experiments[:2], True)
    bar = window.action_controller.batch_bar
    qtbot.waitUntil(bar.isVisible)
    assert bar.mapTo(window, bar.rect().topLeft()).y() > controller.card_list.mapTo(
        window, controller.card_list.rect().topLeft()).y()
    assert controller.card_list.isVisible()
    assert controller.cards_model.ids() == window.visible_ids()
    card = controller.cards_model.index(controller.cards_model.row_of(experiments[1]), 0).data(ROLE_INFO)
    assert card["name"] == "run 1" and card["tags"] == ["nightly"] and card["last_update"] is not None
    assert controller.card_list.currentIndex().row() == controller.cards_model.row_of(experiments[2])
    window.search_box.setText("run 1")  # the top bar's search narrows the list
    qtbot.waitUntil(lambda: controller.cards_model.ids() == [experiments[1]], timeout=5000)
    window.search_box.setText("")
    qtbot.waitUntil(lambda: controller.cards_model.ids() == window.visible_ids(), timeout=5000)
    window.set_view_mode("table")
    assert window.table_view.isVisible() and controller.list_host.isHidden() and dock.isHidden()


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
    controller.card_list.setCurrentIndex(controller.cards_model.index(row, 0))
    assert window.current_experiment_id() == experiments[0]
    qtbot.waitUntil(lambda: controller.panel.experiment_id == experiments[0], timeout=3000)


def test_full_screen_hides_the_list_and_projects_lists_tabs_left_and_returns(window, qtbot, experiments):
    controller = install_details(window)
    projects = window.projects_dock
    assert projects.isVisible()
    window.table_view.activate_handler(experiments[0])
    assert projects.isHidden()  # Details mode gives the projects' room to the panel
    controller.panel.header.full_screen_button.click()
    assert controller.is_full_screen()
    assert controller.list_host.isHidden() and window.centralWidget().isHidden() and projects.isHidden()
    assert window.details_dock.isVisible()
    navigation = controller.panel.tab_list
    assert navigation.isVisible() and controller.panel.tabs.tabBar().isHidden()
    assert [navigation.item(i).text() for i in range(navigation.count())] == [
        t.title for t in controller.panel.all_tabs()]
    assert controller.panel.scalars_tab.sidebar.isVisibleTo(controller.panel.scalars_tab)
    navigation.setCurrentRow(4)
    assert controller.panel.current_tab() is controller.panel.console_tab
    from exptable_desktop.core import details as data
    assert data.load_preference("details.last_tab") == "CONSOLE"  # the same last-tab memory
    controller.panel.select_tab("INFO")
    assert navigation.currentRow() == 3
    controller.panel.header.full_screen_button.click()
    # Still in Details mode: the projects stay aside until the table comes back.
    assert not controller.is_full_screen() and controller.list_host.isVisible() and projects.isHidden()
    assert window.centralWidget().isVisible()
    assert navigation.isHidden() and controller.panel.tabs.tabBar().isVisible()
    controller.set_full_screen(True)
    window.set_view_mode("table")
    assert not controller.is_full_screen() and window.table_view.isVisible() and projects.isVisible()
    assert window.details_dock.isHidden() and window.centralWidget().isVisible()


def test_back_button_returns_to_the_table(window, experiments):
    controller = install_details(window)
    window.table_view.activate_handler(experiments[0])
    controller.back_button.click()
    assert window.view_mode() == "table" and window.centralWidget().isVisible()


def test_pop_out_shows_the_table_docking_puts_back_and_closing_returns(window, qtbot, experiments):
    controller = install_details(window)
    window.table_view.activate_handler(experiments[1])
    controller.pop_out_button.click()
    dock = window.details_dock
    assert dock.isVisible() and dock.isFloating() and dock.widget() is controller.panel
    assert window.table_view.isVisible() and controller.list_host.isHidden()
    assert controller.panel.experiment_id == experiments[1]
    dock.setFloating(False)  # the person docks it again
    qtbot.waitUntil(lambda: controller.list_host.isVisible(), timeout=2000)
    assert dock.isVisible() and not controller.is_popped_out() and window.table_view.isHidden()
    controller.pop_out_button.click()
    dock.close()
    qtbot.waitUntil(lambda: window.view_mode() == "table", timeout=2000)
    window.set_view_mode("details")
    assert dock.isVisible() and controller.is_popped_out()


def test_popped_out_place_is_remembered(qtbot, db_url, experiments):
    first = open_window(qtbot, db_url, len(experiments))
    first.set_view_mode("details")
    install_details(first).pop_out_button.click()
    first.close()  # the window saves its docks' places
    second = open_window(qtbot, db_url, len(experiments))
    controller = install_details(second)
    assert controller.is_popped_out()
    second.set_view_mode("details")
    dock = second.details_dock
    assert dock.widget() is controller.panel and dock.isVisible() and dock.isFloating()


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
    qtbot.waitUntil(lambda: controller.cards_model.index(row, 0).data(Qt.ItemDataRole.DisplayRole)
                    == "renamed in table", timeout=3000)
    assert (row, row) in changed
    new = recording.create_experiment("proj", "brand new")
    window.refresh_now()
    qtbot.waitUntil(lambda: controller.cards_model.row_of(new) >= 0, timeout=3000)
    qtmodeltester.check(controller.cards_model)


def test_details_mode_without_a_selection_opens_the_first_row(window, experiments):
    controller = install_details(window)
    assert window.current_experiment_id() is None
    window.view_mode_buttons["details"].click()
    first = window.visible_ids()[0]
    assert window.current_experiment_id() == first and controller.panel.experiment_id == first


def _tabs_all_in_view(panel) -> bool:
    bar = panel.tabs.tabBar()
    scroll_buttons = [b for b in bar.findChildren(QToolButton) if b.isVisible()]
    return not scroll_buttons and all(bar.rect().contains(bar.tabRect(i)) for i in range(bar.count()))


def test_details_mode_at_the_default_size_gives_the_panel_the_room(window, qtbot, experiments):
    controller = install_details(window)
    window.resize(1400, 820)
    qtbot.waitUntil(lambda: window.width() == 1400)
    projects = window.projects_dock
    assert projects.isVisible()
    window.select_experiment(experiments[0])
    window.set_view_mode("details")
    qtbot.waitUntil(lambda: controller.panel.experiment_id == experiments[0])
    # The projects step aside; the list is narrow and the panel has the rest, every tab in view.
    assert projects.isHidden()
    assert controller.list_host.isVisible() and controller.list_host.width() <= LIST_WIDTH + 10
    assert window.details_dock.width() >= 900
    assert _tabs_all_in_view(controller.panel)
    window.set_view_mode("table")
    assert projects.isVisible() and window.table_view.isVisible() and window.details_dock.isHidden()
    # Popped out, the whole table is back, and with it the projects.
    window.set_view_mode("details")
    assert projects.isHidden()
    controller.pop_out_button.click()
    assert projects.isVisible() and window.table_view.isVisible()
    controller.pop_out_button.click()
    qtbot.waitUntil(lambda: controller.list_host.isVisible(), timeout=2000)
    assert projects.isHidden()


def test_the_list_keeps_the_width_the_person_gave_it(window, qtbot, experiments):
    controller = install_details(window)
    window.resize(1400, 820)
    window.set_view_mode("details")
    window.resizeDocks([window.details_dock], [800], Qt.Orientation.Horizontal)  # the splitter dragged
    qtbot.waitUntil(lambda: controller.list_host.width() > LIST_WIDTH + 100)
    dragged = controller.list_host.width()
    window.set_view_mode("table")
    window.set_view_mode("details")
    qtbot.waitUntil(lambda: controller.list_host.width() == dragged, timeout=2000)


def test_a_window_closed_in_details_mode_opens_on_the_table_beside_the_projects(qtbot, db_url, experiments):
    first = open_window(qtbot, db_url, len(experiments))
    first.set_view_mode("details")
    assert first.projects_dock.isHidden()
    first.close()  # the window saves its docks as they are: the projects hidden
    second = open_window(qtbot, db_url, len(experiments))
    install_details(second)
    assert second.view_mode() == "table" and second.projects_dock.isVisible()
    assert second.details_dock.isHidden()


def test_a_search_nothing_matches_says_so_over_the_card_list(window, qtbot, experiments):
    controller = install_details(window)
    window.set_view_mode("details")
    message = controller.card_list_empty_state
    assert controller.list_host.isVisible() and not message.isVisible()
    window.search_box.setText("no-such-experiment")
    qtbot.waitUntil(lambda: controller.cards_model.rowCount() == 0)
    # What the table says, over the list's rows, with the same button.
    table_message = window.table_empty_state.view
    assert message.isVisible() and message.geometry() == controller.card_list.viewport().geometry()
    assert message.title() == table_message.title() == "No experiments match"
    assert message.body() == table_message.body() and "“no-such-experiment”" in message.body()
    assert message.action_button.isVisible() and message.action_button.text() == "Clear search and filters"
    message.action_button.click()
    assert window.search_box.text() == ""
    qtbot.waitUntil(lambda: controller.cards_model.rowCount() == len(experiments))
    assert not message.isVisible()
