"""Series grow by appending: a flush writes its new points, not the part-full chunk before them,
and the series reads back exactly (issue 14, "Lighter and faster")."""
from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from exptable_desktop.core import details, recording
from exptable_desktop.core import states as st
from exptable_desktop.store import close_database, open_database
from exptable_desktop.store.db import run_write
from exptable_desktop.store.schema import MetricSummary, ScalarChunk
from exptable_desktop.store.series import (
    CHUNK_POINTS,
    MAX_TAIL_ROWS,
    _merge_start,
    append_scalars,
    read_series,
    read_series_from,
)

POINT_BYTES = 24  # int64 iteration, float64 value, float64 timestamp
SERIES = [(f"metric{i // 10}", f"variant{i % 10}") for i in range(100)]


def arrays(first: int, n: int):
    """Points ``first .. first + n - 1`` with values and timestamps that tell them apart."""
    its = np.arange(first, first + n, dtype=np.int64)
    return its, np.sin(its * 0.001) + its, 1.7e9 + its * 0.25


@contextlib.contextmanager
def blob_bytes_sent(db):
    """Counts the bytes of blob parameters the program sends to the database (what it writes)."""
    sent = [0]
    original = db.execute_sql

    def counting(sql, params=None, *args, **kwargs):
        for value in params or ():
            raw = getattr(value, "adapted", value)  # psycopg2.Binary wraps the bytes
            if isinstance(raw, (bytes, bytearray, memoryview)):
                sent[0] += len(raw)
        return original(sql, params, *args, **kwargs)

    db.execute_sql = counting
    try:
        yield sent
    finally:
        db.execute_sql = original


def stored_rows(exp_id, metric="loss", variant="train") -> list[tuple[int, int]]:
    return list(ScalarChunk.select(ScalarChunk.seq, ScalarChunk.count)
                .where((ScalarChunk.experiment == exp_id) & (ScalarChunk.metric == metric)
                       & (ScalarChunk.variant == variant)).order_by(ScalarChunk.seq).tuples())


def assert_layout(exp_id, metric="loss", variant="train") -> None:
    """Rows numbered without gaps; full chunks first, then a tail of at most MAX_TAIL_ROWS rows."""
    rows = stored_rows(exp_id, metric, variant)
    assert [seq for seq, _ in rows] == list(range(len(rows)))
    counts = [count for _, count in rows]
    tail = len(counts)
    while tail > 0 and counts[tail - 1] < CHUNK_POINTS:
        tail -= 1
    assert all(count == CHUNK_POINTS for count in counts[:tail])
    assert len(counts) - tail <= MAX_TAIL_ROWS
    assert sum(counts[tail:]) < CHUNK_POINTS


# ---- What a flush writes ---------------------------------------------------------------------------

@pytest.mark.both_backends
def test_a_flush_writes_in_proportion_to_its_new_points_not_to_the_tails_before_them(db):
    """100 live series, one new point each per flush: what is written is the same whether the
    series' part-full chunks hold 100 points or 3,000 (rewriting them wrote 7 MB a flush)."""
    short = recording.create_experiment("p", "short tails", status=st.RUNNING)
    long = recording.create_experiment("p", "long tails", status=st.RUNNING)
    tails = {short: 100, long: 3000}
    for exp_id, n in tails.items():
        recording.record_batch(exp_id, scalars={key: arrays(0, n) for key in SERIES})
    written = {short: [], long: []}
    for flush in range(20):
        for exp_id, n in tails.items():
            with blob_bytes_sent(db) as sent:
                recording.record_batch(exp_id, scalars={key: arrays(n + flush, 1) for key in SERIES}, live=True)
            written[exp_id].append(sent[0])
    new_bytes = len(SERIES) * POINT_BYTES
    assert written[short] == written[long]
    assert sum(written[long]) <= 3 * 20 * new_bytes
    # A flush that merges small rows writes a few flushes' worth, never a tail.
    assert max(written[long]) <= 8 * new_bytes
    for exp_id, n in tails.items():
        assert np.array_equal(read_series(exp_id, "metric9", "variant9").iterations, np.arange(n + 20))


@pytest.mark.both_backends
def test_over_a_long_run_a_point_is_written_a_few_times_at_most(db):
    """Small flushes across three chunk boundaries: the bytes written stay within a constant
    factor of the new points' bytes, and the stored layout keeps its bounds all along."""
    exp_id = recording.create_experiment("p", "long run", status=st.RUNNING)
    rng = random.Random(3)
    sizes = [rng.choice([1, 5, 40, 100]) for _ in range(380)]
    total = 0
    with blob_bytes_sent(db) as sent:
        def work():
            nonlocal total
            for n in sizes:
                append_scalars(exp_id, {("loss", "train"): arrays(total, n)})
                total += n
        run_write(work)
    assert total > 3 * CHUNK_POINTS
    assert sent[0] <= 6 * total * POINT_BYTES
    assert_layout(exp_id)
    assert np.array_equal(read_series(exp_id, "loss", "train").iterations, np.arange(total))


@pytest.mark.parametrize("sizes", [
    [1] * 20_000,
    [random.Random(1).randint(1, 100) for _ in range(5_000)],
    [random.Random(2).choice([1, 7, 63, 511, 4095, 9000]) for _ in range(5_000)],
    [random.Random(3).choice([1, 2, 8, 600]) for _ in range(5_000)],
], ids=["ones", "1-100", "every-size-class", "mixed"])
def test_the_merge_plan_bounds_tail_rows_and_rewrites(sizes):
    """The plan alone, over many flushes: a tail never exceeds MAX_TAIL_ROWS rows nor a chunk's
    points, and every point is written at most six times (once new, then by merges)."""
    tail: list[int] = []
    written = appended = 0
    for n in sizes:
        appended += n
        counts = tail + [n]
        start = _merge_start(counts)
        merged = sum(counts[start:])
        written += merged
        if merged >= CHUNK_POINTS:  # rewritten as full chunks and one part-full row
            assert start == 0
            tail = [merged % CHUNK_POINTS] if merged % CHUNK_POINTS else []
        else:
            tail = counts[:start] + [merged]
        assert len(tail) <= MAX_TAIL_ROWS and sum(tail) < CHUNK_POINTS
        assert written <= 6 * appended


def test_the_disk_sees_a_flush_s_points_not_its_tails(tmp_path, monkeypatch):
    """SQLite's write-ahead log grows by the pages a flush changes: about the same for series
    whose part-full chunks hold 100 points or 3,000 (rewriting them made it 30 times more)."""
    monkeypatch.setenv("EXPTABLE_FILES", str(tmp_path / "files"))
    grown = {}
    for n in (100, 3000):
        path = tmp_path / f"tails{n}.db"
        db = open_database(f"sqlite:///{path}")
        try:
            db.execute_sql("PRAGMA wal_autocheckpoint = 0")  # the log only grows: its growth is what was written
            exp_id = recording.create_experiment("p", "live", status=st.RUNNING)
            recording.record_batch(exp_id, scalars={key: arrays(0, n) for key in SERIES})
            wal = path.with_name(path.name + "-wal")
            before = wal.stat().st_size
            for flush in range(16):
                recording.record_batch(exp_id, scalars={key: arrays(n + flush, 1) for key in SERIES}, live=True)
            grown[n] = wal.stat().st_size - before
        finally:
            close_database()
    assert grown[3000] <= 1.5 * grown[100] + 16 * 4096
    assert grown[3000] < 16 * len(SERIES) * 3000 * POINT_BYTES / 10


# ---- What is read back ---------------------------------------------------------------------------

@pytest.mark.both_backends
def test_series_read_back_exactly_across_merges_chunk_boundaries_the_run_s_end_and_reopening(db, db_url):
    exp_id = recording.create_experiment("p", "live", status=st.RUNNING)
    rng = np.random.default_rng(7)
    sizes = [1] * 20 + [3, 5000, 2, 1, 700, CHUNK_POINTS, 1, 1, 9, 8200] + [int(n) for n in rng.integers(1, 60, 120)]
    total = 0
    cursor = details.SeriesCursor()
    for step, n in enumerate(sizes):
        recording.record_batch(exp_id, scalars={("loss", "train"): arrays(total, n),
                                                ("acc", "val"): arrays(step, 1)}, live=True)
        # A reader following the run gets exactly the new points, merges or not.
        its, values, stamps, cursor = details.series_since(exp_id, "loss", "train", cursor)
        expected = arrays(total, n)
        assert np.array_equal(its, expected[0]) and np.array_equal(values, expected[1])
        assert np.array_equal(stamps, expected[2])
        total += n
        if step % 10 == 0:
            assert_layout(exp_id)
    assert_layout(exp_id)
    everything = arrays(0, total)
    series = read_series(exp_id, "loss", "train")
    for got, want in zip((series.iterations, series.values, series.timestamps), everything):
        assert np.array_equal(got, want)
    for start in (1, CHUNK_POINTS - 1, CHUNK_POINTS, CHUNK_POINTS + 1, 5023, total - 1, total, total + 5):
        part = read_series_from(exp_id, "loss", "train", start)
        assert np.array_equal(part.iterations, everything[0][start:])
        assert np.array_equal(part.timestamps, everything[2][start:])
        assert len(read_series_from(exp_id, "loss", "train", start, timestamps=False).timestamps) == 0
    summary = MetricSummary.get((MetricSummary.experiment == exp_id) & (MetricSummary.metric == "loss"))
    assert summary.count == total and summary.last == everything[1][-1]

    # The run ends: each series' small rows become one, as a bulk writer stores a series.
    assert len(stored_rows(exp_id)) > total // CHUNK_POINTS + 1
    assert recording.set_status(exp_id, st.COMPLETED)
    counts = [count for _, count in stored_rows(exp_id)]
    assert counts == [CHUNK_POINTS] * (total // CHUNK_POINTS) + [total % CHUNK_POINTS]
    assert [count for _, count in stored_rows(exp_id, "acc", "val")] == [len(sizes)]
    assert np.array_equal(read_series(exp_id, "loss", "train").values, everything[1])

    close_database()
    open_database(db_url)
    again = read_series(exp_id, "loss", "train")
    assert np.array_equal(again.iterations, everything[0]) and np.array_equal(again.values, everything[1])
    assert np.array_equal(read_series(exp_id, "acc", "val").iterations, np.arange(len(sizes)))


@pytest.mark.both_backends
@pytest.mark.parametrize("tail", [[1] * 7, [4000]], ids=["merging-small-rows", "compacting-a-full-tail"])
def test_a_flush_that_fails_half_way_leaves_the_series_as_it_was(db, tail):
    """A merge deletes and rewrites rows: a transaction that fails after it must undo all of it."""
    exp_id = recording.create_experiment("p", "live", status=st.RUNNING)
    total = 0
    for n in tail:
        recording.record_batch(exp_id, scalars={("loss", "train"): arrays(total, n)}, live=True)
        total += n
    rows_before = list(ScalarChunk.select().where(ScalarChunk.experiment == exp_id).order_by(ScalarChunk.seq)
                       .tuples())

    def flush_then_crash():
        append_scalars(exp_id, {("loss", "train"): arrays(total, 200)})
        assert len(read_series(exp_id, "loss", "train")) == total + 200  # the merge happened inside
        raise RuntimeError("the process died here")

    with pytest.raises(RuntimeError, match="died"):
        run_write(flush_then_crash)
    rows_after = list(ScalarChunk.select().where(ScalarChunk.experiment == exp_id).order_by(ScalarChunk.seq)
                      .tuples())
    normalise = lambda rows: [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row) for row in rows]  # noqa: E731
    assert normalise(rows_after) == normalise(rows_before)
    assert np.array_equal(read_series(exp_id, "loss", "train").iterations, np.arange(total))


KILLED_RUN = textwrap.dedent("""
    from exptable_desktop import Task
    task = Task.init("crash", "killed", auto_connect_arg_parser=False, auto_connect_streams=False)
    log = task.get_logger()
    i = 0
    while True:
        for size in (1, 1, 1, 1, 1, 1, 1, 1, 1, 5000, 3, 700, 1):
            for _ in range(size):
                log.report_scalar("loss", "train", i * 0.5, i)
                i += 1
            if task.flush():
                print(i, flush=True)  # every point below i is committed
""")


@pytest.mark.both_backends
def test_kill_9_in_the_middle_of_a_run_loses_no_committed_point(db, script_env, tmp_path):
    script = tmp_path / "killed_run.py"
    script.write_text(KILLED_RUN)
    proc = subprocess.Popen([sys.executable, str(script)], env=script_env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    committed = 0
    try:
        deadline = time.time() + 60
        flushes = 0
        while flushes < 30 and time.time() < deadline:
            line = proc.stdout.readline()
            if not line:
                raise AssertionError(f"the run ended early: {proc.stderr.read()}")
            committed = int(line)
            flushes += 1
        assert flushes == 30
        os.kill(proc.pid, signal.SIGKILL)  # wherever it is: reporting, merging, committing
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    exp_id = ScalarChunk.select(ScalarChunk.experiment).scalar()
    series = read_series(exp_id, "loss", "train")
    assert len(series) >= committed > 2 * CHUNK_POINTS
    assert np.array_equal(series.iterations, np.arange(len(series)))
    assert np.array_equal(series.values, np.arange(len(series)) * 0.5)
    assert_layout(exp_id)
