"""The Python an experiment runs with: as given, or a virtual environment made once per set of requirements.

A venv is cached under the user cache folder by the hash of its requirements
and the Python version, so a second run with the same requirements starts at
once. It is made with ``uv`` when that is installed, else ``venv`` + pip, in
place and under a file lock (venvs do not survive being moved), and only a
venv whose installation finished (``.exptable-ready``) is ever used.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import platformdirs

from exptable_desktop.agent.process import Outcome, SetupStopped, StopRequest

READY_MARK = ".exptable-ready"
SDK_DISTRIBUTION = "exptable-desktop"
# The SDK's runtime needs; the desktop window's (Qt, plots) are not wanted in a run's venv.
UI_ONLY = {"pyside6", "pyqtgraph"}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_VERSIONED_BINARY = re.compile(r"^python(\d+)(?:\.(\d+))?$")


class EnvSetupError(Exception):
    """The environment cannot be prepared; the text is one line for the experiment's status reason."""


@dataclass
class PythonEnv:
    """The Python an experiment runs with: the interpreter, its virtual environment, and what preparing it did."""
    python: str  # the interpreter to run the entry point with
    venv: Path | None = None
    installed: bool = False  # packages were installed for this run (False: cached, or none needed)
    notes: list[str] = field(default_factory=list)


def cache_root() -> Path:
    return Path(platformdirs.user_cache_dir("ExpTable", appauthor=False))


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def requirement_lines(text: str | None) -> list[str]:
    """The requirement lines of a requirements text: comments and blank lines dropped."""
    out = []
    for raw in (text or "").splitlines():
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if line:
            out.append(line)
    return out


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str | None:
    if line.startswith(("-", ".", "/")) or "://" in line or line.endswith((".whl", ".tar.gz", ".zip")):
        return None
    match = _NAME.match(line)
    return _canonical(match.group(1)) if match else None


def sdk_requirements() -> list[str]:
    """What the SDK needs in a venv it did not come from (its own package is put on PYTHONPATH)."""
    from importlib import metadata

    try:
        requires = metadata.requires(SDK_DISTRIBUTION) or []
    except metadata.PackageNotFoundError:
        requires = ["peewee>=3.17", "platformdirs>=4", "numpy>=1.24", "psutil>=5.9", "psycopg2-binary>=2.9"]
    out = []
    for spec in requires:
        requirement, _, marker = spec.partition(";")
        if "extra ==" in marker or "extra==" in marker:
            continue
        name = requirement_name(requirement)
        if name and name not in UI_ONLY:
            out.append(requirement.strip())
    return sorted(dict.fromkeys(out))


def resolve_requirements(lines: list[str], *, needs_sdk: bool) -> list[str]:
    """The lines to install: a line naming ExpTable itself (recorded by the SDK) becomes the SDK's needs."""
    kept = [line for line in lines if requirement_name(line) != _canonical(SDK_DISTRIBUTION)]
    if needs_sdk or len(kept) != len(lines):
        present = {requirement_name(line) for line in kept}
        kept += [r for r in sdk_requirements() if requirement_name(r) not in present]
    return kept


def python_version(python: str) -> str:
    done = subprocess.run([python, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"],
                          capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise EnvSetupError(f"Python {python} does not run: {(done.stderr or '').strip()[:200]}")
    return done.stdout.strip()


def resolve_binary(binary: str, notes: list[str] | None = None) -> str:
    """The interpreter named by an experiment's ``binary``: "" is the agent's own Python; a
    "python3.11" the SDK recorded is the agent's own when the versions agree, else that
    interpreter from PATH (the agent's own, with a note, when PATH has none)."""
    binary = (binary or "").strip()
    if not binary:
        return sys.executable
    match = _VERSIONED_BINARY.match(binary)
    if match:
        major, minor = int(match.group(1)), match.group(2)
        if major == sys.version_info.major and (minor is None or int(minor) == sys.version_info.minor):
            return sys.executable
        found = shutil.which(binary)
        if found:
            return found
        if notes is not None:
            notes.append(f"{binary} is not installed here; using {sys.executable} "
                         f"(Python {sys.version_info.major}.{sys.version_info.minor})")
        return sys.executable
    if os.sep in binary or (os.altsep and os.altsep in binary):
        path = Path(binary).expanduser()
        if not path.exists():
            raise EnvSetupError(f"Python binary {binary} not found")
        return str(path)
    found = shutil.which(binary)
    if not found:
        raise EnvSetupError(f"Python binary {binary!r} not found on PATH")
    return found


def venv_key(lines: list[str], version: str) -> str:
    text = f"python {version}\n" + "\n".join(lines) + "\n"
    return hashlib.sha256(text.encode()).hexdigest()[:20]


class _FileLock:
    """An exclusive lock between agents on one machine (so one of them builds a venv, the others wait)."""

    def __init__(self, path: Path):
        self.path = path
        self._handle = None

    def try_acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+b")
        try:
            if os.name == "nt":
                import msvcrt
                msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
            else:
                import fcntl
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            try:
                if os.name == "nt":
                    import msvcrt
                    msvcrt.locking(self._handle.fileno(), msvcrt.LK_UNLCK, 1)
                else:
                    import fcntl
                    fcntl.flock(self._handle.fileno(), fcntl.LOCK_UN)
            finally:
                self._handle.close()
                self._handle = None


Runner = Callable[[list[str], str], Outcome]  # (argv, cwd) -> outcome, output into the console


def cached_venv(lines: list[str], base_python: str, *, run: Runner, log: Callable[[str], None],
                should_stop: Callable[[], StopRequest | None], root: Path | None = None,
                cwd: str | None = None) -> PythonEnv:
    """The venv for ``lines`` on ``base_python``: reused when ready, else made now."""
    version = python_version(base_python)
    key = venv_key(lines, version)
    venvs = (root or cache_root()) / "venvs"
    target = venvs / key
    if (target / READY_MARK).exists():
        log(f"using the cached environment {target} (Python {version})")
        return PythonEnv(str(venv_python(target)), target)
    lock = _FileLock(venvs / f"{key}.lock")
    waited = False
    while not lock.try_acquire():
        if not waited:
            log(f"another agent is making the environment {key}; waiting for it")
            waited = True
        request = should_stop()
        if request is not None:
            raise SetupStopped(request)
        time.sleep(0.5)
    try:
        if (target / READY_MARK).exists():
            log(f"using the cached environment {target} (made meanwhile by another agent)")
            return PythonEnv(str(venv_python(target)), target)
        shutil.rmtree(target, ignore_errors=True)  # a build that died half-way
        _build(target, lines, base_python, version, run=run, log=log, cwd=cwd)
        (target / READY_MARK).write_text(f"python {version}\n" + "\n".join(lines) + "\n")
        return PythonEnv(str(venv_python(target)), target, installed=True)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    finally:
        lock.release()


def _build(target: Path, lines: list[str], base_python: str, version: str, *, run: Runner,
           log: Callable[[str], None], cwd: str | None) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    requirements = target.parent / f"{target.name}.requirements.txt"
    requirements.write_text("\n".join(lines) + "\n")
    uv = shutil.which("uv")
    workdir = cwd or str(target.parent)
    if uv:
        log(f"making the environment {target} with uv (Python {version}, {len(lines)} requirements)")
        steps = [[uv, "venv", "--quiet", "--python", base_python, str(target)],
                 [uv, "pip", "install", "--python", str(venv_python(target)), "-r", str(requirements)]]
    else:
        log(f"making the environment {target} with venv + pip (Python {version}, {len(lines)} requirements)")
        steps = [[base_python, "-m", "venv", str(target)],
                 [str(venv_python(target)), "-m", "pip", "install", "--disable-pip-version-check", "--no-input",
                  "-r", str(requirements)]]
    try:
        for argv in steps:
            outcome = run(argv, workdir)
            if outcome.stop is not None:
                raise SetupStopped(outcome.stop)
            if outcome.start_error:
                raise EnvSetupError(outcome.start_error)
            if outcome.returncode != 0:
                what = "making the venv" if argv is steps[0] else "installing the packages"
                raise EnvSetupError(f"{what} failed (exit code {outcome.returncode}); its log is in the console")
    finally:
        requirements.unlink(missing_ok=True)
