"""``exptable agent``: a worker that takes queued experiments and runs them, one at a time.

For each experiment it claims (``core.queues.claim_next``: the entry leaves the
queue and the experiment becomes Running with this worker recorded), the
agent makes a fresh working copy, prepares the Python environment, and runs
the entry point with ``EXPTABLE_TASK_ID``, ``EXPTABLE_DB`` and
``EXPTABLE_WORKER`` set, so the SDK inside attaches and applies the values
edited in the Draft. The script's stdout and stderr go to the experiment's
console as they come. Its exit code ends the run Completed or Failed, unless
the SDK inside already recorded how it ended. Any failure on the way is
recorded on the experiment; the agent carries on with the next entry.
"""
from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from exptable_desktop.agent import docker as docker_mode
from exptable_desktop.agent.console import ConsoleSink
from exptable_desktop.agent.environment import (
    EnvSetupError,
    PythonEnv,
    cache_root,
    cached_venv,
    requirement_lines,
    resolve_binary,
    resolve_requirements,
    venv_python,
)
from exptable_desktop.agent.process import DEFAULT_GRACE_S, Outcome, SetupStopped, StopRequest, run_streaming
from exptable_desktop.agent.workcopy import CodeError, WorkingCopy, make_working_copy
from exptable_desktop.core import queues, recording
from exptable_desktop.core import states as st
from exptable_desktop.core.create import FORCE_TASK_INIT_ARG
from exptable_desktop.core.repos import RepoError
from exptable_desktop.store import files as store_files
from exptable_desktop.store.db import sqlite_path
from exptable_desktop.store.schema import Execution, Experiment, database_proxy

DEFAULT_POLL_S = 0.5
STATS_EVERY_S = 5.0
PRUNE_EVERY_S = 600.0
ENV_FORCE_TASK_INIT = "EXPTABLE_FORCE_TASK_INIT"


@dataclass
class AgentOptions:
    """How an agent runs: its database, queues, name, GPUs, Docker use, poll interval and stop grace time."""
    db_url: str
    queues: list[str] = field(default_factory=lambda: ["default"])
    name: str | None = None
    once: bool = False
    gpus: list[str] | None = None
    cpu_only: bool = False
    docker: bool = False
    docker_image: str = ""  # used for experiments that name no image
    poll: float = DEFAULT_POLL_S
    grace: float = DEFAULT_GRACE_S
    verbose: bool = False


class Agent:
    """A worker process: claims queued experiments one at a time and runs each in a fresh working copy."""
    def __init__(self, options: AgentOptions):
        self.options = options
        self.name = ""
        self._stopping = threading.Event()
        self._heartbeat_stop = threading.Event()
        self._heartbeat_thread: threading.Thread | None = None
        self._sdk_path: str | None = None

    # ---- life cycle ------------------------------------------------------------------

    def request_stop(self, *_args) -> None:
        self._stopping.set()

    def run(self) -> int:
        self.name = queues.register_worker(self.options.name, self.options.queues)
        self._say(f"worker {self.name} listening to {', '.join(self.options.queues)}"
                  + (" (one experiment, then exit)" if self.options.once else ""))
        self._heartbeat_thread = threading.Thread(target=self._beat, name="exptable-agent-heartbeat", daemon=True)
        self._heartbeat_thread.start()
        try:
            self._loop()
        finally:
            self._heartbeat_stop.set()
            if self._heartbeat_thread is not None:
                self._heartbeat_thread.join(5.0)
            try:
                queues.set_worker_state(self.name, "stopped")
            except Exception as exc:
                self._warn(f"could not record that worker {self.name} stopped: {exc}")
        return 0

    def _loop(self) -> None:
        failures = 0
        while not self._stopping.is_set():
            try:
                claim = None
                if queues.has_pending(self.options.queues):
                    began = time.perf_counter()
                    claim = queues.claim_next(self.name, self.options.queues)
                    claim_seconds = time.perf_counter() - began
                failures = 0
            except Exception as exc:  # the database is away or locked for long: try again, quietly
                failures += 1
                if failures == 1 or failures % 60 == 0:
                    self._warn(f"cannot read the queues: {type(exc).__name__}: {exc}")
                _close_thread_connection()  # a server that went away needs a new connection
                self._stopping.wait(min(5.0, self.options.poll * (1 + failures)))
                continue
            if claim is None:
                self._stopping.wait(self.options.poll)
                continue
            try:
                self.run_claimed(claim, claim_seconds)
            except Exception as exc:  # not even the failure could be recorded (the database went away)
                self._warn(f"could not record how {claim.experiment_id} ended: {type(exc).__name__}: {exc}")
                _close_thread_connection()
            if self.options.once:
                return

    def _beat(self) -> None:
        try:
            sampler = _sampler(self.options)
        except Exception as exc:
            self._warn(f"resource monitoring is off: {exc}")
            sampler = None
        interval = queues.agent_heartbeat_interval()
        next_stat = 0.0
        next_prune = time.monotonic() + 5.0
        warned = False
        while not self._heartbeat_stop.wait(interval):
            now = time.monotonic()
            try:
                resources = sampler.sample() if sampler is not None else None
                queues.worker_heartbeat(self.name, resources, record_stat=now >= next_stat)
                if now >= next_stat:
                    next_stat = now + STATS_EVERY_S
                if now >= next_prune:
                    next_prune = now + PRUNE_EVERY_S
                    queues.prune_worker_stats(self.name)
                warned = False
            except Exception as exc:
                if not warned:
                    self._warn(f"heartbeat failed, will retry: {type(exc).__name__}: {exc}")
                    warned = True
                _close_thread_connection()
        _close_thread_connection()

    # ---- one experiment --------------------------------------------------------------------

    def run_claimed(self, claim: queues.Claim, claim_seconds: float = 0.0) -> str | None:
        """Run one claimed experiment to its end; returns its final status (None when it went away)."""
        exp_id = claim.experiment_id
        sink = ConsoleSink(exp_id, echo=sys.stdout if self.options.verbose else None)
        waited = max(0.0, claim.claimed - claim.added)
        self._say(f"running {exp_id} from queue {claim.queue} (waited {waited:.2f} s, "
                  f"claimed in {claim_seconds * 1000:.1f} ms)")
        sink.agent(f"worker {self.name} pulled experiment {exp_id} from queue {claim.queue}")
        workdir = Path(tempfile.mkdtemp(prefix=f"exptable-run-{exp_id[:8]}-"))
        container: str | None = None
        try:
            execution = _execution_of(exp_id)
            check = self._watch(exp_id, sink)

            def run(argv: list[str], cwd: str) -> Outcome:
                return run_streaming(argv, cwd=cwd, env=_setup_env(), sink=sink, should_stop=check,
                                     grace=self.options.grace)
            force_init = FORCE_TASK_INIT_ARG in (execution.get("container_args") or "") \
                or os.environ.get(ENV_FORCE_TASK_INIT) == "1"
            copy = make_working_copy(execution, workdir, run=run, sink=sink, force_task_init=force_init)
            image = (execution.get("container_image") or "").strip() or self.options.docker_image
            if self.options.docker and image:
                container = docker_mode.container_name(exp_id)
                argv = self._docker_argv(exp_id, execution, copy, image, force_init)
            else:
                env = self._environment(execution, copy, run, sink, check, force_init)
                argv = [env.python, "-u", *copy.entry]
            sink.last_error_lines.clear()  # a failure's reason is the script's own last error line
            sink.agent("starting " + " ".join(shlex.quote(a) for a in ([*argv[:2], "…"] if container else argv))
                       + f" in {copy.cwd}")
            outcome = run_streaming(argv, cwd=str(copy.cwd), env=self._script_env(exp_id, copy), sink=sink,
                                    should_stop=check, grace=self.options.grace)
            return self._finish(exp_id, outcome, sink)
        except SetupStopped as stopped:
            return self._finish(exp_id, Outcome(None, stopped.request), sink)
        except (CodeError, EnvSetupError, RepoError) as exc:
            return self._fail(exp_id, str(exc), sink)
        except Exception as exc:
            self._warn(f"error while running {exp_id}:\n{traceback.format_exc()}")
            return self._fail(exp_id, f"agent error: {type(exc).__name__}: {exc}", sink)
        finally:
            if container:
                _remove_container(container)
            shutil.rmtree(workdir, ignore_errors=True)
            try:
                queues.set_worker_state(self.name, "idle")
            except Exception as exc:
                self._warn(f"could not record that worker {self.name} is idle: {exc}")

    def _watch(self, exp_id: str, sink: ConsoleSink):
        """The stop check run every half second: writes the console, then reads whether to stop."""
        def check() -> StopRequest | None:
            if self._stopping.is_set():
                return StopRequest(f"worker {self.name} was stopped", by_agent=True)
            try:
                row = sink.flush()
            except recording.UnknownExperiment:
                return StopRequest("the experiment was deleted", gone=True)
            except recording.ReadOnlyError as exc:
                return StopRequest(str(exc), gone=True)
            if row is None:
                found = (Experiment.select(Experiment.status, Experiment.status_message)
                         .where(Experiment.id == exp_id).dicts().first())
                if found is None:
                    return StopRequest("the experiment was deleted", gone=True)
                row = found
            if row["status"] in (st.DRAFT, st.PENDING):
                return StopRequest("the experiment was reset or enqueued again", gone=True)
            if row["status"] == st.ABORTED or row["status_message"] == "stopping":
                return StopRequest("aborted")
            return None
        return check

    def _finish(self, exp_id: str, outcome: Outcome, sink: ConsoleSink) -> str | None:
        if outcome.start_error:
            return self._fail(exp_id, outcome.start_error, sink)
        stop = outcome.stop
        if stop is not None and stop.gone:
            self._say(f"{exp_id}: {stop.reason}; nothing more recorded")
            return None
        if stop is not None:
            sink.agent(f"process stopped ({stop.reason})")
        elif outcome.returncode == 0:
            sink.agent("process completed successfully")
        else:
            sink.agent(f"process failed: {_exit_text(outcome.returncode)}")
        _final_flush(sink)
        row = Experiment.select(Experiment.status, Experiment.status_message, Experiment.status_reason).where(
            Experiment.id == exp_id).first()
        if row is None:
            return None
        if stop is not None:
            if row.status == st.RUNNING or (row.status == st.ABORTED and row.status_message == "stopping"):
                # Abort's own reason ("Aborted by user", "Archived") unless the agent itself stopped it.
                reason = stop.reason if stop.by_agent else (row.status_reason or stop.reason)
                recording.set_status(exp_id, st.ABORTED, reason=reason, message="aborted")
            status = st.ABORTED if row.status == st.RUNNING else row.status
        elif row.status != st.RUNNING:
            status = row.status  # the SDK inside recorded how the run ended: its word stands
        elif outcome.returncode == 0:
            recording.set_status(exp_id, st.COMPLETED, message="")
            status = st.COMPLETED
        else:
            reason = _exit_text(outcome.returncode)
            last = sink.last_error_lines[-1] if sink.last_error_lines else ""
            if last and not last.startswith("[agent]"):
                reason += f": {last[:300]}"
            recording.set_status(exp_id, st.FAILED, reason=reason, message="")
            status = st.FAILED
        self._say(f"{exp_id}: {st.status_label(status)}")
        return status

    def _fail(self, exp_id: str, reason: str, sink: ConsoleSink) -> str | None:
        sink.add(f"[agent] failed: {reason}", "error")
        _final_flush(sink)
        status = Experiment.select(Experiment.status).where(Experiment.id == exp_id).scalar()
        if status == st.RUNNING:
            recording.set_status(exp_id, st.FAILED, reason=reason, message="")
            status = st.FAILED
        self._say(f"{exp_id}: Failed: {reason}")
        return status

    # ---- environment ---------------------------------------------------------------------

    def _environment(self, execution: dict, copy: WorkingCopy, run, sink: ConsoleSink, check,
                     force_init: bool) -> PythonEnv:
        kind = (execution.get("environment") or "pip").strip()
        binary = (execution.get("binary") or "").strip()
        if kind == "venv":
            venv = Path(binary).expanduser()
            python = venv_python(venv)
            if not python.exists():
                raise EnvSetupError(f"pre-installed venv {venv} has no {python.relative_to(venv)}")
            sink.agent(f"using the pre-installed venv {venv}")
            return PythonEnv(str(python), venv)
        notes: list[str] = []
        base = resolve_binary(binary, notes)
        for note in notes:
            sink.agent(note)
        # The text is what counts (it may have been edited in the Draft); NULL means the repository's file.
        requirements = execution.get("requirements")
        if requirements is None and kind != "none":
            found = _repository_requirements(copy)
            if found is not None:
                sink.agent(f"installing {found.relative_to(copy.root)} of the repository")
                requirements = found.read_text(encoding="utf-8", errors="replace")
        lines = requirement_lines(requirements)
        if not lines:
            if force_init and base != sys.executable:
                lines = resolve_requirements([], needs_sdk=True)
            else:
                sink.agent(f"no packages to install; running with {base}")
                return PythonEnv(base)
        lines = resolve_requirements(lines, needs_sdk=force_init)
        return cached_venv(lines, base, run=run, log=sink.agent, should_stop=check, cwd=str(copy.root))

    def _sdk_dir(self) -> str:
        """A folder holding only this agent's ``exptable_desktop`` package (for PYTHONPATH), so a
        script in a venv of its own imports the SDK of the agent that runs it and nothing else."""
        if self._sdk_path is None:
            package = Path(__file__).resolve().parents[1]
            shim = cache_root() / "sdk" / hashlib.sha1(str(package).encode()).hexdigest()[:12]
            link = shim / package.name
            try:
                shim.mkdir(parents=True, exist_ok=True)
                if not link.exists():
                    link.symlink_to(package, target_is_directory=True)
                self._sdk_path = str(shim)
            except OSError:
                self._sdk_path = str(package.parent)
        return self._sdk_path

    def _script_env(self, exp_id: str, copy: WorkingCopy) -> dict:
        env = dict(os.environ)
        env.update({
            "EXPTABLE_TASK_ID": exp_id,
            "EXPTABLE_DB": self.options.db_url,
            "EXPTABLE_WORKER": self.name,
            # The agent records the console itself; the SDK would write every line twice.
            "EXPTABLE_SDK_CONSOLE": "0",
            "PYTHONUNBUFFERED": "1",
        })
        env.pop(ENV_FORCE_TASK_INIT, None)
        paths = [str(copy.cwd), self._sdk_dir()] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
        if self.options.cpu_only:
            env["CUDA_VISIBLE_DEVICES"] = ""
        elif self.options.gpus and self.options.gpus != ["all"]:
            env["CUDA_VISIBLE_DEVICES"] = env["NVIDIA_VISIBLE_DEVICES"] = ",".join(self.options.gpus)
        return env

    def _docker_argv(self, exp_id: str, execution: dict, copy: WorkingCopy, image: str, force_init: bool) -> list[str]:
        lines = requirement_lines(execution.get("requirements"))
        if execution.get("requirements") is None and execution.get("environment") != "none":
            found = _repository_requirements(copy)
            lines = requirement_lines(found.read_text()) if found is not None else []
        lines = resolve_requirements(lines, needs_sdk=True) if (lines or force_init) else []
        if lines:
            (copy.root / ".exptable-requirements.txt").write_text("\n".join(lines) + "\n")
        mounts = []
        db_file = sqlite_path(self.options.db_url)
        if db_file is not None:
            folder = str(Path(db_file).resolve().parent)
            mounts.append((folder, folder))
        files_root = str(store_files.storage_root().resolve())
        if not any(files_root == m[0] or files_root.startswith(m[0] + os.sep) for m in mounts):
            mounts.append((files_root, files_root))
        env = {"EXPTABLE_TASK_ID": exp_id, "EXPTABLE_DB": self.options.db_url, "EXPTABLE_WORKER": self.name,
               "EXPTABLE_SDK_CONSOLE": "0", "EXPTABLE_FILES": files_root}
        working_dir = os.path.relpath(copy.cwd, copy.root).replace(os.sep, "/")
        return docker_mode.docker_command(
            image=image, experiment_id=exp_id, entry=copy.entry, working_dir=working_dir, code_dir=str(copy.root),
            env=env, container_args=execution.get("container_args") or "",
            setup_script=execution.get("container_setup") or "", install_requirements=bool(lines),
            sdk_dir=self._sdk_dir(), mounts=mounts, gpus=self.options.gpus, cpu_only=self.options.cpu_only)

    # ---- output ---------------------------------------------------------------------------

    def _say(self, text: str) -> None:
        print(f"exptable agent {self.name}: {text}", flush=True)

    def _warn(self, text: str) -> None:
        print(f"exptable agent {self.name}: {text}", file=sys.stderr, flush=True)


# ---- helpers ----------------------------------------------------------------------------------

def _sampler(options: AgentOptions):
    from exptable_desktop.agent.resources import ResourceSampler
    return ResourceSampler(options.gpus, options.cpu_only)


def _execution_of(exp_id: str) -> dict:
    row = Execution.select().where(Execution.experiment == exp_id).dicts().first()
    if row is None:
        raise CodeError("the experiment has no execution details (repository, entry point) to run")
    return row


def _repository_requirements(copy: WorkingCopy) -> Path | None:
    """requirements.txt of the working directory, else of the repository root."""
    for folder in (copy.cwd, copy.root):
        candidate = folder / "requirements.txt"
        if candidate.is_file():
            return candidate
    return None


def _setup_env() -> dict:
    env = dict(os.environ)
    env["GIT_TERMINAL_PROMPT"] = "0"
    env.setdefault("GIT_SSH_COMMAND", "ssh -oBatchMode=yes")
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"killed by signal {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _final_flush(sink: ConsoleSink) -> None:
    for _attempt in range(3):
        try:
            sink.flush()
        except (recording.UnknownExperiment, recording.ReadOnlyError):
            return
        if not sink.pending():
            return
        time.sleep(0.2)


def _remove_container(name: str) -> None:
    import subprocess
    try:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        pass


def _close_thread_connection() -> None:
    db = database_proxy.obj
    if db is not None:
        try:
            db.close()
        except Exception:
            pass
