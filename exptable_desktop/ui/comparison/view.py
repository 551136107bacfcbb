"""Overlaid scalar plots of several experiments (feature inventory 4.1 A, tools of 4.3).

One plot per metric and variant ("Metric + Variant" grouping), one curve per
experiment in a colour of its own, named in each plot's legend. The stored
series are read once per load; smoothing, log scale and the search only redraw
or hide what is already in memory.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QScrollArea,
    QSlider,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import smoothing
from exptable_desktop.store.series import list_series, read_series
from exptable_desktop.ui.details.common import empty_state
from exptable_desktop.ui.details.scalars_tab import PALETTE, PLOT_HEIGHT, X_ITERATIONS, X_WALL_TIME

MAX_EXPERIMENTS = 100
X_AXIS_LABELS = {X_ITERATIONS: "Iterations", X_WALL_TIME: "Wall time"}
# The slider works in hundredths: 0 .. 0.99 of exponential-moving-average weight.
SMOOTHING_STEPS = 99
LEGEND_ROWS = 8
WIDE_VIEWPORT = 1000


def experiment_colour(index: int) -> str:
    """The details panel's palette first, then evenly spread hues so 100 curves stay apart."""
    if index < len(PALETTE):
        return PALETTE[index]
    return pg.intColor(index - len(PALETTE), hues=max(9, MAX_EXPERIMENTS - len(PALETTE)),
                       values=2, maxValue=220, minValue=150).name()


def plot_title(key: tuple[str, str]) -> str:
    return f"{key[0]} / {key[1]}"


@dataclass
class ComparedExperiment:
    exp_id: str
    name: str
    colour: str


class ComparisonView(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("comparisonView")
        self._experiments: list[ComparedExperiment] = []
        # (metric, variant) -> {experiment id: stored series}
        self._series: dict[tuple[str, str], dict[str, object]] = {}
        self._plots: dict[tuple[str, str], pg.PlotWidget] = {}
        self._curves: dict[tuple[str, str], dict[str, pg.PlotDataItem]] = {}
        self._columns = 0

        self.header = QLabel()
        self.header.setObjectName("comparisonHeader")
        font = self.header.font()
        font.setBold(True)
        font.setPointSize(font.pointSize() + 1)
        self.header.setFont(font)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("comparisonSearch")
        self.search_box.setPlaceholderText("Search plots")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setMaximumWidth(280)
        self.axis_combo = QComboBox()
        self.axis_combo.setObjectName("comparisonXAxis")
        for key, label in X_AXIS_LABELS.items():
            self.axis_combo.addItem(label, key)
        self.smoothing_slider = QSlider(Qt.Orientation.Horizontal)
        self.smoothing_slider.setObjectName("comparisonSmoothing")
        self.smoothing_slider.setRange(0, SMOOTHING_STEPS)
        self.smoothing_slider.setFixedWidth(160)
        self.smoothing_slider.setToolTip("Exponential moving average weight of the past")
        self.smoothing_value = QLabel()
        self.smoothing_value.setMinimumWidth(32)
        self.log_check = QCheckBox("Log scale")
        self.log_check.setObjectName("comparisonLogScale")

        bar = QHBoxLayout()
        bar.setContentsMargins(10, 8, 10, 4)
        bar.addWidget(self.header)
        bar.addSpacing(16)
        bar.addWidget(self.search_box, 1)
        bar.addSpacing(12)
        bar.addWidget(QLabel("X axis"))
        bar.addWidget(self.axis_combo)
        bar.addSpacing(12)
        bar.addWidget(QLabel("Smoothing"))
        bar.addWidget(self.smoothing_slider)
        bar.addWidget(self.smoothing_value)
        bar.addSpacing(12)
        bar.addWidget(self.log_check)
        bar.addStretch(1)

        self.canvas = QWidget()
        self.grid = QGridLayout(self.canvas)
        self.grid.setContentsMargins(8, 4, 8, 8)
        self.grid.setSpacing(8)
        self.grid.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.canvas)
        self.empty_label = empty_state("NO SCALARS TO COMPARE")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.scroll)
        self.stack.addWidget(self.empty_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.stack, 1)

        self.search_box.textChanged.connect(self._apply_visibility)
        self.axis_combo.currentIndexChanged.connect(self._build_plots)
        self.smoothing_slider.valueChanged.connect(self._smoothing_changed)
        self.log_check.toggled.connect(self._log_changed)
        self._smoothing_changed()
        self.set_experiments([])

    # -- Data -----------------------------------------------------------------------------
    def set_experiments(self, experiments: list[tuple[str, str]]) -> None:
        """Compare ``(id, name)`` pairs, in that order; only the first MAX_EXPERIMENTS count."""
        experiments = list(experiments)[:MAX_EXPERIMENTS]
        self._experiments = [ComparedExperiment(exp_id, name, experiment_colour(n))
                             for n, (exp_id, name) in enumerate(experiments)]
        self._series = {}
        for experiment in self._experiments:
            for key in list_series(experiment.exp_id):
                self._series.setdefault(key, {})[experiment.exp_id] = read_series(experiment.exp_id, *key)
        count = len(self._experiments)
        self.header.setText(f"Comparing {count} experiment{'' if count == 1 else 's'}")
        self._build_plots()

    def experiment_ids(self) -> list[str]:
        return [e.exp_id for e in self._experiments]

    # -- Settings -------------------------------------------------------------------------
    def x_axis(self) -> str:
        return self.axis_combo.currentData()

    def smoothing_weight(self) -> float:
        return self.smoothing_slider.value() / 100.0

    def log_scale(self) -> bool:
        return self.log_check.isChecked()

    def _smoothing_changed(self) -> None:
        self.smoothing_value.setText(f"{self.smoothing_weight():.2f}")
        for key in self._curves:
            self._update_curves(key)

    def _log_changed(self) -> None:
        for key, widget in self._plots.items():
            widget.getPlotItem().setLogMode(x=False, y=self.log_scale())
            self._update_curves(key)

    # -- Plots ----------------------------------------------------------------------------
    def plot_keys(self) -> list[tuple[str, str]]:
        return sorted(self._series)

    def _build_plots(self) -> None:
        for widget in self._plots.values():
            self.grid.removeWidget(widget)
            # Hidden now: the deferred delete may wait for the event loop, and must not show meanwhile.
            widget.hide()
            widget.deleteLater()
        self._plots.clear()
        self._curves.clear()
        order = {e.exp_id: n for n, e in enumerate(self._experiments)}
        for key in self.plot_keys():
            widget = self._make_plot(key, len(self._series[key]))
            self._plots[key] = widget
            curves = {}
            for exp_id in sorted(self._series[key], key=order.__getitem__):
                experiment = self._experiments[order[exp_id]]
                curve = widget.getPlotItem().plot(pen=pg.mkPen(experiment.colour, width=1.5), name=experiment.name)
                curve.setDownsampling(auto=True, method="peak")
                curve.setClipToView(True)
                curves[exp_id] = curve
            self._curves[key] = curves
            self._update_curves(key)
        self.stack.setCurrentWidget(self.scroll if self._plots else self.empty_label)
        self._apply_visibility()

    def _make_plot(self, key: tuple[str, str], curve_count: int) -> pg.PlotWidget:
        wall_time = self.x_axis() == X_WALL_TIME
        widget = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem()} if wall_time else None)
        widget.setObjectName("comparisonPlot")
        widget.setBackground("w")
        widget.setMinimumHeight(PLOT_HEIGHT + 40)
        item = widget.getPlotItem()
        item.setTitle(plot_title(key), color="#343a40", size="10pt")
        item.showGrid(x=True, y=True, alpha=0.15)
        # Peak downsampling keeps spikes visible; clipping draws only what is in view.
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        item.setLogMode(x=False, y=self.log_scale())
        item.setLabel("bottom", X_AXIS_LABELS[self.x_axis()])
        legend = item.addLegend(offset=(-10, 10), labelTextColor="#343a40", brush=pg.mkBrush(255, 255, 255, 210))
        legend.setColumnCount(max(1, math.ceil(curve_count / LEGEND_ROWS)))
        return widget

    def _update_curves(self, key: tuple[str, str]) -> None:
        weight = self.smoothing_weight()
        log = self.log_scale()
        for exp_id, curve in self._curves.get(key, {}).items():
            series = self._series[key][exp_id]
            x = series.iterations.astype(np.float64) if self.x_axis() == X_ITERATIONS else series.timestamps
            y = smoothing.exponential_moving_average(series.values, weight) if weight > 0 else series.values
            if log:
                # Log of a non-positive value is undefined: a gap, not an error.
                y = np.where(y > 0, y, np.nan)
            curve.setData(x, y, connect="finite")

    # -- Search and layout ----------------------------------------------------------------
    def visible_plot_keys(self) -> list[tuple[str, str]]:
        needle = self.search_box.text().strip().lower()
        return [k for k in self._plots if not needle or needle in plot_title(k).lower()]

    def _apply_visibility(self) -> None:
        self._columns = 0
        self._relayout()

    def _relayout(self) -> None:
        columns = 2 if self.scroll.viewport().width() >= WIDE_VIEWPORT else 1
        visible = self.visible_plot_keys()
        if columns == self._columns and self.grid.count() == len(visible):
            return
        self._columns = columns
        while self.grid.count():
            self.grid.takeAt(0)
        shown = set(visible)
        position = 0
        for key, widget in self._plots.items():
            widget.setVisible(key in shown)
            if key in shown:
                self.grid.addWidget(widget, position // columns, position % columns)
                position += 1

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._relayout()

    # -- For callers and tests ------------------------------------------------------------
    def plot_widget(self, key: tuple[str, str]) -> pg.PlotWidget | None:
        return self._plots.get(key)

    def curves(self, key: tuple[str, str]) -> dict[str, pg.PlotDataItem]:
        """Experiment id -> its curve in the plot of ``key``."""
        return dict(self._curves.get(key, {}))

    def is_empty(self) -> bool:
        return self.stack.currentWidget() is self.empty_label
