"""PARALLEL COORDINATES: each compared experiment a polyline through the chosen parameters and
metrics (LAST / MIN / MAX), in its page colour (feature inventory 4.2, "Hyperparameters ›
Parallel Coordinates").

Every axis is scaled to its own range; a parameter whose values are not all numbers
is a categorical axis with its distinct values as ticks. Hovering a line focuses its
experiment (the others dim) and names it with its values; clicking hides it (on every
tab: ``sig_visibility_requested``); "Show hidden" brings them back.
"""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import compare_diff as cd
from exptable_desktop.core import details as det
from exptable_desktop.core.compare_export import write_axes_csv
from exptable_desktop.core.compare_palette import ComparedExperiment
from exptable_desktop.ui.comparison.common import experiment_pen as common_experiment_pen
from exptable_desktop.ui.comparison.export import export_button
from exptable_desktop.ui.palette import themed, translucent

LINE_WIDTH = 1.6
FOCUS_WIDTH = 3.5
DIM_OPACITY = 0.18
HOVER_DISTANCE_PX = 8.0
DEFAULT_PARAMETERS = 6
AXIS_COLOUR = themed("$text_muted")
LABEL_COLOUR = themed("$text")
TICK_COLOUR = themed("$text_secondary")
SIDE_PANEL_WIDTH = 270
Y_BOTTOM, Y_TOP = -0.03, 1.08


def experiment_pen(experiment: ComparedExperiment, width: float = LINE_WIDTH):
    pen = common_experiment_pen(experiment, width)
    pen.setCosmetic(True)
    return pen


def axis_value_text(axis: cd.Axis, exp_id: str) -> str:
    if exp_id not in axis.raw:
        return "–"
    return axis.raw[exp_id] if axis.categorical else det.format_value(axis.positions[exp_id])


def point_segment_distances(points: np.ndarray, px: float, py: float) -> np.ndarray:
    """Distance from (px, py) to each polyline in ``points`` (lines, vertices, 2), in the same
    units; NaN vertices break a line; inf for a line without a drawable segment."""
    a = points[:, :-1, :]
    b = points[:, 1:, :]
    ab = b - a
    length2 = (ab ** 2).sum(axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        t = ((px - a[..., 0]) * ab[..., 0] + (py - a[..., 1]) * ab[..., 1]) / length2
        t = np.clip(np.where(length2 > 0, t, 0.0), 0.0, 1.0)
    nearest_x = a[..., 0] + t * ab[..., 0]
    nearest_y = a[..., 1] + t * ab[..., 1]
    distance = np.hypot(nearest_x - px, nearest_y - py)
    distance = np.where(np.isfinite(distance), distance, np.inf)
    if distance.shape[1] == 0:
        return np.full(len(points), np.inf)
    return distance.min(axis=1)


class HyperparamPlotTab(QWidget):
    """What the Parallel and Scatter tabs share: the hyperparameter and metric tables of the
    compared experiments, read again only when the set of experiments changes."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self._experiments: list[ComparedExperiment] = []
        self._hp: cd.HyperparamTable = {}
        self._metrics: cd.MetricTable = {}
        self._loaded_ids: list[str] = []
        self._hide_identical = False

    def set_experiments(self, experiments: list[ComparedExperiment]) -> None:
        """Standalone use: read the tables when the set of experiments changed (the Hyperparameters
        tab reads them once for both plots and calls ``set_data``)."""
        ids = [e.id for e in experiments]
        if sorted(ids) != sorted(self._loaded_ids):
            self.set_data(experiments, cd.load_hyperparameters(ids), cd.load_metric_values(ids))
        else:
            self.set_data(experiments, self._hp, self._metrics)

    def set_data(self, experiments: list[ComparedExperiment], hp: cd.HyperparamTable,
                 metrics: cd.MetricTable) -> None:
        self._experiments = list(experiments)
        self._loaded_ids = [e.id for e in experiments]
        changed = hp is not self._hp or metrics is not self._metrics
        self._hp, self._metrics = hp, metrics
        if changed:
            self._fill_choices()
        self.redraw()

    def hide_identical(self, on: bool) -> None:
        """Offer only the parameters whose values differ among the experiments."""
        self._hide_identical = on
        self._fill_choices()
        self.redraw()

    def _candidate_params(self) -> list[tuple[str, str]]:
        if self._hide_identical:
            return cd.differing_hyperparameters(self._hp, [e.id for e in self._experiments])
        return list(self._hp)

    def _fill_choices(self) -> None:
        raise NotImplementedError

    def redraw(self) -> None:
        raise NotImplementedError


class ParallelTab(HyperparamPlotTab):
    """Choose metrics (with LAST / MIN / MAX) and parameters on the left; the plot on the right."""

    sig_visibility_requested = Signal(str, bool)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("compareParallelTab")
        self._locally_hidden: set[str] = set()
        self._axes: list[cd.Axis] = []
        self._curves: dict[str, pg.PlotCurveItem] = {}
        self._points: dict[str, np.ndarray] = {}  # id -> (axes, 2) view coordinates
        self._focused: str | None = None
        self._decorations: list = []
        self._chosen_metrics: set[tuple[str, str, str]] | None = None
        self._chosen_params: set[tuple[str, str]] | None = None

        # -- Choosers --
        self.metric_filter = QLineEdit()
        self.metric_filter.setPlaceholderText("Filter metrics")
        self.metric_filter.setClearButtonEnabled(True)
        self.metric_tree = QTreeWidget()
        self.metric_tree.setObjectName("parallelMetrics")
        self.metric_tree.setHeaderHidden(True)
        self.metric_tree.setUniformRowHeights(True)
        self.param_filter = QLineEdit()
        self.param_filter.setPlaceholderText("Filter parameters")
        self.param_filter.setClearButtonEnabled(True)
        self.param_list = QListWidget()
        self.param_list.setObjectName("parallelParameters")
        self.param_list.setUniformItemSizes(True)
        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(8, 6, 4, 8)
        side_layout.setSpacing(4)
        side_layout.addWidget(self._title("PERFORMANCE METRICS"))
        side_layout.addWidget(self.metric_filter)
        side_layout.addWidget(self.metric_tree, 1)
        side_layout.addSpacing(6)
        side_layout.addWidget(self._title("PARAMETERS"))
        side_layout.addWidget(self.param_filter)
        side_layout.addWidget(self.param_list, 1)
        side.setMinimumWidth(200)

        # -- Plot --
        self.hover_label = QLabel("Hover a line to focus its experiment; click it to hide it.")
        self.hover_label.setObjectName("parallelHover")
        self.hover_label.setTextFormat(Qt.TextFormat.PlainText)
        # Three lines, whatever the text: a label that grows on hover would shift the plot under the mouse.
        self.hover_label.setFixedHeight(self.hover_label.fontMetrics().lineSpacing() * 3 + 6)
        self.hover_label.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.hover_label.setWordWrap(True)
        self.hover_label.setStyleSheet(themed("color: $text_secondary;"))
        self.show_hidden_button = QPushButton()
        self.show_hidden_button.setObjectName("parallelShowHidden")
        self.show_hidden_button.clicked.connect(self.show_all_hidden)
        self.export = export_button(self, [("Plot data as CSV…", "parallel_coordinates.csv", self.write_csv)],
                                    lambda: self._experiments, lambda: self._hide_identical)
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("parallelPlot")
        self.plot.setBackground(themed("$surface"))
        item = self.plot.getPlotItem()
        item.hideAxis("left")
        item.hideAxis("bottom")
        item.setMenuEnabled(False)
        item.hideButtons()
        self.view_box = item.getViewBox()
        self.view_box.setMouseEnabled(False, False)
        self.view_box.setDefaultPadding(0.0)
        self.empty_text = pg.TextItem("", color=themed("$text_muted"), anchor=(0.5, 0.5))
        self.plot.scene().sigMouseMoved.connect(self._mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._mouse_clicked)
        self.view_box.sigResized.connect(self._place_labels)

        top = QHBoxLayout()
        top.setContentsMargins(8, 6, 8, 0)
        top.addWidget(self.hover_label, 1)
        top.addWidget(self.show_hidden_button, 0, Qt.AlignmentFlag.AlignTop)
        top.addWidget(self.export, 0, Qt.AlignmentFlag.AlignTop)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(2)
        right_layout.addLayout(top)
        right_layout.addWidget(self.plot, 1)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(side)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([SIDE_PANEL_WIDTH, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)

        self.metric_tree.itemChanged.connect(self._choice_changed)
        self.param_list.itemChanged.connect(self._choice_changed)
        self.metric_filter.textChanged.connect(self._filter_metrics)
        self.param_filter.textChanged.connect(self._filter_params)
        self._update_hidden_button()

    @staticmethod
    def _title(text: str) -> QLabel:
        label = QLabel(text)
        font = label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 0.9)
        label.setFont(font)
        label.setStyleSheet(themed("color: $text_secondary;"))
        return label

    # -- Data ------------------------------------------------------------------------------
    def set_data(self, experiments: list[ComparedExperiment], hp: cd.HyperparamTable,
                 metrics: cd.MetricTable) -> None:
        """Experiments in page order with the tables read for them (no reading here)."""
        ids = {e.id for e in experiments}
        self._locally_hidden &= ids
        self._locally_hidden -= {e.id for e in experiments if not e.hidden}
        super().set_data(experiments, hp, metrics)

    # -- Choosers --------------------------------------------------------------------------
    def _fill_choices(self) -> None:
        ids = [e.id for e in self._experiments]
        if self._chosen_metrics is None and self._metrics:
            first = next(iter(self._metrics))
            self._chosen_metrics = {(first[0], first[1], "last")}
        if self._chosen_params is None and self._hp:
            self._chosen_params = set(cd.differing_hyperparameters(self._hp, ids)[:DEFAULT_PARAMETERS]
                                      or list(self._hp)[:DEFAULT_PARAMETERS])
        chosen_metrics = self._chosen_metrics or set()
        chosen_params = self._chosen_params or set()
        self.metric_tree.blockSignals(True)
        self.metric_tree.clear()
        for metric, variant in self._metrics:
            parent = QTreeWidgetItem([f"{metric} / {variant}"])
            parent.setFlags(Qt.ItemFlag.ItemIsEnabled)
            parent.setData(0, Qt.ItemDataRole.UserRole, (metric, variant))
            parent.setToolTip(0, f"{metric} / {variant}")
            for which in cd.METRIC_FIELDS:
                child = QTreeWidgetItem([which.upper()])
                child.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                child.setData(0, Qt.ItemDataRole.UserRole, (metric, variant, which))
                child.setCheckState(0, Qt.CheckState.Checked if (metric, variant, which) in chosen_metrics
                                    else Qt.CheckState.Unchecked)
                parent.addChild(child)
            self.metric_tree.addTopLevelItem(parent)
            parent.setExpanded(any((metric, variant, w) in chosen_metrics for w in cd.METRIC_FIELDS))
        self.metric_tree.blockSignals(False)
        self.param_list.blockSignals(True)
        self.param_list.clear()
        for section, name in self._candidate_params():
            item = QListWidgetItem(cd.hyperparameter_label(section, name))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setData(Qt.ItemDataRole.UserRole, (section, name))
            item.setCheckState(Qt.CheckState.Checked if (section, name) in chosen_params else Qt.CheckState.Unchecked)
            item.setToolTip(cd.hyperparameter_label(section, name))
            self.param_list.addItem(item)
        self.param_list.blockSignals(False)
        self._filter_metrics()
        self._filter_params()

    def _choice_changed(self, *_args) -> None:
        metrics = set()
        for n in range(self.metric_tree.topLevelItemCount()):
            parent = self.metric_tree.topLevelItem(n)
            for k in range(parent.childCount()):
                child = parent.child(k)
                if child.checkState(0) == Qt.CheckState.Checked:
                    metrics.add(tuple(child.data(0, Qt.ItemDataRole.UserRole)))
        shown_params = set()
        params = set()
        for n in range(self.param_list.count()):
            item = self.param_list.item(n)
            key = tuple(item.data(Qt.ItemDataRole.UserRole))
            shown_params.add(key)
            if item.checkState() == Qt.CheckState.Checked:
                params.add(key)
        # A choice hidden by "hide identical" is kept for when it shows again.
        self._chosen_params = params | ((self._chosen_params or set()) - shown_params)
        self._chosen_metrics = metrics
        self.redraw()

    def choose(self, metrics: list[tuple[str, str, str]] | None = None,
               params: list[tuple[str, str]] | None = None) -> None:
        """Set the axes: ``(metric, variant, last|min|max)`` and ``(section, name)``."""
        if metrics is not None:
            self._chosen_metrics = set(metrics)
        if params is not None:
            self._chosen_params = set(params)
        self._fill_choices()
        self.redraw()

    def _filter_metrics(self) -> None:
        needle = self.metric_filter.text().strip().lower()
        for n in range(self.metric_tree.topLevelItemCount()):
            item = self.metric_tree.topLevelItem(n)
            item.setHidden(bool(needle) and needle not in item.text(0).lower())

    def _filter_params(self) -> None:
        needle = self.param_filter.text().strip().lower()
        for n in range(self.param_list.count()):
            item = self.param_list.item(n)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    # -- Axes and drawing ------------------------------------------------------------------
    def axes(self) -> list[cd.Axis]:
        """Parameters first (in the table's order), then the metrics: the outcome reads last."""
        candidates = set(self._candidate_params())
        params = [k for k in self._hp if k in (self._chosen_params or set()) and k in candidates]
        metric_keys = [(m, v, w) for (m, v) in self._metrics for w in cd.METRIC_FIELDS
                       if (m, v, w) in (self._chosen_metrics or set())]
        return ([cd.hyperparameter_axis(self._hp, s, n) for s, n in params]
                + [cd.metric_axis(self._metrics, m, v, w) for m, v, w in metric_keys])

    def visible_experiments(self) -> list[ComparedExperiment]:
        return [e for e in self._experiments if not e.hidden and e.id not in self._locally_hidden]

    def redraw(self) -> None:
        self.plot.getPlotItem().clear()
        self._decorations = []
        self._curves = {}
        self._points = {}
        self._focused = None
        self._axes = self.axes()
        count = len(self._axes)
        self._update_hidden_button()
        if not self._experiments or count == 0:
            self._show_empty("Choose parameters and metrics on the left" if self._experiments
                             else "No experiments to compare")
            return
        self.view_box.setRange(xRange=(-0.5, count - 0.5), yRange=(Y_BOTTOM, Y_TOP), padding=0)
        axis_x = np.repeat(np.arange(count, dtype=float), 2)
        axis_y = np.tile([0.0, 1.0], count)
        lines = pg.PlotCurveItem(axis_x, axis_y, connect="pairs", pen=pg.mkPen(AXIS_COLOUR, width=1))
        self.plot.addItem(lines)
        self._decorations.append(lines)
        x = np.arange(count, dtype=float)
        for experiment in self.visible_experiments():
            y = np.array([np.nan if (v := axis.normalised(experiment.id)) is None else v for axis in self._axes])
            if not np.isfinite(y).any():
                continue
            curve = pg.PlotCurveItem(x, y, pen=experiment_pen(experiment), connect="finite")
            self.plot.addItem(curve)
            self._curves[experiment.id] = curve
            self._points[experiment.id] = np.column_stack([x, y])
            if count == 1 or np.isfinite(y).sum() == 1:
                # A lone value draws no segment: a dot shows where it is.
                dots = pg.ScatterPlotItem(x[np.isfinite(y)], y[np.isfinite(y)], size=7,
                                          brush=pg.mkBrush(experiment.colour), pen=None)
                self.plot.addItem(dots)
                curve.dots = dots
        self._add_labels()
        self.hover_label.setText(f"{len(self._curves)} experiment{'' if len(self._curves) == 1 else 's'} on "
                                 f"{count} ax{'is' if count == 1 else 'es'}. Hover a line to focus its experiment; "
                                 f"click it to hide it.")

    def _show_empty(self, text: str) -> None:
        self.view_box.setRange(xRange=(0, 1), yRange=(0, 1), padding=0)
        self.empty_text.setText(text)
        self.empty_text.setPos(0.5, 0.5)
        self.plot.addItem(self.empty_text)
        self.hover_label.setText("")

    def _add_labels(self) -> None:
        small = QFont()
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.8))
        bold = QFont()
        bold.setBold(True)
        bold.setPointSizeF(max(7.5, bold.pointSizeF() * 0.85))
        self._title_items = []
        for n, axis in enumerate(self._axes):
            for place, text in axis.tick_labels():
                # A light fill keeps the values legible where lines cross them.
                tick = pg.TextItem(text, color=TICK_COLOUR, anchor=(1.0, 0.5), fill=translucent("surface", 200))
                tick.setFont(small)
                tick.setZValue(20)
                tick.setPos(n - 0.015, place)
                self.plot.addItem(tick)
                self._decorations.append(tick)
            title = pg.TextItem("", color=LABEL_COLOUR, anchor=(0.5, 1.0))
            title.setFont(bold)
            title.full_text = axis.label
            title.setToolTip(axis.label)
            self.plot.addItem(title)
            self._title_items.append(title)
        self._place_labels()

    def _place_labels(self, *_args) -> None:
        titles = getattr(self, "_title_items", [])
        if not titles:
            return
        count = len(titles)
        width = max(self.view_box.width(), 1.0)
        spacing = width / count
        metrics = QFontMetrics(titles[0].textItem.font())
        # Crowded titles alternate between two heights, so each may take two axes' width.
        widest = max(metrics.horizontalAdvance(t.full_text) for t in titles)
        stagger = widest > spacing - 8 and count > 1
        room = int((2 * spacing if stagger else spacing) - 10)
        # Room above the axes for one or two rows of titles, in pixels whatever the plot's height.
        height = max(self.view_box.height(), 50.0)
        top_px = metrics.height() * (2.6 if stagger else 1.5) + 8
        bottom_px = 10.0
        units_per_px = 1.0 / max(height - top_px - bottom_px, 10.0)
        self.view_box.setYRange(-bottom_px * units_per_px, 1.0 + top_px * units_per_px, padding=0)
        line_height = metrics.height() * units_per_px
        for n, title in enumerate(titles):
            # The outer titles have half an axis' width beyond their axis: no more than one axis' width.
            own_room = int(spacing - 10) if n in (0, count - 1) else room
            title.setText(metrics.elidedText(title.full_text, Qt.TextElideMode.ElideMiddle, max(own_room, 30)))
            lift = line_height * 1.1 if stagger and n % 2 else 0.0
            title.setPos(n, 1.0 + line_height * 0.45 + lift)

    # -- Hover and click -------------------------------------------------------------------
    def experiment_at(self, scene_pos: QPointF) -> str | None:
        """The experiment whose line passes within a few pixels of ``scene_pos``, nearest first."""
        if not self._points:
            return None
        ids = list(self._points)
        points = np.stack([self._points[i] for i in ids]).astype(float)
        origin = self.view_box.mapViewToScene(QPointF(0.0, 0.0))
        unit = self.view_box.mapViewToScene(QPointF(1.0, 1.0))
        scene = np.empty_like(points)
        scene[..., 0] = origin.x() + points[..., 0] * (unit.x() - origin.x())
        scene[..., 1] = origin.y() + points[..., 1] * (unit.y() - origin.y())
        if points.shape[1] == 1:
            distances = np.hypot(scene[:, 0, 0] - scene_pos.x(), scene[:, 0, 1] - scene_pos.y())
            distances = np.where(np.isfinite(distances), distances, np.inf)
        else:
            distances = point_segment_distances(scene, scene_pos.x(), scene_pos.y())
        best = int(np.argmin(distances))
        return ids[best] if distances[best] <= HOVER_DISTANCE_PX else None

    def scene_point(self, exp_id: str, axis_index: int) -> QPointF:
        """Where the experiment's line crosses an axis, in scene coordinates (for tests and tools)."""
        x, y = self._points[exp_id][axis_index]
        return self.view_box.mapViewToScene(QPointF(float(x), float(y)))

    def _mouse_moved(self, scene_pos) -> None:
        self.focus(self.experiment_at(scene_pos))

    def _mouse_clicked(self, event) -> None:
        exp_id = self.experiment_at(event.scenePos())
        if exp_id is not None and event.button() == Qt.MouseButton.LeftButton:
            self.hide_experiment(exp_id)

    def focused(self) -> str | None:
        return self._focused

    def focus(self, exp_id: str | None) -> None:
        """Draw ``exp_id`` thick with the others dimmed, and name it with its values; None: all normal."""
        if exp_id not in self._curves:
            exp_id = None  # hidden, or without values on these axes: nothing to focus
        if exp_id == self._focused:
            return
        self._focused = exp_id
        by_id = {e.id: e for e in self._experiments}
        for other, curve in self._curves.items():
            experiment = by_id[other]
            if exp_id is None:
                curve.setPen(experiment_pen(experiment))
                curve.setOpacity(1.0)
                curve.setZValue(0)
            elif other == exp_id:
                curve.setPen(experiment_pen(experiment, FOCUS_WIDTH))
                curve.setOpacity(1.0)
                curve.setZValue(10)
            else:
                curve.setPen(experiment_pen(experiment))
                curve.setOpacity(DIM_OPACITY)
                curve.setZValue(0)
            dots = getattr(curve, "dots", None)
            if dots is not None:
                dots.setOpacity(curve.opacity())
        if exp_id is None:
            self.plot.setToolTip("")
            return
        text = self.describe(exp_id)
        self.hover_label.setText(text)
        self.plot.setToolTip(text)

    def describe(self, exp_id: str) -> str:
        experiment = next(e for e in self._experiments if e.id == exp_id)
        values = "   ".join(f"{axis.label} = {axis_value_text(axis, exp_id)}" for axis in self._axes)
        return f"{experiment.name}\n{values}"

    def hide_experiment(self, exp_id: str) -> None:
        self._locally_hidden.add(exp_id)
        self.sig_visibility_requested.emit(exp_id, True)
        self.redraw()

    def hidden_ids(self) -> list[str]:
        return [e.id for e in self._experiments if e.hidden or e.id in self._locally_hidden]

    def show_all_hidden(self) -> None:
        hidden = self.hidden_ids()
        self._locally_hidden.clear()
        for exp_id in hidden:
            self.sig_visibility_requested.emit(exp_id, False)
        self._experiments = [e.with_hidden(False) if e.id in set(hidden) else e for e in self._experiments]
        self.redraw()

    def _update_hidden_button(self) -> None:
        count = len(self.hidden_ids())
        self.show_hidden_button.setText(f"Show {count} hidden")
        self.show_hidden_button.setVisible(count > 0)

    def curves(self) -> dict[str, pg.PlotCurveItem]:
        return dict(self._curves)

    # -- Export ----------------------------------------------------------------------------
    def write_csv(self, out) -> int:
        return write_axes_csv(out, self._experiments, self._axes)
