"""The compare page inside the main window at its default size: no tab may force the window wider."""
from __future__ import annotations

import pytest

from exptable_desktop.core import recording
from exptable_desktop.ui import create_main_window
from exptable_desktop.ui.comparison import scalars_tab as st

from comparison_helpers import T0, image, make_rich_experiment

DEFAULT_SIZE = (1400, 820)
LONG_METRIC = "validation/segmentation masks overlaid on the input images"


def narrower_than_its_longest_item(combo) -> bool:
    longest = max(combo.fontMetrics().horizontalAdvance(combo.itemText(n)) for n in range(combo.count()))
    return combo.sizeHint().width() < longest  # the width a layout gives it when there is room


@pytest.fixture
def compare_window(qtbot, db_url, db):
    # Long names and every kind of data, as in the screenshots: what made the tool bars wide.
    ids = [make_rich_experiment(f"{arch} lr={lr} seed={n // 2}", n, lr=lr)
           for n, (arch, lr) in enumerate([("resnet50", 0.1), ("vit-b16", 0.003), ("resnet50", 0.01),
                                           ("vit-b16", 0.03), ("resnet50", 0.1)])]
    # Long metric names fill the combo boxes that choose a metric: they must elide, not widen the page.
    long_metric = LONG_METRIC
    for n, exp_id in enumerate(ids):
        recording.record_batch(exp_id, scalars=[(long_metric, "mean intersection over union", 0, 0.5 + n / 10, T0)],
                               debug_samples=[{"metric": long_metric, "variant": "mask", "iteration": 0,
                                               "data": image(n)}])
    window = create_main_window(db_url)
    qtbot.addWidget(window)
    window.resize(*DEFAULT_SIZE)
    window.show()
    qtbot.waitUntil(lambda: len(window.visible_ids()) == len(ids), timeout=5000)
    window.set_view_mode("comparison")
    page = window.comparison_controller.view
    page.extremes_check.setChecked(True)  # the min/max legend joins the values tables' tool bar
    return window, page


def assert_fits(qtbot, window, page, what: str):
    qtbot.wait(30)  # layouts settle; a too-wide minimum has widened the window by now
    tab = page.tabs.currentWidget()
    assert window.width() == DEFAULT_SIZE[0], f"{what} widened the main window to {window.width()}"
    assert tab.minimumSizeHint().width() <= tab.width(), f"{what}: minimum {tab.minimumSizeHint().width()}"
    assert page.tabs.minimumSizeHint().width() <= page.tabs.width()
    right = tab.mapTo(window, tab.rect().topRight()).x()
    assert right < window.width(), f"{what} ends at x={right}, past the window's right edge"
    return tab


def test_every_compare_tab_fits_the_default_window_of_five_experiments(qtbot, compare_window):
    window, page = compare_window
    page.show_tab("SCALARS")
    scalars = page.tab("SCALARS")
    assert_fits(qtbot, window, page, "SCALARS graphs")
    for view in (st.VIEW_LAST, st.VIEW_BEST):
        scalars.set_view(view)
        assert_fits(qtbot, window, page, f"SCALARS {view}")
    assert scalars.best_reference.isVisible() and scalars.extremes_legend.isVisible()
    assert narrower_than_its_longest_item(scalars.best_reference)
    # The toolbar wraps or shrinks: far narrower than the 1100 px that once widened the window.
    assert scalars.minimumSizeHint().width() < 900
    scalars.set_view(st.VIEW_GRAPHS)
    assert not scalars.best_reference.isVisible()

    page.show_tab("PLOTS")
    plots = assert_fits(qtbot, window, page, "PLOTS")
    search = plots.search_box
    room = search.fontMetrics().horizontalAdvance(search.placeholderText())
    assert search.width() >= room + 20, f"search box {search.width()} px cannot show {search.placeholderText()!r}"
    assert plots.note.isVisible() and plots.note.geometry().right() < search.geometry().left()

    page.show_tab("DEBUG SAMPLES")
    debug = assert_fits(qtbot, window, page, "DEBUG SAMPLES")
    scroll = debug.scroll
    # Five columns do not fit: they scroll inside the frame, which ends inside the window.
    assert scroll.horizontalScrollBar().maximum() > 0
    assert scroll.mapTo(window, scroll.rect().topRight()).x() < window.width()
    assert debug.minimumSizeHint().width() <= debug.width()
    assert debug.metric_combo.findData(LONG_METRIC) >= 0 and narrower_than_its_longest_item(debug.metric_combo)
