"""One bad report, a full disk, a lost connection or a flood of points never stops a run's recording.

Reports are checked and normalised at the call; the writer retries only what can succeed
later, drops (and counts) what the database refuses, keeps beating the heartbeat, and
bounds the memory its buffer holds. A full disk is made with SQLite's max_page_count (the
file may not grow), a file size limit (RLIMIT_FSIZE: the write fails part-way, as on a full
disk) or, where mounting is allowed, a small tmpfs that really fills up.
"""
from __future__ import annotations

import io
import os
import re
import subprocess
import textwrap
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest

from exptable_desktop.core import actions, recording
from exptable_desktop.core import states as st
from exptable_desktop.sdk import capture
from exptable_desktop.sdk.logger import Logger
from exptable_desktop.sdk.reporter import (
    ENV_MAX_BUFFER_MB,
    FIELD_BYTES,
    LOST_REPORTS_EXIT_CODE,
    Reporter,
    max_buffer_bytes,
)
from exptable_desktop.sdk.task import Task
from exptable_desktop.store.schema import Experiment, MetricSummary, Plot, SingleValue
from exptable_desktop.store.series import read_series
from pg_support import pg_admin
from sdk_scripts import only_experiment_id, run, start, wait_for_line

PG_URL = os.environ.get("EXPTABLE_TEST_PG_URL")


def _running(name: str = "run") -> str:
    return recording.create_experiment("faults", name, status=st.RUNNING)


def _logger(reporter: Reporter) -> Logger:
    task = Task(reporter.experiment_id, live=False)
    task._reporter = reporter
    return Logger(task)


def _page_count(db) -> int:
    return db.execute_sql("PRAGMA page_count").fetchone()[0]


def _script(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "train.py"
    path.write_text(textwrap.dedent(body))
    return path


# ---- at the call ------------------------------------------------------------------------------

@pytest.mark.both_backends
def test_names_and_text_are_stored_alike_on_both_databases(db, capsys):
    reporter = Reporter(_running())
    logger = _logger(reporter)
    long_title, long_series = "t" * 300, "s" * 256
    logger.report_scalar(None, "train", 1.0, 0)
    logger.report_scalar("lo\0ss", "tr\0ain", 2.0, 0)
    logger.report_scalar(long_title, long_series, 3.0, 0)
    logger.report_scalar(long_title, long_series, 4.0, 1)  # the cut name is said once, then remembered
    logger.report_scalar(7, 0.5, 5.0, 0)
    logger.report_single_value("acc\0" + "x" * 300, 0.9)
    logger.report_text("text with a \0 inside")
    tee = capture.ConsoleTee(io.StringIO(), "info", reporter.console)
    tee.write("printed \0 too\n")
    logger.report_histogram("hist\0", "h" * 300, [1, 2], iteration=0)

    status = reporter.flush()

    assert status is not None and status["status"] == st.RUNNING
    assert reporter.lost == {}
    names = {(m.metric, m.variant): m.count for m in MetricSummary.select()}
    assert names == {("None", "train"): 1, ("loss", "train"): 1, ("t" * 255, "s" * 255): 2, ("7", "0.5"): 1}
    assert [v.name for v in SingleValue.select()] == ["acc" + "x" * 252]
    assert [(p.metric, p.variant) for p in Plot.select()] == [("hist", "h" * 255)]
    lines = [text for _, text in recording.read_console(reporter.experiment_id)]
    assert lines == ["text with a \ufffd inside", "printed \ufffd too"]
    err = capsys.readouterr().err
    assert err.count("cut to its first 255 characters") == 4  # title, series, value name, histogram series
    assert "'lo\\x00ss' is recorded without its NUL characters" in err


def test_an_iteration_outside_int64_or_a_value_that_is_no_number_is_refused_at_the_call(db):
    reporter = Reporter(_running())
    logger = _logger(reporter)
    for iteration in (2**63, -2**63 - 1, 10**30):
        with pytest.raises(ValueError, match="outside the 64-bit integer range"):
            logger.report_scalar("loss", "train", 1.0, iteration)
    with pytest.raises(ValueError, match="outside the 64-bit integer range"):
        logger.report_histogram("hist", "h", [1.0], iteration=2**63)
    with pytest.raises(ValueError):
        logger.report_scalar("loss", "train", "not a number", 0)
    assert reporter.pending_points() == 0 and len(reporter.plots) == 0
    logger.report_scalar("loss", "train", 1.0, 2**63 - 1)
    logger.report_scalar("loss", "train", 2.0, -2**63)
    assert reporter.flush() is not None
    assert read_series(reporter.experiment_id, "loss", "train").iterations.tolist() == [2**63 - 1, -2**63]


# ---- the writer ---------------------------------------------------------------------------------

@pytest.mark.both_backends
def test_a_refused_report_is_dropped_once_and_everything_else_lands(db):
    # Reports put straight into the buffer, past the checks at the call: whatever the database
    # refuses that nobody foresaw must cost only itself.
    warnings: list[str] = []
    reporter = Reporter(_running(), warn=warnings.append)
    now = time.time()
    for i in range(1000):
        reporter.scalars.extend(("loss", "train", i, float(i), now))
        if i == 500:
            reporter.scalars.extend((None, "train", i, 1.0, now))  # NOT NULL
            reporter.scalars.extend(("loss", "val", 2**64, 1.0, now))  # no int64
    reporter.console.append((now, "info", "before"))
    reporter.single_values.append((None, 1.0))
    reporter.single_values.append(("ok", 2.0))
    reporter.plots.append({"metric": None, "variant": "v", "iteration": 0, "kind": "line", "data": "{}"})
    reporter.progress = 40

    assert reporter.flush() is not None
    assert read_series(reporter.experiment_id, "loss", "train").iterations.tolist() == list(range(1000))
    assert read_series(reporter.experiment_id, "loss", "val").iterations.tolist() == []
    assert recording.read_console(reporter.experiment_id) == [("info", "before")]
    assert [(v.name, v.value) for v in SingleValue.select()] == [("ok", 2.0)]
    assert Experiment.get_by_id(reporter.experiment_id).progress == 40
    assert reporter.lost == {"points": 2, "values": 1, "plots": 1}
    dropped = [w for w in warnings if w.startswith("exptable: dropped")]
    assert len(dropped) == 4
    assert any("1 scalar point" in w and "None / 'train' at iteration 500" in w and "IntegrityError" in w
               for w in dropped), dropped

    # The refused reports are gone for good; later ones land at the next flush.
    reporter.scalars.extend(("loss", "train", 1000, 1.0, now))
    assert reporter.flush() is not None
    assert len(read_series(reporter.experiment_id, "loss", "train")) == 1001
    assert len([w for w in warnings if w.startswith("exptable: dropped")]) == 4
    assert "2 scalar points, 1 single value and 1 plot could not be recorded (IntegrityError" in reporter.lost_summary()


def test_a_full_disk_keeps_the_reports_beats_and_writes_them_when_space_comes_back(db):
    warnings: list[str] = []
    reporter = Reporter(_running(), warn=warnings.append)
    logger = _logger(reporter)
    for i in range(20_000):
        logger.report_scalar("loss", "train", float(i), i)
    before = Experiment.get_by_id(reporter.experiment_id).heartbeat
    db.pragma("max_page_count", _page_count(db))
    try:
        assert reporter.flush() is None
        assert Experiment.get_by_id(reporter.experiment_id).heartbeat > before  # beat on its own
        for i in range(20_000, 40_000):
            logger.report_scalar("loss", "train", float(i), i)
        assert reporter.flush() is None
        assert len(read_series(reporter.experiment_id, "loss", "train")) == 0
    finally:
        db.pragma("max_page_count", 2**30)
    assert reporter.flush() is not None
    assert read_series(reporter.experiment_id, "loss", "train").iterations.tolist() == list(range(40_000))
    assert reporter.lost == {}
    assert warnings == ["exptable: could not write results yet, will retry: OperationalError: "
                        "database or disk is full", "exptable: writing results again"]


def test_a_writer_that_cannot_write_still_beats_and_hears_the_abort(db):
    exp_id = _running()
    # Permanent: the writer thread's own connection opens with the same limit.
    db.pragma("max_page_count", _page_count(db) + 2, permanent=True)
    seen = threading.Event()
    warnings: list[str] = []
    reporter = Reporter(exp_id, flush_period=0.05, on_abort=lambda message: seen.set(), warn=warnings.append)
    try:
        for i in range(50_000):
            reporter.scalars.extend(("loss", "train", i, float(i), 1.0))
        reporter.start()
        deadline = time.time() + 10
        while not warnings and time.time() < deadline:
            time.sleep(0.02)
        assert "database or disk is full" in warnings[0]
        first = Experiment.get_by_id(exp_id).heartbeat
        time.sleep(0.3)
        assert Experiment.get_by_id(exp_id).heartbeat > first
        actions.abort([exp_id])
        assert seen.wait(3.0)
        reporter.stop()
    finally:
        db.pragma("max_page_count", 2**30, permanent=True)
    assert reporter.lost == {"points": 50_000}
    assert reporter.lost_summary() == "50,000 scalar points could not be recorded (database or disk is full)"


def test_memory_stays_bounded_while_the_disk_is_full_and_the_loss_is_counted(db):
    exp_id = _running()
    db.pragma("max_page_count", _page_count(db) + 2, permanent=True)
    reporter = Reporter(exp_id, flush_period=0.05, max_buffer_mb=1, warn=lambda text: None)
    logger = _logger(reporter)
    reporter.start()
    total, peak = 200_000, 0
    try:
        for i in range(total):
            logger.report_scalar("loss", "train", float(i), i)
            if i % 500 == 0:
                peak = max(peak, reporter.pending_bytes())
    finally:
        db.pragma("max_page_count", 2**30, permanent=True)  # space is back (for this thread's connection)
    assert peak <= 2**20 + 2_000 * FIELD_BYTES
    assert reporter.lost["points"] > total // 2
    reporter.stop()  # joins the writer, then writes what it kept through this thread's connection
    stored = read_series(exp_id, "loss", "train").iterations
    assert len(stored) > 1000 and len(stored) + reporter.lost["points"] == total
    assert np.all(np.diff(stored) > 0)


def test_a_producer_faster_than_the_database_is_slowed_not_buffered_without_bound(db):
    exp_id = _running()
    reporter = Reporter(exp_id, flush_period=0.05, max_buffer_mb=2)
    logger = _logger(reporter)
    reporter.start()
    total, peak = 300_000, 0
    for i in range(total):
        logger.report_scalar("loss", "train", float(i), i)
        if i % 500 == 0:
            peak = max(peak, reporter.pending_bytes())
    reporter.stop()
    assert peak <= 2 * 2**20 + 2_000 * FIELD_BYTES
    assert np.array_equal(read_series(exp_id, "loss", "train").iterations, np.arange(total))
    assert reporter.lost == {}


def test_the_buffer_bound_comes_from_the_argument_else_the_environment(monkeypatch):
    monkeypatch.delenv(ENV_MAX_BUFFER_MB, raising=False)
    assert max_buffer_bytes() == 64 * 2**20
    monkeypatch.setenv(ENV_MAX_BUFFER_MB, "5")
    assert max_buffer_bytes() == 5 * 2**20
    assert max_buffer_bytes(0.5) == 2**19
    monkeypatch.setenv(ENV_MAX_BUFFER_MB, "lots")
    with pytest.raises(ValueError, match="EXPTABLE_MAX_BUFFER_MB='lots' is not a number of megabytes"):
        max_buffer_bytes()
    with pytest.raises(ValueError, match="positive"):
        max_buffer_bytes(0)


# ---- the database layer: the real reason, a new connection ---------------------------------------

@pytest.fixture
def small_disk(tmp_path):
    """A 4 MB tmpfs: a disk that really fills up. Skips where mounting is not permitted."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    try:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount_point)], check=True,
                       capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        pytest.skip("mounting a small tmpfs is not permitted here")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, timeout=10)


def _fill(disk: Path, leave_bytes: int) -> Path:
    stats = os.statvfs(disk)
    filler = disk / "filler"
    filler.write_bytes(b"\0" * max(0, stats.f_bavail * stats.f_frsize - leave_bytes))
    return filler


def test_a_full_disk_is_reported_as_such_not_as_a_failed_rollback(small_disk, monkeypatch, tmp_path):
    from exptable_desktop.store import close_database, open_database

    monkeypatch.setenv("EXPTABLE_FILES", str(tmp_path / "files"))
    open_database(f"sqlite:///{small_disk / 'exptable.db'}")
    try:
        exp_id = _running()
        filler = _fill(small_disk, 64 * 1024)
        n = 100_000
        points = {("loss", "train"): (np.arange(n), np.ones(n), np.ones(n))}
        with pytest.raises(Exception, match="database or disk is full"):
            recording.record_batch(exp_id, scalars=points)
        filler.unlink()
        recording.record_batch(exp_id, scalars=points)
        assert len(read_series(exp_id, "loss", "train")) == n
    finally:
        close_database()


FILE_SIZE_LIMIT_SCRIPT = """
    import os
    import resource
    import signal
    import numpy as np
    from exptable_desktop.core import recording
    from exptable_desktop.store import open_database
    open_database()
    exp_id = recording.create_experiment("faults", "file size limit", status="in_progress")
    # Without root: the process may not grow a file past the limit (EFBIG), so SQLite's
    # write fails part-way and SQLite ends the transaction itself, as on a full disk.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    path = os.environ["EXPTABLE_DB"][len("sqlite:///"):]
    largest = max(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    resource.setrlimit(resource.RLIMIT_FSIZE, (largest + 64 * 1024, resource.RLIM_INFINITY))
    n = 100_000
    points = {("loss", "train"): (np.arange(n), np.ones(n), np.ones(n))}
    try:
        recording.record_batch(exp_id, scalars=points)
    except Exception as exc:
        print(f"{type(exc).__name__}: {exc}")
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    print("then", recording.record_batch(exp_id, scalars=points)["points"])
    """


def test_a_failed_write_reports_its_io_error_not_a_failed_rollback(tmp_path, script_env):
    done = run(_script(tmp_path, FILE_SIZE_LIMIT_SCRIPT), script_env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["OperationalError: disk I/O error", "then 100000"]


@pytest.mark.pg
@pytest.mark.skipif(not PG_URL, reason="EXPTABLE_TEST_PG_URL not set")
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_lost_postgresql_connection_is_replaced(db):
    exp_id = _running()
    pg_admin(f"SELECT pg_terminate_backend({db.execute_sql('SELECT pg_backend_pid()').fetchone()[0]})")
    recording.record_batch(exp_id, scalars=[("loss", "train", 0, 1.0, 1.0)])
    assert len(read_series(exp_id, "loss", "train")) == 1


# ---- a run's life cycle --------------------------------------------------------------------------

BAD_REPORTS_SCRIPT = """
    from exptable_desktop import Task
    task = Task.init("faults", "bad reports")
    logger = task.get_logger()
    for i in range(100):
        logger.report_scalar("loss", "train", 1.0 / (i + 1), i)
    logger.report_scalar(None, "train", 1.0, 0)
    logger.report_scalar("nul\\0", "train", 1.0, 0)
    logger.report_scalar("long " * 60, "train", 1.0, 0)
    try:
        logger.report_scalar("loss", "train", 1.0, 2**63)
    except ValueError as exc:
        print("refused:", exc)
    logger.report_text("text \\0 nul")
    print("print \\0 nul")
    logger.report_single_value("name\\0", 1.0)
    for i in range(100, 200):
        logger.report_scalar("loss", "train", 1.0 / (i + 1), i)
    task.set_progress(50)
    print("after the bad reports")
    """


@pytest.mark.both_backends
def test_a_script_with_bad_reports_records_everything_else_and_completes(tmp_path, script_env):
    done = run(_script(tmp_path, BAD_REPORTS_SCRIPT), script_env)
    assert done.returncode == 0, done.stderr
    exp_id = only_experiment_id()
    exp = Experiment.get_by_id(exp_id)
    assert exp.status == st.COMPLETED and exp.status_message == "" and exp.progress == 100
    assert read_series(exp_id, "loss", "train").iterations.tolist() == list(range(200))
    assert {m.metric for m in MetricSummary.select()} == {"loss", "None", "nul", ("long " * 60)[:255]}
    lines = [text for _, text in recording.read_console(exp_id)]
    assert "text \ufffd nul" in lines and "print \ufffd nul" in lines and lines[-1] == "after the bad reports"
    assert any("outside the 64-bit integer range" in line for line in lines)
    assert "could not" not in done.stderr and "dropped" not in done.stderr


FULL_DISK_SCRIPT = """
    import sys
    import time
    from exptable_desktop.store import open_database
    db = open_database()
    # A full disk without root: SQLite may not grow the file past max_page_count (on every connection).
    db.pragma("max_page_count", db.execute_sql("PRAGMA page_count").fetchone()[0] + 40, permanent=True)
    from exptable_desktop import Task
    task = Task.init("faults", "full disk")
    import atexit
    atexit.register(print, "the script's own exit handler ran")
    logger = task.get_logger()
    logger.set_flush_period(0.2)
    for i in range(int(sys.argv[1])):  # more than the disk takes
        logger.report_scalar("loss", "train", float(i), i)
    print("ready", flush=True)
    if sys.argv[2:] == ["forever"]:
        while True:
            time.sleep(0.01)
    """


def test_a_script_on_a_full_disk_says_what_was_lost_and_exits_non_zero(tmp_path, script_env):
    done = run(_script(tmp_path, FULL_DISK_SCRIPT), script_env, "200000")
    assert done.returncode == LOST_REPORTS_EXIT_CODE, done.stderr
    assert done.stdout.endswith("the script's own exit handler ran\n")  # ending non-zero skipped nothing
    # The console lines: "ready", and the exit handler's line (it runs before the Task's own).
    lost = "200,000 scalar points and 2 console lines could not be recorded (database or disk is full)"
    assert f"exptable: {lost}" in done.stderr
    assert "could not write results yet, will retry: OperationalError: database or disk is full" in done.stderr
    assert "cannot rollback" not in done.stderr and "Traceback" not in done.stderr
    exp = Experiment.get_by_id(only_experiment_id())
    assert exp.status == st.COMPLETED
    assert exp.status_message == lost


def test_abort_reaches_a_script_whose_writes_fail(tmp_path, script_env):
    proc = start(_script(tmp_path, FULL_DISK_SCRIPT), script_env, "50000", "forever")
    try:
        wait_for_line(proc, "ready")
        exp_id = only_experiment_id()
        time.sleep(0.5)  # flushes every 0.2 s, and none of the 50,000 points fits
        first = Experiment.get_by_id(exp_id).heartbeat
        time.sleep(0.5)
        assert Experiment.get_by_id(exp_id).heartbeat > first
        assert len(read_series(exp_id, "loss", "train")) == 0
        assert actions.abort([exp_id]).succeeded == [exp_id]
        asked = time.time()
        proc.wait(timeout=10)
        took = time.time() - asked
    finally:
        proc.kill()
    stderr = proc.stderr.read()
    assert took < 5.0, took
    assert proc.returncode != 0
    # The console lines: "ready" and the KeyboardInterrupt's traceback.
    lost = r"50,000 scalar points and \d+ console lines could not be recorded \(database or disk is full\)"
    assert re.search(f"exptable: {lost}", stderr), stderr
    exp = Experiment.get_by_id(exp_id)
    assert exp.status == st.ABORTED
    assert re.fullmatch(f"aborted; {lost}", exp.status_message), exp.status_message


SPACE_RETURNS_SCRIPT = """
    import sys
    import time
    from pathlib import Path
    from exptable_desktop import Task
    task = Task.init("faults", "space returns")
    logger = task.get_logger()
    go = Path(sys.argv[1])
    i = 0
    while not go.exists():
        for _ in range(1000):
            logger.report_scalar("loss", "train", float(i), i)
            i += 1
        time.sleep(0.02)
    for _ in range(1000):
        logger.report_scalar("loss", "train", float(i), i)
        i += 1
    print("total", i)
    """


@pytest.mark.slow
def test_space_coming_back_during_a_run_writes_everything_buffered(small_disk, tmp_path, script_env):
    from exptable_desktop.store import close_database, open_database

    url = f"sqlite:///{small_disk / 'exptable.db'}"
    open_database(url)
    try:
        filler = _fill(small_disk, 256 * 1024)
        go = tmp_path / "go"
        proc = start(_script(tmp_path, SPACE_RETURNS_SCRIPT), dict(script_env, EXPTABLE_DB=url), str(go))
        try:
            deadline = time.time() + 30
            while time.time() < deadline:
                line = proc.stderr.readline()
                if "could not write results yet" in line or not line:
                    break
            assert "database or disk is full" in line, line
            filler.unlink()
            go.touch()
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        assert proc.returncode == 0, err
        total = int(out.split("total ")[1])
        exp_id = only_experiment_id()
        assert np.array_equal(read_series(exp_id, "loss", "train").iterations, np.arange(total))
        assert "writing results again" in err and "could not be recorded" not in err
        assert Experiment.get_by_id(exp_id).status == st.COMPLETED
    finally:
        close_database()


LOOP_SCRIPT = """
    import time
    from exptable_desktop import Task
    task = Task.init("faults", "lost connection")
    logger = task.get_logger()
    print("ready", flush=True)
    for i in range(300):
        logger.report_scalar("loss", "train", float(i), i)
        print(f"line {i}")
        time.sleep(0.01)
    """


@pytest.mark.slow
@pytest.mark.pg
@pytest.mark.skipif(not PG_URL, reason="EXPTABLE_TEST_PG_URL not set")
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_a_script_loses_nothing_when_its_postgresql_connections_drop(tmp_path, script_env, db, db_url):
    proc = start(_script(tmp_path, LOOP_SCRIPT), script_env)
    own = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    name = urlparse(db_url).path.lstrip("/")
    try:
        wait_for_line(proc, "ready")
        for _ in range(2):
            time.sleep(1.2)
            pg_admin(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     f"WHERE datname = '{name}' AND pid <> {own}")
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0, err
    exp_id = only_experiment_id()
    assert read_series(exp_id, "loss", "train").iterations.tolist() == list(range(300))
    assert recording.console_line_count(exp_id) == 301
    assert Experiment.get_by_id(exp_id).status == st.COMPLETED
    assert "could not be recorded" not in err and "Traceback" not in err
