"""What the experiments table says when it shows no rows, and the one step that helps.

Four cases: a search or filter that nothing passes (clear them), an empty project, a database
with no experiments yet (both: New Experiment, or the two lines that make a script record one)
and an empty archive. The message lies over the table's rows, under its header, so the columns
and their filter marks stay in view; views showing the same rows (the details card list) get the
same message over theirs (``cover``).
"""
from __future__ import annotations

import json

from PySide6.QtCore import QEvent, QObject

from exptable_desktop.core import database
from exptable_desktop.ui.empty_state import SDK_START, EmptyState

NO_MATCH = "no_match"
EMPTY_PROJECT = "empty_project"
EMPTY_DATABASE = "empty_database"
EMPTY_ARCHIVE = "empty_archive"


def sdk_snippet(project: str | None) -> str:
    """The two lines that make a script record into ``project`` (the snippet's example project if None)."""
    snippet = SDK_START.rstrip("\n")
    if project:
        snippet = snippet.replace('"examples"', json.dumps(project, ensure_ascii=False))
    return snippet


class TableEmptyState(QObject):
    """Shows ``view`` (an ``EmptyState``) over the table's rows while it has none, saying why.

    ``kind()`` is which case it is (``NO_MATCH``, ``EMPTY_PROJECT``, ``EMPTY_DATABASE``,
    ``EMPTY_ARCHIVE``) or None while there are rows. It follows the table's model and is told of
    scope changes by the window (``update``). ``cover`` lays the same message over another view of
    the table's rows.
    """

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        table_view = window.table_view
        self.view = EmptyState(icon="view-table", object_name="tableEmpty", parent=table_view)
        self.view.hide()
        self.view.sig_action_clicked.connect(self._act)
        self._kind: str | None = None
        # (item view, its message): the table's first, then those ``cover`` added.
        self._covered: list[tuple[object, EmptyState]] = [(table_view, self.view)]
        table_view.viewport().installEventFilter(self)
        model = window.model
        for signal in (model.rowsInserted, model.rowsRemoved, model.modelReset, model.layoutChanged):
            signal.connect(self.update)

    def kind(self) -> str | None:
        return self._kind

    def cover(self, item_view, object_name: str = "listEmpty") -> EmptyState:
        """Say the table's message over ``item_view``'s rows too (a view of the same rows, such as
        the details card list), with the same button; returns that message widget."""
        view = EmptyState(icon="view-table", object_name=object_name, parent=item_view)
        view.hide()
        view.sig_action_clicked.connect(self._act)
        self._covered.append((item_view, view))
        item_view.viewport().installEventFilter(self)
        self.update()
        return view

    def update(self, *_args) -> None:
        table = self.window.model.table
        kind = None
        if len(table.order) == 0:
            total = int(table.alive[:table.n].sum())
            if total:
                kind = NO_MATCH
            elif self.window.is_archive_mode():
                kind = EMPTY_ARCHIVE
            else:
                kind = EMPTY_DATABASE if self.window.current_scope()[0] is None else EMPTY_PROJECT
        self._kind = kind
        if kind is not None:  # said again each time: the search, the filters or the project may differ
            self._say(kind, table)
        for _item_view, view in self._covered:
            view.setVisible(kind is not None)
        if kind is not None:
            self._place()

    # ---- What it says ------------------------------------------------------------------------------------

    def _say(self, kind: str, table) -> None:
        title, body, code, icon, action = self._content(kind, table)
        for _item_view, view in self._covered:
            view.set_content(title, body, code)
            view.set_icon(icon)
            view.set_action(action)

    def _content(self, kind: str, table) -> tuple[str, str, str, str, str]:
        """What the message says for ``kind``: (title, body, code, icon, button text)."""
        can_create = self.window.new_experiment_button.isEnabled()
        if kind == NO_MATCH:
            total = int(table.alive[:table.n].sum())
            reasons = []
            text = self.window.search_box.text().strip()
            if text:
                reasons.append(f"the search “{text}”")
            if table.active_filter_keys():
                reasons.append("the column filters")
            if self.window.is_show_only_checked():
                reasons.append("“Show only checked”")
            what = " and ".join(reasons) or "the filters"
            body = (f"None of the {total:,} experiments here passes {what}." if total > 1
                    else f"The one experiment here does not pass {what}.")
            return "No experiments match", body, "", "search", "Clear search and filters"
        if kind == EMPTY_ARCHIVE:
            return ("The archive is empty",
                    "Experiments you archive move here, out of the table's way, until you restore them.",
                    "", "archive", "Close archive")
        project = self.window.current_project_path() if kind == EMPTY_PROJECT else None
        where = "this project" if kind == EMPTY_PROJECT else "this database"
        archived = self._archived_count()
        if archived:
            title = f"{where.capitalize()} has only archived experiments"
            found = (f"{archived:,} experiments are in the archive. " if archived > 1
                     else "One experiment is in the archive. ")
        else:
            title, found = f"{where.capitalize()} has no experiments yet", ""
        how = ("Create one with New Experiment, or add these two lines to a Python script:" if can_create
               else "Add these two lines to a Python script:")
        body = found + how
        return (title, body, sdk_snippet(project), "project" if kind == EMPTY_PROJECT else "all-experiments",
                "New Experiment…" if can_create else "")

    def _archived_count(self) -> int:
        """The scope's archived experiments: an empty table is not always an empty project."""
        scope = self.window._scope
        return database.scope_count(database.Scope(scope.project_ids, True))

    def _act(self) -> None:
        window = self.window
        if self._kind == NO_MATCH:
            window.set_show_only_checked(False)
            window.search_box.clear()
            window.clear_filters()
        elif self._kind == EMPTY_ARCHIVE:
            window.archive_toggle.setChecked(False)
        elif self._kind in (EMPTY_PROJECT, EMPTY_DATABASE):
            window.open_new_experiment_wizard()

    # ---- Where -------------------------------------------------------------------------------------------

    def _place(self) -> None:
        for item_view, view in self._covered:
            view.setGeometry(item_view.viewport().geometry())
            view.raise_()

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize and self._kind is not None:
            self._place()
        return False
