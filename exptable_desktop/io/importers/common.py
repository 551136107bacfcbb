"""What every importer shares: the run it reads, and writing it in idempotently.

An importer turns each run of its source into a :class:`SourceRun` and hands them to
:func:`import_runs`, which writes through ``core.recording`` (the one path every writer
takes), all in one transaction: an import that fails or is cancelled leaves the database as
it was, and the files it copied are removed again. Inside it, each run is a savepoint: a
run the database refuses is reported and the others still go in.

Idempotent: a run keeps its source's id (the experiment id is derived from it, and the
user properties ``imported_from`` and ``source_run_id`` say where it came from). Importing
it again writes only what the experiment does not hold yet: points past the ones it has,
console lines past its last, plots, debug samples and artifacts it lacks, new or changed
parameters and configuration, and the source's status and times where they changed. So
the same source imported twice changes nothing, and a run that grew adds only what is new.
Edits made here (name, description, tags, project) are not undone by a re-import.
"""
from __future__ import annotations

import mimetypes
import shutil
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from exptable_desktop.core import recording
from exptable_desktop.core import states as st
from exptable_desktop.core.editing import ReadOnlyError
from exptable_desktop.store import files as store_files
from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.db import require_writable, write_transaction
from exptable_desktop.store.schema import (
    Artifact,
    ConfigObject,
    ConsoleChunk,
    DebugSample,
    Execution,
    Experiment,
    HyperParam,
    MetricSummary,
    Plot,
    SingleValue,
)

PROPERTIES = "properties"
SOURCE_PROPERTY = "imported_from"
RUN_ID_PROPERTY = "source_run_id"
_ID_NAMESPACE = uuid.UUID("6f1d3c52-7a0e-4e55-9c7b-0e3b5f4d2a11")
# A run's status in its source that says a process is still writing it: no process stands
# behind it here, so it comes in Aborted (the liveness check would end a Running one anyway).
STILL_RUNNING_REASON = "Still running in {source} when imported"


class SourceError(Exception):
    """The source cannot be read at all (missing, not of this kind, a library missing); one line."""


class ImportCancelled(Exception):
    """Cancelled by the person: nothing of the import was kept."""


# ---- What an importer reads --------------------------------------------------------------

@dataclass
class SourceRun:
    """One run read from an import source (ClearML offline, MLflow, TensorBoard), in the shape every importer writes."""
    source: str               # "clearml", "mlflow", "tensorboard"
    source_id: str            # the run's id in its source
    project: str
    name: str
    experiment_id: str = ""   # derived from source and source_id unless the source's id is usable as is
    task_type: str = "training"
    status: str = st.COMPLETED
    status_reason: str = ""   # why the run has this status (inferred ones say so)
    status_message: str = ""
    user: str = ""
    created: float | None = None
    started: float | None = None
    completed: float | None = None
    last_update: float | None = None
    description: str = ""
    tags: list[str] = field(default_factory=list)
    parent_id: str | None = None  # experiment id of the parent (an imported run of the same source)
    execution: dict[str, Any] = field(default_factory=dict)
    runtime: dict[str, Any] = field(default_factory=dict)
    # section -> name -> {"value", "type", "description"}; section "properties" = user properties
    parameters: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    configuration: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> value, content_type, description
    # (metric, variant) -> (iterations, values, timestamps), in the source's order
    scalars: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    console: list[tuple[float, str, str]] = field(default_factory=list)  # (time, level, one line)
    single_values: dict[str, float] = field(default_factory=dict)
    plots: list[dict[str, Any]] = field(default_factory=list)  # metric, variant, iteration, kind, data (str), timestamp
    # metric, variant, iteration, timestamp, and either "source" (a file to copy) or "data" (bytes) with
    # "file_name"; or "uri" (an external address, kept as it is)
    debug_samples: list[dict[str, Any]] = field(default_factory=list)
    # name, kind, mode, content_type, metadata, preview, and "source" (a file to copy) or "uri" (kept as is)
    artifacts: list[dict[str, Any]] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # parts that could not be read, said plainly
    notes: list[str] = field(default_factory=list)    # what the importer decided (an inferred status...)

    def __post_init__(self):
        if not self.experiment_id:
            self.experiment_id = experiment_id_for(self.source, self.source_id)


def experiment_id_for(source: str, source_id: str) -> str:
    """The experiment id a source run always gets: the same run, the same experiment."""
    return uuid.uuid5(_ID_NAMESPACE, f"{source}:{source_id}").hex


def series(points: Iterable[tuple[int, float, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(iterations, values, timestamps) arrays from (iteration, value, timestamp) tuples."""
    rows = list(points)
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
    array = np.array(rows, dtype=np.float64)
    return array[:, 0].astype(np.int64), array[:, 1], array[:, 2]


# ---- The report ------------------------------------------------------------------------------

@dataclass
class RunOutcome:
    """What importing one run did (created, updated, unchanged, skipped, failed), what it added, what was missing."""
    experiment_id: str
    source_id: str
    name: str
    action: str  # created | updated | unchanged | skipped | failed
    added: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str = ""

    def line(self) -> str:
        added = ", ".join(f"{n:,} {what}" for what, n in self.added.items() if n)
        text = f"{self.action} {self.experiment_id} {self.name!r}"
        if added:
            text += f" (+{added})"
        if self.error:
            text += f": {self.error}"
        return text


@dataclass
class ImportReport:
    """What one import did, run by run, and the problems that kept runs from being read at all."""
    source: str
    location: str
    runs: list[RunOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # source-level: runs that could not be read at all
    seconds: float = 0.0

    def count(self, action: str) -> int:
        return sum(1 for r in self.runs if r.action == action)

    def summary(self) -> str:
        parts = [f"{self.count(a)} {a}" for a in ("created", "updated", "unchanged", "skipped", "failed")
                 if self.count(a)]
        points = sum(r.added.get("points", 0) for r in self.runs)
        text = f"imported {len(self.runs)} run{'s' if len(self.runs) != 1 else ''} from {self.location}"
        text += f": {', '.join(parts) or 'nothing to import'}"
        if points:
            text += f"; {points:,} scalar points"
        return text + f" in {self.seconds:.1f} s"

    def details(self) -> list[str]:
        """One line per run that did something or has something to say, then the problems."""
        lines = []
        for run in self.runs:
            if run.action != "unchanged" or run.missing or run.notes:
                lines.append(run.line())
            lines.extend(f"  missing: {m}" for m in run.missing)
            lines.extend(f"  note: {n}" for n in run.notes)
        lines.extend(f"problem: {p}" for p in self.problems)
        return lines

    @property
    def failed(self) -> bool:
        return any(r.action in ("failed", "skipped") for r in self.runs) or bool(self.problems)


# ---- Writing ----------------------------------------------------------------------------------

Progress = Callable[[int, int, str], "bool | None"]


# Runs written together: new ones of a page are created in a few bulk statements.
PAGE_RUNS = 200


def import_runs(runs: Iterable[SourceRun | Exception], *, source: str, location: str, total: int | None = None,
                on_progress: Progress | None = None) -> ImportReport:
    """Write ``runs`` (an importer's reads; an Exception stands for a run that could not be read)
    in one transaction. ``on_progress(done, total, name)`` after each run; False cancels
    (ImportCancelled, nothing kept)."""
    require_writable()
    clock = time.perf_counter()
    report = ImportReport(source, location)
    written: list[Path] = []
    done = 0
    try:
        with write_transaction():
            page: list[SourceRun | Exception] = []
            for run in _pages_of(runs):
                if run is not None:
                    page.append(run)
                    if len(page) < PAGE_RUNS:
                        continue
                for item, outcome in _write_page(page, written):
                    done += 1
                    if outcome is None:
                        report.problems.append(str(item))
                    else:
                        report.runs.append(outcome)
                    name = "" if isinstance(item, Exception) else item.name
                    if on_progress is not None and on_progress(done, total or done, name) is False:
                        raise ImportCancelled(f"import cancelled after {done} runs; nothing was imported")
                page = []
    except BaseException:
        remove_written_files(written)
        raise
    report.seconds = time.perf_counter() - clock
    return report


def _pages_of(runs: Iterable[SourceRun | Exception]):
    """The runs, then None: the end of the last page."""
    yield from runs
    yield None


def _write_page(page: list[SourceRun | Exception], written: list[Path]):
    """(item, outcome) for each run of the page (outcome None for a run that could not be read)."""
    runs = [r for r in page if isinstance(r, SourceRun)]
    present = set()
    for chunk in chunked(r.experiment_id for r in runs):
        present.update(i for (i,) in Experiment.select(Experiment.id).where(Experiment.id.in_(chunk)).tuples())
    new = [r for r in runs if r.experiment_id not in present]
    created: dict[str, RunOutcome] = {}
    if new:
        mark = len(written)
        try:
            with write_transaction():  # a savepoint: the page's new runs together, or each on its own below
                created = _create_runs(new, written)
        except ReadOnlyError:
            raise
        except Exception as exc:
            if _is_connection_problem(exc):
                raise
            remove_written_files(written[mark:])
            del written[mark:]
            created = {}  # one of them is refused: each on its own, to tell which
    states = _existing_states([r.experiment_id for r in runs if r.experiment_id in present])
    for item in page:
        if isinstance(item, Exception):
            yield item, None
        elif item.experiment_id in created:
            yield item, created[item.experiment_id]
        else:
            yield item, _write_one(item, written, states.get(item.experiment_id))


def _write_one(run: SourceRun, written: list[Path], state: _Existing | None = None) -> RunOutcome:
    outcome = RunOutcome(run.experiment_id, run.source_id, run.name, "unchanged", missing=list(run.missing),
                         notes=list(run.notes))
    mark = len(written)
    try:
        with write_transaction():  # a savepoint: this run alone is undone if the database refuses it
            exists = Experiment.select(Experiment.id).where(Experiment.id == run.experiment_id).exists()
            if exists:
                outcome.action = "updated" if _update(run, outcome, written, state) else "unchanged"
            else:
                _create(run, outcome, written)
                outcome.action = "created"
    except ReadOnlyError as exc:
        remove_written_files(written[mark:])
        del written[mark:]
        outcome.action, outcome.error, outcome.added = "skipped", str(exc), {}
    except Exception as exc:  # the database refused something of this run; the others go on
        if _is_connection_problem(exc):
            raise
        remove_written_files(written[mark:])
        del written[mark:]
        outcome.action, outcome.error, outcome.added = "failed", f"{type(exc).__name__}: {exc}".splitlines()[0], {}
    return outcome


def _is_connection_problem(exc: Exception) -> bool:
    text = str(exc).lower()
    return any(part in text for part in ("connection", "server closed", "disk i/o", "database or disk is full"))


def _properties(run: SourceRun) -> dict[str, dict[str, Any]]:
    own = {SOURCE_PROPERTY: {"value": run.source, "description": "the tool this run was imported from"},
           RUN_ID_PROPERTY: {"value": run.source_id, "description": "the run's id there"}}
    return {**run.parameters.get(PROPERTIES, {}), **own}


def _lifecycle(run: SourceRun, now: float | None) -> dict[str, Any]:
    """The experiment's status and times from the source. A source that knows no time at all
    leaves created and last update at ``now`` (a new experiment) or as they are (``now`` None)."""
    times = [t for t in (run.created, run.started, run.completed, run.last_update) if t is not None]
    fields: dict[str, Any] = {
        "status": run.status, "started": run.started, "completed": run.completed,
        "run_time": (run.completed - run.started) if run.completed is not None and run.started is not None else None,
        "status_reason": run.status_reason, "status_message": run.status_message}
    last = run.last_update if run.last_update is not None else (max(times) if times else now)
    if last is not None:
        fields["last_update"] = last
        fields["created"] = run.created if run.created is not None else (min(times) if times else last)
        fields["status_changed"] = run.completed if run.completed is not None else last
    return fields


def _create(run: SourceRun, outcome: RunOutcome, written: list[Path]) -> None:
    created = _create_runs([run], written)[run.experiment_id]
    outcome.added, outcome.notes = created.added, created.notes


def _create_runs(runs: list[SourceRun], written: list[Path]) -> dict[str, RunOutcome]:
    """New experiments for ``runs`` (none of them in the database yet): rows, parameters and
    configuration in bulk, then each one's outputs."""
    now = time.time()
    ids = {r.experiment_id for r in runs}
    parents = {r.parent_id for r in runs if r.parent_id and r.parent_id not in ids}
    known_parents = {i for (i,) in Experiment.select(Experiment.id).where(
        Experiment.id.in_(list(parents))).tuples()} if parents else set()
    outcomes: dict[str, RunOutcome] = {}
    specs = []
    seen: set[str] = set()
    for run in runs:
        outcome = outcomes[run.experiment_id] = RunOutcome(run.experiment_id, run.source_id, run.name, "created",
                                                           missing=list(run.missing), notes=list(run.notes))
        # A parent must be written first: earlier in these runs, or already in the database.
        parent = run.parent_id if run.parent_id in known_parents or run.parent_id in seen else None
        if run.parent_id and parent is None:
            outcome.notes.append(f"parent {run.parent_id} is not in this database; imported without it")
        seen.add(run.experiment_id)
        params = {section: values for section, values in run.parameters.items() if section != PROPERTIES}
        params[PROPERTIES] = _properties(run)
        specs.append({"id": run.experiment_id, "project": run.project, "name": run.name,
                      "type": run.task_type if run.task_type in st.TASK_TYPES else "custom",
                      "user": run.user or None, "description": run.description, "parent": parent,
                      "tags": run.tags, "execution": {k: v for k, v in run.execution.items() if v is not None},
                      "runtime": run.runtime, "parameters": params, "configuration": run.configuration,
                      "scalars": {k: v for k, v in run.scalars.items() if len(v[0])}, **_lifecycle(run, now)})
        outcome.added["parameters"] = sum(len(v) for v in params.values())
        outcome.added["configuration objects"] = len(run.configuration)
        outcome.added["points"] = sum(len(v[0]) for v in run.scalars.values())
    recording.create_experiments(specs)
    for run, spec in zip(runs, specs):
        new = _new_outputs(run, None)
        new.scalars = {}  # written with the experiment
        _add_outputs(run, outcomes[run.experiment_id], written, new, at=spec["last_update"])
    return outcomes


def _update(run: SourceRun, outcome: RunOutcome, written: list[Path], state: "_Existing | None" = None) -> bool:
    """Add what the experiment lacks; True when anything was written. ``state``: what it holds,
    read beforehand for a whole page of runs (else read here)."""
    exp_id = run.experiment_id
    existing = state if state is not None else _existing_states([exp_id])[exp_id]
    wanted_params: dict[str, dict[str, dict[str, Any]]] = {}
    all_params = {**{s: v for s, v in run.parameters.items() if s != PROPERTIES}, PROPERTIES: _properties(run)}
    for section, values in all_params.items():
        for name, p in values.items():
            row = (str(p.get("value", "")), str(p.get("type") or ""), str(p.get("description") or ""))
            if existing.params.get((section, name)) != row:
                wanted_params.setdefault(section, {})[name] = p
    wanted_config = {name: obj for name, obj in run.configuration.items()
                     if existing.configs.get(name) != (obj.get("value", ""), obj.get("content_type", ""),
                                                       obj.get("description", ""))}
    wanted_execution = {k: v for k, v in run.execution.items()
                        if v is not None and existing.execution.get(k, ...) != v}
    pending_outputs = _new_outputs(run, existing)
    lifecycle = _lifecycle(run, None)
    current = existing.lifecycle
    lifecycle_changes = {f: v for f, v in lifecycle.items() if current[f] != v}
    if current["status"] in st.READ_ONLY_STATUSES:
        # Published here: its status and times are this database's now. Anything new from the
        # source is refused below (nothing is added to a Published experiment).
        lifecycle_changes = {}
    if not (wanted_params or wanted_config or wanted_execution or pending_outputs or lifecycle_changes):
        return False
    if wanted_params or wanted_config or wanted_execution:
        # A run's declarations are recorded while it runs; replaying its history reopens it for
        # the length of this transaction, and its own status and times are set back below.
        if current["status"] not in (st.DRAFT, st.PENDING, st.RUNNING):
            if not recording.set_status(exp_id, st.RUNNING, force=True):
                raise ReadOnlyError(f"experiment {exp_id} cannot take new parameters")
        for section, values in wanted_params.items():
            recording.record_parameters(exp_id, section, values)
        for name, obj in wanted_config.items():
            recording.record_configuration(exp_id, name, obj.get("value", ""),
                                           content_type=obj.get("content_type", ""),
                                           description=obj.get("description", ""))
        if wanted_execution:
            recording.record_execution(exp_id, **wanted_execution)
        outcome.added["parameters"] = sum(len(v) for v in wanted_params.values())
        outcome.added["configuration objects"] = len(wanted_config)
    if pending_outputs:
        _add_outputs(run, outcome, written, pending_outputs)
    recording.record_lifecycle(exp_id, **lifecycle)
    return True


# ---- Outputs: what is new, and writing it ----------------------------------------------------

@dataclass
class _Existing:
    """What an experiment already holds, as far as an import compares."""
    counts: dict[tuple[str, str], int] = field(default_factory=dict)
    console_lines: int = 0
    plots: set[tuple] = field(default_factory=set)
    samples: set[tuple] = field(default_factory=set)
    artifacts: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (name, kind, mode) -> hash
    single_values: dict[str, float | None] = field(default_factory=dict)
    params: dict[tuple[str, str], tuple[str, str, str]] = field(default_factory=dict)
    configs: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    execution: dict[str, Any] = field(default_factory=dict)
    lifecycle: dict[str, Any] = field(default_factory=dict)


_LIFECYCLE_COLUMNS = ("status", "created", "started", "completed", "last_update", "status_changed", "run_time",
                      "status_reason", "status_message")


def _existing_states(ids: list[str]) -> dict[str, _Existing]:
    """What each experiment of ``ids`` holds, in a dozen queries for the lot (not a dozen each)."""
    from peewee import fn

    out = {i: _Existing() for i in ids}
    for chunk in chunked(ids):

        def rows(*columns, model):
            return model.select(*columns).where(model.experiment.in_(chunk)).tuples()
        for e, m, v, c in rows(MetricSummary.experiment, MetricSummary.metric, MetricSummary.variant,
                               MetricSummary.count, model=MetricSummary):
            out[e].counts[(m, v)] = c
        for e, lines in (ConsoleChunk.select(ConsoleChunk.experiment,
                                             fn.MAX(ConsoleChunk.first_line + ConsoleChunk.line_count))
                         .where(ConsoleChunk.experiment.in_(chunk)).group_by(ConsoleChunk.experiment).tuples()):
            out[e].console_lines = lines or 0
        for e, *key in rows(Plot.experiment, Plot.metric, Plot.variant, Plot.iteration, Plot.data, model=Plot):
            out[e].plots.add(tuple(key))
        for e, *key in rows(DebugSample.experiment, DebugSample.metric, DebugSample.variant, DebugSample.iteration,
                            DebugSample.path, model=DebugSample):
            out[e].samples.add(tuple(key))
        for e, n, k, m, h in rows(Artifact.experiment, Artifact.name, Artifact.kind, Artifact.mode, Artifact.hash,
                                  model=Artifact):
            out[e].artifacts[(n, k, m)] = h
        for e, name, value in rows(SingleValue.experiment, SingleValue.name, SingleValue.value, model=SingleValue):
            out[e].single_values[name] = value
        for e, section, name, value, kind, description in rows(
                HyperParam.experiment, HyperParam.section, HyperParam.name, HyperParam.value, HyperParam.type,
                HyperParam.description, model=HyperParam):
            out[e].params[(section, name)] = (value, kind, description)
        for e, name, value, kind, description in rows(ConfigObject.experiment, ConfigObject.name, ConfigObject.value,
                                                      ConfigObject.content_type, ConfigObject.description,
                                                      model=ConfigObject):
            out[e].configs[name] = (value, kind, description)
        for row in Execution.select().where(Execution.experiment.in_(chunk)).dicts():
            out[row.pop("experiment")].execution = row
        columns = [Experiment.id] + [getattr(Experiment, f) for f in _LIFECYCLE_COLUMNS]
        for row in Experiment.select(*columns).where(Experiment.id.in_(chunk)).dicts():
            out[row.pop("id")].lifecycle = row
    return out


def _sample_path(exp_id: str, sample: dict[str, Any]) -> str:
    if sample.get("uri"):
        return str(sample["uri"])
    name = sample.get("file_name") or Path(str(sample["source"])).name
    folder = (store_files.experiment_folder(exp_id) / "debug" / store_files.safe_component(sample["metric"])
              / store_files.safe_component(sample.get("variant", "")))
    return str(folder / f"{int(sample.get('iteration') or 0):08d}-{store_files.safe_component(name)}")


def _artifact_hash(art: dict[str, Any]) -> str:
    if art.get("hash"):
        return str(art["hash"])
    if art.get("source"):
        return store_files.sha256_of(Path(art["source"]))
    return ""


@dataclass
class _NewOutputs:
    scalars: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]]
    console: list[tuple[float, str, str]]
    plots: list[dict[str, Any]]
    samples: list[dict[str, Any]]
    artifacts: list[dict[str, Any]]
    single_values: dict[str, float]
    notes: list[str]

    def __bool__(self) -> bool:
        return bool(self.scalars or self.console or self.plots or self.samples or self.artifacts
                    or self.single_values)


def _new_outputs(run: SourceRun, existing: _Existing | None) -> _NewOutputs:
    notes: list[str] = []
    scalars = {}
    for key, (its, vals, stamps) in run.scalars.items():
        have = existing.counts.get(key, 0) if existing else 0
        if len(its) > have:
            scalars[key] = (its[have:], vals[have:], stamps[have:])
        elif len(its) < have:
            notes.append(f"{key[0]}/{key[1]} has {have} points here but {len(its)} in the source; left as it is")
    console = run.console[existing.console_lines:] if existing else list(run.console)
    plot_keys = existing.plots if existing else set()
    plots = [p for p in run.plots if (p["metric"], p.get("variant", ""), int(p.get("iteration") or 0),
                                      p["data"]) not in plot_keys]
    sample_keys = existing.samples if existing else set()
    samples = []
    for sample in run.debug_samples:
        path = _sample_path(run.experiment_id, sample)
        if (sample["metric"], sample.get("variant", ""), int(sample.get("iteration") or 0), path) not in sample_keys:
            samples.append({**sample, "path": path})
    artifacts = []
    for art in run.artifacts:
        key = (art["name"], art.get("kind", "artifact"), art.get("mode", "output"))
        digest = _artifact_hash(art)
        if existing is None or existing.artifacts.get(key) != digest:
            artifacts.append({**art, "hash": digest})
    single_values = {k: v for k, v in run.single_values.items()
                     if existing is None or not _same_number(existing.single_values.get(k, ...), v)}
    return _NewOutputs(scalars, console, plots, samples, artifacts, single_values, notes)


def _same_number(a, b) -> bool:
    if a is ... or a is None:
        return False
    return a == b or (a != a and b != b)


def _copy(source: Path, target: Path, written: list[Path]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():  # left by an earlier run of the same import: replaced, not doubled
        target.unlink()
    shutil.copyfile(source, target)
    written.append(target)


def _add_outputs(run: SourceRun, outcome: RunOutcome, written: list[Path], new: _NewOutputs,
                 at: float | None = None) -> None:
    """Write ``new``; ``at``: the time the experiment's last update says (else now)."""
    outcome.notes.extend(new.notes)
    exp_id = run.experiment_id
    samples = []
    for sample in new.samples:
        row = {"metric": sample["metric"], "variant": sample.get("variant", ""),
               "iteration": int(sample.get("iteration") or 0), "timestamp": sample.get("timestamp") or time.time(),
               "path": sample["path"]}
        target = Path(sample["path"])
        try:
            if sample.get("uri"):
                row["content_type"] = sample.get("content_type") or mimetypes.guess_type(sample["uri"])[0] or ""
            elif sample.get("data") is not None:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(sample["data"])
                written.append(target)
                row["content_type"] = sample.get("content_type") or mimetypes.guess_type(target.name)[0] or ""
            else:
                _copy(Path(sample["source"]), target, written)
                row["content_type"] = (sample.get("content_type") or mimetypes.guess_type(target.name)[0]
                                       or "application/octet-stream")
        except OSError as exc:
            outcome.missing.append(f"debug sample {sample['metric']}/{sample.get('variant', '')} "
                                   f"iteration {row['iteration']}: {exc.strerror or exc}")
            continue
        samples.append(row)
    artifacts = []
    for art in new.artifacts:
        row = {"name": art["name"], "kind": art.get("kind", "artifact"), "mode": art.get("mode", "output"),
               "content_type": art.get("content_type", ""), "preview": art.get("preview", ""),
               "metadata": art.get("metadata") or {}, "hash": art.get("hash", ""), "size": art.get("size")}
        if art.get("source"):
            source = Path(art["source"])
            target = (store_files.experiment_folder(exp_id) / "artifacts" / store_files.safe_component(art["name"])
                      / store_files.safe_component(source.name))
            try:
                _copy(source, target, written)
            except OSError as exc:
                outcome.missing.append(f"artifact {art['name']}: {exc.strerror or exc}")
                continue
            row.update(uri=str(target), in_storage=True, size=target.stat().st_size)
            if not row["content_type"]:
                row["content_type"] = mimetypes.guess_type(source.name)[0] or "application/octet-stream"
        else:
            row.update(uri=art.get("uri", ""), in_storage=False)
        artifacts.append(row)
    if new.scalars or new.console or new.plots or samples or artifacts or new.single_values:
        result = recording.record_batch(exp_id, scalars=new.scalars or None, console=new.console or None,
                                        single_values=new.single_values or None, plots=new.plots or None,
                                        debug_samples=samples or None, artifacts=artifacts or None,
                                        heartbeat=False, at=at)
        outcome.added["points"] = outcome.added.get("points", 0) + result["points"]
        outcome.added["console lines"] = result["lines"]
        outcome.added["plots"] = len(new.plots)
        outcome.added["debug samples"] = len(samples)
        outcome.added["artifacts"] = len(artifacts)
        outcome.added["single values"] = len(new.single_values)


def remove_written_files(paths: list[Path]) -> None:
    """Files an import copied whose rows were rolled back; then the folders that became empty."""
    folders = set()
    for path in paths:
        try:
            path.unlink()
        except OSError:
            pass
        folders.update(path.parents)
    root = store_files.storage_root()
    for folder in sorted(folders, key=lambda p: len(p.parts), reverse=True):
        if folder == root or root not in folder.parents:
            continue
        try:
            folder.rmdir()  # only if empty
        except OSError:
            pass
