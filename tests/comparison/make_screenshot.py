"""Render docs/screenshots/comparison.png: the comparison view on a few realistic runs.

Run: QT_QPA_PLATFORM=offscreen python3 tests/comparison/make_screenshot.py
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import numpy as np

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT))
OUTPUT = PROJECT_ROOT / "docs" / "screenshots" / "comparison.png"
T0 = 1_760_000_000.0


def record_runs() -> list[str]:
    from exptable_desktop.core import recording
    runs = [("resnet50 lr=0.1", 0.1, 0), ("resnet50 lr=0.03", 0.03, 1), ("resnet50 lr=0.01", 0.01, 2),
            ("vit-b16 lr=3e-4", 0.05, 3), ("vit-b16 lr=1e-3 warmup", 0.07, 4)]
    ids = []
    for name, lr, seed in runs:
        rng = np.random.default_rng(seed)
        exp_id = recording.create_experiment("vision/imagenet", name, tags=["sweep"])
        recording.set_status(exp_id, "in_progress")
        steps = 400
        it = np.arange(steps)
        rate = 0.004 + 0.08 * lr
        loss = 2.4 * np.exp(-rate * it) + 0.25 + 0.06 * seed / 4 + 0.08 * rng.standard_normal(steps)
        val = 2.5 * np.exp(-rate * it * 0.9) + 0.35 + 0.05 * seed / 4 + 0.04 * rng.standard_normal(steps)
        acc = 0.93 - 0.83 * np.exp(-rate * it) - 0.02 * seed + 0.01 * rng.standard_normal(steps)
        schedule = lr * 0.5 * (1 + np.cos(np.pi * it / steps))
        stamps = T0 + 1800 * seed + 9.0 * it
        points = []
        for n in range(steps):
            points += [("loss", "train", int(it[n]), float(loss[n]), float(stamps[n])),
                       ("loss", "validation", int(it[n]), float(val[n]), float(stamps[n])),
                       ("accuracy", "top1", int(it[n]), float(acc[n]), float(stamps[n])),
                       ("learning_rate", "lr", int(it[n]), float(schedule[n]), float(stamps[n]))]
        recording.record_batch(exp_id, scalars=points)
        recording.set_status(exp_id, "completed")
        ids.append(exp_id)
    return ids


def main() -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication
    from exptable_desktop.store import open_database
    from exptable_desktop.ui import create_main_window
    from exptable_desktop.ui.comparison import install_comparison

    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["HOME"] = tmp
        os.environ["XDG_CONFIG_HOME"] = os.environ["XDG_DATA_HOME"] = tmp
        url = f"sqlite:///{tmp}/demo.db"
        open_database(url)
        ids = record_runs()
        window = create_main_window(url)
        install_comparison(window)
        window.resize(1500, 900)
        window.show()
        for _ in range(50):
            app.processEvents()
            if len(window.visible_ids()) == len(ids):
                break
        window.set_checked(ids[:4], True)
        window.set_view_mode("comparison")
        window.comparison_controller.view.smoothing_slider.setValue(60)
        for _ in range(20):
            app.processEvents()
        OUTPUT.parent.mkdir(parents=True, exist_ok=True)
        window.grab().save(str(OUTPUT))
        window.close()
    print(OUTPUT)


if __name__ == "__main__":
    main()
