"""What Reset and Delete remove (rows counted, files checked) and what Clone copies."""
from __future__ import annotations

import time

import pytest

from exptable_desktop.core import actions, editing, recording
from exptable_desktop.core import states as st
from exptable_desktop.core.projects import find_project
from exptable_desktop.core.queries import tags_of
from exptable_desktop.store import files as store_files
from exptable_desktop.store.schema import (
    Artifact,
    ConfigObject,
    DeletedExperiment,
    Execution,
    Experiment,
    HyperParam,
    QueueEntry,
    Tag,
    Worker,
)
from foundation_support import make_experiment, owned_counts, row_of, snapshot, write_row

# What one experiment made by make_experiment(configured=True, outputs=..., outside=...) owns.
CONFIGURED = {"HyperParam": 4, "ConfigObject": 1, "ExperimentTag": 1, "Execution": 1, "Artifact.input": 1}
OUTPUTS = {"MetricSummary": 2, "ScalarChunk": 2, "SingleValue": 1, "Plot": 1, "DebugSample": 3,
           "ConsoleChunk": 2, "Artifact.output": 3}
FULL = {**CONFIGURED, **OUTPUTS, "QueueEntry": 0, "Experiment": 1}
NOTHING = {key: 0 for key in FULL}


def _files_of(exp_id):
    """(files under our storage root, files outside it) the experiment's rows point at."""
    folder = store_files.experiment_folder(exp_id)
    inside = sorted(p for p in folder.rglob("*") if p.is_file())
    return inside


@pytest.fixture
def outside(tmp_path):
    return tmp_path / "elsewhere"


def full_experiment(state, outside, **kw):
    return make_experiment(state, configured=True, outputs=store_files.storage_root(), outside=outside, **kw)


@pytest.mark.both_backends
@pytest.mark.parametrize("delete_files", [True, False], ids=["delete_files", "keep_files"])
@pytest.mark.parametrize("state", ["queued_from_stopped", "in_progress", "completed", "stopped", "failed"])
def test_reset_clears_outputs_and_keeps_configuration(db, outside, state, delete_files):
    exp_id = full_experiment(state, outside)
    bystander = full_experiment("completed", outside)
    expected_before = {**FULL, "QueueEntry": 1 if state.startswith("queued") else 0}
    assert owned_counts(exp_id) == expected_before
    folder = store_files.experiment_folder(exp_id)
    input_file = folder / "inputs" / "data.csv"
    output_files = [folder / "debug" / "img_0001.png", folder / "models" / "model.bin"]
    foreign = sorted(outside.glob(f"{exp_id}_*"))
    assert len(foreign) == 2 and all(p.exists() for p in output_files + [input_file])
    bystander_counts, bystander_files = owned_counts(bystander), _files_of(bystander)

    result = actions.reset([exp_id], delete_files=delete_files)

    assert result.succeeded == [exp_id]
    assert owned_counts(exp_id) == {**CONFIGURED, **{k: 0 for k in OUTPUTS}, "QueueEntry": 0, "Experiment": 1}
    row = row_of(exp_id)
    assert row["status"] == st.DRAFT
    assert (row["last_iteration"], row["progress"], row["started"], row["completed"], row["queue"],
            row["run_time"], row["heartbeat"]) == (None,) * 7
    assert [p.exists() for p in output_files] == [not delete_files] * 2
    assert input_file.exists(), "input artifacts are kept by Reset"
    assert all(p.exists() for p in foreign), "files outside our storage are never touched"
    assert owned_counts(bystander) == bystander_counts and _files_of(bystander) == bystander_files
    assert all(p.exists() for p in bystander_files)
    # The reset experiment is a Draft again: editable and runnable.
    editing.require(editing.set_hyperparams([exp_id], "Args", {"lr": 0.2}))
    recording.record_batch(exp_id, scalars=[("loss", "train", 0, 1.0, time.time())])
    assert owned_counts(exp_id)["ScalarChunk"] == 1


@pytest.mark.both_backends
@pytest.mark.parametrize("delete_files", [True, False], ids=["delete_files", "keep_files"])
def test_delete_removes_everything_it_owns(db, outside, delete_files):
    exp_id = full_experiment("completed", outside)
    bystander = full_experiment("completed", outside)
    child = actions.clone([exp_id], set_parent=True).created[exp_id]
    worker = Worker.create(name="w1", started=time.time(), last_seen=time.time(), current_experiment=exp_id)
    actions.archive([exp_id])
    folder = store_files.experiment_folder(exp_id)
    own_files = _files_of(exp_id)
    assert len(own_files) == 3  # input data, debug sample, model
    foreign = sorted(outside.glob(f"{exp_id}_*"))
    bystander_counts, bystander_files = owned_counts(bystander), _files_of(bystander)
    tags_before = Tag.select().count()
    write_row(child, last_update=1000.0)

    started = time.time()
    result = actions.delete([exp_id], delete_files=delete_files)

    assert result.succeeded == [exp_id]
    assert owned_counts(exp_id) == NOTHING
    stone = DeletedExperiment.get(DeletedExperiment.experiment_id == exp_id)
    assert stone.deleted_at >= started
    assert folder.exists() is not delete_files
    assert [p.exists() for p in own_files] == [not delete_files] * 3
    assert all(p.exists() for p in foreign), "files outside our storage are never touched"
    assert owned_counts(bystander) == bystander_counts
    assert all(p.exists() for p in bystander_files)
    assert Tag.select().count() == tags_before, "tags are shared; only the links go"
    assert row_of(child)["parent"] is None and row_of(child)["last_update"] >= started
    assert Worker.get_by_id(worker.name).current_experiment_id is None


@pytest.mark.both_backends
def test_delete_of_a_queued_archived_experiment_removes_its_queue_entry(db):
    exp_id = make_experiment("queued", archived=True)
    assert owned_counts(exp_id)["QueueEntry"] == 1
    assert actions.delete([exp_id]).succeeded == [exp_id]
    assert QueueEntry.select().count() == 0


@pytest.mark.both_backends
def test_refused_delete_and_reset_change_nothing(db, outside):
    active = full_experiment("completed", outside)
    published = full_experiment("published", outside, archived=True)
    before, files = snapshot(), _files_of(active) + _files_of(published)
    assert actions.delete([active]).skipped == {active: "Only archived experiments can be deleted"}
    assert "Published" in actions.reset([published]).skipped[published]
    assert snapshot() == before
    assert all(p.exists() for p in files)


# ---- Clone ----------------------------------------------------------------------------------

def _config_rows(exp_id):
    return {
        "execution": {k: v for k, v in Execution.select().where(Execution.experiment == exp_id).dicts().get().items()
                      if k != "experiment"},
        "params": sorted(HyperParam.select(HyperParam.section, HyperParam.name, HyperParam.value, HyperParam.type,
                                           HyperParam.description, HyperParam.default)
                         .where(HyperParam.experiment == exp_id).tuples()),
        "configs": sorted(ConfigObject.select(ConfigObject.name, ConfigObject.value, ConfigObject.description,
                                              ConfigObject.content_type)
                          .where(ConfigObject.experiment == exp_id).tuples()),
        "inputs": sorted(Artifact.select(Artifact.name, Artifact.kind, Artifact.uri)
                         .where((Artifact.experiment == exp_id) & (Artifact.mode == "input")).tuples()),
        "tags": tags_of([exp_id])[exp_id],
    }


@pytest.mark.both_backends
@pytest.mark.parametrize("state", ["created", "queued", "in_progress", "completed", "failed", "published"])
def test_clone_copies_configuration_not_outputs(db, outside, state):
    original = full_experiment(state, outside, archived=state == "published")
    actions.add_tags([original], ["extra"])
    before = snapshot()
    result = actions.clone([original])
    new_id = result.created[original]
    assert result.succeeded == [original]
    assert _config_rows(new_id) == _config_rows(original)
    assert _config_rows(new_id)["params"], "the fixture must have something to copy"
    assert owned_counts(new_id) == {**CONFIGURED, **{k: 0 for k in OUTPUTS}, "ExperimentTag": 2,
                                    "QueueEntry": 0, "Experiment": 1}
    new = row_of(new_id)
    orig = row_of(original)
    assert new["name"] == f"Clone Of {orig['name']}"
    assert (new["status"], new["archived"], new["project"], new["type"]) == (st.DRAFT, False, orig["project"],
                                                                              orig["type"])
    assert (new["parent"], new["user"], new["queue"], new["enqueue_status"]) == (None, "tester", None, None)
    assert (new["started"], new["completed"], new["last_iteration"], new["progress"]) == (None,) * 4
    assert original in new["description"]
    # The clone is a Draft: its configuration can be edited, without touching the original.
    editing.require(editing.set_hyperparams([new_id], "Args", {"lr": 1}))
    editing.require(editing.update_execution([new_id], branch="other"))
    after = snapshot()
    for table in ("Experiment", "Execution", "HyperParam"):
        assert set(before[table]) <= set(after[table]), "the original's rows are untouched"


@pytest.mark.both_backends
def test_clone_parent_project_and_name_options(db):
    root = make_experiment("completed", name="root")
    child = make_experiment("completed", name="child", parent=root)
    one = actions.clone([root], set_parent=True, name="My copy", description="d",
                        project="Clones/Deep/Path").created[root]
    assert row_of(one)["parent"] == root, "an original without a parent becomes the parent"
    assert (row_of(one)["name"], row_of(one)["description"]) == ("My copy", "d")
    assert row_of(one)["project"] == find_project("Clones/Deep/Path").id
    two = actions.clone([child], set_parent=True).created[child]
    assert row_of(two)["parent"] == root, "an original with a parent passes its parent on"
    both = actions.clone([root, child], name="ignored for many", project=find_project("Clones").id)
    names = sorted(row_of(i)["name"] for i in both.created.values())
    assert names == ["Clone Of child", "Clone Of root"]
    assert {row_of(i)["project"] for i in both.created.values()} == {find_project("Clones").id}
    assert {row_of(i)["parent"] for i in both.created.values()} == {None}
    assert both.summary() == "2 of 2 experiments cloned"


@pytest.mark.both_backends
def test_deleting_a_clone_keeps_the_originals_input_files(db):
    original = make_experiment("completed", configured=True)
    data = store_files.experiment_folder(original) / "inputs" / "data.csv"
    copy = actions.clone([original]).created[original]
    actions.archive([copy])
    actions.delete([copy], delete_files=True)
    assert data.exists()
    assert owned_counts(original)["Artifact.input"] == 1


@pytest.mark.both_backends
def test_move_creates_the_project_path(db):
    ids = [make_experiment("completed") for _ in range(3)]
    assert find_project("New/Place") is None
    result = actions.move(ids, "New/Place")
    assert result.summary() == "3 of 3 experiments moved"
    target = find_project("New/Place").id
    assert {row_of(i)["project"] for i in ids} == {target}
    assert Experiment.select().where(Experiment.project == target).count() == 3


@pytest.mark.both_backends
def test_move_target_by_id_or_by_a_numeric_name(db):
    exp_id = make_experiment("completed")
    home = row_of(exp_id)["project"]
    actions.move([exp_id], "2024")
    year = find_project("2024")
    assert year is not None and row_of(exp_id)["project"] == year.id
    actions.move([exp_id], str(home))
    assert row_of(exp_id)["project"] == home
    actions.move([exp_id], year.id)
    assert row_of(exp_id)["project"] == year.id
    with pytest.raises(actions.ActionError, match="no project with id 999999"):
        actions.move([exp_id], 999999)
