"""The table's live refresh: a timer tick reads what changed since the last one on a worker thread
(``RefreshFetcher``) and the UI thread only applies it; and the clock that keeps "x minutes ago"
true for the rows in view."""
from __future__ import annotations

import time

from PySide6.QtCore import Qt

from exptable_desktop.core.table_loading import fetch_changes
from exptable_desktop.ui.table_loaders import RefreshFetcher


class LiveRefresh:
    """Auto-refresh of the main window's table (a mixin of ``MainWindow``).

    ``_since`` is the change sequence number the next read starts after; ``_refresh_sequence`` is
    bumped by every synchronous refresh and scope change, so an older fetch still in flight is
    dropped when it arrives rather than applied over newer rows.
    """

    def set_refresh_interval(self, seconds: float) -> None:
        self._refresh_seconds = max(0.5, float(seconds))
        self.refresh_timer.setInterval(int(self._refresh_seconds * 1000))
        self.auto_refresh_toggle.setToolTip(f"Auto-refresh every {self._refresh_seconds:g} s")

    def _on_auto_refresh_toggled(self, on: bool) -> None:
        self.set_refresh_interval(self._refresh_seconds)
        if on:
            self.refresh_timer.start()
        else:
            self.refresh_timer.stop()

    def refresh_now(self) -> None:
        """An incremental refresh, fetched and applied before returning (public API)."""
        self._refresh_sequence += 1
        table = self.model.table
        changes = fetch_changes(self._since, table.custom_keys(), table.parent_ids())
        self._apply_refresh(changes)

    def refresh_in_background(self) -> None:
        """A timer tick: the changes are read on a worker thread; only applying them uses the UI thread."""
        if self._fetcher is not None and self._fetcher.isRunning():
            return  # the previous tick is still reading; it covers this one
        table = self.model.table
        fetcher = RefreshFetcher(self._since, table.custom_keys(), table.parent_ids(), self._refresh_sequence)
        fetcher.sig_fetched.connect(self._on_fetched, Qt.ConnectionType.QueuedConnection)
        fetcher.finished.connect(lambda: self._on_fetcher_finished(fetcher), Qt.ConnectionType.QueuedConnection)
        self._fetcher = fetcher
        fetcher.start()

    def _on_fetcher_finished(self, fetcher: RefreshFetcher) -> None:
        if fetcher.error:
            self.show_message("Auto-refresh could not read the database; it tries again at the next tick.",
                              details=fetcher.error)

    def _on_fetched(self, changes, sequence: int) -> None:
        if sequence != self._refresh_sequence:
            return  # a newer refresh or another scope took over meanwhile
        self._apply_refresh(changes)

    def _rewind_refresh(self, since: int) -> None:
        """Have the next refresh read again every change after ``since``. A fetch already under way
        read from the later cursor and would move it past the changes in between: it is dropped."""
        if since < self._since:
            self._since = since
            self._refresh_sequence += 1

    def _apply_refresh(self, changes) -> None:
        started = time.perf_counter()
        self._since = changes.cursor
        result = self.model.apply_changes(changes, self._scope)
        if len(result.inserted):
            for hook in self.table_hooks:
                hook(self.model.table, result.inserted)
        if len(result.inserted) or len(result.removed) or changes.deleted:
            self.project_panel.model.rebuild(self._archive)
        self.last_refresh_apply_seconds = time.perf_counter() - started
        self.sig_refreshed.emit()

    def _stop_fetcher(self, wait: bool) -> None:
        """Drop the in-flight fetch's result; with ``wait``, also let its thread end (before closing the DB)."""
        self._refresh_sequence += 1
        if wait and self._fetcher is not None:
            self._fetcher.wait()
            self._fetcher = None

    def _tick_clock(self) -> None:
        self.model.tick_clock(*self.table_view.visible_row_range())
