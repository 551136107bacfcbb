"""Creating experiments and recording what they produce.

The SDK, the agent and the importers (ClearML offline, MLflow, TensorBoard) write
through here, so the read-only rule (nothing is added to a Published experiment) and
the "every change moves last_update" rule hold for them. Two writers that only add
experiments not yet in the database go around it: the demo generator (through
store.bulk_write, for speed) and bundle import (io.bundle copies the rows as they were).
"""
from __future__ import annotations

import json
import time
from typing import Any, Iterable, Mapping, Sequence


from exptable_desktop.core import states as st
from exptable_desktop.core.editing import ReadOnlyError
from exptable_desktop.core.projects import get_or_create_project
from exptable_desktop.paths import current_user
from exptable_desktop.store.db import run_write
from exptable_desktop.store.schema import (
    Artifact,
    ConfigObject,
    ConsoleChunk,
    DebugSample,
    Execution,
    Experiment,
    ExperimentTag,
    HyperParam,
    MetricSummary,
    Plot,
    ScalarChunk,
    SingleValue,
    Tag,
)
from exptable_desktop.store import text as text_rules
from exptable_desktop.store.series import append_scalars, compact_series, new_series_rows
from exptable_desktop.store.text import storable_text  # noqa: F401  (the SDK's and agent's name for it)


class UnknownExperiment(LookupError):
    """Raised when a write names an experiment id the database does not hold (never there, or deleted meanwhile);
    the CLI shows its message as a one-line error, the agent takes it as "the experiment was deleted"."""

    def __init__(self, experiment_id: str):
        super().__init__(f"no experiment with id {experiment_id}")


# Metric, variant and single-value names are VARCHAR(255): PostgreSQL refuses a longer
# one while SQLite keeps it whole, so both are given the same first 255 characters.
NAME_MAX_CHARS = 255


def storable_name(value: Any) -> str:
    """A metric, variant or value name as text both databases keep alike (store.text)."""
    return text_rules.storable_name(value, NAME_MAX_CHARS)


def create_experiment(project: str, name: str, *, task_type: str = "training", status: str = st.DRAFT,
                      user: str | None = None, tags: Sequence[str] = (), description: str = "",
                      parent: str | None = None, execution: Mapping[str, Any] | None = None,
                      development: bool = False, runtime: Mapping[str, Any] | None = None,
                      experiment_id: str | None = None) -> str:
    """A new experiment; ``experiment_id`` keeps an id given elsewhere (an importer's source run)."""
    if task_type not in st.TASK_TYPES:
        raise ValueError(f"unknown task type {task_type!r}; expected one of {', '.join(st.TASK_TYPES)}")
    if status not in st.ALL_STATUSES:
        raise ValueError(f"unknown status {status!r}")

    def work():
        now = time.time()
        proj = get_or_create_project(project)
        exp = Experiment.create(
            **({"id": experiment_id} if experiment_id else {}),
            name=name, type=task_type, status=status, project=proj.id, user=user or current_user(),
            parent=parent, created=now, last_update=now, status_changed=now, description=description,
            started=now if status == st.RUNNING else None, development=development,
            runtime=json.dumps(dict(runtime or {})), heartbeat=now if status == st.RUNNING else None,
        )
        Execution.create(experiment=exp.id, **dict(execution or {}))
        if tags:
            names = [Tag.name.db_value(t) for t in tags]  # as stored, so a cut name is found again
            known = {t.name: t.id for t in Tag.select().where(Tag.name.in_(names))}
            for tag in names:
                if tag not in known:
                    known[tag] = Tag.create(name=tag).id
            ExperimentTag.insert_many([{"experiment": exp.id, "tag": known[t]} for t in dict.fromkeys(names)]).execute()
        return exp.id
    return run_write(work)


def _writable(experiment_id: str) -> Experiment:
    exp = Experiment.select(Experiment.id, Experiment.status, Experiment.started, Experiment.created,
                            Experiment.last_iteration).where(Experiment.id == experiment_id).first()
    if exp is None:
        raise UnknownExperiment(experiment_id)
    reason = st.why_not_editable(exp.status, "outputs")
    if reason:
        raise ReadOnlyError(reason)
    return exp


# A script declares its configuration while it runs (or, started by an agent,
# from Pending); once it has ended its configuration is history, as it is for a
# person's edits outside Draft.
_CONFIGURABLE_STATUSES = frozenset({st.DRAFT, st.PENDING, st.RUNNING})


def _configurable(experiment_id: str) -> None:
    exp = _writable(experiment_id)
    if exp.status not in _CONFIGURABLE_STATUSES:
        raise ReadOnlyError(f"Experiment is {st.status_label(exp.status)}; "
                            "its configuration can no longer change")


def _append_console(experiment_id: str, lines: Sequence[tuple[float, str, str]]) -> int:
    """``lines``: (timestamp, level, text) with one line each; consecutive same-level lines share a chunk."""
    if not lines:
        return 0
    last = (ConsoleChunk.select(ConsoleChunk.seq, ConsoleChunk.first_line, ConsoleChunk.line_count)
            .where(ConsoleChunk.experiment == experiment_id).order_by(ConsoleChunk.seq.desc()).first())
    seq = last.seq + 1 if last else 0
    first_line = last.first_line + last.line_count if last else 0
    rows = []
    group: list[str] = []
    group_level = None
    group_time = 0.0
    for stamp, level, text in lines:
        if group and level != group_level:
            rows.append((group_time, group_level, group))
            group = []
        if not group:
            group_level, group_time = level, stamp
        group.append(text.rstrip("\n"))
    if group:
        rows.append((group_time, group_level, group))
    out = []
    for stamp, level, texts in rows:
        out.append({"experiment": experiment_id, "seq": seq, "first_line": first_line, "line_count": len(texts),
                    "level": level, "timestamp": stamp, "text": "\n".join(texts)})
        seq += 1
        first_line += len(texts)
    for start in range(0, len(out), 200):
        ConsoleChunk.insert_many(out[start:start + 200]).execute()
    return len(lines)


def record_batch(experiment_id: str, *, scalars: Iterable[tuple] | dict | None = None,
                 console: Sequence[tuple[float, str, str]] | None = None,
                 single_values: Mapping[str, float] | None = None,
                 plots: Sequence[Mapping[str, Any]] | None = None,
                 debug_samples: Sequence[Mapping[str, Any]] | None = None,
                 artifacts: Sequence[Mapping[str, Any]] | None = None,
                 progress: int | None = None, heartbeat: bool = True, live: bool = False,
                 at: float | None = None) -> dict:
    """Write one batch of outputs in one transaction; returns what the experiment's row now says.

    ``live``: the batch comes from the running script itself (the SDK). Its
    experiment may have been reset or re-queued under it; then the batch is
    refused, so the new Draft does not fill with the old run's results.
    ``at``: when the batch happened, if not now (an importer replaying a run's history).
    """
    def work():
        now = time.time() if at is None else at
        exp = _writable(experiment_id)
        if live:
            _refuse_replaced_run(exp)
        n_points = append_scalars(experiment_id, scalars, now=now) if scalars else 0
        n_lines = _append_console(experiment_id, console) if console else 0
        if single_values:
            rows = [{"experiment": experiment_id, "name": k, "value": float(v), "timestamp": now}
                    for k, v in single_values.items()]
            (SingleValue.insert_many(rows).on_conflict(
                conflict_target=[SingleValue.experiment, SingleValue.name],
                preserve=[SingleValue.value, SingleValue.timestamp]).execute())
        if plots:
            Plot.insert_many([{"experiment": experiment_id, "metric": p["metric"], "variant": p.get("variant", ""),
                               "iteration": int(p.get("iteration") or 0), "kind": p["kind"],
                               "data": p["data"] if isinstance(p["data"], str) else json.dumps(p["data"]),
                               "timestamp": p.get("timestamp", now)} for p in plots]).execute()
        if debug_samples:
            DebugSample.insert_many([{"experiment": experiment_id, "metric": d["metric"],
                                      "variant": d.get("variant", ""), "iteration": int(d.get("iteration") or 0),
                                      "path": d.get("path", ""), "content_type": d.get("content_type", "image/png"),
                                      "data": d.get("data"), "timestamp": d.get("timestamp", now)}
                                     for d in debug_samples]).execute()
        for art in artifacts or ():
            record_artifact_row(experiment_id, art, now)
        wrote = bool(scalars or console or single_values or plots or debug_samples or artifacts
                     or progress is not None)
        # A heartbeat alone must not move last_update: the table refreshes rows
        # whose last_update changed, and idle running scripts beat every second.
        changes: dict[str, Any] = {"last_update": now} if wrote else {}
        if heartbeat:
            changes["heartbeat"] = now
        if progress is not None:
            changes["progress"] = max(0, min(100, int(progress)))
        if wrote and exp.started is not None and exp.status == st.RUNNING:
            changes["run_time"] = now - exp.started
        if changes:
            Experiment.update(**changes).where(Experiment.id == experiment_id).execute()
        row = Experiment.select(Experiment.status, Experiment.status_message).where(
            Experiment.id == experiment_id).first()
        return {"points": n_points, "lines": n_lines, "status": row.status, "status_message": row.status_message}
    return run_write(work)


def _refuse_replaced_run(exp: Experiment) -> None:
    if exp.status in (st.DRAFT, st.PENDING):
        raise ReadOnlyError(f"Experiment is {st.status_label(exp.status)}: it was reset or enqueued, "
                            "so this run's results are no longer recorded")


def beat(experiment_id: str, *, progress: int | None = None) -> dict:
    """The running script's heartbeat (and progress) alone, in one small transaction.

    Kept apart from ``record_batch`` so a run whose results cannot be written
    (a full disk, a report the database refuses) still shows alive and still
    reads its status, so an Abort from the app reaches it. It adds no rows, so
    it usually still succeeds on a full disk. Returns what ``record_batch`` returns.
    """
    def work():
        now = time.time()
        _refuse_replaced_run(_writable(experiment_id))
        changes: dict[str, Any] = {"heartbeat": now}
        if progress is not None:
            changes.update(progress=max(0, min(100, int(progress))), last_update=now)
        Experiment.update(**changes).where(Experiment.id == experiment_id).execute()
        row = Experiment.select(Experiment.status, Experiment.status_message).where(
            Experiment.id == experiment_id).first()
        return {"points": 0, "lines": 0, "status": row.status, "status_message": row.status_message}
    return run_write(work)


def record_artifact_row(experiment_id: str, art: Mapping[str, Any], now: float) -> None:
    data = {"experiment": experiment_id, "name": art["name"], "kind": art.get("kind", "artifact"),
            "mode": art.get("mode", "output"), "uri": art.get("uri", ""), "in_storage": bool(art.get("in_storage")),
            "size": art.get("size"), "hash": art.get("hash", ""), "content_type": art.get("content_type", ""),
            "preview": art.get("preview", ""), "metadata": json.dumps(art.get("metadata") or {}), "created": now}
    (Artifact.insert(data).on_conflict(
        conflict_target=[Artifact.experiment, Artifact.kind, Artifact.mode, Artifact.name],
        preserve=[getattr(Artifact, k) for k in data if k not in ("experiment", "kind", "mode", "name")]).execute())


# A run that reaches one of these has stopped growing its series: their tails of small appended
# rows are compacted into one row each (store.series.compact_series), as a bulk writer stores them.
_RUN_ENDED = (st.COMPLETED, st.FAILED, st.ABORTED)


def set_status(experiment_id: str, status: str, *, reason: str = "", message: str = "",
               force: bool = False) -> bool:
    """Move one experiment along the state machine (the SDK's and agent's own transitions).

    Returns False (and changes nothing) when the transition is not allowed.
    """
    def work():
        exp = Experiment.get_or_none(Experiment.id == experiment_id)
        if exp is None:
            raise UnknownExperiment(experiment_id)
        if exp.status == status:
            # Already there (e.g. Archive aborted the run and left "stopping"): the
            # process's own word on how it ended replaces the request.
            changes = {}
            if message != exp.status_message:
                changes["status_message"] = message
            if reason and reason != exp.status_reason:
                changes["status_reason"] = reason
            if changes:
                Experiment.update(last_update=time.time(), **changes).where(Experiment.id == experiment_id).execute()
            if status in _RUN_ENDED:
                compact_series(experiment_id)
            return True
        if not force and not st.can_transition(exp.status, status):
            return False
        now = time.time()
        changes: dict[str, Any] = {"status": status, "status_changed": now, "last_update": now}
        if reason:
            changes["status_reason"] = reason
        changes["status_message"] = message
        if status == st.RUNNING:
            changes.update(started=exp.started or now, heartbeat=now, completed=None)
        if status in _RUN_ENDED:
            changes["completed"] = now
            if exp.started is not None:
                changes["run_time"] = now - exp.started
            compact_series(experiment_id)
        Experiment.update(**changes).where(Experiment.id == experiment_id).execute()
        return True
    return run_write(work)


def set_runtime(experiment_id: str, values: Mapping[str, Any]) -> None:
    def work():
        _writable(experiment_id)
        exp = Experiment.get(Experiment.id == experiment_id)
        merged = json.loads(exp.runtime or "{}")
        merged.update(values)
        Experiment.update(runtime=json.dumps(merged), last_update=time.time()).where(
            Experiment.id == experiment_id).execute()
    run_write(work)


def console_line_count(experiment_id: str) -> int:
    last = (ConsoleChunk.select(ConsoleChunk.first_line, ConsoleChunk.line_count)
            .where(ConsoleChunk.experiment == experiment_id).order_by(ConsoleChunk.seq.desc()).first())
    return last.first_line + last.line_count if last else 0


def read_console(experiment_id: str, start: int = 0, count: int | None = None) -> list[tuple[str, str]]:
    """Lines ``[start, start+count)`` as (level, text), reading only the chunks that hold them."""
    query = ConsoleChunk.select(ConsoleChunk.first_line, ConsoleChunk.level, ConsoleChunk.text).where(
        ConsoleChunk.experiment == experiment_id)
    if count is not None:
        query = query.where((ConsoleChunk.first_line + ConsoleChunk.line_count > start)
                            & (ConsoleChunk.first_line < start + count))
    elif start:
        query = query.where(ConsoleChunk.first_line + ConsoleChunk.line_count > start)
    out: list[tuple[str, str]] = []
    for first, level, text in query.order_by(ConsoleChunk.seq).tuples():
        for i, line in enumerate(text.split("\n")):
            index = first + i
            if index >= start and (count is None or index < start + count):
                out.append((level, line))
    return out


def record_parameters(experiment_id: str, section: str, params: Mapping[str, Mapping[str, Any]]) -> None:
    """Record what a running script declared: ``{name: {"value", "type", "description"}}``.

    Unlike ``core.editing`` (a person's edits, Draft only) this is the code's own
    report of its parameters, so it is allowed while Running.
    """
    rows = [{"experiment": experiment_id, "section": section, "name": name,
             "value": str(p.get("value", "")), "type": str(p.get("type") or ""),
             "description": str(p.get("description") or ""), "default": p.get("default")}
            for name, p in params.items()]

    def work():
        _configurable(experiment_id)
        for start in range(0, len(rows), 500):
            (HyperParam.insert_many(rows[start:start + 500])
             .on_conflict(conflict_target=[HyperParam.experiment, HyperParam.section, HyperParam.name],
                          preserve=[HyperParam.value, HyperParam.type, HyperParam.description,
                                    HyperParam.default]).execute())
        Experiment.update(last_update=time.time()).where(Experiment.id == experiment_id).execute()
    if rows:
        run_write(work)


def record_configuration(experiment_id: str, name: str, value: str, *, content_type: str = "",
                         description: str = "") -> None:
    def work():
        _configurable(experiment_id)
        (ConfigObject.insert(experiment=experiment_id, name=name, value=value, content_type=content_type,
                             description=description)
         .on_conflict(conflict_target=[ConfigObject.experiment, ConfigObject.name],
                      preserve=[ConfigObject.value, ConfigObject.content_type, ConfigObject.description])
         .execute())
        Experiment.update(last_update=time.time()).where(Experiment.id == experiment_id).execute()
    run_write(work)


def record_execution(experiment_id: str, **fields: Any) -> None:
    """The code a run actually executed (repository, commit, diff, packages...)."""
    unknown = set(fields) - {f for f in Execution._meta.sorted_field_names if f != "experiment"}
    if unknown:
        raise ValueError(f"unknown execution fields: {', '.join(sorted(unknown))}")

    def work():
        _configurable(experiment_id)
        if Execution.get_or_none(Execution.experiment == experiment_id) is None:
            Execution.create(experiment=experiment_id, **fields)
        elif fields:
            Execution.update(**fields).where(Execution.experiment == experiment_id).execute()
        Experiment.update(last_update=time.time()).where(Experiment.id == experiment_id).execute()
    run_write(work)


# What an importer may say about a run's life: its source's record, not this clock's.
LIFECYCLE_FIELDS = ("status", "created", "started", "completed", "last_update", "status_changed", "run_time",
                    "status_message", "status_reason", "progress", "last_iteration")


def record_lifecycle(experiment_id: str, **fields: Any) -> bool:
    """Set a run's status and times as its source recorded them (an importer replaying history).

    The status is set as given, without the state machine: the run already happened
    elsewhere. Only fields that differ are written, so replaying the same history changes
    nothing; returns whether anything changed.
    """
    unknown = set(fields) - set(LIFECYCLE_FIELDS)
    if unknown:
        raise ValueError(f"unknown lifecycle fields: {', '.join(sorted(unknown))}")
    if "status" in fields and fields["status"] not in st.ALL_STATUSES:
        raise ValueError(f"unknown status {fields['status']!r}")

    def work():
        exp = _writable(experiment_id)
        current = Experiment.select(*[getattr(Experiment, f) for f in fields]).where(
            Experiment.id == experiment_id).dicts().first()
        changes = {f: v for f, v in fields.items() if current[f] != v}
        if changes:
            if exp.status == st.RUNNING and changes.get("status", st.RUNNING) != st.RUNNING:
                changes.setdefault("heartbeat", None)
            Experiment.update(**changes).where(Experiment.id == experiment_id).execute()
        return bool(changes)
    return run_write(work)


_NEW_EXPERIMENT_FIELDS = ("type", "status", "user", "description", "parent", "created", "started", "completed",
                          "last_update", "status_changed", "run_time", "status_reason", "status_message",
                          "last_iteration", "progress")


def create_experiments(specs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Many new experiments, whole, in one transaction and a few statements per table (an importer's
    page of runs; one at a time, 10,000 runs would take minutes).

    Each spec holds ``id``, ``project`` (a path, made if missing) and ``name``, and may hold the
    experiment's fields (``type``, ``status``, ``user``, ``description``, ``parent``, ``created``,
    ``started``, ``completed``, ``last_update``, ``status_changed``, ``run_time``, ``status_reason``,
    ``status_message``), ``tags``, ``execution`` and ``runtime`` (dicts), ``parameters``
    (``{section: {name: {"value", "type", "description", "default"}}}``, user properties in section
    ``properties``), ``configuration`` (``{name: {"value", "content_type", "description"}}``) and
    ``scalars`` (``{(metric, variant): (iterations, values, timestamps)}``, as ``append_scalars``
    takes them). Other outputs follow through ``record_batch``. Returns the ids.
    """
    execution_fields = {f for f in Execution._meta.sorted_field_names if f != "experiment"}
    for spec in specs:
        if spec.get("type", "training") not in st.TASK_TYPES:
            raise ValueError(f"unknown task type {spec['type']!r}; expected one of {', '.join(st.TASK_TYPES)}")
        if spec.get("status", st.DRAFT) not in st.ALL_STATUSES:
            raise ValueError(f"unknown status {spec['status']!r}")
        unknown = set(spec.get("execution") or {}) - execution_fields
        if unknown:
            raise ValueError(f"unknown execution fields: {', '.join(sorted(unknown))}")

    def work():
        now = time.time()
        projects: dict[str, int] = {}
        rows, executions, params, configs, links, chunks, summaries = [], [], [], [], [], [], []
        for spec in specs:
            path = spec["project"]
            if path not in projects:
                projects[path] = get_or_create_project(path).id
            row = {"id": spec["id"], "name": spec["name"], "project": projects[path], "type": "training",
                   "status": st.DRAFT, "user": current_user(), "description": "", "created": now,
                   "last_update": now, "status_changed": now, "runtime": json.dumps(dict(spec.get("runtime") or {}))}
            row.update({f: spec[f] for f in _NEW_EXPERIMENT_FIELDS if spec.get(f) is not None})
            if not row["user"]:
                row["user"] = current_user()
            if spec.get("scalars"):
                new_chunks, new_summaries, top = new_series_rows(spec["id"], spec["scalars"])
                chunks += new_chunks
                summaries += new_summaries
                if top is not None:
                    row["last_iteration"] = top if row.get("last_iteration") is None else max(top, row["last_iteration"])
            rows.append(row)
            executions.append({"experiment": spec["id"], **dict(spec.get("execution") or {})})
            for section, values in (spec.get("parameters") or {}).items():
                for name, p in values.items():
                    params.append({"experiment": spec["id"], "section": section, "name": name,
                                   "value": str(p.get("value", "")), "type": str(p.get("type") or ""),
                                   "description": str(p.get("description") or ""), "default": p.get("default")})
            for name, obj in (spec.get("configuration") or {}).items():
                configs.append({"experiment": spec["id"], "name": name, "value": obj.get("value", ""),
                                "content_type": obj.get("content_type", ""), "description": obj.get("description", "")})
            for tag in dict.fromkeys(Tag.name.db_value(t) for t in spec.get("tags") or () if t):
                links.append((spec["id"], tag))
        for model, batch in ((Experiment, rows), (Execution, executions), (HyperParam, params),
                             (ConfigObject, configs), (ScalarChunk, chunks), (MetricSummary, summaries)):
            # Rows of one table share their columns: missing ones take the model's defaults.
            columns = sorted({k for row in batch for k in row})
            for row in batch:
                for column in columns:
                    if column not in row:
                        default = model._meta.fields[column].default
                        row[column] = default() if callable(default) else default
            for start in range(0, len(batch), 200):
                model.insert_many(batch[start:start + 200]).execute()
        if links:
            wanted = list(dict.fromkeys(name for _, name in links))
            known = {}
            for start in range(0, len(wanted), 500):
                known.update(Tag.select(Tag.name, Tag.id).where(Tag.name.in_(wanted[start:start + 500])).tuples())
            for name in wanted:
                if name not in known:
                    known[name] = Tag.create(name=name).id
            link_rows = [{"experiment": exp_id, "tag": known[name]} for exp_id, name in links]
            for start in range(0, len(link_rows), 500):
                ExperimentTag.insert_many(link_rows[start:start + 500]).execute()
        return [spec["id"] for spec in specs]
    return run_write(work) if specs else []
