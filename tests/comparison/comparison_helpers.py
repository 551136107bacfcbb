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


def image(seed: int, size: int = 32) -> bytes:
    """A small PNG, different per seed (a gradient with a bright square)."""
    from exptable_desktop.sdk.png import encode_png
    y, x = np.mgrid[0:size, 0:size]
    rgb = np.stack([(x * 255 // size + 40 * seed) % 256, (y * 255 // size) % 256,
                    np.full_like(x, (90 * seed) % 256)], axis=-1).astype(np.uint8)
    corner = (seed * 5) % (size - 8)
    rgb[corner:corner + 8, corner:corner + 8] = 255
    return encode_png(rgb)


def make_rich_experiment(name: str, seed: int, *, lr: float = 0.1, batch: int = 32, steps: int = 60,
                         project: str = "vision", tags=("sweep",)) -> str:
    """An experiment with everything the compare page shows: parameters, scalars, single values,
    plots of every kind and debug images at two iterations."""
    exp_id = recording.create_experiment(project, name, tags=list(tags))
    recording.set_status(exp_id, "in_progress")
    recording.record_parameters(exp_id, "Args", {"lr": {"value": lr}, "seed": {"value": seed},
                                                 "batch_size": {"value": batch}})
    points = learning_curves(seed, steps)
    rng = np.random.default_rng(100 + seed)
    plots = [
        {"metric": "roc", "variant": "val", "iteration": steps - 1, "kind": "line",
         "data": {"series": [{"name": "roc", "x": list(np.linspace(0, 1, 20)),
                              "y": list(np.linspace(0, 1, 20) ** (0.3 + 0.1 * seed))}]}},
        {"metric": "class counts", "variant": "val", "iteration": steps - 1, "kind": "bar",
         "data": {"series": [{"name": "count", "x": ["cat", "dog", "bird"],
                              "y": [10 + seed, 20 - seed, 5 + 2 * seed]}]}},
        {"metric": "latency", "variant": "ms", "iteration": steps - 1, "kind": "box",
         "data": {"kind": "box", "series": [{"name": "gpu", "y": list(rng.normal(10 + seed, 2, 50))},
                                            {"name": "cpu", "y": list(rng.normal(30 + seed, 5, 50))}]}},
        {"metric": "confusion", "variant": "val", "iteration": steps - 1, "kind": "confusion",
         "data": {"matrix": [[50 - seed, seed], [2 * seed, 40]], "xlabels": ["cat", "dog"], "ylabels": ["cat", "dog"]}},
        {"metric": "report", "variant": "val", "iteration": steps - 1, "kind": "table",
         "data": {"columns": ["class", "f1"], "rows": [["cat", 0.8 + 0.01 * seed], ["dog", 0.7]]}},
    ]
    samples = [{"metric": "predictions", "variant": variant, "iteration": it, "content_type": "image/png",
                "data": image(seed + n + it)}
               for it in (10, steps - 1) for n, variant in enumerate(("image 0", "image 1"))]
    recording.record_batch(exp_id, scalars=points, single_values={"test/accuracy": 0.8 + 0.02 * seed,
                                                                  "test/f1": 0.7 + 0.01 * seed},
                           plots=plots, debug_samples=samples)
    recording.set_status(exp_id, "completed")
    return exp_id


def make_light_experiments(count: int, *, steps: int = 5) -> list[str]:
    """``count`` small experiments with a little of everything: 100 of them stay fast to record."""
    ids = []
    png = image(1, 12)
    for n in range(count):
        exp_id = recording.create_experiment("many", f"run {n:03d}")
        points = [(metric, variant, it, float(np.sin(it + n) + n / count), T0 + it)
                  for metric, variant in (("loss", "train"), ("accuracy", "validation")) for it in range(steps)]
        plots = [{"metric": "curve", "variant": "roc", "iteration": steps, "kind": "line",
                  "data": {"series": [{"name": "", "x": [0, 1, 2], "y": [0, 0.5 + n / 1000, 1]}]}},
                 {"metric": "report", "variant": "table", "iteration": steps, "kind": "table",
                  "data": {"columns": ["k", "v"], "rows": [["n", n]]}}]
        samples = [{"metric": "images", "variant": "sample", "iteration": steps, "data": png}]
        recording.record_batch(exp_id, scalars=points, single_values={"score": float(n)}, plots=plots,
                               debug_samples=samples)
        ids.append(exp_id)
    return ids


def open_page(qtbot, ids, width: int = 1400, height: int = 900, tab: str = "SCALARS"):
    """A compare page on its own, shown, comparing ``ids`` on ``tab``."""
    from exptable_desktop.ui.comparison.page import ComparePage
    page = ComparePage()
    qtbot.addWidget(page)
    page.resize(width, height)
    page.show_tab(tab)
    page.show()
    page.set_experiments(ids)
    qtbot.waitExposed(page)
    return page
