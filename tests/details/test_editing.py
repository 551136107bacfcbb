"""Editing in the panel: Draft sections, user properties, header fields, and refusals."""
from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMenu

from exptable_desktop.core import editing, recording
from exptable_desktop.core import details as data
from exptable_desktop.core import states as st
from exptable_desktop.store.schema import ConfigObject, Execution, Experiment, HyperParam
from exptable_desktop.ui.details import DetailsPanel


@pytest.fixture
def panel(db, qtbot):
    # After ``db``: the panel reads preferences from the database when it is built.
    widget = DetailsPanel()
    qtbot.addWidget(widget)
    widget.resize(1000, 760)
    widget.show()
    return widget


def params(exp_id, section):
    return {p.name: p.value for p in HyperParam.select().where((HyperParam.experiment == exp_id)
                                                               & (HyperParam.section == section))}


def test_draft_execution_edit_save_and_cancel(panel, draft_experiment, qtbot):
    panel.show_experiment(draft_experiment)
    panel.select_tab("EXECUTION")
    tab = panel.execution_tab
    source = tab.sections["source"]
    assert not source.edit_button.isHidden() and source.reason_label.isHidden()
    source.edit_button.click()
    assert not tab.line_edits["entry_point"].isReadOnly()
    tab.line_edits["entry_point"].setText("train_v2.py")
    tab.line_edits["commit"].setText("abc123")
    source.save_button.click()
    row = Execution.get(Execution.experiment == draft_experiment)
    assert (row.entry_point, row.commit, row.repository) == ("train_v2.py", "abc123",
                                                             "https://example.com/team/vision.git")
    assert tab.line_edits["entry_point"].isReadOnly() and not source.editing
    packages = tab.sections["packages"]
    packages.edit_button.click()
    tab.text_edits["requirements"].setPlainText("pandas==2.2\n")
    packages.cancel_button.click()
    assert tab.text_edits["requirements"].toPlainText() == "numpy==2.0\ntorch==2.3\n"
    assert Execution.get(Execution.experiment == draft_experiment).requirements == "numpy==2.0\ntorch==2.3\n"
    packages.edit_button.click()
    tab.text_edits["requirements"].setPlainText("")
    packages.save_button.click()
    assert tab.packages_message.text() == data.PACKAGES_EMPTY


def test_save_is_refused_by_core_when_the_draft_started_running_meanwhile(panel, draft_experiment):
    panel.show_experiment(draft_experiment)
    panel.select_tab("EXECUTION")
    tab = panel.execution_tab
    section = tab.sections["output"]
    section.edit_button.click()
    tab.line_edits["output_uri"].setText("/elsewhere")
    recording.set_status(draft_experiment, st.RUNNING)  # an agent picked it up
    assert not section.save()
    assert "only a Draft can be edited" in section.error_label.text() and section.editing
    assert Execution.get(Execution.experiment == draft_experiment).output_uri == "/data/out"
    # The open edit survives the live poll that notices the status change.
    panel.poll()
    assert tab.line_edits["output_uri"].text() == "/elsewhere" and section.editing
    section.cancel_button.click()
    assert tab.line_edits["output_uri"].text() == "/data/out"
    assert section.edit_button.isHidden() and "Running" in section.reason_label.text()


def test_draft_hyperparameters_add_change_delete(panel, draft_experiment):
    panel.show_experiment(draft_experiment)
    panel.select_tab("CONFIGURATION")
    tab = panel.configuration_tab
    assert tab.select("params", "Args")
    page = tab.params_page
    page.section_box.edit_button.click()
    names = [n for n, _ in page.rows()]
    page.table.item(names.index("lr"), 1).setText("0.5")
    page.table.selectRow(names.index("epochs"))
    page.delete_selected()
    row = page.add_row()
    page.table.item(row, 0).setText("momentum")
    page.table.item(row, 1).setText("0.9")
    page.section_box.save_button.click()
    assert params(draft_experiment, "Args") == {"lr": "0.5", "momentum": "0.9"}
    lr = HyperParam.get((HyperParam.experiment == draft_experiment) & (HyperParam.name == "lr"))
    assert lr.description == "learning rate"  # editing a value keeps its type, description, default
    assert not page.section_box.editing and dict(page.rows()) == {"lr": "0.5", "momentum": "0.9"}


def test_hyperparameter_rows_need_unique_names(panel, draft_experiment):
    panel.show_experiment(draft_experiment)
    panel.select_tab("CONFIGURATION")
    tab = panel.configuration_tab
    tab.select("params", "Args")
    page = tab.params_page
    page.section_box.edit_button.click()
    row = page.add_row()
    page.table.item(row, 0).setText("lr")
    assert not page.section_box.save()
    assert page.section_box.error_label.text() == "Duplicate name: lr"
    assert params(draft_experiment, "Args") == {"epochs": "3", "lr": "0.01"}


def test_configuration_object_edit_in_draft(panel, draft_experiment):
    panel.show_experiment(draft_experiment)
    panel.select_tab("CONFIGURATION")
    tab = panel.configuration_tab
    tab.select("object", "architecture")
    page = tab.object_page
    page.section_box.edit_button.click()
    page.text.setPlainText('{"layers": [1, 2, 3]}')
    page.section_box.save_button.click()
    assert ConfigObject.get(ConfigObject.experiment == draft_experiment).value == '{"layers": [1, 2, 3]}'


def test_completed_experiment_is_read_only_except_user_properties(panel, draft_experiment):
    recording.set_status(draft_experiment, st.RUNNING)
    recording.set_status(draft_experiment, st.COMPLETED)
    panel.show_experiment(draft_experiment)
    panel.select_tab("CONFIGURATION")
    tab = panel.configuration_tab
    page = tab.params_page
    assert page.section == "properties" and not page.section_box.edit_button.isHidden()
    page.section_box.edit_button.click()
    row = page.add_row()
    page.table.item(row, 0).setText("reviewed")
    page.table.item(row, 1).setText("yes")
    page.section_box.save_button.click()
    assert params(draft_experiment, "properties") == {"owner": "bob", "reviewed": "yes"}
    tab.select("params", "Args")
    assert page.section_box.edit_button.isHidden()
    assert page.section_box.reason_label.text() == "Experiment is Completed; only a Draft can be edited"
    tab.select("object", "architecture")
    assert tab.object_page.section_box.edit_button.isHidden()
    panel.select_tab("EXECUTION")
    assert all(s.edit_button.isHidden() for s in panel.execution_tab.sections.values())


def test_published_experiment_refuses_user_properties(panel, draft_experiment):
    recording.set_status(draft_experiment, st.PUBLISHED, force=True)
    panel.show_experiment(draft_experiment)
    panel.select_tab("CONFIGURATION")
    page = panel.configuration_tab.params_page
    assert page.section_box.edit_button.isHidden()
    assert page.section_box.reason_label.text() == "Experiment is Published and read-only"
    # Even a forced attempt goes through core and is refused there.
    page.section_box.editing = True
    page.table.item(0, 1).setText("mallory")
    assert page._save() == "Experiment is Published and read-only"
    assert params(draft_experiment, "properties") == {"owner": "bob"}


def test_auto_refresh_never_overwrites_a_section_being_edited(panel, draft_experiment):
    panel.show_experiment(draft_experiment)
    panel.select_tab("CONFIGURATION")
    tab = panel.configuration_tab
    tab.select("params", "Args")
    page = tab.params_page
    page.section_box.edit_button.click()
    names = [n for n, _ in page.rows()]
    page.table.item(names.index("lr"), 1).setText("0.7")
    editing.set_hyperparams([draft_experiment], "Args", {"epochs": "9"})  # another writer
    panel.poll()
    assert dict(page.rows())["lr"] == "0.7" and page.section_box.editing
    page.section_box.cancel_button.click()
    panel.poll()
    tab.select("params", "Args")
    assert dict(page.rows()) == {"epochs": "9", "lr": "0.01"}


def test_header_rename_tags_and_description_in_any_state(panel, draft_experiment, qtbot, qapp):
    recording.set_status(draft_experiment, st.PUBLISHED, force=True)
    panel.show_experiment(draft_experiment)
    header = panel.header
    with qtbot.waitSignal(panel.sig_experiment_edited):
        header.name_edit.setText("renamed run")
        header.commit_name()
    assert Experiment.get_by_id(draft_experiment).name == "renamed run"
    header.name_edit.setText("x")
    header.commit_name()
    assert header.name_edit.text() == "renamed run"  # too short: refused, restored
    header.add_tag_button.click()
    header.tag_edit.setText("reviewed")
    qtbot.keyClick(header.tag_edit, Qt.Key.Key_Return)
    assert header.tag_names() == ["reviewed"]
    header.tag_chips[0].remove_button.click()
    assert header.tag_names() == []
    header.edit_description_button.click()
    header.description_edit.setPlainText("published result")
    header.description_save.click()
    assert Experiment.get_by_id(draft_experiment).description == "published result"
    assert header.description_label.text() == "published result"
    header.copy_id()
    assert qapp.clipboard().text() == draft_experiment


def test_action_menu_button_uses_the_factory(panel, draft_experiment, qtbot):
    asked = []

    def factory(ids):
        asked.append(ids)
        menu = QMenu(panel)
        menu.aboutToShow.connect(menu.close)
        return menu

    panel.show_experiment(draft_experiment)
    assert panel.header.menu_button.isHidden()
    panel.set_action_menu_factory(factory)
    assert not panel.header.menu_button.isHidden()
    panel.header.menu_button.click()
    assert asked == [[draft_experiment]]
