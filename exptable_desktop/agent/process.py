"""Running one command for an experiment: output into its console, stopped on request.

Stopping escalates as the reference agent does: SIGINT (the script unwinds,
its SDK records Aborted), then SIGTERM, then SIGKILL, each after ``grace``
seconds. The command runs in its own process group, so whatever it started
is stopped with it.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from typing import Callable, Sequence

from exptable_desktop.agent.console import ConsoleSink, pump

CHECK_EVERY_S = 0.5  # console flush and abort check: an Abort is seen within this (plus one write)
DEFAULT_GRACE_S = 3.0


@dataclass
class StopRequest:
    """Why a running experiment's process is being stopped, and whether anything more may be recorded on it."""
    reason: str
    gone: bool = False  # the experiment was deleted, reset or re-queued: nothing more to record on it
    by_agent: bool = False  # the agent is shutting down (not an Abort of the experiment)


class SetupStopped(Exception):
    """Raised out of a set-up step (clone, install) when the run was asked to stop."""

    def __init__(self, request: StopRequest):
        super().__init__(request.reason)
        self.request = request


@dataclass
class Outcome:
    """How an experiment's process ended: its exit code, the stop that ended it, or why it could not start."""
    returncode: int | None
    stop: StopRequest | None = None
    start_error: str | None = None


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        if os.name == "posix":
            os.killpg(proc.pid, sig)
        elif sig == getattr(signal, "SIGINT", None):
            proc.send_signal(signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
        elif sig == getattr(signal, "SIGKILL", None):
            proc.kill()
        else:
            proc.terminate()
    except (ProcessLookupError, PermissionError, OSError):
        pass


def run_streaming(argv: Sequence[str], *, cwd: str, env: dict, sink: ConsoleSink,
                  should_stop: Callable[[], StopRequest | None], grace: float = DEFAULT_GRACE_S,
                  on_start: Callable[[subprocess.Popen], None] | None = None) -> Outcome:
    """Run ``argv`` to its end (or until ``should_stop`` asks), its stdout/stderr going to ``sink``."""
    creation = {"start_new_session": True} if os.name == "posix" else {
        "creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    try:
        proc = subprocess.Popen(list(argv), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, **creation)
    except OSError as exc:
        return Outcome(None, start_error=f"could not start {argv[0]}: {exc.strerror or exc}")
    if on_start is not None:
        on_start(proc)
    readers = [pump(proc.stdout, "info", sink), pump(proc.stderr, "error", sink)]
    stop: StopRequest | None = None
    escalation = [getattr(signal, "SIGTERM", None), getattr(signal, "SIGKILL", None)]
    next_check = time.monotonic() + CHECK_EVERY_S
    next_signal_at = 0.0
    while proc.poll() is None:
        now = time.monotonic()
        if now >= next_check:
            next_check = now + CHECK_EVERY_S
            request = should_stop()
            if request is not None and stop is None:
                stop = request
                _signal_group(proc, signal.SIGINT)
                next_signal_at = now + grace
        if stop is not None and escalation and now >= next_signal_at:
            _signal_group(proc, escalation.pop(0))
            next_signal_at = now + grace
        time.sleep(0.05)
    if stop is not None and os.name == "posix":
        _signal_group(proc, signal.SIGKILL)  # whatever the script left running in its group
    for reader in readers:
        # A child the script left running may hold the pipes open; its output is not waited for.
        reader.join(2.0)
    for pipe in (proc.stdout, proc.stderr):
        try:
            pipe.close()
        except OSError:
            pass
    return Outcome(proc.returncode, stop)
