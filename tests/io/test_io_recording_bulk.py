"""recording.create_experiments (the importers' bulk path) writes what the one-by-one path writes."""
from __future__ import annotations

import numpy as np
import pytest

from exptable_desktop.core import states as st
from exptable_desktop.core.queries import experiment_detail
from exptable_desktop.core.recording import create_experiments, record_batch
from exptable_desktop.store.schema import MetricSummary, ScalarChunk
from exptable_desktop.store.series import CHUNK_POINTS, append_scalars, read_series
from exptable_desktop.store.db import run_write


def _series(n: int, seed: int):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(n)
    values[3] = np.nan
    return np.arange(n, dtype=np.int64) * 2, values, 1_790_000_000.0 + np.arange(n, dtype=np.float64)


def _rows(model, exp_id):
    fields = [f for f in model._meta.sorted_fields if f.name not in ("id", "experiment")]
    return sorted((tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                   for row in model.select(*fields).where(model.experiment == exp_id).tuples()), key=repr)


@pytest.mark.both_backends
def test_bulk_series_equal_the_appended_ones_and_grow_the_same_way(db):
    grouped = {("loss", "train"): _series(CHUNK_POINTS + 10, 1), ("acc", "val"): _series(7, 2)}
    bulk_id, single_id = "a" * 32, "b" * 32
    create_experiments([{"id": bulk_id, "project": "p/q", "name": "bulk", "status": st.COMPLETED,
                         "scalars": grouped, "tags": ["x", "x", "y"], "started": 5.0, "last_update": 9.0,
                         "parameters": {"Args": {"lr": {"value": 0.1}}},
                         "configuration": {"c": {"value": "{}", "content_type": "json"}},
                         "execution": {"repository": "https://u:secret@example.com/r.git", "commit": "abc"}}])
    create_experiments([{"id": single_id, "project": "p/q", "name": "single", "status": st.COMPLETED}])
    run_write(lambda: append_scalars(single_id, grouped))
    for model in (ScalarChunk, MetricSummary):
        assert _rows(model, bulk_id) == _rows(model, single_id)
    more = {("loss", "train"): (np.array([10**6]), np.array([-1.0]), np.array([1.0]))}
    for exp_id in (bulk_id, single_id):
        record_batch(exp_id, scalars=more, at=12.0)
    for model in (ScalarChunk, MetricSummary):
        assert _rows(model, bulk_id) == _rows(model, single_id)
    assert len(read_series(bulk_id, "loss", "train")) == CHUNK_POINTS + 11
    detail = experiment_detail(bulk_id)
    assert detail["tags"] == ["x", "y"] and detail["project"] == "p/q" and detail["last_iteration"] == 10**6
    assert detail["last_update"] == 12.0 and detail["started"] == 5.0 and detail["status"] == st.COMPLETED
    assert detail["hyperparameters"]["Args"]["lr"]["value"] == "0.1"
    assert detail["execution"]["repository"] == "https://example.com/r.git"  # no credentials kept


def test_bulk_creation_checks_before_writing(db):
    with pytest.raises(ValueError, match="unknown task type"):
        create_experiments([{"id": "c" * 32, "project": "p", "name": "n", "type": "nope"}])
    with pytest.raises(ValueError, match="unknown status"):
        create_experiments([{"id": "c" * 32, "project": "p", "name": "n", "status": "nope"}])
    with pytest.raises(ValueError, match="unknown execution fields: bogus"):
        create_experiments([{"id": "c" * 32, "project": "p", "name": "n", "execution": {"bogus": 1}}])
    assert create_experiments([]) == []
