"""The table's row selection, kept per slot (ui.table_selection): mouse and keyboard select as in
any Qt table, Python's questions get the whole answer, Qt's own selection holds only the rows on
screen, and selected experiments stay selected while rows move under them."""
from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QPoint, Qt
from PySide6.QtTest import QTest

from exptable_desktop.core.filters import SearchQuery
from exptable_desktop.ui.roles import IdRole
from exptable_desktop.ui.table_model import ExperimentTableModel
from exptable_desktop.ui.table_proxy import ExperimentTableProxy
from tests.table.test_issue9_correctness import make_table, base_row

pytestmark = [pytest.mark.qt_log_level_fail("WARNING"), pytest.mark.qt_log_ignore(r"This plugin does not support")]
ROWS = 2000
_Flag = QItemSelectionModel.SelectionFlag


@pytest.fixture
def view(qtbot):
    from exptable_desktop.ui.table_view import ExperimentTableView

    model = ExperimentTableProxy(ExperimentTableModel())
    table_view = ExperimentTableView()
    table_view.setModel(model)
    model.set_table(make_table([base_row(i, name=f"run-{i:05d}", last_update=float(ROWS - i)) for i in range(ROWS)]))
    qtbot.addWidget(table_view)
    table_view.resize(900, 600)
    table_view.show()
    qtbot.waitExposed(table_view)
    return table_view


def click(view, row: int, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    rect = view.visualRect(view.model().index(row, view.model().column_of("name")))
    QTest.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifiers, rect.center())


def qt_ranges(view) -> list[tuple[int, int]]:
    """What Qt's own selection holds (what it walks for each painted cell)."""
    selection = QItemSelectionModel.selection(view.selectionModel())
    return sorted((selection.at(i).top(), selection.at(i).bottom()) for i in range(selection.size()))


def test_clicks_ctrl_shift_keyboard_and_select_all(view):
    model, selection = view.model(), view.selectionModel()
    click(view, 3)
    assert view.selected_rows().tolist() == [3]
    click(view, 7, Qt.KeyboardModifier.ControlModifier)
    assert view.selected_rows().tolist() == [3, 7]
    click(view, 3, Qt.KeyboardModifier.ControlModifier)  # toggles off
    assert view.selected_rows().tolist() == [7]
    # As in any QTableView (checked against QStandardItemModel): the last click is the anchor.
    click(view, 10, Qt.KeyboardModifier.ShiftModifier)
    assert view.selected_rows().tolist() == [3, 4, 5, 6, 7, 8, 9, 10]
    QTest.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert view.selected_rows().tolist() == [3, 4, 5, 6, 7, 8, 9, 10, 11]
    QTest.keyClick(view, Qt.Key.Key_Down)
    assert view.selected_rows().tolist() == [12]
    QTest.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(view.selected_rows()) == ROWS == len(view.selected_ids())
    assert len(qt_ranges(view)) == 1 and qt_ranges(view)[0][1] - qt_ranges(view)[0][0] < 40  # the window only

    # Python's questions get the whole answer, not the window's.
    click(view, 2)
    selection.select_rows(np.arange(100, ROWS, 10), _Flag.Select)
    rows = [2] + list(range(100, ROWS, 10))
    assert view.selected_rows().tolist() == rows
    assert [i.row() for i in selection.selectedRows()] == rows
    assert len(selection.selectedIndexes()) == len(view.selectedIndexes()) == len(rows) * model.columnCount()
    assert selection.isRowSelected(1500) and not selection.isRowSelected(1501)
    assert selection.isSelected(model.index(1500, 4)) and selection.hasSelection()
    spans = [(selection.selection().at(i).top(), selection.selection().at(i).bottom())
             for i in range(selection.selection().size())]
    assert spans == [(r, r) for r in rows]
    assert view.selected_ids() == [model.id_at(r) for r in rows]
    selection.clearSelection()
    assert view.selected_rows().tolist() == [] and not selection.hasSelection()


def test_rows_selected_off_screen_are_painted_when_scrolled_to(view, qtbot):
    model, selection = view.model(), view.selectionModel()
    selection.select_rows(np.arange(0, ROWS, 5), _Flag.Select)  # 400 rows, 400 runs
    held = qt_ranges(view)
    assert held and held[-1][1] - held[0][0] < 40  # Qt holds the rows on screen, not 400 ranges
    view.scrollTo(model.index(1500, 0), view.ScrollHint.PositionAtTop)
    qtbot.waitUntil(lambda: view.rowAt(0) >= 1490)
    assert qt_ranges(view) and all(1480 <= r[0] and r[1] <= 1560 for r in qt_ranges(view))
    view.viewport().repaint()
    image = view.viewport().grab().toImage()
    highlight = view.palette().highlight().color()

    def painted(row: int):
        rect = view.visualRect(model.index(row, model.column_of("name")))
        return image.pixelColor(rect.right() - 3, rect.top() + 2)

    assert painted(1500) == highlight and painted(1501) != highlight


def test_selected_experiments_follow_sort_and_leave_with_filtered_rows(view):
    model, selection = view.model(), view.selectionModel()
    chosen_rows = np.array([0, 1, 2, 500, 1200, 1500])
    selection.select_rows(chosen_rows, _Flag.Select)
    chosen = set(model.ids_at_rows(chosen_rows))
    model.set_sort([("name", True)])  # every row moves
    assert set(view.selected_ids()) == chosen
    assert sorted(view.selected_rows().tolist()) == sorted(model.rows_of_ids(sorted(chosen)).tolist())
    model.set_search(SearchQuery("run-01"))  # keeps run-01000 .. run-01999
    kept = {i for i in chosen if model.table.text["name"][model.table.id_to_slot[i]].startswith("run-01")}
    assert set(view.selected_ids()) == kept and len(kept) == 2
    model.set_search(None)  # rows that left the table left the selection, as they do from Qt's
    assert set(view.selected_ids()) == kept


def test_selection_survives_a_new_table_by_id(view):
    model, selection = view.model(), view.selectionModel()
    click(view, 4)
    selection.select_rows(np.array([10, 11, 1200]), _Flag.Select)
    chosen = view.selected_ids()
    current = view.current_id()
    model.set_table(make_table([base_row(i, name=f"run-{i:05d}", last_update=float(i)) for i in range(ROWS)]))
    assert sorted(view.selected_ids()) == sorted(chosen)
    assert view.current_id() == current


def test_a_qitemselection_of_many_ranges_selects_whole_rows(view):
    model, selection = view.model(), view.selectionModel()
    ranges = QItemSelection()
    for first, last in ((5, 9), (7, 12), (30, 30)):  # overlapping ranges count each row once
        ranges.select(model.index(first, 2), model.index(last, 3))
    selection.select(ranges, _Flag.ClearAndSelect)
    assert view.selected_rows().tolist() == list(range(5, 13)) + [30]
    selection.select(model.index(8, 0), _Flag.Deselect)
    assert view.selected_rows().tolist() == [5, 6, 7, 9, 10, 11, 12, 30]
    selection.select(model.index(30, 0), _Flag.Toggle)
    assert view.selected_rows().tolist() == [5, 6, 7, 9, 10, 11, 12]
    assert model.index(5, 0).data(IdRole) in view.selected_ids()


def test_space_checks_the_selected_rows_and_context_menu_keeps_the_selection(window, qtbot):
    view, model = window.table_view, window.model
    click(view, 1)
    for _ in range(2):
        QTest.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
    assert view.selected_rows().tolist() == [1, 2, 3] and window.checked_ids() == []
    QTest.keyClick(view, Qt.Key.Key_Space)
    assert sorted(window.checked_ids()) == sorted(model.id_at(r) for r in (1, 2, 3))
    opened = []
    window.set_row_context_menu_handler(lambda _pos, exp_id: opened.append(exp_id))
    rect = view.visualRect(model.index(2, model.column_of("name")))
    view.contextMenuEvent(type("Event", (), {"pos": lambda self: rect.center(), "globalPos": lambda self: QPoint()})())
    assert opened == [model.id_at(2)] and view.selected_rows().tolist() == [1, 2, 3]
