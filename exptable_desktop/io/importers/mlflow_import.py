"""MLflow tracking stores (a ``./mlruns`` folder, ``sqlite:///...`` or any URI MLflow reads), through
MLflow's own client: experiments become projects, runs experiments.

Mapping: run name, status, user, start and end; ``mlflow.parentRunId`` -> parent;
``mlflow.note.content`` -> description; ``mlflow.source.*`` -> execution; params -> section
Args; tags with a value -> user properties, tags without one -> tags; metrics with their steps
and timestamps -> scalars (``a/b`` is metric ``a``, variant ``b``; a key without ``/`` is
both); artifacts are copied (a folder as one zip). MLflow's run id is kept as the experiment id.

MLflow is an optional extra (``pip install 'exptable-desktop[mlflow]'``), imported only here.
For SQL stores the metric histories of many runs are read in one query per page of runs from
MLflow's own ``metrics`` table (its SQLAlchemy model), instead of one client call per run and
metric: 10,000 runs x 5 metrics would otherwise be 50,000 calls.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from exptable_desktop.core import states as st
from exptable_desktop.io.importers.common import (
    STILL_RUNNING_REASON,
    ImportReport,
    SourceError,
    SourceRun,
    experiment_id_for,
    import_runs,
)
from exptable_desktop.store.chunking import chunked

SOURCE = "mlflow"
INSTALL_HINT = "pip install 'exptable-desktop[mlflow]'"
PAGE_RUNS = 500
_RUN_ID = re.compile(r"^[0-9a-f]{32}$")
STATUSES = {"FINISHED": st.COMPLETED, "FAILED": st.FAILED, "KILLED": st.ABORTED,
            "RUNNING": st.ABORTED, "SCHEDULED": st.ABORTED}
# Tags that become fields of the experiment rather than user properties.
FIELD_TAGS = {"mlflow.runName", "mlflow.user", "mlflow.parentRunId", "mlflow.note.content",
              "mlflow.source.git.commit", "mlflow.source.git.repoURL", "mlflow.gitRepoURL",
              "mlflow.source.git.branch", "mlflow.source.name", "mlflow.source.type"}
# MLflow's bookkeeping, kept out of the properties (large JSON the person never set).
SKIPPED_TAGS = {"mlflow.log-model.history", "mlflow.loggedArtifacts", "mlflow.autologging"}
# A zip's entries carry this date, so the same folder always zips to the same bytes (and hash).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _mlflow():
    try:
        import mlflow  # noqa: F401
        from mlflow import MlflowClient
        from mlflow.entities import ViewType
        from mlflow.exceptions import MlflowException
    except ImportError as exc:
        raise SourceError(f"importing from MLflow needs the mlflow package ({INSTALL_HINT}): {exc}") from None
    return MlflowClient, ViewType, MlflowException


def tracking_uri(location: str) -> str:
    """The tracking URI of ``location``: a folder (a file store) or an existing SQLite file as given."""
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", location):
        if location.startswith("sqlite:///"):
            path = Path(location[len("sqlite:///"):])
            if not path.is_file() or path.stat().st_size == 0:
                raise SourceError(f"no MLflow database at {path}")
        elif location.startswith("file://"):
            return tracking_uri(location[len("file://"):])
        return location
    path = Path(location).expanduser()
    if path.is_file():
        with open(path, "rb") as handle:
            if handle.read(16) == b"SQLite format 3\x00":
                return f"sqlite:///{path.resolve()}"
        raise SourceError(f"{path} is neither an MLflow store folder (./mlruns) nor an MLflow SQLite database")
    if not path.is_dir():
        raise SourceError(f"no MLflow store at {path}")
    if not any((child / "meta.yaml").is_file() for child in path.iterdir() if child.is_dir()):
        raise SourceError(f"{path} holds no MLflow experiments (expected folders with a meta.yaml)")
    # MLflow 3 reads file stores only when asked to (they are in "maintenance mode").
    os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
    return path.resolve().as_uri()


def split_key(key: str) -> tuple[str, str]:
    """``loss/train`` -> (loss, train); a key without ``/`` is its own variant, as the reference does."""
    metric, sep, variant = key.partition("/")
    return (metric, variant) if sep and metric and variant else (key, key)


def _ms(value) -> float | None:
    return float(value) / 1000.0 if value is not None else None


def experiment_id_of(run_id: str) -> str:
    return run_id if _RUN_ID.match(run_id) else experiment_id_for(SOURCE, run_id)


# ---- Metric histories --------------------------------------------------------------------------

def _sql_histories(store, run_ids: list[str]) -> dict[str, dict[str, tuple]] | None:
    """run id -> key -> (steps, values, timestamps in seconds) arrays for a page of runs, read in one
    query from MLflow's ``metrics`` table; None when the store is not an SQL store."""
    try:
        from mlflow.store.tracking.dbmodels.models import SqlMetric
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore
    except ImportError:
        return None
    if not isinstance(store, SqlAlchemyStore):
        return None
    table = SqlMetric.__table__
    c = table.c
    marks = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(store.engine.dialect.paramstyle)
    out: dict[str, dict[str, tuple]] = {run_id: {} for run_id in run_ids}
    if marks is None:  # an unusual driver: through SQLAlchemy, row by row
        from sqlalchemy import select
        query = (select(c.run_uuid, c.key, c.step, c.value, c.timestamp, c.is_nan)
                 .where(c.run_uuid.in_(run_ids)).order_by(c.run_uuid, c.key, c.timestamp, c.step, c.value))
        with store.engine.connect() as connection:
            rows = [tuple(row) for row in connection.execute(query)]
    else:
        # The driver's own cursor, and only numbers per row: 5 million points are 5 million rows,
        # and SQLAlchemy's row objects (or Python work per row) would cost more than the rest of the
        # import. Which rows belong to which series comes from a second, grouped query in the same order.
        q = store.engine.dialect.identifier_preparer.quote  # "key" is reserved in MySQL
        run, key, step, value, stamp, nan = (q(name) for name in ("run_uuid", "key", "step", "value",
                                                                   "timestamp", "is_nan"))
        where = f"WHERE {run} IN ({', '.join([marks] * len(run_ids))})"
        raw = store.engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(f"SELECT {run}, {key}, COUNT(*) FROM {q(table.name)} {where} "
                           f"GROUP BY {run}, {key} ORDER BY {run}, {key}", tuple(run_ids))
            groups = cursor.fetchall()
            # The order MLflow's own get_metric_history returns.
            cursor.execute(f"SELECT {step}, {value}, {stamp}, {nan} FROM {q(table.name)} {where} "
                           f"ORDER BY {run}, {key}, {stamp}, {step}, {value}", tuple(run_ids))
            numbers = cursor.fetchall()
            cursor.close()
        finally:
            raw.close()
        if sum(count for _, _, count in groups) == len(numbers):
            if numbers:
                array = np.array(numbers, np.float64)
                del numbers
                # MLflow's columns are NOT NULL; NaN is stored as 0 with is_nan set (as its to_mlflow_entity reads it).
                values = array[:, 1].copy()
                values[array[:, 3] != 0] = np.nan
                steps, stamps = array[:, 0].astype(np.int64), array[:, 2] / 1000.0
                start = 0
                for run_uuid, key, count in groups:
                    end = start + count
                    out[run_uuid][key] = (steps[start:end], values[start:end], stamps[start:end])
                    start = end
            return out
        # The store changed between the two reads (a run still logging): read again, row by row.
        from sqlalchemy import select
        query = (select(c.run_uuid, c.key, c.step, c.value, c.timestamp, c.is_nan)
                 .where(c.run_uuid.in_(run_ids)).order_by(c.run_uuid, c.key, c.timestamp, c.step, c.value))
        with store.engine.connect() as connection:
            rows = [tuple(row) for row in connection.execute(query)]
    if not rows:
        return out
    runs, keys, steps, values, stamps, is_nan = zip(*rows)
    del rows
    steps = np.array(steps, np.int64)
    values = np.array(values, np.float64)
    values[np.array(is_nan, bool)] = np.nan
    stamps = np.array(stamps, np.float64) / 1000.0
    runs_array, keys_array = np.array(runs, object), np.array(keys, object)
    starts = np.flatnonzero(np.concatenate(([True], (runs_array[1:] != runs_array[:-1])
                                            | (keys_array[1:] != keys_array[:-1]))))
    ends = np.append(starts[1:], len(runs))
    for start, end in zip(starts.tolist(), ends.tolist()):
        out[runs[start]][keys[start]] = (steps[start:end], values[start:end], stamps[start:end])
    return out


def _client_histories(client, run, keys) -> dict[str, tuple]:
    out = {}
    for key in keys:
        history = sorted(client.get_metric_history(run.info.run_id, key),
                         key=lambda m: (m.timestamp, m.step, m.value))
        out[key] = (np.array([m.step or 0 for m in history], np.int64),
                    np.array([np.nan if m.value is None else m.value for m in history], np.float64),
                    np.array([m.timestamp or 0 for m in history], np.float64) / 1000.0)
    return out


def _scalars(histories: dict[str, tuple]) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    return {split_key(key): arrays for key, arrays in histories.items() if len(arrays[0])}


# ---- Artifacts ------------------------------------------------------------------------------------

def _zip_folder(folder: Path, target: Path) -> None:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, path.read_bytes())


def _local_folder(uri: str) -> Path | None:
    """The folder of a local artifact URI (a path or file://), None for any other store."""
    if uri.startswith("file://"):
        from urllib.parse import unquote, urlparse
        return Path(unquote(urlparse(uri).path))
    if uri and not re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", uri):
        return Path(uri)
    return None


def _artifacts(client, run, scratch: Path, missing: list[str]) -> list[dict[str, Any]]:
    run_id = run.info.run_id
    local = _local_folder(run.info.artifact_uri or "")
    if local is not None and (not local.is_dir() or not any(local.iterdir())):
        return []  # nothing stored: the client's listing (a database read per run) would say the same
    try:
        entries = client.list_artifacts(run_id)
    except Exception as exc:  # an unreachable artifact store must not stop the run's import
        missing.append(f"artifacts: cannot list them ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
        return []
    out = []
    folder = scratch / hashlib.sha1(run_id.encode()).hexdigest()[:12]
    for entry in entries:
        name = entry.path.rsplit("/", 1)[-1]
        try:
            local = Path(client.download_artifacts(run_id, entry.path, str(folder)))
        except Exception as exc:
            missing.append(f"artifact {entry.path}: cannot download it ({str(exc).splitlines()[0]})")
            continue
        if local.is_dir():
            archive = folder / f"{name}.zip"
            _zip_folder(local, archive)
            files = sum(1 for p in local.rglob("*") if p.is_file())
            out.append({"name": name, "source": archive, "content_type": "application/zip",
                        "preview": f"{files} files", "metadata": {"_type": "folder", "_mlflow_path": entry.path}})
        else:
            out.append({"name": name, "source": local, "metadata": {"_type": "file", "_mlflow_path": entry.path}})
    return out


# ---- Runs ----------------------------------------------------------------------------------------

def _run_to_source(run, experiment_name: str, scalars, artifacts, project: str | None) -> SourceRun:
    info, data = run.info, run.data
    tags = dict(data.tags)
    run_id = info.run_id
    execution = {}
    for field, tag in (("commit", "mlflow.source.git.commit"), ("branch", "mlflow.source.git.branch"),
                       ("entry_point", "mlflow.source.name")):
        if tags.get(tag):
            execution[field] = tags[tag]
    repository = tags.get("mlflow.source.git.repoURL") or tags.get("mlflow.gitRepoURL")
    if repository:
        execution["repository"] = repository
    status = STATUSES.get(info.status, st.ABORTED)
    reason = STILL_RUNNING_REASON.format(source="MLflow") if info.status in ("RUNNING", "SCHEDULED") else ""
    properties = {k: {"value": v} for k, v in sorted(tags.items())
                  if v and k not in FIELD_TAGS and k not in SKIPPED_TAGS}
    plain_tags = [k for k, v in sorted(tags.items()) if not v and k not in FIELD_TAGS and k not in SKIPPED_TAGS]
    parameters = {"Args": {k: {"value": v} for k, v in sorted(data.params.items())}}
    parameters["properties"] = properties
    if tags.get("mlflow.source.type"):
        parameters["properties"]["mlflow.source.type"] = {"value": tags["mlflow.source.type"]}
    parent = tags.get("mlflow.parentRunId")
    last_times = [_ms(info.end_time), _ms(info.start_time)] + [
        float(stamps.max()) for _, _, stamps in scalars.values() if len(stamps)]
    known = [t for t in last_times if t is not None]
    notes = []
    if reason:
        notes.append(f"run is {info.status} in MLflow; imported as Aborted (no process runs it here)")
    return SourceRun(
        source=SOURCE, source_id=run_id, experiment_id=experiment_id_of(run_id),
        project=project or experiment_name, name=info.run_name or tags.get("mlflow.runName") or run_id,
        status=status, status_reason=reason, user=info.user_id or tags.get("mlflow.user") or "",
        created=_ms(info.start_time), started=_ms(info.start_time),
        completed=_ms(info.end_time) if info.status not in ("RUNNING", "SCHEDULED") else None,
        last_update=max(known) if known else None, description=tags.get("mlflow.note.content", ""),
        tags=plain_tags, parent_id=experiment_id_of(parent) if parent else None, execution=execution,
        parameters=parameters, scalars=scalars, artifacts=artifacts, notes=notes)


def _parents_first(runs: list) -> list:
    """Runs ordered so a parent is written before its children (the parent link needs it)."""
    by_id = {r.info.run_id: r for r in runs}

    def depth(run, seen=()) -> int:
        parent = run.data.tags.get("mlflow.parentRunId")
        if not parent or parent not in by_id or parent in seen:
            return 0
        return 1 + depth(by_id[parent], seen + (run.info.run_id,))
    return sorted(runs, key=lambda r: (depth(r), r.info.start_time or 0, r.info.run_id))


def read_runs(client, ViewType, scratch: Path, project: str | None) -> tuple[list, Iterator[SourceRun | Exception]]:
    experiments = []
    token = None
    while True:
        page = client.search_experiments(view_type=ViewType.ACTIVE_ONLY, max_results=1000, page_token=token)
        experiments.extend(page)
        token = page.token
        if not token:
            break
    names = {e.experiment_id: e.name for e in experiments}
    runs = []
    for experiment_ids in chunked(names, 100):
        token = None
        while True:
            page = client.search_runs(experiment_ids, run_view_type=ViewType.ACTIVE_ONLY,
                                      max_results=10_000, page_token=token)
            runs.extend(page)
            token = page.token
            if not token:
                break
    runs = _parents_first(runs)
    store = client._tracking_client.store

    def generate() -> Iterator[SourceRun | Exception]:
        for page in chunked(runs, PAGE_RUNS):
            histories = _sql_histories(store, [r.info.run_id for r in page])
            for run in page:
                try:
                    hist = (histories[run.info.run_id] if histories is not None
                            else _client_histories(client, run, run.data.metrics.keys()))
                    missing: list[str] = []
                    artifacts = _artifacts(client, run, scratch, missing)
                    source = _run_to_source(run, names.get(run.info.experiment_id, "MLflow"),
                                            _scalars(hist), artifacts, project)
                    source.missing.extend(missing)
                    yield source
                except Exception as exc:  # one unreadable run is reported; the others go on
                    yield SourceError(f"run {run.info.run_id}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    return runs, generate()


def import_mlflow(location: str | Path, *, project: str | None = None, on_progress=None) -> ImportReport:
    """Import every active run of the MLflow store at ``location`` (a folder or a tracking URI)."""
    MlflowClient, ViewType, MlflowException = _mlflow()
    uri = tracking_uri(str(location))
    try:
        client = MlflowClient(tracking_uri=uri)
        with tempfile.TemporaryDirectory(prefix="exptable-mlflow-") as scratch:
            runs, generated = read_runs(client, ViewType, Path(scratch), project)
            return import_runs(generated, source=SOURCE, location=str(location), total=len(runs),
                               on_progress=on_progress)
    except MlflowException as exc:
        text = str(exc.message if hasattr(exc, "message") else exc).strip().splitlines()[0]
        if "out-of-date database schema" in text.lower():
            text = "the MLflow database was written by an older MLflow: run `mlflow db upgrade` on it first " \
                   "(it was not changed)"
        raise SourceError(f"cannot read MLflow store {location}: {text}") from None
