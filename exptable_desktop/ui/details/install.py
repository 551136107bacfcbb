"""Wiring the details panel into the main window (window_api.md).

Details mode: the table area is hidden and the details dock shows a narrow
experiment list (with its own search box, mirroring the table's) beside the
panel. Full screen: the list is hidden too and the tabs move to the left.
Table mode: the dock is hidden. A floating dock leaves the whole table in view
beside it. The dock's place is kept by the window's saved dock state.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QHBoxLayout, QLineEdit, QSplitter, QToolButton, QVBoxLayout, QWidget

from exptable_desktop.ui.details.cards import ROLE_ID, ExperimentCardList, ExperimentCardModel
from exptable_desktop.ui.details.panel import DetailsPanel

SELECTION_DEBOUNCE_MS = 150
LIST_DEBOUNCE_MS = 250
SIDE_DOCK_WIDTH = 260  # e.g. the projects tree, beside the details in Details mode


class DetailsController(QObject):
    """Owns the panel and the card list and keeps them in step with the window."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.dock: QDockWidget = window.details_dock
        self.panel = DetailsPanel()
        self.cards_model = ExperimentCardModel(window.visible_ids, window.rows_info, self)
        self.card_list = ExperimentCardList(self.cards_model)
        self.back_button = QToolButton()
        self.back_button.setObjectName("detailsBackToTable")
        self.back_button.setText("← Table")
        self.back_button.setToolTip("Back to the experiments table")
        self.back_button.setAutoRaise(True)
        # The table's top bar is hidden with the table; the list keeps its search.
        self.search_box = QLineEdit()
        self.search_box.setObjectName("detailsListSearch")
        self.search_box.setPlaceholderText("Search")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setText(window.search_box.text())

        list_host = QWidget()
        list_layout = QVBoxLayout(list_host)
        list_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.setContentsMargins(4, 4, 4, 0)
        top.addWidget(self.back_button)
        top.addWidget(self.search_box, 1)
        list_layout.addLayout(top)
        list_layout.addWidget(self.card_list, 1)
        self.list_host = list_host
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("detailsSplitter")
        self.splitter.addWidget(list_host)
        self.splitter.addWidget(self.panel)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([300, 900])
        self.dock.setWidget(self.splitter)
        self.dock.setWindowTitle("Details")
        self.dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetClosable
                              | QDockWidget.DockWidgetFeature.DockWidgetMovable
                              | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        self._full_screen = False
        self._syncing_selection = False
        self._restoring = False

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
        self.panel.experiment_link_activated.connect(self.open_experiment)
        self.panel.message.connect(lambda text: window.show_message(text))
        self.panel.experiment_edited.connect(lambda _id: window.refresh_now())
        self.panel.full_screen_toggled.connect(self.set_full_screen)
        self.back_button.clicked.connect(lambda: window.set_view_mode("table"))
        self.panel.back_to_table_requested.connect(lambda: window.set_view_mode("table"))
        self.search_box.textEdited.connect(window.search_box.setText)
        window.search_box.textChanged.connect(self._table_search_changed)
        self.card_list.selectionModel().currentChanged.connect(self._card_chosen)
        self.dock.visibilityChanged.connect(self._dock_visibility)
        self.dock.topLevelChanged.connect(self._dock_floating)
        self._watched_model = None
        self._watch_table_model()
        self._view_mode_changed(window.view_mode())

    # -- Modes ---------------------------------------------------------------------------
    def _central(self) -> QWidget | None:
        return self.window.centralWidget()

    def _view_mode_changed(self, mode: str) -> None:
        if mode == "details":
            self._enter_details()
        else:
            self._leave_details()

    def _enter_details(self) -> None:
        # The table area goes first: shown beside it, the dock would widen the window.
        self._apply_layout()
        self._restoring = True
        self.dock.show()
        self._restoring = False
        self._apply_layout()
        if self.window.current_experiment_id() is None:
            # An empty panel helps nobody: open the first row, as a click on it would.
            first = self.window.visible_ids()[:1]
            if first:
                self.window.select_experiment(first[0])
        self._watch_table_model()
        self._reload_cards()
        self._show_current()
        if not self.dock.isFloating():
            QTimer.singleShot(0, self._widen_dock)

    def _widen_dock(self) -> None:
        """With the table hidden, the details dock (not the side docks) takes the room it left."""
        sides = (Qt.DockWidgetArea.LeftDockWidgetArea, Qt.DockWidgetArea.RightDockWidgetArea)
        others = [d for d in self.window.findChildren(QDockWidget)
                  if d is not self.dock and d.isVisible() and not d.isFloating()
                  and self.window.dockWidgetArea(d) in sides]
        widths = [min(d.width(), SIDE_DOCK_WIDTH) for d in others]
        self.window.resizeDocks(others + [self.dock], widths + [self.window.width() - sum(widths)],
                                Qt.Orientation.Horizontal)

    def _leave_details(self) -> None:
        if self._full_screen:
            self.set_full_screen(False)
        self._restoring = True
        self.dock.hide()
        self._restoring = False
        central = self._central()
        if central is not None:
            central.show()

    def _apply_layout(self) -> None:
        """Hide the table area while the docked panel takes its place; show it beside a floating one."""
        central = self._central()
        docked = not self.dock.isFloating()
        in_details = self.window.view_mode() == "details"
        if central is not None:
            central.setVisible(not (in_details and docked))
        self.list_host.setVisible(in_details and docked and not self._full_screen)

    def set_full_screen(self, full: bool) -> None:
        if full and self.window.view_mode() != "details":
            self.window.set_view_mode("details")
        self._full_screen = full
        if full and self.dock.isFloating():
            self.dock.setFloating(False)
        self.panel.set_full_screen(full)
        self._apply_layout()

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
        if not self.dock.isVisible() or not self.list_host.isVisible():
            return
        self.cards_model.reload()
        self._select_card(self.panel.experiment_id or self.window.current_experiment_id())

    # -- The dock ---------------------------------------------------------------------------------
    def _dock_visibility(self, visible: bool) -> None:
        if visible:
            return
        # Closing the dock (its × button) in Details mode returns to the table.
        QTimer.singleShot(0, self._closed_check)

    def _closed_check(self) -> None:
        if self._restoring or self.dock.isVisible() or self.window.isMinimized():
            return
        if self.window.view_mode() == "details" and self.window.isVisible():
            self.window.set_view_mode("table")

    def _dock_floating(self, floating: bool) -> None:
        if floating and self._full_screen:
            self._full_screen = False
            self.panel.set_full_screen(False)
        self._apply_layout()

    def _table_search_changed(self, text: str) -> None:
        if self.search_box.text() != text:
            self.search_box.setText(text)


def install_details(window) -> DetailsController:
    """Put the details panel into ``window.details_dock`` and connect it (window_api.md)."""
    controller = DetailsController(window)
    window.details_controller = controller
    window.details_panel = controller.panel
    return controller
