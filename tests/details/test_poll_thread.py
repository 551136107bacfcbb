"""The details panel's live poll reads on a worker thread, and the panel still follows the experiment."""
from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QThread, QTimer
from PySide6.QtWidgets import QApplication

from exptable_desktop.core import actions, recording
from exptable_desktop.core import details as data
from exptable_desktop.store.schema import database_proxy
from exptable_desktop.ui.details import DetailsPanel
from exptable_desktop.ui.details.panel import wait_for_polls


@pytest.fixture
def panel(qtbot, draft_experiment):
    widget = DetailsPanel()
    qtbot.addWidget(widget)
    widget.resize(900, 600)
    widget.show()
    widget.select_tab("INFO")
    widget.show_experiment(draft_experiment)
    return widget


def _sessions_on_this_database() -> int | None:
    """Open PostgreSQL sessions on the test's database (None on SQLite, which has no such count)."""
    db = database_proxy.obj
    if "postgres" not in type(db).__name__.lower():
        return None
    return db.execute_sql("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()").fetchone()[0]


@pytest.mark.both_backends
def test_the_poll_reads_on_a_worker_thread_and_closes_its_connection(qtbot, panel, draft_experiment, monkeypatch):
    threads = []
    read = data.poll

    def poll_noting_the_thread(*args):
        threads.append(QThread.currentThread())
        return read(*args)
    monkeypatch.setattr(data, "poll", poll_noting_the_thread)
    sessions_before = _sessions_on_this_database()
    actions.rename([draft_experiment], "renamed while shown")
    with qtbot.waitSignal(panel.sig_polled, timeout=5000):
        panel.poll()
    assert len(threads) == 1 and threads[0] is not QApplication.instance().thread()
    # What the worker read reached the header on the UI thread.
    assert panel.header.name_edit.text() == "renamed while shown"
    assert panel.last_poll_error == ""
    wait_for_polls()
    # No session left behind per poll: a poll costs no lasting connection.
    assert _sessions_on_this_database() == sessions_before


def test_a_slow_poll_read_leaves_the_ui_responsive(qtbot, panel, draft_experiment, monkeypatch):
    read = data.poll
    calls = []

    def slow_poll(*args):
        calls.append(1)
        time.sleep(0.8)  # a locked or distant database
        return read(*args)
    monkeypatch.setattr(data, "poll", slow_poll)
    ticks = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    recording.set_runtime(draft_experiment, {"hostname": "moved"})  # moves last_update
    started = time.monotonic()
    with qtbot.waitSignal(panel.sig_polled, timeout=5000):
        panel.poll()
        panel.poll()  # a tick while the read runs is skipped, not queued behind it
    timer.stop()
    assert time.monotonic() - started >= 0.8
    # The event loop ran all along: a blocked UI thread would have fired the timer once, at the end.
    assert len([t for t in ticks if t < started + 0.75]) >= 10
    assert calls == [1]
    assert panel.info_tab.value_text("hostname") == "moved"  # the shown tab took in the change


def test_the_poll_follows_status_and_a_deleted_experiment_leaves_the_empty_state(qtbot, panel, draft_experiment):
    recording.set_status(draft_experiment, "in_progress")
    with qtbot.waitSignal(panel.sig_polled, timeout=5000):
        panel.poll()
    assert panel.header.status_label.text() == "Running"
    assert not panel.is_empty()
    recording.set_status(draft_experiment, "stopped")
    assert actions.archive([draft_experiment]).succeeded == [draft_experiment]
    assert actions.delete([draft_experiment]).succeeded == [draft_experiment]
    with qtbot.waitSignal(panel.sig_polled, timeout=5000):
        panel.poll()
    assert panel.experiment_id is None and panel.is_empty()
    assert panel.empty_state.title() == "No experiment selected"


def test_a_poll_for_the_previous_experiment_is_not_applied_to_the_next(qtbot, panel, draft_experiment):
    other = recording.create_experiment("drafts", "the other one")
    recording.set_runtime(draft_experiment, {"hostname": "moved"})
    panel.poll()  # reading the first experiment ...
    panel.show_experiment(other)  # ... while the person moves on
    qtbot.waitUntil(lambda: not panel._poll_running, timeout=5000)
    assert panel.header.name_edit.text() == "the other one"
    assert panel.experiment_id == other


def test_the_shown_scalars_tab_reads_its_new_points_on_the_poll_worker(qtbot, panel, draft_experiment, monkeypatch):
    recording.record_batch(draft_experiment, scalars=[("loss", "train", i, 1.0 / (i + 1), 1.0) for i in range(5)])
    panel.select_tab("SCALARS")
    tab = panel.scalars_tab
    curve = tab.curves(("loss", "train"))[1]
    threads = []
    read = data.scalar_news

    def news_noting_the_thread(*args, **kwargs):
        threads.append(QThread.currentThread())
        return read(*args, **kwargs)
    monkeypatch.setattr(data, "scalar_news", news_noting_the_thread)
    recording.record_batch(draft_experiment, scalars=[("loss", "train", i, 0.1, 2.0) for i in range(5, 9)]
                           + [("accuracy", "top1", 0, 0.5, 2.0)])
    with qtbot.waitSignal(panel.sig_polled, timeout=5000):
        panel.poll()
    assert len(threads) == 1 and threads[0] is not QApplication.instance().thread()
    assert tab.curves(("loss", "train"))[1] is curve
    assert list(curve.getOriginalDataset()[0]) == [float(i) for i in range(9)]
    assert tab.plot_grid.shown_keys() == ["accuracy", "loss"]
    assert tab.values_model.rowCount() == 2


def test_news_read_before_a_reload_is_read_again_not_taken_in_twice(qtbot, panel, draft_experiment):
    recording.record_batch(draft_experiment, scalars=[("loss", "train", i, 1.0, 1.0) for i in range(3)])
    panel.select_tab("SCALARS")
    tab = panel.scalars_tab
    token, read = tab.live_read()
    recording.record_batch(draft_experiment, scalars=[("loss", "train", i, 2.0, 2.0) for i in range(3, 6)])
    news = read()  # what a worker read ...
    tab.refresh()  # ... while the tab took the same points in itself
    assert tab.series_length(("loss", "train")) == 6
    tab.apply_live(token, news)
    assert tab.series_length(("loss", "train")) == 6
    assert list(tab.curves(("loss", "train"))[1].getOriginalDataset()[0]) == [float(i) for i in range(6)]
