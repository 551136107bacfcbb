"""SCALARS of one experiment: a plot per metric (or per variant) in the shared plot grid, the
settings of feature inventory 4.3, a Summary table of single values and a metric-values table.

Live: ``refresh`` reads only the points reported since the last look (a cursor per series) and
refills the curves that exist, so zoom and curve items stay.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QMenu,
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
from exptable_desktop.ui.comparison.common import PlotCard
from exptable_desktop.ui import palette
from exptable_desktop.ui.details.common import DetailsTab, section_title
from exptable_desktop.ui.details.metric_values_model import MetricValuesModel
from exptable_desktop.ui.details.scalar_settings_bar import GROUP_METRIC, ScalarSettings, ScalarSettingsBar
from exptable_desktop.ui.empty_state import SCALARS_SNIPPET, EmptyState
from exptable_desktop.ui.plot_grid import PlotGrid, fill_plots_menu, new_plot_card
from exptable_desktop.ui.scalar_tools import X_ITERATIONS, X_TIME_FROM_START

PALETTE = palette.SERIES_COLOURS
ORIGINAL_ALPHA = 70
PREFERENCE_KEY = "details.scalars"
ORIGINAL = "__original__"


@dataclass
class SeriesData:
    """One series as read so far, and where the next read starts."""

    iterations: np.ndarray
    values: np.ndarray
    timestamps: np.ndarray | None  # read only while a time axis is shown
    cursor: data.SeriesCursor = field(default_factory=data.SeriesCursor)


class ScalarsTab(DetailsTab):
    """The experiment's scalars: graphs (one plot per metric or per variant), a Summary of single
    values above them, and the Metric values table."""

    title = "SCALARS"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("scalarsTab")
        self.settings = ScalarSettings()
        self._series: dict[tuple[str, str], SeriesData] = {}
        self._hidden: set[str] = set()
        self._t0 = 0.0
        self._counts: dict[tuple[str, str], int] = {}
        self._singles: list = []
        # What the cards were built for: another axis or grouping needs new cards.
        self._cards_for: tuple[str, str] | None = None
        # Counts the loads: news read for an earlier one is read again instead of applied.
        self._generation = 0
        self._applied = 0

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
        self.settings_bar.eye_button.setMenu(QMenu(self.settings_bar.eye_button))
        self.settings_bar.eye_button.menu().aboutToShow.connect(self._fill_eye_menu)
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

        self.plot_grid = PlotGrid(self._build_card, self._draw_card, object_name="scalarPlots")
        self.scroll = self.plot_grid
        summary = QWidget()
        summary_layout = QVBoxLayout(summary)
        summary_layout.setContentsMargins(0, 0, 0, 0)
        self.summary_title = section_title("SUMMARY")
        self.summary_table = QTableWidget(0, 2)
        self.summary_table.setObjectName("scalarSummary")
        self.summary_table.setHorizontalHeaderLabels(["Name", "Value"])
        self.summary_table.horizontalHeader().setStretchLastSection(True)
        self.summary_table.verticalHeader().hide()
        self.summary_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        summary_layout.addWidget(self.summary_title)
        summary_layout.addWidget(self.summary_table)
        self.plot_grid.set_header(summary)
        self.empty_label = EmptyState(object_name="scalarsEmpty", icon="type-training")
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

        self.settings_bar.sig_settings_changed.connect(self._settings_changed)
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
            return
        if self._cards_for != (self.settings.x_axis, self.settings.group_by):
            self._build_plots()
            return
        for card in self.plot_grid.cards().values():
            # Quietly: the card's own log toggle would redraw it once more.
            card.log_button.blockSignals(True)
            card.set_log_y(self.settings.log_y)
            card.plot_item.setLogMode(x=False, y=self.settings.log_y)
            card.log_button.blockSignals(False)
        self.plot_grid.mark_stale()

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

    # -- Loading ------------------------------------------------------------------------
    def load(self, experiment_id: str | None) -> None:
        self._load_settings()
        self.experiment_id = experiment_id
        self._generation += 1
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
        """Append what was reported since the last look; plots keep their zoom and curves."""
        if self.experiment_id is not None:
            self.apply_news(self.live_read()[1]())

    def live_read(self):
        """(token, read): the read of what is new since now, made of copies so that the panel's poll
        can run it on its worker thread while this tab goes on; None without an experiment."""
        if self.experiment_id is None:
            return None
        seen = {key: (series.cursor, len(series.values)) for key, series in self._series.items()}
        experiment_id, counts, timed = self.experiment_id, dict(self._counts), self._needs_time()
        return ((self._generation, self._applied),
                lambda: data.scalar_news(experiment_id, seen, counts, timestamps=timed))

    def apply_live(self, token, news: data.ScalarNews) -> None:
        """News read by the poll's worker: applied if the tab is as it was when the read began (same
        load, nothing applied since), else read again here, so that no point is taken in twice."""
        if token == (self._generation, self._applied):
            self.apply_news(news)
        else:
            self.refresh()

    def apply_news(self, news: data.ScalarNews) -> None:
        """Take in what was reported since the last look (``core.details.scalar_news``)."""
        self._applied += 1
        if news.metric_rows is None:
            if news.singles != self._singles:
                self._singles = news.singles
                self._fill_summary()
                self._show_current_view()
            return
        plots_before = self.plot_keys()
        grown_plots = set()
        for key, (its, vals, stamps, cursor) in news.points.items():
            series = self._series.get(key)
            if series is None:
                self._series[key] = SeriesData(its, vals, stamps, cursor)
                grown_plots.add(self.plot_key_of(key))
                continue
            series.iterations = np.concatenate([series.iterations, its])
            series.values = np.concatenate([series.values, vals])
            if series.timestamps is not None and stamps is not None:
                series.timestamps = np.concatenate([series.timestamps, stamps])
            series.cursor = cursor
            if len(vals):
                self._redraw_series(key)
        self._counts = news.counts
        self.values_model.update_rows(news.metric_rows)
        self._singles = news.singles
        self._fill_summary()
        plots_now = self.plot_keys()
        if plots_now != plots_before:
            if not plots_before and self._needs_time():
                self._t0 = self._time_zero(self.experiment_id)
            self._apply_visibility()
        # A new variant in a plot that exists: drawn into it, beside the curves it has.
        self.plot_grid.mark_stale([key for key in grown_plots if key in plots_before])

    # -- Plots ------------------------------------------------------------------------
    def plot_keys(self) -> list:
        """A plot per metric (grouped) or per series, for the series with points to draw."""
        drawn = [key for key, series in self._series.items() if len(series.values)]
        if self.settings.group_by == GROUP_METRIC:
            return sorted({m for m, _ in drawn})
        return sorted(drawn)

    def plot_key_of(self, series_key: tuple[str, str]):
        return series_key[0] if self.settings.group_by == GROUP_METRIC else series_key

    def _series_of_plot(self, plot_key) -> list[tuple[str, str]]:
        if isinstance(plot_key, str):
            return [k for k in sorted(self._series) if k[0] == plot_key]
        return [plot_key] if plot_key in self._series else []

    @staticmethod
    def plot_title(key) -> str:
        return key if isinstance(key, str) else f"{key[0]} / {key[1]}"

    def _build_plots(self) -> None:
        """New cards for every plot (another experiment, axis or grouping)."""
        self.plot_grid.clear()
        self._cards_for = (self.settings.x_axis, self.settings.group_by)
        self._apply_visibility()

    def _build_card(self, key) -> PlotCard:
        card = new_plot_card(self.plot_title(key), self.settings.x_axis, self.settings.log_y)
        card.setObjectName("scalarPlot")
        # The curves are variants, not experiments: no page legend names them, so this one does.
        card.set_legend_by_default(True)
        card.sig_log_toggled.connect(lambda _on, k=key: self._draw_card(k, self.plot_grid.card(k)))
        return card

    def _draw_card(self, plot_key, card: PlotCard) -> None:
        for n, series_key in enumerate(self._series_of_plot(plot_key)):
            self._draw_series(card, series_key, PALETTE[n % len(PALETTE)])
        card.rebuild_legend()

    def _redraw_series(self, key: tuple[str, str]) -> None:
        """New points of ``key``: refill its curves if its plot is drawn (else it is, when shown)."""
        plot_key = self.plot_key_of(key)
        place = self.plot_grid.place(plot_key)
        if place is None or place.card is None or place.stale:
            return
        index = self._series_of_plot(plot_key).index(key)
        self._draw_series(place.card, key, PALETTE[index % len(PALETTE)])

    def _x_values(self, series: SeriesData) -> np.ndarray:
        if self.settings.x_axis == X_ITERATIONS:
            return series.iterations.astype(np.float64)
        if self.settings.x_axis == X_TIME_FROM_START:
            return series.timestamps - self._t0
        return series.timestamps

    def _draw_series(self, card: PlotCard, key: tuple[str, str], colour: str) -> None:
        """The smoothed curve (the raw one without smoothing) and, behind it, the faint original."""
        series = self._series[key]
        s = self.settings
        log = card.log_y()
        x = self._x_values(series)
        smoothed = s.method != smoothing.NO_SMOOTHING
        values = smoothing.smooth(series.values, s.method, alpha=s.alpha, window=s.window,
                                  kernel_size=s.kernel, sigma=s.sigma) if smoothed else series.values
        pen = pg.mkPen(colour, width=s.line_width)
        faint = QColor(colour)
        faint.setAlpha(ORIGINAL_ALPHA)
        faint_pen = pg.mkPen(faint, width=s.line_width)
        original_key = (ORIGINAL,) + key
        if card.entry(original_key) is None:
            # Added first, so it stays behind; without a label it is in no legend and no hover.
            card.add_curve(original_key, "", faint_pen).setZValue(-1)
        original = card.entry(original_key)
        card.set_pen(original_key, faint_pen)
        if smoothed and s.show_originals:
            original.item.setData(x, _for_log(series.values, log), connect="finite")
            original.raw_x, original.raw_y = x, series.values
            original.item.show()
        else:
            original.item.setData([], [])
            original.raw_x = original.raw_y = None
            original.item.hide()
        entry = card.entry(key)
        if entry is None:
            label = key[1] or key[0]
            card.add_curve(key, label, pen, x, _for_log(values, log), name=label)
            entry = card.entry(key)
        else:
            card.set_pen(key, pen)
            entry.item.setData(x, _for_log(values, log), connect="finite")
        entry.raw_x, entry.raw_y = x, values

    # -- Visibility -------------------------------------------------------------------------
    def visible_plot_keys(self) -> list:
        needle = self.settings_bar.search_box.text().strip().lower()
        return [k for k in self.plot_keys() if self.plot_title(k) not in self._hidden
                and (not needle or needle in self.plot_title(k).lower())]

    def _fill_eye_menu(self) -> None:
        """Filled when opened, with the plots there are then."""
        fill_plots_menu(self.settings_bar.eye_button.menu(), [self.plot_title(k) for k in self.plot_keys()],
                        self._hidden, self.set_plot_hidden, self._set_all_hidden)

    def set_plot_hidden(self, title: str, hidden: bool) -> None:
        if hidden:
            self._hidden.add(title)
        else:
            self._hidden.discard(title)
        self._apply_visibility()

    def _set_all_hidden(self, hidden: bool) -> None:
        # Like the reference: with a search on, only the matches change.
        needle = self.settings_bar.search_box.text().strip().lower()
        for key in self.plot_keys():
            title = self.plot_title(key)
            if needle and needle not in title.lower():
                continue
            if hidden:
                self._hidden.add(title)
            else:
                self._hidden.discard(title)
        self._apply_visibility()

    def _apply_visibility(self) -> None:
        self.plot_grid.set_plots(self.plot_keys(), shown=self.visible_plot_keys())
        self._show_current_view()

    def _fill_summary(self) -> None:
        self.summary_table.setRowCount(len(self._singles))
        for row, (name, value) in enumerate(self._singles):
            self.summary_table.setItem(row, 0, QTableWidgetItem(name))
            item = QTableWidgetItem(data.format_value(value))
            item.setToolTip(repr(value))
            self.summary_table.setItem(row, 1, item)
        self.plot_grid.set_header_wanted(bool(self._singles))
        self.summary_table.setFixedHeight(self.summary_table.horizontalHeader().height()
                                          + sum(self.summary_table.rowHeight(r) for r in range(len(self._singles)))
                                          + 4)

    def _show_current_view(self) -> None:
        if self.values_button.isChecked():
            self.stack.setCurrentWidget(self.values_view)
        elif self.plot_grid.shown_keys() or self._singles:
            self.stack.setCurrentWidget(self.scroll)
            self.plot_grid.schedule()
        else:
            self._say_why_empty()
            self.stack.setCurrentWidget(self.empty_label)

    def _say_why_empty(self) -> None:
        """Nothing to draw: nothing reported, points missing, no plot matching the search, or all hidden."""
        needle = self.settings_bar.search_box.text().strip()
        if self.experiment_id is None:
            self.empty_label.set_content("No experiment selected", "Choose an experiment to see its scalars.")
        elif not self._series:
            self.empty_label.set_content(
                "No scalars reported yet",
                "Scalars appear here, one plot per metric, as soon as the experiment reports them "
                "(live while it runs). To report one from a script:", SCALARS_SNIPPET)
        elif not self.plot_keys():
            count = len(self._series)
            self.empty_label.set_content(
                "No points stored for these scalars",
                f"This experiment has a summary of {count} scalar series (see Metric values) but no stored "
                f"points to draw.")
        elif needle:
            self.empty_label.set_content(f"No plot matches “{needle}”",
                                         "Clear the search or try another part of a metric's name.")
        else:
            self.empty_label.set_content("Every plot is hidden", "Show them again from the Plots menu.")

    # -- For tests and callers ----------------------------------------------------------------
    def plot_widget(self, key) -> PlotCard | None:
        """The card of the plot ``key``, drawn now if it was not yet."""
        return self.plot_grid.fresh_card(key)

    def series_length(self, key: tuple[str, str]) -> int:
        series = self._series.get(key)
        return len(series.values) if series is not None else 0

    def curves(self, key: tuple[str, str]) -> tuple[pg.PlotDataItem, pg.PlotDataItem] | None:
        """(original, smoothed) curve items of the series ``key``."""
        card = self.plot_grid.fresh_card(self.plot_key_of(key))
        if card is None or card.entry(key) is None:
            return None
        return card.entry((ORIGINAL,) + key).item, card.entry(key).item

    def is_empty(self) -> bool:
        return self.stack.currentWidget() is self.empty_label


def _for_log(values: np.ndarray, log: bool) -> np.ndarray:
    # Log of a non-positive value is undefined: a gap, not an error.
    return np.where(values > 0, values, np.nan) if log else values
