"""Bulk reads for the experiments table: whole columns, never one cell.

The table never asks the database about one cell. It loads the base columns
of every experiment in scope in one query, tags in one more, and its custom
columns in one statement per kind (metrics, hyperparameters) when the column cache
(store.column_cache) does not hold them already; a refresh asks only for rows
written since the previous tick (by change sequence number), plus deletion tombstones.

Also here: the per-user saved table layouts (SavedView) and preferences.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Sequence

from functools import reduce
from operator import add

from peewee import SQL, SqliteDatabase, fn

from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.db import current_url, is_read_only, run_write
from exptable_desktop.store.text import storable_name
from exptable_desktop.store.schema import (
    ChangeCounter,
    DeletedExperiment,
    Experiment,
    ExperimentTag,
    HyperParam,
    MetricSummary,
    Preference,
    Project,
    SavedView,
    Tag,
    database_proxy,
)

BASE_FIELDS = (
    "id", "name", "type", "status", "project", "user", "parent", "started", "last_update",
    "last_iteration", "progress", "description", "run_time", "archived", "created", "development",
)
_BASE_SELECT = (
    Experiment.id, Experiment.name, Experiment.type, Experiment.status, Experiment.project,
    Experiment.user, Experiment.parent, Experiment.started, Experiment.last_update,
    Experiment.last_iteration, Experiment.progress, Experiment.description, Experiment.run_time,
    Experiment.archived, Experiment.created, Experiment.development,
)

METRIC_FIELDS = ("last", "min", "max")


@dataclass(frozen=True)
class Scope:
    """Which experiments a table shows: some projects (None = all) and archived or not."""
    project_ids: tuple[int, ...] | None
    archived: bool

    def where(self):
        cond = Experiment.archived == self.archived
        if self.project_ids is not None:
            cond &= Experiment.project.in_(list(self.project_ids))
        return cond

    def contains(self, project_id: int, archived: bool) -> bool:
        if bool(archived) != self.archived:
            return False
        return self.project_ids is None or project_id in self.project_ids


def _fetch(query) -> list[tuple]:
    """Rows of ``query`` straight from the DB cursor.

    Six times faster than ``.tuples()`` on 100,000 rows: peewee's per-row
    field conversion is what costs, and these columns need none.
    """
    return database_proxy.obj.execute(query).fetchall()


# ---- Base columns ------------------------------------------------------------

def load_base_rows(scope: Scope, limit: int | None = None) -> list[tuple]:
    """Experiments in scope as tuples ordered like ``BASE_FIELDS``; with ``limit``, the most recently updated."""
    query = Experiment.select(*_BASE_SELECT).where(scope.where())
    if limit is not None:
        query = query.order_by(Experiment.last_update.desc()).limit(limit)
    return _fetch(query)


def iter_base_row_chunks(scope: Scope, size: int = 10_000) -> Iterator[list[tuple]]:
    """All experiments in scope, ``size`` tuples at a time: a 100,000-row scope never sits in memory twice."""
    cursor = database_proxy.obj.execute(Experiment.select(*_BASE_SELECT).where(scope.where()))
    while True:
        chunk = cursor.fetchmany(size)
        if not chunk:
            return
        yield chunk


def release_read_cache() -> None:
    """Let SQLite free this connection's page cache (up to 64 MB) after a scattered read."""
    if isinstance(database_proxy.obj, SqliteDatabase):
        database_proxy.obj.execute_sql("PRAGMA shrink_memory")


def scope_count(scope: Scope) -> int:
    return Experiment.select(fn.COUNT(Experiment.id)).where(scope.where()).scalar()


def current_change_seq() -> int:
    """The change sequence number of the last committed write (see schema.ChangeCounter).

    Read it before reading rows: every row stamped with it or less is then visible, so it is the
    cursor to ask ``changed_since`` from next time. Rows stamped later may show up twice; never none.
    """
    return ChangeCounter.select(ChangeCounter.value).where(ChangeCounter.id == 1).scalar() or 0


def changed_since(after_seq: int) -> list[tuple]:
    """Experiments of any scope written after change sequence number ``after_seq``."""
    return _fetch(Experiment.select(*_BASE_SELECT).where(Experiment.change_seq > after_seq))


def deleted_since(after_seq: int) -> list[str]:
    """Ids of the experiments deleted after change sequence number ``after_seq``."""
    return [i for (i,) in DeletedExperiment.select(DeletedExperiment.experiment_id)
            .where(DeletedExperiment.change_seq > after_seq).tuples()]


def experiment_names(ids: Iterable[str]) -> dict[str, str]:
    ids = list(dict.fromkeys(i for i in ids if i))
    out: dict[str, str] = {}
    for chunk in chunked(ids):
        out.update(Experiment.select(Experiment.id, Experiment.name).where(Experiment.id.in_(chunk)).tuples())
    return out


def project_rows() -> list[tuple[int, str, int | None]]:
    return list(Project.select(Project.id, Project.name, Project.parent).tuples())


def project_counts(archived: bool) -> dict[int, int]:
    return dict(Experiment.select(Experiment.project, fn.COUNT(Experiment.id))
                .where(Experiment.archived == archived).group_by(Experiment.project).tuples())


# ---- Tags ----------------------------------------------------------------------

def tag_table() -> dict[int, tuple[str, str | None, str | None]]:
    """tag id -> (name, background, foreground)."""
    return {tid: (name, bg, fg) for tid, name, bg, fg in
            Tag.select(Tag.id, Tag.name, Tag.background, Tag.foreground).tuples()}


def load_tag_links(scope: Scope) -> list[tuple[str, int]]:
    """(experiment id, tag id) for every tagged experiment in scope."""
    return _fetch(ExperimentTag.select(ExperimentTag.experiment, ExperimentTag.tag)
                  .join(Experiment, on=(ExperimentTag.experiment == Experiment.id))
                  .where(scope.where()))


def load_tag_links_for(ids: Sequence[str]) -> list[tuple[str, int]]:
    out: list[tuple[str, int]] = []
    for chunk in chunked(ids):
        out.extend(ExperimentTag.select(ExperimentTag.experiment, ExperimentTag.tag)
                   .where(ExperimentTag.experiment.in_(chunk)).tuples())
    return out


# ---- Custom columns --------------------------------------------------------------

def experiment_count() -> int:
    return Experiment.select(fn.COUNT(Experiment.id)).scalar()


def _in_scope(query, model, scope: Scope, whole_db: bool):
    # When the scope is most of the database, reading the column for every
    # experiment and dropping strangers in memory beats a join three times.
    if whole_db:
        return query
    return query.join(Experiment, on=(model.experiment == Experiment.id)).where(scope.where())


# Rows one statement of several custom columns may return: bounds the memory a big scope's read takes.
ROWS_PER_STATEMENT = 200_000


def custom_columns_per_statement(expected_rows: int) -> int:
    """How many custom columns of ``expected_rows`` rows each one statement should read.

    A server answers each statement in a round trip, so its columns are read together, one statement
    per kind while the rows stay under ROWS_PER_STATEMENT. SQLite runs in-process: there is no round
    trip to save, and its compound SELECT takes ~25% longer than the same reads apart (measured:
    20 metric columns of 10,000 rows, 130 ms against 105 ms), so there each column is its own statement.
    """
    if isinstance(database_proxy.obj, SqliteDatabase):
        return 1
    return max(1, ROWS_PER_STATEMENT // max(1, expected_rows))


def load_metric_columns(scope: Scope, sources: Sequence[tuple[str, str, str]], *,
                        whole_db: bool = False) -> list[tuple[str, float | None, int]]:
    """Several metric columns in one statement: (experiment id, value, index into ``sources``);
    for a single column just (experiment id, value).

    ``sources`` are (metric, variant, field). A UNION ALL of one indexed read per column:
    ``(metric, variant) IN (...)`` would scan the whole table instead of using the index.
    """
    parts = []
    for index, (metric, variant, field) in enumerate(sources):
        if field not in METRIC_FIELDS:
            raise ValueError(f"unknown metric field {field!r}; expected one of {', '.join(METRIC_FIELDS)}")
        fields = [MetricSummary.experiment, getattr(MetricSummary, field)]
        if len(sources) > 1:
            fields.append(SQL(str(index)))
        query = (MetricSummary.select(*fields)
                 .where((MetricSummary.metric == metric) & (MetricSummary.variant == variant)))
        parts.append(_in_scope(query, MetricSummary, scope, whole_db))
    return _fetch(reduce(add, parts)) if parts else []


def load_hyperparam_columns(scope: Scope, sources: Sequence[tuple[str, str]], *,
                            whole_db: bool = False) -> list[tuple[str, str, int]]:
    """Several hyperparameter columns in one statement, rows shaped as in load_metric_columns."""
    parts = []
    for index, (section, name) in enumerate(sources):
        fields = [HyperParam.experiment, HyperParam.value]
        if len(sources) > 1:
            fields.append(SQL(str(index)))
        query = (HyperParam.select(*fields)
                 .where((HyperParam.section == section) & (HyperParam.name == name)))
        parts.append(_in_scope(query, HyperParam, scope, whole_db))
    return _fetch(reduce(add, parts)) if parts else []


def metric_rows_for(ids: Sequence[str], metrics: Iterable[str]) -> list[tuple[str, str, str, Any, Any, Any]]:
    """(experiment, metric, variant, last, min, max) of the given experiments and metric names."""
    metrics = list(set(metrics))
    if not metrics:
        return []
    out = []
    for chunk in chunked(ids):
        out.extend(_fetch(MetricSummary.select(MetricSummary.experiment, MetricSummary.metric, MetricSummary.variant,
                                               MetricSummary.last, MetricSummary.min, MetricSummary.max)
                          .where(MetricSummary.experiment.in_(chunk) & MetricSummary.metric.in_(metrics))))
    return out


def hyperparam_rows_for(ids: Sequence[str], sections: Iterable[str]) -> list[tuple[str, str, str, str]]:
    """(experiment, section, name, value) of the given experiments and sections."""
    sections = list(set(sections))
    if not sections:
        return []
    out = []
    for chunk in chunked(ids):
        out.extend(_fetch(HyperParam.select(HyperParam.experiment, HyperParam.section, HyperParam.name,
                                            HyperParam.value)
                          .where(HyperParam.experiment.in_(chunk) & HyperParam.section.in_(sections))))
    return out


def changed_ids_since(after_seq: int, limit: int) -> list[tuple[str, int]]:
    """(id, change sequence number) of up to ``limit`` experiments written after ``after_seq``."""
    return _fetch(Experiment.select(Experiment.id, Experiment.change_seq)
                  .where(Experiment.change_seq > after_seq).limit(limit))


def _rows_in(sql: str, params: Sequence, ids: Sequence) -> Iterator[list[tuple]]:
    """The rows of ``sql`` for every 500 of ``ids``, which replace its ``{ids}`` (an IN list).

    Written here rather than by peewee: its conversion of each bound value was a third of the time
    reading 10,000 experiments' chunks took. Only placeholders go into the text.
    """
    db = database_proxy.obj
    for chunk in chunked(ids):
        yield db.execute_sql(sql.format(ids=", ".join([db.param] * len(chunk))), [*params, *chunk]).fetchall()


def _name(text: str) -> str:
    return storable_name(text, 255)  # as a NameField stored it


# The summary fields that say where a metric is best: its min or max, and the iteration of that value.
_BEST_FIELDS = {"min": ("min", "min_iteration"), "max": ("max", "max_iteration")}


def load_best_iterations(metric: str, variant: str, best: str, *, scope: Scope | None = None,
                         whole_db: bool = False, ids: Sequence[str] | None = None) -> list[tuple[str, Any, Any]]:
    """(experiment, best value, its iteration) of one metric, from its summaries: of ``ids`` when
    given, else of the experiments in ``scope`` (``whole_db``: every experiment, strangers included)."""
    value, iteration = _BEST_FIELDS[best]
    if ids is not None:
        sql = (f'SELECT "experiment_id", "{value}", "{iteration}" FROM "metric_summary" WHERE "metric" = {{p}}'
               f' AND "variant" = {{p}} AND "experiment_id" IN ({{ids}})').replace("{p}", database_proxy.obj.param)
        return [row for rows in _rows_in(sql, [_name(metric), _name(variant)], list(ids)) for row in rows]
    fields = (MetricSummary.experiment, getattr(MetricSummary, value), getattr(MetricSummary, iteration))
    query = MetricSummary.select(*fields).where((MetricSummary.metric == metric) & (MetricSummary.variant == variant))
    return _fetch(_in_scope(query, MetricSummary, scope, whole_db))


def load_chunk_index(ids: Sequence[str], metric: str, variant: str) -> list[tuple[str, int, int, int]]:
    """(experiment, chunk id, seq, first iteration) of every stored chunk of one series of ``ids``
    (no points: the caller picks the chunks it needs, then reads them with load_chunk_points)."""
    sql = ('SELECT "experiment_id", "id", "seq", "first_iteration" FROM "scalar_chunk" WHERE "metric" = {p}'
           ' AND "variant" = {p} AND "experiment_id" IN ({ids})').replace("{p}", database_proxy.obj.param)
    return [row for rows in _rows_in(sql, [_name(metric), _name(variant)], list(ids)) for row in rows]


def load_chunk_points(chunk_ids: Sequence[int]) -> Iterator[list[tuple[int, bytes, bytes]]]:
    """(chunk id, packed int64 iterations, packed float64 values) of these chunks, 500 chunks at a time."""
    return _rows_in('SELECT "id", "iterations", "values" FROM "scalar_chunk" WHERE "id" IN ({ids})', [],
                    list(chunk_ids))


def metric_variants(scope: Scope) -> list[tuple[str, str]]:
    """Distinct (metric, variant) pairs reported by experiments in scope, sorted."""
    query = MetricSummary.select(MetricSummary.metric, MetricSummary.variant).distinct()
    if scope.project_ids is not None:
        query = query.join(Experiment, on=(MetricSummary.experiment == Experiment.id)).where(scope.where())
    return sorted(query.tuples())


def hyperparam_names(scope: Scope) -> list[tuple[str, str]]:
    """Distinct (section, name) pairs of experiments in scope, sorted."""
    query = HyperParam.select(HyperParam.section, HyperParam.name).distinct()
    if scope.project_ids is not None:
        query = query.join(Experiment, on=(HyperParam.experiment == Experiment.id)).where(scope.where())
    return sorted(query.tuples())


# ---- Saved table layouts and preferences ----------------------------------------------
# On a database this process may only read, layouts and preferences are kept
# for the session in memory: the window works as usual and writes nothing.
_session_views: dict[tuple[str, str, str, str], str] = {}
_session_preferences: dict[tuple[str, str, str], str] = {}


def load_saved_view(user: str, scope: str, name: str = "") -> dict | None:
    if is_read_only() and (current_url(), user, scope, name) in _session_views:
        return json.loads(_session_views[(current_url(), user, scope, name)])
    row = (SavedView.select(SavedView.state)
           .where((SavedView.user == user) & (SavedView.scope == scope) & (SavedView.name == name)).first())
    if row is None:
        return None
    try:
        state = json.loads(row.state)
    except ValueError:
        return None
    return state if isinstance(state, dict) else None


def store_saved_view(user: str, scope: str, state: dict, name: str = "") -> None:
    text = json.dumps(state, sort_keys=True)
    if is_read_only():
        _session_views[(current_url(), user, scope, name)] = text
        return

    def work():
        (SavedView.insert(user=user, scope=scope, name=name, state=text, updated=time.time())
         .on_conflict(conflict_target=[SavedView.user, SavedView.scope, SavedView.name],
                      preserve=[SavedView.state, SavedView.updated]).execute())
    run_write(work)


def get_preference(user: str, key: str, default: Any = None) -> Any:
    if is_read_only() and (current_url(), user, key) in _session_preferences:
        return json.loads(_session_preferences[(current_url(), user, key)])
    row = Preference.select(Preference.value).where((Preference.user == user) & (Preference.key == key)).first()
    if row is None:
        return default
    try:
        return json.loads(row.value)
    except ValueError:
        return default


def set_preference(user: str, key: str, value: Any) -> None:
    text = json.dumps(value)
    if is_read_only():
        _session_preferences[(current_url(), user, key)] = text
        return

    def work():
        (Preference.insert(user=user, key=key, value=text)
         .on_conflict(conflict_target=[Preference.user, Preference.key], preserve=[Preference.value]).execute())
    run_write(work)
