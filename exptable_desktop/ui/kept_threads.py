"""Worker threads kept referenced until they end.

A QThread freed while it runs takes the process down, and the widget that started one (a details
panel, the Workers & Queues window) may close and be freed first; so each kind of background read
keeps its threads in a ``KeptThreads`` until they finish, and can wait for them before the database
closes.
"""
from __future__ import annotations

import shiboken6
from PySide6.QtCore import QThread


class KeptThreads:
    """The running threads of one kind of background read."""

    def __init__(self):
        self._threads: set[QThread] = set()
        _ALL.append(self)

    def add(self, thread: QThread) -> None:
        self._threads.add(thread)

    def discard(self, thread: QThread) -> None:
        self._threads.discard(thread)

    def __len__(self) -> int:
        return len(self._threads)

    def __iter__(self):
        return iter(list(self._threads))

    def wait(self, timeout_ms: int = 5000) -> None:
        """Let the running threads end (tests, and before the database closes)."""
        for thread in list(self._threads):
            if not shiboken6.isValid(thread):  # its C++ side is gone: nothing left to wait for
                self._threads.discard(thread)
                continue
            thread.wait(timeout_ms)


_ALL: list[KeptThreads] = []


def wait_for_all(timeout_ms: int = 5000) -> None:
    """Let every background read end: its connection closes with it, so the database file is left
    as the last connection leaves it (no -wal/-shm another user's read-only window trips on)."""
    for kept in _ALL:
        kept.wait(timeout_ms)
