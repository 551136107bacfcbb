"""Read-only rules, enforced in core for every caller (feature inventory 1.1, 2.3 item 10, 6.2).

Execution, hyperparameters and configuration objects change only in Draft;
user properties in any state but Published; outputs are never added to a
Published experiment; name, description and tags change in any state.
"""
from __future__ import annotations

import time

import pytest

from exptable_desktop.core import actions, editing, recording
from exptable_desktop.core import states as st
from exptable_desktop.core.queries import tags_of
from exptable_desktop.store.schema import (
    Artifact,
    ConfigObject,
    ConsoleChunk,
    DebugSample,
    Execution,
    Experiment,
    HyperParam,
    MetricSummary,
    Plot,
    ScalarChunk,
    SingleValue,
)
from foundation_support import make_experiment, row_of, snapshot

# One representative way into each status.
STATUS_STATES = ("created", "queued", "in_progress", "completed", "closed", "stopped", "failed",
                 "publishing", "published")

# Which statuses each kind of edit is allowed in, written out (not taken from states.py).
DRAFT_ONLY = {"created"}
NOT_PUBLISHED = set(STATUS_STATES) - {"publishing", "published"}
ANY = set(STATUS_STATES)


def _params(exp_id, section):
    return {n: v for n, v in HyperParam.select(HyperParam.name, HyperParam.value)
            .where((HyperParam.experiment == exp_id) & (HyperParam.section == section)).tuples()}


def _configs(exp_id):
    return dict(ConfigObject.select(ConfigObject.name, ConfigObject.value)
                .where(ConfigObject.experiment == exp_id).tuples())


# name -> (allowed states, the edit, how to see it took effect)
EDITS = {
    "update_execution": (DRAFT_ONLY, lambda i: editing.update_execution([i], branch="feature", diff="+x"),
                         lambda i: Execution.get_by_id(i).branch == "feature"),
    "set_hyperparams": (DRAFT_ONLY, lambda i: editing.set_hyperparams([i], "Args", {"lr": 0.5, "new": 1}),
                        lambda i: _params(i, "Args") == {"lr": "0.5", "batch_size": "32", "new": "1"}),
    "delete_hyperparams": (DRAFT_ONLY, lambda i: editing.delete_hyperparams([i], "Args", ["lr"]),
                           lambda i: _params(i, "Args") == {"batch_size": "32"}),
    "delete_section": (DRAFT_ONLY, lambda i: editing.delete_hyperparams([i], "General"),
                       lambda i: _params(i, "General") == {}),
    "set_configuration": (DRAFT_ONLY, lambda i: editing.set_configuration([i], "config.yaml", "lr: 0.5\n"),
                          lambda i: _configs(i) == {"config.yaml": "lr: 0.5\n"}),
    "add_configuration": (DRAFT_ONLY, lambda i: editing.set_configuration([i], "extra", "{}", content_type="json"),
                          lambda i: _configs(i) == {"config.yaml": "lr: 0.1\n", "extra": "{}"}),
    "delete_configuration": (DRAFT_ONLY, lambda i: editing.delete_configuration([i], "config.yaml"),
                             lambda i: _configs(i) == {}),
    "set_user_properties": (NOT_PUBLISHED, lambda i: editing.set_user_properties([i], {"owner": "bo", "x": 1}),
                            lambda i: _params(i, "properties") == {"owner": "bo", "x": "1"}),
    "properties_via_set_hyperparams": (NOT_PUBLISHED,
                                       lambda i: editing.set_hyperparams([i], "properties", {"owner": "cy"}),
                                       lambda i: _params(i, "properties") == {"owner": "cy"}),
    "delete_user_properties": (NOT_PUBLISHED, lambda i: editing.delete_user_properties([i], ["owner"]),
                               lambda i: _params(i, "properties") == {}),
    "rename": (ANY, lambda i: actions.rename([i], "New name"), lambda i: row_of(i)["name"] == "New name"),
    "set_description": (ANY, lambda i: actions.set_description([i], "why"),
                        lambda i: row_of(i)["description"] == "why"),
    "add_tags": (ANY, lambda i: actions.add_tags([i], ["best"]), lambda i: tags_of([i])[i] == ["base", "best"]),
    "remove_tags": (ANY, lambda i: actions.remove_tags([i], ["base"]), lambda i: tags_of([i])[i] == []),
}


def experiment_rows(exp_id):
    """Everything stored about one experiment (its row and every row it owns)."""
    out = {"Experiment": row_of(exp_id)}
    for model in (HyperParam, ConfigObject, Execution, Artifact, MetricSummary, ScalarChunk, SingleValue,
                  Plot, DebugSample, ConsoleChunk):
        out[model.__name__] = sorted((tuple(r) for r in model.select().where(model.experiment == exp_id)
                                      .tuples()), key=repr)
    return out


@pytest.mark.both_backends
@pytest.mark.parametrize("state", STATUS_STATES)
@pytest.mark.parametrize("edit", list(EDITS))
def test_edit_in_each_status(sdb, edit, state):
    allowed, apply, took_effect = EDITS[edit]
    exp_id = make_experiment(state, configured=True)
    Experiment.update(last_update=1000.0).where(Experiment.id == exp_id).execute()
    before = experiment_rows(exp_id)
    result = apply(exp_id)
    if state in allowed:
        assert result.succeeded == [exp_id] and not result.skipped
        assert took_effect(exp_id)
        assert row_of(exp_id)["last_update"] > time.time() - 60
        assert row_of(exp_id)["status"] == before["Experiment"]["status"]
    else:
        assert result.succeeded == []
        label = st.status_label(row_of(exp_id)["status"])
        assert label in result.skipped[exp_id]
        assert experiment_rows(exp_id) == before, "a refused edit changes nothing, not even last_update"
        with pytest.raises(editing.ReadOnlyError, match=label):
            editing.require(apply(exp_id))


@pytest.mark.both_backends
def test_edits_in_a_mixed_batch_touch_only_the_editable(sdb):
    draft, done, published = (make_experiment(s, configured=True) for s in ("created", "completed", "published"))
    kept = {i: experiment_rows(i) for i in (done, published)}
    result = editing.set_hyperparams([draft, done, published, "missing"], "Args", {"lr": 9})
    assert result.succeeded == [draft]
    assert set(result.skipped) == {done, published, "missing"}
    assert result.skipped["missing"] == "No such experiment"
    assert _params(draft, "Args")["lr"] == "9"
    assert {i: experiment_rows(i) for i in (done, published)} == kept
    props = editing.set_user_properties([draft, done, published], {"stage": "review"})
    assert props.succeeded == [draft, done] and list(props.skipped) == [published]


@pytest.mark.both_backends
def test_set_configuration_keeps_description_and_type_unless_given(sdb):
    exp_id = make_experiment("created")
    editing.require(editing.set_configuration([exp_id], "cfg", "a: 1", description="main", content_type="yaml"))
    editing.require(editing.set_configuration([exp_id], "cfg", "a: 2"))
    row = ConfigObject.get((ConfigObject.experiment == exp_id) & (ConfigObject.name == "cfg"))
    assert (row.value, row.description, row.content_type) == ("a: 2", "main", "yaml")
    editing.require(editing.set_configuration([exp_id], "cfg", "{}", description="", content_type="json"))
    row = ConfigObject.get_by_id(row.id)
    assert (row.value, row.description, row.content_type) == ("{}", "", "json")


@pytest.mark.both_backends
def test_update_execution_creates_the_row_when_missing(sdb):
    exp_id = make_experiment("created")
    Execution.delete().where(Execution.experiment == exp_id).execute()
    editing.require(editing.update_execution([exp_id], entry_point="main.py"))
    assert Execution.get_by_id(exp_id).entry_point == "main.py"
    with pytest.raises(ValueError, match="unknown execution fields: nope"):
        editing.update_execution([exp_id], nope=1)


# ---- Outputs: record_batch ----------------------------------------------------------------

FULL_BATCH = dict(
    scalars=[("loss", "train", 1, 0.5, 1.0)], console=[(1.0, "info", "hello")], single_values={"acc": 1.0},
    plots=[{"metric": "p", "kind": "bar", "data": {"y": [1]}}],
    debug_samples=[{"metric": "img", "iteration": 1, "data": b"x"}],
    artifacts=[{"name": "late", "mode": "output", "uri": "s3://b/k"}], progress=90,
)


@pytest.mark.both_backends
@pytest.mark.parametrize("state", STATUS_STATES)
def test_record_batch_in_each_status(db, state):
    """Outputs are refused by a Published (or publishing) experiment and leave the database as it was."""
    exp_id = make_experiment(state, configured=True)
    before = snapshot()
    if state in ("publishing", "published"):
        with pytest.raises(editing.ReadOnlyError, match="Publish"):
            recording.record_batch(exp_id, **FULL_BATCH)
        assert snapshot() == before
    else:
        written = recording.record_batch(exp_id, **FULL_BATCH)
        assert written["points"] == 1 and written["lines"] == 1
        assert row_of(exp_id)["progress"] == 90


@pytest.mark.both_backends
def test_a_failing_batch_writes_nothing(db):
    """One bad item rolls back the whole batch: scalars written before it are gone too."""
    exp_id = make_experiment("in_progress")
    before = snapshot()
    with pytest.raises(KeyError):
        recording.record_batch(exp_id, scalars=[("loss", "train", 1, 0.5, 1.0)], console=[(1.0, "info", "x")],
                               plots=[{"metric": "no kind", "data": {}}])
    assert snapshot() == before


@pytest.mark.both_backends
def test_record_batch_to_unknown_experiment(db):
    before = snapshot()
    with pytest.raises(recording.UnknownExperiment, match="no experiment with id nope"):
        recording.record_batch("nope", scalars=[("a", "b", 1, 1.0, 1.0)])
    assert snapshot() == before


@pytest.mark.both_backends
def test_published_cannot_change_status(db):
    exp_id = make_experiment("published")
    before = row_of(exp_id)
    for status in st.ALL_STATUSES:
        if status != st.PUBLISHED:
            assert recording.set_status(exp_id, status) is False
    assert row_of(exp_id) == before


# What a running script reports about itself (SDK): refused by a Published experiment too.
SCRIPT_REPORTS = {
    "record_parameters": lambda i: recording.record_parameters(i, "Args", {"lr": {"value": 3}}),
    "record_configuration": lambda i: recording.record_configuration(i, "config.yaml", "changed"),
    "record_execution": lambda i: recording.record_execution(i, commit="f00"),
    "record_batch": lambda i: recording.record_batch(i, **FULL_BATCH),
}


@pytest.mark.both_backends
@pytest.mark.parametrize("state", ["publishing", "published"])
@pytest.mark.parametrize("report", list(SCRIPT_REPORTS))
def test_script_reports_to_a_published_experiment_are_refused(sdb, report, state):
    exp_id = make_experiment(state, configured=True)
    before = experiment_rows(exp_id)
    with pytest.raises(editing.ReadOnlyError, match="read-only"):
        SCRIPT_REPORTS[report](exp_id)
    assert experiment_rows(exp_id) == before


CONFIGURATION_REPORTS = [k for k in SCRIPT_REPORTS if k != "record_batch"]


@pytest.mark.both_backends
@pytest.mark.parametrize("state", ["completed", "stopped", "failed"])
@pytest.mark.parametrize("report", CONFIGURATION_REPORTS)
def test_configuration_reports_after_a_run_ended_are_refused(sdb, report, state):
    exp_id = make_experiment(state, configured=True)
    before = experiment_rows(exp_id)
    with pytest.raises(editing.ReadOnlyError, match="can no longer change"):
        SCRIPT_REPORTS[report](exp_id)
    assert experiment_rows(exp_id) == before


@pytest.mark.both_backends
@pytest.mark.parametrize("state", ["created", "in_progress"])
@pytest.mark.parametrize("report", CONFIGURATION_REPORTS)
def test_configuration_reports_while_live_are_recorded(sdb, report, state):
    exp_id = make_experiment(state, configured=True)
    before = experiment_rows(exp_id)
    SCRIPT_REPORTS[report](exp_id)
    assert experiment_rows(exp_id) != before


@pytest.mark.both_backends
def test_runtime_of_a_published_experiment_is_read_only(sdb):
    exp_id = make_experiment("published")
    before = experiment_rows(exp_id)
    with pytest.raises(editing.ReadOnlyError, match="read-only"):
        recording.set_runtime(exp_id, {"host": "elsewhere"})
    assert experiment_rows(exp_id) == before
