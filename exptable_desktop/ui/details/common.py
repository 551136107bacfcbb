"""Pieces every details tab uses: the tab base class, editable sections, badges."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics, QPixmap
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QStackedWidget,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
    QWidgetItem,
)

from exptable_desktop.core import formatting
from exptable_desktop.core import states as st
from exptable_desktop.ui import icons, palette
from exptable_desktop.ui.empty_state import EmptyState
from exptable_desktop.ui.palette import themed

# A status has one colour in the table, the card list and the panel: the status icons' fills.
STATUS_COLOURS = palette.STATE_COLOURS


NAV_MAX_WIDTH = 280


def tag_colours(name: str, background: str | None = None, foreground: str | None = None) -> tuple[str, str]:
    return formatting.tag_colors(name, background, foreground)


def type_pixmap(task_type: str, size: int = 28) -> QPixmap:
    """The table's type icon, so a type looks the same in the list, the table and the panel."""
    return icons.pixmap(icons.type_icon_name(task_type), size)


def monospace_font() -> QFont:
    font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
    font.setPointSize(max(9, font.pointSize()))
    return font


def fit_nav_width(splitter: QSplitter, nav: QTreeWidget, titles: list[str], entries: list[str] = (),
                  page_width: int = 600) -> None:
    """Make a tab's left tree wide enough for its bold group titles, whole, and for its entries up to
    a limit (longer ones elide), and give the page the rest."""
    bold = QFont(nav.font())
    bold.setBold(True)
    margins = nav.indentation() + 2 * nav.frameWidth() + 16
    width = max(QFontMetrics(bold).horizontalAdvance(t) for t in titles) + margins
    plain = QFontMetrics(nav.font())
    longest = max((plain.horizontalAdvance(e) for e in entries), default=0) + nav.indentation() + margins
    width = max(width, min(longest, NAV_MAX_WIDTH))
    nav.setMinimumWidth(width)
    nav.setMaximumWidth(max(width, NAV_MAX_WIDTH) + 60)
    splitter.setSizes([width, page_width])


def section_title(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 0.95)
    label.setFont(font)
    label.setStyleSheet(themed("color: $text_secondary; letter-spacing: 1px;"))
    return label


def empty_state(title: str, body: str = "", code: str = "", icon: str | None = None) -> EmptyState:
    """What a tab shows instead of its content when there is none (``ui.empty_state.EmptyState``)."""
    return EmptyState(title, body, code, icon=icon)


def scrolling_canvas(owner: QWidget, empty_title: str, empty_body: str = "", empty_code: str = "") -> QStackedWidget:
    """A scrollable column of cards, swapped for an empty state when there is nothing.

    Sets ``scroll``, ``canvas``, ``canvas_layout`` and ``empty_label`` on ``owner``
    and returns the stack holding them.
    """
    stack = QStackedWidget()
    owner.scroll = QScrollArea()
    owner.scroll.setWidgetResizable(True)
    owner.canvas = QWidget()
    owner.canvas_layout = QVBoxLayout(owner.canvas)
    owner.scroll.setWidget(owner.canvas)
    owner.empty_label = empty_state(empty_title, empty_body, empty_code)
    stack.addWidget(owner.scroll)
    stack.addWidget(owner.empty_label)
    return stack


class DetailsTab(QWidget):
    """A tab of the panel. ``load`` shows an experiment from scratch; ``refresh``
    follows it live and must keep whatever the person is doing (editing, zoom,
    scroll). The default ``refresh`` reloads unless a section is being edited."""

    # Another experiment was asked for (e.g. the parent link in INFO).
    sig_experiment_link_activated = Signal(str)
    # A one-line message for the status bar.
    sig_message_posted = Signal(str)
    # Something the tab saved changed the experiment: the panel refreshes its header.
    sig_experiment_edited = Signal()

    title = ""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.experiment_id: str | None = None

    def load(self, experiment_id: str | None) -> None:
        raise NotImplementedError

    def refresh(self) -> None:
        if self.experiment_id is not None and not self.is_editing():
            self.load(self.experiment_id)

    def live_read(self) -> tuple[object, Callable[[], object]] | None:
        """For a tab that follows a run: ``(token, read)``, where ``read`` gathers what is new through
        ``core`` from copied state only, so the panel's poll runs it on its worker thread; the news then
        goes to ``apply_live(token, news)`` on the UI thread. None: ``refresh`` reads on the UI thread."""
        return None

    def apply_live(self, token: object, news: object) -> None:
        self.refresh()

    def is_editing(self) -> bool:
        return False


class EditableSection(QFrame):
    """A titled section with EDIT -> SAVE / CANCEL, or a read-only reason.

    ``on_edit`` switches the body to editing, ``on_save`` returns an error text
    (or None when saved), ``on_cancel`` restores the stored values,
    ``after_save`` runs once the section is back to reading.
    """

    def __init__(self, title: str, body: QWidget, *, on_edit: Callable[[], None],
                 on_save: Callable[[], str | None], on_cancel: Callable[[], None],
                 after_save: Callable[[], None] | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self._after_save = after_save
        self.setObjectName("section_" + title.lower().replace(" ", "_"))
        self._on_edit, self._on_save, self._on_cancel = on_edit, on_save, on_cancel
        self.editing = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 8)
        top = QHBoxLayout()
        self.title_label = section_title(title)
        top.addWidget(self.title_label)
        top.addStretch(1)
        self.reason_label = QLabel()
        self.reason_label.setStyleSheet(themed("color: $text_muted; font-style: italic;"))
        top.addWidget(self.reason_label)
        self.edit_button = QPushButton("Edit")
        self.save_button = QPushButton("Save")
        self.cancel_button = QPushButton("Cancel")
        for button in (self.edit_button, self.save_button, self.cancel_button):
            button.setObjectName(f"{self.objectName()}_{button.text().lower()}")
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            top.addWidget(button)
        self.save_button.setDefault(True)
        layout.addLayout(top)
        self.error_label = QLabel()
        self.error_label.setStyleSheet(themed("color: $danger;"))
        self.error_label.setWordWrap(True)
        self.error_label.hide()
        layout.addWidget(self.error_label)
        layout.addWidget(body)
        self.edit_button.clicked.connect(self.begin_edit)
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.cancel)
        self.set_editable(None)

    def set_editable(self, reason: str | None) -> None:
        """None: editable; a text: why not (shown instead of the Edit button)."""
        if self.editing:
            return
        self.edit_button.setVisible(reason is None)
        self.edit_button.setEnabled(reason is None)
        self.reason_label.setText(reason or "")
        self.reason_label.setVisible(bool(reason))
        self.save_button.hide()
        self.cancel_button.hide()

    def begin_edit(self) -> None:
        if not self.edit_button.isEnabled():
            return
        self.editing = True
        self.error_label.hide()
        self.edit_button.hide()
        self.save_button.show()
        self.cancel_button.show()
        self._on_edit()

    def save(self) -> bool:
        if not self.editing:
            return False
        error = self._on_save()
        if error:
            self.error_label.setText(error)
            self.error_label.show()
            return False
        self._finish()
        if self._after_save is not None:
            self._after_save()
        return True

    def cancel(self) -> None:
        if not self.editing:
            return
        self._finish()
        self._on_cancel()

    def _finish(self) -> None:
        self.editing = False
        self.error_label.hide()
        self.save_button.hide()
        self.cancel_button.hide()
        self.edit_button.show()


class FlowLayout(QLayout):
    """Left-to-right wrapping layout (tag chips)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4):
        super().__init__(parent)
        self._items: list = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item) -> None:  # noqa: N802 (Qt API)
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int):  # noqa: N802
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int):  # noqa: N802
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self):  # noqa: N802
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:  # noqa: N802
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, apply: bool) -> int:
        x, y, line_height = rect.x(), rect.y(), 0
        for item in self._items:
            if isinstance(item, QWidgetItem) and item.widget() is not None and item.widget().isHidden():
                continue
            hint = item.sizeHint()
            if x + hint.width() > rect.right() and line_height > 0:
                x = rect.x()
                y += line_height + self._spacing
                line_height = 0
            if apply:
                item.setGeometry(QRect(x, y, hint.width(), hint.height()))
            x += hint.width() + self._spacing
            line_height = max(line_height, hint.height())
        return y + line_height - rect.y()
