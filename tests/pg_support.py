"""Throwaway PostgreSQL databases on the test server (``EXPTABLE_TEST_PG_URL``)."""
from __future__ import annotations

import os
import uuid
from urllib.parse import urlparse, urlunparse


def server_url() -> str | None:
    return os.environ.get("EXPTABLE_TEST_PG_URL")


def pg_admin(sql: str) -> None:
    """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
    import psycopg2

    conn = psycopg2.connect(server_url())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def new_pg_database(prefix: str = "exptable_t_") -> str:
    """A new, empty database; returns its URL."""
    name = prefix + uuid.uuid4().hex[:12]
    pg_admin(f'CREATE DATABASE "{name}"')
    return urlunparse(urlparse(server_url())._replace(path="/" + name))


def drop_pg_database(url: str) -> None:
    pg_admin(f'DROP DATABASE IF EXISTS "{urlparse(url).path.lstrip("/")}" WITH (FORCE)')
