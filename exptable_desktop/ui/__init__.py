"""Everything Qt: the main window, the experiments table and their dialogs."""
from __future__ import annotations


def create_main_window(db_url: str):
    """Open the database at ``db_url`` and build the main window on it."""
    from exptable_desktop.store import open_database
    from exptable_desktop.ui.main_window import MainWindow
    from exptable_desktop.ui.style import apply_style

    open_database(db_url)
    apply_style()
    return MainWindow(db_url)


__all__ = ["create_main_window"]
