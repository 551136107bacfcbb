"""The experiments table as numpy columns, with vectorised sort, filter and search.

``ExperimentTable`` keeps one slot per experiment ever loaded into it: base
columns as arrays indexed by slot, custom (metric / hyperparameter) columns
the same way. Removed experiments only lose their ``alive`` flag, so slots
never move and a refresh touches only the slots that changed. ``order`` lists
the slots on screen (filtered, then sorted); the Qt model maps its rows
through it and never sorts or filters anything itself. Reading a table from
the database is core.table_loading's job.
"""
from __future__ import annotations

import math
import re
from bisect import bisect_left
from itertools import compress, repeat
from operator import itemgetter
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from exptable_desktop.core import states as st
from exptable_desktop.core.columns import DEFAULT_SORT, HYPERPARAM, METRIC, spec_for
from exptable_desktop.core.custom_columns import ColumnValues
from exptable_desktop.core.filters import (
    NO_VALUE,
    AnyFilter,
    RangeFilter,
    SearchQuery,
    TagFilter,
    ValueSetFilter,
    system_tag_conditions,
    system_tag_counts,
)
from exptable_desktop.store.bulk import BASE_FIELDS, Scope

FLOAT_COLUMNS = ("started", "last_update", "created", "last_iteration", "progress", "run_time")
_F = {name: i for i, name in enumerate(BASE_FIELDS)}
TAG_BITS = 64


def _as_float(value: str) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _label_rank(key, label: str):
    return (label.lower(), label)


def _status_rank(key, label: str):
    return (st.LIFECYCLE_ORDER.get(key, 99), label)


def _value_rank(key, label: str):
    # Hyperparameter values are strings; numbers among them sort numerically, first.
    number = _as_float(label)
    return (0, number, "") if number is not None else (1, 0.0, label.lower())


def narrows(before: SearchQuery | None, after: SearchQuery) -> bool:
    """True when every row ``after`` matches also matched ``before`` (plain text that grew)."""
    return (isinstance(before, SearchQuery) and isinstance(after, SearchQuery) and not before.regex
            and not after.regex and before.text.lower() in after.text.lower())


class Categorical:
    """A column of few distinct values: int32 codes per slot (-1 = missing) plus the values."""

    def __init__(self, capacity: int, rank: Callable[[Any, str], Any] = _label_rank, codes: np.ndarray | None = None):
        reuse = codes is not None and len(codes) == capacity
        self.codes = codes if reuse else np.full(capacity, -1, np.int32)
        self.keys: list[Any] = []
        self.labels: list[str] = []
        self.lookup: dict[Any, int] = {}
        self._rank_fn = rank
        self._rank: np.ndarray | None = None

    def grow(self, capacity: int) -> None:
        codes = np.full(capacity, -1, np.int32)
        codes[:len(self.codes)] = self.codes
        self.codes = codes

    def code(self, key, label: str | None = None) -> int:
        if key is None or key == "":
            return -1
        code = self.lookup.get(key)
        if code is None:
            code = len(self.keys)
            self.lookup[key] = code
            self.keys.append(key)
            self.labels.append(str(key) if label is None else label)
            self._rank = None
        return code

    def assign(self, slots: np.ndarray, keys: Sequence, labels: Callable[[Any], str] | None = None) -> None:
        known = dict(self.lookup)
        known[None] = known[""] = -1
        codes = np.fromiter((known.get(k, -2) for k in keys), np.int32, len(keys))
        unknown = np.flatnonzero(codes == -2).tolist()
        if unknown:
            # Labels are worked out once per new value, not once per row.
            for key in dict.fromkeys(keys[i] for i in unknown):
                known[key] = self.code(key, None if labels is None else labels(key))
            codes[unknown] = [known[keys[i]] for i in unknown]
        self.codes[slots] = codes

    def relabel(self, labels: Callable[[Any], str]) -> None:
        self.labels = [labels(k) for k in self.keys]
        self._rank = None

    def key_at(self, slot: int):
        code = self.codes[slot]
        return None if code < 0 else self.keys[code]

    def label_at(self, slot: int) -> str:
        code = self.codes[slot]
        return "" if code < 0 else self.labels[code]

    def rank(self) -> np.ndarray:
        """Sort rank of each code (float, so missing can become +inf)."""
        if self._rank is None or len(self._rank) != len(self.keys):
            order = sorted(range(len(self.keys)), key=lambda c: self._rank_fn(self.keys[c], self.labels[c]))
            rank = np.empty(len(self.keys), np.float64)
            rank[order] = np.arange(len(order), dtype=np.float64)
            self._rank = rank
        return self._rank


class TextRank:
    """Sort ranks of a text column: equal texts (ignoring case) share a rank; empty ones rank +inf.

    Ranked once through Python's sort, which orders str by code point as numpy does; np.unique would
    first build a fixed-width array as wide as the longest text (one 1,024-character name among
    100,000: 410 MB and 3.8 s). Rows written later are placed between their neighbours' ranks, so a
    refresh does not rank every row again.
    """

    def __init__(self, texts: Sequence[str]):
        lowered = [t.lower() for t in texts]
        order = np.array(sorted(range(len(lowered)), key=lowered.__getitem__), np.int64)
        ordered = np.array(lowered, object)[order] if lowered else np.empty(0, object)
        starts = np.ones(len(order), bool)
        starts[1:] = ordered[1:] != ordered[:-1]
        self.rank = np.empty(len(order), np.float64)
        self.rank[order] = np.cumsum(starts) - 1
        self.distinct: list[str] = ordered[starts].tolist()  # the lowered texts, ascending
        self.levels: list[float] = list(map(float, range(len(self.distinct))))  # their ranks
        if self.distinct and self.distinct[0] == "":
            self.rank[self.rank == 0] = np.inf
            del self.distinct[0], self.levels[0]

    def update(self, slots: Sequence[int], texts: Sequence[str]) -> bool:
        """Rank ``texts``, now at ``slots`` (new slots may follow the last); False when two neighbouring
        ranks leave no float between them, and the column must be ranked afresh."""
        end = max(slots, default=-1) + 1
        if end > len(self.rank):
            grown = np.full(end, np.inf)
            grown[:len(self.rank)] = self.rank
            self.rank = grown
        distinct, levels = self.distinct, self.levels
        for slot, text in zip(slots, texts):
            value = text.lower()
            if not value:
                self.rank[slot] = np.inf
                continue
            i = bisect_left(distinct, value)
            if i < len(distinct) and distinct[i] == value:
                self.rank[slot] = levels[i]
                continue
            below = levels[i - 1] if i else (levels[0] - 2.0 if levels else -1.0)
            above = levels[i] if i < len(levels) else below + 2.0
            level = (below + above) / 2
            if not below < level < above:
                return False
            distinct.insert(i, value)
            levels.insert(i, level)
            self.rank[slot] = level
        return True


@dataclass
class CustomColumnData:
    """One custom column read and converted off the UI thread, ready to install."""
    key: str
    slots: np.ndarray
    metric_values: np.ndarray | None = None
    codes: np.ndarray | None = None
    categories: list[str] = field(default_factory=list)


def prepare_custom_column(table: "ExperimentTable", key: str,
                          pairs: "Sequence[tuple[str, Any]] | ColumnValues") -> CustomColumnData:
    """Map (experiment id, value) pairs, or a ColumnValues, onto ``table``'s slots; drops ids the
    table does not hold.

    Runs on the loader thread for 100,000-row columns, so every per-row step is a C-level
    ``map`` or numpy conversion rather than a Python loop.
    """
    spec = spec_for(key)
    if spec.kind not in (METRIC, HYPERPARAM):
        raise ValueError(f"{key!r} is not a custom column")
    if isinstance(pairs, ColumnValues):
        return _prepare_column_values(table, key, pairs)
    exp_ids, values = list(map(itemgetter(0), pairs)), list(map(itemgetter(1), pairs))
    slots = np.fromiter(map(table.id_to_slot.get, exp_ids, repeat(-1)), np.int64, len(exp_ids))
    known = slots >= 0
    slots = slots[known]
    if spec.kind == METRIC:
        numbers = np.array(values, dtype=np.float64) if values else np.empty(0)  # None -> NaN
        return CustomColumnData(key, slots, metric_values=numbers[known])
    distinct = dict.fromkeys(values)
    distinct.pop("", None)
    index = {value: code for code, value in enumerate(distinct)}
    index[""] = -1
    codes = np.fromiter(map(index.__getitem__, values), np.int32, len(values))[known]
    return CustomColumnData(key, slots, codes=codes, categories=[v for v in index if v != ""])


def _prepare_column_values(table: "ExperimentTable", key: str, column: ColumnValues) -> CustomColumnData:
    """A ColumnValues on ``table``'s slots: its ids are mapped once for every column sharing them;
    the cells of experiments read afresh (``column.fresh_ids``) come from ``column.fresh``."""
    slots = column.ids.slots_in(table.id_to_slot, table)
    memo = (id(table), len(table.id_to_slot), id(column.fresh_ids) if column.fresh_ids else 0)
    layout = column.ids.derived.get(memo)
    if layout is None:  # which cached cells stay, and where the fresh ones go: once per id list
        keep = slots >= 0
        fresh_slots = np.fromiter(map(table.id_to_slot.get, column.fresh_ids, repeat(-1)), np.int64,
                                  len(column.fresh_ids))
        if (fresh_slots >= 0).any():
            keep &= ~np.isin(slots, fresh_slots[fresh_slots >= 0])
        layout = column.ids.derived[memo] = (keep, slots[keep], fresh_slots)
    keep, kept_slots, fresh_slots = layout
    fresh_ids = [i for i, slot in zip(column.fresh_ids, fresh_slots.tolist()) if slot >= 0 and i in column.fresh]
    added = np.fromiter(map(table.id_to_slot.get, fresh_ids), np.int64, len(fresh_ids))
    values = [column.fresh[i] for i in fresh_ids]
    if column.values is not None:
        if not values:
            return CustomColumnData(key, kept_slots, metric_values=column.values[keep])
        return CustomColumnData(key, np.concatenate([kept_slots, added]),
                                metric_values=np.concatenate([column.values[keep], np.array(values, np.float64)]))
    categories = list(column.categories or ())
    codes = column.codes[keep]
    if values:
        index = {value: code for code, value in enumerate(categories)}
        for value in values:
            if value and value not in index:
                index[value] = len(categories)
                categories.append(value)
        index[""] = -1
        codes = np.concatenate([codes, np.fromiter((index[v or ""] for v in values), np.int32, len(values))])
    return CustomColumnData(key, np.concatenate([kept_slots, added]), codes=codes, categories=categories)


@dataclass
class ChangeSet:
    """What changed in the database after change sequence number ``since``, fetched in a few
    bulk queries; ``cursor`` is where the next fetch starts (store.bulk.current_change_seq)."""
    since: int
    cursor: int
    rows: list[tuple]
    deleted: list[str]
    tag_links: list[tuple[str, int]]
    tag_table: dict[int, tuple[str, str | None, str | None]]
    # Custom-column values of the changed experiments, grouped per column key by the
    # fetching thread: key -> (experiment ids, values); missing pairs mean "no value".
    custom_values: dict[str, tuple[list[str], list[Any]]]
    parent_names: dict[str, str]
    project_paths: dict[int, str]


@dataclass
class RefreshResult:
    """The slots one ``apply_changes`` touched: rows rewritten in place, rows newly in the scope, rows dropped
    from it; the Qt model turns them into its row and change signals."""

    updated: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    inserted: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    removed: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))

    @property
    def any(self) -> bool:
        return bool(len(self.updated) or len(self.inserted) or len(self.removed))


class ExperimentTable:
    """Columns of the experiments in one scope; see the module docstring."""

    def __init__(self, capacity: int = 1024):
        self.n = 0
        self.capacity = max(16, capacity)
        cap = self.capacity
        self.ids = np.empty(cap, object)
        self.id_to_slot: dict[str, int] = {}
        self.text = {name: np.full(cap, "", object) for name in ("name", "description")}
        self.search_text = np.full(cap, "", object)
        self.nums = {name: np.full(cap, np.nan) for name in FLOAT_COLUMNS}
        self.cats = {
            "type": Categorical(cap, lambda k, label: (label.lower(),)),
            "status": Categorical(cap, _status_rank),
            "project": Categorical(cap),
            "user": Categorical(cap),
            "parent": Categorical(cap),
        }
        self.archived = np.zeros(cap, bool)
        self.development = np.zeros(cap, bool)
        self.alive = np.zeros(cap, bool)
        self.tags = np.empty(cap, object)
        self.tags[:] = [()] * cap
        # The same tags as one bit per distinct tag id, so tag filters and counts are
        # vectorised; past TAG_BITS distinct tags the filters fall back to the tuples.
        self.tag_bits = np.zeros(cap, np.uint64)
        self._bit_of_tag: dict[int, int] = {}
        self._tag_bits_ok = True
        self.tag_info: dict[int, tuple[str, str | None, str | None]] = {}
        self.metrics: dict[str, np.ndarray] = {}
        self.hyperparams: dict[str, Categorical] = {}
        self.partial: set[str] = set()  # custom columns holding only some rows' values so far
        self.project_paths: dict[int, str] = {}
        self.parent_names: dict[str, str] = {}

        self.sort: list[tuple[str, bool]] = list(DEFAULT_SORT)
        self.filters: dict[str, AnyFilter] = {}
        self.search: SearchQuery | None = None
        self._filter_masks: dict[str, np.ndarray] = {}
        self._search_mask: np.ndarray | None = None
        self._only_mask: np.ndarray | None = None
        self.mask = np.zeros(cap, bool)
        self.sorted_slots = np.empty(0, np.int64)
        self.order = np.empty(0, np.int64)
        self._row_of_slot: np.ndarray | None = None
        self._text_rank: dict[str, TextRank] = {}

    # ---- Storage --------------------------------------------------------------

    def _ensure_capacity(self, needed: int) -> None:
        if needed <= self.capacity:
            return
        cap = self.capacity
        while cap < needed:
            cap *= 2

        def grown(arr, fill):
            out = np.empty(cap, arr.dtype) if fill is None else np.full(cap, fill, arr.dtype)
            out[:self.capacity] = arr
            return out
        self.ids = grown(self.ids, None)
        self.text = {k: grown(v, "") for k, v in self.text.items()}
        self.search_text = grown(self.search_text, "")
        self.nums = {k: grown(v, np.nan) for k, v in self.nums.items()}
        for cat in list(self.cats.values()) + list(self.hyperparams.values()):
            cat.grow(cap)
        self.archived = grown(self.archived, False)
        self.development = grown(self.development, False)
        self.alive = grown(self.alive, False)
        tags = np.empty(cap, object)
        tags[:] = [()] * cap
        tags[:self.capacity] = self.tags
        self.tags = tags
        self.tag_bits = grown(self.tag_bits, 0)
        self.metrics = {k: grown(v, np.nan) for k, v in self.metrics.items()}
        self.mask = grown(self.mask, False)
        for key, m in list(self._filter_masks.items()):
            self._filter_masks[key] = grown(m, False)
        if self._search_mask is not None:
            self._search_mask = grown(self._search_mask, False)
        if self._only_mask is not None:
            self._only_mask = grown(self._only_mask, False)
        self.capacity = cap

    def slots_for(self, ids: Sequence[str], *, create: bool = False) -> np.ndarray:
        if create and self.n == 0:
            self._ensure_capacity(len(ids))
            self.id_to_slot = dict(zip(ids, range(len(ids))))
            self.ids[:len(ids)] = ids
            self.n = len(ids)
            return np.arange(len(ids), dtype=np.int64)
        if create:
            new = [i for i in ids if i not in self.id_to_slot]
            self._ensure_capacity(self.n + len(new))
            for exp_id in new:
                self.id_to_slot[exp_id] = self.n
                self.ids[self.n] = exp_id
                self.n += 1
        get = self.id_to_slot.get
        return np.fromiter((get(i, -1) for i in ids), np.int64, len(ids))

    def write_base_rows(self, rows: Sequence[tuple]) -> np.ndarray:
        """Store ``bulk.BASE_FIELDS`` tuples (new or known experiments); returns their slots."""
        if not rows:
            return np.empty(0, np.int64)
        cols = list(zip(*rows))
        slots = self.slots_for(cols[_F["id"]], create=True)
        for name in ("name", "description"):
            self.text[name][slots] = cols[_F[name]]
        for name in FLOAT_COLUMNS:
            self.nums[name][slots] = np.array(cols[_F[name]], dtype=np.float64)
        self.cats["type"].assign(slots, cols[_F["type"]], st.type_label)
        self.cats["status"].assign(slots, [st.normalize_status(s) for s in cols[_F["status"]]], st.status_label)
        paths = self.project_paths
        self.cats["project"].assign(slots, cols[_F["project"]], lambda pid: paths.get(pid, str(pid)))
        self.cats["user"].assign(slots, cols[_F["user"]])
        names = self.parent_names
        self.cats["parent"].assign(slots, cols[_F["parent"]], lambda pid: names.get(pid, pid))
        self.archived[slots] = np.array(cols[_F["archived"]], dtype=bool)
        self.development[slots] = np.array(cols[_F["development"]], dtype=bool)
        self.alive[slots] = True
        self.search_text[slots] = [f"{n}\n{i}\n{d}".lower() for n, i, d in
                                   zip(cols[_F["name"]], cols[_F["id"]], cols[_F["description"]])]
        self._rerank_texts(slots)
        self._row_of_slot = None
        return slots

    def _rerank_texts(self, slots: np.ndarray) -> None:
        # A few rows (a refresh) are placed among the ranks; many (a load) are ranked afresh when sorted on.
        for key, ranks in list(self._text_rank.items()):
            source = self.ids if key == "id" else self.text[key]
            many = len(slots) > max(1000, self.n // 20)
            if many or not ranks.update(slots.tolist(), source[slots].tolist()):
                del self._text_rank[key]

    def write_tags(self, links: Iterable[tuple[str, int]], slots: np.ndarray | None = None) -> None:
        """Replace the tags of ``slots`` (default: every slot) with ``links``."""
        by_slot: dict[int, list[int]] = {}
        lookup = self.id_to_slot
        for exp_id, tag_id in links:
            slot = lookup.get(exp_id)
            if slot is not None:
                by_slot.setdefault(slot, []).append(tag_id)
        info = self.tag_info
        rank = {t: r for r, t in enumerate(sorted(info, key=lambda t: info[t][0].lower()))}
        if slots is None:
            self.tags[:self.n] = [()] * self.n
            self.tag_bits[:self.n] = 0
        else:
            for slot in slots.tolist():
                self.tags[slot] = ()
            self.tag_bits[slots] = 0
        bit_of = self._bit_of_tag
        bit_slots, bit_values = [], []
        for slot, tag_ids in by_slot.items():
            self.tags[slot] = tuple(tag_ids) if len(tag_ids) == 1 else tuple(sorted(tag_ids, key=rank.get))
            if self._tag_bits_ok:
                bits = 0
                for tag_id in tag_ids:
                    bit = bit_of.get(tag_id)
                    if bit is None:
                        if len(bit_of) >= TAG_BITS:
                            self._tag_bits_ok = False
                            break
                        bit = bit_of[tag_id] = len(bit_of)
                    bits |= 1 << bit
                bit_slots.append(slot)
                bit_values.append(bits)
        if self._tag_bits_ok and bit_slots:
            self.tag_bits[np.array(bit_slots, np.int64)] = np.array(bit_values, np.uint64)

    def set_project_paths(self, paths: dict[int, str]) -> None:
        self.project_paths = dict(paths)
        self.cats["project"].relabel(lambda pid: paths.get(pid, str(pid)))

    def set_parent_names(self, names: dict[str, str]) -> None:
        self.parent_names.update(names)
        known = self.parent_names
        self.cats["parent"].relabel(lambda pid: known.get(pid, pid))

    def parent_ids(self) -> list[str]:
        return list(self.cats["parent"].keys)

    # ---- Custom columns ------------------------------------------------------------

    def add_custom_column(self, key: str, pairs: Iterable[tuple[str, Any]]) -> None:
        self.install_custom_column(prepare_custom_column(self, key, pairs))

    def install_custom_column(self, data: "CustomColumnData") -> None:
        self.partial.discard(data.key)
        # A column already there (the first page's values) is overwritten in place, not reallocated:
        # 40 columns of 100,000 rows held twice would cost the peak memory 25 MB.
        if data.metric_values is not None:
            arr = self.metrics.get(data.key)
            if arr is None or len(arr) != self.capacity:
                arr = self.metrics[data.key] = np.empty(self.capacity)
            arr.fill(np.nan)
            arr[data.slots] = data.metric_values
        else:
            old = self.hyperparams.get(data.key)
            cat = Categorical(self.capacity, _value_rank, codes=None if old is None else old.codes)
            cat.codes.fill(-1)
            for value in data.categories:
                cat.code(value)
            cat.codes[data.slots] = data.codes
            self.hyperparams[data.key] = cat
        self._refresh_filter_mask(data.key)
        if data.key in self.filters:
            self.recompute_mask()

    def add_empty_custom_columns(self, keys: Iterable[str], *, partial: bool = False) -> None:
        """Columns with no values yet, to be filled row by row (``write_custom_rows``).

        ``partial``: only some rows will be filled before the whole column is installed;
        until then the column is shown but neither sorts nor filters (see has_column_data).
        """
        for key in keys:
            if partial:
                self.partial.add(key)
            kind = spec_for(key).kind
            if kind == METRIC and key not in self.metrics:
                self.metrics[key] = np.full(self.capacity, np.nan)
            elif kind == HYPERPARAM and key not in self.hyperparams:
                self.hyperparams[key] = Categorical(self.capacity, _value_rank)

    def custom_values_of(self, keys: Iterable[str]) -> dict[str, tuple[list[str], list[Any]]]:
        """The non-empty cells of these custom columns, shaped like ChangeSet.custom_values."""
        alive = np.flatnonzero(self.alive[:self.n])
        out: dict[str, tuple[list[str], list[Any]]] = {}
        for key in keys:
            if key in self.metrics:
                values = self.metrics[key][alive]
                present = ~np.isnan(values)
                out[key] = (self.ids[alive[present]].tolist(), values[present].tolist())
            elif key in self.hyperparams:
                cat = self.hyperparams[key]
                present = alive[cat.codes[alive] >= 0]
                out[key] = (self.ids[present].tolist(), [cat.label_at(slot) for slot in present.tolist()])
        return out

    def drop_custom_column(self, key: str) -> None:
        self.partial.discard(key)
        self.metrics.pop(key, None)
        self.hyperparams.pop(key, None)
        self.filters.pop(key, None)
        self._filter_masks.pop(key, None)
        self.sort = [(k, d) for k, d in self.sort if k != key]
        self.recompute_mask()
        self.resort()

    def has_column_data(self, key: str) -> bool:
        if key in self.partial:
            return False
        spec = spec_for(key)
        if spec.kind == METRIC:
            return key in self.metrics
        if spec.kind == HYPERPARAM:
            return key in self.hyperparams
        return True

    def custom_keys(self) -> list[str]:
        return list(self.metrics) + list(self.hyperparams)

    # ---- Values of one cell ----------------------------------------------------------

    def value(self, slot: int, key: str):
        """A cell's raw value: str, float (NaN = missing), tuple of tag ids or None."""
        if key in self.nums:
            return self.nums[key][slot]
        if key in self.text:
            return self.text[key][slot]
        if key == "id":
            return self.ids[slot]
        if key in self.cats:
            return self.cats[key].label_at(slot)
        if key == "tags":
            return self.tags[slot]
        if key in self.metrics:
            return self.metrics[key][slot]
        if key in self.hyperparams:
            return self.hyperparams[key].label_at(slot)
        return None

    def tag_names(self, slot: int) -> list[str]:
        info = self.tag_info
        return [info[t][0] for t in self.tags[slot] if t in info]

    def status_at(self, slot: int) -> str:
        return self.cats["status"].key_at(slot) or ""

    def type_at(self, slot: int) -> str:
        return self.cats["type"].key_at(slot) or ""

    def row_info(self, slot: int) -> dict:
        it = self.nums["last_iteration"][slot]
        updated = self.nums["last_update"][slot]
        return {
            "id": self.ids[slot], "name": self.text["name"][slot], "status": self.status_at(slot),
            "type": self.type_at(slot), "archived": bool(self.archived[slot]),
            "project": self.cats["project"].label_at(slot), "parent": self.cats["parent"].key_at(slot),
            "user": self.cats["user"].label_at(slot),
            "last_iteration": None if math.isnan(it) else int(it), "tags": self.tag_names(slot),
            "last_update": None if math.isnan(updated) else float(updated),
        }

    # ---- Filtering ------------------------------------------------------------------

    def _column_mask(self, key: str, flt: AnyFilter, slots: np.ndarray) -> np.ndarray:
        if isinstance(flt, RangeFilter):
            values = self.nums[key][slots] if key in self.nums else (
                self.metrics[key][slots] if key in self.metrics else None)
            if values is None:
                return np.ones(len(slots), bool)
            with np.errstate(invalid="ignore"):
                ok = ~np.isnan(values)
                if flt.low is not None:
                    ok &= values >= flt.low
                if flt.high is not None:
                    ok &= values <= flt.high
            return ok
        if isinstance(flt, ValueSetFilter):
            cat = self.cats.get(key) or self.hyperparams.get(key)
            if cat is None:
                return np.ones(len(slots), bool)
            wanted = [code for code, k in enumerate(cat.keys) if str(k) in flt.values]
            codes = cat.codes[slots]
            ok = np.isin(codes, np.array(wanted, np.int32))
            if NO_VALUE in flt.values:
                ok |= codes < 0
            return ok
        if isinstance(flt, TagFilter):
            by_name = {info[0]: tid for tid, info in self.tag_info.items()}
            include = [by_name.get(n, -1) for n in flt.include]
            exclude = [by_name.get(n, -1) for n in flt.exclude]
            conditions = []
            if self._tag_bits_ok:
                bits = self.tag_bits[slots]
                for tid in include + exclude:
                    bit = self._bit_of_tag.get(tid)
                    has = (bits & np.uint64(1 << bit)) != 0 if bit is not None else np.zeros(len(slots), bool)
                    conditions.append(has if tid in include else ~has)
                if flt.no_tags:
                    conditions.append(bits == 0)
            else:
                tags = self.tags[slots]
                for tid in include:
                    conditions.append(np.fromiter((tid in t for t in tags), bool, len(slots)))
                for tid in exclude:
                    conditions.append(np.fromiter((tid not in t for t in tags), bool, len(slots)))
                if flt.no_tags:
                    conditions.append(np.fromiter((not t for t in tags), bool, len(slots)))
            conditions += system_tag_conditions(flt, self.system_tag_flags(slots))
            if not conditions:
                return np.ones(len(slots), bool)
            combine = np.logical_or if flt.mode == "any" else np.logical_and
            return combine.reduce(conditions)
        raise TypeError(f"unknown filter {flt!r}")

    def _refresh_filter_mask(self, key: str) -> None:
        flt = self.filters.get(key)
        if flt is None or not flt.active or not self.has_column_data(key):
            self._filter_masks.pop(key, None)
            return
        mask = np.zeros(self.capacity, bool)
        slots = np.arange(self.n)
        mask[:self.n] = self._column_mask(key, flt, slots)
        self._filter_masks[key] = mask

    def _search_values(self, slots: np.ndarray) -> np.ndarray:
        query = self.search
        if not isinstance(query, SearchQuery):  # a query of the search language (core.query.QuerySearch)
            return query.matches(self, slots)
        texts = self.search_text[slots].tolist()
        # The test is written out per kind: a predicate call per row costs more than the match.
        if query.regex:
            search = re.compile(query.text, re.IGNORECASE).search
            return np.fromiter((search(s) is not None for s in texts), bool, len(texts))
        needle = query.text.lower()
        return np.fromiter((needle in s for s in texts), bool, len(texts))

    def recompute_mask(self) -> None:
        mask = self.alive.copy()
        for m in self._filter_masks.values():
            mask &= m
        if self._search_mask is not None:
            mask &= self._search_mask
        if self._only_mask is not None:
            mask &= self._only_mask
        self.mask = mask

    def _update_masks_at(self, slots: np.ndarray) -> None:
        if not len(slots):
            return
        ok = self.alive[slots].copy()
        for key, flt in self.filters.items():
            if key in self._filter_masks:
                part = self._column_mask(key, flt, slots)
                self._filter_masks[key][slots] = part
                ok &= part
        if self._search_mask is not None:
            part = self._search_values(slots)
            self._search_mask[slots] = part
            ok &= part
        if self._only_mask is not None:
            ok &= self._only_mask[slots]
        self.mask[slots] = ok

    def set_filter(self, key: str, flt: AnyFilter | None) -> None:
        if flt is None or not flt.active:
            self.filters.pop(key, None)
        else:
            spec_for(key)
            self.filters[key] = flt
        self._refresh_filter_mask(key)
        self.recompute_mask()
        self._apply_order()

    def clear_filters(self) -> None:
        self.filters.clear()
        self._filter_masks.clear()
        self.recompute_mask()
        self._apply_order()

    def set_only_ids(self, ids: Iterable[str] | None) -> None:
        """Show only these experiments (on top of filters and search); None shows all again."""
        if ids is None:
            self._only_mask = None
        else:
            mask = np.zeros(self.capacity, bool)
            lookup = self.id_to_slot
            slots = [lookup[i] for i in ids if i in lookup]
            mask[np.array(slots, np.int64)] = True
            self._only_mask = mask
        self.recompute_mask()
        self._apply_order()

    @property
    def showing_only_ids(self) -> bool:
        return self._only_mask is not None

    def active_filter_keys(self) -> list[str]:
        return [k for k, f in self.filters.items() if f.active]

    def set_search(self, query: SearchQuery | None) -> None:
        if query is None or not query.active:
            self.search = None
            self._search_mask = None
        else:
            previous, previous_mask = self.search, self._search_mask
            self.search = query
            mask = np.zeros(self.capacity, bool)
            if narrows(previous, query) and previous_mask is not None and len(previous_mask) == self.capacity:
                # Typing on: only rows that matched the shorter text can match the longer one.
                slots = np.flatnonzero(previous_mask[:self.n])
            else:
                slots = np.arange(self.n)
            mask[slots] = self._search_values(slots)
            self._search_mask = mask
        self.recompute_mask()
        self._apply_order()

    # ---- Sorting ----------------------------------------------------------------------

    def _text_rank_of(self, key: str) -> np.ndarray:
        ranks = self._text_rank.get(key)
        if ranks is None or len(ranks.rank) != self.n:
            source = self.ids[:self.n] if key == "id" else self.text[key][:self.n]
            ranks = self._text_rank[key] = TextRank(source.tolist())
        return ranks.rank

    def sort_key(self, key: str, descending: bool) -> np.ndarray:
        """One float key per slot; missing values are +inf so they come last either way."""
        n = self.n
        if key in self.nums or key in self.metrics:
            values = (self.nums.get(key) if key in self.nums else self.metrics[key])[:n]
            out = -values if descending else values.copy()
        elif key in self.text or key == "id":
            rank = self._text_rank_of(key)
            out = np.where(np.isinf(rank), np.inf, -rank if descending else rank)
            return out
        elif key in self.cats or key in self.hyperparams:
            cat = self.cats.get(key) or self.hyperparams[key]
            codes = cat.codes[:n]
            rank = cat.rank()
            out = rank[codes] if len(rank) else np.zeros(n)
            if descending:
                out = -out
            out = np.where(codes < 0, np.inf, out)
            return out
        else:
            return np.zeros(n)
        out[np.isnan(out)] = np.inf
        return out

    def set_sort(self, sort: Sequence[tuple[str, bool]]) -> None:
        clean = []
        for key, desc in sort:
            spec = spec_for(key)
            if spec.sortable and key not in [k for k, _ in clean]:
                clean.append((key, bool(desc)))
        self.sort = clean
        self.resort()

    def resort(self, changed: np.ndarray | None = None) -> None:
        """Sort the live slots; with ``changed`` (slots written or removed since the last sort), and one
        sort key, only those move: the rest keep their order and the changed ones are merged in."""
        n = self.n
        # A sort on a custom column still loading waits for it; meanwhile the default order holds.
        usable = [(k, d) for k, d in self.sort if self.has_column_data(k)] or list(DEFAULT_SORT)
        key = self.sort_key(*usable[0]) if len(usable) == 1 else None
        if key is not None and changed is not None and len(changed) * 20 < n \
                and self._merge_sorted(key, np.asarray(changed, np.int64)):
            self._apply_order()
            return
        if key is not None:
            perm = np.argsort(key, kind="stable")
        else:
            keys = [self.sort_key(k, d) for k, d in reversed(usable)]
            perm = np.lexsort(keys)
        self.sorted_slots = perm[self.alive[perm]]
        self._apply_order()

    def _merge_sorted(self, key: np.ndarray, changed: np.ndarray) -> bool:
        """Same order as a stable argsort of ``key`` (ties by slot), without sorting every row again.

        False, changing nothing, when the rows not in ``changed`` are no longer in ``key`` order:
        their keys moved too (a project renamed, a parent's name learnt, any relabelled category).
        """
        moved = np.zeros(self.n, bool)
        moved[changed] = True
        keep = self.sorted_slots[~moved[self.sorted_slots]]
        kept_keys = key[keep]
        ahead, behind = kept_keys[1:], kept_keys[:-1]
        if not ((ahead > behind) | ((ahead == behind) & (keep[1:] > keep[:-1]))).all():
            return False
        add = np.flatnonzero(moved & self.alive[:self.n])  # distinct, even if ``changed`` repeats one
        add = add[np.lexsort((add, key[add]))]
        low = np.searchsorted(kept_keys, key[add], "left")
        high = np.searchsorted(kept_keys, key[add], "right")
        positions = low.copy()
        for i in np.flatnonzero(high > low).tolist():
            positions[i] = low[i] + np.searchsorted(keep[low[i]:high[i]], add[i])
        self.sorted_slots = np.insert(keep, positions, add)
        return True

    def _apply_order(self) -> None:
        s = self.sorted_slots
        self.order = s[self.mask[s]]
        self._row_of_slot = None

    def rows_of_slots(self, slots: np.ndarray) -> np.ndarray:
        """View rows of ``slots`` (-1 where not on screen)."""
        if self._row_of_slot is None or len(self._row_of_slot) < self.n:
            inv = np.full(max(self.n, 1), -1, np.int64)
            inv[self.order] = np.arange(len(self.order))
            self._row_of_slot = inv
        slots = np.asarray(slots, np.int64)
        inside = (slots >= 0) & (slots < len(self._row_of_slot))
        out = np.full(len(slots), -1, np.int64)
        out[inside] = self._row_of_slot[slots[inside]]
        return out

    # ---- Sets of ids --------------------------------------------------------------------

    def first_page_slots(self, rows: int) -> np.ndarray:
        """Slots of the first ``rows`` rows on screen; by UPDATED when the sort needs a column not loaded."""
        if all(self.has_column_data(key) for key, _descending in self.sort):
            return self.order[:rows].copy()
        alive = np.flatnonzero(self.alive[:self.n])
        recent = np.argsort(-self.nums["last_update"][alive], kind="stable")[:rows]
        return alive[recent]

    def alive_ids(self) -> list[str]:
        return self.ids[:self.n][self.alive[:self.n]].tolist()

    def visible_ids(self) -> list[str]:
        return self.ids[self.order].tolist()

    # ---- Distinct values for filter menus ---------------------------------------------------

    def distinct_values(self, key: str) -> list[tuple[str, str, int]]:
        """(value key, label, count) over the live rows, in sort order; NO_VALUE last if present."""
        cat = self.cats.get(key) or self.hyperparams.get(key)
        if cat is None:
            return []
        codes = cat.codes[:self.n][self.alive[:self.n]]
        counts = np.bincount(codes[codes >= 0], minlength=len(cat.keys)) if len(cat.keys) else np.zeros(0, int)
        rank = cat.rank()
        present = [c for c in range(len(cat.keys)) if counts[c]]
        present.sort(key=lambda c: rank[c])
        out = [(str(cat.keys[c]), cat.labels[c], int(counts[c])) for c in present]
        missing = int((codes < 0).sum())
        if missing:
            out.append((NO_VALUE, "(no value)", missing))
        return out

    def system_tag_flags(self, slots: np.ndarray) -> dict[str, np.ndarray]:
        """System tag -> whether each of ``slots`` carries it (core.filters.SYSTEM_TAGS)."""
        return {"archived": self.archived[slots], "development": self.development[slots]}

    def distinct_system_tags(self) -> list[tuple[str, int]]:
        """(system tag, count) over the live rows, for the tags filter's "System tags" list."""
        return system_tag_counts(self.system_tag_flags(np.flatnonzero(self.alive[:self.n])))

    def distinct_tags(self) -> list[tuple[str, int]]:
        counts: dict[int, int] = {}
        if self._tag_bits_ok:
            bits = self.tag_bits[:self.n][self.alive[:self.n]]
            untagged = int(np.count_nonzero(bits == 0))
            for tid, bit in self._bit_of_tag.items():
                count = int(np.count_nonzero(bits & np.uint64(1 << bit)))
                if count:
                    counts[tid] = count
        else:
            untagged = 0
            for tags in self.tags[:self.n][self.alive[:self.n]]:
                if not tags:
                    untagged += 1
                for t in tags:
                    counts[t] = counts.get(t, 0) + 1
        names = sorted(((self.tag_info[t][0], c) for t, c in counts.items() if t in self.tag_info),
                       key=lambda p: p[0].lower())
        return names + ([("", untagged)] if untagged else [])

    # ---- Refresh -----------------------------------------------------------------------------

    def apply_changes(self, changes: ChangeSet, scope: Scope) -> RefreshResult:
        """Fold a ChangeSet in: update rows in place, add new ones, drop those gone from scope."""
        self.tag_info = dict(changes.tag_table)
        if changes.project_paths and changes.project_paths != self.project_paths:
            self.set_project_paths(changes.project_paths)
        if changes.parent_names:
            self.set_parent_names(changes.parent_names)
        removed: list[int] = []
        for exp_id in changes.deleted:
            slot = self.id_to_slot.get(exp_id)
            if slot is not None and self.alive[slot]:
                removed.append(slot)
        keep_rows = []
        i_id, i_proj, i_arch = _F["id"], _F["project"], _F["archived"]
        # Every row is written, even one whose last_update did not move: the change sequence
        # says it changed, and a write need not move last_update (or may set it from a slow clock).
        for row in changes.rows:
            slot = self.id_to_slot.get(row[i_id])
            if not scope.contains(row[i_proj], row[i_arch]):
                if slot is not None and self.alive[slot]:
                    removed.append(slot)
                continue
            keep_rows.append(row)
        removed_arr = np.array(sorted(set(removed)), np.int64)
        self.alive[removed_arr] = False
        self.mask[removed_arr] = False
        was_alive = {row[i_id]: self.alive[self.id_to_slot[row[i_id]]]
                     for row in keep_rows if row[i_id] in self.id_to_slot}
        slots = self.write_base_rows(keep_rows)
        shown_before = np.array([was_alive.get(row[i_id], False) for row in keep_rows], bool)
        updated, inserted = slots[shown_before], slots[~shown_before]
        if len(slots):
            self.write_tags(changes.tag_links, slots)
            self.write_custom_rows(slots, changes.custom_values)
        self._update_masks_at(slots)
        if len(removed_arr):
            self.recompute_mask()
        if len(slots) or len(removed_arr):
            self.resort(changed=np.concatenate([slots, removed_arr]))
        return RefreshResult(updated=updated, inserted=inserted, removed=removed_arr)

    def write_custom_rows(self, slots: np.ndarray, custom_values: dict[str, tuple[list[str], list[Any]]]) -> None:
        """Set the custom-column cells of ``slots`` from ``custom_values`` (see ChangeSet); others become empty."""
        slot_of = dict(zip(self.ids[slots].tolist(), slots.tolist())).get
        for key, column in self.metrics.items():
            column[slots] = np.nan
            exp_ids, values = custom_values.get(key, ((), ()))
            if exp_ids:
                targets = np.fromiter(map(slot_of, exp_ids, repeat(-1)), np.int64, len(exp_ids))
                known = targets >= 0
                column[targets[known]] = np.array(values, np.float64)[known]  # None -> NaN
        for key, cat in self.hyperparams.items():
            cat.codes[slots] = -1
            exp_ids, values = custom_values.get(key, ((), ()))
            if exp_ids:
                targets = np.fromiter(map(slot_of, exp_ids, repeat(-1)), np.int64, len(exp_ids))
                known = targets >= 0
                # Coded only for the rows written: a value of a stranger must not become a category.
                cat.codes[targets[known]] = np.fromiter(map(cat.code, compress(values, known.tolist())),
                                                        np.int32, int(known.sum()))



# ---- Whole columns for exports (io.csv_export) -----------------------------------------------

def column_array(table: ExperimentTable, key: str, slots: np.ndarray) -> np.ndarray:
    """Column ``key`` at ``slots`` in one array, without a call per cell: float64 for numbers,
    dates, durations and metrics (NaN = no value); object arrays of str for text and categories
    (their labels, "" = no value); for tags, tuples of tag names."""
    slots = np.asarray(slots, np.int64)
    if key in table.nums:
        return table.nums[key][slots]
    if key in table.metrics:
        return table.metrics[key][slots]
    if key in table.text:
        return table.text[key][slots]
    if key == "id":
        return table.ids[slots]
    cat = table.cats.get(key) or table.hyperparams.get(key)
    if cat is not None:
        labels = np.array(list(cat.labels) + [""], object)  # code -1 (missing) picks the last
        return labels[cat.codes[slots]]
    if key == "tags":
        info = table.tag_info
        names: dict[tuple, tuple[str, ...]] = {}
        out = np.empty(len(slots), object)
        out[:] = [names.get(t) or names.setdefault(t, tuple(info[i][0] for i in t if i in info))
                  for t in table.tags[slots]]
        return out
    spec = spec_for(key)
    if spec.kind == METRIC:
        return np.full(len(slots), np.nan)
    return np.full(len(slots), "", object)
