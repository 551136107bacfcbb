"""Splitting long lists into statement-sized pieces: the one chunking helper of the package.

A selection of "all matching the filter" can hold 100,000 ids, and a statement
can bind only so many parameters: SQLite before 3.32 allowed 999, later
versions 32766, and psycopg2 interpolates on the client but a 100,000-item
IN (...) still makes a slow plan. So every ``IN (...)`` over ids goes in
chunks of ``IN_CHUNK``, which stays under the lowest of those limits with room
for the statement's other parameters.
"""
from __future__ import annotations

from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")

IN_CHUNK = 500


def chunked(items: Iterable[T], size: int = IN_CHUNK) -> Iterator[list[T]]:
    """``items`` in order, as lists of at most ``size``; nothing for no items.

    Any iterable will do (a generator, a set, dict keys); it is read once, up front.
    """
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    items = items if isinstance(items, list) else list(items)
    for start in range(0, len(items), size):
        yield items[start:start + size]
