"""Importing ClearML offline sessions: the real fixture, messy sessions, inferred status, idempotency."""
from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest

from exptable_desktop.core import details
from exptable_desktop.core import states as st
from exptable_desktop.core.queries import experiment_detail
from exptable_desktop.io.importers import run_import
from exptable_desktop.io.importers.common import SourceError
from exptable_desktop.store.schema import Experiment
from exptable_desktop.store.series import read_series

from io_support import EXPERIMENT_ID, SESSION_DIR, SESSION_ID, SESSION_ZIP, copy_session, files_under, raw_snapshot


def _zip_folder(folder: Path, target: Path, *, replace: dict[str, bytes] | None = None,
                drop: tuple[str, ...] = ()) -> Path:
    """A session zip as the SDK writes it (paths relative to the folder), with some members changed."""
    replace = replace or {}
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            name = path.relative_to(folder).as_posix()
            if name in drop:
                continue
            archive.writestr(name, replace.get(name, path.read_bytes()))
        for name, data in replace.items():
            if name not in archive.namelist():
                archive.writestr(name, data)
    return target


@pytest.mark.both_backends
def test_the_reference_session_imports_whole(db, files_root):
    report = run_import("clearml", str(SESSION_ZIP))
    assert [r.action for r in report.runs] == ["created"] and not report.problems
    d = experiment_detail(EXPERIMENT_ID)
    assert (d["name"], d["project"], d["type"], d["description"]) == ("t1", "probe", "training", "probe description")
    assert d["tags"] == ["init-tag", "offline", "probe"]
    assert d["status"] == st.COMPLETED and d["status_reason"].startswith("Inferred:")
    assert d["started"] == pytest.approx(1795705558.846) and d["completed"] == pytest.approx(1795705560.415)
    ex = d["execution"]
    assert ex["repository"] == "https://github.com/example/probe-repo.git"
    assert ex["commit"] == "217ab7d7e090f7934faf127e2485bb1047ff0a8c" and ex["branch"] == "master"
    assert ex["entry_point"] == "train.py" and ex["binary"] == "python3.11" and "+# uncommitted change" in ex["diff"]
    assert "clearml == 2.1.12" in ex["requirements"]
    params = d["hyperparameters"]
    assert params["Args"]["lr"] == {"value": "0.01", "type": "float", "description": ""}
    assert params["General"]["nested/b"]["value"] == "[1, 2, 3]" and params["Extra"]["note"]["value"] == "hello"
    assert params["properties"]["dataset_version"]["description"] == "which ds"
    assert params["properties"]["source_run_id"]["value"] == SESSION_ID
    assert params["properties"]["imported_from"]["value"] == "clearml"
    assert d["configuration"]["my_config"]["type"] == "hocon" and 'shards = 4' in d["configuration"]["my_config"]["value"]
    assert d["single_values"] == {"best_acc": 0.88}
    summaries = {(m["metric"], m["variant"]): m for m in d["metrics"]}
    assert set(summaries) == {("loss", "train"), ("loss", "val"), ("accuracy", "val")}
    loss = read_series(EXPERIMENT_ID, "loss", "train")
    assert loss.iterations.tolist() == list(range(20)) and loss.values[1] == 0.5
    assert loss.timestamps[0] == pytest.approx(1795705558.916)
    lines = [text for _level, text in details.console_window(EXPERIMENT_ID, 0, 1000)]
    assert "iter 19 loss 0.0500" in lines and "a text line from report_text" in lines
    assert ("error", "to stderr") in details.console_window(EXPERIMENT_ID, 0, 1000)
    plots = {(p["metric"], p["variant"]): p["figure"]["kind"] for p in details.latest_plots(EXPERIMENT_ID)}
    assert plots == {("curve", "pr"): "line", ("hist", "weights"): "bar", ("table", "results"): "table",
                     ("plotly", "custom"): "bar"}
    samples = details.debug_samples(EXPERIMENT_ID)
    assert [(s["metric"], s["variant"], s["iteration"]) for s in samples] == [("samples", "img", 19)]
    assert details.debug_sample_bytes(samples[0]["id"]).startswith(b"\xff\xd8")  # the JPEG, copied in
    [artifact] = d["artifacts"]
    assert artifact["name"] == "summary" and artifact["hash"] == (
        "ada1b9b0d0ebfd134ccc37457fd05bfd08ecd3e5d2c840f2dedeb4b68f9dc4fc")
    assert json.loads(Path(artifact["uri"]).read_text()) == {"epochs": 20, "final_loss": 0.05}
    assert Path(artifact["uri"]).is_relative_to(files_root)


@pytest.mark.both_backends
def test_a_second_import_changes_nothing(db, tmp_path):
    run_import("clearml", str(SESSION_ZIP))
    before, files = raw_snapshot(), files_under(tmp_path / "files")
    report = run_import("clearml", str(SESSION_ZIP))
    assert [r.action for r in report.runs] == ["unchanged"]
    assert raw_snapshot() == before and files_under(tmp_path / "files") == files


def test_a_folder_without_its_zip_stopped_mid_way_and_a_grown_session_adds_only_what_is_new(db, tmp_path):
    folder = copy_session(tmp_path, with_zip=False)
    full = (folder / "metrics.jsonl").read_text().splitlines()[0]
    events = json.loads(full)
    half = [e for e in events if e["type"] != "training_stats_scalar" or e["iter"] < 10]
    (folder / "metrics.jsonl").write_text(json.dumps(half) + "\n")
    log_lines = (folder / "log.jsonl").read_text().splitlines()
    (folder / "log.jsonl").write_text(log_lines[0] + "\n")
    report = run_import("clearml", str(folder))
    assert report.runs[0].action == "created"
    exp = Experiment.get_by_id(EXPERIMENT_ID)
    assert exp.status == st.ABORTED and "mid-way" in exp.status_reason
    assert len(read_series(EXPERIMENT_ID, "loss", "train")) == 10
    lines_before = details.console_line_count(EXPERIMENT_ID)

    # The session went on and was closed normally: the rest of its points and lines arrive, once.
    rest = [e for e in events if e not in half]
    with open(folder / "metrics.jsonl", "a") as handle:
        handle.write(json.dumps(rest) + "\n")
    (folder / "log.jsonl").write_text("\n".join(log_lines) + "\n")
    shutil.make_archive(str(folder), "zip", folder)
    report = run_import("clearml", str(folder))
    assert report.runs[0].action == "updated"
    assert report.runs[0].added["points"] == 30 and report.runs[0].added["console lines"] > 0
    series = read_series(EXPERIMENT_ID, "loss", "train")
    assert series.iterations.tolist() == list(range(20))
    assert details.console_line_count(EXPERIMENT_ID) > lines_before
    exp = Experiment.get_by_id(EXPERIMENT_ID)
    assert exp.status == st.COMPLETED and exp.last_iteration == 19
    assert run_import("clearml", str(folder)).runs[0].action == "unchanged"


def test_a_crashed_session_is_failed(db, tmp_path):
    folder = copy_session(tmp_path, with_zip=False)
    crash = [{"timestamp": 1795705561000, "type": "log", "task": SESSION_ID, "level": "error", "worker": "vm",
              "msg": "Traceback (most recent call last):\n  File \"train.py\", line 9, in <module>\n"
                     "RuntimeError: boom"}]
    with open(folder / "log.jsonl", "a") as handle:
        handle.write(json.dumps(crash) + "\n")
    zip_path = _zip_folder(folder, folder.with_name(SESSION_ID + ".zip"))
    report = run_import("clearml", str(zip_path))
    exp = Experiment.get_by_id(EXPERIMENT_ID)
    assert exp.status == st.FAILED and "traceback" in exp.status_reason
    assert any("crash" in note for note in report.runs[0].notes)
    assert ("error", "RuntimeError: boom") in details.console_window(EXPERIMENT_ID, 0, 1000)


def test_messy_sessions_import_what_is_there_and_say_what_is_missing(db, tmp_path):
    folder = copy_session(tmp_path, with_zip=False)
    task = json.loads((folder / "task.json").read_text())
    del task["script"]
    metrics = (folder / "metrics.jsonl").read_text()
    # no script section; a debug image and the artifact gone; a metrics line cut short by a crash
    zip_path = _zip_folder(folder, tmp_path / "messy.zip", replace={
        "task.json": json.dumps(task).encode(), "metrics.jsonl": (metrics + '[{"timestamp": 17957055').encode()},
        drop=("data/probe/t1.offline-7b7cae3d6732458381e26de1e999de5e/metrics/samples/img/samples_img_00000000.jpeg",
              "data/probe/t1.offline-7b7cae3d6732458381e26de1e999de5e/artifacts/summary/summary.json"))
    report = run_import("clearml", str(zip_path))
    [run] = report.runs
    assert run.action == "created"
    missing = "\n".join(run.missing)
    assert "script section" in missing and "debug sample samples/img iteration 19" in missing
    assert "artifact summary" in missing and "metrics.jsonl: line 2 is not valid JSON" in missing
    d = experiment_detail(EXPERIMENT_ID)
    assert d["execution"]["repository"] == "" and d["artifacts"] == []
    assert d["hyperparameters"]["Args"]["epochs"]["value"] == "20"
    assert len(read_series(EXPERIMENT_ID, "accuracy", "val")) == 20  # the complete line still came in
    assert any("missing: script section" in line for line in report.details())


@pytest.mark.parametrize("task_text", ["", '{"id": "offline-7b7cae3d6732458381e26de1e999de5e", "name": "t1", "hyp'],
                         ids=["empty", "cut-short"])
def test_an_empty_or_partial_task_json_still_imports_the_outputs(db, tmp_path, task_text):
    folder = copy_session(tmp_path, with_zip=False)
    (folder / "task.json").write_text(task_text)
    report = run_import("clearml", str(folder))
    [run] = report.runs
    assert run.action == "created" and any("task.json" in m for m in run.missing)
    exp = Experiment.get_by_id(EXPERIMENT_ID)  # the id comes from the folder's name
    assert exp.name == SESSION_ID
    assert len(read_series(EXPERIMENT_ID, "loss", "val")) == 20
    assert details.console_line_count(EXPERIMENT_ID) > 0


def test_the_folders_task_json_stands_in_for_an_empty_one_in_the_zip(db, tmp_path):
    folder = copy_session(tmp_path, with_zip=False)
    _zip_folder(folder, folder.with_name(SESSION_ID + ".zip"), replace={"task.json": b""})
    report = run_import("clearml", str(folder.with_name(SESSION_ID + ".zip")))
    [run] = report.runs
    assert not run.missing and any("folder's was used" in n for n in run.notes)
    assert Experiment.get_by_id(EXPERIMENT_ID).name == "t1"


def test_a_folder_of_sessions_imports_each_once_preferring_the_zip(db, tmp_path):
    copy_session(tmp_path, with_zip=True)
    other = copy_session(tmp_path, with_zip=False, name="offline-" + "a" * 32)
    task = json.loads((other / "task.json").read_text())
    task["id"], task["name"] = "offline-" + "a" * 32, "second"
    (other / "task.json").write_text(json.dumps(task))
    report = run_import("clearml", str(tmp_path / "sessions"), project="imported/clearml")
    assert sorted((r.name, r.action) for r in report.runs) == [("second", "created"), ("t1", "created")]
    statuses = {e.name: e.status for e in Experiment.select()}
    assert statuses == {"t1": st.COMPLETED, "second": st.ABORTED}
    assert {experiment_detail(e.id)["project"] for e in Experiment.select()} == {"imported/clearml"}


def test_a_session_zip_with_an_escaping_member_is_refused_and_the_rest_imports(db, tmp_path):
    copy_session(tmp_path, with_zip=True)
    evil = tmp_path / "sessions" / ("offline-" + "b" * 32 + ".zip")
    with zipfile.ZipFile(evil, "w") as archive:
        archive.writestr("task.json", "{}")
        archive.writestr("../../escaped.txt", "x")
    report = run_import("clearml", str(tmp_path / "sessions"))
    assert [r.name for r in report.runs] == ["t1"]
    assert report.problems and "outside the session folder" in report.problems[0]
    assert not (tmp_path / "escaped.txt").exists() and not list(tmp_path.rglob("escaped.txt"))


def test_not_a_session(db, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="no ClearML offline session in"):
        run_import("clearml", str(tmp_path / "empty"))
    with pytest.raises(SourceError, match="no ClearML offline session at"):
        run_import("clearml", str(tmp_path / "nowhere"))
    assert not Experiment.select().exists()


def test_the_shipped_folder_and_zip_are_one_session(db):
    report = run_import("clearml", str(SESSION_DIR))
    assert [r.action for r in report.runs] == ["created"]
    assert Experiment.get_by_id(EXPERIMENT_ID).status == st.COMPLETED  # its zip lies beside it
