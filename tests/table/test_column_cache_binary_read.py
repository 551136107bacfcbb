"""The column cache read back exactly as written, and on PostgreSQL in COPY's binary form rather
than as the hex text psycopg2 makes of bytea (a third of loading 40 cached columns at 100,000
experiments)."""
from __future__ import annotations

import logging
import math

import numpy as np
import pytest

from exptable_desktop.store import column_cache
from exptable_desktop.store.column_cache import CachedColumn, IdList

from pg_support import server_url

needs_pg = pytest.mark.skipif(not server_url(), reason="EXPTABLE_TEST_PG_URL not set")

IDS = [f"{i:032x}" for i in range(1, 6)]
BIG_SEQ = 2 ** 40 + 3  # past 32 bits: a bigint read in full


def _columns() -> list[CachedColumn]:
    ids, nobody = IdList(list(IDS)), IdList([])
    return [
        CachedColumn("metric:val/loss/last", ids, BIG_SEQ,
                     values=np.array([0.5, math.nan, -1e300, 0.0, 7.25])),
        CachedColumn("hp:Args/näme ✓", ids, 7, codes=np.array([0, -1, 1, 1, 2], dtype=np.int32),
                     categories=["adam", "größe ✓", ""]),
        CachedColumn("hp:Args/none", nobody, 7, codes=np.array([], dtype=np.int32), categories=[]),
    ]


def _as_plain(entry: CachedColumn) -> tuple:
    values = None if entry.values is None else entry.values.tobytes()
    codes = None if entry.codes is None else entry.codes.tolist()
    return (entry.key, entry.ids.ids, entry.ids.digest, entry.built_seq, values, codes, entry.categories)


@pytest.mark.both_backends
def test_entries_read_back_exactly_as_written(db):
    written = _columns()
    column_cache.write(written)
    read = column_cache.read([c.key for c in written] + ["hp:Args/never kept"])
    assert sorted(read) == sorted(c.key for c in written)
    assert [_as_plain(read[c.key]) for c in written] == [_as_plain(c) for c in written]
    assert type(read[written[0].key].built_seq) is int
    assert read[written[0].key].values.dtype == np.float64 and read[written[0].key].values.flags.aligned
    # Columns over the same experiments share one id list, as the table lays it out once for all.
    assert read[written[0].key].ids is read[written[1].key].ids


@needs_pg
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_on_postgresql_the_cache_is_read_in_binary_copy_form(db, caplog):
    written = _columns()
    column_cache.write(written)
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="peewee"):
        read = column_cache.read([c.key for c in written])
    statements = [r.msg[0] for r in caplog.records if r.name == "peewee" and isinstance(r.msg, tuple)]
    cache_reads = [sql for sql in statements if '"column_cache' in sql]
    assert len(cache_reads) == 2  # the entries, then their id lists
    assert all(sql.startswith("COPY (SELECT ") and sql.endswith(") TO STDOUT WITH (FORMAT binary)")
               for sql in cache_reads), cache_reads
    assert sorted(read) == sorted(c.key for c in written)
