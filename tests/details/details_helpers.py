"""Helpers for the details tests: a rich SDK script, temp git repositories, waiting."""
from __future__ import annotations

import subprocess
import textwrap
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]

# A training script using the SDK the way a person would; every tab gets content.
RICH_SCRIPT = r'''
import argparse, json, sys
import numpy as np
from exptable_desktop import Task

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=3, help="passes over the data")
parser.add_argument("--lr", type=float, default=0.01)
args = parser.parse_args()
task = Task.init(project_name="vision/resnet", task_name="resnet50 baseline")
task.connect({"batch_size": 64, "optimizer": "adam"}, name="Model")
task.connect_configuration({"layers": [64, 128, 256], "dropout": 0.1}, name="architecture")
task.set_user_properties(owner="alice", dataset="imagenet-mini")
task.add_tags(["baseline", "gpu"])
task.set_comment("First baseline run on the mini dataset")
log = task.get_logger()
for i in range(200):
    log.report_scalar("loss", "train", 1.0 / (i + 1) + 0.01 * np.sin(i), i)
    log.report_scalar("loss", "validation", 1.2 / (i + 1), i)
    log.report_scalar("accuracy", "top1", 1 - 1.0 / (i + 2), i)
    if i % 10 == 0:
        print(f"iter {i:3d}  train_loss={1.0 / (i + 1):.4f}  top1={1 - 1.0 / (i + 2):.4f}")
log.report_single_value("best_accuracy", 0.931)
log.report_single_value("parameters", 25557032)
for it in (0, 100):
    log.report_scatter2d("embedding", "points", np.array([[0, 1], [1, 3], [2, 2], [3, 5 + it / 100]]), iteration=it)
    log.report_histogram("weights", "layer1", [3, 7, 12, 6, 2 + it / 50], iteration=it)
    log.report_table("predictions", "sample", iteration=it,
                     table_plot=[["image", "label", "score"], ["a.png", "cat", 0.9], ["b.png", "dog", 0.7]])
    log.report_confusion_matrix("confusion", "val", [[50, 2, 1], [3, 45, 4], [0, 5, 40 + it // 10]],
                                iteration=it, xlabels=["cat", "dog", "fox"], ylabels=["cat", "dog", "fox"])
    log.report_line_plot("pr_curve", [{"name": "model", "data": [[0, 1], [0.5, 0.8], [1, 0.2]]}],
                         xaxis="recall", yaxis="precision", iteration=it)
    image = np.zeros((32, 48, 3), dtype=np.uint8)
    image[:, : 16 + it // 10, 0] = 220
    image[8:24, 8:40, 2] = 180
    log.report_image("samples", "input", iteration=it, image=image)
    log.report_image("samples", "prediction", iteration=it, image=255 - image)
task.upload_artifact("metrics_summary", {"best": 0.931, "epochs": args.epochs}, metadata={"split": "val"})
print("training finished with loss 0.0123")
print("a warning line", file=sys.stderr)
task.close()
'''


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


def write_repo_script(tmp_path: Path, source: str, name: str = "train.py") -> Path:
    """``source`` committed in a fresh git repository, then changed without committing."""
    repo = tmp_path / "repo"
    repo.mkdir(exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.email", "dev@example.com")
    git(repo, "config", "user.name", "Dev")
    git(repo, "remote", "add", "origin", "https://example.com/team/vision.git")
    script = repo / name
    script.write_text(textwrap.dedent(source))
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "first")
    with open(script, "a") as handle:
        handle.write("# tuned the learning rate\n")
    return script


def experiment_ids() -> list[str]:
    from exptable_desktop.store.schema import Experiment
    return [e.id for e in Experiment.select(Experiment.id).order_by(Experiment.created)]


def wait_until(condition, timeout: float = 20.0, interval: float = 0.05) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise AssertionError("condition not met in time")
