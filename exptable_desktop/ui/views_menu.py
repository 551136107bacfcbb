"""The "Views" menu of the top bar: named views (save as, open, rename, delete, share, my default for
this project), links to what is on screen, and the star options. Also the experiment menu's
"Copy link" entries.

``install_views(window)`` puts it all in place (with the stars, ui.stars_ui) and returns the
controller, kept as ``window.views_menu``.
"""
from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.core import links
from exptable_desktop.core import named_views as nv
from exptable_desktop.core.database import StoreError, is_sqlite
from exptable_desktop.ui import icons
from exptable_desktop.ui.palette import themed


# ---- Dialogs (module functions, so tests can answer them) ------------------------------------------

class ViewNameDialog(QDialog):
    """A view's name, and whether the team sees it."""

    def __init__(self, parent: QWidget | None, title: str, name: str, shared: bool, *, ask_shared: bool = True,
                 taken: set[str] = frozenset()):
        super().__init__(parent)
        self.setObjectName("viewNameDialog")
        self.setWindowTitle(title)
        self.taken = {t.lower() for t in taken}
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.name_edit = QLineEdit(name)
        self.name_edit.setObjectName("viewName")
        self.name_edit.selectAll()
        form.addRow("Name", self.name_edit)
        layout.addLayout(form)
        self.shared_box = QCheckBox("Shared with everybody on this database (the team, on PostgreSQL)")
        self.shared_box.setObjectName("viewShared")
        self.shared_box.setChecked(shared)
        self.shared_box.setVisible(ask_shared)
        layout.addWidget(self.shared_box)
        self.note = QLabel()
        self.note.setObjectName("viewNameNote")
        self.note.setStyleSheet(themed("color: $warning;"))
        layout.addWidget(self.note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.name_edit.textChanged.connect(self._validate)
        self._validate()

    def _validate(self) -> None:
        text = " ".join(self.name_edit.text().split())
        ok = bool(text) and len(text) <= nv.MAX_NAME
        self.note.setText("" if not text or text.lower() not in self.taken
                          else f'Replaces your view "{text}".')
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(ok)

    def value(self) -> tuple[str, bool]:
        return " ".join(self.name_edit.text().split()), self.shared_box.isChecked()


def ask_view_name(parent, title: str, name: str, shared: bool, *, ask_shared: bool = True,
                  taken: set[str] = frozenset()) -> tuple[str, bool] | None:
    dialog = ViewNameDialog(parent, title, name, shared, ask_shared=ask_shared, taken=taken)
    return dialog.value() if dialog.exec() == QDialog.DialogCode.Accepted else None


def confirm(parent, title: str, text: str, ok_text: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel, parent)
    ok = box.addButton(ok_text, QMessageBox.ButtonRole.AcceptRole)
    box.exec()
    return box.clickedButton() is ok


def copy_to_clipboard(text: str) -> None:
    QApplication.clipboard().setText(text)


# ---- The controller ------------------------------------------------------------------------------------

class ViewsController(QObject):
    """The top bar's Views button and menu (see the module docstring): saves, opens, shares and deletes named
    views, remembers the one last opened, and copies links."""

    def __init__(self, window, stars):
        super().__init__(window)
        self.window = window
        self.stars = stars
        self.user = window.user
        self.active: tuple[str, str] | None = None  # (owner, name) of the view last opened or saved
        from exptable_desktop.ui.top_bar import CompactToolButton

        # Its text goes, leaving the icon, when the top bar runs out of room (as the bar's other buttons).
        self.button = CompactToolButton("Views")
        self.button.setObjectName("viewsButton")
        self.button.setIcon(icons.icon("view-table"))
        self.button.setToolTip("Saved views: save what is on screen, open it again, share it, link to it")
        self.button.setAutoRaise(True)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self.button)
        self.menu.setObjectName("viewsMenu")
        self.menu.setToolTipsVisible(True)
        self.menu.aboutToShow.connect(self.fill_menu)
        self.button.setMenu(self.menu)
        layout = window.top_bar.layout()
        layout.insertWidget(layout.indexOf(window.columns_button), self.button)

    # ---- what is on screen ----------------------------------------------------------------------------

    def current_spec(self) -> nv.ViewSpec:
        project_id, deep = self.window.current_scope()
        return nv.ViewSpec(project_id=project_id, project_path=self.window.current_project_path() or "",
                           deep=deep, archive=self.window.is_archive_mode(), table=self.window.table_state(),
                           search=self.window.search_box.text(), regex=self.window.regex_action.isChecked())

    def _project_label(self) -> str:
        return self.window.current_project_path() or "All experiments"

    def _views(self) -> list[nv.NamedView]:
        try:
            return nv.list_views(self.user)
        except StoreError as exc:
            self.window.show_message(f"Could not read the saved views: {exc}")
            return []

    def _active_view(self, views: list[nv.NamedView]) -> nv.NamedView | None:
        if self.active is None:
            return None
        return next((v for v in views if (v.owner, v.name) == self.active), None)

    # ---- the menu --------------------------------------------------------------------------------------

    def _add(self, menu: QMenu, text: str, name: str, slot, *, enabled: bool = True, tip: str = "",
             checkable: bool = False, checked: bool = False) -> QAction:
        action = menu.addAction(text)
        action.setObjectName(name)
        action.setEnabled(enabled)
        if tip:
            action.setToolTip(tip)
        if checkable:
            action.setCheckable(True)
            action.setChecked(checked)
            action.toggled.connect(slot)
        else:
            action.triggered.connect(lambda _=False: slot())
        return action

    def fill_menu(self) -> None:
        menu = self.menu
        menu.clear()
        views = self._views()
        project_id = self.window.current_scope()[0]
        default = nv.default_view(self.user, project_id)
        default_key = (default.owner, default.name) if default else None
        active = self._active_view(views)
        self._add(menu, "Save view as…", "viewSaveAs", self.save_as)
        if active is not None and active.mine(self.user):
            self._add(menu, f'Save changes to "{active.name}"', "viewUpdate", self.update_active)
        here = [v for v in views if v.spec.project_id == project_id]
        elsewhere = [v for v in views if v.spec.project_id != project_id]
        menu.addSection(f"Views of {self._project_label()}")
        if not here:
            placeholder = menu.addAction("(none yet)")
            placeholder.setEnabled(False)
        for view in here:
            self._add_view_entry(menu, view, default_key)
        if elsewhere:
            other = menu.addMenu("Other projects' views")
            other.setObjectName("viewsElsewhere")
            for view in elsewhere:
                self._add_view_entry(other, view, default_key, with_project=True)
        if active is not None:
            menu.addSection(f'View "{active.name}"')
            mine = active.mine(self.user)
            not_mine = "" if mine else f"{active.owner}'s view: only they can change it"
            self._add(menu, "Rename…", "viewRename", self.rename_active, enabled=mine, tip=not_mine)
            self._add(menu, "Delete…", "viewDelete", self.delete_active, enabled=mine, tip=not_mine)
            shared = self._add(menu, "Shared with the team", "viewShared", self.set_active_shared, enabled=mine,
                               tip=not_mine or "Everybody on this database sees it in their Views menu",
                               checkable=True, checked=active.shared)
            shared.setEnabled(mine)
            is_default = default_key == (active.owner, active.name)
            self._add(menu, "My default for this project", "viewDefault", self.set_active_default,
                      tip=f"Open this view whenever you pick {self._project_label()}", checkable=True,
                      checked=is_default)
            self._add(menu, "Copy link to this view", "viewCopyLink", self.copy_active_link)
        menu.addSeparator()
        if default is not None and (active is None or default_key != (active.owner, active.name)):
            self._add(menu, f'Clear my default ("{default.name}")', "viewClearDefault", self.clear_default)
        self._add(menu, "Copy link to what is on screen", "viewCopyScreenLink", self.copy_screen_link)
        checked = self.window.checked_ids()
        if self.window.view_mode() == "comparison" and len(checked) >= 2:
            self._add(menu, f"Copy link to this comparison ({len(checked)})", "viewCopyCompareLink",
                      lambda: self.copy_compare_link(checked))
        menu.addSection("Stars")
        self._add(menu, "Starred only", "viewStarredOnly", self.stars.set_starred_only, checkable=True,
                  checked=self.stars.starred_only())
        self._add(menu, "Starred first", "viewStarredFirst", self.stars.set_starred_first, checkable=True,
                  checked=self.stars.starred_first())

    def _add_view_entry(self, menu: QMenu, view: nv.NamedView, default_key, *, with_project: bool = False) -> None:
        label = view.label(self.user)
        if with_project:
            label += f"   [{view.spec.project_path or 'All experiments'}]"
        if default_key == (view.owner, view.name):
            label += "   ✓ default"
        action = menu.addAction(label)
        action.setObjectName(f"view:{view.owner}/{view.name}")
        action.setToolTip(f"Open the view {view.name!r} of {view.owner}")
        action.triggered.connect(lambda _=False, v=view: self.open_view(v))

    # ---- actions --------------------------------------------------------------------------------------

    def _run(self, what: str, fn):
        try:
            return fn()
        except (nv.ViewError, StoreError) as exc:
            self.window.show_message(f"{what}: {exc}")
            return None

    def open_view(self, view: nv.NamedView) -> None:
        spec = view.spec
        project_id, note = nv.resolve_project(spec)
        self.window.show_view(project_id, spec.deep, spec.archive, spec.table, spec.search, spec.regex)
        self.active = (view.owner, view.name)
        self.window.show_message(f'View "{view.name}"' + (f": {note}" if note else ""))

    def open_default(self, project_id: int | None) -> bool:
        """Open the person's default view of ``project_id``; False when they have none."""
        view = nv.default_view(self.user, project_id)
        if view is None:
            return False
        self.open_view(view)
        return True

    def save_as(self) -> nv.NamedView | None:
        views = self._views()
        mine = {v.name for v in views if v.mine(self.user)}
        active = self._active_view(views)
        answer = ask_view_name(self.window, "Save view as", active.name if active and active.mine(self.user) else "",
                               shared=not is_sqlite(), taken=mine)
        if answer is None:
            return None
        name, shared = answer
        saved = self._run("Could not save the view", lambda: nv.save_view(
            self.user, name, self.current_spec(), shared=shared, overwrite=" ".join(name.split()) in mine))
        if saved is not None:
            self.active = (saved.owner, saved.name)
            self.window.show_message(f'View "{saved.name}" saved' + (" and shared" if saved.shared else ""))
        return saved

    def update_active(self) -> None:
        if self.active is None:
            return
        saved = self._run("Could not save the view", lambda: nv.update_view(self.user, self.active[1],
                                                                             self.current_spec()))
        if saved is not None:
            self.window.show_message(f'View "{saved.name}" saved')

    def rename_active(self) -> None:
        if self.active is None:
            return
        answer = ask_view_name(self.window, "Rename view", self.active[1], False, ask_shared=False)
        if answer is None:
            return
        renamed = self._run("Could not rename the view", lambda: nv.rename_view(self.user, self.active[1], answer[0]))
        if renamed is not None:
            self.active = (renamed.owner, renamed.name)
            self.window.show_message(f'View renamed to "{renamed.name}"')

    def delete_active(self) -> None:
        if self.active is None:
            return
        name = self.active[1]
        if not confirm(self.window, "Delete view", f'Delete your view "{name}"? Links to it keep working: '
                       "they hold the whole view.", "Delete"):
            return
        if self._run("Could not delete the view", lambda: nv.delete_view(self.user, name) or True):
            self.active = None
            self.window.show_message(f'View "{name}" deleted')

    def set_active_shared(self, shared: bool) -> None:
        if self.active is not None:
            self._run("Could not change the view", lambda: nv.set_shared(self.user, self.active[1], shared))

    def set_active_default(self, on: bool) -> None:
        if self.active is None:
            return
        project_id = self.window.current_scope()[0]
        if on:
            self._run("Could not set the default", lambda: nv.set_default_view(self.user, project_id, *self.active))
            self.window.show_message(f'"{self.active[1]}" opens whenever you pick {self._project_label()}')
        else:
            self.clear_default()

    def clear_default(self) -> None:
        self._run("Could not clear the default", lambda: nv.clear_default_view(self.user,
                                                                              self.window.current_scope()[0]))

    # ---- links ------------------------------------------------------------------------------------------

    def _copy(self, link: str) -> str:
        copy_to_clipboard(link)
        self.window.show_message("Link copied to the clipboard", details=link)
        return link

    def copy_screen_link(self) -> str:
        return self._copy(links.view_link(self.current_spec()))

    def copy_active_link(self) -> str | None:
        view = self._active_view(self._views())
        if view is None:
            return None
        return self._copy(links.view_link(view.spec, view.name))

    def copy_compare_link(self, ids) -> str:
        return self._copy(links.compare_link(ids))

    def copy_experiment_link(self, exp_id: str) -> str:
        return self._copy(links.experiment_link(exp_id))

    def extend_menu(self, menu: QMenu, ids, rows, clicked) -> None:
        """The experiment menu's "Copy link" (and "Copy comparison link" for several)."""
        if not ids:
            return
        target = clicked or ids[0]
        action = menu.addAction("Copy link")
        action.setObjectName("experimentCopyLink")
        action.setToolTip("An exptable:// link to this experiment")
        action.triggered.connect(lambda _=False: self.copy_experiment_link(target))
        if 2 <= len(ids) <= links.MAX_COMPARE:
            action = menu.addAction(f"Copy comparison link ({len(ids)})")
            action.setObjectName("experimentCopyCompareLink")
            action.triggered.connect(lambda _=False, chosen=list(ids): self.copy_compare_link(chosen))


def install_views(window) -> ViewsController:
    """The Views menu, stars and link entries for ``window`` (after install_actions)."""
    from exptable_desktop.ui.stars_ui import StarSupport

    star_support = StarSupport(window)
    window.star_support = star_support
    controller = ViewsController(window, star_support)
    window.views_menu = controller
    actions = getattr(window, "action_controller", None)
    if actions is not None:
        actions.menu_extensions.append(star_support.extend_menu)
        actions.menu_extensions.append(controller.extend_menu)
    return controller
