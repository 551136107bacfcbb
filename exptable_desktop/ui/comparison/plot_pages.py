"""What the compare tabs that list plots share: the page of a tool bar over a scroll area
that gives way to an empty state, and the per-project choice of hidden plots. (The grid of
scalar plots itself is ``ui.plot_grid``; its helpers are re-exported here for the PLOTS tab.)"""
from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtWidgets import QHBoxLayout, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from exptable_desktop.core import details as details_data
from exptable_desktop.ui.empty_state import EmptyState
from exptable_desktop.ui.plot_grid import add_plot_actions, area_to_build

__all__ = ["add_plot_actions", "area_to_build", "load_hidden_plots", "save_hidden_plots", "scrolled_page",
           "sentence_case"]


def sentence_case(text: str) -> str:
    """"NO PLOTS TO COMPARE" -> "No plots to compare"; other texts as they are."""
    return text[:1] + text[1:].lower() if text.isupper() else text


def scrolled_page(owner: QWidget, bar: QHBoxLayout, content: QWidget, scroll_name: str,
                  empty_text: str, empty_body: str = "", empty_code: str = "") -> tuple[QScrollArea, EmptyState,
                                                                                       QStackedWidget]:
    """Lay ``owner`` out as ``bar`` over a stack of ``content`` (scrolled) and an empty state."""
    scroll = QScrollArea()
    scroll.setObjectName(scroll_name)
    scroll.setWidgetResizable(True)
    scroll.setWidget(content)
    empty_label = EmptyState(sentence_case(empty_text), empty_body, empty_code, icon="view-comparison")
    stack = QStackedWidget()
    stack.addWidget(scroll)
    stack.addWidget(empty_label)
    layout = QVBoxLayout(owner)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(0)
    layout.addLayout(bar)
    layout.addWidget(stack, 1)
    return scroll, empty_label, stack


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
