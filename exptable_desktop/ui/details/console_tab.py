"""CONSOLE: a lazily loaded log with a regex filter, jump to end and save to file."""
from __future__ import annotations

import re
from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFontMetrics, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QHeaderView,
    QTableView,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
)

from exptable_desktop.core import details as data
from exptable_desktop.ui.details.common import DetailsTab, empty_state, monospace_font
from exptable_desktop.ui.palette import themed

# The reference loads 1000 lines at a time (LOG_BATCH_SIZE).
BLOCK_LINES = 1000
CACHED_BLOCKS = 64
LEVEL_COLOURS = {"error": QColor(themed("$danger")), "stderr": QColor(themed("$danger")), "critical": QColor(themed("$danger")),
                 "warning": QColor(themed("$warning")), "debug": QColor(themed("$text_muted"))}


class ConsoleModel(QAbstractListModel):
    """One row per log line (or per matching line while a filter is on).

    Only the row count is known up front; text is read from the database in
    blocks of 1000 lines when the view asks for a row, and a few dozen blocks
    are kept. A million-line log therefore opens in one count query.
    """

    def __init__(self, parent=None):
        super().__init__(parent)
        self._experiment_id: str | None = None
        self._total = 0
        self._matches: np.ndarray | None = None
        self._pattern: re.Pattern | None = None
        self._blocks: OrderedDict[int, list[tuple[str, str]]] = OrderedDict()

    # -- Source ---------------------------------------------------------------------
    def set_experiment(self, experiment_id: str | None) -> None:
        self.beginResetModel()
        self._experiment_id = experiment_id
        self._total = data.console_line_count(experiment_id) if experiment_id else 0
        self._blocks.clear()
        self._matches = None
        if self._pattern is not None and experiment_id:
            self._matches = data.console_matches(experiment_id, self._pattern)
        self.endResetModel()

    def set_filter(self, pattern: re.Pattern | None) -> None:
        self.beginResetModel()
        self._pattern = pattern
        self._matches = (data.console_matches(self._experiment_id, pattern)
                         if pattern is not None and self._experiment_id else None)
        self.endResetModel()

    def grow(self) -> int:
        """Take in lines written since the last look; returns how many rows were added."""
        if not self._experiment_id:
            return 0
        new_total = data.console_line_count(self._experiment_id)
        if new_total <= self._total:
            return 0
        old_total = self._total
        # The last block was read while it was partial.
        self._blocks.pop(old_total // BLOCK_LINES, None)
        if self._matches is None:
            self.beginInsertRows(QModelIndex(), old_total, new_total - 1)
            self._total = new_total
            self.endInsertRows()
            return new_total - old_total
        self._total = new_total
        found = data.console_matches(self._experiment_id, self._pattern, start_line=old_total)
        found = found[found < new_total]
        if len(found) == 0:
            return 0
        start = len(self._matches)
        self.beginInsertRows(QModelIndex(), start, start + len(found) - 1)
        self._matches = np.concatenate([self._matches, found])
        self.endInsertRows()
        return len(found)

    @property
    def is_filtered(self) -> bool:
        return self._matches is not None

    @property
    def total_lines(self) -> int:
        return self._total

    def line_number(self, row: int) -> int:
        return int(self._matches[row]) if self._matches is not None else row

    def line(self, number: int) -> tuple[str, str]:
        block_index = number // BLOCK_LINES
        block = self._blocks.get(block_index)
        if block is None:
            block = data.console_window(self._experiment_id, block_index * BLOCK_LINES, BLOCK_LINES)
            self._blocks[block_index] = block
            while len(self._blocks) > CACHED_BLOCKS:
                self._blocks.popitem(last=False)
        else:
            self._blocks.move_to_end(block_index)
        offset = number - block_index * BLOCK_LINES
        return block[offset] if offset < len(block) else ("info", "")

    # -- Qt model ----------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        if parent.isValid():
            return 0
        return len(self._matches) if self._matches is not None else self._total

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= self.rowCount():
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.line(self.line_number(index.row()))[1]
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = LEVEL_COLOURS.get(self.line(self.line_number(index.row()))[0])
            return QBrush(colour) if colour is not None else None
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"Line {self.line_number(index.row()) + 1}"
        return None


class ConsoleTab(DetailsTab):
    """The details panel's CONSOLE tab: the log read lazily and followed live while scrolled to the end, with a
    regex filter, jump to end, copy and save to file."""

    title = "CONSOLE"

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("consoleTab")
        self.model = ConsoleModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        bar = QHBoxLayout()
        self.host_label = QLabel()
        self.host_label.setStyleSheet(themed("color: $text_secondary;"))
        bar.addWidget(self.host_label)
        bar.addStretch(1)
        self.filter_box = QLineEdit()
        self.filter_box.setObjectName("consoleFilter")
        self.filter_box.setPlaceholderText("Filter by regex")
        self.filter_box.setClearButtonEnabled(True)
        self.filter_box.setMinimumWidth(220)
        bar.addWidget(self.filter_box)
        self.end_button = QPushButton("Jump to end")
        self.end_button.setObjectName("consoleJumpToEnd")
        self.save_button = QPushButton("Save to file…")
        self.save_button.setObjectName("consoleSave")
        bar.addWidget(self.end_button)
        bar.addWidget(self.save_button)
        layout.addLayout(bar)
        self.stack = QStackedWidget()
        # A table, not a list: QListView visits every row on layout (1.7 s for a
        # million lines), a table with fixed-height rows computes positions.
        self.view = QTableView()
        self.view.setObjectName("consoleView")
        self.view.setModel(self.model)
        self.view.setFont(monospace_font())
        self.view.horizontalHeader().hide()
        self.view.verticalHeader().hide()
        self.view.horizontalHeader().setStretchLastSection(True)
        rows = self.view.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        rows.setDefaultSectionSize(QFontMetrics(self.view.font()).height() + 2)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setStyleSheet(themed("QTableView { background: $surface_alt; border: 1px solid $border_soft; }"))
        self.empty_label = empty_state("No log data", "What the experiment prints (stdout and stderr) appears here, "
                                                      "live while it runs.")
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty_label)
        layout.addWidget(self.stack, 1)
        self.status_label = QLabel()
        self.status_label.setStyleSheet(themed("color: $text_muted;"))
        layout.addWidget(self.status_label)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(300)
        self._filter_timer.timeout.connect(self.apply_filter)
        self.filter_box.textChanged.connect(self._filter_timer.start)
        self.end_button.clicked.connect(self.jump_to_end)
        self.save_button.clicked.connect(self._ask_save)
        QShortcut(QKeySequence.StandardKey.Copy, self.view, self.copy_selection)

    def load(self, experiment_id: str | None) -> None:
        self.experiment_id = experiment_id
        self.model.set_experiment(experiment_id)
        host = data.console_hostname(experiment_id) if experiment_id else ""
        self.host_label.setText(f"Hostname: {host}" if host else "")
        self._update_state()
        self.view.scrollToBottom()

    def refresh(self) -> None:
        if self.experiment_id is None:
            return
        bar = self.view.verticalScrollBar()
        following = bar.value() >= bar.maximum() - 2
        if self.model.grow():
            self._update_state()
            if following:
                self.view.scrollToBottom()

    def _update_state(self) -> None:
        has_lines = self.model.total_lines > 0
        self.stack.setCurrentWidget(self.view if has_lines else self.empty_label)
        shown = self.model.rowCount()
        if self.model.is_filtered:
            self.status_label.setText(f"{shown:,} of {self.model.total_lines:,} lines match")
        else:
            self.status_label.setText(f"{self.model.total_lines:,} lines" if has_lines else "")

    def apply_filter(self) -> None:
        text = self.filter_box.text()
        if not text:
            self.filter_box.setStyleSheet("")
            self.model.set_filter(None)
        else:
            try:
                pattern = re.compile(text)
            except re.error as exc:
                self.filter_box.setStyleSheet(themed("QLineEdit { border: 1px solid $danger; }"))
                self.status_label.setText(f"Invalid regex: {exc}")
                return
            self.filter_box.setStyleSheet("")
            self.model.set_filter(pattern)
        self._update_state()
        self.view.scrollToBottom()

    def jump_to_end(self) -> None:
        self.refresh()
        self.view.scrollToBottom()

    def save_to(self, path: str) -> int:
        """Write the whole log (not only the filtered lines) to ``path``; returns bytes written."""
        written = 0
        with open(path, "w", encoding="utf-8") as handle:
            for piece in data.console_text(self.experiment_id):
                written += handle.write(piece)
        return written

    def _ask_save(self) -> None:
        if not self.experiment_id:
            return
        path, _ = QFileDialog.getSaveFileName(self, "Save console log", f"{self.experiment_id}.log",
                                              "Log files (*.log *.txt);;All files (*)")
        if path:
            try:
                self.save_to(path)
            except OSError as exc:
                self.sig_message_posted.emit(f"Could not save the log: {exc}")
                return
            self.sig_message_posted.emit(f"Log saved to {path}")

    def copy_selection(self) -> None:
        rows = sorted(i.row() for i in self.view.selectionModel().selectedRows())
        if rows:
            text = "\n".join(self.model.data(self.model.index(r)) for r in rows)
            QApplication.clipboard().setText(text)
