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


_entry_seen: tuple[Path, str | None] | None = None


def entry_script() -> tuple[Path | None, str | None]:
    """(script path, module name) of what ``python`` was asked to run.

    Python deletes ``__main__.__file__`` once the script has run, before the exit handlers: what
    was seen while it ran is kept for them.
    """
    global _entry_seen
    main = sys.modules.get("__main__")
    spec = getattr(main, "__spec__", None)
    module = spec.name if spec is not None and spec.name != "__main__" else None
    path = getattr(main, "__file__", None)
    if path:
        _entry_seen = (Path(path).resolve(), module)
        return _entry_seen
    if _entry_seen is not None:
        return _entry_seen
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


# Top-level modules that arrived while the SDK imported itself (noted by sdk/__init__.py): the
# SDK's, not the script's, unless the script's own files import them too.
_sdk_imported: frozenset[str] = frozenset()
SDK_DISTRIBUTION = "exptable-desktop"


def _top_names(names) -> set[str]:
    return {name.partition(".")[0] for name in names}


def note_sdk_import(modules_before: frozenset[str]) -> None:
    global _sdk_imported
    _sdk_imported = frozenset(_top_names(list(sys.modules)) - _top_names(modules_before))


def _canonical(name: str) -> str:
    return name.replace("_", "-").replace(".", "-").lower()


def _sdk_requirement_names() -> set[str]:
    """The distributions the SDK itself requires (peewee, psutil, numpy...), canonical names."""
    import re
    from importlib import metadata

    try:
        requires = metadata.requires(SDK_DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        requires = ["peewee", "platformdirs", "numpy", "psutil", "psycopg2-binary", "PySide6", "pyqtgraph"]
    names = set()
    for spec in requires:
        if "extra ==" in spec or "extra==" in spec:
            continue
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        if match:
            names.add(_canonical(match.group(1)))
    return names


def _library_file(path: Path) -> bool:
    parts = {part.lower() for part in path.parts}
    return bool(parts & {"site-packages", "dist-packages"}) or path.is_relative_to(Path(sys.prefix).resolve()) \
        or path.is_relative_to(Path(sys.base_prefix).resolve())


def script_files(script: Path | None) -> list[Path]:
    """The entry script and the script's own modules imported so far (files beside it, not libraries)."""
    if script is None or not script.is_file():
        return []
    folder = script.resolve().parent
    files = {script.resolve()}
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if not name or not name.endswith(".py"):
            continue
        path = Path(name).resolve()
        if path.is_relative_to(folder) and not _library_file(path):
            files.add(path)
    return sorted(files)


def script_imports(files: list[Path]) -> set[str]:
    """Top-level names the files import (``import a.b`` and ``from a import b``; relative imports are local)."""
    import ast

    found: set[str] = set()
    for path in files:
        try:
            tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"))
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.partition(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.partition(".")[0])
    return found


def imported_packages(script: Path | None = None) -> dict[str, str]:
    """Installed distributions providing the top-level modules the script imported, with versions.

    Modules the SDK brought in (while it was imported, or its own required packages such as
    peewee, psutil, numpy) count only when the script's own files import them as well.
    """
    from importlib import metadata

    try:
        owners = metadata.packages_distributions()
    except Exception:
        owners = {}
    if script is None:
        script = entry_script()[0]
    files = script_files(script)
    own_imports = script_imports(files) if files else set()
    sdk_requirements = _sdk_requirement_names()
    stdlib = getattr(sys, "stdlib_module_names", frozenset())
    found: dict[str, str] = {}
    for top in sorted(_top_names(list(sys.modules))):
        if not top or top.startswith("_") or top in stdlib or top == "__main__":
            continue
        dists = owners.get(top, ())
        sdk_brought = top in _sdk_imported or any(_canonical(d) in sdk_requirements for d in dists)
        if sdk_brought and top not in own_imports:
            continue
        for dist in dists:
            if dist in found:
                continue
            try:
                found[dist] = metadata.version(dist)
            except metadata.PackageNotFoundError:
                continue
    return dict(sorted(found.items(), key=lambda kv: kv[0].lower()))


def requirement_specs(path: Path) -> dict[str, str]:
    """name -> version spec (">=2", "==1.0", "") of each line of a requirements file."""
    import re

    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line and not line.startswith("-"):
            name = re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0]
            out[name] = line[len(name):].strip()
    return out


def requirements_with(packages: dict[str, str], forced: dict[str, str | None]) -> str:
    """The requirements text of ``packages`` plus those ``Task.add_requirements`` forced: a version
    ("1.2"), a spec (">=2"), "" (no version) or None (the installed version)."""
    from importlib import metadata

    packages = dict(packages)
    lines = []
    for name, version in forced.items():
        canonical = _canonical(name)
        installed = None
        for found in [n for n in packages if _canonical(n) == canonical]:
            installed = packages.pop(found)
        if version is None:
            try:
                version = installed or metadata.version(name)
            except metadata.PackageNotFoundError:
                version = ""
        if version and version[0] not in "<>=!~":
            lines.append(f"{name} == {version}")
        else:
            lines.append(f"{name}{version}")
    return requirements_text(packages) + "".join(f"{line}\n" for line in lines)


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
