"""Leaving runs to an agent from a script: a new Draft from a repository (``Task.create``), a copy of
an experiment (``Task.clone``), a place in a queue (``Task.enqueue``), and handing this very run
over (``execute_remotely``)."""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from exptable_desktop.core import actions
from exptable_desktop.core import states as st
from exptable_desktop.sdk import capture
from exptable_desktop.sdk.task_shared import ENV_TASK_ID, TaskTypes, ensure_database

if TYPE_CHECKING:
    from exptable_desktop.sdk.task import Task


class TaskRemote:
    """The part of ``Task`` that prepares experiments for an agent to run, and knows whether one runs this."""

    @staticmethod
    def running_locally() -> bool:
        """False when an agent runs this script (``EXPTABLE_TASK_ID`` set), as the reference."""
        return not os.environ.get(ENV_TASK_ID, "").strip()

    @classmethod
    def set_offline(cls, offline_mode: bool = False) -> None:
        """Everything is recorded locally already: nothing to switch (said once on stderr when asked for)."""
        if offline_mode:
            sys.stderr.write("exptable: Task.set_offline(True) changes nothing: runs are always recorded locally\n")

    @classmethod
    def is_offline(cls) -> bool:
        return False

    @classmethod
    def create(cls, project_name: str | None = None, task_name: str | None = None, task_type: str | None = None,
               repo: str | None = None, branch: str | None = None, commit: str | None = None,
               script: str | None = None, working_directory: str | None = None,
               packages: Sequence[str] | bool | None = None, requirements_file: str | Path | None = None,
               docker: str | None = None, docker_args: str | None = None,
               docker_bash_setup_script: str | None = None,
               argparse_args: Sequence[tuple[str, str]] | None = None, add_task_init_call: bool = True,
               binary: str | None = None, module: str | None = None) -> "Task":
        """A new Draft to run with an agent, from a repository (URL or folder) and a script or module.

        With no ``repo``, ``script`` is a local file and its git repository (or
        its folder) is used. ``packages=True`` installs the repository's
        requirements.txt. ``add_task_init_call`` has the agent insert a
        ``Task.init()`` call so a script without one records itself. The same
        function as the New Experiment wizard and ``exptable create``
        (``core.create.create_from_spec``); a bad spec raises ValueError.
        """
        from exptable_desktop.core.create import Argument, ExecutionSpec, create_from_spec
        from exptable_desktop.core.repos import is_git_folder, repo_root

        ensure_database()
        if not task_name:
            raise ValueError("Task.create needs task_name")
        working_dir = working_directory or "."
        if not repo and script:
            path = Path(script).expanduser().resolve()
            if not path.is_file():
                raise ValueError(f"no script {script}")
            repo_folder = repo_root(path.parent) if is_git_folder(path.parent) else path.parent
            repo = str(repo_folder)
            working_dir = working_directory or os.path.relpath(path.parent, repo_folder).replace(os.sep, "/")
            script = os.path.relpath(path, repo_folder / working_dir).replace(os.sep, "/")
        if packages is True:
            mode, package_list, requirements = "repository", [], ""
        elif packages:
            mode, package_list, requirements = "packages", [str(p) for p in packages], ""
        elif requirements_file:
            mode, package_list = "requirements", []
            requirements = Path(requirements_file).expanduser().read_text(encoding="utf-8")
        else:
            mode, package_list, requirements = "none", [], ""
        kind = str(getattr(task_type, "value", task_type) or TaskTypes.training)
        spec = ExecutionSpec(
            name=task_name, project=project_name or "", repository=repo or "", branch=branch or "",
            commit=commit or "", working_dir=working_dir, script=script or "", module=module or "",
            arguments=[Argument(str(k), "" if v is None else str(v)) for k, v in (argparse_args or ())],
            python=binary or "", packages_mode=mode, requirements=requirements, packages=package_list,
            container_image=docker or "", container_args=docker_args or "",
            container_setup=docker_bash_setup_script or "", task_type=kind, add_task_init_call=add_task_init_call)
        return cls(create_from_spec(spec), live=False)

    @classmethod
    def clone(cls, source_task: "Task | str | None" = None, name: str | None = None, comment: str | None = None,
              parent: "Task | str | None" = None, project: str | None = None) -> "Task":
        """A new Draft with the source's configuration; its parent is ``parent``, else the source's parent,
        else the source (as the reference)."""
        from exptable_desktop.sdk import remote_run

        ensure_database()
        source = source_task if source_task is not None else cls.current_task()
        if source is None:
            raise ValueError("Task.clone needs source_task (a Task or an experiment id)")
        parent_id = parent if isinstance(parent, str) or parent is None else parent.id
        return cls(remote_run.clone(source if isinstance(source, str) else source.id, name=name, comment=comment,
                                    parent_id=parent_id, project=project), live=False)

    @classmethod
    def enqueue(cls, task: "Task | str", queue_name: str | None = None, queue_id: str | int | None = None,
                force: bool = False) -> dict[str, Any]:
        """Put a Draft (or Aborted) experiment in a queue for an agent; ``force`` resets another first."""
        from exptable_desktop.sdk import remote_run

        ensure_database()
        return remote_run.enqueue(task if isinstance(task, str) else task.id, queue_name=queue_name,
                                  queue_id=queue_id, force=force)

    def execute_remotely(self, queue_name: str | None = None, clone: bool = False,
                         exit_process: bool = True) -> "Task | None":
        """Stop running here and leave the run to an agent (as the reference):

        * ``clone=False``: this run is recorded (code, packages) and stopped, then enqueued to
          ``queue_name``, and the process exits with code 0. An agent runs the script again as this
          experiment; there this call does nothing and the script goes on.
        * ``clone=True``: a Draft copy is enqueued instead; with ``exit_process`` this process ends
          (this run Completed), else it goes on.
        * ``queue_name=None``: nothing is enqueued; the experiment (or its clone) is left a Draft.
        """
        if self._remote:
            return None
        if not self._live:
            if not queue_name:
                raise ValueError("execute_remotely on a task read with Task.get_task needs queue_name")
            target = self.clone(self) if clone else self
            self.enqueue(target, queue_name=queue_name)
            return target
        if not clone and not exit_process:
            raise ValueError("execute_remotely(clone=False) must exit the process: the experiment it "
                             "enqueues is this run")
        if clone:
            self.flush(wait_for_uploads=True)
            self._code_captured.wait(capture.GIT_TIMEOUT_S * 2)  # the clone copies the code facts
            self._record_packages()
            target = self.clone(self)
        else:
            self._finish(st.ABORTED, "execution continues remotely")
            target = self
        if queue_name:
            self.enqueue(target, queue_name=queue_name)
            self._warn(f"exptable: enqueued {target.id} to {queue_name}; it continues under an agent "
                       f"({target.get_output_log_web_page()})")
        elif not clone:
            actions.reset([self.id])
        if exit_process:
            for stream in (sys.stdout, sys.stderr):
                try:
                    stream.flush()
                except (OSError, ValueError):
                    pass
            sys.exit(0)
        return target
