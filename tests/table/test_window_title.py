"""The window title names the database it shows (a SQLite file's name, host/dbname for PostgreSQL,
never a password) and says "read-only" when the database may not be changed."""
from __future__ import annotations

import os
from urllib.parse import urlparse

import pytest
from read_only_support import as_nobody, can_drop_privileges, shared_folder

from exptable_desktop.core import recording
from exptable_desktop.core.database import database_name
from exptable_desktop.store import close_database, open_database


def _window(qtbot, url):
    from exptable_desktop.ui import create_main_window

    window = create_main_window(url)
    qtbot.addWidget(window)
    window.auto_refresh_toggle.setChecked(False)
    return window


@pytest.mark.parametrize("url, name", [
    ("sqlite:////home/ann/runs/team.db", "team.db"),
    ("postgresql://ann:s3cret@db.example.com:5432/experiments?sslmode=require", "db.example.com/experiments"),
    # A password typed unescaped, holding "/" and "@": still never shown.
    ("postgresql://ann:pa/ss@word@db.example.com/experiments", "db.example.com/experiments"),
    ("postgresql:///experiments", "localhost/experiments"),
    ("/home/ann/runs/team.db", "team.db"),
])
def test_database_name_is_the_file_or_host_and_database_without_credentials(url, name):
    assert database_name(url) == name


@pytest.mark.both_backends
def test_the_title_names_the_database(qtbot, db, db_url):
    recording.create_experiment("p", "run")
    close_database()
    window = _window(qtbot, db_url)
    try:
        if db_url.startswith("sqlite:"):
            expected = "exptable.db"
        else:
            parts = urlparse(db_url)
            expected = f"{parts.hostname}/{parts.path.lstrip('/')}"
        assert window.windowTitle() == f"{expected} — ExpTable"
    finally:
        window.shutdown()


@pytest.mark.pg
@pytest.mark.skipif(not os.environ.get("EXPTABLE_TEST_PG_URL"), reason="EXPTABLE_TEST_PG_URL not set")
def test_the_title_says_read_only_on_a_read_only_postgresql_database(qtbot):
    from pg_support import drop_pg_database, new_pg_database, pg_admin

    url = new_pg_database()
    try:
        open_database(url)
        recording.create_experiment("p", "run")
        close_database()
        pg_admin(f'ALTER DATABASE "{urlparse(url).path[1:]}" SET default_transaction_read_only = on')
        window = _window(qtbot, url)
        try:
            assert window.windowTitle() == f"{database_name(url)} (read-only) — ExpTable"
            assert window.read_only_reason
        finally:
            window.shutdown()
    finally:
        close_database()
        drop_pg_database(url)


@pytest.mark.skipif(not can_drop_privileges(), reason="running as root without a user 'nobody'")
def test_the_title_says_read_only_on_a_read_only_sqlite_file(qtbot):
    with shared_folder() as folder:
        url = f"sqlite:///{folder / 'team.db'}"
        open_database(url)
        recording.create_experiment("p", "run")
        close_database()
        # Once writable, as root: everything the window imports is loaded before taking nobody's ids.
        window = _window(qtbot, url)
        assert window.windowTitle() == "team.db — ExpTable"
        window.shutdown()
        (folder / "team.db").chmod(0o444)
        with as_nobody():
            window = _window(qtbot, url)
            try:
                assert window.windowTitle() == "team.db (read-only) — ExpTable"
            finally:
                window.shutdown()
