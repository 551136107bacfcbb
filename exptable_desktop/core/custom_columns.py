"""The experiments table's custom columns read in bulk: metric summaries, hyperparameters, and a
metric's value at the step where another metric is best.

A whole column comes back as ``ColumnValues``: numpy arrays aligned with an id list that columns
holding the same experiments share, so a table maps those ids to its slots once for all of them
(``experiment_table.prepare_custom_column``). Over most of the database the columns are taken from the
packed column cache (store.column_cache) and patched with the experiments written since it was
built; the ones it lacks are read row by row as before and, by the window's loader, kept there.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from itertools import compress, groupby, repeat
from operator import itemgetter
from typing import Any, Iterator, Sequence

import numpy as np

from exptable_desktop.core import compare_stats
from exptable_desktop.core.columns import HYPERPARAM, METRIC, ColumnSpec, spec_for
from exptable_desktop.store import bulk, column_cache
from exptable_desktop.store.bulk import Scope
from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.column_cache import CachedColumn, IdList

log = logging.getLogger(__name__)

# Below this many rows a column is read from its rows: the cache holds the whole database's.
CACHE_MIN_ROWS = 2000
# A cached column is patched with at most this many experiments written since it was built (or a
# twentieth of it, if more); past that it is read again whole, and kept again.
PATCH_MIN = 2000
# A column patched with this many experiments (or a two-hundredth of it, if more) is kept again as
# patched, so that every later open does not re-read them (measured on a server: 600 experiments
# re-read for 40 columns took 0.25 s of a warm 10,000-row read's 0.3 s).
REWRITE_AFTER = 100
# Columns compared with each other for the same experiments in another order (a few cover a table).
_SHARED_LISTS = 8


@dataclass
class ColumnValues:
    """One column: ``values`` (float64, NaN = none) or ``codes`` (int32, -1 = none) into
    ``categories``, aligned with ``ids``; then ``fresh``: experiments read after those arrays,
    whose cells ``fresh`` decides (id -> value; an id missing from it has no value now)."""
    key: str
    ids: IdList
    values: np.ndarray | None = None
    codes: np.ndarray | None = None
    categories: list[str] | None = None
    fresh_ids: list[str] = field(default_factory=list)
    fresh: dict[str, Any] = field(default_factory=dict)
    built_seq: int = 0  # a cached column's change sequence number, before its fresh cells

    def pairs(self) -> list[tuple[str, Any]]:
        """(experiment id, value) of every experiment with a value: float, or str for text columns."""
        stale = set(self.fresh_ids)
        if self.values is not None:
            kept = [(i, v) for i, v in zip(self.ids.ids, self.values.tolist()) if i not in stale and v == v]
        else:
            names = self.categories or []
            kept = [(i, names[c]) for i, c in zip(self.ids.ids, self.codes.tolist()) if i not in stale and c >= 0]
        fresh = [(i, self.fresh[i]) for i in self.fresh_ids if i in self.fresh and self.fresh[i] not in (None, "")]
        return kept + fresh

    def merged(self, built_seq: int, deleted: set[str], layouts: dict) -> CachedColumn:
        """This column with its fresh cells folded in and ``deleted`` experiments left out, to keep.

        Every experiment read afresh stays in the ids (with no value where it has none), so columns
        that shared ids share them again; ``layouts`` remembers the new ids for the next such column.
        """
        layout_key = (id(self.ids), tuple(self.fresh_ids))
        layout = layouts.get(layout_key)
        if layout is None:
            drop = deleted.union(self.fresh_ids)
            keep = np.fromiter((i not in drop for i in self.ids.ids), bool, len(self.ids))
            added = [i for i in self.fresh_ids if i not in deleted]
            layout = layouts[layout_key] = (keep, added, IdList(list(compress(self.ids.ids, keep.tolist())) + added))
        keep, added, ids = layout
        fresh = [self.fresh.get(i) for i in added]
        if self.values is not None:
            numbers = np.array([np.nan if v is None else v for v in fresh], np.float64)
            return CachedColumn(self.key, ids, built_seq, values=np.concatenate([self.values[keep], numbers]))
        categories = list(self.categories or ())
        index = {value: code for code, value in enumerate(categories)}
        for value in fresh:
            if value and value not in index:
                index[value] = len(categories)
                categories.append(value)
        index[""] = index[None] = -1
        codes = np.array([index[v] for v in fresh], np.int32)
        return CachedColumn(self.key, ids, built_seq, codes=np.concatenate([self.codes[keep], codes]),
                            categories=categories)


def _kind_ok(spec: ColumnSpec) -> bool:
    return spec.kind in (METRIC, HYPERPARAM)


def _is_text(spec: ColumnSpec) -> bool:
    return spec.kind == HYPERPARAM


# ---- Values of a few experiments (first page, refresh, patches) -------------------------------

def read_values_for(ids: Sequence[str], keys: Sequence[str]) -> dict[str, tuple[list[str], list[Any]]]:
    """Custom-column values of ``ids`` grouped per column key: key -> (experiment ids, values);
    an experiment missing from a column's lists has no value there. A few IN queries per kind."""
    metric_keys: dict[tuple[str, str], list[tuple[str, int]]] = {}
    hyperparam_keys: dict[tuple[str, str], str] = {}
    best_keys: list[ColumnSpec] = []
    field_index = {"last": 3, "min": 4, "max": 5}
    for key in keys:
        spec = spec_for(key)
        if spec.at_best_step:
            best_keys.append(spec)
        elif spec.kind == METRIC:
            metric, variant, fld = spec.source
            metric_keys.setdefault((metric, variant), []).append((key, field_index[fld]))
        elif spec.kind == HYPERPARAM:
            hyperparam_keys[spec.source] = key
    out: dict[str, tuple[list[str], list[Any]]] = {key: ([], []) for key in keys}
    if not ids:
        return out
    if metric_keys:
        for row in bulk.metric_rows_for(ids, {m for m, _ in metric_keys}):
            for key, index in metric_keys.get((row[1], row[2]), ()):
                out[key][0].append(row[0])
                out[key][1].append(row[index])
    if hyperparam_keys:
        for exp_id, section, name, value in bulk.hyperparam_rows_for(ids, {s for s, _ in hyperparam_keys}):
            key = hyperparam_keys.get((section, name))
            if key is not None:
                out[key][0].append(exp_id)
                out[key][1].append(value)
    for spec in best_keys:
        found_ids, values = best_step_column(spec, ids=ids)
        out[spec.key] = (found_ids, values.tolist())
    return out


# ---- Metric at the best step of another ---------------------------------------------------------

def best_steps(metric: str, variant: str, best: str, *, scope: Scope | None = None, whole_db: bool = False,
               ids: Sequence[str] | None = None) -> dict[str, int]:
    """Experiment -> the first iteration at which ``metric/variant`` reached its ``best`` (min or max)
    finite value; experiments without a finite value are absent.

    Taken from the metric's summary (its min/max and their iteration, kept as points arrive: the
    first report of the best value wins, as ``compare_stats.best_iteration`` decides on a series).
    Summaries written without that iteration (by older writers) have their series read instead.
    """
    steps: dict[str, int] = {}
    unknown: list[str] = []
    for exp_id, value, iteration in bulk.load_best_iterations(metric, variant, best, scope=scope,
                                                              whole_db=whole_db, ids=ids):
        if value is None or value != value:
            continue
        if iteration is None:
            unknown.append(exp_id)
        else:
            steps[exp_id] = int(iteration)
    if unknown:
        from exptable_desktop.store.series import read_series_many
        for exp_id, series in read_series_many(unknown, metric, variant, timestamps=False).items():
            step = compare_stats.best_iteration(series.iterations, series.values, best)
            if step is not None:
                steps[exp_id] = step
    return steps


def values_at_steps(steps: dict[str, int], metric: str, variant: str) -> tuple[list[str], np.ndarray]:
    """Each experiment's value of ``metric/variant`` at its step, or at its last point before it
    (``compare_stats.value_at``); experiments with no point at or before their step are left out.

    Two queries per 500 experiments: which stored chunks the series has (no points), then the one
    chunk per experiment that holds the step: the last one starting at or before it.
    """
    chosen: dict[str, tuple[int, int, int]] = {}
    for exp_id, chunk_id, seq, first in bulk.load_chunk_index(list(steps), metric, variant):
        if first > steps[exp_id]:
            continue
        candidate = (first, seq, chunk_id)
        if exp_id not in chosen or candidate > chosen[exp_id]:
            chosen[exp_id] = candidate
    owner = {candidate[2]: exp_id for exp_id, candidate in chosen.items()}
    found_ids: list[str] = []
    found_values: list[np.ndarray] = []
    for rows in bulk.load_chunk_points(list(owner)):
        if not rows:
            continue
        exp_ids = [owner[chunk_id] for chunk_id, _its, _points in rows]
        iterations = [np.frombuffer(bytes(its), dtype="<i8") for _id, its, _points in rows]
        starts = np.cumsum([0] + [len(its) for its in iterations[:-1]])
        found, values = compare_stats.values_at_many(
            np.concatenate(iterations), np.concatenate([np.frombuffer(bytes(p), dtype="<f8") for *_, p in rows]),
            starts, np.array([steps[exp_id] for exp_id in exp_ids], dtype=np.int64))
        found_ids.extend(compress(exp_ids, found.tolist()))
        found_values.append(values[found])
    return found_ids, (np.concatenate(found_values) if found_values else np.zeros(0))


def best_step_column(spec: ColumnSpec, *, scope: Scope | None = None, whole_db: bool = False,
                     ids: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
    """The values of an "at best step" column (columns.best_step_key): of ``ids``, or of ``scope``."""
    metric, variant, _best, ref_metric, ref_variant, best = spec.source
    steps = best_steps(ref_metric, ref_variant, best, scope=scope, whole_db=whole_db, ids=ids)
    return values_at_steps(steps, metric, variant)


# ---- Whole columns ----------------------------------------------------------------------------

class _IdSharing:
    """Gives columns over the same experiments one IdList, reordering their arrays to its order."""

    def __init__(self) -> None:
        self.lists: list[list] = []  # [IdList, its id -> position dict or None]

    def add(self, id_list: IdList) -> None:
        if all(entry[0] is not id_list for entry in self.lists):
            self.lists.append([id_list, None])

    def share(self, ids: list[str], arrays: list[np.ndarray]) -> tuple[IdList, list[np.ndarray]]:
        for entry in self.lists[:_SHARED_LISTS]:
            ref = entry[0]
            if len(ref.ids) != len(ids):
                continue
            if ref.ids == ids:
                return ref, arrays
            if entry[1] is None:
                entry[1] = dict(zip(ref.ids, range(len(ref.ids))))
            positions = np.fromiter(map(entry[1].get, ids, repeat(-1)), np.int64, len(ids))
            # A column lists an experiment once (one summary or parameter each): all found is a permutation.
            if len(positions) and positions.min() >= 0:
                reordered = []
                for array in arrays:
                    out = np.empty_like(array)
                    out[positions] = array
                    reordered.append(out)
                return ref, reordered
        id_list = IdList(ids)
        self.lists.append([id_list, None])
        return id_list, arrays


def _text_codes(values: Sequence[str]) -> tuple[np.ndarray, list[str]]:
    distinct = dict.fromkeys(values)
    distinct.pop("", None)
    distinct.pop(None, None)
    index = {value: code for code, value in enumerate(distinct)}
    index[""] = index[None] = -1
    return np.fromiter(map(index.__getitem__, values), np.int32, len(values)), list(distinct)


def _column_from_rows(spec: ColumnSpec, exp_ids: list[str], values: list, sharing: _IdSharing) -> ColumnValues:
    if _is_text(spec):
        codes, categories = _text_codes(values)
        id_list, (codes,) = sharing.share(exp_ids, [codes])
        return ColumnValues(spec.key, id_list, codes=codes, categories=categories)
    numbers = np.array(values, dtype=np.float64) if values else np.empty(0)  # None -> NaN
    id_list, (numbers,) = sharing.share(exp_ids, [numbers])
    return ColumnValues(spec.key, id_list, values=numbers)


def _read_rows(scope: Scope, specs: list[ColumnSpec], *, whole_db: bool,
               expected_rows: int) -> Iterator[tuple[ColumnSpec, list[str], list]]:
    """(spec, experiment ids, values) of summary and hyperparameter columns, a statement per few columns
    (see bulk.custom_columns_per_statement)."""
    per_statement = bulk.custom_columns_per_statement(expected_rows)
    for kind, read in ((METRIC, bulk.load_metric_columns), (HYPERPARAM, bulk.load_hyperparam_columns)):
        of_kind = [spec for spec in specs if spec.kind == kind and not spec.at_best_step]
        for batch in chunked(of_kind, per_statement):
            rows = read(scope, [spec.source for spec in batch], whole_db=whole_db)
            if len(batch) == 1:
                yield batch[0], list(map(itemgetter(0), rows)), list(map(itemgetter(1), rows))
                continue
            grouped: dict[int, list[tuple]] = {index: [] for index in range(len(batch))}
            # Each column's rows come in one run (UNION ALL); grouping by runs is C-speed.
            for index, run in groupby(rows, itemgetter(2)):
                grouped[index].extend(run)
            del rows
            for index, spec in enumerate(batch):
                part = grouped.pop(index)
                yield spec, list(map(itemgetter(0), part)), list(map(itemgetter(1), part))


def _cached_columns(keys: list[str], sharing: _IdSharing) -> dict[str, ColumnValues]:
    """The cache's entries of ``keys``, each with the experiments written since it was built; entries
    too far behind are left out (read again whole)."""
    try:
        cached = column_cache.read(keys)
    except Exception as exc:  # a database without the cache tables (read-only, not migrated): no cache
        log.debug("column cache not read: %s", exc)
        return {}
    if not cached:
        return {}
    oldest = min(entry.built_seq for entry in cached.values())
    limit = max(PATCH_MIN, max(len(entry.ids) for entry in cached.values()) // 20)
    changed = bulk.changed_ids_since(oldest, limit + 1)
    if len(changed) > limit:
        return {}
    fresh = read_values_for([exp_id for exp_id, _seq in changed], list(cached)) if changed else {}
    out: dict[str, ColumnValues] = {}
    newer_than: dict[int, list[str]] = {}  # one list per built_seq: tables lay out columns sharing it once
    for key, entry in cached.items():
        sharing.add(entry.ids)
        newer = newer_than.get(entry.built_seq)
        if newer is None:
            newer = newer_than[entry.built_seq] = [exp_id for exp_id, seq in changed if seq > entry.built_seq]
        fresh_ids, fresh_values = fresh.get(key, ((), ()))
        out[key] = ColumnValues(key, entry.ids, values=entry.values, codes=entry.codes,
                                categories=entry.categories, fresh_ids=newer,
                                fresh=dict(zip(fresh_ids, fresh_values)) if newer else {}, built_seq=entry.built_seq)
    return out


def _needs_rewrite(column: ColumnValues) -> bool:
    """Whether enough was written since the cached ``column`` was kept to keep it again patched."""
    return len(column.fresh_ids) >= max(REWRITE_AFTER, len(column.ids) // 200)


def load_columns(scope: Scope, keys: Sequence[str], *, whole_db: bool = False, expected_rows: int = 0,
                 keep_cache: bool = True) -> Iterator[tuple[str, ColumnValues]]:
    """(key, ColumnValues) for each custom column of ``keys``, the last key last.

    ``whole_db``: the scope is most of the database, so columns are read for every experiment and
    strangers dropped by the table (and may then be kept in the column cache). ``expected_rows``:
    rows per column, which bounds how many columns one statement reads. ``keep_cache``: keep the
    columns read whole in the cache, after the last one is handed over (the window; not exports).
    """
    keys = list(dict.fromkeys(keys))
    specs = [spec_for(key) for key in keys]
    unknown = [spec.key for spec in specs if not _kind_ok(spec)]
    if unknown:
        raise ValueError(f"{unknown[0]!r} is not a custom column")
    if not keys:
        return
    sharing = _IdSharing()
    cursor = bulk.current_change_seq()  # before any read: rows stamped after it are read again later
    cached = _cached_columns(keys, sharing) if whole_db or expected_rows >= CACHE_MIN_ROWS else {}
    missing = [spec for spec in specs if spec.key not in cached]
    last = keys[-1]
    held: ColumnValues | None = None
    for key in keys:
        if key in cached:
            # Only the columns to be written back stay referenced here: the others go with the
            # hand-over, so the reader never holds every column at once beside the table's copies.
            column = cached[key] if _needs_rewrite(cached[key]) else cached.pop(key)
            if key == last:
                held = column
            else:
                yield key, column
            del column
    built: list[CachedColumn] = []

    def made(column: ColumnValues) -> ColumnValues:
        if whole_db:
            built.append(CachedColumn(column.key, column.ids, cursor, values=column.values, codes=column.codes,
                                      categories=column.categories))
        return column

    for spec, exp_ids, values in _read_rows(scope, missing, whole_db=whole_db, expected_rows=expected_rows):
        column = made(_column_from_rows(spec, exp_ids, values, sharing))
        del exp_ids, values
        if spec.key == last:
            held = column
        else:
            yield spec.key, column
    for spec in missing:
        if spec.at_best_step:
            exp_ids, numbers = best_step_column(spec, scope=scope, whole_db=whole_db)
            id_list, (numbers,) = sharing.share(exp_ids, [numbers])
            column = made(ColumnValues(spec.key, id_list, values=numbers))
            if spec.key == last:
                held = column
            else:
                yield spec.key, column
    if held is not None:
        yield last, held
    if not keep_cache:
        return
    patched = [column for column in cached.values() if _needs_rewrite(column)]
    if (built or patched) and column_cache.writable():
        try:
            if patched:
                deleted = set(bulk.deleted_since(min(column.built_seq for column in patched)))
                layouts: dict = {}
                built.extend(column.merged(cursor, deleted, layouts) for column in patched)
            column_cache.write(built)
        except Exception as exc:  # a cache not kept costs the next open a slower read, nothing more
            log.info("custom columns not kept in the column cache: %s", exc)
