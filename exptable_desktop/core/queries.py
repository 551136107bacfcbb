"""Reading experiments whole, for ``exptable show``, ``ls`` and the details panel."""
from __future__ import annotations

import json
from typing import Any

from exptable_desktop.core import states as st
from exptable_desktop.core.projects import find_project, descendant_ids, project_paths
from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.schema import (
    Artifact,
    ConfigObject,
    Execution,
    Experiment,
    ExperimentTag,
    HyperParam,
    MetricSummary,
    Queue,
    SingleValue,
    Tag,
)


class NotFound(LookupError):
    """A project, status or experiment named in a query that does not exist; the message is one line for a person."""


def tags_of(experiment_ids: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {i: [] for i in experiment_ids}
    for chunk in chunked(experiment_ids):
        for exp_id, name in (ExperimentTag.select(ExperimentTag.experiment, Tag.name).join(Tag)
                             .where(ExperimentTag.experiment.in_(chunk)).order_by(Tag.name).tuples()):
            out[exp_id].append(name)
    return out


def _row_summary(exp: Experiment, paths: dict[int, str], tags: list[str]) -> dict[str, Any]:
    return {
        "id": exp.id, "name": exp.name, "type": exp.type, "status": st.normalize_status(exp.status),
        "status_label": st.status_label(exp.status), "project": paths.get(exp.project_id, ""),
        "user": exp.user, "parent": exp.parent_id, "created": exp.created, "started": exp.started,
        "last_update": exp.last_update, "completed": exp.completed, "status_changed": exp.status_changed,
        "last_iteration": exp.last_iteration, "progress": exp.progress, "description": exp.description,
        "status_message": exp.status_message, "status_reason": exp.status_reason,
        "enqueue_status": exp.enqueue_status, "archived": exp.archived, "worker": exp.worker,
        "run_time": exp.run_time, "tags": tags,
    }


def list_experiments(project: str | None = None, status: str | None = None, archived: bool = False,
                     include_subprojects: bool = True, limit: int | None = None) -> list[dict[str, Any]]:
    query = Experiment.select().where(Experiment.archived == archived)
    if project:
        proj = find_project(project)
        if proj is None:
            raise NotFound(f"no project named {project!r}")
        ids = descendant_ids(proj.id) if include_subprojects else [proj.id]
        query = query.where(Experiment.project.in_(ids))
    if status:
        wanted = {s for s, label in st.STATUS_LABELS.items() if status.lower() in (s, label.lower())}
        if not wanted:
            raise NotFound(f"unknown status {status!r}; expected one of "
                           + ", ".join(st.STATUS_LABELS[s] for s in st.FILTER_STATUSES))
        query = query.where(Experiment.status.in_(list(wanted)))
    query = query.order_by(Experiment.last_update.desc())
    if limit:
        query = query.limit(limit)
    rows = list(query)
    paths = project_paths()
    tags = tags_of([r.id for r in rows])
    return [_row_summary(r, paths, tags[r.id]) for r in rows]


def experiment_detail(experiment_id: str) -> dict[str, Any]:
    exp = Experiment.get_or_none(Experiment.id == experiment_id)
    if exp is None:
        matches = list(Experiment.select(Experiment.id).where(Experiment.id.startswith(experiment_id)).limit(2))
        if len(experiment_id) >= 6 and len(matches) == 1:
            exp = Experiment.get_by_id(matches[0].id)
        else:
            raise NotFound(f"no experiment with id {experiment_id}")
    paths = project_paths()
    out = _row_summary(exp, paths, tags_of([exp.id])[exp.id])
    queue = Queue.get_or_none(Queue.id == exp.queue_id) if exp.queue_id else None
    out["queue"] = queue.name if queue else None
    out["runtime"] = json.loads(exp.runtime or "{}")
    execution = Execution.get_or_none(Execution.experiment == exp.id)
    out["execution"] = ({f: getattr(execution, f) for f in Execution._meta.sorted_field_names if f != "experiment"}
                        if execution else {})
    params: dict[str, dict[str, Any]] = {}
    for p in HyperParam.select().where(HyperParam.experiment == exp.id).order_by(HyperParam.section, HyperParam.name):
        params.setdefault(p.section, {})[p.name] = {"value": p.value, "type": p.type, "description": p.description}
    out["hyperparameters"] = params
    out["configuration"] = {c.name: {"value": c.value, "description": c.description, "type": c.content_type}
                            for c in ConfigObject.select().where(ConfigObject.experiment == exp.id)}
    out["metrics"] = [
        {"metric": m.metric, "variant": m.variant, "first": m.first, "last": m.last, "min": m.min, "max": m.max,
         "mean": (m.total / m.finite_count) if m.finite_count else None, "count": m.count,
         "last_iteration": m.last_iteration, "min_iteration": m.min_iteration, "max_iteration": m.max_iteration}
        for m in MetricSummary.select().where(MetricSummary.experiment == exp.id)
        .order_by(MetricSummary.metric, MetricSummary.variant)]
    out["single_values"] = {s.name: s.value for s in SingleValue.select().where(SingleValue.experiment == exp.id)}
    out["artifacts"] = [
        {"name": a.name, "kind": a.kind, "mode": a.mode, "uri": a.uri, "size": a.size, "hash": a.hash,
         "preview": a.preview, "metadata": json.loads(a.metadata or "{}")}
        for a in Artifact.select().where(Artifact.experiment == exp.id).order_by(Artifact.kind, Artifact.name)]
    return out
