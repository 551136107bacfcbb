"""Render the compare page's screenshots: comparison.png and compare_<tab>_<5|100>.png.

Run: QT_QPA_PLATFORM=offscreen python3 tests/comparison/make_screenshot.py

Realistic runs: a learning-rate sweep over seeds with train/validation loss,
accuracy and the learning-rate schedule, single values, plots of every kind
and debug images. The window is the real main window in comparison mode.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
SCREENSHOTS = PROJECT_ROOT / "docs" / "screenshots"
T0 = 1_760_000_000.0
LEARNING_RATES = (0.1, 0.03, 0.01, 0.003)
WINDOW_SIZE = (1400, 820)  # the main window's default size


def record_runs(count: int) -> list[str]:
    from comparison_helpers import image
    from exptable_desktop.core import recording
    ids = []
    steps = 300
    it = np.arange(steps)
    for n in range(count):
        lr = LEARNING_RATES[n % len(LEARNING_RATES)]
        seed = n // len(LEARNING_RATES)
        arch = "resnet50" if n % 2 == 0 else "vit-b16"
        rng = np.random.default_rng(n)
        exp_id = recording.create_experiment("vision/imagenet", f"{arch} lr={lr} seed={seed}",
                                             tags=["sweep", arch])
        recording.set_status(exp_id, "in_progress")
        recording.record_parameters(exp_id, "Args", {"lr": {"value": lr}, "seed": {"value": seed},
                                                     "arch": {"value": arch}})
        rate = 0.004 + 0.08 * lr + 0.002 * rng.random()
        loss = 2.4 * np.exp(-rate * it) + 0.25 + 0.04 * (seed % 5) + 0.08 * rng.standard_normal(steps)
        val = 2.5 * np.exp(-rate * it * 0.9) + 0.35 + 0.05 * (seed % 5) + 0.04 * rng.standard_normal(steps)
        acc = 0.93 - 0.83 * np.exp(-rate * it) - 0.02 * (seed % 5) + 0.01 * rng.standard_normal(steps)
        schedule = lr * 0.5 * (1 + np.cos(np.pi * it / steps))
        stamps = T0 + 1800 * n + 9.0 * it
        scalars = {("loss", "train"): (it, loss, stamps), ("loss", "validation"): (it, val, stamps),
                   ("accuracy", "top1"): (it, acc, stamps), ("learning_rate", "lr"): (it, schedule, stamps)}
        plots = [
            {"metric": "ROC", "variant": "validation", "iteration": steps - 1, "kind": "line",
             "data": {"series": [{"name": "roc", "x": list(np.linspace(0, 1, 30)),
                                  "y": list(np.linspace(0, 1, 30) ** (0.25 + 0.1 * (n % 5)))}]}},
            {"metric": "per-class accuracy", "variant": "validation", "iteration": steps - 1, "kind": "bar",
             "data": {"series": [{"name": "accuracy", "x": ["cat", "dog", "bird", "fish"],
                                  "y": list(np.clip(0.7 + 0.05 * rng.standard_normal(4), 0, 1))}]}},
            {"metric": "inference latency", "variant": "ms", "iteration": steps - 1, "kind": "box",
             "data": {"kind": "box", "series": [{"name": "gpu", "y": list(rng.normal(8 + n % 3, 1.5, 60))},
                                                {"name": "cpu", "y": list(rng.normal(28 + n % 4, 4, 60))}]}},
            {"metric": "confusion", "variant": "validation", "iteration": steps - 1, "kind": "confusion",
             "data": {"matrix": [[45 - n % 5, 3 + n % 5], [4, 48 - n % 3]], "xlabels": ["cat", "dog"],
                      "ylabels": ["cat", "dog"]}},
        ]
        samples = [{"metric": "predictions", "variant": f"image {k}", "iteration": at, "content_type": "image/png",
                    "data": image(n + k + at, 48)} for at in (100, steps - 1) for k in range(2)]
        recording.record_batch(exp_id, scalars=scalars, plots=plots, debug_samples=samples,
                               single_values={"test/accuracy": float(acc[-1] + 0.01), "test/f1": float(acc[-1] - 0.05)})
        recording.set_status(exp_id, "completed")
        ids.append(exp_id)
    return ids


def settle(app, rounds: int = 30) -> None:
    for _ in range(rounds):
        app.processEvents()


def shoot(window, app, name: str) -> None:
    # A view whose minimum width is larger widens the window, and Qt does not narrow it back.
    settle(app)
    window.resize(*WINDOW_SIZE)
    settle(app)
    path = SCREENSHOTS / name
    window.grab().save(str(path))
    print(path)


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication
    from exptable_desktop.store import close_database, open_database
    from exptable_desktop.ui import create_main_window
    from exptable_desktop.ui.comparison import scalars_tab as st

    app = QApplication.instance() or QApplication([])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for count in (5, 100):
        with tempfile.TemporaryDirectory() as tmp:
            os.environ["HOME"] = tmp
            os.environ["XDG_CONFIG_HOME"] = os.environ["XDG_DATA_HOME"] = tmp
            os.environ["EXPTABLE_FILES"] = os.path.join(tmp, "files")
            url = f"sqlite:///{tmp}/demo.db"
            open_database(url)
            ids = record_runs(count)
            window = create_main_window(url)
            window.resize(*WINDOW_SIZE)
            window.show()
            for _ in range(100):
                app.processEvents()
                if len(window.visible_ids()) == len(ids):
                    break
            window.set_view_mode("comparison")
            page = window.comparison_controller.view
            page.show_tab("SCALARS")
            scalars = page.tab("SCALARS")
            if count == 5:
                scalars.smoothing_combo.setCurrentIndex(scalars.smoothing_combo.findData("ema"))
                scalars.alpha_spin.setValue(0.8)
                shoot(window, app, "comparison.png")
            shoot(window, app, f"compare_scalars_{count}.png")
            if count == 100:
                scalars.set_runs_grouping(st.RUNS_EXCEPT, "Args/seed")
                shoot(window, app, "compare_scalars_grouped_100.png")
                scalars.set_runs_grouping(st.RUNS_EACH)
            page.extremes_check.setChecked(True)
            scalars.set_view(st.VIEW_LAST)
            shoot(window, app, f"compare_values_{count}.png")
            scalars.set_view(st.VIEW_BEST)
            shoot(window, app, f"compare_best_step_{count}.png")
            scalars.set_view(st.VIEW_GRAPHS)
            page.extremes_check.setChecked(False)
            page.show_tab("PLOTS")
            shoot(window, app, f"compare_plots_{count}.png")
            page.show_tab("DEBUG SAMPLES")
            shoot(window, app, f"compare_debug_{count}.png")
            page.show_tab("SCALARS")
            window.close()
            window.deleteLater()
            settle(app)
            close_database()


if __name__ == "__main__":
    main()
