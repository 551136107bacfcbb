"""A real instrumented script run in a git repository: everything it reports and captures, read through core."""
from __future__ import annotations

import json
import math
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest

from exptable_desktop.core import queries, recording
from exptable_desktop.store.schema import DebugSample, Plot
from exptable_desktop.store.series import read_series
from sdk_scripts import git, only_experiment_id, run

FULL_SCRIPT = r'''
import argparse
import logging
import sys
from pathlib import Path

import numpy as np

from exptable_desktop import Task

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")

parser = argparse.ArgumentParser()
parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
parser.add_argument("--epochs", type=int, default=5, help="passes over the data")
parser.add_argument("--model", default="resnet")
parser.add_argument("--use-aug", action="store_true", help="random flips")
args = parser.parse_args()

task = Task.init(project_name="vision/cls", task_name="baseline", tags=["init-tag"])
params = task.connect({"batch_size": 32, "nested": {"a": 1, "b": [1, 2, 3]}, "dropout": 0.5})
task.connect({"warmup": 3}, name="Extra")
config = task.connect_configuration({"data": {"root": "/data", "shards": 4}}, name="my_config",
                                    description="data settings")
Path("model.yaml").write_text("depth: 50\nwidth: 2\n")
task.connect_configuration(Path("model.yaml"), name="model")
task.set_user_properties(dataset_version="v3")
task.add_tags(["later-tag"])
task.set_comment("a probe run")

logger = task.get_logger()
for i in range(args.epochs):
    logger.report_scalar("loss", "train", 1.0 / (i + 1), iteration=i)
    logger.report_scalar("accuracy", "val", 0.5 + i / 10, iteration=i)
    task.set_progress(int(100 * (i + 1) / args.epochs))
    print(f"epoch {i} done")
logger.report_scalar("loss", "train", float("nan"), iteration=args.epochs)
logger.report_scalar("loss", "train", float("inf"), iteration=args.epochs + 1)
logger.report_scalar("loss", "train", 0.05, iteration=args.epochs + 2)
logger.report_single_value("test_accuracy", 0.93)
logger.report_text("a warning line", level=logging.WARNING)
logger.report_histogram("hist", "weights", values=[1, 5, 3], xlabels=["a", "b", "c"], iteration=1)
logger.report_scatter2d("scatter", "points", scatter=[[0, 1], [1, 3], [2, 2]], iteration=2, xaxis="x", yaxis="y")
logger.report_line_plot("lines", [{"name": "roc", "data": [[0, 0], [0.5, 0.8], [1, 1]]}], xaxis="fpr", yaxis="tpr")
logger.report_table("table", "summary", iteration=0, table_plot=[["name", "score"], ["a", 1.5], ["b", float("nan")]])
logger.report_confusion_matrix("confusion", "val", matrix=[[5, 1], [2, 7]], xlabels=["cat", "dog"],
                               ylabels=["cat", "dog"])
image = np.zeros((6, 8, 3), dtype=np.uint8)
image[:, :, 0] = 255
logger.report_image("samples", "red", iteration=3, image=image)
Path("pic.png").write_bytes(b"\x89PNG fake")
logger.report_image("samples", "file", iteration=4, local_path="pic.png")

Path("weights.bin").write_bytes(b"\x00\x01" * 100)
folder = Path("ckpt")
folder.mkdir()
(folder / "a.txt").write_text("alpha")
(folder / "b.txt").write_text("beta")
task.upload_artifact("weights", "weights.bin", metadata={"epoch": 5})
task.upload_artifact("checkpoint", folder)
task.upload_artifact("summary", {"epochs": args.epochs, "lr": args.lr})
task.upload_artifact("notes", "free text notes\nsecond line")
task.upload_artifact("embedding", np.arange(12, dtype=np.float32).reshape(3, 4))

print("to stdout")
logging.getLogger("train").info("from logging")
print("to stderr", file=sys.stderr)
print("no newline at the end", end="")
'''


@pytest.fixture
def full_run(make_repo, script_env):
    script = make_repo(FULL_SCRIPT)
    done = run(script, script_env, "--lr", "0.01", "--use-aug")
    assert done.returncode == 0, done.stderr
    exp_id = only_experiment_id()
    return exp_id, queries.experiment_detail(exp_id), done, script


def test_status_tags_description_progress(full_run):
    exp_id, detail, done, _ = full_run
    assert detail["status"] == "completed"
    assert detail["project"] == "vision/cls"
    assert detail["name"] == "baseline"
    assert detail["type"] == "training"
    assert detail["user"] == "tester"
    assert set(detail["tags"]) == {"init-tag", "later-tag"}
    assert detail["description"] == "a probe run"
    assert detail["progress"] == 100
    assert detail["started"] is not None and detail["completed"] >= detail["started"]
    assert detail["last_iteration"] == 7


def test_argparse_args_with_types_and_help(full_run):
    args = full_run[1]["hyperparameters"]["Args"]
    assert args["lr"] == {"value": "0.01", "type": "float", "description": "learning rate"}
    assert args["epochs"] == {"value": "5", "type": "int", "description": "passes over the data"}
    assert args["model"]["value"] == "resnet" and args["model"]["type"] == "str"
    assert args["use_aug"] == {"value": "True", "type": "bool", "description": "random flips"}


def test_connected_dicts_configuration_and_properties(full_run):
    detail = full_run[1]
    general = detail["hyperparameters"]["General"]
    assert general["batch_size"]["value"] == "32" and general["batch_size"]["type"] == "int"
    assert general["nested/a"]["value"] == "1"
    assert json.loads(general["nested/b"]["value"]) == [1, 2, 3] and general["nested/b"]["type"] == "list"
    assert general["dropout"]["type"] == "float"
    assert detail["hyperparameters"]["Extra"]["warmup"]["value"] == "3"
    assert detail["hyperparameters"]["properties"]["dataset_version"]["value"] == "v3"
    my_config = detail["configuration"]["my_config"]
    assert json.loads(my_config["value"]) == {"data": {"root": "/data", "shards": 4}}
    assert my_config["type"] == "json" and my_config["description"] == "data settings"
    assert detail["configuration"]["model"] == {"value": "depth: 50\nwidth: 2\n", "description": "",
                                                "type": "yaml"}


def test_git_repository_diff_and_entry_point(full_run):
    exp_id, detail, _, script = full_run
    execution = detail["execution"]
    assert execution["repository"] == "https://example.com/team/train-repo.git"
    assert execution["branch"] == "main"
    assert execution["commit"] == git(script.parent, "rev-parse", "HEAD").strip()
    assert execution["entry_point"] == "train.py"
    assert execution["working_dir"] == "."
    assert execution["binary"].startswith("python3.")
    assert execution["diff"].startswith("diff --git a/train.py b/train.py")
    assert "+# an uncommitted change" in execution["diff"]
    # Files the script wrote are untracked: not part of the diff.
    assert "model.yaml" not in execution["diff"]


def test_imported_packages_with_versions(full_run):
    requirements = full_run[1]["execution"]["requirements"]
    assert requirements.startswith("# Python 3.")
    lines = set(requirements.splitlines())
    assert f"numpy == {np.__version__}" in lines  # the script imports numpy itself
    assert any(line.startswith("exptable-desktop == ") for line in lines)
    # Installed but never imported by the script:
    assert not any(line.startswith(("pytest ", "hypothesis ")) for line in lines)
    # The SDK's own dependencies, which the script does not import:
    assert not any(line.startswith(("peewee ", "psutil ", "psycopg2", "platformdirs ")) for line in lines)


def test_runtime_facts(full_run):
    runtime = full_run[1]["runtime"]
    assert runtime["host"] and runtime["os"]
    assert runtime["cpu_count"] >= 1
    assert runtime["memory_gb"] > 0
    assert runtime["python_version"].startswith("3.")
    assert runtime["started"] > 0


def test_console_stdout_info_stderr_error_still_printed(full_run):
    exp_id, _, done, _ = full_run
    lines = recording.read_console(exp_id)
    assert ("info", "epoch 0 done") in lines and ("info", "epoch 4 done") in lines
    assert ("info", "to stdout") in lines
    assert ("error", "to stderr") in lines
    assert ("error", "INFO from logging") in lines  # a handler made before Task.init, on stderr
    assert ("warning", "a warning line") in lines
    assert ("info", "no newline at the end") in lines
    assert lines.index(("info", "epoch 0 done")) < lines.index(("info", "to stdout"))
    # Still printed to the terminal, each once.
    assert done.stdout.count("epoch 3 done") == 1
    assert "to stderr" in done.stderr
    assert "a warning line" in done.stdout


def test_scalars_with_nan_and_inf_keep_min_max_finite(full_run):
    exp_id, detail, _, _ = full_run
    series = read_series(exp_id, "loss", "train")
    assert series.iterations.tolist() == list(range(8))
    assert series.values[:5].tolist() == [1.0, 0.5, 1 / 3, 0.25, 0.2]
    assert math.isnan(series.values[5]) and series.values[6] == math.inf and series.values[7] == 0.05
    summary = {(m["metric"], m["variant"]): m for m in detail["metrics"]}
    loss = summary[("loss", "train")]
    assert loss["count"] == 8
    assert loss["min"] == 0.05 and loss["min_iteration"] == 7
    assert loss["max"] == 1.0 and loss["max_iteration"] == 0
    assert loss["first"] == 1.0 and loss["last"] == 0.05 and loss["last_iteration"] == 7
    accuracy = summary[("accuracy", "val")]
    assert accuracy["count"] == 5 and accuracy["max"] == pytest.approx(0.9) and accuracy["min"] == 0.5


def test_single_values(full_run):
    assert full_run[1]["single_values"] == {"test_accuracy": 0.93}


def test_plots_are_json_with_a_kind(full_run):
    exp_id = full_run[0]
    plots = {(p.metric, p.variant): p for p in Plot.select().where(Plot.experiment == exp_id)}
    assert {p.kind for p in plots.values()} == {"histogram", "scatter", "line", "table", "confusion"}
    hist = json.loads(plots[("hist", "weights")].data)
    assert hist["kind"] == "histogram" and hist["series"][0]["x"] == ["a", "b", "c"]
    assert hist["series"][0]["y"] == [1, 5, 3]
    scatter = json.loads(plots[("scatter", "points")].data)
    assert scatter["series"][0]["x"] == [0, 1, 2] and scatter["series"][0]["y"] == [1, 3, 2]
    assert scatter["xaxis"] == "x" and plots[("scatter", "points")].iteration == 2
    line = json.loads(plots[("lines", "lines")].data)
    assert line["series"][0]["name"] == "roc" and line["series"][0]["y"] == [0, 0.8, 1]
    table = json.loads(plots[("table", "summary")].data)
    assert table["columns"] == ["name", "score"] and table["rows"] == [["a", 1.5], ["b", None]]
    confusion = json.loads(plots[("confusion", "val")].data)
    assert confusion["matrix"] == [[5, 1], [2, 7]] and confusion["xlabels"] == ["cat", "dog"]


def _png_pixels(data: bytes) -> tuple[int, int, bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, width, height = 8, b"", 0, 0
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


def test_debug_images_saved_as_png_files(full_run, tmp_path):
    exp_id = full_run[0]
    samples = {s.variant: s for s in DebugSample.select().where(DebugSample.experiment == exp_id)}
    red = samples["red"]
    assert red.metric == "samples" and red.iteration == 3 and red.content_type == "image/png"
    path = Path(red.path)
    assert (tmp_path / "files") in path.parents
    width, height, raw = _png_pixels(path.read_bytes())
    assert (width, height) == (8, 6)
    first_row = raw[1:1 + 8 * 3]
    assert first_row == bytes([255, 0, 0]) * 8
    copied = Path(samples["file"].path)
    assert copied.read_bytes() == b"\x89PNG fake" and copied.suffix == ".png"


def test_artifacts_with_size_hash_preview(full_run, tmp_path):
    import hashlib
    import zipfile

    artifacts = {a["name"]: a for a in full_run[1]["artifacts"]}
    assert set(artifacts) == {"weights", "checkpoint", "summary", "notes", "embedding"}
    for art in artifacts.values():
        path = Path(art["uri"])
        assert (tmp_path / "files") in path.parents
        assert art["size"] == path.stat().st_size
        assert art["hash"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert artifacts["weights"]["metadata"]["epoch"] == 5
    assert Path(artifacts["weights"]["uri"]).read_bytes() == b"\x00\x01" * 100
    with zipfile.ZipFile(artifacts["checkpoint"]["uri"]) as archive:
        assert sorted(archive.namelist()) == ["a.txt", "b.txt"]
        assert archive.read("b.txt") == b"beta"
    assert json.loads(Path(artifacts["summary"]["uri"]).read_text()) == {"epochs": 5, "lr": 0.01}
    assert '"lr": 0.01' in artifacts["summary"]["preview"]
    assert artifacts["notes"]["preview"].startswith("free text notes")
    with np.load(artifacts["embedding"]["uri"]) as archive:  # .npz under the artifact's name, as the reference
        loaded = archive["embedding"]
    assert loaded.dtype == np.float32 and loaded.shape == (3, 4) and loaded[2, 3] == 11
    assert "shape=(3, 4)" in artifacts["embedding"]["preview"]


def test_get_task_reads_results_back(full_run):
    from exptable_desktop import Task

    exp_id = full_run[0]
    task = Task.get_task(project_name="vision/cls", task_name="baseline")
    assert task.id == exp_id
    params = task.get_parameters()
    assert params["Args/lr"] == "0.01" and params["General/nested/a"] == "1"
    assert task.get_parameters(cast=True)["Args/epochs"] == 5
    last = task.get_last_scalar_metrics()
    assert last["loss"]["train"] == {"last": 0.05, "min": 0.05, "max": 1.0}
    scalars = Task.get_task(task_id=exp_id).get_reported_scalars()
    assert scalars["accuracy"]["val"]["x"] == [0, 1, 2, 3, 4]
    assert scalars["accuracy"]["val"]["y"] == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9])
    assert task.status == "completed"
    assert Task.get_task(project_name="vision/cls", task_name="nope") is None  # as the reference
    with pytest.raises(ValueError, match="no experiment with id"):
        Task.get_task(task_id="0" * 32)


def test_without_a_repository_the_script_text_is_kept(tmp_path, script_env):
    folder = tmp_path / "plain"
    folder.mkdir()
    script = folder / "solo.py"
    script.write_text("from exptable_desktop import Task\nTask.init('p', 'solo')\nprint('hi')\n")
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    detail = queries.experiment_detail(only_experiment_id())
    assert detail["execution"]["repository"] == ""
    assert detail["execution"]["diff"] == script.read_text()
    assert detail["status"] == "completed"


def test_entry_point_relative_to_working_dir_in_a_subfolder(make_repo, script_env):
    script = make_repo("from exptable_desktop import Task\nTask.init('p', 'sub')\n", subdir="src/jobs")
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    execution = queries.experiment_detail(only_experiment_id())["execution"]
    assert execution["working_dir"] == "src/jobs"
    assert execution["entry_point"] == "train.py"
    assert "src/jobs/train.py" in execution["diff"]


def test_resource_monitoring_reports_machine_scalars(make_repo, script_env):
    script = make_repo("""
        import time
        from exptable_desktop import Task
        Task.init('p', 'monitored', auto_resource_monitoring={"interval": 0.3})
        time.sleep(1.5)
        """)
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    exp_id = only_experiment_id()
    cpu = read_series(exp_id, ":monitor:machine", "cpu_usage")
    assert len(cpu) >= 2
    assert np.all((cpu.values >= 0) & (cpu.values <= 100 * 64))
    assert read_series(exp_id, ":monitor:machine", "memory_used_gb").values[0] > 0


def test_the_readme_example_runs_and_records(tmp_path, script_env):
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "exptable_desktop.sdk.example_train", "--epochs", "4"],
                          cwd=tmp_path, env=script_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    detail = queries.experiment_detail(only_experiment_id())
    assert detail["status"] == "completed" and detail["project"] == "examples/toy"
    assert detail["execution"]["entry_kind"] == "module"
    assert detail["execution"]["entry_point"] == "exptable_desktop.sdk.example_train"
    assert {m["metric"] for m in detail["metrics"]} == {"loss", "weights"}
    assert detail["hyperparameters"]["Args"]["epochs"]["value"] == "4"
    assert {a["name"] for a in detail["artifacts"]} == {"weights", "summary"}
    assert detail["single_values"]["final_loss"] < 0.1


def test_pandas_dataframe_artifact_and_table(make_repo, script_env):
    pytest.importorskip("pandas")
    import gzip

    script = make_repo("""
        import pandas as pd
        from exptable_desktop import Task
        task = Task.init("p", "frames")
        frame = pd.DataFrame({"epoch": [0, 1, 2], "loss": [0.9, 0.5, 0.25]})
        task.upload_artifact("history", frame)
        task.get_logger().report_table("history", "table", iteration=2, table_plot=frame)
        """)
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    exp_id = only_experiment_id()
    detail = queries.experiment_detail(exp_id)
    history = detail["artifacts"][0]
    assert history["uri"].endswith("history.csv.gz") and history["preview"].startswith("3 rows x 2 columns")
    with gzip.open(history["uri"], "rt") as handle:
        assert handle.read().splitlines()[1:] == ["0,0,0.9", "1,1,0.5", "2,2,0.25"]
    table = json.loads(Plot.get(Plot.experiment == exp_id).data)
    assert table["columns"] == ["", "epoch", "loss"] and table["rows"][2] == [2, 2, 0.25]
    assert any(line.startswith("pandas == ") for line in detail["execution"]["requirements"].splitlines())
