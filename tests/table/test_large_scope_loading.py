"""A scope bigger than one page: first page at once, the rest and the custom columns from worker threads."""
from __future__ import annotations

import pytest

from exptable_desktop.core import columns as C
from exptable_desktop.core.filters import SearchQuery
from exptable_desktop.core.viewstate import default_state, scope_name
from exptable_desktop.paths import current_user
from exptable_desktop.store import bulk
from tests.table.conftest import many_experiments

LOSS = C.metric_key("val", "loss", "last")
SEED = C.hyperparam_key("Args", "seed")
N = 1500


@pytest.fixture
def big(db):
    ids = many_experiments(N)
    state = default_state(True)
    state.custom = [LOSS, SEED]
    bulk.store_saved_view(current_user(), scope_name(None, True), state.to_dict())
    return ids


def open_window(qtbot, db_url, show=True):
    from exptable_desktop.ui import create_main_window
    from exptable_desktop.ui.main_window import PREVIEW_LIMIT, PREVIEW_ROWS

    assert N > PREVIEW_LIMIT
    win = create_main_window(db_url)
    qtbot.addWidget(win)
    win.auto_refresh_toggle.setChecked(False)
    assert win.model.rowCount() == PREVIEW_ROWS and win.is_loading()
    if show:
        win.resize(1200, 600)
        win.show()
        qtbot.waitExposed(win)
    return win


@pytest.mark.both_backends
def test_first_page_is_the_most_recent_then_everything_streams_in(qtbot, db_url, big):
    win = open_window(qtbot, db_url)
    assert win.visible_ids()[:3] == big[::-1][:3]  # UPDATED descending, newest first
    model = win.model
    # The first page paints complete, custom columns included.
    assert model.index(0, model.column_of(LOSS)).data() == "1.499"
    assert model.index(0, model.column_of(SEED)).data() == str(1499 % 7)
    qtbot.waitUntil(lambda: not win.is_loading(), timeout=30000)
    assert model.rowCount() == N and win.visible_ids() == big[::-1]
    row = model.row_of_id(big[1234])
    assert model.index(row, model.column_of(LOSS)).data() == "1.234"
    assert model.index(row, model.column_of(SEED)).data() == str(1234 % 7)
    win.set_sort([(LOSS, False)])
    assert win.visible_ids()[:2] == big[:2]
    win._stop_loader()


@pytest.mark.both_backends
def test_whole_scope_answers_wait_for_the_whole_table(qtbot, db_url, big):
    win = open_window(qtbot, db_url, show=False)  # never painted: nothing has started the read yet
    assert len(win.scope_ids()) == N and not win._full_pending
    assert win.rows_info([big[0]])[0]["name"] == "run-00000"
    win._stop_loader()


def test_typing_a_longer_search_narrows_to_the_same_rows_as_a_fresh_search(qtbot, db_url, big):
    from exptable_desktop.core.tableview import load_table

    win = open_window(qtbot, db_url)
    qtbot.waitUntil(lambda: not win.is_loading(), timeout=30000)
    for text in ("r", "run-0", "run-01", "run-012", "run-01", "un-0", "UN-00"):
        win.search_box.setText(text)
        fresh = load_table(bulk.Scope(None, False))
        fresh.set_search(SearchQuery(text))
        assert set(win.visible_ids()) == set(fresh.visible_ids()), text
    assert len(win.visible_ids()) == 1000  # run-00000 … run-00999
    win._stop_loader()


def test_whole_table_keeps_the_first_page_values_while_its_columns_stream_in(qtbot, db_url, big):
    win = open_window(qtbot, db_url, show=False)
    win._ensure_full_table()  # whole table in, custom columns not read yet
    model, table = win.model, win.model.table
    assert model.rowCount() == N and table.partial == {LOSS, SEED}
    assert model.index(0, model.column_of(LOSS)).data() == "1.499"
    row = model.row_of_id(big[5])
    assert model.index(row, model.column_of(LOSS)).data() == ""  # not on the first page: comes with its column
    # A partial column neither sorts nor filters: the order stays UPDATED descending.
    win.set_sort([(LOSS, False)])
    assert win.visible_ids()[:2] == big[::-1][:2]
    qtbot.waitUntil(lambda: not win.is_loading(), timeout=30000)
    assert not table.partial and win.visible_ids()[:2] == big[:2]
    assert model.index(model.row_of_id(big[5]), model.column_of(LOSS)).data() == "0.005"
    win._stop_loader()
