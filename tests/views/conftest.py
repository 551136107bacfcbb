"""Fixtures for saved views, links, the query language, custom actions, projects and stars."""
from __future__ import annotations

import time

import pytest

from exptable_desktop.core import states as st
from exptable_desktop.core.editing import set_hyperparams
from exptable_desktop.core.recording import create_experiment, record_batch, set_status
from exptable_desktop.store.db import run_write
from exptable_desktop.store.schema import Experiment

DAY = 86400.0


@pytest.fixture
def populated(db):
    """Nine experiments in "vision" (two sub-projects) and "nlp", by two users; returns name -> id.

    Hyperparameters Args/lr and Args/optimizer; metric accuracy/val (last = max = ``acc``) on
    those that ran; started ``days`` days ago.
    """
    specs = [
        # name, project, type, tags, acc, user, lr, optimizer, days ago
        ("a-baseline", "vision", "training", ["baseline"], 0.50, "alice", 0.01, "sgd", 40),
        ("b-resnet18", "vision/cnn", "training", ["best", "resnet"], 0.91, "bob", 0.1, "adam", 20),
        ("c-vit", "vision/vit", "testing", ["best", "debug"], 0.77, "alice", 0.05, "adam", 10),
        ("d-untagged", "vision", "inference", [], None, "carol", None, None, None),
        ("e-failed", "vision/cnn", "training", ["resnet"], 0.10, "bob", 0.001, "sgd", 5),
        ("f-draft", "vision", "training", [], None, "alice", None, None, None),
        ("g-resnet50", "vision/vit", "optimizer", ["sweep"], 0.66, "carol", 0.02, "adam", 3),
        ("h-late", "vision", "training", ["baseline", "best"], 0.85, "bob", 0.2, "sgd", 1),
        ("z-nlp", "nlp", "training", [], 0.3, "dave", 0.01, "adamw", 2),
    ]
    ids = {}
    now = time.time()
    for name, project, task_type, tags, acc, user, lr, optimizer, days in specs:
        exp_id = create_experiment(project, name, task_type=task_type, tags=tags, user=user,
                                   description=f"about {name}")
        ids[name] = exp_id
        if lr is not None:
            set_hyperparams([exp_id], "Args", {"lr": lr, "optimizer": optimizer})
        if acc is not None:
            set_status(exp_id, st.RUNNING)
            record_batch(exp_id, scalars=[("accuracy", "val", i, acc * (i + 1) / 5, now) for i in range(5)])
            started = now - days * DAY
            run_write(lambda e=exp_id, s=started: Experiment.update(started=s, last_update=s + 60)
                      .where(Experiment.id == e).execute())
    set_status(ids["e-failed"], st.FAILED)
    set_status(ids["a-baseline"], st.COMPLETED)
    set_status(ids["b-resnet18"], st.COMPLETED)
    return ids


@pytest.fixture
def window(qtbot, db_url, populated):
    from views_support import close_window, open_window

    win = open_window(qtbot, db_url)
    yield win
    close_window(win)
