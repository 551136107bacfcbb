"""SCATTER: one metric (LAST / MIN / MAX) against one hyperparameter, a point per experiment in
its page colour (feature inventory 4.2, "Hyperparameters › Scatter Plot").

Hovering a point names its experiment with both values and the extra fields chosen in
"More in tooltip" (the reference's "Additional data point information"). A parameter
whose values are not all numbers gets a categorical axis.
"""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QVBoxLayout,
)

from exptable_desktop.core import compare_diff as cd
from exptable_desktop.core.compare_export import write_axes_csv
from exptable_desktop.core.compare_palette import ComparedExperiment
from exptable_desktop.ui.comparison.export import export_button
from exptable_desktop.ui.comparison.parallel_tab import HyperparamPlotTab, axis_value_text
from exptable_desktop.ui.palette import themed

KEY_SEPARATOR = "\x1f"
POINT_SIZE = 11
FOCUS_SIZE = 17
HOVER_DISTANCE_PX = 10.0


def combo_key(key: tuple[str, str]) -> str:
    """A (metric, variant) or (section, name) as combo-box data: text compares reliably, tuples do not."""
    return KEY_SEPARATOR.join(key)


def from_combo_key(data) -> tuple[str, str] | None:
    return tuple(data.split(KEY_SEPARATOR, 1)) if isinstance(data, str) and KEY_SEPARATOR in data else None


def log_ticks(values: list[float], most: int = 12) -> list[tuple[float, str]]:
    """Ticks of a log10 axis in the values' own terms: each distinct value when there are few
    (a sweep's 0.001, 0.003, 0.01...), else every power of ten in range."""
    distinct = sorted(set(values))
    if len(distinct) <= most:
        return [(math.log10(v), f"{v:g}") for v in distinct]
    low, high = math.floor(math.log10(distinct[0])), math.ceil(math.log10(distinct[-1]))
    return [(float(k), f"{10.0 ** k:g}") for k in range(low, high + 1)]


class ScatterTab(HyperparamPlotTab):
    """The HYPERPARAMETERS tab's SCATTER view: one metric against one hyperparameter, a point per experiment, with
    hover text and the extra tooltip fields (see the module docstring)."""

    sig_visibility_requested = Signal(str, bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("compareScatterTab")
        self._extra: list[tuple] = []  # ("metric", m, v, which) or ("param", section, name)
        self._x_axis: cd.Axis | None = None
        self._y_axis: cd.Axis | None = None
        self._positions: dict[str, tuple[float, float]] = {}
        self._focused: str | None = None
        self._drawn_param: tuple[str, str] | None = None

        self.metric_combo = QComboBox()
        self.metric_combo.setObjectName("scatterMetric")
        self.metric_combo.setMinimumContentsLength(18)
        self.metric_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.which_combo = QComboBox()
        self.which_combo.setObjectName("scatterWhich")
        for which in cd.METRIC_FIELDS:
            self.which_combo.addItem(which.upper(), which)
        self.param_combo = QComboBox()
        self.param_combo.setObjectName("scatterParameter")
        self.param_combo.setMinimumContentsLength(18)
        self.param_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.log_x_check = QCheckBox("Log X")
        self.log_x_check.setObjectName("scatterLogX")
        self.extra_button = QPushButton("More in tooltip")
        self.extra_button.setToolTip("Additional data point information: more metrics or parameters in the tooltip")
        self.extra_menu = QMenu(self.extra_button)
        self.extra_button.setMenu(self.extra_menu)
        self.export = export_button(self, [("Plot data as CSV…", "scatter.csv", self.write_csv)],
                                    lambda: self._experiments, lambda: self._hide_identical)

        bar = QHBoxLayout()
        bar.setContentsMargins(8, 6, 8, 2)
        bar.setSpacing(6)
        bar.addWidget(QLabel("Y"))
        bar.addWidget(self.metric_combo, 2)
        bar.addWidget(self.which_combo)
        bar.addSpacing(12)
        bar.addWidget(QLabel("X"))
        bar.addWidget(self.param_combo, 2)
        bar.addWidget(self.log_x_check)
        bar.addSpacing(12)
        bar.addWidget(self.extra_button)
        bar.addStretch(1)
        bar.addWidget(self.export)

        self.hover_label = QLabel()
        self.hover_label.setObjectName("scatterHover")
        self.hover_label.setTextFormat(Qt.TextFormat.PlainText)
        self.hover_label.setWordWrap(True)
        # Three lines, whatever the text: a label that grows on hover would shift the plot under the mouse.
        self.hover_label.setFixedHeight(self.hover_label.fontMetrics().lineSpacing() * 3 + 6)
        self.hover_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.hover_label.setStyleSheet(themed("color: $text_secondary; padding-left: 8px;"))
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("scatterPlot")
        self.plot.setBackground(themed("$surface"))
        item = self.plot.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.hideButtons()
        for name in ("left", "bottom"):
            axis = item.getAxis(name)
            axis.setTextPen(pg.mkPen(themed("$text_secondary")))
            axis.setPen(pg.mkPen(themed("$text_muted")))
            # "(x0.001)" beside a metric's name reads as a different quantity: plain numbers.
            axis.enableAutoSIPrefix(False)
        self.points = pg.ScatterPlotItem(size=POINT_SIZE, pxMode=True)
        item.addItem(self.points)
        self.empty_text = pg.TextItem("", color=themed("$text_muted"), anchor=(0.5, 0.5))
        self.plot.scene().sigMouseMoved.connect(self._mouse_moved)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self.hover_label)
        layout.addWidget(self.plot, 1)

        self.metric_combo.currentIndexChanged.connect(self.redraw)
        self.which_combo.currentIndexChanged.connect(self.redraw)
        self.param_combo.currentIndexChanged.connect(self.redraw)
        self.log_x_check.toggled.connect(self.redraw)

    # -- Data ------------------------------------------------------------------------------
    def _fill_choices(self) -> None:
        metric = self.metric_combo.currentData()
        param = self.param_combo.currentData()
        for combo in (self.metric_combo, self.param_combo):
            combo.blockSignals(True)
            combo.clear()
        for m, v in self._metrics:
            self.metric_combo.addItem(f"{m} / {v}", combo_key((m, v)))
        candidates = self._candidate_params()
        for section, name in candidates:
            self.param_combo.addItem(cd.hyperparameter_label(section, name), combo_key((section, name)))
        if metric is not None and self.metric_combo.findData(metric) >= 0:
            self.metric_combo.setCurrentIndex(self.metric_combo.findData(metric))
        if param is None or self.param_combo.findData(param) < 0:
            # Plotting against a parameter every run shares says nothing: a differing one first.
            differing = [k for k in cd.differing_hyperparameters(self._hp, [e.id for e in self._experiments])
                         if k in set(candidates)]
            chosen = differing[0] if differing else (candidates[0] if candidates else None)
            param = combo_key(chosen) if chosen is not None else None
        if param is not None and self.param_combo.findData(param) >= 0:
            self.param_combo.setCurrentIndex(self.param_combo.findData(param))
        for combo in (self.metric_combo, self.param_combo):
            combo.blockSignals(False)
        self._fill_extra_menu()

    def _fill_extra_menu(self) -> None:
        self.extra_menu.clear()
        known = set()
        metrics_menu = self.extra_menu.addMenu("Metrics")
        for m, v in self._metrics:
            for which in cd.METRIC_FIELDS:
                key = ("metric", m, v, which)
                known.add(key)
                action = metrics_menu.addAction(cd.metric_label(m, v, which))
                action.setCheckable(True)
                action.setChecked(key in self._extra)
                action.toggled.connect(lambda on, k=key: self.set_extra(k, on))
        params_menu = self.extra_menu.addMenu("Parameters")
        for section, name in self._hp:
            key = ("param", section, name)
            known.add(key)
            action = params_menu.addAction(cd.hyperparameter_label(section, name))
            action.setCheckable(True)
            action.setChecked(key in self._extra)
            action.toggled.connect(lambda on, k=key: self.set_extra(k, on))
        self._extra = [k for k in self._extra if k in known]

    def set_extra(self, key: tuple, on: bool) -> None:
        """Add (or remove) ``("metric", m, v, which)`` or ``("param", section, name)`` to the tooltip."""
        if on and key not in self._extra:
            self._extra.append(key)
        elif not on and key in self._extra:
            self._extra.remove(key)

    def choose(self, metric: tuple[str, str] | None = None, which: str | None = None,
               param: tuple[str, str] | None = None) -> None:
        if metric is not None:
            self.metric_combo.setCurrentIndex(self.metric_combo.findData(combo_key(metric)))
        if which is not None:
            self.which_combo.setCurrentIndex(self.which_combo.findData(which))
        if param is not None:
            self.param_combo.setCurrentIndex(self.param_combo.findData(combo_key(param)))

    # -- Drawing ---------------------------------------------------------------------------
    def axes(self) -> tuple[cd.Axis | None, cd.Axis | None]:
        return self._x_axis, self._y_axis

    def visible_experiments(self) -> list[ComparedExperiment]:
        return [e for e in self._experiments if not e.hidden]

    def redraw(self, *_args) -> None:
        item = self.plot.getPlotItem()
        item.removeItem(self.empty_text)
        metric = from_combo_key(self.metric_combo.currentData())
        param = from_combo_key(self.param_combo.currentData())
        which = self.which_combo.currentData()
        self._positions = {}
        self._focused = None
        if metric is None or param is None:
            self._x_axis = self._y_axis = None
            self.points.setData([])
            self.empty_text.setText("No metric to plot" if metric is None else "No hyperparameter to plot against")
            view = item.getViewBox()
            view.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
            self.empty_text.setPos(0.5, 0.5)
            item.addItem(self.empty_text)
            self.hover_label.setText("")
            return
        self._x_axis = x_axis = cd.hyperparameter_axis(self._hp, *param)
        self._y_axis = y_axis = cd.metric_axis(self._metrics, metric[0], metric[1], which)
        if param != self._drawn_param:
            # A new parameter starts in the scale its values suit (log for a learning-rate sweep).
            self._drawn_param = param
            blocked = self.log_x_check.blockSignals(True)
            self.log_x_check.setChecked(x_axis.log)
            self.log_x_check.blockSignals(blocked)
        log_x = (self.log_x_check.isChecked() and not x_axis.categorical and bool(x_axis.positions)
                 and all(v > 0 for v in x_axis.positions.values()))
        self.log_x_check.setEnabled(not x_axis.categorical)
        spots = []
        for experiment in self.visible_experiments():
            if experiment.id not in x_axis.positions or experiment.id not in y_axis.positions:
                continue
            x = x_axis.positions[experiment.id]
            x = math.log10(x) if log_x else x
            y = y_axis.positions[experiment.id]
            self._positions[experiment.id] = (x, y)
            colour = QColor(experiment.colour)
            spots.append({"pos": (x, y), "data": experiment.id, "brush": pg.mkBrush(colour),
                          "pen": pg.mkPen(colour.darker(140), width=1), "size": POINT_SIZE})
        self.points.setData(spots)
        bottom = item.getAxis("bottom")
        if x_axis.categorical:
            bottom.setTicks([[(float(n), c) for n, c in enumerate(x_axis.categories)]])
        elif log_x:
            bottom.setTicks([log_ticks(list(x_axis.positions.values()))])
        else:
            bottom.setTicks(None)
        item.setLogMode(x=False, y=False)
        item.setLabel("bottom", x_axis.label + (" (log scale)" if log_x else ""))
        item.setLabel("left", y_axis.label)
        view = item.getViewBox()
        view.enableAutoRange()
        if x_axis.categorical:
            view.setXRange(-0.5, max(len(x_axis.categories) - 0.5, 0.5), padding=0.02)
        missing = len(self.visible_experiments()) - len(spots)
        note = f" ({missing} without both values)" if missing else ""
        self.hover_label.setText(f"{len(spots)} experiment{'' if len(spots) == 1 else 's'}{note}. "
                                 f"Hover a point for its name and values.")

    def spot_count(self) -> int:
        return len(self._positions)

    # -- Hover -----------------------------------------------------------------------------
    def experiment_at(self, scene_pos: QPointF) -> str | None:
        if not self._positions:
            return None
        view = self.plot.getPlotItem().getViewBox()
        ids = list(self._positions)
        xy = np.array([self._positions[i] for i in ids], dtype=float)
        origin = view.mapViewToScene(QPointF(0.0, 0.0))
        unit = view.mapViewToScene(QPointF(1.0, 1.0))
        sx = origin.x() + xy[:, 0] * (unit.x() - origin.x())
        sy = origin.y() + xy[:, 1] * (unit.y() - origin.y())
        distances = np.hypot(sx - scene_pos.x(), sy - scene_pos.y())
        best = int(np.argmin(distances))
        return ids[best] if distances[best] <= HOVER_DISTANCE_PX else None

    def scene_point(self, exp_id: str) -> QPointF:
        x, y = self._positions[exp_id]
        return self.plot.getPlotItem().getViewBox().mapViewToScene(QPointF(x, y))

    def _mouse_moved(self, scene_pos) -> None:
        self.focus(self.experiment_at(scene_pos))

    def focused(self) -> str | None:
        return self._focused

    def focus(self, exp_id: str | None) -> None:
        if exp_id not in self._positions:
            exp_id = None  # hidden, or without values on these axes: nothing to focus
        if exp_id == self._focused:
            return
        self._focused = exp_id
        for spot in self.points.points():
            spot.setSize(FOCUS_SIZE if spot.data() == exp_id else POINT_SIZE)
        if exp_id is None:
            self.plot.setToolTip("")
            return
        text = self.describe(exp_id)
        self.hover_label.setText(text)
        self.plot.setToolTip(text)

    def describe(self, exp_id: str) -> str:
        """The hover text: name, then X and Y, then the extra fields."""
        experiment = next(e for e in self._experiments if e.id == exp_id)
        parts = [f"{self._x_axis.label} = {axis_value_text(self._x_axis, exp_id)}",
                 f"{self._y_axis.label} = {axis_value_text(self._y_axis, exp_id)}"]
        for key in self._extra:
            if key[0] == "metric":
                axis = cd.metric_axis(self._metrics, key[1], key[2], key[3])
            else:
                axis = cd.hyperparameter_axis(self._hp, key[1], key[2])
            parts.append(f"{axis.label} = {axis_value_text(axis, exp_id)}")
        return f"{experiment.name}\n" + "   ".join(parts)

    # -- Export ----------------------------------------------------------------------------
    def write_csv(self, out) -> int:
        axes = [a for a in (self._x_axis, self._y_axis) if a is not None]
        return write_axes_csv(out, self._experiments, axes)
