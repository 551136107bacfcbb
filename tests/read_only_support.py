"""Databases this process may not change, made honestly when the tests run as root.

Root writes through ``chmod 0444`` and into ``chmod 0555`` folders, so a test that
means "read-only" runs its check as the unprivileged user ``nobody``: in a real
subprocess (``nobody_cli``), or for in-process checks with the effective user and
group ids of ``nobody`` (``as_nobody``), which is what the kernel, SQLite and
``os.access(..., effective_ids=True)`` consult. Run as a normal user, the chmod
alone does it and both helpers just run the check.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import stat
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def _nobody() -> pwd.struct_passwd | None:
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        return None


def can_drop_privileges() -> bool:
    return not IS_ROOT or _nobody() is not None


@contextlib.contextmanager
def as_nobody():
    """Run the block with nobody's effective ids (root underneath, so it can switch back).

    Import what the block needs before entering it: the interpreter's own files
    may not be readable by nobody.
    """
    if not IS_ROOT:
        yield
        return
    user = _nobody()
    groups = os.getgroups()
    os.setgroups([])
    os.setegid(user.pw_gid)
    os.seteuid(user.pw_uid)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)
        os.setgroups(groups)


@contextlib.contextmanager
def shared_folder():
    """A temporary folder nobody can reach (pytest's tmp_path lies under a 0700 folder of root's)."""
    folder = Path(tempfile.mkdtemp(prefix="exptable-ro-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        for path in [folder, *folder.rglob("*")]:
            if path.is_dir() and not path.is_symlink():
                path.chmod(stat.S_IMODE(path.stat().st_mode) | stat.S_IWUSR | stat.S_IXUSR)
        shutil.rmtree(folder, ignore_errors=True)


def listing(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes: "nothing changed, nothing appeared"."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _interpreter_for_nobody() -> tuple[str, dict] | None:
    """A Python nobody can run that imports this checkout and its packages (same minor version,
    so the virtual environment's compiled packages load)."""
    paths = sysconfig.get_paths()
    pythonpath = os.pathsep.join(dict.fromkeys([str(REPO), paths["purelib"], paths["platlib"]]))
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    candidates = [sys.executable, shutil.which(f"python{version}"), f"/usr/bin/python{version}",
                  f"/usr/local/bin/python{version}"]
    user = _nobody()
    for candidate in dict.fromkeys(c for c in candidates if c):
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": pythonpath, "LANG": "C.UTF-8"}
        try:
            probe = subprocess.run([candidate, "-c", "import peewee, numpy, platformdirs, exptable_desktop.cli"],
                                   env=env, capture_output=True, timeout=60, user=user.pw_uid,
                                   group=user.pw_gid, extra_groups=[])
        except (OSError, subprocess.SubprocessError):
            continue
        if probe.returncode == 0:
            return candidate, env
    return None


_INTERPRETER: list = []


def nobody_cli(*args: str, home: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    """``exptable ARGS`` in a subprocess of user nobody (skips the test when no interpreter fits)."""
    import pytest

    if not IS_ROOT:
        command, env = [sys.executable, "-m", "exptable_desktop"], {
            **os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
        kwargs = {}
    else:
        if not _INTERPRETER:
            _INTERPRETER.append(_interpreter_for_nobody())
        found = _INTERPRETER[0]
        if found is None:
            pytest.skip("no Python interpreter that user nobody may run imports this checkout")
        interpreter, env = found
        command, env = [interpreter, "-m", "exptable_desktop"], dict(env)
        user = _nobody()
        kwargs = {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    env.update({"HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "EXPTABLE_USER": "tester"})
    env.pop("EXPTABLE_DB", None)
    env.pop("EXPTABLE_DEBUG", None)
    return subprocess.run([*command, *args], capture_output=True, text=True, env=env, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kwargs)
