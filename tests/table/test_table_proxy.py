"""The design card's models: a source model of the table's slots in storage order and a proxy that
orders and filters them through core; Qt's model testers on both, sort through ``sort()``,
refreshes with exact row signals, the details card list over the same source, checked rows tinted."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, QModelIndex, QPoint, Qt
from PySide6.QtTest import QTest
from pytestqt.modeltest import ModelTester

from exptable_desktop.core import actions
from exptable_desktop.core import columns as C
from exptable_desktop.core.filters import SearchQuery, ValueSetFilter
from exptable_desktop.core.recording import create_experiment
from exptable_desktop.core.stars import STAR_KEY
from exptable_desktop.core.experiment_table import CustomColumnData, ExperimentTable
from exptable_desktop.store.bulk import Scope
from exptable_desktop.ui.roles import IdRole
from exptable_desktop.ui.table_model import CHECKED_ROW_TINT, ExperimentTableModel
from exptable_desktop.ui.table_proxy import ExperimentTableProxy
from tests.table.test_issue9_correctness import base_row, change_set

# Qt's own tester reports a broken model contract as a warning: here every warning fails the test.
pytestmark = [pytest.mark.qt_log_level_fail("WARNING"),
              pytest.mark.qt_log_ignore(r"This plugin does not support")]

SCOPE = Scope(None, False)
# Rows of the tables the testers walk at every signal (each walk reads every cell).
N = 60
STATUSES = ("completed", "failed", "in_progress", "queued")


def make_table(n: int) -> ExperimentTable:
    table = ExperimentTable(n + 16)
    table.write_base_rows([base_row(i, name=f"run-{(i * 37) % n:04d}", status=STATUSES[i % 4]) for i in range(n)])
    table.recompute_mask()
    table.resort()
    return table


def attach_testers(model, python: bool = False) -> ModelTester | None:
    """Qt's C++ tester on ``model`` (what ``qtmodeltester.check`` runs; pytest-qt fails the test on its
    reports), kept for the model's life; with ``python``, pytest-qt's Python tester too (it raises; it
    also reads every cell at every signal, so it gets the small tables)."""
    from PySide6.QtTest import QAbstractItemModelTester

    model._qt_tester = QAbstractItemModelTester(model, QAbstractItemModelTester.FailureReportingMode.Warning)
    if not python:
        return None
    tester = ModelTester(None)
    tester.check(model, force_py=True)
    return tester


def assert_consistent(source: ExperimentTableModel, proxy: ExperimentTableProxy) -> None:
    table = source.table
    assert source.slots.tolist() == np.flatnonzero(table.alive[:table.n]).tolist()
    assert proxy.order.tolist() == table.order.tolist()
    ids = [proxy.index(row, 0).data(IdRole) for row in range(proxy.rowCount())]
    assert ids == table.ids[table.order].tolist()
    for row in range(0, proxy.rowCount(), max(1, proxy.rowCount() // 7)):
        index = proxy.index(row, 2)
        mapped = proxy.mapToSource(index)
        assert mapped.data(IdRole) == index.data(IdRole) and proxy.mapFromSource(mapped) == index


def _models(python: bool):
    source = ExperimentTableModel()
    proxy = ExperimentTableProxy(source)
    # Attached before anything happens to them.
    testers = [attach_testers(source, python), attach_testers(proxy, python)]
    yield source, proxy
    del testers


@pytest.fixture
def models(qapp):
    yield from _models(python=False)


@pytest.fixture
def models_both_testers(qapp):
    yield from _models(python=True)


def test_model_testers_follow_source_and_proxy_through_sort_filter_search_and_refresh(models, monkeypatch):
    from exptable_desktop.ui import table_model

    monkeypatch.setattr(table_model, "MAX_RUNS", 8)  # both ways of moving rows, on a small table
    source, proxy = models
    resets = []
    for model in (source, proxy):
        model.modelReset.connect(lambda m=model: resets.append(m))
    source.set_table(make_table(N))
    assert (resets.count(source), resets.count(proxy)) == (1, 1) and proxy.rowCount() == source.rowCount() == N
    assert_consistent(source, proxy)

    proxy.sort(proxy.column_of("name"), Qt.SortOrder.AscendingOrder)
    assert proxy.table.sort == [("name", False)]
    names = [proxy.index(r, proxy.column_of("name")).data() for r in range(proxy.rowCount())]
    assert names == sorted(names)
    proxy.set_sort([("status", False), ("name", True)])
    assert_consistent(source, proxy)
    proxy.set_filter("status", ValueSetFilter(frozenset({"completed", "failed"})))
    assert proxy.rowCount() == N // 2
    proxy.set_search(SearchQuery("run-001"))
    assert_consistent(source, proxy)
    assert 0 < proxy.rowCount() < N // 2
    proxy.set_search(None)
    proxy.clear_filters()
    assert proxy.rowCount() == N
    assert_consistent(source, proxy)

    # A refresh: rows removed, rows inserted, rows whose sort key moved them, rows edited in place.
    proxy.set_sort([("last_update", True)])
    table = source.table
    moved = [base_row(i, name=f"run-{(i * 37) % N:04d}", status=STATUSES[i % 4], last_update=5000.0 + i)
             for i in (3, 30, 50)]
    new = [base_row(1000 + i, status="queued", last_update=100.5 + i) for i in range(3)]
    gone = [table.ids[s] for s in (0, 1, 2, 37)]
    source_signals, proxy_signals = [], []
    for model, seen in ((source, source_signals), (proxy, proxy_signals)):
        model.rowsInserted.connect(lambda _p, a, b, seen=seen: seen.append(("inserted", a, b)))
        model.rowsRemoved.connect(lambda _p, a, b, seen=seen: seen.append(("removed", a, b)))
        model.layoutChanged.connect(lambda *_a, seen=seen: seen.append(("layout",)))
    result = source.apply_changes(change_set(moved + new, deleted=gone), SCOPE)
    assert len(result.inserted) == 3 and len(result.removed) == 4 and len(result.updated) == 3
    assert_consistent(source, proxy)
    assert ("inserted", N - 4, N - 4 + 2) in source_signals and ("removed", 0, 2) in source_signals
    assert ("layout",) not in source_signals  # storage order: nothing in the source moves
    assert ("layout",) in proxy_signals and any(s[0] == "inserted" for s in proxy_signals)
    assert any(s[0] == "removed" for s in proxy_signals)
    assert (resets.count(source), resets.count(proxy)) == (1, 1)  # a refresh never resets
    top = [proxy.index(r, 0).data(IdRole) for r in range(3)]
    assert top == [table.ids[s] for s in (50, 30, 3)]

    # Removals all over the table: one layout change instead of a signal per run.
    scattered = [table.ids[s] for s in range(10, N, 2)]
    assert len(scattered) > table_model.MAX_RUNS
    del source_signals[:], proxy_signals[:]
    source.apply_changes(change_set([], deleted=scattered), SCOPE)
    assert_consistent(source, proxy)
    assert source_signals == proxy_signals == [("layout",)]
    assert (resets.count(source), resets.count(proxy)) == (1, 1)

    # Columns come and go on both; the sort and filter of a dropped column go with it.
    key = C.metric_key("val", "loss", "last")
    col = proxy.add_column(key)
    assert proxy.columnCount() == source.columnCount() == col + 1
    live = source.slots
    source.install_column_data(CustomColumnData(key, live, metric_values=live.astype(float)))
    proxy.set_sort([(key, False)])
    assert_consistent(source, proxy)
    proxy.remove_column(key)
    assert proxy.columnCount() == source.columnCount() == col
    assert_consistent(source, proxy)

    # Checking, through the proxy's setData and the window's set_checked.
    check = proxy.column_of("check")
    assert proxy.setData(proxy.index(4, check), Qt.CheckState.Checked, Qt.ItemDataRole.CheckStateRole)
    assert proxy.checked == {proxy.index(4, 0).data(IdRole)}
    proxy.set_checked([proxy.id_at(5), proxy.id_at(6)], True)
    proxy.set_show_only_checked(True)
    assert proxy.rowCount() == 3
    proxy.set_checked([proxy.id_at(0)], False)  # leaves the table at once
    assert proxy.rowCount() == 2
    assert_consistent(source, proxy)

    source.set_table(make_table(50))
    assert (resets.count(source), resets.count(proxy)) == (2, 2)
    assert_consistent(source, proxy)


def test_the_model_testers_catch_a_broken_proxy(models_both_testers, qtbot, qtlog):
    """The harness above can fail: a proxy whose insert signal under-counts its new rows is reported."""
    from PySide6.QtCore import qInstallMessageHandler

    source, proxy = models_both_testers
    source.set_table(make_table(20))
    proxy.set_search(SearchQuery("run-0001"))
    assert proxy.rowCount() == 1
    reports = []
    with qtlog.disabled(), qtbot.capture_exceptions() as exceptions:
        previous = qInstallMessageHandler(lambda _kind, context, message: reports.append((context.category, message)))
        try:
            proxy.table.set_search(None)
            proxy.beginInsertRows(QModelIndex(), 0, 0)  # says one row, brings nineteen
            proxy._store_order(proxy.table.order.copy())
            proxy.endInsertRows()
        finally:
            qInstallMessageHandler(previous)
    assert any(issubclass(kind, AssertionError) for kind, _value, _tb in exceptions)  # pytest-qt's tester
    assert any(category == "qt.modeltest" and "FAIL" in message for category, message in reports)  # Qt's


def test_refresh_emits_one_data_changed_per_contiguous_run_of_rows(models):
    source, proxy = models
    source.set_table(make_table(100))
    proxy.set_sort([("name", False)])
    table = source.table
    by_row = [proxy.slot_of_row(r) for r in range(proxy.rowCount())]
    edited = [by_row[r] for r in (10, 11, 12, 13, 40)]
    rows = [base_row(s, name=table.text["name"][s], status=STATUSES[s % 4], description="edited") for s in edited]
    runs = []
    proxy.dataChanged.connect(lambda a, b, *_r: runs.append((a.row(), b.row(), a.column(), b.column())))
    source.apply_changes(change_set(rows), SCOPE)
    last = proxy.columnCount() - 1
    assert runs == [(10, 13, 0, last), (40, 40, 0, last)]


def test_sort_by_column_setsortingenabled_header_clicks_and_shift_multi_sort(window, qtbot):
    view = window.table_view
    model = window.model
    header = view.horizontalHeader()
    assert view.isSortingEnabled()
    assert model.table.sort == [("last_update", True)]  # enabling sorting did not change it

    name, status = model.column_of("name"), model.column_of("status")
    view.sortByColumn(name, Qt.SortOrder.AscendingOrder)
    assert model.table.sort == [("name", False)]
    names = [model.index(r, name).data() for r in range(model.rowCount())]
    assert names == sorted(names, key=str.lower)

    def click(logical: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
        x = header.sectionViewportPosition(logical) + 20
        QTest.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, modifiers, QPoint(x, header.height() // 2))

    click(status)  # a new column sorts descending first, as the reference does
    assert model.table.sort == [("status", True)]
    click(status)
    assert model.table.sort == [("status", False)]
    click(name, Qt.KeyboardModifier.ShiftModifier)  # Shift adds a level
    assert model.table.sort == [("status", False), ("name", True)]
    click(name, Qt.KeyboardModifier.ShiftModifier)  # and flips it
    assert model.table.sort == [("status", False), ("name", False)]
    assert header.sort_keys == model.table.sort  # the numbered marks
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (status, Qt.SortOrder.AscendingOrder)
    click(model.column_of("tags"))  # does not sort: nothing changes
    assert model.table.sort == [("status", False), ("name", False)]
    click(name)
    assert model.table.sort == [("name", True)]
    window._save_table_state()
    assert window.table_state().sort == [("name", True)]

    window.set_sort([("name", True)], starred_first=True)
    click(status)
    assert model.table.sort == [(STAR_KEY, False), ("status", True)]  # starred stay first


def test_refresh_with_inserts_removals_and_moves_keeps_check_current_and_selection(window, qtbot, populated):
    model, source, view = window.model, window.source_model, window.table_view
    testers = [attach_testers(source), attach_testers(model)]
    window.set_sort([("name", False)])
    window.set_checked([populated["b-resnet"]], True)
    assert window.select_experiment(populated["e-failed"])
    view.selectionModel().select(model.index(model.row_of_id(populated["g-sweep"]), 0),
                                 QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    resets, inserted, removed, layouts = [], [], [], []
    for m in (source, model):
        m.modelReset.connect(lambda m=m: resets.append(m))
    model.rowsInserted.connect(lambda *a: inserted.append(a[1:]))
    model.rowsRemoved.connect(lambda *a: removed.append(a[1:]))
    model.layoutChanged.connect(lambda *a: layouts.append(1))
    actions.rename([populated["a-baseline"]], "zz-moved-to-the-end")
    actions.archive([populated["d-untagged"]])
    new_id = create_experiment("vision", "c2-new", user="tester")
    window.refresh_now()
    assert resets == []
    assert inserted and removed and layouts
    names = [model.index(r, model.column_of("name")).data() for r in range(model.rowCount())]
    assert names == sorted(names, key=str.lower) and names[-1] == "zz-moved-to-the-end"
    assert "d-untagged" not in names and new_id in window.visible_ids()
    assert window.checked_ids() == [populated["b-resnet"]]
    assert window.current_experiment_id() == populated["e-failed"]
    assert sorted(view.selected_ids()) == sorted([populated["e-failed"], populated["g-sweep"]])
    del testers


def test_details_card_list_is_a_proxy_over_the_same_source(window, qtbot):
    from exptable_desktop.ui.details.cards import ROLE_ID, ROLE_INFO
    from exptable_desktop.ui.details.install import install_details

    cards = install_details(window).cards_model
    assert cards.sourceModel() is window.model and window.model.sourceModel() is window.source_model
    tester = attach_testers(cards)
    window.model.set_search(SearchQuery("vit"))  # no debounce, no reload: the list follows the signals
    assert cards.ids() == window.visible_ids() and cards.rowCount() == window.model.rowCount() == 1
    assert cards.index(0, 0).data(ROLE_INFO)["name"] == "c-vit" == cards.index(0, 0).data(Qt.ItemDataRole.DisplayRole)
    assert cards.index(0, 0).data(ROLE_ID) == window.visible_ids()[0]
    window.model.set_search(None)
    window.set_sort([("name", True)])
    assert cards.ids() == window.visible_ids() and len(cards.ids()) == 9
    del tester


def test_checked_rows_are_tinted_in_plain_and_painted_cells(window, qtbot):
    view, model = window.table_view, window.model
    window.set_sort([("name", False)])
    view.selectionModel().clear()
    window.set_checked([model.id_at(1)], True)
    name, status = model.column_of("name"), model.column_of("status")
    assert model.index(1, name).data(Qt.ItemDataRole.BackgroundRole).color() == CHECKED_ROW_TINT
    assert model.index(2, name).data(Qt.ItemDataRole.BackgroundRole) is None
    view.viewport().repaint()
    image = view.viewport().grab().toImage()

    def colour(row: int, column: int):
        rect = view.visualRect(model.index(row, column))
        return image.pixelColor(rect.right() - 3, rect.top() + 2)

    for column in (name, status):  # Qt's delegate and CellDelegate alike
        assert colour(1, column) == CHECKED_ROW_TINT
        assert colour(2, column) != CHECKED_ROW_TINT and colour(3, column) != CHECKED_ROW_TINT
