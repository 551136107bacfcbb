"""The background writer: reports go into memory, one thread writes them in batches.

The calling thread only appends to a list (``scalars.extend((title, series,
iteration, value, time))``, no lock); the writer swaps the list for an empty
one and writes the whole batch in one transaction through
``core.recording.record_batch``, which also beats the heartbeat and returns
the experiment's status, so an Abort from the app is seen on the next flush.
"""
from __future__ import annotations

import sys
import threading
import time
from collections import deque
from typing import Any, Callable

import numpy as np

from exptable_desktop.core import recording
from exptable_desktop.core import states as st

FIELDS = 5  # title, series, iteration, value, timestamp: one scalar in the flat buffer
FLUSH_PERIOD_S = 1.0
# A flood of points is written early instead of piling up until the next period.
EARLY_FLUSH_POINTS = 250_000
POLL_S = 0.1


class _KeyIndex(dict):
    """Numbers (title, series) pairs in order of first appearance, from C-level ``map``."""

    def __missing__(self, key):
        index = self[key] = len(self)
        return index


def group_scalars(flat: list) -> dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The flat buffer as ``{(title, series): (iterations, values, timestamps)}``, order kept per series."""
    count = len(flat) // FIELDS
    if not count:
        return {}
    iterations = np.array(flat[2::FIELDS], dtype=np.int64)
    values = np.array(flat[3::FIELDS], dtype=np.float64)
    stamps = np.array(flat[4::FIELDS], dtype=np.float64)
    keys = _KeyIndex()
    codes = np.fromiter(map(keys.__getitem__, zip(flat[0::FIELDS], flat[1::FIELDS])), np.int64, count)
    if len(keys) == 1:
        return {next(iter(keys)): (iterations, values, stamps)}
    order = np.argsort(codes, kind="stable")
    bounds = np.concatenate([[0], np.cumsum(np.bincount(codes, minlength=len(keys)))])
    iterations, values, stamps = iterations[order], values[order], stamps[order]
    return {key: (iterations[bounds[i]:bounds[i + 1]], values[bounds[i]:bounds[i + 1]],
                  stamps[bounds[i]:bounds[i + 1]]) for key, i in keys.items()}


class Reporter:
    def __init__(self, experiment_id: str, *, flush_period: float = FLUSH_PERIOD_S,
                 on_abort: Callable[[str], None] | None = None, warn=None):
        self.experiment_id = experiment_id
        self.flush_period = flush_period
        self.scalars: list = []
        self.console: deque = deque()
        self.single_values: deque = deque()
        self.plots: deque = deque()
        self.debug_samples: deque = deque()
        self.progress: int | None = None
        self._on_abort = on_abort
        self._warn = warn or (lambda text: sys.__stderr__.write(text + "\n"))
        # The list last swapped out: a thread that fetched it just before the swap
        # may still append one report to it; the next flush picks that up.
        self._previous: list = []
        self._previous_taken = 0
        self._retry: dict[str, Any] = {}
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.abort_seen = False
        self.gone_reason = ""
        self._failing = False  # warn once per outage, not once per flush
        self.gone = False  # the experiment was deleted or made read-only under us
        self.last_flush = 0.0
        self.periodic: list[tuple[float, Callable[[], None]]] = []  # (interval, fn), run by the writer

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="exptable-reporter", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the writer thread and write everything still buffered."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        self.flush()

    def request_flush(self) -> None:
        self._wake.set()

    def pending_points(self) -> int:
        return len(self.scalars) // FIELDS

    def _run(self) -> None:
        next_flush = time.monotonic() + self.flush_period
        next_periodic = [time.monotonic() + interval for interval, _ in self.periodic]
        while not self._stop.is_set():
            self._wake.wait(POLL_S)
            woken = self._wake.is_set()
            self._wake.clear()
            if self._stop.is_set():
                break
            now = time.monotonic()
            for i, (interval, fn) in enumerate(self.periodic):
                if now >= next_periodic[i]:
                    next_periodic[i] = now + interval
                    try:
                        fn()
                    except Exception as exc:  # a sampling hiccup must not stop the writer
                        self._warn(f"exptable: {type(exc).__name__}: {exc}")
            if woken or now >= next_flush or len(self.scalars) >= EARLY_FLUSH_POINTS * FIELDS:
                next_flush = now + self.flush_period
                result = self.flush()
                if result is not None and self._aborted(result):
                    self.abort_seen = True
                    if self._on_abort is not None:
                        self._on_abort(result.get("status_message") or "aborted")
                    return
                if self.gone:
                    # Deleted, reset or re-queued from the app: this run has no
                    # experiment to report to any more, so it stops like an abort.
                    if self._on_abort is not None:
                        self._on_abort(self.gone_reason)
                    return

    @staticmethod
    def _aborted(result: dict) -> bool:
        return result["status"] != st.RUNNING or result.get("status_message") == "stopping"

    def _take_scalars(self) -> list:
        previous, taken = self._previous, self._previous_taken
        current = self.scalars
        self.scalars = []
        stragglers = previous[taken:] if len(previous) > taken else []
        batch = current[:]
        self._previous, self._previous_taken = current, len(batch)
        return stragglers + batch if stragglers else batch

    @staticmethod
    def _drain(queue: deque) -> list:
        return [queue.popleft() for _ in range(len(queue))]

    def flush(self) -> dict | None:
        """Write everything buffered in one transaction; returns the experiment's status row."""
        if self.gone:
            return None
        with self._flush_lock:
            retry, self._retry = self._retry, {}
            flat = retry.get("flat", []) + self._take_scalars()
            console = retry.get("console", []) + self._drain(self.console)
            singles = dict(retry.get("single_values", {}))
            singles.update(self._drain(self.single_values))
            plots = retry.get("plots", []) + self._drain(self.plots)
            samples = retry.get("debug_samples", []) + self._drain(self.debug_samples)
            progress, self.progress = self.progress, None
            try:
                result = recording.record_batch(
                    self.experiment_id, scalars=group_scalars(flat) or None, console=console or None,
                    single_values=singles or None, plots=plots or None, debug_samples=samples or None,
                    progress=progress, live=True)
            except (recording.UnknownExperiment, recording.ReadOnlyError) as exc:
                self.gone = True
                self.gone_reason = str(exc)
                self._warn(f"exptable: stopped recording: {exc}")
                return None
            except Exception as exc:
                # Keep the batch; the next flush tries again (the database may be busy or away).
                self._retry = {"flat": flat, "console": console, "single_values": singles, "plots": plots,
                               "debug_samples": samples}
                if progress is not None and self.progress is None:
                    self.progress = progress
                if not self._failing:
                    self._warn(f"exptable: could not write results yet, will retry: {type(exc).__name__}: {exc}")
                self._failing = True
                return None
            if self._failing:
                self._warn("exptable: writing results again")
                self._failing = False
            self.last_flush = time.time()
            return result
