"""Read-only look-ups for pickers and dialogs: tags, queues, workers, project paths.

Menus never call these (their counts come from the table's in-memory arrays);
dialogs do, once, when they open.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from exptable_desktop.core.projects import descendant_ids, find_project, project_paths
from exptable_desktop.store.schema import Experiment, ExperimentTag, Queue, QueueEntry, Tag, Worker, WorkerQueue


@dataclass(frozen=True)
class TagInfo:
    """A tag and its colours (None: the default colours from its name)."""
    name: str
    background: str | None
    foreground: str | None


def tag_names(project_path: str | None = None) -> list[str]:
    """Tags in use in a project and its subprojects, or every tag when ``project_path`` is None."""
    if project_path is None:
        return [n for (n,) in Tag.select(Tag.name).order_by(Tag.name).tuples()]
    project = find_project(project_path)
    if project is None:
        return []
    query = (Tag.select(Tag.name).join(ExperimentTag).join(Experiment)
             .where(Experiment.project.in_(descendant_ids(project.id))).distinct().order_by(Tag.name))
    return [n for (n,) in query.tuples()]


def all_tags() -> list[TagInfo]:
    return [TagInfo(n, bg, fg) for n, bg, fg in
            Tag.select(Tag.name, Tag.background, Tag.foreground).order_by(Tag.name).tuples()]


def queue_names() -> list[str]:
    return [n for (n,) in Queue.select(Queue.name).order_by(Queue.name).tuples()]


def project_path_list() -> list[str]:
    return sorted(project_paths().values(), key=str.lower)


@dataclass
class QueueEntryInfo:
    """One experiment waiting in a queue, at its 1-based place in the order workers take them."""
    position: int
    experiment_id: str
    name: str
    status: str
    added: float


@dataclass
class QueueSnapshot:
    """The queue an experiment waits in: its entries in order and the workers listening to it."""
    name: str
    entries: list[QueueEntryInfo] = field(default_factory=list)
    workers: list[str] = field(default_factory=list)


def queue_of(experiment_id: str) -> QueueSnapshot | None:
    """The queue an experiment waits in, with its entries in the order workers take them."""
    entry = QueueEntry.get_or_none(QueueEntry.experiment == experiment_id)
    queue_id = entry.queue_id if entry else Experiment.select(Experiment.queue).where(
        Experiment.id == experiment_id).scalar()
    if queue_id is None:
        return None
    queue = Queue.get_by_id(queue_id)
    rows = (QueueEntry.select(QueueEntry.experiment, QueueEntry.added, Experiment.name, Experiment.status)
            .join(Experiment).where(QueueEntry.queue == queue_id).order_by(QueueEntry.position).tuples())
    entries = [QueueEntryInfo(i + 1, exp_id, name, status, added)
               for i, (exp_id, added, name, status) in enumerate(rows)]
    workers = [n for (n,) in WorkerQueue.select(Worker.name).join(Worker)
               .where(WorkerQueue.queue == queue_id).order_by(Worker.name).tuples()]
    return QueueSnapshot(queue.name, entries, workers)


@dataclass
class WorkerSnapshot:
    """The worker running an experiment: its state, what it runs, its queues and its machine's resources."""
    name: str
    host: str
    status: str
    last_seen: float
    experiment_id: str | None
    experiment_name: str | None
    experiment_status: str | None
    queues: list[str]
    resources: dict


def worker_of(experiment_id: str) -> WorkerSnapshot | None:
    """The worker running an experiment (by the experiment's worker name, else by its current task)."""
    name = Experiment.select(Experiment.worker).where(Experiment.id == experiment_id).scalar()
    worker = Worker.get_or_none(Worker.name == name) if name else None
    if worker is None:
        worker = Worker.get_or_none(Worker.current_experiment == experiment_id)
    if worker is None:
        return None
    current = Experiment.get_or_none(Experiment.id == worker.current_experiment_id) \
        if worker.current_experiment_id else None
    queues = [n for (n,) in WorkerQueue.select(Queue.name).join(Queue)
              .where(WorkerQueue.worker == worker.name).order_by(Queue.name).tuples()]
    try:
        resources = json.loads(worker.resources or "{}")
    except ValueError:
        resources = {}
    return WorkerSnapshot(worker.name, worker.host, worker.status, worker.last_seen,
                          current.id if current else None, current.name if current else None,
                          current.status if current else None, queues, resources)


def queue_name_of(experiment_ids: list[str]) -> dict[str, str]:
    rows = (Experiment.select(Experiment.id, Queue.name).join(Queue).where(Experiment.id.in_(experiment_ids)).tuples())
    return dict(rows)
