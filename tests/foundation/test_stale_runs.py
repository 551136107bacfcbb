"""Runs whose process died without a word: found from the heartbeat by whoever reads the table."""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from exptable_desktop.core import actions, liveness, recording
from exptable_desktop.core import states as st
from exptable_desktop.core.table_loading import fetch_changes
from exptable_desktop.store import bulk
from exptable_desktop.store import db as store_db
from exptable_desktop.store.bulk import BASE_FIELDS
from exptable_desktop.store.schema import Experiment, Queue, QueueEntry, Worker, database_proxy
from foundation_support import write_row

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _fresh_liveness(monkeypatch):
    monkeypatch.delenv(liveness.ENV_HEARTBEAT_INTERVAL, raising=False)
    liveness._last_check.clear()
    yield
    liveness._last_check.clear()


def running(name: str, **fields) -> str:
    exp_id = recording.create_experiment("stale", name, status=st.RUNNING)
    if fields:
        write_row(exp_id, **fields)
    return exp_id


def row(exp_id: str) -> Experiment:
    return Experiment.get_by_id(exp_id)


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M:%S")


def subprocess_env(db_url: str, tmp_path: Path, **extra: str) -> dict:
    env = dict(os.environ)
    env.update(EXPTABLE_DB=db_url, EXPTABLE_FILES=str(tmp_path / "files"), PYTHONUNBUFFERED="1",
               PYTHONPATH=os.pathsep.join(p for p in (str(REPO), env.get("PYTHONPATH")) if p))
    env.pop("EXPTABLE_TASK_ID", None)
    env.update(extra)
    return env


# ---- the rule ----------------------------------------------------------------------------------

def test_defaults_are_five_second_beats_three_missed_and_the_interval_can_be_set(monkeypatch):
    monkeypatch.delenv(liveness.ENV_HEARTBEAT_INTERVAL, raising=False)
    assert (liveness.heartbeat_interval(), liveness.stale_after()) == (5.0, 15.0)
    monkeypatch.setenv(liveness.ENV_HEARTBEAT_INTERVAL, "2")
    assert (liveness.heartbeat_interval(), liveness.stale_after()) == (2.0, 6.0)
    for bad in ("soon", "0.5", "nan"):
        monkeypatch.setenv(liveness.ENV_HEARTBEAT_INTERVAL, bad)
        with pytest.raises(ValueError, match=liveness.ENV_HEARTBEAT_INTERVAL):
            liveness.stale_after()


@pytest.mark.both_backends
def test_a_silent_run_is_ended_aborted_at_its_last_heartbeat(db):
    now = time.time()
    silent = running("silent", heartbeat=now - 16, started=now - 100)
    fresh = running("fresh", heartbeat=now - 14)
    never_beaten_old = running("legacy", heartbeat=None, started=now - 100, last_update=now - 60)
    never_beaten_new = running("just set running", heartbeat=None, last_update=now - 2)
    skewed = running("its machine's clock is behind", heartbeat=now - 30, started=now - 20)
    done = recording.create_experiment("stale", "completed long ago")
    write_row(done, status=st.COMPLETED, heartbeat=now - 1000)

    ended = liveness.mark_stale_runs(now=now)

    assert sorted(ended) == sorted([silent, never_beaten_old, skewed])
    exp = row(silent)
    assert exp.status == st.ABORTED
    assert exp.status_message == f"no heartbeat since {when(now - 16)}"
    assert exp.status_reason == liveness.STALE_REASON
    assert exp.completed == pytest.approx(now - 16) and exp.run_time == pytest.approx(84)
    assert exp.last_update == now  # so every table's refresh picks the change up
    assert row(never_beaten_old).status_message == f"no heartbeat since {when(now - 60)}"
    assert (row(skewed).completed, row(skewed).run_time) == (pytest.approx(now - 20), 0)  # never before it started
    for alive in (fresh, never_beaten_new):
        assert row(alive).status == st.RUNNING
    assert row(done).status == st.COMPLETED
    assert liveness.mark_stale_runs(now=now) == []


@pytest.mark.both_backends
def test_a_live_worker_that_names_the_run_keeps_it(db):
    now = time.time()
    with_agent = running("agent launched it, script not started yet", heartbeat=None, last_update=now - 60,
                         worker="box:0")
    agent_gone = running("its agent died too", heartbeat=now - 60, worker="box:1")
    stopped_agent = running("agent stopped", heartbeat=now - 60, worker="box:2")
    Worker.create(name="box:0", current_experiment=with_agent, started=now - 100, last_seen=now - 2, status="busy")
    Worker.create(name="box:1", current_experiment=agent_gone, started=now - 100, last_seen=now - 40, status="busy")
    Worker.create(name="box:2", current_experiment=stopped_agent, started=now - 100, last_seen=now - 1,
                  status="stopped")

    assert sorted(liveness.mark_stale_runs(now=now)) == sorted([agent_gone, stopped_agent])
    assert row(with_agent).status == st.RUNNING
    # The same worker no longer naming it (it moved on): nothing speaks for the run any more.
    Worker.update(current_experiment=None).where(Worker.name == "box:0").execute()
    assert liveness.mark_stale_runs(now=now) == [with_agent]


@pytest.mark.both_backends
def test_a_run_that_dies_after_abort_asked_it_to_stop_ends_with_that_reason(db):
    now = time.time()
    # Its process runs on another machine, so Abort can only ask it to stop.
    exp_id = running("remote", heartbeat=now - 1, runtime=json.dumps({"host": "another-machine", "pid": 4242}))
    assert actions.abort([exp_id], reason="enough of this").succeeded == [exp_id]
    assert (row(exp_id).status, row(exp_id).status_message) == (st.RUNNING, "stopping")

    assert liveness.mark_stale_runs(now=now + 14) == []
    assert liveness.mark_stale_runs(now=now + 16) == [exp_id]
    exp = row(exp_id)
    assert (exp.status, exp.status_message, exp.status_reason) == (st.ABORTED, "aborted", "enough of this")


@pytest.mark.both_backends
def test_ending_a_run_drops_a_queue_entry_left_behind(db):
    exp_id = running("left in a queue", heartbeat=time.time() - 60)
    queue = actions.get_or_create_queue("default")
    QueueEntry.create(queue=queue.id, experiment=exp_id, position=1.0, added=time.time())
    assert liveness.mark_stale_runs() == [exp_id]
    assert not QueueEntry.select().where(QueueEntry.experiment == exp_id).exists()
    assert Queue.select().count() == 1


# ---- several programs at once --------------------------------------------------------------------

RACER = textwrap.dedent("""
    import json, os, sys, time
    from exptable_desktop.store import open_database
    from exptable_desktop.core.liveness import mark_stale_runs
    open_database(sys.argv[1])
    print("ready", flush=True)
    while not os.path.exists(sys.argv[2]):
        time.sleep(0.002)
    print(json.dumps(mark_stale_runs()), flush=True)
""")


@pytest.mark.both_backends
def test_processes_racing_end_each_run_exactly_once(db, db_url, tmp_path):
    now = time.time()
    stale = [running(f"dead {i}", heartbeat=now - 30 - i) for i in range(40)]
    alive = running("alive", heartbeat=now + 60)
    script = tmp_path / "racer.py"
    script.write_text(RACER)
    go = tmp_path / "go"
    env = subprocess_env(db_url, tmp_path)
    procs = [subprocess.Popen([sys.executable, str(script), db_url, str(go)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        go.write_text("")
        results = []
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            results.append(json.loads(out))
    finally:
        for proc in procs:
            proc.kill()
    ended = [exp_id for result in results for exp_id in result]
    assert sorted(ended) == sorted(stale)  # every run once: no one ended a run another had ended
    assert Experiment.select().where(Experiment.status == st.ABORTED).count() == len(stale)
    assert row(alive).status == st.RUNNING


@pytest.mark.both_backends
def test_threads_racing_end_each_run_exactly_once(db):
    now = time.time()
    stale = [running(f"dead {i}", heartbeat=now - 30) for i in range(30)]
    barrier = threading.Barrier(4)
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def race():
        try:
            barrier.wait(timeout=10)
            results.append(liveness.mark_stale_runs())
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            database_proxy.obj.close()  # this thread's connection

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sorted(e for result in results for e in result) == sorted(stale)


def _hold_write_lock(db_url: str):
    """Another connection holding ExpTable's write lock, as a writer in another program would."""
    if db_url.startswith("sqlite:///"):
        conn = sqlite3.connect(db_url[len("sqlite:///"):], isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        return conn, "?"
    import psycopg2
    conn = psycopg2.connect(db_url)
    conn.cursor().execute("SELECT pg_advisory_xact_lock(%s)", (store_db._PG_WRITE_LOCK,))
    return conn, "%s"


def _commit(conn) -> None:
    if isinstance(conn, sqlite3.Connection):
        conn.execute("COMMIT")
    else:
        conn.commit()
    conn.close()


@pytest.mark.both_backends
def test_a_run_that_beats_while_the_marker_waits_for_the_lock_is_spared(db, db_url):
    now = time.time()
    revived, dead = running("beats again", heartbeat=now - 30), running("dead", heartbeat=now - 30)
    conn, mark = _hold_write_lock(db_url)
    result: list[list[str]] = []
    marker = threading.Thread(target=lambda: (result.append(liveness.mark_stale_runs()),
                                              database_proxy.obj.close()))
    try:
        marker.start()
        time.sleep(0.5)  # it has read both as candidates and now waits for the lock
        assert marker.is_alive()
        conn.cursor().execute(f"UPDATE experiment SET heartbeat = {mark} WHERE id = {mark}", (time.time(), revived))
    finally:
        _commit(conn)
    marker.join(60)
    assert result == [[dead]]
    assert row(revived).status == st.RUNNING and row(dead).status == st.ABORTED


@pytest.mark.both_backends
def test_after_a_long_wait_for_the_lock_nothing_is_judged_that_round(db, db_url, monkeypatch):
    monkeypatch.setenv(liveness.ENV_HEARTBEAT_INTERVAL, "1")
    exp_id = running("blocked like everyone", heartbeat=time.time() - 10)
    conn, _ = _hold_write_lock(db_url)
    result: list[list[str]] = []
    marker = threading.Thread(target=lambda: (result.append(liveness.mark_stale_runs()),
                                              database_proxy.obj.close()))
    try:
        marker.start()
        time.sleep(1.3)  # longer than one interval: live scripts could not beat either
    finally:
        _commit(conn)
    marker.join(60)
    assert result == [[]] and row(exp_id).status == st.RUNNING
    assert liveness.mark_stale_runs() == [exp_id]


def test_a_read_only_sqlite_file_is_left_untouched(db, db_url, tmp_path):
    from peewee import SqliteDatabase

    exp_id = running("dead", heartbeat=time.time() - 60)
    path = db_url[len("sqlite:///"):]
    read_only = SqliteDatabase(f"file:{path}?mode=ro", uri=True)
    database_proxy.initialize(read_only)
    try:
        assert liveness.mark_stale_runs() == []
        assert row(exp_id).status == st.RUNNING
    finally:
        read_only.close()
        database_proxy.initialize(db)


@pytest.mark.pg
@pytest.mark.skipif(not os.environ.get("EXPTABLE_TEST_PG_URL"), reason="EXPTABLE_TEST_PG_URL not set")
def test_a_read_only_postgresql_database_is_left_untouched(tmp_path):
    import pg_support
    from exptable_desktop.store import close_database, open_database

    url = pg_support.new_pg_database("exptable_ro_")
    try:
        open_database(url)
        exp_id = running("dead", heartbeat=time.time() - 60)
        close_database()
        name = url.rsplit("/", 1)[1]
        pg_support.pg_admin(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        open_database(url)
        assert liveness.mark_stale_runs() == []
        assert row(exp_id).status == st.RUNNING
        result = subprocess.run([sys.executable, "-m", "exptable_desktop", "ls", "--json", "--db", url],
                                env=subprocess_env(url, tmp_path), capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        assert [r["status"] for r in json.loads(result.stdout)] == [st.RUNNING]
    finally:
        close_database()
        pg_support.drop_pg_database(url)


# ---- who calls it -------------------------------------------------------------------------------

@pytest.mark.both_backends
def test_the_table_refresh_ends_silent_runs_and_brings_them_in_the_same_tick(db, monkeypatch):
    monkeypatch.setenv(liveness.ENV_HEARTBEAT_INTERVAL, "1")
    first = running("first", heartbeat=time.time() - 10)
    since = bulk.current_change_seq()  # the table has read everything up to here
    changes = fetch_changes(since, [])
    statuses = {r[BASE_FIELDS.index("id")]: r[BASE_FIELDS.index("status")] for r in changes.rows}
    assert statuses[first] == st.ABORTED and row(first).status == st.ABORTED
    # At most once per interval: a refresh right after does not look again.
    second = running("second", heartbeat=time.time() - 10)
    fetch_changes(since, [])
    assert row(second).status == st.RUNNING
    time.sleep(1.05)
    fetch_changes(since, [])
    assert row(second).status == st.ABORTED


def test_show_ends_a_silent_run_before_showing_it(db, db_url, capsys):
    from exptable_desktop import cli

    exp_id = running("dead", heartbeat=time.time() - 60)
    assert cli.main(["show", exp_id, "--json", "--db", db_url]) == 0
    detail = json.loads(capsys.readouterr().out)
    assert detail["status"] == st.ABORTED
    assert detail["status_message"].startswith("no heartbeat since ")


# ---- real processes -------------------------------------------------------------------------------

VICTIM = textwrap.dedent("""
    import time
    from exptable_desktop import Task
    task = Task.init("stale", "victim")
    logger = task.get_logger()
    i = 0
    while True:
        logger.report_scalar("loss", "train", 1.0 / (i + 1), i)
        if i == 5:
            print("ready", flush=True)
        i += 1
        time.sleep(0.05)
""")


def _start_victim(db_url: str, tmp_path: Path, **env: str) -> tuple[subprocess.Popen, str]:
    script = tmp_path / "victim.py"
    script.write_text(VICTIM)
    proc = subprocess.Popen([sys.executable, str(script)], cwd=tmp_path, env=subprocess_env(db_url, tmp_path, **env),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
    deadline = time.time() + 20
    while time.time() < deadline:  # the writer's first flush beats the heartbeat
        exp = Experiment.select().where(Experiment.name == "victim").first()
        if exp is not None and exp.heartbeat and exp.heartbeat > exp.started:
            return proc, exp.id
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the script never beat its heartbeat")


@pytest.mark.slow
def test_ls_finds_a_run_killed_with_sigkill(db, db_url, tmp_path, monkeypatch):
    monkeypatch.setenv(liveness.ENV_HEARTBEAT_INTERVAL, "1")  # dead after 3 s instead of 15 s
    proc, exp_id = _start_victim(db_url, tmp_path, EXPTABLE_HEARTBEAT_INTERVAL="1")
    try:
        time.sleep(3.5)  # longer than the timeout: a live script keeps beating and is left alone
        assert liveness.mark_stale_runs() == []
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        killed_at = time.time()
    finally:
        proc.kill()
    env = subprocess_env(db_url, tmp_path, EXPTABLE_HEARTBEAT_INTERVAL="1")
    deadline = killed_at + 20
    while True:
        result = subprocess.run([sys.executable, "-m", "exptable_desktop", "ls", "--json", "--db", db_url],
                                env=env, capture_output=True, text=True, timeout=60)
        assert result.returncode == 0, result.stderr
        (listed,) = json.loads(result.stdout)
        if listed["status"] == st.ABORTED or time.time() > deadline:
            break
        time.sleep(0.2)
    exp = row(exp_id)
    assert exp.status == st.ABORTED, "never found"
    assert exp.status_message == f"no heartbeat since {when(exp.heartbeat)}"
    assert exp.status_changed - exp.heartbeat < 3 + 3  # the timeout, plus one ls run and a late last beat


@pytest.mark.both_backends
def test_abort_of_a_killed_run_ends_aborted_at_once(db, db_url, tmp_path):
    proc, exp_id = _start_victim(db_url, tmp_path)
    try:
        proc.send_signal(signal.SIGKILL)
        deadline = time.time() + 10
        while liveness.processes_gone([exp_id]) != {exp_id} and time.time() < deadline:
            time.sleep(0.02)  # a zombie until reaped: gone all the same
        assert time.time() - row(exp_id).heartbeat < liveness.stale_after()  # still looks alive by its heartbeat
        assert actions.abort([exp_id]).succeeded == [exp_id]
    finally:
        proc.kill()
        proc.wait(10)
    exp = row(exp_id)
    assert (exp.status, exp.status_message, exp.status_reason) == (st.ABORTED, "aborted", "Aborted by user")


@pytest.mark.both_backends
def test_abort_asks_a_live_process_or_its_agent_to_stop(db):
    now = time.time()
    here = running("this process", runtime=json.dumps({"host": liveness.this_host(), "pid": os.getpid()}))
    under_agent = running("agent's", heartbeat=None, worker="box:0")
    Worker.create(name="box:0", current_experiment=under_agent, started=now, last_seen=now, status="busy")
    nobody = running("nobody", heartbeat=None)
    assert sorted(actions.abort([here, under_agent, nobody]).succeeded) == sorted([here, under_agent, nobody])
    assert [(row(e).status, row(e).status_message) for e in (here, under_agent, nobody)] == [
        (st.RUNNING, "stopping"), (st.RUNNING, "stopping"), (st.ABORTED, "aborted")]
