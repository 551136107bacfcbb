"""The "+ Metrics" and "+ Hyperparameters" dialogs: searchable trees of what the project reports;
the metrics one also makes "at best step" columns (one metric where another is at its min or max)."""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from exptable_desktop.core.columns import (
    BEST_MODES,
    BEST_STEP_RULE,
    METRIC_FIELD_LABELS,
    best_step_key,
    hyperparam_key,
    metric_key,
    spec_for,
)

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


def _series_combo(variants: list[tuple[str, str]], object_name: str) -> QComboBox:
    """A metric › variant chooser that completes what is typed (any part of the name)."""
    combo = QComboBox()
    combo.setObjectName(object_name)
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    for metric, variant in variants:
        combo.addItem(f"{metric} › {variant}", (metric, variant))
    combo.completer().setFilterMode(Qt.MatchFlag.MatchContains)
    combo.completer().setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
    combo.setMinimumContentsLength(18)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    return combo


def _chosen_series(combo: QComboBox) -> tuple[str, str] | None:
    """The series the combo names: its text must be one of its items (typed or picked)."""
    index = combo.findText(combo.currentText(), Qt.MatchFlag.MatchExactly)
    return combo.itemData(index) if index >= 0 else None


class BestStepPanel(QGroupBox):
    """Columns of one metric at the iteration where another is best: pick both and min or max, Add;
    every such column is a checkable line (unchecked ones are removed when the dialog is accepted)."""

    def __init__(self, variants: list[tuple[str, str]], selected: set[str], parent=None):
        super().__init__("A metric at the best step of another", parent)
        self.setObjectName("bestStepPanel")
        self.setToolTip(BEST_STEP_RULE)
        layout = QVBoxLayout(self)
        row = QHBoxLayout()
        self.shown_box = _series_combo(variants, "bestStepMetric")
        self.best_box = QComboBox()
        self.best_box.setObjectName("bestStepMode")
        for best in BEST_MODES:
            self.best_box.addItem(best, best)
        self.reference_box = _series_combo(variants, "bestStepReference")
        if len(variants) > 1:
            self.reference_box.setCurrentIndex(1)
        self.add_button = QPushButton("Add")
        self.add_button.setObjectName("bestStepAdd")
        self.add_button.clicked.connect(self.add_current)
        for widget in (QLabel("Show"), self.shown_box, QLabel("where"), self.reference_box, QLabel("is at its"),
                       self.best_box, self.add_button):
            row.addWidget(widget)
        row.addStretch(1)
        layout.addLayout(row)
        rule = QLabel(BEST_STEP_RULE)
        rule.setWordWrap(True)
        layout.addWidget(rule)
        self.columns_list = QListWidget()
        self.columns_list.setObjectName("bestStepList")
        self.columns_list.setMaximumHeight(90)
        layout.addWidget(self.columns_list)
        for key in sorted(k for k in selected if spec_for(k).at_best_step):
            self._add_item(key)
        for combo in (self.shown_box, self.reference_box):
            combo.currentTextChanged.connect(self._update_button)
        self.best_box.currentIndexChanged.connect(self._update_button)
        self._update_button()

    def current_key(self) -> str | None:
        """The column the choosers describe, or None while one of them names no series."""
        shown, reference = _chosen_series(self.shown_box), _chosen_series(self.reference_box)
        if shown is None or reference is None:
            return None
        return best_step_key(shown[0], shown[1], self.best_box.currentData(), reference[0], reference[1])

    def _keys(self) -> list[str]:
        return [self.columns_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.columns_list.count())]

    def _update_button(self) -> None:
        key = self.current_key()
        self.add_button.setEnabled(key is not None and key not in self._keys())

    def _add_item(self, key: str) -> QListWidgetItem:
        spec = spec_for(key)
        item = QListWidgetItem(spec.title)
        item.setData(Qt.ItemDataRole.UserRole, key)
        item.setToolTip(spec.description)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked)
        self.columns_list.addItem(item)
        return item

    def add_current(self) -> None:
        key = self.current_key()
        if key is not None and key not in self._keys():
            self._add_item(key)
        self._update_button()

    def add(self, metric: str, variant: str, best: str, ref_metric: str, ref_variant: str) -> None:
        """Choose these in the choosers and press Add (as a person would)."""
        self.shown_box.setCurrentText(f"{metric} › {variant}")
        self.reference_box.setCurrentText(f"{ref_metric} › {ref_variant}")
        self.best_box.setCurrentIndex(self.best_box.findData(best))
        self.add_button.click()

    def selected_keys(self) -> list[str]:
        return [self.columns_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.columns_list.count())
                if self.columns_list.item(i).checkState() == Qt.CheckState.Checked]


class MetricsDialog(_TreeDialog):
    """Metric > variant, with LAST / MIN / MAX boxes that each make a column; below, columns of a
    metric at the step where another is best."""

    def __init__(self, variants: list[tuple[str, str]], selected: set[str], parent=None):
        super().__init__("Add metric columns", ["Metric / variant", "LAST", "MIN", "MAX"], parent)
        self.resize(560, 680)
        self.best_step = BestStepPanel(variants, selected, self)
        layout = self.layout()
        layout.insertWidget(layout.indexOf(self.tree) + 1, self.best_step)
        layout.setStretchFactor(self.tree, 1)  # the tree takes the height; the panel keeps its own
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
        return self._checked(range(1, 4)) + self.best_step.selected_keys()


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
