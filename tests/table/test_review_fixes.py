"""What a reviewer found driving the window: PARENT filter entries, unhideable NAME, default widths,
status-bar buttons (pytest-qt, real SQLite)."""
from __future__ import annotations

from PySide6.QtCore import QPoint, QTimer
from PySide6.QtWidgets import QApplication

from exptable_desktop.core import columns as C
from exptable_desktop.core.filters import ValueSetFilter
from exptable_desktop.core.recording import create_experiment
from exptable_desktop.ui.filter_popups import CountRole
from tests.table.conftest import reopen


def shown_names(win):
    col = win.model.column_of("name")
    return [win.model.index(r, col).data() for r in range(win.model.rowCount())]


def test_parent_popup_tells_same_named_parents_apart_and_filters_by_id(db_url, populated, qtbot):
    twins = [create_experiment("vision", "pipeline cifar10 nightly", task_type="controller") for _ in range(3)]
    children = {}
    for n, parent in enumerate(twins):
        for k in range(n + 1):
            children[create_experiment("vision", f"child-{n}-{k}", parent=parent)] = parent
    create_experiment("vision", "x" * 120 + " very long parent", task_type="controller")
    from exptable_desktop.ui import create_main_window
    win = create_main_window(db_url)
    qtbot.addWidget(win)
    win.resize(1400, 700)
    win.show()
    qtbot.waitExposed(win)
    win.auto_refresh_toggle.setChecked(False)
    popup = win.open_filter_popup("parent")
    items = [popup.list.item(i) for i in range(popup.list.count())]
    labels = [item.text() for item in items]
    twin_labels = [t for t in labels if t.startswith("pipeline cifar10 nightly")]
    assert len(twin_labels) == 3 and len(set(twin_labels)) == 3
    # The count is its own column, not part of the label; a twin's label ends with its short id.
    assert sorted(item.data(CountRole) for item in items) == [1, 2, 3, 13]
    assert sorted(twin_labels) == sorted(f"pipeline cifar10 nightly · {p[:8]}" for p in twins)
    assert set(labels) - set(twin_labels) == {"(no value)"}
    # The list opens at the top and never scrolls sideways, however long a label.
    assert popup.list.verticalScrollBar().value() == 0
    assert popup.list.horizontalScrollBar().maximum() == 0
    # Checking one twin filters by that parent's id: only its own children remain.
    twin = twins[2]
    popup.set_checked(twin, True)
    assert popup.current_filter() == ValueSetFilter(frozenset({twin}))
    qtbot.waitUntil(lambda: sorted(shown_names(win)) == ["child-2-0", "child-2-1", "child-2-2"])
    popup.close()
    win._stop_loader()
    win._stop_fetcher(wait=True)


def test_value_popup_draws_counts_right_aligned_in_their_own_column(window, qtbot):
    popup = window.open_filter_popup("status")
    qtbot.waitExposed(popup)
    view = popup.list
    first = view.visualItemRect(view.item(0))
    delegate = view.itemDelegate()
    assert delegate.count_width() > 0
    image = view.viewport().grab().toImage()
    # Something is painted in the count column at the right edge, and the label stops short of it.
    right = min(first.right(), view.viewport().width() - 1)
    count_zone = [image.pixelColor(x, first.center().y()) for x in range(right - delegate.count_width(), right)]
    assert any(c.lightness() < 200 for c in count_zone)


def test_name_and_check_columns_cannot_be_hidden(window):
    window._fill_columns_menu()
    actions = {a.text(): a for a in window.columns_menu.actions()}
    assert actions["NAME"].isChecked() and not actions["NAME"].isEnabled()
    assert actions["USER"].isEnabled()
    assert "" not in actions or not actions[""].isCheckable()
    header = window.table_view.horizontalHeader()
    window.set_column_visible("name", False)
    assert not header.isSectionHidden(window.model.column_of("name"))
    state = window.table_state()
    state.hidden = ["name", "user"]
    window._apply_header_state(state)  # a saved layout from an older version cannot hide it either
    assert not header.isSectionHidden(window.model.column_of("name"))
    assert header.isSectionHidden(window.model.column_of("user"))


def _visible_columns(window) -> list[int]:
    header = window.table_view.horizontalHeader()
    return [i for i in range(header.count()) if not header.isSectionHidden(i)]


def test_default_columns_fit_their_contents_and_name_gets_its_reference_width(window, qtbot):
    from PySide6.QtGui import QFontMetrics

    from exptable_desktop.ui.table_view import NAME_REFERENCE_WIDTH

    window.resize(1400, 820)  # the default window size
    QApplication.processEvents()
    header = window.table_view.horizontalHeader()
    visible = _visible_columns(window)
    assert {window.model.specs[i].key for i in visible} >= {"started", "last_update", "last_iteration", "parent"}
    for logical in visible:
        assert header.sectionSize(logical) >= header.sectionSizeFromContents(logical).width(), \
            window.model.specs[logical].key
    assert header.sectionSize(window.model.column_of("name")) == NAME_REFERENCE_WIDTH
    # Dates fit the longest relative time, whatever rows are on screen when the columns are fitted.
    metrics = QFontMetrics(window.table_view.font())
    for key in ("started", "last_update"):
        assert header.sectionSize(window.model.column_of(key)) > metrics.horizontalAdvance("a few seconds ago") + 8
    # Columns of few values fit the widest of them: no status or project cut short.
    for key in ("status", "project"):
        labels = window.model.distinct_labels(key)
        assert header.sectionSize(window.model.column_of(key)) > max(map(metrics.horizontalAdvance, labels)), key


def test_name_takes_the_room_a_wide_window_leaves_and_follows_its_width(window, qtbot):
    header = window.table_view.horizontalHeader()
    name = window.model.column_of("name")
    window.resize(2600, 900)
    qtbot.waitUntil(lambda: window.table_view.viewport().width() > 2000)
    QApplication.processEvents()
    total = sum(header.sectionSize(i) for i in _visible_columns(window))
    assert total == window.table_view.viewport().width()  # filled, no gap on the right, no scrolling
    assert header.sectionSize(name) > 800
    window.resize(1400, 820)
    qtbot.waitUntil(lambda: header.sectionSize(name) == 400)


def test_fit_columns_is_one_action_in_the_header_and_columns_menus(window, qtbot):
    header = window.table_view.horizontalHeader()
    for key in ("type", "name", "last_update"):
        header.resizeSection(window.model.column_of(key), 30)  # cut to a few letters
    window._fill_columns_menu()
    fit = next(a for a in window.columns_menu.actions() if a.text() == "Fit columns")
    fit.trigger()
    assert header.sectionSize(window.model.column_of("name")) >= 400
    for key in ("type", "last_update"):
        logical = window.model.column_of(key)
        assert header.sectionSize(logical) == window.table_view.fitted_width(logical) > 90
    window._save_table_state()
    assert window.table_state().widths["last_update"] == window.table_view.fitted_width(
        window.model.column_of("last_update"))
    shown = []
    QTimer.singleShot(0, lambda: (shown.extend(a.text() for a in QApplication.activePopupWidget().actions()),
                                  QApplication.activePopupWidget().close()))
    window._header_menu(QPoint(header.sectionViewportPosition(window.model.column_of("status")) + 5, 5))
    assert "Fit columns" in shown


def test_new_metric_column_is_as_wide_as_its_header(window):
    key = C.metric_key("a rather long metric name", "validation", "max")
    window.add_custom_columns([key])
    header = window.table_view.horizontalHeader()
    logical = window.model.column_of(key)
    assert header.sectionSize(logical) >= header.sectionSizeFromContents(logical).width() > 200


def test_dragged_widths_stop_following_the_window(window, qtbot, db_url):
    header = window.table_view.horizontalHeader()
    name = window.model.column_of("name")
    header.resizeSection(name, 420)
    window.resize(1000, 700)
    QApplication.processEvents()
    assert header.sectionSize(name) == 420
    new = reopen(qtbot, window, db_url)
    assert new.table_view.horizontalHeader().sectionSize(new.model.column_of("name")) == 420
    new._stop_loader()
    new._stop_fetcher(wait=True)


def test_undo_button_sits_right_after_the_message(window, qtbot):
    window.show_message("2 experiments archived", undo=lambda: None, details="details")
    status = window.status_message
    qtbot.waitUntil(lambda: status.undo_button.isVisible())
    label_end = status.label.geometry().left() + status.label.fontMetrics().horizontalAdvance(status.label.text())
    assert status.undo_button.geometry().left() - label_end < 40
    assert status.more_button.geometry().left() > status.undo_button.geometry().left()


def test_type_and_status_columns_fit_every_label_they_can_show(window):
    """TYPE cut "Data Processing" to "Data Process…" with room to spare: the fit left less beside
    the label than the cell paints (margins, icon) and measured only the labels of loaded rows."""
    import math

    from PySide6.QtCore import Qt
    from PySide6.QtGui import QFontMetrics, QFontMetricsF

    from exptable_desktop.core import states as st

    header = window.table_view.horizontalHeader()
    font = window.table_view.font()
    metrics, exact = QFontMetrics(font), QFontMetricsF(font)
    beside_label = 8 + 22 + 6 + 6  # CellDelegate._paint_cell: left margin, icon and gap, right margin, end gap
    type_labels = [st.type_label(t) for t in st.TASK_TYPES]
    assert "Data Processing" in type_labels and window.visible_ids()
    type_width = header.sectionSize(window.model.column_of("type"))
    assert type_width >= math.ceil(max(map(exact.horizontalAdvance, type_labels))) + beside_label
    for label in type_labels:  # none of these rows is Data Processing: it fits all the same
        assert metrics.elidedText(label, Qt.TextElideMode.ElideRight, type_width - beside_label) == label
    status_width = header.sectionSize(window.model.column_of("status"))
    for label in set(st.STATUS_LABELS.values()):  # with a progress bar beside it (44 px)
        assert metrics.elidedText(label, Qt.TextElideMode.ElideRight, status_width - beside_label - 44) == label
