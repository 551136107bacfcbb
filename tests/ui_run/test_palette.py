"""The window's colours come from one palette module; a dark palette follows the system's scheme."""
from __future__ import annotations

import re
from dataclasses import fields
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette

from exptable_desktop.ui import palette

UI = Path(palette.__file__).resolve().parent
HEX = re.compile(r"#[0-9a-fA-F]{6}\b")


def test_no_hex_colour_outside_the_palette_module():
    found = []
    for path in sorted(UI.rglob("*.py")):
        if path.name == "palette.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if HEX.search(line):
                found.append(f"{path.relative_to(UI)}:{number}: {line.strip()}")
    style_sheet = UI.parent.parent / "resources" / "styles" / "exptable.qss"
    found += [f"exptable.qss: {line}" for line in style_sheet.read_text().splitlines() if HEX.search(line)]
    assert not found, "colours outside ui/palette.py:\n" + "\n".join(found)


def test_both_palettes_name_every_role_with_a_colour():
    for pal in palette.PALETTES.values():
        for field in fields(pal):
            if field.name != "name":
                assert QColor(getattr(pal, field.name)).isValid(), (pal.name, field.name)


def test_dark_text_reads_on_dark_surfaces_and_light_on_light():
    for pal in palette.PALETTES.values():
        text, surface = QColor(pal.text), QColor(pal.surface)
        assert abs(text.lightness() - surface.lightness()) > 150, pal.name
    assert QColor(palette.DARK.window).lightness() < 40 < 220 < QColor(palette.LIGHT.window).lightness()


def test_the_environment_chooses_the_palette(monkeypatch, qapp):
    monkeypatch.setenv(palette.ENV_SCHEME, "dark")
    assert palette.choose_palette() is palette.DARK
    monkeypatch.setenv(palette.ENV_SCHEME, "light")
    assert palette.choose_palette() is palette.LIGHT


def test_without_a_choice_the_system_scheme_decides(monkeypatch, qapp):
    monkeypatch.delenv(palette.ENV_SCHEME, raising=False)
    assert palette.choose_palette(Qt.ColorScheme.Dark) is palette.DARK
    assert palette.choose_palette(Qt.ColorScheme.Light) is palette.LIGHT
    assert palette.choose_palette(Qt.ColorScheme.Unknown) is palette.LIGHT
    # What this platform reports is what is followed (offscreen reports Unknown: light).
    expected = palette.DARK if palette.system_scheme() == Qt.ColorScheme.Dark else palette.LIGHT
    assert palette.choose_palette() is expected


def test_style_sheet_templates_are_filled_from_the_current_palette():
    sheet = palette.DARK.substitute("QLabel { color: $text; background: $surface_alt; }")
    assert sheet == f"QLabel {{ color: {palette.DARK.text}; background: {palette.DARK.surface_alt}; }}"
    qt = palette.qt_palette(palette.DARK)
    assert qt.color(QPalette.ColorRole.Window).name() == palette.DARK.window
    assert qt.color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text).name() == palette.DARK.text_disabled


def test_icons_are_drawn_in_the_palettes_ink(qapp):
    from exptable_desktop.ui import icons

    light = bytes(icons._svg("archive", "light")).decode()
    dark = bytes(icons._svg("archive", "dark")).decode()
    assert palette.ICON_INK in light and palette.ICON_INK not in dark
    assert palette.DARK.text_secondary in dark
    # A rendered dark icon is lighter than the same light one: it reads on the dark surface.
    def mean_lightness(name_of_palette):
        image = icons._pixmap("archive", 32, 1.0, name_of_palette).toImage()
        inked = [image.pixelColor(x, y) for x in range(32) for y in range(32) if image.pixelColor(x, y).alpha() > 200]
        return sum(c.lightness() for c in inked) / len(inked)
    assert mean_lightness("dark") > mean_lightness("light") + 60
