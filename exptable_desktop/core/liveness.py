"""Whether a Running experiment still has a process behind it, and ending those that do not.

A running script proves it is alive by beating the ``heartbeat`` column: the
SDK's background writer beats on every flush (once a second, well inside
:data:`HEARTBEAT_INTERVAL_S`). An agent proves it is alive by its ``Worker``
row's ``last_seen``, and covers the experiment its ``current_experiment`` names
while the script it launched has not beaten yet. A process killed without a
word (``kill -9``, power loss, the OOM killer) stops beating; every program that
reads the table (the app's refresh, ``exptable ls`` and ``show``) then calls
:func:`mark_stale_runs`, which ends such a run Aborted.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
from datetime import datetime
from typing import Iterable, Sequence

from peewee import Case, OperationalError, fn

from exptable_desktop.core import states as st
from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.db import is_read_only, run_write
from exptable_desktop.store.schema import Experiment, QueueEntry, Worker, database_proxy

# How often a live run (or agent) promises to show a sign of life at the latest.
HEARTBEAT_INTERVAL_S = 5.0
# Silent for this many intervals in a row: the process is taken as dead.
MISSED_HEARTBEATS = 3
# Overrides the interval (seconds), for tests and for sites whose clocks or
# networks need more slack; every program reading one database should agree.
ENV_HEARTBEAT_INTERVAL = "EXPTABLE_HEARTBEAT_INTERVAL"
# The SDK beats once a second; a shorter interval would declare live runs dead.
MIN_HEARTBEAT_INTERVAL_S = 1.0
STALE_REASON = "Forced stop (no heartbeat)"
# What Abort leaves on a run it asked to stop (see core.actions); the SDK sees it and ends itself.
STOPPING_MESSAGE = "stopping"


def heartbeat_interval() -> float:
    """Seconds between two signs of life of a live run at most (:data:`ENV_HEARTBEAT_INTERVAL`, else 5)."""
    raw = os.environ.get(ENV_HEARTBEAT_INTERVAL, "").strip()
    if not raw:
        return HEARTBEAT_INTERVAL_S
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{ENV_HEARTBEAT_INTERVAL}={raw!r} is not a number of seconds") from None
    if not value >= MIN_HEARTBEAT_INTERVAL_S:  # also refuses nan
        raise ValueError(f"{ENV_HEARTBEAT_INTERVAL}={raw!r}: the interval must be at least "
                         f"{MIN_HEARTBEAT_INTERVAL_S:g} s")
    return value


def stale_after() -> float:
    """Seconds of silence after which a run is taken as dead (15 s by default)."""
    return MISSED_HEARTBEATS * heartbeat_interval()


# ---- Who is alive ----------------------------------------------------------------------

def last_sign_of_life():
    """SQL: when the run last showed it was alive."""
    # A run never beaten (older versions, a status set by hand) is judged by its last change.
    return fn.COALESCE(Experiment.heartbeat, Experiment.last_update)


def live_worker_names_it(cutoff: float, except_worker: str | None = None):
    """SQL: a worker seen since ``cutoff`` says it is running this experiment."""
    LiveWorker = Worker.alias("live_worker")
    condition = ((LiveWorker.current_experiment == Experiment.id) & (LiveWorker.last_seen >= cutoff)
                 & (LiveWorker.status != "stopped"))
    if except_worker:
        condition &= LiveWorker.name != except_worker
    return fn.EXISTS(LiveWorker.select(LiveWorker.name).where(condition))


def _stale_condition(cutoff: float):
    return ((Experiment.status == st.RUNNING) & (last_sign_of_life() < cutoff)
            & ~live_worker_names_it(cutoff))


def runs_with_live_worker(exp_ids: Sequence[str], now: float | None = None) -> set[str]:
    """Those of ``exp_ids`` that a live worker names as the one it is running."""
    now = time.time() if now is None else now
    cutoff = now - stale_after()
    found: set[str] = set()
    for chunk in chunked(exp_ids):
        found.update(e for (e,) in Worker.select(Worker.current_experiment).where(
            Worker.current_experiment.in_(chunk) & (Worker.last_seen >= cutoff) & (Worker.status != "stopped"))
            .tuples())
    return found


def this_host() -> str:
    return socket.gethostname()


def process_is_gone(pid: int) -> bool:
    """True only when this machine certainly runs no process ``pid`` (or only its zombie)."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True
        except Exception:
            return False
    if os.name != "posix":
        return False  # os.kill would end the process there, not probe it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists, owned by someone else
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return False


def processes_gone(exp_ids: Sequence[str]) -> set[str]:
    """Those of ``exp_ids`` whose recorded process ran on this machine and has ended.

    The SDK records ``host`` and ``pid`` in the run's ``runtime`` when it starts
    or attaches; a run elsewhere cannot be checked, so it is never reported gone.
    """
    host = this_host()
    gone: set[str] = set()
    for chunk in chunked(exp_ids):
        for exp_id, runtime in Experiment.select(Experiment.id, Experiment.runtime).where(
                Experiment.id.in_(chunk)).tuples():
            try:
                facts = json.loads(runtime or "{}")
                pid = int(facts.get("pid"))
            except (ValueError, TypeError, AttributeError):
                continue
            if facts.get("host") == host and pid > 0 and process_is_gone(pid):
                gone.add(exp_id)
    return gone


def alive_runs(exps: Iterable, now: float) -> set[str]:
    """Ids of the Running rows in ``exps`` (with ``id``, ``status``, ``heartbeat``) that
    something still runs: a recent heartbeat from a process not known to be gone, or a
    live worker that names the experiment."""
    running = [e for e in exps if e.status == st.RUNNING]
    if not running:
        return set()
    cutoff = now - stale_after()
    beating = [e.id for e in running if e.heartbeat is not None and e.heartbeat >= cutoff]
    alive = set(beating) - processes_gone(beating)
    return alive | runs_with_live_worker([e.id for e in running], now)


# ---- Ending dead runs ------------------------------------------------------------------

def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def _is_read_only_error(exc: BaseException) -> bool:
    text = str(exc).lower()
    return any(word in text for word in ("readonly", "read-only", "read only", "permission denied"))


def mark_stale_runs(now: float | None = None) -> list[str]:
    """End every Running experiment silent for :func:`stale_after` seconds; returns the ids
    this call ended.

    Each becomes Aborted with the message "no heartbeat since <time of its last
    sign of life>" and reason :data:`STALE_REASON` (a run Abort had asked to stop
    keeps that request's reason, it is why it ended, and the message "aborted").
    Its end time is its last sign of life, not the moment it was noticed.

    Reading first costs one indexed query and takes no write lock, so every
    reader can call this often. The UPDATE repeats the whole condition: when
    several programs notice the same run at once (several clients of one
    PostgreSQL server), the first ends it and the others change nothing. A
    database that cannot be written is left as it is.
    """
    if is_read_only():
        return []
    now = time.time() if now is None else now
    cutoff = now - stale_after()
    candidates = [e for (e,) in Experiment.select(Experiment.id).where(_stale_condition(cutoff)).tuples()]
    if not candidates:
        return []
    waited_since = time.monotonic()

    def work() -> list[str]:
        if time.monotonic() - waited_since > heartbeat_interval():
            # Everyone waited on the write lock as long as this call did, live scripts
            # too, so their silence may be the lock's doing: judge again next time.
            return []
        ended: list[str] = []
        db = database_proxy.obj
        set_message, _ = Experiment.update(status_message="").where(Experiment.id == "").sql()
        asked_to_stop = Experiment.status_message == STOPPING_MESSAGE
        # Never before it started (the clocks of different machines disagree).
        last_sign = Case(None, [(Experiment.started > last_sign_of_life(), Experiment.started)],
                         last_sign_of_life())
        for chunk in chunked(candidates):
            (Experiment.update(status=st.ABORTED, status_changed=now, last_update=now, completed=last_sign,
                               run_time=last_sign - Experiment.started,
                               # A run Abort had asked to stop ends for that request's reason.
                               status_reason=Case(None, [(asked_to_stop, Experiment.status_reason)], STALE_REASON),
                               status_message=Case(None, [(asked_to_stop, "aborted")], ""))
             .where(Experiment.id.in_(chunk) & _stale_condition(cutoff)).execute())
            # Which of them this call ended: another program may have ended some first.
            mine = list(Experiment.select(Experiment.id, Experiment.completed, Experiment.status_message).where(
                Experiment.id.in_(chunk) & (Experiment.status == st.ABORTED)
                & (Experiment.status_changed == now)).tuples())
            if not mine:
                continue
            # One small statement per run: each message names its own time.
            for exp_id, completed, message in mine:
                if not message:
                    db.execute_sql(set_message, (f"no heartbeat since {_when(completed)}", exp_id))
            ids = [exp_id for exp_id, _, _ in mine]
            QueueEntry.delete().where(QueueEntry.experiment.in_(ids)).execute()
            ended.extend(ids)
        return ended

    try:
        return run_write(work)
    except Exception as exc:
        if _is_read_only_error(exc):
            return []
        raise


_throttle_lock = threading.Lock()
_last_check: dict[int, float] = {}


def mark_stale_runs_if_due() -> list[str]:
    """:func:`mark_stale_runs` at most once per heartbeat interval per database in this
    process (the table calls it on every refresh tick)."""
    key = id(database_proxy.obj)
    now = time.monotonic()
    with _throttle_lock:
        if now - _last_check.get(key, float("-inf")) < heartbeat_interval():
            return []
        _last_check[key] = now
    try:
        return mark_stale_runs()
    except OperationalError:
        # The database is busy or away; the next check tries again.
        return []
