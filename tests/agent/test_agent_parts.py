"""The agent's parts that need no database: console lines, docker command line, GPUs, requirements, Task.init insertion."""
from __future__ import annotations

import shlex
import subprocess
import sys
import textwrap

import pytest

from exptable_desktop.agent.console import MAX_LINE, LineSplitter
from exptable_desktop.agent.docker import container_script, docker_command
from exptable_desktop.agent.environment import (
    requirement_lines,
    resolve_binary,
    resolve_requirements,
    sdk_requirements,
    venv_key,
)
from exptable_desktop.agent.resources import ResourceSampler, parse_nvidia_smi
from exptable_desktop.agent.workcopy import TASK_INIT_LINES, add_task_init_call, looks_like_diff, task_init_insert_line


def test_line_splitter_keeps_partial_lines_progress_bars_and_utf8_split_across_reads():
    splitter = LineSplitter()
    assert splitter.feed(b"one\ntw") == ["one"]
    assert splitter.feed(b"o\r\n10%\r50%\r100%\n") == ["two", "100%"]
    euro = "€".encode()
    assert splitter.feed(b"price " + euro[:1]) == []
    assert splitter.feed(euro[1:] + b"\n") == ["price €"]
    assert splitter.feed(b"no newline at the end") == []
    assert splitter.close() == ["no newline at the end"]
    long_line = splitter.feed(b"x" * (MAX_LINE + 10) + b"\n")[0]
    assert long_line.endswith("[cut]") and len(long_line) < MAX_LINE + 20


def test_docker_command_line():
    argv = docker_command(
        image="python:3.11-slim", experiment_id="abc", entry=["train.py"], working_dir="src",
        code_dir="/tmp/run/code", env={"EXPTABLE_TASK_ID": "abc", "EXPTABLE_DB": "sqlite:////data/x.db"},
        container_args="--shm-size 1g -e EXPTABLE_FORCE_TASK_INIT=1", setup_script="apt-get install -y git",
        install_requirements=True, sdk_dir="/cache/sdk", mounts=[("/data", "/data")], gpus=["0", "1"])
    assert argv[:10] == ["docker", "run", "--rm", "--name", "exptable-abc", "--network", "host",
                         "-v", "/tmp/run/code:/workspace", "-w"]
    assert argv[10] == "/workspace/src"
    assert ["-v", "/cache/sdk:/opt/exptable:ro"] == argv[11:13] and ["-v", "/data:/data"] == argv[13:15]
    assert argv[15:17] == ["--gpus", '"device=0,1"']
    env = [argv[i + 1] for i, a in enumerate(argv) if a == "-e"]
    assert "EXPTABLE_TASK_ID=abc" in env and "PYTHONPATH=/workspace/src:/opt/exptable" in env
    assert "PYTHONUNBUFFERED=1" in env and "EXPTABLE_FORCE_TASK_INIT=1" in env
    image_at = argv.index("python:3.11-slim")
    assert argv[image_at - 4:image_at] == ["--shm-size", "1g", "-e", "EXPTABLE_FORCE_TASK_INIT=1"]
    assert argv[image_at + 1:image_at + 3] == ["bash", "-c"]
    script = argv[image_at + 3]
    assert script.splitlines() == [
        "set -e", "apt-get install -y git", 'PY="$(command -v python3 || command -v python)"',
        '"$PY" -m pip install --disable-pip-version-check --no-input -r /workspace/.exptable-requirements.txt',
        'exec "$PY" -u train.py']
    cpu = docker_command(image="img", experiment_id="x", entry=["-m", "pkg.run"], code_dir="/c", env={},
                         gpus=["0"], cpu_only=True)
    assert "--gpus" not in cpu and "CUDA_VISIBLE_DEVICES=" in cpu
    assert cpu[-1].endswith("exec \"$PY\" -u -m pkg.run")
    with pytest.raises(ValueError, match="needs an image"):
        docker_command(image=" ", experiment_id="x", entry=["a.py"], code_dir="/c", env={})


def test_container_script_runs_under_bash():
    script = container_script(["-c", "print('inside')"], setup_script="echo setting up")
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert done.stdout.splitlines() == ["setting up", "inside"]
    assert shlex.split(container_script(["my script.py"]).splitlines()[-1])[-1] == "my script.py"


def test_nvidia_smi_rows_and_sampler_without_gpus():
    text = "0, 35, 1024, 16384, 51\n1, [N/A], 2048, 16384, 48\n"
    rows = parse_nvidia_smi(text)
    assert rows[0] == {"index": "0", "usage": 35.0, "memory_used": 1024 * 2**20, "memory_total": 16384 * 2**20,
                       "temperature": 51.0}
    assert rows[1]["usage"] is None
    assert [r["index"] for r in parse_nvidia_smi(text, ["1"])] == ["1"]
    sample = ResourceSampler(cpu_only=True).sample()
    assert 0 <= sample["cpu_usage"] <= 100 and 0 < sample["memory_used"] <= sample["memory_total"]
    assert "gpus" not in sample


def test_requirements_lines_and_the_sdk_in_a_venv():
    text = "# Python 3.11.7 (CPython)\n\nnumpy == 2.4.6\nexptable-desktop == 0.1.0\nsix  # inline\n"
    lines = requirement_lines(text)
    assert lines == ["numpy == 2.4.6", "exptable-desktop == 0.1.0", "six"]
    resolved = resolve_requirements(lines, needs_sdk=False)
    assert "exptable-desktop == 0.1.0" not in resolved  # not on any index: the agent's own is used
    assert resolved[:2] == ["numpy == 2.4.6", "six"]
    names = {r.split(">")[0].split("=")[0].strip().lower() for r in resolved}
    assert {"peewee", "psutil"} <= names and "pyside6" not in names and "numpy" in names
    assert resolved.count("numpy == 2.4.6") == 1 and not any(r.startswith("numpy>") for r in resolved)
    assert resolve_requirements(["six"], needs_sdk=False) == ["six"]
    assert set(sdk_requirements()) <= set(resolve_requirements(["six"], needs_sdk=True)) | {"numpy>=1.24"}
    assert venv_key(["six"], "3.11.7") != venv_key(["six"], "3.12.1") != venv_key(["six", "a"], "3.12.1")


def test_resolve_binary(tmp_path):
    assert resolve_binary("") == sys.executable
    assert resolve_binary(f"python{sys.version_info.major}.{sys.version_info.minor}") == sys.executable
    notes: list[str] = []
    assert resolve_binary("python2.6", notes) == sys.executable and "python2.6 is not installed" in notes[0]
    from exptable_desktop.agent.environment import EnvSetupError
    with pytest.raises(EnvSetupError, match="not found"):
        resolve_binary(str(tmp_path / "nope" / "python"))
    with pytest.raises(EnvSetupError, match="not found on PATH"):
        resolve_binary("no-such-interpreter-here")


@pytest.mark.parametrize("source, line", [
    ("import os\n", 0),
    ("#!/usr/bin/env python\n# -*- coding: utf-8 -*-\nimport os\n", 2),
    ('"""Doc\nstring."""\nimport os\n', 2),
    ('"""Doc."""\nfrom __future__ import annotations\nfrom __future__ import division\nimport os\n', 3),
])
def test_task_init_goes_after_future_imports_and_the_docstring(source, line):
    assert task_init_insert_line(source) == line


def test_added_task_init_call_keeps_the_script_valid(tmp_path):
    script = tmp_path / "s.py"
    script.write_text(textwrap.dedent('''\
        """Doc."""
        from __future__ import annotations
        print("hello")'''))
    add_task_init_call(script)
    text = script.read_text()
    assert text == '"""Doc."""\nfrom __future__ import annotations\n' + TASK_INIT_LINES + 'print("hello")'
    compile(text, "s.py", "exec")


def test_looks_like_diff():
    assert looks_like_diff("diff --git a/x b/x\n--- a/x\n+++ b/x\n")
    assert not looks_like_diff("import os\nprint('a script stored as text')\n")


@pytest.mark.both_backends
def test_console_sink_stores_nul_and_keeps_going_after_a_refused_batch(db):
    from exptable_desktop.agent.console import ConsoleSink
    from exptable_desktop.core import recording
    from exptable_desktop.core import states as st

    exp = recording.create_experiment("agent", "nul output", status=st.RUNNING)
    sink = ConsoleSink(exp)
    sink.add("before\0after")
    assert sink.flush() is not None
    sink.add("next line")
    sink.flush()
    from exptable_desktop.store.schema import ConsoleChunk
    text = "\n".join(c.text for c in ConsoleChunk.select().where(ConsoleChunk.experiment == exp)
                     .order_by(ConsoleChunk.seq))
    assert text == "before\ufffdafter\nnext line"
    assert sink.pending() == 0 and sink.dropped == 0
