"""The experiments table as views see it: the source model's rows ordered and filtered by core.

``ExperimentTableProxy`` owns the visible order, the slots on screen as one numpy array
(``ExperimentTable.order``: filter, search and sort worked out vectorised in core; nothing
here compares two rows). Every change of that order reaches views as exact signals (see
table_model.sync_rows), and ``sort(column, order)`` is Qt's, so ``QTableView.sortByColumn``
and ``setSortingEnabled`` work; multi-column sorts come through ``set_sort``.

Cells are read straight from the source by slot: a mapToSource per painted cell would be
a second Python call for each.
"""
from __future__ import annotations

import time
from itertools import takewhile
from typing import Iterable, Sequence

import numpy as np
from PySide6.QtCore import QAbstractProxyModel, QModelIndex, QObject, Qt, Signal

from exptable_desktop.core import columns as C
from exptable_desktop.core.filters import AnyFilter, SearchQuery
from exptable_desktop.core.experiment_table import ChangeSet, CustomColumnData, ExperimentTable, RefreshResult
from exptable_desktop.core.database import Scope
from exptable_desktop.ui.table_model import ExperimentTableModel, contiguous_runs, inverse, sync_rows

_HORIZONTAL = Qt.Orientation.Horizontal
_DATE_ROLES = [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole]


class ExperimentTableProxy(QAbstractProxyModel):
    """The rows on screen: ``ExperimentTableModel``'s rows in the order and under the filters,
    search and "show only checked" of its table. Also the one object the window asks about
    columns, check marks and rows (it passes those on to the source)."""

    sig_checked_changed = Signal()
    sig_sort_changed = Signal()

    def __init__(self, source: ExperimentTableModel | None = None, parent=None):
        super().__init__(parent)
        self._order = np.empty(0, np.int64)
        self._row_of_slot: np.ndarray | None = None
        self._source: ExperimentTableModel | None = None
        self._handlers: dict = {}
        if source is not None:
            self.setSourceModel(source)

    def setSourceModel(self, source: ExperimentTableModel) -> None:
        self.beginResetModel()
        old = self._source
        if old is not None:
            for signal, slot in self._connections(old):
                signal.disconnect(slot)
        super().setSourceModel(source)
        self._source = source
        self._handlers = source.handlers
        self._store_order(source.table.order.copy())
        for signal, slot in self._connections(source):
            signal.connect(slot)
        self.endResetModel()

    def _connections(self, source: ExperimentTableModel):
        return (
            (source.modelAboutToBeReset, self.beginResetModel),
            (source.modelReset, self._source_reset),
            (source.rowsInserted, self._source_rows_changed),
            (source.rowsRemoved, self._source_rows_changed),
            (source.layoutChanged, self._source_rows_changed),
            (source.dataChanged, self._source_data_changed),
            (source.columnsAboutToBeInserted, self._source_columns_about_to_be_inserted),
            (source.columnsInserted, self.endInsertColumns),
            (source.columnsAboutToBeRemoved, self._source_columns_about_to_be_removed),
            (source.columnsRemoved, self.endRemoveColumns),
            (source.headerDataChanged, self._source_header_changed),
            (source.sig_table_changed, self._source_table_changed),
            (source.sig_checked_changed, self._source_checked_changed),
        )

    # ---- Following the source ---------------------------------------------------------------------

    def _source_reset(self) -> None:
        self._store_order(self._source.table.order.copy())
        self.endResetModel()

    def _source_rows_changed(self, *_args) -> None:
        if not self._source.applying:
            self.sync_order()

    def _source_table_changed(self, changed_slots: np.ndarray) -> None:
        self.sync_order()
        self.emit_rows_changed(changed_slots)

    def _source_data_changed(self, top_left: QModelIndex, bottom_right: QModelIndex, roles=()) -> None:
        source = self._source
        if source.applying or not len(self._order):
            return  # a refresh: its changed rows are signalled once the order is taken (sig_table_changed)
        first, last = top_left.row(), bottom_right.row()
        columns = (top_left.column(), bottom_right.column())
        if first <= 0 and last >= source.rowCount() - 1:
            self.dataChanged.emit(self.createIndex(0, columns[0]), self.createIndex(len(self._order) - 1, columns[1]),
                                  list(roles))
        else:
            self.emit_rows_changed(source.slots[first:last + 1], columns, roles)

    def _source_columns_about_to_be_inserted(self, _parent, first: int, last: int) -> None:
        self.beginInsertColumns(QModelIndex(), first, last)

    def _source_columns_about_to_be_removed(self, _parent, first: int, last: int) -> None:
        self.beginRemoveColumns(QModelIndex(), first, last)

    def _source_header_changed(self, orientation, first: int, last: int) -> None:
        if orientation == _HORIZONTAL:
            self.headerDataChanged.emit(orientation, first, last)

    def _source_checked_changed(self) -> None:
        # Showing only the checked rows: an unchecked row leaves the table at once.
        if self.table.showing_only_ids:
            self.set_show_only_checked(True)
        self.sig_checked_changed.emit()

    # ---- Qt model API -------------------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() or self._source is None else len(self._source.specs)

    def index(self, row, column, parent=QModelIndex()):
        if parent.isValid() or not 0 <= row < len(self._order) or not 0 <= column < self.columnCount():
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, index=None):
        if index is None:
            return QObject.parent(self)  # parent() without arguments is QObject's
        return QModelIndex()

    def sibling(self, row, column, index):
        return self.index(row, column)

    def hasChildren(self, parent=QModelIndex()):
        return not parent.isValid() and len(self._order) > 0 and self.columnCount() > 0

    def mapToSource(self, proxy_index):
        if not proxy_index.isValid() or self._source is None:
            return QModelIndex()
        row = proxy_index.row()
        if not 0 <= row < len(self._order):
            return QModelIndex()
        source_row = self._source.row_of_slot(int(self._order[row]))
        return self._source.index(source_row, proxy_index.column()) if source_row >= 0 else QModelIndex()

    def mapFromSource(self, source_index):
        if not source_index.isValid() or self._source is None:
            return QModelIndex()
        row = self.row_of_slot(int(self._source.slots[source_index.row()]))
        return self.createIndex(row, source_index.column()) if row >= 0 else QModelIndex()

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        # The source's handler, by slot: one Python call per cell and role, as a plain model.
        handler = self._handlers.get(role)
        if handler is None:
            return None
        row, col = index.row(), index.column()
        if row < 0 or row >= len(self._order) or col >= len(self._source.specs):
            return None
        return handler(int(self._order[row]), col)

    def flags(self, index):
        if not index.isValid() or self._source is None:
            return Qt.ItemFlag.NoItemFlags
        return self._source.column_flags(index.column())

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation != _HORIZONTAL or self._source is None:
            return None
        return self._source.headerData(section, orientation, role)

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):
        return self._source.setData(self.mapToSource(index), value, role) if index.isValid() else False

    def sort(self, column: int, order=Qt.SortOrder.AscendingOrder) -> None:
        """Sort by one column (what a header click asks); "Starred first" stays in front. The sort in
        place already (a view re-sending its sort indicator) keeps its secondary keys."""
        specs = self.specs
        if not 0 <= column < len(specs) or not specs[column].sortable:
            self._emit_header_changed()  # a header points its sort mark back at the real sort
            return
        key, descending = specs[column].key, order == Qt.SortOrder.DescendingOrder
        current = list(self.table.sort)
        pinned = list(takewhile(lambda s: not C.spec_for(s[0]).sortable, current))
        if current[len(pinned):len(pinned) + 1] == [(key, descending)]:
            self._emit_header_changed()
            return
        self.table.sort = pinned + [(key, descending)]
        self.table.resort()
        self.sync_order()
        self._sort_changed()

    # ---- What the source holds, asked here ---------------------------------------------------------

    @property
    def source(self) -> ExperimentTableModel:
        return self._source

    @property
    def table(self) -> ExperimentTable:
        return self._source.table

    @property
    def specs(self) -> list[C.ColumnSpec]:
        return self._source.specs

    @property
    def keys(self) -> list[str]:
        return self._source.keys

    @property
    def checked(self) -> set[str]:
        return self._source.checked

    @property
    def precise(self) -> set[str]:
        return self._source.precise

    @precise.setter
    def precise(self, keys: set[str]) -> None:
        self._source.precise = set(keys)

    def column_of(self, key: str) -> int:
        return self._source.column_of(key)

    def set_columns(self, specs: list[C.ColumnSpec]) -> None:
        self._source.set_columns(specs)

    def set_table(self, table: ExperimentTable) -> None:
        self._source.set_table(table)

    def set_checked(self, ids: Iterable[str], checked: bool) -> None:
        self._source.set_checked(ids, checked)

    def apply_changes(self, changes: ChangeSet, scope: Scope) -> RefreshResult:
        return self._source.apply_changes(changes, scope)

    def add_column(self, key: str) -> int:
        return self._source.add_column(key)

    def remove_column(self, key: str) -> None:
        self._source.remove_column(key)

    def install_column_data(self, data: CustomColumnData) -> None:
        self._source.install_column_data(data)

    def set_precise(self, key: str, precise: bool) -> None:
        self._source.set_precise(key, precise)

    def distinct_labels(self, key: str) -> list[str] | None:
        """The labels a column of few values can show (type, status, project, hyperparameter…);
        None for other columns."""
        cat = self.table.cats.get(key) or self.table.hyperparams.get(key)
        return None if cat is None else list(cat.labels)

    def paint_values(self, row: int, col: int):
        """CellDelegate's cell, by row (see ExperimentTableModel.paint_values)."""
        if not 0 <= row < len(self._order):
            return None
        return self._source.paint_values(int(self._order[row]), col)

    # ---- Rows and ids ------------------------------------------------------------------

    @property
    def order(self) -> np.ndarray:
        """The slot of each row on screen."""
        return self._order

    def _store_order(self, order: np.ndarray) -> None:
        self._order = order
        self._row_of_slot = None

    def rows_of_slots(self, slots: np.ndarray) -> np.ndarray:
        """Rows of ``slots`` (-1 where not on screen)."""
        if self._row_of_slot is None:
            self._row_of_slot = inverse(self._order, self.table.n)
        slots = np.asarray(slots, np.int64)
        inside = (slots >= 0) & (slots < len(self._row_of_slot))
        out = np.full(len(slots), -1, np.int64)
        out[inside] = self._row_of_slot[slots[inside]]
        return out

    def row_of_slot(self, slot: int) -> int:
        return int(self.rows_of_slots(np.array([slot]))[0])

    def slot_of_row(self, row: int) -> int:
        return int(self._order[row])

    def id_at(self, row: int) -> str:
        return self.table.ids[int(self._order[row])]

    def row_info(self, row: int) -> dict:
        return self.table.row_info(int(self._order[row]))

    def row_of_id(self, exp_id: str) -> int:
        slot = self.table.id_to_slot.get(exp_id)
        if slot is None or not self.table.alive[slot]:
            return -1
        return self.row_of_slot(slot)

    def ids_at_rows(self, rows: np.ndarray) -> list[str]:
        return self.table.ids[self._order[np.asarray(rows, np.int64)]].tolist()

    def visible_ids(self) -> list[str]:
        return self.table.ids[self._order].tolist()

    def rows_of_ids(self, ids: Sequence[str]) -> np.ndarray:
        """The rows of ``ids`` on screen, ascending; ids not shown are left out."""
        get = self.table.id_to_slot.get
        slots = np.fromiter((get(i, -1) for i in ids), np.int64, len(ids))
        rows = self.rows_of_slots(slots[slots >= 0])
        return np.unique(rows[rows >= 0])

    def emit_rows_changed(self, slots: np.ndarray, columns: tuple[int, int] | None = None, roles=()) -> None:
        """One dataChanged per contiguous run of the rows of ``slots`` on screen."""
        if not len(slots) or not len(self._order):
            return
        rows = self.rows_of_slots(slots)
        rows = np.unique(rows[rows >= 0])
        first_col, last_col = columns or (0, self.columnCount() - 1)
        for first, last in contiguous_runs(rows):
            self.dataChanged.emit(self.createIndex(first, first_col), self.createIndex(last, last_col), list(roles))

    def sync_order(self) -> None:
        """Bring the rows the views see to ``table.order`` with exact signals."""
        sync_rows(self, self._order, self.table.order, self.table.n, self._store_order)

    def tick_clock(self, first_row: int, last_row: int) -> None:
        """Relative times move on: repaint the date columns of rows ``first_row``..``last_row``."""
        self._source.now = time.time()
        last_row = min(last_row, len(self._order) - 1)
        if first_row < 0 or last_row < first_row:
            return
        for col, spec in enumerate(self.specs):
            if spec.kind == C.DATE:
                self.dataChanged.emit(self.createIndex(first_row, col), self.createIndex(last_row, col), _DATE_ROLES)

    # ---- Sort, filter, search ------------------------------------------------------------------

    def sort_keys(self) -> list[tuple[str, bool]]:
        return list(self.table.sort)

    def set_sort(self, sort: Sequence[tuple[str, bool]]) -> None:
        self.table.set_sort(sort)
        self.sync_order()
        self._sort_changed()

    def _sort_changed(self) -> None:
        self._emit_header_changed()
        self.sig_sort_changed.emit()

    def _emit_header_changed(self) -> None:
        if self.columnCount():
            self.headerDataChanged.emit(_HORIZONTAL, 0, self.columnCount() - 1)

    def set_filter(self, key: str, flt: AnyFilter | None) -> None:
        self.table.set_filter(key, flt)
        self.sync_order()

    def clear_filters(self) -> None:
        self.table.clear_filters()
        self.sync_order()

    def set_search(self, query: SearchQuery | None) -> None:
        self.table.set_search(query)
        self.sync_order()

    def set_show_only_checked(self, on: bool) -> None:
        self.table.set_only_ids(self.checked if on else None)
        self.sync_order()

    def is_show_only_checked(self) -> bool:
        return self.table.showing_only_ids
