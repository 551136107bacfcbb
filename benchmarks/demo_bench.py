"""How long `exptable demo` takes to fill a fresh database.

    python benchmarks/demo_bench.py                 # 10,000 and 100,000 experiments on SQLite
    python benchmarks/demo_bench.py --sizes 1000    # other sizes
    python benchmarks/demo_bench.py --postgresql URL  # also on a PostgreSQL server (a scratch database is created)

The target (issue 2): 100,000 experiments with metric summaries in under 60 s on SQLite.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from peewee import fn  # noqa: E402

from exptable_desktop.io.demo import make_demo  # noqa: E402
from exptable_desktop.store import close_database, open_database  # noqa: E402
from exptable_desktop.store.schema import HyperParam, MetricSummary, Project, ScalarChunk  # noqa: E402

TARGET_SECONDS = {100_000: 60.0}


def run_once(url: str, n: int, seed: int) -> dict:
    open_database(url)
    try:
        started = time.perf_counter()
        stats = make_demo(n, seed)
        elapsed = time.perf_counter() - started
        return {
            "seconds": elapsed,
            "summaries": MetricSummary.select().count(),
            "hyperparams": HyperParam.select().count(),
            "projects": Project.select().count(),
            "points": int(ScalarChunk.select(fn.COALESCE(fn.SUM(ScalarChunk.count), 0)).scalar()),
            "detailed": stats.detailed,
        }
    finally:
        close_database()


def scratch_pg_database(server_url: str) -> tuple[str, callable]:
    import psycopg2
    from urllib.parse import urlparse, urlunparse

    name = "exptable_bench_" + uuid.uuid4().hex[:8]
    conn = psycopg2.connect(server_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with conn.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.close()
    return urlunparse(urlparse(server_url)._replace(path="/" + name)), drop


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgresql", metavar="URL", help="also measure on this PostgreSQL server")
    args = parser.parse_args()

    print(f"{'backend':<11}{'experiments':>12}{'seconds':>9}{'summaries':>11}{'hyperparams':>12}"
          f"{'points':>10}  target")
    failed = False
    with tempfile.TemporaryDirectory(prefix="exptable-demo-bench-") as tmp:
        os.environ["EXPTABLE_FILES"] = str(Path(tmp) / "files")
        for n in args.sizes:
            backends = [("sqlite", f"sqlite:///{Path(tmp) / f'demo_{n}.db'}", None)]
            if args.postgresql:
                url, drop = scratch_pg_database(args.postgresql)
                backends.append(("postgresql", url, drop))
            for backend, url, drop in backends:
                try:
                    r = run_once(url, n, args.seed)
                finally:
                    if drop:
                        drop()
                # The target is for the default store; PostgreSQL is measured for comparison.
                target = TARGET_SECONDS.get(n) if backend == "sqlite" else None
                verdict = "" if target is None else (f"< {target:.0f} s ok" if r["seconds"] < target
                                                     else f"< {target:.0f} s MISSED")
                failed |= target is not None and r["seconds"] >= target
                print(f"{backend:<11}{n:>12,}{r['seconds']:>9.1f}{r['summaries']:>11,}{r['hyperparams']:>12,}"
                      f"{r['points']:>10,}  {verdict}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
