"""The New Experiment wizard on a real database and a real git repository."""
from __future__ import annotations

import threading
import time

import pytest
from PySide6.QtCore import Qt
from ui_run_support import git

from exptable_desktop.core import states as st
from exptable_desktop.store.schema import Execution, Experiment, HyperParam, Queue, QueueEntry
from exptable_desktop.ui import new_experiment_wizard as nw

VERSION_INDEX = {"branch": 0, "tag": 1, "commit": 2}


def fill_code(wizard, repo, *, name="resnet sweep", script="train.py", version=("branch", ""), module=False):
    code = wizard.code_page
    code.name_edit.setText(name)
    code.repo_edit.setText(str(repo.path))
    code.version_kind.setCurrentIndex(VERSION_INDEX[version[0]])
    code.version_edit.setText(version[1])
    (code.module_radio if module else code.script_radio).setChecked(True)
    code.entry_edit.setText(script)
    wizard.wait_until_checked()


def shown(message) -> str:
    return "" if message.isHidden() else message.text()


def test_missing_name_is_shown_under_the_field_and_nothing_is_created(make_wizard, repo, qtbot):
    wizard = make_wizard()
    fill_code(wizard, repo, name="")
    code = wizard.code_page
    # Untouched, the empty name is not shouted at yet; but neither finish is offered.
    assert shown(code.name_message) == ""
    assert not wizard.draft_button.isEnabled() and not wizard.run_button.isEnabled()
    assert "name" in wizard.draft_button.toolTip()
    assert not wizard.button(wizard.WizardButton.NextButton).isEnabled()

    code.name_edit.setText("x")
    assert shown(code.name_message) == "A name needs at least 2 characters."
    code.name_edit.setText("")
    assert wizard.finish(run=False) is None
    assert shown(code.name_message) == "A name needs at least 2 characters."
    assert Experiment.select().count() == 0

    code.name_edit.setText("first try")
    assert shown(code.name_message) == ""
    assert wizard.draft_button.isEnabled()
    assert wizard.button(wizard.WizardButton.NextButton).isEnabled()


def test_a_commit_branch_or_tag_that_does_not_exist_is_an_error_under_the_version(make_wizard, repo):
    wizard = make_wizard()
    fill_code(wizard, repo, version=("commit", "deadbeef"))
    message = wizard.code_page.version_message
    assert shown(message) == f"Commit deadbeef not found in {repo.path}."
    assert not wizard.draft_button.isEnabled()
    assert wizard.finish(run=False) is None and Experiment.select().count() == 0

    wizard.code_page.version_edit.setText(repo.feature[:10])
    wizard.wait_until_checked()
    assert shown(message) == f"Commit {repo.feature[:12]}"  # a note naming the commit, not an error
    assert wizard.draft_button.isEnabled()

    wizard.code_page.version_kind.setCurrentIndex(VERSION_INDEX["branch"])
    wizard.code_page.version_edit.setText("no-such-branch")
    wizard.wait_until_checked()
    assert shown(message) == f"Branch 'no-such-branch' not found in {repo.path}."
    wizard.code_page.version_kind.setCurrentIndex(VERSION_INDEX["tag"])
    wizard.code_page.version_edit.setText("v1.0")
    wizard.wait_until_checked()
    assert shown(message) == f"Commit {repo.main[:12]} (v1.0)"
    assert wizard.draft_button.isEnabled()


def test_a_script_must_exist_at_the_chosen_version(make_wizard, repo):
    wizard = make_wizard()
    fill_code(wizard, repo, script="tools/extra.py", version=("branch", "main"))
    message = wizard.code_page.entry_message
    assert shown(message) == "No file tools/extra.py in the repository at main."
    assert not wizard.draft_button.isEnabled()

    wizard.code_page.version_edit.setText("feature")  # only that branch has it
    wizard.wait_until_checked()
    assert shown(message) == ""
    assert wizard.draft_button.isEnabled()

    wizard.code_page.module_radio.setChecked(True)
    wizard.code_page.entry_edit.setText("pkg.missing")
    wizard.wait_until_checked()
    assert "No pkg/missing.py or pkg/missing/__main__.py" in shown(message)
    wizard.code_page.entry_edit.setText("pkg.evaluate")
    wizard.wait_until_checked()
    assert shown(message) == "" and wizard.draft_button.isEnabled()


def test_a_missing_folder_is_an_error_under_the_repository(make_wizard, tmp_path):
    wizard = make_wizard()
    wizard.code_page.name_edit.setText("lost")
    wizard.code_page.repo_edit.setText(str(tmp_path / "nowhere"))
    wizard.code_page.entry_edit.setText("train.py")
    wizard.wait_until_checked()
    assert shown(wizard.code_page.repo_message) == f"No folder {tmp_path / 'nowhere'}."
    assert not wizard.draft_button.isEnabled()


def test_repository_checks_run_off_the_ui_thread_once_typing_pauses(make_wizard, repo, monkeypatch, qtbot):
    calls = []
    real = nw.creating.resolve_version

    def slow_resolve(*args, **kwargs):
        calls.append(threading.current_thread() is threading.main_thread())
        time.sleep(0.3)  # a slow git ls-remote
        return real(*args, **kwargs)
    monkeypatch.setattr(nw.creating, "resolve_version", slow_resolve)
    wizard = make_wizard()
    wizard.code_page.name_edit.setText("typed")
    wizard.code_page.entry_edit.setText("train.py")
    keystrokes = []
    for n in range(1, len(str(repo.path)) + 1):
        started = time.perf_counter()
        wizard.code_page.repo_edit.setText(str(repo.path)[:n])
        keystrokes.append(time.perf_counter() - started)
    assert max(keystrokes) < 0.3  # no keystroke waited for git
    assert calls == []
    assert wizard.checking and not wizard.draft_button.isEnabled()
    qtbot.waitUntil(lambda: not wizard.checking, timeout=5000)
    assert calls and not any(calls)  # only off the UI thread, and once for the pause, not per key
    assert len(calls) <= 2
    assert wizard.draft_button.isEnabled()


def test_save_as_draft_stores_every_field(make_wizard, repo, tmp_path, qtbot):
    wizard = make_wizard("vision/cifar")
    fill_code(wizard, repo, name="resnet draft", version=("tag", "v1.0"))
    wizard.code_page.working_dir_edit.setText(".")
    wizard.code_page.task_init_box.setChecked(True)
    wizard.next()
    args = wizard.arguments_page
    args.add_argument("Args", "lr", "0.2")
    args.add_argument("General", "batch_size", "64")
    wizard.next()
    env = wizard.environment_page
    env.python_edit.setText("python3.11")
    env.packages_listed.setChecked(True)
    env.packages_edit.setPlainText("numpy>=1.24\n# a comment\ntorch==2.3.1\n")
    wizard.next()
    box = wizard.container_page
    box.image_edit.setText("python:3.11-slim")
    box.args_edit.setText("--ipc=host")
    box.setup_edit.setPlainText("apt-get install -y libgl1")
    wizard.next()
    wizard.run_page.output_edit.setText("/mnt/share/models")
    assert wizard.draft_button.isEnabled()

    qtbot.mouseClick(wizard.draft_button, Qt.MouseButton.LeftButton)
    exp = Experiment.get_by_id(wizard.created_id)
    assert (exp.name, exp.status, exp.project.name, exp.project.parent.name) == (
        "resnet draft", st.DRAFT, "cifar", "vision")
    assert QueueEntry.select().count() == 0
    execution = Execution.get_by_id(exp.id)
    assert (execution.repository, execution.tag, execution.branch, execution.commit) == (str(repo.path), "v1.0", "", "")
    assert (execution.entry_point, execution.entry_kind, execution.working_dir) == ("train.py", "script", ".")
    assert (execution.binary, execution.environment) == ("python3.11", "pip")
    assert execution.requirements == "numpy>=1.24\ntorch==2.3.1\n"
    assert execution.container_image == "python:3.11-slim"
    assert execution.container_args == "--ipc=host -e EXPTABLE_FORCE_TASK_INIT=1"  # Add Task.init call
    assert execution.container_setup == "apt-get install -y libgl1"
    assert execution.output_uri == "/mnt/share/models"
    params = {(p.section, p.name): p.value for p in HyperParam.select().where(HyperParam.experiment == exp.id)}
    assert params == {("Args", "lr"): "0.2", ("General", "batch_size"): "64"}
    assert wizard.result() == wizard.DialogCode.Accepted


@pytest.mark.both_backends
def test_run_enqueues_the_new_experiment(make_wizard, repo, qtbot):
    wizard = make_wizard()
    fill_code(wizard, repo, name="queued run", version=("branch", "main"))
    wizard.run_page.queue_combo.setEditText("gpu-long")
    assert 'No worker listens to "gpu-long"' in shown(wizard.run_page.queue_message)
    assert "new queue" in shown(wizard.run_page.queue_message)
    created = []
    wizard.sig_created.connect(lambda exp_id, enqueued: created.append((exp_id, enqueued)))
    qtbot.mouseClick(wizard.run_button, Qt.MouseButton.LeftButton)
    exp = Experiment.get_by_id(wizard.created_id)
    assert exp.status == st.PENDING
    entry = QueueEntry.get(QueueEntry.experiment == exp.id)
    assert entry.queue.name == "gpu-long" and Queue.select().count() == 1
    assert Execution.get_by_id(exp.id).branch == "main"
    assert created == [(exp.id, True)]

    again = make_wizard()
    assert again.run_page.queue() == "gpu-long"  # the last queue used is offered next time


def test_run_needs_a_queue_but_save_as_draft_does_not(make_wizard, repo):
    wizard = make_wizard()
    fill_code(wizard, repo)
    wizard.run_page.queue_combo.setEditText("")
    assert not wizard.run_button.isEnabled() and wizard.draft_button.isEnabled()
    assert wizard.finish(run=True) is None
    assert wizard.currentId() == nw.PAGE_RUN
    assert shown(wizard.run_page.queue_message) == "Choose a queue to run in, or Save as Draft."
    assert Experiment.select().count() == 0


def test_requirements_file_is_read_and_a_missing_one_is_an_error(make_wizard, repo, tmp_path):
    wizard = make_wizard()
    fill_code(wizard, repo)
    env = wizard.environment_page
    env.packages_requirements.setChecked(True)
    env.requirements_edit.setText(str(tmp_path / "missing.txt"))
    assert shown(env.requirements_message) == f"No file {tmp_path / 'missing.txt'}."
    assert not wizard.draft_button.isEnabled()
    (tmp_path / "requirements.txt").write_text("pandas==2.2.2\n")
    env.requirements_edit.setText(str(tmp_path / "requirements.txt"))
    assert shown(env.requirements_message) == ""
    exp_id = wizard.finish(run=False)
    assert Execution.get_by_id(exp_id).requirements == "pandas==2.2.2\n"


def test_detect_fills_the_arguments_from_the_script_without_running_it(make_wizard, repo, qtbot):
    (repo.path / "boom.py").write_text(
        'raise SystemExit("ran!")\nimport argparse\np = argparse.ArgumentParser()\np.add_argument("--seed", type=int, default=7)\n')
    wizard = make_wizard()
    fill_code(wizard, repo)
    page = wizard.arguments_page
    page.add_argument("Args", "epochs", "99")  # typed before Detect: kept
    qtbot.mouseClick(page.detect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detect_button.isEnabled(), timeout=5000)
    rows = [(a.section, a.name, a.value, a.type) for a in page.arguments()]
    assert rows == [("Args", "epochs", "99", ""), ("Args", "lr", "0.05", "float"),
                    ("Args", "data_dir", "data/", "str"), ("Args", "fast", "False", "bool")]
    assert page.message.text() == "Found 4 arguments; 1 already in the table kept their values."

    # The folder as it is now (no version): an uncommitted script too, read and not run.
    wizard.code_page.entry_edit.setText("boom.py")
    wizard.wait_until_checked()
    qtbot.mouseClick(page.detect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.detect_button.isEnabled(), timeout=5000)
    assert ("Args", "seed", "7") in [(a.section, a.name, a.value) for a in page.arguments()]

    exp_id = wizard.finish(run=False)
    lr = HyperParam.get((HyperParam.experiment == exp_id) & (HyperParam.name == "lr"))
    assert (lr.value, lr.type, lr.description) == ("0.05", "float", "learning rate")


def test_detect_at_a_version_and_for_a_module(make_wizard, repo, qtbot):
    wizard = make_wizard()
    fill_code(wizard, repo, script="pkg.evaluate", module=True, version=("tag", "v1.0"))
    page = wizard.arguments_page
    page.detect_button.click()
    qtbot.waitUntil(lambda: page.detect_button.isEnabled(), timeout=5000)
    assert [(a.name, a.value) for a in page.arguments()] == [("split", "val")]
    wizard.code_page.entry_edit.setText("pkg.gone")
    page.detect_button.click()
    qtbot.waitUntil(lambda: page.detect_button.isEnabled(), timeout=5000)
    assert page.message.text().startswith("Could not read the arguments: No file pkg/gone")


def test_a_spec_core_refuses_at_the_last_moment_is_shown_at_its_field(make_wizard, repo):
    wizard = make_wizard()
    fill_code(wizard, repo, version=("branch", "feature"), script="tools/extra.py")
    assert wizard.draft_button.isEnabled()
    git(repo.path, "branch", "-D", "feature")  # gone between the check and the click
    wizard._checked_spec_key = wizard._repository_key(wizard.spec())
    wizard.next()
    assert wizard.finish(run=False) is None
    assert wizard.currentId() == nw.PAGE_CODE
    assert shown(wizard.code_page.version_message) == f"Branch 'feature' not found in {repo.path}."
    assert Experiment.select().count() == 0


def test_new_experiment_button_opens_the_wizard_in_the_current_project_and_selects_the_result(
        main_window, repo, qtbot):
    from exptable_desktop.core.projects import find_project
    from exptable_desktop.core.recording import create_experiment

    create_experiment("vision/cifar", "existing")
    main_window.project_panel.model.rebuild(False)
    main_window.open_project(find_project("vision/cifar").id)
    button = main_window.findChild(type(main_window.new_experiment_button), "newExperimentButton")
    assert button.isVisible() and "Ctrl+N" in button.toolTip()
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    wizard = main_window.findChild(nw.NewExperimentWizard, "newExperimentWizard")
    assert wizard is not None and wizard.isVisible()
    assert wizard.code_page.project_combo.currentText() == "vision/cifar"
    fill_code(wizard, repo, name="from the wizard")
    qtbot.mouseClick(wizard.draft_button, Qt.MouseButton.LeftButton)
    assert main_window.current_experiment_id() == wizard.created_id
    assert Experiment.get_by_id(wizard.created_id).project.name == "cifar"


def test_ctrl_n_opens_the_wizard(main_window, qtbot):
    main_window.activateWindow()
    qtbot.keyClick(main_window.table_view, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: main_window.findChild(nw.NewExperimentWizard, "newExperimentWizard") is not None)


def test_ctrl_n_again_raises_the_open_wizard(main_window, qtbot):
    first = main_window.open_new_experiment_wizard()
    assert main_window.open_new_experiment_wizard() is first
    first.close()
    qtbot.waitUntil(lambda: not first.isVisible())
    assert main_window.open_new_experiment_wizard() is not first


def test_top_bar_buttons_show_their_text_when_there_is_room_and_never_widen_the_window(main_window, qtbot):
    buttons = [main_window.new_experiment_button, main_window.workers_queues_button]
    main_window.resize(1500, 700)
    qtbot.waitUntil(lambda: not any(b.is_compact() for b in buttons))
    assert [b.toolButtonStyle() for b in buttons] == [Qt.ToolButtonStyle.ToolButtonTextBesideIcon] * 2
    assert [b.width() >= b.sizeHint().width() for b in buttons] == [True, True]
    # The window's minimum counts them as icons, and a window that narrow shows just their icons.
    bar = main_window.top_bar
    assert bar.minimumSizeHint().width() < bar.layout().minimumSize().width() + sum(b.text_width() for b in buttons)
    main_window.resize(main_window.minimumSizeHint().width(), 700)
    qtbot.waitUntil(lambda: all(b.is_compact() for b in buttons))
    assert [b.toolButtonStyle() for b in buttons] == [Qt.ToolButtonStyle.ToolButtonIconOnly] * 2
    for button in buttons:
        assert bar.rect().contains(button.geometry())  # not pushed out of sight


def test_closing_the_wizard_while_a_check_runs_is_harmless(db, repo, monkeypatch, qtbot):
    real = nw.creating.resolve_version

    def slow_resolve(*args, **kwargs):
        time.sleep(0.3)
        return real(*args, **kwargs)
    monkeypatch.setattr(nw.creating, "resolve_version", slow_resolve)
    wizard = nw.NewExperimentWizard(None, "vision")
    wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    wizard.show()
    wizard.code_page.name_edit.setText("closing")
    wizard.code_page.entry_edit.setText("train.py")
    wizard.code_page.repo_edit.setText(str(repo.path))
    wizard._check_timer.timeout.emit()  # the pause in typing
    assert wizard.checking
    wizard.close()
    qtbot.waitUntil(lambda: not nw._RUNNING, timeout=5000)
    qtbot.wait(50)  # its answer arrives for a wizard that is gone: nothing happens (pytest-qt fails on an error)
