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
from PySide6.QtWidgets import QApplication, QDockWidget, QProxyStyle, QStyle, QStyleFactory, QWidget

from exptable_desktop.paths import resource_path
from exptable_desktop.ui import palette

TABLE_FONT_PIXELS = 12


def style_sheet() -> str:
    """The window's style sheet in the current palette."""
    return _style_sheet(palette.current().name)


@lru_cache(maxsize=len(palette.PALETTES))
def _style_sheet(palette_name: str) -> str:
    template = resource_path("styles", "exptable.qss").read_text(encoding="utf-8")
    return palette.PALETTES[palette_name].substitute(template) + drop_down_sheet()


def _url(icon_name: str) -> str:
    # Style sheets take forward slashes, also on Windows.
    return resource_path("icons", f"{icon_name}.svg").as_posix()


def drop_down_sheet() -> str:
    """One drop-down arrow for every tool button with a menu (Auto-refresh, Views, Columns ...).

    Qt draws a menu button's arrow in a framed segment (Auto-refresh) and an instant pop-up's in the
    bottom corner (Views, Columns); both become the same chevron, centred beside the text.
    """
    chevron = _url("chevron-down")
    return palette.themed(f"""
QToolButton[popupMode="1"] {{ padding-right: 8px; }}
QToolButton[popupMode="2"] {{ padding-right: 8px; }}
QToolButton::menu-button {{ border: none; background: transparent; width: 16px; }}
QToolButton::menu-button:hover {{ background: $hover; border-radius: 6px; }}
QToolButton::menu-arrow, QToolButton::menu-indicator {{ image: url({chevron}); width: 12px; height: 12px; }}
QToolButton::menu-indicator {{ subcontrol-origin: padding; subcontrol-position: center right; right: 3px; }}
QToolButton::menu-arrow:open, QToolButton::menu-indicator:open {{ top: 1px; }}
""")


def _shade(role: str, factor: int) -> str:
    """The palette colour ``role`` darker (factor > 100) for a hover, as a style sheet colour."""
    return palette.current().colour(role).darker(factor).name()


def _faded(role: str) -> str:
    """The palette colour ``role`` half transparent, for a disabled coloured button."""
    colour = palette.current().colour(role)
    return f"rgba({colour.red()}, {colour.green()}, {colour.blue()}, 110)"


def dialog_sheet() -> str:
    """The action dialogs' look: the window's palette, roomy fields, a primary and a red destructive button."""
    chevron = _url("chevron-down")
    accent_hover, danger_hover = _shade("accent", 115), _shade("danger", 120)
    accent_off, danger_off = _faded("accent"), _faded("danger")
    return palette.themed(f"""
QDialog {{ background: $surface; color: $text; }}
QDialog QLabel {{ color: $text; }}
QLabel#dialogNote {{ color: $text_secondary; }}
QLabel#dialogError {{ color: $danger; }}
QDialog QLineEdit, QDialog QComboBox, QDialog QPlainTextEdit {{
    border: 1px solid $border; border-radius: 6px; padding: 4px 6px; background: $surface; color: $text;
    selection-background-color: $accent_strong;
}}
QDialog QLineEdit:focus, QDialog QComboBox:focus, QDialog QPlainTextEdit:focus {{ border-color: $accent_strong; }}
QDialog QComboBox::drop-down {{ border: none; width: 22px; }}
QDialog QComboBox::down-arrow {{ image: url({chevron}); width: 12px; height: 12px; }}
QDialog QListWidget {{ border: 1px solid $border; border-radius: 6px; background: $surface_alt; padding: 2px; }}
QDialog QListWidget::item {{ padding: 2px 4px; }}
QDialog QPushButton {{
    border: 1px solid $border; border-radius: 6px; background: $surface_alt; color: $text;
    padding: 5px 14px; min-width: 64px;
}}
QDialog QPushButton:hover {{ background: $hover; }}
QDialog QPushButton:focus {{ border-color: $accent_strong; }}
QDialog QPushButton:disabled {{ color: $text_disabled; border-color: $border_soft; }}
QDialog QPushButton[buttonRole="primary"] {{ background: $accent; border-color: $accent; color: $on_accent; font-weight: 600; }}
QDialog QPushButton[buttonRole="primary"]:hover {{ background: {accent_hover}; border-color: {accent_hover}; }}
QDialog QPushButton[buttonRole="primary"]:disabled {{ background: {accent_off}; border-color: transparent; }}
QDialog QPushButton[buttonRole="destructive"] {{ background: $danger; border-color: $danger; color: $on_accent; font-weight: 600; }}
QDialog QPushButton[buttonRole="destructive"]:hover {{ background: {danger_hover}; border-color: {danger_hover}; }}
QDialog QPushButton[buttonRole="destructive"]:disabled {{ background: {danger_off}; border-color: transparent; }}
""")


class OutlinedIndicatorStyle(QProxyStyle):
    """Fusion with check box and radio outlines that show on a dark palette.

    Fusion outlines an indicator in the window colour darkened, which on a near-black window is
    black on black: the table's check boxes vanished. Only the dark palette installs this style,
    so the light one draws through Fusion with no Python call per primitive."""

    _INDICATORS = (QStyle.PrimitiveElement.PE_IndicatorCheckBox, QStyle.PrimitiveElement.PE_IndicatorRadioButton,
                   QStyle.PrimitiveElement.PE_IndicatorItemViewItemCheck)

    def drawPrimitive(self, element, option, painter, widget=None):  # noqa: N802 (Qt's name)
        if element in self._INDICATORS:
            option = type(option)(option)
            option.palette.setColor(QPalette.ColorRole.Window, palette.current().colour("text_secondary"))
        super().drawPrimitive(element, option, painter, widget)


def apply_style() -> None:
    app = QApplication.instance()
    if app is None or app.property("exptable_styled"):
        return
    if palette.current() is palette.DARK:
        app.setStyle(OutlinedIndicatorStyle(QStyleFactory.create("Fusion")))
    else:
        app.setStyle("Fusion")
    app.setPalette(palette.qt_palette(palette.current()))
    # Plots made from now on draw on the palette's surface, with its text colour for axes.
    import pyqtgraph as pg
    pg.setConfigOptions(background=palette.current().surface, foreground=palette.current().text_secondary)
    app.setProperty("exptable_styled", True)


def table_palette(base: QPalette, archive: bool) -> QPalette:
    """The experiments table's colours (plain and archive), for every colour group."""
    chrome = palette.current()
    table = QPalette(base)
    colours = {
        QPalette.ColorRole.Base: chrome.archive_base if archive else chrome.window,
        QPalette.ColorRole.AlternateBase: chrome.archive_alternate if archive else chrome.surface_alt,
        QPalette.ColorRole.Highlight: chrome.selection,
        QPalette.ColorRole.HighlightedText: chrome.text,
        QPalette.ColorRole.Text: chrome.text,
    }
    for role, colour in colours.items():
        table.setColor(role, QColor(colour))
    return table


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
    window.background = palette.current().colour("window")
    window.update()


def style_table(table, archive: bool) -> None:
    table.setPalette(table_palette(QApplication.palette(), archive))
    font = table.font()
    font.setPixelSize(TABLE_FONT_PIXELS)
    table.setFont(font)
    table.horizontalHeader().setFont(QApplication.font())
    table.setFrameShape(table.Shape.NoFrame)
