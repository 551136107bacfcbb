"""What the compare page reads, for many experiments at once.

Every reader takes the compared ids and issues a fixed number of queries
(one per series name, one per table), never one per experiment: 100
experiments cost the same number of round trips as 2, which matters most on
a PostgreSQL server across a network.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Iterable, Sequence

import numpy as np
from peewee import fn

from exptable_desktop.core import compare_stats
from exptable_desktop.core import states as st
from exptable_desktop.core.details import local_path, normalize_plot
from exptable_desktop.core.projects import descendant_ids, find_project, project_paths
from exptable_desktop.core.queries import tags_of
from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.schema import (
    DebugSample,
    Experiment,
    HyperParam,
    MetricSummary,
    Plot,
    ScalarChunk,
    SingleValue,
)
from exptable_desktop.store.series import Series, list_series_many, read_series_many

PICKER_LIMIT = 500


def _raw_rows(query) -> list[tuple]:
    """The rows of a peewee query straight from the driver: large reads (20,000 summaries)
    spend most of their time in peewee's per-value conversion, which plain columns do not need."""
    sql, params = query.sql()
    return query.model._meta.database.execute_sql(sql, params).fetchall()


# ---- Experiments -----------------------------------------------------------------------------

def experiment_rows(ids: Sequence[str]) -> list[dict[str, Any]]:
    """id, name, project, status, archived, started of the experiments that exist, in ``ids`` order."""
    found: dict[str, dict] = {}
    paths = None
    for batch in chunked(ids):
        rows = list(Experiment.select(Experiment.id, Experiment.name, Experiment.project, Experiment.status,
                                      Experiment.archived, Experiment.started, Experiment.created)
                    .where(Experiment.id.in_(batch)).tuples())
        if rows and paths is None:
            paths = project_paths()
        for exp_id, name, project, status, archived, started, created in rows:
            found[exp_id] = {"id": exp_id, "name": name, "project": (paths or {}).get(project, ""),
                             "status": st.normalize_status(status), "archived": bool(archived),
                             "started": started, "created": created}
    return [found[i] for i in dict.fromkeys(ids) if i in found]


def search_experiments(text: str = "", *, include_archived: bool = False, project: str | None = None,
                       limit: int = PICKER_LIMIT) -> list[dict[str, Any]]:
    """Experiments for the "+" picker: name/id contains ``text`` (any case), newest first."""
    query = Experiment.select(Experiment.id, Experiment.name, Experiment.project, Experiment.status,
                              Experiment.archived, Experiment.last_update)
    if not include_archived:
        query = query.where(Experiment.archived == False)  # noqa: E712 (peewee expression)
    needle = (text or "").strip().lower()
    if needle:
        query = query.where(fn.LOWER(Experiment.name).contains(needle) | Experiment.id.startswith(needle))
    if project:
        found = find_project(project)
        if found is None:
            return []
        query = query.where(Experiment.project.in_(descendant_ids(found.id)))
    rows = list(query.order_by(Experiment.last_update.desc()).limit(limit).tuples())
    paths = project_paths()
    tags = tags_of([r[0] for r in rows])
    return [{"id": exp_id, "name": name, "project": paths.get(project_id, ""),
             "status": st.normalize_status(status), "status_label": st.status_label(status),
             "archived": bool(archived), "last_update": last_update, "tags": tags.get(exp_id, [])}
            for exp_id, name, project_id, status, archived, last_update in rows]


# ---- Scalars ---------------------------------------------------------------------------------

def series_keys(ids: Sequence[str]) -> dict[tuple[str, str], list[str]]:
    """``(metric, variant)`` -> the compared experiments that reported it (one query)."""
    return list_series_many(ids)


def load_series(ids: Sequence[str], keys: Iterable[tuple[str, str]], *,
                timestamps: bool = False) -> dict[tuple[str, str], dict[str, Series]]:
    """Every series of ``keys`` for every experiment: one query per key."""
    return {key: read_series_many(ids, *key, timestamps=timestamps) for key in keys}


@dataclass
class SummaryCell:
    """One experiment's LAST / MIN / MAX of one series in the compare page, with their iterations."""
    last: float | None
    min: float | None
    max: float | None
    last_iteration: int | None
    min_iteration: int | None
    max_iteration: int | None


def summaries(ids: Sequence[str]) -> dict[tuple[str, str], dict[str, SummaryCell]]:
    """LAST / MIN / MAX of every metric/variant of every experiment, from the summaries (one query)."""
    out: dict[tuple[str, str], dict[str, SummaryCell]] = defaultdict(dict)
    for batch in chunked(ids):
        for exp_id, metric, variant, last, low, high, last_it, low_it, high_it in _raw_rows(
                MetricSummary.select(MetricSummary.experiment, MetricSummary.metric, MetricSummary.variant,
                                     MetricSummary.last, MetricSummary.min, MetricSummary.max,
                                     MetricSummary.last_iteration, MetricSummary.min_iteration,
                                     MetricSummary.max_iteration)
                .where(MetricSummary.experiment.in_(batch))):
            out[(metric, variant)][exp_id] = SummaryCell(last, low, high, last_it, low_it, high_it)
    return dict(sorted(out.items()))


def single_values(ids: Sequence[str]) -> dict[str, dict[str, float | None]]:
    """Single-value scalars: name -> experiment -> value (one query)."""
    out: dict[str, dict[str, float | None]] = defaultdict(dict)
    for batch in chunked(ids):
        for exp_id, name, value in (SingleValue.select(SingleValue.experiment, SingleValue.name, SingleValue.value)
                                    .where(SingleValue.experiment.in_(batch)).tuples()):
            out[name][exp_id] = value
    return dict(sorted(out.items()))


def values_at_best_step(ids: Sequence[str], reference: tuple[str, str], mode: str = compare_stats.BEST_MIN,
                        keys: Iterable[tuple[str, str]] | None = None
                        ) -> tuple[dict[str, int], dict[tuple[str, str], dict[str, float]]]:
    """Each experiment's best iteration of ``reference`` and every metric's value at it.

    "At it" means reported at that iteration or, failing that, the last value
    reported before it (``compare_stats.value_at``). The best iteration is the
    first at which the reference reaches its min (or max). Reads the reference
    series in one query, then only the chunk of each other series that holds
    the step (two queries), not whole series.
    Returns ``({experiment: best iteration}, {(metric, variant): {experiment: value}})``.
    """
    reference_series = read_series_many(ids, *reference, timestamps=False)
    best: dict[str, int] = {}
    for exp_id, series in reference_series.items():
        step = compare_stats.best_iteration(series.iterations, series.values, mode)
        if step is not None:
            best[exp_id] = step
    wanted = None if keys is None else set(keys)
    # Per (experiment, series): the chunk with the largest first iteration not after the step.
    chosen: dict[tuple[str, str, str], tuple[int, int]] = {}
    for batch in chunked(list(best)):
        for chunk_id, exp_id, metric, variant, first in (
                ScalarChunk.select(ScalarChunk.id, ScalarChunk.experiment, ScalarChunk.metric,
                                   ScalarChunk.variant, ScalarChunk.first_iteration)
                .where(ScalarChunk.experiment.in_(batch)).tuples()):
            if wanted is not None and (metric, variant) not in wanted:
                continue
            if first > best[exp_id]:
                continue
            slot = (exp_id, metric, variant)
            if slot not in chosen or first >= chosen[slot][0]:
                chosen[slot] = (first, chunk_id)
    by_id = {chunk_id: slot for slot, (_first, chunk_id) in chosen.items()}
    values: dict[tuple[str, str], dict[str, float]] = defaultdict(dict)
    for batch in chunked(by_id):
        for chunk_id, its, vals in (ScalarChunk.select(ScalarChunk.id, ScalarChunk.iterations, ScalarChunk.values)
                                    .where(ScalarChunk.id.in_(batch)).tuples()):
            exp_id, metric, variant = by_id[chunk_id]
            found = compare_stats.value_at(np.frombuffer(bytes(its), dtype="<i8"),
                                           np.frombuffer(bytes(vals), dtype="<f8"), best[exp_id])
            if found is not None:
                values[(metric, variant)][exp_id] = found[1]
    return best, dict(values)


# ---- Hyperparameters and tags (grouping) -----------------------------------------------------

def hyperparameters(ids: Sequence[str], *, with_properties: bool = False) -> dict[str, dict[str, str]]:
    """experiment -> {"section/name": value} (one query); user properties only when asked."""
    out: dict[str, dict[str, str]] = {i: {} for i in ids}
    for batch in chunked(ids):
        query = (HyperParam.select(HyperParam.experiment, HyperParam.section, HyperParam.name, HyperParam.value)
                 .where(HyperParam.experiment.in_(batch)))
        if not with_properties:
            query = query.where(HyperParam.section != "properties")
        for exp_id, section, name, value in query.tuples():
            out[exp_id][f"{section}/{name}"] = value
    return out


def varying_parameters(ids: Sequence[str]) -> list[str]:
    """The hyperparameters whose value is not the same in every compared experiment."""
    params = hyperparameters(ids)
    names = sorted({name for values in params.values() for name in values})
    return [name for name in names if not compare_stats.is_identical(params[i].get(name) for i in ids)]


def tags(ids: Sequence[str]) -> dict[str, list[str]]:
    return tags_of(list(ids))


# ---- Plots -----------------------------------------------------------------------------------

def _box_figure(raw: str | dict) -> dict[str, Any] | None:
    """Box plots: Plotly traces of type "box", or {"kind": "box", "series": [{"name", "y"}]}."""
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    traces = data.get("data") if isinstance(data.get("data"), list) else data.get("series")
    if not isinstance(traces, list) or not traces:
        return None
    is_plotly = isinstance(data.get("data"), list)
    if is_plotly and not all(isinstance(t, dict) and t.get("type") == "box" for t in traces):
        return None
    if not is_plotly and str(data.get("kind", "")).lower() != "box":
        return None
    series = []
    for t in traces:
        values = []
        for v in t.get("y") or t.get("values") or []:
            try:
                values.append(float(v))
            except (TypeError, ValueError):
                continue
        series.append({"name": str(t.get("name", "")), "y": values})
    title = data.get("title", "")
    if is_plotly:
        layout_title = (data.get("layout") or {}).get("title")
        title = layout_title.get("text", "") if isinstance(layout_title, dict) else (layout_title or "")
    return {"kind": "box", "title": str(title), "xaxis": "", "yaxis": "", "series": series}


def figure_of(kind: str, raw: str | dict) -> dict[str, Any]:
    """``core.details.normalize_plot``, plus box plots, which the compare page overlays."""
    if (kind or "").lower() == "box" or '"box"' in (raw if isinstance(raw, str) else json.dumps(raw)):
        box = _box_figure(raw)
        if box is not None:
            return box
    return normalize_plot(kind, raw)


def latest_plots(ids: Sequence[str]) -> dict[tuple[str, str], dict[str, dict[str, Any]]]:
    """(metric, variant) -> experiment -> the newest sample's figure and iteration (two queries)."""
    newest: dict[tuple[str, str, str], int] = {}
    for batch in chunked(ids):
        for exp_id, metric, variant, iteration in (
                Plot.select(Plot.experiment, Plot.metric, Plot.variant, fn.MAX(Plot.iteration))
                .where(Plot.experiment.in_(batch))
                .group_by(Plot.experiment, Plot.metric, Plot.variant).tuples()):
            newest[(exp_id, metric, variant)] = iteration
    out: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    iterations = sorted(set(newest.values()))
    if not newest:
        return {}
    for batch in chunked(ids):
        rows = (Plot.select(Plot.id, Plot.experiment, Plot.metric, Plot.variant, Plot.iteration, Plot.kind, Plot.data)
                .where(Plot.experiment.in_(batch) & Plot.iteration.in_(iterations))
                .order_by(Plot.id).tuples())
        for _pid, exp_id, metric, variant, iteration, kind, raw in rows:
            if newest.get((exp_id, metric, variant)) != iteration:
                continue
            # Ordered by id: a later report at the same iteration replaces the earlier one.
            out[(metric, variant)][exp_id] = {"iteration": iteration, "kind": kind, "figure": figure_of(kind, raw)}
    return dict(sorted(out.items()))


# ---- Debug samples ---------------------------------------------------------------------------

def debug_samples(ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """experiment -> its samples without their bytes, newest iteration first (one query)."""
    out: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    for batch in chunked(ids):
        for sample_id, exp_id, metric, variant, iteration, path, content_type in (
                DebugSample.select(DebugSample.id, DebugSample.experiment, DebugSample.metric, DebugSample.variant,
                                   DebugSample.iteration, DebugSample.path, DebugSample.content_type)
                .where(DebugSample.experiment.in_(batch))
                .order_by(DebugSample.iteration.desc(), DebugSample.metric, DebugSample.variant,
                          DebugSample.id.desc()).tuples()):
            out[exp_id].append({"id": sample_id, "metric": metric, "variant": variant, "iteration": iteration,
                                "path": path, "content_type": content_type})
    return out


def debug_sample_bytes_many(sample_ids: Sequence[int]) -> dict[int, bytes]:
    """The content of many samples: inline bytes (one query), else their local file; unreadable ones absent."""
    out: dict[int, bytes] = {}
    for batch in chunked(dict.fromkeys(sample_ids)):
        for sample_id, data, path in (DebugSample.select(DebugSample.id, DebugSample.data, DebugSample.path)
                                      .where(DebugSample.id.in_(batch)).tuples()):
            if data:
                out[sample_id] = bytes(data)
                continue
            local = local_path(path)
            if local:
                try:
                    with open(local, "rb") as handle:
                        out[sample_id] = handle.read()
                except OSError:
                    pass
    return out
