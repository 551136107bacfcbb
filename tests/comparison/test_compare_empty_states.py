"""The compare page when there is nothing (or only one experiment) to compare, its SCALARS tab when
there is nothing to draw, and whole-number ticks on its iteration axes."""
from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtWidgets import QDialog

from comparison_helpers import make_experiment, open_page
from exptable_desktop.core import recording
from exptable_desktop.ui.comparison import scalars_tab as st
from exptable_desktop.ui.empty_state import SDK_START
from exptable_desktop.ui.plot_grid import IterationAxis, PlotGrid


def test_fewer_than_two_experiments_say_how_to_choose_what_to_compare(qtbot, db):
    page = open_page(qtbot, [])
    assert page.has_nothing_to_compare() and not page.tabs.isVisible()
    empty = page.nothing_to_compare
    assert empty.isVisible() and empty.title() == "Nothing to compare"
    assert "click Compare" in empty.body()
    first = make_experiment("only run", 1)
    page.set_experiments([first])
    assert page.has_nothing_to_compare()
    assert empty.title() == "Add another experiment to compare" and "“only run”" in empty.body()
    assert empty.action_button.text() == "Add experiments…"
    empty.action_button.click()  # the picker, to add the second one
    pickers = [w for w in page.findChildren(QDialog) if w.isVisible()]
    assert len(pickers) == 1
    pickers[0].reject()
    page.set_experiments([first, make_experiment("second run", 2)])
    assert not page.has_nothing_to_compare() and page.tabs.isVisible() and not empty.isVisible()


def test_compared_experiments_without_scalars_are_told_how_to_report_them(qtbot, db):
    ids = [recording.create_experiment("p", f"draft {n}") for n in range(2)]
    page = open_page(qtbot, ids)
    tab = page.tab("SCALARS")
    assert tab.is_empty() and tab.empty_label.title() == "No scalars to compare"
    assert tab.empty_label.code().startswith(SDK_START) and "report_scalar(" in tab.empty_label.code()


def test_a_search_or_the_metrics_menu_leaving_no_plot_says_which(qtbot, db):
    ids = [make_experiment(f"run {n}", n) for n in range(2)]
    page = open_page(qtbot, ids)
    tab = page.tab("SCALARS")
    assert not tab.is_empty() and isinstance(tab.plot_grid, PlotGrid)
    tab.search_box.setText("nothing like it")
    assert tab.is_empty() and tab.empty_label.title() == "No plot matches “nothing like it”"
    tab.search_box.clear()
    tab._set_all_plots_hidden(True)
    assert tab.is_empty() and tab.empty_label.title() == "Every plot is hidden"
    assert "Metrics" in tab.empty_label.body()
    tab._set_all_plots_hidden(False)
    assert not tab.is_empty()


def test_compared_iterations_get_whole_number_ticks(qtbot, db):
    ids = []
    for n in range(2):
        exp_id = recording.create_experiment("p", f"short {n}")
        recording.record_batch(exp_id, scalars=[("loss", "train", i, 1.0 / (i + n + 1), 1000.0 + i) for i in range(4)])
        ids.append(exp_id)
    page = open_page(qtbot, ids)
    tab = page.tab("SCALARS")
    tab.materialise_all()
    card = tab.card(("loss", "train"))
    axis = card.plot_item.getAxis("bottom")
    assert isinstance(axis, IterationAxis)
    (low, high), _ = card.plot_item.getViewBox().viewRange()
    ticks = [v for _s, values in axis.tickValues(low, high, axis.width() or 400) for v in values]
    assert ticks and all(t == int(t) for t in ticks)
    tab.axis_combo.setCurrentIndex(tab.axis_combo.findData("timestamp"))
    tab.materialise_all()
    assert not isinstance(tab.card(("loss", "train")).plot_item.getAxis("bottom"), IterationAxis)


def test_a_plot_whose_experiments_have_summaries_but_no_points_says_so(qtbot, db):
    from exptable_desktop.store.schema import MetricSummary
    ids = [recording.create_experiment("p", f"summaries only {n}") for n in range(2)]
    for exp_id in ids:
        MetricSummary.create(experiment=exp_id, metric="loss", variant="train", first=1.0, last=0.1, min=0.1,
                             max=1.0, total=5.0, finite_count=10, count=10, last_iteration=9)
    page = open_page(qtbot, ids)
    tab = page.tab("SCALARS")
    tab.materialise_all()
    card = tab.card(("loss", "train"))
    notes = [item for item in card.plot_item.items if isinstance(item, pg.TextItem)]
    assert [n.toPlainText() for n in notes] == [st.NO_POINTS_NOTE]
    recording.record_batch(ids[0], scalars=[("loss", "train", i, 1.0, 1.0) for i in range(3)])
    page.refresh_button.click()
    tab.materialise_all()
    assert not [item for item in card.plot_item.items if isinstance(item, pg.TextItem)]
