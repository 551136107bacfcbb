"""Wiring the compare page into the main window (docs/window_api.md).

Comparison mode: the page takes the table's place in the table's layout
(under the top bar, above the bottom strip with the batch bar) and compares
the checked experiments, or the first visible ones when none is checked.
Compare in the batch bar checks its experiments and switches to this mode.
Adding or removing experiments on the page itself ("+", "Remove from
comparison") pins the page's own set until the checks in the table change.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from exptable_desktop.core import actions as core_actions
from exptable_desktop.core.compare_palette import MAX_EXPERIMENTS
from exptable_desktop.ui.comparison.page import ComparePage

COMPARISON_MODE = "comparison"
RELOAD_DEBOUNCE_MS = 200


class ComparisonController(QObject):
    """Puts the compare page in the main window and keeps it fed: decides which experiments are compared (the
    page's pinned set, else the checked rows), reloads on changes, and passes the page's requests on to the
    window."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.view = ComparePage()
        self.view.hide()
        table_layout = window.table_view.parentWidget().layout()
        table_layout.insertWidget(table_layout.indexOf(window.table_view) + 1, self.view, 1)
        # Only what this controller hid is shown again: details mode hides the table too.
        self._hid_table = False
        # The page's own set after "+" or "Remove from comparison"; None = follow the table.
        self._pinned: list[str] | None = None
        self.reload_timer = QTimer(self)
        self.reload_timer.setSingleShot(True)
        self.reload_timer.setInterval(RELOAD_DEBOUNCE_MS)
        self.reload_timer.timeout.connect(self.reload)
        window.sig_view_mode_changed.connect(self._view_mode_changed)
        window.sig_checked_changed.connect(self._checked_changed)
        self.view.sig_compared_changed.connect(self._pin)
        self.view.sig_details_requested.connect(self._open_details)
        self.view.sig_archive_requested.connect(self._archive)
        self.view.sig_experiments_changed.connect(window.refresh_now)
        self.view.sig_table_columns_requested.connect(self._add_table_columns)
        self.view.sig_table_columns_requested.connect(self._show_columns_in_table)
        self._view_mode_changed(window.view_mode())

    def compared_ids(self) -> list[str]:
        """The page's pinned set, else the checked experiments in the table's order (hidden ones
        last), else the first visible."""
        if self._pinned is not None:
            return self._pinned[:MAX_EXPERIMENTS]
        visible = self.window.visible_ids()
        checked = set(self.window.checked_ids())
        if not checked:
            return visible[:MAX_EXPERIMENTS]
        in_table = [exp_id for exp_id in visible if exp_id in checked]
        shown = set(in_table)
        hidden = sorted(exp_id for exp_id in checked if exp_id not in shown)
        return (in_table + hidden)[:MAX_EXPERIMENTS]

    def reload(self) -> None:
        self.view.set_project(self.window.current_project_path())
        self.view.set_experiments(self.compared_ids())

    def _show_columns_in_table(self, keys: list[str]) -> None:
        """HYPERPARAMETERS' "Show differing in the table": add the columns, then show the table."""
        self.window.add_custom_columns(keys)
        self.window.set_view_mode("table")

    def _pin(self, ids: list[str]) -> None:
        self._pinned = list(ids)

    def _open_details(self, exp_id: str) -> None:
        actions = getattr(self.window, "action_controller", None)
        if actions is not None:
            actions.open_details(exp_id)
            return
        self.window.select_experiment(exp_id)
        self.window.set_view_mode("details")

    def _archive(self, ids: list[str]) -> None:
        actions = getattr(self.window, "action_controller", None)
        if actions is not None:
            actions.run("archive", ids)
        else:
            core_actions.archive(ids)
            self.window.refresh_now()
        self.view.refresh()

    def _add_table_columns(self, keys: list[str]) -> None:
        """A tab's "show in the table": add the columns, then show the table with them."""
        self.window.add_custom_columns(list(keys))
        self.window.set_view_mode("table")

    def _view_mode_changed(self, mode: str) -> None:
        if mode == COMPARISON_MODE:
            self._pinned = None
            self._hid_table = self._hid_table or not self.window.table_view.isHidden()
            self.window.table_view.hide()
            self.view.show()
            self.reload()
            return
        self.reload_timer.stop()
        self.view.hide()
        if self._hid_table:
            self._hid_table = False
            # Details mode owns the table's place when it is installed; elsewhere the table returns.
            if mode != "details" or getattr(self.window, "details_controller", None) is None:
                self.window.table_view.show()

    def _checked_changed(self) -> None:
        if self.window.view_mode() == COMPARISON_MODE:
            self._pinned = None
            self.reload_timer.start()


def install_comparison(window) -> ComparisonController:
    existing = getattr(window, "comparison_controller", None)
    if existing is not None:
        return existing
    controller = ComparisonController(window)
    window.comparison_controller = controller
    return controller
