"""Icons drawn as small SVG files under resources/icons, loaded once and cached."""
from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

from exptable_desktop.core import states as st
from exptable_desktop.paths import resource_path

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


@lru_cache(maxsize=None)
def icon(name: str) -> QIcon:
    return QIcon(str(resource_path("icons", f"{name}.svg")))


@lru_cache(maxsize=None)
def pixmap(name: str, size: int, ratio: float = 1.0) -> QPixmap:
    """A crisp pixmap of an SVG icon at ``size`` logical pixels."""
    renderer = QSvgRenderer(str(resource_path("icons", f"{name}.svg")))
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
