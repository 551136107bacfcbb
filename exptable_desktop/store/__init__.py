"""Persistence: the peewee schema, connections, migrations and bulk queries. No Qt here."""
from exptable_desktop.store.db import (  # noqa: F401
    StoreError,
    close_database,
    default_db_url,
    open_database,
    resolve_db_url,
    run_write,
    write_transaction,
)
