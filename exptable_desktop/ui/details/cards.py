"""The narrow experiment list of Details mode: one card per row of the table.

Cards show what the reference's details list shows: type icon, name, status,
tags, "Updated X ago · user" and the iteration count. The list shows the table's
own rows: ``ExperimentCardModel`` is a proxy over the experiments table's proxy
(ui.table_proxy), so both share the one source model, the list follows every sort,
filter, search and refresh with the table's exact signals, and a card is read from
the table's columns when it is painted.
"""
from __future__ import annotations

import re

from PySide6.QtCore import QIdentityProxyModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from exptable_desktop.core import details as data
from exptable_desktop.core import states as st
from exptable_desktop.ui import palette
from exptable_desktop.ui.details.common import tag_colours, type_pixmap
from exptable_desktop.ui.roles import CardInfoRole, IdRole

CARD_HEIGHT = 62
CARD_MIN_WIDTH = 200
ROLE_ID = IdRole
ROLE_INFO = CardInfoRole
SEPARATOR = " · "
_UNITS = {"minute": "m", "hour": "h", "day": "d", "month": "mo", "year": "y"}
_AGO = re.compile(r"^(a|an|\d+) (minute|hour|day|month|year)s? ago$")
# What "Updated" must leave room for on every card: the longest relative time, a user name of
# common length and a six-digit iteration count.
WIDEST_AGO = "a few seconds ago"
USER_ALLOWANCE = "username"
ITERATIONS_ALLOWANCE = "999,999 iterations"


def short_ago(ago: str) -> str:
    """"5 hours ago" -> "5h ago", "a few seconds ago" -> "just now": the time in a narrow card."""
    if ago == "a few seconds ago":
        return "just now"
    match = _AGO.match(ago)
    if match is None:
        return ago
    count = "1" if match.group(1) in ("a", "an") else match.group(1)
    return f"{count}{_UNITS[match.group(2)]} ago"


def meta_line(ago: str, user: str, metrics: QFontMetrics, width: int, updated_word: bool = True) -> str:
    """"Updated X ago · user" fitted to ``width``: the time shortens (then elides) before the user does.
    ``updated_word`` is decided for the whole list (``updated_word_fits``), never per card: a card
    that dropped the word because its own line is a little longer would read unlike its neighbours."""
    suffix = f"{SEPARATOR}{user}" if user and ago else user
    if not ago:
        return metrics.elidedText(user, Qt.TextElideMode.ElideRight, width)
    prefix = "Updated " if updated_word else ""
    for when in (f"{prefix}{ago}", f"{prefix}{short_ago(ago)}"):
        if metrics.horizontalAdvance(when + suffix) <= width:
            return when + suffix
    if updated_word:
        return metrics.elidedText(f"{prefix}{short_ago(ago)}{suffix}", Qt.TextElideMode.ElideRight, width)
    room = width - metrics.horizontalAdvance(suffix)
    if room >= metrics.horizontalAdvance("1…"):
        return metrics.elidedText(short_ago(ago), Qt.TextElideMode.ElideRight, room) + suffix
    return metrics.elidedText(user, Qt.TextElideMode.ElideRight, width)


def updated_word_fits(metrics: QFontMetrics, text_width: int) -> bool:
    """Whether cards ``text_width`` wide (the meta line plus the iteration count) say "Updated":
    decided from the width alone, against the longest time, a typical user and a large count,
    so every card of the list agrees."""
    widest = f"Updated {WIDEST_AGO}{SEPARATOR}{USER_ALLOWANCE}"
    return metrics.horizontalAdvance(widest) + metrics.horizontalAdvance(ITERATIONS_ALLOWANCE) + 4 <= text_width


def card_meta(info: dict, metrics: QFontMetrics, text_width: int) -> tuple[str, str]:
    """The card's second line: (meta text, iteration count), fitted to ``text_width`` together."""
    iterations = info.get("last_iteration")
    right_text = f"{iterations:,} iterations" if iterations is not None else ""
    line_width = text_width - (metrics.horizontalAdvance(right_text) + 4)
    ago = data.format_ago(info["last_update"]) if info.get("last_update") else ""
    meta = meta_line(ago, info.get("user") or "", metrics, line_width, updated_word_fits(metrics, text_width))
    return meta, right_text


class ExperimentCardModel(QIdentityProxyModel):
    """The experiments table's rows as cards: a proxy over the table's proxy (same rows, same
    order, same signals); column 0 is the card. Cells are read from the table when painted."""

    def __init__(self, table_model, parent=None):
        super().__init__(parent)
        self.setSourceModel(table_model)

    def ids(self) -> list[str]:
        return self.sourceModel().visible_ids()

    def row_of(self, experiment_id: str) -> int:
        return self.sourceModel().row_of_id(experiment_id)

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        table_model = self.sourceModel()
        if not index.isValid() or not 0 <= index.row() < table_model.rowCount():
            return None
        if role == ROLE_ID:
            return table_model.id_at(index.row())
        if role == ROLE_INFO:
            return table_model.row_info(index.row())
        if role == Qt.ItemDataRole.DisplayRole:
            return table_model.table.text["name"][table_model.slot_of_row(index.row())]
        if role == Qt.ItemDataRole.ToolTipRole:
            info = table_model.row_info(index.row())
            return f"{info['name']}\n{st.status_label(info['status'])} · {info['id']}"
        return None


class ExperimentCardDelegate(QStyledItemDelegate):
    """Paints a Details-mode card from the row's ``ROLE_INFO``: type icon, name, status, tags, last update and
    iterations, highlighted when selected."""

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
        chrome = palette.current()
        painter.setPen(QPen(chrome.colour("accent_strong" if selected else "border_soft")))
        painter.setBrush(chrome.colour("accent_soft" if selected else "surface"))
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
        painter.setPen(chrome.colour("text"))
        painter.drawText(QRect(left, rect.top() + 5, name_width, 20), Qt.AlignmentFlag.AlignVCenter, name)
        if label:
            pill = QRect(rect.right() - pill_width - 8, rect.top() + 7, pill_width, 16)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(chrome.state_colour(status)))
            painter.drawRoundedRect(pill, 4, 4)
            painter.setFont(small)
            painter.setPen(chrome.colour("on_accent"))
            painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, label)
        painter.setFont(small)
        meta, right_text = card_meta(info, small_metrics, rect.right() - left - 12)
        right_width = small_metrics.horizontalAdvance(right_text) + 4
        painter.setPen(chrome.colour("text_muted"))
        line_width = rect.right() - left - right_width - 12
        painter.drawText(QRect(left, rect.top() + 26, line_width, 16), Qt.AlignmentFlag.AlignVCenter, meta)
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
    """The Details-mode list of cards over ``ExperimentCardModel``; ``select_id`` follows the
    experiment the panel shows.

    The model is attached when the list is first shown: a list with a model lays its rows out even
    while hidden, a Python index() call per row, and at 10,000 rows that kept the GIL from the
    column loader for 150 ms after the table opened. ``sig_model_attached`` says when it is on."""

    sig_model_attached = Signal()

    def __init__(self, model: ExperimentCardModel, parent=None):
        super().__init__(parent)
        self.setObjectName("detailsExperimentList")
        self.card_model = model
        self._selected_id: str | None = None
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setSelectionMode(QListView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QListView.ScrollMode.ScrollPerPixel)
        self.setItemDelegate(ExperimentCardDelegate(self))
        self.setStyleSheet(palette.themed("QListView { background: $surface_sunken; border: none; }"))
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setMinimumWidth(CARD_MIN_WIDTH + 40)

    def attach_model(self) -> None:
        """Put the model on (once); the card that was asked for meanwhile is selected."""
        if self.model() is self.card_model:
            return
        self.setModel(self.card_model)
        self.sig_model_attached.emit()
        self.select_id(self._selected_id)

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        self.attach_model()
        super().showEvent(event)

    def select_id(self, experiment_id: str | None) -> None:
        self._selected_id = experiment_id
        if self.model() is not self.card_model:
            return  # selected when the model goes on
        row = self.card_model.row_of(experiment_id) if experiment_id else -1
        if row < 0:
            self.clearSelection()
            return
        index = self.card_model.index(row, 0)
        self.setCurrentIndex(index)
        self.scrollTo(index)
