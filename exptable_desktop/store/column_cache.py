"""Whole table columns kept packed in the database: a cache that a big table reads in a few blobs.

A custom column of the experiments table (a metric's last/min/max, a hyperparameter, a metric at
another's best step) over 100,000 experiments is 100,000 rows of ``metric_summary`` or
``hyper_param``. Reading them costs 35-70 ms a column on SQLite, most of it one Python tuple and
one id string per row, so 40 columns took seconds. Here the same column is one row: its values
packed as float64 (NaN: no value) or as int32 codes into a list of distinct texts (-1: no value),
aligned with a list of experiment ids kept once in ``column_cache_ids`` for every column that
holds the same experiments in the same order.

An entry is derived data, never the truth: it holds every experiment of the database (any
project, archived or not) as the tables were at change sequence number ``built_seq``. A reader
takes the entry and re-reads the experiments stamped after it (store.bulk.changed_since), the
way the table's live refresh does. So it relies on the rule that refresh relies on: every write
of a summary, a scalar or a hyperparameter also writes its experiment row (which stamps it). A
migration that rewrites those tables must empty this cache.

Entries are written by the window's column loader (not by read-only commands such as an export),
in one short transaction after the columns are on screen; an entry that cannot be written (a
read-only file, a lock held too long) is simply not kept. Not in ``schema.ALL_MODELS``: bundles,
snapshots and copies of the experiments' data leave it out.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np
from peewee import BigIntegerField, BlobField, CharField, DoubleField, IntegerField, TextField

from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.db import binary_int, binary_select_sql, binary_text, is_read_only, is_sqlite, run_write
from exptable_desktop.store.schema import BaseModel, database_proxy

# Experiment ids are NameFields, which never hold NUL: it separates them in a packed list.
_SEPARATOR = "\0"
# Entries kept (at 100,000 experiments each is ~0.8 MB, so at most ~160 MB); past it the ones built
# longest ago go, and a column read again is rebuilt once.
MAX_ENTRIES = 200


class ColumnCacheIds(BaseModel):
    """The experiment ids of cached columns, in their order, NUL-separated UTF-8."""
    digest = CharField(max_length=64, primary_key=True)
    count = IntegerField()
    ids = BlobField()


class ColumnCache(BaseModel):
    """One table column (by its column key) over every experiment that has a value."""
    key = TextField(primary_key=True)
    built_seq = BigIntegerField()
    built = DoubleField()
    ids_digest = CharField(max_length=64, index=True)
    values = BlobField()  # float64 little-endian per id, or int32 little-endian codes
    categories = TextField(null=True)  # JSON list the codes index (text columns only)


CACHE_MODELS = [ColumnCacheIds, ColumnCache]


class IdList:
    """Experiment ids shared by several columns; maps them to a table's slots once for all of them."""

    def __init__(self, ids: list[str], digest: str | None = None):
        self.ids = ids
        self._digest = digest
        self._slots: tuple[int, int, np.ndarray] | None = None
        # Whatever a caller derives from the slots once for all columns sharing them (memo).
        self.derived: dict = {}

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def digest(self) -> str:
        if self._digest is None:
            self._digest = hashlib.sha256(self.packed()).hexdigest()
        return self._digest

    def packed(self) -> bytes:
        return _SEPARATOR.join(self.ids).encode("utf-8")

    def slots_in(self, id_to_slot: dict[str, int], owner: object) -> np.ndarray:
        """Slot of each id in ``id_to_slot`` (-1 for strangers); computed once per owner and size."""
        memo = self._slots
        if memo is not None and memo[0] == id(owner) and memo[1] == len(id_to_slot):
            return memo[2]
        from itertools import repeat
        slots = np.fromiter(map(id_to_slot.get, self.ids, repeat(-1)), np.int64, len(self.ids))
        self._slots = (id(owner), len(id_to_slot), slots)
        return slots


@dataclass
class CachedColumn:
    """A whole column: ``values`` (float64) or ``codes`` (int32) into ``categories``, aligned with ``ids``."""
    key: str
    ids: IdList
    built_seq: int
    values: np.ndarray | None = None
    codes: np.ndarray | None = None
    categories: list[str] | None = None


def _unpack_ids(blob: bytes, count: int) -> list[str] | None:
    if not count:
        return []
    ids = bytes(blob).decode("utf-8").split(_SEPARATOR)
    return ids if len(ids) == count else None


def _fetch(query) -> list[tuple]:
    """The rows of ``query``. On PostgreSQL they come in the server's binary form (see
    ``store.db.binary_select_sql``): psycopg2 would move the blobs as hex text, which was a third of
    reading 40 cached columns at 100,000 experiments. Read fields with ``_text`` and ``_int``."""
    db = database_proxy.obj
    if is_sqlite(db):
        return db.execute(query).fetchall()
    sql, params = query.sql()
    return db.execute_sql(binary_select_sql(sql), params).fetchall()


def read(keys: Sequence[str]) -> dict[str, CachedColumn]:
    """The cached entries of ``keys`` there are (two queries), ids shared between entries that share them."""
    entries = []
    for chunk in chunked(list(dict.fromkeys(keys))):
        entries.extend(_fetch(
            ColumnCache.select(ColumnCache.key, ColumnCache.built_seq, ColumnCache.ids_digest,
                               ColumnCache.values, ColumnCache.categories)
            .where(ColumnCache.key.in_(chunk))))
    entries = [(binary_text(key), binary_int(built_seq), binary_text(digest), blob, binary_text(categories))
               for key, built_seq, digest, blob, categories in entries]
    digests = list({row[2] for row in entries})
    id_lists: dict[str, IdList] = {}
    for chunk in chunked(digests):
        for digest, count, blob in _fetch(
                ColumnCacheIds.select(ColumnCacheIds.digest, ColumnCacheIds.count, ColumnCacheIds.ids)
                .where(ColumnCacheIds.digest.in_(chunk))):
            ids = _unpack_ids(blob, binary_int(count))
            if ids is not None:
                id_lists[binary_text(digest)] = IdList(ids, binary_text(digest))
    out: dict[str, CachedColumn] = {}
    entries.reverse()
    while entries:  # popped as they are turned into arrays: the driver's buffers go one by one
        key, built_seq, digest, blob, categories = entries.pop()
        id_list = id_lists.get(digest)
        if id_list is None:
            continue  # its ids went (evicted by another process meanwhile): as if not cached
        # bytes(): an aligned copy the arrays own, whatever buffer the driver handed over.
        if categories is None:
            values = np.frombuffer(bytes(blob), dtype="<f8")
            if len(values) == len(id_list):
                out[key] = CachedColumn(key, id_list, built_seq, values=values)
        else:
            codes = np.frombuffer(bytes(blob), dtype="<i4")
            if len(codes) == len(id_list):
                out[key] = CachedColumn(key, id_list, built_seq, codes=codes,
                                        categories=json.loads(categories))
    return out


def writable() -> bool:
    return not is_read_only()


def write(columns: Iterable[CachedColumn]) -> None:
    """Keep ``columns`` (replacing entries of the same keys) in one transaction; drop ids no entry
    uses any more, and the oldest entries past MAX_ENTRIES."""
    columns = list(columns)
    if not columns:
        return
    now = time.time()

    def work():
        id_lists = {c.ids.digest: c.ids for c in columns}
        known = {d for (d,) in ColumnCacheIds.select(ColumnCacheIds.digest)
                 .where(ColumnCacheIds.digest.in_(list(id_lists))).tuples()}
        for digest, id_list in id_lists.items():
            if digest not in known:  # another writer may keep the same ids meanwhile: theirs will do
                ColumnCacheIds.insert(digest=digest, count=len(id_list), ids=id_list.packed()) \
                    .on_conflict_ignore().execute()
        for column in columns:
            if column.values is not None:
                blob, categories = np.ascontiguousarray(column.values, "<f8").tobytes(), None
            else:
                blob = np.ascontiguousarray(column.codes, "<i4").tobytes()
                categories = json.dumps(column.categories)
            (ColumnCache.insert(key=column.key, built_seq=column.built_seq, built=now, ids_digest=column.ids.digest,
                                values=blob, categories=categories)
             .on_conflict(conflict_target=[ColumnCache.key],
                          preserve=[ColumnCache.built_seq, ColumnCache.built, ColumnCache.ids_digest,
                                    ColumnCache.values, ColumnCache.categories])
             .execute())
        stale = [k for (k,) in ColumnCache.select(ColumnCache.key).order_by(ColumnCache.built.desc())
                 .offset(MAX_ENTRIES).tuples()]
        for chunk in chunked(stale):
            ColumnCache.delete().where(ColumnCache.key.in_(chunk)).execute()
        used = ColumnCache.select(ColumnCache.ids_digest)
        ColumnCacheIds.delete().where(ColumnCacheIds.digest.not_in(used)).execute()
    run_write(work, attempts=3)


def clear() -> None:
    """Forget every entry (call inside a write transaction, e.g. from a migration step)."""
    ColumnCache.delete().execute()
    ColumnCacheIds.delete().execute()
