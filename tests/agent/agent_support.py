"""Real git repositories and real agent processes for the agent tests (fixtures are in conftest.py)."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

TRAIN = '''\
import argparse
from exptable_desktop import Task

VERSION = "{version}"
task = Task.init(project_name="ignored under an agent", task_name="ignored")
parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
parser.add_argument("--epochs", type=int, default=2)
args = parser.parse_args()
print(f"VERSION={{VERSION}} lr={{args.lr}} epochs={{args.epochs}}")
'''

SCRIPTS = {
    # No SDK: the agent alone records its output and its end.
    "plain.py": '''\
        import sys
        print("plain out", flush=True)
        print("plain err", file=sys.stderr, flush=True)
        ''',
    "fail.py": '''\
        import sys
        print("about to fail", flush=True)
        print("ValueError: boom", file=sys.stderr, flush=True)
        sys.exit(3)
        ''',
    "loop.py": '''\
        import time
        i = 0
        while True:
            print(f"tick {i}", flush=True)
            i += 1
            time.sleep(0.1)
        ''',
    "stubborn.py": '''\
        import signal, time
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        print("ignoring SIGINT and SIGTERM", flush=True)
        while True:
            time.sleep(0.1)
        ''',
    # Runs until its agent is gone (then it is re-parented), so a killed agent leaves nothing behind.
    "until_orphaned.py": '''\
        import os, time
        parent = os.getppid()
        print("waiting for the agent to go", flush=True)
        while os.getppid() == parent:
            time.sleep(0.1)
        ''',
    # Knows nothing of ExpTable: "Add Task.init call" makes it record itself under an agent.
    "args_only.py": '''\
        """A script with arguments."""
        from __future__ import annotations
        import argparse
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.1)
        args = parser.parse_args()
        print(f"lr={args.lr}", flush=True)
        ''',
    "uses_tiny.py": '''\
        import sys
        import tinypkg
        print("tiny", tinypkg.VALUE, "from", sys.prefix, flush=True)
        ''',
    "src/job.py": '''\
        import os
        print("job cwd", os.path.basename(os.getcwd()), flush=True)
        ''',
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@dataclass
class Repo:
    path: Path  # working copy: branch main checked out, with an uncommitted change to train.py
    url: str  # file:// URL of a bare clone ("the remote")
    v1: str  # commit of tag v1
    wip: str  # a commit no branch or tag points at
    main: str  # tip of main
    feature: str  # tip of branch feature


def make_repo(base: Path) -> Repo:
    """Tag v1 (train.py says v1); a commit in between; main (says main, adds the other scripts); branch feature (says
    feature, adds feature_only.py); then main checked out again with train.py changed, uncommitted."""
    path = base / "repo"
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.email", "dev@example.com")
    git(path, "config", "user.name", "Dev")
    (path / "train.py").write_text(TRAIN.format(version="v1"))
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "v1")
    git(path, "tag", "-a", "v1", "-m", "version 1")
    v1 = git(path, "rev-parse", "HEAD")
    (path / "NOTES.md").write_text("work in progress\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "wip")
    wip = git(path, "rev-parse", "HEAD")
    (path / "train.py").write_text(TRAIN.format(version="main"))
    for name, text in SCRIPTS.items():
        target = path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "main")
    main = git(path, "rev-parse", "HEAD")
    git(path, "checkout", "-q", "-b", "feature")
    (path / "train.py").write_text(TRAIN.format(version="feature"))
    (path / "feature_only.py").write_text('print("only on feature")\n')
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "feature")
    feature = git(path, "rev-parse", "HEAD")
    git(path, "checkout", "-q", "main")
    bare = base / "origin.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(path), str(bare)], check=True, capture_output=True)
    (path / "train.py").write_text(TRAIN.format(version="uncommitted"))
    return Repo(path, bare.resolve().as_uri(), v1, wip, main, feature)


def agent_argv(db_url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "exptable_desktop", "agent", "--db", db_url, *args]


def run_agent_once(env: dict, db_url: str, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    done = subprocess.run(agent_argv(db_url, "--once", *args), env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert done.returncode == 0, done.stderr
    return done


def start_agent(env: dict, db_url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(agent_argv(db_url, *args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def stop_agent(proc: subprocess.Popen, timeout: float = 30) -> tuple[str, str]:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return out, err


def wait_until(predicate, timeout: float = 30.0, interval: float = 0.02, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def status(exp_id: str) -> tuple[str, str, str]:
    """(status, status_reason, worker) as the database has it now."""
    from exptable_desktop.store.schema import Experiment

    row = Experiment.select(Experiment.status, Experiment.status_reason, Experiment.worker).where(
        Experiment.id == exp_id).tuples().first()
    return row


def console(exp_id: str) -> list[tuple[str, str]]:
    from exptable_desktop.core.recording import read_console

    return read_console(exp_id)


def console_text(exp_id: str) -> str:
    return "\n".join(text for _level, text in console(exp_id))


def agent_env(script_env: dict, **extra: str) -> dict:
    env = dict(script_env)
    env.update(extra)
    return env
