"""The run's Python: a cached venv, a pre-installed one, the Task.init call, docker."""
from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from agent_support import console_text, start_agent, status, stop_agent, wait_until

from exptable_desktop.core import actions
from exptable_desktop.core import states as st
from exptable_desktop.core.create import Argument, create_from_spec
from exptable_desktop.store.schema import Experiment


def tiny_wheel(folder: Path) -> Path:
    """A one-module wheel built by hand: installing it needs no index and no build backend."""
    files = {
        "tinypkg/__init__.py": b"VALUE = 42\n",
        "tinypkg-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0\n",
        "tinypkg-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(data)}")
    record.append("tinypkg-1.0.dist-info/RECORD,,")
    path = folder / "tinypkg-1.0-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
        wheel.writestr("tinypkg-1.0.dist-info/RECORD", "\n".join(record) + "\n")
    return path


def _run_time(exp_id: str) -> float:
    exp = Experiment.get_by_id(exp_id)
    return exp.completed - exp.started


@pytest.mark.slow
def test_a_cached_venv_is_made_once_and_reused_without_installing(db, db_url, script_env, make_spec, tmp_path):
    wheel = tiny_wheel(tmp_path)
    first = create_from_spec(make_spec("uses_tiny.py", name="first", packages_mode="packages", packages=[str(wheel)]))
    second = create_from_spec(make_spec("uses_tiny.py", name="second", packages_mode="requirements",
                                        requirements=f"# the same requirement, written differently\n{wheel}\n"))
    actions.enqueue([first, second], "default")
    agent = start_agent(script_env, db_url)
    try:
        wait_until(lambda: status(second)[0] not in (st.PENDING, st.RUNNING), 300, interval=0.2,
                   what="both runs")
    finally:
        stop_agent(agent)
    assert (status(first)[0], status(second)[0]) == (st.COMPLETED, st.COMPLETED), console_text(first)
    made, reused = console_text(first), console_text(second)
    assert "making the environment" in made and "Successfully installed tinypkg-1.0" in made
    assert "using the cached environment" in reused
    assert "making the environment" not in reused and "Successfully installed" not in reused
    venv = next((Path(script_env["HOME"]) / ".cache" / "ExpTable" / "venvs").glob("*/.exptable-ready")).parent
    assert f"tiny 42 from {venv}" in made and f"tiny 42 from {venv}" in reused
    assert _run_time(second) < _run_time(first) / 2
    # Claimed within the poll interval of Enqueue (test_agent_run), then the whole reused-venv run
    # (clone, cache look-up, script, last console line) in well under the 3 s to a first line.
    assert _run_time(second) < 2.0, _run_time(second)


def test_a_pre_installed_venv_is_used_as_it_is(db, db_url, script_env, make_spec, tmp_path):
    venv = tmp_path / "prepared"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = next(venv.glob("lib/python*/site-packages"))
    (site / "tinypkg.py").write_text("VALUE = 7\n")
    exp_id = create_from_spec(make_spec("uses_tiny.py", python="", venv=str(venv)))
    missing = create_from_spec(make_spec("uses_tiny.py", name="missing", python="", venv=str(tmp_path / "none")))
    actions.enqueue([exp_id, missing], "default")
    agent = start_agent(script_env, db_url)
    try:
        wait_until(lambda: status(missing)[0] == st.FAILED, 60, what="the second run")
    finally:
        stop_agent(agent)
    assert status(exp_id)[0] == st.COMPLETED, console_text(exp_id)
    assert f"tiny 7 from {venv}" in console_text(exp_id)
    assert status(missing)[1] == f"pre-installed venv {tmp_path / 'none'} has no bin/python"


def test_the_task_init_call_makes_a_plain_script_take_the_drafts_arguments(db, db_url, script_env, make_spec):
    exp_id = create_from_spec(make_spec("args_only.py", arguments=[Argument("lr", "0.9")], add_task_init_call=True))
    without = create_from_spec(make_spec("args_only.py", name="without", arguments=[Argument("lr", "0.9")]))
    actions.enqueue([exp_id, without], "default")
    agent = start_agent(script_env, db_url)
    try:
        wait_until(lambda: status(without)[0] == st.COMPLETED, 60, what="both runs")
    finally:
        stop_agent(agent)
    assert status(exp_id)[0] == st.COMPLETED
    assert "lr=0.9" in console_text(exp_id) and "added a Task.init call to args_only.py" in console_text(exp_id)
    assert "lr=0.1" in console_text(without)


def _docker_works() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@pytest.mark.slow
@pytest.mark.skipif(not _docker_works(), reason="docker is not installed or its daemon is not running")
def test_docker_mode_runs_the_entry_point_in_the_image(db, db_url, script_env, make_spec):
    exp_id = create_from_spec(make_spec("plain.py", container_image="python:3.11-slim",
                                        container_setup="echo set-up ran"))
    actions.enqueue([exp_id], "default")
    agent = start_agent(script_env, db_url, "--once", "--docker")
    try:
        agent.wait(600)
    finally:
        stop_agent(agent)
    assert status(exp_id)[0] == st.COMPLETED, console_text(exp_id)
    assert "set-up ran" in console_text(exp_id) and "plain out" in console_text(exp_id)
