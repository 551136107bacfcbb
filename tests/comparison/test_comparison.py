"""The comparison view on the real main window: what is compared, the plots, the tools, the modes."""
from __future__ import annotations

import numpy as np
import pytest

from exptable_desktop.core import recording
from exptable_desktop.store.series import read_series
from exptable_desktop.ui.comparison import install_comparison
from exptable_desktop.ui.comparison.install import RELOAD_DEBOUNCE_MS
from exptable_desktop.ui.comparison.view import MAX_EXPERIMENTS, ComparisonView, experiment_colour

from comparison_helpers import make_experiment, open_window

KEYS = [("accuracy", "validation"), ("loss", "train"), ("loss", "validation")]


def legend_names(plot) -> list[str]:
    return [label.text for _sample, label in plot.getPlotItem().legend.items]


def test_checked_experiments_get_one_plot_per_metric_variant_and_one_curve_each(window, experiments):
    chosen = [i for i in window.visible_ids() if i in experiments[1:3]]
    window.set_checked(experiments[1:3], True)
    window.set_view_mode("comparison")
    view = window.comparison_controller.view
    assert view.objectName() == "comparisonView"
    assert view.isVisible() and not window.table_view.isVisible()
    assert view.header.text() == "Comparing 2 experiments"
    assert view.plot_keys() == KEYS
    for key in KEYS:
        curves = view.curves(key)
        assert list(curves) == chosen
        for exp_id, curve in curves.items():
            stored = read_series(exp_id, *key)
            x, y = curve.getData()
            np.testing.assert_array_equal(x, stored.iterations.astype(float))
            np.testing.assert_array_equal(y, stored.values)
        names = {row["id"]: row["name"] for row in window.rows_info(chosen)}
        assert legend_names(view.plot_widget(key)) == [names[i] for i in chosen]
        pens = {curve.opts["pen"].color().name() for curve in curves.values()}
        assert len(pens) == 2
        item = view.plot_widget(key).getPlotItem()
        assert item.ctrl.downsampleCheck.isChecked() and item.ctrl.clipToViewCheck.isChecked()


def test_with_none_checked_the_visible_experiments_are_compared(window, experiments):
    assert window.checked_ids() == []
    window.set_view_mode("comparison")
    view = window.comparison_controller.view
    assert view.experiment_ids() == window.visible_ids()
    assert sorted(view.experiment_ids()) == sorted(experiments)
    assert view.header.text() == "Comparing 4 experiments"
    assert sorted(view.curves(("loss", "train"))) == sorted(experiments)


def test_checking_rows_in_comparison_mode_reloads_debounced(window, qtbot, experiments):
    window.set_view_mode("comparison")
    view = window.comparison_controller.view
    window.set_checked([experiments[0]], True)
    assert len(view.experiment_ids()) == 4  # not yet: the reload waits for the checks to settle
    qtbot.waitUntil(lambda: view.experiment_ids() == [experiments[0]], timeout=RELOAD_DEBOUNCE_MS * 10)
    assert view.header.text() == "Comparing 1 experiment"


def test_leaving_the_mode_brings_the_table_back(window, experiments):
    window.set_view_mode("comparison")
    view = window.comparison_controller.view
    layout = window.table_view.parentWidget().layout()
    assert layout.indexOf(view) == layout.indexOf(window.table_view) + 1
    window.set_view_mode("table")
    assert window.table_view.isVisible() and not view.isVisible()
    window.set_view_mode("comparison")
    window.set_view_mode("details")
    assert not view.isVisible()
    # Details mode keeps its narrow list in the table's place (docked panel).
    assert window.table_view.isVisible() == window.details_controller.is_popped_out()
    window.set_view_mode("table")
    assert window.table_view.isVisible()


def test_search_filters_plots_by_name(window, experiments):
    window.set_view_mode("comparison")
    view = window.comparison_controller.view
    view.search_box.setText("LOSS")
    assert view.visible_plot_keys() == [("loss", "train"), ("loss", "validation")]
    assert not view.plot_widget(("accuracy", "validation")).isVisible()
    assert view.plot_widget(("loss", "train")).isVisible()
    view.search_box.setText("valid")
    assert view.visible_plot_keys() == [("accuracy", "validation"), ("loss", "validation")]
    view.search_box.clear()
    assert len(view.visible_plot_keys()) == 3


def test_smoothing_changes_the_curves_not_the_stored_series(window, experiments):
    window.set_view_mode("comparison")
    view = window.comparison_controller.view
    key = ("loss", "train")
    exp_id = experiments[0]
    before = read_series(exp_id, *key).values.copy()
    view.smoothing_slider.setValue(90)
    assert view.smoothing_weight() == pytest.approx(0.9)
    _x, smoothed = view.curves(key)[exp_id].getData()
    assert not np.allclose(smoothed, before)
    # Smoothing calms the noise: the step-to-step changes shrink.
    assert np.abs(np.diff(smoothed)).mean() < np.abs(np.diff(before)).mean() / 2
    np.testing.assert_array_equal(read_series(exp_id, *key).values, before)
    view.smoothing_slider.setValue(0)
    np.testing.assert_array_equal(view.curves(key)[exp_id].getData()[1], before)


def test_wall_time_axis_and_log_scale(window, experiments):
    window.set_view_mode("comparison")
    view = window.comparison_controller.view
    key = ("loss", "validation")
    exp_id = experiments[2]
    view.axis_combo.setCurrentIndex(view.axis_combo.findData("iso_time"))
    x, _y = view.curves(key)[exp_id].getData()
    np.testing.assert_array_equal(x, read_series(exp_id, *key).timestamps)
    view.log_check.setChecked(True)
    assert view.plot_widget(key).getPlotItem().ctrl.logYCheck.isChecked()


def test_log_scale_leaves_gaps_for_non_positive_values(qtbot, db):
    exp_id = recording.create_experiment("p", "signs")
    recording.record_batch(exp_id, scalars=[("m", "v", i, v, 1.0 + i) for i, v in enumerate([1.0, -2.0, 0.0, 4.0])])
    view = ComparisonView()
    qtbot.addWidget(view)
    view.set_experiments([(exp_id, "signs")])
    view.log_check.setChecked(True)
    _x, y = view.curves(("m", "v"))[exp_id].getData()  # pyqtgraph hands back log10 in log mode
    assert np.isnan(y[1]) and np.isnan(y[2])
    assert y[0] == pytest.approx(0.0) and y[3] == pytest.approx(np.log10(4.0))


def test_experiments_without_scalars_show_the_empty_state(qtbot, db_url, db):
    ids = [recording.create_experiment("p", f"draft {n}") for n in range(2)]
    win = open_window(qtbot, db_url, len(ids))
    win.set_view_mode("comparison")
    view = win.comparison_controller.view
    assert view.is_empty() and view.empty_label.isVisible()
    assert view.header.text() == "Comparing 2 experiments"


def test_experiment_missing_a_metric_has_no_curve_in_its_plot(qtbot, db_url, db):
    full = make_experiment("full", 1)
    partial = make_experiment("partial", 2, metrics={("loss", "train")})
    win = open_window(qtbot, db_url, 2)
    win.set_view_mode("comparison")
    view = win.comparison_controller.view
    assert set(view.curves(("loss", "train"))) == {full, partial}
    assert set(view.curves(("accuracy", "validation"))) == {full}


def test_comparison_is_capped_at_one_hundred_experiments_with_distinct_colours(qtbot, db):
    ids = [recording.create_experiment("p", f"r{n}") for n in range(MAX_EXPERIMENTS + 5)]
    for n, exp_id in enumerate(ids):
        recording.record_batch(exp_id, scalars=[("m", "v", 0, float(n), 1.0)])
    view = ComparisonView()
    qtbot.addWidget(view)
    view.set_experiments([(i, i) for i in ids])
    assert view.experiment_ids() == ids[:MAX_EXPERIMENTS]
    assert len(view.curves(("m", "v"))) == MAX_EXPERIMENTS
    assert len({experiment_colour(n) for n in range(MAX_EXPERIMENTS)}) == MAX_EXPERIMENTS


def test_install_is_idempotent(window):
    assert install_comparison(window) is window.comparison_controller
