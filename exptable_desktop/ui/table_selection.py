"""The experiments table's row selection, held as one bool per table slot.

Qt's QItemSelectionModel keeps a selection as ranges and answers ``isSelected`` by walking
them, for every painted cell: 20,000 scattered selected rows are ~13,000 ranges, ~80 ms per
paint, and each layout change turns every selected cell into a persistent index. Here the
selection is a numpy mask over the table's slots, so it follows rows through sort, filter,
search and refresh for free; Qt's own selection holds only the selected rows in the window
the view shows (``window``), which is what painting and mouse handling ask about.

Every way a view changes the selection ends in the virtual ``select`` (clicks, Ctrl and
Shift clicks, keyboard, select all, ``setCurrentIndex``); the queries Python code uses
(``selectedRows``, ``isRowSelected``, ``selection``…) answer from the mask.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from PySide6.QtCore import QItemSelection, QItemSelectionModel, QItemSelectionRange, QModelIndex

from exptable_desktop.ui.table_model import contiguous_runs

_Flag = QItemSelectionModel.SelectionFlag
_NO_UPDATE = _Flag.NoUpdate.value
_CLEAR = _Flag.Clear.value
_SELECT = _Flag.Select.value
_DESELECT = _Flag.Deselect.value
_TOGGLE = _Flag.Toggle.value
_CURRENT = _Flag.Current.value
_CHANGES = _SELECT | _DESELECT | _TOGGLE


def _flag_value(command) -> int:
    return command.value if hasattr(command, "value") else int(command)


class SlotSelectionModel(QItemSelectionModel):
    """Selection of whole rows of an ``ExperimentTableProxy``, kept as a mask over its table's slots.

    As Qt's, it has a committed part and a "current" part (a drag or Shift+click in progress,
    replaced by each next step of it) with the command that merges them.
    """

    def __init__(self, model, parent=None):
        super().__init__(model, parent)
        self._committed = np.zeros(0, bool)
        self._current = np.zeros(0, bool)
        self._current_command = 0
        self._effective: np.ndarray | None = None
        self._saved_ids: list[str] | None = None
        #: (first row, last row) Qt's selection mirrors; all rows when unset (no view).
        self.window: Callable[[], tuple[int, int]] | None = None
        model.layoutAboutToBeChanged.connect(self._finalize)
        model.rowsAboutToBeRemoved.connect(self._finalize)
        model.layoutChanged.connect(self._rows_changed)
        model.rowsRemoved.connect(self._rows_changed)
        model.rowsInserted.connect(self._rows_changed)
        model.modelAboutToBeReset.connect(self._save_ids)
        model.modelReset.connect(self._restore_ids)

    # ---- The mask ---------------------------------------------------------------------------

    def _size(self) -> int:
        return max(self.model().table.capacity, 1)

    def _fit(self) -> None:
        size = self._size()
        if len(self._committed) != size:
            for name in ("_committed", "_current"):
                old = getattr(self, name)
                grown = np.zeros(size, bool)
                grown[:min(size, len(old))] = old[:size]
                setattr(self, name, grown)
            self._effective = None

    def mask(self) -> np.ndarray:
        """Selected slots (committed merged with the current part)."""
        self._fit()
        if self._effective is None:
            command, committed, current = self._current_command, self._committed, self._current
            if command & _DESELECT:
                self._effective = committed & ~current
            elif command & _TOGGLE:
                self._effective = committed ^ current
            elif command & _SELECT:
                self._effective = committed | current
            else:
                self._effective = committed
        return self._effective

    def _finalize(self, *_args) -> None:
        """The current part becomes committed (Qt does the same before a new current part starts)."""
        if self._current_command:
            self._committed = self.mask().copy()
            self._current = np.zeros_like(self._committed)
            self._current_command = 0
            self._effective = None

    def selected_rows(self) -> np.ndarray:
        """Selected rows, ascending."""
        order = self.model().order
        return np.flatnonzero(self.mask()[order]) if len(order) else np.empty(0, np.int64)

    # ---- Changing it ------------------------------------------------------------------------

    def select(self, selection, command) -> None:
        """Every selection change of a view comes here (both of Qt's overloads)."""
        command = _flag_value(command)
        if command == _NO_UPDATE:
            return
        rows = self._rows_of(selection)
        self._apply(self.model().order[rows] if len(rows) else np.empty(0, np.int64), command)

    def select_rows(self, rows: np.ndarray, command=_Flag.Select) -> None:
        """Apply ``command`` to whole ``rows`` at once (numpy; no QItemSelection per run)."""
        rows = np.asarray(rows, np.int64)
        order = self.model().order
        rows = rows[(rows >= 0) & (rows < len(order))]
        self._apply(order[rows], _flag_value(command))

    def _rows_of(self, selection) -> np.ndarray:
        count = self.model().rowCount()
        if not isinstance(selection, QItemSelection):  # a QModelIndex or QPersistentModelIndex
            row = selection.row() if selection.isValid() else -1
            return np.array([row], np.int64) if 0 <= row < count else np.empty(0, np.int64)
        spans = [(r.top(), r.bottom()) for r in (selection.at(i) for i in range(selection.size())) if r.isValid()]
        if not spans:
            return np.empty(0, np.int64)
        hit = np.zeros(count + 1, np.int8)
        for top, bottom in spans:
            hit[max(top, 0)] += 1
            hit[min(bottom, count - 1) + 1] -= 1
        return np.flatnonzero(np.cumsum(hit[:count]) > 0)

    def _apply(self, slots: np.ndarray, command: int) -> None:
        self._fit()
        if command & _CLEAR:
            self._committed = np.zeros_like(self._committed)
            self._current = np.zeros_like(self._current)
            self._current_command = 0
        if not command & _CURRENT:
            self._finalize()
        if command & _CHANGES:
            current = np.zeros_like(self._committed)
            current[slots] = True
            self._current = current
            self._current_command = command
        self._effective = None
        self.mirror()

    def clear(self) -> None:
        self._drop()
        super().clear()

    def reset(self) -> None:
        self._drop()
        super().reset()

    def clearSelection(self) -> None:
        self._apply(np.empty(0, np.int64), _CLEAR)

    def _drop(self) -> None:
        self._committed = np.zeros(0, bool)
        self._current = np.zeros(0, bool)
        self._current_command = 0
        self._effective = None

    def mirror(self) -> None:
        """Make Qt's own selection the selected rows of the window on screen (what gets painted)."""
        model = self.model()
        count, columns = model.rowCount(), model.columnCount()
        ranges = QItemSelection()
        if count and columns:
            first, last = self.window() if self.window is not None else (0, count - 1)
            first, last = max(0, first), min(count - 1, last)
            if first <= last:
                hits = np.flatnonzero(self.mask()[model.order[first:last + 1]]) + first
                for top, bottom in contiguous_runs(hits):
                    ranges.append(QItemSelectionRange(model.index(top, 0), model.index(bottom, columns - 1)))
        QItemSelectionModel.select(self, ranges, _Flag.ClearAndSelect)

    # ---- Rows moving under it -----------------------------------------------------------------

    def _rows_changed(self, *_args) -> None:
        # Rows that left the table (filtered out, searched away, deleted) leave the selection too,
        # as they do from Qt's; new rows come in unselected.
        self._finalize()
        self._fit()
        shown = np.zeros(len(self._committed), bool)
        shown[self.model().order] = True
        self._committed &= shown
        self._effective = None
        self.mirror()

    def _save_ids(self) -> None:
        model = self.model()
        self._saved_ids = model.ids_at_rows(self.selected_rows()) if model.rowCount() else []

    def _restore_ids(self) -> None:
        ids, self._saved_ids = self._saved_ids or [], None
        self._drop()
        self._fit()
        if ids:
            table = self.model().table
            get = table.id_to_slot.get
            slots = np.fromiter((get(i, -1) for i in ids), np.int64, len(ids))
            self._committed[slots[slots >= 0]] = True
            self._rows_changed()
        else:
            self.mirror()

    # ---- Questions Python code asks (Qt's own answers know only the window) ---------------------

    def hasSelection(self) -> bool:
        return bool(len(self.selected_rows()))

    def isSelected(self, index) -> bool:
        return index.isValid() and self.isRowSelected(index.row())

    def isRowSelected(self, row: int, parent=QModelIndex()) -> bool:
        order = self.model().order
        return not parent.isValid() and 0 <= row < len(order) and bool(self.mask()[order[row]])

    def rowIntersectsSelection(self, row: int, parent=QModelIndex()) -> bool:
        return self.isRowSelected(row, parent)

    def isColumnSelected(self, column: int, parent=QModelIndex()) -> bool:
        count = self.model().rowCount()
        return not parent.isValid() and count > 0 and len(self.selected_rows()) == count

    def selectedRows(self, column: int = 0) -> list[QModelIndex]:
        model = self.model()
        return [model.index(row, column) for row in self.selected_rows().tolist()]

    def selectedIndexes(self) -> list[QModelIndex]:
        model = self.model()
        columns = range(model.columnCount())
        return [model.index(row, column) for row in self.selected_rows().tolist() for column in columns]

    def selection(self) -> QItemSelection:
        model = self.model()
        out = QItemSelection()
        last_column = model.columnCount() - 1
        if last_column >= 0:
            for top, bottom in contiguous_runs(self.selected_rows()):
                out.append(QItemSelectionRange(model.index(top, 0), model.index(bottom, last_column)))
        return out
