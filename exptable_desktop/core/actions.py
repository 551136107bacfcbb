"""What a person (or script, or agent) may do to experiments, many at a time.

Every action takes a list of experiment ids and returns an :class:`ActionResult`
saying, per id, whether it was done or why it was skipped. The eligibility
rules live in :func:`why_not`, which the UI also uses to label menu entries
"Enqueue (3)" without touching the database.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from peewee import fn

from exptable_desktop.core import liveness
from exptable_desktop.core import states as st
from exptable_desktop.core.projects import get_or_create_project
from exptable_desktop.paths import current_user
from exptable_desktop.store import files as store_files
from exptable_desktop.store import schema
from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.db import read_only_reason, run_write
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
)

# A running script whose heartbeat is older than this is taken as dead: Abort
# then marks it Aborted at once instead of asking it to stop (the default of
# liveness.stale_after(), which EXPTABLE_HEARTBEAT_INTERVAL can lengthen).
HEARTBEAT_STALE_SECONDS = liveness.MISSED_HEARTBEATS * liveness.HEARTBEAT_INTERVAL_S

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
    "set_description": "updated", "edit_execution": "edited", "edit_hyperparams": "edited",
    "edit_configuration": "edited",
}


class ActionError(Exception):
    """A request that cannot be carried out at all (bad queue name, empty name...)."""


@dataclass
class ActionResult:
    """What one action did to many experiments: the ids it changed, and why it left each other one alone."""
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
    locked = read_only_reason()  # every action writes: none applies to a database we may only read
    if locked:
        return locked
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


# ---- Helpers ---------------------------------------------------------------------

def _unique(ids: Iterable[str]) -> list[str]:
    """The ids in order, once each, as a list. Every action takes this before its work
    closure: run_write runs the closure again after a lock conflict, and a generator
    of ids would be empty by then."""
    seen: dict[str, None] = {}
    for i in ids:
        seen.setdefault(str(i), None)
    return list(seen)


# What the actions read of each experiment: light rows, not full model objects,
# so that a selection of tens of thousands loads in a fraction of a second.
_ROW_COLUMNS = (Experiment.id, Experiment.name, Experiment.type, Experiment.status, Experiment.archived,
                Experiment.enqueue_status, Experiment.heartbeat, Experiment.parent.alias("parent_id"),
                Experiment.project.alias("project_id"))


def _load(ids: Sequence[str]) -> dict:
    found = {}
    for chunk in chunked(ids):
        for exp in Experiment.select(*_ROW_COLUMNS).where(Experiment.id.in_(chunk)).namedtuples():
            found[exp.id] = exp
    return found


def _partition(action: str, ids: list[str], result: ActionResult) -> list:
    """The rows of ``ids`` that ``action`` applies to; every other id goes to ``result.skipped`` with its reason."""
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


# The action's own writes: ``apply(result, eligible, now)`` with ``result.succeeded`` already
# listing the eligible ids. It may return paths of files to remove once the writes are committed.
Apply = Callable[[ActionResult, list, float], "Iterable[str] | None"]


def _run_action(action: str, ids: Iterable[str], apply: Apply) -> ActionResult:
    """What every batch action shares: ids once each, the eligible ones sorted from the
    skipped (with reasons), ``apply`` on the eligible ones in one write transaction, and
    their files removed only after it commits.

    Nothing is applied when no experiment is eligible, so an action never creates a
    queue, project or tag for nothing. ``run_write`` runs the transaction again after a
    lock conflict, so each attempt starts from a fresh result.
    """
    ids = _unique(ids)
    files: list[str] = []

    def work():
        files.clear()
        result = ActionResult(action)
        eligible = _partition(action, ids, result)
        if eligible:
            result.succeeded = [e.id for e in eligible]
            files.extend(apply(result, eligible, time.time()) or ())
        return result
    result = run_write(work)
    _remove_files(files)
    return result


def _update(exp_ids: Sequence[str], **changes) -> None:
    """One UPDATE per chunk of ids: batch actions cost a few queries, not one per experiment."""
    for chunk in chunked(exp_ids):
        Experiment.update(**changes).where(Experiment.id.in_(chunk)).execute()


def _set_status(exp_ids: Sequence[str], status: str, now: float, **extra) -> None:
    _update(exp_ids, status=status, status_changed=now, last_update=now, **extra)


def _remove_queue_entries(exp_ids: Sequence[str]) -> None:
    for chunk in chunked(exp_ids):
        QueueEntry.delete().where(QueueEntry.experiment.in_(chunk)).execute()


def _touch(exp_ids: Sequence[str], now: float) -> None:
    _update(exp_ids, last_update=now)


def get_or_create_queue(name: str, now: float | None = None) -> Queue:
    name = (name or "").strip()
    if not name:
        raise ActionError("a queue needs a name")
    now = time.time() if now is None else now
    queue = Queue.get_or_none(Queue.name == name)
    if queue is None:
        queue = Queue.create(name=name, created=now, last_update=now)
    return queue


def _append_to_queue(queue: Queue, exp_ids: Sequence[str], now: float) -> None:
    # An experiment sits in one queue once: an entry left behind (by an older
    # version, or a run that never said it started) must not block the new one.
    _remove_queue_entries(exp_ids)
    last = QueueEntry.select(fn.MAX(QueueEntry.position)).where(QueueEntry.queue == queue).scalar() or 0.0
    rows = [{"queue": queue.id, "experiment": exp_id, "position": last + i + 1, "added": now}
            for i, exp_id in enumerate(exp_ids)]
    for chunk in chunked(rows):
        QueueEntry.insert_many(chunk).execute()
    Queue.update(last_update=now).where(Queue.id == queue.id).execute()


def _owned_files(exp_ids: Sequence[str], outputs_only: bool) -> list[str]:
    """Paths of the experiments' debug samples and stored artifacts (outputs only, for Reset).

    Only those in each experiment's own folder: a sample recorded by URL may name any path.
    """
    paths: list[str] = []
    for chunk in chunked(exp_ids):
        folders = {exp_id: store_files.experiment_folder(exp_id) for exp_id in chunk}
        rows = list(DebugSample.select(DebugSample.experiment, DebugSample.path)
                    .where(DebugSample.experiment.in_(chunk) & (DebugSample.path != "")).tuples())
        stored = Artifact.experiment.in_(chunk) & Artifact.in_storage
        if outputs_only:
            stored &= Artifact.mode == "output"
        rows.extend(Artifact.select(Artifact.experiment, Artifact.uri).where(stored).tuples())
        paths.extend(path for exp_id, path in rows if store_files.names_something_in(path, folders[exp_id]))
    return paths


def _remove_files(paths: Iterable[str]) -> None:
    # Only after the rows are gone for good: a rolled-back Reset or Delete must
    # not leave rows pointing at files that no longer exist.
    for path in paths:
        store_files.remove_owned_file(path)


def _clear_outputs(exp_ids: Sequence[str]) -> None:
    """Remove every row an experiment produced; input artifacts and configuration stay."""
    for chunk in chunked(exp_ids):
        for model in EXPERIMENT_OUTPUT_MODELS:
            model.delete().where(model.experiment.in_(chunk)).execute()
        Artifact.delete().where((Artifact.experiment.in_(chunk)) & (Artifact.mode == "output")).execute()


# ---- Queue actions -----------------------------------------------------------------

def enqueue(ids: Iterable[str], queue_name: str, *, retry: bool = False) -> ActionResult:
    def apply(result, eligible, now):
        queue = get_or_create_queue(queue_name, now)
        # The right-hand side reads the row's old status: one UPDATE remembers each one's own.
        _set_status(result.succeeded, st.PENDING, now, enqueue_status=Experiment.status, queue=queue.id,
                    development=False, status_message="", status_reason="")
        _append_to_queue(queue, result.succeeded, now)
    return _run_action("retry" if retry else "enqueue", ids, apply)


def retry(ids: Iterable[str], queue_name: str) -> ActionResult:
    return enqueue(ids, queue_name, retry=True)


def _dequeue_rows(exps: Sequence[Experiment], now: float) -> None:
    by_status: dict[str, list[str]] = {}
    for exp in exps:
        back = exp.enqueue_status if exp.enqueue_status in (st.DRAFT, st.ABORTED, st.FAILED) else st.DRAFT
        by_status.setdefault(back, []).append(exp.id)
    for back, exp_ids in by_status.items():
        _set_status(exp_ids, back, now, queue=None, enqueue_status=None)
    _remove_queue_entries([e.id for e in exps])


def dequeue(ids: Iterable[str]) -> ActionResult:
    return _run_action("dequeue", ids, lambda result, eligible, now: _dequeue_rows(eligible, now))


def _abort_rows(exps: Sequence[Experiment], now: float, reason: str) -> None:
    pending = [e.id for e in exps if e.status == st.PENDING]
    running = [e for e in exps if e.status != st.PENDING]
    alive = liveness.alive_runs(running, now)
    _remove_queue_entries(pending)
    _set_status(pending, st.ABORTED, now, queue=None, status_reason=reason, status_message="aborted")
    # A live script (or its agent) sees "stopping", flushes and sets Aborted itself; if it
    # dies before that, liveness.mark_stale_runs ends it with this reason.
    _update([e.id for e in running if e.id in alive],
            status_message=liveness.STOPPING_MESSAGE, status_reason=reason, last_update=now)
    # Nobody is left to answer "stopping": a process known gone, a silent one, or no process at all.
    _set_status([e.id for e in running if e.id not in alive], st.ABORTED, now, completed=now,
                status_reason=reason, status_message="aborted")


def abort(ids: Iterable[str], reason: str = "Aborted by user") -> ActionResult:
    return _run_action("abort", ids, lambda result, eligible, now: _abort_rows(eligible, now, reason))


def children_to_abort(ids: Iterable[str]) -> list[Experiment]:
    """The Pending and Running children of the controller/optimizer experiments in ``ids``."""
    parents = [exp.id for exp in _load(_unique(ids)).values() if exp.type in st.PARENT_TYPES]
    children: list[Experiment] = []
    for chunk in chunked(parents):
        children.extend(Experiment.select().where(
            (Experiment.parent.in_(chunk)) & (Experiment.status.in_([st.PENDING, st.RUNNING]))))
    return children


def abort_children(ids: Iterable[str]) -> ActionResult:
    """Abort the Pending/Running children; ``succeeded`` lists the children aborted."""
    def apply(result, eligible, now):
        children = children_to_abort(result.succeeded)
        _abort_rows(children, now, "Parent's children aborted by user")
        result.succeeded = [c.id for c in children]
    return _run_action("abort_children", ids, apply)


# ---- Life-cycle actions ---------------------------------------------------------------

def reset(ids: Iterable[str], *, delete_files: bool = True) -> ActionResult:
    def apply(result, eligible, now):
        exp_ids = result.succeeded
        files = _owned_files(exp_ids, outputs_only=True) if delete_files else []
        _remove_queue_entries(exp_ids)
        _clear_outputs(exp_ids)
        _set_status(exp_ids, st.DRAFT, now, started=None, completed=None, last_iteration=None, progress=None,
                    run_time=None, queue=None, worker=None, enqueue_status=None, status_message="",
                    status_reason="", runtime="{}", heartbeat=None)
        return files
    return _run_action("reset", ids, apply)


def publish(ids: Iterable[str]) -> ActionResult:
    return _run_action("publish", ids, lambda result, eligible, now: _set_status(result.succeeded, st.PUBLISHED, now))


def archive(ids: Iterable[str]) -> ActionResult:
    def apply(result, eligible, now):
        _dequeue_rows([e for e in eligible if e.status == st.PENDING], now)
        running = [e for e in eligible if e.status == st.RUNNING]
        alive = liveness.alive_runs(running, now)
        # Archive sets Aborted at once (feature inventory 1.3); "stopping" tells a live script to end.
        for is_alive in (True, False):
            _set_status([e.id for e in running if (e.id in alive) == is_alive], st.ABORTED, now, completed=now,
                        status_reason="Archived", status_message=liveness.STOPPING_MESSAGE if is_alive else "aborted")
        _update(result.succeeded, archived=True, last_update=now)
    return _run_action("archive", ids, apply)


def restore(ids: Iterable[str]) -> ActionResult:
    return _run_action("restore", ids,
                       lambda result, eligible, now: _update(result.succeeded, archived=False, last_update=now))


def delete(ids: Iterable[str], *, delete_files: bool = True) -> ActionResult:
    """Remove archived experiments and everything they own (their files too, if asked)."""
    def apply(result, eligible, now):
        exp_ids = result.succeeded
        files = _owned_files(exp_ids, outputs_only=False) if delete_files else []
        for chunk in chunked(exp_ids):
            for model in EXPERIMENT_OUTPUT_MODELS + [Artifact, HyperParam, ConfigObject, ExperimentTag,
                                                       QueueEntry, Execution]:
                model.delete().where(model.experiment.in_(chunk)).execute()
            Experiment.update(parent=None, last_update=now).where(Experiment.parent.in_(chunk)).execute()
            Worker.update(current_experiment=None).where(Worker.current_experiment.in_(chunk)).execute()
            Experiment.delete().where(Experiment.id.in_(chunk)).execute()
            DeletedExperiment.insert_many([{"experiment_id": i, "deleted_at": now} for i in chunk]).execute()
        return files
    result = _run_action("delete", ids, apply)
    if delete_files:
        folders = (store_files.experiment_folder(i) for i in result.succeeded)
        _remove_files(str(f) for f in folders if f.exists())
    return result


# ---- Organising -------------------------------------------------------------------------

def clone(ids: Iterable[str], *, project: str | int | None = None, name: str | None = None,
          set_parent: bool = False, description: str | None = None, user: str | None = None) -> ActionResult:
    """New Drafts with the originals' configuration, execution and hyperparameters, no outputs.

    ``project`` is a project id or a "/"-separated path (created if missing);
    None keeps each original's project.
    """
    def apply(result, eligible, now):
        target = _resolve_project(project) if project is not None else None
        stamp = time.strftime('%Y-%m-%d %H:%M:%S')
        rows = []
        for exp in eligible:
            new_id = schema.new_id()
            result.created[exp.id] = new_id
            rows.append({
                "id": new_id, "name": name if (name and len(eligible) == 1) else f"Clone Of {exp.name}",
                "type": exp.type, "status": st.DRAFT, "project": target.id if target else exp.project_id,
                "user": user or current_user(), "parent": (exp.parent_id or exp.id) if set_parent else None,
                "created": now, "last_update": now, "status_changed": now,
                "description": description if description is not None else f"Cloned from {exp.id} at {stamp}",
            })
        for chunk in chunked(rows):
            Experiment.insert_many(chunk).execute()
        _copy_configuration(result.created)
    return _run_action("clone", ids, apply)


def _copied_rows(model, source_to_target: dict[str, str], where=None, **overrides) -> None:
    """Copy ``model``'s rows of the source experiments to their targets, in bulk."""
    sources = list(source_to_target)
    rows = []
    for chunk in chunked(sources):
        condition = model.experiment.in_(chunk)
        if where is not None:
            condition &= where
        for row in model.select().where(condition).dicts():
            row.pop("id", None)
            row["experiment"] = source_to_target[row["experiment"]]
            row.update(overrides)
            rows.append(row)
    for chunk in chunked(rows):
        model.insert_many(chunk).execute()


def _copy_configuration(source_to_target: dict[str, str]) -> None:
    """Execution, hyperparameters, configuration objects, tags and input artifacts; never outputs."""
    _copied_rows(Execution, source_to_target)
    _copied_rows(HyperParam, source_to_target)
    _copied_rows(ConfigObject, source_to_target)
    _copied_rows(ExperimentTag, source_to_target)
    # The clone points at the original's input files but does not own them:
    # deleting the clone must not delete them.
    _copied_rows(Artifact, source_to_target, Artifact.mode == "input", in_storage=False)


def _resolve_project(project: str | int) -> Project:
    """An int is a project id; a string is a path, or an id written out when that id exists
    (so a project may still be named "2024")."""
    if isinstance(project, int):
        found = Project.get_or_none(Project.id == project)
        if found is None:
            raise ActionError(f"no project with id {project}")
        return found
    if project.strip().isdigit():
        found = Project.get_or_none(Project.id == int(project))
        if found is not None:
            return found
    return get_or_create_project(project)


def move(ids: Iterable[str], project: str | int) -> ActionResult:
    def apply(result, eligible, now):
        _update(result.succeeded, project=_resolve_project(project).id, last_update=now)
    return _run_action("move", ids, apply)


def _tag_ids(names: Iterable[str], create: bool) -> dict[str, int]:
    # As the column keeps them, so a name cut or cleaned on the way in is found again.
    names = list(dict.fromkeys(Tag.name.db_value(n.strip()) for n in names if n and n.strip()))
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

    def apply(result, eligible, now):
        tag_ids = _tag_ids(tags, create=True)
        exp_ids = result.succeeded
        existing = set()
        for chunk in chunked(exp_ids):
            existing.update(ExperimentTag.select(ExperimentTag.experiment, ExperimentTag.tag)
                            .where(ExperimentTag.experiment.in_(chunk)).tuples())
        rows = [{"experiment": e, "tag": t} for e in exp_ids for t in tag_ids.values() if (e, t) not in existing]
        for chunk in chunked(rows):
            ExperimentTag.insert_many(chunk).execute()
        _touch(exp_ids, now)
    return _run_action("add_tags", ids, apply)


def remove_tags(ids: Iterable[str], tags: Iterable[str]) -> ActionResult:
    tags = list(tags)

    def apply(result, eligible, now):
        tag_ids = list(_tag_ids(tags, create=False).values())
        for chunk in chunked(result.succeeded if tag_ids else []):
            ExperimentTag.delete().where(ExperimentTag.experiment.in_(chunk) & ExperimentTag.tag.in_(tag_ids)).execute()
        _touch(result.succeeded, now)
    return _run_action("remove_tags", ids, apply)


def rename(ids: Iterable[str], name: str) -> ActionResult:
    name = (name or "").strip()
    if len(name) < 2:
        raise ActionError("a name needs at least 2 characters")
    return _run_action("rename", ids,
                       lambda result, eligible, now: _update(result.succeeded, name=name, last_update=now))


def set_description(ids: Iterable[str], text: str) -> ActionResult:
    return _run_action("set_description", ids,
                       lambda result, eligible, now: _update(result.succeeded, description=text or "", last_update=now))


def set_tag_colors(name: str, background: str | None, foreground: str | None) -> None:
    def work():
        tag = Tag.get_or_none(Tag.name == name) or Tag.create(name=name)
        Tag.update(background=background, foreground=foreground).where(Tag.id == tag.id).execute()
    run_write(work)
