"""The project tree on the left: "All experiments" and nested projects with experiment counts."""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QAbstractItemView, QCheckBox, QHeaderView, QTreeView, QVBoxLayout, QWidget

from exptable_desktop.store import bulk
from exptable_desktop.ui import icons

ProjectIdRole = Qt.ItemDataRole.UserRole + 1
PathRole = Qt.ItemDataRole.UserRole + 2
ALL_ID = -1  # the "All experiments" row


class ProjectTreeModel(QStandardItemModel):
    def __init__(self, parent=None):
        super().__init__(0, 2, parent)
        # The count column is as wide as its numbers: a hidden header still counts in ResizeToContents.
        self.setHorizontalHeaderLabels(["Project", "#"])
        self.items: dict[int, QStandardItem] = {}
        self.paths: dict[int, str] = {}
        self.children_of: dict[int, list[int]] = {}

    def rebuild(self, archived: bool) -> None:
        """Rebuild from the database when the set of projects changed; else only counts move."""
        rows = bulk.project_rows()
        structure = sorted((pid, name, parent) for pid, name, parent in rows)
        if structure != getattr(self, "_structure", None):
            self._structure = structure
            self._build(rows)
        self.update_counts(bulk.project_counts(archived))

    def _build(self, rows) -> None:
        self.removeRows(0, self.rowCount())
        self.items.clear()
        by_parent: dict[int | None, list[tuple[int, str]]] = {}
        known = {pid for pid, _n, _p in rows}
        for pid, name, parent in rows:
            by_parent.setdefault(parent if parent in known else None, []).append((pid, name))
        self.children_of = {p: [c for c, _ in kids] for p, kids in by_parent.items() if p is not None}
        all_item = QStandardItem(icons.icon("all-experiments"), "All experiments")
        all_item.setData(ALL_ID, ProjectIdRole)
        self.items[ALL_ID] = all_item
        self.appendRow([all_item, self._count_item()])

        def add(parent_item, parent_id, prefix):
            for pid, name in sorted(by_parent.get(parent_id, []), key=lambda p: p[1].lower()):
                path = f"{prefix}/{name}" if prefix else name
                item = QStandardItem(icons.icon("project"), name)
                item.setData(pid, ProjectIdRole)
                item.setData(path, PathRole)
                item.setToolTip(path)
                self.items[pid] = item
                self.paths[pid] = path
                parent_item.appendRow([item, self._count_item()])
                add(item, pid, path)
        add(self.invisibleRootItem(), None, "")
        for item in self.items.values():
            item.setEditable(False)

    @staticmethod
    def _count_item() -> QStandardItem:
        item = QStandardItem("")
        item.setEditable(False)
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setForeground(Qt.GlobalColor.darkGray)
        return item

    def descendants(self, project_id: int) -> list[int]:
        out = [project_id]
        for child in self.children_of.get(project_id, []):
            out.extend(self.descendants(child))
        return out

    def update_counts(self, own: dict[int, int]) -> None:
        def total(pid):
            return own.get(pid, 0) + sum(total(c) for c in self.children_of.get(pid, []))
        for pid, item in self.items.items():
            count = sum(own.values()) if pid == ALL_ID else total(pid)
            sibling = item.index().siblingAtColumn(1)
            text = f"{count:,}"
            if self.data(sibling) != text:
                self.setData(sibling, text)


class ProjectTree(QWidget):
    """Tree plus the "show experiments of sub-projects" toggle."""

    sig_project_chosen = Signal(object)  # project id or None (all)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.model = ProjectTreeModel(self)
        self.view = QTreeView()
        self.view.setObjectName("projectTree")
        self.view.setModel(self.model)
        self.view.setHeaderHidden(True)
        self.view.setUniformRowHeights(True)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.header().setStretchLastSection(False)
        self.view.header().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.view.header().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.subprojects_toggle = QCheckBox("Show experiments of sub-projects")
        self.subprojects_toggle.setObjectName("subprojectsToggle")
        self.subprojects_toggle.setChecked(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.view)
        layout.addWidget(self.subprojects_toggle)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self._silent = False

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if self._silent or not current.isValid():
            return
        pid = current.siblingAtColumn(0).data(ProjectIdRole)
        self.sig_project_chosen.emit(None if pid == ALL_ID else pid)

    def select_project(self, project_id: int | None) -> None:
        item = self.model.items.get(ALL_ID if project_id is None else project_id)
        if item is None:
            return
        self._silent = True
        self.view.setCurrentIndex(item.index())
        self.view.scrollTo(item.index())
        self._silent = False
