"""The Scalars tab's values tables: a row per metric/variant, a column per experiment.

One model serves LAST, MIN, MAX and "at the best step of ..." (the tab hands
it the numbers of the mode). Cells are formatted when asked for, so 200
metrics x 100 experiments cost nothing until they are on screen; row extremes
and "identical" are computed once per row set.
"""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from exptable_desktop.core import compare_stats
from exptable_desktop.core.compare_palette import ComparedExperiment
from exptable_desktop.ui.comparison.common import format_number, swatch_icon
from exptable_desktop.ui.palette import themed

ROW_MIN_BACKGROUND = QColor(themed("$danger_soft"))
ROW_MAX_BACKGROUND = QColor(themed("$success_soft"))
FIXED_COLUMNS = ("Metric", "Variant")
ValueKey = tuple[str, str]


class ComparisonValuesModel(QAbstractTableModel):
    """The SCALARS tab's LAST / MIN / MAX / at-best-step tables as a Qt model: a row per metric/variant, a column
    per experiment, with search, hide-identical and row extremes."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._experiments: list[ComparedExperiment] = []
        self._all_rows: list[ValueKey] = []
        self._rows: list[ValueKey] = []
        self._cells: dict[ValueKey, dict[str, float | None]] = {}
        self._row_labels: dict[ValueKey, tuple[str, str]] = {}
        self._extremes: dict[ValueKey, tuple[set[int], set[int]]] = {}
        self._show_extremes = False
        self._hide_identical = False
        self._needle = ""
        self._icons: dict = {}

    # -- Feeding -------------------------------------------------------------------------
    def set_values(self, experiments: list[ComparedExperiment], rows: list[ValueKey],
                   cells: dict[ValueKey, dict[str, float | None]],
                   row_labels: dict[ValueKey, tuple[str, str]] | None = None) -> None:
        """``experiments`` become the columns (the caller leaves hidden ones out); ``cells[row][id]``."""
        self.beginResetModel()
        self._experiments = list(experiments)
        self._all_rows = list(rows)
        self._cells = cells
        self._row_labels = dict(row_labels or {})
        self._extremes = {}
        self._rows = self._filtered_rows()
        self.endResetModel()

    def set_show_extremes(self, on: bool) -> None:
        if on == self._show_extremes:
            return
        self._show_extremes = on
        if self._rows and self._experiments:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, self.columnCount() - 1),
                                  [Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ToolTipRole])

    def set_hide_identical(self, on: bool) -> None:
        if on != self._hide_identical:
            self._hide_identical = on
            self._refilter()

    def set_filter(self, text: str) -> None:
        text = text.strip().lower()
        if text != self._needle:
            self._needle = text
            self._refilter()

    def _refilter(self) -> None:
        self.beginResetModel()
        self._rows = self._filtered_rows()
        self.endResetModel()

    def _filtered_rows(self) -> list[ValueKey]:
        ids = [e.id for e in self._experiments]
        rows = []
        for row in self._all_rows:
            label = " / ".join(self._row_labels.get(row, row)).lower()
            if self._needle and self._needle not in label:
                continue
            if self._hide_identical and len(ids) > 1 and row not in self._row_labels \
                    and compare_stats.is_identical(self._cells.get(row, {}).get(i) for i in ids):
                continue
            rows.append(row)
        return rows

    # -- Reading back ---------------------------------------------------------------------
    def row_keys(self) -> list[ValueKey]:
        return list(self._rows)

    def experiments(self) -> list[ComparedExperiment]:
        return list(self._experiments)

    def value(self, row: int, experiment_column: int) -> float | None:
        key = self._rows[row]
        return self._cells.get(key, {}).get(self._experiments[experiment_column].id)

    def extremes(self, row: int) -> tuple[set[int], set[int]]:
        """Experiment column positions (0-based among experiments) of the row's min and max."""
        key = self._rows[row]
        if key not in self._extremes:
            cells = self._cells.get(key, {})
            self._extremes[key] = compare_stats.row_extremes([cells.get(e.id) for e in self._experiments])
        return self._extremes[key]

    def csv_rows(self) -> list[list[str]]:
        rows = [list(FIXED_COLUMNS) + [e.name for e in self._experiments]]
        for n, key in enumerate(self._rows):
            label = self._row_labels.get(key, key)
            rows.append([label[0], label[1]] + [
                "" if self.value(n, c) is None else repr(float(self.value(n, c)))
                for c in range(len(self._experiments))])
        return rows

    # -- Qt model -------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(FIXED_COLUMNS) + len(self._experiments)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < self.columnCount():
            return None
        if section < len(FIXED_COLUMNS):
            return FIXED_COLUMNS[section] if role == Qt.ItemDataRole.DisplayRole else None
        experiment = self._experiments[section - len(FIXED_COLUMNS)]
        if role == Qt.ItemDataRole.DisplayRole:
            return experiment.name
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{experiment.name}\n{experiment.id}"
        if role == Qt.ItemDataRole.DecorationRole:
            key = (experiment.colour, experiment.dash)
            if key not in self._icons:
                self._icons[key] = swatch_icon(experiment.colour, experiment.dash, 10)
            return self._icons[key]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._rows) or index.column() >= self.columnCount():
            return None
        key = self._rows[index.row()]
        column = index.column()
        if column < len(FIXED_COLUMNS):
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                return self._row_labels.get(key, key)[column]
            if role == Qt.ItemDataRole.FontRole and key in self._row_labels:
                font = QFont()
                font.setItalic(True)
                return font
            return None
        position = column - len(FIXED_COLUMNS)
        value = self._cells.get(key, {}).get(self._experiments[position].id)
        if role == Qt.ItemDataRole.DisplayRole:
            return format_number(value)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            if value is None:
                return "Not reported"
            text = repr(float(value)) if isinstance(value, (int, float)) else str(value)
            if self._show_extremes and key not in self._row_labels:
                low, high = self.extremes(index.row())
                if position in low:
                    text += " (row minimum)"
                elif position in high:
                    text += " (row maximum)"
            return text
        if role == Qt.ItemDataRole.BackgroundRole and self._show_extremes and key not in self._row_labels:
            low, high = self.extremes(index.row())
            if position in low:
                return QBrush(ROW_MIN_BACKGROUND)
            if position in high:
                return QBrush(ROW_MAX_BACKGROUND)
        return None
