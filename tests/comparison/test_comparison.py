"""Comparison mode on the real main window: what is compared, the page in the table's place."""
from __future__ import annotations

import numpy as np
import pytest

from exptable_desktop.core import recording
from exptable_desktop.core.compare_palette import MAX_EXPERIMENTS
from exptable_desktop.store.series import read_series
from exptable_desktop.ui.comparison import ComparePage, ComparisonView, install_comparison
from exptable_desktop.ui.comparison.install import RELOAD_DEBOUNCE_MS

from comparison_helpers import make_experiment, open_window

KEYS = [("accuracy", "validation"), ("loss", "train"), ("loss", "validation")]


def scalars(window):
    return window.comparison_controller.view.tab("SCALARS")


def test_checked_experiments_get_one_plot_per_metric_variant_and_one_curve_each(window, experiments):
    chosen = [i for i in window.visible_ids() if i in experiments[1:3]]
    window.set_checked(experiments[1:3], True)
    window.set_view_mode("comparison")
    page = window.comparison_controller.view
    assert page.objectName() == "comparisonView" and ComparisonView is ComparePage
    assert page.isVisible() and not window.table_view.isVisible()
    assert page.header.text() == "Comparing 2 experiments"
    tab = scalars(window)
    assert tab.plot_keys() == KEYS
    for key in KEYS:
        curves = tab.curves(key)
        assert [k[0] for k in curves] == chosen
        for (exp_id, variant), curve in curves.items():
            stored = read_series(exp_id, *key)
            x, y = curve.getData()
            np.testing.assert_array_equal(x, stored.iterations.astype(float))
            np.testing.assert_array_equal(y, stored.values)
        assert len({curve.opts["pen"].color().name() for curve in curves.values()}) == 2
        item = curves[(chosen[0], key[1])]
        assert item.opts["autoDownsample"] and item.opts["clipToView"]


def test_with_none_checked_the_visible_experiments_are_compared(window, experiments):
    assert window.checked_ids() == []
    window.set_view_mode("comparison")
    page = window.comparison_controller.view
    assert page.experiment_ids() == window.visible_ids()
    assert sorted(page.experiment_ids()) == sorted(experiments)
    assert page.header.text() == "Comparing 4 experiments"
    assert sorted(k[0] for k in scalars(window).curves(("loss", "train"))) == sorted(experiments)


def test_checking_rows_in_comparison_mode_reloads_debounced(window, qtbot, experiments):
    window.set_view_mode("comparison")
    page = window.comparison_controller.view
    window.set_checked([experiments[0]], True)
    assert len(page.experiment_ids()) == 4  # not yet: the reload waits for the checks to settle
    qtbot.waitUntil(lambda: page.experiment_ids() == [experiments[0]], timeout=RELOAD_DEBOUNCE_MS * 10)
    assert page.header.text() == "Comparing 1 experiment"


def test_leaving_the_mode_brings_the_table_back(window, experiments):
    window.set_view_mode("comparison")
    page = window.comparison_controller.view
    layout = window.table_view.parentWidget().layout()
    assert layout.indexOf(page) == layout.indexOf(window.table_view) + 1
    window.set_view_mode("table")
    assert window.table_view.isVisible() and not page.isVisible()
    window.set_view_mode("comparison")
    window.set_view_mode("details")
    assert not page.isVisible()
    assert window.table_view.isVisible() == window.details_controller.is_popped_out()
    window.set_view_mode("table")
    assert window.table_view.isVisible()


def test_compare_in_the_batch_bar_opens_the_page_on_the_checked(window, experiments):
    window.action_controller.run("compare", experiments[:3])
    page = window.comparison_controller.view
    assert window.view_mode() == "comparison"
    assert sorted(page.experiment_ids()) == sorted(experiments[:3])


def test_removing_on_the_page_pins_its_set_until_the_checks_change(window, qtbot, experiments):
    window.set_view_mode("comparison")
    page = window.comparison_controller.view
    page.remove_experiment(experiments[1])
    assert experiments[1] not in page.experiment_ids() and len(page.experiment_ids()) == 3
    window.comparison_controller.reload()  # a refresh keeps the page's own set
    assert experiments[1] not in page.experiment_ids()
    window.set_checked(experiments[:2], True)
    qtbot.waitUntil(lambda: sorted(page.experiment_ids()) == sorted(experiments[:2]), timeout=2000)


def test_view_details_and_archive_from_the_experiment_menu(window, qtbot, experiments):
    recording.set_status(experiments[0], "completed")  # a running one would ask to abort first
    window.refresh_now()
    window.set_view_mode("comparison")
    page = window.comparison_controller.view
    page.sig_archive_requested.emit([experiments[0]])
    qtbot.waitUntil(lambda: experiments[0] not in window.visible_ids(), timeout=3000)
    assert recording_archived(experiments[0])
    window.set_view_mode("comparison")
    page.sig_details_requested.emit(experiments[2])
    assert window.view_mode() == "details"
    assert window.current_experiment_id() == experiments[2]


def recording_archived(exp_id: str) -> bool:
    from exptable_desktop.store.schema import Experiment
    return Experiment.get_by_id(exp_id).archived


def test_rename_on_the_page_renames_everywhere(window, experiments):
    window.set_view_mode("comparison")
    page = window.comparison_controller.view
    assert page.rename_experiment(experiments[0], "renamed run")
    assert page.experiment(experiments[0]).name == "renamed run"
    assert window.rows_info([experiments[0]])[0]["name"] == "renamed run"
    assert not page.rename_experiment(experiments[0], "x")  # too short: refused, one-line message
    assert page.experiment(experiments[0]).name == "renamed run"


def test_experiments_without_scalars_show_the_empty_state(qtbot, db_url, db):
    ids = [recording.create_experiment("p", f"draft {n}") for n in range(2)]
    win = open_window(qtbot, db_url, len(ids))
    win.set_view_mode("comparison")
    tab = scalars(win)
    assert tab.is_empty() and tab.empty_label.isVisible()
    assert win.comparison_controller.view.header.text() == "Comparing 2 experiments"


def test_experiment_missing_a_metric_has_no_curve_in_its_plot(qtbot, db_url, db):
    full = make_experiment("full", 1)
    partial = make_experiment("partial", 2, metrics={("loss", "train")})
    win = open_window(qtbot, db_url, 2)
    win.set_view_mode("comparison")
    tab = scalars(win)
    assert {k[0] for k in tab.curves(("loss", "train"))} == {full, partial}
    assert {k[0] for k in tab.curves(("accuracy", "validation"))} == {full}


def test_comparison_is_capped_at_one_hundred_experiments(qtbot, db):
    ids = [recording.create_experiment("p", f"r{n}") for n in range(MAX_EXPERIMENTS + 5)]
    page = ComparePage()
    qtbot.addWidget(page)
    page.set_experiments(ids)
    assert page.experiment_ids() == ids[:MAX_EXPERIMENTS]
    assert len({e.colour for e in page.experiments()}) == MAX_EXPERIMENTS


def test_install_is_idempotent(window):
    assert install_comparison(window) is window.comparison_controller


@pytest.mark.both_backends
def test_comparison_mode_on_both_backends(qtbot, db_url, db):
    ids = [make_experiment(f"run {n}", n) for n in range(2)]
    win = open_window(qtbot, db_url, 2)
    win.set_view_mode("comparison")
    tab = scalars(win)
    assert sorted(k[0] for k in tab.curves(("loss", "validation"))) == sorted(ids)
