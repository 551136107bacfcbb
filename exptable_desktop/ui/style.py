"""The style sheet (resources/styles/exptable.qss), the font, and where they apply.

The sheet is set on the window's parts, never on the QApplication: Qt routes every
widget under a style sheet through its style-sheet style, which made each repaint of
the experiments table ~15% slower. The table's cells get their colours from the
palette instead (``table_palette``); its header keeps the sheet.
"""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QDockWidget, QWidget

from exptable_desktop.paths import resource_path

# What the sheet gave QMainWindow and the table's area; docks and the details list show it through.
WINDOW_BACKGROUND = QColor("#ffffff")
TABLE_FONT_PIXELS = 12
TABLE_COLOURS = {
    QPalette.ColorRole.Base: "#ffffff",
    QPalette.ColorRole.AlternateBase: "#f9fafb",
    QPalette.ColorRole.Highlight: "#dbeafe",
    QPalette.ColorRole.HighlightedText: "#1f2328",
}
ARCHIVE_TABLE_COLOURS = {
    QPalette.ColorRole.Base: "#fff8e6",
    QPalette.ColorRole.AlternateBase: "#fdf1d3",
}


@lru_cache(maxsize=1)
def style_sheet() -> str:
    return resource_path("styles", "exptable.qss").read_text(encoding="utf-8")


def apply_style() -> None:
    app = QApplication.instance()
    if app is None or app.property("exptable_styled"):
        return
    app.setStyle("Fusion")
    app.setProperty("exptable_styled", True)


def table_palette(base: QPalette, archive: bool) -> QPalette:
    """The experiments table's colours (plain and archive), for every colour group."""
    palette = QPalette(base)
    colours = dict(TABLE_COLOURS)
    if archive:
        colours.update(ARCHIVE_TABLE_COLOURS)
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    return palette


def style_window(window) -> None:
    """Give the style sheet to every part of the main window except the table's cells.

    Called once the details, actions and comparison parts are in place: each part
    directly in the table's area, the tool bar, the docks, the status bar and the
    table's header get the sheet; the table itself is drawn with ``table_palette``.
    """
    sheet = style_sheet()
    table = window.table_view
    central = window.centralWidget()
    parts = [w for w in central.findChildren(QWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
             if w is not table and not w.isWindow()]
    parts += [window.top_toolbar, window.statusBar(), table.horizontalHeader()]
    parts += window.findChildren(QDockWidget, options=Qt.FindChildOption.FindDirectChildrenOnly)
    for widget in parts:
        widget.setStyleSheet(sheet)
    style_table(table, archive=False)
    window.background = WINDOW_BACKGROUND
    window.update()


def style_table(table, archive: bool) -> None:
    table.setPalette(table_palette(QApplication.palette(), archive))
    font = table.font()
    font.setPixelSize(TABLE_FONT_PIXELS)
    table.setFont(font)
    table.horizontalHeader().setFont(QApplication.font())
    table.setFrameShape(table.Shape.NoFrame)
