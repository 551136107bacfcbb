"""The "+ Metrics" and "+ Hyperparameters" dialogs: searchable trees of what the project reports."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from exptable_desktop.core.columns import METRIC_FIELD_LABELS, hyperparam_key, metric_key

_KEY = Qt.ItemDataRole.UserRole


class _TreeDialog(QDialog):
    def __init__(self, title: str, headers: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(460, 520)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>{title.upper()}</b>"))
        self.search = QLineEdit(placeholderText="Search")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        layout.addWidget(self.search)
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(headers)
        self.tree.setRootIsDecorated(True)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.tree.header().setStretchLastSection(False)
        for col in range(1, len(headers)):
            self.tree.header().setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        layout.addWidget(self.tree)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _filter(self, text: str) -> None:
        needle = text.lower()
        for i in range(self.tree.topLevelItemCount()):
            parent = self.tree.topLevelItem(i)
            parent_hit = needle in parent.text(0).lower()
            any_child = False
            for j in range(parent.childCount()):
                child = parent.child(j)
                hit = not needle or parent_hit or needle in child.text(0).lower()
                child.setHidden(not hit)
                any_child |= hit
            parent.setHidden(not any_child)
            parent.setExpanded(bool(needle) and any_child)

    def _checked(self, columns: range) -> list[str]:
        out = []
        for i in range(self.tree.topLevelItemCount()):
            parent = self.tree.topLevelItem(i)
            for j in range(parent.childCount()):
                child = parent.child(j)
                for col in columns:
                    if child.checkState(col) == Qt.CheckState.Checked:
                        out.append(child.data(col, _KEY))
        return out


class MetricsDialog(_TreeDialog):
    """Metric > variant, with LAST / MIN / MAX boxes that each make a column."""

    def __init__(self, variants: list[tuple[str, str]], selected: set[str], parent=None):
        super().__init__("Add metric columns", ["Metric / variant", "LAST", "MIN", "MAX"], parent)
        parents: dict[str, QTreeWidgetItem] = {}
        for metric, variant in variants:
            top = parents.get(metric)
            if top is None:
                top = parents[metric] = QTreeWidgetItem(self.tree, [metric])
            child = QTreeWidgetItem(top, [variant])
            for col, field in enumerate(METRIC_FIELD_LABELS, start=1):
                key = metric_key(metric, variant, field)
                child.setData(col, _KEY, key)
                child.setCheckState(col, Qt.CheckState.Checked if key in selected else Qt.CheckState.Unchecked)
            if any(metric_key(metric, variant, f) in selected for f in METRIC_FIELD_LABELS):
                top.setExpanded(True)

    def item(self, metric: str, variant: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.text(0) == metric:
                for j in range(top.childCount()):
                    if top.child(j).text(0) == variant:
                        return top.child(j)
        return None

    def selected_keys(self) -> list[str]:
        return self._checked(range(1, 4))


class HyperparamsDialog(_TreeDialog):
    """Section > name; user properties are the section ``properties``."""

    def __init__(self, names: list[tuple[str, str]], selected: set[str], parent=None):
        super().__init__("Add hyperparameter columns", ["Section / name"], parent)
        parents: dict[str, QTreeWidgetItem] = {}
        for section, name in names:
            top = parents.get(section)
            if top is None:
                top = parents[section] = QTreeWidgetItem(self.tree, [section])
            child = QTreeWidgetItem(top, [name])
            key = hyperparam_key(section, name)
            child.setData(0, _KEY, key)
            child.setFlags(child.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            child.setCheckState(0, Qt.CheckState.Checked if key in selected else Qt.CheckState.Unchecked)
            if key in selected:
                top.setExpanded(True)

    def item(self, section: str, name: str) -> QTreeWidgetItem | None:
        for i in range(self.tree.topLevelItemCount()):
            top = self.tree.topLevelItem(i)
            if top.text(0) == section:
                for j in range(top.childCount()):
                    if top.child(j).text(0) == name:
                        return top.child(j)
        return None

    def selected_keys(self) -> list[str]:
        return self._checked(range(0, 1))
