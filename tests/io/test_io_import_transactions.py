"""Imports are transactions: cancelled ones leave nothing, one bad run does not sink the others."""
from __future__ import annotations

import json

import pytest

from exptable_desktop.core import actions
from exptable_desktop.core import states as st
from exptable_desktop.io.importers import run_import
from exptable_desktop.io.importers.common import ImportCancelled
from exptable_desktop.store.schema import Experiment

from io_support import EXPERIMENT_ID, copy_session, files_under, raw_snapshot

OTHER = "offline-" + "c" * 32


def _two_sessions(tmp_path, *, other_project: str = "second"):
    copy_session(tmp_path, with_zip=True)
    other = copy_session(tmp_path, with_zip=False, name=OTHER)
    task = json.loads((other / "task.json").read_text())
    task.update(id=OTHER, name="other", project_name=other_project)
    (other / "task.json").write_text(json.dumps(task))
    return tmp_path / "sessions"


@pytest.mark.both_backends
def test_a_cancelled_import_keeps_nothing_rows_or_files(db, tmp_path):
    sessions = _two_sessions(tmp_path)
    before, files = raw_snapshot(), files_under(tmp_path / "files")
    seen = []
    with pytest.raises(ImportCancelled, match="nothing was imported"):
        run_import("clearml", str(sessions), on_progress=lambda done, total, name: seen.append(name) or done < 2)
    assert len(seen) == 2  # the first run was written (files copied) before the cancel
    assert raw_snapshot() == before
    assert files_under(tmp_path / "files") == files


def test_one_run_the_database_refuses_is_reported_and_the_others_go_in(db, tmp_path):
    sessions = _two_sessions(tmp_path, other_project="/")  # no project name at all
    report = run_import("clearml", str(sessions))
    outcomes = {r.name: r for r in report.runs}
    assert outcomes["t1"].action == "created"
    assert outcomes["other"].action == "failed" and "project needs a name" in outcomes["other"].error
    assert report.failed and any(line.startswith("failed") for line in report.details())
    assert [e.name for e in Experiment.select()] == ["t1"]
    other_folder = tmp_path / "files" / "cc" / ("c" * 32)
    assert not other_folder.exists()  # its copied files went with its rows


def test_a_published_experiment_is_not_changed_by_a_re_import(db, tmp_path):
    folder = copy_session(tmp_path, with_zip=False)
    run_import("clearml", str(folder))
    assert actions.publish([EXPERIMENT_ID]).succeeded == [EXPERIMENT_ID]
    before = raw_snapshot()
    assert [r.action for r in run_import("clearml", str(folder)).runs] == ["unchanged"]
    with open(folder / "log.jsonl", "a") as handle:  # the session grew meanwhile
        handle.write(json.dumps([{"timestamp": 1795705569000, "type": "log", "level": "info", "msg": "late"}]) + "\n")
    [outcome] = run_import("clearml", str(folder)).runs
    assert outcome.action == "skipped" and "read-only" in outcome.error
    assert raw_snapshot() == before
    assert Experiment.get_by_id(EXPERIMENT_ID).status == st.PUBLISHED
