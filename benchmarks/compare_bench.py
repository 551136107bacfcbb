"""Compare-page speed, offscreen: the Scalars tab's curves and its values tables (issue 12).

    python benchmarks/compare_bench.py [--experiments 100] [--points 10000] [--metrics 200]

Builds a throwaway SQLite database (or reuses one under /tmp for the same sizes):
N experiments with 4 series of P points each, and N more with M metric/variant
summaries each. Prints, in milliseconds:

* scalars, first paint: from ``set_experiments`` (the click) until the plots in
  view are built and painted once;
* scalars, all curves: until every one of the 4 plots holds its N curves and has
  painted (what the issue's "<= 1 s" is about; the same as first paint when all 4
  plots are in view, as in a 1600 x 1000 window);
* pan frame: one pan step of a plot with N curves repainted (frames/s beside it);
* values table: from ``set_experiments`` with "Last values" shown until the
  N x M table has painted (the issue's "<= 300 ms");
and the number of series queries the curves took (one per series name).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SERIES = [("loss", "train"), ("loss", "validation"), ("accuracy", "validation"), ("learning_rate", "lr")]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def generate(experiments: int, points: int, metrics: int) -> tuple[list[str], list[str]]:
    import numpy as np

    from exptable_desktop.core import recording
    from exptable_desktop.store.db import run_write
    from exptable_desktop.store.series import append_scalars

    curve_ids, table_ids = [], []
    its = np.arange(points, dtype=np.int64)
    stamps = 1_760_000_000.0 + its * 2.0
    for n in range(experiments):
        exp_id = recording.create_experiment("bench/curves", f"curves {n:03d}")
        rng = np.random.default_rng(n)
        rate = 3.0 / points * (1 + n % 7)
        data = {}
        for m, key in enumerate(SERIES):
            values = (1 + m) * np.exp(-rate * its) + 0.05 * rng.standard_normal(points)
            data[key] = (its, values, stamps + 3600 * n)
        run_write(lambda e=exp_id, d=data: append_scalars(e, d))
        curve_ids.append(exp_id)
    short = np.arange(5, dtype=np.int64)
    for n in range(experiments):
        exp_id = recording.create_experiment("bench/table", f"table {n:03d}")
        data = {(f"metric{k // 4:03d}", f"variant{k % 4}"): (short, np.linspace(0, 1, 5) + n + k, short + 1.0)
                for k in range(metrics)}
        run_write(lambda e=exp_id, d=data: append_scalars(e, d))
        table_ids.append(exp_id)
    return curve_ids, table_ids


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, nargs="+", default=[100, 10])
    parser.add_argument("--points", type=int, default=10_000)
    parser.add_argument("--metrics", type=int, default=200)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    home = tempfile.mkdtemp(prefix="exptable_compare_bench_")
    os.environ["HOME"] = home
    os.environ["EXPTABLE_FILES"] = os.path.join(home, "files")

    from exptable_desktop.store import open_database
    from exptable_desktop.store.schema import Experiment
    from exptable_desktop.ui.comparison import scalars_tab as tab_module
    from exptable_desktop.ui.comparison.page import ComparePage
    from exptable_desktop.ui.style import apply_style

    largest = max(args.experiments)
    url = f"sqlite:////tmp/exptable_compare_bench_{largest}x{args.points}x{args.metrics}.db"
    open_database(url)
    apply_style()
    if Experiment.select().count() != 2 * largest:
        print(f"generating {largest} x 4 x {args.points:,} points and {largest} x {args.metrics} metrics "
              f"into {url} (once) ...", flush=True)
        started = time.perf_counter()
        generate(largest, args.points, args.metrics)
        print(f"generated in {time.perf_counter() - started:.0f} s", flush=True)
    curve_ids = [i for (i,) in Experiment.select(Experiment.id).where(Experiment.name.startswith("curves"))
                 .order_by(Experiment.name).tuples()]
    table_ids = [i for (i,) in Experiment.select(Experiment.id).where(Experiment.name.startswith("table"))
                 .order_by(Experiment.name).tuples()]

    # Count the bulk series reads: one per series name is the contract.
    reads = []
    original = tab_module.compare_data.load_series

    def counting(ids, keys, **kw):
        reads.append(list(keys))
        return original(ids, keys, **kw)
    tab_module.compare_data.load_series = counting

    for count in sorted(args.experiments, reverse=True):
        page = ComparePage()
        page.resize(1600, 1000)
        page.show_tab("SCALARS")
        page.show()
        app.processEvents()
        tab = page.tab("SCALARS")
        reads.clear()
        started = time.perf_counter()
        page.set_experiments(curve_ids[:count])
        tab._materialise_visible()
        page.grab()
        first_paint = time.perf_counter() - started
        built_in_view = sum(1 for k in tab.plot_keys() if not tab.slot(k).stale)
        tab.materialise_all()
        if built_in_view < len(tab.plot_keys()):
            for key in tab.plot_keys():
                tab.card(key).graphics.grab()
        all_curves = time.perf_counter() - started
        curves = sum(len(tab.curves(k)) for k in tab.plot_keys())
        card = tab.card(tab.plot_keys()[0])
        view = card.plot_item.getViewBox()
        (x0, x1), _ = view.viewRange()
        # As a mouse drag does: panning turns the automatic range off.
        view.disableAutoRange()
        frames = 20
        pan_started = time.perf_counter()
        for step in range(frames):
            shift = (x1 - x0) * 0.02 * (step + 1)
            view.setXRange(x0 + shift, x1 + shift, padding=0)
            card.graphics.grab()
        pan = (time.perf_counter() - pan_started) / frames
        print(f"{count:4d} experiments x 4 series x {args.points:,} points: "
              f"scalars first paint {ms(first_paint)} ({built_in_view} plots in view), "
              f"all {curves} curves {ms(all_curves)}, "
              f"pan frame {ms(pan)} ({1 / pan:5.1f} frames/s), series queries {len(reads)}", flush=True)
        page.close()
        page.deleteLater()
        app.processEvents()

        page = ComparePage()
        page.resize(1600, 1000)
        page.show_tab("SCALARS")
        page.show()
        tab = page.tab("SCALARS")
        tab.set_view(tab_module.VIEW_LAST)
        app.processEvents()
        started = time.perf_counter()
        page.set_experiments(table_ids[:count])
        page.grab()
        values = time.perf_counter() - started
        model = tab.values_model
        print(f"{count:4d} experiments x {args.metrics} metrics: values table {ms(values)} "
              f"({model.rowCount()} rows x {model.columnCount() - 2} experiment columns)", flush=True)
        started = time.perf_counter()
        tab.set_view(tab_module.VIEW_MAX)
        page.grab()
        switched = time.perf_counter() - started
        print(f"{count:4d} experiments x {args.metrics} metrics: switch to max values {ms(switched)}", flush=True)
        page.close()
        page.deleteLater()
        app.processEvents()
    return 0


if __name__ == "__main__":
    sys.exit(main())
