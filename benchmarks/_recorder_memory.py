"""Peak memory of a script that reports scalars as fast as it can: the recorder's buffer bound at work.

``tight_loop_peak_memory(points)`` runs ``report_scalar`` in a tight loop in a fresh
process on a temporary SQLite database, closes the task (everything written) and
returns the process's peak resident memory, its memory before the loop, the time
taken and how many points were stored and lost.

Usage: python benchmarks/_recorder_memory.py [--points N] [--max-buffer-mb MB]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]

_CHILD = r"""
import json
import resource
import sys
import time

from exptable_desktop import Task
from exptable_desktop.store.series import count_points

points = int(sys.argv[1])
task = Task.init("bench", "tight loop", auto_connect_arg_parser=False, auto_connect_streams=False)
report = task.get_logger().report_scalar
before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
for i in range(points):
    report("loss", "train", 0.5, i)
calls_seconds = time.perf_counter() - start
lost_summary = task._reporter.lost_summary()
task.close()
seconds = time.perf_counter() - start
print(json.dumps({
    "points": points, "stored": count_points(task.id), "lost": lost_summary,
    "before_kb": before_kb, "peak_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
    "calls_seconds": calls_seconds, "seconds": seconds,
}))
"""


def tight_loop_peak_memory(points: int = 10_000_000, max_buffer_mb: float | None = None,
                           timeout: float = 900) -> dict:
    """Run ``points`` report_scalar calls back to back in a subprocess; its peak RSS and more.

    Returns ``{"points", "stored", "lost" (the SDK's summary, "" when nothing was lost),
    "peak_rss_mb", "before_loop_rss_mb", "calls_seconds", "seconds", "max_buffer_mb"}``.
    """
    with tempfile.TemporaryDirectory(prefix="exptable-recorder-memory-") as tmp:
        env = dict(os.environ)
        env.update(EXPTABLE_DB=f"sqlite:///{Path(tmp) / 'exptable.db'}", EXPTABLE_FILES=str(Path(tmp) / "files"),
                   PYTHONPATH=str(PROJECT_ROOT) + os.pathsep + env.get("PYTHONPATH", ""))
        env.pop("EXPTABLE_TASK_ID", None)
        if max_buffer_mb is not None:
            env["EXPTABLE_MAX_BUFFER_MB"] = str(max_buffer_mb)
        done = subprocess.run([sys.executable, "-c", _CHILD, str(points)], cwd=tmp, env=env,
                              capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"the tight loop failed (exit code {done.returncode}): {done.stderr.strip()}")
    child = json.loads(done.stdout.strip().splitlines()[-1])
    # ru_maxrss is in kilobytes on Linux and in bytes on macOS.
    unit = 1 if sys.platform == "darwin" else 1024
    return {"points": child["points"], "stored": child["stored"], "lost": child["lost"],
            "peak_rss_mb": child["peak_kb"] * unit / 2**20, "before_loop_rss_mb": child["before_kb"] * unit / 2**20,
            "calls_seconds": child["calls_seconds"], "seconds": child["seconds"],
            "max_buffer_mb": max_buffer_mb if max_buffer_mb is not None
            else float(os.environ.get("EXPTABLE_MAX_BUFFER_MB") or 64)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=10_000_000)
    parser.add_argument("--max-buffer-mb", type=float, default=None)
    args = parser.parse_args()
    result = tight_loop_peak_memory(args.points, args.max_buffer_mb)
    print(f"{result['points']:,} points in a tight loop: peak RSS {result['peak_rss_mb']:.0f} MB "
          f"({result['before_loop_rss_mb']:.0f} MB before the loop; buffer bound {result['max_buffer_mb']:g} MB); "
          f"calls {result['calls_seconds']:.1f} s, all written after {result['seconds']:.1f} s; "
          f"{result['stored']:,} stored" + (f"; LOST: {result['lost']}" if result["lost"] else ""))


if __name__ == "__main__":
    main()
