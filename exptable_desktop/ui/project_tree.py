"""The project tree on the left: "All experiments" and nested projects with experiment counts.

Its menu creates, renames, deletes and moves projects, and removes the sample data of the first
start; a project dragged onto another becomes its sub-project (onto "All experiments": top level).
``install_project_menu(window)`` wires the menu and the drops to the window.
"""
from __future__ import annotations

from PySide6.QtCore import QByteArray, QMimeData, QModelIndex, QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHeaderView,
    QMenu,
    QMessageBox,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import database
from exptable_desktop.ui import icons
from exptable_desktop.ui.palette import themed

ProjectIdRole = Qt.ItemDataRole.UserRole + 1
PathRole = Qt.ItemDataRole.UserRole + 2
ALL_ID = -1  # the "All experiments" row
PROJECT_MIME = "application/x-exptable-project"


class ProjectTreeModel(QStandardItemModel):
    """The project tree's model: "All experiments" and the nested projects with their counts; rebuilt only when
    projects change, and a drop of one project on another emits ``sig_move_requested``."""

    # A project dropped on another (or on "All experiments": None, the top level): (project id, new parent).
    sig_move_requested = Signal(int, object)

    def __init__(self, parent=None):
        super().__init__(0, 2, parent)
        # The count column is as wide as its numbers: a hidden header still counts in ResizeToContents.
        self.setHorizontalHeaderLabels(["Project", "#"])
        self.items: dict[int, QStandardItem] = {}
        self.paths: dict[int, str] = {}
        self.children_of: dict[int, list[int]] = {}

    def rebuild(self, archived: bool) -> None:
        """Rebuild from the database when the set of projects changed; else only counts move."""
        rows = database.project_rows()
        structure = sorted((pid, name, parent) for pid, name, parent in rows)
        if structure != getattr(self, "_structure", None):
            self._structure = structure
            self._build(rows)
        self.update_counts(database.project_counts(archived))

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

    # ---- Dragging a project onto another -----------------------------------------------------------

    def flags(self, index):
        flags = super().flags(index)
        pid = index.siblingAtColumn(0).data(ProjectIdRole) if index.isValid() else None
        if pid is None or index.column() != 0:
            return flags & ~Qt.ItemFlag.ItemIsDragEnabled & ~Qt.ItemFlag.ItemIsDropEnabled
        if pid == ALL_ID:
            return (flags | Qt.ItemFlag.ItemIsDropEnabled) & ~Qt.ItemFlag.ItemIsDragEnabled
        return flags | Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled

    def mimeTypes(self):  # noqa: N802
        return [PROJECT_MIME]

    def supportedDropActions(self):  # noqa: N802
        return Qt.DropAction.MoveAction

    def supportedDragActions(self):  # noqa: N802
        return Qt.DropAction.MoveAction

    def mimeData(self, indexes):  # noqa: N802
        ids = [i.siblingAtColumn(0).data(ProjectIdRole) for i in indexes if i.isValid()]
        ids = [i for i in dict.fromkeys(ids) if i not in (None, ALL_ID)]
        data = QMimeData()
        if ids:
            data.setData(PROJECT_MIME, QByteArray(str(ids[0]).encode()))
        return data

    def _drop_target(self, row: int, parent: QModelIndex) -> object:
        """The new parent of a drop: the project dropped on (None for "All experiments"); a drop between
        rows goes under the parent of those rows."""
        if not parent.isValid():
            return None
        pid = parent.siblingAtColumn(0).data(ProjectIdRole)
        return None if pid in (None, ALL_ID) else pid

    def canDropMimeData(self, data, action, row, column, parent):  # noqa: N802
        return data.hasFormat(PROJECT_MIME)

    def dropMimeData(self, data, action, row, column, parent):  # noqa: N802
        if not data.hasFormat(PROJECT_MIME):
            return False
        try:
            pid = int(bytes(data.data(PROJECT_MIME)).decode())
        except ValueError:
            return False
        target = self._drop_target(row, parent)
        if target != pid:
            # After the drop returns: the move rebuilds this model, under the view's dropEvent otherwise.
            QTimer.singleShot(0, lambda: self.sig_move_requested.emit(pid, target))
        return False  # the tree is rebuilt from the database, not moved by Qt

    @staticmethod
    def _count_item() -> QStandardItem:
        item = QStandardItem("")
        item.setEditable(False)
        item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        item.setForeground(QColor(themed("$text_muted")))
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
        self.view.setDragEnabled(True)
        self.view.setAcceptDrops(True)
        self.view.setDropIndicatorShown(True)
        self.view.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.view.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
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


# ---- The tree's menu: projects and sample data ------------------------------------------------------------

def ask_text(parent, title: str, label: str, text: str = "") -> str | None:
    from exptable_desktop.core.projects import project_name_problem
    from exptable_desktop.ui.actions.dialogs import ask_text as ask

    return ask(parent, title, label, text, action_text="Create" if title == "New project" else "Rename",
               problem=project_name_problem)


def ask_delete(parent, path: str, contents) -> str | None:
    """"delete" (an empty project), "archive_and_delete", or None (cancelled)."""
    if not contents.experiments:
        more = f" and its {contents.subprojects} sub-projects" if contents.subprojects else ""
        answer = QMessageBox.question(parent, "Delete project", f'Delete the empty project "{path}"{more}?')
        return "delete" if answer == QMessageBox.StandardButton.Yes else None
    box = QMessageBox(QMessageBox.Icon.Warning, "Delete project",
                      f'"{path}" holds {contents.active} experiments and {contents.archived} archived ones'
                      + (f" in {contents.subprojects + 1} projects" if contents.subprojects else "") + ". "
                      "Archive all and delete removes them for good, with their files (running ones are "
                      "aborted first). To keep them, move them to another project first.",
                      QMessageBox.StandardButton.Cancel, parent)
    doit = box.addButton("Archive all and delete", QMessageBox.ButtonRole.DestructiveRole)
    box.exec()
    return "archive_and_delete" if box.clickedButton() is doit else None


def confirm_remove_sample(parent, sample) -> bool:
    answer = QMessageBox.question(
        parent, "Remove sample data",
        f"Remove the {len(sample.experiments)} sample experiments the first start added, with their files, "
        f"and the sample projects, tags, queues and workers nothing else uses? Your own experiments stay.")
    return answer == QMessageBox.StandardButton.Yes


class ProjectMenu:
    """The project tree's context menu and drops, acting through core.projects."""

    def __init__(self, window):
        self.window = window
        self.panel = window.project_panel
        self.last_menu: QMenu | None = None
        self.panel.view.customContextMenuRequested.connect(self.show_menu)
        self.panel.model.sig_move_requested.connect(self.move)

    def _project_at(self, pos: QPoint) -> int | None:
        index = self.panel.view.indexAt(pos)
        pid = index.siblingAtColumn(0).data(ProjectIdRole) if index.isValid() else None
        return None if pid in (None, ALL_ID) else pid

    def build_menu(self, project_id: int | None) -> QMenu:
        from exptable_desktop.core.projects import sample_data

        menu = QMenu(self.panel)
        menu.setObjectName("projectMenu")
        path = self.panel.model.paths.get(project_id, "") if project_id is not None else ""
        writable = not self.window.read_only_reason

        def add(text, name, slot, enabled=True):
            action = menu.addAction(text)
            action.setObjectName(name)
            action.setEnabled(enabled and writable)
            if not writable:
                action.setToolTip(f"Read-only database: {self.window.read_only_reason}")
            action.triggered.connect(lambda _=False: slot())
            return action
        if project_id is None:
            add("New project…", "projectNew", lambda: self.create(None))
        else:
            add(f'New sub-project of "{path}"…', "projectNewChild", lambda: self.create(project_id))
            add("Rename…", "projectRename", lambda: self.rename(project_id))
            if "/" in path:
                add("Move to the top level", "projectMoveTop", lambda: self.move(project_id, None))
            add("Delete…", "projectDelete", lambda: self.delete(project_id))
            menu.addSeparator()
            add("New project…", "projectNew", lambda: self.create(None))
        sample = sample_data()
        if sample is not None:
            menu.addSeparator()
            add("Remove sample data…", "projectRemoveSample", self.remove_sample)
        self.last_menu = menu
        return menu

    def show_menu(self, pos: QPoint) -> QMenu:
        menu = self.build_menu(self._project_at(pos))
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(self.panel.view.viewport().mapToGlobal(pos))
        return menu

    def _after_change(self, message: str, *, current: int | None | bool = False) -> None:
        """Rebuild the tree and the table (project paths changed); ``current``: the project to show
        (False: the one on screen, if it still exists)."""
        model = self.panel.model
        model.rebuild(self.window.is_archive_mode())
        project_id, deep = self.window.current_scope()
        if current is not False:
            project_id = current
        if project_id is not None and project_id not in model.items:
            project_id = None
        self.window.open_project(project_id, deep)
        self.window.show_message(message)

    def _do(self, what: str, fn):
        from exptable_desktop.core.projects import ProjectError
        from exptable_desktop.core.database import StoreError

        try:
            return fn()
        except (ProjectError, StoreError) as exc:
            self.window.show_message(f"{what}: {exc}")
            return None

    def create(self, parent_id: int | None) -> int | None:
        from exptable_desktop.core.projects import create_project

        where = f' in "{self.panel.model.paths.get(parent_id, "")}"' if parent_id is not None else ""
        name = ask_text(self.window, "New project", f"Name of the new project{where}:")
        if not name:
            return None
        new_id = self._do("Could not create the project", lambda: create_project(name, parent_id))
        if new_id is not None:
            self._after_change(f'Project "{name.strip()}" created', current=new_id)
        return new_id

    def rename(self, project_id: int) -> bool:
        from exptable_desktop.core.projects import rename_project

        path = self.panel.model.paths.get(project_id, "")
        name = ask_text(self.window, "Rename project", f'New name for "{path}":', path.rsplit("/", 1)[-1])
        if not name:
            return False
        if self._do("Could not rename the project", lambda: rename_project(project_id, name) or True):
            self._after_change(f'Project renamed to "{name.strip()}"')
            return True
        return False

    def move(self, project_id: int, new_parent: int | None) -> bool:
        from exptable_desktop.core.projects import move_project

        if self._do("Could not move the project", lambda: move_project(project_id, new_parent) or True):
            self.panel.model.rebuild(self.window.is_archive_mode())
            self._after_change(f'Project moved to "{self.panel.model.paths.get(project_id, "")}"')
            return True
        return False

    def delete(self, project_id: int) -> bool:
        from exptable_desktop.core.projects import delete_project, project_contents

        path = self.panel.model.paths.get(project_id, "")
        contents = self._do("Could not delete the project", lambda: project_contents(project_id))
        if contents is None:
            return False
        choice = ask_delete(self.window, path, contents)
        if choice is None:
            return False
        done = self._do("Could not delete the project", lambda: delete_project(
            project_id, archive_and_delete=choice == "archive_and_delete"))
        if done is None:
            return False
        gone = f" and {done.experiments} experiments" if done.experiments else ""
        self._after_change(f'Project "{path}"{gone} deleted')
        return True

    def remove_sample(self) -> bool:
        from exptable_desktop.core.projects import remove_sample_data, sample_data

        sample = sample_data()
        if sample is None or not confirm_remove_sample(self.window, sample):
            return False
        removal = self._do("Could not remove the sample data", remove_sample_data)
        if removal is None:
            return False
        kept = f"; kept {', '.join(removal.kept_projects)} (your experiments are there)" \
            if removal.kept_projects else ""
        self._after_change(f"Removed {removal.experiments} sample experiments and {removal.projects} "
                           f"sample projects{kept}")
        return True


def install_project_menu(window) -> ProjectMenu:
    menu = ProjectMenu(window)
    window.project_menu = menu
    return menu
