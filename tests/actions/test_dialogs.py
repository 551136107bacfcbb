"""The dialogs' own logic, and the clone flow end to end."""
from __future__ import annotations

from actions_support import make_experiment

from exptable_desktop.core import states as st
from exptable_desktop.store.schema import Experiment, HyperParam
from exptable_desktop.core import lookups
from exptable_desktop.ui.actions import dialogs


def ok_button(dialog):
    return dialog.buttons.action_button


def test_clone_dialog_defaults_and_result(qtbot):
    dialog = dialogs.CloneDialog(None, "resnet baseline", 1, ["demo", "vision/cifar"], "demo")
    qtbot.addWidget(dialog)
    assert dialog.name_edit.text() == "Clone Of resnet baseline"
    assert dialog.project_combo.currentText() == "demo"
    assert not dialog.parent_box.isChecked()
    assert dialog.parent_box.text() == 'Set "resnet baseline" as parent'

    dialog.project_combo.setEditText("vision/new ")
    dialog.name_edit.setText("tuned")
    dialog.parent_box.setChecked(True)
    dialog.description_edit.setPlainText("lr x2")
    assert dialog.request() == dialogs.CloneRequest("vision/new", "tuned", True, "lr x2")

    dialog.name_edit.setText("x")
    assert not ok_button(dialog).isEnabled() and "2 characters" in dialog.error.text()
    dialog.name_edit.setText("ok name")
    dialog.project_combo.setEditText("")
    assert not ok_button(dialog).isEnabled()


def test_clone_dialog_for_several_names_each_clone(qtbot):
    dialog = dialogs.CloneDialog(None, "a", 3, ["demo"], "demo")
    qtbot.addWidget(dialog)
    assert not dialog.name_edit.isEnabled()
    assert dialog.request().name is None


def test_clone_flow_creates_a_draft_and_selects_it(make_window, answers):
    original = make_experiment("resnet", st.PUBLISHED)
    window = make_window("demo")
    answers.clone_request = dialogs.CloneRequest("demo", "resnet v2", True, "second try")

    result = window.action_controller.run("clone", [original])

    (_, args, _), = answers.named("ask_clone")
    assert args[1:] == ("resnet", 1, ["demo"], "demo")
    new_id = result.created[original]
    new = Experiment.get_by_id(new_id)
    assert (new.name, new.status, new.parent_id, new.description) == ("resnet v2", st.DRAFT, original, "second try")
    assert window.current_experiment_id() == new_id
    assert Experiment.get_by_id(original).status == st.PUBLISHED


def test_clone_into_a_new_project(make_window, answers):
    original = make_experiment("a")
    HyperParam.create(experiment=original, section="General", name="lr", value="0.1")
    window = make_window("demo")
    answers.clone_request = dialogs.CloneRequest("fresh/project", "copy", False, "")
    new_id = window.action_controller.run("clone", [original]).created[original]
    new = Experiment.get_by_id(new_id)
    assert new.project.name == "project" and new.parent_id is None
    assert HyperParam.get(HyperParam.experiment == new_id).value == "0.1"


def test_cancelled_clone_creates_nothing(make_window, answers):
    original = make_experiment("a")
    window = make_window("demo")
    answers.clone_request = None
    assert window.action_controller.run("clone", [original]) is None
    assert Experiment.select().count() == 1


def test_confirm_dialog_files_box_on_by_default(qtbot):
    dialog = dialogs.ConfirmDialog(None, "Delete", "Delete 60?", items=[f"e{i}" for i in range(60)],
                                   checkbox="Also remove files")
    qtbot.addWidget(dialog)
    assert dialog.option.isChecked()
    assert dialog.item_list.count() == dialogs.LIST_LIMIT + 1
    assert dialog.item_list.item(dialogs.LIST_LIMIT).text() == "… and 10 more"
    assert dialog.result_value(True) == dialogs.Confirmation(True, True)
    dialog.option.setChecked(False)
    assert dialog.result_value(True) == dialogs.Confirmation(True, False)


def test_queue_dialog_warns_about_new_and_unwatched_queues(qtbot):
    watched = {"cpu"}
    dialog = dialogs.QueueDialog(None, ["cpu", "gpu"], "gpu", count=2, retry=False,
                                 has_workers=lambda name: name in watched)
    qtbot.addWidget(dialog)
    assert dialog.chosen() == "gpu"
    assert "No worker listens" in dialog.note.text()
    dialog.queue_combo.setEditText("cpu")
    assert dialog.note.text() == ""
    dialog.queue_combo.setEditText("brand-new")
    assert "new queue" in dialog.note.text()
    dialog.queue_combo.setEditText(" ")
    assert not ok_button(dialog).isEnabled()


def test_retry_dialog_says_to_fix_the_problem(qtbot):
    dialog = dialogs.QueueDialog(None, [], "default", count=1, retry=True, has_workers=lambda n: True)
    qtbot.addWidget(dialog)
    assert "previously failed" in dialog.findChildren(dialogs.QLabel)[0].text()
    assert ok_button(dialog).text() == "Retry"


def test_tag_colours_table_model(db, qtbot, qtmodeltester):
    make_experiment("a", tags=["x", "y"])
    dialog = dialogs.TagColorsDialog(None, lookups.all_tags())
    qtbot.addWidget(dialog)
    qtmodeltester.check(dialog.table.model())
    dialog.filter_edit.setText("y")
    assert dialog.table.isRowHidden(0) and not dialog.table.isRowHidden(1)


def test_move_dialog(qtbot):
    dialog = dialogs.ProjectDialog(None, 2, ["a", "b/c"], "a")
    qtbot.addWidget(dialog)
    dialog.project_combo.setEditText("/new/place/")
    assert dialog.chosen() == "new/place"
