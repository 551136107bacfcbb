"""Real git repositories and queue/worker data for the wizard and Workers & Queues tests."""
from __future__ import annotations

import json
import math
import subprocess
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

TRAIN = textwrap.dedent('''\
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--data-dir", default="data/")
    parser.add_argument("--fast", action="store_true")
    args = parser.parse_args()
    print(args)
    ''')


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=Tester", "-c", "user.email=tester@example.com", *args],
                          cwd=repo, check=True, capture_output=True, text=True).stdout.strip()


@dataclass
class Repo:
    path: Path  # branch main checked out
    main: str  # commit of main (also tag v1.0)
    feature: str  # commit of branch "feature", which alone has tools/extra.py


def make_repo(root: Path) -> Repo:
    path = root / "code"
    path.mkdir()
    git(path, "init", "-q", "-b", "main")
    (path / "train.py").write_text(TRAIN)
    (path / "pkg").mkdir()
    (path / "pkg" / "__init__.py").write_text("")
    (path / "pkg" / "evaluate.py").write_text('import argparse\np = argparse.ArgumentParser()\n'
                                              'p.add_argument("--split", default="val")\np.parse_args()\n')
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "train")
    git(path, "tag", "v1.0")
    main = git(path, "rev-parse", "HEAD")
    git(path, "checkout", "-q", "-b", "feature")
    (path / "tools").mkdir()
    (path / "tools" / "extra.py").write_text("print('extra')\n")
    git(path, "add", ".")
    git(path, "commit", "-q", "-m", "extra")
    feature = git(path, "rev-parse", "HEAD")
    git(path, "checkout", "-q", "main")
    return Repo(path, main, feature)


def queued(names, queue: str = "default", project: str = "runs") -> list[str]:
    """Draft experiments named ``names``, enqueued in that order; their ids."""
    from exptable_desktop.core import actions
    from exptable_desktop.core.recording import create_experiment

    ids = [create_experiment(project, name) for name in names]
    assert actions.enqueue(ids, queue).succeeded == ids
    return ids


def order(queue: str = "default") -> list[str]:
    from exptable_desktop.core.queues import queue_entries
    return [e.name for e in queue_entries(queue)]


def add_worker(name: str, queues, *, seen_ago: float = 0.0, resources: dict | None = None,
               history: int = 0, running: str | None = None, started_ago: float = 0.0) -> None:
    """A worker as an agent registers it; ``history`` samples over the last hour; ``seen_ago`` ages its
    heartbeat and ``started_ago`` its start."""
    from exptable_desktop.core import queues as queue_ops
    from exptable_desktop.store.db import run_write
    from exptable_desktop.store.schema import Worker, WorkerStat

    queue_ops.register_worker(name, queues, host=name.split(":")[0])
    if running:
        queue_ops.set_worker_state(name, "busy", running)
    if resources is not None:
        queue_ops.worker_heartbeat(name, resources)
    now = time.time()

    def work():
        phase = sum(map(ord, name)) % 7
        for k in range(history):
            stamp = now - 3500 + k * (3400 / max(1, history))
            wave = math.sin(k / 9 + phase)
            sample = {"cpu_usage": round(45 + 30 * wave + 8 * math.sin(k / 2.3), 1),
                      "memory_usage": round(50 + 10 * math.sin(k / 40 + phase), 1)}
            if (resources or {}).get("gpu_usage") is not None or resources is None:
                sample["gpu_usage"] = round(max(0.0, min(100.0, 70 + 25 * math.sin(k / 14 + phase))), 1)
            WorkerStat.create(worker=name, timestamp=stamp, data=json.dumps(sample))
        if seen_ago:
            Worker.update(last_seen=now - seen_ago).where(Worker.name == name).execute()
        if started_ago:
            Worker.update(started=now - started_ago).where(Worker.name == name).execute()
    run_write(work)
