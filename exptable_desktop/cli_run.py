"""``exptable create``, ``exptable agent``, ``exptable queues`` and ``exptable workers``: making and running experiments.

Registered by ``cli.build_parser``; a wrong command line is ``cli.UsageError`` (exit 2), other errors
a person can fix are ``cli.CliError`` (exit 1); each is one line on stderr.
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from pathlib import Path

from exptable_desktop import cli

DEFAULT_PROJECT = "default"
# ExecutionSpec fields (core.create's error keys) by the `create` option that sets them.
SPEC_FIELD_OPTIONS = {
    "name": "--name", "project": "--project", "task_type": "--type", "repository": "--repo",
    "branch": "--branch", "tag": "--tag", "commit": "--commit", "working_dir": "--cwd", "script": "--script",
    "module": "--module", "arguments": "--args", "python": "--python", "venv": "--venv",
    "packages_mode": "--packages", "requirements": "--requirements", "packages": "--packages",
    "container_image": "--image", "container_args": "--docker-args", "container_setup": "--setup-script",
    "output_uri": "--output", "queue": "--queue",
}


def _read_text(path: str, what: str) -> str:
    try:
        return Path(path).expanduser().read_text(encoding="utf-8")
    except OSError as exc:
        raise cli.CliError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def spec_argument(text: str):
    """``--args`` item: ``name=value`` or ``Section/name=value``."""
    from exptable_desktop.core.create import SpecError, parse_argument

    try:
        return parse_argument(text)
    except SpecError as exc:
        raise argparse.ArgumentTypeError(exc.errors["arguments"]) from None


def cmd_create(args) -> int:
    from exptable_desktop.core import queues
    from exptable_desktop.core.create import ExecutionSpec, SpecError, create_from_spec, validate_spec

    if args.requirements:
        mode, requirements, packages = "requirements", _read_text(args.requirements, "requirements file"), []
    elif args.packages:
        mode, requirements, packages = "packages", "", list(args.packages)
    else:
        mode, requirements, packages = "none", "", []
    spec = ExecutionSpec(
        name=args.name, project=args.project, repository=args.repo, branch=args.branch or "", tag=args.tag or "",
        commit=args.commit or "", working_dir=args.cwd, script=args.script or "", module=args.module or "",
        arguments=list(args.args), python=args.python or "", venv=args.venv or "", packages_mode=mode,
        requirements=requirements, packages=packages, container_image=args.image or "",
        container_args=args.docker_args or "",
        container_setup=_read_text(args.setup_script, "set-up script") if args.setup_script else "",
        output_uri=args.output or "", queue=args.queue or "", task_type=args.type,
        add_task_init_call=args.add_task_init, description=args.description or "", tags=list(args.tags))
    # What the command line alone gets wrong is a usage error; the repository (a branch that is not
    # there, a script missing at that version) is read by create_from_spec below.
    problems = validate_spec(spec, check_repository=False)
    if problems:
        raise cli.UsageError("; ".join(f"argument {SPEC_FIELD_OPTIONS.get(field, field)}: {message}"
                                       for field, message in problems.items()))
    cli._open(args, create=True)
    try:
        exp_id = create_from_spec(spec)
    except SpecError as exc:
        raise cli.CliError(str(exc)) from None
    print(exp_id)
    if args.queue:
        print(f"{cli.PROG}: enqueued in {args.queue!r}", file=sys.stderr)
        if not queues.live_workers_for_queue(args.queue):
            print(f"{cli.PROG}: no live worker listens to queue {args.queue!r}; the experiment waits until one "
                  f"does (start one with `{cli.PROG} agent --queue {args.queue}`)", file=sys.stderr)
    return 0


def gpu_list(text: str) -> list[str]:
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts or not all(p.isdigit() or p == "all" for p in parts):
        raise argparse.ArgumentTypeError(f"takes device numbers like 0,1 (or all), not {text!r}")
    return parts


def cmd_agent(args) -> int:
    from exptable_desktop.agent.agent import Agent, AgentOptions
    from exptable_desktop.agent.docker import docker_available

    if args.docker is not None and not docker_available():
        raise cli.CliError("--docker needs the docker command, which is not installed (or not on PATH)")
    url = cli._open(args, create=False)
    queue_names = list(dict.fromkeys(q.strip() for q in (args.queue or [cli.DEFAULT_QUEUE])))
    options = AgentOptions(db_url=url, queues=queue_names, name=args.name, once=args.once,
                           gpus=args.gpus, cpu_only=args.cpu_only,
                           docker=args.docker is not None, docker_image=args.docker or "", poll=args.poll,
                           grace=args.grace, verbose=args.verbose)
    agent = Agent(options)
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, agent.request_stop)
    return agent.run()


def _ago(seconds: float | None) -> str:
    from exptable_desktop.core.formatting import compact_duration
    if seconds is None:
        return "-"
    return compact_duration(max(0.0, seconds)) or "0s"


def cmd_queues(args) -> int:
    from exptable_desktop.core.queues import list_queues

    cli._open(args, create=False)
    rows = [[q.name, str(q.pending), ",".join(q.workers) or "-", _ago(q.oldest_wait), q.next_experiment_name or "-"]
            for q in list_queues()]
    if not rows:
        print(f"{cli.PROG}: no queues", file=sys.stderr)
        return 0
    print(cli._table(rows, ["QUEUE", "PENDING", "WORKERS", "OLDEST WAIT", "NEXT"], {2: 40, 4: 50}))
    return 0


def cmd_workers(args) -> int:
    from exptable_desktop.core.queues import list_workers

    cli._open(args, create=False)
    now = time.time()
    rows = []
    for w in list_workers(include_gone=args.all, now=now):
        cpu = w.resources.get("cpu_usage")
        rows.append([w.name, w.status, ",".join(w.queues) or "-", w.current_experiment_id or "-",
                     _ago(w.uptime), _ago(now - w.last_seen), f"{cpu:.0f}%" if isinstance(cpu, (int, float)) else "-"])
    if not rows:
        print(f"{cli.PROG}: no live workers (start one with `{cli.PROG} agent`)", file=sys.stderr)
        return 0
    print(cli._table(rows, ["WORKER", "STATUS", "QUEUES", "RUNNING", "UPTIME", "LAST SEEN", "CPU"], {2: 40}))
    return 0


def add_run_commands(sub, common) -> None:
    """Add the commands of this module to ``exptable``'s sub-command parser."""

    p = sub.add_parser("create", parents=[common], help="create a Draft experiment from a repository and a script")
    p.add_argument("--name", required=True, help="experiment name")
    p.add_argument("--project", default=DEFAULT_PROJECT, type=cli.project_path, help=f"project path (default {DEFAULT_PROJECT!r}; created if missing)")
    p.add_argument("--repo", required=True, metavar="URL|PATH", help="git repository URL, or a local folder")
    version = p.add_mutually_exclusive_group()
    version.add_argument("--branch", metavar="B", help="run the newest commit of branch B (with none of --branch, "
                         "--tag, --commit: a URL's HEAD, a local folder as it is now)")
    version.add_argument("--tag", metavar="T", help="run the commit tagged T")
    version.add_argument("--commit", metavar="C", help="run commit C (4 to 40 hexadecimal digits)")
    p.add_argument("--cwd", default=".", metavar="D", help="working directory, relative to the repository root")
    entry = p.add_mutually_exclusive_group(required=True)
    entry.add_argument("--script", metavar="S", help="script to run, relative to the working directory")
    entry.add_argument("--module", metavar="M", help="module to run with python -m")
    p.add_argument("--args", nargs="+", action="extend", default=[], metavar="K=V", type=spec_argument,
                   help="arguments (hyperparameters, section Args; Section/name=value for another section)")
    packages = p.add_mutually_exclusive_group()
    packages.add_argument("--requirements", metavar="FILE", help="requirements file to install into a venv")
    packages.add_argument("--packages", nargs="+", action="extend", metavar="P", help="packages to install")
    python = p.add_mutually_exclusive_group()
    python.add_argument("--python", metavar="BIN", help="Python interpreter to run with (or to make the venv from)")
    python.add_argument("--venv", metavar="DIR", help="pre-installed virtual environment, used as it is")
    p.add_argument("--image", metavar="IMG", help="container image (used by agents started with --docker)")
    p.add_argument("--docker-args", metavar="A", help="extra docker run arguments (write --docker-args=\"-e K=V\")")
    p.add_argument("--setup-script", metavar="FILE", help="bash script run in the container first")
    p.add_argument("--output", metavar="URI", help="output destination for models and artifacts")
    p.add_argument("--queue", metavar="Q", type=cli.non_blank, help="enqueue the new experiment at once")
    p.add_argument("--type", default="training", help="experiment type (default training)")
    p.add_argument("--add-task-init", action="store_true",
                   help="have the agent add a Task.init call to the script, so it records itself")
    p.add_argument("--description", help="experiment description")
    p.add_argument("--tags", nargs="+", action="extend", default=[], metavar="TAG", type=cli.non_blank,
                   help="tags of the new experiment")
    p.set_defaults(func=cmd_create)

    p = sub.add_parser("agent", parents=[common], help="run queued experiments on this machine")
    p.add_argument("--queue", nargs="+", action="extend", metavar="Q", type=cli.non_blank,
                   help=f"queues to take experiments from, first one first (default {cli.DEFAULT_QUEUE!r})")
    p.add_argument("--name", help="worker name (default host:N)")
    p.add_argument("--once", action="store_true", help="run one experiment (waiting for one if the queues are empty), then exit")
    gpus = p.add_mutually_exclusive_group()
    gpus.add_argument("--gpus", metavar="0,1", type=gpu_list, help="GPUs the experiments may use")
    gpus.add_argument("--cpu-only", action="store_true", help="hide every GPU from the experiments")
    p.add_argument("--docker", nargs="?", const="", metavar="IMAGE",
                   help="run experiments that name an image in docker (IMAGE: for those that name none)")
    p.add_argument("--poll", type=cli.seconds(zero_allowed=False), default=0.5, metavar="S", help="seconds between queue checks (default 0.5)")
    p.add_argument("--grace", type=cli.seconds(zero_allowed=True), default=3.0, metavar="S",
                   help="on Abort: seconds from SIGINT to SIGTERM, and from SIGTERM to SIGKILL (default 3)")
    p.add_argument("--verbose", action="store_true", help="also print the experiments' output here")
    p.set_defaults(func=cmd_agent)

    p = sub.add_parser("queues", parents=[common], help="list queues: pending experiments, workers, oldest wait")
    p.set_defaults(func=cmd_queues)

    p = sub.add_parser("workers", parents=[common], help="list live workers")
    p.add_argument("--all", action="store_true", help="also workers that stopped or went silent")
    p.set_defaults(func=cmd_workers)
