"""The Workers & Queues window on a real database: what it shows, what it changes, and its models."""
from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt
from ui_run_support import add_worker, order, queued

from exptable_desktop.core import actions
from exptable_desktop.core import states as st
from exptable_desktop.store.schema import Experiment, Queue, QueueEntry
from exptable_desktop.ui import workers_queues as wq


def row_texts(view, column: int) -> list[str]:
    model = view.model()
    return [model.index(r, column).data() for r in range(model.rowCount())]


def select_entries(window, names):
    rows = [r for r, e in enumerate(window.entries_model.rows) if e.name in names]
    selection = window.entries_view.selectionModel()
    selection.clearSelection()
    for row in rows:
        selection.select(window.entries_model.index(row, 0),
                         selection.SelectionFlag.Select | selection.SelectionFlag.Rows)


@pytest.mark.both_backends
def test_drag_reorders_the_queue_in_the_database(wq_window):
    queued(["a", "b", "c", "d"])
    window = wq_window()
    assert window.selected_queue() == "default"
    model = window.entries_model
    assert row_texts(window.entries_view, 1) == ["a", "b", "c", "d"]

    # Drag "d" to between "a" and "b".
    data = model.mimeData([model.index(3, 1)])
    assert model.canDropMimeData(data, Qt.DropAction.MoveAction, 1, 0, QModelIndex())
    model.dropMimeData(data, Qt.DropAction.MoveAction, 1, 0, QModelIndex())
    assert order() == ["a", "d", "b", "c"]
    assert row_texts(window.entries_view, 1) == ["a", "d", "b", "c"]
    assert row_texts(window.entries_view, 0) == ["1", "2", "3", "4"]
    assert window.selected_entry_ids() == [model.rows[1].experiment_id]  # the moved entry stays selected

    # Two selected rows ("a" and "b") dragged below the last one keep their order.
    data = model.mimeData([model.index(0, 0), model.index(2, 0)])
    model.dropMimeData(data, Qt.DropAction.MoveAction, -1, -1, QModelIndex())  # onto the empty space
    assert order() == ["d", "c", "a", "b"]
    # Dropped onto a row: before it.
    data = model.mimeData([model.index(3, 0)])
    model.dropMimeData(data, Qt.DropAction.MoveAction, -1, -1, model.index(1, 0))
    assert order() == ["d", "b", "c", "a"]


def test_a_drop_of_something_else_is_refused(wq_window):
    from PySide6.QtCore import QMimeData
    queued(["a", "b"])
    window = wq_window()
    other = QMimeData()
    other.setText("a")
    assert not window.entries_model.canDropMimeData(other, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert not window.entries_model.dropMimeData(other, Qt.DropAction.MoveAction, 0, 0, QModelIndex())
    assert order() == ["a", "b"]


@pytest.mark.both_backends
def test_move_to_top_bottom_and_to_another_queue(wq_window, qtbot):
    queued(["a", "b", "c", "d"])
    queued(["x"], "gpu")
    window = wq_window()
    window.select_queue("default")
    select_entries(window, {"c", "d"})
    qtbot.mouseClick(window.top_button, Qt.MouseButton.LeftButton)
    assert order() == ["c", "d", "a", "b"]
    assert {e.name for e in window.entries_model.rows if e.experiment_id in window.selected_entry_ids()} == {"c", "d"}

    select_entries(window, {"c"})
    qtbot.mouseClick(window.bottom_button, Qt.MouseButton.LeftButton)
    assert order() == ["d", "a", "b", "c"]

    select_entries(window, {"a", "b"})
    window.move_selected_to_queue("gpu")
    assert order() == ["d", "c"] and order("gpu") == ["x", "a", "b"]
    moved = Experiment.get(Experiment.name == "a")
    assert moved.status == st.PENDING and moved.queue.name == "gpu"
    assert row_texts(window.entries_view, 1) == ["d", "c"]
    assert window.status_label.text() == 'Moved 2 experiments to the end of "gpu"'

    # The menu offers the other queues, and a new one.
    window._fill_move_menu(window.move_queue_menu)
    assert [a.text() for a in window.move_queue_menu.actions() if a.text()] == ["gpu", "New queue…"]
    window.ask_text = lambda *a, **k: "fresh"
    select_entries(window, {"d"})
    window._move_to_new_queue()
    assert order("fresh") == ["d"]


@pytest.mark.both_backends
def test_remove_dequeues_back_to_draft(wq_window, qtbot):
    ids = queued(["a", "b", "c"])
    window = wq_window()
    select_entries(window, {"b"})
    qtbot.mouseClick(window.remove_button, Qt.MouseButton.LeftButton)
    assert order() == ["a", "c"]
    assert Experiment.get_by_id(ids[1]).status == st.DRAFT
    assert QueueEntry.select().where(QueueEntry.experiment == ids[1]).count() == 0
    assert row_texts(window.entries_view, 1) == ["a", "c"]
    assert row_texts(window.queues_view, 1) == ["2"]


def test_an_entry_an_agent_claimed_meanwhile_is_refused_with_the_reason(wq_window):
    from exptable_desktop.core import queues as queue_ops
    queued(["a", "b"])
    window = wq_window()
    select_entries(window, {"a"})
    queue_ops.register_worker("box:0", ["default"])
    assert queue_ops.claim_next("box:0", ["default"]).experiment_id  # an agent takes "a" after the window read
    window.remove_selected()
    assert window.status_label.text() == ("Removed 0 experiments from the queue (back to Draft or their earlier "
                                          "status) — not done: Experiment is already running on worker box:0 (1)")
    assert Experiment.get(Experiment.name == "a").status == st.RUNNING
    assert row_texts(window.entries_view, 1) == ["b"]


@pytest.mark.both_backends
def test_create_rename_and_delete_queues(wq_window, qtbot):
    queued(["a"], "busy")
    window = wq_window()
    answers = iter(["spare", "renamed"])
    window.ask_text = lambda *a, **k: next(answers)
    window.confirm = lambda *a, **k: True
    qtbot.mouseClick(window.new_queue_button, Qt.MouseButton.LeftButton)
    assert {q.name for q in Queue.select()} == {"busy", "spare"}
    assert window.selected_queue() == "spare"
    assert window.delete_queue_button.isEnabled()
    qtbot.mouseClick(window.rename_queue_button, Qt.MouseButton.LeftButton)
    assert {q.name for q in Queue.select()} == {"busy", "renamed"}
    assert row_texts(window.queues_view, 0) == ["busy", "renamed"]
    qtbot.mouseClick(window.delete_queue_button, Qt.MouseButton.LeftButton)
    assert {q.name for q in Queue.select()} == {"busy"}
    assert window.status_label.text() == 'Queue "renamed" deleted'

    window.select_queue("busy")
    assert not window.delete_queue_button.isEnabled()  # it holds an experiment
    assert window.delete_queue() is False
    assert window.status_label.text().startswith("Not deleted: queue 'busy' still holds 1 experiment")
    assert Queue.select().count() == 1
    assert window.create_queue("busy") is None
    assert window.status_label.text() == "Not created: a queue named 'busy' already exists"


def test_queues_show_pending_workers_and_oldest_wait(wq_window):
    import time

    from exptable_desktop.store.db import run_write
    ids = queued(["a", "b"], "gpu")
    queued(["c"], "cpu")
    run_write(lambda: QueueEntry.update(added=time.time() - 125).where(QueueEntry.experiment == ids[0]).execute())
    add_worker("box:0", ["gpu"])
    add_worker("old:0", ["gpu", "cpu"], seen_ago=600)  # its heartbeat stopped: not serving anything
    window = wq_window()
    assert row_texts(window.queues_view, 0) == ["cpu", "gpu"]
    assert row_texts(window.queues_view, 1) == ["1", "2"]
    assert row_texts(window.queues_view, 2) == ["none", "box:0"]
    assert row_texts(window.queues_view, 3)[1] == "2:05m"
    assert "No live worker" in window.queues_model.index(0, 2).data(Qt.ItemDataRole.ToolTipRole)


@pytest.mark.both_backends
def test_workers_registered_in_the_database_are_shown_with_their_stats(wq_window, qtbot):
    from exptable_desktop.core.recording import create_experiment

    running = create_experiment("runs", "long training")
    add_worker("gpu-box:0", ["gpu", "default"], resources={"cpu_usage": 41.6, "memory_usage": 62.2, "gpu_usage": 93},
               history=30, running=running, started_ago=3 * 3600 + 300)
    add_worker("laptop:0", ["default"], resources={"cpu_usage": 12, "memory_usage": 33})
    add_worker("gone:0", ["default"], seen_ago=3600)
    window = wq_window()
    view = window.workers_view
    assert row_texts(view, 0) == ["gpu-box:0", "laptop:0"]  # the silent one is not listed
    assert row_texts(view, 1) == ["long training", "—"]
    assert row_texts(view, 2) == ["default, gpu", "default"]
    assert row_texts(view, 3)[0] == "3:05h"
    assert row_texts(view, 5) == ["42%", "12%"]
    assert row_texts(view, 6) == ["93%", "—"]
    assert row_texts(view, 7) == ["62%", "33%"]
    assert window.selected_worker() == "gpu-box:0"
    curves = window.stats_plot.curves
    assert set(curves) == {"CPU", "GPU", "Memory"}
    x, y = curves["CPU"].getData()
    assert len(x) == 30 and 0 <= y.min() and y.max() <= 100
    assert "long training" in window.worker_title.text()

    window.select_worker("laptop:0")
    assert window.selected_worker() == "laptop:0"
    assert set(window.stats_plot.curves) == set()  # no samples recorded
    assert window.stats_plot.empty_text.toPlainText() == "No resource reports in the last hour"

    window.select_worker("gone:0")
    assert window.selected_worker() != "gone:0"
    assert window.status_label.text().startswith('Worker "gone:0" is not running')


def test_no_workers_and_no_queues_say_so(wq_window):
    window = wq_window()
    assert window.workers_stack.currentWidget() is window.workers_empty
    assert "exptable agent" in window.workers_empty.text()
    assert window.queues_stack.currentWidget() is window.queues_empty


def test_the_periodic_refresh_reads_off_the_ui_thread(wq_window, qtbot):
    queued(["a"])
    window = wq_window()
    queued(["b"])  # another program enqueues meanwhile
    add_worker("late:0", ["default"])
    window.refresh_in_background()
    assert window.is_reading()
    qtbot.waitUntil(lambda: row_texts(window.entries_view, 1) == ["a", "b"], timeout=5000)
    assert row_texts(window.workers_view, 0) == ["late:0"]
    qtbot.waitUntil(lambda: not window.is_reading(), timeout=5000)


@pytest.mark.parametrize("which", ["workers_model", "queues_model", "entries_model"])
def test_models_pass_the_model_tester(wq_window, qtmodeltester, which):
    from exptable_desktop.core.recording import create_experiment
    queued(["a", "b", "c"])
    queued(["x"], "gpu")
    add_worker("box:0", ["default"], resources={"cpu_usage": 3}, running=create_experiment("runs", "r"))
    add_worker("box:1", ["gpu"])
    window = wq_window()
    model = getattr(window, which)
    assert model.rowCount() > 0
    # One tester watches one model (it checks every signal against the last model it was given).
    qtmodeltester.check(model, force_py=True)
    # And through refreshes that change rows and values.
    actions.dequeue([window.entries_model.rows[0].experiment_id])
    add_worker("box:2", ["default"], resources={"cpu_usage": 50, "gpu_usage": 10})
    window.refresh_now()
    window.select_queue("gpu")
    window.refresh_now()


def test_a_link_selects_the_running_experiment_in_the_table(main_window, qtbot):
    from exptable_desktop.core.recording import create_experiment
    running = create_experiment("runs", "long training")
    other = create_experiment("runs", "other")
    add_worker("box:0", ["default"], running=running)
    main_window.refresh_now()
    main_window.select_experiment(other)
    button = main_window.findChild(type(main_window.new_experiment_button), "workersQueuesButton")
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    window = main_window.findChild(wq.WorkersQueuesWindow, "workersQueuesWindow")
    assert window.isVisible()
    view = window.workers_view
    rect = view.visualRect(window.workers_model.index(0, wq.WorkersModel.EXPERIMENT_COLUMN))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert main_window.current_experiment_id() == running
    # The same window comes back, not a second one.
    assert main_window.open_workers_queues() is window
    assert len(main_window.findChildren(wq.WorkersQueuesWindow)) == 1


def test_manage_queue_and_view_worker_open_the_window_on_them(main_window):
    from exptable_desktop.core.recording import create_experiment
    first, second = queued(["first", "second"], "gpu")
    running = create_experiment("runs", "training")
    add_worker("box:0", ["gpu"], running=running)
    add_worker("box:1", ["gpu"])
    from exptable_desktop.store.db import run_write
    run_write(lambda: Experiment.update(status=st.RUNNING, worker="box:0").where(Experiment.id == running).execute())
    main_window.refresh_now()
    controller = main_window.action_controller
    controller.run("manage_queue", [second])
    window = main_window.findChild(wq.WorkersQueuesWindow, "workersQueuesWindow")
    assert window.isVisible() and window.tabs.currentIndex() == 1
    assert window.selected_queue() == "gpu" and window.selected_entry_ids() == [second]

    controller.run("view_worker", [running])
    assert window.tabs.currentIndex() == 0 and window.selected_worker() == "box:0"
    assert window.workers_view.selectionModel().selectedRows()[0].row() == 0


def test_enqueue_warning_and_the_window_agree_on_live_workers(main_window, monkeypatch, wq_window):
    """A worker silent for a minute is gone for the window; the Enqueue dialog must not count it either."""
    from exptable_desktop.ui.actions import dialogs
    from exptable_desktop.core.recording import create_experiment

    exp = create_experiment("runs", "to run")
    add_worker("quiet:0", ["gpu"], seen_ago=60)
    add_worker("busy:0", ["cpu"])
    main_window.refresh_now()
    asked = {}

    def ask_queue(*args, **kwargs):
        asked.update(kwargs)
        return "gpu"
    monkeypatch.setattr(dialogs, "ask_queue", ask_queue)
    main_window.action_controller.run("enqueue", [exp])
    window = wq_window()
    listed = dict(zip(row_texts(window.queues_view, 0), row_texts(window.queues_view, 2)))
    assert listed == {"cpu": "busy:0", "gpu": "none"}
    assert asked["has_workers"]("gpu") is False
    assert asked["has_workers"]("cpu") is True
    # The message after Enqueue says so too.
    assert main_window.status_message.label.text().endswith('to "gpu"; no worker listens to that queue yet')


def test_closing_the_window_while_it_reads_is_harmless(db, qtbot):
    queued(["a"])
    window = wq.WorkersQueuesWindow()
    window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    window.show()
    window.refresh_in_background()
    window.close()
    qtbot.waitUntil(lambda: not wq._READERS, timeout=5000)
    qtbot.wait(50)
