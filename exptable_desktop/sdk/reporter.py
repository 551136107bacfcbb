"""The background writer: reports go into memory, one thread writes them in batches.

The calling thread only appends to a list (``scalars.extend((title, series,
iteration, value, time))``, no lock); the writer swaps the list for an empty
one and writes the whole batch in one transaction through
``core.recording.record_batch``, which also beats the heartbeat and returns
the experiment's status, so an Abort from the app is seen on the next flush.

A failed write never stops the recording:

* The database is locked, away or full (``is_transient``): the batch is kept
  and tried again at the next flush. Meanwhile ``recording.beat`` alone keeps
  the heartbeat going and reads the status, so an Abort still gets through.
* The database refuses some report (anything else): the batch is written kind
  by kind and a refused part is halved until the refused reports are found.
  Those are dropped, said once on stderr with the reason, and counted; every
  other report lands.
* The pending reports are bounded (``max_buffer_mb``, else
  ``EXPTABLE_MAX_BUFFER_MB``, else 64 MB). A reporting call that finds the
  buffer full waits for the writer; while the database is failing it drops the
  newest reports instead (counted), so a training loop never stalls on it.

What was lost is summed up by ``lost_summary()`` when the run ends.
"""
from __future__ import annotations

import atexit
import itertools
import os
import sys
import threading
import time
from collections import deque
from typing import Any, Callable

import numpy as np
from peewee import InterfaceError, OperationalError

from exptable_desktop.core import recording
from exptable_desktop.core import states as st
from exptable_desktop.store.db import first_line

FIELDS = 5  # title, series, iteration, value, timestamp: one scalar in the flat buffer
FLUSH_PERIOD_S = 1.0
# A flood of points is written early instead of piling up until the next period:
# at this many points, or at this fraction of the buffer's bound if that is fewer.
EARLY_FLUSH_POINTS = 250_000
EARLY_FLUSH_FRACTION = 4
POLL_S = 0.1
ENV_MAX_BUFFER_MB = "EXPTABLE_MAX_BUFFER_MB"
DEFAULT_MAX_BUFFER_MB = 64.0
# Memory one field of the flat buffer holds: its list slot plus its share of the
# int and float objects (measured: about 121 bytes a point).
FIELD_BYTES = 25
# A console line's tuple, a single value's, a plot's or a debug sample's dict, besides its text.
ITEM_BYTES = 200
# At the end, a database that is briefly full or locked gets a few more tries.
FINAL_ATTEMPTS = 3
FINAL_RETRY_S = 0.5
MAX_DROP_MESSAGES = 10
# Halving a refused batch costs a transaction per try; past this many failed tries in
# one flush, a refused part is dropped whole (pathological batches must not stall the writer).
MAX_FAILED_PARTS = 64
# The exit status of a script that ended normally but whose reports were not all recorded.
LOST_REPORTS_EXIT_CODE = 3

_KIND_NAMES = {"points": ("scalar point", "scalar points"), "lines": ("console line", "console lines"),
               "values": ("single value", "single values"), "plots": ("plot", "plots"),
               "samples": ("debug sample", "debug samples")}
_GONE = (recording.UnknownExperiment, recording.ReadOnlyError)
_SQLITE_TRANSIENT = ("locked", "busy", "disk is full", "disk i/o error", "unable to open database",
                     "readonly database")
# SQLSTATE classes: connection exception, insufficient resources (disk full, out of memory,
# too many connections), operator intervention (shutdown), system error (I/O).
_PG_TRANSIENT_CLASSES = ("08", "53", "57", "58")
_PG_TRANSIENT_CODES = ("40001", "40P01", "55P03")  # serialization failure, deadlock, lock not available


def is_transient(exc: BaseException) -> bool:
    """Whether the same write may succeed later: the database is locked, away or full,
    as opposed to refusing what was written."""
    # peewee 4 keeps the driver's error as ``orig``, peewee 3 as the first argument.
    original = getattr(exc, "orig", None)
    if not isinstance(original, BaseException):
        original = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    code = getattr(original, "pgcode", None) or getattr(exc, "pgcode", None)
    if code:
        return code.startswith(_PG_TRANSIENT_CLASSES) or code in _PG_TRANSIENT_CODES
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    if type(original).__module__.partition(".")[0] == "psycopg2":
        return True  # a driver error without SQLSTATE: the connection itself failed
    text = str(exc).lower()
    return any(marker in text for marker in _SQLITE_TRANSIENT)


def max_buffer_bytes(megabytes: float | str | None = None) -> int:
    """The bound on pending reports: the argument, else ``EXPTABLE_MAX_BUFFER_MB``, else 64 MB."""
    source = "max_buffer_mb"
    if megabytes is None:
        megabytes = os.environ.get(ENV_MAX_BUFFER_MB) or DEFAULT_MAX_BUFFER_MB
        source = ENV_MAX_BUFFER_MB
    try:
        value = float(megabytes)
    except (TypeError, ValueError):
        raise ValueError(f"{source}={megabytes!r} is not a number of megabytes") from None
    if not value > 0 or value == float("inf"):
        raise ValueError(f"{source}={megabytes!r}: the buffer needs a positive, finite size in megabytes")
    return int(value * 2**20)


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


# Sizes are estimates that never fail: they run in the reporting call, on whatever it was given.
def _text_bytes(value: Any) -> int:
    return len(value) if isinstance(value, str) else ITEM_BYTES


def _line_bytes(line: tuple) -> int:
    return ITEM_BYTES + _text_bytes(line[2])


def _value_bytes(item: tuple) -> int:
    return ITEM_BYTES + _text_bytes(item[0])


def _plot_bytes(plot: dict) -> int:
    return ITEM_BYTES + _text_bytes(plot.get("data"))


def _sample_bytes(sample: dict) -> int:
    return ITEM_BYTES + _text_bytes(sample.get("path"))


class _Queue(deque):
    """A report queue that tells its Reporter how much memory each report holds."""

    def __init__(self, reporter: "Reporter", size: Callable[[Any], int]):
        super().__init__()
        self._reporter = reporter
        self.size = size

    def append(self, item) -> None:
        super().append(item)
        self._reporter._queued(self.size(item))


class _Batch:
    """Reports taken from the buffers to be written together (or kept for a retry)."""

    __slots__ = ("flat", "lines", "values", "plots", "samples")

    def __init__(self, flat=None, lines=None, values=None, plots=None, samples=None):
        self.flat: list = flat or []
        self.lines: list = lines or []
        self.values: dict = values or {}
        self.plots: list = plots or []
        self.samples: list = samples or []

    def __bool__(self) -> bool:
        return bool(self.flat or self.lines or self.values or self.plots or self.samples)

    def extend(self, newer: "_Batch") -> None:
        self.flat += newer.flat
        self.lines += newer.lines
        self.values.update(newer.values)
        self.plots += newer.plots
        self.samples += newer.samples

    def counts(self) -> dict[str, int]:
        return {"points": len(self.flat) // FIELDS, "lines": len(self.lines), "values": len(self.values),
                "plots": len(self.plots), "samples": len(self.samples)}

    def nbytes(self) -> int:
        return (len(self.flat) * FIELD_BYTES + sum(map(_line_bytes, self.lines))
                + sum(map(_value_bytes, self.values.items())) + sum(map(_plot_bytes, self.plots))
                + sum(map(_sample_bytes, self.samples)))


class _StillPending(Exception):
    """A write hit a transient error part-way: ``items`` (in order) wait for the next flush."""

    def __init__(self, items: list, error: BaseException):
        super().__init__(str(error))
        self.items = items
        self.error = error


class Reporter:
    """One experiment's background writer (see the module docstring): reporting calls queue into it, its thread
    writes them in batches, retrying, dropping refused reports and bounding memory."""

    def __init__(self, experiment_id: str, *, flush_period: float = FLUSH_PERIOD_S,
                 on_abort: Callable[[str], None] | None = None, warn=None,
                 max_buffer_mb: float | None = None):
        self.experiment_id = experiment_id
        self.flush_period = flush_period
        self.max_bytes = max_buffer_bytes(max_buffer_mb)
        self.scalars: list = []
        self.console: deque = _Queue(self, _line_bytes)
        self.single_values: deque = _Queue(self, _value_bytes)
        self.plots: deque = _Queue(self, _plot_bytes)
        self.debug_samples: deque = _Queue(self, _sample_bytes)
        self.progress: int | None = None
        self._on_abort = on_abort
        self._warn = warn or (lambda text: sys.__stderr__.write(text + "\n"))
        # The list last swapped out: a thread that fetched it just before the swap
        # may still append one report to it; the next flush picks that up.
        self._previous: list = []
        self._take_lock = threading.Lock()
        self._retry = _Batch()
        self._flush_lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Memory accounting: what the queues hold, and what the writer holds (the batch
        # being written or kept for a retry). ``room`` is how long ``scalars`` may grow
        # before a reporting call must call ``make_room``: one len() per call.
        self._queued_bytes = 0
        self._held_bytes = 0
        self._bytes_lock = threading.Lock()
        self._room_freed = threading.Condition()
        # Batches stay a fraction of the bound: writing one holds about as much again
        # (arrays, packed chunks) on top of the reports themselves.
        self._early_flush_fields = min(EARLY_FLUSH_POINTS,
                                       self.max_bytes // FIELD_BYTES // FIELDS // EARLY_FLUSH_FRACTION) * FIELDS
        self.room = 0
        self._update_room()
        self.abort_seen = False
        self.gone_reason = ""
        self._failing = False  # warn once per outage, not once per flush
        self._failure = ""  # what the outage under way is
        self.gone = False  # the experiment was deleted or made read-only under us
        self.lost: dict[str, int] = {}
        self._lost_reasons: list[str] = []
        self._lost_lock = threading.Lock()  # reporting threads count drops too
        self._drop_messages = 0
        self.last_flush = 0.0
        self.periodic: list[tuple[float, Callable[[], None]]] = []  # (interval, fn), run by the writer

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="exptable-reporter", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the writer thread and write everything still buffered; what cannot be written is lost."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
        for attempt in range(FINAL_ATTEMPTS):
            if self._flush()[1] or self.gone:
                break
            if attempt < FINAL_ATTEMPTS - 1:
                time.sleep(FINAL_RETRY_S)
        else:
            with self._flush_lock:
                left, self._retry = self._retry, _Batch()
                self._count_lost(left.counts(), self._failure or "not written")
                self._set_held(0)

    def request_flush(self) -> None:
        self._wake.set()

    def pending_points(self) -> int:
        return len(self.scalars) // FIELDS

    # ---- the bound on memory -------------------------------------------------------

    def pending_bytes(self) -> int:
        return len(self.scalars) * FIELD_BYTES + self._queued_bytes + self._held_bytes

    def _free_fields(self) -> int:
        return max(0, (self.max_bytes - self._queued_bytes - self._held_bytes) // FIELD_BYTES)

    def _update_room(self) -> None:
        # Until the next batch is taken, the first report past the early-flush size
        # calls make_room, which wakes the writer at once instead of at its next poll.
        self.room = min(self._free_fields(), self._early_flush_fields)

    def _set_held(self, nbytes: int) -> None:
        with self._bytes_lock:
            self._held_bytes = nbytes
            self._update_room()
        with self._room_freed:
            self._room_freed.notify_all()

    def _queued(self, nbytes: int) -> None:
        with self._bytes_lock:
            self._queued_bytes += nbytes
            self._update_room()
        if self.pending_bytes() > self.max_bytes:
            self.make_room()

    def make_room(self) -> None:
        """Called by a reporting thread whose report took the buffer past ``room``.

        Under the bound, a batch is ready: the writer is woken. Over it, the call
        waits while the writer writes. While the database is failing, or once
        nothing writes any more, the newest reports are dropped and counted
        instead: the script is not held hostage by the database.
        """
        writer = self._thread
        if writer is None or writer is threading.current_thread() or self.pending_bytes() <= self.max_bytes:
            # Nothing drains the buffer yet, or the writer's own samplers report, or
            # only the early-flush size was passed: no more calls until the buffer is full.
            if writer is not None and not self._failing:
                self._wake.set()  # an outage is retried at the flush period, not at every batch
            self.room = self._free_fields()
            return
        while self.pending_bytes() > self.max_bytes:
            if self.gone:
                self._take_new()  # refused anyway: the experiment is no longer this run's
                return
            if self._failing or not writer.is_alive():
                self._count_lost(self._take_new().counts(),
                                 self._failure or "reported after the recording stopped")
                return
            self._wake.set()
            with self._room_freed:
                self._room_freed.wait(POLL_S)

    # ---- the writer thread ---------------------------------------------------------

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
            if woken or now >= next_flush or len(self.scalars) >= self._early_flush_fields:
                next_flush = now + self.flush_period
                result = self._flush()[0]
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
        current = self.scalars
        self.scalars = []
        stragglers = self._previous[:]
        batch = current[:]
        # Emptied rather than kept whole, which would hold the batch's points in memory
        # until the next flush: only stragglers appended from now on stay in it.
        del current[:len(batch)]
        self._previous = current
        return stragglers + batch if stragglers else batch

    def _drain(self, queue: _Queue) -> list:
        items = [queue.popleft() for _ in range(len(queue))]
        if items:
            with self._bytes_lock:
                self._queued_bytes = max(0, self._queued_bytes - sum(map(queue.size, items)))
                self._update_room()
        return items

    def _take_new(self) -> _Batch:
        """Everything buffered since the last take. The writer takes, and so does a reporting
        thread dropping the newest reports during an outage: one at a time."""
        with self._take_lock:
            return _Batch(self._take_scalars(), self._drain(self.console), dict(self._drain(self.single_values)),
                          self._drain(self.plots), self._drain(self.debug_samples))

    def flush(self) -> dict | None:
        """Write everything buffered; returns the experiment's status row, or None when
        reports wait for a retry (the database is away) or the experiment is gone."""
        result, complete = self._flush()
        return result if complete else None

    def _flush(self) -> tuple[dict | None, bool]:
        """(the status row, or None when even the heartbeat failed; whether nothing is left for a retry)."""
        if self.gone:
            return None, True
        with self._flush_lock:
            batch, self._retry = self._retry, _Batch()
            if batch:
                batch.extend(self._take_new())
            else:
                batch = self._take_new()  # no copy of a big batch's lists
            progress, self.progress = self.progress, None
            self._set_held(batch.nbytes())
            try:
                result, left = self._write(batch, progress)
            except BaseException:
                self._retry = batch  # an interrupt (Abort, Ctrl-C) must not lose the batch
                raise
            self._retry = left
            self._set_held(left.nbytes() if left else 0)
            if not left and not self._failing:
                self.last_flush = time.time()
            return result, not left

    def _write(self, batch: _Batch, progress: int | None) -> tuple[dict | None, _Batch]:
        try:
            result = recording.record_batch(
                self.experiment_id, scalars=group_scalars(batch.flat) or None, console=batch.lines or None,
                single_values=batch.values or None, plots=batch.plots or None,
                debug_samples=batch.samples or None, progress=progress, live=True)
        except _GONE as exc:
            self._go(exc)
            return None, _Batch()
        except Exception as exc:
            if is_transient(exc):
                self._outage(exc)
                return self._beat(progress), batch
            try:
                left = self._write_parts(batch)
            except _GONE as gone:
                self._go(gone)
                return None, _Batch()
            if not left:
                self._recovered()
            return self._beat(progress), left
        self._recovered()
        return result, _Batch()

    def _beat(self, progress: int | None) -> dict | None:
        try:
            return recording.beat(self.experiment_id, progress=progress)
        except _GONE as exc:
            self._go(exc)
        except Exception:
            if progress is not None and self.progress is None:
                self.progress = progress
        return None

    def _write_parts(self, batch: _Batch) -> _Batch:
        """Write ``batch`` kind by kind, dropping the reports the database refuses; returns what waits for a retry."""
        experiment_id = self.experiment_id
        budget = [MAX_FAILED_PARTS]

        def write(**reports) -> None:
            recording.record_batch(experiment_id, heartbeat=False, live=True, **reports)

        kinds = [
            ("points", list(zip(*[iter(batch.flat)] * FIELDS)),
             lambda part: write(scalars=group_scalars(list(itertools.chain.from_iterable(part))))),
            ("lines", batch.lines, lambda part: write(console=part)),
            ("values", list(batch.values.items()), lambda part: write(single_values=dict(part))),
            ("plots", batch.plots, lambda part: write(plots=part)),
            ("samples", batch.samples, lambda part: write(debug_samples=part)),
        ]
        left: dict[str, list] = {}
        for index, (kind, items, write_part) in enumerate(kinds):
            try:
                self._write_dropping(kind, items, write_part, budget)
            except _StillPending as pending:
                self._outage(pending.error)
                left[kind] = pending.items
                left.update((later, later_items) for later, later_items, _ in kinds[index + 1:])
                break
        return _Batch(list(itertools.chain.from_iterable(left.get("points", ()))), left.get("lines"),
                      dict(left.get("values", ())), left.get("plots"), left.get("samples"))

    def _write_dropping(self, kind: str, items: list, write_part: Callable[[list], None], budget: list) -> None:
        parts = [items] if items else []
        while parts:
            part = parts.pop()
            try:
                write_part(part)
            except _GONE:
                raise
            except Exception as exc:
                if is_transient(exc):
                    raise _StillPending(part + [item for rest in reversed(parts) for item in rest], exc) from exc
                budget[0] -= 1
                if len(part) == 1 or budget[0] <= 0:
                    self._drop(kind, part, exc)
                else:
                    half = len(part) // 2
                    parts.append(part[half:])
                    parts.append(part[:half])

    # ---- what went wrong -------------------------------------------------------------

    def _go(self, exc: BaseException) -> None:
        self.gone = True
        self.gone_reason = str(exc)
        self._warn(f"exptable: stopped recording: {exc}")
        self._retry = _Batch()

    def _outage(self, exc: BaseException) -> None:
        if not self._failing:
            self._warn(f"exptable: could not write results yet, will retry: {type(exc).__name__}: {first_line(exc)}")
        self._failing = True
        self._failure = first_line(exc)

    def _recovered(self) -> None:
        if self._failing:
            self._warn("exptable: writing results again")
            self._failing = False

    def _drop(self, kind: str, items: list, exc: BaseException) -> None:
        reason = f"{type(exc).__name__}: {first_line(exc)}"
        self._count_lost({kind: len(items)}, reason)
        self._drop_messages += 1
        if self._drop_messages <= MAX_DROP_MESSAGES:
            self._warn(f"exptable: dropped {_count_text(kind, len(items))} the database refuses "
                       f"({_describe(kind, items[0])}): {reason}")
        if self._drop_messages == MAX_DROP_MESSAGES:
            self._warn("exptable: further refused reports are dropped without a message; "
                       "the count is given when the run ends")

    def _count_lost(self, counts: dict[str, int], reason: str) -> None:
        if not any(counts.values()):
            return
        with self._lost_lock:
            for kind, count in counts.items():
                if count:
                    self.lost[kind] = self.lost.get(kind, 0) + count
            if reason not in self._lost_reasons and len(self._lost_reasons) < 3:
                self._lost_reasons.append(reason)

    def lost_summary(self) -> str:
        """E.g. "1,200 scalar points and 3 console lines could not be recorded (database or disk is full)", or ""."""
        parts = [_count_text(kind, self.lost[kind]) for kind in _KIND_NAMES if self.lost.get(kind)]
        if not parts:
            return ""
        listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
        return f"{listed} could not be recorded ({'; '.join(self._lost_reasons)})"


def _count_text(kind: str, count: int) -> str:
    singular, plural = _KIND_NAMES[kind]
    return f"{count:,} {singular if count == 1 else plural}"


def _describe(kind: str, item: Any) -> str:
    """Which report was refused, in a few words: enough to find it in the script."""
    def short(value: Any) -> str:
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "..."
    if kind == "points":
        return f"{short(item[0])} / {short(item[1])} at iteration {short(item[2])}"
    if kind == "lines":
        return short(item[2])
    if kind == "values":
        return short(item[0])
    return f"{short(item.get('metric'))} / {short(item.get('variant'))}"


# Python gives exit handlers no say over the exit status, so a script that ended
# normally but lost reports is ended here, with LOST_REPORTS_EXIT_CODE. Registered
# when the SDK is imported, so it runs after the Task's own exit handler and after
# those of every library imported later; logging is shut down first, as Python would.
_exit_with_lost_reports = False


def exit_nonzero_at_shutdown() -> None:
    """Make the process end with ``LOST_REPORTS_EXIT_CODE`` instead of 0."""
    global _exit_with_lost_reports
    _exit_with_lost_reports = True


def _end_process_if_reports_were_lost() -> None:
    if not _exit_with_lost_reports:
        return
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass
    os._exit(LOST_REPORTS_EXIT_CODE)


atexit.register(_end_process_if_reports_were_lost)
