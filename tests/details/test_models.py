"""The panel's own item models: lazy console lines, metric values; qtmodeltester on each."""
from __future__ import annotations

import re
import time

from PySide6.QtCore import Qt

from exptable_desktop.ui import palette
from exptable_desktop.core import recording
from exptable_desktop.ui.details.console_tab import BLOCK_LINES, ConsoleModel, ConsoleTab
from exptable_desktop.ui.details.metric_values_model import MetricValuesModel


def write_lines(exp_id, start, stop, level="info"):
    now = time.time()
    recording.record_batch(exp_id, console=[(now, level, f"line {i}") for i in range(start, stop)])


def test_console_model_reads_only_the_blocks_it_shows(db, qtmodeltester):
    exp = recording.create_experiment("p", "log", status="in_progress")
    for start in range(0, 50_000, 5_000):
        write_lines(exp, start, start + 5_000)
    model = ConsoleModel()
    model.set_experiment(exp)
    assert model.rowCount() == 50_000 and len(model._blocks) == 0
    assert model.data(model.index(43_210)) == "line 43210"
    assert list(model._blocks) == [43_210 // BLOCK_LINES]
    assert model.data(model.index(0), Qt.ItemDataRole.ToolTipRole) == "Line 1"
    model.set_filter(re.compile(r"line 4999\d$"))
    assert [model.data(model.index(r)) for r in range(model.rowCount())] == [f"line {i}" for i in range(49_990, 50_000)]
    qtmodeltester.check(model)


def test_console_model_grows_by_inserting_rows_with_and_without_filter(db, qtmodeltester):
    exp = recording.create_experiment("p", "log", status="in_progress")
    write_lines(exp, 0, 1_500)
    model = ConsoleModel()
    model.set_experiment(exp)
    assert model.data(model.index(1_499)) == "line 1499"  # reads the partial last block
    inserted, resets = [], []
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    model.modelReset.connect(lambda: resets.append(1))
    write_lines(exp, 1_500, 1_600, level="error")
    assert model.grow() == 100
    assert inserted == [(1_500, 1_599)] and resets == []
    assert model.data(model.index(1_550)) == "line 1550"
    assert model.data(model.index(1_550), Qt.ItemDataRole.ForegroundRole).color().name() == palette.current().danger
    assert model.grow() == 0
    model.set_filter(re.compile(r"line 16\d\d"))
    assert model.rowCount() == 0
    resets.clear()
    write_lines(exp, 1_600, 1_700)
    assert model.grow() == 100 and model.rowCount() == 100 and resets == []
    qtmodeltester.check(model)


def test_console_view_follows_the_end_only_when_it_was_there(db, qtbot):
    exp = recording.create_experiment("p", "log", status="in_progress")
    write_lines(exp, 0, 2_000)
    tab = ConsoleTab()
    qtbot.addWidget(tab)
    tab.resize(800, 400)
    tab.show()
    tab.load(exp)
    bar = tab.view.verticalScrollBar()
    assert bar.value() == bar.maximum() > 0
    write_lines(exp, 2_000, 2_050)
    tab.refresh()
    assert bar.value() == bar.maximum()
    bar.setValue(100)  # the person scrolled up to read
    write_lines(exp, 2_050, 2_100)
    tab.refresh()
    assert bar.value() == 100 and tab.model.rowCount() == 2_100
    tab.jump_to_end()
    assert bar.value() == bar.maximum()


def test_metric_values_update_inserts_and_signals_changed_rows(qtmodeltester):
    def row(metric, variant, last):
        return {"metric": metric, "variant": variant, "first": 1.0, "last": last, "min": 0.5, "max": 1.0,
                "mean": 0.75, "count": 3, "all_equal": False}
    model = MetricValuesModel()
    model.set_rows([row("acc", "top1", 0.9), row("loss", "train", 0.3)])
    changed, inserted, resets = [], [], []
    model.dataChanged.connect(lambda a, b: changed.append((a.row(), b.row())))
    model.rowsInserted.connect(lambda _p, first, last: inserted.append((first, last)))
    model.modelReset.connect(lambda: resets.append(1))
    model.update_rows([row("acc", "top1", 0.9), row("loss", "train", 0.2), row("loss", "val", 0.4)])
    assert inserted == [(2, 2)] and changed == [(1, 1)] and resets == []
    assert model.index(1, 4).data() == "0.2"
    model.update_rows([row("acc", "top1", 0.95), row("aux", "x", 1.0), row("loss", "train", 0.1),
                       row("loss", "val", 0.4)])
    assert inserted[-1] == (1, 1)  # "aux" sorts between "acc" and "loss"
    assert [model.index(r, 1).data() for r in range(4)] == ["acc", "aux", "loss", "loss"]
    qtmodeltester.check(model)
    equal = dict(row("lr", "", 0.1), min=0.1, max=0.1, count=2, all_equal=True)
    model.set_rows([equal])
    assert model.index(0, 0).data() == "=" and model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
