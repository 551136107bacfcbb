"""Databases the program must not change, new files' permissions, secrets in URLs, busy opens,
and a demo that is all or nothing.

Read-only checks run as user ``nobody`` (see tests/read_only_support.py): as root,
chmod would not stop a single write.
"""
from __future__ import annotations

import ast
import os
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from read_only_support import as_nobody, can_drop_privileges, listing, shared_folder

from exptable_desktop.core import actions, editing, recording
from exptable_desktop.core import states as st
from exptable_desktop.core.queries import list_experiments
from exptable_desktop.io.demo import make_demo
from exptable_desktop.store import bulk, close_database, migrations, open_database
from exptable_desktop.store import db as store_db
from exptable_desktop.store.db import (
    ReadOnlyDatabaseError,
    StoreError,
    is_read_only,
    make_database,
    read_only_reason,
    url_for_display,
)
from exptable_desktop.store.schema import ALL_MODELS, Experiment, QueueEntry, database_proxy

REPO = Path(__file__).resolve().parents[2]
needs_nobody = pytest.mark.skipif(not can_drop_privileges(), reason="running as root without a user 'nobody'")


def _counts() -> dict[str, int]:
    return {model._meta.table_name: model.select().count() for model in ALL_MODELS}


# The owner of a database keeps it open; its last change is committed to the -wal, not yet the file.
OWNER_WRITING = textwrap.dedent("""
    import sqlite3, sys
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("UPDATE experiment SET name = 'renamed by the owner' WHERE id = ?", (sys.argv[2],))
    print("written", flush=True)
    sys.stdin.read()
""")


def _make_team_db(folder: Path) -> tuple[str, list[str]]:
    url = f"sqlite:///{folder / 'team.db'}"
    open_database(url)
    draft = recording.create_experiment("Team", "draft run")
    done = recording.create_experiment("Team", "finished run", status=st.COMPLETED)
    bulk.set_preference("tester", "refresh", {"enabled": True})
    close_database()
    return url, [draft, done]


# ---- Read-only databases ----------------------------------------------------------------------

@needs_nobody
@pytest.mark.parametrize("how", ["file", "folder", "file_while_written"])
def test_a_read_only_database_opens_for_reading_and_refuses_every_write(how):
    """file: chmod 0444; folder: a writable file in a 0555 folder (SQLite writes beside the file);
    file_while_written: the owner has it open, its last commit still in the -wal (read through it)."""
    with shared_folder() as folder:
        url, (draft, done) = _make_team_db(folder)
        path = folder / "team.db"
        path.chmod({"file": 0o444, "folder": 0o666, "file_while_written": 0o644}[how])
        writer = None
        if how == "file_while_written":  # another process: SQLite shares one -shm mapping within a process
            writer = subprocess.Popen([sys.executable, "-c", OWNER_WRITING, str(path), draft],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            assert writer.stdout.readline().strip() == "written"
            assert path.with_name("team.db-wal").stat().st_size > 0
        if how != "file":
            folder.chmod(0o555)
        before = listing(folder)
        try:
            with as_nobody():
                open_database(url)
                try:
                    reason = read_only_reason()
                    assert is_read_only() and reason.startswith("The database is read-only")
                    assert ("folder is not writable" if how == "folder" else "file is not writable") in reason
                    expected = "renamed by the owner" if writer else "draft run"
                    assert Experiment.get_by_id(draft).name == expected
                    assert {r["id"] for r in list_experiments()} == {draft, done}

                    for result in (actions.archive([draft, done]), actions.add_tags([draft], ["x"]),
                                   actions.move([done], "Elsewhere"), actions.rename([draft], "new name"),
                                   editing.set_hyperparams([draft], "Args", {"lr": 1})):
                        assert result.succeeded == [] and set(result.skipped.values()) == {reason}
                    assert st.why_not_editable(st.DRAFT, "configuration") == reason
                    with pytest.raises(ReadOnlyDatabaseError) as err:
                        Experiment.update(name="x").where(Experiment.id == done).execute()
                    assert "read-only" in str(err.value) and "\n" not in str(err.value)
                    with pytest.raises(ReadOnlyDatabaseError):
                        make_demo(3, seed=9, detailed=0)
                    # The window's layout and preferences live for the session only.
                    bulk.set_preference("tester", "refresh", {"enabled": False})
                    assert bulk.get_preference("tester", "refresh") == {"enabled": False}
                finally:
                    close_database()
            assert listing(folder) == before
        finally:
            if writer is not None:
                writer.communicate("", timeout=30)


@needs_nobody
@pytest.mark.parametrize("state", ["older_schema", "empty_file"])
def test_a_read_only_database_that_would_need_writing_is_refused_in_one_line(state):
    with shared_folder() as folder:
        path = folder / "team.db"
        if state == "older_schema":
            url, _ = _make_team_db(folder)
            with sqlite3.connect(str(path)) as conn:
                conn.execute("UPDATE schema_version SET version = 1")
            conn.close()
            expected = "needs upgrading from schema version 1"
        else:
            url = f"sqlite:///{path}"
            path.write_bytes(b"")
            expected = "holds no ExpTable database"
        path.chmod(0o444)
        before = listing(folder)
        with as_nobody():
            with pytest.raises(StoreError) as err:
                open_database(url)
        assert expected in str(err.value) and "read-only" in str(err.value)
        assert "\n" not in str(err.value)
        assert listing(folder) == before


@pytest.mark.pg
@pytest.mark.parametrize("state", ["ours", "empty"])
def test_a_postgresql_database_that_accepts_no_writes_opens_read_only(state):
    """A standby server, or a database set read-only: read it, and say why nothing can change."""
    if not os.environ.get("EXPTABLE_TEST_PG_URL"):
        pytest.skip("EXPTABLE_TEST_PG_URL not set")
    from urllib.parse import urlparse

    from pg_support import drop_pg_database, new_pg_database, pg_admin

    url = new_pg_database()
    try:
        if state == "ours":
            open_database(url)
            draft = recording.create_experiment("Team", "draft run")
            close_database()
        pg_admin(f'ALTER DATABASE "{urlparse(url).path[1:]}" SET default_transaction_read_only = on')
        if state == "empty":
            with pytest.raises(StoreError, match="read-only .*holds no ExpTable database"):
                open_database(url)
            return
        open_database(url)
        try:
            reason = read_only_reason()
            assert reason == "The database is read-only (the server accepts no writes)"
            assert Experiment.get_by_id(draft).name == "draft run"
            result = actions.archive([draft])
            assert result.succeeded == [] and result.skipped == {draft: reason}
            assert editing.set_hyperparams([draft], "Args", {"lr": 1}).skipped == {draft: reason}
        finally:
            close_database()
    finally:
        drop_pg_database(url)


# ---- Refused databases stay as they are --------------------------------------------------------

def _refused(kind: str, path: Path) -> str:
    """A file ExpTable must refuse; returns a fragment of the refusal."""
    if kind.startswith("not_ours"):
        conn = sqlite3.connect(str(path))
        if kind == "not_ours_wal":
            conn.execute("PRAGMA journal_mode = wal")
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('mine')")
        conn.commit()
        conn.close()
        return "not an ExpTable database"
    if kind == "garbage":
        path.write_bytes(os.urandom(8192))
        return "file is not a database"
    open_database(f"sqlite:///{path}")
    recording.create_experiment("P", "run")
    close_database()
    if kind == "newer":
        conn = sqlite3.connect(str(path))
        with conn:
            conn.execute("UPDATE schema_version SET version = ?", (migrations.CURRENT_VERSION + 1,))
        conn.close()
        return "newer than this program"
    data = bytearray(path.read_bytes())  # corrupt: the schema page's b-tree overwritten
    data[100:4096] = b"\xa5" * (4096 - 100)
    path.write_bytes(bytes(data))
    return "cannot open database"


@pytest.mark.parametrize("kind", ["not_ours_wal", "not_ours_rollback", "newer", "corrupt", "garbage"])
def test_a_refused_database_stays_byte_identical_with_nothing_beside_it(kind, tmp_path):
    folder = tmp_path / "data"
    folder.mkdir()
    path = folder / "x.db"
    fragment = _refused(kind, path)
    before = listing(folder)
    for create in (True, False):
        with pytest.raises(StoreError) as err:
            open_database(f"sqlite:///{path}", create=create)
        assert fragment in str(err.value) and "\n" not in str(err.value)
    assert listing(folder) == before  # no -wal, no -shm, no backup, not one byte


# ---- Empty files and missing folders -------------------------------------------------------------

@pytest.mark.both_backends
def test_reading_does_not_turn_an_empty_file_or_database_into_one_of_ours(db_url, tmp_path):
    path = store_db.sqlite_path(db_url)
    if path is not None:
        path.write_bytes(b"")
    with pytest.raises(StoreError) as err:
        open_database(db_url, create=False)
    assert "\n" not in str(err.value) and ("empty" in str(err.value) or "no ExpTable data" in str(err.value))
    if path is not None:
        assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["exptable.db"]
        assert path.read_bytes() == b""
    else:
        db = make_database(db_url)
        db.connect()
        assert db.get_tables() == []
        db.close()
    # Programs that may create a database (demo, gui, the SDK) use this one as it is.
    open_database(db_url)
    try:
        assert migrations.read_version(database_proxy.obj) == migrations.CURRENT_VERSION
    finally:
        close_database()


def test_a_missing_folder_is_an_error_naming_it_not_created(tmp_path):
    missing = tmp_path / "typo" / "sub"
    with pytest.raises(StoreError) as err:
        open_database(f"sqlite:///{missing / 'x.db'}")
    assert f"folder {missing} does not exist" in str(err.value)
    assert not (tmp_path / "typo").exists()


def test_the_default_database_may_create_its_folder(tmp_path):
    default = store_db.sqlite_path(store_db.default_db_url())
    assert not default.parent.exists() and tmp_path in default.parents
    open_database()
    close_database()
    assert default.is_file()


# ---- New files are private -------------------------------------------------------------------------

@pytest.mark.parametrize("umask", [0o022, 0o002])
def test_a_new_database_its_wal_and_its_files_folder_are_private(umask, tmp_path):
    path = tmp_path / "new.db"
    old = os.umask(umask)
    try:
        open_database(f"sqlite:///{path}")
        try:
            recording.create_experiment("P", "run")
            modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.iterdir() if p.name != "home"}
        finally:
            close_database()
    finally:
        os.umask(old)
    assert modes == {"new.db": 0o600, "new.db-wal": 0o600, "new.db-shm": 0o600, "new.db.files": 0o700}


# ---- Passwords never shown ---------------------------------------------------------------------------

@pytest.mark.parametrize("url,shown", [
    ("postgresql://alice:s3cret@db:5432/exp", "postgresql://alice:***@db:5432/exp"),
    ("postgresql+psycopg2://alice:s3cret@db/exp", "postgresql+psycopg2://alice:***@db/exp"),
    ("postgresql://alice:p%40ss@db/exp", "postgresql://alice:***@db/exp"),
    ("postgresql://alice:s3c@ret/x?@db/exp", "postgresql://alice:***@db/exp"),
    ("postgresql://alice@db/exp?password=s3cret&sslmode=require",
     "postgresql://alice@db/exp?password=***&sslmode=require"),
    ("postgresql://db/exp?sslmode=require&PASSWORD=s3cret", "postgresql://db/exp?sslmode=require&PASSWORD=***"),
    ("host=db password=s3cret dbname=exp", "host=db password=*** dbname=exp"),
    ("postgresql://alice@db/exp", "postgresql://alice@db/exp"),
    ("sqlite:////home/alice/exp.db", "sqlite:////home/alice/exp.db"),
])
def test_url_for_display_hides_every_password(url, shown):
    assert url_for_display(url) == shown


@pytest.mark.parametrize("url,fragment", [
    ("postgresql://alice:s3cret@127.0.0.1:1/", "no database name"),
    ("postgresql+psycopg2://alice:s3cret@127.0.0.1:1/db", "unsupported database URL"),
    ("host=127.0.0.1 password=s3cret dbname=db", "unsupported database URL"),
    ("postgresql://alice:s3cret@127.0.0.1:1/db", "cannot open database"),
    ("postgresql://alice@127.0.0.1:1/db?password=s3cret", "cannot open database"),
])
def test_database_messages_never_show_the_password(url, fragment):
    with pytest.raises(StoreError) as err:
        open_database(url)
    assert fragment in str(err.value) and "s3cret" not in str(err.value)


@pytest.mark.pg
def test_the_sdk_message_for_an_unknown_task_id_hides_the_password(tmp_path):
    server = os.environ.get("EXPTABLE_TEST_PG_URL")
    if not server:
        pytest.skip("EXPTABLE_TEST_PG_URL not set")
    from pg_support import drop_pg_database, new_pg_database

    url = new_pg_database()
    try:
        scheme, rest = url.split("://", 1)
        user, host = rest.split("@", 1)
        secret_url = f"{scheme}://{user.split(':')[0]}:s3cret@{host}"  # the test server trusts local users
        env = {**os.environ, "PYTHONPATH": str(REPO), "EXPTABLE_DB": secret_url, "EXPTABLE_TASK_ID": "f" * 32,
               "EXPTABLE_FILES": str(tmp_path / "files")}
        result = subprocess.run([sys.executable, "-c", "from exptable_desktop import Task; Task.init('p', 't')"],
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode != 0
        assert "names no experiment" in result.stderr and "***@" in result.stderr
        assert "s3cret" not in result.stderr + result.stdout
    finally:
        drop_pg_database(url)


# What the source check takes for a database URL in a message (an f-string, a `+` with a string
# literal, `%` or `.format`):
# - a call that returns one: resolve_db_url(), current_url(), default_db_url(), cli._open();
# - a name or attribute spelled like one anywhere: db_url, database_url, exptable_url (self.db_url,
#   options.db_url, ...);
# - in a module that handles database URLs (store/db.py, every module importing resolve_db_url,
#   current_url, open_database or make_database, and every module calling one of the above), a bare
#   name ``url`` or ``*_url``;
# - in any module, a name assigned from one of the above.
# Other URLs (artifacts, models, remote storage, HTTP hooks, git remotes) are not database URLs: they
# are shown as given. A string that is only hashed (``hashlib.x(f"...".encode())``) is shown nowhere.
_DB_URL_CALLS = {"resolve_db_url", "current_url", "default_db_url"}
_DB_URL_SPELLINGS = ("db_url", "database_url", "exptable_url")
_DB_URL_IMPORTS = _DB_URL_CALLS | {"open_database", "make_database"}
_DISPLAY_FUNCTIONS = ("url_for_display", "_display")


def _name_of(expr: ast.expr) -> str:
    if isinstance(expr, ast.Call):
        expr = expr.func
    return expr.id if isinstance(expr, ast.Name) else getattr(expr, "attr", "")


def _returns_a_database_url(call: ast.Call) -> bool:
    name = _name_of(call)
    opened_by_the_cli = name == "_open" and isinstance(call.func, ast.Attribute) \
        and isinstance(call.func.value, ast.Name) and call.func.value.id == "cli"
    return name in _DB_URL_CALLS or name.lower().endswith(_DB_URL_SPELLINGS) or opened_by_the_cli


def _handles_database_urls(tree: ast.AST, path: str) -> bool:
    return path.endswith("store/db.py") or any(
        (isinstance(node, ast.ImportFrom) and any(alias.name in _DB_URL_IMPORTS for alias in node.names))
        or (isinstance(node, ast.Call) and _returns_a_database_url(node))
        for node in ast.walk(tree))


class _DatabaseUrls:
    """Which expressions of one module hold a database URL."""

    def __init__(self, tree: ast.AST, path: str):
        self.bare_url_names = _handles_database_urls(tree, path)
        self.assigned: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                if self.is_database_url(node.value):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    self.assigned |= {t.id for t in targets if isinstance(t, ast.Name)}

    def is_database_url(self, expr: ast.expr) -> bool:
        name = _name_of(expr).lower()
        if isinstance(expr, ast.Call):
            return _returns_a_database_url(expr)
        if name.endswith(_DB_URL_SPELLINGS):
            return True
        if isinstance(expr, ast.Name):
            return expr.id in self.assigned or (self.bare_url_names and (name == "url" or name.endswith("_url")))
        return False

    def raw(self, expr: ast.expr) -> list[str]:
        """The database URLs ``expr`` shows without url_for_display."""
        if isinstance(expr, ast.Call) and _name_of(expr) in _DISPLAY_FUNCTIONS:
            return []
        return [ast.unparse(expr)] if self.is_database_url(expr) else []


def _hashed_strings(tree: ast.AST) -> set[int]:
    hashed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "hashlib":
            for arg in node.args:
                if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "encode":
                    arg = arg.func.value
                hashed.add(id(arg))
    return hashed


def _raw_database_urls(source: str, path: str) -> list[str]:
    """``line: expression`` for every database URL a message of ``source`` shows raw."""
    tree = ast.parse(source)
    urls, hashed, found = _DatabaseUrls(tree, path), _hashed_strings(tree), []
    for node in ast.walk(tree):
        if id(node) in hashed:
            continue
        shown: list[ast.expr] = []
        if isinstance(node, ast.JoinedStr):
            shown = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            sides = (node.left, node.right)
            if any(isinstance(s, (ast.Constant, ast.JoinedStr)) and isinstance(getattr(s, "value", ""), str)
                   for s in sides):
                shown = [s for s in sides if not isinstance(s, (ast.Constant, ast.JoinedStr, ast.BinOp))]
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant) \
                and isinstance(node.left.value, str):
            shown = list(node.right.elts) if isinstance(node.right, ast.Tuple) else [node.right]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "format" \
                and isinstance(node.func.value, ast.Constant) and isinstance(node.func.value.value, str):
            shown = list(node.args) + [k.value for k in node.keywords]
        found += [f"{node.lineno}: {raw}" for expr in shown for raw in urls.raw(expr)]
    return found


def test_no_message_in_the_package_formats_a_raw_database_url():
    """Every message that shows a database URL passes it through url_for_display first."""
    offenders = []
    for source in sorted((REPO / "exptable_desktop").rglob("*.py")):
        path, text = source.relative_to(REPO).as_posix(), source.read_text(encoding="utf-8")
        if "url" in text.lower() or "cli._open" in text:  # every way of holding one is spelled so
            offenders += [f"{path}:{found}" for found in _raw_database_urls(text, path)]
    assert offenders == []


def test_the_modules_that_open_databases_are_checked_for_bare_urls():
    """The check reads a bare ``url`` as a database URL in these; were one missed, its messages would go unchecked."""
    for path in ("store/db.py", "cli.py", "cli_links.py", "cli_run.py", "sdk/task_lifecycle.py",
                 "sdk/task_shared.py", "store/files.py"):
        source = (REPO / "exptable_desktop" / path).read_text(encoding="utf-8")
        assert _handles_database_urls(ast.parse(source), f"exptable_desktop/{path}"), path


DATABASE_MODULE = textwrap.dedent("""
    from exptable_desktop.store.db import resolve_db_url, url_for_display
    def open_it(url, options, args):
        shown = url_for_display(url)
        home = resolve_db_url(None)
        raise ValueError(f"cannot open {url}: {shown} {resolve_db_url(None)} {self.db_url} {options.db_url} "
                         f"{home} {args.url}")
    def more(url, server_url):
        print("cannot open " + url, "at %s" % server_url, "in {}".format(current_url()))
        return hashlib.sha256(f"{url}".encode()).hexdigest()
""")
OTHER_MODULE = textwrap.dedent("""
    def download(url, window):
        raise ValueError(f"could not download {url} from {self._url} ({self.url}); window {window.db_url}")
    def key(db_url, user):
        return hashlib.sha256(f"{db_url}\\0{user}".encode()).hexdigest()
""")


def test_the_source_check_catches_a_raw_url():
    assert sorted(f.split(": ", 1)[1] for f in _raw_database_urls(DATABASE_MODULE, "exptable_desktop/cli_x.py")) == [
        "current_url()", "home", "options.db_url", "resolve_db_url(None)", "self.db_url", "server_url", "url", "url"]
    # artifact and HTTP URLs are shown as they are; a database URL is caught by its spelling anywhere
    assert [f.split(": ", 1)[1] for f in _raw_database_urls(OTHER_MODULE, "exptable_desktop/sdk/storage.py")] == [
        "window.db_url"]


# ---- Opening a busy database ------------------------------------------------------------------------

LOCK_HOLDER = textwrap.dedent("""
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    if sys.argv[2] == "wal":
        conn.execute("PRAGMA journal_mode = wal")
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[3]))
    conn.execute("ROLLBACK")
""")


@pytest.mark.parametrize("mode", ["rollback", "wal"])
def test_opening_waits_out_a_lock_like_a_write_does(mode, tmp_path, monkeypatch):
    """rollback: switching a new file to WAL needs the lock another process holds;
    wal: creating the schema does. Both retry instead of failing with "database is locked"."""
    monkeypatch.setattr(store_db, "SQLITE_BUSY_TIMEOUT_MS", 50)  # lock errors in 50 ms, not 30 s
    path = tmp_path / "busy.db"
    path.write_bytes(b"")
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(path), mode, "0.8"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        started = time.monotonic()
        db = open_database(f"sqlite:///{path}")
        try:
            assert time.monotonic() - started > 0.3  # it did wait for the holder
            assert migrations.read_version(db) == migrations.CURRENT_VERSION
            assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
        finally:
            close_database()
    finally:
        holder.wait(timeout=30)


# ---- The demo: all or nothing --------------------------------------------------------------------------

def _experiment_folders(files: Path) -> set[str]:
    return {p.name for p in files.glob("*/*") if p.is_dir()} if files.exists() else set()


def _pending_without_queue_entry() -> int:
    queued = QueueEntry.select(QueueEntry.experiment)
    return Experiment.select().where((Experiment.status == st.PENDING) & ~(Experiment.id.in_(queued))).count()


@pytest.mark.both_backends
def test_an_interrupted_demo_leaves_the_database_as_it_was_and_runs_again(db, tmp_path):
    files = tmp_path / "files"
    make_demo(40, seed=1, detailed=3, images=1)
    counts, folders = _counts(), _experiment_folders(files)
    ids = {e for (e,) in Experiment.select(Experiment.id).tuples()}

    def interrupt(done, total):
        if done == total:  # every experiment written, parents and queue entries not yet
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        make_demo(300, seed=2, detailed=10, images=2, on_progress=interrupt)
    assert _counts() == counts
    assert {e for (e,) in Experiment.select(Experiment.id).tuples()} == ids
    assert _experiment_folders(files) == folders  # the interrupted run's files are gone

    stats = make_demo(300, seed=2, detailed=10, images=2)
    assert stats.experiments == 300 and Experiment.select().count() == 340
    assert _pending_without_queue_entry() == 0


KILL_DEMO = ("demo", "--experiments", "2000", "--detailed", "200", "--seed", "5")


@pytest.mark.slow
@pytest.mark.both_backends
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGINT], ids=["kill-9", "ctrl-c"])
def test_a_demo_process_stopped_midway_changes_nothing(db, db_url, tmp_path, signum):
    files = tmp_path / "files"
    recording.create_experiment("Mine", "my own run", tags=["keep"])  # no demo projects, tags or queues yet
    counts, folders = _counts(), _experiment_folders(files)
    close_database()
    env = {**os.environ, "PYTHONPATH": str(REPO), "EXPTABLE_FILES": str(files), "EXPTABLE_USER": "tester"}
    proc = subprocess.Popen([sys.executable, "-m", "exptable_desktop", *KILL_DEMO, "--db", db_url],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # Files of the detailed experiments appear while the demo's rows are being written.
        deadline = time.monotonic() + 60
        while not (_experiment_folders(files) - folders) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.005)
        assert proc.poll() is None, "the demo ended before it could be stopped"
        proc.send_signal(signum)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if signum == signal.SIGINT:
        assert proc.returncode == 130 and err.strip() == "exptable: interrupted"
        assert _experiment_folders(files) == folders
    else:
        assert proc.returncode == -signal.SIGKILL

    open_database(db_url)
    assert _counts() == counts
    close_database()
    # The same seed again: nothing of the stopped run is in the way.
    rerun = subprocess.run([sys.executable, "-m", "exptable_desktop", "demo", "--experiments", "200",
                            "--detailed", "20", "--seed", "5", "--db", db_url],
                           env=env, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    open_database(db_url)
    assert Experiment.select().count() == counts["experiment"] + 200
    assert _pending_without_queue_entry() == 0
