"""Custom columns through the packed column cache (store.column_cache): a table over most of the database
reads its custom columns as a few blobs, patched with what was written since, on SQLite and PostgreSQL."""
from __future__ import annotations

import logging
import math

import pytest

from exptable_desktop.core import actions
from exptable_desktop.core import columns as C
from exptable_desktop.core import custom_columns
from exptable_desktop.core.editing import set_hyperparams
from exptable_desktop.core.recording import create_experiment, record_batch
from exptable_desktop.store import bulk, column_cache
from exptable_desktop.store.bulk import Scope
from exptable_desktop.store.column_cache import ColumnCache, ColumnCacheIds
from tests.table.conftest import many_experiments

LOSS = C.metric_key("val", "loss", "last")
LOSS_MAX = C.metric_key("val", "loss", "max")
SEED = C.hyperparam_key("Args", "seed")
NONE = C.hyperparam_key("Args", "none")  # nobody has it
KEYS = [LOSS, SEED, LOSS_MAX, NONE]
N = 300
EVERYTHING = Scope(None, False)


def _read(keys=KEYS, keep_cache=True, caplog=None):
    """(table with the columns, statements that read the columns' own rows)."""
    from exptable_desktop.core.table_loading import covers_most_of_db, load_base_table, load_custom_columns

    table = load_base_table(EVERYTHING)
    if caplog is not None:
        caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee") if caplog is not None else _nothing():
        for key, values in load_custom_columns(EVERYTHING, keys, whole_db=covers_most_of_db(table),
                                               expected_rows=table.n, keep_cache=keep_cache):
            table.add_custom_column(key, values)
    rows_read = 0
    if caplog is not None:
        rows_read = len([r for r in caplog.records if r.name == "peewee" and
                         any(f'FROM "{t}"' in r.getMessage() for t in ("metric_summary", "hyper_param"))])
    return table, rows_read


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _cell(table, key, exp_id):
    slot = table.id_to_slot.get(exp_id)
    if slot is None or not table.alive[slot]:
        return "gone"
    value = table.value(slot, key)
    return None if isinstance(value, float) and math.isnan(value) else (value or None)


def _entries() -> dict[str, int]:
    return dict(ColumnCache.select(ColumnCache.key, ColumnCache.built_seq).tuples())


@pytest.fixture
def runs(db):
    from exptable_desktop.core import states as st
    from exptable_desktop.store.schema import Experiment

    ids = many_experiments(N)
    Experiment.update(status=st.DRAFT).execute()  # hyperparameters can be edited on drafts
    return ids


@pytest.mark.both_backends
def test_cold_read_keeps_the_columns_and_a_warm_read_takes_them_from_the_cache(runs, caplog):
    cold, statements = _read(caplog=caplog)
    assert statements >= 2  # a statement per kind on a server, per column on SQLite
    # Kept: one entry per column; the three columns over the same experiments share one id list.
    assert set(_entries()) == set(KEYS)
    assert ColumnCacheIds.select().count() == 2  # the N experiments, and nobody (Args/none)
    warm, statements = _read(caplog=caplog)
    assert statements == 0
    for key in KEYS:
        assert [_cell(warm, key, i) for i in runs] == [_cell(cold, key, i) for i in runs]
    assert _cell(warm, LOSS, runs[123]) == pytest.approx(0.123)
    assert _cell(warm, LOSS_MAX, runs[5]) == 1.0
    assert _cell(warm, SEED, runs[10]) == "3"
    assert _cell(warm, NONE, runs[10]) is None
    assert warm.has_column_data(SEED) and warm.distinct_values(SEED)[0][:2] == ("0", "0")


@pytest.mark.both_backends
def test_writes_after_the_cache_was_built_are_read_on_top_of_it(runs, caplog):
    _read()
    built = _entries()
    # A new loss for one, a changed and a new hyperparameter, a brand-new experiment, one deleted.
    record_batch(runs[7], scalars=[("val", "loss", 5, 42.0, 1.0)])
    assert set_hyperparams([runs[8]], "Args", {"seed": "changed", "none": "now"}).succeeded
    new = create_experiment("big", "new-run", user="tester")
    record_batch(new, scalars=[("val", "loss", 0, 7.5, 1.0)])
    set_hyperparams([new], "Args", {"seed": "fresh"})
    actions.archive([runs[9]])
    actions.delete([runs[9]])
    table, statements = _read(caplog=caplog)
    assert _cell(table, LOSS, runs[7]) == 42.0 and _cell(table, LOSS_MAX, runs[7]) == 42.0
    assert _cell(table, SEED, runs[8]) == "changed" and _cell(table, NONE, runs[8]) == "now"
    assert _cell(table, LOSS, new) == 7.5 and _cell(table, SEED, new) == "fresh" and _cell(table, NONE, new) is None
    assert _cell(table, LOSS, runs[9]) == "gone"
    assert _cell(table, LOSS, runs[10]) == pytest.approx(0.010)  # untouched, from the cache
    # Patched from the few experiments written since (IN queries), not read whole, not kept again.
    assert statements <= 2
    assert _entries() == built


@pytest.mark.both_backends
def test_a_big_patch_is_kept_and_a_cache_too_far_behind_is_read_again(runs, caplog, monkeypatch):
    _read()
    first = _entries()
    monkeypatch.setattr(custom_columns, "REWRITE_AFTER", 2)
    set_hyperparams(runs[:3], "Args", {"seed": "x"})
    actions.archive([runs[20]])
    actions.delete([runs[20]])
    table, _ = _read(caplog=caplog)
    assert [_cell(table, SEED, i) for i in runs[:4]] == ["x", "x", "x", "3"]
    kept = _entries()
    assert all(kept[key] > first[key] for key in KEYS)  # kept again, as patched
    entry = column_cache.read([SEED])[SEED]
    assert runs[20] not in entry.ids.ids and len(entry.ids) == N - 1
    assert ColumnCacheIds.select().count() == 2  # the patched columns share their ids again
    # Read back from the kept entries alone, nothing to patch: the same cells.
    again, statements = _read(caplog=caplog)
    assert statements == 0
    assert [_cell(again, SEED, i) for i in runs] == [_cell(table, SEED, i) for i in runs]

    # More experiments written since than a patch takes: read whole again, and kept.
    monkeypatch.setattr(custom_columns, "PATCH_MIN", 5)  # and N // 20 = 15
    set_hyperparams(runs[100:120], "Args", {"seed": "y"})
    table, statements = _read(caplog=caplog)
    assert statements >= 2
    assert _cell(table, SEED, runs[110]) == "y"
    assert all(_entries()[key] > kept[key] for key in KEYS)


@pytest.mark.both_backends
def test_exports_and_small_scopes_never_write_it(runs):
    from exptable_desktop.core.projects import get_or_create_project
    from exptable_desktop.core.table_loading import load_base_table, load_custom_columns, load_table
    from exptable_desktop.io.csv_export import table_for_export

    table = load_table(EVERYTHING, KEYS)
    assert _cell(table, LOSS, runs[3]) == pytest.approx(0.003)
    table_for_export(EVERYTHING, ["name", LOSS, SEED])
    assert ColumnCache.select().count() == 0
    # A small project of a big database: read from its rows (nothing whole to keep).
    create_experiment("small", "one", user="tester")
    small = Scope((get_or_create_project("small").id,), False)
    part = load_base_table(small)
    for key, values in load_custom_columns(small, KEYS, whole_db=False, expected_rows=part.n):
        part.add_custom_column(key, values)
    assert ColumnCache.select().count() == 0


@pytest.mark.both_backends
def test_the_oldest_entries_go_past_the_limit(runs, monkeypatch):
    monkeypatch.setattr(column_cache, "MAX_ENTRIES", 2)
    _read([LOSS])
    _read([SEED])
    _read([NONE])
    assert set(_entries()) == {SEED, NONE}
    # The id list only LOSS used went with it... SEED uses the same experiments, so it stays.
    assert ColumnCacheIds.select().count() == 2


@pytest.mark.both_backends
def test_migrating_from_version_4_adds_the_cache(db_url, tmp_path, monkeypatch):
    from exptable_desktop.store import close_database, migrations, open_database
    from exptable_desktop.store.db import make_database
    from exptable_desktop.store.schema import database_proxy

    monkeypatch.setenv("EXPTABLE_FILES", str(tmp_path / "files"))
    db = make_database(db_url)
    db.connect()
    database_proxy.initialize(db)
    migrations.apply_steps(db, 0, 4)
    false = "0" if db_url.startswith("sqlite") else "false"
    with db.atomic():
        db.execute_sql("INSERT INTO project (name, parent_id, description, created) VALUES ('Old', NULL, '', 1.0)")
        db.execute_sql(f"INSERT INTO experiment (id, name, type, status, project_id, \"user\", created, last_update,"
                       f" description, status_message, status_reason, archived, development, runtime) VALUES"
                       f" ('{'a' * 32}', 'legacy', 'training', 'completed', 1, 'old', 1.0, 2.0, '', '', '', {false},"
                       f" {false}, '{{}}')")
        db.execute_sql(f"INSERT INTO hyper_param (experiment_id, section, name, value, type, description)"
                       f" VALUES ('{'a' * 32}', 'Args', 'seed', '7', 'int', '')")
    assert not db.table_exists("column_cache")
    db.close()
    if db_url.startswith("sqlite:///"):
        from pathlib import Path
        Path(db_url[len("sqlite:///"):]).chmod(0o600)
    db = open_database(db_url)
    try:
        assert migrations.read_version(db) == migrations.CURRENT_VERSION
        assert db.table_exists("column_cache") and db.table_exists("column_cache_ids")
        table, _ = _read([SEED])
        assert _cell(table, SEED, "a" * 32) == "7"
        assert set(_entries()) == {SEED}
        table, _ = _read([SEED])
        assert _cell(table, SEED, "a" * 32) == "7"
    finally:
        close_database()


@pytest.mark.both_backends
def test_a_window_keeps_its_columns_and_the_next_one_reads_them_back(qtbot, db_url, runs):
    from exptable_desktop.core.viewstate import default_state, scope_name
    from exptable_desktop.paths import current_user
    from exptable_desktop.ui import create_main_window

    state = default_state(True)
    state.custom = [LOSS, SEED]
    bulk.store_saved_view(current_user(), scope_name(None, True), state.to_dict())

    def cells():
        win = create_main_window(db_url)
        qtbot.addWidget(win)
        win.auto_refresh_toggle.setChecked(False)
        win.show()
        qtbot.waitExposed(win)
        qtbot.waitUntil(lambda: not win.is_loading(), timeout=30000)
        model = win.model
        out = [(model.index(model.row_of_id(i), model.column_of(LOSS)).data(),
                model.index(model.row_of_id(i), model.column_of(SEED)).data()) for i in runs[::37]]
        win._stop_loader()
        win.refresh_timer.stop()
        win._stop_fetcher(wait=True)
        win.close()
        return out

    first = cells()
    assert first[1] == ("0.037", str(37 % 7))
    assert set(_entries()) == {LOSS, SEED}
    built = _entries()
    assert cells() == first
    assert _entries() == built
