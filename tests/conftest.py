"""Shared fixtures: a fresh database per test, on SQLite always and on PostgreSQL when asked."""
from __future__ import annotations

import os

import pytest

from pg_support import drop_pg_database, new_pg_database

# Offscreen Qt for every test run, without extra flags.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("EXPTABLE_USER", "tester")

PG_URL = os.environ.get("EXPTABLE_TEST_PG_URL")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """No test reads or writes the developer's real data folder or database."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.delenv("EXPTABLE_DB", raising=False)
    monkeypatch.delenv("EXPTABLE_TASK_ID", raising=False)
    monkeypatch.delenv("EXPTABLE_FILES", raising=False)


def _backends():
    params = [pytest.param("sqlite", id="sqlite")]
    params.append(pytest.param("postgresql", id="postgresql", marks=[
        pytest.mark.pg, pytest.mark.skipif(not PG_URL, reason="EXPTABLE_TEST_PG_URL not set")]))
    return params


@pytest.fixture
def sqlite_url(tmp_path):
    return f"sqlite:///{tmp_path / 'exptable.db'}"


@pytest.fixture
def db_url(request, tmp_path):
    """A URL to a fresh database. Parametrised over both backends by ``any_db``."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'exptable.db'}"
        return
    url = new_pg_database()
    try:
        yield url
    finally:
        from exptable_desktop.store import close_database
        close_database()
        drop_pg_database(url)


@pytest.fixture
def db(db_url, tmp_path, monkeypatch):
    """An open, bound, empty database (SQLite unless parametrised)."""
    from exptable_desktop.store import close_database, open_database

    monkeypatch.setenv("EXPTABLE_FILES", str(tmp_path / "files"))
    database = open_database(db_url)
    yield database
    close_database()


@pytest.fixture
def script_env(db, db_url, tmp_path):
    """Environment for a script run as a subprocess: this test's database and file folder,
    the package importable from the checkout."""
    from pathlib import Path

    env = dict(os.environ)
    env["EXPTABLE_DB"] = db_url
    env["EXPTABLE_FILES"] = str(tmp_path / "files")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
    env["PYTHONUNBUFFERED"] = "1"
    env.pop("EXPTABLE_TASK_ID", None)
    return env


def pytest_generate_tests(metafunc):
    # Tests marked ``both_backends`` run on SQLite and, when a server is given, PostgreSQL.
    if metafunc.definition.get_closest_marker("both_backends") and "db_url" in metafunc.fixturenames:
        metafunc.parametrize("db_url", _backends(), indirect=True)


def pytest_configure(config):
    config.addinivalue_line("markers", "both_backends: run against SQLite and PostgreSQL")
