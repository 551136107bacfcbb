"""The one-line text dialogs (new project, rename project, new queue, rename in the comparison): the
action is enabled only for a value the action would accept, and says why not."""
from __future__ import annotations

from exptable_desktop.core.projects import project_name_problem
from exptable_desktop.ui.actions.dialogs import TextDialog


def test_a_project_name_with_a_slash_is_refused_before_the_click(qtbot):
    dialog = TextDialog(None, "New project", "Name of the new project:", action_text="Create",
                        problem=project_name_problem)
    qtbot.addWidget(dialog)
    button = dialog.buttons.action_button
    assert button.text() == "Create" and not button.isEnabled()
    assert dialog.error.isHidden()  # nothing typed: no complaint yet
    dialog.line_edit.setText("a/b")
    assert not button.isEnabled()
    assert not dialog.error.isHidden() and "'/'" in dialog.error.text()
    dialog.line_edit.setText("   ")
    assert not button.isEnabled() and dialog.error.isHidden()
    dialog.line_edit.setText("  vision  ")
    assert button.isEnabled() and dialog.error.isHidden()
    assert dialog.value() == "vision"


def test_the_default_check_wants_some_text_and_the_given_text_starts_valid(qtbot):
    dialog = TextDialog(None, "Rename experiment", "New name:", "run 7", action_text="Rename")
    qtbot.addWidget(dialog)
    assert dialog.buttons.action_button.isEnabled()
    dialog.line_edit.clear()
    assert not dialog.buttons.action_button.isEnabled()


def test_project_name_problem_matches_what_create_refuses():
    assert project_name_problem("ok name") == ""
    assert "needs a name" in project_name_problem("  ")
    assert "255" in project_name_problem("x" * 256)
