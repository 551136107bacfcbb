"""Fixtures for the details panel: experiments recorded by real SDK scripts, and Drafts."""
from __future__ import annotations

import subprocess
import sys

import pytest

from details_helpers import RICH_SCRIPT, experiment_ids, write_repo_script


@pytest.fixture
def db(db):
    """The shared ``db``; a panel's live poll still reading ends before the database closes."""
    yield db
    from exptable_desktop.ui.details.panel import wait_for_polls
    wait_for_polls()


@pytest.fixture
def sdk_experiment(script_env, tmp_path) -> str:
    """A completed experiment recorded by a real script through ``from exptable_desktop import Task``."""
    script = write_repo_script(tmp_path, RICH_SCRIPT)
    done = subprocess.run([sys.executable, str(script), "--epochs", "5"], cwd=script.parent, env=script_env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    ids = experiment_ids()
    assert len(ids) == 1
    return ids[0]


@pytest.fixture
def draft_experiment(db) -> str:
    """A Draft with execution, hyperparameters, a configuration object and user properties."""
    from exptable_desktop.core import editing, recording
    exp_id = recording.create_experiment(
        "drafts", "draft to edit", description="an editable draft",
        execution={"repository": "https://example.com/team/vision.git", "branch": "main",
                   "entry_point": "train.py", "working_dir": ".", "binary": "python3",
                   "diff": "diff --git a/train.py b/train.py\n--- a/train.py\n+++ b/train.py\n@@ -1 +1 @@\n-lr=1\n+lr=2\n",
                   "requirements": "numpy==2.0\ntorch==2.3\n", "container_image": "python:3.11",
                   "output_uri": "/data/out"})
    editing.set_hyperparams([exp_id], "Args", {
        "lr": {"value": "0.01", "type": "float", "description": "learning rate", "default": "0.1"},
        "epochs": {"value": "3", "type": "int", "description": "", "default": None}})
    editing.set_configuration([exp_id], "architecture", '{"layers": [1, 2]}', content_type="json")
    editing.set_user_properties([exp_id], {"owner": "bob"})
    return exp_id


@pytest.fixture
def panel(db, qtbot):
    """A shown details panel, 1100 x 800, with no experiment yet. After ``db``: the panel reads
    preferences from the database when it is built."""
    from exptable_desktop.ui.details import DetailsPanel

    widget = DetailsPanel()
    qtbot.addWidget(widget)
    widget.resize(1100, 800)
    widget.show()
    return widget
