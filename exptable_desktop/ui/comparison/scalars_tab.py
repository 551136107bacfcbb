"""SCALARS of the compare page: overlaid graphs, a Summary bar chart and the values tables.

Speed at 100 experiments (issue 12): the summaries (LAST/MIN/MAX) come from
one query; a plot's series are read when its place scrolls into view, one
query per series name for all experiments (``store.series.read_series_many``);
curve items are kept and refilled when the compared set changes; pyqtgraph
draws them downsampled (peak) and clipped to the view. Hiding an experiment,
recolouring it or hovering only restyles items that exist. The places, their
lazy building, the columns and maximising are ``ui.plot_grid.PlotGrid``'s, the
same grid an experiment's own SCALARS tab shows.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, QTimer
from PySide6.QtGui import QColor, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import compare_data, compare_stats, smoothing
from exptable_desktop.core import details as details_data
from exptable_desktop.core.compare_palette import DASH_STYLES, ComparedExperiment
from exptable_desktop.ui.comparison.common import (
    PlotCard,
    experiment_pen,
    format_number,
    tool_button,
)
from exptable_desktop.ui.comparison.plot_pages import load_hidden_plots, save_hidden_plots
from exptable_desktop.ui.comparison.values_model import ComparisonValuesModel
from exptable_desktop.ui.details.common import FlowLayout
from exptable_desktop.ui.empty_state import SCALARS_SNIPPET, EmptyState
from exptable_desktop.ui.palette import translucent
from exptable_desktop.ui.plot_grid import (
    PlotGrid,
    PlotPlace,
    fill_plots_menu,
    new_plot_card,
)
from exptable_desktop.ui.scalar_tools import (  # noqa: F401  (X_WALL_TIME: this tab's axis choices, for callers)
    X_ITERATIONS,
    X_TIME_FROM_START,
    X_WALL_TIME,
    ScalarTools,
    ScalarToolSettings,
)
from exptable_desktop.ui.palette import themed

VIEW_GRAPHS = "graphs"
VIEW_LAST = "last"
VIEW_MIN = "min"
VIEW_MAX = "max"
VIEW_BEST = "best"
VIEW_LABELS = {VIEW_GRAPHS: "Graphs", VIEW_LAST: "Last values", VIEW_MIN: "Min values",
               VIEW_MAX: "Max values", VIEW_BEST: "At best step"}

GROUP_METRIC_VARIANT = "metric_variant"
GROUP_METRIC = "metric"
RUNS_EACH = "each"
RUNS_EXCEPT = "except"
RUNS_TAGS = "tags"
RUNS_LABELS = {RUNS_EACH: "Each experiment", RUNS_EXCEPT: "Mean of: same params except",
               RUNS_TAGS: "Mean of: same tags"}

SETTINGS_KEY = "compare.scalars"
HIDDEN_PLOTS_KEY = "compare.hidden_plots"
ORIGINAL_ALPHA = 60
BAND_ALPHA = 50
SUMMARY_KEY = ("__summary__", "")
NO_POINTS_NOTE = "No points stored for this plot's experiments"
BEST_ROW = ("__best_step__", "")


@dataclass
class CompareScalarSettings(ScalarToolSettings):
    """The compare SCALARS tab's settings, saved as the ``compare.scalars`` preference: the shared scalar tools
    plus how plots are grouped, how runs are combined, and the band drawn around a mean."""

    group_by: str = GROUP_METRIC_VARIANT
    runs: str = RUNS_EACH
    runs_parameter: str = ""
    band: str = compare_stats.BAND_MIN_MAX


def _find_data(combo: QComboBox, value) -> int:
    """``findData`` for tuples: Qt compares wrapped Python objects by identity, not by value."""
    return next((n for n in range(combo.count()) if combo.itemData(n) == value), -1)


def plot_title(key: tuple[str, str | None]) -> str:
    return key[0] if key[1] is None else f"{key[0]} / {key[1]}"


class ScalarsTab(QWidget):
    """The compare page's SCALARS: a plot per metric (and variant) with a curve per experiment or
    per group of runs, a Summary bar chart of single values, and the Last / Min / Max / At best step
    tables."""

    title = "SCALARS"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("compareScalarsTab")
        self.settings = CompareScalarSettings.from_json(details_data.load_preference(SETTINGS_KEY))
        self._experiments: list[ComparedExperiment] = []
        self._by_id: dict[str, ComparedExperiment] = {}
        self._series_keys: dict[tuple[str, str], list[str]] = {}
        self._summaries: dict[tuple[str, str], dict[str, compare_data.SummaryCell]] = {}
        self._singles: dict[str, dict[str, float | None]] = {}
        self._series: dict[tuple[str, str], dict] = {}
        self._timed: set[tuple[str, str]] = set()
        self._starts: dict[str, float] | None = None
        self._params: dict[str, dict[str, str]] | None = None
        self._tags: dict[str, list[str]] | None = None
        self._bands: dict[tuple, list] = {}
        self._hide_identical = False
        self._project = ""
        self._hidden_plots: set[str] = set()
        self._layout_dirty = False
        self._best_cache: tuple | None = None
        self._build_controls()
        self._build_views()
        self._load_hidden_plots()
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(500)
        self._save_timer.timeout.connect(self._save_settings)
        self._rebuild_layout()

    # ===== Controls ==========================================================================
    def _build_controls(self) -> None:
        self.view_buttons: dict[str, QToolButton] = {}
        self._view_group = QButtonGroup(self)
        for key, label in VIEW_LABELS.items():
            button = tool_button(label, f"Show {label.lower()}", f"scalarsView_{key}", checkable=True)
            button.setAutoRaise(False)
            self._view_group.addButton(button)
            self.view_buttons[key] = button
        self.view_buttons[VIEW_GRAPHS].setChecked(True)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("compareScalarSearch")
        self.search_box.setPlaceholderText("Search metrics")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setMaximumWidth(220)
        self.search_box.setMinimumWidth(150)
        self.metrics_button = tool_button("Metrics", "Choose the metrics shown (remembered per project)",
                                          "compareMetricsChooser")
        self.metrics_button.setAutoRaise(False)
        self.metrics_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.metrics_button.setMenu(QMenu(self.metrics_button))
        self.metrics_button.menu().aboutToShow.connect(self._rebuild_metrics_menu)
        self.group_combo = QComboBox()
        self.group_combo.setObjectName("compareGroupBy")
        self.group_combo.addItem("Metric + Variant", GROUP_METRIC_VARIANT)
        self.group_combo.addItem("Metric", GROUP_METRIC)
        self.runs_combo = QComboBox()
        self.runs_combo.setObjectName("compareRuns")
        for key, label in RUNS_LABELS.items():
            self.runs_combo.addItem(label, key)
        self.runs_combo.setToolTip("Draw experiments that differ only in one parameter (e.g. seed), or that share "
                                   "their tags, as one mean curve with a band")
        self.runs_param_combo = QComboBox()
        self.runs_param_combo.setObjectName("compareRunsParameter")
        self.runs_param_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.runs_param_combo.setMinimumContentsLength(12)
        self.band_combo = QComboBox()
        self.band_combo.setObjectName("compareBand")
        self.band_combo.addItem("min–max band", compare_stats.BAND_MIN_MAX)
        self.band_combo.addItem("± std band", compare_stats.BAND_STD)
        self.tools = ScalarTools("compare", alpha_step=0.05)
        (self.axis_combo, self.smoothing_combo, self.alpha_spin, self.window_spin, self.kernel_spin,
         self.sigma_spin, self.originals_check, self.log_check, self.width_spin) = self.tools.widgets()
        self.best_reference = QComboBox()
        self.best_reference.setObjectName("compareBestReference")
        # Sized to 18 characters, eliding longer metric names, so a long name never widens the page.
        self.best_reference.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.best_reference.setMinimumContentsLength(18)
        self.best_reference.setToolTip("Show every metric at the iteration where this one is best")
        self.best_mode = QComboBox()
        self.best_mode.setObjectName("compareBestMode")
        self.best_mode.addItem("min", compare_stats.BEST_MIN)
        self.best_mode.addItem("max", compare_stats.BEST_MAX)
        self.extremes_legend = QLabel(
            themed('<span style="background:$danger_soft">&nbsp;min&nbsp;</span> '
            '<span style="background:$success_soft">&nbsp;max&nbsp;</span>'))
        self.extremes_legend.setToolTip("Row extremes: the smallest and largest value of each row")
        self._sync_controls()

        for combo in (self.group_combo, self.runs_combo, self.runs_param_combo, self.band_combo):
            combo.currentIndexChanged.connect(self._controls_changed)
        self.tools.connect(self._controls_changed)
        self._view_group.buttonToggled.connect(lambda _b, on: on and self._show_view())
        self.search_box.textChanged.connect(self._search_changed)
        self.best_reference.currentIndexChanged.connect(self._best_changed)
        self.best_mode.currentIndexChanged.connect(self._best_changed)

    def _sync_controls(self) -> None:
        s = self.settings
        widgets = (self.group_combo, self.runs_combo, self.band_combo, *self.tools.widgets())
        for widget in widgets:
            widget.blockSignals(True)
        self.group_combo.setCurrentIndex(max(0, self.group_combo.findData(s.group_by)))
        self.runs_combo.setCurrentIndex(max(0, self.runs_combo.findData(s.runs)))
        self.band_combo.setCurrentIndex(max(0, self.band_combo.findData(s.band)))
        self.tools.show(s)
        for widget in widgets:
            widget.blockSignals(False)
        self._show_parameters()

    def _show_parameters(self) -> None:
        self.tools.show_parameters(self.settings.method)
        self.originals_check.setVisible(self.settings.method != smoothing.NO_SMOOTHING)
        grouped = self.settings.runs != RUNS_EACH
        self.runs_param_combo.setVisible(self.settings.runs == RUNS_EXCEPT)
        self.band_combo.setVisible(grouped)

    def _build_views(self) -> None:
        first = QHBoxLayout()
        first.setContentsMargins(8, 6, 8, 2)
        first.setSpacing(4)
        for button in self.view_buttons.values():
            first.addWidget(button)
        first.addStretch(1)
        first.addWidget(self.search_box)
        first.addWidget(self.metrics_button)
        second = QHBoxLayout()
        second.setContentsMargins(8, 0, 8, 4)
        second.setSpacing(4)
        self.graph_controls = QWidget()
        # Wraps onto a second line in a narrow window instead of widening the page.
        flow = FlowLayout(self.graph_controls, spacing=10)
        for label, widgets in (("Group by", (self.group_combo,)),
                               ("Runs", (self.runs_combo, self.runs_param_combo, self.band_combo)),
                               ("X axis", (self.axis_combo,)),
                               ("Smoothing", self.tools.smoothing_widgets()),
                               ("", (self.log_check, self.width_spin))):
            group = QWidget()
            row = QHBoxLayout(group)
            row.setContentsMargins(0, 0, 0, 0)
            row.setSpacing(4)
            if label:
                row.addWidget(QLabel(label))
            for widget in widgets:
                row.addWidget(widget)
            flow.addWidget(group)
        second.addWidget(self.graph_controls, 1)
        # The tables' own controls take the second line too: on the first they made the page
        # (and so the main window) wider than its default 1400 px.
        self.table_controls = QWidget()
        table_flow = FlowLayout(self.table_controls, spacing=10)
        self.best_controls = QWidget()
        row = QHBoxLayout(self.best_controls)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        self.best_label = QLabel("Best of")
        for widget in (self.best_label, self.best_reference, self.best_mode):
            row.addWidget(widget)
        table_flow.addWidget(self.best_controls)
        table_flow.addWidget(self.extremes_legend)
        second.addWidget(self.table_controls, 1)

        self.plot_grid = PlotGrid(self._build_card, self._draw_card, object_name="compareScalarPlots")
        self.scroll = self.plot_grid
        self.empty_label = EmptyState(object_name="compareScalarsEmpty", icon="view-comparison")
        self.values_model = ComparisonValuesModel(self)
        self.values_view = QTableView()
        self.values_view.setObjectName("compareValuesTable")
        self.values_view.setModel(self.values_model)
        self.values_view.verticalHeader().hide()
        self.values_view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.values_view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.values_view.setWordWrap(False)
        self.values_view.setAlternatingRowColors(True)
        header = self.values_view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setDefaultSectionSize(120)
        header.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.values_view.verticalHeader().setDefaultSectionSize(24)
        self.stack = QStackedWidget()
        for widget in (self.scroll, self.empty_label, self.values_view):
            self.stack.addWidget(widget)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(first)
        layout.addLayout(second)
        layout.addWidget(self.stack, 1)

    # ===== Page interface ====================================================================
    def set_project(self, project: str | None) -> None:
        project = project or ""
        if project != self._project:
            self._project = project
            self._load_hidden_plots()
            self._rebuild_layout()

    def set_experiments(self, experiments: list[ComparedExperiment]) -> None:
        old_ids = [e.id for e in self._experiments]
        self._experiments = list(experiments)
        self._by_id = {e.id: e for e in self._experiments}
        if [e.id for e in experiments] == old_ids and old_ids:
            self._restyle()
            return
        self._load()

    def hide_identical(self, on: bool) -> None:
        self._hide_identical = bool(on)
        self.values_model.set_hide_identical(self._hide_identical)
        self._rebuild_layout()

    def show_row_extremes(self, on: bool) -> None:
        self.values_model.set_show_extremes(bool(on))
        self.extremes_legend.setVisible(bool(on) and self.view() != VIEW_GRAPHS)
        self._sync_table_controls()

    def refresh(self) -> None:
        """Re-read everything, keeping zoom where the plots stay."""
        self._load(keep_ranges=True)

    def highlight_experiment(self, exp_id: str | None) -> None:
        for key, card in self.plot_grid.cards().items():
            if key != SUMMARY_KEY:
                card.highlight(None if exp_id is None else (lambda curve, e=exp_id: curve[0] == e))

    # ===== Loading ===========================================================================
    def experiment_ids(self) -> list[str]:
        return [e.id for e in self._experiments]

    def visible_experiments(self) -> list[ComparedExperiment]:
        return [e for e in self._experiments if not e.hidden]

    def _load(self, keep_ranges: bool = False) -> None:
        ids = self.experiment_ids()
        self._summaries = compare_data.summaries(ids) if ids else {}
        # Who reported what comes with the summaries: no second query.
        self._series_keys = {key: list(per) for key, per in self._summaries.items()}
        self._singles = compare_data.single_values(ids) if ids else {}
        self._series = {}
        self._timed = set()
        self._params = None
        self._tags = None
        self._best_cache = None
        self._starts = None
        self._fill_best_reference()
        self._fill_runs_parameters()
        ranges = self._view_ranges() if keep_ranges else {}
        self.plot_grid.mark_stale()
        self._rebuild_layout()
        for key, (x_range, y_range) in ranges.items():
            card = self.plot_grid.card(key)
            if card is not None:
                card.plot_item.getViewBox().setRange(xRange=x_range, yRange=y_range, padding=0)

    def _view_ranges(self) -> dict:
        out = {}
        for key, card in self.plot_grid.cards().items():
            view = card.plot_item.getViewBox()
            if key != SUMMARY_KEY and not any(view.autoRangeEnabled()):
                out[key] = view.viewRange()
        return out

    def _needs_time(self) -> bool:
        return self.settings.x_axis != X_ITERATIONS

    def _series_for(self, key: tuple[str, str]) -> dict:
        """The series ``key`` of every compared experiment: one query, cached until the next load."""
        timed = self._needs_time()
        if key not in self._series or (timed and key not in self._timed):
            ids = self._series_keys.get(key, [])
            self._series[key] = compare_data.load_series(ids, [key], timestamps=timed)[key] if ids else {}
            if timed:
                self._timed.add(key)
        return self._series[key]

    # ===== Plot keys, slots and layout ========================================================
    def all_plot_keys(self) -> list[tuple[str, str | None]]:
        if self.settings.group_by == GROUP_METRIC:
            return sorted({(m, None) for m, _ in self._series_keys})
        return [(m, v) for m, v in self._series_keys]

    def _series_of_plot(self, key) -> list[tuple[str, str]]:
        if key[1] is None:
            return [k for k in self._series_keys if k[0] == key[0]]
        return [key] if key in self._series_keys else []

    def _plot_is_identical(self, key) -> bool:
        ids = self.experiment_ids()
        for series_key in self._series_of_plot(key):
            cells = self._summaries.get(series_key, {})
            values = [None if cells.get(i) is None else (cells[i].last, cells[i].min, cells[i].max,
                                                         cells[i].last_iteration) for i in ids]
            if not compare_stats.is_identical(values):
                return False
        return True

    def plot_keys(self) -> list:
        """The plots shown: chosen in the Metrics menu, matching the search, not identical when hidden."""
        needle = self.search_box.text().strip().lower()
        keys = []
        for key in self.all_plot_keys():
            title = plot_title(key)
            if title in self._hidden_plots or (needle and needle not in title.lower()):
                continue
            if self._hide_identical and len(self._experiments) > 1 and self._plot_is_identical(key):
                continue
            keys.append(key)
        return keys

    def _rebuild_layout(self) -> None:
        self._update_metrics_button()
        if self.view() != VIEW_GRAPHS:
            # The tables need no plot places: build them when the graphs are shown.
            self._layout_dirty = True
            self._show_view()
            return
        self._layout_dirty = False
        has_singles = bool(self._singles) and not self.search_box.text().strip()
        self.plot_grid.set_plots(self.all_plot_keys(), shown=self.plot_keys(),
                                 wide=[SUMMARY_KEY] if has_singles else [])
        self._bands = {key: items for key, items in self._bands.items() if self.plot_grid.place(key) is not None}
        if has_singles:
            self.plot_grid.mark_stale([SUMMARY_KEY])
        self._show_view()
        self.plot_grid.schedule()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        # Save a pending change now, into the database it was made on, not later into another.
        if self._save_timer.isActive():
            self._save_timer.stop()
            self._save_settings()

    def _save_settings(self) -> None:
        details_data.save_preference(SETTINGS_KEY, self.settings.to_json())

    def _materialise_visible(self) -> None:
        if self.view() == VIEW_GRAPHS:
            self.plot_grid.materialise_visible()

    def materialise_all(self) -> None:
        """Build and fill every shown plot now (tests, benchmarks, exports)."""
        self.plot_grid.materialise_all()

    def _build_card(self, key) -> PlotCard:
        if key == SUMMARY_KEY:
            card = PlotCard("Summary")
            card.log_button.hide()
        else:
            card = new_plot_card(plot_title(key), self.settings.x_axis, self.settings.log_y)
            card.sig_log_toggled.connect(lambda _on, k=key: self._draw_card(k, self.plot_grid.card(k)))
        card.setObjectName("comparePlotCard")
        card.sig_legend_clicked.connect(self._legend_clicked)
        return card

    def _draw_card(self, key, card: PlotCard) -> None:
        if key == SUMMARY_KEY:
            self._draw_summary(card)
        else:
            self._draw_plot(key, card)

    def _legend_clicked(self, curve_key) -> None:
        page = self._page()
        exp_id = curve_key[0]
        if page is not None and exp_id in self._by_id:
            page.set_hidden(exp_id, not self._by_id[exp_id].hidden)

    def _page(self):
        widget = self.parentWidget()
        while widget is not None and not hasattr(widget, "set_hidden"):
            widget = widget.parentWidget()
        return widget

    # ===== Drawing ============================================================================
    def _x_of(self, exp_id: str, series) -> np.ndarray:
        if self.settings.x_axis == X_ITERATIONS:
            return series.iterations.astype(np.float64)
        if self.settings.x_axis == X_TIME_FROM_START:
            if self._starts is None:
                rows = compare_data.experiment_rows(self.experiment_ids())
                self._starts = {row["id"]: min(x for x in (row["started"], row["created"]) if x is not None)
                                for row in rows}
            start = self._starts.get(exp_id)
            first = float(series.timestamps[0]) if len(series.timestamps) else 0.0
            zero = min(start, first) if start is not None else first
            return series.timestamps - zero
        return series.timestamps

    def _smoothed(self, values: np.ndarray) -> np.ndarray:
        s = self.settings
        if s.method == smoothing.NO_SMOOTHING:
            return values
        return smoothing.smooth(values, s.method, alpha=s.alpha, window=s.window, kernel_size=s.kernel, sigma=s.sigma)

    @staticmethod
    def _for_log(values: np.ndarray, log: bool) -> np.ndarray:
        # Log of a non-positive value is undefined: a gap, not an error.
        return np.where(values > 0, values, np.nan) if log else values

    def _pen(self, experiment: ComparedExperiment, variant_index: int, faint: bool = False) -> QPen:
        dash = DASH_STYLES[variant_index % len(DASH_STYLES)] if self.settings.group_by == GROUP_METRIC else None
        pen = experiment_pen(experiment, self.settings.line_width, dash)
        if faint:
            colour = QColor(pen.color())
            colour.setAlpha(ORIGINAL_ALPHA)
            pen.setColor(colour)
        return pen

    def _draw_plot(self, plot_key, card: PlotCard | None) -> None:
        if card is None:
            return
        for item in self._bands.pop(plot_key, []):
            card.plot_item.removeItem(item)
        if self.settings.runs != RUNS_EACH:
            self._draw_groups(plot_key, card)
            return
        log = card.log_y()
        card.set_legend_by_default(False)
        smoothed = self.settings.method != smoothing.NO_SMOOTHING
        originals = smoothed and self.settings.show_originals
        series_keys = self._series_of_plot(plot_key)
        wanted = set()
        order = {e.id: n for n, e in enumerate(self._experiments)}
        for variant_index, series_key in enumerate(series_keys):
            per_experiment = self._series_for(series_key)
            for exp_id in sorted(per_experiment, key=lambda i: order.get(i, 0)):
                experiment = self._by_id.get(exp_id)
                if experiment is None:
                    continue
                series = per_experiment[exp_id]
                curve_key = (exp_id, series_key[1])
                label = experiment.name if plot_key[1] is not None else f"{experiment.name} · {series_key[1]}"
                wanted.add(curve_key)
                x = self._x_of(exp_id, series)
                y = self._smoothed(series.values)
                entry = card.entry(curve_key)
                pen = self._pen(experiment, variant_index)
                if entry is None:
                    # New curves get their data at creation; existing ones are refilled (reused).
                    card.add_curve(curve_key, label, pen, x, self._for_log(y, log))
                    entry = card.entry(curve_key)
                else:
                    card.set_pen(curve_key, pen)
                    card.set_label(curve_key, label)
                    entry.item.setData(x, self._for_log(y, log), connect="finite")
                entry.raw_x, entry.raw_y = x, y
                if entry.item.isVisible() == experiment.hidden:
                    entry.item.setVisible(not experiment.hidden)
                original_key = ("__original__",) + curve_key
                if originals:
                    wanted.add(original_key)
                    original = card.entry(original_key)
                    faint = self._pen(experiment, variant_index, faint=True)
                    if original is None:
                        card.add_curve(original_key, "", faint, x, self._for_log(series.values, log))
                        original = card.entry(original_key)
                        original.item.setZValue(-1)
                    else:
                        card.set_pen(original_key, faint)
                        original.item.setData(x, self._for_log(series.values, log), connect="finite")
                    original.item.setVisible(not experiment.hidden)
        for key in list(card.entries()):
            if key not in wanted:
                card.remove_curve(key)
        card.rebuild_legend()
        self._note_if_no_points(plot_key, card)

    def _note_if_no_points(self, plot_key, card: PlotCard) -> None:
        """Summaries without stored points: say so in the plot rather than show bare axes."""
        if any(e.item.xData is not None and len(e.item.xData) for e in card.entries().values()):
            return
        note = pg.TextItem(NO_POINTS_NOTE, color=translucent("text_muted", 255), anchor=(0.5, 0.5))
        note.setPos(0.5, 0.5)  # the middle of the range an empty plot shows
        card.plot_item.addItem(note, ignoreBounds=True)
        self._bands.setdefault(plot_key, []).append(note)  # removed, as the bands, when next drawn

    def _groups(self):
        visible = [e.id for e in self._experiments if not e.hidden]
        if self.settings.runs == RUNS_TAGS:
            if self._tags is None:
                self._tags = compare_data.tags(self.experiment_ids())
            return compare_stats.group_by_tags(visible, self._tags)
        if self._params is None:
            self._params = compare_data.hyperparameters(self.experiment_ids())
        return compare_stats.group_by_ignoring(visible, self._params, self.settings.runs_parameter)

    def _draw_groups(self, plot_key, card: PlotCard) -> None:
        log = card.log_y()
        groups = self._groups()
        wanted = set()
        bands = []
        for variant_index, series_key in enumerate(self._series_of_plot(plot_key)):
            per_experiment = self._series_for(series_key)
            for n, group in enumerate(groups):
                runs = [(self._x_of(i, per_experiment[i]), self._smoothed(per_experiment[i].values))
                        for i in group.members if i in per_experiment]
                if not runs:
                    continue
                stats = compare_stats.group_statistics(runs, self.settings.band)
                leader = self._by_id[group.members[0]]
                curve_key = ("__group__", n, series_key[1])
                label = f"{group.label} ({len(runs)} run{'s' if len(runs) != 1 else ''})"
                if plot_key[1] is None:
                    label += f" · {series_key[1]}"
                wanted.add(curve_key)
                pen = self._pen(leader, variant_index)
                entry = card.entry(curve_key)
                if entry is None:
                    card.add_curve(curve_key, label, pen, stats.grid, self._for_log(stats.mean, log))
                    entry = card.entry(curve_key)
                else:
                    card.set_pen(curve_key, pen)
                    card.set_label(curve_key, label)
                    entry.item.setData(stats.grid, self._for_log(stats.mean, log), connect="finite")
                entry.raw_x, entry.raw_y = stats.grid, stats.mean
                entry.item.setVisible(True)
                if len(runs) > 1:
                    fill = QColor(leader.colour)
                    fill.setAlpha(BAND_ALPHA)
                    finite = np.isfinite(stats.low) & np.isfinite(stats.high)
                    if log:
                        finite &= (stats.low > 0) & (stats.high > 0)
                    band_x = stats.grid[finite]
                    low_y, high_y = stats.low[finite], stats.high[finite]
                    if log:
                        # The band is drawn in the view's coordinates, which are log10 here.
                        low_y, high_y = np.log10(low_y), np.log10(high_y)
                    low = pg.PlotCurveItem(band_x, low_y)
                    high = pg.PlotCurveItem(band_x, high_y)
                    band = pg.FillBetweenItem(low, high, brush=pg.mkBrush(fill))
                    band.setZValue(-2)
                    card.plot_item.addItem(band)
                    bands.append(band)
        self._bands[plot_key] = bands
        for key in list(card.entries()):
            if key not in wanted:
                card.remove_curve(key)
        card.set_legend_by_default(True)  # groups are not in the page's legend: name them here
        card.rebuild_legend()
        self._note_if_no_points(plot_key, card)

    def _draw_summary(self, card: PlotCard) -> None:
        """Single values as one clustered bar chart: a cluster per name, a bar per experiment."""
        item = card.plot_item
        for entry_key in list(card.entries()):
            card.remove_curve(entry_key)
        for band in self._bands.pop(SUMMARY_KEY, []):
            item.removeItem(band)
        names = list(self._singles)
        shown = self.visible_experiments()
        width = 0.8 / max(1, len(shown))
        bars = []
        for n, experiment in enumerate(shown):
            heights = [self._singles[name].get(experiment.id) for name in names]
            xs = np.arange(len(names)) - 0.4 + width * (n + 0.5)
            present = [h is not None for h in heights]
            bar = pg.BarGraphItem(x=xs[present], height=[h for h in heights if h is not None], width=width,
                                  brush=experiment.colour, pen=pg.mkPen(experiment.colour))
            bar.setToolTip(experiment.name)
            item.addItem(bar)
            bars.append(bar)
            # An invisible curve per experiment gives the side legend its entry.
            card.add_curve((experiment.id, None), experiment.name, pg.mkPen(experiment.colour, width=6))
        self._bands[SUMMARY_KEY] = bars
        item.getAxis("bottom").setTicks([[(i, name) for i, name in enumerate(names)]])
        item.setXRange(-0.6, len(names) - 0.4, padding=0)
        card.rebuild_legend()
        # Curves without data would win every hover; the bars answer instead.
        card.hover_provider = lambda point, names=names, shown=shown, width=width: \
            self._summary_hover(point, names, shown, width)
        card.csv_provider = lambda names=names, shown=shown: [["name"] + [e.name for e in shown]] + [
            [name] + ["" if self._singles[name].get(e.id) is None else repr(float(self._singles[name][e.id]))
                      for e in shown] for name in names]

    def _summary_hover(self, point: QPointF, names, shown, width) -> str | None:
        cluster = int(round(point.x()))
        if not 0 <= cluster < len(names) or not shown:
            return None
        position = int((point.x() - (cluster - 0.4)) // width)
        if not 0 <= position < len(shown):
            return names[cluster]
        experiment = shown[position]
        value = self._singles[names[cluster]].get(experiment.id)
        return f"{names[cluster]} · {experiment.name}: {format_number(value)}"

    def _restyle(self) -> None:
        """Colours, dashes or hidden flags changed: restyle what exists, read nothing."""
        for plot_key, card in self.plot_grid.cards().items():
            if plot_key == SUMMARY_KEY or self.plot_grid.place(plot_key).stale:
                continue
            if self.settings.runs != RUNS_EACH:
                self._draw_plot(plot_key, card)  # hidden members leave their group
                continue
            series_keys = self._series_of_plot(plot_key)
            for key, entry in card.entries().items():
                original = key[0] == "__original__"
                exp_id, variant = (key[1], key[2]) if original else key
                experiment = self._by_id.get(exp_id)
                if experiment is None:
                    continue
                index = next((n for n, k in enumerate(series_keys) if k[1] == variant), 0)
                card.set_pen(key, self._pen(experiment, index, faint=original))
                label = experiment.name if plot_key[1] is not None else f"{experiment.name} · {variant}"
                if not original:
                    card.set_label(key, label)
                entry.item.setVisible(not experiment.hidden)
            card.rebuild_legend()
        summary = self.plot_grid.card(SUMMARY_KEY)
        if summary is not None:
            self._draw_summary(summary)
        self._fill_values()

    # ===== Settings changes ====================================================================
    def _controls_changed(self) -> None:
        s = self.settings
        before = (s.x_axis, s.group_by)
        s.group_by = self.group_combo.currentData()
        s.runs = self.runs_combo.currentData()
        if s.runs == RUNS_EXCEPT:
            s.runs_parameter = self.runs_param_combo.currentData() or s.runs_parameter
        s.band = self.band_combo.currentData()
        log_changed = s.log_y != self.log_check.isChecked()
        self.tools.read_into(s)
        self._show_parameters()
        self._save_timer.start()
        if s.runs == RUNS_EXCEPT and self.runs_param_combo.count() == 0:
            self.runs_param_combo.blockSignals(True)
            self._fill_runs_parameters()
            self.runs_param_combo.blockSignals(False)
        if (s.x_axis, s.group_by) != before:
            # A new axis type or other plots: new cards (reading time stamps if now needed).
            self.plot_grid.clear()
            self._bands = {}
            self._rebuild_layout()
            return
        if log_changed:
            for key, card in self.plot_grid.cards().items():
                if key != SUMMARY_KEY:
                    card.log_button.blockSignals(True)
                    card.set_log_y(s.log_y)
                    card.plot_item.setLogMode(x=False, y=s.log_y)
                    card.log_button.blockSignals(False)
        self.plot_grid.mark_stale()

    def _fill_runs_parameters(self) -> None:
        if self.settings.runs != RUNS_EXCEPT:
            # Read the parameters only when grouping by them: 100 experiments' worth is not free.
            self.runs_param_combo.blockSignals(True)
            self.runs_param_combo.clear()
            self.runs_param_combo.blockSignals(False)
            return
        current = self.settings.runs_parameter
        names = compare_data.varying_parameters(self.experiment_ids()) if self._experiments else []
        if current and current not in names:
            names.append(current)
        self.runs_param_combo.blockSignals(True)
        self.runs_param_combo.clear()
        for name in names:
            self.runs_param_combo.addItem(name, name)
        index = self.runs_param_combo.findData(current)
        if index < 0 and names:
            seed = next((n for n, name in enumerate(names) if name.lower().endswith("seed")), 0)
            index = seed
        self.runs_param_combo.setCurrentIndex(max(0, index))
        self.runs_param_combo.blockSignals(False)
        self.settings.runs_parameter = self.runs_param_combo.currentData() or ""

    def set_runs_grouping(self, runs: str, parameter: str = "", band: str | None = None) -> None:
        """Group runs: RUNS_EACH, RUNS_EXCEPT (``parameter`` is the one that may differ) or RUNS_TAGS."""
        self.settings.runs = runs
        if parameter:
            self.settings.runs_parameter = parameter
        for combo, value in ((self.runs_combo, runs), (self.band_combo, band)):
            if value is not None:
                combo.blockSignals(True)
                combo.setCurrentIndex(combo.findData(value))
                combo.blockSignals(False)
        self.runs_param_combo.blockSignals(True)
        self._fill_runs_parameters()
        self.runs_param_combo.blockSignals(False)
        self._controls_changed()

    def _search_changed(self, text: str) -> None:
        self.values_model.set_filter(text)
        self._rebuild_layout()

    # ===== Metrics chooser (per project) ======================================================
    def _load_hidden_plots(self) -> None:
        self._hidden_plots = load_hidden_plots(HIDDEN_PLOTS_KEY, self._project)

    def _save_hidden_plots(self) -> None:
        save_hidden_plots(HIDDEN_PLOTS_KEY, self._project, self._hidden_plots)

    def set_plot_hidden(self, title: str, hidden: bool) -> None:
        if hidden:
            self._hidden_plots.add(title)
        else:
            self._hidden_plots.discard(title)
        self._save_hidden_plots()
        self._rebuild_layout()

    def hidden_plots(self) -> set[str]:
        return set(self._hidden_plots)

    def _set_all_plots_hidden(self, hidden: bool) -> None:
        titles = [plot_title(k) for k in self.all_plot_keys()]
        self._hidden_plots = set(titles) if hidden else set()
        self._save_hidden_plots()
        self._rebuild_layout()

    def _rebuild_metrics_menu(self) -> None:
        """Filled when opened: 200 metrics are 200 actions nobody needs until then."""
        fill_plots_menu(self.metrics_button.menu(), [plot_title(k) for k in self.all_plot_keys()],
                        self._hidden_plots, self.set_plot_hidden, self._set_all_plots_hidden)

    def _update_metrics_button(self) -> None:
        total = len(self.all_plot_keys())
        hidden = sum(1 for k in self.all_plot_keys() if plot_title(k) in self._hidden_plots)
        self.metrics_button.setText(f"Metrics ({total - hidden}/{total})" if hidden else "Metrics")

    # ===== Values tables =======================================================================
    def view(self) -> str:
        return next((key for key, button in self.view_buttons.items() if button.isChecked()), VIEW_GRAPHS)

    def set_view(self, view: str) -> None:
        if self.view_buttons[view].isChecked():
            self._show_view()
        else:
            self.view_buttons[view].setChecked(True)  # the button group shows it

    def _sync_table_controls(self) -> None:
        """The tables' line shows only while it has something on it (no empty gap under the views)."""
        self.table_controls.setVisible(not self.best_controls.isHidden() or not self.extremes_legend.isHidden())

    def _show_view(self) -> None:
        view = self.view()
        graphs = view == VIEW_GRAPHS
        self.graph_controls.setVisible(graphs)
        self.best_label.setVisible(view == VIEW_BEST)
        self.best_reference.setVisible(view == VIEW_BEST)
        self.best_mode.setVisible(view == VIEW_BEST)
        self.best_controls.setVisible(view == VIEW_BEST)
        self.extremes_legend.setVisible(not graphs and self.values_model._show_extremes)
        self._sync_table_controls()
        self.search_box.setPlaceholderText("Search plots" if graphs else "Search metrics")
        if not graphs:
            self._fill_values()
            self.stack.setCurrentWidget(self.values_view)
        elif self._layout_dirty:
            self._rebuild_layout()
        elif self.plot_grid.shown_keys() or self.plot_grid.place(SUMMARY_KEY) is not None:
            self.stack.setCurrentWidget(self.scroll)
            self.plot_grid.schedule()
        else:
            self._say_why_empty()
            self.stack.setCurrentWidget(self.empty_label)

    def _say_why_empty(self) -> None:
        """No plot to show: none reported, none matching the search, or every one hidden."""
        needle = self.search_box.text().strip()
        if not self._series_keys and not self._singles:
            self.empty_label.set_content(
                "No scalars to compare",
                "None of the compared experiments has reported scalars yet. They appear here, one plot per "
                "metric with a curve per experiment, as soon as a script reports them:", SCALARS_SNIPPET)
        elif needle:
            self.empty_label.set_content(f"No plot matches “{needle}”",
                                         "Clear the search or try another part of a metric's name.")
        elif self._hide_identical:
            self.empty_label.set_content("Every plot is identical in all experiments",
                                         "Turn off Hide identical to see them.")
        else:
            self.empty_label.set_content("Every plot is hidden", "Choose the metrics to show in the Metrics menu.")

    def _fill_best_reference(self) -> None:
        current = self.best_reference.currentData()
        self.best_reference.blockSignals(True)
        self.best_reference.clear()
        for key in self._series_keys:
            self.best_reference.addItem(f"{key[0]} / {key[1]}", key)
        index = _find_data(self.best_reference, current) if current is not None else -1
        if index < 0:
            # A validation loss is the usual reference.
            index = next((n for n, k in enumerate(self._series_keys) if "loss" in k[0].lower()
                          and "val" in (k[0] + k[1]).lower()), 0)
        self.best_reference.setCurrentIndex(index)
        self.best_reference.blockSignals(False)

    def set_best_reference(self, key: tuple[str, str], mode: str = compare_stats.BEST_MIN) -> None:
        self.best_reference.setCurrentIndex(_find_data(self.best_reference, key))
        self.best_mode.setCurrentIndex(self.best_mode.findData(mode))

    def _best_changed(self) -> None:
        if self.view() == VIEW_BEST:
            self._fill_values()

    def _fill_values(self) -> None:
        view = self.view()
        if view == VIEW_GRAPHS:
            return
        shown = self.visible_experiments()
        rows = list(self._summaries)
        labels = {}
        if view == VIEW_BEST:
            reference = self.best_reference.currentData()
            mode = self.best_mode.currentData()
            cells: dict = {}
            if reference is not None:
                cache_key = (tuple(self.experiment_ids()), reference, mode)
                if self._best_cache is None or self._best_cache[0] != cache_key:
                    self._best_cache = (cache_key, compare_data.values_at_best_step(
                        self.experiment_ids(), reference, mode))
                best, values = self._best_cache[1]
                cells = dict(values)
                cells[BEST_ROW] = {i: float(it) for i, it in best.items()}
                labels[BEST_ROW] = ("best step", f"{mode} of {reference[0]} / {reference[1]}")
                rows = [BEST_ROW] + rows
        else:
            attribute = {VIEW_LAST: "last", VIEW_MIN: "min", VIEW_MAX: "max"}[view]
            cells = {key: {i: getattr(cell, attribute) for i, cell in per.items()}
                     for key, per in self._summaries.items()}
        self.values_model.set_values(shown, rows, cells, labels)
        header = self.values_view.horizontalHeader()
        # From the labels' text widths: sizeHintForColumn would ask the model for every row.
        text = self.values_view.fontMetrics()
        widths = [max((text.horizontalAdvance(labels.get(r, r)[c]) for r in rows[:500]), default=0) for c in (0, 1)]
        header.resizeSection(0, min(220, max(100, widths[0] + 16)))
        header.resizeSection(1, min(160, max(70, widths[1] + 16)))
        metrics = header.fontMetrics()
        for n, experiment in enumerate(shown):
            # Wide enough for the name (and swatch) up to a limit; the tooltip has the rest.
            header.resizeSection(2 + n, min(220, max(90, metrics.horizontalAdvance(experiment.name) + 40)))

    def values_csv_rows(self) -> list[list[str]]:
        """The values table as shown (for the export)."""
        return self.values_model.csv_rows()

    # ===== For tests and callers ===============================================================
    def slot(self, key) -> PlotPlace | None:
        return self.plot_grid.place(key)

    def card(self, key) -> PlotCard | None:
        return self.plot_grid.card(key)

    def summary_card(self) -> PlotCard | None:
        return self.plot_grid.card(SUMMARY_KEY)

    def curves(self, key) -> dict:
        """Curve key -> pyqtgraph item of the plot ``key`` (built on demand)."""
        card = self.plot_grid.fresh_card(key)
        if card is None:
            return {}
        return {k: e.item for k, e in card.entries().items() if k[0] != "__original__"}

    def is_empty(self) -> bool:
        return self.stack.currentWidget() is self.empty_label
