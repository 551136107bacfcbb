"""Fixtures for the foundation's store and domain tests.

The state/action table has hundreds of cells; a fresh database per cell would
make the PostgreSQL run slow, so those tests share one database per backend
(``sdb``) and each works only on experiments it creates itself. Tests that
need an empty database use the root ``db`` fixture instead.
"""
from __future__ import annotations

import logging
import os

import pytest

import pg_support
from pg_support import drop_pg_database

PG_URL = os.environ.get("EXPTABLE_TEST_PG_URL")

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=[
        pytest.mark.pg, pytest.mark.skipif(not PG_URL, reason="EXPTABLE_TEST_PG_URL not set")]),
]


def new_pg_database() -> str:
    return pg_support.new_pg_database("exptable_f_")


@pytest.fixture(scope="session")
def _shared_urls(tmp_path_factory):
    made: dict[str, str] = {}
    yield made
    from exptable_desktop.store import close_database

    close_database()
    for backend, url in made.items():
        if backend == "postgresql":
            drop_pg_database(url)


def pytest_generate_tests(metafunc):
    # Same contract as the root conftest's ``db_url``: ``both_backends`` means
    # SQLite always, PostgreSQL when a server is given.
    if metafunc.definition.get_closest_marker("both_backends") and "shared_backend" in metafunc.fixturenames:
        metafunc.parametrize("shared_backend", BACKENDS, indirect=True)


@pytest.fixture
def shared_backend(request):
    return getattr(request, "param", "sqlite")


@pytest.fixture
def sdb(shared_backend, _shared_urls, tmp_path_factory, tmp_path, monkeypatch):
    """The backend's shared database, opened and bound; files go to a per-test folder."""
    from exptable_desktop.store import close_database, open_database

    url = _shared_urls.get(shared_backend)
    if url is None:
        if shared_backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('shared') / 'shared.db'}"
        else:
            url = new_pg_database()
        _shared_urls[shared_backend] = url
    monkeypatch.setenv("EXPTABLE_FILES", str(tmp_path / "files"))
    database = open_database(url)
    yield database
    close_database()


class QueryCounter(logging.Handler):
    """Counts the SQL statements peewee sends (it logs each one at DEBUG)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.statements: list[str] = []

    def emit(self, record):
        msg = record.msg
        self.statements.append(msg[0] if isinstance(msg, tuple) else str(msg))

    def __len__(self):
        return len(self.statements)


@pytest.fixture
def count_queries():
    """``with count_queries() as q: ...; len(q)`` counts the statements run inside."""
    import contextlib

    logger = logging.getLogger("peewee")

    @contextlib.contextmanager
    def counting():
        handler = QueryCounter()
        old_level = logger.level
        logger.setLevel(logging.DEBUG)
        logger.addHandler(handler)
        try:
            yield handler
        finally:
            logger.removeHandler(handler)
            logger.setLevel(old_level)
    return counting
