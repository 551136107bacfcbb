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
