"""Scalar time series in chunks, and the metric summaries that go with them."""
from __future__ import annotations

import math
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Iterable

import numpy as np
from peewee import fn

from exptable_desktop.store.schema import Experiment, MetricSummary, ScalarChunk

CHUNK_POINTS = 4096
_I8 = np.dtype("<i8")
_F8 = np.dtype("<f8")


@dataclass
class Series:
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
        arr = np.array(rows, dtype=np.float64) if rows else np.zeros((0, 3))
        out[key] = (arr[:, 0].astype(np.int64), arr[:, 1], arr[:, 2])
    return out


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


def append_scalars(experiment_id: str, points: Iterable[tuple] | dict, *, now: float | None = None) -> int:
    """Append ``(metric, variant, iteration, value, timestamp)`` points and update summaries.

    Call inside a write transaction. ``points`` may also be a dict
    ``{(metric, variant): (iterations, values, timestamps)}`` of arrays, which
    bulk loaders use to skip the tuple stage. Returns the number of points.
    """
    grouped = points if isinstance(points, dict) else _group_points(points)
    if not grouped:
        return 0
    now = time.time() if now is None else now
    tails = {
        (m, v): seq
        for m, v, seq in ScalarChunk.select(ScalarChunk.metric, ScalarChunk.variant, fn.MAX(ScalarChunk.seq))
        .where(ScalarChunk.experiment == experiment_id)
        .group_by(ScalarChunk.metric, ScalarChunk.variant)
        .tuples()
    }
    summaries = {
        (s.metric, s.variant): s
        for s in MetricSummary.select().where(MetricSummary.experiment == experiment_id)
    }
    new_chunks = []
    summary_rows = []
    total = 0
    max_iteration = None
    for (metric, variant), (iters, values, stamps) in grouped.items():
        iters = np.asarray(iters, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        stamps = np.asarray(stamps, dtype=np.float64)
        n = len(iters)
        if n == 0:
            continue
        total += n
        offset = 0
        next_seq = 0
        if (metric, variant) in tails:
            seq = tails[(metric, variant)]
            tail = ScalarChunk.get(
                (ScalarChunk.experiment == experiment_id) & (ScalarChunk.metric == metric)
                & (ScalarChunk.variant == variant) & (ScalarChunk.seq == seq))
            next_seq = seq + 1
            room = CHUNK_POINTS - tail.count
            if room > 0:
                take = min(room, n)
                tail.iterations = bytes(tail.iterations) + _pack(iters[:take], _I8)
                tail.values = bytes(tail.values) + _pack(values[:take], _F8)
                tail.timestamps = bytes(tail.timestamps) + _pack(stamps[:take], _F8)
                tail.count += take
                tail.last_iteration = int(iters[take - 1])
                tail.save()
                offset = take
        new_chunks.extend(_chunk_rows(experiment_id, metric, variant, iters, values, stamps, offset, next_seq))
        summary_rows.append(_merge_summary(experiment_id, metric, variant,
                                           summaries.get((metric, variant)), iters, values))
        top = int(iters.max())
        max_iteration = top if max_iteration is None else max(max_iteration, top)
    for start in range(0, len(new_chunks), 200):
        ScalarChunk.insert_many(new_chunks[start:start + 200]).execute()
    upsert_summaries(summary_rows)
    if max_iteration is not None:
        current = (Experiment.select(Experiment.last_iteration)
                   .where(Experiment.id == experiment_id).scalar())
        last = max_iteration if current is None else max(current, max_iteration)
        Experiment.update(last_iteration=last, last_update=now).where(Experiment.id == experiment_id).execute()
    return total


def _finite_or_none(x: float) -> float | None:
    return None if (x is None or not math.isfinite(x)) else float(x)


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


def upsert_summaries(rows: list[dict]) -> None:
    if not rows:
        return
    update_fields = ["first", "last", "last_iteration", "count", "finite_count", "total",
                     "min", "min_iteration", "max", "max_iteration"]
    for start in range(0, len(rows), 500):
        (MetricSummary.insert_many(rows[start:start + 500])
         .on_conflict(conflict_target=[MetricSummary.experiment, MetricSummary.metric, MetricSummary.variant],
                      preserve=[getattr(MetricSummary, f) for f in update_fields])
         .execute())


def read_series(experiment_id: str, metric: str, variant: str) -> Series:
    rows = (ScalarChunk.select(ScalarChunk.iterations, ScalarChunk.values, ScalarChunk.timestamps)
            .where((ScalarChunk.experiment == experiment_id) & (ScalarChunk.metric == metric)
                   & (ScalarChunk.variant == variant))
            .order_by(ScalarChunk.seq).tuples())
    its, vals, stamps = [], [], []
    for i, v, t in rows:
        its.append(i)
        vals.append(v)
        stamps.append(t)
    return Series(np.frombuffer(b"".join(its), dtype=_I8),
                  np.frombuffer(b"".join(vals), dtype=_F8),
                  np.frombuffer(b"".join(stamps), dtype=_F8))


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

_IN_BATCH = 500  # keeps IN (...) lists under every backend's parameter limit


def read_series_many(experiment_ids: Iterable[str], metric: str, variant: str, *,
                     timestamps: bool = True) -> dict[str, Series]:
    """The series ``(metric, variant)`` of many experiments, read with one query per 500 ids.

    Experiments without that series are absent from the result. Without
    ``timestamps`` a third less is read and each Series holds an empty array.
    """
    ids = list(dict.fromkeys(experiment_ids))
    columns = [ScalarChunk.experiment, ScalarChunk.iterations, ScalarChunk.values]
    if timestamps:
        columns.append(ScalarChunk.timestamps)
    parts: dict[str, list[list[bytes]]] = {}
    for start in range(0, len(ids), _IN_BATCH):
        batch = ids[start:start + _IN_BATCH]
        rows = (ScalarChunk.select(*columns)
                .where(ScalarChunk.experiment.in_(batch) & (ScalarChunk.metric == metric)
                       & (ScalarChunk.variant == variant))
                .order_by(ScalarChunk.experiment, ScalarChunk.seq).tuples())
        for exp_id, *blobs in rows:
            lists = parts.setdefault(exp_id, [[], [], []])
            for n, blob in enumerate(blobs):
                lists[n].append(bytes(blob))
    empty = np.zeros(0, dtype=_F8)
    return {exp_id: Series(np.frombuffer(b"".join(its), dtype=_I8),
                           np.frombuffer(b"".join(vals), dtype=_F8),
                           np.frombuffer(b"".join(stamps), dtype=_F8) if timestamps else empty)
            for exp_id, (its, vals, stamps) in parts.items()}


def list_series_many(experiment_ids: Iterable[str]) -> dict[tuple[str, str], list[str]]:
    """``(metric, variant)`` -> the experiments that reported it, in one query per 500 ids."""
    ids = list(dict.fromkeys(experiment_ids))
    out: dict[tuple[str, str], list[str]] = {}
    for start in range(0, len(ids), _IN_BATCH):
        batch = ids[start:start + _IN_BATCH]
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
    for (metric, variant), (iters, values, stamps) in grouped.items():
        iters = np.asarray(iters, dtype=np.int64)
        values = np.asarray(values, dtype=np.float64)
        stamps = np.asarray(stamps, dtype=np.float64)
        n = len(iters)
        if n == 0:
            continue
        chunks.extend(_chunk_rows(experiment_id, metric, variant, iters, values, stamps, 0, 0))
        summaries.append(_merge_summary(experiment_id, metric, variant, None, iters, values))
        high = int(iters.max())
        top = high if top is None else max(top, high)
    return chunks, summaries, top
