"""What the compare tabs that list plots share: the page of a tool bar over a scroll area
that gives way to an empty-state label, and the per-project choice of hidden plots."""
from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QRect
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from exptable_desktop.core import details as details_data
from exptable_desktop.ui.details.common import empty_state


def scrolled_page(owner: QWidget, bar: QHBoxLayout, content: QWidget, scroll_name: str,
                  empty_text: str) -> tuple[QScrollArea, QLabel, QStackedWidget]:
    """Lay ``owner`` out as ``bar`` over a stack of ``content`` (scrolled) and an empty state."""
    scroll = QScrollArea()
    scroll.setObjectName(scroll_name)
    scroll.setWidgetResizable(True)
    scroll.setWidget(content)
    empty_label = empty_state(empty_text)
    stack = QStackedWidget()
    stack.addWidget(scroll)
    stack.addWidget(empty_label)
    layout = QVBoxLayout(owner)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addLayout(bar)
    layout.addWidget(stack, 1)
    return scroll, empty_label, stack


def area_to_build(scroll: QScrollArea) -> QRect:
    """The part of the scrolled widget worth building now: the visible part and half a screen
    above and below it, so that plots are ready before they scroll into view."""
    canvas = scroll.widget()
    canvas.layout().activate()
    viewport = scroll.viewport()
    top = scroll.verticalScrollBar().value()
    return QRect(0, top - viewport.height() // 2, max(1, canvas.width()), viewport.height() * 2)


def load_hidden_plots(preference_key: str, project: str) -> set[str]:
    """The plot titles hidden in ``project``; a damaged preference hides nothing."""
    saved = details_data.load_preference(preference_key, {})
    hidden = saved.get(project, []) if isinstance(saved, dict) else []
    return {str(t) for t in hidden} if isinstance(hidden, list) else set()


def save_hidden_plots(preference_key: str, project: str, titles: Iterable[str]) -> None:
    saved = details_data.load_preference(preference_key, {})
    saved = dict(saved) if isinstance(saved, dict) else {}
    saved[project] = sorted(titles)
    details_data.save_preference(preference_key, saved)


def add_plot_actions(menu: QMenu, titles: Iterable[str], hidden: set[str],
                     set_hidden: Callable[[str, bool], None]) -> None:
    """A checked action per shown plot; toggling one calls ``set_hidden(title, hidden)``."""
    for title in titles:
        action = QAction(title, menu)
        action.setCheckable(True)
        action.setChecked(title not in hidden)
        action.toggled.connect(lambda checked, t=title: set_hidden(t, not checked))
        menu.addAction(action)
