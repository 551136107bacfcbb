"""Scalar time series in chunks, and the metric summaries that go with them.

How a series is stored: ``ScalarChunk`` rows, numbered by ``seq``, whose packed
arrays read back to back in ``seq`` order are the series. All rows but the last
few ("the tail") hold ``CHUNK_POINTS`` points each; a reader needs nothing more
than that order, whatever the rows' sizes.

How it grows: a live run flushes a few points per series every second. Rewriting
the part-full last chunk each time wrote up to 96 KB per series for a few bytes
of news, so a flush appends its points as a new small row instead, and small
rows are merged like a log-structured merge: when ``MERGE_FANOUT`` trailing rows
have the same size class (1-7 points, 8-63, 64-511, 512-4095), they become one
row of the next class, and once the tail reaches ``CHUNK_POINTS`` it is rewritten
as full chunks. A point is thus written at most about six times over its life,
a flush writes bytes in proportion to its new points (amortised), and a tail
never holds more than ``MAX_TAIL_ROWS`` rows, so reads stay a few hundred rows
for a million points. When a run ends (``compact_series``) its tails become
one row each, the layout a bulk writer makes.

A merge replaces a suffix of a series' rows (the rows from some ``seq`` on) by
rows numbered from that same ``seq``, so ``seq`` stays gap-free and ordered, and
the position of a point in the series never changes: readers that follow a
growing series keep a point count (``read_series_from``), not a row.
"""
from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

import numpy as np
from peewee import fn

from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.db import binary_int, binary_select_sql, binary_text, is_sqlite
from exptable_desktop.store.schema import Experiment, MetricSummary, ScalarChunk

CHUNK_POINTS = 4096
MERGE_FANOUT = 8
_I8 = np.dtype("<i8")
_F8 = np.dtype("<f8")


def _size_class(count: int) -> int:
    """0 for 1-7 points, 1 for 8-63, ...: ``floor(log_MERGE_FANOUT(count))``."""
    size_class = 0
    while count >= MERGE_FANOUT:
        count //= MERGE_FANOUT
        size_class += 1
    return size_class


# Rows a tail can hold: fewer than MERGE_FANOUT of each size class below a full chunk.
MAX_TAIL_ROWS = (MERGE_FANOUT - 1) * (_size_class(CHUNK_POINTS - 1) + 1)


@dataclass
class Series:
    """One scalar series read back from its chunks: equal-length iteration, value and timestamp arrays, in the
    order the points were stored."""

    iterations: np.ndarray
    values: np.ndarray
    timestamps: np.ndarray

    def __len__(self) -> int:
        return len(self.iterations)


def _pack(array: np.ndarray, dtype: np.dtype) -> bytes:
    return np.ascontiguousarray(array, dtype=dtype).tobytes()


def _group_points(points: Iterable[tuple]) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    grouped: dict[tuple[str, str], list] = defaultdict(list)
    for metric, variant, iteration, value, timestamp in points:
        grouped[(metric, variant)].append((iteration, value, timestamp))
    out = {}
    for key, rows in grouped.items():
        arr = np.array(rows, dtype=np.float64)
        out[key] = (arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2])
    return out


def _non_empty_series(grouped: dict):
    """(metric, variant, iterations, values, stamps) as typed arrays, for each series with points."""
    for (metric, variant), (iters, values, stamps) in grouped.items():
        if len(iters):
            yield (metric, variant, np.asarray(iters, dtype=np.int64), np.asarray(values, dtype=np.float64),
                   np.asarray(stamps, dtype=np.float64))


def _chunk_rows(experiment_id, metric, variant, iters, values, stamps, offset: int, seq: int) -> list[dict]:
    """ScalarChunk rows for the points from ``offset`` on, ``CHUNK_POINTS`` a row, numbered from ``seq``."""
    rows = []
    for start in range(offset, len(iters), CHUNK_POINTS):
        end = min(start + CHUNK_POINTS, len(iters))
        rows.append({
            "experiment": experiment_id, "metric": metric, "variant": variant,
            "seq": seq, "count": end - start,
            "first_iteration": int(iters[start]), "last_iteration": int(iters[end - 1]),
            "iterations": _pack(iters[start:end], _I8),
            "values": _pack(values[start:end], _F8),
            "timestamps": _pack(stamps[start:end], _F8),
        })
        seq += 1
    return rows


def _insert(table: str, columns: tuple[str, ...], rows: list[tuple], per_statement: int, suffix: str = "") -> None:
    """``rows`` (values in ``columns`` order, as the database stores them) in multi-row INSERTs.

    Written out rather than with peewee's ``insert_many``, whose per-value SQL building was
    most of a flush's time at 100 series."""
    db = ScalarChunk._meta.database
    one = "(" + ", ".join([db.param] * len(columns)) + ")"
    names = ", ".join(f'"{column}"' for column in columns)
    for batch in chunked(rows, per_statement):
        db.execute_sql(f'INSERT INTO "{table}" ({names}) VALUES {", ".join([one] * len(batch))}{suffix}',
                       [value for row in batch for value in row])


_CHUNK_COLUMNS = ("experiment_id", "metric", "variant", "seq", "count", "first_iteration", "last_iteration",
                  "iterations", "values", "timestamps")
_CHUNK_KEYS = ("experiment", "metric", "variant", "seq", "count", "first_iteration", "last_iteration",
               "iterations", "values", "timestamps")


# ---- Reading rows whose columns are packed arrays ---------------------------------------------

def _fetch(sql: str, params: Iterable = ()) -> list[tuple]:
    """The rows of a SELECT. On PostgreSQL they come in the server's binary form (blobs as
    raw bytes, see ``store.db.binary_select_sql``): read text with ``_text``, integers with ``_int``."""
    db = ScalarChunk._meta.database
    if is_sqlite():
        return db.execute_sql(sql, tuple(params)).fetchall()
    return db.execute_sql(binary_select_sql(sql), tuple(params)).fetchall()


def _param() -> str:
    return ScalarChunk._meta.database.param


def _join(blobs: list, dtype: np.dtype) -> np.ndarray:
    return np.frombuffer(b"".join(blobs), dtype=dtype)


# ---- Appending ---------------------------------------------------------------------------------

def _merge_start(counts: list[int]) -> int:
    """Where the merge of a series' tail starts, given the point counts of its tail rows
    (oldest first) and, last, of the points being appended: the index of the first row to
    merge with the new points, or ``len(counts) - 1`` when they make a row of their own.

    The rows from there on are rewritten as one, or as full chunks and one part-full row when
    they hold ``CHUNK_POINTS`` or more (then the whole tail goes). Afterwards the tail's size
    classes do not grow from old to new and no class holds ``MERGE_FANOUT`` rows, which bounds
    both the rows a reader meets and how often a point is rewritten."""
    if sum(counts) >= CHUNK_POINTS:
        return 0
    start = len(counts) - 1
    total = counts[start]
    while True:
        size_class = _size_class(total)
        if start > 0 and _size_class(counts[start - 1]) < size_class:
            start -= 1  # a smaller row before a bigger one: absorbed, so classes never grow
            total += counts[start]
            continue
        first = start
        while first > 0 and _size_class(counts[first - 1]) == size_class and start - first + 1 < MERGE_FANOUT:
            first -= 1
        if start - first + 1 == MERGE_FANOUT:
            total += sum(counts[first:start])
            start = first
            continue
        return start


def _tails(experiment_id: str, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], tuple[int, list]]:
    """For each series ``(metric, variant)`` of the experiment that has rows: its last ``seq``
    and its tail rows ``(id, seq, count)``, oldest first.

    Only a series' last ``MAX_TAIL_ROWS`` rows are looked at, each series by its own backward
    index range, so the cost does not depend on how long the series are, nor on the planner's
    statistics (a join with a per-series MAX(seq) went quadratic on a table not yet analysed).
    Any run of last rows is a valid tail to merge (the series reads the same), so rows an older
    program left are handled too."""
    db = ScalarChunk._meta.database
    last_rows = (f'SELECT {{columns}} FROM "scalar_chunk" WHERE "experiment_id" = {{p}} AND "metric" = {{metric}} '
                 f'AND "variant" = {{variant}} ORDER BY "seq" DESC LIMIT {MAX_TAIL_ROWS}')
    rows: dict[tuple[str, str], list[tuple[int, int, int]]] = defaultdict(list)
    for batch in chunked(list(keys), 100):
        if is_sqlite():
            # One sub-select per series; SQLite plans them in microseconds.
            one = "SELECT * FROM (" + last_rows.format(columns='"metric", "variant", "id", "seq", "count"', p="?",
                                                        metric="?", variant="?") + ")"
            sql = " UNION ALL ".join([one] * len(batch))
            params = [value for metric, variant in batch for value in (experiment_id, metric, variant)]
        else:
            # PostgreSQL takes milliseconds to plan a hundred sub-selects: one LATERAL instead.
            sql = ('SELECT k."metric", k."variant", r."id", r."seq", r."count" '
                   'FROM unnest(%s::text[], %s::text[]) AS k("metric", "variant") CROSS JOIN LATERAL ('
                   + last_rows.format(columns='"id", "seq", "count"', p="%s", metric='k."metric"',
                                      variant='k."variant"') + ') AS r')
            params = [[metric for metric, _ in batch], [variant for _, variant in batch], experiment_id]
        for metric, variant, row_id, seq, count in db.execute_sql(sql, params).fetchall():
            rows[(metric, variant)].append((row_id, seq, count))
    out = {}
    for key, series_rows in rows.items():
        series_rows.sort(key=lambda row: row[1])
        first = len(series_rows)
        while first > 0 and series_rows[first - 1][2] < CHUNK_POINTS:
            first -= 1
        out[key] = (series_rows[-1][1], series_rows[first:])
    return out


def _rewrite_tails(experiment_id: str, plans: list[tuple]) -> None:
    """Write each series' new rows, merged with the tail rows it replaces.

    ``plans``: ``(metric, variant, first_seq, replaced, iters, values, stamps)`` where
    ``replaced`` are tail rows ``(id, seq, count)`` whose points come before the new ones."""
    replaced_ids = [row[0] for plan in plans for row in plan[3]]
    blobs: dict[int, tuple] = {}
    p = _param()
    for batch in chunked(replaced_ids):
        marks = ", ".join([p] * len(batch))
        for row_id, *arrays in _fetch(f'SELECT "id", "iterations", "values", "timestamps" FROM "scalar_chunk" '
                                      f'WHERE "id" IN ({marks})', batch):
            blobs[binary_int(row_id)] = arrays
    new_rows = []
    for metric, variant, first_seq, replaced, iters, values, stamps in plans:
        if replaced:
            old = [blobs[row[0]] for row in replaced]
            iters = np.concatenate([_join([b[0] for b in old], _I8), iters])
            values = np.concatenate([_join([b[1] for b in old], _F8), values])
            stamps = np.concatenate([_join([b[2] for b in old], _F8), stamps])
        new_rows.extend(_chunk_rows(experiment_id, metric, variant, iters, values, stamps, 0, first_seq))
    for batch in chunked(replaced_ids):
        ScalarChunk.delete().where(ScalarChunk.id.in_(batch)).execute()
    _insert("scalar_chunk", _CHUNK_COLUMNS, [tuple(row[k] for k in _CHUNK_KEYS) for row in new_rows], 200)


def _stored_names(grouped: dict) -> dict:
    """``grouped`` keyed by the names as the database keeps them (cut, cleaned), so a series is
    found again; keys that become one have their points joined, in order."""
    metric_field, variant_field = ScalarChunk.metric, ScalarChunk.variant
    out: dict = {}
    for (metric, variant), arrays in grouped.items():
        key = (metric_field.db_value(metric), variant_field.db_value(variant))
        if key in out:
            arrays = tuple(np.concatenate([np.asarray(a), np.asarray(b)]) for a, b in zip(out[key], arrays))
        out[key] = arrays
    return out


def append_scalars(experiment_id: str, points: Iterable[tuple] | dict, *, now: float | None = None) -> int:
    """Append ``(metric, variant, iteration, value, timestamp)`` points and update summaries.

    Call inside a write transaction. ``points`` may also be a dict
    ``{(metric, variant): (iterations, values, timestamps)}`` of arrays, which
    bulk loaders use to skip the tuple stage. Returns the number of points.
    """
    grouped = _stored_names(points if isinstance(points, dict) else _group_points(points))
    if not grouped:
        return 0
    now = time.time() if now is None else now
    tails = _tails(experiment_id, grouped)
    summaries = {
        (s.metric, s.variant): s
        for s in MetricSummary.select().where(MetricSummary.experiment == experiment_id).namedtuples()
    }
    plans = []
    summary_rows = []
    total = 0
    max_iteration = None
    for metric, variant, iters, values, stamps in _non_empty_series(grouped):
        n = len(iters)
        total += n
        last_seq, tail = tails.get((metric, variant), (-1, []))
        replaced = tail[_merge_start([row[2] for row in tail] + [n]):]
        plans.append((metric, variant, replaced[0][1] if replaced else last_seq + 1, replaced, iters, values, stamps))
        summary_rows.append(_merge_summary(experiment_id, metric, variant,
                                           summaries.get((metric, variant)), iters, values))
        top = int(iters.max())
        max_iteration = top if max_iteration is None else max(max_iteration, top)
    _rewrite_tails(experiment_id, plans)
    upsert_summaries(summary_rows)
    if max_iteration is not None:
        current = (Experiment.select(Experiment.last_iteration)
                   .where(Experiment.id == experiment_id).scalar())
        last = max_iteration if current is None else max(current, max_iteration)
        Experiment.update(last_iteration=last, last_update=now).where(Experiment.id == experiment_id).execute()
    return total


def compact_series(experiment_id: str) -> int:
    """Merge every series' tail into full chunks and at most one part-full row (call inside a
    write transaction, when a run ends: its series stop growing). Returns how many series it merged."""
    empty_i8, empty_f8 = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64)
    keys = (ScalarChunk.select(ScalarChunk.metric, ScalarChunk.variant).distinct()
            .where(ScalarChunk.experiment == experiment_id).tuples())
    plans = [(metric, variant, tail[0][1], tail, empty_i8, empty_f8, empty_f8)
             for (metric, variant), (_last, tail) in _tails(experiment_id, list(keys)).items() if len(tail) > 1]
    _rewrite_tails(experiment_id, plans)
    return len(plans)


def _merge_summary(experiment_id, metric, variant, old, iters, values) -> dict:
    finite = np.isfinite(values)
    row = {
        "experiment": experiment_id, "metric": metric, "variant": variant,
        "first": old.first if old is not None and old.count else float(values[0]),
        "last": float(values[-1]),
        "last_iteration": int(iters[-1]),
        "count": (old.count if old is not None else 0) + len(values),
        "finite_count": (old.finite_count if old is not None else 0) + int(finite.sum()),
        "total": (old.total if old is not None else 0.0) + float(values[finite].sum()),
        "min": old.min if old is not None else None,
        "min_iteration": old.min_iteration if old is not None else None,
        "max": old.max if old is not None else None,
        "max_iteration": old.max_iteration if old is not None else None,
    }
    if finite.any():
        fv = np.where(finite, values, np.inf)
        i = int(np.argmin(fv))
        if row["min"] is None or fv[i] < row["min"]:
            row["min"], row["min_iteration"] = float(fv[i]), int(iters[i])
        fv = np.where(finite, values, -np.inf)
        i = int(np.argmax(fv))
        if row["max"] is None or fv[i] > row["max"]:
            row["max"], row["max_iteration"] = float(fv[i]), int(iters[i])
    return row


_SUMMARY_FIELDS = ("first", "last", "last_iteration", "count", "finite_count", "total",
                   "min", "min_iteration", "max", "max_iteration")


def upsert_summaries(rows: list[dict]) -> None:
    """Insert or replace MetricSummary rows (dicts as ``_merge_summary`` makes them)."""
    if not rows:
        return
    columns = ("experiment_id", "metric", "variant") + _SUMMARY_FIELDS
    update = ", ".join(f'"{f}" = EXCLUDED."{f}"' for f in _SUMMARY_FIELDS)
    metric_field, variant_field = MetricSummary.metric, MetricSummary.variant
    values = [(row["experiment"], metric_field.db_value(row["metric"]), variant_field.db_value(row["variant"]),
               *(row[f] for f in _SUMMARY_FIELDS)) for row in rows]
    _insert("metric_summary", columns, values, 500,
            f' ON CONFLICT ("experiment_id", "metric", "variant") DO UPDATE SET {update}')


# ---- Reading -----------------------------------------------------------------------------------

def _series_where(p: str) -> str:
    return f'"experiment_id" = {p} AND "metric" = {p} AND "variant" = {p}'


def read_series(experiment_id: str, metric: str, variant: str) -> Series:
    rows = _fetch(f'SELECT "iterations", "values", "timestamps" FROM "scalar_chunk" '
                  f'WHERE {_series_where(_param())} ORDER BY "seq"', (experiment_id, metric, variant))
    return Series(_join([r[0] for r in rows], _I8), _join([r[1] for r in rows], _F8),
                  _join([r[2] for r in rows], _F8))


def read_series_from(experiment_id: str, metric: str, variant: str, start: int, *,
                     timestamps: bool = True) -> Series:
    """The points of a series from the ``start``-th on (0 = all), reading only the rows that hold them.

    For following a growing series: keep how many points were read, ask for the rest. Without
    ``timestamps`` a third less is read and the Series holds an empty array for them."""
    if start <= 0:
        if timestamps:
            return read_series(experiment_id, metric, variant)
        start = 0
    p = _param()
    blobs = '"iterations", "values"' + (', "timestamps"' if timestamps else "")
    # The row holding point ``start``: the first whose running total of points passes it. Found by
    # uncorrelated sub-selects over (seq, count) alone, each run once, and all in one statement, so
    # one snapshot: a merge committed meanwhile cannot shift the rows under the count.
    holding = (f'(SELECT {{column}} FROM (SELECT "seq", "count", SUM("count") OVER (ORDER BY "seq") AS "stop" '
               f'FROM "scalar_chunk" WHERE {_series_where(p)}) AS ends WHERE "stop" > {p} ORDER BY "seq" LIMIT 1)')
    first_point, first_seq = holding.format(column='"stop" - "count"'), holding.format(column='"seq"')
    rows = _fetch(f'SELECT {first_point}, {blobs} FROM "scalar_chunk" '
                  f'WHERE {_series_where(p)} AND "seq" >= {first_seq} ORDER BY "seq"',
                  (experiment_id, metric, variant, start, experiment_id, metric, variant,
                   experiment_id, metric, variant, start))
    if not rows:
        empty = np.zeros(0, dtype=_F8)
        return Series(np.zeros(0, dtype=_I8), empty, empty)
    skip = start - binary_int(rows[0][0])
    columns = [_join([r[1] for r in rows], _I8)[skip:], _join([r[2] for r in rows], _F8)[skip:]]
    columns.append(_join([r[3] for r in rows], _F8)[skip:] if timestamps else np.zeros(0, dtype=_F8))
    return Series(*columns)


def list_series(experiment_id: str) -> list[tuple[str, str]]:
    return [(m, v) for m, v in MetricSummary.select(MetricSummary.metric, MetricSummary.variant)
            .where(MetricSummary.experiment == experiment_id)
            .order_by(MetricSummary.metric, MetricSummary.variant).tuples()]


def count_points(experiment_id: str | None = None) -> int:
    query = ScalarChunk.select(fn.COALESCE(fn.SUM(ScalarChunk.count), 0))
    if experiment_id is not None:
        query = query.where(ScalarChunk.experiment == experiment_id)
    return int(query.scalar() or 0)


# ---- Bulk reads for comparisons: one query per series name, not one per experiment -------


def read_series_many(experiment_ids: Iterable[str], metric: str, variant: str, *,
                     timestamps: bool = True) -> dict[str, Series]:
    """The series ``(metric, variant)`` of many experiments, read with one query per 500 ids.

    Experiments without that series are absent from the result. Without
    ``timestamps`` a third less is read and each Series holds an empty array.
    """
    ids = list(dict.fromkeys(experiment_ids))
    columns = '"experiment_id", "iterations", "values"' + (', "timestamps"' if timestamps else "")
    p = _param()
    parts: dict[str, list[list]] = {}
    for batch in chunked(ids):
        marks = ", ".join([p] * len(batch))
        rows = _fetch(f'SELECT {columns} FROM "scalar_chunk" WHERE "experiment_id" IN ({marks}) '
                      f'AND "metric" = {p} AND "variant" = {p} ORDER BY "experiment_id", "seq"',
                      [*batch, metric, variant])
        for exp_id, *blobs in rows:
            lists = parts.setdefault(binary_text(exp_id), [[], [], []])
            for n, blob in enumerate(blobs):
                lists[n].append(blob)
    empty = np.zeros(0, dtype=_F8)
    return {exp_id: Series(_join(its, _I8), _join(vals, _F8), _join(stamps, _F8) if timestamps else empty)
            for exp_id, (its, vals, stamps) in parts.items()}


def list_series_many(experiment_ids: Iterable[str]) -> dict[tuple[str, str], list[str]]:
    """``(metric, variant)`` -> the experiments that reported it, in one query per 500 ids."""
    ids = list(dict.fromkeys(experiment_ids))
    out: dict[tuple[str, str], list[str]] = {}
    for batch in chunked(ids):
        query = (MetricSummary.select(MetricSummary.experiment, MetricSummary.metric, MetricSummary.variant)
                 .where(MetricSummary.experiment.in_(batch)))
        sql, params = query.sql()
        # Straight from the driver: peewee's per-value conversion is most of the time at 20,000 rows.
        for exp_id, metric, variant in MetricSummary._meta.database.execute_sql(sql, params).fetchall():
            out.setdefault((metric, variant), []).append(exp_id)
    return dict(sorted(out.items()))
# ---- Series of a new experiment, for bulk writers ------------------------------------------

def new_series_rows(experiment_id: str, grouped: dict[tuple[str, str], tuple]) -> tuple[list[dict], list[dict], int | None]:
    """The ScalarChunk rows and MetricSummary rows of series an experiment does not have yet, and the
    highest iteration among them: what ``append_scalars`` would write, for a writer inserting many new
    experiments in bulk (``core.recording.create_experiments``). ``grouped`` as ``append_scalars`` takes it."""
    chunks: list[dict] = []
    summaries: list[dict] = []
    top: int | None = None
    for metric, variant, iters, values, stamps in _non_empty_series(grouped):
        chunks.extend(_chunk_rows(experiment_id, metric, variant, iters, values, stamps, 0, 0))
        summaries.append(_merge_summary(experiment_id, metric, variant, None, iters, values))
        high = int(iters.max())
        top = high if top is None else max(top, high)
    return chunks, summaries, top
