"""Stars in the window: the ★ column (a click stars or unstars the row), Star/Unstar in the
experiment menu, and "Starred only" / "Starred first" (the Views menu offers them)."""
from __future__ import annotations

from typing import Iterable

import numpy as np
from PySide6.QtCore import QEvent, QObject, Qt

from exptable_desktop.core import stars
from exptable_desktop.core.database import StoreError


class StarSupport(QObject):
    """The current user's stars in the window: clicks in the ★ column, Star/Unstar in the experiment menu, and the
    "Starred only" / "Starred first" options."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.starred: set[str] = stars.starred_ids(window.user)
        window.table_hooks.append(self._on_table)
        self._on_table(window.model.table, None)  # the table installed before this part was
        window.table_view.viewport().installEventFilter(self)

    # ---- the table's star column -----------------------------------------------------------------

    def _on_table(self, table, slots) -> None:
        stars.apply_stars(table, self.starred, slots)
        if table is self.window.model.table:
            self._repaint(slots)

    def _repaint(self, slots) -> None:
        model = self.window.model
        model.sync_order()
        column = model.column_of(stars.STAR_KEY)
        if column < 0 or not model.rowCount():
            return
        if slots is None:
            model.dataChanged.emit(model.index(0, column), model.index(model.rowCount() - 1, column))
        else:
            model.emit_rows_changed(np.asarray(slots, np.int64), (column, column))

    def set_starred(self, ids: Iterable[str], starred: bool) -> int:
        """Star or unstar ``ids`` for this person; returns how many changed."""
        ids = list(ids)
        try:
            done = stars.set_starred(self.window.user, ids, starred)
        except StoreError as exc:
            self.window.show_message(f"Could not {'star' if starred else 'unstar'}: {exc}")
            return 0
        before = set(self.starred)
        if starred:
            self.starred.update(done)
        else:
            self.starred.difference_update(done)
        table = self.window.model.table
        slots = table.slots_for(done)
        slots = slots[slots >= 0]
        stars.apply_stars(table, self.starred, slots)
        self._repaint(slots)
        self.window._update_row_count()
        return len(before.symmetric_difference(self.starred))

    def is_starred(self, exp_id: str) -> bool:
        return exp_id in self.starred

    def eventFilter(self, watched, event) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.MouseButtonRelease and event.button() == Qt.MouseButton.LeftButton \
                and not event.modifiers():
            view = self.window.table_view
            index = view.indexAt(event.position().toPoint())
            if index.isValid() and index.column() == self.window.model.column_of(stars.STAR_KEY):
                exp_id = self.window.model.id_at(index.row())
                self.set_starred([exp_id], exp_id not in self.starred)
                return True
        return False

    # ---- "Starred only" and "Starred first" -------------------------------------------------------

    def starred_only(self) -> bool:
        return stars.STAR_KEY in self.window.model.table.filters

    def set_starred_only(self, on: bool) -> None:
        self.window.set_filter(stars.STAR_KEY, stars.STARRED_ONLY if on else None)
        self.window._update_row_count()

    def starred_first(self) -> bool:
        return self.window.model.table.sort[:1] == [(stars.STAR_KEY, False)]

    def set_starred_first(self, on: bool) -> None:
        rest = [s for s in self.window.model.table.sort if s[0] != stars.STAR_KEY]
        self.window.set_sort(rest, starred_first=on)

    # ---- the experiment menu -----------------------------------------------------------------------

    def extend_menu(self, menu, ids, rows, clicked) -> None:
        if not ids:
            return
        unstarred = [i for i in ids if i not in self.starred]
        menu.addSeparator()
        if unstarred:
            action = menu.addAction(f"Star ({len(unstarred)})" if len(ids) > 1 else "Star")
            action.setObjectName("experimentStar")
            action.triggered.connect(lambda _=False, chosen=list(unstarred): self.set_starred(chosen, True))
        else:
            action = menu.addAction(f"Unstar ({len(ids)})" if len(ids) > 1 else "Unstar")
            action.setObjectName("experimentUnstar")
            action.triggered.connect(lambda _=False, chosen=list(ids): self.set_starred(chosen, False))
        locked = self.window.read_only_reason
        if locked:  # stars are rows of the database
            action.setEnabled(False)
            action.setToolTip(f"Read-only database: {locked}")
