"""What every part of ``Task`` shares: its enumerations, the names it records under, and the database
it opens on first use (``sdk.task`` puts the parts together)."""
from __future__ import annotations

from exptable_desktop.core import states as st
from exptable_desktop.store.db import open_database, resolve_db_url
from exptable_desktop.store.schema import database_proxy

# Set by an agent to the experiment the script it launches must record into.
ENV_TASK_ID = "EXPTABLE_TASK_ID"
ARGS_SECTION = "Args"
GENERAL_SECTION = "General"
LABELS_CONFIGURATION = "Model Labels"  # where set_model_label_enumeration keeps the task's labels


class TaskTypes:
    """The experiment types ``Task.init(task_type=...)`` takes, spelled as the reference SDK spells them."""
    training = "training"
    testing = "testing"
    inference = "inference"
    data_processing = "data_processing"
    application = "application"
    monitor = "monitor"
    controller = "controller"
    optimizer = "optimizer"
    service = "service"
    qc = "qc"
    custom = "custom"


class TaskStatusEnum:
    """The reference SDK's status names, each holding the status ExpTable stores (``Task.status`` compares
    equal to them)."""
    created = st.DRAFT
    queued = st.PENDING
    in_progress = st.RUNNING
    stopped = st.ABORTED
    published = st.PUBLISHED
    publishing = st.PUBLISHING
    closed = st.CLOSED
    failed = st.FAILED
    completed = st.COMPLETED
    unknown = st.UNKNOWN


def ensure_database() -> None:
    """Open the database a script records into (``EXPTABLE_DB``, else the default) unless one is open."""
    if database_proxy.obj is None:
        open_database(resolve_db_url(None))
