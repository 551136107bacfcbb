"""The sample data a newcomer's first start adds agrees with itself: every metric summary has the
points behind it (the SCALARS tab shows what the table row summarises), and nothing in it is left
for the stale-run sweep to change the moment the table is first read."""
from __future__ import annotations

import math
import time
from collections import defaultdict

import numpy as np
import pytest

from exptable_desktop import cli
from exptable_desktop.core import liveness
from exptable_desktop.core import states as st
from exptable_desktop.core.projects import mark_sample_data
from exptable_desktop.io.demo import make_demo
from exptable_desktop.store.db import write_transaction
from exptable_desktop.store.schema import Experiment, MetricSummary, ScalarChunk


def _first_start_sample() -> None:
    """What ``exptable gui`` adds to a new default database (``cli.cmd_gui``)."""
    with write_transaction():
        make_demo(cli.GUI_DEMO_EXPERIMENTS, seed=1)
        mark_sample_data()


def _stored_points() -> dict[tuple[str, str, str], tuple[np.ndarray, np.ndarray]]:
    """(experiment, metric, variant) -> (iterations, values), every stored chunk read in one query."""
    parts = defaultdict(lambda: ([], []))
    for exp_id, metric, variant, iterations, values in (
            ScalarChunk.select(ScalarChunk.experiment, ScalarChunk.metric, ScalarChunk.variant,
                               ScalarChunk.iterations, ScalarChunk.values)
            .order_by(ScalarChunk.experiment, ScalarChunk.metric, ScalarChunk.variant, ScalarChunk.seq).tuples()):
        its, vals = parts[(exp_id, metric, variant)]
        its.append(bytes(iterations))
        vals.append(bytes(values))
    return {key: (np.frombuffer(b"".join(its), dtype="<i8"), np.frombuffer(b"".join(vals), dtype="<f8"))
            for key, (its, vals) in parts.items()}


@pytest.mark.slow
@pytest.mark.both_backends
def test_every_summary_of_the_sample_has_its_points_and_agrees_with_them(db):
    _first_start_sample()
    points = _stored_points()
    summaries = list(MetricSummary.select())
    with_summaries = {s.experiment_id for s in summaries}
    ran = {e for (e,) in Experiment.select(Experiment.id).where(
        Experiment.status.not_in([st.DRAFT, st.PENDING])).tuples()}
    assert with_summaries == ran and len(ran) > 200
    missing = [(s.experiment_id, s.metric, s.variant) for s in summaries
               if (s.experiment_id, s.metric, s.variant) not in points]
    assert missing == [], f"{len({e for e, _, _ in missing})} experiments have summaries without points"
    assert len(points) == len(summaries)  # no series without its summary either
    for s in summaries:
        iterations, values = points[(s.experiment_id, s.metric, s.variant)]
        assert s.count == len(values) and s.finite_count == len(values)
        assert (s.first, s.last) == (values[0], values[-1])
        assert (s.min, s.max) == (values.min(), values.max())
        assert s.min_iteration == iterations[values.argmin()] and s.max_iteration == iterations[values.argmax()]
        assert s.last_iteration == iterations[-1]
        assert math.isclose(s.total, float(values.sum()), rel_tol=1e-9)
    # The table's ITERATIONS column is where the longest series ends.
    last_iteration = dict(Experiment.select(Experiment.id, Experiment.last_iteration).tuples())
    ends: dict[str, int] = {}
    for (exp_id, _, _), (iterations, _) in points.items():
        ends[exp_id] = max(ends.get(exp_id, 0), int(iterations[-1]))
    assert {e: last_iteration[e] for e in ends} == ends


@pytest.mark.slow
@pytest.mark.both_backends
def test_no_sample_experiment_changes_status_when_the_table_is_first_read(db, monkeypatch):
    """The table's refresh (and ``exptable ls``) first ends the Running runs nothing beats for; read
    at once or a week later, with the default heartbeat interval, the sample stays as it was made."""
    monkeypatch.delenv(liveness.ENV_HEARTBEAT_INTERVAL, raising=False)
    _first_start_sample()
    before = dict(Experiment.select(Experiment.id, Experiment.status).tuples())
    assert len(before) == cli.GUI_DEMO_EXPERIMENTS
    assert liveness.mark_stale_runs() == []
    assert liveness.mark_stale_runs(now=time.time() + 7 * 86_400) == []
    assert dict(Experiment.select(Experiment.id, Experiment.status).tuples()) == before
