"""The Export menu of the compare page's DETAILS / HYPERPARAMETERS / PARALLEL / SCATTER views:
what is shown as CSV, and the whole comparison as an HTML report (core/compare_export.py)."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence, TextIO

from PySide6.QtWidgets import QFileDialog, QMenu, QMessageBox, QPushButton, QWidget

from exptable_desktop.core import compare_export as ce
from exptable_desktop.core.compare_palette import ComparedExperiment

CsvWriter = Callable[[TextIO], object]


def save_csv(path: str | Path, writer: CsvWriter) -> Path:
    """Write a CSV through a temporary file; ExportError (one line) when it cannot be written."""
    path = Path(path).expanduser()
    temporary = path.with_name(f".{path.name}.part")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as out:
            writer(out)
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ce.ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def _ask_path(parent: QWidget, caption: str, default_name: str, file_filter: str) -> str:
    path, _ = QFileDialog.getSaveFileName(parent, caption, str(Path.home() / default_name), file_filter)
    return path


def export_csv_dialog(parent: QWidget, writer: CsvWriter, default_name: str) -> Path | None:
    path = _ask_path(parent, "Export as CSV", default_name, "CSV files (*.csv)")
    if not path:
        return None
    try:
        return save_csv(path, writer)
    except ce.ExportError as exc:
        QMessageBox.warning(parent, "Export failed", str(exc))
        return None


def export_html_dialog(parent: QWidget, experiments: Sequence[ComparedExperiment],
                       hide_identical: bool = False) -> Path | None:
    path = _ask_path(parent, "Export the comparison as an HTML report", "comparison.html", "HTML files (*.html)")
    if not path:
        return None
    try:
        return ce.write_html_report(path, list(experiments), hide_identical=hide_identical)
    except ce.ExportError as exc:
        QMessageBox.warning(parent, "Export failed", str(exc))
        return None


def export_button(owner: QWidget, csv_entries: Sequence[tuple[str, str, CsvWriter]],
                  experiments: Callable[[], Sequence[ComparedExperiment]],
                  hide_identical: Callable[[], bool] = lambda: False) -> QPushButton:
    """An "Export" button whose menu has ``(label, default file name, writer)`` CSV entries and
    the HTML report of ``experiments()`` (in page order)."""
    button = QPushButton("Export", owner)
    button.setObjectName("compareExportButton")
    button.setToolTip("Export what this view shows as CSV, or the whole comparison as an HTML report")
    menu = QMenu(button)
    for label, default_name, writer in csv_entries:
        menu.addAction(label, lambda w=writer, n=default_name: export_csv_dialog(owner, w, n))
    menu.addSeparator()
    menu.addAction("Whole comparison as HTML report…",
                   lambda: export_html_dialog(owner, experiments(), hide_identical()))
    button.setMenu(menu)
    return button
