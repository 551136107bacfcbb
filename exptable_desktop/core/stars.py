"""Stars: a person marks experiments to find them again (per user).

Each star is one Preference row (``user``, ``star:<experiment id>``): starring is one insert and
unstarring one delete, so two windows of the same person never overwrite each other's stars, and
no schema change was needed. Stars of deleted experiments are dropped when read.

In the table the stars are the categorical column ``star`` (core.columns): "starred" (★) or
"unstarred" (☆) per row, so the column sorts, filters and shows like any category, and the query
language's ``is:starred`` reads it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import numpy as np

from exptable_desktop.core.filters import ValueSetFilter
from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.db import require_writable, run_write
from exptable_desktop.store.schema import Experiment, Preference

if TYPE_CHECKING:  # pragma: no cover
    from exptable_desktop.core.experiment_table import ExperimentTable

STAR_KEY = "star"  # the table column
PREFIX = "star:"
STARRED, UNSTARRED = "starred", "unstarred"
LABELS = {STARRED: "★", UNSTARRED: "☆"}
STARRED_ONLY = ValueSetFilter(frozenset({STARRED}))  # "Starred only": a filter on the star column


def _existing(ids: list[str]) -> set[str]:
    """Those of ``ids`` that name an experiment."""
    found: set[str] = set()
    for chunk in chunked(ids):
        found.update(i for (i,) in Experiment.select(Experiment.id).where(Experiment.id.in_(chunk)).tuples())
    return found


def starred_ids(user: str) -> set[str]:
    keys = Preference.select(Preference.key).where((Preference.user == user) & Preference.key.startswith(PREFIX))
    return _existing([key[len(PREFIX):] for (key,) in keys.tuples()])


def set_starred(user: str, ids: Iterable[str], starred: bool) -> list[str]:
    """Star (or unstar) experiments for ``user``; returns the ids that exist (the others are ignored)."""
    ids = list(dict.fromkeys(str(i) for i in ids))
    require_writable()

    def work():
        found = _existing(ids)
        existing = [i for i in ids if i in found]
        keys = [PREFIX + i for i in existing]
        for chunk in chunked(keys):
            if starred:
                (Preference.insert_many([{"user": user, "key": k, "value": "true"} for k in chunk])
                 .on_conflict_ignore().execute())
            else:
                Preference.delete().where((Preference.user == user) & Preference.key.in_(chunk)).execute()
        return existing
    return run_write(work)


def star_column(table: "ExperimentTable"):
    """The table's star column, made on first use (codes 0 = starred, 1 = not; -1 = not known yet)."""
    from exptable_desktop.core.experiment_table import Categorical

    cat = table.cats.get(STAR_KEY)
    if cat is None:
        cat = Categorical(table.capacity)
        cat.code(STARRED, LABELS[STARRED])
        cat.code(UNSTARRED, LABELS[UNSTARRED])
        table.cats[STAR_KEY] = cat
    return cat


def apply_stars(table: "ExperimentTable", starred: set[str], slots: np.ndarray | None = None) -> None:
    """Set the star column of ``slots`` (default: every row) from ``starred``, then bring the filter,
    search and sort that read it up to date."""
    cat = star_column(table)
    if len(cat.codes) < table.capacity:
        cat.grow(table.capacity)
    slots = np.arange(table.n) if slots is None else np.asarray(slots, np.int64)
    if len(slots):
        ids = table.ids[slots].tolist()
        is_starred = np.fromiter((i in starred for i in ids), bool, len(ids))
        cat.codes[slots] = np.where(is_starred, cat.lookup[STARRED], cat.lookup[UNSTARRED]).astype(np.int32)
    refresh_dependents(table)


def refresh_dependents(table: "ExperimentTable") -> None:
    """Recompute what depends on the star column: its filter, a query naming it, a sort on it."""
    if STAR_KEY in table.filters:
        table.set_filter(STAR_KEY, table.filters[STAR_KEY])
    compiled = getattr(table.search, "compiled", None)  # a query (core.query.QuerySearch)
    if compiled is not None and any(t.name.lower() in ("is", "star", "starred") for t in compiled.query.terms()):
        table.set_search(table.search)
    if any(key == STAR_KEY for key, _ in table.sort):
        table.resort()
