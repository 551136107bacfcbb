"""The "+" dialog of the compare page: search experiments, check the ones to compare (100 at most)."""
from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from exptable_desktop.core import compare_data
from exptable_desktop.core.compare_palette import MAX_EXPERIMENTS
from exptable_desktop.core.details import format_ago
from exptable_desktop.ui.palette import themed

LIMIT_TIP = f"Reached selection limit: at most {MAX_EXPERIMENTS} experiments can be compared"
COLUMNS = ("", "Name", "Project", "Status", "Tags", "Updated")


class ExperimentPicker(QDialog):
    """Checked = compared. Searching keeps the checks; the order of the compared set is kept,
    new experiments come after it."""

    def __init__(self, compared: list[str], project: str | None = None, parent=None):
        super().__init__(parent)
        self.setObjectName("compareExperimentPicker")
        self.setWindowTitle("Add or remove experiments")
        self.resize(860, 560)
        self._chosen: list[str] = list(dict.fromkeys(compared))[:MAX_EXPERIMENTS]
        self._names: dict[str, str] = {}
        self._project = project or ""
        self.search_box = QLineEdit()
        self.search_box.setObjectName("pickerSearch")
        self.search_box.setPlaceholderText("Search by name or id")
        self.search_box.setClearButtonEnabled(True)
        self.archived_check = QCheckBox("Include archived")
        self.archived_check.setObjectName("pickerArchived")
        self.project_check = QCheckBox(f"Only project {self._project}" if self._project else "Only this project")
        self.project_check.setObjectName("pickerProjectOnly")
        self.project_check.setVisible(bool(self._project))
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("pickerTable")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSortingEnabled(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(0, 28)
        header.resizeSection(2, 150)
        header.resizeSection(3, 90)
        header.resizeSection(4, 130)
        header.resizeSection(5, 90)
        self.count_label = QLabel()
        self.count_label.setObjectName("pickerCount")
        self.message = QLabel()
        self.message.setObjectName("pickerMessage")
        self.message.setStyleSheet(themed("color: $danger;"))
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.search_box, 1)
        top.addWidget(self.project_check)
        top.addWidget(self.archived_check)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label)
        bottom.addWidget(self.message, 1)
        bottom.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(bottom)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(200)
        self._search_timer.timeout.connect(self.reload)
        self.search_box.textChanged.connect(self._search_timer.start)
        self.archived_check.toggled.connect(self.reload)
        self.project_check.toggled.connect(self.reload)
        self.table.itemChanged.connect(self._item_changed)
        self.reload()

    def reload(self) -> None:
        rows = compare_data.search_experiments(
            self.search_box.text(), include_archived=self.archived_check.isChecked(),
            project=self._project if self.project_check.isChecked() else None)
        shown = {r["id"] for r in rows}
        # The compared ones stay listed (first) even when the search would not find them.
        missing = [i for i in self._chosen if i not in shown]
        extra = compare_data.experiment_rows(missing) if missing else []
        for row in extra:
            row.setdefault("tags", [])
            row.setdefault("last_update", None)
        rows = extra + rows
        self.table.blockSignals(True)
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(rows))
        chosen = set(self._chosen)
        for n, row in enumerate(rows):
            self._names[row["id"]] = row["name"]
            check = QTableWidgetItem()
            check.setData(Qt.ItemDataRole.UserRole, row["id"])
            check.setCheckState(Qt.CheckState.Checked if row["id"] in chosen else Qt.CheckState.Unchecked)
            self.table.setItem(n, 0, check)
            name = row["name"] + (" (archived)" if row.get("archived") else "")
            cells = (name, row.get("project", ""), row.get("status_label", row.get("status", "")),
                     ", ".join(row.get("tags", [])),
                     format_ago(row.get("last_update")) if row.get("last_update") else "")
            for column, text in enumerate(cells, start=1):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(n, column, item)
        self.table.setSortingEnabled(True)
        self.table.blockSignals(False)
        if len(rows) - len(extra) >= compare_data.PICKER_LIMIT:
            self._note = (f"Showing the {compare_data.PICKER_LIMIT} most recent matches: "
                          "refine the search to find others.")
        else:
            self._note = ""
        self._update_limit()

    def _item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != 0:
            return
        exp_id = item.data(Qt.ItemDataRole.UserRole)
        if item.checkState() == Qt.CheckState.Checked:
            if exp_id not in self._chosen:
                if len(self._chosen) >= MAX_EXPERIMENTS:
                    self.table.blockSignals(True)
                    item.setCheckState(Qt.CheckState.Unchecked)
                    self.table.blockSignals(False)
                else:
                    self._chosen.append(exp_id)
        elif exp_id in self._chosen:
            self._chosen.remove(exp_id)
        self._update_limit()

    def _update_limit(self) -> None:
        full = len(self._chosen) >= MAX_EXPERIMENTS
        chosen = set(self._chosen)
        self.table.blockSignals(True)
        for n in range(self.table.rowCount()):
            item = self.table.item(n, 0)
            if item is None:
                continue
            enabled = not full or item.data(Qt.ItemDataRole.UserRole) in chosen
            flags = item.flags()
            flags = flags | Qt.ItemFlag.ItemIsEnabled if enabled else flags & ~Qt.ItemFlag.ItemIsEnabled
            item.setFlags(flags | Qt.ItemFlag.ItemIsUserCheckable)
            item.setToolTip("" if enabled else LIMIT_TIP)
        self.table.blockSignals(False)
        self.count_label.setText(f"{len(self._chosen)} of {MAX_EXPERIMENTS} selected")
        if full:
            self.message.setText(f"Reached the limit of {MAX_EXPERIMENTS} experiments: uncheck one to add another.")
        elif len(self._chosen) < 1:
            self.message.setText("Check at least one experiment to compare.")
        else:
            self.message.setText(self._note)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self._chosen))

    def set_checked(self, exp_id: str, checked: bool) -> bool:
        """Check or uncheck a listed experiment as a click would; False if it is not listed or disabled."""
        for n in range(self.table.rowCount()):
            item = self.table.item(n, 0)
            if item is not None and item.data(Qt.ItemDataRole.UserRole) == exp_id:
                if not item.flags() & Qt.ItemFlag.ItemIsEnabled:
                    return False
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                return True
        return False

    def listed_ids(self) -> list[str]:
        return [self.table.item(n, 0).data(Qt.ItemDataRole.UserRole) for n in range(self.table.rowCount())]

    def chosen_ids(self) -> list[str]:
        return list(self._chosen)
