"""Opening a database from a URL, and write transactions that survive contention."""
from __future__ import annotations

import contextlib
import os
import random
import sqlite3
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

from peewee import Database, OperationalError, PostgresqlDatabase, SqliteDatabase

from exptable_desktop.paths import user_data_dir
from exptable_desktop.store.schema import database_proxy

ENV_DB = "EXPTABLE_DB"
# Several processes (the app, training scripts, agents) write to one file; a
# writer waits this long for the lock before SQLite gives up.
SQLITE_BUSY_TIMEOUT_MS = 30_000


class StoreError(Exception):
    """A problem with the database a person can act on; its text is one line."""


def default_db_url() -> str:
    return "sqlite:///" + str(Path(user_data_dir()) / "exptable.db")


def resolve_db_url(explicit: str | None = None) -> str:
    """``--db`` wins, then ``EXPTABLE_DB``, then the platform data folder."""
    if explicit:
        return explicit
    return os.environ.get(ENV_DB) or default_db_url()


def sqlite_path(url: str) -> Path | None:
    if url.startswith("sqlite:///"):
        return Path(url[len("sqlite:///"):])
    return None


def make_database(url: str) -> Database:
    path = sqlite_path(url)
    if path is not None:
        if str(path) in ("", ":memory:"):
            raise StoreError("an in-memory database cannot be shared between processes; give a file path")
        if path.is_dir():
            raise StoreError(f"{path} is a folder, not a database file")
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(
            str(path),
            pragmas={
                "journal_mode": "wal",
                "busy_timeout": SQLITE_BUSY_TIMEOUT_MS,
                "foreign_keys": 1,
                "synchronous": "normal",
                "cache_size": -64_000,
            },
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            check_same_thread=False,
        )
    parsed = urlparse(url)
    if parsed.scheme in ("postgresql", "postgres"):
        try:
            import psycopg2  # noqa: F401  (checked here so the error names the fix)
        except ImportError as exc:
            raise StoreError("PostgreSQL needs psycopg2: pip install psycopg2-binary") from exc
        dbname = parsed.path.lstrip("/")
        if not dbname:
            raise StoreError(f"no database name in {url!r}; expected postgresql://user:pass@host:port/db")
        return PostgresqlDatabase(
            dbname,
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or "localhost",
            port=parsed.port or 5432,
        )
    raise StoreError(f"unsupported database URL {url!r}; use sqlite:///path or postgresql://user:pass@host:port/db")


def is_sqlite(db: Database | None = None) -> bool:
    db = db or database_proxy.obj
    return isinstance(db, SqliteDatabase)


def open_database(url: str | None = None, *, migrate: bool = True) -> Database:
    """Open (creating or migrating as needed) the database at ``url`` and bind the schema to it."""
    from exptable_desktop.store import migrations

    url = resolve_db_url(url)
    path = sqlite_path(url)
    if path is not None and path.is_file():
        _refuse_newer_sqlite_file(path, url)
    db = make_database(url)
    try:
        db.connect(reuse_if_open=True)
    except OperationalError as exc:
        raise StoreError(f"cannot open database {url_for_display(url)}: {first_line(exc)}") from exc
    except Exception as exc:  # psycopg2 raises its own errors
        raise StoreError(f"cannot open database {url_for_display(url)}: {first_line(exc)}") from exc
    database_proxy.initialize(db)
    db.exptable_url = url  # type: ignore[attr-defined]
    try:
        migrations.ensure_schema(db, sqlite_path(url) if migrate else None, migrate=migrate)
    except StoreError:
        db.close()
        raise
    except Exception as exc:
        db.close()
        raise StoreError(f"cannot read database {url_for_display(url)}: {first_line(exc)}") from exc
    return db


def _refuse_newer_sqlite_file(path: Path, url: str) -> None:
    """Read the schema version before connecting: the connection's pragmas
    (WAL mode) would otherwise rewrite the header of a file we must not touch."""
    from exptable_desktop.store import migrations

    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            tables = {name for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
            version = (conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
                       if "schema_version" in tables else None)
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database {url_for_display(url)}: {first_line(exc)}") from exc
    if version is not None and version > migrations.CURRENT_VERSION:
        raise StoreError(migrations.newer_message(version))
    if version is None and tables:
        # Someone else's database: creating our tables in it would change a file we don't own.
        raise StoreError(f"{path} is not an ExpTable database (it holds other tables); refusing to change it")


def current_url() -> str:
    return getattr(database_proxy.obj, "exptable_url", "")


def close_database() -> None:
    if database_proxy.obj is not None and not database_proxy.obj.is_closed():
        database_proxy.obj.close()


def url_for_display(url: str) -> str:
    parsed = urlparse(url)
    if parsed.password:
        return url.replace(":" + parsed.password + "@", ":***@")
    return url


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


def _is_lock_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text or "could not serialize" in text or "deadlock" in text


# Arbitrary constant shared by every ExpTable process (the migration lock is 0x45787054).
_PG_WRITE_LOCK = 0x45787055


@contextlib.contextmanager
def write_transaction():
    """A transaction that takes the write lock up front.

    On SQLite a deferred transaction that reads and then writes fails with
    SQLITE_BUSY immediately (the busy timeout does not apply) when another
    process committed in between; BEGIN IMMEDIATE waits for the lock instead.
    PostgreSQL runs writers side by side, so read-then-write steps (get or
    create a project or tag, the next queue position) could interleave and
    create duplicates; one advisory lock per write transaction serialises
    ExpTable's writers the same way. Readers are never blocked.
    """
    db = database_proxy.obj
    if db.in_transaction():
        with db.atomic():
            yield db
    elif isinstance(db, SqliteDatabase):
        with db.atomic("IMMEDIATE"):
            yield db
    else:
        with db.atomic():
            if isinstance(db, PostgresqlDatabase):
                db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_WRITE_LOCK,))
            yield db


def run_write(fn, *args, attempts: int = 8, **kwargs):
    """Run ``fn`` inside a write transaction, retrying lock conflicts with backoff."""
    delay = 0.05
    for attempt in range(attempts):
        try:
            with write_transaction():
                return fn(*args, **kwargs)
        except OperationalError as exc:
            if attempt == attempts - 1 or not _is_lock_error(exc):
                raise
        except Exception as exc:
            if type(exc).__name__ in ("SerializationFailure", "DeadlockDetected") and attempt < attempts - 1:
                pass
            else:
                raise
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")
