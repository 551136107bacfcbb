"""The compare page (objectName ``comparisonView``): header, shared legend and the tabs.

HOW TO REGISTER A TAB (for the DETAILS / HYPERPARAMETERS / PARALLEL / SCATTER tabs):
append a ``TabSpec(title, module, class_name)`` to ``TAB_FACTORIES`` below (the
list order is the tab order). The page imports ``module`` lazily and skips the
entry while that module does not exist yet. The class is constructed with no
arguments and must be a QWidget with:

  * ``set_experiments(experiments: list[ComparedExperiment])`` -- called on every
    change of the compared set, order, colours or hidden flags
    (``exptable_desktop.core.compare_palette.ComparedExperiment``);
  * ``hide_identical(on: bool)`` -- the header's "Hide identical" toggle.

Optional, connected when present:

  * ``refresh()`` -- the header's refresh / auto-refresh: re-read the data;
  * ``show_row_extremes(on: bool)`` -- the header's "Show row extremes";
  * signal ``sig_visibility_requested(str experiment_id, bool hidden)`` -- hide/show an
    experiment in every tab (e.g. a click in the parallel coordinates);
  * signal ``sig_details_requested(str experiment_id)`` -- open its details;
  * signal ``sig_order_changed(list experiment_ids)`` -- a new order (base first)
    for the whole page; colours stay with their experiments;
  * signal ``sig_table_columns_requested(list column_keys)`` -- show these columns in
    the experiments table (the main window's ``add_custom_columns``);
  * ``highlight_experiment(experiment_id | None)`` -- the legend row under the mouse.

Tabs are fed lazily: a tab gets ``set_experiments`` when it is current (and
again when shown after a change), not while hidden.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TabSpec:
    """A compare-page tab registered in ``TAB_FACTORIES``: its title, and the module and class the page imports
    lazily (see the module docstring)."""

    title: str
    module: str
    class_name: str


TAB_FACTORIES: list[TabSpec] = [
    TabSpec("DETAILS", "exptable_desktop.ui.comparison.details_tab", "DetailsTab"),
    TabSpec("HYPERPARAMETERS", "exptable_desktop.ui.comparison.hyperparams_tab", "HyperparamsTab"),
    TabSpec("SCALARS", "exptable_desktop.ui.comparison.scalars_tab", "ScalarsTab"),
    TabSpec("PLOTS", "exptable_desktop.ui.comparison.plots_tab", "PlotsTab"),
    TabSpec("DEBUG SAMPLES", "exptable_desktop.ui.comparison.debug_tab", "DebugSamplesTab"),
]


# ---- The page --------------------------------------------------------------------------------

import importlib  # noqa: E402  (kept below the registry so the registration note stays on top)
import logging  # noqa: E402

from PySide6.QtCore import Qt, QTimer, Signal  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QCheckBox,
    QColorDialog,
    QDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import actions as core_actions  # noqa: E402
from exptable_desktop.core import compare_data  # noqa: E402
from exptable_desktop.core import compare_palette as palette  # noqa: E402
from exptable_desktop.core.compare_palette import MAX_EXPERIMENTS, ComparedExperiment  # noqa: E402
from exptable_desktop.core.details import load_preference, save_preference  # noqa: E402
from exptable_desktop.core.database import StoreError  # noqa: E402
from exptable_desktop.ui.comparison.common import swatch_icon  # noqa: E402
from exptable_desktop.ui.empty_state import EmptyState  # noqa: E402
from exptable_desktop.ui.palette import themed

log = logging.getLogger(__name__)

LAST_TAB_KEY = "compare.last_tab"
DEFAULT_TAB = "SCALARS"
AUTO_REFRESH_SECONDS = 30
LEGEND_WIDTH = 270
LEGEND_FILTER_FROM = 8


def load_tab_classes() -> list[tuple[str, type]]:
    """The registered tabs whose module exists, in registry order."""
    out = []
    for spec in TAB_FACTORIES:
        try:
            module = importlib.import_module(spec.module)
        except ModuleNotFoundError as exc:
            if exc.name == spec.module:
                continue  # registered ahead of its module: not written yet
            raise
        cls = getattr(module, spec.class_name, None)
        if cls is None:
            log.warning("compare page: %s has no %s; tab %s left out", spec.module, spec.class_name, spec.title)
            continue
        out.append((spec.title, cls))
    return out


class ElidedLabel(QLabel):
    """A label that shortens its text with "…" to the width it is given, whatever that is."""

    def __init__(self, text: str = "", parent=None):
        super().__init__(parent)
        self._full = text
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setText(text)

    def set_full_text(self, text: str) -> None:
        self._full = text
        self._elide()

    def full_text(self) -> str:
        return self._full

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        super().setText(self.fontMetrics().elidedText(self._full, Qt.TextElideMode.ElideRight, max(10, self.width())))


class LegendRow(QWidget):
    """One compared experiment in the shared legend: visibility, colour, name, menu."""

    def __init__(self, page: "ComparePage", experiment: ComparedExperiment):
        super().__init__()
        self.setObjectName("compareLegendRow")
        self.page = page
        self.exp_id = experiment.id
        self.check = QCheckBox()
        self.check.setObjectName("compareLegendVisible")
        self.check.setToolTip("Show or hide this experiment in every tab")
        self.swatch = QToolButton()
        self.swatch.setObjectName("compareLegendSwatch")
        self.swatch.setAutoRaise(True)
        self.swatch.setToolTip("Edit colour")
        self.name = ElidedLabel()
        self.name.setObjectName("compareLegendName")
        self.name.setMinimumWidth(40)
        self.menu_button = QToolButton()
        self.menu_button.setObjectName("compareLegendMenu")
        self.menu_button.setText("☰")
        self.menu_button.setAutoRaise(True)
        self.menu_button.setToolTip("View details, rename, archive, remove, edit colour")
        # The menu is made when asked for: 100 rows need not build 100 menus up front.
        self.menu_button.clicked.connect(self._open_menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.check)
        layout.addWidget(self.swatch)
        layout.addWidget(self.name, 1)
        layout.addWidget(self.menu_button)
        self.update_from(experiment)
        self.check.toggled.connect(lambda on: page.set_hidden(self.exp_id, not on))
        self.swatch.clicked.connect(lambda: page.edit_colour(self.exp_id))

    def _open_menu(self) -> None:
        menu = self.page.experiment_menu(self.exp_id, self)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.popup(self.menu_button.mapToGlobal(self.menu_button.rect().bottomLeft()))

    def update_from(self, experiment: ComparedExperiment) -> None:
        self.check.blockSignals(True)
        self.check.setChecked(not experiment.hidden)
        self.check.blockSignals(False)
        self.swatch.setIcon(swatch_icon(experiment.colour, experiment.dash, 12, experiment.hidden))
        self.name.setToolTip(f"{experiment.name}\n{experiment.id}")
        self.name.set_full_text(experiment.name)
        self.name.setStyleSheet(themed("color: $text_disabled;") if experiment.hidden else "")

    def enterEvent(self, event) -> None:  # noqa: N802
        super().enterEvent(event)
        self.page.highlight_experiment(self.exp_id)

    def leaveEvent(self, event) -> None:  # noqa: N802
        super().leaveEvent(event)
        self.page.highlight_experiment(None)


class ComparePage(QWidget):
    """The compare page: experiments header/legend on the left, the registered tabs on the right.

    Tabs are fed lazily: only the current tab gets ``set_experiments`` at once,
    the others when they are shown, so 100 experiments cost one tab's reading.
    """

    sig_compared_changed = Signal(list)  # the user changed the compared set (ids, in order)
    sig_details_requested = Signal(str)
    sig_archive_requested = Signal(list)  # ids the user asked to archive; the host runs the action
    sig_experiments_changed = Signal()  # renamed or archived here: the table should refresh
    sig_table_columns_requested = Signal(list)  # a tab asks the experiments table to show these columns

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("comparisonView")
        self._experiments: list[ComparedExperiment] = []
        self._hidden: set[str] = set()
        self._slots: dict[str, int] = {}
        self._project: str | None = None
        self._pushed: dict[int, tuple] = {}
        self._rows: dict[str, LegendRow] = {}
        self._hide_identical = False
        self._show_extremes = False

        self.header = QLabel()
        self.header.setObjectName("comparisonHeader")
        font = self.header.font()
        font.setBold(True)
        font.setPointSize(font.pointSize() + 1)
        self.header.setFont(font)
        self.add_button = QPushButton("+ Add / remove")
        self.add_button.setObjectName("compareAddRemove")
        self.add_button.setToolTip(f"Add or remove experiments (at most {MAX_EXPERIMENTS})")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setObjectName("compareRefresh")
        self.auto_refresh_check = QCheckBox(f"Auto-refresh ({AUTO_REFRESH_SECONDS} s)")
        self.auto_refresh_check.setObjectName("compareAutoRefresh")
        self.hide_identical_check = QCheckBox("Hide identical")
        self.hide_identical_check.setObjectName("compareHideIdentical")
        self.hide_identical_check.setToolTip("Hide the rows, plots and fields that are the same in every experiment")
        self.extremes_check = QCheckBox("Show row extremes")
        self.extremes_check.setObjectName("compareRowExtremes")
        self.extremes_check.setToolTip("Highlight the smallest and largest value of each row")
        bar = QHBoxLayout()
        bar.setContentsMargins(10, 6, 10, 6)
        bar.addWidget(self.header)
        bar.addSpacing(12)
        bar.addWidget(self.add_button)
        bar.addStretch(1)
        for widget in (self.hide_identical_check, self.extremes_check, self.auto_refresh_check, self.refresh_button):
            bar.addWidget(widget)

        self.legend_filter = QLineEdit()
        self.legend_filter.setObjectName("compareLegendFilter")
        self.legend_filter.setPlaceholderText("Filter experiments")
        self.legend_filter.setClearButtonEnabled(True)
        self.show_all_button = QToolButton()
        self.show_all_button.setText("Show all")
        self.show_all_button.setAutoRaise(True)
        self.hide_all_button = QToolButton()
        self.hide_all_button.setText("Hide all")
        self.hide_all_button.setAutoRaise(True)
        self.legend_list = QListWidget()
        self.legend_list.setObjectName("compareLegend")
        self.legend_list.setSelectionMode(QListWidget.SelectionMode.NoSelection)
        self.legend_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.legend_list.setStyleSheet(themed("QListWidget#compareLegend { border: none; background: $surface_sunken; }"))
        self.legend_title = QLabel()
        self.legend_title.setObjectName("compareLegendTitle")
        self.legend_title.setStyleSheet(themed("color: $text_secondary; font-weight: bold; letter-spacing: 1px;"))
        legend_box = QFrame()
        legend_box.setObjectName("compareLegendPanel")
        legend_box.setStyleSheet(themed("#compareLegendPanel { background: $surface_sunken; border-right: 1px solid $border; }"))
        legend_layout = QVBoxLayout(legend_box)
        legend_layout.setContentsMargins(6, 6, 4, 6)
        legend_layout.setSpacing(4)
        legend_layout.addWidget(self.legend_title)
        legend_layout.addWidget(self.legend_filter)
        buttons = QHBoxLayout()
        buttons.addWidget(self.show_all_button)
        buttons.addWidget(self.hide_all_button)
        buttons.addStretch(1)
        legend_layout.addLayout(buttons)
        legend_layout.addWidget(self.legend_list, 1)
        legend_box.setMinimumWidth(160)
        self.legend_panel = legend_box

        self.tabs = QTabWidget()
        self.tabs.setObjectName("compareTabs")
        self.tabs.setDocumentMode(True)
        self._tab_titles: list[str] = []
        for title, cls in load_tab_classes():
            widget = cls()
            self.tabs.addTab(widget, title)
            self._tab_titles.append(title)
            for signal_name, slot in (("sig_visibility_requested", self.set_hidden),
                                      ("sig_details_requested", self.sig_details_requested.emit),
                                      ("sig_order_changed", self.set_order),
                                      ("sig_table_columns_requested", self.sig_table_columns_requested.emit)):
                signal = getattr(widget, signal_name, None)
                if signal is not None:
                    signal.connect(slot)
        last = load_preference(LAST_TAB_KEY, DEFAULT_TAB)
        self.show_tab(last if last in self._tab_titles else DEFAULT_TAB)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(legend_box)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([LEGEND_WIDTH, 1000])
        self.splitter.setChildrenCollapsible(False)

        separator = QFrame()
        separator.setFrameShape(QFrame.Shape.HLine)
        separator.setStyleSheet(themed("color: $border;"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(bar)
        layout.addWidget(separator)
        # Fewer than two experiments: what to do instead of tabs with one curve or none.
        self.nothing_to_compare = EmptyState(icon="view-comparison", action="Add experiments…",
                                             object_name="compareNothingToCompare")
        self.nothing_to_compare.sig_action_clicked.connect(self.open_picker)
        self.body = QStackedWidget()
        self.body.addWidget(self.splitter)
        self.body.addWidget(self.nothing_to_compare)
        layout.addWidget(self.body, 1)

        self.auto_timer = QTimer(self)
        self.auto_timer.setInterval(AUTO_REFRESH_SECONDS * 1000)
        self.auto_timer.timeout.connect(self.refresh)
        self.add_button.clicked.connect(self.open_picker)
        self.refresh_button.clicked.connect(self.refresh)
        self.auto_refresh_check.toggled.connect(self.set_auto_refresh)
        self.hide_identical_check.toggled.connect(self._hide_identical_toggled)
        self.extremes_check.toggled.connect(self._extremes_toggled)
        self.legend_filter.textChanged.connect(self._filter_legend)
        self.show_all_button.clicked.connect(lambda: self.set_all_hidden(False))
        self.hide_all_button.clicked.connect(lambda: self.set_all_hidden(True))
        self.tabs.currentChanged.connect(self._tab_changed)
        self._apply([])

    # -- The compared set ---------------------------------------------------------------------
    def set_experiments(self, items) -> None:
        """Compare ``items`` (ids, or ``(id, name)`` pairs), in order; the first MAX_EXPERIMENTS only.

        Names, archived state and colours are read here; experiments that no
        longer exist are left out. Hidden flags survive for the ids that stay.
        """
        ids = [item[0] if isinstance(item, (tuple, list)) else item for item in items]
        ids = list(dict.fromkeys(ids))[:MAX_EXPERIMENTS]
        rows = compare_data.experiment_rows(ids) if ids else []
        pairs = [(row["id"], row["name"]) for row in rows]
        self._hidden &= {exp_id for exp_id, _ in pairs}
        experiments, self._slots = palette.assign(pairs, palette.load_custom_colours() if pairs else {},
                                                  self._hidden, self._slots)
        if experiments == self._experiments and (self._rows or not experiments):
            return
        self._apply(experiments)

    def set_order(self, ids: list[str]) -> None:
        """Reorder the compared experiments (e.g. a new base); each keeps its colour."""
        by_id = {e.id: e for e in self._experiments}
        ordered = [by_id[i] for i in ids if i in by_id]
        ordered += [e for e in self._experiments if e.id not in set(ids)]
        if [e.id for e in ordered] != self.experiment_ids():
            self._apply(ordered)
            self.sig_compared_changed.emit(self.experiment_ids())

    def _apply(self, experiments: list[ComparedExperiment]) -> None:
        ids_changed = [e.id for e in experiments] != [e.id for e in self._experiments]
        self._experiments = experiments
        count = len(experiments)
        shown = sum(1 for e in experiments if not e.hidden)
        self.header.setText(f"Comparing {count} experiment{'' if count == 1 else 's'}")
        self.legend_title.setText(f"EXPERIMENTS ({shown}/{count})" if shown != count else f"EXPERIMENTS ({count})")
        if ids_changed or set(self._rows) != {e.id for e in experiments}:
            self._rebuild_legend()
        else:
            for experiment in experiments:
                self._rows[experiment.id].update_from(experiment)
        self._show_nothing_to_compare()
        self._push_current()

    def _show_nothing_to_compare(self) -> None:
        """Two or more experiments: the legend and tabs; fewer: how to choose what to compare."""
        if len(self._experiments) >= 2:
            self.body.setCurrentWidget(self.splitter)
            return
        how = ("Check two or more experiments in the table and click Compare in the bar under it (with none "
               "checked, the experiments the table shows are compared), or add them here.")
        if self._experiments:
            self.nothing_to_compare.set_content("Add another experiment to compare",
                                                f"Only “{self._experiments[0].name}” is here. {how}")
        else:
            self.nothing_to_compare.set_content("Nothing to compare", how)
        self.body.setCurrentWidget(self.nothing_to_compare)

    def has_nothing_to_compare(self) -> bool:
        return self.body.currentWidget() is self.nothing_to_compare

    def _rebuild_legend(self) -> None:
        self.legend_list.setUpdatesEnabled(False)
        try:
            self._fill_legend_list()
        finally:
            self.legend_list.setUpdatesEnabled(True)

    def _fill_legend_list(self) -> None:
        self.legend_list.clear()
        self._rows = {}
        self.legend_list.setUniformItemSizes(True)
        for experiment in self._experiments:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, experiment.id)
            row = LegendRow(self, experiment)
            item.setSizeHint(row.sizeHint())
            self.legend_list.addItem(item)
            self.legend_list.setItemWidget(item, row)
            self._rows[experiment.id] = row
        self.legend_filter.setVisible(len(self._experiments) >= LEGEND_FILTER_FROM)
        self._filter_legend(self.legend_filter.text())

    def _filter_legend(self, text: str) -> None:
        needle = text.strip().lower()
        names = {e.id: e.name.lower() for e in self._experiments}
        for n in range(self.legend_list.count()):
            item = self.legend_list.item(n)
            exp_id = item.data(Qt.ItemDataRole.UserRole)
            item.setHidden(bool(needle) and needle not in names.get(exp_id, "") and needle not in exp_id)

    def experiments(self) -> list[ComparedExperiment]:
        return list(self._experiments)

    def experiment_ids(self) -> list[str]:
        return [e.id for e in self._experiments]

    def experiment(self, exp_id: str) -> ComparedExperiment | None:
        return next((e for e in self._experiments if e.id == exp_id), None)

    def legend_row(self, exp_id: str) -> LegendRow | None:
        return self._rows.get(exp_id)

    # -- Tabs --------------------------------------------------------------------------------------
    def tab(self, title: str) -> QWidget | None:
        if title in self._tab_titles:
            return self.tabs.widget(self._tab_titles.index(title))
        return None

    def show_tab(self, title: str) -> None:
        if title in self._tab_titles:
            self.tabs.setCurrentIndex(self._tab_titles.index(title))

    def _tab_changed(self, index: int) -> None:
        if 0 <= index < len(self._tab_titles):
            save_preference(LAST_TAB_KEY, self._tab_titles[index])
        self._push_current()

    def _push_current(self) -> None:
        """Hand the current tab the compared set, if it has not got this one yet."""
        widget = self.tabs.currentWidget()
        if widget is None:
            return
        state = (tuple(self._experiments), self._project, self._hide_identical, self._show_extremes)
        if self._pushed.get(id(widget)) == state:
            return
        previous = self._pushed.get(id(widget))
        self._pushed[id(widget)] = state
        if hasattr(widget, "set_project") and (previous is None or previous[1] != self._project):
            widget.set_project(self._project)
        if previous is None or previous[2] != self._hide_identical:
            widget.hide_identical(self._hide_identical)
        if hasattr(widget, "show_row_extremes") and (previous is None or previous[3] != self._show_extremes):
            widget.show_row_extremes(self._show_extremes)
        if previous is None or previous[0] != state[0]:
            widget.set_experiments(list(self._experiments))

    def set_project(self, project: str | None) -> None:
        """The project whose remembered choices (shown metrics) the tabs use."""
        if project != self._project:
            self._project = project
            self._push_current()

    # -- Header toggles ----------------------------------------------------------------------------
    def _hide_identical_toggled(self, on: bool) -> None:
        self._hide_identical = on
        self._push_current()

    def _extremes_toggled(self, on: bool) -> None:
        self._show_extremes = on
        self._push_current()

    def set_auto_refresh(self, on: bool) -> None:
        if self.auto_refresh_check.isChecked() != on:
            self.auto_refresh_check.setChecked(on)
            return
        if on:
            self.auto_timer.start()
        else:
            self.auto_timer.stop()

    def refresh(self) -> None:
        """Re-read names and the current tab's data; other tabs re-read when next shown."""
        ids = self.experiment_ids()
        self._pushed.clear()
        self._experiments = []
        self.set_experiments(ids)
        widget = self.tabs.currentWidget()
        if widget is not None and hasattr(widget, "refresh"):
            widget.refresh()

    # -- Hide / show, highlight ---------------------------------------------------------------------
    def set_hidden(self, exp_id: str, hidden: bool) -> None:
        """Hide or show an experiment in every tab (legend checkbox, legend click in a plot)."""
        if exp_id not in {e.id for e in self._experiments}:
            return
        if hidden:
            self._hidden.add(exp_id)
        else:
            self._hidden.discard(exp_id)
        self._apply([e.with_hidden(e.id in self._hidden) for e in self._experiments])

    def set_all_hidden(self, hidden: bool) -> None:
        self._hidden = {e.id for e in self._experiments} if hidden else set()
        self._apply([e.with_hidden(hidden) for e in self._experiments])

    def highlight_experiment(self, exp_id: str | None) -> None:
        widget = self.tabs.currentWidget()
        if widget is not None and hasattr(widget, "highlight_experiment"):
            widget.highlight_experiment(exp_id)

    # -- Per-experiment menu -----------------------------------------------------------------------
    def experiment_menu(self, exp_id: str, parent: QWidget | None = None) -> QMenu:
        menu = QMenu(parent or self)
        menu.addAction("View details", lambda: self.sig_details_requested.emit(exp_id))
        menu.addAction("Rename…", lambda: self.rename_experiment(exp_id))
        menu.addAction("Archive", lambda: self.sig_archive_requested.emit([exp_id]))
        menu.addAction("Remove from comparison", lambda: self.remove_experiment(exp_id))
        menu.addSeparator()
        menu.addAction("Edit colour…", lambda: self.edit_colour(exp_id))
        menu.addAction("Reset colour", lambda: self.reset_colour(exp_id))
        return menu

    def edit_colour(self, exp_id: str, colour: str | None = None) -> None:
        """Pick (or set) the experiment's colour; saved per user, used in every tab."""
        experiment = self.experiment(exp_id)
        if experiment is None:
            return
        if colour is None:
            chosen = QColorDialog.getColor(QColor(experiment.colour), self, f"Colour of {experiment.name}")
            if not chosen.isValid():
                return
            colour = chosen.name()
        palette.save_custom_colour(exp_id, colour)
        self._apply([e.with_colour(colour.lower()) if e.id == exp_id else e for e in self._experiments])

    def reset_colour(self, exp_id: str) -> None:
        palette.save_custom_colour(exp_id, None)
        ids = self.experiment_ids()
        self._experiments = []
        self.set_experiments(ids)

    def rename_experiment(self, exp_id: str, name: str | None = None) -> bool:
        experiment = self.experiment(exp_id)
        if experiment is None:
            return False
        if name is None:
            from exptable_desktop.ui.actions.dialogs import ask_text
            name = ask_text(self, "Rename experiment", "New name:", experiment.name, action_text="Rename")
            if name is None:
                return False
        try:
            result = core_actions.rename([exp_id], name)
        except (core_actions.ActionError, StoreError) as exc:
            self._message(f"Not renamed: {exc}")
            return False
        if not result.succeeded:
            self._message(f"Not renamed: {result.summary()}")
            return False
        self._apply([ComparedExperiment(e.id, name.strip(), e.colour, e.dash, e.hidden) if e.id == exp_id else e
                     for e in self._experiments])
        self.sig_experiments_changed.emit()
        return True

    def _message(self, text: str) -> None:
        window = self.window()
        if hasattr(window, "show_message"):
            window.show_message(text)
        else:
            log.info("%s", text)

    def remove_experiment(self, exp_id: str) -> None:
        ids = [i for i in self.experiment_ids() if i != exp_id]
        self.set_experiments(ids)
        self.sig_compared_changed.emit(ids)

    def open_picker(self) -> QDialog:
        """The searchable experiment picker; on OK the checked experiments are compared."""
        from exptable_desktop.ui.comparison.picker import ExperimentPicker
        picker = ExperimentPicker(self.experiment_ids(), self._project, self)
        picker.accepted.connect(lambda: self._picked(picker.chosen_ids()))
        picker.open()
        return picker

    def _picked(self, ids: list[str]) -> None:
        if ids != self.experiment_ids():
            self.set_experiments(ids)
            self.sig_compared_changed.emit(self.experiment_ids())
