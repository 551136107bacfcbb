"""Numbers the compare page computes from series it already read: pure numpy, no database.

* Group statistics: several runs drawn as one curve (mean) with a band
  (min..max or mean +- std) on a common iteration grid.
* Metric at the best step: the value of one series at the iteration where
  another is best.
* Row extremes and "identical" rows of the values tables.
* Grouping experiments that differ only in one hyperparameter, or by tags.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

BAND_MIN_MAX = "minmax"
BAND_STD = "std"
BANDS = (BAND_MIN_MAX, BAND_STD)
# A union of iterations larger than this is resampled evenly: the band of 100
# runs does not need more points than a screen has pixels, times a few.
MAX_GRID_POINTS = 20_000

BEST_MIN = "min"
BEST_MAX = "max"


@dataclass
class GroupStats:
    """Per grid iteration: how many runs cover it, their mean, and the band around it."""

    grid: np.ndarray  # float64 iterations, increasing
    count: np.ndarray  # int, runs with a value there
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    std: np.ndarray


def _sorted_finite(iterations: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(iterations, dtype=np.float64)
    y = np.asarray(values, dtype=np.float64)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    if len(x) > 1 and np.any(np.diff(x) < 0):
        order = np.argsort(x, kind="stable")
        x, y = x[order], y[order]
    return x, y


def common_grid(runs: Sequence[tuple[np.ndarray, np.ndarray]], max_points: int = MAX_GRID_POINTS) -> np.ndarray:
    """The union of the runs' iterations, or ``max_points`` evenly spread over it when larger."""
    xs = [np.asarray(x, dtype=np.float64) for x, _ in runs if len(x)]
    if not xs:
        return np.zeros(0)
    grid = np.unique(np.concatenate(xs))
    grid = grid[np.isfinite(grid)]
    if len(grid) > max_points:
        grid = np.linspace(grid[0], grid[-1], max_points)
    return grid


def group_statistics(runs: Sequence[tuple[np.ndarray, np.ndarray]], band: str = BAND_MIN_MAX,
                     max_points: int = MAX_GRID_POINTS) -> GroupStats:
    """Mean and band of ``(iterations, values)`` runs on their common grid.

    Each run is linearly interpolated onto the grid inside its own iteration
    range only: a shorter run does not pull the mean after its last point, and
    ``count`` says how many runs a grid point averages. ``band`` is
    BAND_MIN_MAX (low = min, high = max) or BAND_STD (mean -+ population std).
    """
    if band not in BANDS:
        raise ValueError(f"unknown band {band!r}: use one of {', '.join(BANDS)}")
    cleaned = [_sorted_finite(x, y) for x, y in runs]
    cleaned = [(x, y) for x, y in cleaned if len(x)]
    grid = common_grid(cleaned, max_points)
    if not len(grid):
        empty = np.zeros(0)
        return GroupStats(empty, np.zeros(0, dtype=np.int64), empty, empty, empty, empty)
    matrix = np.full((len(cleaned), len(grid)), np.nan)
    for row, (x, y) in enumerate(cleaned):
        inside = (grid >= x[0]) & (grid <= x[-1])
        matrix[row, inside] = np.interp(grid[inside], x, y)
    count = np.sum(np.isfinite(matrix), axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.nansum(matrix, axis=0)
        mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        deviation = np.where(np.isfinite(matrix), matrix - mean, 0.0)
        std = np.where(count > 0, np.sqrt(np.sum(deviation ** 2, axis=0) / np.maximum(count, 1)), np.nan)
        filled_low = np.where(np.isfinite(matrix), matrix, np.inf).min(axis=0)
        filled_high = np.where(np.isfinite(matrix), matrix, -np.inf).max(axis=0)
    if band == BAND_MIN_MAX:
        low = np.where(count > 0, filled_low, np.nan)
        high = np.where(count > 0, filled_high, np.nan)
    else:
        low, high = mean - std, mean + std
    return GroupStats(grid, count, mean, low, high, std)


# ---- Metric at the best step -------------------------------------------------------------

def best_iteration(iterations: np.ndarray, values: np.ndarray, mode: str = BEST_MIN) -> int | None:
    """The iteration of the smallest (``min``) or largest (``max``) finite value; the first on ties."""
    if mode not in (BEST_MIN, BEST_MAX):
        raise ValueError(f"best means {BEST_MIN!r} or {BEST_MAX!r}, not {mode!r}")
    values = np.asarray(values, dtype=np.float64)
    finite = np.isfinite(values)
    if not finite.any():
        return None
    if mode == BEST_MIN:
        index = int(np.argmin(np.where(finite, values, np.inf)))
    else:
        index = int(np.argmax(np.where(finite, values, -np.inf)))
    return int(np.asarray(iterations)[index])


def value_at(iterations: np.ndarray, values: np.ndarray, iteration: int) -> tuple[int, float] | None:
    """The value reported at ``iteration``, else the last one reported before it; None if none was.

    Returns ``(the iteration the value is from, value)``; when an iteration
    was reported twice the later report wins, as it does on the plots.
    """
    its = np.asarray(iterations)
    if not len(its):
        return None
    at_or_before = np.nonzero(its <= iteration)[0]
    if not len(at_or_before):
        return None
    candidates = its[at_or_before]
    latest = candidates.max()
    index = at_or_before[np.nonzero(candidates == latest)[0][-1]]
    return int(its[index]), float(np.asarray(values)[index])


def value_at_best_step(reference: tuple[np.ndarray, np.ndarray], target: tuple[np.ndarray, np.ndarray],
                       mode: str = BEST_MIN) -> tuple[int, float] | None:
    """The target's value at the iteration where the reference is best (see ``value_at``).

    Returns ``(best iteration of the reference, target value)``, or None when
    the reference has no finite value or the target nothing at or before it.
    """
    step = best_iteration(*reference, mode=mode)
    if step is None:
        return None
    found = value_at(*target, step)
    return None if found is None else (step, found[1])


def values_at_many(iterations: np.ndarray, values: np.ndarray, starts: np.ndarray,
                   steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``value_at`` for many series at once, without a Python call per series: series k is
    ``iterations[starts[k]:starts[k + 1]]`` (the last one runs to the end) with its ``values``,
    looked up at ``steps[k]``; ``starts`` increasing.

    Returns ``(found, value)`` per series: whether it has a point at or before its step, and the
    value reported at the latest such iteration (the last report of it), NaN where none is.
    """
    count = len(starts)
    found = np.zeros(count, bool)
    out = np.full(count, np.nan)
    its = np.asarray(iterations, dtype=np.int64)
    if not count or not len(its):
        return found, out
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.diff(np.append(starts, len(its)))
    owner = np.repeat(np.arange(count), lengths)
    usable = its <= np.asarray(steps, dtype=np.int64)[owner]
    # reduceat takes a segment per index: empty series have none (they find nothing).
    filled = lengths > 0
    heads = starts[filled]
    found[filled] = np.logical_or.reduceat(usable, heads)
    lowest = np.iinfo(np.int64).min
    latest = np.full(count, lowest, dtype=np.int64)
    latest[filled] = np.maximum.reduceat(np.where(usable, its, lowest), heads)
    at_latest = usable & (its == latest[owner])
    last = np.full(count, -1, dtype=np.int64)
    last[filled] = np.maximum.reduceat(np.where(at_latest, np.arange(len(its)), -1), heads)
    out[found] = np.asarray(values, dtype=np.float64)[last[found]]
    return found, out


# ---- Values tables -----------------------------------------------------------------------

def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def row_extremes(values: Sequence[float | None]) -> tuple[set[int], set[int]]:
    """Positions of the row's smallest and largest finite values (every tie); empty if all equal."""
    finite = [(n, v) for n, v in enumerate(values) if _finite(v)]
    if len(finite) < 2:
        return set(), set()
    low = min(v for _, v in finite)
    high = max(v for _, v in finite)
    if low == high:
        return set(), set()
    return {n for n, v in finite if v == low}, {n for n, v in finite if v == high}


def is_identical(values: Iterable) -> bool:
    """True when every experiment has the same value (missing counts as a value of its own)."""
    seen = set()
    for value in values:
        key = None if value is None else ("nan" if isinstance(value, float) and math.isnan(value) else value)
        seen.add(key)
        if len(seen) > 1:
            return False
    return True


# ---- Grouping experiments ---------------------------------------------------------------

@dataclass
class ExperimentGroup:
    """Compared experiments drawn as one mean-and-band curve, under the label that sets them apart."""
    label: str
    members: list[str]


def group_by_ignoring(experiment_ids: Sequence[str], params: dict[str, dict[str, str]],
                      ignored: str) -> list[ExperimentGroup]:
    """Experiments whose hyperparameters are equal except ``ignored`` (e.g. ``Args/seed``) form a group.

    ``params`` maps experiment id -> {"section/name": value}. Groups come in
    the order of their first member; the label names what sets a group apart
    from the others (parameters whose values differ between groups), or the
    first member's name-less key when nothing does.
    """
    keyed: dict[tuple, list[str]] = {}
    for exp_id in experiment_ids:
        own = params.get(exp_id, {})
        key = tuple(sorted((k, v) for k, v in own.items() if k != ignored))
        keyed.setdefault(key, []).append(exp_id)
    keys = list(keyed)
    all_names = sorted({name for key in keys for name, _ in key})
    varying = [name for name in all_names if len({dict(key).get(name) for key in keys}) > 1]
    groups = []
    for n, key in enumerate(keys):
        values = dict(key)
        label = ", ".join(f"{_short(name)}={values.get(name, '-')}" for name in varying[:4])
        if len(varying) > 4:
            label += ", …"
        groups.append(ExperimentGroup(label or f"group {n + 1}", keyed[key]))
    return groups


def group_by_tags(experiment_ids: Sequence[str], tags: dict[str, list[str]]) -> list[ExperimentGroup]:
    """Experiments with the same set of tags form a group (no tags is a group of its own)."""
    keyed: dict[tuple, list[str]] = {}
    for exp_id in experiment_ids:
        keyed.setdefault(tuple(sorted(tags.get(exp_id, []))), []).append(exp_id)
    return [ExperimentGroup(", ".join(key) if key else "(no tags)", members) for key, members in keyed.items()]


def _short(name: str) -> str:
    return name.split("/", 1)[1] if "/" in name else name
