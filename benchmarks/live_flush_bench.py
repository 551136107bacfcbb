"""What a live run's flushes write: many series, a few new points each, once a second.

    python benchmarks/live_flush_bench.py                      # SQLite (and PostgreSQL if EXPTABLE_TEST_PG_URL is set)
    python benchmarks/live_flush_bench.py --series 100 --flushes 300 --prefill 2000

Each series first gets ``--prefill`` points (so every tail chunk is part full, as in a run
that has been going for a while), then ``--flushes`` flushes of ``--points`` new points per
series go through ``core.recording.record_batch``, the SDK writer's own call. Prints per
flush: the new points' bytes, the blob bytes sent to the database, on SQLite the bytes
appended to the write-ahead log (what reaches the disk), and the flush's time. At one flush
a second, bytes per flush are bytes per second.

Goal (issue 14): the bytes written follow the new points, not the size of the tail chunks.
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
from exptable_desktop.core import states as st  # noqa: E402
from exptable_desktop.store import close_database, open_database  # noqa: E402

POINT_BYTES = 24  # int64 iteration, float64 value, float64 timestamp


def _blob_bytes(params) -> int:
    total = 0
    for p in params or ():
        raw = getattr(p, "adapted", p)  # psycopg2.Binary wraps the bytes
        if isinstance(raw, (bytes, bytearray, memoryview)):
            total += len(raw)
    return total


def run_backend(name: str, url: str, sqlite_file: Path | None, args) -> dict:
    db = open_database(url)
    sent = [0]
    original = db.execute_sql

    def counting(sql, params=None, *rest, **kwargs):
        sent[0] += _blob_bytes(params)
        return original(sql, params, *rest, **kwargs)

    try:
        if sqlite_file is not None:
            db.execute_sql("PRAGMA wal_autocheckpoint = 0")  # the log only grows: its growth is what was written
        exp = recording.create_experiment("Bench", "live", status=st.RUNNING)
        keys = [(f"metric{s // 10}", f"variant{s % 10}") for s in range(args.series)]
        rng = np.random.default_rng(0)
        if args.prefill:
            its = np.arange(args.prefill, dtype=np.int64)
            recording.record_batch(exp, scalars={k: (its, rng.random(args.prefill), 1.7e9 + its) for k in keys})
        db.execute_sql = counting
        wal = sqlite_file.with_name(sqlite_file.name + "-wal") if sqlite_file is not None else None
        times, sent_per_flush, wal_per_flush = [], [], []
        iteration = args.prefill
        for _ in range(args.flushes):
            its = np.arange(iteration, iteration + args.points, dtype=np.int64)
            iteration += args.points
            batch = {k: (its, rng.random(args.points), 1.7e9 + its) for k in keys}
            wal_before = wal.stat().st_size if wal is not None else 0
            sent[0] = 0
            start = time.perf_counter()
            recording.record_batch(exp, scalars=batch, live=True)
            times.append(time.perf_counter() - start)
            sent_per_flush.append(sent[0])
            if wal is not None:
                wal_per_flush.append(wal.stat().st_size - wal_before)
        db.execute_sql = original
    finally:
        close_database()
    new_bytes = args.series * args.points * POINT_BYTES
    return {"backend": name, "new": new_bytes, "sent": statistics.mean(sent_per_flush),
            "sent_max": max(sent_per_flush),
            "wal": statistics.mean(wal_per_flush) if wal_per_flush else None,
            "ms": statistics.median(times) * 1000, "ms_max": max(times) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=100)
    parser.add_argument("--points", type=int, default=1, help="new points per series per flush")
    parser.add_argument("--flushes", type=int, default=300)
    parser.add_argument("--prefill", type=int, default=2000, help="points per series before the flushes")
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    os.environ.setdefault("EXPTABLE_USER", "bench")
    rows = run_on_backends(args.backend, lambda backend, url, path: run_backend(backend, url, path, args))
    print(f"\n{args.series} series, {args.prefill:,} points each first, then {args.flushes} flushes "
          f"of {args.points} new point(s) per series")
    header = (f"{'backend':<11} {'new B/flush':>12} {'blob B sent/flush':>18} {'max':>10} "
              f"{'WAL B/flush':>12} {'flush ms median':>16} {'max':>7}")
    print(header)
    print("-" * len(header))
    for r in rows:
        wal = f"{r['wal']:>12,.0f}" if r["wal"] is not None else f"{'-':>12}"
        print(f"{r['backend']:<11} {r['new']:>12,} {r['sent']:>18,.0f} {r['sent_max']:>10,} {wal} "
              f"{r['ms']:>16.2f} {r['ms_max']:>7.1f}")


if __name__ == "__main__":
    main()
