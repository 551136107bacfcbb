"""The open panel follows a script while it runs: console, scalars, status and progress."""
from __future__ import annotations

import subprocess
import sys

import pytest

from details_helpers import experiment_ids, wait_until, write_repo_script
from exptable_desktop.ui.details import DetailsPanel

# Reports a step every 50 ms until told to stop through a file.
LIVE_SCRIPT = r'''
import os, sys, time
from exptable_desktop import Task
task = Task.init(project_name="live", task_name="growing run")
log = task.get_logger()
stop = sys.argv[1]
i = 0
print("ready", flush=True)
while not os.path.exists(stop) and i < 2000:
    print(f"step {i} loss {1.0 / (i + 1):.5f}", flush=True)
    log.report_scalar("loss", "train", 1.0 / (i + 1), i)
    task.set_progress(min(99, i))
    i += 1
    time.sleep(0.05)
task.close()
'''


@pytest.fixture
def live_run(script_env, tmp_path):
    script = write_repo_script(tmp_path, LIVE_SCRIPT)
    stop = tmp_path / "stop"
    proc = subprocess.Popen([sys.executable, str(script), str(stop)], cwd=script.parent, env=script_env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        wait_until(lambda: len(experiment_ids()) == 1)
        yield experiment_ids()[0], stop, proc
    finally:
        stop.touch()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_console_and_scalars_grow_in_the_open_panel_keeping_zoom(qtbot, live_run):
    exp_id, stop, proc = live_run
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.resize(1000, 700)
    panel.show()
    panel.select_tab("CONSOLE")
    panel.show_experiment(exp_id)
    assert panel.poll_timer.isActive()
    console = panel.console_tab
    qtbot.waitUntil(lambda: console.model.rowCount() >= 5, timeout=15000)
    first_count = console.model.rowCount()
    qtbot.waitUntil(lambda: console.model.rowCount() >= first_count + 20, timeout=15000)
    rows = console.model.rowCount()
    texts = [console.model.data(console.model.index(r)) for r in range(rows)]
    steps = [t for t in texts if t.startswith("step ")]
    assert steps == [f"step {i} loss {1.0 / (i + 1):.5f}" for i in range(len(steps))]
    # Following the end: the view stays scrolled to the newest line.
    bar = console.view.verticalScrollBar()
    assert bar.value() == bar.maximum()
    # Header follows status and progress.
    assert panel.header.status_label.text() == "Running"
    qtbot.waitUntil(lambda: panel.header.progress.value() >= 10, timeout=15000)
    assert not panel.header.progress.isHidden()

    panel.select_tab("SCALARS")
    scalars = panel.scalars_tab
    qtbot.waitUntil(lambda: scalars.series_length(("loss", "train")) >= 10, timeout=15000)
    curve = scalars.curves(("loss", "train"))[1]
    view = scalars.plot_widget("loss").plot_item.getViewBox()
    view.setRange(xRange=(2, 6), yRange=(0.1, 0.4), padding=0)  # the person zooms in
    zoomed = view.viewRange()
    length = scalars.series_length(("loss", "train"))
    qtbot.waitUntil(lambda: scalars.series_length(("loss", "train")) >= length + 10, timeout=15000)
    assert scalars.curves(("loss", "train"))[1] is curve  # the same curve, extended with setData
    x, y = curve.getOriginalDataset()
    assert list(x[:5]) == [0, 1, 2, 3, 4] and len(x) == scalars.series_length(("loss", "train"))
    assert view.viewRange() == zoomed

    stop.touch()
    proc.wait(timeout=30)
    qtbot.waitUntil(lambda: panel.header.status_label.text() == "Completed", timeout=15000)


def test_polling_stops_when_hidden_and_reads_nothing_when_nothing_changed(qtbot, draft_experiment, monkeypatch):
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.select_tab("CONSOLE")
    panel.show_experiment(draft_experiment)
    assert panel.poll_timer.isActive()
    calls = []
    monkeypatch.setattr(panel.console_tab, "refresh", lambda: calls.append(1))
    with qtbot.waitSignal(panel.sig_polled, timeout=5000):
        panel.poll()
    assert calls == []  # state unchanged: the tab is not asked to read anything
    from exptable_desktop.core import recording
    recording.set_runtime(draft_experiment, {"hostname": "x"})  # moves last_update
    with qtbot.waitSignal(panel.sig_polled, timeout=5000):
        panel.poll()
    assert calls == [1]
    panel.hide()
    assert not panel.poll_timer.isActive()
