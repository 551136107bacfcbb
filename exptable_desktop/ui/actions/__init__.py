"""Working with experiments: selection, the experiment menu, the batch bar and the action flows.

``install_actions(window)`` wires all of it into a main window through the
public window API (docs/window_api.md) and returns the :class:`ActionController`.
"""
from __future__ import annotations

from exptable_desktop.ui.actions.batch_bar import BatchActionBar
from exptable_desktop.ui.actions.controller import ActionController
from exptable_desktop.ui.actions.row_menu import RowMenuButton
from exptable_desktop.ui.actions.selection import ClickChecking, HeaderOverlay, SelectionControl, install_shortcuts

__all__ = ["ActionController", "BatchActionBar", "SelectionControl", "install_actions"]


def install_actions(window) -> ActionController:
    controller = ActionController(window)
    window.set_row_context_menu_handler(controller.show_context_menu)
    if getattr(window, "details_controller", None) is None:
        # install_details sets its own handler (it also shows the panel at once); keep it.
        window.set_activate_handler(controller.open_details)

    controller.batch_bar = BatchActionBar(controller)
    window.add_bottom_widget(controller.batch_bar)

    view = window.table_view
    controller.selection_control = SelectionControl(window)
    controller.header_overlay = HeaderOverlay(controller.selection_control, view, window.check_column)
    controller.click_checking = ClickChecking(window, view)
    controller.shortcuts = install_shortcuts(controller, view, window)
    controller.row_menu = RowMenuButton(controller, view)

    panel = getattr(window, "details_panel", None)
    if panel is not None and hasattr(panel, "set_action_menu_factory"):
        panel.set_action_menu_factory(controller.detached_menu_factory(panel))

    window.action_controller = controller
    return controller
