"""A recording run from ``Task.init`` to its end: the hooks on exit, exceptions, SIGTERM and the
app's Abort, the writer thread, the console and environment capture, and the final status.

Running from ``Task.init``; Completed at normal exit; Failed on an uncaught exception or a
non-zero ``sys.exit``; Aborted on Ctrl-C, SIGTERM or the app's Abort (seen by the writer
within one flush). A bare ``raise SystemExit(n)`` reaches neither ``sys.exit`` nor the
exception hook, and Python tells an exit handler no exit status, so such a run is recorded
as Completed (the reference SDK behaves the same way).
"""
from __future__ import annotations

import _thread
import atexit
import functools
import os
import signal
import sys
import threading
import traceback
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from exptable_desktop.core import attach, liveness, recording
from exptable_desktop.core import states as st
from exptable_desktop.sdk import capture, live, task_argparse
from exptable_desktop.sdk.logger import Logger
from exptable_desktop.sdk.reporter import Reporter
from exptable_desktop.sdk.task_shared import ENV_TASK_ID, TaskTypes, ensure_database
from exptable_desktop.store.db import resolve_db_url, url_for_display

if TYPE_CHECKING:
    from exptable_desktop.sdk.task import Task

# Set to 0 by a runner that records the script's console itself.
ENV_CAPTURE_CONSOLE = "EXPTABLE_SDK_CONSOLE"
ABORT_GRACE_S = 1.5  # after an Abort, how long the script may unwind before the process is ended
PACKAGES_DELAY_S = 3.0  # imports usually finish by then; taken again at close
DEFAULT_MONITOR_INTERVAL_S = 10.0


def _unsupported_init_arguments(reuse_last_task_id, continue_last_task) -> list[str]:
    """What ``Task.init`` is asked for that is not done here, as warnings (said once, never ignored silently)."""
    out = []
    if isinstance(reuse_last_task_id, str) and reuse_last_task_id:
        out.append(f"reuse_last_task_id={reuse_last_task_id!r} is not supported: every run is a new experiment")
    if continue_last_task not in (False, None, 0) or isinstance(continue_last_task, str):
        out.append(f"continue_last_task={continue_last_task!r} is not supported: every run is a new experiment "
                   "(report into an earlier one with Task.get_task(...).get_logger())")
    return out


class TaskLifecycle:
    """The part of ``Task`` that starts a run, watches how the process ends and records that ending."""

    # The Task this process records into, from Task.init until its run ends.
    _current: "Task | None" = None

    @classmethod
    def init(cls, project_name: str | None = None, task_name: str | None = None,
             task_type: str = TaskTypes.training, tags: Sequence[str] | None = None,
             reuse_last_task_id: bool | str = True, continue_last_task: bool | str | int = False,
             output_uri: str | bool | None = None,
             auto_connect_arg_parser: bool | Mapping[str, bool] = True,
             auto_connect_frameworks: bool | Mapping[str, Any] = True,
             auto_resource_monitoring: bool | Mapping[str, Any] = False,
             auto_connect_streams: bool | Mapping[str, bool] = True,
             deferred_init: bool = False) -> "Task":
        """Start recording this run (or attach to the experiment an agent runs, ``EXPTABLE_TASK_ID``).

        While a run of this process still records, a call returns that run's Task and
        ignores its arguments: a helper module or notebook cell that calls ``Task.init``
        again must not split one run into two experiments, nor hook exit, signals and the
        console a second time. (The reference returns its task too, but refuses a call
        naming another project or task.) Otherwise every call creates a new experiment:
        the reference's reuse of the last one is not offered (an id in
        ``reuse_last_task_id``, and ``continue_last_task``, get a warning), and
        ``deferred_init=True`` gives what False gives, because creating the experiment is
        a local insert, not the server round trip the reference defers.
        ``auto_connect_frameworks``: see ``sdk.bindings``.
        Attaching claims a Pending experiment (or one its agent, named in
        ``EXPTABLE_WORKER``, set Running) for this process alone: see
        ``core.attach.attach_run``.
        """
        current = TaskLifecycle._current
        if current is not None and not current._finished:
            return current
        ensure_database()
        unsupported = _unsupported_init_arguments(reuse_last_task_id, continue_last_task)
        remote_id = os.environ.get(ENV_TASK_ID, "").strip()
        process = {"host": liveness.this_host(), "pid": os.getpid()}  # lets Abort see the process is gone
        if remote_id:
            try:
                attach.attach_run(remote_id, worker=os.environ.get(attach.ENV_WORKER), **process)
            except recording.UnknownExperiment:
                shown = url_for_display(resolve_db_url(None))
                raise RuntimeError(f"{ENV_TASK_ID}={remote_id} names no experiment in {shown}") from None
            except attach.AttachError as exc:
                raise RuntimeError(f"{ENV_TASK_ID}={remote_id}: {exc}") from None
            task = cls(remote_id, live=True)
            task._remote = True
        else:
            if not project_name or not task_name:
                raise ValueError("Task.init needs project_name and task_name")
            kind = str(getattr(task_type, "value", task_type))
            exp_id = recording.create_experiment(project_name, task_name, task_type=kind, status=st.RUNNING,
                                                 tags=list(tags or ()), development=True, runtime=process)
            task = cls(exp_id, live=True)
        TaskLifecycle._current = task
        for text in unsupported:
            task._warn_once(text, f"exptable: {text}")
        task._start(output_uri, auto_connect_arg_parser, auto_resource_monitoring, auto_connect_streams,
                    auto_connect_frameworks)
        if remote_id and tags:
            task.add_tags(tags)
        return task

    @classmethod
    def current_task(cls) -> "Task | None":
        return TaskLifecycle._current

    def _start(self, output_uri, auto_connect_arg_parser, auto_resource_monitoring, auto_connect_streams,
               auto_connect_frameworks=True) -> None:
        self._reporter = Reporter(self.id, on_abort=self._on_abort, warn=self._warn)
        self._logger = Logger(self)
        self._set_output(output_uri)
        if auto_resource_monitoring:
            settings = auto_resource_monitoring if isinstance(auto_resource_monitoring, Mapping) else {}
            try:
                monitor = capture.MachineMonitor(self._logger.report_scalar,
                                                 float(settings.get("interval", DEFAULT_MONITOR_INTERVAL_S)))
                self._reporter.periodic.append((monitor.interval, monitor.sample))
            except ImportError:
                self._warn("exptable: resource monitoring needs psutil (pip install psutil)")
        self._capture_streams(auto_connect_streams)
        self._install_hooks()
        self._reporter.periodic.append((live.SYNC_PERIOD_S, functools.partial(self._sync_live, force=False)))
        self._reporter.start()
        script, module = capture.entry_script()
        self._capture_thread = threading.Thread(target=self._capture_environment, args=(script, module, Path.cwd()),
                                                name="exptable-capture", daemon=True)
        self._capture_thread.start()
        if auto_connect_arg_parser:
            self._argparse_enabled = True
            self._argparse_filter = auto_connect_arg_parser if isinstance(auto_connect_arg_parser, Mapping) else {}
            for parser, namespace in task_argparse.parsed_before_init():
                self._connect_argparse(parser, namespace)
        try:
            from exptable_desktop.sdk import bindings
        except ImportError:  # a trimmed build without the framework bindings
            bindings = None
        if bindings is not None:
            bindings.install(self, auto_connect_frameworks)

    def _set_output(self, output_uri) -> None:
        if isinstance(output_uri, str) and output_uri:
            local = output_uri[len("file://"):] if output_uri.startswith("file://") else output_uri
            if "://" in local:
                self._warn(f"exptable: output_uri {output_uri!r} is not a local folder; "
                           "artifacts are kept in the ExpTable storage folder")
            else:
                self._output_folder = Path(local).expanduser().resolve()
                recording.record_execution(self.id, output_uri=str(self._output_folder))

    def _capture_streams(self, auto_connect_streams) -> None:
        if os.environ.get(ENV_CAPTURE_CONSOLE, "1") == "0" or not auto_connect_streams:
            return
        wanted = auto_connect_streams if isinstance(auto_connect_streams, Mapping) else {}
        for name, level in (("stdout", "info"), ("stderr", "error")):
            if wanted.get(name, True):
                tee = capture.ConsoleTee(getattr(sys, name), level, self._reporter.console)
                self._tees[name] = tee
                setattr(sys, name, tee)
        # logging handlers made before Task.init (basicConfig) hold the real stream, not sys.stderr.
        originals = {id(tee.original): tee for tee in self._tees.values()}
        for handler in capture.stream_handlers():
            tee = originals.get(id(handler.stream))
            if tee is not None:
                handler.setStream(tee)
                self._redirected_handlers.append((handler, tee))

    def _capture_environment(self, script: Path | None, module: str | None, cwd: Path) -> None:
        """Code, machine and packages; off the calling thread because git and metadata take time."""
        try:
            runtime = capture.runtime_facts()
            runtime["started"] = self._started_at
            recording.set_runtime(self.id, runtime)
            if not self._remote:
                recording.record_execution(self.id, **capture.code_facts(script, module, cwd.resolve()))
            self._code_captured.set()
            if not self._finishing.wait(PACKAGES_DELAY_S):
                self._record_packages()
        except Exception as exc:
            if not self._finished:
                self._warn(f"exptable: could not record the environment: {type(exc).__name__}: {exc}")

    def _record_packages(self) -> None:
        text = self._requirements_text()
        if self._remote:
            # Under an agent the requirements describe what to install; what ran goes to runtime.
            recording.set_runtime(self.id, {"installed_packages": text})
        else:
            recording.record_execution(self.id, requirements=text)

    # ---- connected dicts and registered artifacts, kept in step by the writer thread ----------

    def _live_state(self) -> live.LiveObjects:
        if self._live_objects is None:
            self._live_objects = live.LiveObjects(self._record_section, self._warn)
        return self._live_objects

    def _sync_live(self, force: bool = True) -> None:
        """Record connected-dict writes and changed registered artifacts (writer thread, and the run's end)."""
        if self._live_objects is not None:
            self._live_objects.sync(force)

    def _sync_registered(self) -> None:
        if self._live and not self._finished and self._live_objects is not None:
            self._live_objects.sync()

    # ---- hooks on how the process ends --------------------------------------------------------

    def _install_hooks(self) -> None:
        self._previous_excepthook = sys.excepthook
        sys.excepthook = self._excepthook
        self._original_exit = sys.exit
        sys.exit = self._exit
        atexit.register(self._at_exit)
        task_argparse.install_hook(self._on_script_parsed)
        if threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):
                    self._previous_sigterm = signal.signal(signal.SIGTERM, self._on_sigterm)
            except (ValueError, OSError, AttributeError):
                pass

    def _remove_hooks(self) -> None:
        if sys.excepthook == self._excepthook:
            sys.excepthook = self._previous_excepthook
        if sys.exit == self._exit:
            sys.exit = self._original_exit
        atexit.unregister(self._at_exit)
        task_argparse.remove_hook()
        if self._previous_sigterm is not None and threading.current_thread() is threading.main_thread():
            try:
                if signal.getsignal(signal.SIGTERM) == self._on_sigterm:
                    signal.signal(signal.SIGTERM, self._previous_sigterm)
            except (ValueError, OSError):
                pass
        for handler, tee in self._redirected_handlers:
            if handler.stream is tee:
                handler.setStream(tee.original)
        for name, tee in self._tees.items():
            tee.flush_partial()
            if getattr(sys, name) is tee:
                setattr(sys, name, tee.original)

    def _on_script_parsed(self, parser, namespace) -> None:
        if TaskLifecycle._current is self and self._argparse_enabled:
            self._connect_argparse(parser, namespace)

    def _excepthook(self, exc_type, exc, tb) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            self._abort_reason = self._abort_reason or "interrupted (Ctrl-C)"
        else:
            last = traceback.format_exception_only(exc_type, exc)[-1].strip()
            self._failure = last
        (self._previous_excepthook or sys.__excepthook__)(exc_type, exc, tb)

    def _exit(self, code=None):
        self._exit_code = code
        return self._original_exit(code)

    def _on_sigterm(self, signum, frame) -> None:
        self._abort_reason = self._abort_reason or "terminated (SIGTERM)"
        raise SystemExit(128 + signal.SIGTERM)

    def _on_abort(self, message: str) -> None:
        """Called by the writer thread when the app aborted this experiment."""
        self._abort_reason = "aborted from ExpTable"
        if message in ("stopping", "aborted"):
            self._warn("exptable: experiment aborted from ExpTable; stopping")
        else:
            self._warn(f"exptable: {message}; stopping")
        if os.name == "posix":
            os.kill(os.getpid(), signal.SIGINT)
        else:
            _thread.interrupt_main()
        watchdog = threading.Timer(ABORT_GRACE_S, self._abort_now)
        watchdog.daemon = True
        watchdog.start()

    def _abort_now(self) -> None:
        """The script did not unwind in time (it caught the interrupt, or is stuck in C code)."""
        if self._finish_lock.acquire(timeout=5.0):
            try:
                self._finish(st.ABORTED, self._abort_reason or "aborted", quick=True)
            finally:
                self._finish_lock.release()
        os._exit(130)

    def _at_exit(self) -> None:
        if self._abort_reason:
            self._finish(st.ABORTED, self._abort_reason)
        elif self._failure:
            self._finish(st.FAILED, self._failure)
        elif self._exit_code not in (None, 0):
            self._finish(st.FAILED, f"exit code {self._exit_code}")
        else:
            self._finish(st.COMPLETED, "")

    def _finish(self, status: str, reason: str, quick: bool = False) -> None:
        """Flush, record the final status and stop capturing; ``quick`` skips the package scan."""
        with self._finish_lock:
            if self._finished or not self._live:
                return
            self._finished = True
            self._finishing.set()
            self._remove_hooks()
            if self._capture_thread is not None and self._capture_thread is not threading.current_thread():
                self._capture_thread.join(capture.GIT_TIMEOUT_S * 2)
            if status == st.COMPLETED:
                self._reporter.progress = 100
            self._sync_live()
            self._reporter.stop()
            if not quick:
                try:
                    self._record_packages()
                except Exception as exc:
                    self._warn(f"exptable: could not record packages: {type(exc).__name__}: {exc}")
            lost = self._reporter.lost_summary()
            if lost:
                from exptable_desktop.sdk.reporter import exit_nonzero_at_shutdown

                self._warn(f"exptable: {lost}")
                if status == st.COMPLETED:  # the other endings already exit non-zero
                    exit_nonzero_at_shutdown()
            if not self._reporter.gone:
                message = "aborted" if status == st.ABORTED else ""
                if lost:
                    message = f"{message}; {lost}" if message else lost
                try:
                    recording.set_status(self.id, status, reason=reason, message=message)
                except Exception as exc:  # the database is away or full: stderr is all that is left
                    self._warn(f"exptable: could not record that the run ended "
                               f"({st.status_label(status)}): {type(exc).__name__}: {exc}")
            if TaskLifecycle._current is self:
                TaskLifecycle._current = None

    # ---- ending on request ---------------------------------------------------------------------

    def mark_completed(self, ignore_errors: bool = True, status_message: str | None = None,
                       force: bool = False) -> None:
        """Flush, mark Completed and stop recording (the process keeps running)."""
        self._finish(st.COMPLETED, status_message or "")

    def mark_failed(self, ignore_errors: bool = True, status_reason: str | None = None,
                    status_message: str | None = None, force: bool = False) -> None:
        self._finish(st.FAILED, status_reason or status_message or "marked failed")

    def mark_stopped(self, force: bool = False, status_message: str | None = None) -> None:
        self._finish(st.ABORTED, status_message or "stopped")

    def close(self) -> None:
        """Flush everything and mark Completed (unless an abort or failure was recorded)."""
        if self._live and not self._finished:
            self._at_exit()

    def flush(self, wait_for_uploads: bool = False) -> bool:
        if self._reporter is None or self._finished:
            return False
        return self._reporter.flush() is not None

    # ---- saying things on the script's own stderr ------------------------------------------------

    def _warn(self, text: str) -> None:
        stream = self._original_stream("stderr")
        try:
            stream.write(text + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass

    def _warn_once(self, key: str, text: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self._warn(text)

    def _original_stream(self, name: str):
        tee = self._tees.get(name)
        return tee.original if tee is not None else getattr(sys, name)
