"""A scope bigger than one page: first page at once, the rest and the custom columns from worker threads;
a middle-sized scope: every row at once, the custom columns of the first page with them."""
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
def big(db, monkeypatch):
    # These tests are about scopes too big to read whole before the first paint.
    monkeypatch.setattr("exptable_desktop.ui.main_window.WHOLE_TABLE_LIMIT", N - 1)
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
    from exptable_desktop.core.table_loading import load_table

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


@pytest.fixture
def middle(db):
    ids = many_experiments(N)
    state = default_state(True)
    state.custom = [LOSS, SEED]
    bulk.store_saved_view(current_user(), scope_name(None, True), state.to_dict())
    return ids


@pytest.mark.both_backends
def test_middle_scope_shows_every_row_at_once_and_its_first_page_complete(qtbot, db_url, middle):
    from exptable_desktop.ui import create_main_window
    from exptable_desktop.ui.main_window import FIRST_PAGE_ROWS, PREVIEW_LIMIT, WHOLE_TABLE_LIMIT

    assert PREVIEW_LIMIT < N <= WHOLE_TABLE_LIMIT
    win = create_main_window(db_url)
    qtbot.addWidget(win)
    win.auto_refresh_toggle.setChecked(False)
    model = win.model
    assert model.rowCount() == N and win.visible_ids() == middle[::-1]
    assert win.is_loading() and not win._full_pending  # only the whole custom columns are to come
    assert model.index(0, model.column_of(LOSS)).data() == "1.499"
    assert model.index(FIRST_PAGE_ROWS - 1, model.column_of(SEED)).data() == str((N - FIRST_PAGE_ROWS) % 7)
    row = model.row_of_id(middle[5])
    assert model.index(row, model.column_of(LOSS)).data() == ""
    win.resize(1200, 600)
    win.show()
    qtbot.waitUntil(lambda: not win.is_loading(), timeout=30000)
    assert model.index(model.row_of_id(middle[5]), model.column_of(LOSS)).data() == "0.005"
    win.set_sort([(LOSS, False)])
    assert win.visible_ids()[:2] == middle[:2]
    win._stop_loader()


@pytest.mark.both_backends
def test_custom_columns_load_in_few_statements_on_a_server(db, middle, caplog):
    import logging

    from exptable_desktop.core.table_loading import load_base_table, load_custom_columns
    from exptable_desktop.store.schema import database_proxy
    from peewee import SqliteDatabase

    scope = bulk.Scope(None, False)
    table = load_base_table(scope)
    keys = [C.metric_key("val", "loss", f) for f in ("last", "min", "max")] + [SEED, C.hyperparam_key("Args", "none")]

    def read(expected_rows):
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            columns = {key: values.pairs() for key, values in
                       load_custom_columns(scope, keys, whole_db=True, expected_rows=expected_rows, keep_cache=False)}
        # The statements that read the columns' rows (the column cache's look-up aside).
        return columns, len([r for r in caplog.records if r.name == "peewee"
                             and ('FROM "metric_summary"' in r.getMessage() or 'FROM "hyper_param"' in r.getMessage())])

    columns, statements = read(table.n)
    sqlite = isinstance(database_proxy.obj, SqliteDatabase)
    # SQLite: one statement a column (faster in-process); a server: one per kind.
    assert statements == (5 if sqlite else 2)
    assert list(columns) == keys
    by_id = {exp_id: value for exp_id, value, *_ in columns[keys[0]]}
    assert by_id[middle[1234]] == pytest.approx(1.234)
    assert {value for _id, value, *_ in columns[keys[2]]} == {1.0}
    assert len(columns[SEED]) == N and {v for _id, v, *_ in columns[SEED]} == {str(i) for i in range(7)}
    assert columns[keys[-1]] == []
    # Bounded reads: more statements when one would hold too many rows.
    again, statements = read(100_000)  # two columns a statement on a server
    assert statements == (5 if sqlite else 3)
    assert {k: [r[:2] for r in rows] for k, rows in again.items()} == \
        {k: [r[:2] for r in rows] for k, rows in columns.items()}
