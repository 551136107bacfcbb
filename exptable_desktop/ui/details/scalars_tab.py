"""SCALARS: one pyqtgraph plot per metric (or per variant), the settings of
feature inventory 4.3, a Summary table of single values and a metric-values table."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
import shiboken6
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import details as data
from exptable_desktop.core import smoothing
from exptable_desktop.ui.details.common import DetailsTab, empty_state, section_title
from exptable_desktop.ui.scalar_tools import (
    X_AXIS_CHOICES,
    X_ITERATIONS,
    X_TIME_FROM_START,
    X_WALL_TIME,
    ScalarToolSettings,
    ScalarTools,
)

GROUP_METRIC = "metric"
GROUP_NONE = "none"
PLOT_HEIGHT = 260
PALETTE = ("#1c7ed6", "#e8590c", "#2f9e44", "#d6336c", "#7048e8", "#0c8599", "#f08c00", "#5c940d",
           "#ae3ec9", "#495057", "#c92a2a", "#1098ad")
PREFERENCE_KEY = "details.scalars"


@dataclass
class ScalarSettings(ScalarToolSettings):
    group_by: str = GROUP_METRIC


@dataclass
class SeriesData:
    iterations: np.ndarray
    values: np.ndarray
    timestamps: np.ndarray | None  # read only while a time axis is shown
    cursor: data.SeriesCursor = field(default_factory=data.SeriesCursor)


class MetricValuesModel(QAbstractTableModel):
    """First / last / min / max / mean per metric and variant (from MetricSummary, no series read)."""

    HEADERS = ("", "Metric", "Variant", "First", "Last", "Min", "Max", "Mean")
    VALUE_KEYS = ("first", "last", "min", "max", "mean")

    def __init__(self, parent=None):
        super().__init__(parent)
        self._rows: list[dict] = []

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def update_rows(self, rows: list[dict]) -> None:
        """Live update: insert new metric/variant rows where they sort, signal changed runs."""
        index_of = {(r["metric"], r["variant"]): i for i, r in enumerate(self._rows)}
        for row in rows:
            key = (row["metric"], row["variant"])
            if key in index_of:
                continue
            position = 0
            while position < len(self._rows) and (self._rows[position]["metric"],
                                                  self._rows[position]["variant"]) < key:
                position += 1
            self.beginInsertRows(QModelIndex(), position, position)
            self._rows.insert(position, row)
            self.endInsertRows()
            index_of = {(r["metric"], r["variant"]): i for i, r in enumerate(self._rows)}
        fresh = {(r["metric"], r["variant"]): r for r in rows}
        run_start = None
        for i, old in enumerate(self._rows + [None]):
            new = fresh.get((old["metric"], old["variant"])) if old is not None else None
            changed = old is not None and new is not None and new != old
            if changed:
                self._rows[i] = new
                if run_start is None:
                    run_start = i
            elif run_start is not None:
                self.dataChanged.emit(self.index(run_start, 0), self.index(i - 1, len(self.HEADERS) - 1))
                run_start = None

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return "=" if row["all_equal"] else ""
            if column == 1:
                return row["metric"]
            if column == 2:
                return row["variant"]
            return data.format_value(row[self.VALUE_KEYS[column - 3]])
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 0 and row["all_equal"]:
                return "All values are equal"
            if column >= 3:
                value = row[self.VALUE_KEYS[column - 3]]
                return None if value is None else repr(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


def _empty_layout(layout) -> None:
    while layout.count():
        item = layout.takeAt(0)
        if item.layout() is not None:
            _empty_layout(item.layout())


class ScalarSettingsBar(QWidget):
    """The settings of feature inventory 4.3 plus the plot search and the eye menu."""

    changed = Signal()

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
        self.changed.emit()


class ScalarsTab(DetailsTab):
    title = "SCALARS"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("scalarsTab")
        self.settings = ScalarSettings()
        self._series: dict[tuple[str, str], SeriesData] = {}
        self._plots: dict[object, pg.PlotWidget] = {}
        self._curves: dict[tuple[str, str], tuple[pg.PlotDataItem, pg.PlotDataItem]] = {}
        self._hidden: set[str] = set()
        self._columns = 1
        self._t0 = 0.0
        self._counts: dict[tuple[str, str], int] = {}
        self._singles: list = []

        outer = QHBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.sidebar = QWidget()
        self.sidebar_layout = QVBoxLayout(self.sidebar)
        self.sidebar_layout.setContentsMargins(0, 0, 0, 0)
        self.sidebar.hide()
        outer.addWidget(self.sidebar)
        main = QVBoxLayout()
        main.setContentsMargins(0, 0, 0, 0)
        outer.addLayout(main, 1)
        self._main_layout = main
        self.settings_bar = ScalarSettingsBar(self.settings)
        main.addWidget(self.settings_bar)
        switch = QHBoxLayout()
        switch.setContentsMargins(8, 0, 8, 0)
        self.graph_button = QToolButton()
        self.graph_button.setText("Graphs")
        self.values_button = QToolButton()
        self.values_button.setText("Metric values")
        self.values_button.setObjectName("scalarValuesView")
        self._view_group = QButtonGroup(self)
        for button in (self.graph_button, self.values_button):
            button.setCheckable(True)
            self._view_group.addButton(button)
            switch.addWidget(button)
        self.graph_button.setChecked(True)
        switch.addStretch(1)
        main.addLayout(switch)
        self.stack = QStackedWidget()
        main.addWidget(self.stack, 1)

        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setObjectName("scalarPlots")
        self.canvas = QWidget()
        self.canvas_layout = QVBoxLayout(self.canvas)
        self.summary_title = section_title("SUMMARY")
        self.summary_table = QTableWidget(0, 2)
        self.summary_table.setObjectName("scalarSummary")
        self.summary_table.setHorizontalHeaderLabels(["Name", "Value"])
        self.summary_table.horizontalHeader().setStretchLastSection(True)
        self.summary_table.verticalHeader().hide()
        self.summary_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.canvas_layout.addWidget(self.summary_title)
        self.canvas_layout.addWidget(self.summary_table)
        self.grid = QGridLayout()
        self.grid.setSpacing(8)
        self.canvas_layout.addLayout(self.grid)
        self.canvas_layout.addStretch(1)
        self.scroll.setWidget(self.canvas)
        self.empty_label = empty_state("NO SCALARS REPORTED")
        self.values_model = MetricValuesModel(self)
        self.values_view = QTableView()
        self.values_view.setObjectName("metricValuesTable")
        self.values_view.setModel(self.values_model)
        self.values_view.verticalHeader().hide()
        self.values_view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.values_view.horizontalHeader().setStretchLastSection(True)
        self.values_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        for widget in (self.scroll, self.empty_label, self.values_view):
            self.stack.addWidget(widget)

        self.settings_bar.changed.connect(self._settings_changed)
        self.settings_bar.search_box.textChanged.connect(self._apply_visibility)
        self.graph_button.toggled.connect(self._show_current_view)
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(500)
        self._save_timer.timeout.connect(self._save_settings)
        self._settings_loaded = False

    # -- Settings ---------------------------------------------------------------------
    def _load_settings(self) -> None:
        if self._settings_loaded:
            return
        self._settings_loaded = True
        stored = ScalarSettings.from_json(data.load_preference(PREFERENCE_KEY))
        self.settings.__dict__.update(stored.__dict__)
        # Quietly: showing stored settings is not a change to save or redraw.
        self.settings_bar.blockSignals(True)
        self.settings_bar.sync_from_settings()
        self.settings_bar.show_parameters()
        self.settings_bar.blockSignals(False)

    def _save_settings(self) -> None:
        data.save_preference(PREFERENCE_KEY, self.settings.to_json())

    def _settings_changed(self) -> None:
        self._save_timer.start()
        if self._needs_time() and any(s.timestamps is None for s in self._series.values()):
            self.load(self.experiment_id)  # a time axis now: read the time stamps too
        else:
            self._build_plots()

    def set_full_screen(self, full: bool) -> None:
        self.settings_bar.arrange(sidebar=full)
        if full:
            self.sidebar_layout.addWidget(self.settings_bar)
            self.sidebar_layout.addStretch(1)
        else:
            self._main_layout.insertWidget(0, self.settings_bar)
            while self.sidebar_layout.count():
                self.sidebar_layout.takeAt(0)
        self.sidebar.setVisible(full)
        self._columns = 0
        self._relayout()

    # -- Loading ------------------------------------------------------------------------
    def load(self, experiment_id: str | None) -> None:
        self._load_settings()
        self.experiment_id = experiment_id
        self._series.clear()
        self._counts = {}
        if experiment_id:
            self._counts = data.series_counts(experiment_id)
            timed = self._needs_time()
            for key in sorted(self._counts):
                its, vals, stamps, cursor = data.series_since(experiment_id, *key, data.SeriesCursor(),
                                                              timestamps=timed)
                self._series[key] = SeriesData(its, vals, stamps, cursor)
            self._t0 = self._time_zero(experiment_id) if timed else 0.0
        self.values_model.set_rows(data.metric_values(experiment_id) if experiment_id else [])
        self._singles = data.single_values(experiment_id) if experiment_id else []
        self._fill_summary()
        self._build_plots()

    def _needs_time(self) -> bool:
        return self.settings.x_axis != X_ITERATIONS

    def _time_zero(self, experiment_id: str) -> float:
        """Zero of "time from start": when the run started, or its first point if earlier."""
        firsts = [s.timestamps[0] for s in self._series.values() if s.timestamps is not None and len(s.timestamps)]
        start = data.experiment_start(experiment_id)
        candidates = ([start] if start is not None else []) + ([min(firsts)] if firsts else [])
        return min(candidates) if candidates else 0.0

    def refresh(self) -> None:
        """Append what was reported since the last look; plots keep their zoom."""
        if self.experiment_id is None:
            return
        counts = data.series_counts(self.experiment_id)
        if counts == self._counts:
            singles = data.single_values(self.experiment_id)
            if singles != self._singles:
                self._singles = singles
                self._fill_summary()
            return
        new_keys = []
        for key, count in counts.items():
            series = self._series.get(key)
            if series is not None and count == len(series.values):
                continue
            cursor = series.cursor if series is not None else data.SeriesCursor()
            its, vals, stamps, cursor = data.series_since(self.experiment_id, *key, cursor,
                                                          timestamps=self._needs_time())
            if series is None:
                self._series[key] = SeriesData(its, vals, stamps, cursor)
                new_keys.append(key)
            else:
                series.iterations = np.concatenate([series.iterations, its])
                series.values = np.concatenate([series.values, vals])
                if series.timestamps is not None and stamps is not None:
                    series.timestamps = np.concatenate([series.timestamps, stamps])
                series.cursor = cursor
                self._update_curves(key)
        self._counts = counts
        self.values_model.update_rows(data.metric_values(self.experiment_id))
        self._singles = data.single_values(self.experiment_id)
        self._fill_summary()
        if new_keys:
            if not self._plots and self._series and self._needs_time():
                self._t0 = self._time_zero(self.experiment_id)
            self._build_plots(keep_ranges=True)

    # -- Plots ------------------------------------------------------------------------
    def plot_keys(self) -> list:
        if self.settings.group_by == GROUP_METRIC:
            return sorted({m for m, _ in self._series})
        return sorted(self._series)

    @staticmethod
    def plot_title(key) -> str:
        return key if isinstance(key, str) else f"{key[0]} / {key[1]}"

    def _build_plots(self, keep_ranges: bool = False) -> None:
        ranges = {}
        if keep_ranges:
            for key, widget in self._plots.items():
                view = widget.getPlotItem().getViewBox()
                if not any(view.autoRangeEnabled()):
                    ranges[key] = view.viewRange()
        for widget in self._plots.values():
            self.grid.removeWidget(widget)
            widget.deleteLater()
        self._plots.clear()
        self._curves.clear()
        for key in self.plot_keys():
            widget = self._make_plot(key)
            self._plots[key] = widget
            variants = [k for k in sorted(self._series) if (k[0] == key if isinstance(key, str) else k == key)]
            for n, series_key in enumerate(variants):
                self._add_curves(widget, series_key, PALETTE[n % len(PALETTE)])
            if key in ranges:
                x_range, y_range = ranges[key]
                widget.getPlotItem().getViewBox().setRange(xRange=x_range, yRange=y_range, padding=0)
        self._rebuild_eye_menu()
        self._columns = 0
        self._relayout()
        self._show_current_view()

    def _make_plot(self, key) -> pg.PlotWidget:
        axis_items = {"bottom": pg.DateAxisItem()} if self.settings.x_axis == X_WALL_TIME else None
        widget = pg.PlotWidget(axisItems=axis_items)
        widget.setObjectName("scalarPlot")
        widget.setBackground("w")
        widget.setMinimumHeight(PLOT_HEIGHT)
        widget.setMaximumHeight(PLOT_HEIGHT + 80)
        item = widget.getPlotItem()
        item.setTitle(self.plot_title(key), color="#343a40", size="10pt")
        item.showGrid(x=True, y=True, alpha=0.15)
        # Peak downsampling keeps spikes visible; clipping draws only what is in view.
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        item.setLogMode(x=False, y=self.settings.log_y)
        item.setLabel("bottom", X_AXIS_CHOICES[self.settings.x_axis]
                      + (" (s)" if self.settings.x_axis == X_TIME_FROM_START else ""))
        item.addLegend(offset=(-10, 10), labelTextColor="#343a40", brush=pg.mkBrush(255, 255, 255, 200))
        return widget

    def _add_curves(self, widget: pg.PlotWidget, key: tuple[str, str], colour: str) -> None:
        item = widget.getPlotItem()
        faint = QColor(colour)
        faint.setAlpha(70)
        original = item.plot(pen=pg.mkPen(faint, width=self.settings.line_width))
        smoothed = item.plot(pen=pg.mkPen(colour, width=self.settings.line_width), name=key[1] or key[0])
        for curve in (original, smoothed):
            curve.setDownsampling(auto=True, method="peak")
            curve.setClipToView(True)
        self._curves[key] = (original, smoothed)
        self._update_curves(key)

    def _x_values(self, series: SeriesData) -> np.ndarray:
        if self.settings.x_axis == X_ITERATIONS:
            return series.iterations.astype(np.float64)
        if self.settings.x_axis == X_TIME_FROM_START:
            return series.timestamps - self._t0
        return series.timestamps

    def _update_curves(self, key: tuple[str, str]) -> None:
        curves = self._curves.get(key)
        series = self._series.get(key)
        if curves is None or series is None:
            return
        original, smoothed = curves
        x = self._x_values(series)
        y = series.values
        s = self.settings
        if s.log_y:
            # Log scale of non-positive values is undefined; leave gaps instead of errors.
            y = np.where(y > 0, y, np.nan)
        if s.method == smoothing.NO_SMOOTHING:
            original.setData([], [])
            original.hide()
            smoothed.setData(x, y, connect="finite")
            return
        values = smoothing.smooth(series.values, s.method, alpha=s.alpha, window=s.window,
                                  kernel_size=s.kernel, sigma=s.sigma)
        if s.log_y:
            values = np.where(values > 0, values, np.nan)
        smoothed.setData(x, values, connect="finite")
        if s.show_originals:
            original.setData(x, y, connect="finite")
            original.show()
        else:
            original.setData([], [])
            original.hide()

    # -- Visibility and layout ------------------------------------------------------------
    def visible_plot_keys(self) -> list:
        needle = self.settings_bar.search_box.text().strip().lower()
        return [k for k in self._plots if self.plot_title(k) not in self._hidden
                and (not needle or needle in self.plot_title(k).lower())]

    def _rebuild_eye_menu(self) -> None:
        menu = QMenu(self)
        show_all = menu.addAction("Show all")
        hide_all = menu.addAction("Hide all")
        show_all.triggered.connect(lambda: self._set_all_hidden(False))
        hide_all.triggered.connect(lambda: self._set_all_hidden(True))
        menu.addSeparator()
        for key in self._plots:
            title = self.plot_title(key)
            action = QAction(title, menu)
            action.setCheckable(True)
            action.setChecked(title not in self._hidden)
            action.toggled.connect(lambda checked, t=title: self.set_plot_hidden(t, not checked))
            menu.addAction(action)
        old = self.settings_bar.eye_button.menu()
        self.settings_bar.eye_button.setMenu(menu)
        if old is not None:
            old.deleteLater()

    def set_plot_hidden(self, title: str, hidden: bool) -> None:
        if hidden:
            self._hidden.add(title)
        else:
            self._hidden.discard(title)
        self._apply_visibility()

    def _set_all_hidden(self, hidden: bool) -> None:
        # Like the reference: with a search on, only the matches change.
        needle = self.settings_bar.search_box.text().strip().lower()
        for key in self._plots:
            title = self.plot_title(key)
            if needle and needle not in title.lower():
                continue
            if hidden:
                self._hidden.add(title)
            else:
                self._hidden.discard(title)
        self._rebuild_eye_menu()
        self._apply_visibility()

    def _apply_visibility(self) -> None:
        self._columns = 0
        self._relayout()

    def _relayout(self) -> None:
        columns = 2 if self.scroll.viewport().width() >= 1000 else 1
        if columns == self._columns and self.grid.count() == len(self.visible_plot_keys()):
            return
        self._columns = columns
        while self.grid.count():
            self.grid.takeAt(0)
        visible = set(self.visible_plot_keys())
        position = 0
        for key, widget in self._plots.items():
            widget.setVisible(key in visible)
            if key in visible:
                self.grid.addWidget(widget, position // columns, position % columns)
                position += 1

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._relayout()

    def _fill_summary(self) -> None:
        self.summary_table.setRowCount(len(self._singles))
        for row, (name, value) in enumerate(self._singles):
            self.summary_table.setItem(row, 0, QTableWidgetItem(name))
            item = QTableWidgetItem(data.format_value(value))
            item.setToolTip(repr(value))
            self.summary_table.setItem(row, 1, item)
        has = bool(self._singles)
        self.summary_title.setVisible(has)
        self.summary_table.setVisible(has)
        self.summary_table.setFixedHeight(self.summary_table.horizontalHeader().height()
                                          + sum(self.summary_table.rowHeight(r) for r in range(len(self._singles)))
                                          + 4)

    def _show_current_view(self) -> None:
        if self.values_button.isChecked():
            self.stack.setCurrentWidget(self.values_view)
        elif self._series or self._singles:
            self.stack.setCurrentWidget(self.scroll)
        else:
            self.stack.setCurrentWidget(self.empty_label)

    def plot_widget(self, key) -> pg.PlotWidget | None:
        return self._plots.get(key)

    def series_length(self, key: tuple[str, str]) -> int:
        series = self._series.get(key)
        return len(series.values) if series is not None else 0

    def curves(self, key: tuple[str, str]) -> tuple[pg.PlotDataItem, pg.PlotDataItem] | None:
        return self._curves.get(key)
