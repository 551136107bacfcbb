"""Wiring the details panel into the main window (docs/window_api.md).

Details mode: the narrow experiment list takes the table's place, under the
window's top bar (view modes, search, archive, columns) and above its bottom
strip (the batch bar), and the panel sits in the details dock ("detailsDock")
beside it, taking the rest of the window: the side docks (projects) step aside
until the table comes back, so all the panel's tabs fit at the default size.
The dock can be dragged elsewhere, floated ("Pop out": the whole table and the
projects come back beside it), closed (back to the table) and restored (the
Details button); where it was is kept by the window's saved dock state.
Full screen: the list, the table area and the side docks are hidden, the dock
fills the window and the tabs are listed on the left.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QToolButton, QVBoxLayout, QWidget

from exptable_desktop.ui.details.cards import ROLE_ID, ExperimentCardList, ExperimentCardModel
from exptable_desktop.ui.details.panel import DetailsPanel

SELECTION_DEBOUNCE_MS = 150
LIST_DEBOUNCE_MS = 250
# The card list's width on entering Details mode, until the person drags the splitter.
LIST_WIDTH = 330
POPPED_OUT_SIZE = (1000, 700)


class DetailsController(QObject):
    """Owns the panel and the card list and keeps them in step with the window."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.dock: QDockWidget = window.details_dock
        self.panel = DetailsPanel()
        # The table's own rows through a proxy over its proxy: the list follows it signal by signal.
        self.cards_model = ExperimentCardModel(window.model, self)
        self.card_list = ExperimentCardList(self.cards_model)
        # The list shows the table's rows, so when there are none it says what the table says
        # (a search nothing matches, an empty project...), not a blank column.
        table_empty_state = getattr(window, "table_empty_state", None)
        self.card_list_empty_state = (table_empty_state.cover(self.card_list, "detailsListEmpty")
                                      if table_empty_state is not None else None)
        self.back_button = QToolButton()
        self.back_button.setObjectName("detailsBackToTable")
        self.back_button.setText("← Table")
        self.back_button.setToolTip("Back to the experiments table")
        self.back_button.setAutoRaise(True)
        self.pop_out_button = QToolButton()
        self.pop_out_button.setObjectName("detailsPopOut")
        self.pop_out_button.setText("Pop out ↗")
        self.pop_out_button.setToolTip("Show the details in their own window, beside the whole table")
        self.pop_out_button.setAutoRaise(True)

        list_host = QWidget()
        list_layout = QVBoxLayout(list_host)
        list_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.setContentsMargins(4, 4, 4, 0)
        top.addWidget(self.back_button)
        top.addStretch(1)
        top.addWidget(self.pop_out_button)
        list_layout.addLayout(top)
        list_layout.addWidget(self.card_list, 1)
        self.list_host = list_host
        list_host.setObjectName("detailsList")
        list_host.setMinimumWidth(LIST_WIDTH - 60)
        list_host.hide()
        # The table's own layout (table, bottom strip): the list goes right after the table.
        self.table_layout = window.table_view.parentWidget().layout()
        self.dock.setWindowTitle("Details")
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                              | QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self._full_screen = False
        # Side docks hidden while the panel takes their room; shown again when the table comes back.
        self._hidden_docks: list[QDockWidget] = []
        self._list_width = LIST_WIDTH
        self._syncing_selection = False
        self._restoring = False
        self._place()

        self.selection_timer = QTimer(self)
        self.selection_timer.setSingleShot(True)
        self.selection_timer.setInterval(SELECTION_DEBOUNCE_MS)
        self.selection_timer.timeout.connect(self._show_current)
        self.list_timer = QTimer(self)
        self.list_timer.setSingleShot(True)
        self.list_timer.setInterval(LIST_DEBOUNCE_MS)
        self.list_timer.timeout.connect(self._reload_cards)

        window.sig_current_changed.connect(self._current_changed)
        window.sig_view_mode_changed.connect(self._view_mode_changed)
        window.set_activate_handler(self.activate)
        self.panel.sig_experiment_link_activated.connect(self.open_experiment)
        self.panel.sig_message_posted.connect(lambda text: window.show_message(text))
        self.panel.sig_experiment_edited.connect(lambda _id: window.refresh_now())
        self.panel.sig_full_screen_toggled.connect(self.set_full_screen)
        self.back_button.clicked.connect(lambda: window.set_view_mode("table"))
        self.pop_out_button.clicked.connect(lambda: self.set_popped_out(not self.dock.isFloating()))
        self.panel.sig_back_to_table_requested.connect(lambda: window.set_view_mode("table"))
        # The list gets its model (and selection model) when first shown.
        self.card_list.sig_model_attached.connect(
            lambda: self.card_list.selectionModel().currentChanged.connect(self._card_chosen))
        self.dock.visibilityChanged.connect(self._dock_visibility)
        self.dock.topLevelChanged.connect(self._dock_floating)
        self._watched_model = None
        self._watch_table_model()
        self._view_mode_changed(window.view_mode())

    # -- Modes ---------------------------------------------------------------------------
    def _place(self) -> None:
        """The panel lives in the dock; the list right after the table, in the table's layout."""
        if self.dock.widget() is not self.panel:
            self.dock.setWidget(self.panel)
        if self.table_layout.indexOf(self.list_host) < 0:
            self.table_layout.insertWidget(self.table_layout.indexOf(self.window.table_view) + 1, self.list_host, 1)

    def _view_mode_changed(self, mode: str) -> None:
        if mode == "details":
            self._enter_details()
        else:
            self._leave_details()

    def _enter_details(self) -> None:
        self._apply_layout()
        if self.window.current_experiment_id() is None:
            # An empty panel helps nobody: open the first row, as a click on it would.
            first = self.window.visible_ids()[:1]
            if first:
                self.window.select_experiment(first[0])
        self._watch_table_model()
        self._reload_cards()
        self._show_current()

    def _leave_details(self) -> None:
        if self._full_screen:
            self.set_full_screen(False)
        if self.list_host.isVisible():
            self._list_width = self.list_host.width()  # where the person left the splitter
        self._apply_layout()

    def _apply_layout(self) -> None:
        in_details = self.window.view_mode() == "details"
        popped_out = self.dock.isFloating()
        # Docked: the list replaces the table. Popped out: the whole table stays beside it.
        embedded = in_details and not popped_out
        self._place()
        was_embedded = self.list_host.isVisible()
        self.window.table_view.setVisible(not embedded)
        self.list_host.setVisible(embedded and not self._full_screen)
        self.window.centralWidget().setVisible(not (in_details and self._full_screen))
        self._hide_side_docks(embedded)
        self._restoring = True
        try:
            self.dock.setVisible(in_details)
        finally:
            self._restoring = False
        if embedded and not self._full_screen and not was_embedded:
            # The list narrow, the panel the rest: its tabs all in view at the default window size.
            spare = self.window.width() - self._list_width - self.window.style().pixelMetric(
                self.window.style().PixelMetric.PM_DockWidgetSeparatorExtent)
            self.window.resizeDocks([self.dock], [max(spare, self.dock.minimumSizeHint().width())],
                                    Qt.Orientation.Horizontal)
        self.pop_out_button.setText("Dock ↙" if popped_out else "Pop out ↗")
        self.pop_out_button.setVisible(not self._full_screen)

    def set_popped_out(self, popped_out: bool) -> None:
        """The details in their own window beside the whole table, or docked beside the list."""
        if popped_out == self.dock.isFloating():
            return
        if popped_out and self._full_screen:
            self._set_full_screen_only(False)
        self._restoring = True
        try:
            self.dock.setFloating(popped_out)
        finally:
            self._restoring = False
        if popped_out and self.dock.width() < POPPED_OUT_SIZE[0] // 2:
            self.dock.resize(*POPPED_OUT_SIZE)  # never floated before: give it room
        self._apply_layout()
        self._reload_cards()

    def is_popped_out(self) -> bool:
        return self.dock.isFloating()

    def set_full_screen(self, full: bool) -> None:
        if full and self.window.view_mode() != "details":
            self.window.set_view_mode("details")
        if full and self.dock.isFloating():
            self.set_popped_out(False)
        self._set_full_screen_only(full)
        self._apply_layout()
        self._reload_cards()

    def _set_full_screen_only(self, full: bool) -> None:
        if full == self._full_screen:
            return
        self._full_screen = full
        self.panel.set_full_screen(full)

    def _hide_side_docks(self, hide: bool) -> None:
        """The docked side docks (projects) give their room to the panel, and come back after."""
        if hide:
            for dock in self.window.findChildren(QDockWidget):
                # Hidden on purpose, not merely not yet shown: the window may not be on screen yet.
                if (dock is not self.dock and not dock.isHidden() and not dock.isFloating()
                        and dock not in self._hidden_docks):
                    dock.hide()
                    self._hidden_docks.append(dock)
        else:
            for dock in self._hidden_docks:
                dock.show()
            self._hidden_docks = []

    def is_full_screen(self) -> bool:
        return self._full_screen

    # -- Selection -------------------------------------------------------------------------
    def activate(self, experiment_id: str) -> None:
        """Enter / double-click on a row: open it in Details mode at once."""
        if self.window.current_experiment_id() != experiment_id:
            self.window.select_experiment(experiment_id)
        if self.window.view_mode() != "details":
            self.window.set_view_mode("details")
        self.selection_timer.stop()
        self.panel.show_experiment(experiment_id)
        self._select_card(experiment_id)

    def open_experiment(self, experiment_id: str) -> None:
        """A link in the panel (the parent task): select it in the table and show it."""
        self.window.select_experiment(experiment_id)
        self.selection_timer.stop()
        self.panel.show_experiment(experiment_id)
        self._select_card(experiment_id)

    def _current_changed(self, _experiment_id: str) -> None:
        # Debounced: moving quickly through the list loads only where it stops.
        self.selection_timer.start()

    def _show_current(self) -> None:
        if not self.dock.isVisible():
            return
        current = self.window.current_experiment_id()
        self.panel.show_experiment(current)
        self._select_card(current)

    def _select_card(self, experiment_id: str | None) -> None:
        self._syncing_selection = True
        try:
            self.card_list.select_id(experiment_id)
        finally:
            self._syncing_selection = False

    def _card_chosen(self, current, _previous) -> None:
        if self._syncing_selection or not current.isValid():
            return
        experiment_id = current.data(ROLE_ID)
        if experiment_id and experiment_id != self.window.current_experiment_id():
            self.window.select_experiment(experiment_id)

    # -- The list follows the table -----------------------------------------------------------
    def _watch_table_model(self) -> None:
        # Checked again on entering Details mode, in case the table swapped its model.
        model = self.window.table_view.model()
        if model is None or self._watched_model is model:
            return
        self._watched_model = model
        for signal in (model.modelReset, model.layoutChanged, model.rowsInserted, model.rowsRemoved,
                       model.dataChanged):
            signal.connect(self.list_timer.start)

    def _reload_cards(self) -> None:
        if not self.list_host.isVisible():
            return
        self._select_card(self.panel.experiment_id or self.window.current_experiment_id())

    # -- The dock ---------------------------------------------------------------------------------
    def _dock_visibility(self, visible: bool) -> None:
        if visible:
            return
        # Closing the popped-out details (its × button) returns to the table.
        QTimer.singleShot(0, self._closed_check)

    def _closed_check(self) -> None:
        if self._restoring or self.dock.isVisible() or self.window.isMinimized():
            return
        # Closed with its × button: back to the table.
        if self.window.view_mode() == "details" and self.window.isVisible():
            self.window.set_view_mode("table")

    def _dock_floating(self, _floating: bool) -> None:
        if self._restoring:
            return
        # Floated or docked by dragging its title: the table and the list follow.
        QTimer.singleShot(0, lambda: (self._apply_layout(), self._reload_cards()))


def install_details(window) -> DetailsController:
    """Put the details panel into ``window.details_dock`` and connect it (docs/window_api.md)."""
    existing = getattr(window, "details_controller", None)
    if existing is not None:
        return existing
    controller = DetailsController(window)
    window.details_controller = controller
    window.details_panel = controller.panel
    return controller
