"""Support for the action tests: a small main window keeping the window API
(docs/window_api.md), experiment factories and a dialog answerer.

The stand-in reads rows with ``core.queries.list_experiments`` and keeps them
in memory, as the real table does with its column arrays, so the action code
is tested against the contract rather than one table implementation.
"""
from __future__ import annotations

import time

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTableView, QToolButton, QVBoxLayout, QWidget

from exptable_desktop.core import actions as core
from exptable_desktop.core import states as st
from exptable_desktop.core.projects import get_or_create_project
from exptable_desktop.core.queries import NotFound, list_experiments
from exptable_desktop.core.recording import create_experiment
from exptable_desktop.store.db import run_write
from exptable_desktop.store.schema import Experiment


class StandInWindow(QMainWindow):
    sig_checked_changed = Signal()
    sig_current_changed = Signal(str)
    sig_view_mode_changed = Signal(str)
    sig_archive_mode_changed = Signal(bool)
    sig_refreshed = Signal()
    sig_show_only_checked_changed = Signal(bool)

    def __init__(self, db_url: str, project: str | None = None):
        super().__init__()
        self.db_url = db_url
        self.project = project
        self.archive = False
        self.name_filter = ""
        self.only_checked = False
        self.checked: dict[str, None] = {}
        self.rows_by_id: dict[str, dict] = {}
        self.order: list[str] = []
        self.messages: list[tuple[str, object, str | None]] = []
        self.refresh_count = 0
        self.mode = "table"
        self.context_handler = None
        self.activate_handler = None
        central = QWidget()
        self.layout_ = QVBoxLayout(central)
        self.layout_.setContentsMargins(0, 0, 0, 0)
        self.table_view = QTableView()
        self.table_view.setObjectName("experimentsTable")
        self.model = QStandardItemModel(0, 4)
        self.model.setHorizontalHeaderLabels(["", "Name", "Status", "Tags"])
        self.table_view.setModel(self.model)
        self.table_view.verticalHeader().hide()
        self.table_view.setColumnWidth(0, 44)
        self.table_view.setColumnWidth(1, 260)
        self.table_view.horizontalHeader().setStretchLastSection(True)
        self.table_view.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table_view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table_view.customContextMenuRequested.connect(self._context_menu)
        self.layout_.addWidget(self.table_view)
        self.setCentralWidget(central)
        self.details_dock = QDockWidget()
        self.details_dock.setObjectName("detailsDock")
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.details_dock)
        self.details_dock.hide()
        self.view_mode_buttons = {m: QToolButton() for m in ("table", "details", "comparison")}
        self.refresh_now()

    # ---- contract ------------------------------------------------------------------------
    def add_bottom_widget(self, widget):
        self.layout_.addWidget(widget)

    def checked_ids(self):
        return list(self.checked)

    def set_checked(self, ids, checked):
        for i in ids:
            if checked:
                self.checked.setdefault(i, None)
            else:
                self.checked.pop(i, None)
        self._fill()
        self.sig_checked_changed.emit()

    def clear_checked(self):
        self.checked.clear()
        self._fill()
        self.sig_checked_changed.emit()

    def current_experiment_id(self):
        index = self.table_view.currentIndex()
        visible = self.visible_ids()
        return visible[index.row()] if index.isValid() and index.row() < len(visible) else None

    def select_experiment(self, exp_id):
        if exp_id not in self.rows_by_id:
            self.refresh_now()
        visible = self.visible_ids()
        if exp_id in visible:
            self.table_view.setCurrentIndex(self.model.index(visible.index(exp_id), 1))
            self.sig_current_changed.emit(exp_id)

    def filtered_ids(self):
        needle = self.name_filter.lower()
        return [i for i in self.order if needle in self.rows_by_id[i]["name"].lower()]

    def visible_ids(self):
        ids = self.filtered_ids()
        return [i for i in ids if i in self.checked] if self.only_checked else ids

    def scope_ids(self):
        return list(self.order)

    def rows_info(self, ids):
        return [self.rows_by_id[i] for i in ids if i in self.rows_by_id]

    def set_row_context_menu_handler(self, fn):
        self.context_handler = fn

    def set_activate_handler(self, fn):
        self.activate_handler = fn

    def set_view_mode(self, mode):
        self.mode = mode
        self.sig_view_mode_changed.emit(mode)

    def view_mode(self):
        return self.mode

    def refresh_now(self):
        self.refresh_count += 1
        try:
            rows = list_experiments(self.project, archived=self.archive)
        except NotFound:
            rows = []
        self.rows_by_id = {r["id"]: r for r in rows}
        self.order = [r["id"] for r in sorted(rows, key=lambda r: r["name"])]
        self._fill()
        self.sig_refreshed.emit()

    def is_archive_mode(self):
        return self.archive

    def set_archive_mode(self, on):
        self.archive = on
        self.refresh_now()
        self.sig_archive_mode_changed.emit(on)

    def show_message(self, text, undo=None, details=None):
        self.messages.append((text, undo, details))

    def current_project_path(self):
        return self.project

    def set_show_only_checked(self, on):
        self.only_checked = on
        self._fill()
        self.sig_show_only_checked_changed.emit(on)

    def is_show_only_checked(self):
        return bool(getattr(self, "only_checked", False))

    def check_column(self):
        return 0

    # ---- helpers for tests ---------------------------------------------------------------
    def set_filter(self, text):
        self.name_filter = text
        self._fill()

    def _fill(self):
        current = self.current_experiment_id() if self.model.rowCount() else None
        visible = self.visible_ids()
        self.model.setRowCount(0)
        for exp_id in visible[:500]:
            row = self.rows_by_id[exp_id]
            box = QStandardItem("")
            box.setData(Qt.CheckState.Checked if exp_id in self.checked else Qt.CheckState.Unchecked,
                        Qt.ItemDataRole.CheckStateRole)
            box.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            self.model.appendRow([box, QStandardItem(row["name"]), QStandardItem(st.status_label(row["status"])),
                                  QStandardItem(", ".join(row["tags"]))])
        if current in visible[:500]:
            self.table_view.setCurrentIndex(self.model.index(visible.index(current), 1))

    def _context_menu(self, pos):
        index = self.table_view.indexAt(pos)
        if index.isValid() and self.context_handler:
            self.context_handler(self.table_view.viewport().mapToGlobal(pos), self.visible_ids()[index.row()])

    def row_index(self, exp_id) -> QModelIndex:
        return self.model.index(self.visible_ids().index(exp_id), 1)


def make_experiment(name: str, status: str = st.DRAFT, *, project: str = "demo", task_type: str = "training",
                    tags=(), parent: str | None = None, worker: str | None = None) -> str:
    """An experiment in ``status``; Pending ones are really queued (on queue "default")."""
    initial = st.DRAFT if status == st.PENDING else status
    exp_id = create_experiment(project, name, status=initial, task_type=task_type, tags=list(tags), parent=parent)
    if status == st.PENDING:
        assert core.enqueue([exp_id], "default").succeeded == [exp_id]
    if status == st.RUNNING or worker:
        def work():
            Experiment.update(heartbeat=None, worker=worker).where(Experiment.id == exp_id).execute()
        run_write(work)
    return exp_id


def bulk_experiments(n: int, project: str = "big") -> list[str]:
    """``n`` Draft experiments named exp-00000 … in one transaction (setup speed only)."""
    now = time.time()

    def work():
        proj = get_or_create_project(project)
        rows = [{"id": f"{i:032x}", "name": f"exp-{i:05d}", "project": proj.id, "created": now,
                 "last_update": now, "status": st.DRAFT, "user": "tester"} for i in range(n)]
        for start in range(0, n, 500):
            Experiment.insert_many(rows[start:start + 500]).execute()
        return [r["id"] for r in rows]
    return run_write(work)


def snapshot(ids) -> dict[str, tuple]:
    """What an action may change, per experiment: status, archived, project, tags."""
    from exptable_desktop.core.queries import tags_of
    tags = tags_of(list(ids))
    out = {}
    for exp in Experiment.select().where(Experiment.id.in_(list(ids))):
        out[exp.id] = (exp.status, exp.archived, exp.project_id, tuple(tags[exp.id]), exp.status_message)
    return out


class DialogRecorder:
    """Answers every action dialog as a person clicking OK would, and records what was asked."""

    def __init__(self):
        self.calls: list[tuple[str, tuple, dict]] = []
        self.confirm_answer = True
        self.confirm_checked = True
        self.queue = "default"
        self.clone_request = None
        self.project = "moved/here"
        self.tag_colors: dict | None = None

    def named(self, kind):
        return [c for c in self.calls if c[0] == kind]

    def install(self, monkeypatch):
        from exptable_desktop.ui.actions import dialogs

        def confirm(*args, **kwargs):
            self.calls.append(("confirm", args, kwargs))
            return dialogs.Confirmation(self.confirm_answer, self.confirm_checked and bool(kwargs.get("checkbox")))

        def ask_queue(*args, **kwargs):
            self.calls.append(("ask_queue", args, kwargs))
            return self.queue

        def ask_clone(*args, **kwargs):
            self.calls.append(("ask_clone", args, kwargs))
            return self.clone_request

        def ask_project(*args, **kwargs):
            self.calls.append(("ask_project", args, kwargs))
            return self.project

        def ask_tag_colors(*args, **kwargs):
            self.calls.append(("ask_tag_colors", args, kwargs))
            return self.tag_colors

        def show_queue(*args, **kwargs):
            self.calls.append(("show_queue", args, kwargs))

        def show_worker(*args, **kwargs):
            self.calls.append(("show_worker", args, kwargs))

        for name, fn in (("confirm", confirm), ("ask_queue", ask_queue), ("ask_clone", ask_clone),
                         ("ask_project", ask_project), ("ask_tag_colors", ask_tag_colors),
                         ("show_queue", show_queue), ("show_worker", show_worker)):
            monkeypatch.setattr(dialogs, name, fn)
        return self
