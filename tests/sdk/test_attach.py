"""``EXPTABLE_TASK_ID``: a process takes over an existing experiment, and only one process may."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from exptable_desktop.core import actions, attach, liveness, recording
from exptable_desktop.core import states as st
from exptable_desktop.store.schema import Experiment, MetricSummary, QueueEntry, Worker, database_proxy
from sdk_scripts import run, start, wait_for_line

ATTACHING_SCRIPT = """
    import sys
    from exptable_desktop import Task
    task = Task.init("ignored", "ignored")
    task.get_logger().report_scalar("loss", "train", 0.5, 0)
    if sys.argv[1:] == ["fail"]:
        raise RuntimeError("training diverged")
    """

WAITING_SCRIPT = """
    import time
    from exptable_desktop import Task
    task = Task.init("ignored", "ignored")
    print("attached", flush=True)
    while True:
        time.sleep(0.05)
    """


def script(tmp_path: Path, text: str, name: str = "train.py") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def draft(name: str = "queued run") -> str:
    return recording.create_experiment("attach", name)


def queued(name: str = "queued run") -> str:
    exp_id = draft(name)
    assert actions.enqueue([exp_id], "default").succeeded == [exp_id]
    return exp_id


def row(exp_id: str) -> Experiment:
    return Experiment.get_by_id(exp_id)


def one_error_line(stderr: str) -> str:
    (line,) = [ln for ln in stderr.splitlines() if ln.startswith("RuntimeError: ")]
    return line[len("RuntimeError: "):]


# ---- through the SDK, in real processes ----------------------------------------------------------

@pytest.mark.both_backends
def test_a_published_experiment_cannot_be_attached(script_env, tmp_path):
    exp_id = draft("finished and published")
    assert recording.set_status(exp_id, st.RUNNING) and recording.set_status(exp_id, st.COMPLETED)
    assert actions.publish([exp_id]).succeeded == [exp_id]

    done = run(script(tmp_path, ATTACHING_SCRIPT), dict(script_env, EXPTABLE_TASK_ID=exp_id))

    assert done.returncode == 1
    assert one_error_line(done.stderr) == (
        f"EXPTABLE_TASK_ID={exp_id}: experiment {exp_id} is Published; only a Pending or Running experiment "
        "can be attached to (enqueue it to run it again)")
    assert row(exp_id).status == st.PUBLISHED
    assert not MetricSummary.select().where(MetricSummary.experiment == exp_id).exists()


@pytest.mark.both_backends
def test_attaching_takes_the_run_out_of_its_queue_so_a_retry_works(script_env, tmp_path):
    exp_id = queued()
    done = run(script(tmp_path, ATTACHING_SCRIPT), dict(script_env, EXPTABLE_TASK_ID=exp_id), "fail")
    assert done.returncode == 1 and "training diverged" in done.stderr
    assert row(exp_id).status == st.FAILED
    assert not QueueEntry.select().where(QueueEntry.experiment == exp_id).exists()

    assert actions.retry([exp_id], "default").succeeded == [exp_id]
    assert QueueEntry.select().where(QueueEntry.experiment == exp_id).count() == 1


@pytest.mark.both_backends
def test_a_second_process_cannot_attach_to_a_running_experiment(script_env, tmp_path):
    exp_id = queued()
    env = dict(script_env, EXPTABLE_TASK_ID=exp_id)
    first = start(script(tmp_path, WAITING_SCRIPT, "first.py"), env)
    try:
        wait_for_line(first, "attached")
        second = run(script(tmp_path, ATTACHING_SCRIPT, "second.py"), env)
        assert second.returncode == 1
        message = one_error_line(second.stderr)
        assert message.startswith(f"EXPTABLE_TASK_ID={exp_id}: experiment {exp_id} is already Running in another "
                                  f"process (pid {first.pid} on {liveness.this_host()}, last heartbeat ")
        assert row(exp_id).status == st.RUNNING
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(30)
    assert row(exp_id).status == st.ABORTED  # the first one still ended its own run


@pytest.mark.both_backends
def test_the_script_an_agent_launched_attaches_once(script_env, tmp_path):
    exp_id = queued()
    # What an agent does: take the experiment off its queue, mark it Running under its
    # name, say so in its Worker row, then launch the script with the two variables.
    now = time.time()
    Worker.create(name="agent-1", host=liveness.this_host(), status="busy", current_experiment=exp_id,
                  started=now, last_seen=now)
    assert recording.set_status(exp_id, st.RUNNING)
    Experiment.update(worker="agent-1").where(Experiment.id == exp_id).execute()
    env = dict(script_env, EXPTABLE_TASK_ID=exp_id, **{attach.ENV_WORKER: "agent-1"})

    first = start(script(tmp_path, WAITING_SCRIPT, "first.py"), env)
    try:
        wait_for_line(first, "attached")
        again = run(script(tmp_path, ATTACHING_SCRIPT, "second.py"), env)
        assert again.returncode == 1 and "is being run by worker" not in again.stderr
        assert "already Running in another process" in one_error_line(again.stderr)
    finally:
        first.send_signal(signal.SIGTERM)
        first.wait(30)
    assert row(exp_id).worker == "agent-1"


# ---- the rule, on its own ----------------------------------------------------------------------------

def _make(state: str) -> str:
    exp_id = draft(state)
    if state == "draft":
        return exp_id
    assert recording.set_status(exp_id, st.RUNNING)
    final = {"completed": st.COMPLETED, "aborted": st.ABORTED, "failed": st.FAILED, "published": st.COMPLETED}
    assert recording.set_status(exp_id, final[state])
    if state == "published":
        assert actions.publish([exp_id]).succeeded == [exp_id]
    return exp_id


@pytest.mark.both_backends
@pytest.mark.parametrize("state, label", [("draft", "Draft"), ("completed", "Completed"), ("aborted", "Aborted"),
                                          ("failed", "Failed"), ("published", "Published")])
def test_only_pending_or_running_experiments_can_be_attached(db, state, label):
    exp_id = _make(state)
    before = row(exp_id)
    with pytest.raises(attach.AttachError, match=f"is {label}; only a Pending or Running experiment"):
        attach.attach_run(exp_id, pid=1, host="h")
    assert row(exp_id).status == before.status and row(exp_id).heartbeat == before.heartbeat


@pytest.mark.both_backends
def test_attaching_a_pending_experiment_claims_it(db):
    exp_id = queued()
    assert attach.attach_run(exp_id, pid=4321, host="trainer", worker="agent-7") == st.PENDING
    exp = row(exp_id)
    assert (exp.status, exp.worker, exp.status_message) == (st.RUNNING, "agent-7", "")
    assert exp.started is not None and exp.heartbeat > exp.status_changed
    assert {k: v for k, v in json.loads(exp.runtime).items() if k in ("host", "pid")} == {"host": "trainer",
                                                                                         "pid": 4321}
    assert not QueueEntry.select().where(QueueEntry.experiment == exp_id).exists()
    # The same agent's name does not let a second process in: the run has its owner.
    with pytest.raises(attach.AttachError, match="already Running in another process"):
        attach.attach_run(exp_id, pid=4322, host="trainer", worker="agent-7")


@pytest.mark.both_backends
def test_an_agent_launched_run_is_attachable_once_and_only_by_that_agents_script(db):
    exp_id = queued()
    now = time.time()
    Worker.create(name="agent-1", status="busy", current_experiment=exp_id, started=now, last_seen=now)
    assert recording.set_status(exp_id, st.RUNNING)
    Experiment.update(worker="agent-1").where(Experiment.id == exp_id).execute()

    with pytest.raises(attach.AttachError, match="is being run by worker 'agent-1'"):
        attach.attach_run(exp_id, pid=1, host="h")
    with pytest.raises(attach.AttachError, match="is being run by worker 'agent-1'"):
        attach.attach_run(exp_id, pid=1, host="h", worker="agent-2")
    assert attach.attach_run(exp_id, pid=2, host="h", worker="agent-1") == st.RUNNING
    with pytest.raises(attach.AttachError, match=r"already Running in another process \(pid 2 on h"):
        attach.attach_run(exp_id, pid=3, host="h", worker="agent-1")


@pytest.mark.both_backends
def test_a_running_experiment_whose_process_died_can_be_taken_over(db):
    exp_id = queued()
    attach.attach_run(exp_id, pid=10, host="h")
    with pytest.raises(attach.AttachError, match="already Running"):
        attach.attach_run(exp_id, pid=11, host="h")
    later = time.time() + liveness.stale_after() + 1  # it stopped beating
    assert attach.attach_run(exp_id, pid=11, host="h", now=later) == st.RUNNING
    assert json.loads(row(exp_id).runtime)["pid"] == 11


def test_an_unknown_experiment_says_so(db):
    with pytest.raises(recording.UnknownExperiment, match="no experiment with id " + "0" * 32):
        attach.attach_run("0" * 32, pid=1, host="h")


# ---- racing ---------------------------------------------------------------------------------------------

RACER = textwrap.dedent("""
    import os, sys, time
    from exptable_desktop.store import open_database
    from exptable_desktop.core import attach
    open_database(sys.argv[1])
    print("ready", flush=True)
    while not os.path.exists(sys.argv[3]):
        time.sleep(0.002)
    try:
        attach.attach_run(sys.argv[2], pid=os.getpid(), host="racer")
        print("claimed")
    except attach.AttachError as exc:
        print("refused: " + str(exc))
""")


@pytest.mark.both_backends
def test_processes_racing_to_attach_only_one_wins(db, db_url, script_env, tmp_path):
    exp_id = queued()
    racer, go = script(tmp_path, RACER, "racer.py"), tmp_path / "go"
    procs = [subprocess.Popen([sys.executable, str(racer), db_url, exp_id, str(go)], env=script_env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(4)]
    try:
        for proc in procs:
            assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        go.write_text("")
        outcomes = {}
        for proc in procs:
            out, err = proc.communicate(timeout=60)
            assert proc.returncode == 0, err
            outcomes[proc.pid] = out.strip()
    finally:
        for proc in procs:
            proc.kill()
    winners = [pid for pid, outcome in outcomes.items() if outcome == "claimed"]
    assert len(winners) == 1, outcomes
    assert all(o.startswith("refused: ") and "already Running in another process" in o
               for pid, o in outcomes.items() if pid != winners[0])
    assert json.loads(row(exp_id).runtime)["pid"] == winners[0]


@pytest.mark.both_backends
def test_threads_racing_to_attach_only_one_wins(db):
    exp_id = queued()
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def race(pid: int):
        try:
            barrier.wait(timeout=10)
            attach.attach_run(exp_id, pid=pid, host="racer")
            outcomes.append("claimed")
        except attach.AttachError:
            outcomes.append("refused")
        finally:
            database_proxy.obj.close()

    threads = [threading.Thread(target=race, args=(pid,)) for pid in range(100, 104)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(outcomes) == ["claimed", "refused", "refused", "refused"]
