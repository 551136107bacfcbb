"""What a run records about itself without being asked: code, packages, machine, console."""
from __future__ import annotations

import getpass
import os
import platform
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from typing import Any

from exptable_desktop.core.recording import storable_text
from exptable_desktop.store.remote_urls import without_credentials

GIT_TIMEOUT_S = 10


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=str(cwd), capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def entry_script() -> tuple[Path | None, str | None]:
    """(script path, module name) of what ``python`` was asked to run."""
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    module = spec.name if spec is not None and spec.name != "__main__" else None
    path = getattr(main, "__file__", None)
    if path:
        return Path(path).resolve(), module
    return None, module


def code_facts(script: Path | None, module: str | None, cwd: Path) -> dict[str, Any]:
    """Execution fields: repository, branch, commit, diff (or the script text), entry point, working dir."""
    facts: dict[str, Any] = {"binary": f"python{sys.version_info.major}.{sys.version_info.minor}",
                             "entry_kind": "module" if module else "script"}
    probe_dir = script.parent if script else cwd
    root_text = _git(["rev-parse", "--show-toplevel"], probe_dir)
    if root_text and root_text.strip():
        root = Path(root_text.strip()).resolve()
        work = cwd if (cwd == root or root in cwd.parents) else (script.parent if script else root)
        facts["working_dir"] = os.path.relpath(work, root).replace(os.sep, "/")
        if module:
            facts["entry_point"] = module
        elif script:
            facts["entry_point"] = os.path.relpath(script, work).replace(os.sep, "/")
        facts["repository"] = _remote_url(root)
        branch = (_git(["rev-parse", "--abbrev-ref", "--symbolic-full-name", "@{u}"], root)
                  or _git(["rev-parse", "--abbrev-ref", "HEAD"], root) or "").strip()
        facts["branch"] = branch.split("/", 1)[1] if "/" in branch and branch.startswith("origin/") else branch
        facts["commit"] = (_git(["rev-parse", "HEAD"], root) or "").strip()
        facts["diff"] = _git(["diff", "--no-color", "--no-ext-diff", "--src-prefix=a/", "--dst-prefix=b/",
                              "--submodule=diff", "HEAD"], root) or ""
    else:
        facts["repository"] = ""
        facts["working_dir"] = str(cwd)
        facts["entry_point"] = module or (str(script) if script else "")
        if script and script.is_file():
            try:
                facts["diff"] = script.read_text(encoding="utf-8", errors="replace")
            except OSError:
                facts["diff"] = ""
    return facts


def _remote_url(root: Path) -> str:
    """The origin's URL (else the first remote's) without the user name and token a clone URL may carry."""
    url = (_git(["config", "--get", "remote.origin.url"], root) or "").strip()
    if not url:
        remotes = (_git(["remote"], root) or "").split()
        if remotes:
            url = (_git(["config", "--get", f"remote.{remotes[0]}.url"], root) or "").strip()
    return without_credentials(url)


def imported_packages() -> dict[str, str]:
    """Installed distributions providing the top-level modules imported so far, with versions."""
    from importlib import metadata

    try:
        owners = metadata.packages_distributions()
    except Exception:
        owners = {}
    stdlib = getattr(sys, "stdlib_module_names", frozenset())
    found: dict[str, str] = {}
    for name in list(sys.modules):
        top = name.partition(".")[0]
        if not top or top.startswith("_") or top in stdlib or top == "__main__":
            continue
        for dist in owners.get(top, ()):
            if dist in found:
                continue
            try:
                found[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
    return dict(sorted(found.items(), key=lambda kv: kv[0].lower()))


def requirements_text(packages: dict[str, str]) -> str:
    header = f"# Python {sys.version.split()[0]} ({platform.python_implementation()})\n\n"
    return header + "".join(f"{name} == {version}\n" for name, version in packages.items())


def runtime_facts() -> dict[str, Any]:
    facts: dict[str, Any] = {
        "host": socket.gethostname(),
        "os": platform.platform(),
        "cpu_count": os.cpu_count(),
        "python_version": platform.python_version(),
        "python_executable": sys.executable,
        "pid": os.getpid(),
        "user": _login(),
    }
    try:
        import psutil
        facts["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 2)
    except Exception:
        pass
    gpus = gpu_facts()
    if gpus:
        facts["gpu"] = gpus
        facts["gpu_count"] = len(gpus)
    return facts


def _login() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return os.environ.get("USER", "")


def gpu_facts() -> list[dict[str, str]]:
    """GPUs nvidia-smi can see, or [] without one."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return []
    try:
        done = subprocess.run([exe, "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                              capture_output=True, text=True, timeout=5, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return []
    out = []
    for line in done.stdout.splitlines() if done.returncode == 0 else ():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 3:
            out.append({"name": parts[0], "memory": parts[1], "driver": parts[2]})
    return out


def stream_handlers() -> list:
    """Every ``logging.StreamHandler`` attached to a logger so far."""
    import logging

    loggers = [logging.getLogger()] + [item for item in logging.Logger.manager.loggerDict.values()
                                       if isinstance(item, logging.Logger)]
    return [h for lg in loggers for h in lg.handlers
            if isinstance(h, logging.StreamHandler) and not isinstance(h, logging.FileHandler)]


class ConsoleTee:
    """A text stream that still prints and also queues whole lines for the console log.

    Lines are queued as the database can store them (``recording.storable_text``):
    a NUL printed by the script shows as U+FFFD in the log, and the terminal gets it unchanged.
    """

    def __init__(self, original, level: str, sink: deque):
        self._original = original
        self._level = level
        self._sink = sink
        self._partial = ""
        self._lock = threading.Lock()

    def write(self, text: str) -> int:
        written = self._original.write(text)
        if text:
            lines: list[str] = []
            with self._lock:  # threads print too; their partial lines must not interleave
                data = self._partial + text
                if "\n" in data or "\r" in data:
                    lines = data.replace("\r\n", "\n").split("\n")
                    self._partial = lines.pop()
                else:
                    self._partial = data
            # Queued outside the lock: a full buffer makes the append wait for the writer
            # thread, which must never wait for this lock in turn (a warning it prints).
            now = time.time() if lines else 0.0
            for line in lines:
                # A carriage return redraws a line (progress bars): keep what was drawn last.
                self._sink.append((now, self._level, storable_text(line.rsplit("\r", 1)[-1])))
        return written if written is not None else len(text)

    def flush_partial(self) -> None:
        if self._partial:
            self._sink.append((time.time(), self._level, storable_text(self._partial.rsplit("\r", 1)[-1])))
            self._partial = ""

    def flush(self) -> None:
        self._original.flush()

    @property
    def original(self):
        return self._original

    def __getattr__(self, name):
        return getattr(self._original, name)


class MachineMonitor:
    """Samples the machine with psutil as ``:monitor:machine`` scalars (x = seconds since start)."""

    TITLE = ":monitor:machine"

    def __init__(self, report, interval: float):
        import psutil

        self._psutil = psutil
        self._report = report
        self.interval = interval
        self._start = time.time()
        self._last = (time.time(), psutil.net_io_counters(), psutil.disk_io_counters())
        psutil.cpu_percent(None)

    def sample(self) -> None:
        ps = self._psutil
        now = time.time()
        x = int(round(now - self._start))
        mem = ps.virtual_memory()
        self._report(self.TITLE, "cpu_usage", ps.cpu_percent(None), x)
        self._report(self.TITLE, "memory_used_gb", (mem.total - mem.available) / 2**30, x)
        self._report(self.TITLE, "memory_free_gb", mem.available / 2**30, x)
        try:
            self._report(self.TITLE, "disk_free_percent", 100.0 - ps.disk_usage(str(Path.cwd())).percent, x)
        except OSError:
            pass
        then, net_then, disk_then = self._last
        net, disk = ps.net_io_counters(), ps.disk_io_counters()
        span = max(now - then, 1e-6)
        if net is not None and net_then is not None:
            self._report(self.TITLE, "network_tx_mbs", (net.bytes_sent - net_then.bytes_sent) / span / 2**20, x)
            self._report(self.TITLE, "network_rx_mbs", (net.bytes_recv - net_then.bytes_recv) / span / 2**20, x)
        if disk is not None and disk_then is not None:
            self._report(self.TITLE, "io_read_mbs", (disk.read_bytes - disk_then.read_bytes) / span / 2**20, x)
            self._report(self.TITLE, "io_write_mbs", (disk.write_bytes - disk_then.write_bytes) / span / 2**20, x)
        self._last = (now, net, disk)
