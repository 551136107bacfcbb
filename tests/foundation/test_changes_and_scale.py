"""Every change moves last_update ("what changed since T" through an index); batch actions
cost a bounded number of queries; selections larger than SQLite's parameter limit work."""
from __future__ import annotations

import time

import pytest

from exptable_desktop.core import actions, editing, recording
from exptable_desktop.core import states as st
from exptable_desktop.store.db import is_sqlite, run_write
from exptable_desktop.store.schema import (
    DeletedExperiment,
    Experiment,
    ExperimentTag,
    HyperParam,
    Project,
    QueueEntry,
    new_id,
)
from foundation_support import QUEUE, make_experiment, row_of

OLD = 1000.0


def _age(ids):
    Experiment.update(last_update=OLD).where(Experiment.id.in_(list(ids))).execute()


def changed_since(t: float) -> set[str]:
    return {i for (i,) in Experiment.select(Experiment.id).where(Experiment.last_update > t).tuples()}


# Each change with the state it needs; every one must move last_update of exactly its experiment.
CHANGES = {
    "record_batch": ("in_progress", lambda i: recording.record_batch(i, scalars=[("a", "b", 1, 1.0, 1.0)])),
    "record_console": ("in_progress", lambda i: recording.record_batch(i, console=[(1.0, "info", "x")],
                                                                          heartbeat=False)),
    "set_status": ("in_progress", lambda i: recording.set_status(i, st.COMPLETED)),
    "set_runtime": ("in_progress", lambda i: recording.set_runtime(i, {"gpu": "A100"})),
    "update_execution": ("created", lambda i: editing.update_execution([i], branch="x")),
    "set_hyperparams": ("created", lambda i: editing.set_hyperparams([i], "Args", {"a": 1})),
    "delete_hyperparams": ("created", lambda i: editing.delete_hyperparams([i], "Args")),
    "set_configuration": ("created", lambda i: editing.set_configuration([i], "c", "v")),
    "delete_configuration": ("created", lambda i: editing.delete_configuration([i], "c")),
    "set_user_properties": ("completed", lambda i: editing.set_user_properties([i], {"p": 1})),
    "delete_user_properties": ("completed", lambda i: editing.delete_user_properties([i], ["p"])),
    "enqueue": ("created", lambda i: actions.enqueue([i], QUEUE)),
    "retry": ("failed", lambda i: actions.retry([i], QUEUE)),
    "dequeue": ("queued", lambda i: actions.dequeue([i])),
    "reset": ("completed", lambda i: actions.reset([i])),
    "abort": ("in_progress", lambda i: actions.abort([i])),
    "abort_stale": ("in_progress_stale", lambda i: actions.abort([i])),
    "publish": ("completed", lambda i: actions.publish([i])),
    "archive": ("in_progress", lambda i: actions.archive([i])),
    "move": ("completed", lambda i: actions.move([i], "Elsewhere")),
    "add_tags": ("completed", lambda i: actions.add_tags([i], ["t"])),
    "remove_tags": ("completed", lambda i: actions.remove_tags([i], ["base"])),
    "rename": ("published", lambda i: actions.rename([i], "renamed")),
    "set_description": ("published", lambda i: actions.set_description([i], "d")),
}


@pytest.mark.both_backends
@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_moves_last_update(sdb, change):
    state, apply = CHANGES[change]
    target = make_experiment(state)
    bystander = make_experiment(state)
    _age([target, bystander])
    t = time.time()
    time.sleep(0.002)
    apply(target)
    assert row_of(target)["last_update"] > t
    assert row_of(bystander)["last_update"] == OLD


@pytest.mark.both_backends
def test_changed_since_returns_exactly_the_changed(db):
    ids = [make_experiment("completed") for _ in range(8)]
    parent = make_experiment("in_progress", task_type="controller")
    child = make_experiment("queued", parent=parent)
    archived = make_experiment("completed", archived=True)
    _age(ids + [parent, child, archived])
    t = time.time()
    time.sleep(0.002)
    actions.add_tags(ids[:2], ["x"])
    actions.publish([ids[2]])
    actions.abort_children([parent])
    actions.delete([archived])
    actions.enqueue([ids[3]], QUEUE)  # refused: Completed; not a change
    clone = actions.clone([ids[4]]).created[ids[4]]
    assert changed_since(t) == {ids[0], ids[1], ids[2], child, clone}
    assert [d for (d,) in DeletedExperiment.select(DeletedExperiment.experiment_id)
            .where(DeletedExperiment.deleted_at > t).tuples()] == [archived]


@pytest.mark.both_backends
def test_last_update_is_indexed(db):
    indexes = [ix for ix in db.get_indexes("experiment") if ix.columns == ["last_update"]]
    assert indexes, db.get_indexes("experiment")
    assert [ix for ix in db.get_indexes("deleted_experiment") if ix.columns == ["deleted_at"]]
    if is_sqlite(db):
        plan = " ".join(str(r) for r in db.execute_sql(
            "EXPLAIN QUERY PLAN SELECT id FROM experiment WHERE last_update > ?", (1.0,)).fetchall())
        assert indexes[0].name in plan


# ---- Query counts: batch actions do not go per id --------------------------------------------

N = 500


def bulk_experiments(status, *, archived=False, task_type="training", parent_of=None, n=N):
    project = Project.get_or_none(Project.name == "Bulk") or Project.create(name="Bulk", created=1.0)
    now = time.time()
    rows = [{"id": new_id(), "name": f"e{k}", "type": task_type, "status": status, "project": project.id,
             "created": now, "last_update": now, "archived": archived,
             "parent": parent_of[k] if parent_of else None, "heartbeat": now if status == st.RUNNING else None}
            for k in range(n)]
    run_write(lambda: [Experiment.insert_many(rows[s:s + 500]).execute() for s in range(0, len(rows), 500)])
    return [r["id"] for r in rows]


def _queued(n=N):
    ids = bulk_experiments(st.DRAFT, n=n)
    actions.enqueue(ids, QUEUE)
    return ids


SETUPS = {
    "enqueue": (lambda: bulk_experiments(st.DRAFT), lambda ids: actions.enqueue(ids, QUEUE)),
    "retry": (lambda: bulk_experiments(st.FAILED), lambda ids: actions.retry(ids, QUEUE)),
    "dequeue": (_queued, actions.dequeue),
    "abort_pending": (_queued, actions.abort),
    "abort_running": (lambda: bulk_experiments(st.RUNNING), actions.abort),
    "abort_children": (lambda: bulk_experiments(st.RUNNING, task_type="controller"), None),
    "reset": (lambda: bulk_experiments(st.COMPLETED), actions.reset),
    "publish": (lambda: bulk_experiments(st.COMPLETED), actions.publish),
    "archive_pending": (_queued, actions.archive),
    "archive_running": (lambda: bulk_experiments(st.RUNNING), actions.archive),
    "restore": (lambda: bulk_experiments(st.COMPLETED, archived=True), actions.restore),
    "delete": (lambda: bulk_experiments(st.COMPLETED, archived=True), actions.delete),
    "clone": (lambda: bulk_experiments(st.COMPLETED), actions.clone),
    "move": (lambda: bulk_experiments(st.COMPLETED), lambda ids: actions.move(ids, "Bulk/Moved")),
    "add_tags": (lambda: bulk_experiments(st.COMPLETED), lambda ids: actions.add_tags(ids, ["a", "b"])),
    "remove_tags": (lambda: bulk_experiments(st.COMPLETED), lambda ids: actions.remove_tags(ids, ["a"])),
    "rename": (lambda: bulk_experiments(st.COMPLETED), lambda ids: actions.rename(ids, "same")),
    "set_description": (lambda: bulk_experiments(st.COMPLETED), lambda ids: actions.set_description(ids, "d")),
    "update_execution": (lambda: bulk_experiments(st.DRAFT), lambda ids: editing.update_execution(ids, binary="py")),
    "set_hyperparams": (lambda: bulk_experiments(st.DRAFT),
                        lambda ids: editing.set_hyperparams(ids, "Args", {"a": 1, "b": 2})),
    "set_configuration": (lambda: bulk_experiments(st.DRAFT),
                          lambda ids: editing.set_configuration(ids, "cfg", "x")),
    "delete_configuration": (lambda: bulk_experiments(st.DRAFT),
                             lambda ids: editing.delete_configuration(ids, "cfg")),
}
# A few statements per table touched; nothing that grows with the number of ids.
MAX_QUERIES = 25


@pytest.mark.both_backends
@pytest.mark.parametrize("action", list(SETUPS))
def test_batch_action_query_count_is_bounded(db, count_queries, action):
    setup, apply = SETUPS[action]
    ids = setup()
    if action == "abort_children":
        children = bulk_experiments(st.PENDING, parent_of=ids)
        apply = actions.abort_children
    with count_queries() as queries:
        result = apply(ids)
    assert len(result.succeeded) == N
    assert len(queries) <= MAX_QUERIES, f"{action}: {len(queries)} statements for {N} ids"
    if action == "abort_children":
        assert set(result.succeeded) == set(children)


def test_selections_beyond_sqlites_parameter_limit(db):
    """"All matching filter" can select more ids than SQLite allows parameters in one statement
    (32766); PostgreSQL through psycopg2 has no such limit, so this runs on SQLite only."""
    n = 33_000
    ids = bulk_experiments(st.COMPLETED, n=n)
    tagged = actions.add_tags(ids, ["many"])
    assert len(tagged.succeeded) == n
    assert ExperimentTag.select().count() == n
    assert len(editing.set_user_properties(ids, {"batch": 1}).succeeded) == n
    assert HyperParam.select().count() == n
    assert len(actions.archive(ids).succeeded) == n
    deleted = actions.delete(ids + ["missing"])
    assert len(deleted.succeeded) == n and deleted.skipped == {"missing": "No such experiment"}
    assert Experiment.select().count() == 0 and HyperParam.select().count() == 0
    assert DeletedExperiment.select().count() == n
    assert QueueEntry.select().count() == 0
