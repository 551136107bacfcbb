"""Nothing lost, nothing stuck: the recorder under load and under kill -9.

Prints, for SQLite (and PostgreSQL when EXPTABLE_TEST_PG_URL is set):
  * N concurrent SDK runs x P points each, every point counted back;
  * kill -9 of a run reporting 2,000 points/s: points lost (reported before the
    kill but never stored; at most one flush period's worth is expected);
  * time until a killed run is marked Aborted by a reader of the table
    (default heartbeat 5 s, 3 missed intervals);
  * peak memory of a process reporting 10,000,000 points in a tight loop
    (the pending buffer is bounded, 64 MB by default);
  * the experiments table keeping a large scattered selection (every 5th of 100,000 rows)
    across search keystrokes: model work and repaint per keystroke (no database).

Usage: python benchmarks/reliability.py [--writers N] [--points P] [--tight-points N] [--skip-detect]
       python benchmarks/reliability.py --only-selection [--rows N]
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WRITER = textwrap.dedent("""
    import sys, time
    from exptable_desktop import Task
    points, start_at = int(sys.argv[1]), float(sys.argv[2])
    task = Task.init("reliability", "writer", auto_connect_arg_parser=False, auto_connect_streams=False)
    log = task.get_logger()
    while time.time() < start_at:
        time.sleep(0.005)
    for i in range(points):
        log.report_scalar("loss", "train", 1.0 / (i + 1), i)
    task.close()
    print(task.id)
""")

STEADY = textwrap.dedent("""
    import sys, time
    from exptable_desktop import Task
    task = Task.init("reliability", "killed", auto_connect_arg_parser=False, auto_connect_streams=False)
    log = task.get_logger()
    print(task.id, flush=True)
    i = 0
    while True:
        log.report_scalar("loss", "train", 1.0, i)
        i += 1
        if i % 20 == 0:
            print(i, flush=True)  # every point up to here was handed to the SDK
            time.sleep(0.01)
""")

TIGHT = textwrap.dedent("""
    import resource, sys, time
    from exptable_desktop import Task
    points = int(sys.argv[1])
    task = Task.init("reliability", "tight loop", auto_connect_arg_parser=False, auto_connect_streams=False)
    report = task.get_logger().report_scalar
    start = time.perf_counter()
    for i in range(points):
        report("loss", "train", 0.5, i)
    handed = time.perf_counter() - start
    task.close()
    total = time.perf_counter() - start
    print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, handed, total)
""")


def env_for(url: str, files: Path) -> dict:
    return {**os.environ, "EXPTABLE_DB": url, "EXPTABLE_FILES": str(files), "PYTHONPATH": str(ROOT)}


def concurrent_writers(url: str, files: Path, writers: int, points: int) -> str:
    start_at = time.time() + 3.0
    env = env_for(url, files)
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(points), str(start_at)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(writers)]
    ids = []
    for proc in procs:
        out, err = proc.communicate(timeout=600)
        if proc.returncode != 0:
            return f"writer failed: {err.strip().splitlines()[-1] if err.strip() else proc.returncode}"
        ids.append(out.split()[-1])
    elapsed = time.time() - start_at
    from exptable_desktop.store import close_database, open_database
    from exptable_desktop.store.series import count_points
    open_database(url)
    try:
        counts = [count_points(i) for i in ids]
    finally:
        close_database()
    lost = writers * points - sum(counts)
    return (f"{writers} writers x {points:,} points: {sum(counts):,} stored, {lost} lost, "
            f"{writers * points / elapsed:,.0f} points/s together")


def kill_nine(url: str, files: Path, detect: bool) -> str:
    proc = subprocess.Popen([sys.executable, "-c", STEADY], env=env_for(url, files), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    experiment_id = proc.stdout.readline().strip()
    last = 0
    deadline = time.time() + 3.0
    while time.time() < deadline:
        line = proc.stdout.readline().strip()
        if line.isdigit():
            last = int(line)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = time.time()
    from exptable_desktop.core import liveness
    from exptable_desktop.core import states as st
    from exptable_desktop.store import close_database, open_database
    from exptable_desktop.store.schema import Experiment
    from exptable_desktop.store.series import count_points
    open_database(url)
    try:
        stored = count_points(experiment_id)
        text = f"kill -9 after {last:,} points handed over: {stored:,} stored, {max(0, last - stored):,} lost"
        if detect:
            while time.time() - killed_at < 120:
                liveness.mark_stale_runs()
                if Experiment.get_by_id(experiment_id).status == st.ABORTED:
                    break
                time.sleep(0.25)
            status = Experiment.get_by_id(experiment_id)
            text += (f"; marked {st.status_label(status.status)} {time.time() - killed_at:.1f} s after the kill "
                     f"({status.status_message!r})")
    finally:
        close_database()
    return text


def tight_loop(url: str, files: Path, points: int) -> str:
    out = subprocess.run([sys.executable, "-c", TIGHT, str(points)], env=env_for(url, files), capture_output=True,
                         text=True, timeout=1800)
    if out.returncode != 0:
        return f"tight loop failed: {out.stderr.strip().splitlines()[-1:]}"
    peak_mb, handed, total = (float(x) for x in out.stdout.split()[-3:])
    return (f"tight loop of {points:,} points: peak RSS {peak_mb:,.0f} MB, {points / handed:,.0f} calls/s, "
            f"all committed after {total:.1f} s")


def table_selection(rows: int, every: int = 5) -> list[str]:
    """Search keystrokes in the experiments table (model, proxy and view, offscreen, at the default
    window's table size) while every ``every``-th row is selected; each timed until painted."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import numpy as np
    from PySide6.QtCore import QItemSelectionModel
    from PySide6.QtWidgets import QApplication

    from exptable_desktop.core.filters import SearchQuery
    from exptable_desktop.core.experiment_table import ExperimentTable
    from exptable_desktop.store.bulk import BASE_FIELDS
    from exptable_desktop.ui.style import apply_style, style_table
    from exptable_desktop.ui.table_model import ExperimentTableModel
    from exptable_desktop.ui.table_proxy import ExperimentTableProxy
    from exptable_desktop.ui.table_view import ExperimentTableView

    app = QApplication.instance() or QApplication([])
    apply_style()
    families = ("resnet50", "vit_b16", "yolov8m", "t5-base", "llama-3-8b", "ppo", "bert-large")
    statuses = ("completed", "failed", "in_progress", "stopped", "published")

    def row(i: int) -> tuple:
        values = dict(id=f"{i:032x}", name=f"{families[i % 7]} lr=0.{i % 13:03d} run {i}", type="training",
                      status=statuses[i % 5], project=1 + i % 9, user=("ann", "bob", "eve")[i % 3], parent=None,
                      started=1.7e9 + i, last_update=1.7e9 + 2 * i, last_iteration=float(i % 5000), progress=None,
                      description="", run_time=None, archived=False, development=False, created=1.7e9)
        return tuple(values[f] for f in BASE_FIELDS)

    table = ExperimentTable(rows + 64)
    table.write_base_rows([row(i) for i in range(rows)])
    table.recompute_mask()
    table.resort()
    model = ExperimentTableProxy(ExperimentTableModel())
    view = ExperimentTableView()
    view.setModel(model)
    style_table(view, archive=False)
    model.set_table(table)
    view.resize(1150, 720)  # the table's part of a 1400x820 window
    view.show()
    app.processEvents()
    view.selectionModel().select_rows(np.arange(0, rows, every), QItemSelectionModel.SelectionFlag.Select)
    app.processEvents()
    selected = len(view.selected_rows())
    out = []
    # Typing a model family and a learning rate: each keystroke hides rows all over the table (families
    # and rates cycle through the rows), the last one brings them all back.
    for text in ("r", "re", "res", "resnet", "resnet50 lr=0.01", ""):
        start = time.perf_counter()
        model.set_search(SearchQuery(text) if text else None)
        modelled = time.perf_counter() - start
        view.viewport().repaint()
        total = time.perf_counter() - start
        held = QItemSelectionModel.selection(view.selectionModel()).size()
        out.append(f"search {text!r:19} with {selected:,} of {rows:,} rows selected (every {every}th): "
                   f"{total * 1000:6.1f} ms = model {modelled * 1000:5.1f} + paint {(total - modelled) * 1000:5.1f}; "
                   f"{len(view.selected_rows()):,} shown selected, {held} ranges held by Qt")
    view.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writers", type=int, default=32)
    parser.add_argument("--points", type=int, default=20_000)
    parser.add_argument("--tight-points", type=int, default=10_000_000)
    parser.add_argument("--skip-detect", action="store_true", help="don't wait for stale-run detection")
    parser.add_argument("--only-selection", action="store_true",
                        help="run only the table selection case (no database, a few seconds)")
    parser.add_argument("--rows", type=int, default=100_000, help="rows of the table selection case")
    args = parser.parse_args()
    if args.only_selection:
        print("== Table selection")
        for line in table_selection(args.rows):
            print("  " + line, flush=True)
        return

    backends = [("SQLite", None)]
    if os.environ.get("EXPTABLE_TEST_PG_URL"):
        backends.append(("PostgreSQL", os.environ["EXPTABLE_TEST_PG_URL"]))
    for label, pg_url in backends:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            url = f"sqlite:///{folder / 'reliability.db'}"
            if pg_url:
                sys.path.insert(0, str(ROOT / "tests"))
                from pg_support import drop_pg_database, new_pg_database
                url = new_pg_database("exptable_bench_")
            print(f"== {label}")
            try:
                print("  " + concurrent_writers(url, folder / "files", args.writers, args.points), flush=True)
                print("  " + kill_nine(url, folder / "files", not args.skip_detect), flush=True)
                print("  " + tight_loop(url, folder / "files", args.tight_points), flush=True)
            finally:
                if pg_url:
                    drop_pg_database(url)
    print("== Table selection")
    for line in table_selection(args.rows):
        print("  " + line, flush=True)


if __name__ == "__main__":
    main()
