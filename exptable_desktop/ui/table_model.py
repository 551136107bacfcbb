"""The Qt model of the experiments table: a thin adapter over core.tableview.

Rows map to table slots through ``_order``; the model never sorts or filters.
Changes reach views as exact signals: removed rows as ``rowsRemoved`` runs,
moves as one ``layoutChanged`` with persistent indexes remapped, new rows as
``rowsInserted`` runs and edits as one ``dataChanged`` per contiguous run.
"""
from __future__ import annotations

import math
import time
from typing import Iterable, Sequence

import numpy as np
from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal

from exptable_desktop.core import columns as C
from exptable_desktop.core import formatting as fmt
from exptable_desktop.core import states as st
from exptable_desktop.core.filters import AnyFilter, SearchQuery
from exptable_desktop.core.tableview import ChangeSet, CustomColumnData, ExperimentTable, RefreshResult
from exptable_desktop.store.bulk import Scope
from exptable_desktop.ui.roles import ColumnKeyRole, IdRole, StatusRole, TagsRole, TypeRole, ValueRole

# Beyond this many separate runs a change is cheaper, for the view too, as a reset
# (with selection and current row restored by id).
MAX_RUNS = 64

_DISPLAY = Qt.ItemDataRole.DisplayRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_CHECK = Qt.ItemDataRole.CheckStateRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_CHECKED = Qt.CheckState.Checked
_UNCHECKED = Qt.CheckState.Unchecked
# Flags are combined once here: enum arithmetic per painted cell shows up in profiles.
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_CHECK_FLAGS = _ROW_FLAGS | Qt.ItemFlag.ItemIsUserCheckable
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTER = int(Qt.AlignmentFlag.AlignCenter)


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


class ExperimentTableModel(QAbstractTableModel):
    sig_checked_changed = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.table = ExperimentTable()
        self._order = np.empty(0, np.int64)
        self.specs: list[C.ColumnSpec] = []
        self.keys: list[str] = []
        self._kinds: list[str] = []
        self.set_columns(list(C.BUILTIN_COLUMNS))
        self._handlers = {
            int(_DISPLAY): self._data_display, int(_TOOLTIP): self._data_tooltip, int(_CHECK): self._data_check,
            int(_ALIGN): self._data_align, int(IdRole): self._data_id, int(ValueRole): self._data_value,
            int(TagsRole): self._data_tags, int(StatusRole): self._data_status, int(TypeRole): self._data_type,
        }
        self.checked: set[str] = set()
        self.precise: set[str] = set()
        self.now = time.time()

    def set_columns(self, specs: list[C.ColumnSpec]) -> None:
        """Replace the column list (callers reset the model around this)."""
        self.specs = list(specs)
        self.keys = [s.key for s in self.specs]
        self._kinds = [s.kind for s in self.specs]

    # ---- Qt model API ----------------------------------------------------------------

    def rowCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self._order)

    def columnCount(self, parent=QModelIndex()):
        return 0 if parent.isValid() else len(self.specs)

    def flags(self, index):
        if not index.isValid():
            return _NO_FLAGS
        return _CHECK_FLAGS if self._kinds[index.column()] == C.CHECK else _ROW_FLAGS

    def headerData(self, section, orientation, role=_DISPLAY):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.specs):
            return None
        spec = self.specs[section]
        if role == _DISPLAY:
            return spec.title
        if role == ColumnKeyRole:
            return spec.key
        if role == _TOOLTIP:
            return spec.title or "Select"
        if role == _ALIGN:
            return _LEFT
        return None

    def data(self, index, role=_DISPLAY):
        # Called several times per painted cell (one per role the delegate asks for):
        # unserved roles leave at the first line, served ones are one dict hop away.
        handler = self._handlers.get(role)
        if handler is None:
            return None
        row, col = index.row(), index.column()
        if row < 0 or row >= len(self._order) or col >= len(self.specs):
            return None
        return handler(int(self._order[row]), col)

    def paint_values(self, row: int, col: int) -> tuple[str, str, object] | None:
        """What CellDelegate draws, read without a round trip through Qt per role:
        (kind, label, status+progress | task type | tag chips), or None for other columns."""
        if row < 0 or row >= len(self._order) or col >= len(self.specs):
            return None
        kind = self._kinds[col]
        slot = int(self._order[row])
        if kind == C.TYPE:
            return kind, self.table.cats["type"].label_at(slot), self.table.type_at(slot)
        if kind == C.STATUS:
            return kind, self.table.cats["status"].label_at(slot), self._data_status(slot, col)
        if kind == C.TAGS:
            return kind, "", self._data_tags(slot, col)
        return None

    def _data_id(self, slot: int, col: int):
        return self.table.ids[slot]

    def _data_check(self, slot: int, col: int):
        if self._kinds[col] != C.CHECK:
            return None
        return _CHECKED if self.table.ids[slot] in self.checked else _UNCHECKED

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

    def setData(self, index, value, role=Qt.ItemDataRole.EditRole):
        if role != _CHECK or not index.isValid() or self.specs[index.column()].kind != C.CHECK:
            return False
        exp_id = self.table.ids[int(self._order[index.row()])]
        checked = Qt.CheckState(value) == Qt.CheckState.Checked if not isinstance(value, bool) else value
        if checked:
            self.checked.add(exp_id)
        else:
            self.checked.discard(exp_id)
        self.dataChanged.emit(index, index, [_CHECK])
        self._follow_checked()
        self.sig_checked_changed.emit()
        return True

    # ---- Rows and ids ------------------------------------------------------------------

    def slot_at(self, row: int) -> int:
        return int(self._order[row])

    def id_at(self, row: int) -> str:
        return self.table.ids[int(self._order[row])]

    def row_of_id(self, exp_id: str) -> int:
        slot = self.table.id_to_slot.get(exp_id)
        if slot is None or not self.table.alive[slot]:
            return -1
        rows = np.flatnonzero(self._order == slot)
        return int(rows[0]) if len(rows) else -1

    def ids_at_rows(self, rows: np.ndarray) -> list[str]:
        return self.table.ids[self._order[np.asarray(rows, np.int64)]].tolist()

    def rows_of_ids(self, ids: Sequence[str]) -> np.ndarray:
        """The rows of ``ids`` on screen, ascending; ids not shown are left out. One pass over
        the rows for any number of ids, where ``row_of_id`` scans them once per id."""
        get = self.table.id_to_slot.get
        slots = np.fromiter((get(i, -1) for i in ids), np.int64, len(ids))
        row_of_slot = np.full(max(self.table.n, 1), -1, np.int64)
        row_of_slot[self._order] = np.arange(len(self._order))
        rows = row_of_slot[slots[slots >= 0]]
        return np.unique(rows[rows >= 0])

    def column_of(self, key: str) -> int:
        try:
            return self.keys.index(key)
        except ValueError:
            return -1

    def set_checked(self, ids: Iterable[str], checked: bool) -> None:
        ids = [i for i in ids if i]
        before = len(self.checked)
        if checked:
            self.checked.update(ids)
        else:
            self.checked.difference_update(ids)
        if len(self.checked) != before or ids:
            self._emit_check_column()
            self._follow_checked()
            self.sig_checked_changed.emit()

    def set_show_only_checked(self, on: bool) -> None:
        self.table.set_only_ids(self.checked if on else None)
        self.sync_order()

    def is_show_only_checked(self) -> bool:
        return self.table.showing_only_ids

    def _follow_checked(self) -> None:
        # Showing only the checked rows: an unchecked row leaves the table at once.
        if self.table.showing_only_ids:
            self.set_show_only_checked(True)

    def _emit_check_column(self) -> None:
        col = self.column_of("check")
        if col >= 0 and len(self._order):
            self.dataChanged.emit(self.index(0, col), self.index(len(self._order) - 1, col), [_CHECK])

    # ---- Replacing, reordering, refreshing ---------------------------------------------------

    def set_table(self, table: ExperimentTable) -> None:
        """A new scope (project, archive): the one place the model resets."""
        self.beginResetModel()
        self.table = table
        self._order = table.order.copy()
        self.endResetModel()

    def sync_order(self) -> None:
        """Bring the rows the views see to ``table.order`` with exact signals."""
        old, new = self._order, self.table.order
        if len(old) == len(new) and np.array_equal(old, new):
            return
        size = max(self.table.n, 1)
        in_new = np.zeros(size, bool)
        in_new[new] = True
        in_old = np.zeros(size, bool)
        in_old[old] = True
        removed = np.flatnonzero(~in_new[old])
        present = in_old[new]
        inserted = np.flatnonzero(~present)
        if run_count(removed) + run_count(inserted) > MAX_RUNS:
            self.beginResetModel()
            self._order = new.copy()
            self.endResetModel()
            return
        removed_runs, inserted_runs = contiguous_runs(removed), contiguous_runs(inserted)
        for first, last in reversed(removed_runs):
            self.beginRemoveRows(QModelIndex(), first, last)
            self._order = np.delete(self._order, np.s_[first:last + 1])
            self.endRemoveRows()
        kept = new[present]
        if not np.array_equal(self._order, kept):
            self._relayout(kept)
        for first, last in inserted_runs:
            self.beginInsertRows(QModelIndex(), first, last)
            present[first:last + 1] = True
            self._order = new[present]
            self.endInsertRows()

    def _relayout(self, new_order: np.ndarray) -> None:
        # PySide6 exposes only the argument-less overload (no VerticalSortHint).
        self.layoutAboutToBeChanged.emit()
        old_order = self._order
        persistent = self.persistentIndexList()
        row_of_slot = np.full(max(self.table.n, 1), -1, np.int64)
        row_of_slot[new_order] = np.arange(len(new_order))
        # A selected row alone holds one persistent index per column: mapped in one numpy step, and
        # made with createIndex (index() would ask rowCount and columnCount of Python for each).
        old_rows = np.fromiter((p.row() for p in persistent), np.int64, len(persistent))
        inside = (old_rows >= 0) & (old_rows < len(old_order))
        new_rows = np.full(len(persistent), -1, np.int64)
        new_rows[inside] = row_of_slot[old_order[old_rows[inside]]]
        targets = [self.createIndex(row, p.column()) if row >= 0 else QModelIndex()
                   for p, row in zip(persistent, new_rows.tolist())]
        self._order = new_order
        self.changePersistentIndexList(persistent, targets)
        self.layoutChanged.emit()

    def emit_rows_changed(self, slots: np.ndarray, columns: tuple[int, int] | None = None) -> None:
        rows = self.table.rows_of_slots(slots)
        rows = np.sort(rows[rows >= 0])  # slots are distinct, so rows are too
        first_col, last_col = columns or (0, len(self.specs) - 1)
        for first, last in contiguous_runs(rows):
            self.dataChanged.emit(self.index(first, first_col), self.index(last, last_col))

    def apply_changes(self, changes: ChangeSet, scope: Scope) -> RefreshResult:
        self.now = time.time()
        result = self.table.apply_changes(changes, scope)
        if result.any:
            self.sync_order()
            self.emit_rows_changed(result.updated)
        return result

    def tick_clock(self, first_row: int, last_row: int) -> None:
        """Relative times move on: repaint the date columns of the rows on screen."""
        self.now = time.time()
        if first_row < 0 or last_row < first_row:
            return
        for col, spec in enumerate(self.specs):
            if spec.kind == C.DATE:
                self.dataChanged.emit(self.index(first_row, col), self.index(last_row, col), [_DISPLAY, _TOOLTIP])

    # ---- Sort, filter, search ------------------------------------------------------------------

    def set_sort(self, sort: Sequence[tuple[str, bool]]) -> None:
        self.table.set_sort(sort)
        self.sync_order()

    def set_filter(self, key: str, flt: AnyFilter | None) -> None:
        self.table.set_filter(key, flt)
        self.sync_order()

    def clear_filters(self) -> None:
        self.table.clear_filters()
        self.sync_order()

    def set_search(self, query: SearchQuery | None) -> None:
        self.table.set_search(query)
        self.sync_order()

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
        self.sync_order()

    def install_column_data(self, data: CustomColumnData) -> None:
        self.table.install_custom_column(data)
        if any(k == data.key for k, _ in self.table.sort):
            self.table.resort()
        self.sync_order()
        col = self.column_of(data.key)
        if col >= 0 and len(self._order):
            self.dataChanged.emit(self.index(0, col), self.index(len(self._order) - 1, col))

    def set_precise(self, key: str, precise: bool) -> None:
        if precise:
            self.precise.add(key)
        else:
            self.precise.discard(key)
        col = self.column_of(key)
        if col >= 0 and len(self._order):
            self.dataChanged.emit(self.index(0, col), self.index(len(self._order) - 1, col), [_DISPLAY])

