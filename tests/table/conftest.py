"""Fixtures for the experiments-table tests: a small real database and a main window on it."""
from __future__ import annotations

import time

import pytest

from exptable_desktop.core import states as st
from exptable_desktop.core.editing import set_hyperparams
from exptable_desktop.core.recording import create_experiment, record_batch, set_status


@pytest.fixture
def populated(db):
    """Eight experiments in project "vision" (two sub-projects) and one in "nlp"; returns name -> id."""
    ids = {}
    specs = [
        ("a-baseline", "vision", "training", ["baseline"], 0.50),
        ("b-resnet", "vision/cnn", "training", ["best", "resnet"], 0.91),
        ("c-vit", "vision/vit", "testing", ["best"], 0.77),
        ("d-untagged", "vision", "inference", [], None),
        ("e-failed", "vision/cnn", "training", ["resnet"], 0.10),
        ("f-draft", "vision", "training", [], None),
        ("g-sweep", "vision/vit", "optimizer", ["sweep"], 0.66),
        ("h-late", "vision", "training", ["baseline", "best"], 0.85),
        ("z-nlp", "nlp", "training", [], 0.3),
    ]
    for name, project, task_type, tags, acc in specs:
        exp_id = create_experiment(project, name, task_type=task_type, tags=tags, user="tester",
                                   description=f"about {name}")
        ids[name] = exp_id
        if acc is not None:
            set_hyperparams([exp_id], "Args", {"lr": 0.1 if acc > 0.6 else 0.01, "optimizer": "adam"})
            set_status(exp_id, st.RUNNING)
            record_batch(exp_id, scalars=[("val", "accuracy", i, acc * (i + 1) / 5, time.time()) for i in range(5)], progress=40)
    set_status(ids["e-failed"], st.FAILED)
    set_status(ids["a-baseline"], st.COMPLETED)
    set_status(ids["b-resnet"], st.COMPLETED)
    return ids


@pytest.fixture
def window(qtbot, db_url, populated):
    from exptable_desktop.ui import create_main_window

    win = create_main_window(db_url)
    qtbot.addWidget(win)
    win.resize(1400, 700)
    win.show()
    qtbot.waitExposed(win)
    win.auto_refresh_toggle.setChecked(False)
    yield win
    win._stop_loader()
    win.refresh_timer.stop()
    win._stop_fetcher(wait=True)


def reopen(qtbot, win, db_url):
    """Close ``win`` (saving its state) and open a fresh window on the same database."""
    from exptable_desktop.ui import create_main_window

    win._save_table_state()
    win.close()
    new = create_main_window(db_url)
    qtbot.addWidget(new)
    new.resize(1400, 700)
    new.show()
    qtbot.waitExposed(new)
    new.auto_refresh_toggle.setChecked(False)
    return new


def many_experiments(n: int, project: str = "big") -> list[str]:
    """``n`` experiments in one transaction, each with metric val/loss and hyperparameter Args/seed.

    Experiment i was updated at ``1000 + i`` (the last is the most recent); its loss is
    ``i / 1000`` and its seed ``str(i % 7)``. Returns the ids in creation order.
    """
    from exptable_desktop.core.projects import get_or_create_project
    from exptable_desktop.store.db import run_write
    from exptable_desktop.store.schema import Experiment, HyperParam, MetricSummary

    def work():
        proj = get_or_create_project(project)
        ids = [f"{i:032x}" for i in range(n)]
        rows = [{"id": exp_id, "name": f"run-{i:05d}", "project": proj.id, "created": 1000.0,
                 "last_update": 1000.0 + i, "status": st.COMPLETED, "user": "tester"} for i, exp_id in enumerate(ids)]
        metrics = [{"experiment": exp_id, "metric": "val", "variant": "loss", "first": 0.0, "last": i / 1000,
                    "min": 0.0, "max": 1.0, "total": 0.0, "finite_count": 1, "count": 1, "last_iteration": 1}
                   for i, exp_id in enumerate(ids)]
        params = [{"experiment": exp_id, "section": "Args", "name": "seed", "value": str(i % 7)}
                  for i, exp_id in enumerate(ids)]
        for start in range(0, n, 500):
            Experiment.insert_many(rows[start:start + 500]).execute()
            MetricSummary.insert_many(metrics[start:start + 500]).execute()
            HyperParam.insert_many(params[start:start + 500]).execute()
        return ids
    return run_write(work)
