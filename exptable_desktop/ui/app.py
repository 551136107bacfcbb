"""Starting the desktop program."""
from __future__ import annotations

import sys


def run_gui(db_url: str) -> int:
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
    code = app.exec()
    window.shutdown()
    return code
