"""Starting the desktop program."""
from __future__ import annotations

import sys


def has_terminal() -> bool:
    """Whether someone can read stderr: false when started from a desktop menu or a windowed bundle."""
    try:
        return sys.stderr is not None and sys.stderr.isatty()
    except (AttributeError, ValueError):  # a replaced or closed stream
        return False


def report_startup_error(message: str) -> None:
    """Say why the window cannot open: on stderr, and in a dialog when no terminal would show it."""
    if sys.stderr is not None:
        print(f"exptable: {message}", file=sys.stderr)
    if has_terminal():
        return
    from PySide6.QtWidgets import QMessageBox

    box = QMessageBox(QMessageBox.Icon.Critical, "ExpTable", "ExpTable could not open the database.",
                      QMessageBox.StandardButton.Close)
    box.setObjectName("startupErrorDialog")
    box.setInformativeText(message)
    box.exec()


def run_gui(db_url: str, link: str | None = None) -> int:
    """The main window on ``db_url`` until it closes; ``link`` (exptable://…) is opened in it first."""
    from PySide6.QtWidgets import QApplication

    from exptable_desktop.core.database import StoreError
    from exptable_desktop.ui import create_main_window

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ExpTable")
    app.setOrganizationName("ExpTable")
    try:
        window = create_main_window(db_url)
    except StoreError as exc:
        report_startup_error(str(exc))
        return 2
    window.show()
    from exptable_desktop.ui.link_server import install_link_server, open_link_reporting
    install_link_server(window)  # later `exptable open` links come to this window
    if link:
        open_link_reporting(window, link)
    code = app.exec()
    window.shutdown()
    return code
