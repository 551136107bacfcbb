"""Schema versions and the ordered steps between them.

A new database is created at the current version in one go. An older one is
copied beside itself first (SQLite), then stepped forward one version at a
time, each step in its own transaction. A newer one is refused untouched.
"""
from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import time
from pathlib import Path

from peewee import CharField, Database, DoubleField, PostgresqlDatabase, SqliteDatabase
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator, migrate

from exptable_desktop.store import schema
from exptable_desktop.store.column_cache import CACHE_MODELS
from exptable_desktop.store.schema import ALL_MODELS, BaseModel, ChangeCounter, DeletedExperiment, SchemaVersion

CURRENT_VERSION = 6
_PG_MIGRATION_LOCK = 0x45787054  # arbitrary constant shared by every ExpTable process


def _migrator(db: Database):
    return SqliteMigrator(db) if isinstance(db, SqliteDatabase) else PostgresqlMigrator(db)


# ---- Change sequence ------------------------------------------------------------
# Every write to ``experiment`` or ``deleted_experiment`` stamps the row's ``change_seq``
# with a number from the one-row ``change_counter``; a refresh reads the counter, then the
# rows stamped after its previous reading (store.bulk.changed_since).
#
# Triggers, not the program, stamp the rows: the writes come from many places (actions,
# recording, editing, bulk demo data, peewee's save(), raw SQL, older copies of the program)
# and a trigger covers them all, where a hook in store.db.write_transaction would miss every
# write made outside it. Their cost, measured on a 2-core VM (SQLite, CPU time): an SDK flush
# (recording.record_batch) 2.21 -> 2.24 ms, inserting 10,000 experiments 708 -> 726 ms, updating
# 5,000 33 -> 42 ms; on PostgreSQL within the noise of a loaded machine.
#
# PostgreSQL: the first stamped row of a transaction takes the next number (UPDATE ... RETURNING),
# which locks the counter row until that transaction ends; the number is kept in a
# transaction-local setting for its other rows. A second writer waits for the lock, so the
# numbers follow commit order: a reader that sees the counter at N sees every row stamped N
# or less. SQLite runs one writer at a time, so the same holds with one number per row, which
# is what an SQLite trigger can do (it cannot tell one transaction from the next).

_SQLITE_NEXT_SEQ = """UPDATE "change_counter" SET "value" = "value" + 1 WHERE "id" = 1;
    UPDATE "{table}" SET "change_seq" = (SELECT "value" FROM "change_counter" WHERE "id" = 1)
    WHERE rowid = NEW.rowid;"""

_SQLITE_TRIGGERS = (
    f"""CREATE TRIGGER "experiment_change_seq_insert" AFTER INSERT ON "experiment"
    BEGIN {_SQLITE_NEXT_SEQ.format(table="experiment")} END""",
    # The stamping UPDATE of either trigger would fire this one again; it is told apart by
    # setting change_seq, to the counter's value. A writer's own UPDATE leaves change_seq as it
    # is (NEW IS OLD) or writes back a stale copy (peewee's save()): a number below the row's,
    # so below the counter's.
    f"""CREATE TRIGGER "experiment_change_seq_update" AFTER UPDATE ON "experiment"
    WHEN NEW."change_seq" IS OLD."change_seq"
      OR NEW."change_seq" IS NOT (SELECT "value" FROM "change_counter" WHERE "id" = 1)
    BEGIN {_SQLITE_NEXT_SEQ.format(table="experiment")} END""",
    f"""CREATE TRIGGER "deleted_experiment_change_seq" AFTER INSERT ON "deleted_experiment"
    BEGIN {_SQLITE_NEXT_SEQ.format(table="deleted_experiment")} END""",
)

_PG_TRIGGERS = (
    """CREATE FUNCTION "exptable_stamp_change_seq"() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
        seq bigint := NULLIF(current_setting('exptable.change_seq', true), '')::bigint;
    BEGIN
        IF seq IS NULL THEN
            UPDATE "change_counter" SET "value" = "value" + 1 WHERE "id" = 1 RETURNING "value" INTO seq;
            PERFORM set_config('exptable.change_seq', seq::text, true);
        END IF;
        NEW."change_seq" := seq;
        RETURN NEW;
    END $$""",
    """CREATE TRIGGER "experiment_change_seq" BEFORE INSERT OR UPDATE ON "experiment"
    FOR EACH ROW EXECUTE PROCEDURE "exptable_stamp_change_seq"()""",
    """CREATE TRIGGER "deleted_experiment_change_seq" BEFORE INSERT ON "deleted_experiment"
    FOR EACH ROW EXECUTE PROCEDURE "exptable_stamp_change_seq"()""",
)


def _start_change_sequence(db: Database) -> None:
    """The counter's row and the triggers that stamp rows from it (tables and columns exist)."""
    ChangeCounter.insert(id=1, value=0).execute()
    for sql in _SQLITE_TRIGGERS if isinstance(db, SqliteDatabase) else _PG_TRIGGERS:
        db.execute_sql(sql)


# ---- Steps -------------------------------------------------------------------
# Each step takes a database at version N-1 to version N. Steps are history:
# never change what one produces once it has shipped; add a new one. Step 1 makes
# its tables from today's models, so it takes away what later steps add.

def _step_1_initial(db: Database) -> None:
    """The first released schema: no tombstones, no heartbeat column, no change sequence."""
    models = [m for m in ALL_MODELS if m not in (DeletedExperiment, ChangeCounter)]
    db.create_tables(models, safe=True)
    migrator = _migrator(db)
    migrate(migrator.drop_column("experiment", "heartbeat"),
            migrator.drop_index("experiment", "experiment_change_seq"),  # SQLite drops no indexed column
            migrator.drop_column("experiment", "change_seq"))


class _DeletedExperimentV2(BaseModel):
    """The tombstone table as version 2 made it."""
    experiment_id = CharField(max_length=32, index=True)
    deleted_at = DoubleField(index=True)

    class Meta:
        table_name = "deleted_experiment"


def _step_2_heartbeat_and_tombstones(db: Database) -> None:
    """Heartbeats let the app tell a live script from a dead one; tombstones let
    a refresh learn which experiments were deleted since its last tick."""
    migrate(_migrator(db).add_column("experiment", "heartbeat", DoubleField(null=True)))
    db.create_tables([_DeletedExperimentV2], safe=True)


def _step_3_change_sequence(db: Database) -> None:
    """A refresh asks what changed by a sequence number the database hands out in commit
    order (schema.ChangeCounter), not by the writers' clocks (``last_update``)."""
    bigint = "INTEGER" if isinstance(db, SqliteDatabase) else "BIGINT"
    for table in ("experiment", "deleted_experiment"):
        # Rows written so far get 0: a reader's first cursor is the counter's value, 0 or more.
        db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "change_seq" {bigint} NOT NULL DEFAULT 0')
        db.execute_sql(f'CREATE INDEX "{table}_change_seq" ON "{table}" ("change_seq")')
    db.create_tables([ChangeCounter])
    _start_change_sequence(db)


# Iterations are int64 in the SDK; PostgreSQL's INTEGER stops at 2**31 (SQLite's is 64-bit already).
_ITERATION_COLUMNS = {
    "experiment": ("last_iteration",),
    "metric_summary": ("last_iteration", "min_iteration", "max_iteration"),
    "scalar_chunk": ("first_iteration", "last_iteration"),
    "plot": ("iteration",),
    "debug_sample": ("iteration",),
}


def _step_4_bigint_iterations(db: Database) -> None:
    """Iterations up to 2**63 - 1 on PostgreSQL too, as the SDK accepts them."""
    if isinstance(db, SqliteDatabase):
        return
    for table, columns in _ITERATION_COLUMNS.items():
        alters = ", ".join(f'ALTER COLUMN "{column}" TYPE BIGINT' for column in columns)
        db.execute_sql(f'ALTER TABLE "{table}" {alters}')


# ---- Series blobs stored uncompressed on PostgreSQL (issue 14, series storage) ------------------
# PostgreSQL compresses a large bytea (pglz) unless told otherwise. The packed iteration and
# timestamp arrays of a scalar chunk shrink about 2.5x that way (values barely at all), but
# decompressing them was a third to a half of reading a 1,000,000-point series back. STORAGE
# EXTERNAL keeps them out of line, uncompressed: 24 bytes a point, as on SQLite, which never
# compresses. Rows written before keep their form; merges and new points are stored the new way.

_SERIES_BLOB_COLUMNS = ("iterations", "values", "timestamps")


def _store_series_blobs_uncompressed(db: Database) -> None:
    if isinstance(db, SqliteDatabase):
        return
    alters = ", ".join(f'ALTER COLUMN "{column}" SET STORAGE EXTERNAL' for column in _SERIES_BLOB_COLUMNS)
    db.execute_sql(f'ALTER TABLE "scalar_chunk" {alters}')


def _step_5_series_blobs_uncompressed(db: Database) -> None:
    """Scalar chunks' arrays stored uncompressed on PostgreSQL, for reads at SQLite's speed."""
    _store_series_blobs_uncompressed(db)


def _step_6_column_cache(db: Database) -> None:
    """Whole table columns packed one row each (store.column_cache), so a 100,000-row table reads
    its custom columns as a few blobs. Derived data: a later step that rewrites metric summaries,
    scalars or hyperparameters must empty it (column_cache.clear)."""
    db.create_tables(CACHE_MODELS)


STEPS = {1: _step_1_initial, 2: _step_2_heartbeat_and_tombstones, 3: _step_3_change_sequence,
         4: _step_4_bigint_iterations, 5: _step_5_series_blobs_uncompressed, 6: _step_6_column_cache}
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
    # The copy holds the same data, so nobody who may not read the database may read it.
    os.close(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IMODE(path.stat().st_mode)))
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
            db.create_tables(ALL_MODELS + CACHE_MODELS, safe=True)
            _start_change_sequence(db)
            _store_series_blobs_uncompressed(db)  # what the models cannot say
            _set_version(CURRENT_VERSION)
            return CURRENT_VERSION
        if version > CURRENT_VERSION:  # another process upgraded it in between
            raise StoreError(newer_message(version))
        apply_steps(db, version, CURRENT_VERSION)
    return CURRENT_VERSION


__all__ = ["CURRENT_VERSION", "STEPS", "apply_steps", "ensure_schema", "read_version", "backup_sqlite", "schema"]
