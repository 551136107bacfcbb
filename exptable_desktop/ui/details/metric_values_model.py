"""The Metric values view of an experiment's SCALARS tab: one row per metric and variant."""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from exptable_desktop.core import details as data


class MetricValuesModel(QAbstractTableModel):
    """First / last / min / max / mean per metric and variant (from MetricSummary, no series read)."""

    HEADERS = ("", "Metric", "Variant", "First", "Last", "Min", "Max", "Mean")
    VALUE_KEYS = ("first", "last", "min", "max", "mean")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[dict] = []

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def update_rows(self, rows: list[dict]) -> None:
        """Live update: insert new metric/variant rows where they sort, signal changed runs."""
        index_of = {(r["metric"], r["variant"]): i for i, r in enumerate(self._rows)}
        for row in rows:
            key = (row["metric"], row["variant"])
            if key in index_of:
                continue
            position = 0
            while position < len(self._rows) and (self._rows[position]["metric"],
                                                  self._rows[position]["variant"]) < key:
                position += 1
            self.beginInsertRows(QModelIndex(), position, position)
            self._rows.insert(position, row)
            self.endInsertRows()
            index_of = {(r["metric"], r["variant"]): i for i, r in enumerate(self._rows)}
        fresh = {(r["metric"], r["variant"]): r for r in rows}
        run_start = None
        for i, old in enumerate(self._rows + [None]):
            new = fresh.get((old["metric"], old["variant"])) if old is not None else None
            changed = old is not None and new is not None and new != old
            if changed:
                self._rows[i] = new
                if run_start is None:
                    run_start = i
            elif run_start is not None:
                self.dataChanged.emit(self.index(run_start, 0), self.index(i - 1, len(self.HEADERS) - 1))
                run_start = None

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return "=" if row["all_equal"] else ""
            if column == 1:
                return row["metric"]
            if column == 2:
                return row["variant"]
            return data.format_value(row[self.VALUE_KEYS[column - 3]])
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 0 and row["all_equal"]:
                return "All values are equal"
            if column >= 3:
                value = row[self.VALUE_KEYS[column - 3]]
                return None if value is None else repr(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
