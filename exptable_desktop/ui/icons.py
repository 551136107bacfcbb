"""Icons drawn as small SVG files under resources/icons, loaded once and cached."""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QByteArray, QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from exptable_desktop.core import states as st
from exptable_desktop.paths import resource_path
from exptable_desktop.ui import palette

STATUS_ICONS = {
    st.DRAFT: "status-draft", st.PENDING: "status-pending", st.RUNNING: "status-running",
    st.COMPLETED: "status-completed", st.CLOSED: "status-completed", st.ABORTED: "status-aborted",
    st.FAILED: "status-failed", st.PUBLISHING: "status-published", st.PUBLISHED: "status-published",
}
TYPE_ICONS = {"training", "testing", "inference", "data_processing", "controller", "optimizer"}
# The experiment menu's and the batch bar's entries (ui.actions.eligibility keys), and the entries
# other parts add to the menu (by object name).
ACTION_ICONS = {
    "details": "view-details", "full_screen": "full-screen", "manage_queue": "manage-queue",
    "view_worker": "workers", "delete": "delete", "archive": "archive", "restore": "restore",
    "enqueue": "enqueue", "retry": "retry", "dequeue": "dequeue", "reset": "reset", "abort": "abort",
    "abort_children": "abort-children", "publish": "publish", "add_tags": "tag", "clone": "clone",
    "move": "move", "compare": "view-comparison",
    "experimentCopyLink": "link", "experimentCopyCompareLink": "link",
    "experimentStar": "star", "experimentUnstar": "star", "action_export_json": "export", "menu_share": "share",
    "customActionsMenu": "custom-action",
}


# The monochrome icons' ink (palette.ICON_INK, ICON_INK_LIGHT) becomes the palette's secondary and
# muted text, so the icons read on a dark palette too.
ICON_SIZES = (12, 14, 16, 20, 24, 32, 48)


@lru_cache(maxsize=None)
def _svg(name: str, palette_name: str) -> QByteArray:
    text = resource_path("icons", f"{name}.svg").read_text(encoding="utf-8")
    chrome = palette.PALETTES[palette_name]
    if chrome is not palette.LIGHT:
        text = text.replace(palette.ICON_INK, chrome.text_secondary).replace(palette.ICON_INK_LIGHT, chrome.text_muted)
    return QByteArray(text.encode("utf-8"))


def icon(name: str) -> QIcon:
    return _icon(name, palette.current().name)


@lru_cache(maxsize=None)
def _icon(name: str, palette_name: str) -> QIcon:
    if palette.PALETTES[palette_name] is palette.LIGHT:
        return QIcon(str(resource_path("icons", f"{name}.svg")))
    result = QIcon()
    for size in ICON_SIZES:
        result.addPixmap(pixmap(name, size))
    return result


def pixmap(name: str, size: int, ratio: float = 1.0) -> QPixmap:
    """A crisp pixmap of an SVG icon at ``size`` logical pixels, in the current palette's ink."""
    return _pixmap(name, size, ratio, palette.current().name)


@lru_cache(maxsize=None)
def _pixmap(name: str, size: int, ratio: float, palette_name: str) -> QPixmap:
    renderer = QSvgRenderer(_svg(name, palette_name))
    pm = QPixmap(QSize(int(size * ratio), int(size * ratio)))
    pm.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pm)
    renderer.render(painter)
    painter.end()
    pm.setDevicePixelRatio(ratio)
    return pm


def status_icon_name(status: str) -> str:
    return STATUS_ICONS.get(status, "status-draft")


def type_icon_name(task_type: str) -> str:
    return f"type-{task_type}" if task_type in TYPE_ICONS else "type-other"


def action_icon(key: str) -> QIcon:
    """The icon of a menu or batch bar entry; an empty icon for an entry without one."""
    name = ACTION_ICONS.get(key)
    return icon(name) if name else QIcon()
