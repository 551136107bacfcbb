"""Window API items asked for by the actions helper: show only checked, sig_refreshed, check_column."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from exptable_desktop.core import actions
from exptable_desktop.core import columns as C
from exptable_desktop.core.filters import ValueSetFilter
from exptable_desktop.core.recording import create_experiment, record_batch

ACC = C.metric_key("val", "accuracy", "last")


def test_show_only_checked_masks_rows_follows_unchecks_and_search_cancels_it(window, qtbot, populated):
    window.set_sort([("name", False)])
    picked = [populated["g-sweep"], populated["b-resnet"], populated["z-nlp"]]
    window.set_checked(picked, True)
    assert not window.is_show_only_checked()
    with qtbot.waitSignal(window.sig_show_only_checked_changed) as changed:
        window.set_show_only_checked(True)
    assert changed.args == [True] and window.is_show_only_checked()
    # Only the checked rows, still in the table's sort order; the model row count agrees.
    assert window.visible_ids() == [populated["b-resnet"], populated["g-sweep"], populated["z-nlp"]]
    assert window.model.rowCount() == 3
    # Filters still apply on top of it.
    window.set_filter("type", ValueSetFilter(frozenset({"training"})))
    assert window.visible_ids() == [populated["b-resnet"], populated["z-nlp"]]
    window.clear_filters()
    # Unchecking a row while showing only checked ones takes it out of the table.
    window.set_checked([populated["z-nlp"]], False)
    assert window.visible_ids() == [populated["b-resnet"], populated["g-sweep"]]
    # A refresh keeps the mask: a changed checked row stays, a new unchecked experiment stays out.
    actions.rename([populated["g-sweep"]], "g-renamed")
    create_experiment("vision", "new-one", user="tester")
    window.refresh_now()
    assert window.visible_ids() == [populated["b-resnet"], populated["g-sweep"]]
    # Searching cancels it; the checked set is untouched.
    with qtbot.waitSignal(window.sig_show_only_checked_changed) as changed:
        window.search_box.setText("b-res")
    assert changed.args == [False] and not window.is_show_only_checked()
    assert window.visible_ids() == [populated["b-resnet"]]
    window.search_box.clear()
    assert len(window.visible_ids()) == 10
    assert sorted(window.checked_ids()) == sorted([populated["b-resnet"], populated["g-sweep"]])
    window.set_show_only_checked(True)
    window.set_show_only_checked(False)
    assert len(window.visible_ids()) == 10


@pytest.mark.both_backends
def test_sig_refreshed_after_synchronous_and_background_ticks(window, qtbot, populated):
    window.add_custom_columns([ACC])
    with qtbot.waitSignal(window.sig_refreshed, timeout=5000):
        window.refresh_now()
    # The timer's path: the read happens on a worker thread, the apply on the UI thread, then the signal.
    record_batch(populated["c-vit"], scalars=[("val", "accuracy", 9, 0.123, 0.0)], progress=95)
    actions.rename([populated["h-late"]], "h-renamed")
    with qtbot.waitSignal(window.sig_refreshed, timeout=10000):
        window.refresh_in_background()
    info = window.rows_info([populated["h-late"]])[0]
    assert info["name"] == "h-renamed"
    model = window.model
    row = model.row_of_id(populated["c-vit"])
    assert model.index(row, model.column_of(ACC)).data() == "0.123"
    assert window.last_refresh_apply_seconds > 0


def test_background_fetch_started_before_a_scope_change_is_dropped(window, qtbot, populated):
    refreshed = []
    window.sig_refreshed.connect(lambda: refreshed.append(1))
    window.refresh_in_background()
    vision = next(pid for pid, path in window.project_panel.model.paths.items() if path == "vision/cnn")
    window.open_project(vision, False)
    window._stop_fetcher(wait=True)
    qtbot.wait(50)
    assert refreshed == []
    assert set(window.scope_ids()) == {populated["b-resnet"], populated["e-failed"]}


def test_check_column_is_the_checkbox_column(window, populated):
    column = window.check_column()
    model = window.model
    assert model.specs[column].kind == C.CHECK
    window.set_checked([populated["c-vit"]], True)
    row = model.row_of_id(populated["c-vit"])
    assert model.index(row, column).data(Qt.ItemDataRole.CheckStateRole) == Qt.CheckState.Checked
    assert model.index(row, model.column_of("name")).data(Qt.ItemDataRole.CheckStateRole) is None
    # Reordering the header moves the section on screen, not the model column.
    header = window.table_view.horizontalHeader()
    header.moveSection(header.visualIndex(column), 3)
    assert window.check_column() == column
