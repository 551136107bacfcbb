"""A window that cannot open says why where the person will see it: in a dialog when there is no
terminal (a desktop launcher, the windowed bundle), and on stderr always."""
from __future__ import annotations

import io
import sqlite3

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from exptable_desktop.store import close_database, open_database
from exptable_desktop.ui import app as app_module


def _newer_database(tmp_path) -> str:
    path = tmp_path / "newer.db"
    url = f"sqlite:///{path}"
    open_database(url)
    close_database()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE schema_version SET version = 999")
    conn.close()
    return url


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _close_dialog_later(seen: list, attempts: int = 100) -> None:
    """Close the dialog run_gui blocks on (reading what it said), so a shown dialog can't hang the test."""
    def close(left=attempts):
        box = QApplication.activeModalWidget()
        if box is None:  # not shown yet
            if left:
                QTimer.singleShot(20, lambda: close(left - 1))
            return
        seen.append((box.objectName(), box.text(), box.informativeText()))
        box.done(QMessageBox.StandardButton.Close)
    QTimer.singleShot(20, close)


def test_without_a_terminal_the_error_is_shown_in_a_dialog(qapp, tmp_path, monkeypatch):
    url = _newer_database(tmp_path)
    stderr = io.StringIO()  # not a terminal, as under a desktop launcher
    monkeypatch.setattr("sys.stderr", stderr)
    seen: list = []
    _close_dialog_later(seen)
    assert app_module.run_gui(url) == 2
    assert len(seen) == 1
    name, text, detail = seen[0]
    assert name == "startupErrorDialog"
    assert text == "ExpTable could not open the database."
    assert "newer than this program" in detail
    assert "newer than this program" in stderr.getvalue()


def test_with_a_terminal_the_error_goes_to_stderr_only(qapp, tmp_path, monkeypatch):
    url = _newer_database(tmp_path)
    stderr = _Tty()
    monkeypatch.setattr("sys.stderr", stderr)
    seen: list = []
    _close_dialog_later(seen)
    assert app_module.run_gui(url) == 2
    QApplication.processEvents()
    assert seen == []
    assert stderr.getvalue().startswith("exptable: ") and "newer than this program" in stderr.getvalue()
