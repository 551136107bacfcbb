"""Experiment states, types and the rules of what may happen in each state.

Status values are the reference system's API values; labels are what people see.
"""
from __future__ import annotations

from exptable_desktop.store.db import read_only_reason

DRAFT = "created"
PENDING = "queued"
RUNNING = "in_progress"
COMPLETED = "completed"
CLOSED = "closed"  # legacy spelling of Completed
ABORTED = "stopped"
FAILED = "failed"
PUBLISHING = "publishing"
PUBLISHED = "published"
UNKNOWN = "unknown"

ALL_STATUSES = (DRAFT, PENDING, RUNNING, COMPLETED, CLOSED, ABORTED, FAILED, PUBLISHING, PUBLISHED)

STATUS_LABELS = {
    DRAFT: "Draft",
    PENDING: "Pending",
    RUNNING: "Running",
    COMPLETED: "Completed",
    CLOSED: "Completed",
    ABORTED: "Aborted",
    FAILED: "Failed",
    PUBLISHING: "Publishing",
    PUBLISHED: "Published",
    UNKNOWN: "Unknown",
}

# The order a status column sorts in: the life cycle, not the alphabet.
LIFECYCLE_ORDER = {
    DRAFT: 0, PENDING: 1, RUNNING: 2, COMPLETED: 3, CLOSED: 3, ABORTED: 4, FAILED: 5,
    PUBLISHING: 6, PUBLISHED: 7, UNKNOWN: 8,
}

# Options offered by a status filter: every label once, no legacy value.
FILTER_STATUSES = (DRAFT, PENDING, RUNNING, COMPLETED, ABORTED, FAILED, PUBLISHED)

# Statuses that show a progress bar in the table (feature inventory 1.1).
PROGRESS_STATUSES = frozenset({RUNNING, FAILED, ABORTED})

TASK_TYPES = (
    "training", "testing", "inference", "data_processing", "application", "monitor",
    "controller", "optimizer", "service", "qc", "custom",
)
PARENT_TYPES = frozenset({"controller", "optimizer"})


def type_label(task_type: str) -> str:
    if len(task_type) < 4:
        return task_type.upper()
    return task_type.replace("_", " ").title()


def status_label(status: str) -> str:
    return STATUS_LABELS.get(status, status)


def normalize_status(status: str) -> str:
    """What the UI shows and filters on: ``closed`` is Completed."""
    return COMPLETED if status == CLOSED else status


# Server state machine (feature inventory 1.3): allowed new statuses without force.
TRANSITIONS: dict[str, frozenset[str]] = {
    DRAFT: frozenset({PENDING, RUNNING}),
    PENDING: frozenset({DRAFT, RUNNING, ABORTED}),
    RUNNING: frozenset({DRAFT, ABORTED, FAILED, COMPLETED}),
    ABORTED: frozenset({DRAFT, PENDING, RUNNING, FAILED, COMPLETED, CLOSED, PUBLISHING, PUBLISHED}),
    FAILED: frozenset({DRAFT, PENDING, ABORTED, PUBLISHING, PUBLISHED}),
    COMPLETED: frozenset({DRAFT, RUNNING, PUBLISHED}),
    CLOSED: frozenset({DRAFT, ABORTED, FAILED, PUBLISHING, PUBLISHED}),
    PUBLISHING: frozenset({PUBLISHED}),
    PUBLISHED: frozenset(),
}


def can_transition(current: str, new: str) -> bool:
    return new in TRANSITIONS.get(current, frozenset())


# ---- Editing rules ---------------------------------------------------------------

READ_ONLY_STATUSES = frozenset({PUBLISHED, PUBLISHING})


def why_not_editable(status: str, what: str) -> str | None:
    """Reason ``what`` cannot change in ``status``, or None when it can.

    what: "execution" | "hyperparams" | "configuration" (Draft only),
    "properties" (any but Published), "outputs" (any but Published),
    "name" | "description" | "tags" (any state).
    Nothing is editable in a database this process may only read.
    """
    locked = read_only_reason()
    if locked:
        return locked
    if what in ("execution", "hyperparams", "configuration"):
        if status != DRAFT:
            return f"Experiment is {status_label(status)}; only a Draft can be edited"
        return None
    if what in ("properties", "outputs"):
        if status in READ_ONLY_STATUSES:
            return f"Experiment is {status_label(status)} and read-only"
        return None
    if what in ("name", "description", "tags"):
        return None
    raise ValueError(f"unknown editable part {what!r}")
