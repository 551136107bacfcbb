"""Running one benchmark on a fresh SQLite file and on a throwaway PostgreSQL database.

``run_on_backends(choice, run)`` calls ``run(backend, url, sqlite_path)`` for "sqlite",
"postgresql" or "both" and returns the rows it returned; the PostgreSQL database is made on the
server ``EXPTABLE_TEST_PG_URL`` names and dropped afterwards.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse


def pg_admin(sql: str) -> None:
    """One statement on the server's maintenance connection (CREATE/DROP DATABASE)."""
    import psycopg2

    conn = psycopg2.connect(os.environ["EXPTABLE_TEST_PG_URL"])
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def run_on_backends(choice: str, run) -> list:
    rows = []
    if choice in ("sqlite", "both"):
        folder = Path(tempfile.mkdtemp(prefix="exptable_bench_"))
        try:
            os.environ["EXPTABLE_FILES"] = str(folder / "files")
            path = folder / "bench.db"
            rows.append(run("sqlite", f"sqlite:///{path}", path))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    pg_url = os.environ.get("EXPTABLE_TEST_PG_URL")
    if choice in ("postgresql", "both"):
        if not pg_url:
            print("PostgreSQL skipped: EXPTABLE_TEST_PG_URL is not set", file=sys.stderr)
            return rows
        name = "exptable_bench_" + uuid.uuid4().hex[:8]
        pg_admin(f'CREATE DATABASE "{name}"')
        try:
            rows.append(run("postgresql", urlunparse(urlparse(pg_url)._replace(path="/" + name)), None))
        finally:
            pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return rows
