"""Everything Qt: the main window, the experiments table and their dialogs."""
from __future__ import annotations

from exptable_desktop.ui import palette as _palette

# Chosen before any of the window's modules load, since some take colours as they are imported:
# here from EXPTABLE_COLOR_SCHEME (no application exists yet to ask the system), and again by
# create_main_window once one does.
_palette.set_current(_palette.choose_palette())


def create_main_window(db_url: str):
    """Open the database at ``db_url`` and build the main window on it."""
    from exptable_desktop.ui import palette
    # Before the window's modules load where possible: some take colours as they are imported.
    palette.set_current(palette.choose_palette())
    from exptable_desktop.core.database import open_database
    from exptable_desktop.ui.actions import install_actions
    from exptable_desktop.ui.comparison import install_comparison
    from exptable_desktop.ui.details import install_details
    from exptable_desktop.ui.main_window import MainWindow
    from exptable_desktop.ui.style import apply_style, style_window

    open_database(db_url)
    apply_style()
    window = MainWindow(db_url)
    # Details first: the actions install keeps its Enter handler and gives its
    # header the same action menu as the table.
    install_details(window)
    install_actions(window)
    # After details: leaving comparison for details hands the table's place over to it.
    install_comparison(window)
    # After actions: their experiment menu gets Copy link, Star and the custom actions.
    from exptable_desktop.ui.custom_actions_ui import install_custom_actions
    from exptable_desktop.ui.project_tree import install_project_menu
    from exptable_desktop.ui.views_menu import install_views
    install_views(window)
    install_custom_actions(window)
    install_project_menu(window)
    # After actions: File > Import… / Export CSV…, and the experiment menu's Export and Share.
    from exptable_desktop.ui.export_dialogs import install_io
    install_io(window)
    # Last: the parts the installs added to the window get the style sheet too.
    style_window(window)
    return window


__all__ = ["create_main_window"]
