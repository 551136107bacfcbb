"""Opening a database from a URL, and write transactions that survive contention."""
from __future__ import annotations

import contextlib
import functools
import os
import random
import re
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from peewee import Database, OperationalError, PostgresqlDatabase, SqliteDatabase

from exptable_desktop.paths import user_data_dir
from exptable_desktop.store.schema import database_proxy

ENV_DB = "EXPTABLE_DB"
# Several processes (the app, training scripts, agents) write to one file; a
# writer waits this long for the lock before SQLite gives up.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Opening retries "database is locked" like a write does: some lock conflicts
# (WAL recovery, the last connection checkpointing as it closes) fail at once.
OPEN_ATTEMPTS = 8
# A new database file and the folder of its files are private to their owner.
NEW_FILE_MODE = 0o600
NEW_FOLDER_MODE = 0o700
_SQLITE_MAGIC = b"SQLite format 3\x00"


class StoreError(Exception):
    """A problem with the database a person can act on; its text is one line."""


class ReadOnlyDatabaseError(StoreError):
    """A write was asked of a database this process may only read."""


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


def _sqlite_pragmas(*, read_only: bool = False) -> dict:
    pragmas = {"busy_timeout": SQLITE_BUSY_TIMEOUT_MS, "foreign_keys": 1, "cache_size": -64_000}
    if not read_only:  # the journal mode is the file's: only a writer sets it
        pragmas = {"journal_mode": "wal", **pragmas, "synchronous": "normal"}
    return pragmas


def _check_sqlite_path(path: Path) -> None:
    if str(path) in ("", ":memory:"):
        raise StoreError("an in-memory database cannot be shared between processes; give a file path")
    if path.is_dir():
        raise StoreError(f"{path} is a folder, not a database file")


def make_database(url: str) -> Database:
    """A connection (not yet open) for ``url``, read-write; ``open_database`` is what programs call."""
    path = sqlite_path(url)
    if path is not None:
        _check_sqlite_path(path)
        return SqliteDatabase(
            str(path),
            pragmas=_sqlite_pragmas(),
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
            raise StoreError(f"no database name in {url_for_display(url)}; "
                             "expected postgresql://user:pass@host:port/db")
        return PostgresqlDatabase(
            dbname,
            user=unquote(parsed.username) if parsed.username else None,
            password=unquote(parsed.password) if parsed.password else None,
            host=parsed.hostname or "localhost",
            port=parsed.port or 5432,
            cursor_factory=_binary_copy_cursor(),
        )
    raise StoreError(f"unsupported database URL {url_for_display(url)}; "
                     "use sqlite:///path or postgresql://user:pass@host:port/db")


# ---- PostgreSQL: large blobs in binary ---------------------------------------------------
# psycopg2 receives every bytea as hex text: twice the bytes on the wire, then decoded on the
# client, which was most of reading a 1,000,000-point series (187 ms of it). It cannot ask for
# binary results, but COPY ... TO STDOUT (FORMAT binary) hands over the server's binary form
# (bytea as the raw bytes). Our connections' cursors run such a statement through copy_expert and
# return its rows like a SELECT's, so it goes through peewee (logging, errors) like any query.

_COPY_BINARY_PREFIX = "COPY ("
_COPY_BINARY_SUFFIX = ") TO STDOUT WITH (FORMAT binary)"
_PGCOPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"


def binary_select_sql(select_sql: str) -> str:
    """A SELECT (with its parameters) as a statement whose rows come back in PostgreSQL's binary
    form on a connection ``make_database`` made: bytea as the bytes, text as UTF-8 bytes, integers
    as big-endian bytes, NULL as None (each field a memoryview)."""
    return _COPY_BINARY_PREFIX + select_sql + _COPY_BINARY_SUFFIX


def binary_text(value) -> str | None:
    """A text field of a binary-form row (UTF-8 bytes), or of a plain row (already str); None stays."""
    return value if value is None or isinstance(value, str) else bytes(value).decode("utf-8")


def binary_int(value) -> int:
    """An integer field of a binary-form row (big-endian bytes), or of a plain row (already int)."""
    return value if isinstance(value, int) else int.from_bytes(value, "big", signed=True)


class BinaryCopyReader:
    """Reads the stream of a COPY ... (FORMAT binary) piece by piece, as psycopg2's ``copy_expert``
    writes it (one server message at a time, which is one row): ``rows`` are tuples of memoryviews
    into those pieces, so the bytes are not copied again on the way. Pieces may split rows anywhere."""

    def __init__(self):
        self.rows: list[tuple] = []
        self.finished = False
        self._pieces: list[bytes] = []
        self._size = 0
        self._need = len(_PGCOPY_SIGNATURE) + 8  # the signature, flags and extension length
        self._header_read = False

    def write(self, piece: bytes) -> None:
        self._pieces.append(piece)
        self._size += len(piece)
        if self._size < self._need:
            return
        data = self._pieces[0] if len(self._pieces) == 1 else b"".join(self._pieces)
        used = self._parse(memoryview(data))
        rest = data[used:]
        self._pieces = [rest] if rest else []
        self._size = len(rest)

    def _parse(self, view: memoryview) -> int:
        """Take the complete rows at the start of ``view``; returns the bytes used and sets
        ``_need`` to how many bytes the next incomplete part needs."""
        from_bytes = int.from_bytes
        end = len(view)
        at = 0
        if not self._header_read:
            if bytes(view[:len(_PGCOPY_SIGNATURE)]) != _PGCOPY_SIGNATURE:
                raise StoreError("unexpected reply to a binary COPY: not PGCOPY data")
            header = len(_PGCOPY_SIGNATURE) + 8 + from_bytes(view[len(_PGCOPY_SIGNATURE) + 4:
                                                                  len(_PGCOPY_SIGNATURE) + 8], "big")
            if end < header:
                self._need = header
                return 0
            self._header_read = True
            at = header
        while not self.finished:
            start = at
            if end - at < 2:
                self._need = 2
                return start
            fields = from_bytes(view[at:at + 2], "big", signed=True)
            at += 2
            if fields < 0:  # the trailer
                self.finished = True
                return at
            row = []
            for _ in range(fields):
                if end - at < 4:
                    self._need = at + 4 - start
                    return start
                size = from_bytes(view[at:at + 4], "big", signed=True)
                at += 4
                if size < 0:
                    row.append(None)
                    continue
                if end - at < size:
                    self._need = at + size - start
                    return start
                row.append(view[at:at + size])
                at += size
            self.rows.append(tuple(row))
        return at


@functools.lru_cache(maxsize=None)
def _binary_copy_cursor():
    from psycopg2.extensions import cursor as driver_cursor

    class BinaryCopyCursor(driver_cursor):
        """A psycopg2 cursor that also runs ``binary_select_sql`` statements, fetched like a SELECT."""

        _copied: list | None = None

        def execute(self, query, vars=None):
            if isinstance(query, str) and query.startswith(_COPY_BINARY_PREFIX) \
                    and query.endswith(_COPY_BINARY_SUFFIX):
                reader = BinaryCopyReader()
                self.copy_expert(self.mogrify(query, vars), reader)
                if not reader.finished:
                    raise StoreError("a binary COPY ended before its trailer")
                self._copied = reader.rows
                return None
            self._copied = None
            return super().execute(query, vars)

        def fetchall(self):
            if self._copied is None:
                return super().fetchall()
            rows, self._copied = self._copied, []
            return rows

        def fetchmany(self, size=None):
            if self._copied is None:
                return super().fetchmany(self.arraysize if size is None else size)
            size = self.arraysize if size is None else size
            rows, self._copied = self._copied[:size], self._copied[size:]
            return rows

        def fetchone(self):
            if self._copied is None:
                return super().fetchone()
            return self._copied.pop(0) if self._copied else None

        def __iter__(self):
            if self._copied is None:
                return super().__iter__()
            return iter(self.fetchall())

    return BinaryCopyCursor


class _ReadOnlySqliteDatabase(SqliteDatabase):
    """An SQLite file this process may not change: every write fails with one clear line."""

    read_only_message = "the database is read-only"

    def execute_sql(self, sql, params=None):
        try:
            return super().execute_sql(sql, params)
        except OperationalError as exc:
            if "readonly" in str(exc).lower() or "read-only" in str(exc).lower():
                raise ReadOnlyDatabaseError(self.read_only_message) from exc
            raise


def is_sqlite(db: Database | None = None) -> bool:
    db = db or database_proxy.obj
    return isinstance(db, SqliteDatabase)


def read_only_reason(db: Database | None = None) -> str | None:
    """Why the open database may not be changed ("The database is read-only (...)"), or None."""
    db = db or database_proxy.obj
    return getattr(db, "exptable_read_only", None)


def is_read_only(db: Database | None = None) -> bool:
    return read_only_reason(db) is not None


def require_writable() -> None:
    """Refuse, in one line, to start changing a database this process may only read."""
    db = database_proxy.obj
    reason = read_only_reason(db)
    if reason:
        raise ReadOnlyDatabaseError(getattr(db, "read_only_message", reason))


def _retry_locked(step, attempts: int = OPEN_ATTEMPTS):
    """``step()``, retried with ``run_write``'s backoff while it fails on a lock."""
    delay = 0.05
    for attempt in range(attempts):
        try:
            return step()
        except Exception as exc:
            if attempt == attempts - 1 or not _is_lock_error(exc):
                raise
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")


def _connect(db: Database, url: str) -> None:
    def attempt():
        try:
            db.connect(reuse_if_open=True)
        except Exception:
            if not db.is_closed():
                db.close()
            raise
    try:
        _retry_locked(attempt)
    except Exception as exc:  # peewee's and psycopg2's errors alike
        raise StoreError(f"cannot open database {url_for_display(url)}: {first_line(exc)}") from exc


def open_database(url: str | None = None, *, migrate: bool = True, create: bool = True) -> Database:
    """Open (creating or migrating as needed) the database at ``url`` and bind the schema to it.

    ``create=False`` (the read-only commands) refuses a database that holds no
    ExpTable data yet instead of creating one. A database this process cannot
    write (the file, or for SQLite its folder) opens read-only: it is read as
    it is, never migrated, and every write is refused (``read_only_reason``).
    Nothing is written to a database that is refused (someone else's, a newer
    schema, a damaged file): SQLite files are inspected read-only first.
    """
    from exptable_desktop.store import migrations

    url = resolve_db_url(url)
    path = sqlite_path(url)
    if path is not None:
        db, created = _open_sqlite(url, path, create=create)
    else:
        db, created = make_database(url), False
        _connect(db, url)
    database_proxy.initialize(db)
    db.exptable_url = url  # type: ignore[attr-defined]
    try:
        if path is None:
            version, tables = migrations.read_version(db), db.get_tables()
            if not create and version is None and not tables:
                raise StoreError(f"database {url_for_display(url)} holds no ExpTable data yet; "
                                 "nothing was created in it")
            if db.execute_sql("SHOW transaction_read_only").fetchone()[0] == "on":  # a standby, or set so
                if version is None and tables:
                    raise StoreError(f"database {url_for_display(url)} holds tables but no ExpTable schema "
                                     "version; refusing to change a database that is not ExpTable's")
                _mark_read_only(db, url_for_display(url), "the server accepts no writes", version)
        if not is_read_only(db):
            _retry_locked(lambda: migrations.ensure_schema(db, path if migrate else None, migrate=migrate))
    except StoreError:
        db.close()
        raise
    except Exception as exc:
        db.close()
        raise StoreError(f"cannot read database {url_for_display(url)}: {first_line(exc)}") from exc
    if created:
        _make_files_folder()
    return db


# ---- SQLite files --------------------------------------------------------------------

@dataclass(frozen=True)
class _SqliteFile:
    empty: bool                # no ExpTable data yet: 0 bytes, or an SQLite database without tables
    version: int | None        # ExpTable schema version
    wal: bool                  # the header says WAL journal mode
    read_only: str | None      # why this process may not write it, or None


def _access(path: Path, mode: int) -> bool:
    if os.access in os.supports_effective_ids:
        return os.access(path, mode, effective_ids=True)
    return os.access(path, mode)


def _why_read_only(path: Path) -> str | None:
    """SQLite writes beside the file (-wal, -shm, -journal), so its folder must be writable too."""
    if not _access(path, os.W_OK):
        return "the file is not writable"
    if not _access(path.parent if str(path.parent) else Path("."), os.W_OK):
        return "its folder is not writable"
    return None


def _side_file(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _read_only_uri(path: Path, wal: bool) -> str:
    """``mode=ro`` reads a WAL database through its -wal and -shm, and creates them when they are
    missing; without a -wal nobody has the file open, and ``immutable=1`` reads it creating nothing."""
    uri = f"{path.resolve().as_uri()}?mode=ro"
    if wal and not _side_file(path, "-wal").exists():
        uri += "&immutable=1"
    return uri


def _create_file(path: Path, url: str) -> bool:
    """Create an empty, private database file; False when another process just did."""
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        if url != default_db_url():  # a typo in --db should not grow folders
            raise StoreError(f"cannot create database {path}: folder {folder} does not exist")
        folder.mkdir(parents=True, exist_ok=True)
    try:
        # SQLite gives the -wal and -shm files the mode of the database file.
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, NEW_FILE_MODE))
    except FileExistsError:
        return False
    except OSError as exc:
        raise StoreError(f"cannot create database {path}: {exc.strerror or exc}") from exc
    return True


def _inspect_sqlite_file(path: Path, url: str) -> _SqliteFile:
    """Read what the file is without changing it (no WAL switch, no -wal or -shm created),
    and refuse what is not ours to open."""
    from exptable_desktop.store import migrations

    shown = url_for_display(url)
    read_only = _why_read_only(path)
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise StoreError(f"cannot open database {shown}: {exc.strerror or exc}") from exc
    if not header:
        return _SqliteFile(empty=True, version=None, wal=False, read_only=read_only)
    if not header.startswith(_SQLITE_MAGIC):
        raise StoreError(f"cannot open database {shown}: file is not a database")
    wal = len(header) > 19 and header[18] == 2 and header[19] == 2

    def read() -> tuple[set[str], int | None]:
        uri = _read_only_uri(path, wal)
        conn = sqlite3.connect(uri, uri=True, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
        try:
            tables = {name for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")}
            version = (conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0]
                       if "schema_version" in tables else None)
        finally:
            conn.close()
        if "immutable=1" in uri and _side_file(path, "-wal").exists():
            # Another process opened the file meanwhile: read again through its -wal.
            return read()
        return tables, version

    try:
        tables, version = _retry_locked(read)
    except sqlite3.Error as exc:
        raise StoreError(f"cannot open database {shown}: {first_line(exc)}") from exc
    if version is not None and version > migrations.CURRENT_VERSION:
        raise StoreError(migrations.newer_message(version))
    if version is None and tables:
        # Someone else's database: creating our tables in it would change a file we don't own.
        raise StoreError(f"{path} is not an ExpTable database (it holds other tables); refusing to change it")
    return _SqliteFile(empty=version is None, version=version, wal=wal, read_only=read_only)


def _open_sqlite(url: str, path: Path, *, create: bool) -> tuple[Database, bool]:
    _check_sqlite_path(path)
    created = False
    if not path.exists():
        if not create:
            raise StoreError(f"no database at {path}")
        created = _create_file(path, url)
    info = _inspect_sqlite_file(path, url)
    if info.empty and not create:
        raise StoreError(f"{path} holds no ExpTable database (it is empty); nothing was created in it")
    if info.read_only is None:
        db = make_database(url)
        _connect(db, url)
        return db, created
    db = _ReadOnlySqliteDatabase(
        _read_only_uri(path, info.wal),
        pragmas=_sqlite_pragmas(read_only=True),
        timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        check_same_thread=False,
        uri=True,
    )
    _mark_read_only(db, str(path), info.read_only, info.version)
    _connect(db, url)
    return db, False


def _mark_read_only(db: Database, where: str, why: str, version: int | None) -> None:
    """Use ``db`` as it is, refusing every write; refuse it whole if it would first need writing."""
    from exptable_desktop.store import migrations

    if version is None:
        raise StoreError(f"{where} is read-only ({why}) and holds no ExpTable database yet")
    if version > migrations.CURRENT_VERSION:
        raise StoreError(migrations.newer_message(version))
    if version < migrations.CURRENT_VERSION:
        raise StoreError(f"{where} is read-only ({why}) and needs upgrading from schema version "
                         f"{version} to {migrations.CURRENT_VERSION}; open it once with write access")
    db.exptable_read_only = f"The database is read-only ({why})"  # type: ignore[attr-defined]
    db.read_only_message = f"{where} is read-only ({why}); nothing was changed"  # type: ignore[attr-defined]


def _make_files_folder() -> None:
    """The files of a new SQLite database live beside it; private like the database."""
    from exptable_desktop.store import files as store_files

    try:
        store_files.storage_root().mkdir(mode=NEW_FOLDER_MODE, parents=True, exist_ok=True)
    except OSError:
        pass  # made when the first file is written, or that write reports the problem


def current_url() -> str:
    return getattr(database_proxy.obj, "exptable_url", "")


def close_database() -> None:
    if database_proxy.obj is not None and not database_proxy.obj.is_closed():
        database_proxy.obj.close()


# Query-string and keyword=value passwords (libpq reads ?password=...).
_SECRET_PARAMETER = re.compile(r"(?i)\b((?:ssl)?password|passwd|pwd)=[^&#;\s]*")


def url_for_display(url: str) -> str:
    """``url`` with every password replaced by ``***``: the one way a URL goes into a message.

    Made for what people type, not only valid URLs: a password holding ``@``,
    ``/`` or ``?`` unescaped is still hidden whole (everything up to the last ``@``).
    """
    text = str(url)
    scheme, sep, rest = text.partition("://")
    if sep:
        at = rest.rfind("@")
        if at != -1:
            user, colon, _secret = rest[:at].partition(":")
            if colon and "/" not in user and "?" not in user:
                rest = f"{user}:***{rest[at:]}"
        text = scheme + sep + rest
    return _SECRET_PARAMETER.sub(lambda m: f"{m.group(1)}=***", text)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


# PostgreSQL errors that a second try can get past: serialization_failure, deadlock_detected,
# lock_not_available (lock_timeout, NOWAIT). Known by SQLSTATE: the server may word its messages
# in another language, and errors of other kinds may mention a lock.
_PG_LOCK_CODES = frozenset({"40001", "40P01", "55P03"})


def _sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE of a driver error, also when peewee wrapped it (peewee 4 keeps the
    driver's error as ``orig``, peewee 3 as the first argument)."""
    wrapped = getattr(exc, "orig", None)
    if wrapped is None and exc.args and isinstance(exc.args[0], BaseException):
        wrapped = exc.args[0]
    for candidate in (exc, wrapped):
        code = getattr(candidate, "pgcode", None) or getattr(candidate, "sqlstate", None)
        if isinstance(code, str) and code:
            return code
    return None


def _is_lock_error(exc: BaseException) -> bool:
    """A lock conflict worth retrying: PostgreSQL's by SQLSTATE, SQLite's "database is locked"/busy."""
    code = _sqlstate(exc)
    if code is not None:
        return code in _PG_LOCK_CODES
    if not isinstance(exc, (OperationalError, sqlite3.OperationalError)):
        return False
    text = str(exc).lower()
    return "locked" in text or "busy" in text


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

    When the transaction fails, the error raised is the one that made it fail:
    SQLite ends a transaction by itself on some errors (a full disk, an I/O
    error) and a lost PostgreSQL connection cannot roll back either, so the
    rollback that follows fails too and would otherwise hide the reason. A
    connection found dead is closed, so the next transaction opens a new one
    instead of failing on the dead one for ever.
    """
    db = database_proxy.obj
    if db.in_transaction():
        with db.atomic():
            yield db
        return
    try:
        with db.atomic("IMMEDIATE") if isinstance(db, SqliteDatabase) else db.atomic():
            if isinstance(db, PostgresqlDatabase):
                db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_WRITE_LOCK,))
            yield db
    except Exception as exc:
        cause: BaseException = exc
        while cause.__context__ is not None and any(text in str(cause) for text in (
                "no transaction is active", "connection already closed", "connection not open")):
            cause = cause.__context__
        if not db.is_closed() and not db.is_connection_usable():
            db.close()
        if cause is exc:
            raise
        raise cause


def run_write(fn, *args, attempts: int = 8, **kwargs):
    """Run ``fn`` inside a write transaction, retrying lock conflicts with backoff.

    A connection that turns out dead (the server restarted, the network
    dropped) is replaced and ``fn`` run again at once, unless ``fn`` had
    already finished: then the commit may have happened, and running it
    twice could record things twice.
    """
    delay = 0.05
    reconnected = False
    for attempt in range(attempts):
        db = database_proxy.obj
        was_open = not db.is_closed()
        finished = False
        try:
            with write_transaction():
                result = fn(*args, **kwargs)
                finished = True
            return result
        except Exception as exc:
            if was_open and db.is_closed() and not finished and not reconnected:
                reconnected = True
                continue
            if attempt == attempts - 1 or not _is_lock_error(exc):
                raise
        time.sleep(delay * (1 + random.random()))
        delay = min(delay * 2, 1.0)
    raise AssertionError("unreachable")
