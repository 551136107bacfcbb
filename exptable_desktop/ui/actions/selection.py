"""Checking rows: the header's tri-state box with its All / None / Filtered menu,
Ctrl+click and Shift+click on rows, and the keyboard shortcuts."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QMenu, QTableView, QToolButton, QWidget


class HeaderCheckBox(QCheckBox):
    """Shows the state of the visible rows; a click checks them all, or clears them when all are checked."""

    def nextCheckState(self) -> None:
        # The state is set from the window's checked set after the click, never cycled by Qt.
        pass


class SelectionControl(QWidget):
    """The check column's header widget: a tri-state box that checks or clears the visible rows, and a menu to
    check All (the whole scope), None, or Filtered (every match, not only those on screen)."""

    def __init__(self, window, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("selectionControl")
        self.window = window
        layout = QHBoxLayout(self)
        layout.setContentsMargins(3, 0, 0, 0)
        layout.setSpacing(0)
        self.checkbox = HeaderCheckBox()
        self.checkbox.setObjectName("checkAllVisible")
        self.checkbox.setTristate(True)
        self.checkbox.setToolTip("Check every visible experiment (click again to clear)")
        self.checkbox.clicked.connect(self.toggle_visible)
        layout.addWidget(self.checkbox)
        self.menu_button = QToolButton()
        self.menu_button.setObjectName("selectionMenuButton")
        self.menu_button.setArrowType(Qt.ArrowType.DownArrow)
        self.menu_button.setAutoRaise(True)
        self.menu_button.setFixedSize(14, 18)
        self.menu_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu_button.setStyleSheet("QToolButton::menu-indicator { image: none; }")
        self.menu = QMenu(self.menu_button)
        self.menu.setObjectName("selectionMenu")
        self.all_action = self.menu.addAction("All", self.select_all)
        self.all_action.setToolTip("Every experiment in the project, filtered or not")
        self.none_action = self.menu.addAction("None", self.window.clear_checked)
        self.filtered_action = self.menu.addAction("Filtered", self.select_filtered)
        self.filtered_action.setToolTip("Every experiment matching the active filters and search, not only those on screen")
        self.menu_button.setMenu(self.menu)
        layout.addWidget(self.menu_button)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self.update_state)
        window.sig_checked_changed.connect(self._timer.start)
        self.update_state()

    def select_all(self) -> None:
        self.window.set_checked(self.window.scope_ids(), True)

    def select_filtered(self) -> None:
        self.window.set_checked(self.window.filtered_ids(), True)

    def toggle_visible(self) -> None:
        visible = self.window.visible_ids()
        checked = set(self.window.checked_ids())
        all_checked = bool(visible) and all(v in checked for v in visible)
        self.window.set_checked(visible, not all_checked)
        self.update_state()

    def update_state(self) -> None:
        visible = self.window.visible_ids()
        checked = set(self.window.checked_ids())
        hits = sum(1 for v in visible if v in checked) if checked else 0
        if visible and hits == len(visible):
            state = Qt.CheckState.Checked
        elif hits:
            state = Qt.CheckState.PartiallyChecked
        else:
            state = Qt.CheckState.Unchecked
        self.checkbox.setCheckState(state)


class HeaderOverlay(QObject):
    """Keeps a widget over one column's header section while columns move, resize and scroll."""

    def __init__(self, widget: QWidget, view: QTableView, column: Callable[[], int]):
        super().__init__(widget)
        self.widget = widget
        self.view = view
        self.column = column  # asked each time: columns come and go with the layout
        header = view.horizontalHeader()
        widget.setParent(header)
        for signal in (header.sectionResized, header.sectionMoved, header.geometriesChanged):
            signal.connect(self.place)
        view.horizontalScrollBar().valueChanged.connect(self.place)
        header.installEventFilter(self)
        widget.show()
        self.place()

    def eventFilter(self, obj, event) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Show):
            QTimer.singleShot(0, self.place)
        return False

    def place(self, *_args) -> None:
        header = self.view.horizontalHeader()
        column = self.column()
        x = header.sectionViewportPosition(column)
        width = header.sectionSize(column)
        hint = self.widget.sizeHint()
        self.widget.setGeometry(x, max(0, (header.height() - hint.height()) // 2), max(width, hint.width()),
                                hint.height())
        self.widget.setVisible(not header.isSectionHidden(column))


class ClickChecking(QObject):
    """Ctrl+click toggles a row's check; Shift+click checks the range from the last clicked row.

    Clicks on a cell that carries its own check box (the checkbox column) are
    left to the table, so a row is never toggled twice.
    """

    def __init__(self, window, view: QTableView):
        super().__init__(view)
        self.window = window
        self.view = view
        self.anchor: str | None = None
        view.viewport().installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:
        if event.type() != QEvent.Type.MouseButtonPress or event.button() != Qt.MouseButton.LeftButton:
            return False
        index = self.view.indexAt(event.position().toPoint())
        if not index.isValid():
            return False
        visible = self.window.visible_ids()
        if index.row() >= len(visible):
            return False
        exp_id = visible[index.row()]
        mods = event.modifiers()
        if index.data(Qt.ItemDataRole.CheckStateRole) is not None:
            self.anchor = exp_id
            return False
        if mods & Qt.KeyboardModifier.ShiftModifier and self.anchor in visible:
            start = visible.index(self.anchor)
            low, high = sorted((start, index.row()))
            self.window.set_checked(visible[low:high + 1], True)
        elif mods & Qt.KeyboardModifier.ControlModifier:
            self.window.set_checked([exp_id], exp_id not in set(self.window.checked_ids()))
            self.anchor = exp_id
        else:
            self.anchor = exp_id
        return False


def install_shortcuts(controller, view: QWidget, window: QWidget) -> list[QShortcut]:
    """Delete (archive / delete in the archive) and Ctrl+A on the table; F5 anywhere in the window.

    Space (check the selected rows) and Enter (activate) are the table's own keys.
    """
    table_scope = Qt.ShortcutContext.WidgetWithChildrenShortcut
    made = []
    for keys, slot, owner, scope in (
        (QKeySequence(QKeySequence.StandardKey.Delete), controller.delete_key, view, table_scope),
        (QKeySequence(QKeySequence.StandardKey.SelectAll), controller.check_all_visible, view, table_scope),
        (QKeySequence(Qt.Key.Key_F5), window.refresh_now, window, Qt.ShortcutContext.WindowShortcut),
    ):
        shortcut = QShortcut(keys, owner)
        shortcut.setContext(scope)
        shortcut.activated.connect(slot)
        made.append(shortcut)
    return made
