"""The compare page's HYPERPARAMETERS tab: VALUES (the parameters side by side per section, the
differences highlighted), PARALLEL COORDINATES and SCATTER (feature inventory 4.2, 4.5).

"Show differing in the table" asks the page (``sig_table_columns_requested``) to add a column to
the experiments table for every hyperparameter whose value is not the same in all the
compared experiments.
"""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import compare_diff as cd
from exptable_desktop.core.compare_export import write_diff_csv
from exptable_desktop.core.compare_palette import ComparedExperiment
from exptable_desktop.ui.comparison.details_tab import DiffTable
from exptable_desktop.ui.comparison.export import export_button
from exptable_desktop.ui.comparison.parallel_tab import ParallelTab
from exptable_desktop.ui.comparison.scatter_tab import ScatterTab
from exptable_desktop.ui.palette import themed

VALUES, PARALLEL, SCATTER = "values", "parallel", "scatter"
VIEW_TITLES = {VALUES: "VALUES", PARALLEL: "PARALLEL COORDINATES", SCATTER: "SCATTER"}


class HyperparamsTab(QWidget):
    """The compare page's HYPERPARAMETERS tab: switches between the VALUES table and the PARALLEL COORDINATES and
    SCATTER plots, and finds the parameters that differ for "Show differing in the table"."""

    sig_table_columns_requested = Signal(list)  # experiments-table column keys ("hp:section/name")
    sig_visibility_requested = Signal(str, bool)
    sig_order_changed = Signal(list)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("compareHyperparamsTab")
        self._experiments: list[ComparedExperiment] = []
        self._loaded_ids: list[str] = []
        self._hp: cd.HyperparamTable = {}
        self._metrics: cd.MetricTable = {}

        self.view_buttons: dict[str, QToolButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        switch = QHBoxLayout()
        switch.setContentsMargins(8, 6, 8, 0)
        switch.setSpacing(0)
        for key, title in VIEW_TITLES.items():
            button = QToolButton()
            button.setText(title)
            button.setCheckable(True)
            button.setObjectName(f"hyperparamsView_{key}")
            button.setStyleSheet(
                themed("QToolButton { padding: 4px 12px; border: 1px solid $border; background: $surface_alt; color: $text_secondary; }"
                "QToolButton:checked { background: $surface; color: $accent; font-weight: 600;"
                " border-bottom: 2px solid $accent; }"))
            bold = QFont(button.font())
            bold.setBold(True)
            # As wide as its bold (checked) text, so checking it does not clip the title.
            button.setMinimumWidth(QFontMetrics(bold).horizontalAdvance(title) + 30)
            button.clicked.connect(lambda _on=False, k=key: self.show_view(k))
            group.addButton(button)
            switch.addWidget(button)
            self.view_buttons[key] = button
        switch.addStretch(1)
        self.table_button = QPushButton("Show differing in the table")
        self.table_button.setObjectName("hyperparamsToTable")
        self.table_button.setToolTip("Add a column to the experiments table for every hyperparameter that is "
                                     "not the same in all these experiments")
        self.table_button.clicked.connect(self.show_differing_in_table)
        switch.addWidget(self.table_button)

        self.values = DiffTable("PARAMETER")
        self.values.hide_check.hide()  # the page's header has the toggle
        self.values.sig_order_changed.connect(self.sig_order_changed)
        self.values_export = export_button(
            self, [("Hyperparameters as CSV…", "hyperparameters.csv", self.write_csv)],
            lambda: self._experiments, self.values.model.hides_identical)
        self.values.bar.addWidget(self.values_export)
        self.parallel = ParallelTab()
        self.scatter = ScatterTab()
        self.parallel.sig_visibility_requested.connect(self.sig_visibility_requested)
        self.scatter.sig_visibility_requested.connect(self.sig_visibility_requested)
        self.stack = QStackedWidget()
        self.pages = {VALUES: self.values, PARALLEL: self.parallel, SCATTER: self.scatter}
        for page in self.pages.values():
            self.stack.addWidget(page)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(switch)
        layout.addWidget(self.stack, 1)
        self.show_view(VALUES)

    def show_view(self, key: str) -> None:
        self.view_buttons[key].setChecked(True)
        self.stack.setCurrentWidget(self.pages[key])

    def current_view(self) -> str:
        return next(k for k, page in self.pages.items() if page is self.stack.currentWidget())

    # -- Data ------------------------------------------------------------------------------
    def set_experiments(self, experiments: list[ComparedExperiment]) -> None:
        ids = [e.id for e in experiments]
        self._experiments = list(experiments)
        if sorted(ids) == sorted(self._loaded_ids):
            self.values.set_experiment_looks(self._experiments)
            self.parallel.set_data(self._experiments, self._hp, self._metrics)
            self.scatter.set_data(self._experiments, self._hp, self._metrics)
            return
        self.refresh()

    def refresh(self) -> None:
        ids = [e.id for e in self._experiments]
        self._loaded_ids = ids
        self._hp = cd.load_hyperparameters(ids)
        self._metrics = cd.load_metric_values(ids)
        self.values.set_comparison(self._experiments, cd.hyperparameter_records(self._hp, ids))
        self.parallel.set_data(self._experiments, self._hp, self._metrics)
        self.scatter.set_data(self._experiments, self._hp, self._metrics)
        self._update_table_button()

    def hide_identical(self, on: bool) -> None:
        self.values.hide_identical(on)
        self.parallel.hide_identical(on)
        self.scatter.hide_identical(on)

    def set_base(self, exp_id: str) -> None:
        self.values.set_base(exp_id)

    def experiments(self) -> list[ComparedExperiment]:
        return list(self._experiments)

    def highlight_experiment(self, exp_id: str | None) -> None:
        """The page's legend row under the mouse: focus its line and point."""
        self.parallel.focus(exp_id)
        self.scatter.focus(exp_id)

    # -- To the experiments table ----------------------------------------------------------
    def differing_columns(self) -> list[str]:
        return cd.differing_hyperparameter_columns(self._hp, [e.id for e in self._experiments])

    def show_differing_in_table(self) -> list[str]:
        keys = self.differing_columns()
        if keys:
            self.sig_table_columns_requested.emit(keys)
        return keys

    def _update_table_button(self) -> None:
        count = len(self.differing_columns())
        self.table_button.setEnabled(count > 0)
        self.table_button.setText(f"Show {count} differing in the table" if count else "No differing parameters")

    def write_csv(self, out) -> int:
        return write_diff_csv(out, self.values.model.experiments(), self.values.model.rows())
