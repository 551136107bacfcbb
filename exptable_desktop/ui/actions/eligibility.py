"""Which menu and bar entries apply to how many experiments, from in-memory rows.

Counts are worked out from ``window.rows_info(ids)`` (the table's column
arrays), never from the database, so a menu over 10,000 checked rows opens at
once: rows are grouped by (status, type, archived) and ``why_not`` is asked
once per group.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from exptable_desktop.core import states as st
from exptable_desktop.core.actions import why_not
from exptable_desktop.core.database import read_only_reason

# Entries that run a core batch action, keyed by the core action name.
BATCH_ACTIONS = (
    "archive", "restore", "delete", "enqueue", "retry", "dequeue", "reset", "abort",
    "abort_children", "publish", "add_tags", "clone", "move",
)

LABELS = {
    "details": "Details",
    "full_screen": "View Full Screen",
    "manage_queue": "Manage Queue",
    "view_worker": "View Worker",
    "delete": "Delete",
    "archive": "Archive",
    "restore": "Restore",
    "enqueue": "Enqueue",
    "retry": "Retry",
    "dequeue": "Dequeue",
    "reset": "Reset",
    "abort": "Abort",
    "abort_children": "Abort All Children",
    "publish": "Publish",
    "add_tags": "Add Tag",
    "clone": "Clone",
    "move": "Move to Project",
    "compare": "Compare",
}

# Feature inventory 2.2: the context menu's order. Delete exists only in the
# archive, where Restore takes Archive's place.
MENU_ORDER = (
    "details", "full_screen", "manage_queue", "view_worker", "delete", "archive", "enqueue", "retry",
    "dequeue", "reset", "abort", "abort_children", "publish", "add_tags", "clone", "move", "compare",
)

# Separators fall between these groups.
MENU_GROUPS = {
    "details": 0, "full_screen": 0, "manage_queue": 0, "view_worker": 0,
    "delete": 1, "archive": 1, "restore": 1,
    "enqueue": 2, "retry": 2, "dequeue": 2, "reset": 2, "abort": 2, "abort_children": 2, "publish": 2,
    "add_tags": 3, "clone": 3, "move": 3,
    "compare": 4,
}

# Feature inventory 2.5: the batch bar's order ("|" separates groups).
BAR_ORDER = (
    "compare", "|", "archive", "delete", "|", "enqueue", "retry", "dequeue", "reset", "abort",
    "abort_children", "publish", "|", "add_tags", "|", "move",
)

COMPARE_MAX = 100


def archive_entry(archive_mode: bool) -> str:
    """The archive/restore slot: Restore in the archive, Archive elsewhere."""
    return "restore" if archive_mode else "archive"


def entries_for(order: Iterable[str], archive_mode: bool) -> list[str]:
    out = []
    for key in order:
        if key == "delete" and not archive_mode:
            continue
        out.append(archive_entry(archive_mode) if key == "archive" else key)
    return out


@dataclass(frozen=True)
class Eligibility:
    """How many of ``total`` experiments each entry applies to."""
    total: int
    counts: Mapping[str, int] = field(default_factory=dict)

    def count(self, key: str) -> int:
        return self.counts.get(key, 0)

    def tooltip(self, key: str) -> str:
        label = LABELS.get(key, key)
        locked = read_only_reason() if key in BATCH_ACTIONS else None
        if locked:
            return f"{label}: {locked}"
        if key == "compare":
            if self.total > COMPARE_MAX:
                return f"{label}: {COMPARE_MAX} or fewer experiments can be compared"
            if self.total < 2:
                return f"{label}: check at least 2 experiments"
        return f"{label}: applies to {self.count(key)} of {self.total} selected"


def eligibility(rows: Iterable[Mapping]) -> Eligibility:
    """Counts for every menu entry over ``rows`` (dicts with status, type, archived)."""
    groups = Counter((row["status"], row.get("type") or "training", bool(row.get("archived"))) for row in rows)
    total = sum(groups.values())
    counts: dict[str, int] = {}
    for action in BATCH_ACTIONS:
        counts[action] = sum(n for (status, task_type, archived), n in groups.items()
                             if why_not(action, status, task_type, archived) is None)
    counts["details"] = 1 if total else 0
    counts["full_screen"] = 1 if total else 0
    only = next(iter(groups)) if total == 1 else None
    counts["manage_queue"] = 1 if only and only[0] == st.PENDING else 0
    counts["view_worker"] = 1 if only and only[0] == st.RUNNING else 0
    counts["compare"] = total if 2 <= total <= COMPARE_MAX else 0
    return Eligibility(total, counts)


def eligible_rows(action: str, rows: Iterable[Mapping]) -> list[Mapping]:
    return [r for r in rows if why_not(action, r["status"], r.get("type") or "training", bool(r.get("archived"))) is None]
