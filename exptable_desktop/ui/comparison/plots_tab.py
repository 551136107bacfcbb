"""PLOTS of the compare page: the newest sample of each plot of every experiment.

Line, scatter, bar, histogram and box plots are overlaid in one plot, each
experiment in its colour; the other kinds (tables, confusion matrices, text)
are shown side by side, a column per experiment. Plots are built when they
scroll into view; side-by-side panels when they scroll into view sideways.
"""
from __future__ import annotations

import json

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRect, Qt, QTimer
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import compare_data
from exptable_desktop.core.compare_palette import DASH_STYLES, ComparedExperiment
from exptable_desktop.ui.comparison.common import (
    PLOT_HEIGHT,
    PlotCard,
    experiment_pen,
    format_number,
    swatch_icon,
    tool_button,
)
from exptable_desktop.ui.comparison.plot_pages import (
    add_plot_actions,
    area_to_build,
    load_hidden_plots,
    save_hidden_plots,
    scrolled_page,
)
from exptable_desktop.ui.details.plots_tab import render_figure
from exptable_desktop.ui.palette import themed

OVERLAID = {"line", "scatter", "bar", "histogram", "box"}
HIDDEN_PLOTS_KEY = "compare.hidden_plot_samples"
SIDE_PANEL_WIDTH = 320
SIDE_PANEL_HEIGHT = 260
SYMBOLS = ("o", "t", "s", "d", "+", "x", "star", "p", "h")
BOX_ALPHA = 90


def plot_title(key: tuple[str, str]) -> str:
    return f"{key[0]} / {key[1]}"


def _finite(values) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64)
    return np.where(np.isfinite(array), array, np.nan)


class SidePanel(QFrame):
    """One experiment's sample in a side-by-side row: its name and colour above the figure."""

    def __init__(self, experiment: ComparedExperiment, sample: dict | None):
        super().__init__()
        self.setObjectName("compareSidePanel")
        self.setFixedWidth(SIDE_PANEL_WIDTH)
        self.setMinimumHeight(SIDE_PANEL_HEIGHT)
        self.setStyleSheet(themed("#compareSidePanel { border: 1px solid $border_soft; border-radius: 3px; }"))
        header = QHBoxLayout()
        header.setContentsMargins(4, 2, 4, 0)
        swatch = QLabel()
        swatch.setPixmap(swatch_icon(experiment.colour, experiment.dash, 12).pixmap(24, 12))
        name = QLabel()
        name.setToolTip(experiment.name)
        name.setText(name.fontMetrics().elidedText(experiment.name, Qt.TextElideMode.ElideRight,
                                                   SIDE_PANEL_WIDTH - 110))
        name.setStyleSheet("font-weight: bold;")
        header.addWidget(swatch)
        header.addWidget(name, 1)
        if sample is not None:
            iteration = QLabel(f"iter {sample['iteration']}")
            iteration.setStyleSheet(themed("color: $text_muted;"))
            header.addWidget(iteration)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(header)
        if sample is None:
            body = QLabel("Not reported")
            body.setAlignment(Qt.AlignmentFlag.AlignCenter)
            body.setStyleSheet(themed("color: $text_disabled;"))
        else:
            body = render_figure(sample["figure"])
        body.setMinimumHeight(SIDE_PANEL_HEIGHT - 40)
        layout.addWidget(body, 1)


class SideBySideRow(QFrame):
    """A plot that does not overlay: a column per experiment, built as it scrolls into view."""

    def __init__(self, key: tuple[str, str], experiments: list[ComparedExperiment], samples: dict):
        super().__init__()
        self.setObjectName("compareSideBySide")
        self.setStyleSheet(themed("#compareSideBySide { background: $surface; border: 1px solid $border; border-radius: 4px; }"))
        self.key = key
        self._experiments = experiments
        self._samples = samples
        self._panels: dict[str, QWidget] = {}
        title = QLabel(plot_title(key))
        title.setStyleSheet(themed("font-weight: bold; color: $text;"))
        title.setToolTip(plot_title(key))
        title.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.inner = QWidget()
        self.row = QHBoxLayout(self.inner)
        self.row.setContentsMargins(4, 4, 4, 4)
        self.row.setSpacing(6)
        self.placeholders: dict[str, QWidget] = {}
        for experiment in experiments:
            holder = QWidget()
            holder.setFixedSize(SIDE_PANEL_WIDTH, SIDE_PANEL_HEIGHT + 10)
            QVBoxLayout(holder).setContentsMargins(0, 0, 0, 0)
            self.placeholders[experiment.id] = holder
            self.row.addWidget(holder)
        self.row.addStretch(1)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.inner)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        # Room for the panels, the row's margins and the sideways scroll bar under them.
        bar = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent)
        self.scroll.setFixedHeight(SIDE_PANEL_HEIGHT + 10 + 8 + bar + 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(title)
        layout.addWidget(self.scroll)
        self.scroll.horizontalScrollBar().valueChanged.connect(lambda _v: QTimer.singleShot(0, self.fill_visible))

    def fill_visible(self, everything: bool = False) -> None:
        start = self.scroll.horizontalScrollBar().value()
        area = QRect(start - SIDE_PANEL_WIDTH, 0, self.scroll.viewport().width() + 2 * SIDE_PANEL_WIDTH, 10_000)
        for experiment in self._experiments:
            holder = self.placeholders[experiment.id]
            if experiment.id in self._panels:
                continue
            if everything or holder.geometry().intersects(area) or self.inner.width() <= 1:
                panel = SidePanel(experiment, self._samples.get(experiment.id))
                holder.layout().addWidget(panel)
                self._panels[experiment.id] = panel

    def panel_ids(self) -> list[str]:
        return list(self._panels)


class PlotsSlot(QWidget):
    """A place in the PLOTS list that holds a plot's height until the plot is built on scrolling into view;
    ``stale`` marks one to build (again) when next in view."""

    def __init__(self, key, parent=None):
        super().__init__(parent)
        self.key = key
        self.widget: QWidget | None = None
        self.stale = True
        self.setMinimumHeight(PLOT_HEIGHT)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def set_widget(self, widget: QWidget) -> None:
        if self.widget is not None:
            self._layout.removeWidget(self.widget)
            self.widget.hide()
            self.widget.deleteLater()
        self.widget = widget
        self._layout.addWidget(widget)
        # From now on the widget's own minimum counts: a fixed one would squeeze a taller row.
        self.setMinimumHeight(0)


class PlotsTab(QWidget):
    """The compare page's PLOTS tab: the newest sample of each plot for every experiment, overlaid or side by side
    and built lazily; the plots hidden are remembered per project."""

    title = "PLOTS"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("comparePlotsTab")
        self._experiments: list[ComparedExperiment] = []
        self._by_id: dict[str, ComparedExperiment] = {}
        self._samples: dict[tuple[str, str], dict[str, dict]] = {}
        self._slots: dict[tuple[str, str], PlotsSlot] = {}
        self._hide_identical = False
        self._project = ""
        self._hidden_plots: set[str] = set()

        self.search_box = QLineEdit()
        self.search_box.setObjectName("comparePlotsSearch")
        self.search_box.setPlaceholderText("Search plots")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setMinimumWidth(160)  # the long hint beside it wraps instead of squeezing it
        self.search_box.setMaximumWidth(260)
        self.metrics_button = tool_button("Plots", "Choose the plots shown (remembered per project)",
                                          "comparePlotsChooser")
        self.metrics_button.setAutoRaise(False)
        self.metrics_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.note = QLabel("The newest sample of each plot. Line, scatter, bar, histogram and box plots are "
                           "overlaid; other kinds are shown side by side.")
        self.note.setStyleSheet(themed("color: $text_muted;"))
        self.note.setWordWrap(True)
        bar = QHBoxLayout()
        bar.setContentsMargins(8, 6, 8, 4)
        bar.addWidget(self.note, 1)
        bar.addWidget(self.search_box)
        bar.addWidget(self.metrics_button)
        self.canvas = QWidget()
        self.column = QVBoxLayout(self.canvas)
        self.column.setContentsMargins(8, 4, 8, 8)
        self.column.setSpacing(8)
        self.column.addStretch(1)
        self.scroll, self.empty_label, self.stack = scrolled_page(
            self, bar, self.canvas, "comparePlotsScroll", "NO PLOTS TO COMPARE")
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._materialise_visible)
        self.scroll.verticalScrollBar().valueChanged.connect(lambda _v: self._timer.start())
        self.search_box.textChanged.connect(lambda _t: self._rebuild())
        self._load_hidden_plots()

    # -- Page interface ---------------------------------------------------------------------
    def set_project(self, project: str | None) -> None:
        project = project or ""
        if project != self._project:
            self._project = project
            self._load_hidden_plots()
            self._rebuild()

    def set_experiments(self, experiments: list[ComparedExperiment]) -> None:
        same_ids = [e.id for e in experiments] == [e.id for e in self._experiments] and self._experiments
        self._experiments = list(experiments)
        self._by_id = {e.id: e for e in experiments}
        if not same_ids:
            ids = [e.id for e in experiments]
            self._samples = compare_data.latest_plots(ids) if ids else {}
            for slot in self._slots.values():
                slot.hide()
                slot.deleteLater()
                self.column.removeWidget(slot)
            self._slots = {}
        else:
            for slot in self._slots.values():
                slot.stale = True
        self._rebuild()

    def hide_identical(self, on: bool) -> None:
        self._hide_identical = bool(on)
        self._rebuild()

    def refresh(self) -> None:
        experiments = self._experiments
        self._experiments = []
        self.set_experiments(experiments)

    def highlight_experiment(self, exp_id: str | None) -> None:
        for slot in self._slots.values():
            if isinstance(slot.widget, PlotCard):
                slot.widget.highlight(None if exp_id is None else (lambda key, e=exp_id: key[0] == e))

    # -- Keys and layout -------------------------------------------------------------------
    def all_plot_keys(self) -> list[tuple[str, str]]:
        return list(self._samples)

    def _identical(self, key) -> bool:
        samples = self._samples.get(key, {})
        if len(samples) != len(self._experiments):
            return False
        texts = {json.dumps(s["figure"], sort_keys=True, default=str) for s in samples.values()}
        return len(texts) == 1

    def plot_keys(self) -> list[tuple[str, str]]:
        needle = self.search_box.text().strip().lower()
        return [k for k in self._samples if plot_title(k) not in self._hidden_plots
                and (not needle or needle in plot_title(k).lower())
                and not (self._hide_identical and len(self._experiments) > 1 and self._identical(k))]

    def is_overlaid(self, key) -> bool:
        kinds = {s["figure"].get("kind") for s in self._samples.get(key, {}).values()}
        return bool(kinds) and kinds <= OVERLAID and len(kinds - {"line", "scatter"}) <= 1 \
            and not (kinds & {"line", "scatter"} and kinds - {"line", "scatter"})

    def _rebuild(self) -> None:
        wanted = self.plot_keys()
        for key in list(self._slots):
            if key not in wanted:
                slot = self._slots.pop(key)
                self.column.removeWidget(slot)
                slot.hide()
                slot.deleteLater()
        while self.column.count():
            self.column.takeAt(0)
        for key in wanted:
            slot = self._slots.get(key)
            if slot is None:
                slot = self._slots[key] = PlotsSlot(key)
            self.column.addWidget(slot)
        self.column.addStretch(1)
        self._slots = {k: self._slots[k] for k in wanted}
        self._rebuild_menu()
        self.stack.setCurrentWidget(self.scroll if wanted else self.empty_label)
        self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._timer.start()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._timer.start()

    def _materialise_visible(self) -> None:
        if not self.isVisible():
            return
        area = area_to_build(self.scroll)
        for slot in self._slots.values():
            if slot.stale and slot.geometry().intersects(area):
                self._materialise(slot)
            elif isinstance(slot.widget, SideBySideRow):
                slot.widget.fill_visible()

    def materialise_all(self) -> None:
        for slot in self._slots.values():
            if slot.stale:
                self._materialise(slot)
            if isinstance(slot.widget, SideBySideRow):
                slot.widget.fill_visible(everything=True)

    def _materialise(self, slot: PlotsSlot) -> None:
        slot.stale = False
        visible = [e for e in self._experiments if not e.hidden]
        samples = self._samples.get(slot.key, {})
        if self.is_overlaid(slot.key):
            card = slot.widget if isinstance(slot.widget, PlotCard) else None
            if card is None:
                card = PlotCard(plot_title(slot.key))
                card.sig_legend_clicked.connect(self._legend_clicked)
                card.sig_log_toggled.connect(lambda _on, s=slot: self._redraw(s))
                slot.set_widget(card)
            self._draw_overlay(card, slot.key, visible, samples)
        else:
            row = SideBySideRow(slot.key, visible, samples)
            slot.set_widget(row)
            QTimer.singleShot(0, row.fill_visible)

    def _redraw(self, slot: PlotsSlot) -> None:
        slot.stale = True
        self._materialise(slot)

    def _legend_clicked(self, curve_key) -> None:
        widget = self.parentWidget()
        while widget is not None and not hasattr(widget, "set_hidden"):
            widget = widget.parentWidget()
        experiment = self._by_id.get(curve_key[0])
        if widget is not None and experiment is not None:
            widget.set_hidden(experiment.id, not experiment.hidden)

    # -- Overlays --------------------------------------------------------------------------
    def _draw_overlay(self, card: PlotCard, key, visible: list[ComparedExperiment], samples: dict) -> None:
        item = card.plot_item
        for entry_key in list(card.entries()):
            card.remove_curve(entry_key)
        for extra in getattr(card, "_extras", []):
            item.removeItem(extra)
        card._extras = []
        card.hover_provider = None
        card.csv_provider = None
        shown = [e for e in visible if e.id in samples]
        kinds = {samples[e.id]["figure"].get("kind") for e in shown}
        first = samples[shown[0].id]["figure"] if shown else {}
        item.setLabel("bottom", first.get("xaxis") or "")
        item.setLabel("left", first.get("yaxis") or "")
        log = card.log_y()
        if kinds & {"line", "scatter"} or not kinds:
            for experiment in shown:
                figure = samples[experiment.id]["figure"]
                series = figure.get("series") or []
                for n, s in enumerate(series):
                    xs, ys = _finite(s.get("x") or []), _finite(s.get("y") or [])
                    size = min(len(xs), len(ys))
                    ys = np.where(ys > 0, ys, np.nan) if log else ys
                    label = experiment.name + (f" · {s.get('name')}" if len(series) > 1 and s.get("name") else "")
                    dash = DASH_STYLES[n % len(DASH_STYLES)] if len(series) > 1 else None
                    pen = experiment_pen(experiment, 1.0, dash)
                    if figure.get("kind") == "scatter":
                        card.add_curve((experiment.id, n), label, None, xs[:size], ys[:size],
                                       symbol=SYMBOLS[n % len(SYMBOLS)], symbolSize=6,
                                       symbolBrush=experiment.colour, symbolPen=None)
                    else:
                        card.add_curve((experiment.id, n), label, pen, xs[:size], ys[:size])
                    entry = card.entry((experiment.id, n))
                    entry.raw_x, entry.raw_y = xs[:size], ys[:size]
            card.rebuild_legend()
            return
        kind = next(iter(kinds))
        if kind == "histogram":
            for experiment in shown:
                figure = samples[experiment.id]["figure"]
                bins, counts = _finite(figure.get("bins") or []), _finite(figure.get("counts") or [])
                if len(bins) != len(counts) + 1 or not len(counts):
                    continue
                curve = card.add_curve((experiment.id, 0), experiment.name, experiment_pen(experiment, 1.5),
                                       stepMode="center")
                curve.setData(bins, counts, stepMode="center")
                entry = card.entry((experiment.id, 0))
                entry.raw_x, entry.raw_y = bins[:-1], counts
            card.rebuild_legend()
            return
        if kind == "bar":
            self._draw_bars(card, shown, samples)
        elif kind == "box":
            self._draw_boxes(card, shown, samples)
        card.rebuild_legend()

    def _legend_only_curve(self, card: PlotCard, experiment: ComparedExperiment) -> None:
        # Bars and boxes are not curves: an empty curve per experiment gives the legend its entry.
        card.add_curve((experiment.id, "legend"), experiment.name, pg.mkPen(experiment.colour, width=6))

    def _draw_bars(self, card: PlotCard, shown: list[ComparedExperiment], samples: dict) -> None:
        """Clustered bars: a cluster per category, a bar per experiment (and series)."""
        categories: list[str] = []
        for experiment in shown:
            for s in samples[experiment.id]["figure"].get("series") or []:
                for x in s.get("x") or []:
                    if str(x) not in categories:
                        categories.append(str(x))
        bars = [(experiment, n, s) for experiment in shown
                for n, s in enumerate(samples[experiment.id]["figure"].get("series") or [])]
        width = 0.8 / max(1, len(bars))
        index = {c: i for i, c in enumerate(categories)}
        table: dict[tuple[int, int], str] = {}
        rows = [["experiment", "series", "category", "value"]]
        for position, (experiment, n, s) in enumerate(bars):
            xs = [index[str(x)] for x in s.get("x") or []]
            ys = _finite(s.get("y") or [])[:len(xs)]
            offsets = np.asarray(xs[:len(ys)], dtype=float) - 0.4 + width * (position + 0.5)
            brush = QColor(experiment.colour)
            if n:
                brush.setAlpha(150)
            bar = pg.BarGraphItem(x=offsets, height=np.nan_to_num(ys), width=width, brush=brush,
                                  pen=pg.mkPen(experiment.colour))
            card.plot_item.addItem(bar)
            card._extras.append(bar)
            for x, y in zip(xs, ys):
                name = s.get("name") or ""
                table[(x, position)] = f"{experiment.name}{' · ' + name if name else ''}: {format_number(float(y))}"
                rows.append([experiment.name, name, categories[x], repr(float(y))])
        for experiment in shown:
            self._legend_only_curve(card, experiment)
        if len(categories) <= 60:
            card.plot_item.getAxis("bottom").setTicks([[(i, c) for i, c in enumerate(categories)]])
        card.hover_provider = lambda point, t=table, w=width, c=categories: self._cluster_hover(point, t, w, c)
        card.csv_provider = lambda r=rows: r

    def _draw_boxes(self, card: PlotCard, shown: list[ComparedExperiment], samples: dict) -> None:
        """A box (quartiles), median and whiskers (min..max) per series and experiment."""
        categories: list[str] = []
        for experiment in shown:
            for s in samples[experiment.id]["figure"].get("series") or []:
                if s.get("name", "") not in categories:
                    categories.append(s.get("name", ""))
        width = 0.8 / max(1, len(shown))
        table: dict[tuple[int, int], str] = {}
        rows = [["experiment", "series", "min", "q1", "median", "q3", "max"]]
        for position, experiment in enumerate(shown):
            for s in samples[experiment.id]["figure"].get("series") or []:
                values = _finite(s.get("y") or [])
                values = values[np.isfinite(values)]
                if not len(values):
                    continue
                x = categories.index(s.get("name", "")) - 0.4 + width * (position + 0.5)
                low, q1, median, q3, high = np.percentile(values, [0, 25, 50, 75, 100])
                fill = QColor(experiment.colour)
                fill.setAlpha(BOX_ALPHA)
                body = pg.BarGraphItem(x=[x], y0=[q1], height=[q3 - q1], width=width * 0.8, brush=fill,
                                       pen=pg.mkPen(experiment.colour))
                lines = pg.PlotDataItem([x - width * 0.4, x + width * 0.4, x, x, x, x],
                                        [median, median, high, q3, q1, low], connect="pairs",
                                        pen=pg.mkPen(experiment.colour, width=1.5))
                for extra in (body, lines):
                    card.plot_item.addItem(extra)
                    card._extras.append(extra)
                table[(categories.index(s.get("name", "")), position)] = (
                    f"{experiment.name}: median {format_number(median)}, "
                    f"q1..q3 {format_number(q1)}..{format_number(q3)}, "
                    f"min..max {format_number(low)}..{format_number(high)}")
                rows.append([experiment.name, s.get("name", ""),
                             *(repr(float(v)) for v in (low, q1, median, q3, high))])
        for experiment in shown:
            self._legend_only_curve(card, experiment)
        card.plot_item.getAxis("bottom").setTicks([[(i, c or "(series)") for i, c in enumerate(categories)]])
        card.hover_provider = lambda point, t=table, w=width, c=categories: self._cluster_hover(point, t, w, c)
        card.csv_provider = lambda r=rows: r

    @staticmethod
    def _cluster_hover(point: QPointF, table: dict, width: float, categories: list[str]) -> str | None:
        cluster = int(round(point.x()))
        if not 0 <= cluster < len(categories):
            return None
        position = int((point.x() - (cluster - 0.4)) // width)
        return table.get((cluster, position), categories[cluster])

    # -- Chooser (per project) ---------------------------------------------------------------
    def _load_hidden_plots(self) -> None:
        self._hidden_plots = load_hidden_plots(HIDDEN_PLOTS_KEY, self._project)

    def set_plot_hidden(self, title: str, hidden: bool) -> None:
        if hidden:
            self._hidden_plots.add(title)
        else:
            self._hidden_plots.discard(title)
        save_hidden_plots(HIDDEN_PLOTS_KEY, self._project, self._hidden_plots)
        self._rebuild()

    def _rebuild_menu(self) -> None:
        menu = QMenu(self)
        add_plot_actions(menu, [plot_title(k) for k in self.all_plot_keys()], self._hidden_plots,
                         self.set_plot_hidden)
        old = self.metrics_button.menu()
        self.metrics_button.setMenu(menu)
        if old is not None:
            old.deleteLater()

    # -- For tests ---------------------------------------------------------------------------
    def widget_of(self, key) -> QWidget | None:
        slot = self._slots.get(key)
        if slot is None:
            return None
        if slot.stale:
            self._materialise(slot)
        return slot.widget

    def is_empty(self) -> bool:
        return self.stack.currentWidget() is self.empty_label
