"""The main window and the experiments table, driven as a person would (pytest-qt)."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from exptable_desktop.core import actions
from exptable_desktop.core import columns as C
from exptable_desktop.core.filters import RangeFilter, TagFilter, ValueSetFilter
from exptable_desktop.core.recording import create_experiment, record_batch
from exptable_desktop.ui.filter_popups import DateRangePopup, DurationRangePopup, NumberRangePopup, TagPopup, ValueSetPopup
from exptable_desktop.ui.roles import IdRole
from tests.table.conftest import reopen

ACC = C.metric_key("val", "accuracy", "last")


def shown_names(win):
    model = win.model
    col = model.column_of("name")
    return [model.index(r, col).data() for r in range(model.rowCount())]


def test_model_tester_on_table_and_project_tree(window, qtmodeltester):
    window.add_custom_columns([ACC, C.hyperparam_key("Args", "lr")])
    qtmodeltester.check(window.model)
    qtmodeltester.check(window.project_panel.model)


def test_widgets_have_their_object_names(window):
    for attr, name in (("table_view", "experimentsTable"), ("project_tree", "projectTree"),
                       ("search_box", "searchBox"), ("archive_toggle", "archiveToggle"),
                       ("auto_refresh_toggle", "autoRefreshToggle"), ("columns_button", "columnsButton"),
                       ("clear_filters_button", "clearFiltersButton"), ("details_dock", "detailsDock")):
        assert getattr(window, attr).objectName() == name
    assert set(window.view_mode_buttons) == {"table", "details", "comparison"}
    assert not window.details_dock.isVisible()


def test_value_set_filter_from_popup_marks_header_and_clear_button(window, qtbot):
    popup = window.open_filter_popup("status")
    assert isinstance(popup, ValueSetPopup)
    popup.set_checked("failed", True)
    qtbot.waitUntil(lambda: shown_names(window) == ["e-failed"])
    assert "status" in window.table_view.horizontalHeader().active_filters
    assert window.clear_filters_button.isVisible()
    window.clear_filters_button.click()
    qtbot.waitUntil(lambda: len(shown_names(window)) == 9)
    assert not window.clear_filters_button.isVisible()


def test_tag_popup_cycles_include_exclude_off(window, qtbot):
    popup = window.open_filter_popup("tags")
    assert isinstance(popup, TagPopup)
    item = popup.item_for("best")
    popup.cycle(item)
    assert popup.current_filter() == TagFilter("any", frozenset({"best"}))
    qtbot.waitUntil(lambda: sorted(shown_names(window)) == ["b-resnet", "c-vit", "h-late"])
    popup.cycle(item)
    assert popup.current_filter() == TagFilter("any", exclude=frozenset({"best"}))
    qtbot.waitUntil(lambda: "b-resnet" not in shown_names(window) and len(shown_names(window)) == 6)
    popup.cycle(item)
    qtbot.waitUntil(lambda: len(shown_names(window)) == 9)


def test_number_date_and_duration_range_popups(window, qtbot):
    window.add_custom_columns([ACC])
    popup = window.open_filter_popup(ACC)
    assert isinstance(popup, NumberRangePopup)
    popup.low.setText("0.8")
    popup.apply_now()
    qtbot.waitUntil(lambda: sorted(shown_names(window)) == ["b-resnet", "h-late"])
    popup.clear()
    window.set_filter("last_iteration", RangeFilter(4, 4))
    assert "d-untagged" not in shown_names(window) and "b-resnet" in shown_names(window)
    window.clear_filters()
    dates = window.open_filter_popup("started")
    assert isinstance(dates, DateRangePopup)
    dates.set_range(time.time() + 3600, None)
    dates.apply_now()
    qtbot.waitUntil(lambda: shown_names(window) == [])
    dates.clear()
    qtbot.waitUntil(lambda: len(shown_names(window)) == 9)
    durations = window.open_filter_popup("run_time")
    assert isinstance(durations, DurationRangePopup)
    durations.set_seconds(0, 0)
    durations.apply_now()
    started = {"a-baseline", "b-resnet", "c-vit", "e-failed", "g-sweep", "h-late", "z-nlp"}
    qtbot.waitUntil(lambda: set(shown_names(window)) == started)


def test_header_clicks_sort_descending_first_and_shift_adds_secondary(window):
    header = window.table_view.horizontalHeader()
    type_col = window.model.column_of("type")
    name_col = window.model.column_of("name")
    header.sig_sort_clicked.emit(type_col, False)
    assert window.model.table.sort == [("type", True)]
    header.sig_sort_clicked.emit(name_col, True)
    assert window.model.table.sort == [("type", True), ("name", True)]
    rows = [(window.model.index(r, type_col).data(), window.model.index(r, name_col).data())
            for r in range(window.model.rowCount())]
    assert rows == sorted(rows, key=lambda p: (p[0], p[1]), reverse=True)
    header.sig_sort_clicked.emit(type_col, False)
    assert window.model.table.sort == [("type", False)]


def test_layout_persists_per_project_across_reopening(window, qtbot, db_url):
    header = window.table_view.horizontalHeader()
    window.add_custom_columns([ACC])
    window.set_column_visible("user", False)
    window.set_column_visible("description", True)
    name_col = window.model.column_of("name")
    header.resizeSection(name_col, 411)
    header.moveSection(header.visualIndex(window.model.column_of("status")), 1)
    window.set_sort([(ACC, True), ("name", False)])
    window.set_filter("type", ValueSetFilter(frozenset({"training"})))
    window.set_precise(ACC, True)
    window.open_project(window.project_panel.model.items and
                        next(pid for pid, path in window.project_panel.model.paths.items() if path == "nlp"))
    assert window.model.column_of(ACC) < 0  # another project keeps its own layout
    window.open_project(None)
    again = reopen(qtbot, window, db_url)
    h = again.table_view.horizontalHeader()
    assert again.current_project_path() is None
    assert again.model.column_of(ACC) >= 0
    assert h.isSectionHidden(again.model.column_of("user"))
    assert not h.isSectionHidden(again.model.column_of("description"))
    assert h.sectionSize(again.model.column_of("name")) == 411
    assert h.visualIndex(again.model.column_of("status")) == 1
    assert again.model.table.sort == [(ACC, True), ("name", False)]
    assert again.model.table.filters["type"] == ValueSetFilter(frozenset({"training"}))
    assert ACC in again.model.precise
    assert shown_names(again)[0] == "b-resnet"


def test_flat_and_subproject_views_keep_separate_layouts(window, qtbot):
    vision = next(pid for pid, path in window.project_panel.model.paths.items() if path == "vision")
    window.open_project(vision, True)
    assert "b-resnet" in shown_names(window)
    assert not window.table_view.horizontalHeader().isSectionHidden(window.model.column_of("project"))
    window.set_column_visible("user", False)
    window._save_table_state()
    window.open_project(vision, False)
    assert "b-resnet" not in shown_names(window) and "a-baseline" in shown_names(window)
    header = window.table_view.horizontalHeader()
    assert header.isSectionHidden(window.model.column_of("project"))
    assert not header.isSectionHidden(window.model.column_of("user"))


def test_search_box_plain_and_regex(window, qtbot):
    window.search_box.setText("RESNET")
    qtbot.waitUntil(lambda: shown_names(window) == ["b-resnet"])
    window.regex_action.setChecked(True)
    window.search_box.setText("^(a|h)-")
    qtbot.waitUntil(lambda: sorted(shown_names(window)) == ["a-baseline", "h-late"])
    window.search_box.setText("(")
    assert window.search_box.property("invalid") is True
    assert sorted(shown_names(window)) == ["a-baseline", "h-late"]
    window.search_box.clear()
    qtbot.waitUntil(lambda: len(shown_names(window)) == 9)


def test_archive_mode_shows_only_archived_and_looks_different(window, qtbot, populated):
    actions.archive([populated["c-vit"]])
    window.refresh_now()
    assert "c-vit" not in shown_names(window)
    with qtbot.waitSignal(window.sig_archive_mode_changed) as blocker:
        window.archive_toggle.click()
    assert blocker.args == [True] and window.is_archive_mode()
    assert shown_names(window) == ["c-vit"]
    assert window.archive_banner.isVisible()
    assert window.table_view.property("archive") is True
    actions.restore([populated["c-vit"]])
    window.refresh_now()
    assert shown_names(window) == []
    window.archive_toggle.click()
    assert "c-vit" in shown_names(window) and not window.archive_banner.isVisible()


def test_refresh_keeps_checked_current_and_updates_in_place(window, qtbot, populated):
    window.set_sort([("name", False)])
    window.set_checked([populated["b-resnet"], populated["g-sweep"]], True)
    assert window.select_experiment(populated["e-failed"])
    changed = []
    window.model.dataChanged.connect(lambda a, b, roles=(): changed.append((a.row(), b.row())))
    actions.rename([populated["a-baseline"]], "zz-renamed")
    actions.archive([populated["d-untagged"]])
    record_batch(populated["h-late"], progress=90)
    new_id = create_experiment("vision", "c2-new", user="tester")
    window.refresh_now()
    names = shown_names(window)
    assert names[-1] == "zz-renamed" and "d-untagged" not in names and "c2-new" in names
    assert sorted(window.checked_ids()) == sorted([populated["b-resnet"], populated["g-sweep"]])
    assert window.current_experiment_id() == populated["e-failed"]
    model = window.model
    current = window.table_view.currentIndex()
    assert current.data(IdRole) == populated["e-failed"]
    check_col = model.column_of("check")
    checked_rows = [r for r in range(model.rowCount())
                    if model.index(r, check_col).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked]
    assert sorted(model.id_at(r) for r in checked_rows) == sorted(window.checked_ids())
    assert changed, "updated rows emit dataChanged"
    assert new_id in window.scope_ids()


def test_window_api(window, qtbot, populated, db_url):
    ids = window.visible_ids()
    assert len(ids) == 9 and set(ids) == set(window.scope_ids()) == set(window.filtered_ids())
    window.set_filter("type", ValueSetFilter(frozenset({"testing"})))
    assert window.visible_ids() == [populated["c-vit"]] == window.filtered_ids()
    assert len(window.scope_ids()) == 9
    info = window.rows_info([populated["b-resnet"]])[0]
    assert info["name"] == "b-resnet" and info["status"] == "completed" and info["type"] == "training"
    assert info["project"] == "vision/cnn" and info["tags"] == ["best", "resnet"] and info["archived"] is False
    assert info["last_iteration"] == 4 and info["user"] == "tester" and info["parent"] is None
    from exptable_desktop.store.schema import Experiment
    assert info["last_update"] == Experiment.get_by_id(populated["b-resnet"]).last_update
    with qtbot.waitSignal(window.sig_checked_changed):
        window.set_checked([populated["c-vit"]], True)
    window.clear_filters()
    assert window.checked_ids() == [populated["c-vit"]]
    window.clear_checked()
    assert window.checked_ids() == []
    with qtbot.waitSignal(window.sig_current_changed) as current:
        window.select_experiment(populated["g-sweep"])
    assert current.args == [populated["g-sweep"]]
    with qtbot.waitSignal(window.sig_view_mode_changed) as mode:
        window.set_view_mode("details")
    assert mode.args == ["details"] and window.view_mode() == "details"
    assert window.view_mode_buttons["details"].isChecked()
    activated, menus = [], []
    window.set_activate_handler(activated.append)
    window.set_row_context_menu_handler(lambda pos, exp_id: menus.append((pos, exp_id)))
    view = window.table_view
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert activated == [populated["g-sweep"]]
    row = window.model.row_of_id(populated["c-vit"])
    rect = view.visualRect(window.model.index(row, window.model.column_of("name")))
    from PySide6.QtGui import QContextMenuEvent
    from PySide6.QtWidgets import QApplication
    QApplication.sendEvent(view.viewport(), QContextMenuEvent(QContextMenuEvent.Reason.Mouse, rect.center(),
                                                               view.viewport().mapToGlobal(rect.center())))
    # The handler gets the screen position, where a menu it opens must appear.
    assert menus == [(view.viewport().mapToGlobal(rect.center()), populated["c-vit"])]
    undone = []
    window.show_message("3 of 3 experiments archived", undo=lambda: undone.append(1), details="none skipped")
    assert window.status_message.undo_button.isVisibleTo(window)
    window.status_message.undo_button.click()
    assert undone == [1]
    # Details mode hides the table area, the strip under it included.
    window.set_view_mode("table")
    strip = QLabel("batch bar")
    window.add_bottom_widget(strip)
    assert strip.isVisibleTo(window)
    vision = next(pid for pid, path in window.project_panel.model.paths.items() if path == "vision/cnn")
    window.open_project(vision)
    assert window.current_project_path() == "vision/cnn"
    assert window.db_url == db_url  # what custom actions and exptable:// links hand on


def test_metrics_and_hyperparameter_dialogs_add_and_remove_columns(window, qtbot):
    dialog = window.metrics_dialog()
    item = dialog.item("val", "accuracy")
    item.setCheckState(3, Qt.CheckState.Checked)
    dialog.search.setText("nothing-matches")
    assert dialog.tree.topLevelItem(0).isHidden()
    window._apply_dialog_choice(C.METRIC, dialog.selected_keys())
    key = C.metric_key("val", "accuracy", "max")
    col = window.model.column_of(key)
    assert col >= 0 and window.model.index(0, col).data() != ""
    hp = window.hyperparams_dialog()
    hp.item("Args", "optimizer").setCheckState(0, Qt.CheckState.Checked)
    window._apply_dialog_choice(C.HYPERPARAM, hp.selected_keys())
    hp_col = window.model.column_of(C.hyperparam_key("Args", "optimizer"))
    values = {window.model.index(r, hp_col).data() for r in range(window.model.rowCount())}
    assert values == {"adam", ""}
    window.remove_custom_column(key)
    assert window.model.column_of(key) < 0


def test_fit_column_measures_rows_on_screen(window):
    header = window.table_view.horizontalHeader()
    col = window.model.column_of("name")
    header.resizeSection(col, 500)
    header.sectionHandleDoubleClicked.emit(col)
    assert 60 < header.sectionSize(col) < 300
