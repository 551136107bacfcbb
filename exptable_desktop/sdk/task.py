"""``Task``: the object a training script creates to record itself (``from exptable_desktop import Task``).

Names and arguments follow the reference SDK so a script ports by changing
its import. Life cycle: Running from ``Task.init``; Completed at normal exit;
Failed on an uncaught exception or a non-zero ``sys.exit``; Aborted on
Ctrl-C, SIGTERM or the app's Abort (seen by the writer within one flush).
A bare ``raise SystemExit(n)`` reaches neither ``sys.exit`` nor the exception
hook, and Python tells an exit handler no exit status, so such a run is
recorded as Completed (the reference SDK behaves the same way).
"""
from __future__ import annotations

import _thread
import argparse
import atexit
import functools
import json
import os
import signal
import site
import sys
import sysconfig
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from exptable_desktop.core import actions, attach, editing, liveness, recording
from exptable_desktop.core import states as st
from exptable_desktop.sdk import capture, live, task_query
from exptable_desktop.sdk.artifacts import SerializedBytes as _SerializedBytes, store_artifact
from exptable_desktop.sdk.logger import Logger
from exptable_desktop.sdk.params import apply_flat, cast as cast_value, flatten, public_attributes, to_text, type_name
from exptable_desktop.sdk.reporter import Reporter
from exptable_desktop.store import files as store_files
from exptable_desktop.store.db import open_database, resolve_db_url, url_for_display
from exptable_desktop.store.schema import (
    Artifact,
    ConfigObject,
    Experiment,
    HyperParam,
    MetricSummary,
    Project,
    SingleValue,
    database_proxy,
)
from exptable_desktop.store.series import list_series, read_series

ENV_TASK_ID = "EXPTABLE_TASK_ID"
# Set to 0 by a runner that records the script's console itself.
ENV_CAPTURE_CONSOLE = "EXPTABLE_SDK_CONSOLE"
ARGS_SECTION = "Args"
GENERAL_SECTION = "General"
ABORT_GRACE_S = 1.5  # after an Abort, how long the script may unwind before the process is ended
PACKAGES_DELAY_S = 3.0  # imports usually finish by then; taken again at close
DEFAULT_MONITOR_INTERVAL_S = 10.0


class TaskTypes:
    training = "training"
    testing = "testing"
    inference = "inference"
    data_processing = "data_processing"
    application = "application"
    monitor = "monitor"
    controller = "controller"
    optimizer = "optimizer"
    service = "service"
    qc = "qc"
    custom = "custom"


class TaskStatusEnum:
    created = st.DRAFT
    queued = st.PENDING
    in_progress = st.RUNNING
    stopped = st.ABORTED
    published = st.PUBLISHED
    publishing = st.PUBLISHING
    closed = st.CLOSED
    failed = st.FAILED
    completed = st.COMPLETED
    unknown = st.UNKNOWN


def _unsupported_init_arguments(reuse_last_task_id, continue_last_task) -> list[str]:
    """What ``Task.init`` is asked for that is not done here, as warnings (said once, never ignored silently)."""
    out = []
    if isinstance(reuse_last_task_id, str) and reuse_last_task_id:
        out.append(f"reuse_last_task_id={reuse_last_task_id!r} is not supported: every run is a new experiment")
    if continue_last_task not in (False, None, 0) or isinstance(continue_last_task, str):
        out.append(f"continue_last_task={continue_last_task!r} is not supported: every run is a new experiment "
                   "(report into an earlier one with Task.get_task(...).get_logger())")
    return out


LABELS_CONFIGURATION = "Model Labels"  # where set_model_label_enumeration keeps the task's labels


def _ensure_database() -> None:
    if database_proxy.obj is None:
        open_database(resolve_db_url(None))


# ---- argparse capture -------------------------------------------------------------------
# Hooked only while a Task records (Task.init to close): importing the SDK changes nothing,
# so the app, the CLI and libraries parse untouched. What the script parsed before Task.init
# is found at init in the script's own frames. Only parsers the script's own code parses are
# recorded; a library parsing its private flags (Fire, a launcher) is not the script's Args.

_parse_depth = threading.local()
# What ArgumentParser.parse_known_args was when the hook went in; kept after the hook is
# removed, because a wrapper installed over ours may still call into it.
_unhooked_parse_known_args = argparse.ArgumentParser.parse_known_args
_ARGPARSE_FILE = os.path.normcase(os.path.abspath(argparse.__file__))
_SDK_FILE = os.path.normcase(os.path.abspath(__file__))


@functools.lru_cache(maxsize=None)
def _library_roots() -> tuple[str, ...]:
    """Folders holding code that is not the script's: the standard library, installed packages, ExpTable."""
    paths = sysconfig.get_paths()
    roots = {paths.get(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.update(site.getsitepackages() if hasattr(site, "getsitepackages") else ())
    roots.add(site.getusersitepackages() if hasattr(site, "getusersitepackages") else None)
    roots.add(str(Path(__file__).resolve().parents[1]))
    return tuple(os.path.join(os.path.normcase(os.path.realpath(r)), "") for r in roots if r)


@functools.lru_cache(maxsize=None)
def _script_owned(filename: str) -> bool:
    """Whether code in ``filename`` is the script's own: its entry file, or a file outside every library folder."""
    if filename.startswith("<"):
        return not filename.startswith("<frozen")  # "<string>" and "<stdin>" are code the user typed
    path = os.path.normcase(os.path.realpath(filename))
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file and path == os.path.normcase(os.path.realpath(main_file)):
        return True
    parts = {part.lower() for part in Path(path).parts}
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    return not path.startswith(_library_roots())


def _parse_called_by_script() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        filename = os.path.normcase(os.path.abspath(frame.f_code.co_filename))
        if filename not in (_ARGPARSE_FILE, _SDK_FILE):  # parse_args calls parse_known_args
            return _script_owned(frame.f_code.co_filename)
        frame = frame.f_back
    return False


def _patched_parse_known_args(self, args=None, namespace=None):
    depth = getattr(_parse_depth, "value", 0)
    _parse_depth.value = depth + 1
    try:
        result = _unhooked_parse_known_args(self, args, namespace)
    finally:
        _parse_depth.value = depth
    task = Task._current
    # Subparsers call this again from inside; the outer call sees everything.
    if depth == 0 and task is not None and task._argparse_enabled and _parse_called_by_script():
        task._connect_argparse(self, result[0])
    return result


def _install_argparse_hook() -> None:
    global _unhooked_parse_known_args
    current = argparse.ArgumentParser.parse_known_args
    if current is not _patched_parse_known_args:
        _unhooked_parse_known_args = current
        argparse.ArgumentParser.parse_known_args = _patched_parse_known_args


def _remove_argparse_hook() -> None:
    if argparse.ArgumentParser.parse_known_args is _patched_parse_known_args:
        argparse.ArgumentParser.parse_known_args = _unhooked_parse_known_args


def _argument_dests(parser: argparse.ArgumentParser) -> set[str]:
    return {a.dest for a in parser._actions if a.dest not in (argparse.SUPPRESS, None)
            and not isinstance(a, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction))}


def _parsed_before_init() -> list[tuple[argparse.ArgumentParser, argparse.Namespace]]:
    """(parser, namespace) pairs the script holds in its own frames and ``__main__``'s globals.

    A namespace is paired with the script's parser whose arguments it has (for types and help);
    one parsed inside a helper whose parser is gone is paired with an empty parser.
    """
    scopes = []
    frame = sys._getframe(1)
    while frame is not None:
        if _script_owned(frame.f_code.co_filename):
            scopes.append(frame.f_locals)
        frame = frame.f_back
    del frame
    main = sys.modules.get("__main__")
    if main is not None:
        scopes.append(vars(main))
    parsers: dict[int, argparse.ArgumentParser] = {}
    namespaces: dict[int, argparse.Namespace] = {}
    for scope in scopes:
        for value in list(scope.values()):
            if isinstance(value, argparse.ArgumentParser):
                parsers.setdefault(id(value), value)
            elif isinstance(value, argparse.Namespace):
                namespaces.setdefault(id(value), value)
    dests = [(parser, _argument_dests(parser)) for parser in parsers.values()]
    pairs = []
    for namespace in namespaces.values():
        names = set(vars(namespace))
        fitting = [(len(d), i) for i, (_, d) in enumerate(dests) if d and d <= names]
        parser = dests[max(fitting)[1]][0] if fitting else argparse.ArgumentParser(add_help=False)
        pairs.append((parser, namespace))
    return pairs


def _arg_type(action: argparse.Action, value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return "list"
    if action.type is not None and hasattr(action.type, "__name__"):
        return action.type.__name__
    if value is None and action.default is not None:
        return type_name(action.default)
    return type_name(value)


class Task:
    TaskTypes = TaskTypes
    TaskStatusEnum = TaskStatusEnum

    _current: "Task | None" = None

    def __init__(self, experiment_id: str, *, live: bool):
        self.id = experiment_id
        self._live = live
        self._reporter: Reporter | None = None
        self._logger: Logger | None = None
        self._remote = False
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

    # ---- creation ------------------------------------------------------------------------

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

        Every call creates a new experiment: reuse of the last one and deferred
        init of the reference SDK are not offered. ``auto_connect_frameworks``:
        see ``sdk.bindings``.
        Attaching claims a Pending experiment (or one its agent, named in
        ``EXPTABLE_WORKER``, set Running) for this process alone: see
        ``core.attach.attach_run``.
        """
        if cls._current is not None and not cls._current._finished:
            return cls._current
        _ensure_database()
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
        cls._current = task
        for text in unsupported:
            task._warn_once(text, f"exptable: {text}")
        task._start(output_uri, auto_connect_arg_parser, auto_resource_monitoring, auto_connect_streams,
                    auto_connect_frameworks)
        if remote_id and tags:
            task.add_tags(tags)
        return task

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
            for parser, namespace in _parsed_before_init():
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

    # ---- life cycle hooks --------------------------------------------------------------

    def _install_hooks(self) -> None:
        self._previous_excepthook = sys.excepthook
        sys.excepthook = self._excepthook
        self._original_exit = sys.exit
        sys.exit = self._exit
        atexit.register(self._at_exit)
        _install_argparse_hook()
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
        _remove_argparse_hook()
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
            if Task._current is self:
                Task._current = None

    def _warn(self, text: str) -> None:
        stream = self._original_stream("stderr")
        try:
            stream.write(text + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass

    def _original_stream(self, name: str):
        tee = self._tees.get(name)
        return tee.original if tee is not None else getattr(sys, name)

    # ---- status ------------------------------------------------------------------------

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

    @classmethod
    def current_task(cls) -> "Task | None":
        return cls._current

    def get_logger(self) -> Logger:
        """This run's Logger; for a task read with ``Task.get_task``, one reporting into that experiment."""
        if self._logger is None:
            from exptable_desktop.sdk.logger import reporting_logger

            self._logger = reporting_logger(self)
        return self._logger

    @property
    def logger(self) -> Logger:
        return self.get_logger()

    # ---- parameters --------------------------------------------------------------------

    def _stored_section(self, section: str) -> dict[str, tuple[str, str]]:
        return {name: (value, kind) for name, value, kind in
                HyperParam.select(HyperParam.name, HyperParam.value, HyperParam.type)
                .where((HyperParam.experiment == self.id) & (HyperParam.section == section)).tuples()}

    def _override(self, section: str, flat: dict[str, Any]) -> dict[str, Any]:
        """Under an agent, the values edited on the experiment replace the script's own, cast to type."""
        if not self._remote:
            return flat
        stored = self._stored_section(section)
        out = dict(flat)
        for name, original in flat.items():
            if name in stored:
                text, kind = stored[name]
                try:
                    out[name] = cast_value(text, kind, original)
                except (ValueError, SyntaxError) as exc:
                    raise ValueError(f"parameter {section}/{name}: {exc}") from None
        return out

    def _record_section(self, section: str, values: Mapping[str, Any],
                        types: Mapping[str, str] | None = None, help_texts: Mapping[str, str] | None = None) -> None:
        types = types or {}
        help_texts = help_texts or {}
        recording.record_parameters(self.id, section, {
            name: {"value": to_text(value), "type": types.get(name) or type_name(value),
                   "description": help_texts.get(name, "")}
            for name, value in values.items()})

    def _connect_argparse(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace) -> None:
        values, types, helps = {}, {}, {}
        default_on = self._argparse_filter.get("*", True)
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
                continue
            dest = action.dest
            if dest in (argparse.SUPPRESS, None) or not hasattr(namespace, dest):
                continue
            if not self._argparse_filter.get(dest, default_on):
                continue
            value = getattr(namespace, dest)
            values[dest] = value
            types[dest] = _arg_type(action, value)
            helps[dest] = "" if action.help in (None, argparse.SUPPRESS) else str(action.help)
        # Arguments of the chosen sub-command live on the same namespace.
        for dest, value in vars(namespace).items():
            if dest not in values and self._argparse_filter.get(dest, default_on):
                values[dest], types[dest] = value, type_name(value)
        if self._remote:
            stored = self._stored_section(ARGS_SECTION)
            for dest in list(values):
                if dest in stored:
                    text, kind = stored[dest]
                    kind = kind or types[dest]
                    try:
                        new = cast_value(text, kind, values[dest])
                    except (ValueError, SyntaxError) as exc:
                        raise ValueError(f"argument {dest}: {exc}") from None
                    setattr(namespace, dest, new)
                    values[dest] = new
        self._record_section(ARGS_SECTION, values, types, helps)

    def connect(self, mutable: Any, name: str | None = None, ignore_remote_overrides: bool = False) -> Any:
        """Record a dict, Namespace or object as parameters; under an agent, return the edited values.

        A dict comes back as a live dict: later writes to it are recorded too (see ``sdk.live``).
        An ``OutputModel`` / ``InputModel`` is recorded as the run's model, a ``TaskParameters`` as parameters.
        """
        from exptable_desktop.sdk.model import BaseModel
        from exptable_desktop.task_parameters import TaskParameters

        if isinstance(mutable, BaseModel):
            if hasattr(mutable, "_task"):
                mutable.connect(self, name)
            else:
                mutable.connect(self, name, ignore_remote_overrides=ignore_remote_overrides)
            return mutable
        if isinstance(mutable, TaskParameters):
            section = name or GENERAL_SECTION
            values = self._override(section, mutable.to_dict()) if not ignore_remote_overrides else mutable.to_dict()
            mutable.update_from_dict(values)
            self._record_section(section, values)
            return mutable
        remote, self._remote = self._remote, self._remote and not ignore_remote_overrides
        try:
            if isinstance(mutable, argparse.ArgumentParser):
                raise TypeError("connect(parser) is automatic: parse_args() is recorded into section Args")
            if isinstance(mutable, argparse.Namespace):
                section = name or ARGS_SECTION
                flat = self._override(section, dict(vars(mutable)))
                for key, value in flat.items():
                    setattr(mutable, key, value)
            elif isinstance(mutable, dict):
                section = name or GENERAL_SECTION
                flat = self._override(section, flatten(mutable))
                apply_flat(mutable, flat)
            else:
                section = name or GENERAL_SECTION
                flat = self._override(section, public_attributes(mutable))
                for key, value in flat.items():
                    setattr(mutable, key, value)
            self._record_section(section, flat)
        finally:
            self._remote = remote
        if isinstance(mutable, dict) and self._live and not self._finished:
            return self._live_state().connect_dict(section, mutable)
        return mutable

    def connect_configuration(self, configuration: Any, name: str | None = None, description: str | None = None,
                              ignore_remote_overrides: bool = False) -> Any:
        name = name or GENERAL_SECTION
        stored = None
        if self._remote and not ignore_remote_overrides:
            stored = ConfigObject.get_or_none((ConfigObject.experiment == self.id) & (ConfigObject.name == name))
        if isinstance(configuration, (dict, list)):
            if stored is not None:
                try:
                    loaded = json.loads(stored.value)
                except ValueError as exc:
                    raise ValueError(f"configuration {name!r} stored on the experiment is not JSON: {exc}") from None
                if isinstance(configuration, dict):
                    configuration.clear()
                    configuration.update(loaded)
                else:
                    configuration[:] = loaded
                return configuration
            recording.record_configuration(self.id, name, json.dumps(configuration, indent=2, default=str),
                                           content_type="json", description=description or "")
            return configuration
        path = Path(configuration) if isinstance(configuration, Path) or (
            isinstance(configuration, str) and "\n" not in configuration and len(configuration) < 4096
            and Path(configuration).is_file()) else None
        if path is not None:
            suffix = path.suffix.lstrip(".").lower()
            if stored is not None:
                handle, temp = tempfile.mkstemp(prefix="exptable_config_", suffix=path.suffix)
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(stored.value)
                return Path(temp) if isinstance(configuration, Path) else temp
            recording.record_configuration(self.id, name, path.read_text(encoding="utf-8", errors="replace"),
                                           content_type=suffix or "file", description=description or "")
            return configuration
        if isinstance(configuration, str):
            if stored is not None:
                return stored.value
            recording.record_configuration(self.id, name, configuration, content_type="text",
                                           description=description or "")
            return configuration
        raise TypeError(f"connect_configuration takes a dict, list, path or text, not {type(configuration).__name__}")

    def set_parameter(self, name: str, value: Any, description: str | None = None,
                      value_type: Any = None) -> None:
        # "Section/a/b": the section is the first part, as in set_parameters and connect.
        section, _, key = name.partition("/") if "/" in name else (GENERAL_SECTION, "", name)
        kind = value_type.__name__ if isinstance(value_type, type) else (value_type or type_name(value))
        recording.record_parameters(self.id, section, {key: {"value": to_text(value), "type": kind,
                                                              "description": description or ""}})

    def set_parameters(self, *args: Mapping[str, Any], **kwargs: Any) -> None:
        merged: dict[str, Any] = {}
        for mapping in args:
            merged.update(mapping)
        merged.update(kwargs)
        by_section: dict[str, dict] = {}
        for name, value in merged.items():
            section, _, key = name.partition("/") if "/" in name else (GENERAL_SECTION, "", name)
            by_section.setdefault(section, {})[key] = {"value": to_text(value), "type": type_name(value)}
        for section, params in by_section.items():
            recording.record_parameters(self.id, section, params)

    def get_parameters(self, backwards_compatibility: bool = True, cast: bool = False) -> dict[str, Any]:
        out = {}
        for section, name, value, kind in (HyperParam.select(HyperParam.section, HyperParam.name, HyperParam.value,
                                                             HyperParam.type)
                                           .where(HyperParam.experiment == self.id)
                                           .order_by(HyperParam.section, HyperParam.name).tuples()):
            key = f"{section}/{name}"
            if cast:
                try:
                    out[key] = cast_value(value, kind)
                except (ValueError, SyntaxError):
                    out[key] = value
            else:
                out[key] = value
        return out

    def get_parameters_as_dict(self, cast: bool = False) -> dict[str, Any]:
        """Parameters nested at every "/" (``{"General": {"nested": {"a": "1"}}}``), as the reference."""
        out: dict[str, Any] = {}
        for key, value in self.get_parameters(cast=cast).items():
            node = out
            *parents, leaf = key.split("/")
            for part in parents:
                child = node.get(part)
                if not isinstance(child, dict):
                    child = node[part] = {} if child is None else {"": child}
                node = child
            if isinstance(node.get(leaf), dict):
                node[leaf][""] = value
            else:
                node[leaf] = value
        return out

    def set_parameters_as_dict(self, dictionary: Mapping[str, Any]) -> None:
        """Parameters from a nested dict (``{"Args": {"lr": 0.1}}``), once: later changes are not followed."""
        self.set_parameters(flatten(dict(dictionary)))

    def get_configuration_object(self, name: str) -> str | None:
        row = ConfigObject.get_or_none((ConfigObject.experiment == self.id) & (ConfigObject.name == name))
        return row.value if row is not None else None

    def set_user_properties(self, *iterables: Iterable, **properties: Any) -> bool:
        values: dict[str, Any] = {}
        for iterable in iterables:
            items = iterable.items() if isinstance(iterable, Mapping) else iterable
            for item in items:
                if isinstance(item, Mapping):
                    values[str(item["name"])] = {"value": str(item.get("value", "")),
                                                 "description": str(item.get("description") or ""),
                                                 "type": str(item.get("type") or "")}
                else:
                    key, value = item
                    values[str(key)] = {"value": str(value), "description": "", "type": ""}
        for key, value in properties.items():
            values[key] = {"value": str(value), "description": "", "type": ""}
        editing.require(editing.set_user_properties([self.id], values))
        return True

    def get_user_properties(self, value_only: bool = False) -> dict[str, Any]:
        rows = (HyperParam.select().where((HyperParam.experiment == self.id)
                                          & (HyperParam.section == editing.PROPERTIES)))
        if value_only:
            return {p.name: p.value for p in rows}
        return {p.name: {"name": p.name, "value": p.value, "description": p.description} for p in rows}

    # ---- other fields ------------------------------------------------------------------

    def add_tags(self, tags: Sequence[str] | str) -> None:
        actions.add_tags([self.id], [tags] if isinstance(tags, str) else list(tags))

    def set_comment(self, comment: str) -> None:
        actions.set_description([self.id], comment)

    def set_name(self, name: str) -> None:
        actions.rename([self.id], name)

    def set_progress(self, progress: int) -> None:
        if self._reporter is None:
            raise RuntimeError("this Task was read with Task.get_task; only Task.init can report progress")
        self._reporter.progress = max(0, min(100, int(progress)))

    def get_progress(self) -> int | None:
        return Experiment.select(Experiment.progress).where(Experiment.id == self.id).scalar()

    @property
    def output_uri(self) -> str:
        return str(self._output_folder) if self._output_folder else str(self._storage_folder())

    def _storage_folder(self) -> Path:
        return store_files.experiment_folder(self.id)

    def _artifacts_folder(self) -> Path:
        """``<output_uri>/<project path>/<name>.<id>/artifacts`` (the reference's layout) or the storage folder.

        Project and experiment names are user text: each becomes one safe folder name, so
        a name such as "../../x" stays inside the destination.
        """
        if self._output_folder is None:
            return self._storage_folder() / "artifacts"
        exp = Experiment.get_by_id(self.id)
        project_path, project_id = [], exp.project_id
        while project_id is not None:  # projects nest: "team/vision" is "vision" inside "team"
            project = Project.get_by_id(project_id)
            project_path.insert(0, store_files.safe_component(project.name))
            project_id = project.parent_id
        return (self._output_folder.joinpath(*project_path)
                / f"{store_files.safe_component(exp.name)}.{self.id}" / "artifacts")

    def upload_artifact(self, name: str, artifact_object: Any, metadata: Mapping[str, Any] | None = None,
                        delete_after_upload: bool = False, auto_pickle: bool | None = None,
                        preview: Any = None, wait_on_upload: bool = False, extension_name: str | None = None,
                        serialization_function=None, retries: int = 0, sort_keys: bool = True) -> bool:
        """Copy a file, a folder or the files a wildcard matches ("data/*.jpg", zipped), a dict (JSON),
        str, numpy array (.npz), DataFrame (.csv.gz) or PIL image; anything else is pickled (as the
        reference) unless ``auto_pickle=False``. ``serialization_function(obj) -> bytes`` stores its bytes
        (named ``<name><extension_name>``). Uploads finish before the call returns."""
        if serialization_function is not None:
            artifact_object = _SerializedBytes(serialization_function(artifact_object), extension_name or "")
        elif extension_name:
            self._warn_once("extension_name", "exptable: upload_artifact(extension_name=...) is applied only with "
                            "serialization_function; the file type follows the object")
        row = store_artifact(name, artifact_object, self._artifacts_folder(), dict(metadata or {}),
                             auto_pickle=auto_pickle)
        row["in_storage"] = self._output_folder is None
        if preview is not None:
            row["preview"] = str(preview)[:1000]
        recording.record_batch(self.id, artifacts=[row], heartbeat=False)
        if delete_after_upload and isinstance(artifact_object, (str, Path)) and Path(artifact_object).is_file():
            Path(artifact_object).unlink()
        return True

    # ---- reading back ------------------------------------------------------------------

    @classmethod
    def get_task(cls, task_id: str | None = None, project_name: str | None = None, task_name: str | None = None,
                 tags: Sequence[str] | None = None, allow_archived: bool = True,
                 task_filter: Mapping[str, Any] | None = None) -> "Task | None":
        """A Task for reading an experiment back: by id, or the most recently updated one matching
        every filter (see ``sdk.task_query``); None when nothing matches, as the reference."""
        _ensure_database()
        if task_id:
            exp = Experiment.get_or_none(Experiment.id == task_id)
            if exp is None:
                raise ValueError(f"no experiment with id {task_id}")
            return cls(exp.id, live=False)
        if not (project_name or task_name or tags or task_filter):
            raise ValueError("Task.get_task needs task_id, or project_name / task_name / tags / task_filter")
        exp = task_query.get_one(project_name, task_name, tags, allow_archived, task_filter)
        return cls(exp.id, live=False) if exp is not None else None

    @classmethod
    def get_tasks(cls, task_ids: Sequence[str] | None = None, project_name: str | Sequence[str] | None = None,
                  task_name: str | None = None, tags: Sequence[str] | None = None, allow_archived: bool = True,
                  task_filter: Mapping[str, Any] | None = None) -> list["Task"]:
        """Tasks matching the filters (``task_name`` is a regular expression), most recently updated first."""
        _ensure_database()
        rows = task_query.find(task_ids=task_ids, project_name=None if task_ids else project_name,
                               task_name=None if task_ids else task_name, tags=tags,
                               allow_archived=allow_archived, task_filter=task_filter)
        return [cls(row.id, live=False) for row in rows]

    @classmethod
    def query_tasks(cls, project_name: str | Sequence[str] | None = None, task_name: str | None = None,
                    tags: Sequence[str] | None = None, additional_return_fields: Sequence[str] | None = None,
                    task_filter: Mapping[str, Any] | None = None) -> list:
        """Ids of the matching experiments, or with ``additional_return_fields`` a dict per experiment."""
        _ensure_database()
        return task_query.query(project_name, task_name, tags, additional_return_fields, task_filter)

    @property
    def name(self) -> str:
        return Experiment.select(Experiment.name).where(Experiment.id == self.id).scalar()

    @property
    def status(self) -> str:
        return Experiment.select(Experiment.status).where(Experiment.id == self.id).scalar()

    def get_status(self) -> str:
        return self.status

    def get_last_scalar_metrics(self) -> dict[str, dict[str, dict[str, float]]]:
        out: dict[str, dict[str, dict[str, float]]] = {}
        for m in MetricSummary.select().where(MetricSummary.experiment == self.id):
            out.setdefault(m.metric, {})[m.variant] = {"last": m.last, "min": m.min, "max": m.max}
        return out

    def get_reported_scalars(self, max_samples: int = 0, x_axis: str = "iter") -> dict[str, dict[str, dict]]:
        out: dict[str, dict[str, dict]] = {}
        for metric, variant in list_series(self.id):
            series = read_series(self.id, metric, variant)
            x = series.timestamps if x_axis == "timestamp" else series.iterations
            out.setdefault(metric, {})[variant] = {"x": x.tolist(), "y": series.values.tolist()}
        return out

    def get_reported_single_values(self) -> dict[str, float]:
        return {s.name: s.value for s in SingleValue.select().where(SingleValue.experiment == self.id)}

    @property
    def artifacts(self) -> "Mapping[str, Any]":
        """Read-only, name -> ``sdk.artifact_objects.Artifact`` (``.get()``, ``.get_local_copy()``, ``.url``...)."""
        from exptable_desktop.sdk.artifact_objects import ArtifactsView

        self._sync_registered()
        return ArtifactsView(list(Artifact.select().where((Artifact.experiment == self.id)
                                                          & (Artifact.kind == "artifact")).order_by(Artifact.name)))

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

        _ensure_database()
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

    # ---- more of the reference SDK: identity, live objects, models, packages, remote runs ----

    @property
    def task_id(self) -> str:
        return self.id

    @classmethod
    def set_offline(cls, offline_mode: bool = False) -> None:
        """Everything is recorded locally already: nothing to switch (said once on stderr when asked for)."""
        if offline_mode:
            sys.stderr.write("exptable: Task.set_offline(True) changes nothing: runs are always recorded locally\n")

    @classmethod
    def is_offline(cls) -> bool:
        return False

    def get_tags(self) -> list[str]:
        from exptable_desktop.core.queries import tags_of

        return tags_of([self.id])[self.id]

    def remove_tags(self, tags: Sequence[str] | str) -> None:
        actions.remove_tags([self.id], [tags] if isinstance(tags, str) else list(tags))

    def set_tags(self, tags: Sequence[str]) -> None:
        """Exactly these tags."""
        wanted = [tags] if isinstance(tags, str) else list(tags)
        unwanted = [t for t in self.get_tags() if t not in wanted]
        if unwanted:
            self.remove_tags(unwanted)
        if wanted:
            self.add_tags(wanted)

    @staticmethod
    def running_locally() -> bool:
        """False when an agent runs this script (``EXPTABLE_TASK_ID`` set), as the reference."""
        return not os.environ.get(ENV_TASK_ID, "").strip()

    def _warn_once(self, key: str, text: str) -> None:
        if key not in self._warned:
            self._warned.add(key)
            self._warn(text)

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

    def register_artifact(self, name: str, artifact: Any, metadata: Mapping[str, Any] | None = None,
                          uniqueness_columns: Any = True) -> None:
        """Keep a pandas DataFrame stored as it changes: now, on every change (looked at every
        ``live.REGISTERED_CHECK_S``), when unregistered and when the run ends."""
        from exptable_desktop.sdk.artifact_objects import RegisteredArtifacts

        state = self._live_state()
        if state.registered is None:
            state.registered = RegisteredArtifacts(
                lambda n, frame, meta: self.upload_artifact(n, frame, metadata=meta))
        state.registered.register(name, artifact, metadata, uniqueness_columns)

    def unregister_artifact(self, name: str) -> None:
        if self._live_objects is not None and self._live_objects.registered is not None:
            self._live_objects.registered.unregister(name)

    def get_registered_artifacts(self) -> dict[str, Any]:
        """name -> the registered DataFrame itself, as the reference."""
        if self._live_objects is None or self._live_objects.registered is None:
            return {}
        return self._live_objects.registered.objects()

    @property
    def models(self):
        """``{"input": [...], "output": [...]}`` of ``sdk.model.Model``; each list also indexable by name."""
        from exptable_desktop.sdk.model import task_models

        return task_models(self.id)

    def get_models(self):
        return self.models

    def get_last_iteration(self) -> int:
        """The highest iteration reported so far (including reports not yet written), 0 before any."""
        stored = Experiment.select(Experiment.last_iteration).where(Experiment.id == self.id).scalar()
        pending = self._reporter.scalars[2::5] if self._reporter is not None else []
        return max([stored or 0, *[int(i) for i in pending]])

    def get_project_name(self) -> str | None:
        """The project's full name ("team/vision")."""
        project_id = Experiment.select(Experiment.project).where(Experiment.id == self.id).scalar()
        names = []
        while project_id is not None:
            project = Project.get_by_id(project_id)
            names.insert(0, project.name)
            project_id = project.parent_id
        return "/".join(names) or None

    @property
    def project(self) -> int:
        return Experiment.select(Experiment.project).where(Experiment.id == self.id).scalar()

    @property
    def parent(self) -> str | None:
        return Experiment.select(Experiment.parent).where(Experiment.id == self.id).scalar()

    def get_output_log_web_page(self) -> str:
        """The link that opens this experiment in ExpTable (there is no web page)."""
        return f"exptable://experiment/{self.id}"

    @classmethod
    def get_task_output_log_web_page(cls, task_id: str, project_id: str | None = None,
                                     app_server_host: str | None = None) -> str:
        return f"exptable://experiment/{task_id}"

    # Requirements forced by Task.add_requirements (before Task.init), name -> version spec or None.
    _forced_requirements: dict[str, str | None] = {}

    @classmethod
    def add_requirements(cls, package_name: str, package_version: str | None = None) -> None:
        """Add a package to the recorded packages (``None``: its installed version; "" no version; ">=2" a
        spec), or every line of a requirements file. Call it before ``Task.init``, as the reference."""
        if os.path.isfile(package_name):
            cls._forced_requirements.update(capture.requirement_specs(Path(package_name)))
            return
        if cls._current is not None and not cls._current._finished:
            cls._current._warn_once("add_requirements", "exptable: Task.add_requirements is meant to be called "
                                    "before Task.init; recorded anyway")
        cls._forced_requirements[package_name] = package_version

    def set_packages(self, packages: str | Path | Sequence[str] | None) -> None:
        """Replace the recorded packages: a list of requirement lines, a requirements file, or "" for none."""
        if packages is None or self._remote:
            return
        if isinstance(packages, (str, Path)) and str(packages) and Path(packages).is_file():
            text = Path(packages).read_text(encoding="utf-8")
        elif isinstance(packages, str):
            text = packages
        else:
            text = "\n".join(str(p).strip() for p in packages) + "\n"
        self._packages_override = text
        recording.record_execution(self.id, requirements=text)

    def _requirements_text(self) -> str:
        if self._packages_override is not None:
            return self._packages_override
        return capture.requirements_with(capture.imported_packages(), Task._forced_requirements)

    def set_model_label_enumeration(self, enumeration: Mapping[str, int] | None = None) -> None:
        """The labels of this run's models (``{"cat": 0, "dog": 1}``); a new ``OutputModel`` takes them."""
        labels = {str(k): int(v) for k, v in dict(enumeration or {}).items()}
        recording.record_configuration(self.id, LABELS_CONFIGURATION, json.dumps(labels, indent=2),
                                       content_type="json", description="label enumeration of the models")

    def get_labels_enumeration(self) -> dict[str, int]:
        text = self.get_configuration_object(LABELS_CONFIGURATION)
        try:
            return {str(k): int(v) for k, v in json.loads(text).items()} if text else {}
        except (ValueError, AttributeError, TypeError):
            return {}

    def connect_label_enumeration(self, enumeration: dict[str, int],
                                  ignore_remote_overrides: bool = False) -> dict[str, int]:
        """Record the labels; under an agent, the labels stored on the experiment replace them (in place)."""
        if self._remote and not ignore_remote_overrides:
            stored = self.get_labels_enumeration()
            if stored:
                enumeration.clear()
                enumeration.update(stored)
                return enumeration
        self.set_model_label_enumeration(enumeration)
        return enumeration

    @classmethod
    def clone(cls, source_task: "Task | str | None" = None, name: str | None = None, comment: str | None = None,
              parent: "Task | str | None" = None, project: str | None = None) -> "Task":
        """A new Draft with the source's configuration; its parent is ``parent``, else the source's parent,
        else the source (as the reference)."""
        from exptable_desktop.sdk import remote_run

        _ensure_database()
        source = source_task if source_task is not None else cls._current
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

        _ensure_database()
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
            target = Task.clone(self) if clone else self
            Task.enqueue(target, queue_name=queue_name)
            return target
        if not clone and not exit_process:
            raise ValueError("execute_remotely(clone=False) must exit the process: the experiment it "
                             "enqueues is this run")
        if clone:
            self.flush(wait_for_uploads=True)
            self._code_captured.wait(capture.GIT_TIMEOUT_S * 2)  # the clone copies the code facts
            self._record_packages()
            target = Task.clone(self)
        else:
            self._finish(st.ABORTED, "execution continues remotely")
            target = self
        if queue_name:
            Task.enqueue(target, queue_name=queue_name)
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

    def __repr__(self) -> str:
        return f"<Task {self.id}>"


__all__ = ["Task", "TaskTypes", "TaskStatusEnum"]
