"""Screenshots of the empty states of the details panel and the compare page (not a test; run by hand).

    python tests/details/make_empty_state_screenshots.py [out_dir]    # default /tmp/shots_details

The real main window at 1400x820, offscreen: Details mode on a brand-new database (nothing
selected); a Draft without outputs (SCALARS, PLOTS, DEBUG SAMPLES); an experiment whose metric
summaries have no stored points; the compare page with none, one, and two experiments without
scalars; and one with integer iterations for the axis ticks.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from screenshot_support import scratch_home  # noqa: E402

SIZE = (1400, 820)


def main() -> int:
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/shots_details")
    out_dir.mkdir(parents=True, exist_ok=True)
    with scratch_home() as (folder, url):
        from PySide6.QtWidgets import QApplication
        app = QApplication.instance() or QApplication([])
        from exptable_desktop.core import recording
        from exptable_desktop.store import close_database
        from exptable_desktop.store.schema import MetricSummary
        from exptable_desktop.ui import create_main_window

        def settle(window) -> None:
            import time
            deadline = time.monotonic() + 0.5  # past the panel's selection debounce
            while time.monotonic() < deadline:
                app.processEvents()
            while window.is_loading():
                app.processEvents()
            for _ in range(10):
                app.processEvents()

        def shot(window, name: str) -> None:
            settle(window)
            window.grab().save(str(out_dir / name))
            print(out_dir / name)

        window = create_main_window(url)
        window.resize(*SIZE)
        window.show()
        settle(window)
        window.set_view_mode("details")
        shot(window, "details_nothing_selected.png")
        window.set_view_mode("comparison")
        shot(window, "compare_no_experiments.png")
        window.close()
        window.deleteLater()
        close_database()

        window = create_main_window(url)
        draft = recording.create_experiment("examples", "draft without outputs")
        summaries_only = recording.create_experiment("examples", "summaries without points")
        MetricSummary.create(experiment=summaries_only, metric="loss", variant="train", first=1.0, last=0.1,
                             min=0.1, max=1.0, total=5.0, finite_count=10, count=10, last_iteration=9)
        counted = recording.create_experiment("examples", "ten iterations")
        recording.record_batch(counted, scalars=[("loss", "train", i, 1.0 / (i + 1), 1000.0 + i) for i in range(4)])
        window.refresh_now()
        window.resize(*SIZE)
        window.show()
        settle(window)
        window.set_view_mode("details")
        window.select_experiment(draft)
        controller = window.details_controller
        settle(window)
        for title in ("SCALARS", "PLOTS", "DEBUG SAMPLES"):
            controller.panel.select_tab(title)
            shot(window, f"details_empty_{title.lower().replace(' ', '_')}.png")
        window.select_experiment(summaries_only)
        controller.panel.select_tab("SCALARS")
        shot(window, "details_scalars_summaries_without_points.png")
        window.select_experiment(counted)
        shot(window, "details_scalars_integer_ticks.png")
        window.set_view_mode("table")
        settle(window)
        window.set_checked([draft], True)
        window.set_view_mode("comparison")
        window.comparison_controller.view.show_tab("SCALARS")
        shot(window, "compare_one_experiment.png")
        window.set_checked([summaries_only], True)
        window.comparison_controller.reload()
        shot(window, "compare_scalars_without_scalars.png")
        window.set_checked([draft, summaries_only], False)
        window.set_checked([counted, summaries_only], True)
        window.comparison_controller.reload()
        shot(window, "compare_scalars_integer_ticks.png")
        window.close()
        close_database()
    return 0


if __name__ == "__main__":
    sys.exit(main())
