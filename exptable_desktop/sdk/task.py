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
import json
import os
import signal
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from exptable_desktop.core import actions, editing, recording
from exptable_desktop.core import states as st
from exptable_desktop.sdk import capture
from exptable_desktop.sdk.artifacts import store_artifact
from exptable_desktop.sdk.logger import Logger
from exptable_desktop.sdk.params import apply_flat, cast as cast_value, flatten, public_attributes, to_text, type_name
from exptable_desktop.sdk.reporter import Reporter
from exptable_desktop.store import files as store_files
from exptable_desktop.store.db import open_database, resolve_db_url
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


def _ensure_database() -> None:
    if database_proxy.obj is None:
        open_database(resolve_db_url(None))


# ---- argparse capture -------------------------------------------------------------------
# Patched when the SDK is imported, because scripts often parse before Task.init;
# what was parsed is kept and connected (and overridden under an agent) at init.

_parsed: list[tuple[argparse.ArgumentParser, argparse.Namespace]] = []
_parse_depth = threading.local()
_original_parse_known_args = argparse.ArgumentParser.parse_known_args


def _patched_parse_known_args(self, args=None, namespace=None):
    depth = getattr(_parse_depth, "value", 0)
    _parse_depth.value = depth + 1
    try:
        result = _original_parse_known_args(self, args, namespace)
    finally:
        _parse_depth.value = depth
    if depth == 0:  # subparsers call this again from inside; the outer call sees everything
        parsed = result[0]
        task = Task._current
        if task is not None and task._argparse_enabled:
            task._connect_argparse(self, parsed)
        else:
            _parsed.append((self, parsed))
    return result


argparse.ArgumentParser.parse_known_args = _patched_parse_known_args


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

        Every call creates a new experiment: reuse of the last one, frameworks
        auto-logging and deferred init of the reference SDK are not offered.
        """
        if cls._current is not None and not cls._current._finished:
            return cls._current
        _ensure_database()
        remote_id = os.environ.get(ENV_TASK_ID, "").strip()
        if remote_id:
            exp = Experiment.get_or_none(Experiment.id == remote_id)
            if exp is None:
                raise RuntimeError(f"{ENV_TASK_ID}={remote_id} names no experiment in {resolve_db_url(None)}")
            recording.set_status(remote_id, st.RUNNING, message="", force=True)
            task = cls(remote_id, live=True)
            task._remote = True
        else:
            if not project_name or not task_name:
                raise ValueError("Task.init needs project_name and task_name")
            kind = str(getattr(task_type, "value", task_type))
            exp_id = recording.create_experiment(project_name, task_name, task_type=kind, status=st.RUNNING,
                                                 tags=list(tags or ()), development=True)
            task = cls(exp_id, live=True)
        cls._current = task
        task._start(output_uri, auto_connect_arg_parser, auto_resource_monitoring, auto_connect_streams)
        if remote_id and tags:
            task.add_tags(tags)
        return task

    def _start(self, output_uri, auto_connect_arg_parser, auto_resource_monitoring, auto_connect_streams) -> None:
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
        self._reporter.start()
        script, module = capture.entry_script()
        self._capture_thread = threading.Thread(target=self._capture_environment, args=(script, module, Path.cwd()),
                                                name="exptable-capture", daemon=True)
        self._capture_thread.start()
        if auto_connect_arg_parser:
            self._argparse_enabled = True
            self._argparse_filter = auto_connect_arg_parser if isinstance(auto_connect_arg_parser, Mapping) else {}
            pending, _parsed[:] = list(_parsed), []
            for parser, namespace in pending:
                self._connect_argparse(parser, namespace)

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
            if not self._finishing.wait(PACKAGES_DELAY_S):
                self._record_packages()
        except Exception as exc:
            if not self._finished:
                self._warn(f"exptable: could not record the environment: {type(exc).__name__}: {exc}")

    def _record_packages(self) -> None:
        text = capture.requirements_text(capture.imported_packages())
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
            self._reporter.stop()
            if not quick:
                try:
                    self._record_packages()
                except Exception as exc:
                    self._warn(f"exptable: could not record packages: {type(exc).__name__}: {exc}")
            if not self._reporter.gone:
                message = "aborted" if status == st.ABORTED else ""
                recording.set_status(self.id, status, reason=reason, message=message)
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
        if self._logger is None:
            raise RuntimeError("this Task was read with Task.get_task; only Task.init gives a logger")
        return self._logger

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
        """Record a dict, Namespace or object as parameters; under an agent, return the edited values."""
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

    def get_parameters_as_dict(self, cast: bool = False) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        for key, value in self.get_parameters(cast=cast).items():
            section, _, name = key.partition("/")
            out.setdefault(section, {})[name] = value
        return out

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

    def upload_artifact(self, name: str, artifact_object: Any, metadata: Mapping[str, Any] | None = None,
                        delete_after_upload: bool = False, auto_pickle: bool | None = None,
                        preview: Any = None, wait_on_upload: bool = False, **_) -> bool:
        """Copy a file, folder (zipped), dict (JSON), str, numpy array (.npy) or DataFrame (.csv.gz)."""
        if self._output_folder is not None:
            project = Project.get_by_id(Experiment.get_by_id(self.id).project_id).name
            folder = self._output_folder / project / f"{self.name}.{self.id}" / "artifacts"
        else:
            folder = self._storage_folder() / "artifacts"
        row = store_artifact(name, artifact_object, folder, dict(metadata or {}))
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
                 task_filter: Mapping[str, Any] | None = None) -> "Task":
        """A Task for reading an experiment's results (the newest one by that name when no id is given)."""
        _ensure_database()
        if task_id:
            exp = Experiment.get_or_none(Experiment.id == task_id)
            if exp is None:
                raise ValueError(f"no experiment with id {task_id}")
            return cls(exp.id, live=False)
        if not task_name:
            raise ValueError("Task.get_task needs task_id, or task_name (and optionally project_name)")
        query = Experiment.select(Experiment.id).where(Experiment.name == task_name)
        if project_name:
            from exptable_desktop.core.projects import find_project
            project = find_project(project_name)
            if project is None:
                raise ValueError(f"no project named {project_name!r}")
            query = query.where(Experiment.project == project.id)
        if not allow_archived:
            query = query.where(Experiment.archived == False)  # noqa: E712
        exp = query.order_by(Experiment.created.desc()).first()
        if exp is None:
            where = f" in project {project_name!r}" if project_name else ""
            raise ValueError(f"no experiment named {task_name!r}{where}")
        return cls(exp.id, live=False)

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
    def artifacts(self) -> dict[str, dict[str, Any]]:
        return {a.name: {"uri": a.uri, "size": a.size, "hash": a.hash, "preview": a.preview,
                         "metadata": json.loads(a.metadata or "{}")}
                for a in Artifact.select().where((Artifact.experiment == self.id) & (Artifact.kind == "artifact"))}

    def __repr__(self) -> str:
        return f"<Task {self.id}>"


__all__ = ["Task", "TaskTypes", "TaskStatusEnum"]
