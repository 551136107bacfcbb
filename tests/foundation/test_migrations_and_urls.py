"""Opening databases: migration from an older schema, refusing newer ones, bad URLs and files."""
from __future__ import annotations

import hashlib
import sqlite3
import time
from pathlib import Path

import pytest

from exptable_desktop.store import close_database, migrations, open_database
from exptable_desktop.store.db import StoreError, make_database
from exptable_desktop.store.schema import (
    DeletedExperiment,
    Experiment,
    HyperParam,
    MetricSummary,
    Project,
    SchemaVersion,
    database_proxy,
)

V1_ROWS = [
    "INSERT INTO project (name, parent_id, description, created) VALUES ('Old', NULL, '', 1.0)",
    "INSERT INTO experiment (id, name, type, status, project_id, \"user\", created, last_update, description,"
    " status_message, status_reason, archived, development, runtime)"
    " VALUES ('{id}', 'legacy run', 'training', 'completed', 1, 'old', 1.0, 2.0, 'kept', '', '', {false},"
    " {false}, '{{}}')",
    "INSERT INTO hyper_param (experiment_id, section, name, value, type, description)"
    " VALUES ('{id}', 'Args', 'lr', '0.1', 'float', '')",
    "INSERT INTO metric_summary (experiment_id, metric, variant, first, last, min, max, total, finite_count,"
    " count, last_iteration) VALUES ('{id}', 'loss', 'train', 1.0, 0.1, 0.1, 1.0, 5.0, 10, 10, 9)",
]
OLD_ID = "a" * 32


def build_v1(url: str) -> None:
    """A database exactly as version 1 of the program left it, with some rows in it."""
    db = make_database(url)
    db.connect()
    database_proxy.initialize(db)
    migrations.apply_steps(db, 0, 1)
    false = "0" if url.startswith("sqlite") else "false"
    with db.atomic():
        for sql in V1_ROWS:
            db.execute_sql(sql.format(id=OLD_ID, false=false))
    assert migrations.read_version(db) == 1
    assert "heartbeat" not in [c.name for c in db.get_columns("experiment")]
    assert not db.table_exists("deleted_experiment")
    db.close()


@pytest.mark.both_backends
def test_version_1_is_migrated_keeping_rows(db_url, tmp_path, monkeypatch):
    monkeypatch.setenv("EXPTABLE_FILES", str(tmp_path / "files"))
    build_v1(db_url)
    if db_url.startswith("sqlite:///"):
        Path(db_url[len("sqlite:///"):]).chmod(0o600)
    db = open_database(db_url)
    try:
        assert migrations.read_version(db) == migrations.CURRENT_VERSION
        exp = Experiment.get_by_id(OLD_ID)
        assert (exp.name, exp.status, exp.description, exp.heartbeat) == ("legacy run", "completed", "kept", None)
        assert Project.get_by_id(exp.project_id).name == "Old"
        assert HyperParam.get(HyperParam.experiment == OLD_ID).value == "0.1"
        assert MetricSummary.get(MetricSummary.experiment == OLD_ID).last == 0.1
        assert SchemaVersion.select().count() == 1
        # The new version's features work on the old data.
        Experiment.update(heartbeat=time.time()).where(Experiment.id == OLD_ID).execute()
        DeletedExperiment.create(experiment_id="x", deleted_at=1.0)
    finally:
        close_database()
    if db_url.startswith("sqlite:///"):
        path = db_url[len("sqlite:///"):]
        backup = tmp_path / "exptable.db.v1.bak"
        assert backup.exists()
        # The copy is no more readable than the database it copies.
        assert backup.stat().st_mode & 0o777 == Path(path).stat().st_mode & 0o777
        with sqlite3.connect(str(backup)) as conn:
            assert conn.execute("SELECT version FROM schema_version").fetchall() == [(1,)]
            assert conn.execute("SELECT name FROM experiment").fetchall() == [("legacy run",)]
            assert "heartbeat" not in [r[1] for r in conn.execute("PRAGMA table_info(experiment)")]
        # Reopening an up-to-date database neither migrates nor backs up again.
        open_database(db_url)
        close_database()
        assert sorted(p.name for p in tmp_path.glob("exptable.db.*bak")) == ["exptable.db.v1.bak"]
        assert path.endswith("exptable.db")


@pytest.mark.both_backends
def test_a_second_backup_does_not_overwrite_the_first(db_url, tmp_path):
    if not db_url.startswith("sqlite"):
        pytest.skip("backups are made of SQLite files only")
    build_v1(db_url)
    (tmp_path / "exptable.db.v1.bak").write_bytes(b"an older backup")
    open_database(db_url)
    close_database()
    assert (tmp_path / "exptable.db.v1.bak").read_bytes() == b"an older backup"
    assert (tmp_path / "exptable.db.v1.1.bak").exists()


def _set_version(url: str, version: int) -> None:
    open_database(url)
    SchemaVersion.update(version=version).execute()
    close_database()


def _file_digest(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.both_backends
def test_newer_database_is_refused_untouched(db_url, tmp_path):
    _set_version(db_url, migrations.CURRENT_VERSION + 5)
    path = tmp_path / "exptable.db"
    digest = _file_digest(path) if db_url.startswith("sqlite") else None
    with pytest.raises(StoreError) as err:
        open_database(db_url)
    message = str(err.value)
    assert "\n" not in message and "newer" in message and str(migrations.CURRENT_VERSION + 5) in message
    if digest is not None:
        assert _file_digest(path) == digest
        assert not list(tmp_path.glob("*.bak"))
    # Still the newer version, readable by the newer program.
    db = make_database(db_url)
    db.connect()
    database_proxy.initialize(db)
    assert migrations.read_version(db) == migrations.CURRENT_VERSION + 5
    db.close()


@pytest.mark.both_backends
@pytest.mark.parametrize("table", ["experiment", "notes"])
def test_someone_elses_database_is_refused_and_left_alone(db_url, table):
    import sqlite3

    from exptable_desktop.store.db import sqlite_path

    path = sqlite_path(db_url)
    if path is not None:  # made without our pragmas, as another program would
        conn = sqlite3.connect(path)
        conn.execute(f"CREATE TABLE {table} (id VARCHAR(32) PRIMARY KEY)")
        conn.commit()
        conn.close()
        before = path.read_bytes()
    else:
        db = make_database(db_url)
        db.connect()
        db.execute_sql(f"CREATE TABLE {table} (id VARCHAR(32) PRIMARY KEY)")
        db.close()
    with pytest.raises(StoreError, match="not (an )?ExpTable"):
        open_database(db_url)
    if path is not None:
        assert path.read_bytes() == before
        assert not path.with_name(path.name + "-wal").exists()
    else:
        db = make_database(db_url)
        db.connect()
        assert db.get_tables() == [table]
        db.close()


@pytest.mark.parametrize("url,fragment", [
    ("mysql://u@h/db", "unsupported database URL"),
    ("nonsense", "unsupported database URL"),
    ("sqlite:///:memory:", "in-memory"),
    ("postgresql://u@127.0.0.1:1/", "no database name"),
    ("postgresql://nobody:secret@127.0.0.1:1/db", "cannot open database postgresql://nobody:***@"),
])
def test_bad_urls_give_one_line_errors(url, fragment):
    with pytest.raises(StoreError) as err:
        open_database(url)
    assert fragment in str(err.value)
    assert "\n" not in str(err.value) and "secret" not in str(err.value)


def test_unreadable_files_give_one_line_errors(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not an sqlite database at all" * 200)
    before = garbage.read_bytes()
    with pytest.raises(StoreError) as err:
        open_database(f"sqlite:///{garbage}")
    assert "\n" not in str(err.value) and "garbage.db" in str(err.value)
    assert garbage.read_bytes() == before
    with pytest.raises(StoreError, match="is a folder"):
        open_database(f"sqlite:///{tmp_path}")


OPENER = """
import sys, time
from exptable_desktop.store import open_database
from exptable_desktop.store.migrations import read_version
while time.time() < float(sys.argv[2]):
    time.sleep(0.002)
print(read_version(open_database(sys.argv[1])))
"""


@pytest.mark.both_backends
def test_processes_opening_an_old_database_at_once_migrate_it_once(db_url, tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    build_v1(db_url)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    start_at = str(time.time() + 1.5)
    procs = [subprocess.Popen([sys.executable, "-c", OPENER, db_url, start_at], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, env=env) for _ in range(3)]
    for proc in procs:
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert out.strip() == str(migrations.CURRENT_VERSION)
    if db_url.startswith("sqlite"):
        assert [p.name for p in tmp_path.glob("*.bak")] == ["exptable.db.v1.bak"]
    open_database(db_url)
    try:
        assert Experiment.get_by_id(OLD_ID).name == "legacy run"
    finally:
        close_database()


def test_newer_database_in_rollback_journal_mode_is_not_switched_to_wal(tmp_path):
    """The version is read before connecting, so not even the journal-mode header bytes change."""
    folder = tmp_path / "odd name #1?"
    folder.mkdir()
    path = folder / "newer.db"
    with sqlite3.connect(str(path)) as conn:
        conn.execute("CREATE TABLE schema_version (id INTEGER PRIMARY KEY, version INTEGER, migrated_at REAL)")
        conn.execute("INSERT INTO schema_version (version, migrated_at) VALUES (?, 0)",
                     (migrations.CURRENT_VERSION + 1,))
    conn.close()
    digest = _file_digest(path)
    with pytest.raises(StoreError, match="newer than this program"):
        open_database(f"sqlite:///{path}")
    assert _file_digest(path) == digest
    assert sorted(p.name for p in folder.iterdir()) == ["newer.db"]


def test_current_database_opens_from_an_odd_path(tmp_path):
    folder = tmp_path / "odd name #1?"
    folder.mkdir()
    url = f"sqlite:///{folder / 'x.db'}"
    open_database(url)
    close_database()
    db = open_database(url)  # the second open reads the version of an existing file first
    assert migrations.read_version(db) == migrations.CURRENT_VERSION
    close_database()
