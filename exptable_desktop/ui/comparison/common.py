"""Drawing helpers shared by the compare page's tabs: pens, swatches, the per-plot card."""
from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Callable

import numpy as np
import pyqtgraph as pg
import pyqtgraph.exporters  # noqa: F401 (registers the exporters on pg)
from PySide6.QtCore import QPointF, QRect, Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication, QIcon, QPainter, QPen, QPixmap
from PySide6.QtSvg import QSvgGenerator
from PySide6.QtWidgets import (
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QSizePolicy,
    QStyle,
    QToolButton,
    QToolTip,
    QVBoxLayout,
)

from exptable_desktop.core import compare_palette as palette
from exptable_desktop.core.compare_palette import ComparedExperiment
from exptable_desktop.ui.palette import themed

DASH_PEN_STYLES = {
    palette.SOLID: Qt.PenStyle.SolidLine,
    palette.DASH: Qt.PenStyle.DashLine,
    palette.DOT: Qt.PenStyle.DotLine,
    palette.DASH_DOT: Qt.PenStyle.DashDotLine,
    palette.DASH_DOT_DOT: Qt.PenStyle.DashDotDotLine,
}
PLOT_HEIGHT = 300
DOWNSAMPLE_PER_PIXEL = 1.0
HOVER_PIXELS = 12
HIGHLIGHT_FACTOR = 2.5
# A plot's own legend lists this many at most ("… and N more" after): the page's lists all.
SIDE_LEGEND_LIMIT = 36
SIDE_LEGEND_WIDTH = 250
SIDE_LEGEND_MIN_CARD_WIDTH = 900
LEGEND_ROW_HEIGHT = 20
TEXT_COLOUR = themed("$text")


def experiment_pen(experiment: ComparedExperiment, width: float = 1.5, dash: str | None = None) -> QPen:
    pen = pg.mkPen(experiment.colour, width=width)
    pen.setStyle(DASH_PEN_STYLES.get(dash or experiment.dash, Qt.PenStyle.SolidLine))
    return pen


def swatch_icon(colour: str, dash: str = palette.SOLID, size: int = 16, hidden: bool = False) -> QIcon:
    """A short thick line in the experiment's colour and dash: what its curves look like."""
    pixmap = QPixmap(size * 2, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    colour_q = QColor(colour)
    if hidden:
        colour_q.setAlpha(60)
    pen = QPen(colour_q, 3)
    pen.setStyle(DASH_PEN_STYLES.get(dash, Qt.PenStyle.SolidLine))
    pen.setCapStyle(Qt.PenCapStyle.FlatCap)
    painter.setPen(pen)
    painter.drawLine(QPointF(1, size / 2), QPointF(size * 2 - 1, size / 2))
    painter.end()
    return QIcon(pixmap)


def tool_button(text: str, tip: str, object_name: str = "", checkable: bool = False) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setAutoRaise(True)
    button.setCheckable(checkable)
    if object_name:
        button.setObjectName(object_name)
    return button


def format_number(value: float | None) -> str:
    if value is None or not isinstance(value, (int, float)):
        return ""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value != 0 and (abs(value) >= 1e6 or abs(value) < 1e-4):
        return f"{value:.4g}"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.6g}"


class CurveEntry:
    """A curve the card knows: who it belongs to, for hover, legend and CSV."""

    __slots__ = ("key", "label", "item", "pen", "raw_x", "raw_y")

    def __init__(self, key, label: str, item: pg.PlotDataItem, pen: QPen):
        self.key = key
        self.label = label
        self.item = item
        self.pen = pen
        self.raw_x: np.ndarray | None = None
        self.raw_y: np.ndarray | None = None


class PlotCard(QFrame):
    """One plot with its toolbar (feature inventory 4.4) and a legend that never covers the data.

    The toolbar: save PNG / SVG, copy data as CSV, reset axes, log y, maximise,
    legend. The page's shared legend names every experiment, so a plot's own
    legend is off until asked for; then it sits in its own cell of the same
    scene (exports include it), right of a wide plot or under a narrow one,
    never over the data.
    Hovering a curve draws it thicker, names it in a tooltip and shows the
    crosshair's values in the toolbar row, above the plot, not over it.
    """

    sig_log_toggled = Signal(bool)
    sig_maximise_toggled = Signal(bool)
    sig_curve_hovered = Signal(object)  # the hovered curve's key, or None
    sig_legend_clicked = Signal(object)  # the clicked legend entry's curve key

    def __init__(self, title: str, parent=None, *, date_axis: bool = False):
        super().__init__(parent)
        self.setObjectName("comparePlotCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(themed("#comparePlotCard { background: $surface; border: 1px solid $border; border-radius: 4px; }"))
        self.title = title
        self._entries: dict[object, CurveEntry] = {}
        self._hovered: CurveEntry | None = None
        self._legend_forced: bool | None = None
        self._legend_default = False
        self.csv_provider: Callable[[], list[list]] | None = None
        self.hover_provider: Callable[[QPointF], str | None] | None = None

        self.title_label = QLabel(title)
        self.title_label.setObjectName("comparePlotTitle")
        self.title_label.setStyleSheet(f"color: {TEXT_COLOUR}; font-weight: bold;")
        self.title_label.setToolTip(title)
        self.title_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.readout = QLabel()
        self.readout.setObjectName("comparePlotReadout")
        self.readout.setStyleSheet(themed("color: $text_secondary;"))
        self.readout.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        style = self.style()
        self.save_button = tool_button("Save", "Save the plot as PNG or SVG", "plotSave")
        save_menu = QMenu(self.save_button)
        save_menu.addAction("Save as PNG…", lambda: self._save_dialog("png"))
        save_menu.addAction("Save as SVG…", lambda: self._save_dialog("svg"))
        self.save_button.setMenu(save_menu)
        self.save_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.csv_button = tool_button("CSV", "Copy the plotted data as CSV", "plotCopyCsv")
        self.reset_button = tool_button("Reset", "Reset axes", "plotResetAxes")
        self.log_button = tool_button("Log", "Logarithmic y axis", "plotLogY", checkable=True)
        self.max_button = tool_button("Maximise", "Show only this plot, larger", "plotMaximise", checkable=True)
        self.legend_button = tool_button("Legend", "Show or hide this plot's legend", "plotLegend", checkable=True)
        icons = ((self.save_button, QStyle.StandardPixmap.SP_DialogSaveButton),
                 (self.csv_button, QStyle.StandardPixmap.SP_FileDialogContentsView),
                 (self.reset_button, QStyle.StandardPixmap.SP_BrowserReload),
                 (self.max_button, QStyle.StandardPixmap.SP_TitleBarMaxButton),
                 (self.legend_button, QStyle.StandardPixmap.SP_FileDialogListView))
        for button, pixmap in icons:
            # Icons keep the title room to breathe; the tooltips name the tools.
            button.setIcon(style.standardIcon(pixmap))
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.log_button.setText("log")
        bar = QHBoxLayout()
        bar.setContentsMargins(6, 2, 2, 0)
        bar.setSpacing(2)
        bar.addWidget(self.title_label, 3)
        bar.addWidget(self.readout, 4)
        for button in (self.save_button, self.csv_button, self.reset_button, self.log_button,
                       self.max_button, self.legend_button):
            bar.addWidget(button)

        self.graphics = pg.GraphicsLayoutWidget()
        self.graphics.setBackground(themed("$surface"))
        self.graphics.setMinimumHeight(PLOT_HEIGHT - 40)
        self.graphics.ci.layout.setContentsMargins(2, 2, 6, 2)
        axis_items = {"bottom": pg.DateAxisItem()} if date_axis else None
        self.plot_item: pg.PlotItem = self.graphics.addPlot(row=0, col=0, axisItems=axis_items)
        self.plot_item.showGrid(x=True, y=True, alpha=0.15)
        # Peak downsampling keeps spikes visible; clipping draws only what is in view.
        self.plot_item.setDownsampling(auto=True, mode="peak")
        self.plot_item.setClipToView(True)
        self.legend = pg.LegendItem(labelTextColor=TEXT_COLOUR)
        self.legend.sigSampleClicked.connect(self._legend_sample_clicked)
        # Its own column, top-aligned: an empty row under it takes the rest of the height.
        self.legend_column = pg.GraphicsLayout()
        self.legend_column.addItem(self.legend, row=0, col=0)
        self.legend_column.addLabel("", row=1, col=0)
        self.legend_column.layout.setRowStretchFactor(1, 1)
        self.legend_column.layout.setContentsMargins(0, 0, 0, 0)
        self.crosshair = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen(themed("$text_disabled"), width=1,
                                                                             style=Qt.PenStyle.DashLine))
        self.crosshair.hide()
        self.plot_item.addItem(self.crosshair, ignoreBounds=True)
        self._proxy = pg.SignalProxy(self.graphics.scene().sigMouseMoved, rateLimit=40, slot=self._mouse_moved)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(self.graphics, 1)
        self.setMinimumHeight(PLOT_HEIGHT)

        self.csv_button.clicked.connect(self.copy_csv)
        self.reset_button.clicked.connect(self.reset_axes)
        self.log_button.toggled.connect(self._log_toggled)
        self.max_button.toggled.connect(self.sig_maximise_toggled)
        self.legend_button.toggled.connect(self._legend_toggled)
        self._update_legend_visibility()

    # -- Curves ----------------------------------------------------------------------------
    def add_curve(self, key, label: str, pen: QPen, x=None, y=None, **options) -> pg.PlotDataItem:
        """A new curve; with ``x`` and ``y`` its data is set once, not built empty and then filled."""
        item = pg.PlotDataItem(pen=pen, autoDownsample=True, downsampleMethod="peak", clipToView=True, **options)
        # One sample per pixel (peak keeps its min and max): pyqtgraph's default of five per
        # pixel makes 100 overlaid curves draw 5x the segments a screen can show.
        item.opts["autoDownsampleFactor"] = DOWNSAMPLE_PER_PIXEL
        # Added empty, then filled: pyqtgraph cannot clip data to a view it is not in yet.
        self.plot_item.addItem(item)
        if x is not None:
            item.setData(x, y, connect=options.get("connect", "finite"))
        self._entries[key] = CurveEntry(key, label, item, pen)
        return item

    def entry(self, key) -> CurveEntry | None:
        return self._entries.get(key)

    def entries(self) -> dict[object, CurveEntry]:
        return dict(self._entries)

    def remove_curve(self, key) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            if entry is self._hovered:
                self._hovered = None
            self.plot_item.removeItem(entry.item)

    def set_pen(self, key, pen: QPen) -> None:
        entry = self._entries.get(key)
        if entry is not None:
            entry.pen = pen
            if entry is not self._hovered:
                entry.item.setPen(pen)

    def set_label(self, key, label: str) -> None:
        entry = self._entries.get(key)
        if entry is not None:
            entry.label = label

    def rebuild_legend(self, keys: list | None = None) -> None:
        """The side legend: the visible labelled curves (or ``keys``), in insertion order.

        Filled only while shown: 100 legend rows nobody sees cost as much as the curves.
        """
        self._legend_entries = [e for e in self._entries.values() if e.label and e.item.isVisible()] \
            if keys is None else [self._entries[k] for k in keys if k in self._entries]
        self._legend_count = len(self._legend_entries)
        self._legend_filled = False
        self._update_legend_visibility()

    def _fill_legend(self) -> None:
        self.legend.clear()
        shown = self._legend_entries[:SIDE_LEGEND_LIMIT]
        labels = [_elide(entry.label, 34) for entry in shown]
        for entry, label in zip(shown, labels):
            self.legend.addItem(entry.item, label)
        hidden = len(self._legend_entries) - len(shown)
        if hidden > 0:
            self.legend.addItem(pg.PlotDataItem(pen=None), f"… and {hidden} more (page legend)")
        metrics = self.fontMetrics()
        widest = max((metrics.horizontalAdvance(label) for label in labels), default=0)
        self._legend_width = min(SIDE_LEGEND_WIDTH, widest + 50)
        self._legend_filled = True

    def _legend_sample_clicked(self, item) -> None:
        for entry in self._entries.values():
            if entry.item is item:
                # The sample already toggled the curve; the page decides for every tab.
                self.sig_legend_clicked.emit(entry.key)
                return

    def _legend_toggled(self, on: bool) -> None:
        self._legend_forced = on
        self._update_legend_visibility()

    def legend_shown(self) -> bool:
        return self.legend.isVisible()

    def set_legend_by_default(self, on: bool) -> None:
        """Whether the legend shows until the user toggles it (the page legend cannot name groups)."""
        if on != self._legend_default:
            self._legend_default = on
            self._update_legend_visibility()

    def legend_placement(self) -> str | None:
        """Where the legend is: "right" of the plot, "bottom" under it, or None (hidden)."""
        return getattr(self, "_legend_cell_name", None)

    def _update_legend_visibility(self) -> None:
        # Off until asked for: the page's shared legend already names every colour, beside the plots
        # (unless the curves are not experiments, e.g. group means: ``set_legend_by_default``).
        wanted_on = self._legend_forced if self._legend_forced is not None else self._legend_default
        show = bool(wanted_on) and getattr(self, "_legend_count", 0) > 0
        if show and not getattr(self, "_legend_filled", True):
            self._fill_legend()
        # Beside a wide plot; under a narrow one, where a column of names would squeeze the data.
        wanted = None if not show else ("right" if self.width() >= SIDE_LEGEND_MIN_CARD_WIDTH else "bottom")
        layout = self.graphics.ci.layout
        current = getattr(self, "_legend_cell_name", None)
        if current != wanted:
            if current is not None:
                # Out of the layout when hidden: an empty cell would still keep its size.
                self.graphics.ci.removeItem(self.legend_column)
                layout.setColumnMinimumWidth(1, 0)
                layout.setColumnMaximumWidth(1, 0)
                layout.setRowMinimumHeight(1, 0)
                layout.setRowMaximumHeight(1, 0)
            if wanted is not None:
                row, column = (0, 1) if wanted == "right" else (1, 0)
                self.graphics.ci.addItem(self.legend_column, row=row, col=column)
            self._legend_cell_name = wanted
        self.legend.setVisible(bool(show))
        self.legend_column.setVisible(bool(show))
        if wanted == "right":
            self.legend.setColumnCount(1)
            layout.setColumnFixedWidth(1, getattr(self, "_legend_width", SIDE_LEGEND_WIDTH))
        elif wanted == "bottom":
            shown = min(len(getattr(self, "_legend_entries", [])), SIDE_LEGEND_LIMIT) + 1
            columns = max(1, min(4, (self.width() - 40) // (getattr(self, "_legend_width", SIDE_LEGEND_WIDTH) + 20)))
            self.legend.setColumnCount(columns)
            layout.setRowFixedHeight(1, math.ceil(shown / columns) * LEGEND_ROW_HEIGHT + 4)
        self.legend_button.blockSignals(True)
        self.legend_button.setChecked(bool(show))
        self.legend_button.blockSignals(False)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        placement = self.legend_placement()
        if placement is not None and (placement == "right") != (self.width() >= SIDE_LEGEND_MIN_CARD_WIDTH):
            self._update_legend_visibility()

    # -- Tools ------------------------------------------------------------------------------
    def reset_axes(self) -> None:
        # Fit now, then keep fitting as data arrives (autoRange alone turns that off).
        self.plot_item.autoRange()
        self.plot_item.enableAutoRange()

    def log_y(self) -> bool:
        return self.log_button.isChecked()

    def set_log_y(self, on: bool) -> None:
        self.log_button.setChecked(on)

    def _log_toggled(self, on: bool) -> None:
        self.plot_item.setLogMode(x=False, y=on)
        self.sig_log_toggled.emit(on)

    def csv_rows(self) -> list[list]:
        """``series, x, y`` rows of every visible curve: what the plot shows, before log and downsampling."""
        if self.csv_provider is not None:
            return self.csv_provider()
        rows: list[list] = [["series", "x", "y"]]
        for entry in self._entries.values():
            if not entry.item.isVisible():
                continue
            x = entry.raw_x if entry.raw_x is not None else entry.item.xData
            y = entry.raw_y if entry.raw_y is not None else entry.item.yData
            if x is None or y is None:
                continue
            rows.extend([entry.label, repr(float(a)), repr(float(b))] for a, b in zip(x, y))
        return rows

    def csv_text(self) -> str:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerows(self.csv_rows())
        return out.getvalue()

    def copy_csv(self) -> None:
        QGuiApplication.clipboard().setText(self.csv_text())

    def save_image(self, path: str | Path) -> Path:
        """Write the plot with its legend as PNG or SVG (by the file's suffix)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix not in (".png", ".svg"):
            raise ValueError(f"save as .png or .svg, not {path.suffix or 'no suffix'}")
        if suffix == ".svg":
            # Qt's own SVG writer: pyqtgraph's exporter cannot parse the paths Qt 6.11 writes.
            generator = QSvgGenerator()
            generator.setFileName(str(path))
            size = self.graphics.size()
            generator.setSize(size)
            generator.setViewBox(QRect(0, 0, size.width(), size.height()))
            generator.setTitle(self.title)
            painter = QPainter(generator)
            self.graphics.render(painter)
            painter.end()
            return path
        exporter = pg.exporters.ImageExporter(self.graphics.scene())
        exporter.parameters()["width"] = max(800, int(self.graphics.width() * 2))
        exporter.export(str(path))
        return path

    def _save_dialog(self, kind: str) -> None:
        name = "".join(c if c.isalnum() or c in "-_." else "_" for c in self.title) or "plot"
        path, _ = QFileDialog.getSaveFileName(self, f"Save plot as {kind.upper()}", f"{name}.{kind}",
                                              f"{kind.upper()} (*.{kind})")
        if path:
            if not path.lower().endswith(f".{kind}"):
                path += f".{kind}"
            self.save_image(path)

    # -- Hover and crosshair -----------------------------------------------------------------
    def _mouse_moved(self, event) -> None:
        pos = event[0]
        view = self.plot_item.getViewBox()
        if not self.plot_item.sceneBoundingRect().contains(pos) or not view.sceneBoundingRect().contains(pos):
            self.crosshair.hide()
            self.readout.clear()
            self.set_hovered(None)
            return
        point = view.mapSceneToView(pos)
        self.crosshair.setPos(point.x())
        self.crosshair.show()
        if self.hover_provider is not None:
            text = self.hover_provider(point)
            self.readout.setText(text or "")
            return
        entry, y = self.nearest_curve(pos)
        self.set_hovered(entry)
        x_text = self._x_text(point.x())
        if entry is None:
            self.readout.setText(f"x {x_text}")
            QToolTip.hideText()
            return
        y_shown = 10 ** y if self.log_y() else y
        text = f"{entry.label}: {format_number(y_shown)} at {x_text}"
        self.readout.setText(text)
        self.readout.setToolTip(text)
        QToolTip.showText(self.graphics.mapToGlobal(self.graphics.mapFromScene(pos)),
                          f"{entry.label}\n{format_number(y_shown)} at {x_text}", self.graphics)

    def _x_text(self, x: float) -> str:
        axis = self.plot_item.getAxis("bottom")
        if isinstance(axis, pg.DateAxisItem):
            import datetime
            try:
                return datetime.datetime.fromtimestamp(x).strftime("%Y-%m-%d %H:%M:%S")
            except (OverflowError, OSError, ValueError):
                return format_number(x)
        return format_number(x)

    def nearest_curve(self, scene_pos: QPointF) -> tuple[CurveEntry | None, float]:
        """The visible curve closest to the mouse vertically at its x, within HOVER_PIXELS."""
        view = self.plot_item.getViewBox()
        point = view.mapSceneToView(scene_pos)
        best, best_distance, best_y = None, float(HOVER_PIXELS), math.nan
        for entry in self._entries.values():
            item = entry.item
            if not item.isVisible() or not entry.label:
                continue
            x, y = item.getData()
            if x is None or not len(x):
                continue
            index = int(np.searchsorted(x, point.x()))
            candidates = [i for i in (index - 1, index) if 0 <= i < len(x)]
            for i in candidates:
                if not math.isfinite(y[i]):
                    continue
                scene = view.mapViewToScene(pg.Point(float(x[i]), float(y[i])))
                distance = math.hypot((scene.x() - scene_pos.x()) * 0.25, scene.y() - scene_pos.y())
                if distance < best_distance:
                    best, best_distance, best_y = entry, distance, float(y[i])
        return best, best_y

    def set_hovered(self, entry: CurveEntry | None) -> None:
        if entry is self._hovered:
            return
        if self._hovered is not None:
            self._hovered.item.setPen(self._hovered.pen)
            self._hovered.item.setZValue(0)
        self._hovered = entry
        if entry is not None:
            pen = QPen(entry.pen)
            pen.setWidthF(max(2.5, entry.pen.widthF() * HIGHLIGHT_FACTOR))
            entry.item.setPen(pen)
            entry.item.setZValue(100)
        self.sig_curve_hovered.emit(None if entry is None else entry.key)

    def hovered_key(self):
        return None if self._hovered is None else self._hovered.key

    def highlight(self, predicate: Callable[[object], bool] | None) -> None:
        """Draw the curves whose key matches thicker (the page legend's hover); None restores all."""
        for entry in self._entries.values():
            if predicate is not None and predicate(entry.key):
                pen = QPen(entry.pen)
                pen.setWidthF(max(2.5, entry.pen.widthF() * HIGHLIGHT_FACTOR))
                entry.item.setPen(pen)
                entry.item.setZValue(100)
            elif entry is not self._hovered:
                entry.item.setPen(entry.pen)
                entry.item.setZValue(0)

    def leaveEvent(self, event) -> None:  # noqa: N802
        super().leaveEvent(event)
        self.crosshair.hide()
        self.readout.clear()
        self.set_hovered(None)


def _elide(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
