"""The status bar's message: what an action just did, with Undo and More info when they apply."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMessageBox, QPushButton, QWidget

# A message stays this long, unless another replaces it first.
MESSAGE_MS = 15000


class StatusMessage(QWidget):
    """Status-bar message with optional Undo and More info buttons (``MainWindow.show_message``)."""

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
