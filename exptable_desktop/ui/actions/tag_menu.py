"""The Add Tag menu: search existing tags (this project or all), create one, remove common ones.

A tag every target already carries shows checked; choosing it removes it from
all targets. Any other tag is added to all targets. The list is read when the
menu first opens, not when its parent menu is built.
"""
from __future__ import annotations

from typing import Callable, Sequence

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QCheckBox, QLineEdit, QMenu, QVBoxLayout, QWidget, QWidgetAction

from exptable_desktop.ui import icons

# More tags than this are reached by typing, so the menu stays on screen.
SHOWN_TAGS = 40


class TagMenu(QMenu):
    """The Add Tag menu for one or several experiments (see the module docstring); the caller's callbacks list the
    tags and do the adding, removing and colour editing."""

    def __init__(self, title: str, target_tags: Sequence[Sequence[str]], *,
                 list_tags: Callable[[bool], list[str]], project_scoped: bool,
                 on_add: Callable[[str], None], on_remove: Callable[[str], None],
                 on_colors: Callable[[], None], parent: QWidget | None = None):
        super().__init__(title, parent)
        self.setObjectName("tagMenu")
        self._list_tags = list_tags
        self._on_add = on_add
        self._on_remove = on_remove
        self._on_colors = on_colors
        self._targets = len(target_tags)
        self._carried: dict[str, int] = {}
        for tags in target_tags:
            for tag in set(tags):
                self._carried[tag] = self._carried.get(tag, 0) + 1
        self._names: list[str] = []
        self._tag_actions: list[QAction] = []

        holder = QWidget(self)
        box = QVBoxLayout(holder)
        box.setContentsMargins(6, 4, 6, 4)
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("tagSearch")
        self.search_edit.setPlaceholderText("Search or create a tag")
        self.search_edit.setClearButtonEnabled(True)
        box.addWidget(self.search_edit)
        self.project_only = QCheckBox("This project only")
        self.project_only.setObjectName("tagProjectOnly")
        self.project_only.setChecked(project_scoped)
        self.project_only.setEnabled(project_scoped)
        box.addWidget(self.project_only)
        search_action = QWidgetAction(self)
        search_action.setDefaultWidget(holder)
        self.addAction(search_action)

        self.create_action = self.addAction(icons.icon("new-experiment"), "")
        self.create_action.setObjectName("createTag")
        self.create_action.triggered.connect(lambda: self.choose(self.search_edit.text().strip()))
        self.create_action.setVisible(False)
        self._list_separator = self.addSeparator()
        self._list_end = self.addSeparator()
        self.more_action = self.addAction("")
        self.more_action.setEnabled(False)
        self.more_action.setVisible(False)
        self.colors_action = self.addAction(icons.icon("palette"), "Tag Colours…")
        self.colors_action.setObjectName("tagColors")
        self.colors_action.triggered.connect(self._on_colors)

        self._populated = False
        self.aboutToShow.connect(self._on_show)
        self.search_edit.textChanged.connect(self._apply_filter)
        self.search_edit.returnPressed.connect(self._choose_typed)
        self.project_only.toggled.connect(lambda _: self.populate())

    # ---- content ---------------------------------------------------------------------------

    def _on_show(self) -> None:
        if not self._populated:
            self.populate()
        QTimer.singleShot(0, self.search_edit.setFocus)

    def populate(self) -> None:
        """(Re)read the tag list for the current scope toggle."""
        self._populated = True
        listed = set(self._list_tags(self.project_only.isChecked()))
        carried = sorted(self._carried, key=str.lower)
        others = sorted(listed - set(self._carried), key=str.lower)
        self._names = carried + others
        self._apply_filter()

    def state_of(self, name: str) -> str:
        """"all" (every target has it), "some", or "none"."""
        n = self._carried.get(name, 0)
        return "all" if self._targets and n == self._targets else ("some" if n else "none")

    def _apply_filter(self) -> None:
        for action in self._tag_actions:
            self.removeAction(action)
            action.deleteLater()
        self._tag_actions = []
        text = self.search_edit.text().strip()
        needle = text.lower()
        matches = [n for n in self._names if needle in n.lower()]
        for name in matches[:SHOWN_TAGS]:
            state = self.state_of(name)
            label = name if state != "some" else f"{name}  ({self._carried[name]} of {self._targets})"
            action = QAction(label, self)
            action.setCheckable(True)
            action.setChecked(state == "all")
            action.setData(name)
            action.setToolTip(f"Remove \"{name}\"" if state == "all" else f"Add \"{name}\"")
            action.triggered.connect(lambda _=False, n=name: self.choose(n))
            self.insertAction(self._list_end, action)
            self._tag_actions.append(action)
        hidden = len(matches) - SHOWN_TAGS
        self.more_action.setText(f"… {hidden} more; type to narrow")
        self.more_action.setVisible(hidden > 0)
        exact = any(n == text for n in self._names)
        self.create_action.setText(f'"{text}" (Create New)')
        self.create_action.setVisible(bool(text) and not exact)

    def tag_entries(self) -> list[tuple[str, bool]]:
        """(tag, checked) as listed now, for tests and accessibility."""
        return [(a.data(), a.isChecked()) for a in self._tag_actions]

    # ---- choosing ----------------------------------------------------------------------------

    def _choose_typed(self) -> None:
        text = self.search_edit.text().strip()
        if text:
            self.choose(text)

    def choose(self, name: str) -> None:
        """Remove ``name`` if every target has it, else add it to all of them."""
        menu = self
        while isinstance(menu, QMenu):  # as a submenu, close the whole menu chain
            menu.close()
            menu = menu.parentWidget()
        if self.state_of(name) == "all":
            self._on_remove(name)
        else:
            self._on_add(name)
