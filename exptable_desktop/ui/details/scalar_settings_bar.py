"""The settings of an experiment's SCALARS tab (feature inventory 4.3): the values, and the bar
that shows them above the plots (two rows) or beside them in full screen (a column)."""
from __future__ import annotations

from dataclasses import dataclass

import shiboken6
from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import smoothing
from exptable_desktop.ui.scalar_tools import ScalarTools, ScalarToolSettings

GROUP_METRIC = "metric"
GROUP_NONE = "none"


@dataclass
class ScalarSettings(ScalarToolSettings):
    """The tools' values plus how plots are grouped: a plot per metric, or per metric and variant."""

    group_by: str = GROUP_METRIC


def _empty_layout(layout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        if item.layout() is not None:
            _empty_layout(item.layout())


class ScalarSettingsBar(QWidget):
    """The settings of feature inventory 4.3 plus the plot search and the eye menu."""

    sig_settings_changed = Signal()

    def __init__(self, settings: ScalarSettings, parent=None):
        super().__init__(parent)
        self.setObjectName("scalarSettings")
        self.settings = settings
        self.search_box = QLineEdit()
        self.search_box.setObjectName("scalarSearch")
        self.search_box.setPlaceholderText("Search plots")
        self.search_box.setClearButtonEnabled(True)
        self.eye_button = QToolButton()
        self.eye_button.setObjectName("scalarVisibility")
        self.eye_button.setText("Plots")
        self.eye_button.setToolTip("Show or hide plots")
        self.eye_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.group_combo = QComboBox()
        self.group_combo.addItem("Metric", GROUP_METRIC)
        self.group_combo.addItem("None", GROUP_NONE)
        self.tools = ScalarTools("scalar", alpha_step=0.001, odd_sizes=True)
        (self.axis_combo, self.smoothing_combo, self.alpha_spin, self.window_spin, self.kernel_spin,
         self.sigma_spin, self.originals_check, self.log_check, self.width_spin) = self.tools.widgets()
        self.smoothing_combo.setMinimumContentsLength(16)
        self._syncing = False
        self.sync_from_settings()
        self.group_combo.currentIndexChanged.connect(self._read)
        self.tools.connect(self._read)
        self._layout: QVBoxLayout | QFormLayout | None = None
        self._labels: list[QLabel] = []
        self.arrange(sidebar=False)

    def arrange(self, sidebar: bool) -> None:
        """Two rows above the plots in the panel; a column at the left in full screen."""
        if self._layout is not None:
            for label in self._labels:
                shiboken6.delete(label)
            self._labels = []
            _empty_layout(self._layout)
            shiboken6.delete(self._layout)
        widgets = [self.search_box, self.eye_button, self.group_combo, *self.tools.widgets()]
        if sidebar:
            layout = QFormLayout(self)
            layout.setContentsMargins(8, 8, 8, 8)
            layout.addRow(self.search_box)
            layout.addRow(self.eye_button)
            layout.addRow(self._label("Group by"), self.group_combo)
            layout.addRow(self._label("X axis"), self.axis_combo)
            layout.addRow(self._label("Smoothing"), self.smoothing_combo)
            for widget in (*self.tools.smoothing_widgets()[1:], self.log_check, self.width_spin):
                layout.addRow(widget)
            self.setMaximumWidth(240)
        else:
            layout = QVBoxLayout(self)
            layout.setContentsMargins(8, 6, 8, 2)
            layout.setSpacing(4)
            first, second = QHBoxLayout(), QHBoxLayout()
            first.addWidget(self.search_box, 1)
            first.addWidget(self.eye_button)
            first.addSpacing(12)
            first.addWidget(self._label("Group by"))
            first.addWidget(self.group_combo)
            first.addSpacing(12)
            first.addWidget(self._label("X axis"))
            first.addWidget(self.axis_combo)
            second.addWidget(self._label("Smoothing"))
            for widget in self.tools.smoothing_widgets():
                second.addWidget(widget)
            second.addSpacing(12)
            second.addWidget(self.log_check)
            second.addWidget(self.width_spin)
            second.addStretch(1)
            layout.addLayout(first)
            layout.addLayout(second)
            self.setMaximumWidth(16777215)
        for widget in widgets:
            widget.setParent(self)
        self._layout = layout
        self.show_parameters()

    def _label(self, text: str) -> QLabel:
        # Labels are rebuilt with each arrangement; the old ones go with the old layout's owner.
        label = QLabel(text)
        self._labels.append(label)
        return label

    def sync_from_settings(self) -> None:
        """Show ``settings`` in the widgets without reading them back half-way."""
        self._syncing = True
        try:
            self._sync_widgets()
        finally:
            self._syncing = False

    def _sync_widgets(self) -> None:
        self.group_combo.setCurrentIndex(max(0, self.group_combo.findData(self.settings.group_by)))
        self.tools.show(self.settings)

    def show_parameters(self) -> None:
        self.tools.show_parameters(self.settings.method)
        self.originals_check.setEnabled(self.settings.method != smoothing.NO_SMOOTHING)

    def _read(self) -> None:
        if self._syncing:
            return
        self.settings.group_by = self.group_combo.currentData()
        self.tools.read_into(self.settings)
        self.show_parameters()
        self.sig_settings_changed.emit()
