"""How fast the SDK takes scalars, and how that compares with MLflow on the same machine.

Prints:
  * ``report_scalar`` cost per call in the calling thread (µs), in a burst and
    over the whole sustained run (that one includes the writer thread's share
    of the GIL);
  * sustained ingest of 1,000,000 points into SQLite, from the first call
    until every point is committed (points/s; goal >= 300,000/s);
  * MLflow on its default SQLite store: a ``log_metric`` loop on 20,000
    points and ``log_batch`` in batches of 1,000, and our ratio to each
    (goal: >= 30x MLflow's ``log_batch`` rate). Skipped, with a note, when
    mlflow is not importable (``pip install mlflow``);
  * what automatic capture (``auto_connect_frameworks``) costs a script that
    uses no framework: import and ``Task.init`` time, the bindings' install,
    and the meta-path check every later import pays.

Usage: python benchmarks/sdk_logging.py [--points N] [--mlflow-batch-points N]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SERIES = [("loss", "train"), ("loss", "val"), ("accuracy", "train"), ("accuracy", "val")]


def ours(folder: Path, points: int) -> dict:
    os.environ["EXPTABLE_DB"] = f"sqlite:///{folder / 'exptable.db'}"
    os.environ["EXPTABLE_FILES"] = str(folder / "files")
    from exptable_desktop import Task
    from exptable_desktop.store.series import count_points

    task = Task.init("bench", "sdk-logging", auto_connect_arg_parser=False, auto_connect_streams=False)
    logger = task.get_logger()
    report = logger.report_scalar

    # Burst: the writer is idle, so this is the calling thread's own cost.
    burst = 100_000
    task.flush()
    start, cpu_start = time.perf_counter(), time.thread_time()
    for i in range(burst):
        report("burst", "a", 0.5, i)
    burst_us = (time.perf_counter() - start) / burst * 1e6
    # CPU time of this thread alone: what the call costs, even on a machine busy with other work.
    burst_cpu_us = (time.thread_time() - cpu_start) / burst * 1e6
    empty_start = time.perf_counter()
    for i in range(burst):
        pass
    loop_us = (time.perf_counter() - empty_start) / burst * 1e6
    task.flush()
    base = count_points(task.id)

    per_series = points // len(SERIES)
    total = per_series * len(SERIES)
    start, cpu_start = time.perf_counter(), time.thread_time()
    for i in range(per_series):
        value = 1.0 / (i + 1)
        report("loss", "train", value, i)
        report("loss", "val", value * 1.1, i)
        report("accuracy", "train", 1.0 - value, i)
        report("accuracy", "val", 0.9 - value, i)
    calls_done, calls_cpu = time.perf_counter(), time.thread_time() - cpu_start
    task.flush()
    flushed = time.perf_counter()
    stored = count_points(task.id) - base
    task.close()
    return {"burst_us": burst_us, "burst_cpu_us": burst_cpu_us, "loop_us": loop_us,
            "sustained_us": (calls_done - start) / total * 1e6, "sustained_cpu_us": calls_cpu / total * 1e6,
            "points": total, "stored": stored, "seconds": flushed - start, "rate": total / (flushed - start),
            "calls_seconds": calls_done - start}


def mlflow_rates(folder: Path, loop_points: int, batch_points: int) -> dict | None:
    try:
        import mlflow
        from mlflow.entities import Metric
        from mlflow.tracking import MlflowClient
    except ImportError:
        return None
    warnings.filterwarnings("ignore")
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(tracking_uri=uri)
    experiment_id = client.create_experiment("bench")  # schema creation, not timed
    run = client.create_run(experiment_id)
    run_id = run.info.run_id

    start = time.perf_counter()
    for i in range(loop_points):
        client.log_metric(run_id, "loss", 1.0 / (i + 1), step=i)
    loop_seconds = time.perf_counter() - start

    per_series = batch_points // len(SERIES)
    stamp = int(time.time() * 1000)
    metrics = [Metric(f"{title}/{series}", 1.0 / (i + 1), stamp, i)
               for i in range(per_series) for title, series in SERIES]
    start = time.perf_counter()
    for offset in range(0, len(metrics), 1000):
        client.log_batch(run_id, metrics=metrics[offset:offset + 1000])
    batch_seconds = time.perf_counter() - start
    client.set_terminated(run_id)
    return {"version": mlflow.__version__, "loop_points": loop_points, "loop_rate": loop_points / loop_seconds,
            "batch_points": len(metrics), "batch_rate": len(metrics) / batch_seconds, "batch_seconds": batch_seconds}


AUTO_CAPTURE_PROBE = """
import json, statistics, sys, time
start = time.perf_counter()
import exptable_desktop
package_ms = (time.perf_counter() - start) * 1e3
from exptable_desktop import Task
import exptable_desktop.sdk
start = time.perf_counter()
from exptable_desktop.sdk import bindings
bindings_ms = (time.perf_counter() - start) * 1e3
Task.init("bench", "warm-up", auto_connect_streams=False).close()  # opens the database
times = {True: [], False: []}
for _ in range(5):
    for frameworks in (True, False):
        start = time.perf_counter()
        task = Task.init("bench", "auto-capture", auto_connect_frameworks=frameworks, auto_connect_streams=False)
        times[frameworks].append((time.perf_counter() - start) * 1e3)
        task.close()
task = Task.init("bench", "auto-capture", auto_connect_streams=False)
start = time.perf_counter()
for _ in range(1000):
    bindings.install(task, True)
install_us = (time.perf_counter() - start) * 1e3
finder = next(f for f in sys.meta_path if type(f).__name__ == "_PostImportFinder")
start = time.perf_counter()
for _ in range(1_000_000):
    finder.find_spec("some_module_nobody_waits_for")
finder_ns = (time.perf_counter() - start) * 1e3
frameworks = [m for m in ("matplotlib", "tensorboardX", "torch", "joblib", "click", "fire", "absl", "hydra")
              if m in sys.modules]
task.close()
print(json.dumps({"package_ms": package_ms, "bindings_ms": bindings_ms,
                  "init_on_ms": statistics.median(times[True]), "init_off_ms": statistics.median(times[False]),
                  "install_us": install_us, "finder_ns": finder_ns, "frameworks": frameworks}))
"""


def auto_capture_cost(folder: Path) -> dict:
    """What automatic capture costs a script that uses no framework, measured in a fresh process."""
    import json
    import subprocess

    env = dict(os.environ, EXPTABLE_DB=f"sqlite:///{folder / 'auto.db'}", EXPTABLE_FILES=str(folder / "auto"),
               PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    done = subprocess.run([sys.executable, "-c", AUTO_CAPTURE_PROBE], env=env, capture_output=True, text=True,
                          check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--mlflow-loop-points", type=int, default=20_000)
    parser.add_argument("--mlflow-batch-points", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="exptable-bench-") as tmp:
        folder = Path(tmp)
        result = ours(folder, args.points)
        print(f"report_scalar, calling thread, burst of 100,000: {result['burst_us']:.2f} us/call wall, "
              f"{result['burst_cpu_us']:.2f} us/call CPU (the bare for-loop: {result['loop_us']:.2f} us)")
        print(f"report_scalar, calling thread, sustained run:    {result['sustained_us']:.2f} us/call wall "
              f"(includes the writer thread's share of the GIL), {result['sustained_cpu_us']:.2f} us/call CPU")
        print(f"ExpTable ingest: {result['points']:,} points in {result['seconds']:.2f} s until committed "
              f"({result['calls_seconds']:.2f} s of report calls) = {result['rate']:,.0f} points/s; "
              f"{result['stored']:,} stored")
        if result["stored"] != result["points"]:
            print("ERROR: not every point was stored")
            sys.exit(1)
        auto = auto_capture_cost(folder)
        print(f"Automatic capture, no framework used: import exptable_desktop {auto['package_ms']:.1f} ms "
              f"(bindings not loaded); first Task.init loads them: {auto['bindings_ms']:.1f} ms once; "
              f"Task.init {auto['init_on_ms']:.1f} ms with auto_connect_frameworks on, "
              f"{auto['init_off_ms']:.1f} ms off (medians); install {auto['install_us']:.1f} us; "
              f"{auto['finder_ns']:.0f} ns per later import; report_scalar not wrapped; "
              f"frameworks imported: {', '.join(auto['frameworks']) or 'none'}")
        ml = mlflow_rates(folder, args.mlflow_loop_points, args.mlflow_batch_points)
        if ml is None:
            print("MLflow: not importable here (pip install mlflow); comparison skipped")
            return
        print(f"MLflow {ml['version']} (sqlite store) log_metric loop: {ml['loop_points']:,} points, "
              f"{ml['loop_rate']:,.0f} points/s")
        print(f"MLflow {ml['version']} (sqlite store) log_batch x1000: {ml['batch_points']:,} points in "
              f"{ml['batch_seconds']:.2f} s, {ml['batch_rate']:,.0f} points/s")
        print(f"Ratio: {result['rate'] / ml['batch_rate']:.1f}x MLflow log_batch, "
              f"{result['rate'] / ml['loop_rate']:.0f}x MLflow log_metric (goal: >= 30x log_batch)")


if __name__ == "__main__":
    main()
