"""What happens when someone picks an action: choose targets, confirm, call core, report.

The controller talks to the main window only through its public API
(docs/window_api.md). Every change goes through ``core.actions``; the controller
adds only choice (dialogs), confirmation and feedback ("3 of 5 experiments
enqueued", with the reasons for the others and Undo for Archive/Restore).
"""
from __future__ import annotations

from typing import Callable, Sequence

from PySide6.QtCore import QObject, QPoint, Signal
from PySide6.QtWidgets import QMenu, QWidget

from exptable_desktop.core import actions as core
from exptable_desktop.core import states as st
from exptable_desktop.core.projects import ProjectError
from exptable_desktop.core.database import StoreError
from exptable_desktop.core import lookups
from exptable_desktop.core import queues as queue_ops
from exptable_desktop.ui import icons
from exptable_desktop.ui.actions import dialogs, preferences
from exptable_desktop.ui.actions.eligibility import (
    LABELS,
    MENU_GROUPS,
    MENU_ORDER,
    Eligibility,
    eligibility,
    eligible_rows,
    entries_for,
)
from exptable_desktop.ui.actions.tag_menu import TagMenu

FILES_BOX = "Also remove all related artifacts and debug samples from storage"
# Names listed in a status message's "More info" per reason.
REASON_NAMES = 20


def queue_has_live_workers(name: str) -> bool:
    """By the live-heartbeat rule the Workers & Queues window lists workers by, so the two agree."""
    return bool(queue_ops.live_workers_for_queue(name))


def _noun(n: int) -> str:
    return "1 experiment" if n == 1 else f"{n} experiments"


class Subject:
    """How a confirmation names the experiments it acts on, one or many, so its sentences agree:
    'Reset experiment "a"? Its logs …' and 'Reset 3 experiments? Their logs …'."""

    def __init__(self, rows: Sequence[dict]):
        one = len(rows) == 1
        self.one = one
        self.name = f'experiment "{rows[0]["name"]}"' if one else f"{len(rows)} experiments"
        self.Name = self.name[:1].upper() + self.name[1:]  # at the start of a sentence
        self.they, self.They = ("it", "It") if one else ("they", "They")
        self.them = "it" if one else "them"
        self.their, self.Their = ("its", "Its") if one else ("their", "Their")
        self.are = "is" if one else "are"
        self.s = "s" if one else ""  # a verb's ending after they: "it returns", "they return"


def _names(rows: Sequence[dict]) -> list[str]:
    """The names a confirmation lists: none for one experiment (its name is in the question)."""
    return [r["name"] for r in rows] if len(rows) > 1 else []


class ActionController(QObject):
    """Runs the experiment actions for one main window."""

    # Emitted after an action changed something, with the action's key.
    sig_action_done = Signal(str)

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.last_menu: QMenu | None = None
        # fn(menu, ids, rows, clicked) adding entries at the end of the experiment menu (links, stars,
        # custom actions: ui.views_menu, ui.custom_actions_ui).
        self.menu_extensions: list[Callable] = []

    # ---- targets and counts -----------------------------------------------------------------

    def targets_for(self, exp_id: str) -> list[str]:
        """A checked row acts for all checked rows; an unchecked one only for itself."""
        checked = self.window.checked_ids()
        return list(checked) if exp_id in set(checked) else [exp_id]

    def rows(self, ids: Sequence[str]) -> list[dict]:
        return list(self.window.rows_info(list(ids))) if ids else []

    def eligibility(self, ids: Sequence[str]) -> Eligibility:
        return eligibility(self.rows(ids))

    def _parent_widget(self) -> QWidget | None:
        return self.window if isinstance(self.window, QWidget) else None

    # ---- the menu ----------------------------------------------------------------------------

    def build_menu(self, ids: Sequence[str], parent: QWidget | None = None, clicked: str | None = None) -> QMenu:
        """The experiment menu for ``ids`` (the table's context menu and the details header menu).

        Details and View Full Screen open ``clicked`` (the right-clicked row), else the first id.
        """
        ids = list(ids)
        single = [clicked or ids[0]] if ids else []
        rows = self.rows(ids)
        counts = eligibility(rows)
        menu = QMenu(parent or self._parent_widget())
        menu.setObjectName("experimentMenu")
        menu.setToolTipsVisible(True)
        group = None
        for key in entries_for(MENU_ORDER, self.window.is_archive_mode()):
            if group is not None and MENU_GROUPS[key] != group:
                menu.addSeparator()
            group = MENU_GROUPS[key]
            n = counts.count(key)
            label = LABELS[key] if key in ("details", "full_screen") else f"{LABELS[key]} ({n})"
            if key == "add_tags":
                sub = self.tag_menu(ids, rows, menu, title=label)
                sub.setIcon(icons.action_icon(key))
                sub.menuAction().setObjectName("action_add_tags")
                sub.menuAction().setEnabled(n > 0)
                menu.addMenu(sub)
                continue
            action = menu.addAction(icons.action_icon(key), label)
            action.setObjectName(f"action_{key}")
            action.setEnabled(n > 0)
            action.setData(key)
            if key in ("details", "full_screen"):
                action.triggered.connect(lambda _=False, k=key: self.run(k, single))
            else:
                action.setToolTip(counts.tooltip(key))
                action.triggered.connect(lambda _=False, k=key: self.run(k, ids))
        for extend in self.menu_extensions:
            extend(menu, ids, rows, clicked)
        for action in menu.actions():  # the entries other parts added (links, stars ...), by object name
            name = action.menu().objectName() if action.menu() is not None else action.objectName()
            if action.icon().isNull() and name in icons.ACTION_ICONS:
                action.setIcon(icons.action_icon(name))
        self.last_menu = menu
        return menu

    def detached_menu_factory(self, parent: QWidget) -> Callable[[Sequence[str]], QMenu]:
        """``fn(exp_ids) -> QMenu`` for another widget's menu button; each menu frees itself when closed."""
        def make(exp_ids: Sequence[str]) -> QMenu:
            menu = self.build_menu(exp_ids, parent=parent)
            menu.aboutToHide.connect(menu.deleteLater)
            return menu
        return make

    def show_context_menu(self, global_pos: QPoint, exp_id: str) -> QMenu:
        menu = self.build_menu(self.targets_for(exp_id), clicked=exp_id)
        menu.aboutToHide.connect(menu.deleteLater)
        menu.popup(global_pos)
        return menu

    def tag_menu(self, ids: Sequence[str], rows: Sequence[dict] | None = None, parent: QWidget | None = None,
                 title: str = "Tags") -> TagMenu:
        ids = list(ids)
        rows = self.rows(ids) if rows is None else rows
        project = self.window.current_project_path()
        return TagMenu(
            title, [list(r.get("tags") or []) for r in rows],
            list_tags=lambda project_only: lookups.tag_names(project if project_only else None),
            project_scoped=project is not None,
            on_add=lambda name: self.add_tag(ids, name),
            on_remove=lambda name: self.remove_tag(ids, name),
            on_colors=self.edit_tag_colors,
            parent=parent or self._parent_widget(),
        )

    # ---- running ------------------------------------------------------------------------------

    def run(self, key: str, ids: Sequence[str]) -> core.ActionResult | None:
        """Run menu/bar entry ``key`` on ``ids``; None when cancelled or nothing to do."""
        ids = list(dict.fromkeys(ids))
        if not ids:
            return None
        handler: Callable = getattr(self, f"_do_{key}")
        try:
            return handler(ids)
        except (core.ActionError, ProjectError, StoreError) as exc:
            self.window.show_message(f"{LABELS.get(key, key)} failed: {exc}")
            return None

    def _finish(self, result: core.ActionResult, *, text: str | None = None,
                undo: Callable[[], None] | None = None, uncheck: bool = False) -> core.ActionResult:
        if uncheck and result.succeeded:
            self.window.set_checked(result.succeeded, False)
        self.window.refresh_now()
        self.window.show_message(text or result.summary(), undo=undo if result.succeeded else None,
                                 details=self._reasons(result))
        self.sig_action_done.emit(result.action)
        return result

    def _reasons(self, result: core.ActionResult) -> str | None:
        grouped = result.reasons()
        if not grouped:
            return None
        names = {r["id"]: r["name"] for r in self.rows(list(result.skipped))}
        lines = []
        for reason, exp_ids in grouped.items():
            shown = [names.get(i, i) for i in exp_ids[:REASON_NAMES]]
            more = f", … and {len(exp_ids) - REASON_NAMES} more" if len(exp_ids) > REASON_NAMES else ""
            lines.append(f"{reason} ({len(exp_ids)}): {', '.join(shown)}{more}")
        return "\n".join(lines)

    # ---- navigation -------------------------------------------------------------------------------

    def _details(self):
        """The details helper's controller (install_details), when it is installed."""
        return getattr(self.window, "details_controller", None)

    def open_details(self, exp_id: str) -> None:
        details = self._details()
        if details is not None:
            details.activate(exp_id)
            return
        self.window.select_experiment(exp_id)
        self.window.set_view_mode("details")

    def _do_details(self, ids: list[str]) -> None:
        self.open_details(ids[0])

    def _do_full_screen(self, ids: list[str]) -> None:
        self.open_details(ids[0])
        details = self._details()
        if details is not None:
            details.set_full_screen(True)

    def _do_compare(self, ids: list[str]) -> None:
        if set(ids) != set(self.window.checked_ids()):
            self.window.clear_checked()
            self.window.set_checked(ids, True)
        self.window.set_view_mode("comparison")

    def _do_manage_queue(self, ids: list[str]) -> None:
        snapshot = lookups.queue_of(ids[0])
        if snapshot is None:
            self.window.show_message("The experiment is not in a queue any more")
            return
        dialogs.show_queue(self._parent_widget(), snapshot, ids[0])

    def _do_view_worker(self, ids: list[str]) -> None:
        snapshot = lookups.worker_of(ids[0])
        if snapshot is None:
            self.window.show_message("No worker is recorded for this experiment (it may run locally)")
            return
        dialogs.show_worker(self._parent_widget(), snapshot)

    # ---- archive, restore, delete --------------------------------------------------------------------

    def _do_archive(self, ids: list[str]) -> core.ActionResult | None:
        active = [r for r in eligible_rows("archive", self.rows(ids)) if r["status"] in (st.RUNNING, st.PENDING)]
        running = [r for r in active if r["status"] == st.RUNNING]
        if running:
            who = Subject(running)
            pending = " Pending experiments leave their queues." if len(active) > len(running) else ""
            answer = dialogs.confirm(
                self._parent_widget(), "Archive",
                f"{who.Name} {who.are} running; archiving also aborts {who.them}."
                + pending + " Archive anyway?",
                items=[r["name"] for r in running], ok_text="Archive")
            if not answer.accepted:
                return None
        result = core.archive(ids)
        done = list(result.succeeded)
        return self._finish(result, undo=lambda: self._undo("restore", done), uncheck=True)

    def _do_restore(self, ids: list[str]) -> core.ActionResult:
        result = core.restore(ids)
        done = list(result.succeeded)
        return self._finish(result, undo=lambda: self._undo("archive", done), uncheck=True)

    def _undo(self, action: str, ids: list[str]) -> core.ActionResult:
        """The inverse of Archive/Restore, on the ids that action changed; itself offers no undo."""
        result = core.restore(ids) if action == "restore" else core.archive(ids)
        return self._finish(result)

    def _do_delete(self, ids: list[str]) -> core.ActionResult | None:
        rows = eligible_rows("delete", self.rows(ids))
        if not rows:
            return self._finish(core.delete(ids))
        who = Subject(rows)
        answer = dialogs.confirm(
            self._parent_widget(), "Delete",
            f"Are you sure you want to delete {who.name}? This also removes {who.their} captured logs, "
            "results, artifacts and debug samples, and cannot be undone.",
            items=_names(rows), checkbox=FILES_BOX, ok_text="Delete", destructive=True)
        if not answer.accepted:
            return None
        return self._finish(core.delete(ids, delete_files=answer.checked), uncheck=True)

    # ---- queue and life cycle ---------------------------------------------------------------------------

    def _do_enqueue(self, ids: list[str], retry: bool = False) -> core.ActionResult | None:
        action = "retry" if retry else "enqueue"
        rows = eligible_rows(action, self.rows(ids))
        if not rows:
            return self._finish(core.enqueue(ids, preferences.last_queue(), retry=retry))
        queue = dialogs.ask_queue(self._parent_widget(), lookups.queue_names(), preferences.last_queue(),
                                  count=len(rows), retry=retry, has_workers=queue_has_live_workers)
        if not queue:
            return None
        result = core.enqueue(ids, queue, retry=retry)
        preferences.remember_queue(queue)
        text = result.summary()
        if result.succeeded and not queue_has_live_workers(queue):
            text += f' to "{queue}"; no worker listens to that queue yet'
        return self._finish(result, text=text)

    def _do_retry(self, ids: list[str]) -> core.ActionResult | None:
        return self._do_enqueue(ids, retry=True)

    def _do_dequeue(self, ids: list[str]) -> core.ActionResult | None:
        rows = eligible_rows("dequeue", self.rows(ids))
        if rows:
            queues = lookups.queue_name_of([r["id"] for r in rows])
            who = Subject(rows)
            where = (f'the "{queues[rows[0]["id"]]}" execution queue' if who.one and rows[0]["id"] in queues
                     else f"{who.their} execution queue{'' if who.one else 's'}")
            answer = dialogs.confirm(self._parent_widget(), "Dequeue",
                                     f"Dequeue {who.name}? {who.They} will be removed from {where}.",
                                     items=_names(rows), ok_text="Dequeue")
            if not answer.accepted:
                return None
        return self._finish(core.dequeue(ids))

    def _do_reset(self, ids: list[str]) -> core.ActionResult | None:
        rows = eligible_rows("reset", self.rows(ids))
        delete_files = True
        if rows:
            who = Subject(rows)
            answer = dialogs.confirm(
                self._parent_widget(), "Reset",
                f"Reset {who.name}? {who.Their} logs, scalars, plots, debug samples, console output "
                f"and output artifacts will be deleted, and {who.they} return{who.s} to Draft.",
                items=_names(rows), checkbox=FILES_BOX, ok_text="Reset", destructive=True)
            if not answer.accepted:
                return None
            delete_files = answer.checked
        return self._finish(core.reset(ids, delete_files=delete_files))

    def _do_abort(self, ids: list[str]) -> core.ActionResult | None:
        rows = eligible_rows("abort", self.rows(ids))
        if rows:
            who = Subject(rows)
            answer = dialogs.confirm(
                self._parent_widget(), "Abort",
                f"Abort {who.name}? {who.They} will be stopped, and {who.their} models will "
                "accept no further updates.",
                items=_names(rows), ok_text="Abort", destructive=True)
            if not answer.accepted:
                return None
        return self._finish(core.abort(ids))

    def _do_abort_children(self, ids: list[str]) -> core.ActionResult | None:
        parents = [r["id"] for r in eligible_rows("abort_children", self.rows(ids))]
        children = core.children_to_abort(parents) if parents else []
        if parents and not children:
            self.window.show_message("No Pending or Running children to abort")
            return None
        if children:
            text = ("This Pending or Running child experiment will be aborted:" if len(children) == 1 else
                    f"These {len(children)} Pending or Running child experiments will be aborted:")
            answer = dialogs.confirm(
                self._parent_widget(), "Abort All Children", text,
                items=[f"{c.name} ({st.status_label(c.status)})" for c in children], ok_text="Abort All",
                destructive=True)
            if not answer.accepted:
                return None
        result = core.abort_children(ids)
        noun = "child" if len(result.succeeded) == 1 else "children"
        return self._finish(result, text=f"{len(result.succeeded)} {noun} aborted")

    def _do_publish(self, ids: list[str]) -> core.ActionResult | None:
        rows = eligible_rows("publish", self.rows(ids))
        if rows:
            who = Subject(rows)
            answer = dialogs.confirm(
                self._parent_widget(), "Publish",
                f"Publish {who.name}? {who.They} become{who.s} read-only and can no "
                f"longer be reset; {who.their} outputs, including models, are published too.",
                items=_names(rows), ok_text="Publish")
            if not answer.accepted:
                return None
        return self._finish(core.publish(ids))

    # ---- organising ------------------------------------------------------------------------------------------

    def _do_clone(self, ids: list[str]) -> core.ActionResult | None:
        rows = self.rows(ids)
        if not rows:
            return None
        request = dialogs.ask_clone(self._parent_widget(), rows[0]["name"], len(rows),
                                    lookups.project_path_list(), rows[0].get("project") or
                                    self.window.current_project_path())
        if request is None:
            return None
        result = core.clone(ids, project=request.project, name=request.name, set_parent=request.set_parent,
                            description=request.description or None)
        self._finish(result)
        new_ids = list(result.created.values())
        if new_ids:
            self.window.select_experiment(new_ids[0])
        return result

    def _do_move(self, ids: list[str]) -> core.ActionResult | None:
        project = dialogs.ask_project(self._parent_widget(), len(ids), lookups.project_path_list(),
                                      self.window.current_project_path())
        if not project:
            return None
        result = core.move(ids, project)
        return self._finish(result, text=f"{result.summary()} to {project}")

    def add_tag(self, ids: Sequence[str], name: str) -> core.ActionResult | None:
        try:
            result = core.add_tags(list(ids), [name])
        except core.ActionError as exc:
            self.window.show_message(f"Add tag failed: {exc}")
            return None
        return self._finish(result, text=f'{result.summary()} "{name}"')

    def remove_tag(self, ids: Sequence[str], name: str) -> core.ActionResult:
        result = core.remove_tags(list(ids), [name])
        return self._finish(result, text=f'"{name}" removed from {_noun(len(result.succeeded))}')

    def edit_tag_colors(self) -> None:
        changes = dialogs.ask_tag_colors(self._parent_widget(), lookups.all_tags())
        if not changes:
            return
        for name, (background, foreground) in changes.items():
            core.set_tag_colors(name, background, foreground)
        self.window.refresh_now()
        self.window.show_message(f"Colours of {len(changes)} tag{'s' if len(changes) != 1 else ''} saved")
        self.sig_action_done.emit("tag_colors")

    # ---- keyboard --------------------------------------------------------------------------------------------

    def selection_or_current(self) -> list[str]:
        checked = self.window.checked_ids()
        if checked:
            return list(checked)
        current = self.window.current_experiment_id()
        return [current] if current else []

    def delete_key(self) -> None:
        """Delete archives; in the archive it deletes (after confirmation)."""
        ids = self.selection_or_current()
        if ids:
            self.run("delete" if self.window.is_archive_mode() else "archive", ids)

    def check_all_visible(self) -> None:
        self.window.set_checked(self.window.visible_ids(), True)
