"""The main window: project tree, top bar, the experiments table, docks and status bar.

It owns the scope (project, sub-projects, archive) and loads the table in
bulk: a small scope whole before the first paint; a middle one (up to
WHOLE_TABLE_LIMIT) with every row but only its first page's custom values, the
whole custom columns following from a worker thread; a large one paints its
most recent page at once while worker threads read the whole table and then
its custom columns. Its parts live beside it: the top bar (``top_bar``), the
loader threads and their installing (``table_loaders``), the table's layout,
sort, filters and custom columns, saved per project view and user
(``table_state``), the live refresh (``live_refresh``), the status line
(``status_line``) and what the table says when it has no rows
(``table_empty_state``). The API the parts installed into it (details, actions,
comparison, views, io) use is docs/window_api.md; everything else is private.
"""
from __future__ import annotations

import base64
from typing import Callable

from PySide6.QtCore import QByteArray, QEvent, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QSizePolicy, QToolBar, QVBoxLayout, QWidget

from exptable_desktop.core import columns as C
from exptable_desktop.core import database
from exptable_desktop.core.database import Scope, close_database, read_only_reason
from exptable_desktop.core.stars import STAR_KEY as STAR
from exptable_desktop.core.stars import STARRED_ONLY
from exptable_desktop.core.table_loading import (
    covers_most_of_db,
    load_base_table,
    load_custom_columns,
    load_first_page_custom_values,
    read_custom_values,
)
from exptable_desktop.core.viewstate import TableState, scope_name, state_from_dict
from exptable_desktop.paths import current_user
from exptable_desktop.ui import icons, kept_threads, palette
from exptable_desktop.ui.filter_popups import FilterPopup
from exptable_desktop.ui.live_refresh import LiveRefresh
from exptable_desktop.ui.project_tree import ProjectTree
from exptable_desktop.ui.status_line import StatusMessage
from exptable_desktop.ui.style import style_table
from exptable_desktop.ui.table_empty_state import TableEmptyState
from exptable_desktop.ui.table_loaders import (
    UNSHOWN_LOAD_DELAY_MS,
    BaseTableLoader,
    ColumnLoader,
    RefreshFetcher,
    TableLoading,
    return_freed_memory,
)
from exptable_desktop.ui.table_model import ExperimentTableModel
from exptable_desktop.ui.table_proxy import ExperimentTableProxy
from exptable_desktop.ui.table_state import TableStateControl
from exptable_desktop.ui.table_view import ExperimentTableView
from exptable_desktop.ui.top_bar import TopBar

VIEW_MODES = ("table", "details", "comparison")
DEFAULT_REFRESH_SECONDS = 3.0
CLOCK_MS = 5000
SAVE_DELAY_MS = 400
# Up to this many experiments the whole table, custom columns included, loads before
# the window shows (a few tens of ms). Beyond it the most recent PREVIEW_ROWS show at
# once and a worker thread reads the whole table, then streams the custom columns in.
PREVIEW_LIMIT = 1000
PREVIEW_ROWS = 300
# Up to this many, the base columns of the whole scope are read at once (~10 ms per 1,000 rows):
# cheaper than a first page followed by a second, whole read. The custom columns of the rows
# on the first page are read with them; whole custom columns stream in after the first paint.
WHOLE_TABLE_LIMIT = 20_000
# Rows whose custom values are read before that first paint: a few screens' worth.
FIRST_PAGE_ROWS = 100

PROJECTS_DOCK_WIDTH = 230
APP_NAME = "ExpTable"
PREF_GEOMETRY = "window.geometry"
PREF_DOCKS = "window.state"
PREF_LAST_SCOPE = "table.last_scope"
PREF_REFRESH = "table.auto_refresh"


def window_title(database_name: str, read_only: bool) -> str:
    """The database first, as desktop applications name their document: "team.db (read-only) — ExpTable"."""
    return f"{database_name}{' (read-only)' if read_only else ''} — {APP_NAME}"


class MainWindow(TopBar, TableLoading, TableStateControl, LiveRefresh, QMainWindow):
    """The application's window on one database: the projects, the experiments table and the docks
    and modes the other parts of ``ui`` install into it (``ui.create_main_window``)."""

    sig_checked_changed = Signal()
    sig_current_changed = Signal(str)
    sig_view_mode_changed = Signal(str)
    sig_archive_mode_changed = Signal(bool)
    sig_refreshed = Signal()
    sig_show_only_checked_changed = Signal(bool)

    def __init__(self, db_url: str):
        super().__init__()
        self.db_url = db_url
        self.user = current_user()
        self.setObjectName("mainWindow")
        # Why the database may not be changed (a read-only file or folder), or None. Every action
        # asks core, whose rules answer with this reason, so menus, bar and editing all switch off.
        self.read_only_reason = read_only_reason()
        self.setWindowTitle(window_title(database.database_name(database.current_url() or db_url),
                                         self.read_only_reason is not None))
        self.setWindowIcon(icons.icon("app"))
        self._view_mode = "table"
        self._archive = False
        self._project_id: int | None = None
        self._deep = True
        self._scope = Scope(None, False)
        self._scope_key = scope_name(None, True)
        # The change sequence number (core.database.current_change_seq) the next refresh reads from.
        self._since = database.current_change_seq()
        self._restoring = False
        self._loader: ColumnLoader | None = None
        self._base_loader: BaseTableLoader | None = None
        self._abandoned: list[BaseTableLoader] = []  # still running, kept alive until they end
        self._popup: FilterPopup | None = None
        self._refresh_seconds = DEFAULT_REFRESH_SECONDS
        self._full_pending = False
        # Custom columns to read once the first page has painted: (keys, whole_db).
        self._pending_columns: tuple[list[str], bool] | None = None
        self._fetcher: RefreshFetcher | None = None
        # Bumped by every synchronous refresh and scope change: an older in-flight fetch is then dropped.
        self._refresh_sequence = 0
        self.last_refresh_apply_seconds = 0.0
        self.background: QColor | None = None
        # True while the widths are the defaults (none saved, none dragged): they follow the table's width.
        self._auto_fit = False
        self._fitting = False
        # Called with (table, slots) when a table is installed (slots None) and with the rows a refresh
        # added: columns kept outside the database rows, such as the person's stars (ui.views_menu).
        self.table_hooks: list[Callable] = []

        # One source model (the table's rows in storage order); views see it through proxies that
        # order and filter it: the table through ``model``, the details card list through one over it.
        self.source_model = ExperimentTableModel(self)
        self.model = ExperimentTableProxy(self.source_model, self)
        self.table_view = ExperimentTableView()
        self.table_view.setModel(self.model)
        self.table_view.viewport().installEventFilter(self)
        self._build_top_bar()
        self._build_central()
        self._build_docks()
        self.table_empty_state = TableEmptyState(self)
        self.status_message = StatusMessage()
        self.statusBar().addWidget(self.status_message, 1)
        self.row_count_label = QLabel()
        self.statusBar().addPermanentWidget(self.row_count_label)
        self.read_only_label = QLabel("Read-only")
        self.read_only_label.setObjectName("readOnlyLabel")
        self.read_only_label.setToolTip(self.read_only_reason or "")
        self.read_only_label.setVisible(self.read_only_reason is not None)
        self.statusBar().addPermanentWidget(self.read_only_label)

        self._save_timer = QTimer(self, singleShot=True, interval=SAVE_DELAY_MS)
        self._save_timer.timeout.connect(self._save_table_state)
        self.refresh_timer = QTimer(self)
        self.refresh_timer.timeout.connect(self.refresh_in_background)
        self.clock_timer = QTimer(self, interval=CLOCK_MS)
        self.clock_timer.timeout.connect(self._tick_clock)
        self.clock_timer.start()

        header = self.table_view.horizontalHeader()
        header.sectionMoved.connect(lambda *_: self._schedule_save())
        header.sectionResized.connect(self._on_section_resized)
        header.sig_sort_clicked.connect(self._on_sort_clicked)
        header.sig_filter_clicked.connect(self._on_filter_clicked)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        self.model.sig_checked_changed.connect(self.sig_checked_changed)
        self.model.sig_sort_changed.connect(self._schedule_save)  # header clicks sort through the model
        self.table_view.sig_current_id_changed.connect(self.sig_current_changed)
        for signal in (self.model.rowsInserted, self.model.rowsRemoved, self.model.modelReset,
                       self.model.layoutChanged):
            signal.connect(self._update_row_count)

        self._restore_preferences()

    # ---- Building ----------------------------------------------------------------------

    def _build_central(self) -> None:
        central = QWidget()
        central.setObjectName("centralArea")
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        # A tool bar spans the whole window, docks included, so the view-mode buttons,
        # search and toggles stay reachable whatever the docks do (Details mode).
        self.top_toolbar = QToolBar("Top bar", self)
        self.top_toolbar.setObjectName("topToolBar")
        self.top_toolbar.setMovable(False)
        self.top_toolbar.setFloatable(False)
        self.top_toolbar.toggleViewAction().setVisible(False)
        self.top_bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.top_toolbar.addWidget(self.top_bar)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.top_toolbar)
        self.archive_banner = QLabel("Archive: these experiments are archived. Restore them to bring them back.")
        self.archive_banner.setObjectName("archiveBanner")
        self.archive_banner.setVisible(False)
        layout.addWidget(self.archive_banner)
        layout.addWidget(self.table_view, 1)
        self.bottom_strip = QWidget()
        self.bottom_strip.setObjectName("bottomStrip")
        self.bottom_layout = QVBoxLayout(self.bottom_strip)
        self.bottom_layout.setContentsMargins(0, 0, 0, 0)
        self.bottom_strip.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        layout.addWidget(self.bottom_strip)
        self.setCentralWidget(central)

    def _build_docks(self) -> None:
        self.project_panel = ProjectTree()
        self.project_tree = self.project_panel.view
        self.projects_dock = QDockWidget("Projects", self)
        self.projects_dock.setObjectName("projectsDock")
        self.projects_dock.setWidget(self.project_panel)
        self.projects_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.projects_dock)
        self.details_dock = QDockWidget("Details", self)
        self.details_dock.setObjectName("detailsDock")
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.details_dock)
        self.details_dock.hide()
        self.project_panel.sig_project_chosen.connect(self._project_chosen)
        self.project_panel.subprojects_toggle.toggled.connect(lambda on: self.open_project(self._project_id, on))

    # ---- Preferences ---------------------------------------------------------------------------

    def _restore_preferences(self) -> None:
        refresh = database.get_preference(self.user, PREF_REFRESH, {}) or {}
        self._refresh_seconds = float(refresh.get("interval", DEFAULT_REFRESH_SECONDS))
        last = database.get_preference(self.user, PREF_LAST_SCOPE, {}) or {}
        self.project_panel.model.rebuild(False)
        project_id = last.get("project")
        if project_id is not None and project_id not in self.project_panel.model.items:
            project_id = None
        self._deep = bool(last.get("deep", True))
        self.project_panel.subprojects_toggle.blockSignals(True)
        self.project_panel.subprojects_toggle.setChecked(self._deep)
        self.project_panel.subprojects_toggle.blockSignals(False)
        self.open_project(project_id, self._deep)
        self.auto_refresh_toggle.setChecked(bool(refresh.get("enabled", True)))
        self._on_auto_refresh_toggled(self.auto_refresh_toggle.isChecked())
        geometry = database.get_preference(self.user, PREF_GEOMETRY)
        if geometry:
            self.restoreGeometry(QByteArray(base64.b64decode(geometry)))
        else:
            self.resize(1400, 820)
        docks = database.get_preference(self.user, PREF_DOCKS)
        if not docks:
            self.resizeDocks([self.projects_dock], [PROJECTS_DOCK_WIDTH], Qt.Orientation.Horizontal)
        if docks:
            self.restoreState(QByteArray(base64.b64decode(docks)))
            # The details helper shows its dock when its mode is chosen, and hides the projects while
            # it does (a state saved in Details mode): start in table mode, the projects beside it.
            self.details_dock.hide()
            self.projects_dock.show()

    def save_window_state(self) -> None:
        database.set_preference(self.user, PREF_GEOMETRY, base64.b64encode(bytes(self.saveGeometry())).decode())
        database.set_preference(self.user, PREF_DOCKS, base64.b64encode(bytes(self.saveState())).decode())
        database.set_preference(self.user, PREF_REFRESH, {"enabled": self.auto_refresh_toggle.isChecked(),
                                                      "interval": self._refresh_seconds})

    def paintEvent(self, event) -> None:
        # The window's own background only (set by ui.style): a palette would pass it on to every child.
        if self.background is not None:
            painter = QPainter(self)
            painter.fillRect(event.rect(), self.background)
            painter.end()

    def closeEvent(self, event) -> None:
        self._stop_loader()
        self.refresh_timer.stop()
        self._stop_fetcher(wait=True)
        self.clock_timer.stop()
        if self._save_timer.isActive():
            self._save_table_state()
        self.save_window_state()
        super().closeEvent(event)

    # ---- Scope: project, sub-projects, archive ------------------------------------------------------

    def open_project(self, project_id: int | None, deep: bool | None = None) -> None:
        """Show ``project_id`` (None = all experiments), flat or with sub-projects."""
        if self._save_timer.isActive():
            self._save_table_state()
        self._stop_loader(wait=False)
        self._stop_fetcher(wait=False)
        was_only_checked = self.model.is_show_only_checked()
        self._project_id = project_id
        if deep is not None:
            self._deep = deep
        tree = self.project_panel.model
        if project_id is None:
            ids = None
        elif self._deep:
            ids = tuple(tree.descendants(project_id))
        else:
            ids = (project_id,)
        self._scope = Scope(ids, self._archive)
        self._scope_key = scope_name(project_id, self._deep)
        multi = project_id is None or (self._deep and len(ids or ()) > 1)
        state = state_from_dict(database.load_saved_view(self.user, self._scope_key), multi)
        self._since = database.current_change_seq()
        count = database.scope_count(self._scope)
        if PREVIEW_LIMIT < count <= WHOLE_TABLE_LIMIT:
            table = load_base_table(self._scope, expected=count)
            table.add_empty_custom_columns(state.custom, partial=True)
            self._install_table(table, state, custom=False)
            if state.custom:
                # Sorted and filtered by now (custom columns aside), so this is the page on screen.
                page = table.first_page_slots(FIRST_PAGE_ROWS)
                table.write_custom_rows(page, read_custom_values(table.ids[page].tolist(), state.custom))
                self._pending_columns = (list(state.custom), covers_most_of_db(table))
                QTimer.singleShot(UNSHOWN_LOAD_DELAY_MS, self._launch_pending_columns)
        elif count > PREVIEW_LIMIT:
            # Paint the most recent experiments at once; the whole table is read on a worker thread.
            first_page = load_base_table(self._scope, limit=PREVIEW_ROWS)
            if state.custom:
                load_first_page_custom_values(first_page, state.custom)
                # Those few hundred experiments' values lie on pages all over the tables.
                database.release_read_cache()
                return_freed_memory()
            self._install_table(first_page, state, custom=False)
            self._full_pending = True
            self._start_base_loader()
        else:
            self._install_table(load_base_table(self._scope, expected=count), state, custom=True)
        self.project_panel.select_project(project_id)
        name = "All experiments" if project_id is None else tree.paths.get(project_id, "")
        self.title_label.setText(f"<b>{name}</b>" + (f"  <span style='color:{palette.current().warning}'>(archive)</span>"
                                                     if self._archive else ""))
        database.set_preference(self.user, PREF_LAST_SCOPE, {"project": project_id, "deep": self._deep})
        self._update_row_count()
        if was_only_checked:
            self.sig_show_only_checked_changed.emit(False)

    def _project_chosen(self, project_id: int | None) -> None:
        """A project picked in the tree: the person's default view for it (Views menu) if they set one."""
        views = getattr(self, "views_menu", None)
        if views is None or not views.open_default(project_id):
            self.open_project(project_id, self._deep)

    def current_scope(self) -> tuple[int | None, bool]:
        """(project id or None for all experiments, with sub-projects)."""
        return self._project_id, self._deep

    def show_view(self, project_id: int | None, deep: bool, archive: bool, state: TableState,
                  search: str = "", regex: bool = False) -> None:
        """Open a saved or linked view: its scope, its layout (kept as the scope's layout from now on,
        as the reference's URL state does) and its search."""
        if self._save_timer.isActive():
            self._save_table_state()  # the pending layout of what is on screen, before it is replaced
        database.store_saved_view(self.user, scope_name(project_id, deep), state.to_dict())
        self.project_panel.subprojects_toggle.blockSignals(True)
        self.project_panel.subprojects_toggle.setChecked(deep)
        self.project_panel.subprojects_toggle.blockSignals(False)
        self.regex_action.blockSignals(True)
        self.regex_action.setChecked(regex)
        self.regex_action.blockSignals(False)
        self.search_box.blockSignals(True)
        self.search_box.setText(search)
        self.search_box.blockSignals(False)
        if archive != self._archive:
            self._project_id, self._deep = project_id, deep
            self.archive_toggle.setChecked(archive)  # opens the project in (or out of) the archive
        else:
            self.open_project(project_id, deep)
        self._apply_search()  # the box's error marks, if the search cannot be read here

    def _install_table(self, table, state: TableState, *, custom: bool) -> None:
        """Put ``table`` on screen under ``state``; with ``custom``, its custom columns are read first."""
        for hook in self.table_hooks:
            hook(table, None)
        table.sort = ([(STAR, False)] if state.starred_first else []) + [s for s in state.sort if s[0] != STAR]
        if custom and state.custom:
            for key, rows in load_custom_columns(self._scope, state.custom, whole_db=covers_most_of_db(table),
                                                 expected_rows=table.n):
                table.add_custom_column(key, rows)
        for key, flt in state.filters.items():
            table.set_filter(key, flt)
        if state.starred_only:
            table.set_filter(STAR, STARRED_ONLY)
        table.set_search(self._search_query(table))
        table.resort()
        self.model.precise = set(state.precise)
        self._restoring = True
        self.model.set_columns(list(C.BUILTIN_COLUMNS) + [C.spec_for(k) for k in state.custom])
        self.model.set_table(table)
        self._apply_header_state(state)
        self._restoring = False
        self._update_filter_marks()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if watched is self.table_view.viewport():
            if event.type() == QEvent.Type.Resize and self._auto_fit:
                self._fitting = True
                try:
                    self.table_view.fit_name_column()
                finally:
                    self._fitting = False
            elif event.type() == QEvent.Type.Paint:
                self._launch_after_paint()
        return False

    def _set_archive_mode(self, on: bool) -> None:
        if on == self._archive:
            return
        self._archive = on
        central = self.centralWidget()
        central.setProperty("archive", on)
        self.table_view.setProperty("archive", on)
        self.top_bar.setProperty("archive", on)
        for widget in (central, self.top_bar):
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        style_table(self.table_view, archive=on)
        self.archive_banner.setVisible(on)
        self.archive_toggle.setText("Close archive" if on else "Open archive")
        self.project_panel.model.update_counts(database.project_counts(on))
        self.open_project(self._project_id, self._deep)
        self.sig_archive_mode_changed.emit(on)

    def _update_row_count(self, *_args) -> None:
        shown, total = len(self.model.table.order), int(self.model.table.alive[:self.model.table.n].sum())
        self.row_count_label.setText(f"{shown:,} of {total:,} experiments" if shown != total
                                     else f"{total:,} experiments")

    # ---- Public API (see the window contract) ------------------------------------------------------------------

    def checked_ids(self) -> list[str]:
        if any(i not in self.model.table.id_to_slot for i in self.model.checked):
            self._ensure_full_table()  # checked on another page of a table still loading
        alive = self.model.table
        return [i for i in self.model.checked if i in alive.id_to_slot and alive.alive[alive.id_to_slot[i]]]

    def set_checked(self, ids, checked: bool) -> None:
        self.model.set_checked(list(ids), checked)

    def clear_checked(self) -> None:
        self.model.set_checked(list(self.model.checked), False)

    def set_show_only_checked(self, on: bool) -> None:
        """Show only the checked experiments (within filters and search); searching turns it off."""
        on = bool(on)
        if on == self.model.is_show_only_checked():
            return
        self.model.set_show_only_checked(on)
        self._update_row_count()
        self.sig_show_only_checked_changed.emit(on)

    def is_show_only_checked(self) -> bool:
        return self.model.is_show_only_checked()

    def check_column(self) -> int:
        """The model column index of the checkbox column."""
        return self.model.column_of("check")

    def current_experiment_id(self) -> str | None:
        return self.table_view.current_id()

    def select_experiment(self, exp_id: str) -> bool:
        if self.model.row_of_id(exp_id) < 0:
            self._ensure_full_table()
        if self.model.row_of_id(exp_id) < 0:
            self.refresh_now()
        return self.table_view.select_id(exp_id)

    def visible_ids(self) -> list[str]:
        return self.model.table.visible_ids()

    def filtered_ids(self) -> list[str]:
        self._ensure_full_table()
        return self.model.table.visible_ids()

    def scope_ids(self) -> list[str]:
        self._ensure_full_table()
        return self.model.table.alive_ids()

    def rows_info(self, ids) -> list[dict]:
        ids = list(ids)
        if any(i not in self.model.table.id_to_slot for i in ids):
            self._ensure_full_table()
        table = self.model.table
        out = []
        for exp_id in ids:
            slot = table.id_to_slot.get(exp_id)
            if slot is not None and table.alive[slot]:
                out.append(table.row_info(slot))
        return out

    def set_row_context_menu_handler(self, fn: Callable[[QPoint, str], None] | None) -> None:
        self.table_view.context_menu_handler = fn

    def set_activate_handler(self, fn: Callable[[str], None] | None) -> None:
        self.table_view.activate_handler = fn

    def set_view_mode(self, mode: str) -> None:
        if mode not in VIEW_MODES:
            raise ValueError(f"unknown view mode {mode!r}; expected one of {', '.join(VIEW_MODES)}")
        self.view_mode_buttons[mode].setChecked(True)
        if mode != self._view_mode:
            self._view_mode = mode
            self.sig_view_mode_changed.emit(mode)

    def view_mode(self) -> str:
        return self._view_mode

    def is_archive_mode(self) -> bool:
        return self._archive

    def show_message(self, text: str, undo: Callable | None = None, details: str | None = None) -> None:
        self.status_message.show_message(text, undo, details)

    def current_project_path(self) -> str | None:
        if self._project_id is None:
            return None
        return self.project_panel.model.paths.get(self._project_id)

    def open_new_experiment_wizard(self):
        """The New Experiment wizard, for the current project; the experiment it makes is selected."""
        from exptable_desktop.ui.new_experiment_wizard import open_new_experiment
        if not self.new_experiment_button.isEnabled():
            return None  # Ctrl+N on a read-only database
        return open_new_experiment(self)

    def open_workers_queues(self):
        from exptable_desktop.ui.workers_queues import workers_queues_window
        return workers_queues_window(self)

    def add_bottom_widget(self, widget: QWidget) -> None:
        self.bottom_layout.addWidget(widget)
        # Shown like any child, unless its owner hid it on purpose before handing it over.
        if not widget.testAttribute(Qt.WidgetAttribute.WA_WState_ExplicitShowHide):
            widget.show()

    def shutdown(self) -> None:
        """Stop timers and threads and release the database (tests and run_gui call this)."""
        self.close()
        kept_threads.wait_for_all()
        close_database()
