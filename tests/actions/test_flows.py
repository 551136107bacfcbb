"""Each action, run from the menu, changes exactly the experiments it applies to."""
from __future__ import annotations

import pytest
from actions_support import make_experiment, snapshot
from PySide6.QtCore import QPoint

from exptable_desktop.core import actions as core
from exptable_desktop.core import states as st
from exptable_desktop.store.schema import Experiment, Queue, QueueEntry, Worker, WorkerQueue

STATUSES = (st.DRAFT, st.PENDING, st.RUNNING, st.COMPLETED, st.ABORTED, st.FAILED, st.PUBLISHED)


@pytest.fixture
def every_status(make_window):
    """One experiment per status plus a controller, all checked."""
    ids = {status: make_experiment(f"exp {st.status_label(status)}", status) for status in STATUSES}
    ids["controller"] = make_experiment("pipeline", st.COMPLETED, task_type="controller")
    window = make_window("demo")
    window.set_checked(list(ids.values()), True)
    return window, ids


def trigger(window, key, exp_id):
    controller = window.action_controller
    controller.show_context_menu(QPoint(5, 5), exp_id)
    action = next(a for a in controller.last_menu.actions() if a.objectName() == f"action_{key}")
    assert action.isEnabled()
    controller.last_menu.close()
    action.trigger()


@pytest.mark.both_backends
@pytest.mark.parametrize("key", ["enqueue", "retry", "dequeue", "reset", "abort", "publish", "archive"])
def test_action_changes_exactly_the_eligible(every_status, answers, key):
    window, ids = every_status
    all_ids = list(ids.values())
    rows = window.rows_info(all_ids)
    expected = {r["id"] for r in rows if core.why_not(key, r["status"], r["type"], r["archived"]) is None}
    assert expected
    before = snapshot(all_ids)

    trigger(window, key, ids[st.DRAFT])

    after = snapshot(all_ids)
    changed = {i for i in all_ids if before[i] != after[i]}
    assert changed == expected
    text, _undo, details = window.messages[-1]
    verb = core.VERBS[key]
    assert text.startswith(f"{len(expected)} of {len(all_ids)} experiments {verb}")
    for row in rows:  # "More info" gives every other experiment's reason
        if row["id"] not in expected:
            reason = core.why_not(key, row["status"], row["type"], row["archived"])
            assert f"{reason} (" in details and row["name"] in details


def test_abort_all_children_lists_and_aborts_only_active_children(make_window, answers):
    parent = make_experiment("optimizer", st.COMPLETED, task_type="optimizer")
    running = make_experiment("trial running", st.RUNNING, parent=parent)
    pending = make_experiment("trial pending", st.PENDING, parent=parent)
    done = make_experiment("trial done", st.COMPLETED, parent=parent)
    window = make_window("demo")

    trigger(window, "abort_children", parent)

    (_, args, kwargs), = answers.named("confirm")
    assert sorted(kwargs["items"]) == ["trial pending (Pending)", "trial running (Running)"]
    statuses = dict(Experiment.select(Experiment.id, Experiment.status).tuples())
    assert statuses[running] == st.ABORTED and statuses[pending] == st.ABORTED
    assert statuses[done] == st.COMPLETED and statuses[parent] == st.COMPLETED
    assert window.messages[-1][0] == "2 children aborted"


def test_cancelled_confirmation_changes_nothing(every_status, answers):
    window, ids = every_status
    answers.confirm_answer = False
    before = snapshot(list(ids.values()))
    for key in ("reset", "abort", "publish", "dequeue"):
        assert window.action_controller.run(key, list(ids.values())) is None
    assert snapshot(list(ids.values())) == before


def test_enqueue_remembers_the_queue_and_warns_without_workers(make_window, answers):
    a = make_experiment("a")
    b = make_experiment("b")
    window = make_window("demo")
    answers.queue = "gpu-long"

    window.action_controller.run("enqueue", [a])
    assert Queue.get(Queue.name == "gpu-long")  # typed a new name: created
    assert QueueEntry.get(QueueEntry.experiment == a).queue.name == "gpu-long"
    assert window.messages[-1][0] == '1 of 1 experiment enqueued to "gpu-long"; no worker listens to that queue yet'

    window.action_controller.run("enqueue", [b])
    (_, first, first_kw), (_, second, second_kw) = answers.named("ask_queue")
    assert first[2] == "default"
    assert second[2] == "gpu-long"  # last used queue preselected
    assert "gpu-long" in second[1]
    assert first_kw["has_workers"]("gpu-long") is False


def test_enqueue_to_a_watched_queue_has_no_warning(make_window, answers):
    import time
    a = make_experiment("a")
    queue = core.get_or_create_queue("watched")
    worker = Worker.create(name="w1", started=time.time(), last_seen=time.time())
    WorkerQueue.create(worker=worker, queue=queue)
    window = make_window("demo")
    answers.queue = "watched"
    window.action_controller.run("enqueue", [a])
    assert window.messages[-1][0] == "1 of 1 experiment enqueued"


def test_delete_asks_with_files_box_and_removes(make_window, answers):
    a = make_experiment("to delete")
    b = make_experiment("kept in archive")
    core.archive([a, b])
    window = make_window("demo")
    window.set_archive_mode(True)

    window.action_controller.run("delete", [a])

    (_, args, kwargs), = answers.named("confirm")
    assert args[1] == "Delete"
    assert '"to delete"' in args[2] and "artifacts and debug samples" in args[2]
    assert kwargs["checkbox"] and kwargs.get("checkbox_default", True) is True
    assert not Experiment.select().where(Experiment.id == a).exists()
    assert Experiment.select().where(Experiment.id == b).exists()
    assert window.messages[-1][0] == "1 of 1 experiment deleted"


def test_archiving_running_experiments_warns_they_will_be_aborted(make_window, answers):
    running = make_experiment("busy", st.RUNNING)
    draft = make_experiment("idle")
    window = make_window("demo")
    window.action_controller.run("archive", [running, draft])
    (_, args, kwargs), = answers.named("confirm")
    assert "abort" in args[2] and kwargs["items"] == ["busy"]
    assert Experiment.get_by_id(running).status == st.ABORTED
    assert Experiment.get_by_id(running).archived and Experiment.get_by_id(draft).archived


def test_archiving_idle_experiments_does_not_ask(make_window, answers):
    draft = make_experiment("idle")
    window = make_window("demo")
    window.action_controller.run("archive", [draft])
    assert answers.named("confirm") == []
    assert Experiment.get_by_id(draft).archived


@pytest.mark.both_backends
def test_undo_of_archive_restores_exactly_what_was_archived(make_window, answers):
    a, b = make_experiment("a"), make_experiment("b")
    already = make_experiment("already archived")
    core.archive([already])
    window = make_window("demo")
    window.set_checked([a, b], True)

    window.action_controller.run("archive", [a, b, already])
    text, undo, _ = window.messages[-1]
    assert text == "2 of 3 experiments archived"
    assert window.checked_ids() == []  # archived rows leave the table and the selection
    assert {r.id for r in Experiment.select().where(Experiment.archived)} == {a, b, already}

    undo()
    assert {r.id for r in Experiment.select().where(Experiment.archived)} == {already}
    assert window.messages[-1][0] == "2 of 2 experiments restored"
    assert set(window.scope_ids()) == {a, b}


def test_undo_of_restore_archives_again(make_window, answers):
    a = make_experiment("a")
    core.archive([a])
    window = make_window("demo")
    window.set_archive_mode(True)
    window.action_controller.run("restore", [a])
    assert not Experiment.get_by_id(a).archived
    window.messages[-1][1]()
    assert Experiment.get_by_id(a).archived


def test_move_to_a_new_project(make_window, answers):
    a, b = make_experiment("a"), make_experiment("b")
    window = make_window("demo")
    answers.project = "elsewhere/deep"
    window.action_controller.run("move", [a])
    assert Experiment.get_by_id(a).project.name == "deep"
    assert Experiment.get_by_id(b).project.name == "demo"
    assert window.messages[-1][0] == "1 of 1 experiment moved to elsewhere/deep"


def test_manage_queue_shows_the_queue_in_order(make_window, answers):
    first = make_experiment("first", st.PENDING)
    second = make_experiment("second", st.PENDING)
    window = make_window("demo")
    window.action_controller.run("manage_queue", [second])
    (_, args, _), = answers.named("show_queue")
    snapshot_ = args[1]
    assert snapshot_.name == "default"
    assert [e.experiment_id for e in snapshot_.entries] == [first, second]
    assert args[2] == second


def test_view_worker_shows_the_running_worker(make_window, answers):
    import time
    exp = make_experiment("training", st.RUNNING, worker="gpu-box:0")
    Worker.create(name="gpu-box:0", host="gpu-box", status="busy", current_experiment=exp,
                  started=time.time(), last_seen=time.time())
    window = make_window("demo")
    window.action_controller.run("view_worker", [exp])
    (_, args, _), = answers.named("show_worker")
    assert args[1].name == "gpu-box:0" and args[1].experiment_id == exp


def test_details_and_compare_switch_the_view(make_window, answers):
    a, b = make_experiment("a"), make_experiment("b")
    window = make_window("demo")
    window.action_controller.run("details", [b])
    assert window.view_mode() == "details" and window.current_experiment_id() == b
    window.action_controller.run("compare", [a, b])
    assert window.view_mode() == "comparison" and set(window.checked_ids()) == {a, b}
