"""The experiment's console as the agent records it: its own messages, set-up logs and the script's output."""
from __future__ import annotations

import codecs
import os
import sys
import threading
import time
from collections import deque
from typing import IO

from exptable_desktop.core import recording
from exptable_desktop.sdk.reporter import is_transient

MAX_PARTIAL = 64 * 1024  # a line this long without a newline is recorded in pieces
MAX_LINE = 16 * 1024  # longer lines are cut: one runaway print must not make a huge row


class LineSplitter:
    """Bytes in, complete lines out. ``\\r`` rewrites the line (progress bars): the last state is kept."""

    def __init__(self):
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._partial = ""

    def feed(self, data: bytes) -> list[str]:
        text = self._partial + self._decoder.decode(data)
        *lines, self._partial = text.split("\n")
        if len(self._partial) > MAX_PARTIAL:
            lines.append(self._partial)
            self._partial = ""
        return [self._clean(line) for line in lines]

    def close(self) -> list[str]:
        rest = self._partial + self._decoder.decode(b"", final=True)
        self._partial = ""
        return [self._clean(rest)] if rest else []

    @staticmethod
    def _clean(line: str) -> str:
        line = line.rstrip("\r")
        if "\r" in line:
            line = line.rsplit("\r", 1)[1]
        return line if len(line) <= MAX_LINE else line[:MAX_LINE] + " …[cut]"


class ConsoleSink:
    """Lines waiting to be written to one experiment's console; ``flush`` writes them in one transaction.

    ``echo`` also prints them (the agent's ``--verbose``).
    """

    def __init__(self, experiment_id: str, *, echo: IO[str] | None = None):
        self.experiment_id = experiment_id
        self._lines: deque = deque()
        self._echo = echo
        self.last_error_lines: deque[str] = deque(maxlen=20)
        self.dropped = 0
        self._lock = threading.Lock()

    def add(self, text: str, level: str = "info") -> None:
        stamp = time.time()
        # A NUL or a lone surrogate in a child's output would be refused by the
        # database on every flush; storing it visibly keeps the console moving.
        for line in recording.storable_text(text).split("\n"):
            self._lines.append((stamp, level, line))
            if level == "error" and line.strip():
                self.last_error_lines.append(line.strip())
            if self._echo is not None:
                try:
                    self._echo.write(line + "\n")
                    self._echo.flush()
                except (OSError, ValueError):
                    pass

    def agent(self, text: str) -> None:
        """A message of the agent's own (what it is doing, and why it stopped)."""
        self.add(f"[agent] {text}", "info")

    def pending(self) -> int:
        return len(self._lines)

    def flush(self) -> dict | None:
        """Write what is waiting; returns the experiment's status row (None when nothing was written).

        Raises ``recording.UnknownExperiment`` / ``ReadOnlyError`` when the
        experiment was deleted, reset or re-queued under the run.
        """
        with self._lock:
            lines = [self._lines.popleft() for _ in range(len(self._lines))]
            if not lines:
                return None
            try:
                # heartbeat=False: see core.queues.worker_heartbeat for why the agent never beats it.
                return recording.record_batch(self.experiment_id, console=lines, heartbeat=False, live=True)
            except (recording.UnknownExperiment, recording.ReadOnlyError):
                raise
            except Exception as exc:
                if not is_transient(exc):
                    # Retrying what the database refuses would block every later line.
                    self.dropped += len(lines)
                    print(f"exptable agent: dropped {len(lines)} console lines the database refused: "
                          f"{type(exc).__name__}: {exc}", file=sys.stderr)
                    return None
                for line in reversed(lines):  # the database is busy or away: keep them for the next flush
                    self._lines.appendleft(line)
                print(f"exptable agent: could not write the console yet: {type(exc).__name__}: {exc}",
                      file=sys.stderr)
                return None


def pump(stream: IO[bytes], level: str, sink: ConsoleSink) -> threading.Thread:
    """A thread copying a pipe into the sink line by line until the pipe closes."""
    def run():
        splitter = LineSplitter()
        fd = stream.fileno()
        while True:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            for line in splitter.feed(data):
                sink.add(line, level)
        for line in splitter.close():
            sink.add(line, level)
    thread = threading.Thread(target=run, name=f"exptable-agent-{level}", daemon=True)
    thread.start()
    return thread
