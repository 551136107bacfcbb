"""Putting experiments into each state the way real callers do, and looking at the database whole."""
from __future__ import annotations

import time
from pathlib import Path

from exptable_desktop.core import actions, editing, recording
from exptable_desktop.core import states as st
from exptable_desktop.store import files as store_files
from exptable_desktop.store.db import run_write
from exptable_desktop.store.schema import (
    ALL_MODELS,
    Artifact,
    ConfigObject,
    ConsoleChunk,
    DebugSample,
    Execution,
    Experiment,
    ExperimentTag,
    HyperParam,
    MetricSummary,
    Plot,
    QueueEntry,
    ScalarChunk,
    SingleValue,
)

# A "state" is a status plus how the experiment got there, where that matters
# to an action: Dequeue returns to the status before Enqueue, Abort treats a
# Running experiment with a fresh heartbeat differently from a silent one.
STATES = (
    "created", "queued", "queued_from_stopped", "queued_from_failed", "in_progress",
    "in_progress_stale", "completed", "closed", "stopped", "failed", "publishing", "published",
)
STATUS_OF = {
    "created": st.DRAFT, "queued": st.PENDING, "queued_from_stopped": st.PENDING,
    "queued_from_failed": st.PENDING, "in_progress": st.RUNNING, "in_progress_stale": st.RUNNING,
    "completed": st.COMPLETED, "closed": st.CLOSED, "stopped": st.ABORTED, "failed": st.FAILED,
    "publishing": st.PUBLISHING, "published": st.PUBLISHED,
}
_PATHS = {
    "created": [],
    "queued": ["enqueue"],
    "queued_from_stopped": ["run", st.ABORTED, "enqueue"],
    "queued_from_failed": ["run", st.FAILED, "retry"],
    "in_progress": ["run"],
    "in_progress_stale": ["run", "stale"],
    "completed": ["run", st.COMPLETED],
    "closed": ["run", st.COMPLETED, "write:" + st.CLOSED],
    "stopped": ["run", st.ABORTED],
    "failed": ["run", st.FAILED],
    "publishing": ["run", st.COMPLETED, "write:" + st.PUBLISHING],
    "published": ["run", st.COMPLETED, "publish"],
}
QUEUE = "default"
EXECUTION = {"repository": "https://example.com/repo.git", "branch": "main", "commit": "abc123",
             "entry_point": "train.py", "working_dir": ".", "requirements": "numpy\n",
             "container_image": "python:3.11"}


def write_row(exp_id: str, **fields) -> None:
    """A direct row write, for the states no action reaches (legacy ``closed``, ``publishing``...)."""
    run_write(lambda: Experiment.update(**fields).where(Experiment.id == exp_id).execute())


def make_experiment(state: str, *, archived: bool = False, task_type: str = "training",
                    project: str = "Table/Cases", name: str | None = None, parent: str | None = None,
                    configured: bool = False, outputs: Path | None = None, outside: Path | None = None) -> str:
    """An experiment in ``state``, reached through the actions and status changes real callers use.

    ``configured`` gives it hyperparameters, user properties, a configuration
    object and an input artifact (set while it is a Draft); ``outputs`` (the
    storage root) makes it record a full set of outputs while it runs, with
    files under that root and, if ``outside`` is given, files there too.
    """
    exp_id = recording.create_experiment(project, name or f"{state} {task_type}", task_type=task_type,
                                         tags=["base"], parent=parent, execution=EXECUTION)
    if configured:
        configure(exp_id)
    recorded = False
    for step in _PATHS[state]:
        if step == "run":
            assert recording.set_status(exp_id, st.RUNNING)
            if outputs is not None:
                record_outputs(exp_id, outside)
                recorded = True
        elif step == "enqueue":
            if outputs is not None and not recorded:
                record_outputs(exp_id, outside)
                recorded = True
            assert actions.enqueue([exp_id], QUEUE).succeeded == [exp_id]
        elif step == "retry":
            assert actions.retry([exp_id], QUEUE).succeeded == [exp_id]
        elif step == "stale":
            write_row(exp_id, heartbeat=time.time() - 10 * actions.HEARTBEAT_STALE_SECONDS)
        elif step == "publish":
            assert actions.publish([exp_id]).succeeded == [exp_id]
        elif step.startswith("write:"):
            write_row(exp_id, status=step[len("write:"):])
        else:
            assert recording.set_status(exp_id, step), (state, step)
    if outputs is not None and not recorded:
        record_outputs(exp_id, outside)
    if archived:
        write_row(exp_id, archived=True)
    status = Experiment.get_by_id(exp_id).status
    assert status == STATUS_OF[state], (state, status)
    return exp_id


def configure(exp_id: str) -> None:
    editing.require(editing.set_hyperparams([exp_id], "Args", {"lr": 0.1, "batch_size": 32}))
    editing.require(editing.set_hyperparams([exp_id], "General", {"seed": 7}))
    editing.require(editing.set_user_properties([exp_id], {"owner": "ana"}))
    editing.require(editing.set_configuration([exp_id], "config.yaml", "lr: 0.1\n", content_type="yaml"))
    folder = store_files.experiment_folder(exp_id) / "inputs"
    folder.mkdir(parents=True, exist_ok=True)
    data = folder / "data.csv"
    data.write_text("a,b\n1,2\n")
    run_write(lambda: recording.record_artifact_row(
        exp_id, {"name": "dataset", "mode": "input", "uri": str(data), "in_storage": True}, time.time()))


def record_outputs(exp_id: str, outside: Path | None = None) -> dict[str, list[Path]]:
    """One batch of every kind of output; returns the files it made, inside and outside our storage."""
    folder = store_files.experiment_folder(exp_id)
    (folder / "debug").mkdir(parents=True, exist_ok=True)
    (folder / "models").mkdir(parents=True, exist_ok=True)
    sample = folder / "debug" / "img_0001.png"
    sample.write_bytes(b"\x89PNG fake")
    model = folder / "models" / "model.bin"
    model.write_bytes(b"weights")
    inside = [sample, model]
    outside_files: list[Path] = []
    debug = [{"metric": "images", "variant": "train", "iteration": 1, "path": str(sample)},
             {"metric": "images", "variant": "inline", "iteration": 1, "data": b"tiny"}]
    arts = [{"name": "model", "kind": "model", "mode": "output", "uri": str(model), "in_storage": True},
            {"name": "remote", "mode": "output", "uri": "s3://bucket/key.bin", "in_storage": False}]
    if outside is not None:
        outside.mkdir(parents=True, exist_ok=True)
        foreign_sample = outside / f"{exp_id}_sample.png"
        foreign_sample.write_bytes(b"not ours")
        # Marked as ours by mistake: still outside the root, so it must survive.
        foreign_model = outside / f"{exp_id}_model.bin"
        foreign_model.write_bytes(b"not ours either")
        outside_files = [foreign_sample, foreign_model]
        debug.append({"metric": "images", "variant": "foreign", "iteration": 2, "path": str(foreign_sample)})
        arts.append({"name": "foreign", "mode": "output", "uri": str(foreign_model), "in_storage": True})
    now = time.time()
    recording.record_batch(
        exp_id,
        scalars=[("loss", "train", i, 1.0 / (i + 1), now) for i in range(20)]
        + [("accuracy", "val", i, i / 20, now) for i in range(20)],
        console=[(now, "info", "epoch 1"), (now, "info", "epoch 2"), (now, "error", "warning: slow")],
        single_values={"best_accuracy": 0.95},
        plots=[{"metric": "confusion", "variant": "val", "kind": "confusion", "data": {"z": [[1, 0], [0, 1]]}}],
        debug_samples=debug, artifacts=arts, progress=40,
    )
    return {"inside": inside, "outside": outside_files}


# ---- Looking at the database ------------------------------------------------------

OUTPUT_TABLES = (MetricSummary, ScalarChunk, SingleValue, Plot, DebugSample, ConsoleChunk)


def owned_counts(exp_id: str) -> dict[str, int]:
    """Rows an experiment owns, per table (artifacts split by mode)."""
    counts = {m.__name__: m.select().where(m.experiment == exp_id).count()
              for m in OUTPUT_TABLES + (HyperParam, ConfigObject, ExperimentTag, QueueEntry, Execution)}
    for mode in ("input", "output"):
        counts[f"Artifact.{mode}"] = Artifact.select().where(
            (Artifact.experiment == exp_id) & (Artifact.mode == mode)).count()
    counts["Experiment"] = Experiment.select().where(Experiment.id == exp_id).count()
    return counts


def _plain(value):
    if isinstance(value, memoryview):
        return bytes(value)
    return value


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, in a comparable form."""
    out = {}
    for model in ALL_MODELS:
        rows = [tuple(_plain(v) for v in row) for row in model.select().tuples()]
        out[model.__name__] = sorted(rows, key=repr)
    return out


def row_of(exp_id: str) -> dict | None:
    rows = list(Experiment.select().where(Experiment.id == exp_id).dicts())
    return rows[0] if rows else None
