"""The compare page and its SCALARS, PLOTS and DEBUG SAMPLES tabs, on a real database."""
from __future__ import annotations

import csv
import io

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QColorDialog

from exptable_desktop.core import compare_stats, recording
from exptable_desktop.core import compare_palette as palette
from exptable_desktop.store.series import read_series
from exptable_desktop.ui.comparison import scalars_tab as st
from exptable_desktop.ui.comparison.common import PlotCard
from exptable_desktop.ui.comparison.picker import LIMIT_TIP, ExperimentPicker
from exptable_desktop.ui.comparison.plots_tab import SideBySideRow
from exptable_desktop.ui.comparison.values_model import ROW_MAX_BACKGROUND, ROW_MIN_BACKGROUND

from comparison_helpers import make_experiment, make_light_experiments, make_rich_experiment, open_page


def pump(qtbot, ms: int = 30) -> None:
    qtbot.wait(ms)


# ---- Every tab with 2, 10 and 100 experiments ------------------------------------------------

@pytest.mark.parametrize("count", [2, 10, pytest.param(100, marks=pytest.mark.slow)])
def test_every_tab_shows_every_experiment(qtbot, db, count):
    ids = make_light_experiments(count)
    page = open_page(qtbot, ids)
    assert page.header.text() == f"Comparing {count} experiments"
    assert page.legend_list.count() == count
    scalars = page.tab("SCALARS")
    scalars.materialise_all()
    assert scalars.plot_keys() == [("accuracy", "validation"), ("loss", "train")]
    for key in scalars.plot_keys():
        assert sorted(k[0] for k in scalars.curves(key)) == sorted(ids)
    summary = scalars.summary_card()
    assert summary is not None and len(scalars._bands[st.SUMMARY_KEY]) == count
    scalars.set_view(st.VIEW_LAST)
    model = scalars.values_model
    assert model.rowCount() == 2 and model.columnCount() == 2 + count
    assert model.value(1, count - 1) == pytest.approx(read_series(ids[-1], "loss", "train").values[-1])

    page.show_tab("PLOTS")
    plots = page.tab("PLOTS")
    plots.materialise_all()
    overlay = plots.widget_of(("curve", "roc"))
    assert isinstance(overlay, PlotCard) and len(overlay.entries()) == count
    side = plots.widget_of(("report", "table"))
    assert isinstance(side, SideBySideRow)
    side.fill_visible(everything=True)
    assert sorted(side.panel_ids()) == sorted(ids)

    page.show_tab("DEBUG SAMPLES")
    debug = page.tab("DEBUG SAMPLES")
    debug.load_visible(everything=True)
    for exp_id in ids:
        column = debug.column(exp_id)
        assert column.iteration == 5 and [s["variant"] for s in column.shown] == ["sample"]
        assert column.loaded and not column.findChildren(type(column.metric_combo))[0].isEnabled()


def test_tabs_are_fed_when_shown_not_before(qtbot, db):
    ids = make_light_experiments(3)
    page = open_page(qtbot, ids, tab="SCALARS")
    assert page.tab("PLOTS")._experiments == []
    page.show_tab("PLOTS")
    assert [e.id for e in page.tab("PLOTS")._experiments] == ids
    page.set_experiments(ids[:2])
    assert len(page.tab("SCALARS")._experiments) == 3  # not current: updated when shown
    page.show_tab("SCALARS")
    assert len(page.tab("SCALARS")._experiments) == 2


# ---- Values tables ------------------------------------------------------------------------------

def test_values_model_passes_the_model_tester_through_modes_and_filters(qtbot, db, qtmodeltester):
    ids = [make_experiment(f"run {n}", n) for n in range(3)]
    page = open_page(qtbot, ids)
    tab = page.tab("SCALARS")
    tab.set_view(st.VIEW_LAST)
    # The tester stays connected: every reset and change below is checked as it happens.
    qtmodeltester.check(tab.values_model, force_py=True)
    for view in (st.VIEW_MIN, st.VIEW_MAX, st.VIEW_BEST):
        tab.set_view(view)
    page.extremes_check.setChecked(True)
    page.hide_identical_check.setChecked(True)
    tab.search_box.setText("loss")
    page.set_hidden(ids[1], True)
    assert tab.values_model.columnCount() == 2 + 2  # the hidden experiment's column is gone
    assert tab.values_model.rowCount() == 3  # "best step" and the two losses


def test_min_max_values_and_row_extremes(qtbot, db):
    ids = [make_experiment(f"run {n}", n) for n in range(3)]
    page = open_page(qtbot, ids)
    tab = page.tab("SCALARS")
    tab.set_view(st.VIEW_MIN)
    model = tab.values_model
    row = model.row_keys().index(("loss", "train"))
    minima = [read_series(i, "loss", "train").values.min() for i in ids]
    assert [model.value(row, c) for c in range(3)] == pytest.approx(minima)
    index = model.index(row, 2 + int(np.argmin(minima)))
    assert model.data(index, Qt.ItemDataRole.BackgroundRole) is None  # off until asked
    page.extremes_check.setChecked(True)
    assert model.data(index, Qt.ItemDataRole.BackgroundRole).color() == ROW_MIN_BACKGROUND
    top = model.index(row, 2 + int(np.argmax(minima)))
    assert model.data(top, Qt.ItemDataRole.BackgroundRole).color() == ROW_MAX_BACKGROUND
    assert "row maximum" in model.data(top, Qt.ItemDataRole.ToolTipRole)
    assert tab.extremes_legend.isVisible()


def test_hide_identical_hides_rows_and_plots_that_are_the_same_everywhere(qtbot, db):
    ids = []
    for n in range(2):
        exp_id = recording.create_experiment("p", f"r{n}")
        recording.record_batch(exp_id, scalars=[("same", "v", i, float(i), 1.0) for i in range(3)]
                               + [("differs", "v", i, float(i * (n + 1)), 1.0) for i in range(3)])
        ids.append(exp_id)
    page = open_page(qtbot, ids)
    tab = page.tab("SCALARS")
    assert tab.plot_keys() == [("differs", "v"), ("same", "v")]
    page.hide_identical_check.setChecked(True)
    assert tab.plot_keys() == [("differs", "v")]
    tab.set_view(st.VIEW_LAST)
    assert tab.values_model.row_keys() == [("differs", "v")]
    page.hide_identical_check.setChecked(False)
    assert tab.values_model.row_keys() == [("differs", "v"), ("same", "v")]


def test_metric_at_the_best_step_in_the_values_table(qtbot, db):
    def record(name, loss, acc):
        exp_id = recording.create_experiment("p", name)
        recording.record_batch(exp_id, scalars=[("val", "loss", i, v, 1.0) for i, v in enumerate(loss)]
                               + [("val", "acc", i, v, 1.0) for i, v in enumerate(acc)])
        return exp_id
    a = record("a", [3.0, 1.0, 2.0], [0.2, 0.9, 0.5])
    b = record("b", [3.0, 2.0, 0.5], [0.1, 0.3, 0.7])
    page = open_page(qtbot, [a, b])
    tab = page.tab("SCALARS")
    tab.set_view(st.VIEW_BEST)
    tab.set_best_reference(("val", "loss"), compare_stats.BEST_MIN)
    model = tab.values_model
    assert model.row_keys()[0] == st.BEST_ROW
    assert model.data(model.index(0, 0)) == "best step"
    assert [model.value(0, c) for c in range(2)] == [1.0, 2.0]
    acc_row = model.row_keys().index(("val", "acc"))
    assert [model.value(acc_row, c) for c in range(2)] == [0.9, 0.7]
    tab.set_best_reference(("val", "acc"), compare_stats.BEST_MAX)
    loss_row = model.row_keys().index(("val", "loss"))
    assert [model.value(loss_row, c) for c in range(2)] == [1.0, 0.5]


# ---- Legend, hiding and colours -----------------------------------------------------------------

def test_hiding_in_the_legend_hides_the_experiment_in_every_tab(qtbot, db):
    ids = [make_rich_experiment(f"rich {n}", n) for n in range(3)]
    page = open_page(qtbot, ids)
    scalars = page.tab("SCALARS")
    scalars.materialise_all()
    page.legend_row(ids[1]).check.setChecked(False)
    assert page.experiment(ids[1]).hidden
    assert page.legend_title.text() == "EXPERIMENTS (2/3)"
    for key in scalars.plot_keys():
        visible = {k[0]: item.isVisible() for k, item in scalars.curves(key).items()}
        assert visible == {ids[0]: True, ids[1]: False, ids[2]: True}
    page.show_tab("PLOTS")
    plots = page.tab("PLOTS")
    plots.materialise_all()
    assert {k[0] for k in plots.widget_of(("roc", "val")).entries()} == {ids[0], ids[2]}
    page.show_tab("DEBUG SAMPLES")
    debug = page.tab("DEBUG SAMPLES")
    assert debug.column(ids[1]).isHidden() and not debug.column(ids[0]).isHidden()
    page.set_all_hidden(False)
    assert not page.experiment(ids[1]).hidden and page.legend_row(ids[1]).check.isChecked()


def test_clicking_an_entry_of_a_plot_legend_hides_the_experiment_everywhere(qtbot, db):
    ids = [make_experiment(f"run {n}", n) for n in range(3)]
    page = open_page(qtbot, ids)
    tab = page.tab("SCALARS")
    tab.materialise_all()
    card = tab.card(("loss", "train"))
    assert not card.legend_shown()  # the page's legend names the colours; a plot's own is on demand
    card.legend_button.setChecked(True)
    item = card.entry((ids[2], "train")).item
    sample = next(s for s, _label in card.legend.items if s.item is item)
    card.legend.sigSampleClicked.emit(sample.item)
    assert page.experiment(ids[2]).hidden
    assert not page.legend_row(ids[2]).check.isChecked()
    assert not tab.card(("accuracy", "validation")).entry((ids[2], "validation")).item.isVisible()


def test_a_plots_own_legend_is_on_demand_and_never_over_the_data(qtbot, db):
    ids = make_light_experiments(15)
    page = open_page(qtbot, ids)
    tab = page.tab("SCALARS")
    tab.materialise_all()
    card = tab.card(("loss", "train"))
    assert not card.legend_shown()
    card.legend_button.setChecked(True)
    pump(qtbot)
    assert card.legend_shown()
    plot_rect = card.plot_item.getViewBox().sceneBoundingRect()
    legend_rect = card.legend.sceneBoundingRect()
    # A half-width card puts it under the data; a wide one (maximised) beside it; never over it.
    assert card.legend_placement() == "bottom" and legend_rect.top() >= plot_rect.bottom()
    card.max_button.setChecked(True)
    qtbot.waitUntil(lambda: card.legend_placement() == "right", timeout=2000)
    pump(qtbot)
    plot_rect = card.plot_item.getViewBox().sceneBoundingRect()
    legend_rect = card.legend.sceneBoundingRect()
    assert legend_rect.left() >= plot_rect.right()
    card.legend_button.setChecked(False)
    assert card.legend_placement() is None and not card.legend.isVisible()


def test_a_colour_edit_is_saved_and_used_in_every_tab_and_next_time(qtbot, db, monkeypatch):
    ids = [make_rich_experiment(f"rich {n}", n) for n in range(2)]
    page = open_page(qtbot, ids)
    monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *a, **k: QColor("#ff00aa")))
    page.legend_row(ids[0]).swatch.click()
    assert page.experiment(ids[0]).colour == "#ff00aa"
    scalars = page.tab("SCALARS")
    assert scalars.curves(("loss", "train"))[(ids[0], "train")].opts["pen"].color().name() == "#ff00aa"
    page.show_tab("PLOTS")
    page.tab("PLOTS").materialise_all()
    roc = page.tab("PLOTS").widget_of(("roc", "val"))
    assert roc.entry((ids[0], 0)).pen.color().name() == "#ff00aa"
    again = open_page(qtbot, ids)
    assert again.experiment(ids[0]).colour == "#ff00aa"
    assert again.experiment(ids[1]).colour == palette.PALETTE[1]
    again.reset_colour(ids[0])
    assert again.experiment(ids[0]).colour == palette.PALETTE[0]
    assert palette.load_custom_colours() == {}


def test_colours_stay_with_experiments_when_the_set_changes(qtbot, db):
    ids = [make_experiment(f"run {n}", n) for n in range(3)]
    page = open_page(qtbot, ids)
    before = {e.id: e.colour for e in page.experiments()}
    page.remove_experiment(ids[0])
    assert {e.id: e.colour for e in page.experiments()} == {i: before[i] for i in ids[1:]}
    page.set_order([ids[2], ids[1]])
    assert page.experiment_ids() == [ids[2], ids[1]]
    assert page.experiment(ids[2]).colour == before[ids[2]]


def test_legend_filter_and_hover_highlight(qtbot, db):
    ids = make_light_experiments(10)
    page = open_page(qtbot, ids)
    page.legend_filter.setText("run 003")
    shown = [page.legend_list.item(n).data(Qt.ItemDataRole.UserRole) for n in range(10)
             if not page.legend_list.item(n).isHidden()]
    assert shown == [ids[3]]
    tab = page.tab("SCALARS")
    tab.materialise_all()
    page.highlight_experiment(ids[3])
    card = tab.card(("loss", "train"))
    assert card.entry((ids[3], "train")).item.opts["pen"].widthF() > card.entry((ids[4], "train")).pen.widthF()
    page.highlight_experiment(None)
    assert card.entry((ids[3], "train")).item.opts["pen"].widthF() == card.entry((ids[3], "train")).pen.widthF()


# ---- Plot toolbar, hover ------------------------------------------------------------------------

def test_plot_toolbar_saves_copies_and_rescales(qtbot, db, tmp_path):
    ids = [make_experiment(f"run {n}", n) for n in range(2)]
    page = open_page(qtbot, ids)
    tab = page.tab("SCALARS")
    tab.materialise_all()
    card = tab.card(("loss", "train"))
    card.legend_button.setChecked(True)
    png = card.save_image(tmp_path / "plot.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = card.save_image(tmp_path / "plot.svg").read_text()
    assert "<svg" in svg and "run 0" in svg  # the legend is in the export
    with pytest.raises(ValueError, match=r"\.png or \.svg"):
        card.save_image(tmp_path / "plot.jpg")
    rows = list(csv.reader(io.StringIO(card.csv_text())))
    assert rows[0] == ["series", "x", "y"]
    stored = read_series(ids[1], "loss", "train")
    mine = [(float(x), float(y)) for name, x, y in rows[1:] if name == "run 1"]
    assert mine == list(zip(stored.iterations.astype(float), stored.values))
    card.copy_csv()
    from PySide6.QtGui import QGuiApplication
    assert QGuiApplication.clipboard().text() == card.csv_text()
    card.log_button.setChecked(True)
    assert card.plot_item.ctrl.logYCheck.isChecked()
    card.plot_item.getViewBox().setRange(xRange=(10, 20))
    card.reset_button.click()
    assert all(card.plot_item.getViewBox().autoRangeEnabled())
    card.max_button.setChecked(True)
    assert tab.slot(("accuracy", "validation")).isHidden() and not tab.slot(("loss", "train")).isHidden()
    card.max_button.setChecked(False)
    assert not tab.slot(("accuracy", "validation")).isHidden()


def test_hovering_a_curve_highlights_and_names_it(qtbot, db):
    ids = [make_experiment(f"run {n}", n) for n in range(3)]
    page = open_page(qtbot, ids)
    tab = page.tab("SCALARS")
    tab.materialise_all()
    pump(qtbot, 50)
    card = tab.card(("loss", "train"))
    view = card.plot_item.getViewBox()
    series = read_series(ids[1], "loss", "train")
    scene = view.mapViewToScene(pg.Point(float(series.iterations[30]), float(series.values[30])))
    card._mouse_moved([scene])
    assert card.hovered_key() == (ids[1], "train")
    assert card.entry((ids[1], "train")).item.opts["pen"].widthF() > 2
    assert card.readout.text().startswith("run 1:")
    assert card.crosshair.isVisible()
    card._mouse_moved([QPointF(-50, -50)])
    assert card.hovered_key() is None and not card.crosshair.isVisible()


# ---- Scalar tools --------------------------------------------------------------------------------

def test_smoothing_axes_and_log_scale_change_the_curves_not_the_data(qtbot, db):
    exp_id = recording.create_experiment("p", "signs")
    recording.set_status(exp_id, "in_progress")
    recording.record_batch(exp_id, scalars=[("m", "v", i, v, 1000.0 + 10 * i)
                                            for i, v in enumerate([1.0, -2.0, 0.0, 4.0, 5.0, 3.0])])
    other = make_experiment("other", 2)
    page = open_page(qtbot, [exp_id, other])
    tab = page.tab("SCALARS")
    key = ("m", "v")
    curve = tab.curves(key)[(exp_id, "v")]
    tab.smoothing_combo.setCurrentIndex(tab.smoothing_combo.findData("ema"))
    tab.alpha_spin.setValue(0.5)
    tab.materialise_all()
    _x, smoothed = curve.getData()
    assert smoothed[1] == pytest.approx((0.5 * 1.0 + (-2.0)) * 0.5 / (1 - 0.25))
    original = tab.card(key).entry(("__original__", exp_id, "v")).item
    np.testing.assert_array_equal(original.getData()[1], [1.0, -2.0, 0.0, 4.0, 5.0, 3.0])
    tab.smoothing_combo.setCurrentIndex(tab.smoothing_combo.findData("none"))
    tab.log_check.setChecked(True)
    tab.materialise_all()
    _x, y = tab.curves(key)[(exp_id, "v")].getData()
    assert np.isnan(y[1]) and np.isnan(y[2]) and y[3] == pytest.approx(np.log10(4.0))
    tab.log_check.setChecked(False)
    tab.axis_combo.setCurrentIndex(tab.axis_combo.findData(st.X_WALL_TIME))
    x, _y = tab.curves(key)[(exp_id, "v")].getData()
    np.testing.assert_array_equal(x, 1000.0 + 10 * np.arange(6))
    assert isinstance(tab.card(key).plot_item.getAxis("bottom"), pg.DateAxisItem)
    tab.axis_combo.setCurrentIndex(tab.axis_combo.findData(st.X_TIME_FROM_START))
    x, _y = tab.curves(key)[(exp_id, "v")].getData()
    # Seconds from the run's start, or from its first point when that is earlier (here: 1000.0).
    np.testing.assert_allclose(x, 10.0 * np.arange(6))
    tab.group_combo.setCurrentIndex(tab.group_combo.findData(st.GROUP_METRIC))
    assert ("m", None) in tab.plot_keys()
    assert sorted(tab.curves(("loss", None))) == [(other, "train"), (other, "validation")]


def test_group_by_seed_draws_mean_and_band_per_group(qtbot, db):
    ids = {}
    for lr in (0.1, 0.2):
        for seed in (1, 2, 3):
            exp_id = recording.create_experiment("p", f"lr {lr} seed {seed}")
            recording.record_parameters(exp_id, "Args", {"lr": {"value": lr}, "seed": {"value": seed}})
            recording.record_batch(exp_id, scalars=[("loss", "train", i, lr * 10 + seed * i, 1.0) for i in range(5)])
            ids[(lr, seed)] = exp_id
    page = open_page(qtbot, list(ids.values()))
    tab = page.tab("SCALARS")
    tab.set_runs_grouping(st.RUNS_EXCEPT, "Args/seed", compare_stats.BAND_MIN_MAX)
    tab.materialise_all()
    curves = tab.curves(("loss", "train"))
    assert len(curves) == 2
    card = tab.card(("loss", "train"))
    labels = sorted(e.label for e in card.entries().values())
    assert labels == ["lr=0.1 (3 runs)", "lr=0.2 (3 runs)"]
    mean = next(e for e in card.entries().values() if e.label.startswith("lr=0.2"))
    expected = np.mean([[2.0 + s * i for i in range(5)] for s in (1, 2, 3)], axis=0)
    np.testing.assert_allclose(mean.item.getData()[1], expected)
    assert len(tab._bands[("loss", "train")]) == 2
    assert card.legend_shown()  # groups are not in the page's legend: the plot names them
    # The group's colour is its first member's.
    assert mean.pen.color().name() == page.experiment(ids[(0.2, 1)]).colour
    page.set_hidden(ids[(0.2, 1)], True)
    tab.materialise_all()
    assert sorted(e.label for e in tab.card(("loss", "train")).entries().values()) == \
        ["lr=0.1 (3 runs)", "lr=0.2 (2 runs)"]
    tab.set_runs_grouping(st.RUNS_EACH)
    tab.materialise_all()
    assert len(tab.curves(("loss", "train"))) == 6


def test_metrics_shown_are_remembered_per_project(qtbot, db):
    ids = [make_experiment(f"run {n}", n) for n in range(2)]
    page = open_page(qtbot, ids)
    page.set_project("vision")
    tab = page.tab("SCALARS")
    tab.set_plot_hidden("loss / train", True)
    assert ("loss", "train") not in tab.plot_keys()
    assert tab.metrics_button.text() == "Metrics (2/3)"
    again = open_page(qtbot, ids)
    again.set_project("vision")
    assert ("loss", "train") not in again.tab("SCALARS").plot_keys()
    elsewhere = open_page(qtbot, ids)
    elsewhere.set_project("nlp")
    assert ("loss", "train") in elsewhere.tab("SCALARS").plot_keys()


# ---- PLOTS ------------------------------------------------------------------------------------------

def test_plots_overlay_bars_and_boxes_and_put_tables_side_by_side(qtbot, db):
    ids = [make_rich_experiment(f"rich {n}", n) for n in range(3)]
    page = open_page(qtbot, ids, tab="PLOTS")
    tab = page.tab("PLOTS")
    assert tab.plot_keys() == [("class counts", "val"), ("confusion", "val"), ("latency", "ms"),
                               ("report", "val"), ("roc", "val")]
    assert [tab.is_overlaid(k) for k in tab.plot_keys()] == [True, False, True, False, True]
    bars = tab.widget_of(("class counts", "val"))
    assert len(bars._extras) == 3  # a bar item per experiment, clustered
    rows = bars.csv_rows()
    assert rows[0] == ["experiment", "series", "category", "value"] and len(rows) == 1 + 3 * 3
    assert ["rich 1", "count", "dog", repr(19.0)] in rows
    boxes = tab.widget_of(("latency", "ms"))
    assert len(boxes._extras) == 2 * 3 * 2  # body + whiskers, per series and experiment
    assert boxes.hover_provider(QPointF(0.0 - 0.4 + (0.8 / 3) * 0.5, 10)).startswith("rich 0: median")
    side = tab.widget_of(("confusion", "val"))
    side.fill_visible(everything=True)
    assert side.panel_ids() == ids
    page.hide_identical_check.setChecked(True)
    assert ("report", "val") in tab.plot_keys()  # f1 differs per experiment


# ---- DEBUG SAMPLES ------------------------------------------------------------------------------

def test_debug_samples_sync_links_iteration_and_metric_across_columns(qtbot, db):
    ids = [make_rich_experiment(f"rich {n}", n) for n in range(2)]
    page = open_page(qtbot, ids, tab="DEBUG SAMPLES")
    tab = page.tab("DEBUG SAMPLES")
    assert tab.synced() and tab.iterations() == [59, 10]
    assert [tab.column(i).iteration for i in ids] == [59, 59]
    tab.older.click()
    assert [tab.column(i).iteration for i in ids] == [10, 10]
    assert not tab.older.isEnabled() and tab.newer.isEnabled()
    tab.newest.click()
    assert [tab.column(i).iteration for i in ids] == [59, 59]
    tab.sync_check.setChecked(False)
    column = tab.column(ids[0])
    assert column.older.isEnabled() and column.metric_combo.isEnabled() and not tab.older.isEnabled()
    column.older.click()
    assert [tab.column(i).iteration for i in ids] == [10, 59]
    tab.load_visible(everything=True)
    assert column.loaded and len(column.shown) == 2
    viewer = tab.open_viewer(ids[0], column.shown[0])
    qtbot.addWidget(viewer)
    assert "iteration 10" in viewer.caption.text()
    tab.sync_check.setChecked(True)
    assert [tab.column(i).iteration for i in ids] == [59, 59]


# ---- Picker ------------------------------------------------------------------------------------

def test_picker_adds_and_removes_with_a_limit_of_one_hundred(qtbot, db, monkeypatch):
    from exptable_desktop.core import compare_data
    ids = [recording.create_experiment("p", f"exp {n:03d}") for n in range(102)]
    page = open_page(qtbot, ids[:2])
    picker = page.open_picker()
    qtbot.addWidget(picker)
    assert picker.set_checked(ids[5], True)
    assert picker.set_checked(ids[0], False)
    picker.accept()
    assert page.experiment_ids() == [ids[1], ids[5]]

    full = ExperimentPicker(ids[:100])
    qtbot.addWidget(full)
    assert full.count_label.text() == "100 of 100 selected"
    assert "Reached the limit of 100" in full.message.text()
    assert not full.set_checked(ids[101], True)
    row = full.listed_ids().index(ids[101])
    assert full.table.item(row, 0).toolTip() == LIMIT_TIP
    full.set_checked(ids[0], False)
    assert full.set_checked(ids[101], True)
    assert full.chosen_ids()[-1] == ids[101] and len(full.chosen_ids()) == 100

    full.search_box.setText("exp 10")
    full.reload()
    listed = set(full.listed_ids())
    assert {ids[100], ids[101]} <= listed and set(full.chosen_ids()) <= listed
    from exptable_desktop.core import actions
    actions.archive([ids[50]])
    assert ids[50] not in {r["id"] for r in compare_data.search_experiments("exp 050")}
    full.search_box.setText("exp 050")
    full.archived_check.setChecked(True)
    assert ids[50] in full.listed_ids()


def test_a_pending_settings_change_is_saved_when_the_page_hides(qtbot, db):
    from exptable_desktop.core.details import load_preference
    ids = [make_experiment(f"run {n}", n) for n in range(2)]
    page = open_page(qtbot, ids)
    tab = page.tab("SCALARS")
    tab.group_combo.setCurrentIndex(tab.group_combo.findData(st.GROUP_METRIC))
    assert load_preference(st.SETTINGS_KEY) is None  # debounced: not written yet
    page.hide()
    assert load_preference(st.SETTINGS_KEY)["group_by"] == st.GROUP_METRIC
    fresh = open_page(qtbot, ids)
    assert fresh.tab("SCALARS").settings.group_by == st.GROUP_METRIC


def test_refresh_reads_new_points_and_keeps_the_zoom(qtbot, db):
    exp_id = recording.create_experiment("p", "live")
    recording.set_status(exp_id, "in_progress")
    recording.record_batch(exp_id, scalars=[("loss", "train", i, 1.0 / (i + 1), 1.0) for i in range(10)])
    other = make_experiment("other", 1)
    page = open_page(qtbot, [exp_id, other])
    tab = page.tab("SCALARS")
    tab.materialise_all()
    view = tab.card(("loss", "train")).plot_item.getViewBox()
    view.setRange(xRange=(2, 5), yRange=(0, 1), padding=0)
    before = tab.curves(("loss", "train"))[(exp_id, "train")]
    recording.record_batch(exp_id, scalars=[("loss", "train", i, 1.0 / (i + 1), 1.0) for i in range(10, 25)])
    page.refresh_button.click()
    tab.materialise_all()
    curve = tab.curves(("loss", "train"))[(exp_id, "train")]
    assert len(curve.xData) == 25  # all of it (getData would give what is clipped to the zoom)
    assert curve is before  # the curve item is refilled, not rebuilt
    assert view.viewRange()[0] == pytest.approx([2, 5])
    page.auto_refresh_check.setChecked(True)
    assert page.auto_timer.isActive()
    page.auto_refresh_check.setChecked(False)
    assert not page.auto_timer.isActive()
