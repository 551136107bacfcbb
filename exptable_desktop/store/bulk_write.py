"""Writing many new rows at once: one prepared statement per table on SQLite, COPY on PostgreSQL.

For writers that insert thousands of rows that do not exist yet (the demo's 100,000
experiments with their parameters, summaries and series). The ORM would build every
row's SQL in Python, and per-row INSERTs over a network connection would cost a round
trip each. Call inside a write transaction: nothing here commits.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from peewee import Model

from exptable_desktop.store.db import is_sqlite
from exptable_desktop.store.schema import database_proxy

# COPY text made and sent at a time (bounds the text held in memory, not the rows).
COPY_BUFFER_CHARS = 1 << 20
_PARENT_UPDATE_PAGE = 5000


def insert_rows(model: type[Model], fields: Sequence[str], rows: list[tuple]) -> int:
    """Insert ``rows`` (tuples of the ``fields`` values, in that order) into ``model``'s table.

    Columns not named in ``fields`` get the model's Python-side default (peewee
    defaults are not in the DDL, so the database would refuse NULLs). Values go to
    the driver as they are, without the fields' conversions: give what the column
    stores (an id, not a model instance; text already as clean as ``store.text`` makes it).
    Returns the number of rows.
    """
    if not rows:
        return 0
    defaults = [(f.name, f.default() if callable(f.default) else f.default)
                for f in model._meta.sorted_fields
                if f.name not in fields and f.default is not None and not f.primary_key]
    if defaults:
        extra = tuple(value for _, value in defaults)
        fields = tuple(fields) + tuple(name for name, _ in defaults)
        rows = [row + extra for row in rows]
    unknown = [f for f in fields if f not in model._meta.fields]
    if unknown:
        raise ValueError(f"{model.__name__} has no field {', '.join(unknown)}")
    db = database_proxy.obj
    columns = ", ".join(f'"{model._meta.fields[f].column_name}"' for f in fields)
    table = model._meta.table_name
    cursor = db.cursor()
    if is_sqlite(db):
        cursor.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({", ".join("?" * len(fields))})', rows)
    else:
        cursor.copy_expert(f'COPY "{table}" ({columns}) FROM STDIN', _CopyText(rows), size=COPY_BUFFER_CHARS)
    return len(rows)


def insert_dicts(model: type[Model], rows: list[dict]) -> int:
    """Insert rows given as dicts that all have the same keys (as ``store.series.new_series_rows`` makes them)."""
    if not rows:
        return 0
    fields = tuple(rows[0])
    return insert_rows(model, fields, [tuple(row[f] for f in fields) for row in rows])


def set_experiment_parents(links: Iterable[tuple[str, str]]) -> None:
    """Point each child at its parent, ``(parent_id, child_id)`` pairs: for writers that insert
    parents and children in one go, where a parent may come after its child."""
    rows = list(links)
    if not rows:
        return
    db = database_proxy.obj
    cursor = db.cursor()
    if is_sqlite(db):
        cursor.executemany('UPDATE "experiment" SET "parent_id" = ? WHERE "id" = ?', rows)
    else:
        from psycopg2.extras import execute_values
        execute_values(cursor, 'UPDATE "experiment" SET "parent_id" = v.parent FROM (VALUES %s) AS v(parent, child) '
                               'WHERE "experiment"."id" = v.child', rows, page_size=_PARENT_UPDATE_PAGE)


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value) -> str:
    """One field in PostgreSQL's COPY text format."""
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, float):
        return repr(value)  # shortest exact text; PostgreSQL reads 'nan' and 'inf' too
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "\\\\x" + bytes(value).hex()  # bytea's hex input, its backslash escaped for COPY
    return str(value).translate(_COPY_ESCAPES)


class _CopyText:
    """A file-like view of rows as COPY text, made about ``COPY_BUFFER_CHARS`` at a time: rows of
    packed series are 100 KB of hex each, so a fixed number of rows could be a gigabyte."""

    def __init__(self, rows: list[tuple]):
        self._rows, self._next = rows, 0
        self._buffer, self._pos = "", 0

    def _fill(self) -> bool:
        lines, size = [], 0
        while self._next < len(self._rows) and size < COPY_BUFFER_CHARS:
            line = "\t".join(map(_copy_field, self._rows[self._next])) + "\n"
            self._next += 1
            lines.append(line)
            size += len(line)
        self._buffer, self._pos = "".join(lines), 0
        return bool(lines)

    def read(self, size: int = -1) -> str:
        parts = []
        while size != 0:
            if self._pos >= len(self._buffer) and not self._fill():
                break
            end = len(self._buffer) if size < 0 else self._pos + size
            piece = self._buffer[self._pos:end]
            self._pos += len(piece)
            if size > 0:
                size -= len(piece)
            parts.append(piece)
        return "".join(parts)
