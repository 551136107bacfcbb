"""Instrument your training script: a complete example.

Run it with ``python -m exptable_desktop.sdk.example_train --epochs 20`` (or copy it);
the run appears in the ExpTable window (same database: ``EXPTABLE_DB`` or the
default) while it trains, and stays there with everything below.
"""
import argparse
import json
import logging
import math
import random
from pathlib import Path

import numpy as np

from exptable_desktop import Task


def main() -> None:
    parser = argparse.ArgumentParser(description="toy training loop")
    parser.add_argument("--lr", type=float, default=0.05, help="learning rate")
    parser.add_argument("--epochs", type=int, default=10, help="passes over the data")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()  # recorded as section Args, with types and help

    # One line starts recording: git commit + uncommitted diff, packages, console, machine.
    task = Task.init(project_name="examples/toy", task_name="linear regression", tags=["example"])
    config = task.connect({"batch_size": 32, "optimizer": {"name": "sgd", "momentum": 0.9}})
    task.connect_configuration({"data": {"rows": 512, "noise": 0.1}}, name="data")
    logger = task.get_logger()

    rng = np.random.default_rng(args.seed)
    x = rng.normal(size=(512, 3))
    w_true = np.array([1.5, -2.0, 0.5])
    y = x @ w_true + rng.normal(scale=0.1, size=512)
    w = np.zeros(3)
    for epoch in range(args.epochs):
        for start in range(0, len(x), config["batch_size"]):
            xb, yb = x[start:start + config["batch_size"]], y[start:start + config["batch_size"]]
            w -= args.lr * 2 * xb.T @ (xb @ w - yb) / len(xb)
        loss = float(np.mean((x @ w - y) ** 2))
        logger.report_scalar("loss", "train", loss, iteration=epoch)       # buffered, ~1 µs
        logger.report_scalar("weights", "distance", float(np.linalg.norm(w - w_true)), iteration=epoch)
        task.set_progress(int(100 * (epoch + 1) / args.epochs))
        print(f"epoch {epoch}: loss {loss:.4f}")                            # captured as console

    logger.report_single_value("final_loss", loss)
    logger.report_histogram("residuals", "train", np.histogram(x @ w - y, bins=10)[0], iteration=args.epochs)
    logger.report_scatter2d("fit", "predicted vs true", np.c_[y[:100], (x @ w)[:100]], xaxis="true",
                            yaxis="predicted", mode="markers")
    logger.report_table("weights", "final", table_plot=[["name", "learned", "true"]]
                        + [[f"w{i}", float(w[i]), float(w_true[i])] for i in range(3)])
    logger.report_confusion_matrix("signs", "train", [[10, 2], [1, 12]], xlabels=["-", "+"], ylabels=["-", "+"])
    logger.report_image("inputs", "first rows", iteration=0,
                        image=(np.clip(x[:32] * 64 + 128, 0, 255)).astype(np.uint8).repeat(8, axis=1))
    if not math.isfinite(loss):
        logger.report_text("training diverged", level=logging.ERROR)
    Path("weights.json").write_text(json.dumps(w.tolist()))
    task.upload_artifact("weights", "weights.json", metadata={"epochs": args.epochs})
    task.upload_artifact("summary", {"loss": loss, "seed": args.seed, "lucky": random.Random(args.seed).random()})
    # Completed is recorded at exit; an exception records Failed, Ctrl-C or the app's Abort records Aborted.


if __name__ == "__main__":
    main()
