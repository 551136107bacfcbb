"""Which PostgreSQL errors a write retries: the SQLSTATE decides (serialization failure 40001,
deadlock 40P01, lock not available 55P03), never the words of a message, which the server may
translate and which a program's own errors may happen to contain."""
from __future__ import annotations

import os
import threading
import time

import pytest

from exptable_desktop.core import actions, queues, recording
from exptable_desktop.store import db as store_db
from exptable_desktop.store.db import _PG_WRITE_LOCK, run_write
from exptable_desktop.store.schema import Experiment, database_proxy

pytestmark = [
    pytest.mark.pg,
    pytest.mark.skipif(not os.environ.get("EXPTABLE_TEST_PG_URL"), reason="EXPTABLE_TEST_PG_URL not set"),
    pytest.mark.parametrize("db_url", ["postgresql"], indirect=True),
]


@pytest.fixture
def judged(monkeypatch):
    """The errors the retry loops asked ``_is_lock_error`` about, with its answers."""
    seen: list[tuple[BaseException, bool]] = []
    real = store_db._is_lock_error

    def spy(exc):
        answer = real(exc)
        seen.append((exc, answer))
        return answer
    monkeypatch.setattr(store_db, "_is_lock_error", spy)
    return seen


def _server_error(sql: str) -> BaseException:
    """The exception the server's answer to ``sql`` raises through peewee, as run_write would see it."""
    db = database_proxy.obj
    try:
        with db.atomic():
            db.execute_sql(sql)
    except Exception as exc:
        return exc
    raise AssertionError(f"{sql!r} did not fail")


def _wait_for_a_lock_waiter(watcher, timeout: float = 10.0) -> None:
    deadline = time.time() + timeout
    with watcher.cursor() as cur:
        while time.time() < deadline:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()")
            if cur.fetchone()[0]:
                return
            time.sleep(0.005)
    raise AssertionError("nobody waited for a lock")


def test_the_sqlstate_decides_not_the_words(db):
    # Deadlock, in words that say nothing of it (a server with lc_messages in another language).
    translated = _server_error("DO $$ BEGIN RAISE EXCEPTION 'Verklemmung entdeckt' "
                               "USING ERRCODE = 'deadlock_detected'; END $$")
    assert store_db._is_lock_error(translated)
    assert store_db._is_lock_error(_server_error(
        "DO $$ BEGIN RAISE EXCEPTION 'annulation à cause du délai' USING ERRCODE = 'lock_not_available'; END $$"))
    assert store_db._is_lock_error(_server_error(
        "DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = 'serialization_failure'; END $$"))
    # A program's own error that mentions a lock is not one: retrying it would only repeat it.
    assert not store_db._is_lock_error(_server_error(
        "DO $$ BEGIN RAISE EXCEPTION 'the ledger is locked and busy until Monday'; END $$"))
    assert not store_db._is_lock_error(_server_error("SELECT 1 / 0"))


@pytest.mark.parametrize("write", ["run_write", "claim_next"])
def test_a_lock_timeout_is_retried_until_the_lock_is_free(db, db_url, judged, write):
    """A server (or role) with ``lock_timeout`` set cancels a write that waits longer for ExpTable's
    write lock than that: the write is tried again, as with any lock conflict."""
    import psycopg2

    exp_id = recording.create_experiment("locks", "waiting")
    actions.enqueue([exp_id], "q")
    queues.register_worker("w", ["q"])
    database_proxy.obj.execute_sql("SET lock_timeout = '100ms'")  # this connection only
    holder = psycopg2.connect(db_url)
    watcher = psycopg2.connect(db_url)
    watcher.autocommit = True

    def release_later():
        _wait_for_a_lock_waiter(watcher)
        time.sleep(0.4)  # several lock timeouts go by
        holder.commit()
    releaser = threading.Thread(target=release_later)
    try:
        holder.cursor().execute("SELECT pg_advisory_xact_lock(%s)", (_PG_WRITE_LOCK,))  # another writer, slow
        releaser.start()
        if write == "run_write":
            run_write(lambda: Experiment.update(description="written after the timeouts")
                      .where(Experiment.id == exp_id).execute())
            assert Experiment.get_by_id(exp_id).description == "written after the timeouts"
        else:
            claim = queues.claim_next("w", ["q"])
            assert claim is not None and claim.experiment_id == exp_id
    finally:
        releaser.join(15)
        holder.close()
        watcher.close()
    timeouts = [answer for exc, answer in judged if store_db._sqlstate(exc) == "55P03"]
    assert timeouts and all(timeouts)


def test_a_real_deadlock_between_two_connections_is_retried(db, db_url, judged):
    import psycopg2

    exp_id = recording.create_experiment("locks", "contended")
    other = psycopg2.connect(db_url)
    watcher = psycopg2.connect(db_url)
    watcher.autocommit = True
    # This side never checks for the deadlock first, so the write's transaction is the one cancelled.
    other.cursor().execute("SET deadlock_timeout = '60s'")
    other.commit()
    done = []
    try:
        # The other connection holds the experiment's row...
        other.cursor().execute("UPDATE experiment SET name = name WHERE id = %s", (exp_id,))
        writer = threading.Thread(target=lambda: (done.append(run_write(
            lambda: Experiment.update(description="after the deadlock").where(Experiment.id == exp_id).execute())),
            database_proxy.obj.close()))
        writer.start()
        _wait_for_a_lock_waiter(watcher)
        # ...and now asks for the write lock the waiting write holds: a cycle the server breaks.
        other.cursor().execute("SELECT pg_advisory_xact_lock(%s)", (_PG_WRITE_LOCK,))
        other.commit()
        writer.join(30)
    finally:
        other.close()
        watcher.close()
    assert done == [1]
    assert Experiment.get_by_id(exp_id).description == "after the deadlock"
    deadlocks = [answer for exc, answer in judged if store_db._sqlstate(exc) == "40P01"]
    assert deadlocks == [True]


def test_the_recorder_keeps_what_postgresql_refuses_for_now_and_drops_what_it_refuses_for_good(db):
    """The SDK's writer retries a batch only when the same write may succeed later."""
    from exptable_desktop.sdk.reporter import is_transient

    lock_wait = _server_error("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '55P03', MESSAGE = 'x'; END $$")
    deadlock = _server_error("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '40P01', MESSAGE = 'x'; END $$")
    shutdown = _server_error("DO $$ BEGIN RAISE EXCEPTION USING ERRCODE = '57P01', MESSAGE = 'x'; END $$")
    nul_text = _server_error("SELECT E'a\\\\x00b'::text || chr(0)")
    out_of_range = _server_error("SELECT 2147483648::integer")
    assert [is_transient(e) for e in (lock_wait, deadlock, shutdown)] == [True, True, True]
    assert [is_transient(e) for e in (nul_text, out_of_range)] == [False, False]
