"""The plot grid of the experiment's SCALARS tab (shared with the compare page) and whole-number
ticks on iteration axes, in SCALARS and in PLOTS."""
from __future__ import annotations

import pyqtgraph as pg
import pytest

from exptable_desktop.core import recording
from exptable_desktop.ui.details.plots_tab import render_figure
from exptable_desktop.ui.plot_grid import IterationAxis, PlotGrid


def drawn_ticks(axis: pg.AxisItem, low: float, high: float, length: float = 500) -> list[float]:
    return [value for _spacing, values in axis.tickValues(low, high, length) for value in values]


def test_an_iteration_axis_ticks_whole_numbers_where_a_plain_one_ticks_halves(qapp):
    plain, iterations = pg.AxisItem("bottom"), IterationAxis("bottom")
    assert 0.5 in drawn_ticks(plain, 0, 3)  # what a few iterations got before
    ticks = drawn_ticks(iterations, 0, 3)
    assert ticks and all(t == int(t) for t in ticks) and {0, 1, 2, 3} <= set(ticks)
    assert iterations.tickStrings([0.0, 1.0, 2.0], 1.0, 1.0) == ["0", "1", "2"]
    assert iterations.tickStrings([1_000_000.0], 1.0, 1.0) == ["1000000"]  # not "1e+06"
    wide = drawn_ticks(iterations, 0, 10_000)
    assert all(t % 1 == 0 for t in wide) and len(wide) >= 3
    # Zoomed in between two iterations: no fractional tick is made up.
    assert all(t == int(t) for t in drawn_ticks(iterations, 1.2, 1.8))



def four_iterations(name: str = "short run") -> str:
    exp_id = recording.create_experiment("p", name)
    recording.record_batch(exp_id, scalars=[(metric, "train", i, 1.0 / (i + 1), 1000.0 + 10 * i)
                                            for metric in ("loss", "accuracy") for i in range(4)])
    return exp_id


def test_scalars_over_iterations_get_whole_number_ticks_and_time_axes_do_not(panel, qtbot):
    panel.show_experiment(four_iterations())
    panel.select_tab("SCALARS")
    tab = panel.scalars_tab
    card = tab.plot_widget("loss")
    axis = card.plot_item.getAxis("bottom")
    assert isinstance(axis, IterationAxis)
    (low, high), _ = card.plot_item.getViewBox().viewRange()
    ticks = drawn_ticks(axis, low, high, axis.width() or 400)
    assert ticks and all(t == int(t) for t in ticks)
    bar = tab.settings_bar
    bar.axis_combo.setCurrentIndex(bar.axis_combo.findData("timestamp"))
    assert not isinstance(tab.plot_widget("loss").plot_item.getAxis("bottom"), IterationAxis)
    bar.axis_combo.setCurrentIndex(bar.axis_combo.findData("iter"))
    assert isinstance(tab.plot_widget("loss").plot_item.getAxis("bottom"), IterationAxis)


def test_plots_with_an_iteration_x_axis_get_whole_number_ticks(qapp):
    by_iteration = {"kind": "line", "xaxis": "iteration", "yaxis": "loss",
                    "series": [{"name": "", "x": [0, 1, 2, 3], "y": [1.0, 0.5, 0.3, 0.2]}]}
    widget = render_figure(by_iteration)
    assert isinstance(widget.getPlotItem().getAxis("bottom"), IterationAxis)
    for other_x in ({"xaxis": "recall"}, {"xaxis": "iteration", "series": [{"name": "", "x": [0, 0.5], "y": [1, 2]}]}):
        widget = render_figure({**by_iteration, **other_x})
        assert not isinstance(widget.getPlotItem().getAxis("bottom"), IterationAxis), other_x


def test_the_experiment_scalars_use_the_shared_grid_two_columns_when_wide_and_maximise(panel, qtbot):
    panel.show_experiment(four_iterations())
    panel.select_tab("SCALARS")
    tab = panel.scalars_tab
    grid = tab.plot_grid
    assert isinstance(grid, PlotGrid) and grid.shown_keys() == ["accuracy", "loss"]
    panel.resize(1500, 800)
    qtbot.waitUntil(lambda: grid.columns() == 2)
    qtbot.waitUntil(lambda: grid.place("accuracy").y() == grid.place("loss").y())
    panel.resize(800, 800)
    qtbot.waitUntil(lambda: grid.columns() == 1)
    qtbot.waitUntil(lambda: grid.place("loss").y() > grid.place("accuracy").y())
    card = tab.plot_widget("loss")
    card.max_button.setChecked(True)  # the per-plot toolbar of the compare page, here too
    assert grid.maximised() == "loss"
    assert grid.place("accuracy").isHidden() and not grid.place("loss").isHidden()
    card.max_button.setChecked(False)
    assert grid.maximised() is None and not grid.place("accuracy").isHidden()


def test_live_points_refill_the_same_curves_and_a_new_metric_gets_a_plot(panel, qtbot):
    exp_id = four_iterations()
    panel.show_experiment(exp_id)
    panel.select_tab("SCALARS")
    tab = panel.scalars_tab
    smoothed = tab.curves(("loss", "train"))[1]
    recording.record_batch(exp_id, scalars=[("loss", "train", i, 0.1, 2000.0 + i) for i in range(4, 8)]
                           + [("loss", "validation", 0, 0.9, 2000.0), ("lr", "schedule", 0, 0.01, 2000.0)])
    tab.refresh()
    assert tab.curves(("loss", "train"))[1] is smoothed
    assert list(smoothed.getOriginalDataset()[0]) == [float(i) for i in range(8)]
    assert tab.plot_grid.shown_keys() == ["accuracy", "loss", "lr"]
    loss = tab.plot_widget("loss")
    assert sorted(e.label for e in loss.entries().values() if e.label) == ["train", "validation"]
