"""``Task``: the object a training script creates to record itself (``from exptable_desktop import Task``).

Names and arguments follow the reference SDK so a script ports by changing its import.
``Task`` is put together from parts, each in the module named for what it holds:

* ``sdk.task_lifecycle``: ``Task.init``, the hooks on exit, exceptions, signals and the app's
  Abort, the final status (the life cycle is described there);
* ``sdk.task_recording``: parameters, configuration, tags, artifacts and packages a script records;
* ``sdk.task_readback``: finding experiments and reading what they hold;
* ``sdk.task_remote``: Drafts, clones and queues for an agent;
* ``sdk.task_argparse``: the argparse hook; ``sdk.task_shared``: enumerations and names they share.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Mapping

from exptable_desktop.sdk import capture
from exptable_desktop.sdk.task_lifecycle import TaskLifecycle
from exptable_desktop.sdk.task_readback import TaskReadback
from exptable_desktop.sdk.task_recording import TaskRecording
from exptable_desktop.sdk.task_remote import TaskRemote
from exptable_desktop.sdk.task_shared import TaskStatusEnum, TaskTypes


class Task(TaskLifecycle, TaskRecording, TaskReadback, TaskRemote):
    """One experiment as a script sees it: the run it records (``Task.init``) or one it reads
    back or prepares for an agent (``Task.get_task``, ``Task.create``, ``Task.clone``)."""

    TaskTypes = TaskTypes
    TaskStatusEnum = TaskStatusEnum

    def __init__(self, experiment_id: str, *, live: bool):
        self.id = experiment_id
        self._live = live  # True only for the run this process records
        self._reporter = None  # sdk.reporter.Reporter, the writer thread of a live run
        self._logger = None  # sdk.logger.Logger
        self._remote = False  # an agent runs this script: edited values override the script's
        self._argparse_enabled = False
        self._argparse_filter: Mapping[str, bool] = {}
        self._tees: dict[str, capture.ConsoleTee] = {}
        self._redirected_handlers: list = []
        self._finished = False
        self._finishing = threading.Event()
        self._capture_thread: threading.Thread | None = None
        self._finish_lock = threading.RLock()
        self._abort_reason: str | None = None
        self._failure: str | None = None
        self._exit_code: Any = None
        self._output_folder: Path | None = None
        self._previous_excepthook = None
        self._previous_sigterm = None
        self._original_exit = None
        self._started_at = time.time()
        self._live_objects = None  # sdk.live.LiveObjects: connected dicts and registered artifacts
        self._code_captured = threading.Event()  # set once the code facts are recorded
        self._packages_override: str | None = None  # set_packages
        self._warned: set[str] = set()

    def __repr__(self) -> str:
        return f"<Task {self.id}>"


__all__ = ["Task", "TaskTypes", "TaskStatusEnum"]
