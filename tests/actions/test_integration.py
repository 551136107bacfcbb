"""The actions together with the real main window and the details panel
(install_details, then install_actions, as create_main_window will do)."""
from __future__ import annotations

import pytest
from actions_support import make_experiment

from exptable_desktop.core import states as st

main_window = pytest.importorskip("exptable_desktop.ui.main_window")


def test_details_panel_header_menu_and_details_entries(db, db_url, qtbot, answers):
    from exptable_desktop.ui.actions import install_actions
    from exptable_desktop.ui.details import install_details

    draft = make_experiment("draft")
    other = make_experiment("other")
    window = main_window.MainWindow(db_url)
    qtbot.addWidget(window)
    window.show()
    details = install_details(window)
    controller = install_actions(window)

    # The header's ☰ menu is the experiment menu for the shown experiment.
    menu = window.details_panel.header._menu_factory([draft])
    assert menu.objectName() == "experimentMenu"
    assert [a.text() for a in menu.actions() if a.objectName() == "action_enqueue"] == ["Enqueue (1)"]

    # Enter/double-click stays with the details helper's handler.
    assert window.table_view.activate_handler == details.activate

    controller.run("details", [other])
    assert window.view_mode() == "details" and window.current_experiment_id() == other
    assert window.details_panel.experiment_id == other
    controller.run("full_screen", [draft])
    assert details.is_full_screen() and window.details_panel.experiment_id == draft

    answers.queue = "default"
    next(a for a in menu.actions() if a.objectName() == "action_enqueue").trigger()
    assert window.rows_info([draft])[0]["status"] == st.PENDING
