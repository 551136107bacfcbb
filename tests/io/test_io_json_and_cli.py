"""JSON export, and the ``exptable export / import / bundle`` commands run as real subprocesses."""
from __future__ import annotations

import csv
import io
import json
import math
import zipfile

import pytest

from exptable_desktop.core import states as st
from exptable_desktop.core.editing import set_configuration, set_hyperparams, set_user_properties
from exptable_desktop.core.recording import create_experiment, record_batch, record_lifecycle
from exptable_desktop.io.json_export import SCHEMA_VERSION, export_document
from exptable_desktop.store.schema import Experiment

from cli_support import assert_one_line_error, run_cli
from io_support import EXPERIMENT_ID, SESSION_ZIP


@pytest.fixture
def described(db):
    parent = create_experiment("team/vision", "parent run")
    exp_id = create_experiment("team/vision", "described", tags=["best", "=evil"], description="about it",
                               parent=parent, execution={"repository": "https://example.com/r.git",
                                                         "commit": "abc", "entry_point": "train.py",
                                                         "requirements": "numpy==2\n"})
    set_hyperparams([exp_id], "Args", {"lr": {"value": "0.01", "type": "float", "description": "learning rate"}})
    set_configuration([exp_id], "model", '{"layers": 3}', content_type="json", description="the net")
    set_user_properties([exp_id], {"owner": "bob"})
    from exptable_desktop.core.recording import set_status
    set_status(exp_id, st.RUNNING)
    record_batch(exp_id, scalars=[("loss", "train", i, 1.0 / (i + 1), 1_790_000_000.0 + i) for i in range(5)]
                 + [("loss", "val", 0, math.nan, 1_790_000_000.0)],
                 console=[(1.0, "info", "hello")], single_values={"score": math.inf})
    record_lifecycle(exp_id, status=st.COMPLETED, started=1_790_000_000.0, completed=1_790_000_100.0,
                     run_time=100.0)
    return exp_id, parent


def test_json_export_holds_what_the_details_panel_shows(described):
    exp_id, parent = described
    document = export_document([exp_id])
    assert document["format"] == "exptable-experiments" and document["schema_version"] == SCHEMA_VERSION == 1
    [exp] = document["experiments"]
    assert (exp["id"], exp["name"], exp["project"], exp["status"], exp["status_label"]) == (
        exp_id, "described", "team/vision", "completed", "Completed")
    assert exp["parent"] == {"id": parent, "name": "parent run"}
    assert [t["name"] for t in exp["tags"]] == ["=evil", "best"]
    assert exp["times"]["started"] == "2026-09-21T14:13:20.000000Z" and exp["run_time_seconds"] == 100.0
    assert exp["execution"]["repository"] == "https://example.com/r.git" and exp["execution"]["commit"] == "abc"
    assert exp["hyperparameters"]["Args"]["lr"] == {"value": "0.01", "type": "float",
                                                   "description": "learning rate", "default": None}
    assert exp["user_properties"]["owner"]["value"] == "bob"
    assert exp["configuration"]["model"] == {"value": '{"layers": 3}', "content_type": "json",
                                             "description": "the net"}
    metrics = {(m["metric"], m["variant"]): m for m in exp["metrics"]}
    assert metrics[("loss", "train")]["last"] == 0.2 and metrics[("loss", "train")]["count"] == 5
    assert metrics[("loss", "val")]["count"] == 1 and metrics[("loss", "val")]["min"] is None
    assert exp["single_values"] == {"score": "Infinity"}
    assert exp["outputs"] == {"console_lines": 1, "scalar_points": 6, "plots": 0, "debug_samples": 0}
    json.dumps(document, allow_nan=False)  # strict JSON, no NaN literals


def _cli_db(db) -> str:
    return db.exptable_url


@pytest.mark.slow
def test_export_json_and_csv_commands(described, tmp_path):
    exp_id, _parent = described
    url = _cli_db(Experiment._meta.database.obj)
    result = run_cli("export", "json", exp_id[:8], "--db", url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["experiments"][0]["id"] == exp_id
    result = run_cli("export", "json", "-", "-o", str(tmp_path / "out.json"), "--db", url, stdin=exp_id + "\n")
    assert result.returncode == 0 and "wrote 1 experiment" in result.stderr
    assert json.loads((tmp_path / "out.json").read_text())["experiments"][0]["name"] == "described"
    assert_one_line_error(run_cli("export", "json", "nosuchid123", "--db", url), "no experiment with id")

    result = run_cli("export", "csv", "--db", url, "--project", "team", "--columns", "name,tags",
                     "metric:loss/train/min", "hp:Args/lr", "--query", "described")
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout, newline="")))
    assert rows == [["NAME", "TAGS", "loss › train (Min)", "Args.lr"], ["described", "'=evil, best", "0.2", "0.01"]]
    result = run_cli("export", "csv", "--db", url, "-o", str(tmp_path / "t.csv"), "--bom", "--precise",
                     "--columns", "NAME", "started")
    assert result.returncode == 0 and "wrote 2 experiments x 2 columns" in result.stderr
    text = (tmp_path / "t.csv").read_bytes().decode("utf-8")
    assert text.startswith("\ufeffNAME,STARTED\r\n") and "2026-09-21T14:13:20.000000Z" in text
    # The query language of the search box works here too.
    result = run_cli("export", "csv", "--db", url, "--columns", "name", "--query", "status:completed")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1:] == ["described"]
    assert_one_line_error(run_cli("export", "csv", "--db", url, "--columns", "name", "bogus"), "unknown column 'bogus'")
    assert_one_line_error(run_cli("export", "csv", "--db", url, "--project", "nope"), "no project named 'nope'")
    assert not list(tmp_path.glob(".*.partial"))


@pytest.mark.slow
def test_import_and_bundle_commands(db, tmp_path):
    url = db.exptable_url
    result = run_cli("import", "clearml", str(SESSION_ZIP), "--project", "from/clearml", "--db", url)
    assert result.returncode == 0, result.stderr
    assert "1 created" in result.stdout and "status Completed" in result.stdout
    result = run_cli("import", "clearml", str(SESSION_ZIP), "--db", url)
    assert result.returncode == 0 and "1 unchanged" in result.stdout
    assert_one_line_error(run_cli("import", "clearml", str(tmp_path / "nowhere"), "--db", url),
                          "no ClearML offline session at")
    assert_one_line_error(run_cli("import", "tensorboard", str(tmp_path), "--db", url), "no TensorBoard event files")

    result = run_cli("bundle", "export", EXPERIMENT_ID, "-o", str(tmp_path / "runs.etb"), "--db", url)
    assert result.returncode == 0 and "wrote 1 experiment to" in result.stdout, result.stderr
    target = f"sqlite:///{tmp_path / 'other.db'}"
    env = {"EXPTABLE_FILES": str(tmp_path / "other-files")}
    result = run_cli("bundle", "import", str(tmp_path / "runs.etb"), "--db", target, env=env)
    assert result.returncode == 0 and "imported 1 experiment" in result.stdout, result.stderr
    result = run_cli("bundle", "import", str(tmp_path / "runs.etb"), "--db", target, env=env)
    assert "skipped 1 already in this database" in result.stdout and EXPERIMENT_ID in result.stderr
    with zipfile.ZipFile(tmp_path / "runs.etb") as src, zipfile.ZipFile(tmp_path / "evil.etb", "w") as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        dst.writestr(f"files/{EXPERIMENT_ID}/../../escape.txt", "x")
    assert_one_line_error(run_cli("bundle", "import", str(tmp_path / "evil.etb"), "--db", target, env=env),
                          "refusing evil.etb", "outside the bundle's folder")
    assert not (tmp_path / "escape.txt").exists()
