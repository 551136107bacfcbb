"""Queues and workers as the Workers & Queues window and the agents use them (core.queues)."""
from __future__ import annotations

import os
import time

import pytest

from exptable_desktop.core import actions, queues
from exptable_desktop.core import states as st
from exptable_desktop.core.actions import ActionError
from exptable_desktop.core.recording import create_experiment
from exptable_desktop.store.schema import Experiment, QueueEntry, Worker


def _drafts(n: int, prefix: str = "exp") -> list[str]:
    return [create_experiment("queues", f"{prefix} {i}") for i in range(n)]


def _names(queue: str) -> list[str]:
    return [e.name for e in queues.queue_entries(queue)]


@pytest.mark.both_backends
def test_queue_list_counts_waits_and_next_entry(db):
    ids = _drafts(3)
    actions.enqueue(ids[:2], "gpu")
    actions.enqueue(ids[2:], "cpu")
    queues.create_queue("empty")
    later = time.time() + 60
    listed = {q.name: q for q in queues.list_queues(now=later)}
    assert list(listed) == ["cpu", "empty", "gpu"]
    assert (listed["gpu"].pending, listed["cpu"].pending, listed["empty"].pending) == (2, 1, 0)
    assert listed["gpu"].next_experiment_id == ids[0] and listed["gpu"].next_experiment_name == "exp 0"
    assert 59 < listed["gpu"].oldest_wait < 70
    assert listed["empty"].oldest_wait is None and listed["empty"].next_experiment_id is None
    entries = queues.queue_entries("gpu")
    assert [(e.index, e.experiment_id, e.status, e.project) for e in entries] == [
        (1, ids[0], st.PENDING, "queues"), (2, ids[1], st.PENDING, "queues")]
    with pytest.raises(ActionError, match="no queue named 'nope'"):
        queues.queue_entries("nope")


@pytest.mark.both_backends
def test_reorder_move_to_top_bottom_and_to_another_queue(db):
    ids = _drafts(5)
    actions.enqueue(ids, "q")
    queues.move_entry(ids[4], 0)
    assert _names("q") == ["exp 4", "exp 0", "exp 1", "exp 2", "exp 3"]
    queues.move_entry(ids[4], 99)  # clamped to the end
    assert _names("q") == ["exp 0", "exp 1", "exp 2", "exp 3", "exp 4"]
    moved = queues.move_entries([ids[3], ids[1]], 1)  # dragged together: they keep their queue order
    assert moved.succeeded == [ids[1], ids[3]]
    assert _names("q") == ["exp 0", "exp 1", "exp 3", "exp 2", "exp 4"]
    queues.move_entries([ids[0]], 0)
    queues.move_entries([ids[1]], 1)
    queues.move_entries([ids[2]], 2)
    assert _names("q") == ["exp 0", "exp 1", "exp 2", "exp 3", "exp 4"]
    queues.move_entry(ids[0], 2)
    assert _names("q") == ["exp 1", "exp 2", "exp 0", "exp 3", "exp 4"]
    result = queues.move_to_top([ids[4], ids[3]])
    assert result.succeeded == [ids[3], ids[4]]  # their own order is kept
    assert _names("q") == ["exp 3", "exp 4", "exp 1", "exp 2", "exp 0"]
    queues.move_to_bottom([ids[3]])
    assert _names("q") == ["exp 4", "exp 1", "exp 2", "exp 0", "exp 3"]
    actions.enqueue(_drafts(1, "other"), "other")
    moved = queues.move_to_queue([ids[1], ids[2]], "other")
    assert moved.succeeded == [ids[1], ids[2]]
    assert _names("q") == ["exp 4", "exp 0", "exp 3"]
    assert _names("other") == ["other 0", "exp 1", "exp 2"]
    assert Experiment.get_by_id(ids[1]).queue.name == "other"
    draft = _drafts(1, "draft")[0]
    skipped = queues.move_to_top([draft])
    assert skipped.skipped == {draft: "Experiment is Draft, not waiting in a queue"}


@pytest.mark.both_backends
def test_remove_dequeues_and_refuses_a_claimed_entry_naming_its_worker(db):
    ids = _drafts(3)
    actions.enqueue(ids, "q")
    worker = queues.register_worker("w1", ["q"])
    claim = queues.claim_next(worker, ["q"])
    assert claim.experiment_id == ids[0]
    result = queues.remove_entries([ids[0], ids[1], "missing"])
    assert result.succeeded == [ids[1]]
    assert result.skipped == {ids[0]: "Experiment is already running on worker w1", "missing": "No such experiment"}
    assert Experiment.get_by_id(ids[1]).status == st.DRAFT
    assert _names("q") == ["exp 2"]


@pytest.mark.both_backends
def test_create_rename_and_delete_only_empty_queues(db):
    assert queues.create_queue(" new ") == "new"
    with pytest.raises(ActionError, match="already exists"):
        queues.create_queue("new")
    with pytest.raises(ActionError, match="needs a name"):
        queues.create_queue("  ")
    actions.enqueue(_drafts(2), "busy")
    with pytest.raises(ActionError, match="already exists"):
        queues.rename_queue("new", "busy")
    assert queues.rename_queue("new", "renamed") == "renamed"
    with pytest.raises(ActionError, match="still holds 2 experiments"):
        queues.delete_queue("busy")
    queues.delete_queue("renamed")
    assert [q.name for q in queues.list_queues()] == ["busy"]
    with pytest.raises(ActionError, match="no queue named"):
        queues.delete_queue("renamed")


@pytest.mark.both_backends
def test_workers_register_beat_and_go_silent(db):
    first = queues.register_worker(None, ["a", "b"], host="box")
    second = queues.register_worker(None, ["b"], host="box")
    assert (first, second) == ("box:0", "box:1")
    with pytest.raises(ActionError, match="in use by a live agent"):
        queues.register_worker("box:0", ["a"], host="box")
    queues.worker_heartbeat(first, {"cpu_usage": 12.5, "memory_used": 1e9}, record_stat=True)
    queues.worker_heartbeat(first, {"cpu_usage": 30.0, "memory_used": 2e9}, record_stat=True)
    workers = {w.name: w for w in queues.list_workers()}
    assert set(workers) == {"box:0", "box:1"}
    assert workers["box:0"].queues == ["a", "b"] and workers["box:0"].resources["cpu_usage"] == 30.0
    assert [d["cpu_usage"] for _t, d in queues.worker_stats(first)] == [12.5, 30.0]
    assert queues.worker_stats(first, since=60, now=time.time() + 3600) == []
    assert queues.live_workers_for_queue("b") == ["box:0", "box:1"]
    assert queues.live_workers_for_queue("nope") == []
    # Silent for longer than the timeout: not live, and its name is free again.
    later = time.time() + queues.worker_timeout() + 1
    assert queues.live_workers_for_queue("b", now=later) == []
    assert [w.name for w in queues.list_workers(now=later)] == []
    assert [w.live for w in queues.list_workers(now=later, include_gone=True)] == [False, False]
    queues.set_worker_state(second, "stopped")
    assert queues.live_workers_for_queue("b") == ["box:0"]
    assert queues.register_worker(None, ["c"], host="box") == "box:1"  # a stopped worker's name is reused
    info = {q.name: q for q in queues.list_queues()}
    assert info["a"].workers == ["box:0"] and info["c"].workers == ["box:1"]


@pytest.mark.both_backends
def test_claim_takes_queues_in_the_order_given_and_marks_running(db):
    low = _drafts(2, "low")
    high = _drafts(1, "high")
    actions.enqueue(low, "low")
    actions.enqueue(high, "high")
    worker = queues.register_worker("w", ["high", "low"])
    assert queues.has_pending(["high"]) and not queues.has_pending(["nothing"])
    order = [queues.claim_next(worker, ["high", "low"]) for _ in range(4)]
    assert [c.experiment_id if c else None for c in order] == [high[0], low[0], low[1], None]
    assert [c.queue for c in order[:3]] == ["high", "low", "low"]
    exp = Experiment.get_by_id(high[0])
    assert (exp.status, exp.worker, exp.status_message) == (st.RUNNING, "w", "pulled by agent")
    assert exp.heartbeat == exp.status_changed  # what core.attach takes as "launched, not yet attached"
    assert QueueEntry.select().count() == 0
    assert Worker.get_by_id("w").current_experiment_id == low[1]


@pytest.mark.both_backends
def test_claim_drops_an_entry_whose_experiment_is_no_longer_pending(db):
    ids = _drafts(2)
    actions.enqueue(ids, "q")
    Experiment.update(status=st.COMPLETED).where(Experiment.id == ids[0]).execute()  # left behind by an old run
    claim = queues.claim_next(queues.register_worker("w", ["q"]), ["q"])
    assert claim.experiment_id == ids[1]
    assert QueueEntry.select().count() == 0 and Experiment.get_by_id(ids[0]).status == st.COMPLETED


@pytest.mark.pg
@pytest.mark.skipif(not os.environ.get("EXPTABLE_TEST_PG_URL"), reason="EXPTABLE_TEST_PG_URL not set")
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_postgresql_claims_skip_an_entry_another_claimer_holds(db, db_url):
    import psycopg2

    ids = _drafts(2)
    actions.enqueue(ids, "q")
    worker = queues.register_worker("w", ["q"])
    other = psycopg2.connect(db_url)  # another agent, in the middle of claiming the first entry
    try:
        with other.cursor() as cur:
            cur.execute("SELECT id FROM queue_entry WHERE experiment_id = %s FOR UPDATE", (ids[0],))
            started = time.monotonic()
            claim = queues.claim_next(worker, ["q"])
            assert time.monotonic() - started < 2.0  # not blocked behind the held row
        assert claim.experiment_id == ids[1]
    finally:
        other.rollback()
        other.close()
    assert queues.claim_next(worker, ["q"]).experiment_id == ids[0]
