"""Experiments for the DETAILS / HYPERPARAMETERS / PARALLEL / SCATTER tests and screenshots:
a sweep with everything the details cards show, varied the way real sweeps vary."""
from __future__ import annotations

import numpy as np

from exptable_desktop.core import recording
from exptable_desktop.core.compare_palette import assign
from exptable_desktop.store.schema import Artifact

T0 = 1_760_000_000.0
OPTIMIZERS = ("adam", "sgd", "adamw")
MODELS = ("resnet50", "resnet18", "vit-b16")

BASE_PACKAGES = ["numpy==1.26.4", "torch==2.3.1", "torchvision==0.18.1", "pillow==10.3.0", "tqdm==4.66.4"]
CONFIG = """model:
  name: {model}
  dropout: {dropout}
data:
  root: /data/imagenet
  augment: true
train:
  epochs: {epochs}
  lr: {lr}
"""


def sweep_experiment(n: int, *, project: str = "vision/sweep", steps: int = 40) -> str:
    """The n-th run of a learning-rate / optimizer sweep; every field the DETAILS tab shows is set."""
    lr = [0.1, 0.03, 0.01, 0.003, 0.001][n % 5]
    optimizer = OPTIMIZERS[n % 3]
    model = MODELS[(n // 3) % 3]
    packages = list(BASE_PACKAGES)
    if n % 4 == 1:
        packages[1] = "torch==2.4.0"
    if n % 5 == 2:
        packages.append("wandb==0.17.0")
    execution = {
        "repository": "https://github.com/example/vision.git", "branch": "main" if n % 3 else "feature/aug",
        "commit": f"{(0xabc123 + n // 2):x}{'0' * 34}", "entry_point": "train.py", "working_dir": ".",
        "requirements": "\n".join(packages),
        "diff": "" if n % 2 == 0 else f"--- a/train.py\n+++ b/train.py\n@@ -10 +10 @@\n-    lr = 0.1\n+    lr = {lr}\n",
        "container_image": "nvcr.io/nvidia/pytorch:24.05-py3" if n % 2 else "",
    }
    exp_id = recording.create_experiment(project, f"{model} {optimizer} lr={lr} #{n}",
                                         tags=["sweep", optimizer] + (["best"] if n == 3 else []),
                                         execution=execution, runtime={"hostname": f"gpu-{n % 4}", "gpus": 1 + n % 2})
    recording.record_parameters(exp_id, "Args", {
        "learning_rate": {"value": str(lr)}, "optimizer": {"value": optimizer}, "batch_size": {"value": "256"},
        "epochs": {"value": str(90 if n % 4 else 120)}, "model": {"value": model}, "seed": {"value": str(n % 3)},
        "dropout": {"value": str([0.0, 0.1, 0.2][n % 3])}})
    recording.record_parameters(exp_id, "properties", {"owner": {"value": "vision-team"}})
    if n % 3 == 0:
        recording.record_parameters(exp_id, "General", {"warmup_steps": {"value": str(500 * (1 + n % 2))}})
    recording.record_configuration(exp_id, "config.yaml",
                                   CONFIG.format(model=model, dropout=[0.0, 0.1, 0.2][n % 3], epochs=90, lr=lr),
                                   content_type="yaml")
    recording.set_status(exp_id, "in_progress")
    rng = np.random.default_rng(n)
    rate = 0.02 + 0.4 * lr
    points = []
    for it in range(steps):
        decay = np.exp(-rate * it)
        stamp = T0 + 600 * n + 10.0 * it
        points.append(("loss", "train", it, float(2.2 * decay + 0.1 + 0.03 * rng.standard_normal()), stamp))
        points.append(("loss", "validation", it, float(2.3 * decay + 0.2 + 0.05 * rng.standard_normal()), stamp))
        points.append(("accuracy", "top1", it, float(0.93 - 0.8 * decay - 0.01 * (n % 3)), stamp))
    recording.record_batch(exp_id, scalars=points)
    Artifact.insert_many([
        {"experiment": exp_id, "name": "best.pt", "kind": "model", "mode": "output",
         "uri": f"file:///models/{exp_id}/best.pt", "size": 98_000_000 + n, "hash": f"{n:08x}", "created": T0},
        {"experiment": exp_id, "name": "resnet50-imagenet.pt", "kind": "model", "mode": "input",
         "uri": "https://download.pytorch.org/models/resnet50.pth", "created": T0},
        {"experiment": exp_id, "name": "predictions.csv", "kind": "artifact", "mode": "output",
         "uri": f"file:///artifacts/{exp_id}/predictions.csv", "size": 12_000 + 10 * n,
         "hash": f"sha256:{n:016x}", "content_type": "text/csv",
         "preview": "id,label,score\n1,cat,0.9\n2,dog,0.8", "metadata": "{\"rows\": 5000}", "created": T0},
    ]).execute()
    recording.set_status(exp_id, "completed")
    return exp_id


def make_sweep(count: int) -> list[str]:
    from exptable_desktop.store.db import write_transaction

    # One transaction for the lot: a hundred runs' worth of small commits costs seconds per test.
    with write_transaction():
        return [sweep_experiment(n) for n in range(count)]


def compared(ids: list[str]):
    """ComparedExperiment for the ids in order, with their stored names and palette colours."""
    from exptable_desktop.store.bulk import experiment_names
    names = experiment_names(ids)
    experiments, _slots = assign([(i, names[i]) for i in ids])
    return experiments
