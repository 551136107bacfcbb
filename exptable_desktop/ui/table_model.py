"""The source model of the experiments table: one row per experiment of a core.experiment_table table.

Rows are the table's live slots in storage order (``ExperimentTableModel``); the visible
order, filter and search live in a proxy (ui.table_proxy), which asks core for them. Both
tell views about changes with exact signals: removed rows as ``rowsRemoved`` runs, moved
rows as one ``layoutChanged`` with persistent indexes remapped, new rows as ``rowsInserted``
runs and edits as one ``dataChanged`` per contiguous run. Only a new table (another scope)
resets the model.
"""
from __future__ import annotations

import math
import time
from typing import Callable, Iterable

import numpy as np
from PySide6.QtCore import QAbstractItemModel, QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from exptable_desktop.core import columns as C
from exptable_desktop.core import formatting as fmt
from exptable_desktop.core import states as st
from exptable_desktop.core.experiment_table import ChangeSet, CustomColumnData, ExperimentTable, RefreshResult
from exptable_desktop.core.database import Scope
from exptable_desktop.ui import palette
from exptable_desktop.ui.roles import ColumnKeyRole, IdRole, StatusRole, TagsRole, TypeRole, ValueRole

#: Background of a checked row (under the selection's highlight, which wins).
CHECKED_ROW_TINT = palette.current().colour("checked_row")

# Beyond this many separate runs of removed and inserted rows, one layout change (persistent
# indexes remapped in one numpy step) costs the views less than a signal per run.
MAX_RUNS = 64

_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_CHECK = Qt.ItemDataRole.CheckStateRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_BACKGROUND = Qt.ItemDataRole.BackgroundRole
_CHECKED = Qt.CheckState.Checked
_UNCHECKED = Qt.CheckState.Unchecked
# Flags are combined once here: enum arithmetic per painted cell shows up in profiles.
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_CHECK_FLAGS = _ROW_FLAGS | Qt.ItemFlag.ItemIsUserCheckable
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)
_CHECKED_BRUSH = QBrush(CHECKED_ROW_TINT)
# The first click on a column header sorts descending, as the reference does.
_INITIAL_SORT = Qt.ItemDataRole.InitialSortOrderRole
_DESCENDING = Qt.SortOrder.DescendingOrder


def contiguous_runs(positions) -> list[tuple[int, int]]:
    """Sorted distinct positions grouped into (first, last) runs, without a Python loop per position."""
    pos = np.asarray(positions, np.int64)
    if not len(pos):
        return []
    breaks = np.flatnonzero(np.diff(pos) != 1)
    firsts = np.concatenate((pos[:1], pos[breaks + 1]))
    lasts = np.concatenate((pos[breaks], pos[-1:]))
    return list(zip(firsts.tolist(), lasts.tolist()))


def run_count(positions: np.ndarray) -> int:
    """How many runs ``contiguous_runs`` would return."""
    return int(np.count_nonzero(np.diff(positions) != 1)) + 1 if len(positions) else 0


def inverse(slots: np.ndarray, size: int) -> np.ndarray:
    """Row of each slot below ``size`` (-1 where ``slots`` does not hold it)."""
    rows = np.full(max(size, 1), -1, np.int64)
    rows[slots] = np.arange(len(slots))
    return rows


def sync_rows(model: QAbstractItemModel, old: np.ndarray, new: np.ndarray, size: int,
              store: Callable[[np.ndarray], None]) -> None:
    """Take ``model`` from showing slots ``old`` (row i shows ``old[i]``) to ``new`` with exact signals:
    removed runs, one layout change for the rows that moved, inserted runs. ``store`` sets the
    model's row array; ``size`` bounds every slot. Past MAX_RUNS runs, one layout change does it all."""
    if len(old) == len(new) and np.array_equal(old, new):
        return
    in_new = np.zeros(max(size, 1), bool)
    in_new[new] = True
    in_old = np.zeros(max(size, 1), bool)
    in_old[old] = True
    removed = np.flatnonzero(~in_new[old])
    present = in_old[new]
    inserted = np.flatnonzero(~present)
    if run_count(removed) + run_count(inserted) > MAX_RUNS:
        relayout(model, old, new, size, store)
        return
    current = old
    root = QModelIndex()
    for first, last in reversed(contiguous_runs(removed)):
        model.beginRemoveRows(root, first, last)
        current = np.delete(current, np.s_[first:last + 1])
        store(current)
        model.endRemoveRows()
    kept = new[present]
    if not np.array_equal(current, kept):
        relayout(model, current, kept, size, store)
    for first, last in contiguous_runs(inserted):
        model.beginInsertRows(root, first, last)
        present[first:last + 1] = True
        store(new[present])
        model.endInsertRows()


def relayout(model: QAbstractItemModel, old: np.ndarray, new: np.ndarray, size: int,
             store: Callable[[np.ndarray], None]) -> None:
    """One layout change from slots ``old`` to ``new``: persistent indexes follow their slot, and those
    whose slot is gone become invalid (the row count may change, as QSortFilterProxyModel's does)."""
    # PySide6 exposes only the argument-less overload (no VerticalSortHint).
    model.layoutAboutToBeChanged.emit()
    persistent = model.persistentIndexList()
    row_of_slot = inverse(new, size)
    # A selected row alone holds one persistent index per column: mapped in one numpy step, and
    # made with createIndex (index() would ask rowCount and columnCount of Python for each).
    old_rows = np.fromiter((p.row() for p in persistent), np.int64, len(persistent))
    inside = (old_rows >= 0) & (old_rows < len(old))
    new_rows = np.full(len(persistent), -1, np.int64)
    new_rows[inside] = row_of_slot[old[old_rows[inside]]]
    make = model.createIndex
    targets = [make(row, p.column()) if row >= 0 else QModelIndex()
               for p, row in zip(persistent, new_rows.tolist())]
    store(new)
    model.changePersistentIndexList(persistent, targets)
    model.layoutChanged.emit()


class ExperimentTableModel(QAbstractTableModel):
    """The experiments of one ``ExperimentTable`` (a scope), one row per live slot in storage order.

    It holds what belongs to the rows whatever their order: the columns, the check marks and
    the cells' looks. Views show it through ``ExperimentTableProxy``, which orders and filters.
    """

    sig_checked_changed = Signal()
    #: Emitted after the table changed under the proxies (a refresh, a custom column added or
    #: dropped): their order is read again from core. Carries the slots whose cells changed.
    sig_table_changed = Signal(object)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.table = ExperimentTable()
        self._slots = np.empty(0, np.int64)
        self._row_of_slot: np.ndarray | None = None
        self.specs: list[C.ColumnSpec] = []
        self.keys: list[str] = []
        self._kinds: list[str] = []
        self.set_columns(list(C.BUILTIN_COLUMNS))
        self.handlers = {
            int(_DISPLAY): self._data_display, int(_TOOLTIP): self._data_tooltip, int(_CHECK): self._data_check,
            int(_ALIGN): self._data_align, int(IdRole): self._data_id, int(ValueRole): self._data_value,
            int(TagsRole): self._data_tags, int(StatusRole): self._data_status, int(TypeRole): self._data_type,
            int(_BACKGROUND): self._data_background,
        }
        self.checked: set[str] = set()
        self.precise: set[str] = set()
        self.now = time.time()
        # True while a refresh is folded in: proxies wait for sig_table_changed instead of
        # following each of the signals on the way.
        self.applying = False

    def set_columns(self, specs: list[C.ColumnSpec]) -> None:
        """Replace the column list (callers reset the model around this)."""
        self.specs = list(specs)
        self.keys = [s.key for s in self.specs]
        self._kinds = [s.kind for s in self.specs]

    # ---- Qt model API ----------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._slots)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.specs)

    def flags(self, index):
        if not index.isValid():
            return _NO_FLAGS
        return self.column_flags(index.column())

    def column_flags(self, column: int):
        if not 0 <= column < len(self._kinds):
            return _NO_FLAGS
        return _CHECK_FLAGS if self._kinds[column] == C.CHECK else _ROW_FLAGS

    def headerData(self, section, orientation, role=_DISPLAY):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.specs):
            return None
        spec = self.specs[section]
        if role == _DISPLAY:
            return spec.title
        if role == ColumnKeyRole:
            return spec.key
        if role == _TOOLTIP:  # a computed column (best step) says how it is computed
            return spec.description or spec.title or "Select"
        if role == _ALIGN:
            return _LEFT
        if role == _INITIAL_SORT:
            return _DESCENDING
        return None

    def data(self, index, role=_DISPLAY):
        # Called several times per painted cell (one per role the delegate asks for):
        # unserved roles leave at the first line, served ones are one dict hop away.
        handler = self.handlers.get(role)
        if handler is None:
            return None
        row, col = index.row(), index.column()
        if row < 0 or row >= len(self._slots) or col >= len(self.specs):
            return None
        return handler(int(self._slots[row]), col)

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):
        if role != _CHECK or not index.isValid() or self._kinds[index.column()] != C.CHECK:
            return False
        exp_id = self.table.ids[int(self._slots[index.row()])]
        checked = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
        if checked:
            self.checked.add(exp_id)
        else:
            self.checked.discard(exp_id)
        # The whole row: its check box and its tint.
        self.dataChanged.emit(self.index(index.row(), 0), self.index(index.row(), len(self.specs) - 1),
                              [_CHECK, _BACKGROUND])
        self.sig_checked_changed.emit()
        return True

    # ---- Cells by slot (proxies read them without a source index) ------------------------------

    def paint_values(self, slot: int, col: int) -> tuple[str, str, object, bool] | None:
        """What CellDelegate draws, read without a round trip through Qt per role:
        (kind, label, status+progress | task type | tag chips, checked), or None for other columns."""
        if col >= len(self.specs):
            return None
        kind = self._kinds[col]
        if kind == C.TYPE:
            extra = self.table.type_at(slot)
            label = self.table.cats["type"].label_at(slot)
        elif kind == C.STATUS:
            extra = self._data_status(slot, col)
            label = self.table.cats["status"].label_at(slot)
        elif kind == C.TAGS:
            extra, label = self._data_tags(slot, col), ""
        else:
            return None
        return kind, label, extra, bool(self.checked) and self.table.ids[slot] in self.checked

    def _data_id(self, slot: int, col: int):
        return self.table.ids[slot]

    def _data_check(self, slot: int, col: int):
        if self._kinds[col] != C.CHECK:
            return None
        return _CHECKED if self.table.ids[slot] in self.checked else _UNCHECKED

    def _data_background(self, slot: int, col: int):
        return _CHECKED_BRUSH if self.checked and self.table.ids[slot] in self.checked else None

    def _data_align(self, slot: int, col: int):
        if self._kinds[col] == C.CHECK:
            return _CENTER
        return _RIGHT if self.specs[col].align_right else _LEFT

    def _data_tags(self, slot: int, col: int):
        if self._kinds[col] != C.TAGS:
            return None
        info = self.table.tag_info
        return [(info[t][0],) + fmt.tag_colors(*info[t]) for t in self.table.tags[slot] if t in info]

    def _data_status(self, slot: int, col: int):
        if self._kinds[col] != C.STATUS:
            return None
        progress = self.table.nums["progress"][slot]
        return self.table.status_at(slot), None if math.isnan(progress) else int(progress)

    def _data_type(self, slot: int, col: int):
        return self.table.type_at(slot) if self._kinds[col] == C.TYPE else None

    def _data_value(self, slot: int, col: int):
        if self._kinds[col] == C.CHECK:
            return None
        value = self.table.value(slot, self.keys[col])
        return None if isinstance(value, float) and math.isnan(value) else value

    def _data_display(self, slot: int, col: int):
        if self._kinds[col] == C.CHECK:
            return None
        spec = self.specs[col]
        return self._display(spec, slot, self.table.value(slot, spec.key))

    def _data_tooltip(self, slot: int, col: int):
        if self._kinds[col] == C.CHECK:
            return None
        spec = self.specs[col]
        return self._tooltip(spec, slot, self.table.value(slot, spec.key))

    def _display(self, spec: C.ColumnSpec, slot: int, value) -> str:
        kind = spec.kind
        if kind in (C.TEXT, C.CATEGORY, C.TYPE, C.HYPERPARAM, C.STATUS):
            return value
        if kind == C.DATE:
            return fmt.relative_time(None if math.isnan(value) else value, self.now)
        if kind == C.NUMBER:
            return "" if math.isnan(value) else str(int(value))
        if kind == C.DURATION:
            return fmt.compact_duration(None if math.isnan(value) else value)
        if kind == C.METRIC:
            return fmt.precise_float(value) if spec.key in self.precise else fmt.rounded_float(value)
        if kind == C.TAGS:
            return ", ".join(self.table.tag_names(slot))
        return ""

    def _tooltip(self, spec: C.ColumnSpec, slot: int, value):
        kind = spec.kind
        if kind == C.DATE:
            return fmt.exact_date(None if math.isnan(value) else value) or None
        if kind == C.METRIC:
            return fmt.precise_float(value) or None
        if kind == C.TAGS:
            return ", ".join(self.table.tag_names(slot)) or None
        if kind == C.STATUS:
            progress = self.table.nums["progress"][slot]
            status = self.table.status_at(slot)
            if status in st.PROGRESS_STATUSES and not math.isnan(progress):
                return f"{value} ({int(progress)}%)"
            return value
        if spec.key == "parent":
            parent = self.table.cats["parent"].key_at(slot)
            return f"{value} ({parent})" if parent else None
        if kind == C.DURATION:
            return None if math.isnan(value) else f"{value:.0f} seconds"
        return value or None

    # ---- Rows and slots ----------------------------------------------------------------

    @property
    def slots(self) -> np.ndarray:
        """The slot of each row (ascending)."""
        return self._slots

    def row_of_slot(self, slot: int) -> int:
        if self._row_of_slot is None:
            self._row_of_slot = inverse(self._slots, self.table.n)
        return int(self._row_of_slot[slot]) if 0 <= slot < len(self._row_of_slot) else -1

    def column_of(self, key: str) -> int:
        try:
            return self.keys.index(key)
        except ValueError:
            return -1

    def _store_slots(self, slots: np.ndarray) -> None:
        self._slots = slots
        self._row_of_slot = None

    def _sync_rows(self) -> None:
        """Rows follow the table's live slots: dead ones leave, new (or revived) ones come in."""
        live = np.flatnonzero(self.table.alive[:self.table.n])
        sync_rows(self, self._slots, live, self.table.n, self._store_slots)

    def emit_slots_changed(self, slots: np.ndarray, columns: tuple[int, int] | None = None, roles=()) -> None:
        """One dataChanged per contiguous run of the rows of ``slots``."""
        if not len(self._slots) or not self.specs:
            return
        if self._row_of_slot is None:
            self._row_of_slot = inverse(self._slots, self.table.n)
        slots = np.asarray(slots, np.int64)
        slots = slots[(slots >= 0) & (slots < len(self._row_of_slot))]
        rows = np.unique(self._row_of_slot[slots])
        first_col, last_col = columns or (0, len(self.specs) - 1)
        for first, last in contiguous_runs(rows[rows >= 0]):
            self.dataChanged.emit(self.createIndex(first, first_col), self.createIndex(last, last_col), list(roles))

    def _emit_all_changed(self, columns: tuple[int, int] | None = None, roles=()) -> None:
        if len(self._slots) and self.specs:
            first_col, last_col = columns or (0, len(self.specs) - 1)
            self.dataChanged.emit(self.createIndex(0, first_col),
                                  self.createIndex(len(self._slots) - 1, last_col), list(roles))

    # ---- Checking ----------------------------------------------------------------------

    def set_checked(self, ids: Iterable[str], checked: bool) -> None:
        ids = [i for i in ids if i]
        before = len(self.checked)
        if checked:
            self.checked.update(ids)
        else:
            self.checked.difference_update(ids)
        if len(self.checked) != before or ids:
            # Check boxes and tints on every row: one signal, one repaint of what is on screen.
            self._emit_all_changed(roles=(_CHECK, _BACKGROUND))
            self.sig_checked_changed.emit()

    # ---- Replacing and refreshing ------------------------------------------------------------

    def set_table(self, table: ExperimentTable) -> None:
        """A new scope (project, archive): the one place the model resets."""
        self.beginResetModel()
        self.table = table
        self._store_slots(np.flatnonzero(table.alive[:table.n]))
        self.endResetModel()

    def apply_changes(self, changes: ChangeSet, scope: Scope) -> RefreshResult:
        """Fold a refresh in: rows leave and arrive with row signals, changed rows get one
        dataChanged per run; then the proxies take the new order (sig_table_changed)."""
        self.now = time.time()
        self.applying = True
        try:
            result = self.table.apply_changes(changes, scope)
            if result.any:
                self._sync_rows()
                self.emit_slots_changed(result.updated)
        finally:
            self.applying = False
        if result.any:
            self.sig_table_changed.emit(result.updated)
        return result

    # ---- Custom columns ------------------------------------------------------------------------

    def add_column(self, key: str) -> int:
        if key in self.keys:
            return self.keys.index(key)
        spec = C.spec_for(key)
        col = len(self.specs)
        self.beginInsertColumns(QModelIndex(), col, col)
        self.set_columns(self.specs + [spec])
        self.endInsertColumns()
        return col

    def remove_column(self, key: str) -> None:
        col = self.column_of(key)
        if col < 0 or not self.specs[col].is_custom:
            return
        self.beginRemoveColumns(QModelIndex(), col, col)
        self.set_columns(self.specs[:col] + self.specs[col + 1:])
        self.precise.discard(key)
        self.table.drop_custom_column(key)
        self.endRemoveColumns()
        self.sig_table_changed.emit(np.empty(0, np.int64))  # its sort and filter are gone

    def install_column_data(self, data: CustomColumnData) -> None:
        self.table.install_custom_column(data)
        if any(k == data.key for k, _ in self.table.sort):
            self.table.resort()
        self.sig_table_changed.emit(np.empty(0, np.int64))
        col = self.column_of(data.key)
        if col >= 0:
            self._emit_all_changed((col, col))

    def set_precise(self, key: str, precise: bool) -> None:
        if precise:
            self.precise.add(key)
        else:
            self.precise.discard(key)
        col = self.column_of(key)
        if col >= 0:
            self._emit_all_changed((col, col), (_DISPLAY,))
