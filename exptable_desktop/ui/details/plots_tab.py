"""PLOTS: the latest sample of each plot, and an iteration slider to step back in time."""
from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSlider,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import details as data
from exptable_desktop.ui import palette
from exptable_desktop.ui.details.common import DetailsTab, scrolling_canvas, monospace_font, section_title
from exptable_desktop.ui.empty_state import PLOTS_SNIPPET
from exptable_desktop.ui.plot_grid import IterationAxis
from exptable_desktop.ui.palette import themed

PALETTE = palette.SERIES_COLOURS[:8]
PLOT_HEIGHT = 280
# An x axis titled so counts iterations (with whole-number values): its ticks are whole numbers.
ITERATION_AXIS_WORDS = ("iteration", "iterations", "iter", "step", "steps", "epoch", "epochs")


def _finite(values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(array), array, np.nan)


def x_is_iteration(figure: dict) -> bool:
    """Whether the figure's x axis counts iterations: titled so, and every x value a whole number."""
    words = str(figure.get("xaxis") or "").strip().lower().split()
    if not words or words[0].strip("()[]#:") not in ITERATION_AXIS_WORDS:
        return False
    xs = [x for s in figure.get("series") or [] if s.get("style") not in ("bar", "histogram") for x in s.get("x") or []]
    try:
        values = _finite(xs)
    except (TypeError, ValueError):
        return False
    values = values[np.isfinite(values)]
    return bool(len(values)) and bool(np.all(values == np.round(values)))


def _new_plot_widget(figure: dict) -> pg.PlotWidget:
    """A plot whose bottom axis ticks whole numbers when x counts iterations."""
    axes = {"bottom": IterationAxis("bottom")} if x_is_iteration(figure) else None
    return pg.PlotWidget(axisItems=axes)


def _category_axis(widget: pg.PlotWidget, labels: list[str]) -> None:
    if labels and len(labels) <= 60:
        widget.getPlotItem().getAxis("bottom").setTicks([[(i, str(l)) for i, l in enumerate(labels)]])


def _z_brushes(z, size: int) -> list:
    """One brush per point, coloured by its z (3-D points seen from above)."""
    values = _finite(z)[:size]
    finite = values[np.isfinite(values)]
    low, high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    colours = pg.colormap.get("viridis").map((np.nan_to_num(values, nan=low) - low) / ((high - low) or 1.0),
                                             mode="qcolor")
    return [pg.mkBrush(c) for c in colours]


def _heatmap(figure: dict) -> pg.PlotWidget:
    """A z matrix as an image (rows are y, bottom up), with the x and y labels as ticks when few."""
    widget = pg.PlotWidget()
    widget.setBackground("w")
    item = widget.getPlotItem()
    rows = [list(r) for r in figure.get("z") or []]
    width = max((len(r) for r in rows), default=0)
    matrix = np.full((len(rows), width), np.nan)
    for r, row in enumerate(rows):
        matrix[r, :len(row)] = _finite(row)
    if matrix.size:
        image = pg.ImageItem(matrix.T)  # ImageItem indexes [x, y]
        finite = matrix[np.isfinite(matrix)]
        if len(finite):
            image.setLevels((float(finite.min()), float(finite.max()) or 1.0))
        image.setColorMap(pg.colormap.get("viridis"))
        item.addItem(image)
        for axis, labels in (("bottom", figure.get("x") or []), ("left", figure.get("y") or [])):
            if labels and len(labels) <= 40:
                item.getAxis(axis).setTicks([[(i + 0.5, str(l)) for i, l in enumerate(labels)]])
    if figure.get("xaxis"):
        item.setLabel("bottom", figure["xaxis"])
    if figure.get("yaxis"):
        item.setLabel("left", figure["yaxis"])
    return widget


def _mixed(figure: dict) -> pg.PlotWidget:
    """Traces of different kinds (lines, markers, bars, histograms) in one plot."""
    widget = _new_plot_widget(figure)
    widget.setBackground("w")
    item = widget.getPlotItem()
    item.showGrid(x=True, y=True, alpha=0.15)
    item.addLegend(offset=(-10, 10), labelTextColor=themed("$text"))
    series = figure.get("series") or []
    categories: list[str] = []
    for s in series:
        if s["style"] == "bar" and not all(isinstance(x, (int, float)) for x in s["x"]):
            categories += [str(x) for x in s["x"] if str(x) not in categories]
    for n, s in enumerate(series):
        colour = PALETTE[n % len(PALETTE)]
        name = s.get("name") or None
        if s["style"] == "histogram":
            bins, counts = _finite(s["bins"]), _finite(s["counts"])
            if len(bins) == len(counts) + 1 and len(counts):
                item.addItem(pg.PlotDataItem(bins, counts, stepMode="center", fillLevel=0, name=name,
                                             brush=pg.mkBrush(colour + "66"), pen=pg.mkPen(colour)))
            continue
        ys = _finite(s["y"])
        if s["style"] == "bar":
            xs = (np.array([categories.index(str(x)) for x in s["x"]], dtype=float) if categories
                  else _finite(s["x"]))
            size = min(len(xs), len(ys))
            item.addItem(pg.BarGraphItem(x=xs[:size], height=np.nan_to_num(ys[:size]), width=0.8, brush=colour + "aa",
                                         name=name))
            continue
        xs = _finite(s["x"])
        size = min(len(xs), len(ys))
        pen = None if s["style"] == "markers" else pg.mkPen(colour, width=1.5)
        symbol = "o" if "markers" in s["style"] else None
        item.plot(xs[:size], ys[:size], pen=pen, symbol=symbol, symbolSize=6, symbolBrush=colour, symbolPen=None,
                  name=name, connect="finite")
    if categories:
        _category_axis(widget, categories)
    if figure.get("xaxis"):
        item.setLabel("bottom", figure["xaxis"])
    if figure.get("yaxis"):
        item.setLabel("left", figure["yaxis"])
    return widget


def render_figure(figure: dict) -> QWidget:
    """A widget drawing one normalised figure (see ``core.details.normalize_plot``)."""
    kind = figure.get("kind")
    if kind == "heatmap":
        return _heatmap(figure)
    if kind == "mixed":
        return _mixed(figure)
    if kind in ("line", "scatter", "bar", "histogram"):
        widget = _new_plot_widget(figure) if kind in ("line", "scatter") else pg.PlotWidget()
        widget.setBackground("w")
        item = widget.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        if figure.get("xaxis"):
            item.setLabel("bottom", figure["xaxis"])
        if figure.get("yaxis"):
            item.setLabel("left", figure["yaxis"])
        if figure.get("projection"):
            zaxis = f" ({figure['zaxis']})" if figure.get("zaxis") else ""
            item.setTitle(f"3-D points seen from above; colour is z{zaxis}", size="9pt", color=themed("$text_secondary"))
        if kind == "histogram":
            bins, counts = _finite(figure["bins"]), _finite(figure["counts"])
            if len(bins) == len(counts) + 1 and len(counts):
                item.addItem(pg.PlotDataItem(bins, counts, stepMode="center", fillLevel=0,
                                             brush=pg.mkBrush(PALETTE[0] + "99"), pen=pg.mkPen(PALETTE[0])))
            return widget
        series = figure.get("series") or []
        if len(series) > 1:
            item.addLegend(offset=(-10, 10), labelTextColor=themed("$text"))
        for n, s in enumerate(series):
            colour = PALETTE[n % len(PALETTE)]
            if kind == "bar":
                labels = [str(x) for x in s["x"]]
                ys = _finite(s["y"])
                width = 0.8 / max(1, len(series))
                xs = np.arange(len(ys)) + (n - (len(series) - 1) / 2) * width
                item.addItem(pg.BarGraphItem(x=xs, height=np.nan_to_num(ys), width=width, brush=colour,
                                             name=s.get("name") or None))
                _category_axis(widget, labels)
                continue
            xs, ys = _finite(s["x"]), _finite(s["y"])
            size = min(len(xs), len(ys))
            if kind == "scatter":
                brush = _z_brushes(s["z"], size) if s.get("z") else colour
                item.plot(xs[:size], ys[:size], pen=None, symbol="o", symbolSize=6, symbolBrush=brush,
                          symbolPen=None, name=s.get("name") or None)
            else:
                item.plot(xs[:size], ys[:size], pen=pg.mkPen(colour, width=1.5), name=s.get("name") or None,
                          connect="finite")
        return widget
    if kind == "table":
        columns = figure.get("columns") or []
        rows = figure.get("rows") or []
        table = QTableWidget(len(rows), len(columns))
        table.setHorizontalHeaderLabels(columns)
        for r, row in enumerate(rows):
            for c, value in enumerate(row[:len(columns)]):
                table.setItem(r, c, QTableWidgetItem("" if value is None else str(value)))
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.horizontalHeader().setStretchLastSection(True)
        return table
    if kind == "confusion":
        return _confusion_table(figure)
    text = QPlainTextEdit(figure.get("text", ""))
    text.setReadOnly(True)
    text.setFont(monospace_font())
    return text


def _confusion_table(figure: dict) -> QTableWidget:
    """A heat-map table: readable labels and exact counts, coloured by value."""
    matrix = [list(r) for r in figure.get("matrix") or []]
    n_rows = len(matrix)
    n_cols = max((len(r) for r in matrix), default=0)
    table = QTableWidget(n_rows, n_cols)
    xlabels = list(figure.get("xlabels") or [])[:n_cols]
    ylabels = list(figure.get("ylabels") or [])[:n_rows]
    table.setHorizontalHeaderLabels(xlabels + [str(i) for i in range(len(xlabels), n_cols)])
    table.setVerticalHeaderLabels(ylabels + [str(i) for i in range(len(ylabels), n_rows)])
    finite = [v for r in matrix for v in r if isinstance(v, (int, float)) and math.isfinite(v)]
    top = max(finite) if finite else 1.0
    low = min(finite) if finite else 0.0
    span = (top - low) or 1.0
    for r, row in enumerate(matrix):
        for c, value in enumerate(row):
            item = QTableWidgetItem(data.format_value(value) if isinstance(value, (int, float)) else str(value))
            item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
            if isinstance(value, (int, float)) and math.isfinite(value):
                strength = (value - low) / span
                colour = QColor.fromHsvF(0.58, 0.15 + 0.75 * strength, 1.0 - 0.45 * strength)
                item.setBackground(QBrush(colour))
                item.setForeground(QBrush(QColor(palette.INK_ON_DARK if strength > 0.55 else palette.INK_ON_LIGHT)))
            table.setItem(r, c, item)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    return table


class PlotsTab(DetailsTab):
    """The details panel's PLOTS tab: the latest sample of each plot, a search box, and a slider over the plotted
    iterations; new samples are followed only while the slider is at the newest."""

    title = "PLOTS"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("plotsTab")
        self.iterations: list[int] = []
        self.samples: list[dict] = []
        self._signature: tuple = ()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 0)
        bar = QHBoxLayout()
        self.search_box = QLineEdit()
        self.search_box.setObjectName("plotSearch")
        self.search_box.setPlaceholderText("Search plots")
        self.search_box.setClearButtonEnabled(True)
        bar.addWidget(self.search_box, 1)
        bar.addWidget(QLabel("Iteration"))
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("plotIterationSlider")
        self.slider.setMinimumWidth(160)
        bar.addWidget(self.slider, 2)
        self.iteration_label = QLabel()
        self.iteration_label.setMinimumWidth(70)
        bar.addWidget(self.iteration_label)
        layout.addLayout(bar)
        self.stack = scrolling_canvas(self, "No plots reported yet", "Histograms, tables, confusion matrices and other "
                                      "plots appear here, the latest of each, as the experiment reports them. "
                                      "To report one from a script:", PLOTS_SNIPPET)
        layout.addWidget(self.stack, 1)
        self.cards: list[tuple[str, QWidget]] = []
        self.slider.valueChanged.connect(self._slider_moved)
        self.search_box.textChanged.connect(self._apply_search)

    def load(self, experiment_id: str | None) -> None:
        self.experiment_id = experiment_id
        self.iterations = data.plot_iterations(experiment_id) if experiment_id else []
        self._signature = (len(self.iterations), data.plot_count(experiment_id) if experiment_id else 0)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(0, len(self.iterations) - 1))
        self.slider.setValue(max(0, len(self.iterations) - 1))
        self.slider.setEnabled(len(self.iterations) > 1)
        self.slider.blockSignals(False)
        self._show_iteration(None)

    def refresh(self) -> None:
        if self.experiment_id is None:
            return
        signature = (len(data.plot_iterations(self.experiment_id)), data.plot_count(self.experiment_id))
        if signature == self._signature:
            return
        # Follow new samples only when the slider is at the newest iteration.
        at_latest = self.slider.value() == self.slider.maximum()
        if at_latest:
            self.load(self.experiment_id)
        else:
            self.iterations = data.plot_iterations(self.experiment_id)
            self._signature = signature
            self.slider.blockSignals(True)
            self.slider.setMaximum(max(0, len(self.iterations) - 1))
            self.slider.setEnabled(len(self.iterations) > 1)
            self.slider.blockSignals(False)

    def _slider_moved(self, position: int) -> None:
        if 0 <= position < len(self.iterations):
            self._show_iteration(self.iterations[position])

    def set_iteration(self, iteration: int) -> None:
        """Move the slider to the newest plotted iteration at or before ``iteration``."""
        candidates = [i for i, it in enumerate(self.iterations) if it <= iteration]
        if candidates:
            self.slider.setValue(candidates[-1])

    def _show_iteration(self, iteration: int | None) -> None:
        self.samples = data.latest_plots(self.experiment_id, iteration) if self.experiment_id else []
        shown = iteration if iteration is not None else (self.iterations[-1] if self.iterations else None)
        self.iteration_label.setText("" if shown is None else str(shown))
        for _, card in self.cards:
            self.canvas_layout.removeWidget(card)
            card.deleteLater()
        self.cards = []
        while self.canvas_layout.count():
            self.canvas_layout.takeAt(0)
        current_metric = None
        for sample in self.samples:
            if sample["metric"] != current_metric:
                current_metric = sample["metric"]
                header = section_title(current_metric.upper())
                self.canvas_layout.addWidget(header)
                self.cards.append((current_metric, header))
            card = QWidget()
            card_layout = QVBoxLayout(card)
            card_layout.setContentsMargins(0, 0, 0, 8)
            title = sample["variant"] or sample["metric"]
            caption = QLabel(f"{title}  ·  iteration {sample['iteration']}")
            caption.setStyleSheet(themed("color: $text;"))
            card_layout.addWidget(caption)
            figure_widget = render_figure(sample["figure"])
            if isinstance(figure_widget, QTableWidget):
                rows = figure_widget.rowCount()
                figure_widget.setFixedHeight(min(PLOT_HEIGHT + 60, 34 + 30 * max(1, rows)))
            else:
                figure_widget.setMinimumHeight(PLOT_HEIGHT)
            figure_widget.setObjectName(f"plot_{sample['figure']['kind']}")
            card_layout.addWidget(figure_widget)
            card.setProperty("plotKind", sample["figure"]["kind"])
            self.canvas_layout.addWidget(card)
            self.cards.append((f"{sample['metric']} {sample['variant']}", card))
        self.canvas_layout.addStretch(1)
        self.stack.setCurrentWidget(self.scroll if self.samples else self.empty_label)
        self._apply_search()

    def _apply_search(self) -> None:
        needle = self.search_box.text().strip().lower()
        for key, card in self.cards:
            card.setVisible(not needle or needle in key.lower())

    def kinds_shown(self) -> list[str]:
        return [s["figure"]["kind"] for s in self.samples]
