"""Throughput of 4 agents on 200 trivial queued experiments, and how fast a claim is, on SQLite and PostgreSQL.

    python benchmarks/agent_bench.py                       # SQLite, and PostgreSQL when EXPTABLE_TEST_PG_URL is set
    python benchmarks/agent_bench.py --agents 4 --experiments 200 --idle-samples 20

Each experiment copies a one-line script from a local folder and runs it with
this Python (no venv, no SDK): what is measured is the agents' own overhead.

- throughput: experiments completed per second, from the moment all of them are
  enqueued (4 agents already idle) until the last one is Completed;
- claim: the duration of one claim transaction (``core.queues.claim_next``), as
  each agent measured it, over every claim;
- idle start: with every agent idle, from one Enqueue to the experiment being
  Running (the issue's "starts within 1 s"), sampled one experiment at a time.
"""
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exptable_desktop.core import actions, queues  # noqa: E402
from exptable_desktop.core import states as st  # noqa: E402
from exptable_desktop.core.create import ExecutionSpec, create_from_spec  # noqa: E402
from exptable_desktop.store import close_database, open_database  # noqa: E402
from exptable_desktop.store.schema import Experiment  # noqa: E402

CLAIM_LINE = re.compile(r"claimed in ([0-9.]+) ms")


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    if not ordered:
        return "-"

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]
    return (f"median {statistics.median(ordered):.1f}, p90 {at(0.9):.1f}, p99 {at(0.99):.1f}, "
            f"max {ordered[-1]:.1f} ms (n={len(ordered)})")


def new_pg_database(server: str) -> str:
    import psycopg2

    name = "exptable_agent_bench_" + uuid.uuid4().hex[:8]
    conn = psycopg2.connect(server)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return urlunparse(urlparse(server)._replace(path="/" + name))


def drop_pg_database(server: str, url: str) -> None:
    import psycopg2

    conn = psycopg2.connect(server)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{urlparse(url).path.lstrip("/")}" WITH (FORCE)')
    conn.close()


def running_or_done(exp_id: str) -> bool:
    return Experiment.select(Experiment.status).where(Experiment.id == exp_id).scalar() != st.PENDING


def bench(url: str, folder: Path, agents: int, experiments: int, idle_samples: int) -> dict:
    open_database(url)
    code = folder / "code"
    code.mkdir()
    (code / "hello.py").write_text('print("hello")\n')
    spec = ExecutionSpec(name="trivial", project="agent-bench", repository=str(code), script="hello.py",
                         python=sys.executable)
    template = create_from_spec(spec)
    ids = [actions.clone([template]).created[template] for _ in range(experiments)]
    env = dict(os.environ, EXPTABLE_DB=url, EXPTABLE_FILES=str(folder / "files"), HOME=str(folder / "home"),
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    procs = [subprocess.Popen([sys.executable, "-m", "exptable_desktop", "agent", "--db", url, "--queue", "bench",
                               "--name", f"bench{i}"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for i in range(agents)]
    try:
        deadline = time.monotonic() + 60
        while len(queues.live_workers_for_queue("bench")) < agents:
            if time.monotonic() > deadline:
                raise SystemExit("the agents did not register within 60 s")
            time.sleep(0.05)
        time.sleep(1.0)  # every agent idle, polling
        started = time.perf_counter()
        actions.enqueue(ids, "bench")
        while Experiment.select().where(Experiment.id.in_(ids) & Experiment.status.in_(
                [st.PENDING, st.RUNNING])).count():
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        completed = Experiment.select().where(Experiment.id.in_(ids) & (Experiment.status == st.COMPLETED)).count()
        idle = []
        singles = [actions.clone([template]).created[template] for _ in range(idle_samples)]
        for exp_id in singles:
            time.sleep(0.7)  # agents idle again, at a random point of their poll
            began = time.perf_counter()
            actions.enqueue([exp_id], "bench")
            while not running_or_done(exp_id):
                time.sleep(0.002)
            idle.append((time.perf_counter() - began) * 1000)
        while Experiment.select().where(Experiment.id.in_(singles) & Experiment.status.in_(
                [st.PENDING, st.RUNNING])).count():
            time.sleep(0.05)
    finally:
        outputs = []
        for proc in procs:
            proc.terminate()
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            outputs.append(out)
            if err.strip():
                print(err, file=sys.stderr)
        close_database()
    claims = [float(m.group(1)) for out in outputs for m in CLAIM_LINE.finditer(out)]
    return {"elapsed": elapsed, "completed": completed, "claims": claims, "idle": idle}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=4)
    parser.add_argument("--experiments", type=int, default=200)
    parser.add_argument("--idle-samples", type=int, default=20)
    args = parser.parse_args()
    backends = [("SQLite", None)]
    server = os.environ.get("EXPTABLE_TEST_PG_URL")
    if server:
        backends.append(("PostgreSQL", server))
    else:
        print("(EXPTABLE_TEST_PG_URL not set: PostgreSQL skipped)")
    for label, pg_server in backends:
        with tempfile.TemporaryDirectory(prefix="exptable-agent-bench-") as tmp:
            folder = Path(tmp)
            url = new_pg_database(pg_server) if pg_server else f"sqlite:///{folder / 'bench.db'}"
            try:
                result = bench(url, folder, args.agents, args.experiments, args.idle_samples)
            finally:
                if pg_server:
                    drop_pg_database(pg_server, url)
        print(f"{label}: {args.agents} agents, {args.experiments} trivial experiments: "
              f"{result['completed']} completed in {result['elapsed']:.1f} s = "
              f"{result['completed'] / result['elapsed']:.1f} experiments/s")
        print(f"  claim transaction: {percentiles(result['claims'])}")
        print(f"  idle agents, enqueue -> Running: {percentiles(result['idle'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
