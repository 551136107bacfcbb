"""Experiments-table speed, offscreen: open, sort, filter, search, refresh tick, memory.

    python benchmarks/table_bench.py --experiments 100000 [--db sqlite:////tmp/bench.db] [--cold-columns]
    python benchmarks/table_bench.py --experiments 10000 --best-step [--points 500]

The database is generated once by benchmarks/table_data.py (exactly 20 metric
and 20 hyperparameter columns per experiment, bulk inserts; io.demo makes
richer but differently shaped data) and reused when it already holds experiments.
Prints one line per figure, in milliseconds unless said otherwise. Each interaction is
timed until the table has painted once (one frame, as on a screen; a paint counter on the
viewport checks it happened). A refresh tick runs the timer's path: the read on a worker
thread, then the UI thread's apply and repaint, reported apart. Importing the UI modules
is program start-up and is reported on its own line, not in "first rows painted".

The custom columns are read through the column cache (store.column_cache) once a window has kept
them; ``--cold-columns`` empties it first, so the run reads them from their rows as a first open
does (and keeps them again). ``--best-step`` measures instead the "at best step" column (val/acc at
the step of the lowest val/loss) on a database of its own whose experiments report both series
(``--points`` points each), generated once: read from the series, then from the cache.
"""
from __future__ import annotations

import argparse
import os
import random
import resource
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=100_000)
    parser.add_argument("--db", default=None)
    parser.add_argument("--cold-columns", action="store_true",
                        help="empty the column cache first: the custom columns are read from their rows")
    parser.add_argument("--best-step", action="store_true",
                        help="time the 'at best step' column on a database with series instead")
    parser.add_argument("--points", type=int, default=500, help="points per series for --best-step")
    args = parser.parse_args()
    if args.best_step:
        return best_step_bench(args)
    url = args.db or f"sqlite:////tmp/exptable_table_bench_{args.experiments}.db"

    from PySide6.QtWidgets import QApplication

    from exptable_desktop.core import columns as C
    from exptable_desktop.core.filters import RangeFilter, TagFilter, ValueSetFilter
    from exptable_desktop.core.viewstate import default_state, scope_name
    from exptable_desktop.paths import current_user
    from exptable_desktop.store import bulk, open_database
    from exptable_desktop.store.schema import Experiment, MetricSummary

    app = QApplication.instance() or QApplication([])
    open_database(url)
    if Experiment.select().count() == 0:
        print(f"generating {args.experiments:,} experiments into {url} (once) ...", flush=True)
        import table_data
        started = time.perf_counter()
        table_data.generate(args.experiments)
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    n = Experiment.select().count()
    # Databases made by an older generator held "updated" times in the future, which every
    # refresh tick then re-read; no real experiment is updated later than now.
    Experiment.update(last_update=time.time()).where(Experiment.last_update > time.time()).execute()
    metrics = sorted(bulk.metric_variants(bulk.Scope(None, False)))[:20]
    params = sorted(bulk.hyperparam_names(bulk.Scope(None, False)))[:20]
    state = default_state(True)
    state.custom = [C.metric_key(m, v, "last") for m, v in metrics] + [C.hyperparam_key(s, p) for s, p in params]
    bulk.store_saved_view(current_user(), scope_name(None, True), state.to_dict())
    bulk.set_preference(current_user(), "table.last_scope", {"project": None, "deep": True})
    from exptable_desktop.store import column_cache
    # Keys only: reading the entries here would leave their arrays in this process's peak memory.
    cached = {key for (key,) in column_cache.ColumnCache.select(column_cache.ColumnCache.key)
              .where(column_cache.ColumnCache.key.in_(state.custom)).tuples()}
    if args.cold_columns:
        from exptable_desktop.store.db import run_write
        run_write(column_cache.clear)
        cached = set()
    print(f"column cache holds {len(cached)} of the {len(state.custom)} custom columns")

    from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer

    # Importing the UI modules is program start-up, not opening a project: timed on its own.
    started = time.perf_counter()
    from exptable_desktop.ui import create_main_window
    import exptable_desktop.ui.actions  # noqa: F401
    import exptable_desktop.ui.details  # noqa: F401
    import exptable_desktop.ui.main_window  # noqa: F401
    print(f"experiments in database: {n:,}; custom columns: {len(state.custom)}")
    print(f"UI modules imported (start-up){ms(time.perf_counter() - started)}")

    class PaintCounter(QObject):
        paints = 0

        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                PaintCounter.paints += 1
            return False

    counter = PaintCounter()

    def wait_until(condition) -> None:
        """Run the event loop until ``condition()`` holds, polled every 2 ms.

        Waiting in the event loop, as the application does, leaves the GIL to the loader threads;
        a processEvents()/sleep() loop took it back every millisecond and made a 15 ms column read
        take 140 ms."""
        if condition():
            return
        loop = QEventLoop()
        timer = QTimer(interval=2)
        timer.timeout.connect(lambda: loop.quit() if condition() else None)
        timer.start()
        loop.exec()
        timer.stop()

    def settle() -> None:
        """Let the event loop run until the table has painted once (one frame, as on a screen)."""
        before = PaintCounter.paints
        app.processEvents()
        if PaintCounter.paints == before:
            window.table_view.viewport().repaint()

    t0 = time.perf_counter()
    window = create_main_window(url)
    window.table_view.viewport().installEventFilter(counter)
    window.auto_refresh_toggle.setChecked(False)
    window.resize(1600, 900)
    window.show()
    settle()
    first_paint = time.perf_counter() - t0
    print(f"first rows painted            {ms(first_paint)}  ({len(window.visible_ids()):,} rows)")
    wait_until(lambda: not window._full_pending)
    settle()
    all_rows = time.perf_counter()
    print(f"all rows loaded and painted   {ms(all_rows - t0)}  ({len(window.visible_ids()):,} rows)")
    def values_in() -> bool:
        table = window.model.table
        return not window._full_pending and all(table.has_column_data(key) for key in state.custom)

    wait_until(values_in)
    settle()
    done = time.perf_counter()
    print(f"all custom columns loaded     {ms(done - t0)}  (streamed in after all rows: {ms(done - all_rows).strip()})")
    wait_until(lambda: not window.is_loading())
    print(f"column loader finished        {ms(time.perf_counter() - t0)}  (after keeping what it read in the cache)")

    def timed(label: str, fn) -> None:
        start = time.perf_counter()
        fn()
        settle()
        print(f"{label:<30}{ms(time.perf_counter() - start)}")

    for key in ("name", "status", "started", "last_iteration", "user", state.custom[0], state.custom[-1]):
        timed(f"sort {key[:24]}", lambda k=key: window.set_sort([(k, True)]))
    timed("sort two keys", lambda: window.set_sort([("status", False), (state.custom[0], True)]))
    window.set_sort([("last_update", True)])
    timed("filter status", lambda: window.set_filter("status", ValueSetFilter(frozenset({"completed", "failed"}))))
    timed("filter tags ALL", lambda: window.set_filter("tags", TagFilter("all", frozenset({"best"}))))
    timed("filter metric range", lambda: window.set_filter(state.custom[1], RangeFilter(0.2, 0.8)))
    timed("filter hyperparameter", lambda: window.set_filter(state.custom[-1], ValueSetFilter(frozenset({"adam"}))))
    timed("clear filters", window.clear_filters)
    bar = window.table_view.verticalScrollBar()
    frames = []
    for step in range(20):
        start = time.perf_counter()
        bar.setValue(bar.value() + bar.pageStep() // (1 if step % 2 else 3))
        settle()
        frames.append(time.perf_counter() - start)
    frames.sort()
    print(f"scroll step (20 steps)        median {ms(frames[len(frames) // 2])}  worst {ms(frames[-1])}")
    bar.setValue(0)
    for text in ("r", "re", "res", "resn", "resne", "resnet-00"):
        timed(f"search keystroke {text!r}", lambda t=text: window.search_box.setText(t))
    window.search_box.clear()
    app.processEvents()

    window.set_checked(window.visible_ids()[:50], True)
    window.select_experiment(window.visible_ids()[10])
    ids = [i for (i,) in Experiment.select(Experiment.id).where(Experiment.archived == False).tuples()]  # noqa: E712
    rng = random.Random(3)
    window._since = bulk.current_change_seq()
    refreshed = []
    window.sig_refreshed.connect(lambda: refreshed.append(time.perf_counter()))
    for _ in range(3):
        changed = rng.sample(ids, 100)
        now = time.time()
        Experiment.update(last_update=now, last_iteration=Experiment.last_iteration + 10).where(
            Experiment.id.in_(changed)).execute()
        MetricSummary.update(last=MetricSummary.last + 0.01).where(MetricSummary.experiment.in_(changed)).execute()
        del refreshed[:]
        start = time.perf_counter()
        window.refresh_in_background()  # what the auto-refresh timer does
        wait_until(lambda: bool(refreshed))
        applied = window.last_refresh_apply_seconds
        paint_start = time.perf_counter()
        settle()
        painted = time.perf_counter() - paint_start
        print(f"refresh tick, 100 changed     worker fetch+wait {ms(refreshed[0] - start - applied)}  "
              f"UI thread: apply {ms(applied)}  + repaint {ms(painted)}")
        time.sleep(2.1)  # past the overlap, so the next tick is its own 100 rows
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS)             {rss:8.0f} MB")
    window.shutdown()
    return 0


def best_step_bench(args) -> int:
    """The "at best step" column over every experiment: from the series (first open), then from the cache."""
    import numpy as np

    from exptable_desktop.core import columns as C
    from exptable_desktop.core.recording import create_experiments
    from exptable_desktop.core.table_loading import load_base_table, load_custom_columns, read_custom_values
    from exptable_desktop.store import bulk, column_cache, open_database
    from exptable_desktop.store.db import run_write
    from exptable_desktop.store.schema import Experiment

    n, points = args.experiments, args.points
    url = args.db or f"sqlite:////tmp/exptable_best_step_bench_{n}x{points}.db"
    open_database(url)
    if Experiment.select().count() == 0:
        print(f"generating {n:,} experiments x 2 series x {points} points into {url} (once) ...", flush=True)
        started = time.perf_counter()
        rng = np.random.default_rng(5)
        its = np.arange(points, dtype=np.int64)
        stamps = its * 1.0
        for start in range(0, n, 500):
            specs = []
            for i in range(start, min(n, start + 500)):
                loss = 1.0 / (1 + its * rng.uniform(0.01, 0.1)) + rng.normal(0, 0.02, points)
                acc = 1.0 - loss / 2 + rng.normal(0, 0.01, points)
                specs.append({"id": f"{i:032x}", "project": "best-step", "name": f"run-{i:06d}", "status": "completed",
                              "scalars": {("val", "loss"): (its, loss, stamps), ("val", "acc"): (its, acc, stamps)}})
            create_experiments(specs)
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    key = C.best_step_key("val", "acc", "min", "val", "loss")
    scope = bulk.Scope(None, False)
    table = load_base_table(scope)

    def read(keep: bool) -> float:
        started = time.perf_counter()
        for column_key, values in load_custom_columns(scope, [key], whole_db=True, expected_rows=table.n,
                                                      keep_cache=keep):
            table.add_custom_column(column_key, values)
        return time.perf_counter() - started

    run_write(column_cache.clear)
    from_series = min(read(keep=False) for _ in range(3))
    filled = int(np.count_nonzero(~np.isnan(table.metrics[key][:table.n])))
    print(f"experiments: {table.n:,}, {points} points a series; cells filled: {filled:,}")
    print(f"at-best-step column from the series   {ms(from_series)}")
    read(keep=True)
    print(f"at-best-step column from the cache    {ms(min(read(keep=False) for _ in range(3)))}")
    ids = table.alive_ids()[:100]
    started = time.perf_counter()
    read_custom_values(ids, [key])
    print(f"100 experiments (a refresh tick)      {ms(time.perf_counter() - started)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
