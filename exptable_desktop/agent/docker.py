"""The ``docker run`` command line an agent in ``--docker`` mode runs an experiment with.

A pure function of its inputs, so it is tested on machines without docker.
The working copy is mounted at /workspace; the ExpTable SDK (the agent's own
package) is mounted read-only and put on PYTHONPATH; an SQLite database and the
files folder are mounted at their own paths, so the script inside writes
where the app reads. The host network lets it reach a PostgreSQL server the
agent reaches.
"""
from __future__ import annotations

import shlex
import shutil
from pathlib import PurePosixPath
from typing import Mapping, Sequence

WORKSPACE = "/workspace"
SDK_MOUNT = "/opt/exptable"
REQUIREMENTS_IN_CONTAINER = f"{WORKSPACE}/.exptable-requirements.txt"


def docker_available() -> bool:
    return shutil.which("docker") is not None


def container_name(experiment_id: str) -> str:
    return f"exptable-{experiment_id}"


def docker_command(*, image: str, experiment_id: str, entry: Sequence[str], working_dir: str = ".",
                   code_dir: str, env: Mapping[str, str], container_args: str = "", setup_script: str = "",
                   install_requirements: bool = False, sdk_dir: str | None = None,
                   mounts: Sequence[tuple[str, str]] = (), gpus: Sequence[str] | None = None,
                   cpu_only: bool = False, docker: str = "docker") -> list[str]:
    """``docker run`` for one experiment.

    ``entry`` is what follows ``python -u`` (``["train.py", …]`` or ``["-m", "pkg"]``);
    ``env`` the variables the script gets; ``container_args`` the experiment's
    extra ``docker run`` arguments (shell words); ``setup_script`` bash run
    before the entry point; ``install_requirements`` pip-installs the
    requirements the agent wrote into the working copy; ``mounts`` are
    (host path, container path) pairs; ``gpus`` device indexes (None: no GPU flag).
    """
    if not image.strip():
        raise ValueError("docker mode needs an image")
    workdir = str(PurePosixPath(WORKSPACE) / (working_dir or "."))
    argv = [docker, "run", "--rm", "--name", container_name(experiment_id), "--network", "host",
            "-v", f"{code_dir}:{WORKSPACE}", "-w", workdir]
    if sdk_dir:
        argv += ["-v", f"{sdk_dir}:{SDK_MOUNT}:ro"]
    for host_path, container_path in mounts:
        argv += ["-v", f"{host_path}:{container_path}"]
    if gpus is not None and not cpu_only:
        devices = ",".join(gpus)
        argv += ["--gpus", "all" if devices == "all" else f'"device={devices}"']
    variables = dict(env)
    variables["PYTHONUNBUFFERED"] = "1"
    python_path = [workdir] + ([SDK_MOUNT] if sdk_dir else [])
    variables["PYTHONPATH"] = ":".join(python_path)
    if cpu_only:
        variables["CUDA_VISIBLE_DEVICES"] = ""
    for key in sorted(variables):
        argv += ["-e", f"{key}={variables[key]}"]
    argv += shlex.split(container_args or "")
    argv.append(image.strip())
    argv += ["bash", "-c", container_script(entry, setup_script, install_requirements)]
    return argv


def container_script(entry: Sequence[str], setup_script: str = "", install_requirements: bool = False) -> str:
    """What bash runs inside the container: set-up, packages, then the entry point in place of bash."""
    lines = ["set -e"]
    if setup_script.strip():
        lines.append(setup_script.strip())
    lines.append('PY="$(command -v python3 || command -v python)"')
    if install_requirements:
        lines.append(f'"$PY" -m pip install --disable-pip-version-check --no-input -r {REQUIREMENTS_IN_CONTAINER}')
    lines.append('exec "$PY" -u ' + " ".join(shlex.quote(part) for part in entry))
    return "\n".join(lines)
