"""A process taking over an existing experiment (the SDK under ``EXPTABLE_TASK_ID``).

Exactly one process may run an experiment: the claim is one conditional
UPDATE, so when two processes attach at the same moment (on one SQLite file or
through one PostgreSQL server) one of them wins and the other is told who has it.
"""
from __future__ import annotations

import json
import math
import time

from exptable_desktop.core import states as st
from exptable_desktop.core.liveness import last_sign_of_life, live_worker_names_it, stale_after
from exptable_desktop.core.recording import UnknownExperiment
from exptable_desktop.store.db import run_write
from exptable_desktop.store.schema import Experiment, QueueEntry, Worker

# Set by an agent for the script it launches: the agent's worker name (see attach_run).
ENV_WORKER = "EXPTABLE_WORKER"


class AttachError(RuntimeError):
    """The experiment cannot be taken over; the text is one line."""


def _claimable(cutoff: float, worker: str | None):
    waiting = (Experiment.status == st.PENDING) & (Experiment.archived == False)  # noqa: E712  (SQL)
    silent = ((Experiment.status == st.RUNNING)
              & (last_sign_of_life() < cutoff) & ~live_worker_names_it(cutoff, except_worker=worker))
    condition = waiting | silent
    if worker:
        # Nothing has beaten since it became Running: set_status stamps both with one time,
        # and the claim below moves the heartbeat past it, so only one script gets in.
        launched = ((Experiment.status == st.RUNNING) & (Experiment.worker == worker)
                    & (Experiment.heartbeat.is_null() | (Experiment.heartbeat <= Experiment.status_changed)))
        condition |= launched
    return condition


def attach_run(experiment_id: str, *, pid: int, host: str, worker: str | None = None,
               now: float | None = None) -> str:
    """Claim ``experiment_id`` for the calling process; returns the status it had.

    The claim succeeds when the experiment is

    - Pending (and not archived): it becomes Running, started now;
    - Running, set Running by the agent named ``worker`` (the agent passes its
      worker name to the script in ``EXPTABLE_WORKER``), and not yet claimed: no
      heartbeat since it became Running (``heartbeat`` NULL, or not after
      ``status_changed``, as ``recording.set_status`` leaves it). The claim beats
      the heartbeat, so a second script of that agent is refused. An agent must
      therefore not beat the experiment's heartbeat itself (``record_batch(...,
      heartbeat=False)``); its own sign of life is its Worker row's ``last_seen``,
      which also keeps the experiment from being taken as dead before the script
      attaches, as long as ``current_experiment`` names it;
    - Running but silent for ``liveness.stale_after()`` seconds, with no other
      live worker naming it: its process died, and this one carries on with it.

    Anything else raises :class:`AttachError`: a Draft, Completed, Aborted,
    Failed or Published experiment is not run again by attaching (enqueue it),
    and a Running one with a live process belongs to that process. A claimed
    experiment leaves its queue, gets ``worker`` if one is given, and records
    ``host`` and ``pid`` in its runtime facts, so Abort can tell when the
    process is gone.
    """
    worker = (worker or "").strip() or None

    def work() -> str:
        at = time.time() if now is None else now
        cutoff = at - stale_after()
        exp = Experiment.select(Experiment.id, Experiment.status, Experiment.runtime).where(
            Experiment.id == experiment_id).first()
        if exp is None:
            raise UnknownExperiment(experiment_id)
        # Strictly after status_changed: that is what tells a claimed run from one just launched.
        changes = {"status": st.RUNNING, "heartbeat": math.nextafter(at, math.inf), "last_update": at,
                   "completed": None, "status_message": ""}
        if exp.status == st.PENDING:
            changes.update(started=at, status_changed=at, run_time=None)
        if worker:
            changes["worker"] = worker
        claimed = (Experiment.update(**changes)
                   .where((Experiment.id == experiment_id) & _claimable(cutoff, worker)).execute())
        if not claimed:
            raise AttachError(_refusal(experiment_id, at, worker))
        runtime = _merged_runtime(exp.runtime, {"host": host, "pid": int(pid)})
        Experiment.update(runtime=runtime).where(Experiment.id == experiment_id).execute()
        QueueEntry.delete().where(QueueEntry.experiment == experiment_id).execute()
        return exp.status
    return run_write(work)


def _merged_runtime(text: str | None, facts: dict) -> str:
    try:
        merged = json.loads(text or "{}")
    except ValueError:
        merged = {}
    if not isinstance(merged, dict):
        merged = {}
    merged.update(facts)
    return json.dumps(merged)


def _refusal(experiment_id: str, now: float, worker: str | None) -> str:
    exp = Experiment.get(Experiment.id == experiment_id)
    label = st.status_label(exp.status)
    if exp.status == st.PENDING and exp.archived:
        return f"experiment {experiment_id} is archived; restore it first"
    if exp.status != st.RUNNING:
        return (f"experiment {experiment_id} is {label}; only a Pending or Running experiment can be "
                "attached to (enqueue it to run it again)")
    owner = Worker.select(Worker.name).where(
        (Worker.current_experiment == experiment_id) & (Worker.last_seen >= now - stale_after())
        & (Worker.status != "stopped")).scalar()
    if owner and owner != worker:
        return f"experiment {experiment_id} is being run by worker {owner!r}"
    try:
        facts = json.loads(exp.runtime or "{}")
    except ValueError:
        facts = {}
    details = []
    if isinstance(facts, dict) and facts.get("pid"):
        details.append(f"pid {facts['pid']} on {facts.get('host') or 'an unknown host'}")
    if exp.heartbeat is not None:
        details.append(f"last heartbeat {max(0.0, now - exp.heartbeat):.0f} s ago")
    where = f" ({', '.join(details)})" if details else ""
    return f"experiment {experiment_id} is already Running in another process{where}"
