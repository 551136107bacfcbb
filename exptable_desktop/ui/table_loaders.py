"""The threads that read the experiments table off the UI thread, and the window's side of them.

``BaseTableLoader`` reads a large scope's whole table after its first page has painted;
``ColumnLoader`` streams custom columns in a few at a time; ``RefreshFetcher`` reads one
auto-refresh tick. Each reads on its own database connection (peewee keeps one per thread) and
closes it when done. ``TableLoading`` is the main window's part that starts them, drops results
that arrive for a scope no longer on screen, and installs the rest.
"""
from __future__ import annotations

import ctypes
import time

from PySide6.QtCore import Qt, QThread, QTimer, Signal

from exptable_desktop.core.database import Scope, close_thread_connection, current_change_seq
from exptable_desktop.core.experiment_table import CustomColumnData, prepare_custom_column
from exptable_desktop.core.table_loading import (
    covers_most_of_db,
    fetch_changes,
    load_base_table,
    load_custom_columns,
)

# Custom columns reach the UI thread at most this often (each hand-over costs a repaint).
COLUMN_BATCH_SECONDS = 0.15
# At most this many cells a hand-over (8 columns at 100,000 rows, every column at 10,000).
COLUMN_BATCH_CELLS = 800_000
TRIM_SECONDS = 0.25
# The whole-table read starts after the first paint; a window never shown starts it after this.
UNSHOWN_LOAD_DELAY_MS = 1000


def return_freed_memory() -> None:
    """Give memory freed after a big load back to the system.

    glibc keeps what a loader thread freed (the rows it read) in that thread's
    arena, so without this the process stays ~70 MB larger at 100,000 experiments.
    Elsewhere (no glibc) there is nothing to do.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


class ColumnLoader(QThread):
    """Reads custom columns on its own database connection and hands them over a few at a time."""

    sig_columns_ready = Signal(object)  # list[CustomColumnData]

    def __init__(self, scope: Scope, table, keys: list[str], whole_db: bool, parent=None):
        super().__init__(parent)
        self.scope, self.table, self.keys, self.whole_db = scope, table, list(keys), whole_db
        self.started_seq = current_change_seq()  # rows changed after it are read again by a refresh
        self._cancelled = False
        self.error: str | None = None

    def cancel(self) -> None:
        self._cancelled = True

    def run(self) -> None:
        batch: list[CustomColumnData] = []
        last_sent = last_trimmed = time.perf_counter()
        try:
            for key, rows in load_custom_columns(self.scope, self.keys, whole_db=self.whole_db,
                                                 expected_rows=self.table.n):
                if self._cancelled:
                    return
                batch.append(prepare_custom_column(self.table, key, rows))
                del rows  # the rows read: several times the size of the column they make
                # Trimmed now and then, not per column: a trim walks the heap (tens of ms at 100k
                # rows), and columns from the cache arrive a few milliseconds apart.
                if time.perf_counter() - last_trimmed >= TRIM_SECONDS or key == self.keys[-1]:
                    return_freed_memory()
                    last_trimmed = time.perf_counter()
                # Handed over in batches: each hand-over costs the UI thread a repaint.
                # Bounded in cells too: columns from the cache come faster than the timer, and 40
                # columns of 100,000 rows handed over at once doubled their memory for a moment.
                if (time.perf_counter() - last_sent >= COLUMN_BATCH_SECONDS
                        or len(batch) * max(self.table.n, 1) >= COLUMN_BATCH_CELLS or key == self.keys[-1]):
                    self.sig_columns_ready.emit(batch)
                    batch, last_sent = [], time.perf_counter()
        except Exception as exc:  # shown in the status bar by the window
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            close_thread_connection()


class BaseTableLoader(QThread):
    """Reads the base columns of a whole scope on its own database connection."""

    sig_done = Signal()

    def __init__(self, scope: Scope, parent=None):
        super().__init__(parent)
        self.scope = scope
        self.started_seq = current_change_seq()  # rows changed after it are read again by a refresh
        self.table = None
        self.error: str | None = None

    def run(self) -> None:
        try:
            self.table = load_base_table(self.scope)
        except Exception as exc:  # shown in the status bar by the window
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            close_thread_connection()
        self.sig_done.emit()


class RefreshFetcher(QThread):
    """One refresh tick's database read, off the UI thread; the UI thread only applies it."""

    sig_fetched = Signal(object, int)  # ChangeSet, the refresh sequence number it was started under

    def __init__(self, since: int, custom_keys: list[str], parent_ids: list[str], sequence: int, parent=None):
        super().__init__(parent)
        self.since, self.custom_keys, self.parent_ids, self.sequence = since, custom_keys, parent_ids, sequence
        self.error: str | None = None

    def run(self) -> None:
        try:
            self.sig_fetched.emit(fetch_changes(self.since, self.custom_keys, self.parent_ids), self.sequence)
        except Exception as exc:  # the database went away or is locked: the next tick tries again
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            close_thread_connection()


class TableLoading:
    """The main window's side of the loader threads (a mixin of ``MainWindow``).

    A large scope's first page is on screen while ``BaseTableLoader`` reads the whole table; what
    the person changed meanwhile (sort, filters, columns, checks) is kept when it arrives. Custom
    columns then stream in through ``ColumnLoader``. Results for a scope no longer on screen are
    dropped. Uses the window's ``model``, ``table_view``, ``_scope`` and its table-state methods.
    """

    def _start_base_loader(self) -> None:
        """Prepare the whole-table read; it starts once the first page has been painted."""
        loader = BaseTableLoader(self._scope)
        loader.sig_done.connect(lambda: self._on_full_table(loader), Qt.ConnectionType.QueuedConnection)
        self._base_loader = loader
        self._rewind_refresh(loader.started_seq)
        # A window that is never shown still gets its table.
        QTimer.singleShot(UNSHOWN_LOAD_DELAY_MS, lambda: self._launch_base_loader(loader))

    def _launch_base_loader(self, loader: BaseTableLoader) -> None:
        if loader is self._base_loader and not loader.isRunning() and not loader.isFinished():
            loader.start()

    def _launch_after_paint(self) -> None:
        """The table's viewport painted: start the reads that waited for it.

        The worker's Python code competes for the GIL with every data() call of a paint: started
        together, the first page would wait for the whole read. So it starts after that paint."""
        if self._base_loader is not None:
            loader = self._base_loader
            QTimer.singleShot(0, lambda: self._launch_base_loader(loader))
        if self._pending_columns is not None:
            QTimer.singleShot(0, self._launch_pending_columns)

    def _launch_pending_columns(self) -> None:
        """Start reading the whole custom columns (after the first paint, or when never shown)."""
        if self._pending_columns is not None:
            keys, whole_db = self._pending_columns
            self._pending_columns = None
            self._start_loader(keys, whole_db)

    def _ensure_full_table(self) -> None:
        """Answers about the whole scope need the whole table: finish reading it now if it is on its way."""
        loader = self._base_loader
        if loader is not None:
            self._launch_base_loader(loader)
            loader.wait()
            self._on_full_table(loader)

    def _on_full_table(self, loader: BaseTableLoader) -> None:
        if loader is not self._base_loader:
            return  # installed already, or another project was opened meanwhile
        self._base_loader = None
        self._full_pending = False
        if loader.table is None:
            self.show_message("Could not read the whole table.", details=loader.error)
            return
        table = loader.table
        # Keep what the person changed while the first page was on screen.
        current = self.table_state()
        if self.model.is_show_only_checked():
            table.set_only_ids(self.model.checked)
        # The first page's custom values stay on screen while the whole columns stream in.
        first_page = self.model.table
        table.add_empty_custom_columns(current.custom, partial=True)
        carried = table.slots_for(first_page.alive_ids())
        table.write_custom_rows(carried[carried >= 0], first_page.custom_values_of(current.custom))
        self._install_table(table, current, custom=False)
        loader.table = None
        # Ticks applied to the first page meanwhile may be newer than this read: read them again.
        self._rewind_refresh(loader.started_seq)
        if current.custom:
            self._start_loader(current.custom, covers_most_of_db(table))
        self._update_row_count()
        return_freed_memory()

    def _start_loader(self, keys: list[str], whole_db: bool) -> None:
        loader = ColumnLoader(self._scope, self.model.table, keys, whole_db, self)
        loader.sig_columns_ready.connect(self._install_columns, Qt.ConnectionType.QueuedConnection)
        # Queued after the last batch, so when it runs every column is in.
        loader.finished.connect(lambda: self._on_loader_finished(loader), Qt.ConnectionType.QueuedConnection)
        self._loader = loader
        self._loader_started = loader.started_seq
        loader.start()

    def _stop_loader(self, wait: bool = True) -> None:
        """Drop the loaders' results; ``wait`` for their threads too (before the database closes)."""
        if self._base_loader is not None:
            # One long query that cannot be interrupted: its result is dropped (see _on_full_table).
            self._abandoned.append(self._base_loader)
            self._base_loader = None
        if wait:
            for loader in self._abandoned:
                loader.wait()
        self._abandoned = [loader for loader in self._abandoned if loader.isRunning()]
        self._full_pending = False
        self._pending_columns = None
        if self._loader is not None:
            self._loader.cancel()
            self._loader.wait()
            self._loader = None

    def _on_loader_finished(self, loader: ColumnLoader) -> None:
        if loader is not self._loader:
            return
        self._loader = None
        if loader.error:
            self.show_message("Could not read every custom column.", details=loader.error)

    def is_loading(self) -> bool:
        """True while the whole table or its custom columns are still on their way."""
        return self._full_pending or self._pending_columns is not None or self._loader is not None

    def _install_columns(self, batch: list[CustomColumnData]) -> None:
        if self.sender() is not self._loader:
            return
        for data in batch:
            if data.key in self.model.keys:
                self.model.install_column_data(data)
        # Rows that changed after the columns were read get their values at the next tick.
        self._rewind_refresh(self._loader_started)
        if batch and batch[-1].key == self._loader.keys[-1]:
            return_freed_memory()
