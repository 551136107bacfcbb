"""The main window: project tree, top bar, the experiments table, docks and status bar.

It owns the scope (project, sub-projects, archive) and loads the table in
bulk: a small scope whole before the first paint; a middle one (up to
WHOLE_TABLE_LIMIT) with every row but only its first page's custom values, the
whole custom columns following from a worker thread; a large one paints its
most recent page at once while worker threads read the whole table and then
its custom columns. It refreshes incrementally on
a timer (the read on a worker thread, only the apply on the UI thread) and
saves the table layout per project view and user. The public API other parts use is documented in
docs/window_api (see the brief); everything else here is private.
"""
from __future__ import annotations

import base64
import ctypes
import time
from typing import Callable

from PySide6.QtCore import QByteArray, QEvent, QPoint, QRect, QSize, Qt, QThread, QTimer, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import columns as C
from exptable_desktop.core.filters import RangeFilter, TagFilter, ValueSetFilter
from exptable_desktop.core.stars import STAR_KEY as STAR
from exptable_desktop.core.stars import STARRED_ONLY
from exptable_desktop.core.tableview import (
    CustomColumnData,
    covers_most_of_db,
    fetch_changes,
    load_base_table,
    load_custom_columns,
    load_first_page_custom_values,
    prepare_custom_column,
    read_custom_values,
)
from exptable_desktop.core.viewstate import TableState, default_state, scope_name, state_from_dict
from exptable_desktop.paths import current_user
from exptable_desktop.store import bulk
from exptable_desktop.store.bulk import Scope
from exptable_desktop.store.db import close_database, read_only_reason
from exptable_desktop.ui import icons, palette
from exptable_desktop.ui.column_dialogs import HyperparamsDialog, MetricsDialog
from exptable_desktop.ui.filter_popups import (
    DateRangePopup,
    DurationRangePopup,
    FilterPopup,
    NumberRangePopup,
    TagPopup,
    ValueSetPopup,
)
from exptable_desktop.ui.project_tree import ProjectTree
from exptable_desktop.ui.style import style_sheet, style_table
from exptable_desktop.ui.table_model import ExperimentTableModel
from exptable_desktop.ui.table_proxy import ExperimentTableProxy
from exptable_desktop.ui.table_view import ExperimentTableView

VIEW_MODES = ("table", "details", "comparison")
DEFAULT_REFRESH_SECONDS = 3.0
REFRESH_CHOICES = (1.0, 3.0, 5.0, 10.0, 30.0)
CLOCK_MS = 5000
SAVE_DELAY_MS = 400
MESSAGE_MS = 15000
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
# The whole-table read starts after the first paint; a window never shown starts it after this.
UNSHOWN_LOAD_DELAY_MS = 1000
# Custom columns reach the UI thread at most this often (each hand-over costs a repaint).
COLUMN_BATCH_SECONDS = 0.15

PROJECTS_DOCK_WIDTH = 230
PREF_GEOMETRY = "window.geometry"
PREF_DOCKS = "window.state"
PREF_LAST_SCOPE = "table.last_scope"
PREF_REFRESH = "table.auto_refresh"


class ColumnLoader(QThread):
    """Reads custom columns on its own database connection and hands them over a few at a time."""

    sig_columns_ready = Signal(object)  # list[CustomColumnData]

    def __init__(self, scope: Scope, table, keys: list[str], whole_db: bool, parent=None):
        super().__init__(parent)
        self.scope, self.table, self.keys, self.whole_db = scope, table, list(keys), whole_db
        self.started_seq = bulk.current_change_seq()  # rows changed after it are read again by a refresh
        self._cancelled = False
        self.error: str | None = None

    def cancel(self) -> None:
        self._cancelled = True

    def run(self) -> None:
        from exptable_desktop.store.schema import database_proxy
        batch: list[CustomColumnData] = []
        last_sent = time.perf_counter()
        try:
            for key, rows in load_custom_columns(self.scope, self.keys, whole_db=self.whole_db,
                                                 expected_rows=self.table.n):
                if self._cancelled:
                    return
                batch.append(prepare_custom_column(self.table, key, rows))
                del rows  # the rows read: several times the size of the column they make
                return_freed_memory()
                # Handed over in batches: each hand-over costs the UI thread a repaint.
                if time.perf_counter() - last_sent >= COLUMN_BATCH_SECONDS or key == self.keys[-1]:
                    self.sig_columns_ready.emit(batch)
                    batch, last_sent = [], time.perf_counter()
        except Exception as exc:  # shown in the status bar by the window
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            database_proxy.obj.close()  # this thread's connection only


def return_freed_memory() -> None:
    """Give memory freed after a big load back to the system.

    glibc keeps what a loader thread freed (the rows it read) in that thread's
    arena, so without this the process stays ~70 MB larger at 100,000 experiments.
    Elsewhere (no glibc) there is nothing to do.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


class BaseTableLoader(QThread):
    """Reads the base columns of a whole scope on its own database connection."""

    sig_done = Signal()

    def __init__(self, scope: Scope, parent=None):
        super().__init__(parent)
        self.scope = scope
        self.started_seq = bulk.current_change_seq()  # rows changed after it are read again by a refresh
        self.table = None
        self.error: str | None = None

    def run(self) -> None:
        from exptable_desktop.store.schema import database_proxy
        try:
            self.table = load_base_table(self.scope)
        except Exception as exc:  # shown in the status bar by the window
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            database_proxy.obj.close()  # this thread's connection only
        self.sig_done.emit()


class RefreshFetcher(QThread):
    """One refresh tick's database read, off the UI thread; the UI thread only applies it."""

    sig_fetched = Signal(object, int)  # ChangeSet, the refresh sequence number it was started under

    def __init__(self, since: int, custom_keys: list[str], parent_ids: list[str], sequence: int, parent=None):
        super().__init__(parent)
        self.since, self.custom_keys, self.parent_ids, self.sequence = since, custom_keys, parent_ids, sequence
        self.error: str | None = None

    def run(self) -> None:
        from exptable_desktop.store.schema import database_proxy
        try:
            self.sig_fetched.emit(fetch_changes(self.since, self.custom_keys, self.parent_ids), self.sequence)
        except Exception as exc:  # the database went away or is locked: the next tick tries again
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            database_proxy.obj.close()  # this thread's connection only


class CompactToolButton(QToolButton):
    """A top-bar button that shows its text while the bar has room and only its icon when it has not,
    so these buttons do not widen the window's minimum width. The bar decides for all of them at once:
    their texts show when every part of the bar fits at its minimum with them."""

    def __init__(self, text: str):
        super().__init__()
        self.setText(text)
        # A tool button is Fixed by default: the window could then never be narrower than its text.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, self.sizePolicy().verticalPolicy())
        self._compact = False
        self._measuring = False
        self._icon_hint = self._full_hint = QSize()
        self._measure()

    def _measure(self) -> None:
        self._measuring = True
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self._icon_hint = super().sizeHint()
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._full_hint = super().sizeHint()
        if self._compact:
            self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self._measuring = False
        self.updateGeometry()

    def text_width(self) -> int:
        return self._full_hint.width() - self._icon_hint.width()

    def is_compact(self) -> bool:
        return self._compact

    def set_compact(self, compact: bool) -> None:
        if compact != self._compact:
            self._compact = compact
            self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly if compact
                                    else Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
            self.updateGeometry()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._icon_hint if self._compact else self._full_hint)

    def minimumSizeHint(self) -> QSize:  # noqa: N802
        return QSize(self._icon_hint)

    def changeEvent(self, event) -> None:  # noqa: N802
        super().changeEvent(event)
        if event.type() == QEvent.Type.ParentChange and self.parentWidget() is not None:
            self.parentWidget().installEventFilter(self)
        elif not self._measuring and event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange):
            self._measure()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize and watched is self.parentWidget() and watched.layout() is not None:
            buttons = watched.findChildren(CompactToolButton, options=Qt.FindChildOption.FindDirectChildrenOnly)
            # The bar's minimum counts these buttons as icons.
            fits = watched.width() >= watched.layout().minimumSize().width() + sum(b.text_width() for b in buttons)
            for button in buttons:
                button.set_compact(not fits)
        return False


class StatusMessage(QWidget):
    """Status-bar message with optional Undo and More info buttons."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("statusMessage")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        self.label = QLabel()
        self.undo_button = QPushButton("Undo")
        self.more_button = QPushButton("More info")
        for button in (self.undo_button, self.more_button):
            button.setFlat(True)
            button.setCursor(Qt.CursorShape.PointingHandCursor)
            button.hide()
        layout.addWidget(self.label)
        layout.addWidget(self.undo_button)
        layout.addWidget(self.more_button)
        layout.addStretch(1)  # the buttons stay right after the text they act on
        self.timer = QTimer(self, singleShot=True, interval=MESSAGE_MS)
        self.timer.timeout.connect(self.clear)
        self._undo: Callable | None = None
        self._details: str | None = None
        self.undo_button.clicked.connect(self._on_undo)
        self.more_button.clicked.connect(self._on_more)

    def show_message(self, text: str, undo: Callable | None, details: str | None) -> None:
        self.label.setText(text)
        self._undo, self._details = undo, details
        self.undo_button.setVisible(undo is not None)
        self.more_button.setVisible(bool(details))
        self.timer.start()

    def clear(self) -> None:
        self.label.clear()
        self._undo = self._details = None
        self.undo_button.hide()
        self.more_button.hide()

    def _on_undo(self) -> None:
        undo = self._undo
        self.clear()
        if undo is not None:
            undo()

    def _on_more(self) -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "More info", self.label.text(), parent=self.window())
        box.setDetailedText(self._details or "")
        box.setText(self.label.text())
        box.setInformativeText((self._details or "")[:2000])
        box.open()


class MainWindow(QMainWindow):
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
        self.setWindowTitle("ExpTable (read-only)" if self.read_only_reason else "ExpTable")
        self.setWindowIcon(icons.icon("app"))
        self._view_mode = "table"
        self._archive = False
        self._project_id: int | None = None
        self._deep = True
        self._scope = Scope(None, False)
        self._scope_key = scope_name(None, True)
        # The change sequence number (store.bulk.current_change_seq) the next refresh reads from.
        self._since = bulk.current_change_seq()
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

    def _tool_button(self, name: str, icon_name: str, tip: str, text: str = "", checkable: bool = False) -> QToolButton:
        button = QToolButton()
        button.setObjectName(name)
        button.setIcon(icons.icon(icon_name))
        button.setToolTip(tip)
        button.setCheckable(checkable)
        if text:
            button.setText(text)
            button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        button.setAutoRaise(True)
        return button

    def _compact_button(self, name: str, icon_name: str, text: str, tip: str) -> CompactToolButton:
        button = CompactToolButton(text)
        button.setObjectName(name)
        button.setIcon(icons.icon(icon_name))
        button.setToolTip(tip)
        button.setAutoRaise(True)
        return button

    def _build_top_bar(self) -> None:
        bar = QWidget()
        bar.setObjectName("topBar")
        layout = QHBoxLayout(bar)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        self.view_mode_buttons: dict[str, QToolButton] = {}
        group = QButtonGroup(self)
        group.setExclusive(True)
        for mode, tip in (("table", "Table view"), ("details", "Details view"), ("comparison", "Comparison view")):
            button = self._tool_button(f"viewMode_{mode}", f"view-{mode}", tip, checkable=True)
            group.addButton(button)
            button.clicked.connect(lambda _c=False, m=mode: self.set_view_mode(m))
            layout.addWidget(button)
            self.view_mode_buttons[mode] = button
        self.view_mode_buttons["table"].setChecked(True)
        layout.addSpacing(10)
        self.title_label = QLabel()
        self.title_label.setObjectName("scopeTitle")
        layout.addWidget(self.title_label)
        layout.addStretch(1)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("searchBox")
        self.search_box.setPlaceholderText("Search name, id, description")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setMinimumWidth(260)
        self.search_box.addAction(icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition)
        self.regex_action = self.search_box.addAction(icons.icon("regex"), QLineEdit.ActionPosition.TrailingPosition)
        self.regex_action.setCheckable(True)
        self.regex_action.setToolTip("Regular expression")
        self.regex_action.toggled.connect(lambda _on: self._apply_search())
        self.search_box.textChanged.connect(lambda _t: self._apply_search())
        layout.addWidget(self.search_box)
        from exptable_desktop.ui.query_box import QueryBox  # the query language: errors and completion
        self.query_box = QueryBox(self, self.search_box, self.regex_action)
        self.clear_filters_button = self._tool_button("clearFiltersButton", "filter-clear", "Clear all filters",
                                                      "Clear filters")
        self.clear_filters_button.clicked.connect(self.clear_filters)
        self.clear_filters_button.setVisible(False)
        layout.addWidget(self.clear_filters_button)
        self.archive_toggle = self._tool_button("archiveToggle", "archive", "Show archived experiments",
                                                "Open archive", checkable=True)
        self.archive_toggle.toggled.connect(self._set_archive_mode)
        layout.addWidget(self.archive_toggle)
        self.auto_refresh_toggle = self._tool_button("autoRefreshToggle", "refresh", "Auto-refresh",
                                                     "Auto-refresh", checkable=True)
        self.auto_refresh_toggle.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        interval_menu = QMenu(self.auto_refresh_toggle)
        for seconds in REFRESH_CHOICES:
            action = interval_menu.addAction(f"Every {seconds:g} s")
            action.triggered.connect(lambda _c=False, s=seconds: self.set_refresh_interval(s))
        interval_menu.addSeparator()
        interval_menu.addAction("Refresh now", self.refresh_now)
        self.auto_refresh_toggle.setMenu(interval_menu)
        self.auto_refresh_toggle.toggled.connect(self._on_auto_refresh_toggled)
        layout.addWidget(self.auto_refresh_toggle)
        self.columns_button = self._tool_button("columnsButton", "columns", "Columns", "Columns")
        self.columns_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.columns_menu = QMenu(self.columns_button)
        self.columns_menu.aboutToShow.connect(self._fill_columns_menu)
        self.columns_button.setMenu(self.columns_menu)
        layout.addWidget(self.columns_button)
        self.workers_queues_button = self._compact_button("workersQueuesButton", "workers", "Workers && Queues",
                                                          "Workers and queues: what runs where, and what waits")
        self.workers_queues_button.clicked.connect(self.open_workers_queues)
        layout.addWidget(self.workers_queues_button)
        self.new_experiment_button = self._compact_button("newExperimentButton", "new-experiment", "New Experiment",
                                                          "Create an experiment in this project (Ctrl+N)")
        self.new_experiment_button.clicked.connect(self.open_new_experiment_wizard)
        if getattr(self, "read_only_reason", None):
            self.new_experiment_button.setEnabled(False)
            self.new_experiment_button.setToolTip(f"Read-only database: {self.read_only_reason}")
        layout.addWidget(self.new_experiment_button)
        self.new_experiment_shortcut = QShortcut(QKeySequence("Ctrl+N"), self, self.open_new_experiment_wizard)
        self.top_bar = bar

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
        refresh = bulk.get_preference(self.user, PREF_REFRESH, {}) or {}
        self._refresh_seconds = float(refresh.get("interval", DEFAULT_REFRESH_SECONDS))
        last = bulk.get_preference(self.user, PREF_LAST_SCOPE, {}) or {}
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
        geometry = bulk.get_preference(self.user, PREF_GEOMETRY)
        if geometry:
            self.restoreGeometry(QByteArray(base64.b64decode(geometry)))
        else:
            self.resize(1400, 820)
        docks = bulk.get_preference(self.user, PREF_DOCKS)
        if not docks:
            self.resizeDocks([self.projects_dock], [PROJECTS_DOCK_WIDTH], Qt.Orientation.Horizontal)
        if docks:
            self.restoreState(QByteArray(base64.b64decode(docks)))
            # The details helper shows its dock when its mode is chosen; start in table mode.
            self.details_dock.hide()

    def save_window_state(self) -> None:
        bulk.set_preference(self.user, PREF_GEOMETRY, base64.b64encode(bytes(self.saveGeometry())).decode())
        bulk.set_preference(self.user, PREF_DOCKS, base64.b64encode(bytes(self.saveState())).decode())
        bulk.set_preference(self.user, PREF_REFRESH, {"enabled": self.auto_refresh_toggle.isChecked(),
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
        state = state_from_dict(bulk.load_saved_view(self.user, self._scope_key), multi)
        self._since = bulk.current_change_seq()
        count = bulk.scope_count(self._scope)
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
                bulk.release_read_cache()
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
        bulk.set_preference(self.user, PREF_LAST_SCOPE, {"project": project_id, "deep": self._deep})
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
        bulk.store_saved_view(self.user, scope_name(project_id, deep), state.to_dict())
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

    def _start_base_loader(self) -> None:
        """Prepare the whole-table read; it starts once the first page has been painted."""
        loader = BaseTableLoader(self._scope)
        loader.sig_done.connect(lambda: self._on_full_table(loader), Qt.ConnectionType.QueuedConnection)
        self._base_loader = loader
        self._rewind_refresh(loader.started_seq)
        # A window that is never shown still gets its table.
        QTimer.singleShot(UNSHOWN_LOAD_DELAY_MS, lambda: self._launch_base_loader(loader))

    def _launch_base_loader(self, loader: BaseTableLoader) -> None:
        if loader is self._base_loader and not loader.isRunning() and not loader.isFinished():
            loader.start()

    def eventFilter(self, watched, event) -> bool:
        # The worker's Python code competes for the GIL with every data() call of a paint: started
        # together, the first page would wait for the whole read. So it starts after that paint.
        if event.type() == QEvent.Type.Resize and self._auto_fit and watched is self.table_view.viewport():
            self._fitting = True
            try:
                self.table_view.fit_name_column()
            finally:
                self._fitting = False
        if event.type() == QEvent.Type.Paint and watched is self.table_view.viewport() \
                and self._base_loader is not None:
            loader = self._base_loader
            QTimer.singleShot(0, lambda: self._launch_base_loader(loader))
        if event.type() == QEvent.Type.Paint and watched is self.table_view.viewport() \
                and self._pending_columns is not None:
            QTimer.singleShot(0, self._launch_pending_columns)
        return False

    def _launch_pending_columns(self) -> None:
        """Start reading the whole custom columns (after the first paint, or when never shown)."""
        if self._pending_columns is not None:
            keys, whole_db = self._pending_columns
            self._pending_columns = None
            self._start_loader(keys, whole_db)

    def _ensure_full_table(self) -> None:
        """Answers about the whole scope need the whole table: finish reading it now if it is on its way."""
        loader = self._base_loader
        if loader is not None:
            self._launch_base_loader(loader)
            loader.wait()
            self._on_full_table(loader)

    def _on_full_table(self, loader: BaseTableLoader) -> None:
        if loader is not self._base_loader:
            return  # installed already, or another project was opened meanwhile
        self._base_loader = None
        self._full_pending = False
        if loader.table is None:
            self.show_message("Could not read the whole table.", details=loader.error)
            return
        table = loader.table
        # Keep what the person changed while the first page was on screen.
        current = self.table_state()
        if self.model.is_show_only_checked():
            table.set_only_ids(self.model.checked)
        # The first page's custom values stay on screen while the whole columns stream in.
        first_page = self.model.table
        table.add_empty_custom_columns(current.custom, partial=True)
        carried = table.slots_for(first_page.alive_ids())
        table.write_custom_rows(carried[carried >= 0], first_page.custom_values_of(current.custom))
        self._install_table(table, current, custom=False)
        loader.table = None
        # Ticks applied to the first page meanwhile may be newer than this read: read them again.
        self._rewind_refresh(loader.started_seq)
        if current.custom:
            self._start_loader(current.custom, covers_most_of_db(table))
        self._update_row_count()
        return_freed_memory()

    def _start_loader(self, keys: list[str], whole_db: bool) -> None:
        loader = ColumnLoader(self._scope, self.model.table, keys, whole_db, self)
        loader.sig_columns_ready.connect(self._install_columns, Qt.ConnectionType.QueuedConnection)
        # Queued after the last batch, so when it runs every column is in.
        loader.finished.connect(lambda: self._on_loader_finished(loader), Qt.ConnectionType.QueuedConnection)
        self._loader = loader
        self._loader_started = loader.started_seq
        loader.start()

    def _stop_loader(self, wait: bool = True) -> None:
        """Drop the loaders' results; ``wait`` for their threads too (before the database closes)."""
        if self._base_loader is not None:
            # One long query that cannot be interrupted: its result is dropped (see _on_full_table).
            self._abandoned.append(self._base_loader)
            self._base_loader = None
        if wait:
            for loader in self._abandoned:
                loader.wait()
        self._abandoned = [loader for loader in self._abandoned if loader.isRunning()]
        self._full_pending = False
        self._pending_columns = None
        if self._loader is not None:
            self._loader.cancel()
            self._loader.wait()
            self._loader = None

    def _on_loader_finished(self, loader: "ColumnLoader") -> None:
        if loader is not self._loader:
            return
        self._loader = None
        if loader.error:
            self.show_message("Could not read every custom column.", details=loader.error)

    def is_loading(self) -> bool:
        """True while the whole table or its custom columns are still on their way."""
        return self._full_pending or self._pending_columns is not None or self._loader is not None

    def _install_columns(self, batch: list[CustomColumnData]) -> None:
        if self.sender() is not self._loader:
            return
        for data in batch:
            if data.key in self.model.keys:
                self.model.install_column_data(data)
        # Rows that changed after the columns were read get their values at the next tick.
        self._rewind_refresh(self._loader_started)
        if batch and batch[-1].key == self._loader.keys[-1]:
            return_freed_memory()

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
        self.project_panel.model.update_counts(bulk.project_counts(on))
        self.open_project(self._project_id, self._deep)
        self.sig_archive_mode_changed.emit(on)

    # ---- Table state: header, sort, filters, persistence ---------------------------------------------

    def _apply_header_state(self, state: TableState) -> None:
        header = self.table_view.horizontalHeader()
        for visual, key in enumerate(state.order):
            logical = self.model.column_of(key)
            if logical < 0:
                continue
            current = header.visualIndex(logical)
            if current != visual:
                header.moveSection(current, visual)
        for logical, spec in enumerate(self.model.specs):
            header.resizeSection(logical, state.widths.get(spec.key) or self.default_width(logical))
            header.setSectionHidden(logical, spec.hideable and spec.key in state.hidden)
        check = self.model.column_of("check")
        header.setSectionResizeMode(check, header.ResizeMode.Fixed)
        header.resizeSection(check, C.BUILTIN_BY_KEY["check"].default_width)
        if header.visualIndex(check) != 0:
            header.moveSection(header.visualIndex(check), 0)
        header.viewport().update()
        self._auto_fit = not state.widths
        if self._auto_fit:
            self.fit_default_widths()

    def _on_section_resized(self, *_args) -> None:
        if not self._fitting and not self._restoring:
            self._auto_fit = False  # the person sized a column: keep their widths from now on
        self._schedule_save()

    def fit_default_widths(self) -> None:
        """Widths nobody chose: every column fitted to its contents, NAME to the room left
        (ExperimentTableView.fit_columns); they follow the table's width until a column is dragged."""
        self._fitting = True
        try:
            self.table_view.fit_columns()
        finally:
            self._fitting = False

    def fit_columns(self) -> None:
        """The "Fit columns" action: every visible column to its contents at once, kept as the layout."""
        self.fit_default_widths()
        self._schedule_save()

    def table_state(self) -> TableState:
        header = self.table_view.horizontalHeader()
        specs = self.model.specs
        order = [specs[header.logicalIndex(v)].key for v in range(header.count())]
        return TableState(
            order=order,
            widths={s.key: header.sectionSize(i) for i, s in enumerate(specs) if not header.isSectionHidden(i)},
            hidden=[s.key for i, s in enumerate(specs) if header.isSectionHidden(i)],
            custom=[s.key for s in specs if s.is_custom],
            sort=[s for s in self.model.table.sort if s[0] != STAR],
            filters={k: f for k, f in self.model.table.filters.items() if k != STAR},
            precise=sorted(self.model.precise),
            starred_first=self.model.table.sort[:1] == [(STAR, False)],
            starred_only=STAR in self.model.table.filters,
        )

    def _schedule_save(self) -> None:
        if not self._restoring:
            self._save_timer.start()

    def _save_table_state(self) -> None:
        self._save_timer.stop()
        bulk.store_saved_view(self.user, self._scope_key, self.table_state().to_dict())

    def _on_sort_clicked(self, logical: int, add: bool) -> None:
        key = self.model.specs[logical].key
        sort = [s for s in self.model.table.sort if s[0] != STAR]  # "Starred first" stays first (set_sort)
        existing = next((i for i, (k, _) in enumerate(sort) if k == key), None)
        if add:
            if existing is None:
                sort.append((key, True))
            else:
                sort[existing] = (key, not sort[existing][1])
        elif existing == 0:
            sort = [(key, not sort[0][1])]
        else:
            sort = [(key, True)]  # the first click sorts descending, as the reference does
        self.set_sort(sort)

    def set_sort(self, sort: list[tuple[str, bool]], *, starred_first: bool | None = None) -> None:
        """Sort by ``sort``; starred rows stay first while "Starred first" is on (or as ``starred_first`` says)."""
        if starred_first is None:
            starred_first = self.model.table.sort[:1] == [(STAR, False)]
        self.model.set_sort(sort)
        if starred_first:  # the star column does not sort from its header: set past set_sort's check
            self.model.table.sort = [(STAR, False)] + [s for s in self.model.table.sort if s[0] != STAR]
            self.model.table.resort()
            self.model.sync_order()
        self.table_view.horizontalHeader().viewport().update()
        self._schedule_save()

    def set_filter(self, key: str, flt) -> None:
        self.model.set_filter(key, flt)
        self._update_filter_marks()
        self._schedule_save()

    def clear_filters(self) -> None:
        self.model.clear_filters()
        self._update_filter_marks()
        self._schedule_save()

    def _update_filter_marks(self) -> None:
        active = set(self.model.table.active_filter_keys())
        header = self.table_view.horizontalHeader()
        header.active_filters = active
        header.viewport().update()
        self.clear_filters_button.setVisible(bool(active))

    def _search_query(self, table=None):
        """The search box's text as the search of ``table`` (default: the one on screen): plain text, a
        regex or a query (ui.query_box); None when empty or wrong (``query_box.error`` says why)."""
        return self.query_box.search_for(self.model.table if table is None else table, self._scope)

    def _apply_search(self) -> None:
        text = self.search_box.text()
        query = self._search_query()
        invalid = bool(text) and query is None
        self.search_box.setProperty("invalid", invalid)
        self.search_box.style().unpolish(self.search_box)
        self.search_box.style().polish(self.search_box)
        self.query_box.show_error()
        if not invalid:
            if query is not None and self.model.is_show_only_checked():
                self.set_show_only_checked(False)  # searching cancels it (feature inventory 5.4)
            self.model.set_search(query)

    # ---- Filter pop-ups --------------------------------------------------------------------------------

    def _on_filter_clicked(self, logical: int, rect: QRect) -> None:
        self.open_filter_popup(self.model.specs[logical].key, rect.topLeft())

    def open_filter_popup(self, key: str, pos: QPoint | None = None) -> FilterPopup:
        spec = C.spec_for(key)
        current = self.model.table.filters.get(key)
        table = self.model.table
        kind = spec.filter_kind
        title = spec.title
        if kind == C.FILTER_VALUES:
            popup = ValueSetPopup(key, title, table.distinct_values(key),
                                  current if isinstance(current, ValueSetFilter) else None, self)
        elif kind == C.FILTER_TAGS:
            popup = TagPopup(key, title, table.distinct_tags(), current if isinstance(current, TagFilter) else None,
                             self)
        elif kind == C.FILTER_DATES:
            popup = DateRangePopup(key, title, current if isinstance(current, RangeFilter) else None, self)
        elif kind == C.FILTER_DURATION:
            popup = DurationRangePopup(key, title, current if isinstance(current, RangeFilter) else None, self)
        elif kind == C.FILTER_RANGE:
            popup = NumberRangePopup(key, title, current if isinstance(current, RangeFilter) else None, self)
        else:
            raise ValueError(f"column {key!r} has no filter")
        popup.setStyleSheet(style_sheet())  # a window of its own: the main window's parts do not pass it on
        popup.sig_changed.connect(self.set_filter)
        if self._popup is not None:
            self._popup.close()
        self._popup = popup
        if pos is None:
            header = self.table_view.horizontalHeader()
            logical = self.model.column_of(key)
            pos = header.mapToGlobal(QPoint(header.sectionViewportPosition(logical), header.height()))
        popup.show_at(pos)
        return popup

    # ---- Columns ------------------------------------------------------------------------------------------

    def _fill_columns_menu(self) -> None:
        menu = self.columns_menu
        menu.clear()
        header = self.table_view.horizontalHeader()
        menu.addSection("Show columns")
        for visual in range(header.count()):
            logical = header.logicalIndex(visual)
            spec = self.model.specs[logical]
            if spec.kind == C.CHECK:
                continue
            action = menu.addAction(spec.title)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(logical))
            if not spec.hideable:
                action.setEnabled(False)  # shown, greyed: the column is always there
                continue
            action.toggled.connect(lambda on, k=spec.key: self.set_column_visible(k, on))
        menu.addSeparator()
        menu.addAction("+ Metrics…", self.open_metrics_dialog)
        menu.addAction("+ Hyperparameters…", self.open_hyperparams_dialog)
        custom = [s for s in self.model.specs if s.is_custom]
        if custom:
            remove = menu.addMenu("Remove custom column")
            for spec in custom:
                remove.addAction(spec.title, lambda k=spec.key: self.remove_custom_column(k))
        metrics = [s for s in custom if s.kind == C.METRIC]
        if metrics:
            precise = menu.addMenu("Show precise values")
            for spec in metrics:
                action = precise.addAction(spec.title)
                action.setCheckable(True)
                action.setChecked(spec.key in self.model.precise)
                action.toggled.connect(lambda on, k=spec.key: self.set_precise(k, on))
        menu.addSeparator()
        fit = menu.addAction("Fit columns", self.fit_columns)
        fit.setToolTip("Every column to its contents; NAME takes the room left")
        menu.addAction("Reset columns to defaults", self.reset_columns)

    def set_column_visible(self, key: str, visible: bool) -> None:
        logical = self.model.column_of(key)
        if logical >= 0:
            if not visible and not self.model.specs[logical].hideable:
                return
            header = self.table_view.horizontalHeader()
            header.setSectionHidden(logical, not visible)
            if visible and header.sectionSize(logical) < 24:
                header.resizeSection(logical, self.default_width(logical))
            self._schedule_save()

    def default_width(self, logical: int) -> int:
        """The column's default width, widened when its header (title, sort mark, funnel) needs more."""
        spec = self.model.specs[logical]
        if spec.kind == C.CHECK:
            return spec.default_width
        header = self.table_view.horizontalHeader()
        return max(spec.default_width, header.sectionSizeFromContents(logical).width())

    def add_custom_columns(self, keys: list[str]) -> None:
        header = self.table_view.horizontalHeader()
        keys = [key for key in dict.fromkeys(keys) if key not in self.model.keys]
        for key in keys:
            logical = self.model.add_column(key)
            header.resizeSection(logical, self.default_width(logical))
            header.setSectionHidden(logical, False)
        table = self.model.table
        for key, rows in load_custom_columns(self._scope, keys, whole_db=covers_most_of_db(table),
                                             expected_rows=table.n):
            self.model.install_column_data(prepare_custom_column(table, key, rows))
        self._schedule_save()

    def remove_custom_column(self, key: str) -> None:
        self.model.remove_column(key)
        self._update_filter_marks()
        self._schedule_save()

    def set_precise(self, key: str, precise: bool) -> None:
        self.model.set_precise(key, precise)
        logical = self.model.column_of(key)
        header = self.table_view.horizontalHeader()
        if precise and logical >= 0 and header.sectionSize(logical) < 200:
            header.resizeSection(logical, 200)
        self._schedule_save()

    def reset_columns(self) -> None:
        for spec in [s for s in self.model.specs if s.is_custom]:
            self.model.remove_column(spec.key)
        state = default_state(self._project_id is None or self._deep)
        self._restoring = True
        self._apply_header_state(state)
        self._restoring = False
        self._schedule_save()

    def _apply_dialog_choice(self, kind: str, chosen: list[str]) -> None:
        current = [s.key for s in self.model.specs if s.kind == kind]
        for key in current:
            if key not in chosen:
                self.remove_custom_column(key)
        self.add_custom_columns([k for k in chosen if k not in current])

    def metrics_dialog(self) -> MetricsDialog:
        selected = {s.key for s in self.model.specs if s.kind == C.METRIC}
        dialog = MetricsDialog(bulk.metric_variants(self._scope), selected, self)
        dialog.setStyleSheet(style_sheet())
        return dialog

    def hyperparams_dialog(self) -> HyperparamsDialog:
        selected = {s.key for s in self.model.specs if s.kind == C.HYPERPARAM}
        dialog = HyperparamsDialog(bulk.hyperparam_names(self._scope), selected, self)
        dialog.setStyleSheet(style_sheet())
        return dialog

    def open_metrics_dialog(self) -> None:
        dialog = self.metrics_dialog()
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._apply_dialog_choice(C.METRIC, dialog.selected_keys())

    def open_hyperparams_dialog(self) -> None:
        dialog = self.hyperparams_dialog()
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._apply_dialog_choice(C.HYPERPARAM, dialog.selected_keys())

    def _header_menu(self, pos: QPoint) -> None:
        header = self.table_view.horizontalHeader()
        logical = header.logicalIndexAt(pos)
        if logical < 0:
            return
        spec = self.model.specs[logical]
        menu = QMenu(self)
        if spec.hideable:
            menu.addAction("Hide column", lambda: self.set_column_visible(spec.key, False))
        if spec.kind != C.CHECK:
            menu.addAction("Fit to contents", lambda: self.table_view.fit_column(logical))
        menu.addAction("Fit columns", self.fit_columns)
        if spec.filter_kind:
            menu.addAction("Filter…", lambda: self.open_filter_popup(spec.key))
            if spec.key in self.model.table.filters:
                menu.addAction("Clear filter", lambda: self.set_filter(spec.key, None))
        if spec.kind == C.METRIC:
            action = menu.addAction("Show precise values")
            action.setCheckable(True)
            action.setChecked(spec.key in self.model.precise)
            action.toggled.connect(lambda on: self.set_precise(spec.key, on))
        if spec.is_custom:
            menu.addAction("Remove column", lambda: self.remove_custom_column(spec.key))
        menu.exec(header.mapToGlobal(pos))

    # ---- Live refresh --------------------------------------------------------------------------------------

    def set_refresh_interval(self, seconds: float) -> None:
        self._refresh_seconds = max(0.5, float(seconds))
        self.refresh_timer.setInterval(int(self._refresh_seconds * 1000))
        self.auto_refresh_toggle.setToolTip(f"Auto-refresh every {self._refresh_seconds:g} s")

    def _on_auto_refresh_toggled(self, on: bool) -> None:
        self.set_refresh_interval(self._refresh_seconds)
        if on:
            self.refresh_timer.start()
        else:
            self.refresh_timer.stop()

    def refresh_now(self) -> None:
        """An incremental refresh, fetched and applied before returning (public API)."""
        self._refresh_sequence += 1
        table = self.model.table
        changes = fetch_changes(self._since, table.custom_keys(), table.parent_ids())
        self._apply_refresh(changes)

    def refresh_in_background(self) -> None:
        """A timer tick: the changes are read on a worker thread; only applying them uses the UI thread."""
        if self._fetcher is not None and self._fetcher.isRunning():
            return  # the previous tick is still reading; it covers this one
        table = self.model.table
        fetcher = RefreshFetcher(self._since, table.custom_keys(), table.parent_ids(), self._refresh_sequence)
        fetcher.sig_fetched.connect(self._on_fetched, Qt.ConnectionType.QueuedConnection)
        fetcher.finished.connect(lambda: self._on_fetcher_finished(fetcher), Qt.ConnectionType.QueuedConnection)
        self._fetcher = fetcher
        fetcher.start()

    def _on_fetcher_finished(self, fetcher: RefreshFetcher) -> None:
        if fetcher.error:
            self.show_message("Auto-refresh could not read the database; it tries again at the next tick.",
                              details=fetcher.error)

    def _on_fetched(self, changes, sequence: int) -> None:
        if sequence != self._refresh_sequence:
            return  # a newer refresh or another scope took over meanwhile
        self._apply_refresh(changes)

    def _rewind_refresh(self, since: int) -> None:
        """Have the next refresh read again every change after ``since``. A fetch already under way
        read from the later cursor and would move it past the changes in between: it is dropped."""
        if since < self._since:
            self._since = since
            self._refresh_sequence += 1

    def _apply_refresh(self, changes) -> None:
        started = time.perf_counter()
        self._since = changes.cursor
        result = self.model.apply_changes(changes, self._scope)
        if len(result.inserted):
            for hook in self.table_hooks:
                hook(self.model.table, result.inserted)
        if len(result.inserted) or len(result.removed) or changes.deleted:
            self.project_panel.model.rebuild(self._archive)
        self.last_refresh_apply_seconds = time.perf_counter() - started
        self.sig_refreshed.emit()

    def _stop_fetcher(self, wait: bool) -> None:
        """Drop the in-flight fetch's result; with ``wait``, also let its thread end (before closing the DB)."""
        self._refresh_sequence += 1
        if wait and self._fetcher is not None:
            self._fetcher.wait()
            self._fetcher = None

    def _tick_clock(self) -> None:
        self.model.tick_clock(*self.table_view.visible_row_range())

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
        close_database()
