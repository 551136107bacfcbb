"""Handing experiments to agents from a script: ``Task.clone``, ``Task.enqueue`` (``execute_remotely``
is the Task's own, as it ends the run)."""
from __future__ import annotations

from typing import Any

from exptable_desktop.core import actions
from exptable_desktop.core import states as st
from exptable_desktop.store.db import run_write
from exptable_desktop.store.schema import Experiment, Queue


def clone(source_id: str, *, name: str | None, comment: str | None, parent_id: str | None,
          project: str | None) -> str:
    """The new Draft's id; its parent is ``parent_id``, else the source's parent, else the source."""
    result = actions.clone([source_id], project=project, name=name, set_parent=parent_id is None,
                           description=comment)
    if source_id not in result.created:
        raise ValueError(f"cannot clone {source_id}: {result.skipped.get(source_id, 'no such experiment')}")
    new_id = result.created[source_id]
    if parent_id is not None:
        if Experiment.get_or_none(Experiment.id == parent_id) is None:
            raise ValueError(f"parent {parent_id}: no such experiment")
        run_write(lambda: Experiment.update(parent=parent_id).where(Experiment.id == new_id).execute())
    return new_id


def enqueue(experiment_id: str, *, queue_name: str | None, queue_id: Any, force: bool) -> dict[str, Any]:
    """Queue a Draft or Aborted experiment (``force``: reset another first); the reference's answer dict."""
    if not queue_name:
        if queue_id is None:
            raise ValueError("Task.enqueue needs queue_name (or queue_id)")
        queue = Queue.get_or_none(Queue.id == int(queue_id))
        if queue is None:
            raise ValueError(f"no queue with id {queue_id}")
        queue_name = queue.name
    status = Experiment.select(Experiment.status).where(Experiment.id == experiment_id).scalar()
    if status is None:
        raise ValueError(f"no experiment with id {experiment_id}")
    if force and status not in (st.DRAFT, st.ABORTED):
        actions.reset([experiment_id])
    result = actions.enqueue([experiment_id], queue_name)
    if experiment_id not in result.succeeded:
        raise ValueError(f"cannot enqueue {experiment_id}: {result.skipped.get(experiment_id)}")
    exp = Experiment.get_by_id(experiment_id)
    return {"queued": 1, "updated": 1,
            "fields": {"status": exp.status, "status_reason": exp.status_reason,
                       "status_message": exp.status_message, "execution.queue": exp.queue_id}}
