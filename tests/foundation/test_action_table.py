"""Every action against every state, archived or not (feature inventory 1.3, 2.2, 2.3).

The expected table below is written out by hand from the feature inventory
and its corrections; it is deliberately not computed from ``actions.why_not``.
"""
from __future__ import annotations

import time

import pytest

from exptable_desktop.core import actions
from exptable_desktop.core import states as st
from exptable_desktop.core.projects import find_project
from exptable_desktop.core.queries import tags_of
from exptable_desktop.store.schema import DeletedExperiment, Experiment, Project, Queue, QueueEntry
from foundation_support import QUEUE, STATES, STATUS_OF, make_experiment, owned_counts, row_of

# Cells: "-" skipped (nothing changes); "=" done, status unchanged; "gone" done,
# experiment removed; "stopping" done, still Running but asked to stop;
# any other word is the status the experiment is left in.
TABLE = """
action           archived created queued  q<stop  q<fail  running r-stale completed closed    stopped   failed    publishing published
enqueue          no       queued  -       -       -       -       -       -         -         queued    -         -          -
enqueue          yes      -       -       -       -       -       -       -         -         -         -         -          -
retry            no       -       -       -       -       -       -       -         -         -         queued    -          -
retry            yes      -       -       -       -       -       -       -         -         -         -         -          -
dequeue          no       -       created stopped failed  -       -       -         -         -         -         -          -
dequeue          yes      -       created stopped failed  -       -       -         -         -         -         -          -
reset            no       -       created created created created created created   created   created   created   -          -
reset            yes      -       created created created created created created   created   created   created   -          -
abort            no       -       stopped stopped stopped stopping stopped -        -         -         -         -          -
abort            yes      -       stopped stopped stopped stopping stopped -        -         -         -         -          -
abort_children   no       -       -       -       -       -       -       -         -         -         -         -          -
abort_children   yes      -       -       -       -       -       -       -         -         -         -         -          -
publish          no       -       -       -       -       -       -       published published published published -          -
publish          yes      -       -       -       -       -       -       published published published published -          -
archive          no       =       created stopped failed  stopped stopped =         =         =         =         =          =
archive          yes      -       -       -       -       -       -       -         -         -         -         -          -
restore          no       -       -       -       -       -       -       -         -         -         -         -          -
restore          yes      =       =       =       =       =       =       =         =         =         =         =          =
delete           no       -       -       -       -       -       -       -         -         -         -         -          -
delete           yes      gone    gone    gone    gone    gone    gone    gone      gone      gone      gone      gone       gone
clone            no       =       =       =       =       =       =       =         =         =         =         =          =
clone            yes      =       =       =       =       =       =       =         =         =         =         =          =
move             no       =       =       =       =       =       =       =         =         =         =         =          =
move             yes      =       =       =       =       =       =       =         =         =         =         =          =
add_tags         no       =       =       =       =       =       =       =         =         =         =         =          =
add_tags         yes      =       =       =       =       =       =       =         =         =         =         =          =
remove_tags      no       =       =       =       =       =       =       =         =         =         =         =          =
remove_tags      yes      =       =       =       =       =       =       =         =         =         =         =          =
rename           no       =       =       =       =       =       =       =         =         =         =         =          =
rename           yes      =       =       =       =       =       =       =         =         =         =         =          =
set_description  no       =       =       =       =       =       =       =         =         =         =         =          =
set_description  yes      =       =       =       =       =       =       =         =         =         =         =          =
"""

# What a skip reason must mention. By default: the status label ("Experiment is Published").
REASON_FRAGMENTS = {
    ("enqueue", True): "archived", ("retry", True): "archived", ("archive", True): "already archived",
    ("restore", False): "not archived", ("delete", False): "archived",
    ("abort_children", False): "controller", ("abort_children", True): "controller",
}


def _parse(table: str) -> dict[tuple[str, bool], dict[str, str]]:
    lines = [line.split() for line in table.strip().splitlines()]
    header, rows = lines[0], lines[1:]
    assert len(header) == 2 + len(STATES)
    parsed = {}
    for row in rows:
        action, archived, cells = row[0], row[1] == "yes", row[2:]
        assert len(cells) == len(STATES), row
        parsed[(action, archived)] = dict(zip(STATES, cells))
    return parsed


EXPECTED = _parse(TABLE)
CELLS = [pytest.param(action, archived, state, cell, id=f"{action}-{'archived' if archived else 'active'}-{state}")
         for (action, archived), row in EXPECTED.items() for state, cell in row.items()]


def test_table_covers_every_action_and_status():
    assert {a for a, _ in EXPECTED} == set(actions.ACTIONS)
    assert len(EXPECTED) == 2 * len(actions.ACTIONS)
    assert {STATUS_OF[s] for s in STATES} == set(st.ALL_STATUSES)


MOVE_TARGET = "Moved/Here"


def run_action(action: str, ids: list[str]) -> actions.ActionResult:
    if action in ("enqueue", "retry"):
        return getattr(actions, action)(ids, QUEUE)
    if action == "move":
        return actions.move(ids, MOVE_TARGET)
    if action == "add_tags":
        return actions.add_tags(ids, ["added"])
    if action == "remove_tags":
        return actions.remove_tags(ids, ["base"])
    if action == "rename":
        return actions.rename(ids, "Renamed experiment")
    if action == "set_description":
        return actions.set_description(ids, "described")
    return getattr(actions, action)(ids)


def expected_reason(action: str, archived: bool, state: str) -> str:
    return REASON_FRAGMENTS.get((action, archived), st.status_label(STATUS_OF[state]))


def check_skipped(exp_id, result, action, archived, state, before, owned_before):
    assert exp_id not in result.succeeded
    reason = result.skipped[exp_id]
    assert expected_reason(action, archived, state).lower() in reason.lower(), reason
    assert row_of(exp_id) == before, "a skipped experiment must not change at all"
    assert owned_counts(exp_id) == owned_before


def check_done(exp_id, result, action, archived, state, cell, before, started_at):
    assert exp_id in result.succeeded and exp_id not in result.skipped
    if cell == "gone":
        assert row_of(exp_id) is None
        assert owned_counts(exp_id)["Experiment"] == 0
        assert DeletedExperiment.select().where(DeletedExperiment.experiment_id == exp_id).count() == 1
        return
    after = row_of(exp_id)
    if action == "clone":
        assert after == before, "cloning leaves the original as it was"
        new = row_of(result.created[exp_id])
        assert new["status"] == st.DRAFT and not new["archived"] and new["queue"] is None
        assert new["name"] == f"Clone Of {before['name']}"
        return
    if cell == "stopping":
        assert after["status"] == st.RUNNING and after["status_message"] == "stopping"
    elif cell == "=":
        assert after["status"] == before["status"]
    else:
        assert after["status"] == cell
    assert after["last_update"] >= started_at > before["last_update"]
    assert after["archived"] == {"archive": True, "restore": False}.get(action, archived)

    in_queue = QueueEntry.select().where(QueueEntry.experiment == exp_id).exists()
    assert in_queue == (after["status"] == st.PENDING)
    if after["status"] == st.PENDING:
        assert after["queue"] == Queue.get(Queue.name == QUEUE).id
    elif action in ("dequeue", "abort", "archive", "reset"):
        assert after["queue"] is None
    if action in ("enqueue", "retry"):
        assert after["enqueue_status"] == before["status"]
    if action == "reset":
        for field in ("started", "completed", "last_iteration", "progress", "run_time", "enqueue_status"):
            assert after[field] is None, field
    if action == "abort" and cell == st.ABORTED:
        assert after["status_reason"]
    if action == "move":
        assert after["project"] == find_project(MOVE_TARGET).id
    if action == "add_tags":
        assert tags_of([exp_id])[exp_id] == ["added", "base"]
    if action == "remove_tags":
        assert tags_of([exp_id])[exp_id] == []
    if action == "rename":
        assert after["name"] == "Renamed experiment"
    if action == "set_description":
        assert after["description"] == "described"


@pytest.mark.both_backends
@pytest.mark.parametrize("action,archived,state,cell", CELLS)
def test_action_on_state(sdb, action, archived, state, cell):
    exp_id = make_experiment(state, archived=archived)
    # An old last_update, so "it moved" cannot pass by clock resolution.
    Experiment.update(last_update=1000.0).where(Experiment.id == exp_id).execute()
    before, owned_before = row_of(exp_id), owned_counts(exp_id)
    started_at = time.time()
    result = run_action(action, [exp_id])
    assert result.total == 1
    if cell == "-":
        check_skipped(exp_id, result, action, archived, state, before, owned_before)
    else:
        check_done(exp_id, result, action, archived, state, cell, before, started_at)


@pytest.mark.both_backends
@pytest.mark.parametrize("archived", [False, True], ids=["active", "archived"])
@pytest.mark.parametrize("action", actions.ACTIONS)
def test_action_on_every_state_in_one_batch(sdb, action, archived):
    """One call over a mixed selection gives each experiment the outcome its own state gives."""
    ids = {state: make_experiment(state, archived=archived) for state in STATES}
    Experiment.update(last_update=1000.0).where(Experiment.id.in_(list(ids.values()))).execute()
    before = {state: row_of(i) for state, i in ids.items()}
    owned_before = {state: owned_counts(i) for state, i in ids.items()}
    missing = "0" * 32
    started_at = time.time()
    result = run_action(action, [missing, *ids.values(), ids["created"]])
    row = EXPECTED[(action, archived)]
    assert result.skipped[missing] == "No such experiment"
    assert result.total == len(STATES) + 1, "duplicates count once"
    done = [s for s in STATES if row[s] != "-"]
    assert result.summary() == f"{len(done)} of {len(STATES) + 1} experiments {actions.VERBS[action]}"
    assert result.succeeded == [ids[s] for s in done], "results keep the caller's order"
    for state, exp_id in ids.items():
        if row[state] == "-":
            check_skipped(exp_id, result, action, archived, state, before[state], owned_before[state])
        else:
            check_done(exp_id, result, action, archived, state, row[state], before[state], started_at)


# ---- Abort All Children: gated by the parent's type, acts on Pending and Running children --------

@pytest.mark.both_backends
@pytest.mark.parametrize("task_type", st.TASK_TYPES)
def test_abort_children_is_gated_by_type(sdb, task_type):
    parent = make_experiment("in_progress", task_type=task_type)
    child = make_experiment("queued", parent=parent)
    result = actions.abort_children([parent])
    if task_type in ("controller", "optimizer"):
        assert result.succeeded == [child] and not result.skipped
        assert row_of(child)["status"] == st.ABORTED
    else:
        assert result.succeeded == [] and "controller" in result.skipped[parent]
        assert row_of(child)["status"] == st.PENDING
    assert row_of(parent)["status"] == st.RUNNING


CHILD_OUTCOME = {
    "created": "-", "queued": st.ABORTED, "queued_from_stopped": st.ABORTED, "queued_from_failed": st.ABORTED,
    "in_progress": "stopping", "in_progress_stale": st.ABORTED, "completed": "-", "closed": "-",
    "stopped": "-", "failed": "-", "publishing": "-", "published": "-",
}


@pytest.mark.both_backends
@pytest.mark.parametrize("archived", [False, True], ids=["active", "archived"])
@pytest.mark.parametrize("parent_state", STATES)
def test_abort_children_in_every_parent_state(sdb, parent_state, archived):
    parent = make_experiment(parent_state, task_type="optimizer", archived=archived)
    children = {state: make_experiment(state, parent=parent) for state in STATES}
    stranger = make_experiment("queued")  # someone else's child: untouched
    parent_before = row_of(parent)
    result = actions.abort_children([parent])
    assert result.skipped == {}
    assert sorted(result.succeeded) == sorted(children[s] for s, o in CHILD_OUTCOME.items() if o != "-")
    assert row_of(parent) == parent_before, "the parent itself is not changed"
    for state, child in children.items():
        row = row_of(child)
        outcome = CHILD_OUTCOME[state]
        if outcome == "-":
            assert row["status"] == STATUS_OF[state]
        elif outcome == "stopping":
            assert (row["status"], row["status_message"]) == (st.RUNNING, "stopping")
        else:
            assert row["status"] == outcome
            assert not QueueEntry.select().where(QueueEntry.experiment == child).exists()
    assert row_of(stranger)["status"] == st.PENDING


# ---- Batches ------------------------------------------------------------------------------

@pytest.mark.both_backends
def test_mixed_batch_summary_and_reasons(sdb):
    ids = [make_experiment(s) for s in ("created", "created", "stopped", "completed", "published")]
    result = actions.enqueue(ids, QUEUE)
    assert result.summary() == "3 of 5 experiments enqueued"
    assert result.reasons() == {
        "Experiment is Completed; only Draft or Aborted can be enqueued": [ids[3]],
        "Experiment is Published; only Draft or Aborted can be enqueued": [ids[4]],
    }
    one = actions.publish([ids[3]])
    assert one.summary() == "1 of 1 experiment published"
    assert actions.publish([]).summary() == "0 of 0 experiments published"
    ghost = actions.archive(["nope"])
    assert ghost.skipped == {"nope": "No such experiment"} and ghost.summary() == "0 of 1 experiment archived"


@pytest.mark.both_backends
def test_enqueue_keeps_queue_order_across_batches(sdb):
    first = [make_experiment("created") for _ in range(3)]
    second = [make_experiment("created") for _ in range(2)]
    actions.enqueue(first, "ordered")
    actions.enqueue(second, "ordered")
    queue = Queue.get(Queue.name == "ordered")
    ordered = [e for (e,) in QueueEntry.select(QueueEntry.experiment).where(QueueEntry.queue == queue)
               .order_by(QueueEntry.position).tuples()]
    assert ordered == first + second


@pytest.mark.both_backends
def test_bad_requests_change_nothing(sdb):
    exp_id = make_experiment("created")
    before = row_of(exp_id)
    with pytest.raises(actions.ActionError):
        actions.enqueue([exp_id], "  ")
    with pytest.raises(actions.ActionError):
        actions.rename([exp_id], " x ")
    with pytest.raises(actions.ActionError):
        actions.add_tags([exp_id], ["", "  "])
    with pytest.raises(actions.ActionError):
        actions.move([exp_id], 10 ** 9)
    assert row_of(exp_id) == before
    assert not Project.select().where(Project.name == "Nowhere").exists()


# ---- The server state machine (feature inventory 1.3), through recording.set_status ------------

# Rows: from; columns: to, in the order of STATE_MACHINE_COLUMNS. "y" allowed, "." refused, "-" itself.
STATE_MACHINE_COLUMNS = ("created", "queued", "in_progress", "stopped", "failed", "completed", "closed",
                         "publishing", "published")
STATE_MACHINE = """
created      -  y  y  .  .  .  .  .  .
queued       y  -  y  y  .  .  .  .  .
in_progress  y  .  -  y  y  y  .  .  .
stopped      y  y  y  -  y  y  y  y  y
failed       y  y  .  y  -  .  .  y  y
completed    y  .  y  .  .  -  .  .  y
closed       y  .  .  y  y  .  -  y  y
publishing   .  .  .  .  .  .  .  -  y
published    .  .  .  .  .  .  .  .  -
"""
TRANSITIONS = [
    pytest.param(row[0], to, cell, id=f"{row[0]}->{to}")
    for row in (line.split() for line in STATE_MACHINE.strip().splitlines())
    for to, cell in zip(STATE_MACHINE_COLUMNS, row[1:]) if cell != "-"
]


@pytest.mark.both_backends
@pytest.mark.parametrize("current,new,cell", TRANSITIONS)
def test_state_machine(sdb, current, new, cell):
    from exptable_desktop.core import recording

    exp_id = make_experiment(current)
    before = row_of(exp_id)
    allowed = recording.set_status(exp_id, new)
    assert allowed == (cell == "y")
    after = row_of(exp_id)
    if allowed:
        assert after["status"] == new and after["last_update"] >= before["last_update"]
        if new in (st.COMPLETED, st.FAILED, st.ABORTED):
            assert after["completed"] is not None
    else:
        assert after == before
        assert recording.set_status(exp_id, new, force=True) is True
        assert row_of(exp_id)["status"] == new
