"""The database as the user interface sees it: opening and closing it, whether it is read-only, how
its errors read, and the few reads the window makes outside the table's loaders.

``exptable_desktop.ui`` takes all of this from here and never imports ``store``
(``tests/test_architecture.py`` holds it to README's layer table), so the screens depend on the domain
layer alone and the storage can change under them without a screen noticing.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePath

from exptable_desktop.store.bulk import (  # noqa: F401  (re-exported for ui)
    Scope,
    current_change_seq,
    get_preference,
    hyperparam_names,
    load_saved_view,
    metric_variants,
    project_counts,
    project_rows,
    release_read_cache,
    scope_count,
    set_preference,
    store_saved_view,
)
from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.db import (  # noqa: F401  (re-exported for ui)
    StoreError,
    close_database,
    current_url,
    first_line,
    is_sqlite,
    open_database,
    read_only_reason,
    sqlite_path,
    url_for_display,
)
from exptable_desktop.store.schema import Experiment, database_proxy


def close_thread_connection() -> None:
    """Close the calling worker thread's connection when the thread's work ends.

    peewee keeps one connection per thread; a worker that leaves its own open holds a SQLite read
    snapshot (and a PostgreSQL session) until the process exits."""
    if database_proxy.obj is not None:
        database_proxy.obj.close()


@dataclass(frozen=True)
class ExperimentPlace:
    """Where an experiment lives: enough to put it on screen."""
    id: str
    name: str
    project_id: int | None
    archived: bool


def experiment_place(exp_id: str) -> ExperimentPlace | None:
    """The experiment's name, project and archive flag; None when there is no such experiment."""
    row = (Experiment.select(Experiment.id, Experiment.name, Experiment.project, Experiment.archived)
           .where(Experiment.id == exp_id).tuples().first())
    return None if row is None else ExperimentPlace(row[0], row[1], row[2], bool(row[3]))


def existing_experiment_ids(ids: Iterable[str]) -> set[str]:
    """Those of ``ids`` that are experiments in this database."""
    found: set[str] = set()
    for batch in chunked(list(dict.fromkeys(ids))):
        found.update(i for (i,) in Experiment.select(Experiment.id).where(Experiment.id.in_(batch)).tuples())
    return found


def database_name(url: str | None = None) -> str:
    """The database as a person names it, for a window title: a SQLite file's name, or
    ``host/dbname`` for a server (never the user or password). ``url`` defaults to the open one."""
    url = current_url() if url is None else url
    path = sqlite_path(url)
    if path is not None:
        return PurePath(path).name or url_for_display(url)
    _scheme, sep, rest = url.partition("://")
    if not sep:  # a plain file path
        return PurePath(url).name or url
    # As url_for_display reads what people type: the credentials end at the last "@", whatever
    # unescaped "/" or "?" a password holds.
    rest = rest[rest.rfind("@") + 1:].partition("?")[0]
    where, _, database = rest.partition("/")
    host = where[:where.index("]") + 1] if where.startswith("[") and "]" in where else where.partition(":")[0]
    host = host or "localhost"
    return f"{host}/{database}" if database else host
