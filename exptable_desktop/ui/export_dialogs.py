"""Data in and out from the window: File > Export CSV… and File > Import…, and the experiment menu's
"Export" (JSON) and "Share > Export bundle…".

The work runs on a worker thread behind a progress dialog whose Cancel stops it (an import or a
bundle import then keeps nothing; a cancelled export leaves no file). The questions are module
functions (``ask_csv_export``, ``ask_import``, ``ask_save_path``) so tests answer them with
``monkeypatch`` and drive the flows without modal loops.

``install_io(window)`` adds the File menu and the experiment-menu entries; the controller is kept
as ``window.io_controller``.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from PySide6.QtCore import QObject, Qt, QThread, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from exptable_desktop.io import csv_export
from exptable_desktop.core.database import Scope, close_thread_connection

IMPORT_SOURCES = (
    ("clearml", "ClearML offline session (zip or folder)"),
    ("mlflow", "MLflow store (./mlruns, mlflow.db or a tracking URI)"),
    ("tensorboard", "TensorBoard log folder"),
    ("bundle", "ExpTable bundle (.etb)"),
)


# ---- The questions ------------------------------------------------------------------------------

@dataclass(frozen=True)
class CsvChoice:
    """What the Export CSV dialog returns: which rows, as shown or full precision, whether to write a byte-order
    mark, and the file."""

    all_rows: bool     # every experiment matching the filters, read afresh; else the rows on screen
    precise: bool
    bom: bool
    path: str


class CsvExportDialog(QDialog):
    """File > Export CSV…: asks for the rows (on screen, or all matching read afresh), the value precision, the
    BOM and the file; ``choice`` gives a CsvChoice."""

    def __init__(self, parent: QWidget | None, on_screen: int, default_path: str, *, still_loading: bool = False):
        super().__init__(parent)
        self.setObjectName("csvExportDialog")
        self.setWindowTitle("Export CSV")
        layout = QVBoxLayout(self)
        rows = QGroupBox("Rows")
        rows_layout = QVBoxLayout(rows)
        self.on_screen = QRadioButton(f"On screen ({on_screen:,} experiment{'s' if on_screen != 1 else ''})")
        self.on_screen.setObjectName("csvOnScreen")
        self.all_rows = QRadioButton("All experiments matching the filters (read from the database, no limit)")
        self.all_rows.setObjectName("csvAllRows")
        (self.all_rows if still_loading else self.on_screen).setChecked(True)
        rows_layout.addWidget(self.on_screen)
        rows_layout.addWidget(self.all_rows)
        if still_loading:
            rows_layout.addWidget(QLabel("The table is still loading: on screen are the most recent experiments."))
        layout.addWidget(rows)
        values = QGroupBox("Values")
        values_layout = QVBoxLayout(values)
        self.as_shown = QRadioButton("As shown (6 decimals, dates and durations as in the table)")
        self.as_shown.setObjectName("csvAsShown")
        self.precise = QRadioButton("Full precision (exact numbers, seconds, ISO 8601 UTC times)")
        self.precise.setObjectName("csvPrecise")
        self.as_shown.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.as_shown)
        group.addButton(self.precise)
        values_layout.addWidget(self.as_shown)
        values_layout.addWidget(self.precise)
        layout.addWidget(values)
        self.bom = QCheckBox("Start with a byte order mark (for Excel on Windows)")
        self.bom.setObjectName("csvBom")
        layout.addWidget(self.bom)
        file_row = QHBoxLayout()
        self.path = QLineEdit(default_path)
        self.path.setObjectName("csvPath")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        file_row.addWidget(QLabel("File"))
        file_row.addWidget(self.path, 1)
        file_row.addWidget(browse)
        layout.addLayout(file_row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.path.textChanged.connect(lambda text: self.ok_button.setEnabled(bool(text.strip())))
        layout.addWidget(buttons)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export CSV", self.path.text(), "CSV files (*.csv)")
        if path:
            self.path.setText(path)

    def choice(self) -> CsvChoice:
        return CsvChoice(self.all_rows.isChecked(), self.precise.isChecked(), self.bom.isChecked(),
                         self.path.text().strip())


def ask_csv_export(parent: QWidget | None, on_screen: int, default_path: str,
                   still_loading: bool = False) -> CsvChoice | None:
    dialog = CsvExportDialog(parent, on_screen, default_path, still_loading=still_loading)
    return dialog.choice() if dialog.exec() == QDialog.DialogCode.Accepted else None


@dataclass(frozen=True)
class ImportChoice:
    """What the Import dialog returns: the source kind, its file or folder, and the project to import into (None:
    the source's own projects)."""

    source: str      # clearml | mlflow | tensorboard | bundle
    location: str
    project: str | None


class ImportDialog(QDialog):
    """File > Import…: picks the source (ClearML offline, MLflow, TensorBoard, bundle), its file or folder and the
    target project; ``choice`` gives an ImportChoice."""

    def __init__(self, parent: QWidget | None, source: str = "clearml"):
        super().__init__(parent)
        self.setObjectName("importDialog")
        self.setWindowTitle("Import")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.source = QComboBox()
        self.source.setObjectName("importSource")
        for key, label in IMPORT_SOURCES:
            self.source.addItem(label, key)
        self.source.setCurrentIndex(max(0, [k for k, _ in IMPORT_SOURCES].index(source)
                                        if source in dict(IMPORT_SOURCES) else 0))
        form.addRow("From", self.source)
        location_row = QHBoxLayout()
        self.location = QLineEdit()
        self.location.setObjectName("importLocation")
        self.location.setPlaceholderText("a file, a folder or (MLflow) a tracking URI")
        file_button = QPushButton("File…")
        file_button.clicked.connect(self._pick_file)
        folder_button = QPushButton("Folder…")
        folder_button.clicked.connect(self._pick_folder)
        location_row.addWidget(self.location, 1)
        location_row.addWidget(file_button)
        location_row.addWidget(folder_button)
        form.addRow("Source", location_row)
        self.project = QLineEdit()
        self.project.setObjectName("importProject")
        self.project.setPlaceholderText("the source's own projects")
        form.addRow("Into project", self.project)
        layout.addLayout(form)
        self.note = QLabel("Importing again adds only what is new; the source is never changed.")
        self.note.setWordWrap(True)
        layout.addWidget(self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Import")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.ok_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setEnabled(False)
        self.location.textChanged.connect(lambda text: self.ok_button.setEnabled(bool(text.strip())))
        self.source.currentIndexChanged.connect(self._source_changed)
        layout.addWidget(buttons)
        self._source_changed()

    def _source_changed(self, *_args) -> None:
        bundle = self.source.currentData() == "bundle"
        self.project.setEnabled(not bundle)
        self.project.setToolTip("A bundle keeps its experiments' projects" if bundle else "")

    def _pick_file(self) -> None:
        filters = {"clearml": "Session zips (*.zip)", "mlflow": "MLflow databases (*.db *.sqlite)",
                   "bundle": "ExpTable bundles (*.etb)"}.get(self.source.currentData(), "All files (*)")
        path, _ = QFileDialog.getOpenFileName(self, "Import", self.location.text(), filters)
        if path:
            self.location.setText(path)

    def _pick_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Import", self.location.text())
        if path:
            self.location.setText(path)

    def choice(self) -> ImportChoice:
        project = self.project.text().strip() if self.project.isEnabled() else ""
        return ImportChoice(self.source.currentData(), self.location.text().strip(), project or None)


def ask_import(parent: QWidget | None, source: str = "clearml") -> ImportChoice | None:
    dialog = ImportDialog(parent, source)
    return dialog.choice() if dialog.exec() == QDialog.DialogCode.Accepted else None


def ask_save_path(parent: QWidget | None, title: str, default: str, file_filter: str) -> str | None:
    path, _ = QFileDialog.getSaveFileName(parent, title, default, file_filter)
    return path or None


def show_report(parent: QWidget | None, title: str, summary: str, details: Sequence[str]) -> None:
    box = QMessageBox(QMessageBox.Icon.Information, title, summary, parent=parent)
    box.setObjectName("ioReport")
    if details:
        box.setDetailedText("\n".join(details))
    box.open()


# ---- Work on a thread, behind a progress dialog -----------------------------------------------------

class Job(QThread):
    """``work(progress)`` on a worker thread; ``progress(done, total, label="")`` returns False once
    cancelled, which the io functions turn into their Cancelled exception."""

    sig_progress = Signal(int, int, str)
    sig_done = Signal(object, object)  # result, error (an exception) — one of them None

    def __init__(self, work: Callable[[Callable[..., bool]], Any], parent: QObject | None = None):
        super().__init__(parent)
        self.work = work
        self.cancelled = False
        self.result: Any = None
        self.error: BaseException | None = None

    def progress(self, done: int, total: int, label: str = "", *_rest) -> bool:
        self.sig_progress.emit(int(done), int(total), str(label or ""))
        return not self.cancelled

    def run(self) -> None:
        try:
            self.result = self.work(self.progress)
        except BaseException as exc:  # reported on the UI thread; a worker must not die silently
            self.error = exc
        finally:
            close_thread_connection()
        self.sig_done.emit(self.result, self.error)


class JobRunner(QObject):
    """Runs one Job at a time with a cancellable progress dialog and calls back on the UI thread."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.job: Job | None = None
        self.dialog: QProgressDialog | None = None

    def busy(self) -> bool:
        return self.job is not None and self.job.isRunning()

    def start(self, title: str, work: Callable, finished: Callable[[Any, BaseException | None], None]) -> Job:
        job = Job(work, self)
        dialog = QProgressDialog(title, "Cancel", 0, 0, self.window)
        dialog.setObjectName("ioProgress")
        dialog.setWindowTitle(title)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(lambda: setattr(job, "cancelled", True))

        def progress(done: int, total: int, label: str) -> None:
            if total > 0:
                dialog.setMaximum(total)
                dialog.setValue(min(done, total))
            text = f"{title}: {done:,} of {total:,}" if total else title
            dialog.setLabelText(f"{text}\n{label}" if label else text)

        def done(result, error) -> None:
            dialog.close()
            dialog.deleteLater()
            self.job, self.dialog = None, None
            job.wait()
            job.deleteLater()
            finished(result, error)
        job.sig_progress.connect(progress, Qt.ConnectionType.QueuedConnection)
        job.sig_done.connect(done, Qt.ConnectionType.QueuedConnection)
        self.job, self.dialog = job, dialog
        job.start()
        return job


# ---- The controller ---------------------------------------------------------------------------------

def _error_text(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


class IoController(QObject):
    """Runs the window's exports and imports (CSV, JSON, bundle) on a worker thread behind a progress dialog, and
    adds their menu entries; kept as ``window.io_controller``."""

    def __init__(self, window):
        super().__init__(window)
        self.window = window
        self.runner = JobRunner(window)
        self.last_path: str | None = None   # where the last export went (for tests and messages)

    # ---- what the table shows -------------------------------------------------------------------

    def displayed_keys(self) -> list[str]:
        """The table's visible columns in their on-screen order (the checkbox left out)."""
        header = self.window.table_view.horizontalHeader()
        keys = self.window.model.keys
        out = []
        for visual in range(header.count()):
            logical = header.logicalIndex(visual)
            if 0 <= logical < len(keys) and not header.isSectionHidden(logical) and keys[logical] != "check":
                out.append(keys[logical])
        return out

    def scope(self) -> Scope:
        project_id, deep = self.window.current_scope()
        archived = self.window.is_archive_mode()
        if project_id is None:
            return Scope(None, archived)
        tree = self.window.project_panel.model
        ids = tuple(tree.descendants(project_id)) if deep else (project_id,)
        return Scope(ids, archived)

    def _default_folder(self) -> Path:
        return Path(self.last_path).parent if self.last_path else Path.home()

    # ---- CSV ---------------------------------------------------------------------------------

    def export_csv(self) -> None:
        if self.runner.busy():
            return
        table = self.window.model.table
        keys = self.displayed_keys()
        on_screen = len(table.order)
        default = str(self._default_folder() / csv_export.default_file_name(self.window.current_project_path()))
        choice = ask_csv_export(self.window, on_screen, default,
                                still_loading=bool(getattr(self.window, "_full_pending", False)))
        if choice is None:
            return
        options = csv_export.CsvOptions(precise=choice.precise, bom=choice.bom,
                                        precise_keys=frozenset(self.window.model.precise))
        path = choice.path
        if choice.all_rows:
            scope, sort, filters = self.scope(), list(table.sort), dict(table.filters)
            search, user = table.search, self.window.user

            def work(progress):
                progress(0, 0, "reading the experiments")
                fresh = csv_export.table_for_export(scope, keys, sort=sort, filters=filters, search=search,
                                                    user=user)
                return _write_csv_file(path, csv_export.snapshot(fresh, keys), options, progress)
        else:
            snap = csv_export.snapshot(table, keys)

            def work(progress):
                return _write_csv_file(path, snap, options, progress)
        self.runner.start("Exporting CSV", work, lambda rows, error: self._exported(path, rows, error, "CSV"))

    def _exported(self, path: str, count, error, what: str) -> None:
        if error is not None:
            if isinstance(error, csv_export.ExportCancelled) or type(error).__name__.endswith("Cancelled"):
                self.window.show_message(f"{what} export cancelled; no file was written.")
            else:
                self.window.show_message(f"{what} export failed: {_error_text(error)}")
            return
        self.last_path = path
        noun = "experiment" if count == 1 else "experiments"
        self.window.show_message(f"Exported {count:,} {noun} to {path}")

    # ---- JSON and bundles (experiment menu) ------------------------------------------------------

    def export_json(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        if not ids or self.runner.busy():
            return
        default = str(self._default_folder() / ("experiment.json" if len(ids) == 1 else "experiments.json"))
        path = ask_save_path(self.window, "Export experiments as JSON", default, "JSON files (*.json)")
        if not path:
            return
        from exptable_desktop.io.json_export import write_json

        def work(progress):
            def write(out):
                return write_json(out, ids, on_progress=lambda done, total: progress(done, total))
            return _write_text_file(path, write)
        self.runner.start("Exporting JSON", work, lambda count, error: self._exported(path, count, error, "JSON"))

    def export_bundle(self, ids: Sequence[str]) -> None:
        ids = list(ids)
        if not ids or self.runner.busy():
            return
        default = str(self._default_folder() / "experiments.etb")
        path = ask_save_path(self.window, "Export bundle", default, "ExpTable bundles (*.etb)")
        if not path:
            return
        from exptable_desktop.io.bundle import export_bundle

        def work(progress):
            return export_bundle(ids, path, on_progress=lambda done, total: progress(done, total)).experiments
        self.runner.start("Exporting bundle", work,
                          lambda count, error: self._exported(path, count, error, "Bundle"))

    def extend_menu(self, menu: QMenu, ids: Sequence[str], rows=None, clicked=None) -> None:
        ids = list(ids)
        menu.addSeparator()
        export = menu.addAction(f"Export ({len(ids)})")
        export.setObjectName("action_export_json")
        export.setToolTip("Save the experiments as JSON: everything the details panel shows")
        export.setEnabled(bool(ids))
        export.triggered.connect(lambda _=False, i=ids: self.export_json(i))
        share = menu.addMenu("Share")
        share.setObjectName("menu_share")
        bundle = share.addAction(f"Export bundle… ({len(ids)})")
        bundle.setObjectName("action_export_bundle")
        bundle.setToolTip("One .etb file with the experiments and everything they own, to import elsewhere")
        bundle.setEnabled(bool(ids))
        bundle.triggered.connect(lambda _=False, i=ids: self.export_bundle(i))

    # ---- Import --------------------------------------------------------------------------------------

    def import_dialog(self, source: str = "clearml") -> None:
        if self.runner.busy():
            return
        if getattr(self.window, "read_only_reason", None):
            self.window.show_message(f"Cannot import: {self.window.read_only_reason}")
            return
        choice = ask_import(self.window, source)
        if choice is None or not choice.location:
            return
        self.start_import(choice)

    def start_import(self, choice: ImportChoice) -> Job:
        if choice.source == "bundle":
            from exptable_desktop.io.bundle import import_bundle

            def work(progress):
                return import_bundle(choice.location, on_progress=lambda done, total: progress(done, total))
        else:
            from exptable_desktop.io.importers import run_import

            def work(progress):
                return run_import(choice.source, choice.location, project=choice.project, on_progress=progress)
        return self.runner.start("Importing", work, lambda result, error: self._imported(choice, result, error))

    def _imported(self, choice: ImportChoice, result, error) -> None:
        if error is not None:
            cancelled = type(error).__name__.endswith("Cancelled")
            self.window.show_message("Import cancelled; nothing was imported." if cancelled
                                     else f"Import failed: {_error_text(error)}")
            return
        if choice.source == "bundle":
            summary = result.summary(Path(choice.location).name)
            details = [f"already present, not imported: {i}" for i in result.skipped] + list(result.notes)
        else:
            summary, details = result.summary(), result.details()
        self.window.refresh_now()
        self.window.project_panel.model.rebuild(self.window.is_archive_mode())
        self.window.show_message(summary, details="\n".join(details) or None)
        show_report(self.window, "Import", summary, details)


def _write_text_file(path: str, write: Callable) -> Any:
    """``write(out)`` into ``path`` whole or not at all (a partial file renamed at the end)."""
    target = Path(path)
    partial = target.with_name(f".{target.name}.partial")
    try:
        with open(partial, "w", encoding="utf-8", newline="") as out:
            result = write(out)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return result


def _write_csv_file(path: str, snap: csv_export.Snapshot, options: csv_export.CsvOptions, progress) -> int:
    return _write_text_file(path, lambda out: csv_export.write_snapshot(
        out, snap, options, on_progress=lambda done, total: progress(done, total)))


# ---- Installing ----------------------------------------------------------------------------------------

def install_io(window) -> IoController:
    """The File menu (Import…, Export CSV…) and the experiment menu's Export and Share entries."""
    controller = IoController(window)
    window.io_controller = controller
    file_menu = window.menuBar().addMenu("&File")
    file_menu.setObjectName("fileMenu")
    import_menu = file_menu.addMenu("Import")
    import_menu.setObjectName("importMenu")
    for key, label in IMPORT_SOURCES:
        action = import_menu.addAction(label + "…")
        action.setObjectName(f"action_import_{key}")
        action.triggered.connect(lambda _=False, k=key: controller.import_dialog(k))
    export_csv = file_menu.addAction("Export CSV…")
    export_csv.setObjectName("action_export_csv")
    export_csv.setToolTip("The table's columns as shown, on screen or every experiment matching the filters")
    export_csv.triggered.connect(controller.export_csv)
    window.file_menu = file_menu
    actions = getattr(window, "action_controller", None)
    if actions is not None and hasattr(actions, "menu_extensions"):
        actions.menu_extensions.append(controller.extend_menu)
    return controller
