"""``store.bulk_write``: many new rows in one statement (SQLite) or one COPY (PostgreSQL), each value
read back as it was given, whatever its characters."""
from __future__ import annotations

import numpy as np
import pytest

from exptable_desktop.core.projects import get_or_create_project
from exptable_desktop.store.bulk_write import insert_dicts, insert_rows, set_experiment_parents
from exptable_desktop.store.db import write_transaction
from exptable_desktop.store.schema import ConsoleChunk, Experiment, ScalarChunk
from exptable_desktop.store.series import new_series_rows, read_series

AWKWARD_TEXT = "tab\there\nnew line\r\\N back\\slash 'quote' \"double\" ü 😀"


def _experiments(*ids: str) -> None:
    project = get_or_create_project("bulk")
    rows = [(exp_id, f"run {exp_id}", "training", "completed", project.id, "tester", 1.0, 2.0, 2.0, None)
            for exp_id in ids]
    insert_rows(Experiment, ("id", "name", "type", "status", "project", "user", "created", "last_update",
                             "status_changed", "completed"), rows)


@pytest.mark.both_backends
def test_rows_come_back_as_given(db):
    with write_transaction():
        _experiments("a" * 32, "b" * 32)
        count = insert_rows(ConsoleChunk, ("experiment", "seq", "first_line", "line_count", "level", "timestamp",
                                           "text"),
                            [("a" * 32, 0, 0, 2, "info", 1.5, AWKWARD_TEXT), ("a" * 32, 1, 2, 1, "error", 2.0, "")])
        set_experiment_parents([("a" * 32, "b" * 32)])
    assert count == 2
    chunks = list(ConsoleChunk.select().order_by(ConsoleChunk.seq))
    assert [(c.seq, c.level, c.timestamp, c.text) for c in chunks] == [(0, "info", 1.5, AWKWARD_TEXT),
                                                                      (1, "error", 2.0, "")]
    child = Experiment.get_by_id("b" * 32)
    assert child.parent_id == "a" * 32 and child.completed is None
    assert child.archived is False  # a default the rows did not name


@pytest.mark.both_backends
def test_series_rows_of_many_chunks_round_trip(db):
    """Packed series (bytes; hex on the COPY path) longer than one chunk and than the COPY buffer."""
    iterations = np.arange(10_000, dtype=np.int64) * 3
    values = np.sin(iterations / 100.0)
    values[17] = np.nan
    stamps = 1_700_000_000.0 + iterations
    chunks, summaries, top = new_series_rows("a" * 32, {("loss", "train"): (iterations, values, stamps)})
    assert len(chunks) == 3 and top == iterations[-1]
    with write_transaction():
        _experiments("a" * 32)
        insert_dicts(ScalarChunk, chunks)
    stored = read_series("a" * 32, "loss", "train")
    assert np.array_equal(stored.iterations, iterations)
    assert np.array_equal(stored.values, values, equal_nan=True)
    assert np.array_equal(stored.timestamps, stamps)


def test_an_unknown_field_is_one_clear_error(db):
    with pytest.raises(ValueError, match="ConsoleChunk has no field colour"):
        insert_rows(ConsoleChunk, ("experiment", "colour"), [("a" * 32, "red")])
