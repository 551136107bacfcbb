"""Helpers for the comparison tests: experiments with scalar series, a window with the view installed."""
from __future__ import annotations

import numpy as np

from exptable_desktop.core import recording
from exptable_desktop.ui import create_main_window
from exptable_desktop.ui.comparison import install_comparison

T0 = 1_760_000_000.0


def learning_curves(seed: int, steps: int = 60) -> list[tuple]:
    """Loss and accuracy for train and validation, noisy and different per seed."""
    rng = np.random.default_rng(seed)
    rate = 0.03 + 0.01 * seed
    points = []
    for it in range(steps):
        stamp = T0 + 3600 * seed + 5.0 * it
        decay = np.exp(-rate * it)
        points.append(("loss", "train", it, float(2.2 * decay + 0.1 + 0.05 * rng.standard_normal()), stamp))
        points.append(("loss", "validation", it, float(2.3 * decay + 0.2 + 0.08 * rng.standard_normal()), stamp))
        points.append(("accuracy", "validation", it, float(0.95 - 0.8 * decay + 0.02 * rng.standard_normal()), stamp))
    return points


def make_experiment(name: str, seed: int, metrics=None) -> str:
    exp_id = recording.create_experiment("vision", name)
    recording.set_status(exp_id, "in_progress")
    points = learning_curves(seed)
    if metrics is not None:
        points = [p for p in points if (p[0], p[1]) in metrics]
    recording.record_batch(exp_id, scalars=points)
    return exp_id


def open_window(qtbot, db_url, count: int):
    win = create_main_window(db_url)
    qtbot.addWidget(win)
    win.resize(1300, 800)
    win.show()
    qtbot.waitUntil(lambda: len(win.visible_ids()) == count, timeout=5000)
    install_comparison(win)
    return win
