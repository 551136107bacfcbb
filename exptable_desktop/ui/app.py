"""Starting the desktop program."""
from __future__ import annotations

import sys


def run_gui(db_url: str, link: str | None = None) -> int:
    """The main window on ``db_url`` until it closes; ``link`` (exptable://…) is opened in it first."""
    from PySide6.QtWidgets import QApplication

    from exptable_desktop.store import StoreError
    from exptable_desktop.ui import create_main_window

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("ExpTable")
    app.setOrganizationName("ExpTable")
    try:
        window = create_main_window(db_url)
    except StoreError as exc:
        print(f"exptable: {exc}", file=sys.stderr)
        return 2
    window.show()
    from exptable_desktop.ui.link_server import install_link_server, open_link_reporting
    install_link_server(window)  # later `exptable open` links come to this window
    if link:
        open_link_reporting(window, link)
    code = app.exec()
    window.shutdown()
    return code
