"""Every colour of the window's chrome, by what it is for, in a light and a dark palette.

Widgets ask ``current()`` for a role (``current().text_secondary``) when they build or paint, never
keep a hex string of their own, so a palette is one more instance of ``Palette`` and the dark one
follows the operating system's colour scheme (Qt 6.5+ reports it), or ``EXPTABLE_COLOR_SCHEME`` set
to ``light`` or ``dark``. Data colours (one per experiment or series) are not chrome: they live in
``core.compare_palette`` and the plots, and stay the same in both palettes.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, fields
from string import Template

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

from exptable_desktop.core import states as st

ENV_SCHEME = "EXPTABLE_COLOR_SCHEME"
# The fills of the status icons (resources/icons/status-*.svg, ui/icons.py STATUS_ICONS), so a status
# has one colour in the table, the card list and the panel, in both palettes; a test compares them.
STATE_COLOURS = {
    st.DRAFT: "#8a94a6", st.PENDING: "#d4a017", st.RUNNING: "#2f81f7", st.COMPLETED: "#2da44e",
    st.CLOSED: "#2da44e", st.ABORTED: "#8a94a6", st.FAILED: "#d1242f", st.PUBLISHING: "#8250df",
    st.PUBLISHED: "#8250df",
}


@dataclass(frozen=True)
class Palette:
    """The colours of one look of the window, named by role."""
    name: str
    window: str           # the window, the table and the panels
    surface: str          # cards, inputs, plot areas, dialogs
    surface_alt: str      # bars, headers, side panels, code blocks
    surface_sunken: str   # the area behind cards (the details card list, legends)
    hover: str
    border: str
    border_soft: str      # separators inside a panel
    text: str
    text_secondary: str   # labels, captions, header text
    text_muted: str       # hints, counts, placeholders
    text_disabled: str
    accent: str           # links, the checked tool button, focus rings
    accent_strong: str    # the current-row marker, progress
    accent_soft: str      # the selected item's background
    on_accent: str        # text on a strong colour (a status chip, the archive banner)
    selection: str        # selected table rows
    checked_row: str      # ticked table rows (lighter than the selection, so both read)
    danger: str
    danger_soft: str
    warning: str
    warning_soft: str
    success: str
    success_soft: str
    info: str
    info_soft: str
    match: str            # a search match's background
    match_current: str
    difference: str       # a value that differs among compared experiments
    difference_soft: str
    archive_base: str
    archive_alternate: str
    archive_border: str

    def colour(self, role: str) -> QColor:
        return QColor(getattr(self, role))

    def state_colour(self, state: str) -> str:
        return STATE_COLOURS.get(state, self.text_muted)

    def substitute(self, template: str) -> str:
        """``template`` with ``$role`` replaced by the role's colour (style sheets use braces)."""
        return Template(template).safe_substitute(
            {f.name: getattr(self, f.name) for f in fields(self) if isinstance(getattr(self, f.name), str)})


LIGHT = Palette(
    name="light",
    window="#ffffff", surface="#ffffff", surface_alt="#f6f8fa", surface_sunken="#f8f9fa", hover="#eaeef2",
    border="#d0d7de", border_soft="#e9ecef",
    text="#1f2328", text_secondary="#57606a", text_muted="#8c959f", text_disabled="#adb5bd",
    accent="#0969da", accent_strong="#2f81f7", accent_soft="#ddf4ff", on_accent="#ffffff",
    selection="#dbeafe", checked_row="#eef6ff",
    danger="#cf222e", danger_soft="#fff5f5", warning="#9a6700", warning_soft="#fff4d6",
    success="#2b8a3e", success_soft="#ebfbee", info="#1864ab", info_soft="#e7f5ff",
    match="#fff3bf", match_current="#7fb8ff", difference="#ffe8b3", difference_soft="#fff4d6",
    archive_base="#fff8e6", archive_alternate="#fdf1d3", archive_border="#e3b341",
)

DARK = Palette(
    name="dark",
    window="#0d1117", surface="#151b23", surface_alt="#161b22", surface_sunken="#010409", hover="#262c36",
    border="#3d444d", border_soft="#2a3038",
    text="#e6edf3", text_secondary="#9198a1", text_muted="#7d8590", text_disabled="#545d68",
    accent="#4493f8", accent_strong="#2f81f7", accent_soft="#15304f", on_accent="#ffffff",
    selection="#1c3658", checked_row="#132238",
    danger="#f85149", danger_soft="#3b1619", warning="#d29922", warning_soft="#3a2d12",
    success="#3fb950", success_soft="#12301c", info="#58a6ff", info_soft="#0f2a4a",
    match="#5c4a10", match_current="#1f6feb", difference="#4d3b12", difference_soft="#2e2512",
    archive_base="#1f1a0e", archive_alternate="#2a2211", archive_border="#9e6a03",
)

PALETTES = {p.name: p for p in (LIGHT, DARK)}

# Data colours: one per series in a plot of one experiment (the comparison gives each experiment its
# own from core.compare_palette). Mid-tone, so they read on the light and on the dark surface alike.
SERIES_COLOURS = ("#1c7ed6", "#e8590c", "#2f9e44", "#d6336c", "#7048e8", "#0c8599", "#f08c00", "#5c940d",
                  "#ae3ec9", "#868e96", "#c92a2a", "#1098ad")
# The ink the monochrome icons in resources/icons are drawn in, and its lighter variant.
ICON_INK = "#424a53"
ICON_INK_LIGHT = "#6e7781"
# Text drawn over a data colour (a heat-map cell): chosen by the cell's colour, not by the palette.
INK_ON_DARK = "#ffffff"
INK_ON_LIGHT = "#212529"
_current = LIGHT


def current() -> Palette:
    """The palette the window is drawn with."""
    return _current


def set_current(palette: Palette) -> None:
    global _current
    _current = palette


def system_scheme():
    """The operating system's colour scheme as Qt reports it (Qt 6.5+); Unknown without an app."""
    if QGuiApplication.instance() is None:
        return Qt.ColorScheme.Unknown
    return QGuiApplication.styleHints().colorScheme()


def choose_palette(scheme=None) -> Palette:
    """The palette to draw with: ``EXPTABLE_COLOR_SCHEME`` when set, else the system's ``scheme``
    (light when the system does not say, as offscreen and some X11 desktops don't)."""
    wanted = os.environ.get(ENV_SCHEME, "").strip().lower()
    if wanted in PALETTES:
        return PALETTES[wanted]
    scheme = system_scheme() if scheme is None else scheme
    return DARK if scheme == Qt.ColorScheme.Dark else LIGHT


def qt_palette(palette: Palette) -> QPalette:
    """The palette as Qt's, so stock widgets (menus, dialogs, scroll bars) match the chrome."""
    qp = QPalette()
    roles = {
        QPalette.ColorRole.Window: palette.window, QPalette.ColorRole.WindowText: palette.text,
        QPalette.ColorRole.Base: palette.surface, QPalette.ColorRole.AlternateBase: palette.surface_alt,
        QPalette.ColorRole.Text: palette.text, QPalette.ColorRole.Button: palette.surface_alt,
        QPalette.ColorRole.ButtonText: palette.text, QPalette.ColorRole.Highlight: palette.selection,
        QPalette.ColorRole.HighlightedText: palette.text, QPalette.ColorRole.ToolTipBase: palette.surface,
        QPalette.ColorRole.ToolTipText: palette.text, QPalette.ColorRole.PlaceholderText: palette.text_muted,
        QPalette.ColorRole.Link: palette.accent, QPalette.ColorRole.BrightText: palette.on_accent,
        QPalette.ColorRole.Mid: palette.border, QPalette.ColorRole.Dark: palette.border,
        QPalette.ColorRole.Midlight: palette.border_soft, QPalette.ColorRole.Light: palette.surface,
        QPalette.ColorRole.Shadow: palette.surface_sunken,
    }
    for role, colour in roles.items():
        qp.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        qp.setColor(QPalette.ColorGroup.Disabled, role, QColor(palette.text_disabled))
    return qp


def themed(template: str) -> str:
    """``template`` (a style sheet, rich text or one colour) with ``$role`` in the current palette."""
    return _current.substitute(template)


def translucent(role: str, alpha: int):
    """The role's colour with ``alpha`` (0-255): legends and labels over a plot's data."""
    colour = QColor(getattr(_current, role))
    colour.setAlpha(alpha)
    return colour


def contrasting_text(background: str) -> str:
    """Black or white, whichever reads on ``background`` (a user's tag colour, say)."""
    return INK_ON_LIGHT if QColor(background).lightness() > 140 else INK_ON_DARK
