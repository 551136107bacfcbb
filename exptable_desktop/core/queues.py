"""Queues and workers: what the Workers & Queues window shows and changes, and how agents claim work.

A worker is live while its heartbeat (``Worker.last_seen``) is younger than
``liveness.stale_after()`` (15 s by default, the same silence that ends a run)
and it has not said it stopped; "No worker listens to this queue" and the window's
lists both ask :func:`live_workers_for_queue` / :func:`list_workers`, so they
never disagree.

Claiming is atomic on both databases. SQLite: ``BEGIN IMMEDIATE`` (one writer
at a time). PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED``, so agents take
different entries side by side; claims hold the shared form of the advisory
lock every other ExpTable write holds exclusively, so a Dequeue or Abort never
interleaves with a claim of the same experiment.
"""
from __future__ import annotations

import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from peewee import JOIN, Case, fn

from exptable_desktop.core import liveness
from exptable_desktop.core import states as st
from exptable_desktop.core.actions import ActionError, ActionResult, _unique, dequeue, get_or_create_queue
from exptable_desktop.store import db as store_db
from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.db import is_sqlite, run_write
from exptable_desktop.store.schema import (
    Experiment,
    Project,
    Queue,
    QueueEntry,
    Worker,
    WorkerQueue,
    WorkerStat,
    database_proxy,
)

STATS_KEEP_S = 24 * 3600.0


def worker_timeout() -> float:
    """Seconds without a heartbeat after which a worker is gone (the run-liveness rule)."""
    return liveness.stale_after()


def agent_heartbeat_interval() -> float:
    """How often an agent beats: well inside the interval liveness expects."""
    return liveness.heartbeat_interval() / 2.5


# ---- queues ----------------------------------------------------------------------------------

@dataclass
class QueueInfo:
    """A queue as the Workers & Queues window lists it: how many wait, who listens, and what runs next."""
    id: int
    name: str
    pending: int
    workers: list[str]  # live workers listening to it
    oldest_added: float | None  # when the longest-waiting entry was enqueued
    oldest_wait: float | None  # seconds it has waited
    next_experiment_id: str | None
    next_experiment_name: str | None
    last_update: float


@dataclass
class QueueEntryRow:
    """One entry of a queue as the Workers & Queues window lists it, in the order agents take them."""
    index: int  # 1-based place in the queue: the order agents take entries
    experiment_id: str
    name: str
    status: str
    project: str
    user: str
    added: float
    waited: float  # seconds since enqueued


def _live_condition(now: float, timeout: float | None):
    timeout = worker_timeout() if timeout is None else timeout
    return (Worker.last_seen >= now - timeout) & (Worker.status != "stopped")


def list_queues(*, now: float | None = None, timeout: float | None = None) -> list[QueueInfo]:
    """Every queue by name: pending count, live workers, longest wait, next entry."""
    now = time.time() if now is None else now
    queues = list(Queue.select(Queue.id, Queue.name, Queue.last_update).order_by(Queue.name).tuples())
    counts = dict(QueueEntry.select(QueueEntry.queue, fn.COUNT(QueueEntry.id)).group_by(QueueEntry.queue).tuples())
    oldest = dict(QueueEntry.select(QueueEntry.queue, fn.MIN(QueueEntry.added)).group_by(QueueEntry.queue).tuples())
    first_position = (QueueEntry.select(QueueEntry.queue.alias("qid"), fn.MIN(QueueEntry.position).alias("pos"))
                      .group_by(QueueEntry.queue).alias("first"))
    nexts = {qid: (exp_id, name) for qid, exp_id, name in
             QueueEntry.select(QueueEntry.queue, Experiment.id, Experiment.name).join(Experiment)
             .switch(QueueEntry).join(first_position, on=((QueueEntry.queue == first_position.c.qid)
                                                           & (QueueEntry.position == first_position.c.pos)))
             .tuples()}
    workers: dict[int, list[str]] = {}
    for qid, name in (WorkerQueue.select(WorkerQueue.queue, Worker.name).join(Worker)
                      .where(_live_condition(now, timeout)).order_by(Worker.name).tuples()):
        workers.setdefault(qid, []).append(name)
    out = []
    for qid, name, last_update in queues:
        added = oldest.get(qid)
        nxt = nexts.get(qid, (None, None))
        out.append(QueueInfo(qid, name, counts.get(qid, 0), workers.get(qid, []), added,
                             (now - added) if added is not None else None, nxt[0], nxt[1], last_update))
    return out


def _queue(name: str) -> Queue:
    queue = Queue.get_or_none(Queue.name == (name or "").strip())
    if queue is None:
        raise ActionError(f"no queue named {name!r}")
    return queue


def queue_entries(queue_name: str, *, now: float | None = None) -> list[QueueEntryRow]:
    """The entries of a queue in the order agents take them."""
    now = time.time() if now is None else now
    queue = _queue(queue_name)
    rows = (QueueEntry.select(Experiment.id, Experiment.name, Experiment.status, Project.name, Experiment.user,
                              QueueEntry.added)
            .join(Experiment).join(Project).where(QueueEntry.queue == queue.id)
            .order_by(QueueEntry.position, QueueEntry.id).tuples())
    return [QueueEntryRow(i + 1, exp_id, name, status, project, user, added, now - added)
            for i, (exp_id, name, status, project, user, added) in enumerate(rows)]


def _ordered_ids(queue_id: int) -> list[str]:
    return [e for (e,) in QueueEntry.select(QueueEntry.experiment).where(QueueEntry.queue == queue_id)
            .order_by(QueueEntry.position, QueueEntry.id).tuples()]


def _renumber(queue_id: int, order: Sequence[str], now: float) -> None:
    """Positions 1..n in ``order``; one UPDATE per entry (queues are short) in the caller's transaction."""
    current = dict(QueueEntry.select(QueueEntry.experiment, QueueEntry.position)
                   .where(QueueEntry.queue == queue_id).tuples())
    for index, exp_id in enumerate(order, start=1):
        if current.get(exp_id) != float(index):
            QueueEntry.update(position=float(index)).where(
                (QueueEntry.queue == queue_id) & (QueueEntry.experiment == exp_id)).execute()
    Queue.update(last_update=now).where(Queue.id == queue_id).execute()


def _entries_by_queue(ids: Sequence[str], result: ActionResult) -> dict[int, list[str]]:
    """The given experiments' queues; the ones not waiting in a queue are skipped with the reason."""
    found: dict[str, int] = {}
    for chunk in chunked(ids):
        found.update(QueueEntry.select(QueueEntry.experiment, QueueEntry.queue)
                     .where(QueueEntry.experiment.in_(chunk)).tuples())
    missing = [i for i in ids if i not in found]
    result.skipped.update(_not_queued_reasons(missing))
    grouped: dict[int, list[str]] = {}
    for exp_id in ids:
        if exp_id in found:
            grouped.setdefault(found[exp_id], []).append(exp_id)
    return grouped


def _not_queued_reasons(ids: Sequence[str]) -> dict[str, str]:
    """Why experiments without a queue entry cannot be moved or dequeued."""
    reasons: dict[str, str] = {}
    rows: dict[str, tuple[str, str | None]] = {}
    for chunk in chunked(ids):
        rows.update({i: (s, w) for i, s, w in Experiment.select(Experiment.id, Experiment.status, Experiment.worker)
                     .where(Experiment.id.in_(chunk)).tuples()})
    for exp_id in ids:
        if exp_id not in rows:
            reasons[exp_id] = "No such experiment"
            continue
        status, worker = rows[exp_id]
        if status == st.RUNNING:
            # An agent removes the entry when it claims it: there is nothing left to take out.
            reasons[exp_id] = (f"Experiment is already running on worker {worker}" if worker
                               else "Experiment is already running")
        else:
            reasons[exp_id] = f"Experiment is {st.status_label(status)}, not waiting in a queue"
    return reasons


def move_entries(ids: Iterable[str], index: int) -> ActionResult:
    """Drag to reorder: the entries, in their queue order, land at 0-based ``index`` of the queue
    without them (clamped to its ends). Entries of several queues move in each queue alike."""
    ids = _unique(ids)

    def work():
        result = ActionResult("move_entries")
        for queue_id, moved in _entries_by_queue(ids, result).items():
            moved_set = set(moved)
            order = _ordered_ids(queue_id)
            rest = [e for e in order if e not in moved_set]
            in_order = [e for e in order if e in moved_set]
            at = max(0, min(int(index), len(rest)))
            _renumber(queue_id, rest[:at] + in_order + rest[at:], time.time())
            result.succeeded.extend(in_order)
        return result
    return run_write(work)


def move_entry(experiment_id: str, index: int) -> ActionResult:
    """Move one entry to 0-based ``index`` in its queue; clamped to the queue's ends."""
    return move_entries([experiment_id], index)


def _move_to_end(ids: Iterable[str], top: bool) -> ActionResult:
    ids = _unique(ids)

    def work():
        result = ActionResult("move_to_top" if top else "move_to_bottom")
        for queue_id, moved in _entries_by_queue(ids, result).items():
            moved_set = set(moved)
            rest = [e for e in _ordered_ids(queue_id) if e not in moved_set]
            # The moved entries keep their order among themselves.
            moved_in_order = [e for e in _ordered_ids(queue_id) if e in moved_set]
            _renumber(queue_id, moved_in_order + rest if top else rest + moved_in_order, time.time())
            result.succeeded.extend(moved_in_order)
        return result
    return run_write(work)


def move_to_top(ids: Iterable[str]) -> ActionResult:
    return _move_to_end(ids, top=True)


def move_to_bottom(ids: Iterable[str]) -> ActionResult:
    return _move_to_end(ids, top=False)


def move_to_queue(ids: Iterable[str], queue_name: str) -> ActionResult:
    """Move waiting entries to the end of another queue (created if missing), keeping their order."""
    ids = _unique(ids)

    def work():
        result = ActionResult("move_to_queue")
        now = time.time()
        target = get_or_create_queue(queue_name, now)
        last = QueueEntry.select(fn.MAX(QueueEntry.position)).where(QueueEntry.queue == target.id).scalar() or 0.0
        for queue_id, moved in _entries_by_queue(ids, result).items():
            moved_set = set(moved)
            in_order = [e for e in _ordered_ids(queue_id) if e in moved_set]
            if queue_id == target.id:
                result.succeeded.extend(in_order)
                continue
            for exp_id in in_order:
                last += 1.0
                QueueEntry.update(queue=target.id, position=last).where(QueueEntry.experiment == exp_id).execute()
            for chunk in chunked(in_order):
                Experiment.update(queue=target.id, last_update=now).where(Experiment.id.in_(chunk)).execute()
            Queue.update(last_update=now).where(Queue.id.in_([queue_id, target.id])).execute()
            result.succeeded.extend(in_order)
        return result
    return run_write(work)


def remove_entries(ids: Iterable[str]) -> ActionResult:
    """Dequeue: the experiments go back to the status they had before Enqueue.

    A claimed entry is gone (the agent removed it when it took it), so a
    Running experiment is refused with the worker that runs it.
    """
    ids = _unique(ids)

    def work():
        result = ActionResult("dequeue")
        queued = {e for chunk in chunked(ids) for (e,) in QueueEntry.select(QueueEntry.experiment)
                  .where(QueueEntry.experiment.in_(chunk)).tuples()}
        result.skipped.update(_not_queued_reasons([i for i in ids if i not in queued]))
        done = dequeue([i for i in ids if i in queued])
        result.succeeded = done.succeeded
        result.skipped.update(done.skipped)
        return result
    return run_write(work)


def create_queue(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ActionError("a queue needs a name")

    def work():
        if Queue.select().where(Queue.name == name).exists():
            raise ActionError(f"a queue named {name!r} already exists")
        now = time.time()
        Queue.create(name=name, created=now, last_update=now)
        return name
    return run_write(work)


def rename_queue(old: str, new: str) -> str:
    new = (new or "").strip()
    if not new:
        raise ActionError("a queue needs a name")

    def work():
        queue = _queue(old)
        if new != queue.name and Queue.select().where(Queue.name == new).exists():
            raise ActionError(f"a queue named {new!r} already exists")
        Queue.update(name=new, last_update=time.time()).where(Queue.id == queue.id).execute()
        return new
    return run_write(work)


def delete_queue(name: str) -> None:
    """Delete an empty queue; one with entries is refused (dequeue or move them first)."""
    def work():
        queue = _queue(name)
        pending = QueueEntry.select().where(QueueEntry.queue == queue.id).count()
        if pending:
            raise ActionError(f"queue {queue.name!r} still holds {pending} experiment"
                              f"{'s' if pending != 1 else ''}; dequeue or move them first")
        WorkerQueue.delete().where(WorkerQueue.queue == queue.id).execute()
        Experiment.update(queue=None).where(Experiment.queue == queue.id).execute()
        Queue.delete().where(Queue.id == queue.id).execute()
    run_write(work)


# ---- workers -------------------------------------------------------------------------------------

@dataclass
class WorkerInfo:
    """A worker as the Workers & Queues window lists it: its state, queues, uptime and current experiment."""
    name: str
    host: str
    status: str  # idle | busy | stopped
    live: bool
    queues: list[str]
    started: float
    uptime: float  # seconds since the agent started
    last_seen: float
    current_experiment_id: str | None
    current_experiment_name: str | None
    resources: dict[str, Any] = field(default_factory=dict)


def list_workers(*, include_gone: bool = False, now: float | None = None,
                 timeout: float | None = None) -> list[WorkerInfo]:
    """Live workers by name (with ``include_gone``, also those that stopped or went silent)."""
    now = time.time() if now is None else now
    timeout = worker_timeout() if timeout is None else timeout
    query = (Worker.select(Worker, Experiment.name.alias("exp_name"))
             .join(Experiment, on=(Worker.current_experiment == Experiment.id), join_type=JOIN.LEFT_OUTER)
             .order_by(Worker.name))
    if not include_gone:
        query = query.where(_live_condition(now, timeout))
    queues: dict[str, list[str]] = {}
    for worker_name, queue_name in (WorkerQueue.select(WorkerQueue.worker, Queue.name).join(Queue)
                                    .order_by(Queue.name).tuples()):
        queues.setdefault(worker_name, []).append(queue_name)
    out = []
    for w in query.objects():
        try:
            resources = json.loads(w.resources or "{}")
        except ValueError:
            resources = {}
        live = w.status != "stopped" and w.last_seen >= now - timeout
        out.append(WorkerInfo(w.name, w.host, w.status if live else "stopped", live, queues.get(w.name, []),
                              w.started, now - w.started, w.last_seen, w.current_experiment_id,
                              getattr(w, "exp_name", None), resources))
    return out


def live_workers_for_queue(name: str, *, now: float | None = None, timeout: float | None = None) -> list[str]:
    """Names of the live workers listening to the queue (empty: "No worker listens to this queue")."""
    now = time.time() if now is None else now
    return [n for (n,) in WorkerQueue.select(Worker.name).join(Worker).switch(WorkerQueue).join(Queue)
            .where((Queue.name == (name or "").strip()) & _live_condition(now, timeout))
            .order_by(Worker.name).tuples()]


def worker_stats(name: str, *, since: float = 3600.0, now: float | None = None) -> list[tuple[float, dict]]:
    """The worker's resource samples of the last ``since`` seconds, oldest first: (timestamp, data)."""
    now = time.time() if now is None else now
    out = []
    for stamp, data in (WorkerStat.select(WorkerStat.timestamp, WorkerStat.data)
                        .where((WorkerStat.worker == name) & (WorkerStat.timestamp >= now - since))
                        .order_by(WorkerStat.timestamp).tuples()):
        try:
            out.append((stamp, json.loads(data)))
        except ValueError:
            continue
    return out


def register_worker(name: str | None, queue_names: Sequence[str], *, host: str | None = None,
                    now: float | None = None, timeout: float | None = None) -> str:
    """Register (or take over a stopped/silent) worker listening to ``queue_names``; returns its name.

    With no name, ``host:N`` for the smallest N no live worker uses. A name a
    live worker holds is refused: two agents under one name would fight over
    its current experiment.
    """
    host = host or socket.gethostname()
    queue_names = [q.strip() for q in queue_names if q and q.strip()]
    if not queue_names:
        raise ActionError("an agent needs at least one queue")

    limit = worker_timeout() if timeout is None else timeout

    def work():
        stamp = time.time() if now is None else now
        rows = {n: (s, seen) for n, s, seen in Worker.select(Worker.name, Worker.status, Worker.last_seen).tuples()}

        def taken(candidate: str) -> bool:
            row = rows.get(candidate)
            return row is not None and row[0] != "stopped" and row[1] >= stamp - limit
        chosen = (name or "").strip()
        if chosen:
            if taken(chosen):
                raise ActionError(f"worker name {chosen!r} is in use by a live agent "
                                  f"(last heartbeat {stamp - rows[chosen][1]:.0f} s ago)")
        else:
            n = 0
            while taken(f"{host}:{n}"):
                n += 1
            chosen = f"{host}:{n}"
        fields = {"host": host, "status": "idle", "current_experiment": None, "started": stamp,
                  "last_seen": stamp, "resources": "{}"}
        if chosen in rows:
            Worker.update(**fields).where(Worker.name == chosen).execute()
        else:
            Worker.create(name=chosen, **fields)
        WorkerQueue.delete().where(WorkerQueue.worker == chosen).execute()
        for queue_name in dict.fromkeys(queue_names):
            queue = get_or_create_queue(queue_name, stamp)
            WorkerQueue.create(worker=chosen, queue=queue.id)
        return chosen
    return run_write(work)


def worker_heartbeat(name: str, resources: dict[str, Any] | None = None, *, record_stat: bool = False) -> None:
    """The worker is alive, and so is the experiment its ``current_experiment`` names.

    The experiment's own ``heartbeat`` column is left alone: a script that
    attaches (``core.attach``) tells its agent's launch from a taken run by that
    column not having moved since the claim; ``liveness`` counts a live worker
    naming the run as its sign of life meanwhile.
    """
    def work():
        now = time.time()
        changes: dict[str, Any] = {"last_seen": now}
        if resources is not None:
            changes["resources"] = json.dumps(resources)
        Worker.update(**changes).where(Worker.name == name).execute()
        if record_stat and resources is not None:
            WorkerStat.create(worker=name, timestamp=now, data=json.dumps(resources))
    run_write(work)


def prune_worker_stats(name: str, keep: float = STATS_KEEP_S) -> None:
    run_write(lambda: WorkerStat.delete().where((WorkerStat.worker == name)
                                                & (WorkerStat.timestamp < time.time() - keep)).execute())


def set_worker_state(name: str, status: str, experiment_id: str | None = None) -> None:
    """idle / busy (with the experiment it runs) / stopped (the agent exited)."""
    def work():
        Worker.update(status=status, current_experiment=experiment_id, last_seen=time.time()).where(
            Worker.name == name).execute()
    run_write(work)


# ---- claiming ------------------------------------------------------------------------------------

@dataclass
class Claim:
    """The experiment a worker took from a queue, with when it was enqueued and when it was taken."""
    experiment_id: str
    queue: str
    added: float  # when it was enqueued
    claimed: float  # when this worker took it


def has_pending(queue_names: Sequence[str]) -> bool:
    """A cheap read before the claim's write transaction: idle agents poll this."""
    return (QueueEntry.select(QueueEntry.id).join(Queue).where(Queue.name.in_(list(queue_names)))
            .limit(1).exists())


def claim_next(worker: str, queue_names: Sequence[str]) -> Claim | None:
    """Take the first entry of the first non-empty queue (in the order given) and mark it Running.

    The entry is deleted and the experiment becomes Running with ``worker``
    recorded, in one transaction; None when every queue is empty.
    """
    names = [q for q in dict.fromkeys(queue_names) if q]
    if not names:
        return None
    order = Case(Queue.name, [(n, i) for i, n in enumerate(names)])
    query = (QueueEntry.select(QueueEntry.id, QueueEntry.experiment, QueueEntry.added, Queue.name)
             .join(Queue).where(Queue.name.in_(names)).order_by(order, QueueEntry.position, QueueEntry.id).limit(1))
    db = database_proxy.obj
    if is_sqlite(db):
        return run_write(_claim_in_transaction, worker, query)
    query = query.for_update(of=QueueEntry, skip_locked=True)
    return _pg_claim(db, worker, query)


def _pg_claim(db, worker: str, query, attempts: int = 8) -> Claim | None:
    delay = 0.02
    for attempt in range(attempts):
        try:
            with db.atomic():
                db.execute_sql("SELECT pg_advisory_xact_lock_shared(%s)", (store_db._PG_WRITE_LOCK,))
                return _claim_in_transaction(worker, query)
        except Exception as exc:
            if not store_db._is_lock_error(exc) or attempt == attempts - 1:
                raise
        time.sleep(delay)
        delay *= 2
    return None


def _claim_in_transaction(worker: str, query) -> Claim | None:
    while True:
        row = query.tuples().first()
        if row is None:
            return None
        entry_id, exp_id, added, queue_name = row
        QueueEntry.delete().where(QueueEntry.id == entry_id).execute()
        now = time.time()
        taken = (Experiment.update(status=st.RUNNING, status_changed=now, last_update=now, started=now,
                                   completed=None, heartbeat=now, worker=worker, development=False,
                                   status_message="pulled by agent", status_reason="")
                 .where((Experiment.id == exp_id) & (Experiment.status == st.PENDING)
                        & (Experiment.archived == False))  # noqa: E712
                 .execute())
        if not taken:
            continue  # an entry left behind by an experiment that is no longer Pending: dropped
        Worker.update(status="busy", current_experiment=exp_id, last_seen=now).where(Worker.name == worker).execute()
        return Claim(exp_id, queue_name, added, now)
