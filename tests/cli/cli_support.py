"""Running ``exptable`` as a real subprocess (imported by this folder's tests and conftest)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pg_support
from pg_support import drop_pg_database  # noqa: F401  (re-exported for the CLI tests)

REPO = Path(__file__).resolve().parents[2]
DEMO_EXPERIMENTS = 300
DEMO_SEED = 7


def cli_env(extra: dict | None = None) -> dict:
    env = dict(os.environ)
    # Works from a source checkout as well as from an installed package.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p)
    env.pop("EXPTABLE_DEBUG", None)
    for key, value in (extra or {}).items():  # None removes a variable
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run_cli(*args: str, env: dict | None = None, stdin: str | None = None, cwd: Path | None = None,
            timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "exptable_desktop", *args], capture_output=True, text=True,
                          env=cli_env(env), input=stdin if stdin is not None else "", cwd=cwd, timeout=timeout)


def ls_json(url: str, *extra: str) -> list[dict]:
    result = run_cli("ls", "--db", url, "--json", *extra)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_one_line_error(result: subprocess.CompletedProcess, *fragments: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def new_pg_database() -> str:
    return pg_support.new_pg_database("exptable_cli_")
