"""What a person (or script, or agent) may do to experiments, many at a time.

Every action takes a list of experiment ids and returns an :class:`ActionResult`
saying, per id, whether it was done or why it was skipped. The eligibility
rules live in :func:`why_not`, which the UI also uses to label menu entries
"Enqueue (3)" without touching the database.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from exptable_desktop.core import states as st
from exptable_desktop.core.projects import get_or_create_project
from exptable_desktop.paths import current_user
from exptable_desktop.store import files as store_files
from exptable_desktop.store.db import run_write
from exptable_desktop.store.schema import (
    EXPERIMENT_OUTPUT_MODELS,
    Artifact,
    ConfigObject,
    DebugSample,
    DeletedExperiment,
    Execution,
    Experiment,
    ExperimentTag,
    HyperParam,
    Project,
    Queue,
    QueueEntry,
    Tag,
    Worker,
    WorkerQueue,
)

# A running script whose heartbeat is older than this is taken as dead: Abort
# then marks it Aborted at once instead of asking it to stop.
HEARTBEAT_STALE_SECONDS = 30.0

ACTIONS = (
    "enqueue", "retry", "dequeue", "reset", "abort", "abort_children", "publish",
    "archive", "restore", "delete", "clone", "move", "add_tags", "remove_tags",
    "rename", "set_description",
)

VERBS = {
    "enqueue": "enqueued", "retry": "enqueued", "dequeue": "dequeued", "reset": "reset",
    "abort": "aborted", "abort_children": "aborted", "publish": "published",
    "archive": "archived", "restore": "restored", "delete": "deleted", "clone": "cloned",
    "move": "moved", "add_tags": "tagged", "remove_tags": "untagged", "rename": "renamed",
    "set_description": "updated",
}


class ActionError(Exception):
    """A request that cannot be carried out at all (bad queue name, empty name...)."""


@dataclass
class ActionResult:
    action: str
    succeeded: list[str] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)  # clone: original id -> new id

    @property
    def total(self) -> int:
        return len(self.succeeded) + len(self.skipped)

    def summary(self) -> str:
        noun = "experiment" if self.total == 1 else "experiments"
        return f"{len(self.succeeded)} of {self.total} {noun} {VERBS.get(self.action, self.action)}"

    def reasons(self) -> dict[str, list[str]]:
        """Skipped ids grouped by reason, for "More info"."""
        grouped: dict[str, list[str]] = {}
        for exp_id, reason in self.skipped.items():
            grouped.setdefault(reason, []).append(exp_id)
        return grouped


# ---- Eligibility -----------------------------------------------------------------

def why_not(action: str, status: str, task_type: str = "training", archived: bool = False) -> str | None:
    """The reason ``action`` does not apply to an experiment, or None if it does."""
    label = st.status_label(status)
    if action in ("clone", "rename", "set_description", "add_tags", "remove_tags"):
        return None
    if action == "restore":
        return None if archived else "Experiment is not archived"
    if action == "delete":
        return None if archived else "Only archived experiments can be deleted"
    if action == "archive":
        return "Experiment is already archived" if archived else None
    if action == "move":
        return None
    if archived and action in ("enqueue", "retry"):
        return "Experiment is archived"
    if action == "enqueue":
        return None if status in (st.DRAFT, st.ABORTED) else f"Experiment is {label}; only Draft or Aborted can be enqueued"
    if action == "retry":
        return None if status == st.FAILED else f"Experiment is {label}; only Failed can be retried"
    if action == "dequeue":
        return None if status == st.PENDING else f"Experiment is {label}, not Pending"
    if action == "reset":
        if status in (st.DRAFT, st.PUBLISHED, st.PUBLISHING):
            return f"Experiment is {label}; it cannot be reset"
        return None
    if action == "abort":
        return None if status in (st.PENDING, st.RUNNING) else f"Experiment is {label}, not Pending or Running"
    if action == "abort_children":
        return None if task_type in st.PARENT_TYPES else "Only controller and optimizer experiments have children to abort"
    if action == "publish":
        if status in (st.COMPLETED, st.CLOSED, st.ABORTED, st.FAILED):
            return None
        return f"Experiment is {label}; only Completed, Aborted or Failed can be published"
    raise ValueError(f"unknown action {action!r}")


def count_eligible(action: str, rows: Iterable[tuple[str, str, bool]]) -> int:
    """How many of ``(status, type, archived)`` rows ``action`` applies to."""
    return sum(1 for status, task_type, archived in rows if why_not(action, status, task_type, archived) is None)


# ---- Helpers ---------------------------------------------------------------------

def _unique(ids: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for i in ids:
        seen.setdefault(str(i), None)
    return list(seen)


def _load(ids: Sequence[str]) -> dict[str, Experiment]:
    found: dict[str, Experiment] = {}
    for start in range(0, len(ids), 500):
        for exp in Experiment.select().where(Experiment.id.in_(ids[start:start + 500])):
            found[exp.id] = exp
    return found


def _partition(action: str, ids: Iterable[str], result: ActionResult) -> list[Experiment]:
    ids = _unique(ids)
    found = _load(ids)
    eligible = []
    for exp_id in ids:
        exp = found.get(exp_id)
        if exp is None:
            result.skipped[exp_id] = "No such experiment"
            continue
        reason = why_not(action, exp.status, exp.type, exp.archived)
        if reason:
            result.skipped[exp_id] = reason
        else:
            eligible.append(exp)
    return eligible


def _set_status(exp: Experiment, status: str, now: float, **extra) -> None:
    changes = {"status": status, "status_changed": now, "last_update": now, **extra}
    Experiment.update(**changes).where(Experiment.id == exp.id).execute()
    for key, value in changes.items():
        setattr(exp, key, value)


def _remove_queue_entries(exp_ids: Sequence[str]) -> None:
    if exp_ids:
        QueueEntry.delete().where(QueueEntry.experiment.in_(list(exp_ids))).execute()


def _touch(exp_ids: Sequence[str], now: float) -> None:
    for start in range(0, len(exp_ids), 500):
        Experiment.update(last_update=now).where(Experiment.id.in_(exp_ids[start:start + 500])).execute()


def get_or_create_queue(name: str, now: float | None = None) -> Queue:
    name = (name or "").strip()
    if not name:
        raise ActionError("a queue needs a name")
    now = time.time() if now is None else now
    queue = Queue.get_or_none(Queue.name == name)
    if queue is None:
        queue = Queue.create(name=name, created=now, last_update=now)
    return queue


def queue_has_workers(name: str, within_seconds: float = 120.0) -> bool:
    """Whether any live worker listens to the queue (Enqueue warns otherwise)."""
    cutoff = time.time() - within_seconds
    return (WorkerQueue.select().join(Worker).switch(WorkerQueue).join(Queue)
            .where((Queue.name == name) & (Worker.last_seen >= cutoff) & (Worker.status != "stopped"))
            .exists())


def _append_to_queue(queue: Queue, exp_ids: Sequence[str], now: float) -> None:
    from peewee import fn
    last = QueueEntry.select(fn.MAX(QueueEntry.position)).where(QueueEntry.queue == queue).scalar() or 0.0
    rows = [{"queue": queue.id, "experiment": exp_id, "position": last + i + 1, "added": now}
            for i, exp_id in enumerate(exp_ids)]
    for start in range(0, len(rows), 500):
        QueueEntry.insert_many(rows[start:start + 500]).execute()
    Queue.update(last_update=now).where(Queue.id == queue.id).execute()


def _clear_outputs(exp_ids: Sequence[str], delete_files: bool) -> list[str]:
    """Remove everything an experiment produced; returns files removed."""
    removed: list[str] = []
    for model in EXPERIMENT_OUTPUT_MODELS:
        if model is DebugSample and delete_files:
            for (path,) in DebugSample.select(DebugSample.path).where(DebugSample.experiment.in_(exp_ids)).tuples():
                if store_files.remove_owned_file(path):
                    removed.append(path)
        model.delete().where(model.experiment.in_(exp_ids)).execute()
    outputs = Artifact.select().where((Artifact.experiment.in_(exp_ids)) & (Artifact.mode == "output"))
    if delete_files:
        for art in outputs:
            if art.in_storage and store_files.remove_owned_file(art.uri):
                removed.append(art.uri)
    Artifact.delete().where((Artifact.experiment.in_(exp_ids)) & (Artifact.mode == "output")).execute()
    return removed


# ---- Queue actions -----------------------------------------------------------------

def enqueue(ids: Iterable[str], queue_name: str, *, retry: bool = False) -> ActionResult:
    action = "retry" if retry else "enqueue"

    def work():
        result = ActionResult(action)
        eligible = _partition(action, ids, result)
        if not eligible:
            return result
        now = time.time()
        queue = get_or_create_queue(queue_name, now)
        for exp in eligible:
            _set_status(exp, st.PENDING, now, enqueue_status=exp.status, queue=queue.id,
                        development=False, status_message="", status_reason="")
        _append_to_queue(queue, [e.id for e in eligible], now)
        result.succeeded = [e.id for e in eligible]
        return result
    return run_write(work)


def retry(ids: Iterable[str], queue_name: str) -> ActionResult:
    return enqueue(ids, queue_name, retry=True)


def _dequeue_rows(exps: Sequence[Experiment], now: float) -> None:
    for exp in exps:
        back = exp.enqueue_status if exp.enqueue_status in (st.DRAFT, st.ABORTED, st.FAILED) else st.DRAFT
        _set_status(exp, back, now, queue=None, enqueue_status=None)
    _remove_queue_entries([e.id for e in exps])


def dequeue(ids: Iterable[str]) -> ActionResult:
    def work():
        result = ActionResult("dequeue")
        eligible = _partition("dequeue", ids, result)
        _dequeue_rows(eligible, time.time())
        result.succeeded = [e.id for e in eligible]
        return result
    return run_write(work)


def _abort_rows(exps: Sequence[Experiment], now: float, reason: str) -> None:
    for exp in exps:
        if exp.status == st.PENDING:
            _remove_queue_entries([exp.id])
            _set_status(exp, st.ABORTED, now, queue=None, status_reason=reason, status_message="aborted")
            continue
        alive = exp.heartbeat is not None and now - exp.heartbeat < HEARTBEAT_STALE_SECONDS
        if alive:
            # The script or its agent sees "stopping", flushes and sets Aborted itself.
            Experiment.update(status_message="stopping", status_reason=reason, last_update=now).where(
                Experiment.id == exp.id).execute()
        else:
            _set_status(exp, st.ABORTED, now, completed=now, status_reason=reason, status_message="aborted")


def abort(ids: Iterable[str], reason: str = "Aborted by user") -> ActionResult:
    def work():
        result = ActionResult("abort")
        eligible = _partition("abort", ids, result)
        _abort_rows(eligible, time.time(), reason)
        result.succeeded = [e.id for e in eligible]
        return result
    return run_write(work)


def children_to_abort(ids: Iterable[str]) -> list[Experiment]:
    """The Pending and Running children of the controller/optimizer experiments in ``ids``."""
    parents = [e.id for e in Experiment.select(Experiment.id, Experiment.type)
               .where(Experiment.id.in_(_unique(ids))) if e.type in st.PARENT_TYPES]
    if not parents:
        return []
    return list(Experiment.select().where(
        (Experiment.parent.in_(parents)) & (Experiment.status.in_([st.PENDING, st.RUNNING]))))


def abort_children(ids: Iterable[str]) -> ActionResult:
    """Abort the Pending/Running children; ``succeeded`` lists the children aborted."""
    def work():
        parent_result = ActionResult("abort_children")
        eligible = _partition("abort_children", ids, parent_result)
        children = children_to_abort([e.id for e in eligible])
        _abort_rows(children, time.time(), "Parent's children aborted by user")
        result = ActionResult("abort_children", succeeded=[c.id for c in children],
                              skipped=parent_result.skipped)
        return result
    return run_write(work)


# ---- Life-cycle actions ---------------------------------------------------------------

def reset(ids: Iterable[str], *, delete_files: bool = True) -> ActionResult:
    def work():
        result = ActionResult("reset")
        eligible = _partition("reset", ids, result)
        if not eligible:
            return result
        now = time.time()
        exp_ids = [e.id for e in eligible]
        _remove_queue_entries(exp_ids)
        _clear_outputs(exp_ids, delete_files)
        for start in range(0, len(exp_ids), 500):
            Experiment.update(
                status=st.DRAFT, status_changed=now, last_update=now, started=None, completed=None,
                last_iteration=None, progress=None, run_time=None, queue=None, worker=None,
                enqueue_status=None, status_message="", status_reason="", runtime="{}", heartbeat=None,
            ).where(Experiment.id.in_(exp_ids[start:start + 500])).execute()
        result.succeeded = exp_ids
        return result
    return run_write(work)


def publish(ids: Iterable[str]) -> ActionResult:
    def work():
        result = ActionResult("publish")
        eligible = _partition("publish", ids, result)
        now = time.time()
        for exp in eligible:
            _set_status(exp, st.PUBLISHED, now)
        result.succeeded = [e.id for e in eligible]
        return result
    return run_write(work)


def archive(ids: Iterable[str]) -> ActionResult:
    def work():
        result = ActionResult("archive")
        eligible = _partition("archive", ids, result)
        now = time.time()
        _dequeue_rows([e for e in eligible if e.status == st.PENDING], now)
        running = [e for e in eligible if e.status == st.RUNNING]
        for exp in running:
            _set_status(exp, st.ABORTED, now, completed=now, status_reason="Archived",
                        status_message="stopping" if exp.heartbeat else "aborted")
        exp_ids = [e.id for e in eligible]
        for start in range(0, len(exp_ids), 500):
            Experiment.update(archived=True, last_update=now).where(
                Experiment.id.in_(exp_ids[start:start + 500])).execute()
        result.succeeded = exp_ids
        return result
    return run_write(work)


def restore(ids: Iterable[str]) -> ActionResult:
    def work():
        result = ActionResult("restore")
        eligible = _partition("restore", ids, result)
        exp_ids = [e.id for e in eligible]
        now = time.time()
        for start in range(0, len(exp_ids), 500):
            Experiment.update(archived=False, last_update=now).where(
                Experiment.id.in_(exp_ids[start:start + 500])).execute()
        result.succeeded = exp_ids
        return result
    return run_write(work)


def delete(ids: Iterable[str], *, delete_files: bool = True) -> ActionResult:
    """Remove archived experiments and everything they own (their files too, if asked)."""
    def work():
        result = ActionResult("delete")
        eligible = _partition("delete", ids, result)
        if not eligible:
            return result
        now = time.time()
        exp_ids = [e.id for e in eligible]
        if delete_files:
            for art in Artifact.select().where(Artifact.experiment.in_(exp_ids) & Artifact.in_storage):
                store_files.remove_owned_file(art.uri)
            for (path,) in DebugSample.select(DebugSample.path).where(DebugSample.experiment.in_(exp_ids)).tuples():
                store_files.remove_owned_file(path)
        for model in EXPERIMENT_OUTPUT_MODELS + [Artifact, HyperParam, ConfigObject, ExperimentTag,
                                                   QueueEntry, Execution]:
            model.delete().where(model.experiment.in_(exp_ids)).execute()
        Experiment.update(parent=None).where(Experiment.parent.in_(exp_ids)).execute()
        Worker.update(current_experiment=None).where(Worker.current_experiment.in_(exp_ids)).execute()
        Experiment.delete().where(Experiment.id.in_(exp_ids)).execute()
        DeletedExperiment.insert_many([{"experiment_id": i, "deleted_at": now} for i in exp_ids]).execute()
        result.succeeded = exp_ids
        return result
    result = run_write(work)
    if delete_files:
        for exp_id in result.succeeded:
            store_files.remove_owned_file(str(store_files.experiment_folder(exp_id)))
    return result


# ---- Organising -------------------------------------------------------------------------

def clone(ids: Iterable[str], *, project: str | int | None = None, name: str | None = None,
          set_parent: bool = False, description: str | None = None, user: str | None = None) -> ActionResult:
    """New Drafts with the originals' configuration, execution and hyperparameters, no outputs.

    ``project`` is a project id or a "/"-separated path (created if missing);
    None keeps each original's project.
    """
    def work():
        result = ActionResult("clone")
        eligible = _partition("clone", ids, result)
        now = time.time()
        target = _resolve_project(project) if project is not None else None
        for exp in eligible:
            new_name = name if (name and len(eligible) == 1) else f"Clone Of {exp.name}"
            parent = (exp.parent_id or exp.id) if set_parent else None
            new = Experiment.create(
                name=new_name, type=exp.type, status=st.DRAFT,
                project=target.id if target else exp.project_id, user=user or current_user(),
                parent=parent, created=now, last_update=now, status_changed=now,
                description=description if description is not None else
                f"Cloned from {exp.id} at {time.strftime('%Y-%m-%d %H:%M:%S')}",
            )
            _copy_configuration(exp.id, new.id)
            tag_rows = [{"experiment": new.id, "tag": t} for (t,) in
                        ExperimentTag.select(ExperimentTag.tag).where(ExperimentTag.experiment == exp.id).tuples()]
            if tag_rows:
                ExperimentTag.insert_many(tag_rows).execute()
            result.succeeded.append(exp.id)
            result.created[exp.id] = new.id
        return result
    return run_write(work)


def _copy_configuration(source_id: str, target_id: str) -> None:
    execution = Execution.get_or_none(Execution.experiment == source_id)
    if execution is not None:
        data = {f: getattr(execution, f) for f in Execution._meta.sorted_field_names if f != "experiment"}
        Execution.create(experiment=target_id, **data)
    params = [{"experiment": target_id, "section": p.section, "name": p.name, "value": p.value,
               "type": p.type, "description": p.description, "default": p.default}
              for p in HyperParam.select().where(HyperParam.experiment == source_id)]
    for start in range(0, len(params), 500):
        HyperParam.insert_many(params[start:start + 500]).execute()
    configs = [{"experiment": target_id, "name": c.name, "description": c.description,
                "content_type": c.content_type, "value": c.value}
               for c in ConfigObject.select().where(ConfigObject.experiment == source_id)]
    if configs:
        ConfigObject.insert_many(configs).execute()
    inputs = [{"experiment": target_id, "name": a.name, "kind": a.kind, "mode": "input", "uri": a.uri,
               "in_storage": False, "size": a.size, "hash": a.hash, "content_type": a.content_type,
               "preview": a.preview, "metadata": a.metadata, "created": a.created}
              for a in Artifact.select().where((Artifact.experiment == source_id) & (Artifact.mode == "input"))]
    if inputs:
        Artifact.insert_many(inputs).execute()


def _resolve_project(project: str | int) -> Project:
    if isinstance(project, int) or (isinstance(project, str) and project.isdigit()):
        found = Project.get_or_none(Project.id == int(project))
        if found is None:
            raise ActionError(f"no project with id {project}")
        return found
    return get_or_create_project(str(project))


def move(ids: Iterable[str], project: str | int) -> ActionResult:
    def work():
        result = ActionResult("move")
        eligible = _partition("move", ids, result)
        target = _resolve_project(project)
        exp_ids = [e.id for e in eligible]
        now = time.time()
        for start in range(0, len(exp_ids), 500):
            Experiment.update(project=target.id, last_update=now).where(
                Experiment.id.in_(exp_ids[start:start + 500])).execute()
        result.succeeded = exp_ids
        return result
    return run_write(work)


def _tag_ids(names: Iterable[str], create: bool) -> dict[str, int]:
    names = [n.strip() for n in names if n and n.strip()]
    found = {t.name: t.id for t in Tag.select().where(Tag.name.in_(names))} if names else {}
    if create:
        for n in names:
            if n not in found:
                found[n] = Tag.create(name=n).id
    return found


def add_tags(ids: Iterable[str], tags: Iterable[str]) -> ActionResult:
    tags = list(tags)
    if not [t for t in tags if t and t.strip()]:
        raise ActionError("no tag given")

    def work():
        result = ActionResult("add_tags")
        eligible = _partition("add_tags", ids, result)
        tag_ids = _tag_ids(tags, create=True)
        exp_ids = [e.id for e in eligible]
        existing = set(ExperimentTag.select(ExperimentTag.experiment, ExperimentTag.tag)
                       .where(ExperimentTag.experiment.in_(exp_ids)).tuples()) if exp_ids else set()
        rows = [{"experiment": e, "tag": t} for e in exp_ids for t in tag_ids.values() if (e, t) not in existing]
        for start in range(0, len(rows), 500):
            ExperimentTag.insert_many(rows[start:start + 500]).execute()
        _touch(exp_ids, time.time())
        result.succeeded = exp_ids
        return result
    return run_write(work)


def remove_tags(ids: Iterable[str], tags: Iterable[str]) -> ActionResult:
    tags = list(tags)

    def work():
        result = ActionResult("remove_tags")
        eligible = _partition("remove_tags", ids, result)
        tag_ids = list(_tag_ids(tags, create=False).values())
        exp_ids = [e.id for e in eligible]
        if tag_ids and exp_ids:
            ExperimentTag.delete().where(ExperimentTag.experiment.in_(exp_ids) & ExperimentTag.tag.in_(tag_ids)).execute()
        _touch(exp_ids, time.time())
        result.succeeded = exp_ids
        return result
    return run_write(work)


def rename(ids: Iterable[str], name: str) -> ActionResult:
    name = (name or "").strip()
    if len(name) < 2:
        raise ActionError("a name needs at least 2 characters")

    def work():
        result = ActionResult("rename")
        eligible = _partition("rename", ids, result)
        now = time.time()
        for exp in eligible:
            Experiment.update(name=name, last_update=now).where(Experiment.id == exp.id).execute()
        result.succeeded = [e.id for e in eligible]
        return result
    return run_write(work)


def set_description(ids: Iterable[str], text: str) -> ActionResult:
    def work():
        result = ActionResult("set_description")
        eligible = _partition("set_description", ids, result)
        exp_ids = [e.id for e in eligible]
        now = time.time()
        for start in range(0, len(exp_ids), 500):
            Experiment.update(description=text or "", last_update=now).where(
                Experiment.id.in_(exp_ids[start:start + 500])).execute()
        result.succeeded = exp_ids
        return result
    return run_write(work)


def set_tag_colors(name: str, background: str | None, foreground: str | None) -> None:
    def work():
        tag = Tag.get_or_none(Tag.name == name) or Tag.create(name=name)
        Tag.update(background=background, foreground=foreground).where(Tag.id == tag.id).execute()
    run_write(work)


def runtime_of(exp: Experiment) -> dict:
    try:
        return json.loads(exp.runtime or "{}")
    except ValueError:
        return {}
