"""Experiments-table speed, offscreen: open, sort, filter, search, refresh tick, memory.

    python benchmarks/table_bench.py --experiments 100000 [--db sqlite:////tmp/bench.db]

The database is generated once by benchmarks/table_data.py (exactly 20 metric
and 20 hyperparameter columns per experiment, bulk inserts; io.demo makes
richer but differently shaped data) and reused when it already holds experiments.
Prints one line per figure, in milliseconds unless said otherwise.
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
    args = parser.parse_args()
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
    metrics = sorted(bulk.metric_variants(bulk.Scope(None, False)))[:20]
    params = sorted(bulk.hyperparam_names(bulk.Scope(None, False)))[:20]
    state = default_state(True)
    state.custom = [C.metric_key(m, v, "last") for m, v in metrics] + [C.hyperparam_key(s, p) for s, p in params]
    bulk.store_saved_view(current_user(), scope_name(None, True), state.to_dict())
    bulk.set_preference(current_user(), "table.last_scope", {"project": None, "deep": True})

    from exptable_desktop.ui import create_main_window
    print(f"experiments in database: {n:,}; custom columns: {len(state.custom)}")
    t0 = time.perf_counter()
    window = create_main_window(url)
    window.auto_refresh_toggle.setChecked(False)
    window.resize(1600, 900)
    window.show()
    app.processEvents()
    window.table_view.viewport().grab()
    first_paint = time.perf_counter() - t0
    print(f"first rows painted            {ms(first_paint)}  ({len(window.visible_ids()):,} rows)")
    while window.is_loading():
        app.processEvents()
        time.sleep(0.005)
    app.processEvents()
    print(f"all custom columns loaded     {ms(time.perf_counter() - t0)}")

    def timed(label: str, fn) -> None:
        start = time.perf_counter()
        fn()
        app.processEvents()
        window.table_view.viewport().grab()
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
    for text in ("r", "re", "res", "resn", "resne", "resnet-00"):
        timed(f"search keystroke {text!r}", lambda t=text: window.search_box.setText(t))
    window.search_box.clear()
    app.processEvents()

    window.set_checked(window.visible_ids()[:50], True)
    window.select_experiment(window.visible_ids()[10])
    ids = [i for (i,) in Experiment.select(Experiment.id).where(Experiment.archived == False).tuples()]  # noqa: E712
    rng = random.Random(3)
    window._since = time.time()
    for _ in range(3):
        changed = rng.sample(ids, 100)
        now = time.time()
        Experiment.update(last_update=now, last_iteration=Experiment.last_iteration + 10).where(
            Experiment.id.in_(changed)).execute()
        MetricSummary.update(last=MetricSummary.last + 0.01).where(MetricSummary.experiment.in_(changed)).execute()
        start = time.perf_counter()
        table = window.model.table
        from exptable_desktop.core.tableview import fetch_changes
        changes = fetch_changes(window._since - 2.0, table.custom_keys(), table.parent_ids())
        fetched = time.perf_counter()
        window._since = changes.fetched_at
        window.model.apply_changes(changes, window._scope)
        applied = time.perf_counter()
        app.processEvents()
        print(f"refresh tick, 100 changed     fetch {ms(fetched - start)}  apply {ms(applied - fetched)}  "
              f"total {ms(time.perf_counter() - start)}")
        time.sleep(2.1)  # past the overlap, so the next tick is its own 100 rows
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory (RSS)             {rss:8.0f} MB")
    window.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
