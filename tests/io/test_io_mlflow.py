"""Importing MLflow stores written by MLflow's own client (SQLite and ./mlruns file stores)."""
from __future__ import annotations

import shutil
import sys

import pytest

from exptable_desktop.core import states as st
from exptable_desktop.core.queries import experiment_detail
from exptable_desktop.io.importers import run_import
from exptable_desktop.io.importers.common import SourceError
from exptable_desktop.store.schema import Experiment
from exptable_desktop.store.series import read_series

from io_support import files_under, raw_snapshot

mlflow = pytest.importorskip("mlflow", reason="MLflow is the optional extra 'mlflow' (pip install -e '.[mlflow]')")


@pytest.fixture
def mlflow_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")
    monkeypatch.chdir(tmp_path)  # log_artifact's temporary files, mlflow's default ./mlruns
    yield
    mlflow.end_run()


def _client(uri):
    return mlflow.MlflowClient(tracking_uri=uri)


def _write_store(uri: str, artifact_root) -> dict[str, str]:
    """Two experiments: a finished parent run with a nested child, a failed run, a running one."""
    client = _client(uri)
    exp_a = client.create_experiment("vision/resnet", artifact_location=str(artifact_root / "a"))
    exp_b = client.create_experiment("nlp", artifact_location=str(artifact_root / "b"))
    parent = client.create_run(exp_a, run_name="sweep parent", tags={"team": "vision", "best": "",
                                                                   "mlflow.user": "alice",
                                                                   "mlflow.note.content": "the sweep",
                                                                   "mlflow.source.git.commit": "abc123",
                                                                   "mlflow.source.name": "train.py"})
    rid = parent.info.run_id
    client.log_param(rid, "lr", "0.01")
    client.log_param(rid, "batch_size", "32")
    for step in range(50):
        client.log_metric(rid, "loss/train", 1.0 / (step + 1), timestamp=1_790_000_000_000 + step * 1000, step=step)
        client.log_metric(rid, "accuracy", step / 50, timestamp=1_790_000_000_000 + step * 1000, step=step)
    source = artifact_root.parent / "to-log"
    source.mkdir(exist_ok=True)
    notes = source / "notes.txt"
    notes.write_text("hello from mlflow")
    client.log_artifact(rid, str(notes))
    model = source / "model"
    model.mkdir()
    (model / "MLmodel").write_text("flavors: {}\n")
    (model / "weights.bin").write_bytes(bytes(range(256)))
    client.log_artifacts(rid, str(model), artifact_path="model")
    child = client.create_run(exp_a, run_name="child", tags={"mlflow.parentRunId": rid})
    client.log_metric(child.info.run_id, "loss/train", 0.25, step=0)
    client.set_terminated(child.info.run_id, "FINISHED")
    client.set_terminated(rid, "FINISHED")
    failed = client.create_run(exp_b, run_name="crashed")
    client.log_metric(failed.info.run_id, "loss", float("nan"), step=0)
    client.set_terminated(failed.info.run_id, "FAILED")
    running = client.create_run(exp_b, run_name="still going")
    client.log_metric(running.info.run_id, "loss", 2.0, step=0)
    return {"parent": rid, "child": child.info.run_id, "failed": failed.info.run_id,
            "running": running.info.run_id}


@pytest.fixture(scope="module")
def _template_store(tmp_path_factory):
    """Written once per module (MLflow's schema migrations take seconds); tests get a copy."""
    folder = tmp_path_factory.mktemp("mlflow")
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)
        runs = _write_store(f"sqlite:///{folder / 'mlflow.db'}", folder / "artifacts")
    return folder / "mlflow.db", runs


@pytest.fixture
def sqlite_store(mlflow_env, tmp_path, _template_store):
    template, runs = _template_store
    shutil.copyfile(template, tmp_path / "mlflow.db")
    return f"sqlite:///{tmp_path / 'mlflow.db'}", runs


@pytest.mark.both_backends
def test_runs_become_experiments_with_everything_mapped(db, sqlite_store, files_root):
    uri, runs = sqlite_store
    report = run_import("mlflow", uri)
    assert sorted(r.action for r in report.runs) == ["created"] * 4 and not report.problems
    parent = experiment_detail(runs["parent"])  # MLflow's run id is kept as the id
    assert (parent["name"], parent["project"], parent["user"], parent["status"]) == (
        "sweep parent", "vision/resnet", "alice", st.COMPLETED)
    assert parent["description"] == "the sweep" and parent["tags"] == ["best"]
    assert parent["hyperparameters"]["Args"]["lr"]["value"] == "0.01"
    props = parent["hyperparameters"]["properties"]
    assert props["team"]["value"] == "vision" and props["source_run_id"]["value"] == runs["parent"]
    assert props["imported_from"]["value"] == "mlflow"
    assert parent["execution"]["commit"] == "abc123" and parent["execution"]["entry_point"] == "train.py"
    assert parent["started"] == pytest.approx(Experiment.get_by_id(runs["parent"]).started)
    loss = read_series(runs["parent"], "loss", "train")
    assert loss.iterations.tolist() == list(range(50)) and loss.values[3] == 0.25
    assert loss.timestamps[3] == pytest.approx(1_790_000_003.0)
    assert read_series(runs["parent"], "accuracy", "accuracy").values[-1] == pytest.approx(49 / 50)
    artifacts = {a["name"]: a for a in parent["artifacts"]}
    assert set(artifacts) == {"notes.txt", "model"}
    assert open(artifacts["notes.txt"]["uri"]).read() == "hello from mlflow"
    assert artifacts["model"]["uri"].endswith("model.zip") and artifacts["model"]["preview"] == "2 files"
    assert experiment_detail(runs["child"])["parent"] == runs["parent"]
    failed = experiment_detail(runs["failed"])
    assert failed["status"] == st.FAILED and failed["project"] == "nlp"
    assert str(read_series(runs["failed"], "loss", "loss").values[0]) == "nan"
    running = Experiment.get_by_id(runs["running"])
    assert running.status == st.ABORTED and running.status_reason == "Still running in MLflow when imported"


def test_import_is_idempotent_and_a_grown_run_adds_only_what_is_new(db, sqlite_store, tmp_path):
    uri, runs = sqlite_store
    run_import("mlflow", uri)
    before, files = raw_snapshot(), files_under(tmp_path / "files")
    assert {r.action for r in run_import("mlflow", uri).runs} == {"unchanged"}
    assert raw_snapshot() == before and files_under(tmp_path / "files") == files

    client = _client(uri)
    for step in range(1, 4):
        client.log_metric(runs["running"], "loss", 2.0 - step / 10, step=step)
    client.log_param(runs["running"], "late_param", "yes")
    client.set_terminated(runs["running"], "FINISHED")
    report = run_import("mlflow", uri)
    changed = {r.source_id: r for r in report.runs if r.action != "unchanged"}
    assert set(changed) == {runs["running"]}
    assert changed[runs["running"]].added["points"] == 3 and changed[runs["running"]].added["parameters"] == 1
    series = read_series(runs["running"], "loss", "loss")
    assert series.iterations.tolist() == [0, 1, 2, 3]
    exp = experiment_detail(runs["running"])
    assert exp["status"] == st.COMPLETED and exp["status_reason"] == ""
    assert exp["hyperparameters"]["Args"]["late_param"]["value"] == "yes"


def test_a_file_store_imports_too(db, mlflow_env, tmp_path):
    store = tmp_path / "mlruns"
    runs = _write_store(store.as_uri(), tmp_path / "artifacts")
    report = run_import("mlflow", str(store), project="from-files")
    assert len(report.runs) == 4 and {r.action for r in report.runs} == {"created"}
    assert experiment_detail(runs["parent"])["project"] == "from-files"
    assert len(read_series(runs["parent"], "loss", "train")) == 50


def test_bad_sources_are_one_clear_line(db, mlflow_env, tmp_path):
    with pytest.raises(SourceError, match="no MLflow store at"):
        run_import("mlflow", str(tmp_path / "nowhere"))
    with pytest.raises(SourceError, match="no MLflow database at"):
        run_import("mlflow", f"sqlite:///{tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists()  # nothing created in the source's place
    (tmp_path / "plain").mkdir()
    with pytest.raises(SourceError, match="holds no MLflow experiments"):
        run_import("mlflow", str(tmp_path / "plain"))


def test_without_mlflow_the_message_names_the_extra(db, monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "mlflow", None)  # "import mlflow" now fails
    with pytest.raises(SourceError, match=r"pip install 'exptable-desktop\[mlflow\]'"):
        run_import("mlflow", str(tmp_path))
