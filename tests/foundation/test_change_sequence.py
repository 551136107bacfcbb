"""Change detection by a sequence number the database hands out in commit order.

A refresh used to ask for rows whose ``last_update`` (the writer's clock at the start of its
write) was at most 2 s older than its previous tick: a writer whose clock lagged, or whose
transaction stayed open longer than that, went unseen by every other window for good.
"""
from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
import time

import pytest

from exptable_desktop.core import actions
from exptable_desktop.core.recording import create_experiment
from exptable_desktop.store import bulk, close_database, migrations, open_database
from exptable_desktop.store.db import is_sqlite, make_database, write_transaction
from exptable_desktop.store.schema import (
    DeletedExperiment,
    Experiment,
    Project,
    database_proxy,
    new_id,
)
from foundation_support import make_experiment
from pg_support import drop_pg_database, new_pg_database
from test_changes_and_scale import CHANGES

V2_ID = "b" * 32


def changed_ids(after: int) -> set[str]:
    return {row[0] for row in bulk.changed_since(after)}


# ---- Migration ------------------------------------------------------------------------------

def build_v2(url: str) -> None:
    """A database as version 2 of the program left it: one experiment, one tombstone."""
    db = make_database(url)
    db.connect()
    database_proxy.initialize(db)
    migrations.apply_steps(db, 0, 2)
    with db.atomic():
        project = Project.create(name="Old", created=1.0)
        db.execute_sql(
            'INSERT INTO experiment (id, name, type, status, project_id, "user", created, last_update, description,'
            " status_message, status_reason, archived, development, runtime)"
            " VALUES (%s, 'v2 run', 'training', 'completed', %s, 'old', 1.0, 2.0, '', '', '', %s, %s, '{}')"
            .replace("%s", "?" if url.startswith("sqlite") else "%s"),
            (V2_ID, project.id, False, False))
        db.execute_sql("INSERT INTO deleted_experiment (experiment_id, deleted_at) VALUES ('gone', 3.0)")
    assert migrations.read_version(db) == 2
    assert "change_seq" not in [c.name for c in db.get_columns("experiment")]
    assert not db.table_exists("change_counter")
    db.close()


def schema_of(db) -> dict:
    """What the change sequence consists of in ``db``: columns, indexes, triggers."""
    if is_sqlite(db):
        triggers = sorted(n for (n,) in db.execute_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'"))
    else:
        triggers = sorted(n for (n,) in db.execute_sql("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"))
    return {
        "columns": {t: [(c.name, c.data_type.lower(), c.null, c.default) for c in db.get_columns(t)]
                    for t in ("experiment", "deleted_experiment", "change_counter")},
        "indexes": {t: sorted((i.name, tuple(i.columns), i.unique) for i in db.get_indexes(t))
                    for t in ("experiment", "deleted_experiment")},
        "triggers": triggers,
    }


@pytest.mark.both_backends
def test_a_version_2_database_is_migrated_to_the_change_sequence(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPTABLE_FILES", str(tmp_path / "files"))
    build_v2(db_url)
    db = open_database(db_url)
    try:
        assert migrations.read_version(db) == migrations.CURRENT_VERSION >= 3
        migrated = schema_of(db)
        # The rows from before count as seen: a reader starts at the counter, which starts at 0.
        assert bulk.current_change_seq() == 0
        assert Experiment.get_by_id(V2_ID).change_seq == 0
        assert bulk.changed_since(0) == [] and bulk.deleted_since(0) == []
        # The triggers work on the old rows.
        Experiment.update(name="v2 run, renamed").where(Experiment.id == V2_ID).execute()
        DeletedExperiment.create(experiment_id="gone too", deleted_at=4.0)
        assert changed_ids(0) == {V2_ID}
        assert bulk.deleted_since(0) == ["gone too"]
        assert bulk.current_change_seq() >= Experiment.get_by_id(V2_ID).change_seq > 0
    finally:
        close_database()
    if db_url.startswith("sqlite:///"):
        assert (tmp_path / "exptable.db.v2.bak").exists()
        fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        fresh_url = new_pg_database()
    try:
        fresh = open_database(fresh_url)
        assert schema_of(fresh) == migrated  # a migrated database is one made new
        assert migrated["triggers"], migrated
        close_database()
    finally:
        if not fresh_url.startswith("sqlite"):
            drop_pg_database(fresh_url)


@pytest.mark.both_backends
def test_a_refresh_finds_changes_through_an_index(db):
    for table in ("experiment", "deleted_experiment"):
        assert [ix for ix in db.get_indexes(table) if ix.columns == ["change_seq"]], db.get_indexes(table)
    if is_sqlite(db):
        plan = " ".join(str(r) for r in db.execute_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM experiment WHERE change_seq > ?", (1,)).fetchall())
        assert "experiment_change_seq" in plan


# ---- Every write is stamped -------------------------------------------------------------------

@pytest.mark.both_backends
@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_is_stamped_after_the_cursor(sdb, change):
    state, apply = CHANGES[change]
    target = make_experiment(state)
    bystander = make_experiment(state)
    cursor = bulk.current_change_seq()
    apply(target)
    seen = changed_ids(cursor)
    assert target in seen and bystander not in seen
    assert bulk.current_change_seq() >= Experiment.get_by_id(target).change_seq > cursor


@pytest.mark.both_backends
def test_writes_that_leave_last_update_or_change_seq_alone_are_stamped(sdb):
    quiet, stale, gone = (make_experiment("completed") for _ in range(3))
    actions.archive([gone])
    stale_copy = Experiment.get_by_id(stale)  # holds the row's change_seq of now
    Experiment.update(name="touched elsewhere").where(Experiment.id == stale).execute()
    cursor = bulk.current_change_seq()
    # A write that does not move last_update, as a tool or an older program might make.
    Experiment.update(description="no last_update").where(Experiment.id == quiet).execute()
    # peewee's save() writes every column back, change_seq too, from an out-of-date copy.
    stale_copy.description = "saved from a stale copy"
    stale_copy.save()
    # Writers cannot set the number themselves.
    Experiment.update(change_seq=0).where(Experiment.id == quiet).execute()
    actions.delete([gone])
    assert changed_ids(cursor) == {quiet, stale}
    assert bulk.deleted_since(cursor) == [gone]
    assert Experiment.get_by_id(quiet).change_seq > cursor


@pytest.mark.both_backends
def test_numbers_follow_commit_order_not_start_order(db):
    """A transaction that writes first but commits last gets the later number, and no reader passes it.

    Plain transactions, not write_transaction: on PostgreSQL that one's advisory lock would
    serialise the two writers before the counter's row lock is put to the test."""
    project = Project.create(name="p", created=1.0)
    first_wrote, release = threading.Event(), threading.Event()
    slow_id, fast_id = new_id(), new_id()

    def write(exp_id, name):
        Experiment.insert(id=exp_id, name=name, project=project.id, created=1.0, last_update=1.0).execute()

    def slow_writer():
        try:
            with database_proxy.obj.atomic():
                write(slow_id, "slow")
                first_wrote.set()
                release.wait(10)
        finally:
            database_proxy.obj.close()  # this thread's connection

    def fast_writer():
        try:
            with database_proxy.obj.atomic():
                write(fast_id, "fast")
        finally:
            database_proxy.obj.close()

    cursor = bulk.current_change_seq()
    slow = threading.Thread(target=slow_writer)
    slow.start()
    assert first_wrote.wait(10)
    fast = threading.Thread(target=fast_writer)
    fast.start()
    time.sleep(0.2)
    # Nothing committed yet: the counter a reader sees has not moved past the open transaction.
    assert bulk.current_change_seq() == cursor and changed_ids(cursor) == set()
    release.set()
    slow.join(10)
    fast.join(10)
    seq = {row.id: row.change_seq for row in Experiment.select(Experiment.id, Experiment.change_seq)}
    assert cursor < seq[slow_id] < seq[fast_id] <= bulk.current_change_seq()


# ---- The other window sees every row --------------------------------------------------------------

@pytest.fixture
def other_window(qtbot, db, db_url):
    """A main window on the test's database, refreshed by hand (``refresh_now``)."""
    from exptable_desktop.ui import create_main_window

    win = create_main_window(db_url)
    qtbot.addWidget(win)
    win.auto_refresh_toggle.setChecked(False)
    yield win
    win._stop_loader()
    win.refresh_timer.stop()
    win._stop_fetcher(wait=True)


def shown_names(win) -> dict[str, str]:
    table = win.model.table
    return {exp_id: table.text["name"][table.id_to_slot[exp_id]] for exp_id in win.visible_ids()}


SLOW_CLOCK_CLIENT = textwrap.dedent("""
    import sys, time
    _real_time = time.time
    time.time = lambda: _real_time() - 3.0  # this computer's clock is 3 s behind
    from exptable_desktop.core import actions
    from exptable_desktop.core.recording import create_experiment
    from exptable_desktop.store import open_database
    open_database()
    print("ready", flush=True)
    sys.stdin.readline()
    new = create_experiment("team", "from a slow clock")
    actions.rename([sys.argv[1]], "renamed on a slow clock")
    actions.archive([sys.argv[2]])
    actions.delete([sys.argv[3]])
    print(new, flush=True)
""")


@pytest.mark.both_backends
def test_a_team_member_with_a_slow_clock_is_seen(other_window, script_env):
    renamed = create_experiment("team", "to rename")
    archived = create_experiment("team", "to archive")
    deleted = create_experiment("team", "to delete")
    actions.archive([deleted])
    win = other_window
    client = subprocess.Popen([sys.executable, "-c", SLOW_CLOCK_CLIENT, renamed, archived, deleted],
                              env=script_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert client.stdout.readline().strip() == "ready"
        win.refresh_now()
        cursor = win._since
        client.stdin.write("go\n")
        client.stdin.flush()
        new = client.stdout.readline().strip()
        assert client.wait(30) == 0
    finally:
        if client.poll() is None:
            client.kill()
    assert Experiment.get_by_id(new).last_update < time.time() - 2.5  # the writes carry the slow clock
    win.refresh_now()
    names = shown_names(win)
    assert names.get(new) == "from a slow clock"
    assert names.get(renamed) == "renamed on a slow clock"
    assert archived not in names
    assert bulk.deleted_since(cursor) == [deleted]


def _hold_a_write_open(project_id: int, exp_id: str, written: threading.Event, release: threading.Event,
                       row_first: bool) -> None:
    """A write transaction that stamps its row with its clock at the start and commits after ``release``:
    with ``row_first`` it writes the row at once (and holds the write lock), else just before committing."""
    try:
        with write_transaction() if row_first else database_proxy.obj.atomic():
            started = time.time()

            def write():
                Experiment.insert(id=exp_id, name="long transaction", project=project_id, created=started,
                                  last_update=started).execute()
            if row_first:
                write()
            written.set()
            release.wait(20)
            if not row_first:
                write()
    finally:
        database_proxy.obj.close()  # this thread's connection


@pytest.mark.slow
@pytest.mark.both_backends
@pytest.mark.parametrize("row_first", [True, False], ids=["holding-the-lock", "writing-at-the-end"])
def test_a_write_transaction_open_longer_than_a_tick_is_seen(other_window, row_first):
    win = other_window
    project = Project.get_or_none(Project.name == "team") or Project.create(name="team", created=1.0)
    long_id = new_id()
    other: list[str] = []
    written, release = threading.Event(), threading.Event()
    started = time.time()
    holder = threading.Thread(target=_hold_a_write_open, args=(project.id, long_id, written, release, row_first))
    holder.start()

    def another_writer():
        try:
            other.append(create_experiment("team", "committed meanwhile"))
        finally:
            database_proxy.obj.close()
    try:
        assert written.wait(10)
        # While the long transaction is open another writer commits (or, behind the write lock, waits).
        meanwhile = threading.Thread(target=another_writer)
        meanwhile.start()
        if not row_first:
            meanwhile.join(10)
        while time.time() < started + 2.3:  # longer than the old 2 s overlap of refresh ticks
            time.sleep(0.05)
        win.refresh_now()
    finally:
        release.set()
        holder.join(20)
    meanwhile.join(20)
    win.refresh_now()
    names = shown_names(win)
    assert names.get(long_id) == "long transaction"
    assert names.get(other[0]) == "committed meanwhile"


# ---- Iterations past 2**31 (schema 4) ----------------------------------------------------------

ITERATION_COLUMNS = [("experiment", "last_iteration"), ("metric_summary", "min_iteration"),
                     ("scalar_chunk", "last_iteration"), ("plot", "iteration"), ("debug_sample", "iteration")]


@pytest.mark.both_backends
def test_a_version_3_database_keeps_iterations_up_to_int64(db_url, tmp_path, monkeypatch):
    from exptable_desktop.core import recording
    from exptable_desktop.store.series import read_series

    monkeypatch.setenv("EXPTABLE_FILES", str(tmp_path / "files"))
    db = make_database(db_url)
    db.connect()
    database_proxy.initialize(db)
    migrations.apply_steps(db, 0, 3)
    db.close()
    db = open_database(db_url)
    try:
        assert migrations.read_version(db) == migrations.CURRENT_VERSION
        if not is_sqlite(db):
            types = {(t, c): next(col.data_type for col in db.get_columns(t) if col.name == c)
                     for t, c in ITERATION_COLUMNS}
            assert set(types.values()) == {"bigint"}, types
        big = 2 ** 62 + 7
        exp = create_experiment("Big", "long run")
        recording.record_batch(exp, scalars={("loss", "train"): ([3, big], [1.0, 0.5], [1.0, 2.0])},
                               plots=[{"metric": "p", "variant": "v", "iteration": big, "kind": "table",
                                       "data": "{}"}])
        assert Experiment.get_by_id(exp).last_iteration == big
        assert list(read_series(exp, "loss", "train").iterations) == [3, big]
    finally:
        close_database()
