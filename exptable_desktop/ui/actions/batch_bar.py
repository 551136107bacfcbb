"""The batch action bar under the table, shown while one or more rows are checked."""
from __future__ import annotations

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from exptable_desktop.ui.actions.eligibility import BAR_ORDER, LABELS, entries_for

BAR_LABELS = {**LABELS, "add_tags": "Tags ▾", "move": "Move to…", "delete": "Delete…"}

BAR_STYLE = """
QFrame#batchActionBar { background: palette(alternate-base); border-top: 1px solid palette(mid); }
QFrame#batchActionBar QToolButton { padding: 3px 8px; border: 1px solid transparent; border-radius: 3px; }
QFrame#batchActionBar QToolButton:hover:enabled { border-color: palette(mid); background: palette(button); }
QFrame#batchActionBar QToolButton:checked { border-color: palette(highlight); }
QFrame#batchActionBar QToolButton:disabled { color: palette(mid); }
QFrame#batchActionBar QFrame[frameShape="5"] { color: palette(mid); }
"""


def _divider() -> QFrame:
    line = QFrame()
    line.setFrameShape(QFrame.Shape.VLine)
    line.setFixedHeight(18)
    return line


class BatchActionBar(QFrame):
    """Compare, Archive/Restore, Delete, Enqueue … Tags, Move to, with counts in tooltips."""

    def __init__(self, controller, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("batchActionBar")
        self.setStyleSheet(BAR_STYLE)
        self.controller = controller
        self.window = controller.window
        self.buttons: dict[str, QToolButton] = {}
        self._layout = QHBoxLayout(self)
        self._layout.setContentsMargins(8, 3, 8, 3)
        self._layout.setSpacing(2)
        self.count_label = QLabel()
        self.count_label.setObjectName("batchCount")
        self.count_label.setStyleSheet("font-weight: 600; padding-right: 6px;")
        self._layout.addWidget(self.count_label)
        self.show_only_button = QToolButton()
        self.show_only_button.setObjectName("showOnlySelected")
        self.show_only_button.setCheckable(True)
        self.show_only_button.setToolTip("Show only the checked experiments in the table")
        self.show_only_button.toggled.connect(self._show_only_toggled)
        self._layout.addWidget(self.show_only_button)
        self._dynamic: list[QWidget] = []
        self._archive_mode: bool | None = None

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(30)
        self._timer.timeout.connect(self.update_state)
        self.window.sig_checked_changed.connect(self.schedule_update)
        self.window.sig_archive_mode_changed.connect(lambda _: self.schedule_update())
        # Auto-refresh changes states under a selection; a search cancels show-only.
        self.window.sig_refreshed.connect(self.schedule_update)
        self.window.sig_show_only_checked_changed.connect(self._follow_show_only)
        controller.sig_action_done.connect(lambda _: self.schedule_update())
        self.hide()
        self.update_state()

    def enterEvent(self, event) -> None:
        # States change under a selection (auto-refresh, workers); recount before a click.
        self.update_state()
        super().enterEvent(event)

    def schedule_update(self) -> None:
        self._timer.start()

    def _rebuild(self, archive_mode: bool) -> None:
        for widget in self._dynamic:
            self._layout.removeWidget(widget)
            widget.deleteLater()
        self._dynamic = []
        self.buttons = {}
        self._dynamic.append(_divider())
        self._layout.addWidget(self._dynamic[-1])
        for key in entries_for(BAR_ORDER, archive_mode):
            if key == "|":
                widget = _divider()
            else:
                widget = QToolButton()
                widget.setObjectName(f"bar_{key}")
                widget.setText(BAR_LABELS[key])
                widget.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
                widget.setCursor(Qt.CursorShape.PointingHandCursor)
                widget.clicked.connect(lambda _=False, k=key: self.trigger(k))
                self.buttons[key] = widget
            self._layout.addWidget(widget)
            self._dynamic.append(widget)
        stretch = QWidget()
        self._layout.addWidget(stretch, 1)
        self._dynamic.append(stretch)
        self._archive_mode = archive_mode

    def update_state(self) -> None:
        archive_mode = bool(self.window.is_archive_mode())
        if archive_mode != self._archive_mode:
            self._rebuild(archive_mode)
        ids = self.window.checked_ids()
        if not ids:
            if self.show_only_button.isChecked():
                self.show_only_button.setChecked(False)  # else the table would show nothing
            self.hide()
            return
        counts = self.controller.eligibility(ids)
        self.count_label.setText(f"{len(ids):,} selected")
        self.show_only_button.setText("Show all" if self.show_only_button.isChecked()
                                      else f"Show only {len(ids):,} selected")
        for key, button in self.buttons.items():
            button.setEnabled(counts.count(key) > 0)
            button.setToolTip(counts.tooltip(key))
        self.show()

    def trigger(self, key: str) -> None:
        ids = self.window.checked_ids()
        if key == "add_tags":
            button = self.buttons[key]
            menu = self.controller.tag_menu(ids)
            menu.aboutToHide.connect(menu.deleteLater)
            # Above the button: the bar sits at the bottom of the window.
            menu.popup(button.mapToGlobal(QPoint(0, -menu.sizeHint().height())))
            return
        self.controller.run(key, ids)

    def _show_only_toggled(self, on: bool) -> None:
        if self.window.is_show_only_checked() != on:
            self.window.set_show_only_checked(on)
        self.update_state()

    def _follow_show_only(self, on: bool) -> None:
        if self.show_only_button.isChecked() != on:
            self.show_only_button.blockSignals(True)
            self.show_only_button.setChecked(on)
            self.show_only_button.blockSignals(False)
        self.schedule_update()
