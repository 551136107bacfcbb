"""Schema versions and the ordered steps between them.

A new database is created at the current version in one go. An older one is
copied beside itself first (SQLite), then stepped forward one version at a
time, each step in its own transaction. A newer one is refused untouched.
"""
from __future__ import annotations

import contextlib
import sqlite3
import time
from pathlib import Path

from peewee import Database, DoubleField, PostgresqlDatabase, SqliteDatabase
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

from exptable_desktop.store import schema
from exptable_desktop.store.schema import ALL_MODELS, DeletedExperiment, SchemaVersion

CURRENT_VERSION = 2
_PG_MIGRATION_LOCK = 0x45787054  # arbitrary constant shared by every ExpTable process


def _migrator(db: Database):
    return SqliteMigrator(db) if isinstance(db, SqliteDatabase) else PostgresqlMigrator(db)


# ---- Steps -------------------------------------------------------------------
# Each step takes a database at version N-1 to version N. Steps are history:
# never edit one that has shipped; add a new one.

def _step_1_initial(db: Database) -> None:
    """The first released schema: no tombstones, no heartbeat column."""
    models = [m for m in ALL_MODELS if m is not DeletedExperiment]
    db.create_tables(models, safe=True)
    migrate(_migrator(db).drop_column("experiment", "heartbeat"))


def _step_2_heartbeat_and_tombstones(db: Database) -> None:
    """Heartbeats let the app tell a live script from a dead one; tombstones let
    a refresh learn which experiments were deleted since its last tick."""
    migrate(_migrator(db).add_column("experiment", "heartbeat", DoubleField(null=True)))
    db.create_tables([DeletedExperiment], safe=True)


STEPS = {1: _step_1_initial, 2: _step_2_heartbeat_and_tombstones}
assert sorted(STEPS) == list(range(1, CURRENT_VERSION + 1))


# ---- Driver ------------------------------------------------------------------

def newer_message(version: int) -> str:
    return (f"database schema version {version} is newer than this program understands "
            f"({CURRENT_VERSION}); upgrade ExpTable Desktop to open it")


def read_version(db: Database) -> int | None:
    if not db.table_exists("schema_version"):
        return None
    row = SchemaVersion.select(SchemaVersion.version).order_by(SchemaVersion.version.desc()).first()
    return row.version if row else None


def _set_version(version: int) -> None:
    SchemaVersion.delete().execute()
    SchemaVersion.create(version=version, migrated_at=time.time())


def backup_sqlite(db: SqliteDatabase, path: Path, version: int) -> Path:
    """Copy the database beside itself. Call with no transaction open on ``db``.

    Python's ``Connection.backup`` retries a busy source forever; a connection
    that holds the write lock is such a source, which is why migration takes
    the copy before it takes the lock.
    """
    target = path.with_name(f"{path.name}.v{version}.bak")
    n = 1
    while target.exists():
        target = path.with_name(f"{path.name}.v{version}.{n}.bak")
        n += 1
    dest = sqlite3.connect(str(target))
    try:
        db.connection().backup(dest)
    finally:
        dest.close()
    return target


def apply_steps(db: Database, from_version: int, to_version: int) -> None:
    for version in range(from_version + 1, to_version + 1):
        with db.atomic():
            STEPS[version](db)
            _set_version(version)


@contextlib.contextmanager
def _migration_file_lock(path: Path):
    """Serialise migrations of one SQLite file across processes, backup included.

    The backup cannot be taken under SQLite's own write lock (see
    ``backup_sqlite``), so a lock file beside the database guards both steps.
    """
    try:
        import fcntl
    except ImportError:  # Windows: at worst two processes each leave a backup
        yield
        return
    with open(path.with_name(path.name + ".migrate-lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_schema(db: Database, sqlite_file: Path | None, *, migrate: bool = True) -> int:
    from exptable_desktop.store.db import StoreError

    version = read_version(db)
    if version == CURRENT_VERSION:
        return version
    if version is not None and version > CURRENT_VERSION:
        raise StoreError(newer_message(version))
    if not migrate:
        if version is None:
            raise StoreError("database has no ExpTable schema yet; open it with migration allowed")
        raise StoreError(f"database schema version {version} needs migrating to {CURRENT_VERSION}")
    if version is not None and sqlite_file is not None and isinstance(db, SqliteDatabase):
        with _migration_file_lock(sqlite_file):
            version = read_version(db)  # another process may have migrated it meanwhile
            if version is not None and version < CURRENT_VERSION:
                backup_sqlite(db, sqlite_file, version)
                with db.atomic("IMMEDIATE"):
                    apply_steps(db, version, CURRENT_VERSION)
            elif version is not None and version > CURRENT_VERSION:
                raise StoreError(newer_message(version))
        return CURRENT_VERSION
    # A new database, or PostgreSQL: the first process to take the lock creates
    # or migrates it, the others find it done.
    lock = db.atomic("IMMEDIATE") if isinstance(db, SqliteDatabase) else db.atomic()
    with lock:
        if isinstance(db, PostgresqlDatabase):
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_MIGRATION_LOCK,))
        version = read_version(db)
        if version == CURRENT_VERSION:
            return version
        if version is None:
            if db.get_tables():
                raise StoreError("database holds tables but no ExpTable schema version; "
                                 "refusing to change a database that is not ExpTable's")
            db.create_tables(ALL_MODELS, safe=True)
            _set_version(CURRENT_VERSION)
            return CURRENT_VERSION
        if version > CURRENT_VERSION:  # another process upgraded it in between
            raise StoreError(newer_message(version))
        apply_steps(db, version, CURRENT_VERSION)
    return CURRENT_VERSION


__all__ = ["CURRENT_VERSION", "STEPS", "apply_steps", "ensure_schema", "read_version", "backup_sqlite", "schema"]
