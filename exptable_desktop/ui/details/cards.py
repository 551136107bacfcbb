"""The narrow experiment list of Details mode: one card per row of the table.

Cards show what the reference's details list shows: type icon, name, status,
tags, "Updated X ago · user" and the iteration count. Rows come from the main
window (``visible_ids`` and ``rows_info``, answered from its column arrays);
only the update times are read here, for the rows on screen.
"""
from __future__ import annotations

import re
from typing import Callable

from PySide6.QtCore import QAbstractListModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from exptable_desktop.core import details as data
from exptable_desktop.core import states as st
from exptable_desktop.ui.details.common import STATUS_COLOURS, tag_colours, type_pixmap

BLOCK_ROWS = 200
CARD_HEIGHT = 62
CARD_MIN_WIDTH = 200
ROLE_ID = Qt.ItemDataRole.UserRole
ROLE_INFO = Qt.ItemDataRole.UserRole + 1
SEPARATOR = " · "
_UNITS = {"minute": "m", "hour": "h", "day": "d", "month": "mo", "year": "y"}
_AGO = re.compile(r"^(a|an|\d+) (minute|hour|day|month|year)s? ago$")


def short_ago(ago: str) -> str:
    """"5 hours ago" -> "5h ago", "a few seconds ago" -> "just now": the time in a narrow card."""
    if ago == "a few seconds ago":
        return "just now"
    match = _AGO.match(ago)
    if match is None:
        return ago
    count = "1" if match.group(1) in ("a", "an") else match.group(1)
    return f"{count}{_UNITS[match.group(2)]} ago"


def meta_line(ago: str, user: str, metrics: QFontMetrics, width: int) -> str:
    """"Updated X ago · user" fitted to ``width``: the time shortens (then elides) before the user does."""
    suffix = f"{SEPARATOR}{user}" if user and ago else user
    if not ago:
        return metrics.elidedText(user, Qt.TextElideMode.ElideRight, width)
    for when in (f"Updated {ago}", ago, short_ago(ago)):
        if metrics.horizontalAdvance(when + suffix) <= width:
            return when + suffix
    room = width - metrics.horizontalAdvance(suffix)
    if room >= metrics.horizontalAdvance("1…"):
        return metrics.elidedText(short_ago(ago), Qt.TextElideMode.ElideRight, room) + suffix
    return metrics.elidedText(user, Qt.TextElideMode.ElideRight, width)


class ExperimentCardModel(QAbstractListModel):
    """Rows = ``visible_ids()``; row details fetched in blocks on demand and cached."""

    def __init__(self, ids_source: Callable[[], list[str]], info_source: Callable[[list[str]], list[dict]],
                 parent=None):
        super().__init__(parent)
        self._ids_source = ids_source
        self._info_source = info_source
        self._ids: list[str] = []
        self._rows: dict[str, int] = {}
        self._cache: dict[str, dict] = {}

    def reload(self) -> None:
        """Take the window's current rows: a reset only when the row set or order changed."""
        ids = list(self._ids_source())
        if ids != self._ids:
            self.beginResetModel()
            self._ids = ids
            self._rows = {exp_id: row for row, exp_id in enumerate(ids)}
            self._cache.clear()
            self.endResetModel()
            return
        if not self._ids:
            return
        # Same rows: refetch those already shown and signal the runs that changed.
        cached_rows = sorted(i for i, exp_id in enumerate(self._ids) if exp_id in self._cache)
        old = {self._ids[i]: self._cache[self._ids[i]] for i in cached_rows}
        self._cache.clear()
        run_start = None
        previous = None
        for row in cached_rows + [None]:
            changed = row is not None and self._info(row) != old[self._ids[row]]
            contiguous = row is not None and previous is not None and row == previous + 1
            if run_start is not None and (not changed or not contiguous):
                self.dataChanged.emit(self.index(run_start), self.index(previous))
                run_start = None
            if changed and run_start is None:
                run_start = row
            previous = row

    def ids(self) -> list[str]:
        return list(self._ids)

    def row_of(self, experiment_id: str) -> int:
        return self._rows.get(experiment_id, -1)

    def _info(self, row: int) -> dict:
        exp_id = self._ids[row]
        info = self._cache.get(exp_id)
        if info is None:
            start = (row // BLOCK_ROWS) * BLOCK_ROWS
            block = self._ids[start:start + BLOCK_ROWS]
            for entry in self._info_source(block):  # the table's arrays: no query
                self._cache[entry["id"]] = entry
            info = self._cache.setdefault(exp_id, {"id": exp_id, "name": exp_id, "status": "", "type": "",
                                                   "tags": [], "user": "", "last_iteration": None,
                                                   "last_update": None})
        return info

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: N802
        return 0 if parent.isValid() else len(self._ids)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self._ids):
            return None
        if role == ROLE_ID:
            return self._ids[index.row()]
        if role == ROLE_INFO:
            return self._info(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._info(index.row())["name"]
        if role == Qt.ItemDataRole.ToolTipRole:
            info = self._info(index.row())
            return f"{info['name']}\n{st.status_label(info['status'])} · {info['id']}"
        return None


class ExperimentCardDelegate(QStyledItemDelegate):
    def sizeHint(self, option, index) -> QSize:  # noqa: N802
        # Narrower than any list: a card takes the list's width, never a horizontal scroll bar.
        return QSize(CARD_MIN_WIDTH, CARD_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index) -> None:
        info = index.data(ROLE_INFO)
        if info is None:
            return
        painter.save()
        rect = option.rect.adjusted(6, 3, -6, -3)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#4dabf7" if selected else "#e9ecef")))
        painter.setBrush(QColor("#e7f5ff" if selected else "#ffffff"))
        painter.drawRoundedRect(rect, 6, 6)
        icon = type_pixmap(info.get("type") or "custom", 22)
        painter.drawPixmap(rect.left() + 8, rect.top() + 8, icon)
        left = rect.left() + 38
        base = QFont(option.font)
        bold = QFont(base)
        bold.setBold(True)
        small = QFont(base)
        small.setPointSizeF(base.pointSizeF() * 0.85)
        status = info.get("status") or ""
        label = st.status_label(status) if status else ""
        small_metrics = QFontMetrics(small)
        pill_width = small_metrics.horizontalAdvance(label) + 12 if label else 0
        painter.setFont(bold)
        name_width = rect.right() - left - pill_width - 14
        name = QFontMetrics(bold).elidedText(info.get("name") or "", Qt.TextElideMode.ElideRight, name_width)
        painter.setPen(QColor("#212529"))
        painter.drawText(QRect(left, rect.top() + 5, name_width, 20), Qt.AlignmentFlag.AlignVCenter, name)
        if label:
            pill = QRect(rect.right() - pill_width - 8, rect.top() + 7, pill_width, 16)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(STATUS_COLOURS.get(status, "#868e96")))
            painter.drawRoundedRect(pill, 4, 4)
            painter.setFont(small)
            painter.setPen(QColor("#ffffff"))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)
        painter.setFont(small)
        iterations = info.get("last_iteration")
        right_text = f"{iterations:,} iterations" if iterations is not None else ""
        right_width = small_metrics.horizontalAdvance(right_text) + 4
        painter.setPen(QColor("#868e96"))
        line_width = rect.right() - left - right_width - 12
        ago = data.format_ago(info["last_update"]) if info.get("last_update") else ""
        painter.drawText(QRect(left, rect.top() + 26, line_width, 16), Qt.AlignmentFlag.AlignVCenter,
                         meta_line(ago, info.get("user") or "", small_metrics, line_width))
        if right_text:
            painter.drawText(QRect(rect.right() - right_width - 8, rect.top() + 26, right_width, 16),
                             Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, right_text)
        x = left
        for tag in (info.get("tags") or [])[:6]:
            name = tag if isinstance(tag, str) else tag[0]
            bg, fg = tag_colours(name)
            width = small_metrics.horizontalAdvance(name) + 10
            if x + width > rect.right() - 8:
                break
            chip = QRect(x, rect.top() + 42, width, 14)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(bg))
            painter.drawRoundedRect(chip, 6, 6)
            painter.setPen(QColor(fg))
            painter.drawText(chip, Qt.AlignmentFlag.AlignCenter, name)
            x += width + 4
        painter.restore()


class ExperimentCardList(QListView):
    def __init__(self, model: ExperimentCardModel, parent=None):
        super().__init__(parent)
        self.setObjectName("detailsExperimentList")
        self.setModel(model)
        self.setItemDelegate(ExperimentCardDelegate(self))
        self.setUniformItemSizes(True)
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.setStyleSheet("QListView { background: #f8f9fa; border: none; }")
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(CARD_MIN_WIDTH + 40)

    def select_id(self, experiment_id: str | None) -> None:
        row = self.model().row_of(experiment_id) if experiment_id else -1
        if row < 0:
            self.clearSelection()
            return
        index = self.model().index(row)
        self.setCurrentIndex(index)
        self.scrollTo(index)
