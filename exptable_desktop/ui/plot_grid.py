"""The grid of plots that an experiment's SCALARS tab and the compare page's SCALARS tab share.

Many small plots in one column, or two in a wide view; each in a place of its own whose card (a
``PlotCard``: title, per-plot toolbar, maximise, side legend) is built when the place scrolls
into view (``build(key)``) and filled by its owner (``draw(key, card)``). A card is kept while its
key stays, so refilling it reuses its curves and keeps the person's zoom. Peak downsampling and
clipping to the view are the card's. The owner says which plots exist and which are shown
(search, hidden plots); the grid lays them out, maximises one, and builds what comes into view.

Also here: ``IterationAxis`` (whole-number ticks for iteration axes), ``new_plot_card`` (a card
with the bottom axis an x-axis choice needs) and the "Show all / Hide all" menu of plot titles.
"""
from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable

import pyqtgraph as pg
from PySide6.QtCore import QRect, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QGridLayout, QMenu, QScrollArea, QVBoxLayout, QWidget

from exptable_desktop.ui.comparison.common import PLOT_HEIGHT, PlotCard
from exptable_desktop.ui.scalar_tools import X_ITERATIONS, X_TIME_FROM_START, X_WALL_TIME

# From this width on (the grid's own, in pixels) plots stand two in a row.
WIDE_WIDTH = 1000
GRID_SPACING = 8
X_AXIS_LABELS = {X_ITERATIONS: "Iterations", X_TIME_FROM_START: "Time from start (s)", X_WALL_TIME: "Wall time"}


class IterationAxis(pg.AxisItem):
    """An axis of iterations: ticks only at whole numbers, labelled as integers (never "2.5")."""

    def __init__(self, orientation: str = "bottom", **options):
        super().__init__(orientation, **options)

    def tickSpacing(self, minVal, maxVal, size):  # noqa: N802 (pyqtgraph API)
        levels = super().tickSpacing(minVal, maxVal, size)
        whole: list[tuple[float, float]] = []
        for spacing, offset in levels:
            # A level finer than one iteration becomes one iteration; levels that then repeat go.
            level = (max(1.0, float(spacing)), float(offset))
            if not whole or whole[-1][0] != level[0]:
                whole.append(level)
        return whole

    def tickStrings(self, values, scale, spacing):  # noqa: N802 (pyqtgraph API)
        return [str(int(round(value * scale))) for value in values]


def bottom_axis_for(x_axis: str) -> pg.AxisItem:
    """The bottom axis an x-axis choice needs: dates for wall time, whole numbers for iterations."""
    if x_axis == X_WALL_TIME:
        return pg.DateAxisItem(orientation="bottom")
    if x_axis == X_ITERATIONS:
        return IterationAxis("bottom")
    return pg.AxisItem("bottom")


def new_plot_card(title: str, x_axis: str, log_y: bool = False) -> PlotCard:
    """A plot card whose bottom axis shows ``x_axis`` (``scalar_tools.X_*``), labelled."""
    card = PlotCard(title, date_axis=x_axis == X_WALL_TIME)
    if x_axis != X_WALL_TIME:
        card.plot_item.setAxisItems({"bottom": bottom_axis_for(x_axis)})
    card.plot_item.setLabel("bottom", X_AXIS_LABELS.get(x_axis, ""))
    card.set_log_y(log_y)
    return card


def area_to_build(scroll: QScrollArea) -> QRect:
    """The part of the scrolled widget worth building now: the visible part and half a screen
    above and below it, so that plots are ready before they scroll into view."""
    canvas = scroll.widget()
    canvas.layout().activate()
    viewport = scroll.viewport()
    top = scroll.verticalScrollBar().value()
    return QRect(0, top - viewport.height() // 2, max(1, canvas.width()), viewport.height() * 2)


def add_plot_actions(menu: QMenu, titles: Iterable[str], hidden: set[str],
                     set_hidden: Callable[[str, bool], None]) -> None:
    """A checked action per shown plot; toggling one calls ``set_hidden(title, hidden)``."""
    for title in titles:
        action = QAction(title, menu)
        action.setCheckable(True)
        action.setChecked(title not in hidden)
        action.toggled.connect(lambda checked, t=title: set_hidden(t, not checked))
        menu.addAction(action)


def fill_plots_menu(menu: QMenu, titles: list[str], hidden: set[str], set_hidden: Callable[[str, bool], None],
                    set_all_hidden: Callable[[bool], None]) -> None:
    """"Show all", "Hide all", then a checked action per plot title."""
    menu.clear()
    menu.addAction("Show all", lambda: set_all_hidden(False))
    menu.addAction("Hide all", lambda: set_all_hidden(True))
    menu.addSeparator()
    add_plot_actions(menu, titles, hidden, set_hidden)


class PlotPlace(QWidget):
    """Where one plot goes in the grid; its card is built when the place first comes into view.

    ``stale``: the card is missing or shows old data, and is drawn when next in view.
    """

    def __init__(self, key: Hashable, height: int, parent: QWidget):
        super().__init__(parent)
        self.key = key
        self.card: QWidget | None = None
        self.stale = True
        self.setMinimumHeight(height)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.hide()

    def set_card(self, card: QWidget) -> None:
        self.card = card
        self._layout.addWidget(card)


class PlotGrid(QScrollArea):
    """A scrolled grid of plot places, one or two columns by width, built as they come into view.

    ``build(key)`` makes a place's card (a ``PlotCard``, or any widget for a wide place such as a
    summary); ``draw(key, card)`` fills it. ``set_plots`` says which plots exist (cards of
    vanished keys go), which of them are shown, and which wide places come first, spanning the
    columns. A header widget (``set_header``) may stand above the plots. A card's maximise button
    shows that plot alone, the height of the view.
    """

    sig_maximised = Signal(object)  # the maximised plot's key, or None

    def __init__(self, build: Callable[[Hashable], QWidget], draw: Callable[[Hashable, QWidget], None], *,
                 object_name: str, plot_height: int = PLOT_HEIGHT, wide_width: int = WIDE_WIDTH,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setWidgetResizable(True)
        self._build, self._draw = build, draw
        self.plot_height = plot_height
        self.wide_width = wide_width
        self.canvas = QWidget()
        self.canvas.setObjectName(f"{object_name}Canvas")
        self._canvas_layout = QVBoxLayout(self.canvas)
        self._canvas_layout.setContentsMargins(8, 4, 8, 8)
        self._canvas_layout.setSpacing(GRID_SPACING)
        self.grid = QGridLayout()
        self.grid.setSpacing(GRID_SPACING)
        self._canvas_layout.addLayout(self.grid)
        self._canvas_layout.addStretch(1)
        self.setWidget(self.canvas)
        self._header: QWidget | None = None
        self._header_wanted = True
        self._places: dict[Hashable, PlotPlace] = {}
        self._wide: list[Hashable] = []
        self._shown: list[Hashable] = []
        self._maximised: Hashable | None = None
        self._columns = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.materialise_visible)
        self.verticalScrollBar().valueChanged.connect(lambda _value: self._timer.start())

    # -- What is in the grid ------------------------------------------------------------------
    def set_header(self, widget: QWidget) -> None:
        """A widget above the plots, full width (e.g. a table of single values)."""
        self._header = widget
        self._canvas_layout.insertWidget(0, widget)

    def set_plots(self, keys: Iterable[Hashable], shown: Iterable[Hashable] | None = None,
                  wide: Iterable[Hashable] = ()) -> None:
        """The plots that exist, in order (``keys``), those of them shown (all when None) and the
        wide places first. Places of keys no longer given go, with their cards."""
        keys, wide = list(keys), list(wide)
        wide_set = set(wide)
        wanted = wide + [k for k in keys if k not in wide_set]
        wanted_set = set(wanted)
        for key in [k for k in self._places if k not in wanted_set]:
            self._remove(key)
        for key in wanted:
            if key not in self._places:
                self._places[key] = PlotPlace(key, self.plot_height, self.canvas)
        self._places = {key: self._places[key] for key in wanted}
        self._wide = wide
        shown_set = set(keys) if shown is None else set(shown)
        self._shown = [k for k in keys if k in shown_set and k not in wide_set]
        if self._maximised is not None and self._maximised not in self._shown:
            self._maximised = None
        self._columns = 0
        self._relayout()

    def clear(self) -> None:
        """Every place goes, with its card (e.g. a new kind of x axis needs new cards)."""
        for key in list(self._places):
            self._remove(key)
        self._wide, self._shown, self._maximised = [], [], None
        self._columns = 0

    def _remove(self, key: Hashable) -> None:
        place = self._places.pop(key)
        self.grid.removeWidget(place)
        place.hide()
        place.deleteLater()

    def keys(self) -> list[Hashable]:
        wide = set(self._wide)
        return [k for k in self._places if k not in wide]

    def shown_keys(self) -> list[Hashable]:
        return list(self._shown)

    def place(self, key: Hashable) -> PlotPlace | None:
        return self._places.get(key)

    def card(self, key: Hashable) -> QWidget | None:
        place = self._places.get(key)
        return None if place is None else place.card

    def cards(self) -> dict[Hashable, QWidget]:
        """The built cards, shown or not."""
        return {key: place.card for key, place in self._places.items() if place.card is not None}

    def is_empty(self) -> bool:
        return not self._places

    # -- Building and drawing -------------------------------------------------------------------
    def mark_stale(self, keys: Iterable[Hashable] | None = None) -> None:
        """These plots (all when None) are drawn again when next in view."""
        for key in self._places if keys is None else keys:
            place = self._places.get(key)
            if place is not None:
                place.stale = True
        self._timer.start()

    def materialise(self, key: Hashable) -> QWidget | None:
        """Build (if needed) and draw the plot ``key`` now; its card."""
        place = self._places.get(key)
        if place is None:
            return None
        place.stale = False
        if place.card is None:
            card = self._build(key)
            maximise = getattr(card, "sig_maximise_toggled", None)
            if maximise is not None:
                maximise.connect(lambda on, k=key: self.set_maximised(k if on else None))
            place.set_card(card)
        self._draw(key, place.card)
        return place.card

    def fresh_card(self, key: Hashable) -> QWidget | None:
        """The card of ``key``, drawn now if it was stale (callers that read its curves)."""
        place = self._places.get(key)
        if place is None:
            return None
        return self.materialise(key) if place.stale else place.card

    def materialise_visible(self) -> None:
        """Build and draw the stale plots in view and half a view around it."""
        if not self.isVisible():
            return
        area = area_to_build(self)
        for place in list(self._places.values()):
            if place.stale and place.isVisible() and place.geometry().intersects(area):
                self.materialise(place.key)

    def materialise_all(self) -> None:
        """Build and draw every shown plot now (tests, benchmarks, exports)."""
        for key in self._wide + self._shown:
            if self._places[key].stale:
                self.materialise(key)

    def schedule(self) -> None:
        """Build what is in view once the event loop is back (after a layout settles)."""
        self._timer.start()

    # -- Layout ---------------------------------------------------------------------------------
    def maximised(self) -> Hashable | None:
        return self._maximised

    def set_maximised(self, key: Hashable | None) -> None:
        """Show only ``key``'s plot, the height of the view; None shows them all again."""
        self._maximised = key if key in self._shown else None
        for place_key, place in self._places.items():
            button = getattr(place.card, "max_button", None)
            if button is not None and button.isChecked() != (place_key == self._maximised):
                button.blockSignals(True)
                button.setChecked(place_key == self._maximised)
                button.blockSignals(False)
        self._columns = 0
        self._relayout()
        if self._maximised is not None:
            self.verticalScrollBar().setValue(0)
        self.sig_maximised.emit(self._maximised)

    def columns(self) -> int:
        return 2 if self.width() >= self.wide_width else 1

    def _relayout(self) -> None:
        columns = self.columns()
        visible = [k for k in self._wide if self._maximised is None] + \
            [k for k in self._shown if self._maximised in (None, k)]
        if columns == self._columns and self.grid.count() == len(visible):
            return
        self._columns = columns
        while self.grid.count():
            self.grid.takeAt(0)
        if self._header is not None:
            self._header.setVisible(self._maximised is None and self._header_wanted)
        visible_set = set(visible)
        row = 0
        for key in self._wide:
            place = self._places[key]
            if key in visible_set:
                self.grid.addWidget(place, row, 0, 1, columns)
                row += 1
            place.setVisible(key in visible_set)
        position = 0
        wide = set(self._wide)
        for key, place in self._places.items():
            if key in wide:
                continue
            if key not in visible_set:
                place.setVisible(False)
                continue
            if key == self._maximised:
                self.grid.addWidget(place, row, 0, 1, columns)
                place.setMinimumHeight(max(self.plot_height, self.viewport().height() - 20))
            else:
                place.setMinimumHeight(self.plot_height)
                self.grid.addWidget(place, row + position // columns, position % columns)
                position += 1
            place.setVisible(True)
        self._timer.start()

    def set_header_wanted(self, wanted: bool) -> None:
        """Whether the header shows (it never does while a plot is maximised)."""
        self._header_wanted = bool(wanted)
        if self._header is not None:
            self._header.setVisible(self._header_wanted and self._maximised is None)

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._relayout()
        self._timer.start()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self._timer.start()
