"""The action UI's remembered choices (last used queue), per user, in the Preference table."""
from __future__ import annotations

from exptable_desktop.paths import current_user
from exptable_desktop.core.database import get_preference, set_preference

LAST_QUEUE = "actions.last_queue"
DEFAULT_QUEUE = "default"


def last_queue() -> str:
    return get_preference(current_user(), LAST_QUEUE, DEFAULT_QUEUE) or DEFAULT_QUEUE


def remember_queue(name: str) -> None:
    set_preference(current_user(), LAST_QUEUE, name)
