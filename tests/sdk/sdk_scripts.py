"""Helpers for running real training scripts as subprocesses (fixtures are in conftest.py)."""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def run(script: Path, env: dict, *args: str, timeout: float = 60, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(script), *args], cwd=script.parent, env=env, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def start(script: Path, env: dict, *args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(script), *args], cwd=script.parent, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_line(proc: subprocess.Popen, text: str, timeout: float = 30) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stdout.readline()
        if text in line:
            return
        if not line and proc.poll() is not None:
            break
    raise AssertionError(f"script never printed {text!r}; stderr: {proc.stderr.read() if proc.poll() is not None else ''}")


def only_experiment_id() -> str:
    from exptable_desktop.store.schema import Experiment

    ids = [e.id for e in Experiment.select(Experiment.id)]
    assert len(ids) == 1, ids
    return ids[0]
