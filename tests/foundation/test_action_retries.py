"""Actions that run_write had to run again, and queue entries left behind by older versions."""
from __future__ import annotations

import os
import threading
import time

import pytest

from exptable_desktop.core import actions, recording
from exptable_desktop.core import states as st
from exptable_desktop.store.schema import Experiment, QueueEntry, database_proxy
from foundation_support import make_experiment


def _drafts(n: int) -> list[str]:
    return [recording.create_experiment("retries", f"draft {i}") for i in range(n)]


def _descriptions(ids) -> set[str]:
    return {e.description for e in Experiment.select().where(Experiment.id.in_(ids))}


@pytest.mark.parametrize("db_url", [pytest.param("postgresql", marks=[
    pytest.mark.pg, pytest.mark.skipif(not os.environ.get("EXPTABLE_TEST_PG_URL"),
                                       reason="EXPTABLE_TEST_PG_URL not set")])], indirect=True)
@pytest.mark.parametrize("action, check", [
    (lambda ids: actions.set_description(ids, "after a deadlock"),
     lambda ids: _descriptions(ids) == {"after a deadlock"}),
    (lambda ids: actions.enqueue(ids, "default"),
     lambda ids: QueueEntry.select().where(QueueEntry.experiment.in_(ids)).count() == len(ids)),
    (lambda ids: actions.add_tags(ids, ["retried"]), None),
], ids=["set_description", "enqueue", "add_tags"])
def test_a_generator_of_ids_survives_a_retry_after_a_deadlock(db, db_url, action, check):
    """A lock conflict inside the action's transaction, after it has read its ids: the retry
    must see them again. (On SQLite a conflict only happens at BEGIN IMMEDIATE, before the
    ids are read; PostgreSQL can cancel a transaction midway, as here.)"""
    import psycopg2
    import psycopg2.errors

    from exptable_desktop.store.db import _PG_WRITE_LOCK

    ids = _drafts(3)
    other = psycopg2.connect(db_url)
    watcher = psycopg2.connect(db_url)
    watcher.autocommit = True
    try:
        # This side never checks for the deadlock first, so the action's transaction is the one
        # cancelled even on a busy machine (the setting needs a superuser; without, it is a race).
        other.cursor().execute("SET deadlock_timeout = '60s'")
        other.commit()
    except psycopg2.errors.InsufficientPrivilege:
        other.rollback()
    result = []
    try:
        # Another program holds a row lock the action needs...
        other.cursor().execute("UPDATE experiment SET name = name WHERE id = %s", (ids[0],))
        worker = threading.Thread(target=lambda: (result.append(action(exp_id for exp_id in ids)),
                                                  database_proxy.obj.close()))
        worker.start()
        deadline = time.time() + 10
        with watcher.cursor() as cur:
            while time.time() < deadline:
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND datname = current_database()")
                if cur.fetchone()[0]:
                    break
                time.sleep(0.01)
        # ...and now waits for the write lock the action holds: PostgreSQL breaks the cycle by
        # cancelling the transaction that waited first, the action's, which run_write retries.
        other.cursor().execute("SELECT pg_advisory_xact_lock(%s)", (_PG_WRITE_LOCK,))
        other.commit()
        worker.join(30)
    finally:
        other.close()
        watcher.close()
    assert result and result[0].succeeded == ids
    assert check is None or check(ids)


@pytest.mark.both_backends
@pytest.mark.parametrize("state, action", [("failed", "retry"), ("stopped", "enqueue")])
def test_enqueue_over_a_queue_entry_left_behind(db, state, action):
    exp_id = make_experiment(state)
    old_queue = actions.get_or_create_queue("old")
    # What older versions left when a script attached to a queued experiment.
    QueueEntry.create(queue=old_queue.id, experiment=exp_id, position=1.0, added=time.time())

    result = getattr(actions, action)([exp_id], "gpu")

    assert result.succeeded == [exp_id]
    entries = list(QueueEntry.select().where(QueueEntry.experiment == exp_id))
    assert [e.queue.name for e in entries] == ["gpu"]
    assert Experiment.get_by_id(exp_id).status == st.PENDING
