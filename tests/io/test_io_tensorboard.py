"""Importing TensorBoard logs written by a real writer (tensorboardX's SummaryWriter)."""
from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from exptable_desktop.core import details
from exptable_desktop.core import states as st
from exptable_desktop.io.importers import run_import
from exptable_desktop.io.importers.common import SourceError
from exptable_desktop.store.schema import Experiment
from exptable_desktop.store.series import read_series

from io_support import files_under, raw_snapshot

pytest.importorskip("tensorboard", reason="the TensorBoard reader is the optional extra 'tensorboard'")
tensorboardX = pytest.importorskip("tensorboardX", reason="tests write logs with tensorboardX (test extra)")


def _write_run(folder, steps=range(10), *, with_media=True, suffix=""):
    writer = tensorboardX.SummaryWriter(str(folder), filename_suffix=suffix)
    for step in steps:
        writer.add_scalar("loss/train", 1.0 / (step + 1), step)
        writer.add_scalar("lr", 0.1 * 0.9 ** step, step)
    if with_media:
        writer.add_image("samples/input", np.linspace(0, 1, 3 * 8 * 8).reshape(3, 8, 8), 4)
        writer.add_histogram("weights/layer1", np.random.default_rng(0).standard_normal(500), 5)
        writer.add_text("notes", "first line\nsecond line", 2)
    writer.close()


def _experiment(name: str) -> Experiment:
    return Experiment.get(Experiment.name == name)


def test_each_run_folder_becomes_an_experiment(db, tmp_path, files_root):
    logdir = tmp_path / "logs"
    _write_run(logdir / "resnet" / "lr0.1")
    _write_run(logdir / "vit", steps=range(3), with_media=False)
    report = run_import("tensorboard", str(logdir))
    assert sorted((r.name, r.action) for r in report.runs) == [("resnet/lr0.1", "created"), ("vit", "created")]
    exp = _experiment("resnet/lr0.1")
    assert exp.status == st.COMPLETED and "no status" in exp.status_reason
    loss = read_series(exp.id, "loss", "train")
    assert loss.iterations.tolist() == list(range(10)) and loss.values[1] == pytest.approx(0.5)
    assert exp.started == pytest.approx(loss.timestamps.min(), abs=1) and loss.timestamps.min() > 1e9
    assert len(read_series(exp.id, "lr", "lr")) == 10
    [sample] = details.debug_samples(exp.id)
    assert (sample["metric"], sample["variant"], sample["iteration"]) == ("samples", "input", 4)
    assert details.debug_sample_bytes(sample["id"]).startswith(b"\x89PNG")
    assert sample["path"].startswith(str(files_root))
    [plot] = details.latest_plots(exp.id)
    assert (plot["metric"], plot["variant"], plot["iteration"], plot["figure"]["kind"]) == (
        "weights", "layer1", 5, "histogram")
    assert sum(plot["figure"]["counts"]) == 500
    lines = [text for _level, text in details.console_window(exp.id, 0, 10)]
    assert lines == ["[notes step 2] first line", "[notes step 2] second line"]
    assert Experiment.select().where(Experiment.name == "vit").count() == 1
    projects = {details.info(e.id)["fields"][-2][1] for e in Experiment.select()}
    assert projects == {"logs"}


@pytest.mark.both_backends
def test_idempotent_and_a_resumed_run_adds_only_new_points(db, tmp_path):
    run = tmp_path / "logs" / "run1"
    _write_run(run, steps=range(5))
    run_import("tensorboard", str(tmp_path / "logs"), project="tb")
    before, files = raw_snapshot(), files_under(tmp_path / "files")
    assert [r.action for r in run_import("tensorboard", str(tmp_path / "logs"), project="tb").runs] == ["unchanged"]
    assert raw_snapshot() == before and files_under(tmp_path / "files") == files

    # A resumed run: a second event file (named apart: two writers in one second would share a name).
    _write_run(run, steps=range(5, 8), with_media=False, suffix=".resumed")
    [outcome] = run_import("tensorboard", str(tmp_path / "logs"), project="tb").runs
    assert outcome.action == "updated" and outcome.added["points"] == 6
    exp = _experiment("run1")
    assert read_series(exp.id, "loss", "train").iterations.tolist() == list(range(8))
    assert len(details.debug_samples(exp.id)) == 1


def test_moving_the_log_folder_keeps_the_run(db, tmp_path):
    _write_run(tmp_path / "a" / "run")
    run_import("tensorboard", str(tmp_path / "a"))
    (tmp_path / "a").rename(tmp_path / "b")
    [outcome] = run_import("tensorboard", str(tmp_path / "b"), project="a").runs
    assert outcome.action in ("unchanged", "updated") and Experiment.select().count() == 1


def test_no_logs_and_no_reader(db, tmp_path, monkeypatch):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no TensorBoard event files"):
        run_import("tensorboard", str(tmp_path / "empty"))
    for name in ("tensorboard", "tensorboard.backend.event_processing", "tensorboard.util"):
        monkeypatch.setitem(sys.modules, name, None)  # "import" now fails
    with pytest.raises(SourceError, match=r"pip install 'exptable-desktop\[tensorboard\]'"):
        run_import("tensorboard", str(tmp_path / "empty"))


def test_histogram_bins_hold_every_count(db, tmp_path):
    _write_run(tmp_path / "logs" / "h", steps=range(1))
    run_import("tensorboard", str(tmp_path / "logs"))
    exp = _experiment("h")
    raw = json.loads(details.Plot.get(details.Plot.experiment == exp.id).data)
    assert len(raw["bins"]) == len(raw["counts"]) + 1
    assert raw["bins"] == sorted(raw["bins"]) and np.isfinite(raw["bins"]).all()
