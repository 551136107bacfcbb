"""The Workers & Queues window: live workers with their resource use, and the queues with their entries.

Everything it shows comes from ``core.queues`` (the same live-heartbeat rule that tells the Enqueue
dialog "no worker listens to this queue"), and every change goes through it too: reorder, move to
top/bottom or to another queue, dequeue, create/rename/delete a queue. The periodic refresh reads
on a worker thread with its own connection; the UI thread only puts the result on screen. After
a change made here the window reads at once, so what it shows is what the database holds.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractTableModel,
    QByteArray,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    Qt,
    QThread,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QColor, QFont, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import formatting as fmt
from exptable_desktop.core import queues as queue_ops
from exptable_desktop.core import states as st
from exptable_desktop.core.actions import ActionError, ActionResult
from exptable_desktop.core.database import StoreError, close_thread_connection, first_line, read_only_reason
from exptable_desktop.ui.style import style_sheet
from exptable_desktop.ui import palette
from exptable_desktop.ui.palette import themed, translucent
from exptable_desktop.ui.kept_threads import KeptThreads

REFRESH_MS = 5000
STATS_SPAN_S = 3600.0
MIME_ENTRIES = "application/x-exptable-queue-entries"
LINK_COLOUR = QColor(themed("$accent"))
MUTED_COLOUR = QColor(themed("$text_secondary"))
SERIES_COLOURS = dict(zip(("CPU", "Memory", "GPU"), palette.SERIES_COLOURS))
DEFAULT_SIZE = (1080, 660)
WINDOW_STYLE = themed("""
QWidget#workersQueuesWindow { background: $surface; }
QToolButton#moveToQueueButton { padding-right: 16px; }
QToolButton:disabled { color: $text_muted; }
QTabWidget#workersQueuesTabs::pane { border-top: 1px solid $border; }
QTableView { border: 1px solid $border; selection-background-color: $selection; selection-color: $text; }
""")
# Below this width the Queues tab stacks the entries under the queues.
NARROW_WIDTH = 860


# ---- reading (UI thread after a change, a worker thread on the timer) -----------------------------------

@dataclass
class Snapshot:
    """What the window shows, read in one go."""
    queues: list[queue_ops.QueueInfo]
    workers: list[queue_ops.WorkerInfo]
    entries: list[queue_ops.QueueEntryRow]  # of ``queue``
    queue: str | None
    stats: list[tuple[float, dict]]  # of ``worker``, the last hour
    worker: str | None
    read_at: float = field(default_factory=time.time)


def read_snapshot(queue: str | None, worker: str | None) -> Snapshot:
    queues = queue_ops.list_queues()
    names = {q.name for q in queues}
    if queue not in names:
        queue = queues[0].name if queues else None
    workers = queue_ops.list_workers()
    if worker not in {w.name for w in workers}:
        worker = workers[0].name if workers else None
    entries = queue_ops.queue_entries(queue) if queue else []
    stats = queue_ops.worker_stats(worker, since=STATS_SPAN_S) if worker else []
    return Snapshot(queues, workers, entries, queue, stats, worker)


class SnapshotReader(QThread):
    """One refresh's read, on its own database connection."""

    sig_read = Signal(object, int)  # Snapshot, the generation it was started under
    sig_ended = Signal(object, str)  # this reader, why the read failed ("" when it did not)

    def __init__(self, queue: str | None, worker: str | None, generation: int):
        super().__init__()
        self.queue, self.worker, self.generation = queue, worker, generation

    def run(self) -> None:
        error = ""
        try:
            self.sig_read.emit(read_snapshot(self.queue, self.worker), self.generation)
        except Exception as exc:  # the database went away or is locked: shown, and the next tick tries again
            error = first_line(exc)
        finally:
            close_thread_connection()
        self.sig_ended.emit(self, error)


# Readers still running, kept referenced until they end: the window may close (and be freed) first.
_READERS = KeptThreads()


def wait_for_readers(timeout_ms: int = 5000) -> None:
    """Let the background reads end (tests, and before the database closes)."""
    _READERS.wait(timeout_ms)


# ---- models -------------------------------------------------------------------------------------------

class KeyedTableModel(QAbstractTableModel):
    """Rows with a key each; a refresh with the same keys in the same order only repaints,
    so selection and scrolling stay where they are."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.rows: list = []

    def key(self, row) -> str:
        raise NotImplementedError

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation, role=Qt.ItemDataRole.DisplayRole):  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def set_rows(self, rows: Sequence) -> bool:
        """Show ``rows``; True when the set or order of keys changed (the model was reset)."""
        rows = list(rows)
        if [self.key(r) for r in rows] == [self.key(r) for r in self.rows]:
            self.rows = rows
            if rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(self.HEADERS) - 1))
            return False
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()
        return True

    def row_of(self, key: str) -> int:
        for i, row in enumerate(self.rows):
            if self.key(row) == key:
                return i
        return -1

    def key_at(self, row: int) -> str | None:
        return self.key(self.rows[row]) if 0 <= row < len(self.rows) else None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self.rows)) or not (0 <= index.column() < len(self.HEADERS)):
            return None
        return self.cell(self.rows[index.row()], index.column(), role)

    def cell(self, row, column: int, role):
        raise NotImplementedError


def _percent(value) -> str:
    return f"{value:.0f}%" if isinstance(value, (int, float)) else "—"


def _link_roles(role, text: str | None):
    """A cell that reads as a link (it selects the experiment in the table when clicked)."""
    if role == Qt.ItemDataRole.ForegroundRole and text:
        return LINK_COLOUR
    if role == Qt.ItemDataRole.FontRole and text:
        font = QFont()
        font.setUnderline(True)
        return font
    return None


class WorkersModel(KeyedTableModel):
    """The Workers table: a row per live worker with what it runs (a link to it), its queues, uptime, last
    heartbeat and CPU / GPU / memory use."""

    HEADERS = ("Worker", "Running", "Queues", "Uptime", "Heartbeat", "CPU", "GPU", "Memory")
    EXPERIMENT_COLUMN = 1
    UPTIME_COLUMN = 3
    GPU_COLUMN = 6
    WIDTHS = (140, 220, 120, 64, 84, 52, 52, 64)
    NARROW_WIDTHS = (110, 200, 90, 0, 80, 48, 48, 60)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.now = time.time()

    def key(self, row: queue_ops.WorkerInfo) -> str:
        return row.name

    def cell(self, w: queue_ops.WorkerInfo, column: int, role):
        res = w.resources or {}
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return w.name
            if column == 1:
                return w.current_experiment_name or ("—" if not w.current_experiment_id else w.current_experiment_id)
            if column == 2:
                return ", ".join(w.queues)
            if column == 3:
                return fmt.compact_duration(max(0.0, self.now - w.started))
            if column == 4:
                return f"{max(0, round(self.now - w.last_seen))} s ago"
            if column == 5:
                return _percent(res.get("cpu_usage"))
            if column == 6:
                return _percent(res.get("gpu_usage"))
            if column == 7:
                return _percent(res.get("memory_usage"))
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 0:
                return f"{w.name} on {w.host} ({w.status})"
            if column == 1 and w.current_experiment_id:
                return f"Select {w.current_experiment_name or w.current_experiment_id} in the experiments table"
            if column == 4:
                return fmt.exact_date(w.last_seen)
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column >= 3:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if column == 1:
            if role == Qt.ItemDataRole.ForegroundRole and not w.current_experiment_id:
                return MUTED_COLOUR
            return _link_roles(role, w.current_experiment_id)
        return None


class QueuesModel(KeyedTableModel):
    """The Queues table: a row per queue with its pending count, the live workers taking from it (warned when
    none) and the oldest wait."""

    HEADERS = ("Queue", "Pending", "Workers", "Oldest wait")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.now = time.time()

    def key(self, row: queue_ops.QueueInfo) -> str:
        return row.name

    def cell(self, q: queue_ops.QueueInfo, column: int, role):
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return q.name
            if column == 1:
                return str(q.pending)
            if column == 2:
                return ", ".join(q.workers) if q.workers else "none"
            if column == 3:
                return fmt.compact_duration(max(0.0, self.now - q.oldest_added)) if q.oldest_added else "—"
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == 0 and q.next_experiment_name:
                return f"Next to run: {q.next_experiment_name}"
            if column == 2:
                return (f"Live workers taking from it: {', '.join(q.workers)}" if q.workers
                        else "No live worker listens to this queue: its experiments wait until one does")
            if column == 3 and q.oldest_added:
                return f"Waiting since {fmt.exact_date(q.oldest_added)}"
            return None
        if role == Qt.ItemDataRole.ForegroundRole and column == 2 and not q.workers:
            return QColor(themed("$warning"))
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (1, 3):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class QueueEntriesModel(KeyedTableModel):
    """The selected queue's entries in the order agents take them; rows drag to a new place."""

    HEADERS = ("#", "Experiment", "Status", "Project", "User", "Waiting")
    NAME_COLUMN = 1

    def __init__(self, parent=None):
        super().__init__(parent)
        self.now = time.time()
        # Called with (the dragged experiment ids, the row they were dropped at); it moves them in the database.
        self.move_handler: Callable[[list[str], int], None] | None = None
        self.writable = True  # False on a read-only database: rows neither drag nor take drops

    def key(self, row: queue_ops.QueueEntryRow) -> str:
        return row.experiment_id

    def cell(self, e: queue_ops.QueueEntryRow, column: int, role):
        if role == Qt.ItemDataRole.DisplayRole:
            return (str(e.index), e.name, st.status_label(e.status), e.project, e.user,
                    fmt.compact_duration(max(0.0, self.now - e.added)))[column]
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == self.NAME_COLUMN:
                return f"{e.name} ({e.experiment_id}); double-click to select it in the experiments table"
            if column == 5:
                return f"Enqueued {fmt.exact_date(e.added)}"
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (0, 5):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def flags(self, index):
        base = super().flags(index)
        if not self.writable:
            return base
        if index.isValid():
            return base | Qt.ItemFlag.ItemIsDragEnabled
        return base | Qt.ItemFlag.ItemIsDropEnabled  # between rows

    def supportedDropActions(self):  # noqa: N802
        return Qt.DropAction.MoveAction

    def supportedDragActions(self):  # noqa: N802
        return Qt.DropAction.MoveAction

    def mimeTypes(self) -> list[str]:  # noqa: N802
        return [MIME_ENTRIES]

    def mimeData(self, indexes) -> QMimeData:  # noqa: N802
        rows = sorted({i.row() for i in indexes if i.isValid()})
        data = QMimeData()
        data.setData(MIME_ENTRIES, QByteArray("\n".join(self.rows[r].experiment_id for r in rows).encode()))
        return data

    def canDropMimeData(self, data, action, row, column, parent) -> bool:  # noqa: N802
        return (self.writable and data is not None and data.hasFormat(MIME_ENTRIES)
                and action == Qt.DropAction.MoveAction)

    def dropMimeData(self, data, action, row, column, parent) -> bool:  # noqa: N802
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        ids = [i for i in bytes(data.data(MIME_ENTRIES).data()).decode().split("\n") if i]
        if row < 0:
            # Dropped onto a row: before it; onto the empty space below the rows: at the end.
            row = parent.row() if parent.isValid() else len(self.rows)
        if not ids or self.move_handler is None:
            return False
        self.move_handler(ids, row)
        # The rows already moved (the model re-read them), so the view must not remove any.
        return False


# ---- the resource plot --------------------------------------------------------------------------------

def stats_series(stats: Sequence[tuple[float, dict]]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """CPU, GPU (the average over GPUs) and memory use in percent over time; a series with no value is left out."""
    stamps = np.array([t for t, _ in stats], dtype=np.float64)
    out = {}
    for label, key in (("CPU", "cpu_usage"), ("GPU", "gpu_usage"), ("Memory", "memory_usage")):
        values = np.array([d.get(key) if isinstance(d.get(key), (int, float)) else np.nan for _, d in stats],
                          dtype=np.float64)
        if np.isfinite(values).any():
            out[label] = (stamps, values)
    return out


class WorkerStatsPlot(pg.PlotWidget):
    """The selected worker's CPU, GPU and memory use (percent) over the last hour, a curve per resource it
    reported."""

    def __init__(self):
        super().__init__(axisItems={"bottom": pg.DateAxisItem()})
        self.setObjectName("workerStatsPlot")
        self.setBackground(themed("$surface"))
        self.setMinimumHeight(160)
        item = self.getPlotItem()
        item.showGrid(x=True, y=True, alpha=0.15)
        item.setLabel("left", "Use", units="%")
        item.setYRange(0, 100, padding=0.02)
        item.setMouseEnabled(x=True, y=False)
        item.hideButtons()
        self.legend = item.addLegend(offset=(-10, 8), labelTextColor=themed("$text"), brush=translucent("surface", 210))
        self.curves: dict[str, pg.PlotDataItem] = {}
        self.empty_text = pg.TextItem("", color=themed("$text_secondary"), anchor=(0.5, 0.5))
        item.addItem(self.empty_text, ignoreBounds=True)

    def show_stats(self, stats: Sequence[tuple[float, dict]], now: float) -> None:
        series = stats_series(stats)
        for label in list(self.curves):
            if label not in series:
                self.getPlotItem().removeItem(self.curves.pop(label))
                self.legend.removeItem(label)
        for label, (x, y) in series.items():
            curve = self.curves.get(label)
            if curve is None:
                curve = self.plot(name=label, pen=pg.mkPen(SERIES_COLOURS[label], width=1.6))
                self.curves[label] = curve
            curve.setData(x, y, connect="finite")
        self.getPlotItem().setXRange(now - STATS_SPAN_S, now, padding=0.01)
        self.empty_text.setText("" if series else "No resource reports in the last hour")
        self.empty_text.setPos(now - STATS_SPAN_S / 2, 50)


# ---- the window ------------------------------------------------------------------------------------------

def _tool_button(name: str, text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setObjectName(name)
    button.setText(text)
    button.setToolTip(tip)
    button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    button.setAutoRaise(True)
    return button


def _table_view(name: str, model: QAbstractTableModel) -> QTableView:
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(26)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setShowGrid(False)
    view.setWordWrap(False)
    view.setTextElideMode(Qt.TextElideMode.ElideRight)
    view.horizontalHeader().setHighlightSections(False)
    view.horizontalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    view.setMouseTracking(True)
    return view


def _empty_state(name: str, text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName(name)
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setStyleSheet(themed("color: $text_secondary; padding: 24px;"))
    return label


class WorkersQueuesWindow(QWidget):
    """Workers and Queues tabs in a window of its own, kept beside the main window."""

    # An experiment id picked here (a link); the opener selects it in the experiments table.
    sig_experiment_activated = Signal(str)
    # After a change made here (the opener refreshes its table).
    sig_changed = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("workersQueuesWindow")
        self.setWindowTitle("Workers & Queues")
        self._generation = 0
        self._reader: SnapshotReader | None = None
        self._queue: str | None = None
        self._worker: str | None = None
        self._wanted_entry: str | None = None
        self.last_snapshot: Snapshot | None = None

        self.workers_model = WorkersModel(self)
        self.queues_model = QueuesModel(self)
        self.entries_model = QueueEntriesModel(self)
        self.entries_model.move_handler = self.move_entries_to_row

        self.tabs = QTabWidget()
        self.tabs.setObjectName("workersQueuesTabs")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self._build_workers_tab(), "Workers")
        self.tabs.addTab(self._build_queues_tab(), "Queues")
        self.status_label = QLabel()
        self.status_label.setObjectName("workersQueuesStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setStyleSheet(themed("color: $text_secondary; padding: 2px 8px 6px 8px;"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.status_label)
        self.resize(*DEFAULT_SIZE)
        self.setStyleSheet(style_sheet() + WINDOW_STYLE)

        self.refresh_timer = QTimer(self, interval=REFRESH_MS)
        self.refresh_timer.timeout.connect(self.refresh_in_background)
        self.tabs.currentChanged.connect(lambda _i: self._update_buttons())
        self.refresh_now()

    # ---- building ------------------------------------------------------------------------------------

    def _build_workers_tab(self) -> QWidget:
        tab = QWidget()
        tab.setObjectName("workersTab")
        self.workers_view = _table_view("workersTable", self.workers_model)
        header = self.workers_view.horizontalHeader()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(44)
        for column, width in enumerate(WorkersModel.WIDTHS):
            self.workers_view.setColumnWidth(column, width)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.workers_view.clicked.connect(self._on_worker_clicked)
        self.workers_view.selectionModel().currentRowChanged.connect(self._on_worker_current)

        self.workers_empty = _empty_state(
            "workersEmpty", "No worker is running.\nStart one with  exptable agent --queue default  "
            "and it shows here within a few seconds.")
        self.workers_stack = QStackedWidget()
        self.workers_stack.addWidget(self.workers_view)
        self.workers_stack.addWidget(self.workers_empty)

        details = QWidget()
        details.setObjectName("workerDetails")
        box = QVBoxLayout(details)
        box.setContentsMargins(10, 6, 10, 6)
        self.worker_title = QLabel()
        self.worker_title.setObjectName("workerTitle")
        self.worker_title.setTextFormat(Qt.TextFormat.RichText)
        self.worker_title.setWordWrap(True)
        self.worker_title.linkActivated.connect(self._on_link)
        box.addWidget(self.worker_title)
        self.stats_plot = WorkerStatsPlot()
        box.addWidget(self.stats_plot, 1)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("workersSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.workers_stack)
        splitter.addWidget(details)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.workers_splitter = splitter
        return tab

    def _build_queues_tab(self) -> QWidget:
        tab = QWidget()
        tab.setObjectName("queuesTab")
        # Left: the queues.
        self.new_queue_button = _tool_button("newQueueButton", "+ New queue", "Create a queue")
        self.rename_queue_button = _tool_button("renameQueueButton", "Rename", "Rename the selected queue")
        self.delete_queue_button = _tool_button("deleteQueueButton", "Delete",
                                                "Delete the selected queue (only an empty one)")
        self.new_queue_button.clicked.connect(lambda: self.create_queue())
        self.rename_queue_button.clicked.connect(lambda: self.rename_queue())
        self.delete_queue_button.clicked.connect(lambda: self.delete_queue())
        self.queues_view = _table_view("queuesTable", self.queues_model)
        header = self.queues_view.horizontalHeader()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(48)
        for column, width in enumerate((140, 64, 120, 84)):
            self.queues_view.setColumnWidth(column, width)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.queues_view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.queues_view.selectionModel().currentRowChanged.connect(self._on_queue_current)
        self.queues_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.queues_view.customContextMenuRequested.connect(self._queue_menu)
        self.queues_empty = _empty_state("queuesEmpty", "No queues yet. Create one with + New queue, "
                                                        "or enqueue an experiment.")
        self.queues_stack = QStackedWidget()
        self.queues_stack.addWidget(self.queues_view)
        self.queues_stack.addWidget(self.queues_empty)
        left = QWidget()
        left.setObjectName("queuesPane")
        left_box = QVBoxLayout(left)
        left_box.setContentsMargins(6, 6, 6, 0)
        left_box.setSpacing(4)
        bar = QHBoxLayout()
        bar.setSpacing(2)
        for button in (self.new_queue_button, self.rename_queue_button, self.delete_queue_button):
            bar.addWidget(button)
        bar.addStretch(1)
        left_box.addLayout(bar)
        left_box.addWidget(self.queues_stack, 1)

        # Right: the selected queue's entries.
        self.queue_title = QLabel()
        self.queue_title.setObjectName("queueTitle")
        self.queue_title.setWordWrap(True)
        self.top_button = _tool_button("moveTopButton", "⤒ Top", "Move the selected entries to the top (Ctrl+Home)")
        self.bottom_button = _tool_button("moveBottomButton", "⤓ Bottom",
                                          "Move the selected entries to the bottom (Ctrl+End)")
        self.move_queue_button = _tool_button("moveToQueueButton", "Move to queue", "Move the selected entries to "
                                                                                     "the end of another queue")
        self.move_queue_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.move_queue_menu = QMenu(self.move_queue_button)
        self.move_queue_menu.setObjectName("moveToQueueMenu")
        self.move_queue_menu.aboutToShow.connect(lambda: self._fill_move_menu(self.move_queue_menu))
        self.move_queue_button.setMenu(self.move_queue_menu)
        self.remove_button = _tool_button("removeFromQueueButton", "Remove",
                                          "Dequeue the selected entries: they return to Draft (Delete)")
        self.top_button.clicked.connect(self.move_selected_to_top)
        self.bottom_button.clicked.connect(self.move_selected_to_bottom)
        self.remove_button.clicked.connect(self.remove_selected)
        self.entries_view = _table_view("queueEntriesTable", self.entries_model)
        header = self.entries_view.horizontalHeader()
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(36)
        for column, width in enumerate((36, 220, 72, 120, 80, 64)):
            self.entries_view.setColumnWidth(column, width)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.entries_view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.entries_view.setDragEnabled(True)
        self.entries_view.setAcceptDrops(True)
        self.entries_view.setDropIndicatorShown(True)
        self.entries_view.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.entries_view.setDragDropOverwriteMode(False)
        self.entries_view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.entries_view.doubleClicked.connect(self._on_entry_activated)
        self.entries_view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        self.entries_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.entries_view.customContextMenuRequested.connect(self._entry_menu)
        self.entries_empty = _empty_state("queueEntriesEmpty", "No experiments are waiting in this queue.")
        self.entries_stack = QStackedWidget()
        self.entries_stack.addWidget(self.entries_view)
        self.entries_stack.addWidget(self.entries_empty)
        for key, slot in ((QKeySequence("Ctrl+Home"), self.move_selected_to_top),
                          (QKeySequence("Ctrl+End"), self.move_selected_to_bottom),
                          (QKeySequence(QKeySequence.StandardKey.Delete), self.remove_selected)):
            action = QAction(self.entries_view)
            action.setShortcut(key)
            action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
            action.triggered.connect(slot)
            self.entries_view.addAction(action)

        right = QWidget()
        right.setObjectName("queueEntriesPane")
        right_box = QVBoxLayout(right)
        right_box.setContentsMargins(6, 6, 6, 0)
        right_box.setSpacing(4)
        entry_bar = QHBoxLayout()
        entry_bar.setSpacing(2)
        for button in (self.top_button, self.bottom_button, self.move_queue_button, self.remove_button):
            entry_bar.addWidget(button)
        entry_bar.addStretch(1)
        right_box.addWidget(self.queue_title)
        right_box.addLayout(entry_bar)
        right_box.addWidget(self.entries_stack, 1)
        hint = QLabel("Drag entries to change the order agents take them in.")
        hint.setObjectName("queueEntriesHint")
        hint.setStyleSheet(themed("color: $text_secondary;"))
        right_box.addWidget(hint)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.setObjectName("queuesSplitter")
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        splitter.setSizes([420, 640])
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self.queues_splitter = splitter
        return tab

    # ---- showing what was read ---------------------------------------------------------------------

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        # Narrow: the entries go under the queues, where they keep the window's whole width.
        narrow = self.width() < NARROW_WIDTH
        orientation = Qt.Orientation.Vertical if narrow else Qt.Orientation.Horizontal
        if self.workers_view.isColumnHidden(WorkersModel.UPTIME_COLUMN) != narrow:
            # The uptime is in the worker's line under the table too; narrow, the experiment's name needs the room.
            self.workers_view.setColumnHidden(WorkersModel.UPTIME_COLUMN, narrow)
            for column, width in enumerate(WorkersModel.NARROW_WIDTHS if narrow else WorkersModel.WIDTHS):
                if width and column != WorkersModel.EXPERIMENT_COLUMN:
                    self.workers_view.setColumnWidth(column, width)
        if self.queues_splitter.orientation() != orientation:
            self.queues_splitter.setOrientation(orientation)
            total = self.queues_splitter.height() if narrow else self.queues_splitter.width()
            self.queues_splitter.setSizes([int(total * 0.32), int(total * 0.68)] if narrow
                                          else [int(total * 0.4), int(total * 0.6)])

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        self.refresh_timer.start()

    def hideEvent(self, event) -> None:  # noqa: N802
        super().hideEvent(event)
        self.refresh_timer.stop()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.refresh_timer.stop()
        super().closeEvent(event)

    def refresh_now(self) -> None:
        """Read and show at once (after a change made here, and when opened)."""
        self._generation += 1
        try:
            snapshot = read_snapshot(self._queue, self._worker)
        except (StoreError, ActionError) as exc:
            self.status_label.setText(f"Could not read the workers and queues: {first_line(exc)}")
            return
        self._apply(snapshot)

    def refresh_in_background(self) -> None:
        if self._reader is not None and self._reader.isRunning():
            return  # the previous read is slow; skip a tick rather than pile them up
        self._generation += 1
        reader = SnapshotReader(self._queue, self._worker, self._generation)
        reader.sig_read.connect(self._on_read)
        reader.sig_ended.connect(self._on_reader_ended)
        _READERS.add(reader)

        def forget():
            # One slot, discard first: see new_experiment_wizard.BackgroundCall.start_call.
            _READERS.discard(reader)
            reader.deleteLater()
        reader.finished.connect(forget)
        self._reader = reader
        reader.start()

    def _on_reader_ended(self, reader: SnapshotReader, error: str) -> None:
        if error:
            self.status_label.setText(f"Could not read the workers and queues: {error}")
        if self._reader is reader:
            self._reader = None

    def is_reading(self) -> bool:
        """Whether a background read is under way."""
        return self._reader is not None

    def _on_read(self, snapshot: Snapshot, generation: int) -> None:
        # A change made here, or another queue or worker picked, since the read began makes it stale.
        if generation == self._generation:
            self._apply(snapshot)

    def _apply(self, snapshot: Snapshot) -> None:
        self.last_snapshot = snapshot
        now = snapshot.read_at
        for model in (self.workers_model, self.queues_model, self.entries_model):
            model.now = now
        self._queue, self._worker = snapshot.queue, snapshot.worker

        self.workers_model.set_rows(snapshot.workers)
        has_gpu = any((w.resources or {}).get("gpu_usage") is not None for w in snapshot.workers)
        self.workers_view.setColumnHidden(WorkersModel.GPU_COLUMN, not has_gpu)
        self._select_row(self.workers_view, self.workers_model.row_of(snapshot.worker) if snapshot.worker else -1)
        self.workers_stack.setCurrentWidget(self.workers_view if snapshot.workers else self.workers_empty)
        self._show_worker_details(snapshot)

        self.queues_model.set_rows(snapshot.queues)
        self._select_row(self.queues_view, self.queues_model.row_of(snapshot.queue) if snapshot.queue else -1)
        self.queues_stack.setCurrentWidget(self.queues_view if snapshot.queues else self.queues_empty)

        selected = self.selected_entry_ids()
        reset = self.entries_model.set_rows(snapshot.entries)
        wanted, self._wanted_entry = self._wanted_entry, None
        if wanted is not None:
            self._select_entries([wanted])
        elif reset:
            self._select_entries(selected)
        self.entries_stack.setCurrentWidget(self.entries_view if snapshot.entries or not snapshot.queue
                                            else self.entries_empty)
        self._show_queue_title(snapshot)
        self._update_buttons()

    def _show_worker_details(self, snapshot: Snapshot) -> None:
        worker = next((w for w in snapshot.workers if w.name == snapshot.worker), None)
        if worker is None:
            self.worker_title.setText(themed("<span style='color:$text_secondary'>Select a worker to see its resource use.</span>"))
            self.stats_plot.show_stats([], snapshot.read_at)
            return
        running = (f"running <a href='exp:{worker.current_experiment_id}'>"
                   f"{_html(worker.current_experiment_name or worker.current_experiment_id)}</a>"
                   if worker.current_experiment_id else "idle")
        queues = ", ".join(worker.queues) or "no queue"
        self.worker_title.setText(themed(f"<b>{_html(worker.name)}</b> on {_html(worker.host)} · {running} · "
                                  f"listens to {_html(queues)} · up {_html(fmt.compact_duration(snapshot.read_at - worker.started))}"
                                  "<br><span style='color:$text_secondary'>CPU, GPU and memory use over the last hour</span>"))
        self.stats_plot.show_stats(snapshot.stats, snapshot.read_at)

    def _show_queue_title(self, snapshot: Snapshot) -> None:
        info = next((q for q in snapshot.queues if q.name == snapshot.queue), None)
        if info is None:
            self.queue_title.setText(themed("<span style='color:$text_secondary'>Select a queue to see its entries.</span>"))
            return
        workers = (", ".join(info.workers) if info.workers
                   else themed("<span style='color:$warning'>no worker listens to it</span>"))
        self.queue_title.setText(f"<b>{_html(info.name)}</b> · {info.pending} pending · workers: {workers}")

    def _select_row(self, view: QTableView, row: int) -> None:
        selection = view.selectionModel()
        if row < 0 or (selection.currentIndex().row() == row and selection.isRowSelected(row, QModelIndex())):
            return
        selection.setCurrentIndex(view.model().index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                                  | QItemSelectionModel.SelectionFlag.Rows)

    def _select_entries(self, ids: Sequence[str]) -> None:
        selection = self.entries_view.selectionModel()
        selection.clearSelection()
        first = True
        for exp_id in ids:
            row = self.entries_model.row_of(exp_id)
            if row < 0:
                continue
            flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
            if first:
                selection.setCurrentIndex(self.entries_model.index(row, 0), flags)
                self.entries_view.scrollTo(self.entries_model.index(row, 0))
                first = False
            else:
                selection.select(self.entries_model.index(row, 0), flags)

    def _editing_buttons(self) -> tuple[QToolButton, ...]:
        return (self.new_queue_button, self.rename_queue_button, self.delete_queue_button, self.top_button,
                self.bottom_button, self.move_queue_button, self.remove_button)

    def _update_buttons(self) -> None:
        locked = read_only_reason()
        writable = locked is None
        self.entries_model.writable = writable
        self.entries_view.setDragEnabled(writable)
        self.entries_view.setAcceptDrops(writable)
        has_queue = self._queue is not None
        has_entries = bool(self.selected_entry_ids())
        info = next((q for q in (self.last_snapshot.queues if self.last_snapshot else []) if q.name == self._queue),
                    None)
        for button in self._editing_buttons():
            # Each button's own tooltip, kept aside while a read-only reason stands in for it.
            if button.property("writableTip") is None:
                button.setProperty("writableTip", button.toolTip())
            button.setToolTip(button.property("writableTip"))
        self.new_queue_button.setEnabled(writable)
        self.rename_queue_button.setEnabled(writable and has_queue)
        self.delete_queue_button.setEnabled(writable and has_queue and info is not None and info.pending == 0)
        if info is not None and info.pending:
            self.delete_queue_button.setToolTip("Only an empty queue can be deleted: dequeue or move its entries "
                                                "first")
        for button in (self.top_button, self.bottom_button, self.move_queue_button, self.remove_button):
            button.setEnabled(writable and has_entries)
        if locked:
            for button in self._editing_buttons():
                button.setToolTip(f"{button.text()}: {locked}")

    def _refused_read_only(self) -> bool:
        """On a read-only database: say so and refuse (the keys and menus reach here, not only the buttons)."""
        locked = read_only_reason()
        if locked:
            self.status_label.setText(locked)
        return locked is not None

    # ---- selection ----------------------------------------------------------------------------------

    def _on_worker_current(self, current, _previous) -> None:
        name = self.workers_model.key_at(current.row()) if current.isValid() else None
        if name and name != self._worker:
            self._worker = name
            self.refresh_now()

    def _on_queue_current(self, current, _previous) -> None:
        name = self.queues_model.key_at(current.row()) if current.isValid() else None
        if name and name != self._queue:
            self._queue = name
            self.entries_view.selectionModel().clearSelection()
            self.refresh_now()

    def _on_worker_clicked(self, index) -> None:
        if index.column() == WorkersModel.EXPERIMENT_COLUMN:
            worker = self.workers_model.rows[index.row()]
            if worker.current_experiment_id:
                self.sig_experiment_activated.emit(worker.current_experiment_id)

    def _on_entry_activated(self, index) -> None:
        if index.isValid():
            self.sig_experiment_activated.emit(self.entries_model.rows[index.row()].experiment_id)

    def _on_link(self, href: str) -> None:
        if href.startswith("exp:"):
            self.sig_experiment_activated.emit(href[4:])

    def select_queue(self, name: str, experiment_id: str | None = None) -> None:
        """Show the Queues tab on ``name``, with ``experiment_id``'s entry selected."""
        self.tabs.setCurrentIndex(1)
        self._queue = name
        self._wanted_entry = experiment_id
        self.entries_view.selectionModel().clearSelection()
        self.refresh_now()
        if experiment_id and experiment_id not in self.selected_entry_ids():
            self.status_label.setText(f'The experiment is no longer waiting in "{name}"')

    def select_worker(self, name: str) -> None:
        """Show the Workers tab on ``name``; a worker no longer live is said so."""
        self.tabs.setCurrentIndex(0)
        self._worker = name
        self.refresh_now()
        if self._worker != name:
            self.status_label.setText(f'Worker "{name}" is not running: no heartbeat for more than '
                                      f"{queue_ops.worker_timeout():.0f} s")

    def selected_queue(self) -> str | None:
        return self._queue

    def selected_worker(self) -> str | None:
        return self._worker

    def selected_entry_ids(self) -> list[str]:
        rows = sorted({i.row() for i in self.entries_view.selectionModel().selectedRows()})
        return [self.entries_model.rows[r].experiment_id for r in rows if r < len(self.entries_model.rows)]

    # ---- changes ----------------------------------------------------------------------------------

    def _report(self, result: ActionResult, text: str, keep_selected: Sequence[str] = ()) -> ActionResult:
        reasons = "; ".join(f"{reason} ({len(ids)})" for reason, ids in result.reasons().items())
        self.status_label.setText(text + (f" — not done: {reasons}" if reasons else ""))
        self._wanted_entry = None
        self.refresh_now()
        if keep_selected:
            self._select_entries(keep_selected)
        self.sig_changed.emit()
        return result

    def _run(self, fn: Callable[[], ActionResult], text: Callable[[ActionResult], str],
             keep_selected: Sequence[str] = ()) -> ActionResult | None:
        try:
            result = fn()
        except (ActionError, StoreError) as exc:
            self.status_label.setText(f"Not done: {first_line(exc)}")
            self.refresh_now()
            return None
        return self._report(result, text(result), keep_selected)

    def move_entries_to_row(self, ids: Sequence[str], row: int) -> None:
        """Move entries so the first lands at ``row`` of the queue as shown now (a drop between rows)."""
        ids = [i for i in ids if self.entries_model.row_of(i) >= 0]
        if not ids or self._refused_read_only():
            return
        order = [r.experiment_id for r in self.entries_model.rows]
        # Rows above the drop point that move away shift the target up by one each.
        target = row - sum(1 for i in ids if order.index(i) < row)
        moved = set(ids)
        ordered = [i for i in order if i in moved]

        self._run(lambda: queue_ops.move_entries(ordered, target),
                  lambda r: f"Moved {_noun(len(r.succeeded))} to place {target + 1}", ordered)

    def move_selected_to_top(self) -> ActionResult | None:
        ids = self.selected_entry_ids()
        if not ids or self._refused_read_only():
            return None
        return self._run(lambda: queue_ops.move_to_top(ids), lambda r: f"Moved {_noun(len(r.succeeded))} to the top",
                         ids)

    def move_selected_to_bottom(self) -> ActionResult | None:
        ids = self.selected_entry_ids()
        if not ids or self._refused_read_only():
            return None
        return self._run(lambda: queue_ops.move_to_bottom(ids),
                         lambda r: f"Moved {_noun(len(r.succeeded))} to the bottom", ids)

    def move_selected_to_queue(self, queue: str) -> ActionResult | None:
        ids = self.selected_entry_ids()
        if not ids or not queue or self._refused_read_only():
            return None
        return self._run(lambda: queue_ops.move_to_queue(ids, queue),
                         lambda r: f'Moved {_noun(len(r.succeeded))} to the end of "{queue}"')

    def remove_selected(self) -> ActionResult | None:
        ids = self.selected_entry_ids()
        if not ids or self._refused_read_only():
            return None
        return self._run(lambda: queue_ops.remove_entries(ids),
                         lambda r: f"Removed {_noun(len(r.succeeded))} from the queue (back to Draft or their "
                                   "earlier status)")

    def _fill_move_menu(self, menu: QMenu) -> None:
        menu.clear()
        others = [q.name for q in (self.last_snapshot.queues if self.last_snapshot else []) if q.name != self._queue]
        for name in others:
            menu.addAction(name, lambda n=name: self.move_selected_to_queue(n))
        if others:
            menu.addSeparator()
        menu.addAction("New queue…", self._move_to_new_queue)
        if read_only_reason():
            for action in menu.actions():
                action.setEnabled(False)

    def _move_to_new_queue(self) -> None:
        if self._refused_read_only():
            return
        name = self.ask_text("Move to a new queue", "Name of the new queue:")
        if name:
            self.move_selected_to_queue(name)

    def _entry_menu(self, pos) -> None:
        if not self.selected_entry_ids():
            return
        menu = QMenu(self.entries_view)
        menu.setObjectName("queueEntryMenu")
        menu.addAction("Move to top", self.move_selected_to_top)
        menu.addAction("Move to bottom", self.move_selected_to_bottom)
        move = menu.addMenu("Move to queue")
        self._fill_move_menu(move)
        menu.addSeparator()
        menu.addAction("Remove from queue", self.remove_selected)
        if read_only_reason():
            for action in menu.actions():
                action.setEnabled(False)
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(self.entries_view.viewport().mapToGlobal(pos))

    def _queue_menu(self, pos) -> None:
        menu = QMenu(self.queues_view)
        menu.setObjectName("queueMenu")
        menu.addAction("New queue…", lambda: self.create_queue()).setEnabled(self.new_queue_button.isEnabled())
        if self._queue:
            menu.addAction("Rename…", lambda: self.rename_queue()).setEnabled(self.rename_queue_button.isEnabled())
            delete = menu.addAction("Delete", lambda: self.delete_queue())
            delete.setEnabled(self.delete_queue_button.isEnabled())
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(self.queues_view.viewport().mapToGlobal(pos))

    def create_queue(self, name: str | None = None) -> str | None:
        if self._refused_read_only():
            return None
        name = self.ask_text("New queue", "Queue name:") if name is None else name
        if not name:
            return None
        try:
            created = queue_ops.create_queue(name)
        except (ActionError, StoreError) as exc:
            self.status_label.setText(f"Not created: {first_line(exc)}")
            return None
        self.status_label.setText(f'Queue "{created}" created')
        self._queue = created
        self.refresh_now()
        self.sig_changed.emit()
        return created

    def rename_queue(self, new: str | None = None) -> str | None:
        old = self._queue
        if not old or self._refused_read_only():
            return None
        new = self.ask_text("Rename queue", f'New name for "{old}":', old) if new is None else new
        if not new or new.strip() == old:
            return None
        try:
            renamed = queue_ops.rename_queue(old, new)
        except (ActionError, StoreError) as exc:
            self.status_label.setText(f"Not renamed: {first_line(exc)}")
            return None
        self.status_label.setText(f'Queue "{old}" renamed to "{renamed}"')
        self._queue = renamed
        self.refresh_now()
        self.sig_changed.emit()
        return renamed

    def delete_queue(self) -> bool:
        name = self._queue
        if not name or self._refused_read_only() or not self.confirm("Delete queue", f'Delete the queue "{name}"?'):
            return False
        try:
            queue_ops.delete_queue(name)
        except (ActionError, StoreError) as exc:
            self.status_label.setText(f"Not deleted: {first_line(exc)}")
            self.refresh_now()
            return False
        self.status_label.setText(f'Queue "{name}" deleted')
        self._queue = None
        self.refresh_now()
        self.sig_changed.emit()
        return True

    # The questions this window asks; tests replace them.
    def ask_text(self, title: str, label: str, text: str = "") -> str | None:
        from exptable_desktop.ui.actions.dialogs import ask_text
        return ask_text(self, title, label, text, problem=lambda value: "" if value.strip() else "a queue needs a name")

    def confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text,
                                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        return answer == QMessageBox.StandardButton.Yes


def _noun(n: int) -> str:
    return "1 experiment" if n == 1 else f"{n} experiments"


def _html(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# ---- opening it ---------------------------------------------------------------------------------------------

def workers_queues_window(window: QWidget | None) -> WorkersQueuesWindow:
    """The main window's Workers & Queues window (made on first use), shown and raised.

    Links in it select the experiment in ``window``'s table (``select_experiment``), and changes
    made in it refresh that table (``refresh_now``), when the window has them.
    """
    found = None if window is None else window.findChild(
        WorkersQueuesWindow, "workersQueuesWindow", Qt.FindChildOption.FindDirectChildrenOnly)
    if found is None:
        found = WorkersQueuesWindow(window)
        if hasattr(window, "select_experiment"):
            def select(exp_id: str, table=window, here=found) -> None:
                if table.select_experiment(exp_id) is False:
                    here.status_label.setText("That experiment is not in the table's current project, archive "
                                              "view or filters")
            found.sig_experiment_activated.connect(select)
        if hasattr(window, "refresh_now"):
            found.sig_changed.connect(window.refresh_now)
    if not found.isVisible():
        found.show()
    found.raise_()
    found.activateWindow()
    return found


def show_queue(window: QWidget | None, queue: str, experiment_id: str | None = None) -> WorkersQueuesWindow:
    found = workers_queues_window(window)
    found.select_queue(queue, experiment_id)
    return found


def show_worker(window: QWidget | None, worker: str) -> WorkersQueuesWindow:
    found = workers_queues_window(window)
    found.select_worker(worker)
    return found
