"""Wiring the comparison view into the main window (window_api.md).

Comparison mode: the view takes the table's place in the table's layout
(under the top bar, above the bottom strip with the batch bar) and compares
the checked experiments, or the first visible ones when none is checked.
"""
from __future__ import annotations

from PySide6.QtCore import QObject, QTimer

from exptable_desktop.ui.comparison.view import MAX_EXPERIMENTS, ComparisonView

COMPARISON_MODE = "comparison"
RELOAD_DEBOUNCE_MS = 200


class ComparisonController(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.view = ComparisonView()
        self.view.hide()
        table_layout = window.table_view.parentWidget().layout()
        table_layout.insertWidget(table_layout.indexOf(window.table_view) + 1, self.view, 1)
        # Only what this controller hid is shown again: details mode hides the table too.
        self._hid_table = False
        self.reload_timer = QTimer(self)
        self.reload_timer.setSingleShot(True)
        self.reload_timer.setInterval(RELOAD_DEBOUNCE_MS)
        self.reload_timer.timeout.connect(self.reload)
        window.sig_view_mode_changed.connect(self._view_mode_changed)
        window.sig_checked_changed.connect(self._checked_changed)
        self._view_mode_changed(window.view_mode())

    def compared_ids(self) -> list[str]:
        """The checked experiments in the table's order (hidden ones last), else the first visible."""
        visible = self.window.visible_ids()
        checked = set(self.window.checked_ids())
        if not checked:
            return visible[:MAX_EXPERIMENTS]
        in_table = [exp_id for exp_id in visible if exp_id in checked]
        shown = set(in_table)
        hidden = sorted(exp_id for exp_id in checked if exp_id not in shown)
        return (in_table + hidden)[:MAX_EXPERIMENTS]

    def reload(self) -> None:
        ids = self.compared_ids()
        names = {row["id"]: row["name"] for row in self.window.rows_info(ids)}
        self.view.set_experiments([(exp_id, names[exp_id]) for exp_id in ids if exp_id in names])

    def _view_mode_changed(self, mode: str) -> None:
        if mode == COMPARISON_MODE:
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
            self.reload_timer.start()


def install_comparison(window) -> ComparisonController:
    existing = getattr(window, "comparison_controller", None)
    if existing is not None:
        return existing
    controller = ComparisonController(window)
    window.comparison_controller = controller
    return controller
