"""Scalar store benchmark: ingest 10 million points, then read one 1,000,000-point series back.

    python benchmarks/store_bench.py                 # SQLite (and PostgreSQL if EXPTABLE_TEST_PG_URL is set)
    python benchmarks/store_bench.py --experiments 10 # a quicker, smaller run

Goal (issue 2): one series of 1 million points reads back in under 100 ms; on PostgreSQL
in 60 ms or less (issue 14: bytea read in binary, stored uncompressed).
Points go through ``store.series.append_scalars`` in its dict-of-arrays form,
one write transaction per experiment (the many-series experiments) or per
10,000-point batch (the long series, as a script flushing as it trains would).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from backends import run_on_backends  # noqa: E402
from exptable_desktop.core import recording  # noqa: E402
from exptable_desktop.store import close_database, open_database, run_write  # noqa: E402
from exptable_desktop.store.db import is_sqlite  # noqa: E402
from exptable_desktop.store.series import append_scalars, count_points, read_series  # noqa: E402

LONG_BATCH = 10_000
READS = 5


def ingest(experiments: int, series: int, points: int, long_points: int) -> dict:
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    for e in range(experiments):
        exp_id = recording.create_experiment("Bench", f"run {e}")
        iters = np.arange(points, dtype=np.int64)
        stamps = 1.7e9 + iters.astype(np.float64)
        data = {(f"metric{s}", "train"): (iters, rng.random(points), stamps) for s in range(series)}
        run_write(append_scalars, exp_id, data)
    many_seconds = time.perf_counter() - start

    long_id = recording.create_experiment("Bench", "long run")
    start = time.perf_counter()
    for first in range(0, long_points, LONG_BATCH):
        iters = np.arange(first, min(first + LONG_BATCH, long_points), dtype=np.int64)
        run_write(append_scalars, long_id, {("loss", "train"): (iters, rng.random(len(iters)),
                                                                 1.7e9 + iters.astype(np.float64))})
    long_seconds = time.perf_counter() - start
    return {"many_seconds": many_seconds, "many_points": experiments * series * points,
            "long_seconds": long_seconds, "long_points": long_points, "long_id": long_id}


def time_reads(exp_id: str, expected: int) -> list[float]:
    times = []
    for _ in range(READS):
        start = time.perf_counter()
        got = read_series(exp_id, "loss", "train")
        times.append(time.perf_counter() - start)
        assert len(got) == expected and got.iterations[-1] == expected - 1, len(got)
    return times


def database_size(db, sqlite_file: Path | None) -> int:
    if sqlite_file is not None:
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return sum(p.stat().st_size for p in sqlite_file.parent.glob(sqlite_file.name + "*") if p.is_file())
    return db.execute_sql("SELECT pg_database_size(current_database())").fetchone()[0]


def run_backend(name: str, url: str, sqlite_file: Path | None, args) -> dict:
    db = open_database(url)
    try:
        figures = ingest(args.experiments, args.series, args.points, args.long)
        total = count_points()
        assert total == figures["many_points"] + figures["long_points"], total
        reads = time_reads(figures["long_id"], args.long)
        size = database_size(db, sqlite_file)
        assert is_sqlite(db) == (sqlite_file is not None)
    finally:
        close_database()
    seconds = figures["many_seconds"] + figures["long_seconds"]
    return {"backend": name, "points": total, "ingest_s": seconds, "rate": total / seconds,
            "many_rate": figures["many_points"] / figures["many_seconds"],
            "long_rate": figures["long_points"] / figures["long_seconds"],
            "size_mb": size / 1e6, "bytes_per_point": size / total,
            "read_median_ms": statistics.median(reads) * 1000, "read_min_ms": min(reads) * 1000,
            "read_max_ms": max(reads) * 1000}


def print_table(rows: list[dict], args) -> None:
    print()
    print(f"{args.experiments} experiments x {args.series} series x {args.points:,} points "
          f"+ one {args.long:,}-point series (appended in batches of {LONG_BATCH:,})")
    header = (f"{'backend':<11} {'points':>11} {'ingest s':>9} {'points/s':>11} {'bulk pts/s':>11} "
              f"{'long pts/s':>11} {'DB MB':>8} {'B/point':>8} {'read long median ms':>20} {'min':>7} {'max':>7}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r['backend']:<11} {r['points']:>11,} {r['ingest_s']:>9.1f} {r['rate']:>11,.0f} "
              f"{r['many_rate']:>11,.0f} {r['long_rate']:>11,.0f} {r['size_mb']:>8.1f} "
              f"{r['bytes_per_point']:>8.1f} {r['read_median_ms']:>20.1f} {r['read_min_ms']:>7.1f} "
              f"{r['read_max_ms']:>7.1f}")
    print("(PostgreSQL's size includes its empty-database baseline of a few MB)")
    goals = {"sqlite": 100, "postgresql": 60}
    verdicts = [f"{r['backend']} < {goals[r['backend']]} ms: "
                f"{'PASS' if r['read_median_ms'] < goals[r['backend']] else 'FAIL'}" for r in rows]
    print(f"\ngoal: the 1M-point series read back (median of {READS}) -> " + ", ".join(verdicts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=100)
    parser.add_argument("--series", type=int, default=10)
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--long", type=int, default=1_000_000)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    os.environ.setdefault("EXPTABLE_USER", "bench")

    rows = run_on_backends(args.backend, lambda backend, url, path: run_backend(backend, url, path, args))
    print_table(rows, args)


if __name__ == "__main__":
    main()
