"""Reading an ExperimentTable from the database: its base rows, its custom columns, and the
changes written since a change sequence number (for live refresh). Runs on loader threads; no Qt."""
from __future__ import annotations

from typing import Any, Iterable, Iterator, Sequence

import numpy as np

from exptable_desktop.core.custom_columns import ColumnValues, load_columns, read_values_for
from exptable_desktop.core.experiment_table import ChangeSet, ExperimentTable
from exptable_desktop.core.liveness import mark_stale_runs_if_due
from exptable_desktop.store import bulk
from exptable_desktop.store.bulk import BASE_FIELDS, Scope

_F = {name: i for i, name in enumerate(BASE_FIELDS)}


def project_paths() -> dict[int, str]:
    rows = bulk.project_rows()
    by_id = {pid: (name, parent) for pid, name, parent in rows}
    out: dict[int, str] = {}

    def path(pid: int, depth: int = 0) -> str:
        if pid in out:
            return out[pid]
        name, parent = by_id[pid]
        text = f"{path(parent, depth + 1)}/{name}" if parent in by_id and depth < 64 else name
        out[pid] = text
        return text
    for pid in by_id:
        path(pid)
    return out


def load_base_table(scope: Scope, limit: int | None = None, expected: int | None = None) -> ExperimentTable:
    """Base columns and tags of the experiments in ``scope`` (with ``limit``: the most recently updated).

    ``expected``: the scope's size when the caller counted it already (saves a query).
    """
    if expected is None:
        expected = limit if limit is not None else bulk.scope_count(scope)
    # Room for the experiments that live refresh will add before the arrays have to double.
    table = ExperimentTable(capacity=expected + expected // 20 + 64)
    table.project_paths = project_paths()
    table.tag_info = bulk.tag_table()
    if limit is not None:
        table.write_base_rows(bulk.load_base_rows(scope, limit))
    else:
        for chunk in bulk.iter_base_row_chunks(scope):
            table.write_base_rows(chunk)
    table.set_parent_names(bulk.experiment_names(table.parent_ids()))
    table.write_tags(bulk.load_tag_links(scope) if limit is None else bulk.load_tag_links_for(table.alive_ids()))
    table.recompute_mask()
    table.resort()
    if limit is None:
        table.sort_key("name", False)  # ranks names here, on the loading thread, not at the first click
    return table


def load_table(scope: Scope, custom_keys: Sequence[str] = ()) -> ExperimentTable:
    """The whole table with ``custom_keys`` read, for exports and scripts: it reads the column cache
    but never writes it (a read-only command stays read-only)."""
    table = load_base_table(scope)
    for key, rows in load_custom_columns(scope, custom_keys, whole_db=covers_most_of_db(table), expected_rows=table.n,
                                         keep_cache=False):
        table.add_custom_column(key, rows)
    table.resort()
    return table


def covers_most_of_db(table: ExperimentTable) -> bool:
    return table.n * 3 >= bulk.experiment_count()


def load_custom_columns(scope: Scope, keys: Sequence[str], *, whole_db: bool = False,
                        expected_rows: int = 0, keep_cache: bool = True) -> Iterator[tuple[str, ColumnValues]]:
    """(key, values) for each custom column, the last key last; give each to prepare_custom_column.

    ``expected_rows``: rows per column, which bounds how many columns one statement reads
    (see bulk.custom_columns_per_statement). Over most of the database (``whole_db``) the columns
    come from the column cache where it has them, and columns read whole are kept there unless
    ``keep_cache`` is False (see core.custom_columns.load_columns).
    """
    return load_columns(scope, keys, whole_db=whole_db, expected_rows=expected_rows, keep_cache=keep_cache)


def read_custom_values(ids: Sequence[str], custom_keys: Sequence[str]) -> dict[str, tuple[list[str], list[Any]]]:
    """Custom-column values of a few experiments (a few IN queries), grouped per column key."""
    return read_values_for(ids, custom_keys)


def load_first_page_custom_values(table: ExperimentTable, custom_keys: Sequence[str]) -> None:
    """Fill the custom columns of a first page (a few hundred rows) so it paints complete."""
    table.add_empty_custom_columns(custom_keys)
    slots = np.flatnonzero(table.alive[:table.n])
    table.write_custom_rows(slots, read_custom_values(table.ids[slots].tolist(), custom_keys))


def fetch_changes(since: int, custom_keys: Sequence[str], known_parents: Iterable[str] = ()) -> ChangeSet:
    """Everything written after change sequence number ``since``: a handful of indexed queries, no Qt."""
    mark_stale_runs_if_due()  # first, so the runs it ends arrive in this refresh
    cursor = bulk.current_change_seq()  # before the rows: every change up to it is among them
    rows = bulk.changed_since(since)
    ids = [r[_F["id"]] for r in rows]
    custom_values = read_custom_values(ids, custom_keys)
    known = set(known_parents)
    new_parents = {r[_F["parent"]] for r in rows if r[_F["parent"]] and r[_F["parent"]] not in known}
    return ChangeSet(
        since=since, cursor=cursor, rows=rows, deleted=bulk.deleted_since(since),
        tag_links=bulk.load_tag_links_for(ids) if ids else [], tag_table=bulk.tag_table(),
        custom_values=custom_values,
        parent_names=bulk.experiment_names(new_parents) if new_parents else {},
        project_paths=project_paths() if ids else {},
    )
