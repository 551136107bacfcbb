"""The application style sheet (resources/styles/exptable.qss) and font."""
from __future__ import annotations

from PySide6.QtWidgets import QApplication

from exptable_desktop.paths import resource_path


def apply_style() -> None:
    app = QApplication.instance()
    if app is None or app.property("exptable_styled"):
        return
    app.setStyle("Fusion")
    app.setStyleSheet(resource_path("styles", "exptable.qss").read_text(encoding="utf-8"))
    app.setProperty("exptable_styled", True)
