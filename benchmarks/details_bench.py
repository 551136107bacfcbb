"""How fast the details panel opens a huge console log and draws a huge scalar series.

    python benchmarks/details_bench.py                   # 1,000,000 lines and 1,000,000 points
    python benchmarks/details_bench.py --lines 200000 --points 200000

Targets (issue 6): the console tab opens a 1,000,000-line log within 500 ms;
a 1,000,000-point series renders within 300 ms and stays smooth to pan and zoom.
"Open" and "render" are measured from the call that shows the experiment to the
end of the first paint (``grab``), database reads included, on an offscreen
1200x800 panel.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from exptable_desktop.core import recording  # noqa: E402
from exptable_desktop.store import close_database, open_database  # noqa: E402

TARGETS_MS = {"console": 500.0, "scalars": 300.0}
FLUSH_LINES = 1000  # a writer's flush: one console chunk per batch of lines


def fill(lines: int, points: int) -> tuple[str, str]:
    console_id = recording.create_experiment("bench", "long log", status="in_progress")
    now = time.time()
    for start in range(0, lines, 100_000):
        batch = [(now, "error" if i % 97 == 0 else "info",
                  f"epoch {i // 10000} step {i} loss={1.0 / (i + 1):.6f} lr=0.001 throughput=1234.5 img/s")
                 for i in range(start, min(start + 100_000, lines))]
        # One record_batch per 1000 lines, as a script flushing every second would write.
        for offset in range(0, len(batch), FLUSH_LINES * 10):
            recording.record_batch(console_id, console=batch[offset:offset + FLUSH_LINES * 10])
    scalar_id = recording.create_experiment("bench", "long series", status="in_progress")
    it = np.arange(points)
    rng = np.random.default_rng(0)
    values = np.exp(-it / (points / 5)) + rng.normal(0, 0.02, points)
    recording.record_batch(scalar_id, scalars={("loss", "train"): (it, values, now + it * 0.01)})
    return console_id, scalar_id


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from PySide6.QtWidgets import QApplication
    app = QApplication.instance() or QApplication([])
    from exptable_desktop.ui.details import DetailsPanel

    with tempfile.TemporaryDirectory() as folder:
        os.environ["EXPTABLE_FILES"] = str(Path(folder) / "files")
        open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        try:
            started = time.perf_counter()
            console_id, scalar_id = fill(args.lines, args.points)
            print(f"filled {args.lines:,} console lines and {args.points:,} scalar points "
                  f"in {time.perf_counter() - started:.1f} s")

            def fresh_panel(tab: str) -> DetailsPanel:
                panel = DetailsPanel()
                panel.resize(1200, 800)
                panel.show()
                panel.select_tab(tab)
                app.processEvents()
                return panel

            def show(panel: DetailsPanel, exp_id: str) -> None:
                panel.show_experiment(exp_id)
                app.processEvents()
                panel.grab()

            console_ms, scalar_ms = [], []
            for _ in range(args.repeat):
                panel = fresh_panel("CONSOLE")
                console_ms.append(timed(lambda: show(panel, console_id)))
                console = panel.console_tab
                middle = timed(lambda: (console.view.scrollTo(console.model.index(args.lines // 2)),
                                        app.processEvents(), panel.grab()))
                console.filter_box.setText("step 12345")
                filter_ms = timed(lambda: (console.apply_filter(), app.processEvents(), panel.grab()))
                matches = console.model.rowCount()
                panel.close()
                panel.deleteLater()

                panel = fresh_panel("SCALARS")
                scalar_ms.append(timed(lambda: show(panel, scalar_id)))
                view = panel.scalars_tab.plot_widget("loss").plot_item.getViewBox()
                frames = []
                for step in range(20):  # zoom in, then pan: one repaint each
                    if step < 10:
                        frames.append(timed(lambda: (view.scaleBy((0.7, 1.0)), app.processEvents(), panel.grab())))
                    else:
                        frames.append(timed(lambda: (view.translateBy(x=args.points / 200), app.processEvents(),
                                                     panel.grab())))
                panel.close()
                panel.deleteLater()
                app.processEvents()

            median_console, median_scalar = statistics.median(console_ms), statistics.median(scalar_ms)
            print(f"console open ({args.lines:,} lines, load + first paint): best {min(console_ms):.0f} ms, "
                  f"median {median_console:.0f} ms  [target {TARGETS_MS['console']:.0f} ms: "
                  f"{'met' if median_console <= TARGETS_MS['console'] else 'MISSED'}]")
            print(f"console jump to the middle line: {middle:.0f} ms; regex filter over the whole log: "
                  f"{filter_ms:.0f} ms ({matches} matches)")
            print(f"scalar render ({args.points:,} points, read + setData + first paint): best {min(scalar_ms):.0f} ms, "
                  f"median {median_scalar:.0f} ms  [target {TARGETS_MS['scalars']:.0f} ms: "
                  f"{'met' if median_scalar <= TARGETS_MS['scalars'] else 'MISSED'}]")
            print(f"pan/zoom repaint of that plot: median {statistics.median(frames):.0f} ms, "
                  f"worst {max(frames):.0f} ms per frame")
        finally:
            close_database()
    return 0


if __name__ == "__main__":
    sys.exit(main())
