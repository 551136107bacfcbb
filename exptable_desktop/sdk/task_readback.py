"""Reading an experiment back from a script: finding it (``Task.get_task``, ``get_tasks``,
``query_tasks``; the filters are in ``sdk.task_query``) and its fields, parameters, configuration,
scalars, single values, artifacts and models as stored."""
from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from exptable_desktop.core import editing
from exptable_desktop.sdk import task_query
from exptable_desktop.sdk.params import cast as cast_value
from exptable_desktop.sdk.task_shared import LABELS_CONFIGURATION, ensure_database
from exptable_desktop.store.schema import (
    Artifact,
    ConfigObject,
    Experiment,
    HyperParam,
    MetricSummary,
    Project,
    SingleValue,
)
from exptable_desktop.store.series import list_series, read_series

if TYPE_CHECKING:
    from exptable_desktop.sdk.task import Task


class TaskReadback:
    """The part of ``Task`` that reads what is stored on an experiment (live or long finished)."""

    # ---- finding experiments -----------------------------------------------------------

    @classmethod
    def get_task(cls, task_id: str | None = None, project_name: str | None = None, task_name: str | None = None,
                 tags: Sequence[str] | None = None, allow_archived: bool = True,
                 task_filter: Mapping[str, Any] | None = None) -> "Task | None":
        """A Task for reading an experiment back: by id, or the most recently updated one matching
        every filter (see ``sdk.task_query``); None when nothing matches, as the reference."""
        ensure_database()
        if task_id:
            exp = Experiment.get_or_none(Experiment.id == task_id)
            if exp is None:
                raise ValueError(f"no experiment with id {task_id}")
            return cls(exp.id, live=False)
        if not (project_name or task_name or tags or task_filter):
            raise ValueError("Task.get_task needs task_id, or project_name / task_name / tags / task_filter")
        exp = task_query.get_one(project_name, task_name, tags, allow_archived, task_filter)
        return cls(exp.id, live=False) if exp is not None else None

    @classmethod
    def get_tasks(cls, task_ids: Sequence[str] | None = None, project_name: str | Sequence[str] | None = None,
                  task_name: str | None = None, tags: Sequence[str] | None = None, allow_archived: bool = True,
                  task_filter: Mapping[str, Any] | None = None) -> "list[Task]":
        """Tasks matching the filters (``task_name`` is a regular expression), most recently updated first."""
        ensure_database()
        rows = task_query.find(task_ids=task_ids, project_name=None if task_ids else project_name,
                               task_name=None if task_ids else task_name, tags=tags,
                               allow_archived=allow_archived, task_filter=task_filter)
        return [cls(row.id, live=False) for row in rows]

    @classmethod
    def query_tasks(cls, project_name: str | Sequence[str] | None = None, task_name: str | None = None,
                    tags: Sequence[str] | None = None, additional_return_fields: Sequence[str] | None = None,
                    task_filter: Mapping[str, Any] | None = None) -> list:
        """Ids of the matching experiments, or with ``additional_return_fields`` a dict per experiment."""
        ensure_database()
        return task_query.query(project_name, task_name, tags, additional_return_fields, task_filter)

    # ---- fields ------------------------------------------------------------------------

    @property
    def task_id(self) -> str:
        return self.id

    @property
    def name(self) -> str:
        return Experiment.select(Experiment.name).where(Experiment.id == self.id).scalar()

    @property
    def status(self) -> str:
        return Experiment.select(Experiment.status).where(Experiment.id == self.id).scalar()

    def get_status(self) -> str:
        return self.status

    def get_progress(self) -> int | None:
        return Experiment.select(Experiment.progress).where(Experiment.id == self.id).scalar()

    def get_tags(self) -> list[str]:
        from exptable_desktop.core.queries import tags_of

        return tags_of([self.id])[self.id]

    def get_project_name(self) -> str | None:
        """The project's full name ("team/vision")."""
        project_id = Experiment.select(Experiment.project).where(Experiment.id == self.id).scalar()
        names = []
        while project_id is not None:
            project = Project.get_by_id(project_id)
            names.insert(0, project.name)
            project_id = project.parent_id
        return "/".join(names) or None

    @property
    def project(self) -> int:
        return Experiment.select(Experiment.project).where(Experiment.id == self.id).scalar()

    @property
    def parent(self) -> str | None:
        return Experiment.select(Experiment.parent).where(Experiment.id == self.id).scalar()

    def get_output_log_web_page(self) -> str:
        """The link that opens this experiment in ExpTable (there is no web page)."""
        return f"exptable://experiment/{self.id}"

    @classmethod
    def get_task_output_log_web_page(cls, task_id: str, project_id: str | None = None,
                                     app_server_host: str | None = None) -> str:
        return f"exptable://experiment/{task_id}"

    # ---- parameters and configuration ----------------------------------------------------

    def get_parameters(self, backwards_compatibility: bool = True, cast: bool = False) -> dict[str, Any]:
        out = {}
        for section, name, value, kind in (HyperParam.select(HyperParam.section, HyperParam.name, HyperParam.value,
                                                             HyperParam.type)
                                           .where(HyperParam.experiment == self.id)
                                           .order_by(HyperParam.section, HyperParam.name).tuples()):
            key = f"{section}/{name}"
            if cast:
                try:
                    out[key] = cast_value(value, kind)
                except (ValueError, SyntaxError):
                    out[key] = value
            else:
                out[key] = value
        return out

    def get_parameters_as_dict(self, cast: bool = False) -> dict[str, Any]:
        """Parameters nested at every "/" (``{"General": {"nested": {"a": "1"}}}``), as the reference."""
        out: dict[str, Any] = {}
        for key, value in self.get_parameters(cast=cast).items():
            node = out
            *parents, leaf = key.split("/")
            for part in parents:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {} if child is None else {"": child}
                node = child
            if isinstance(node.get(leaf), dict):
                node[leaf][""] = value
            else:
                node[leaf] = value
        return out

    def get_configuration_object(self, name: str) -> str | None:
        row = ConfigObject.get_or_none((ConfigObject.experiment == self.id) & (ConfigObject.name == name))
        return row.value if row is not None else None

    def get_user_properties(self, value_only: bool = False) -> dict[str, Any]:
        rows = (HyperParam.select().where((HyperParam.experiment == self.id)
                                          & (HyperParam.section == editing.PROPERTIES)))
        if value_only:
            return {p.name: p.value for p in rows}
        return {p.name: {"name": p.name, "value": p.value, "description": p.description} for p in rows}

    def get_labels_enumeration(self) -> dict[str, int]:
        text = self.get_configuration_object(LABELS_CONFIGURATION)
        try:
            return {str(k): int(v) for k, v in json.loads(text).items()} if text else {}
        except (ValueError, AttributeError, TypeError):
            return {}

    # ---- scalars and single values -------------------------------------------------------

    def get_last_iteration(self) -> int:
        """The highest iteration reported so far (including reports not yet written), 0 before any."""
        stored = Experiment.select(Experiment.last_iteration).where(Experiment.id == self.id).scalar()
        pending = self._reporter.scalars[2::5] if self._reporter is not None else []
        return max([stored or 0, *[int(i) for i in pending]])

    def get_last_scalar_metrics(self) -> dict[str, dict[str, dict[str, float]]]:
        out: dict[str, dict[str, dict[str, float]]] = {}
        for m in MetricSummary.select().where(MetricSummary.experiment == self.id):
            out.setdefault(m.metric, {})[m.variant] = {"last": m.last, "min": m.min, "max": m.max}
        return out

    def get_reported_scalars(self, max_samples: int = 0, x_axis: str = "iter") -> dict[str, dict[str, dict]]:
        out: dict[str, dict[str, dict]] = {}
        for metric, variant in list_series(self.id):
            series = read_series(self.id, metric, variant)
            x = series.timestamps if x_axis == "timestamp" else series.iterations
            out.setdefault(metric, {})[variant] = {"x": x.tolist(), "y": series.values.tolist()}
        return out

    def get_reported_single_values(self) -> dict[str, float]:
        return {s.name: s.value for s in SingleValue.select().where(SingleValue.experiment == self.id)}

    # ---- artifacts and models --------------------------------------------------------------

    @property
    def artifacts(self) -> "Mapping[str, Any]":
        """Read-only, name -> ``sdk.artifact_objects.Artifact`` (``.get()``, ``.get_local_copy()``, ``.url``...)."""
        from exptable_desktop.sdk.artifact_objects import ArtifactsView

        self._sync_registered()
        return ArtifactsView(list(Artifact.select().where((Artifact.experiment == self.id)
                                                          & (Artifact.kind == "artifact")).order_by(Artifact.name)))

    def get_registered_artifacts(self) -> dict[str, Any]:
        """name -> the registered DataFrame itself, as the reference."""
        if self._live_objects is None or self._live_objects.registered is None:
            return {}
        return self._live_objects.registered.objects()

    @property
    def models(self):
        """``{"input": [...], "output": [...]}`` of ``sdk.model.Model``; each list also indexable by name."""
        from exptable_desktop.sdk.model import task_models

        return task_models(self.id)

    def get_models(self):
        return self.models
