"""Render the compare page's DETAILS, HYPERPARAMETERS, PARALLEL COORDINATES and SCATTER views at
5 and at 100 experiments into docs/screenshots/compare_{details,hyperparams,parallel,scatter}[_100].png.

Run: QT_QPA_PLATFORM=offscreen python3 tests/comparison/make_diff_screenshots.py
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
OUTPUT = PROJECT_ROOT / "docs" / "screenshots"


def settle(app, rounds: int = 10) -> None:
    for _ in range(rounds):
        app.processEvents()


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HOME"] = tmp
        os.environ["XDG_CONFIG_HOME"] = os.environ["XDG_DATA_HOME"] = tmp
        from exptable_desktop.store import open_database
        from exptable_desktop.ui.comparison.page import ComparePage
        from exptable_desktop.ui.style import apply_style, style_sheet

        from diff_support import make_sweep

        apply_style()
        open_database(f"sqlite:///{tmp}/demo.db")
        ids = make_sweep(100)
        OUTPUT.mkdir(parents=True, exist_ok=True)
        for count, suffix in ((5, ""), (100, "_100")):
            page = ComparePage()
            page.setStyleSheet(style_sheet())
            page.resize(1500, 860)
            page.show()
            page.set_experiments(ids[:count])
            page.show_tab("DETAILS")
            settle(app)
            details = page.tab("DETAILS")
            details.table.next_difference()
            settle(app)
            page.grab().save(str(OUTPUT / f"compare_details{suffix}.png"))
            page.show_tab("HYPERPARAMETERS")
            settle(app)
            hyper = page.tab("HYPERPARAMETERS")
            hyper.show_view("values")
            settle(app)
            page.grab().save(str(OUTPUT / f"compare_hyperparams{suffix}.png"))
            hyper.show_view("parallel")
            hyper.parallel.choose(metrics=[("loss", "validation", "min"), ("accuracy", "top1", "last")],
                                  params=[("Args", "learning_rate"), ("Args", "optimizer"), ("Args", "model"),
                                          ("Args", "dropout"), ("Args", "epochs")])
            settle(app)
            # Hover the third experiment's line a little right of its first axis, as a user pointing at it.
            start = hyper.parallel.scene_point(ids[2], 0)
            end = hyper.parallel.scene_point(ids[2], 1)
            from PySide6.QtCore import QPointF
            hyper.parallel._mouse_moved(QPointF(start.x() + (end.x() - start.x()) * 0.2,
                                                start.y() + (end.y() - start.y()) * 0.2))
            settle(app)
            page.grab().save(str(OUTPUT / f"compare_parallel{suffix}.png"))
            hyper.show_view("scatter")
            hyper.scatter.choose(metric=("loss", "validation"), which="min", param=("Args", "learning_rate"))
            hyper.scatter.set_extra(("param", "Args", "optimizer"), True)
            settle(app)
            hyper.scatter._mouse_moved(hyper.scatter.scene_point(ids[1]))
            settle(app)
            page.grab().save(str(OUTPUT / f"compare_scatter{suffix}.png"))
            page.close()
            page.deleteLater()
            settle(app)
    print(OUTPUT)


if __name__ == "__main__":
    main()
