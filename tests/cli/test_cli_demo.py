"""What ``exptable demo`` puts in a database: every type and status but Running, nested projects,
hyperparameters, summaries that agree with their curves, plots, images and files."""
from __future__ import annotations

import json
import math
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from peewee import fn

from cli_support import DEMO_EXPERIMENTS
from exptable_desktop.core import states as st
from exptable_desktop.core.projects import project_paths
from exptable_desktop.io.demo import DemoError, make_demo
from exptable_desktop.store import close_database, open_database
from exptable_desktop.store.schema import (
    Artifact,
    ConfigObject,
    ConsoleChunk,
    DebugSample,
    Execution,
    Experiment,
    ExperimentTag,
    HyperParam,
    MetricSummary,
    Plot,
    Project,
    QueueEntry,
    ScalarChunk,
    SingleValue,
    Tag,
)
from exptable_desktop.store.series import read_series


@pytest.fixture
def demo(demo_db):
    open_database(demo_db)
    yield demo_db
    close_database()


def test_every_type_and_status(demo):
    """Every status but Running: no process beats a sample run's heartbeat (see io.demo)."""
    assert Experiment.select().count() == DEMO_EXPERIMENTS
    types = {t for (t,) in Experiment.select(Experiment.type).tuples()}
    statuses = {s for (s,) in Experiment.select(Experiment.status).tuples()}
    assert types == set(st.TASK_TYPES)
    assert statuses == set(st.ALL_STATUSES) - {st.RUNNING}
    archived = Experiment.select().where(Experiment.archived).count()
    assert 0 < archived < DEMO_EXPERIMENTS * 0.2
    assert not Experiment.select().where(Experiment.archived & (Experiment.status == st.PENDING)).exists()


def test_nested_projects(demo):
    paths = set(project_paths().values())
    assert 10 <= len(paths) <= 20
    assert max(p.count("/") for p in paths) == 3  # four levels
    used = {p for (p,) in Experiment.select(Experiment.project).distinct().tuples()}
    assert len(used) >= 8
    # Every level but the roots has a parent project in the tree.
    assert all(p.rsplit("/", 1)[0] in paths for p in paths if "/" in p)


def test_parents_are_controllers_or_optimizers(demo):
    Parent = Experiment.alias()
    pairs = list(Experiment.select(Experiment.created, Experiment.status, Parent.created, Parent.type, Parent.status,
                                   Parent.started, Parent.completed)
                 .join(Parent, on=(Experiment.parent == Parent.id)).tuples())
    assert len(pairs) >= 5
    assert {parent_type for _, _, _, parent_type, *_ in pairs} <= set(st.PARENT_TYPES)
    # A pipeline's steps were created after it; steps still queued were queued while it ran.
    for created, status, parent_created, _, parent_status, parent_started, parent_completed in pairs:
        assert created >= parent_created
        if status == st.PENDING:
            assert parent_status == st.ABORTED and parent_started <= created <= parent_completed
    # A stopped pipeline with queued steps: "Abort all children" has something to do.
    assert any(status == st.PENDING for _, status, *_ in pairs)


def test_users_tags_and_colours(demo):
    assert len({u for (u,) in Experiment.select(Experiment.user).distinct().tuples()}) >= 4
    tags = list(Tag.select())
    assert len(tags) >= 8 and any(t.background for t in tags) and any(t.background is None for t in tags)
    tagged = ExperimentTag.select(ExperimentTag.experiment).distinct().count()
    assert DEMO_EXPERIMENTS * 0.4 < tagged < DEMO_EXPERIMENTS


def test_hyperparameters_in_three_sections_with_twenty_names(demo):
    names = set(HyperParam.select(HyperParam.section, HyperParam.name).distinct().tuples())
    assert {s for s, _ in names} == {"Args", "General", "properties"}
    assert len(names) == 20
    # Every experiment has some; the learning rate is a number in every training run.
    with_params = HyperParam.select(HyperParam.experiment).distinct().count()
    assert with_params == DEMO_EXPERIMENTS
    for (value,) in (HyperParam.select(HyperParam.value).join(Experiment)
                     .where((HyperParam.name == "learning_rate") & (Experiment.type == "training")).tuples()):
        assert 0 < float(value) < 1


def test_execution_and_configuration(demo):
    assert Execution.select().count() == DEMO_EXPERIMENTS
    assert not Execution.select().where((Execution.repository == "") | (Execution.commit == "")).exists()
    assert Execution.select().where(Execution.diff != "").count() > 0
    assert Execution.select().where(Execution.entry_kind == "module").count() > 0
    configs = list(ConfigObject.select().limit(5))
    assert configs and all("lr:" in c.value for c in configs)


def test_about_twenty_metric_pairs_and_no_outputs_before_running(demo):
    pairs = set(MetricSummary.select(MetricSummary.metric, MetricSummary.variant).distinct().tuples())
    assert 18 <= len(pairs) <= 22
    no_outputs = Experiment.select(Experiment.id).where(Experiment.status.in_([st.DRAFT, st.PENDING]))
    assert not MetricSummary.select().where(MetricSummary.experiment.in_(no_outputs)).exists()
    ran = Experiment.select().where(Experiment.status.not_in([st.DRAFT, st.PENDING])).count()
    with_metrics = MetricSummary.select(MetricSummary.experiment).distinct().count()
    assert with_metrics == ran


def test_curve_summaries_match_their_points(demo):
    series = list(ScalarChunk.select(ScalarChunk.experiment, ScalarChunk.metric, ScalarChunk.variant)
                  .distinct().tuples())
    assert len({e for e, _, _ in series}) >= 150
    lengths = []
    for exp_id, metric, variant in series:
        s = MetricSummary.get((MetricSummary.experiment == exp_id) & (MetricSummary.metric == metric)
                              & (MetricSummary.variant == variant))
        points = read_series(exp_id, metric, variant)
        lengths.append(len(points))
        assert s.count == len(points)
        assert s.last == points.values[-1]
        assert s.first == points.values[0]
        assert s.last_iteration == points.iterations[-1]
        assert s.min == points.values.min() and s.max == points.values.max()
        assert points.iterations[points.values.argmin()] == s.min_iteration
        assert math.isclose(s.total, float(points.values.sum()), rel_tol=1e-9, abs_tol=1e-9)
        assert np.all(np.diff(points.iterations) > 0)
    assert max(lengths) > 10 * min(lengths), "curves of varied length"
    noisy = read_series(*next((e, m, v) for e, m, v in series if (m, v) == ("loss", "train")))
    assert np.any(np.diff(noisy.values) > 0), "a loss curve with noise goes up now and then"


def test_bulk_summaries_are_self_consistent(demo):
    last_iterations = dict(Experiment.select(Experiment.id, Experiment.last_iteration).tuples())
    for s in MetricSummary.select():
        assert s.count >= 1 and s.finite_count == s.count
        assert s.min <= s.first <= s.max and s.min <= s.last <= s.max
        assert s.min <= s.total / s.count <= s.max
        assert 0 <= s.min_iteration <= s.last_iteration and 0 <= s.max_iteration <= s.last_iteration
        assert s.last_iteration <= last_iterations[s.experiment_id]
    top = dict(MetricSummary.select(MetricSummary.experiment, fn.MAX(MetricSummary.last_iteration))
               .group_by(MetricSummary.experiment).tuples())
    assert all(last_iterations[e] == it for e, it in top.items())


def test_times_spread_over_ninety_days(demo):
    now = time.time()
    rows = list(Experiment.select(Experiment.created, Experiment.started, Experiment.completed,
                                  Experiment.last_update, Experiment.status).tuples())
    created = [r[0] for r in rows]
    assert now - min(created) > 60 * 86_400 and now - min(created) < 91 * 86_400
    for created_at, started, completed, last_update, status in rows:
        assert created_at <= last_update <= now
        if started is not None:
            assert created_at <= started
        if completed is not None:
            assert started <= completed <= last_update


def test_pending_experiments_sit_in_queues(demo):
    pending = {e for (e,) in Experiment.select(Experiment.id).where(Experiment.status == st.PENDING).tuples()}
    queued = {e for (e,) in QueueEntry.select(QueueEntry.experiment).tuples()}
    assert pending and pending == queued


def test_outputs_of_detailed_experiments(demo):
    assert SingleValue.select().count() > 0
    lines = ConsoleChunk.select(fn.SUM(ConsoleChunk.line_count)).scalar()
    assert lines > 1000
    assert ConsoleChunk.select().where(ConsoleChunk.level == "error").exists()
    kinds = Counter(kind for (kind,) in Plot.select(Plot.kind).tuples())
    assert set(kinds) == {"line", "scatter", "bar", "histogram", "table", "confusion"}
    for plot in Plot.select().limit(60):
        data = json.loads(plot.data)
        assert data["kind"] == plot.kind
        if plot.kind in ("line", "scatter", "bar", "histogram"):
            assert all(len(s["x"]) == len(s["y"]) > 0 for s in data["series"])
        elif plot.kind == "table":
            assert all(len(row) == len(data["columns"]) for row in data["rows"])
        else:
            assert len(data["matrix"]) == len(data["xlabels"]) == len(data["ylabels"])


def test_debug_samples_and_artifacts_are_real_files(demo):
    samples = list(DebugSample.select())
    assert len(samples) >= 50
    for sample in samples:
        data = Path(sample.path).read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) > 100
    stored = list(Artifact.select().where(Artifact.in_storage))
    assert stored
    for art in stored:
        path = Path(art.uri[len("file://"):])
        assert path.is_file() and path.stat().st_size == art.size
    assert Artifact.select().where((Artifact.kind == "model") & (Artifact.mode == "output")).exists()
    assert Artifact.select().where(Artifact.mode == "input").exists()


# ---- determinism -------------------------------------------------------------------------------------

def _dump() -> dict:
    def rows(model, exclude=()):
        fields = [f for f in model._meta.sorted_fields if f.name not in exclude]
        return sorted(tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                      for row in model.select(*fields).tuples())
    return {
        "experiments": rows(Experiment), "executions": rows(Execution), "params": rows(HyperParam, ("id",)),
        "summaries": rows(MetricSummary, ("id",)), "chunks": rows(ScalarChunk, ("id",)),
        "plots": rows(Plot, ("id",)), "console": rows(ConsoleChunk, ("id",)), "tags": rows(ExperimentTag, ("id",)),
        "artifacts": rows(Artifact, ("id", "uri")), "samples": rows(DebugSample, ("id", "path")),
        "projects": sorted(project_paths().values()),
    }


def _make(tmp_path: Path, name: str, seed: int, monkeypatch) -> dict:
    monkeypatch.setenv("EXPTABLE_FILES", str(tmp_path / f"{name}.files"))
    open_database(f"sqlite:///{tmp_path / name}.db")
    try:
        make_demo(150, seed, detailed=30, images=5, now=1_790_000_000.0)
        return _dump()
    finally:
        close_database()


def test_same_seed_same_data(tmp_path, monkeypatch):
    first = _make(tmp_path, "a", 11, monkeypatch)
    second = _make(tmp_path, "b", 11, monkeypatch)
    assert first == second
    images_a = sorted(p.read_bytes() for p in (tmp_path / "a.files").rglob("*.png"))
    images_b = sorted(p.read_bytes() for p in (tmp_path / "b.files").rglob("*.png"))
    assert images_a and images_a == images_b
    other = _make(tmp_path, "c", 12, monkeypatch)
    assert {r[0] for r in other["experiments"]}.isdisjoint({r[0] for r in first["experiments"]})


def test_demo_adds_to_an_existing_database_once_per_seed(db):
    make_demo(40, 1, detailed=5, images=1)
    make_demo(40, 2, detailed=5, images=1)
    assert Experiment.select().count() == 80
    assert Project.select().count() == len(set(project_paths().values()))
    for n in (10, 40, 200):  # any size: the seed is the same
        with pytest.raises(DemoError, match="already in this database"):
            make_demo(n, 1)
    assert Experiment.select().count() == 80


@pytest.mark.both_backends
def test_demo_on_both_backends(db):
    stats = make_demo(120, 3, detailed=15, images=2)
    assert Experiment.select().count() == 120
    assert stats.metric_summaries == MetricSummary.select().count()
    assert {s for (s,) in Experiment.select(Experiment.status).distinct().tuples()} == set(st.ALL_STATUSES) - {st.RUNNING}
    assert Experiment.select().where(Experiment.parent.is_null(False)).exists()


def test_console_reports_the_experiments_own_metric(demo):
    """A training loss line carries the curve's value; other jobs log their own metric, never a zero loss."""
    import re

    from exptable_desktop.core.recording import read_console

    seen_loss = seen_other = 0
    for (exp_id,) in ConsoleChunk.select(ConsoleChunk.experiment).distinct().tuples():
        metrics = {m for (m,) in MetricSummary.select(MetricSummary.metric)
                   .where(MetricSummary.experiment == exp_id).tuples()}
        for _, text in read_console(exp_id):
            loss = re.search(r" loss=([0-9.]+)", text)
            if loss:
                assert "loss" in metrics and float(loss.group(1)) > 0, text
                seen_loss += 1
            step = re.match(r"step \d+/\d+: (\w+)\.", text)
            if step:
                assert step.group(1) in metrics, text
                seen_other += 1
    assert seen_loss and seen_other
