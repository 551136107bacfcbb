"""Real ``exptable agent`` processes running experiments from real git repositories."""
from __future__ import annotations

import os
import signal
import socket
import time

import pytest

from agent_support import console, console_text, run_agent_once, start_agent, status, stop_agent, wait_until

from exptable_desktop.core import actions, editing, queues
from exptable_desktop.core import states as st
from exptable_desktop.core.create import create_from_spec
from exptable_desktop.store.schema import Experiment, QueueEntry, Worker


@pytest.mark.both_backends
def test_clone_edit_enqueue_and_the_agent_runs_it_with_the_edited_values(db, db_url, script_env, repo, make_spec):
    original = create_from_spec(make_spec("train.py", repository=repo.url, branch="feature"))
    clone_id = actions.clone([original]).created[original]
    editing.require(editing.set_hyperparams([clone_id], "Args", {"lr": "0.75", "epochs": "7"}))
    actions.enqueue([clone_id], "default")
    done = run_agent_once(script_env, db_url)
    assert f"{clone_id}: Completed" in done.stdout
    exp = Experiment.get_by_id(clone_id)
    assert (exp.status, exp.worker) == (st.COMPLETED, f"{socket.gethostname()}:0")
    text = console_text(clone_id)
    assert "VERSION=feature lr=0.75 epochs=7" in text  # the feature branch, with the Draft's values
    assert f"worker {exp.worker} pulled experiment {clone_id} from queue default" in text
    assert text.count("VERSION=") == 1  # the SDK under an agent leaves the console to the agent
    assert QueueEntry.select().count() == 0
    assert Experiment.get_by_id(original).status == st.DRAFT
    assert Worker.get_by_id(exp.worker).status == "stopped"  # --once: the agent said it left


def test_uncommitted_diff_tag_and_working_directory(db, db_url, script_env, repo, make_spec):
    with_diff = create_from_spec(make_spec("train.py", name="diff"))
    at_tag = create_from_spec(make_spec("train.py", name="tag", repository=repo.url, tag="v1"))
    in_src = create_from_spec(make_spec("job.py", name="cwd", working_dir="src"))
    as_module = create_from_spec(make_spec("", name="module", module="src.job"))
    runs = (with_diff, at_tag, in_src, as_module)
    actions.enqueue(runs, "default")
    agent = start_agent(script_env, db_url)
    try:
        wait_until(lambda: all(status(e)[0] not in (st.PENDING, st.RUNNING) for e in runs), 60, interval=0.1,
                   what="the four runs")
    finally:
        stop_agent(agent)
    assert [status(e)[0] for e in runs] == [st.COMPLETED] * 4, [console_text(e) for e in runs]
    assert "VERSION=uncommitted lr=0.1" in console_text(with_diff)
    assert "applying the stored uncommitted changes" in console_text(with_diff)
    assert "VERSION=v1 lr=0.1" in console_text(at_tag)
    assert "job cwd src" in console_text(in_src)
    assert "job cwd code" in console_text(as_module)


def test_a_script_without_the_sdk_shows_its_output_and_its_exit_code_decides(db, db_url, script_env, make_spec):
    good = create_from_spec(make_spec("plain.py", name="good"))
    bad = create_from_spec(make_spec("fail.py", name="bad"))
    actions.enqueue([good, bad], "default")
    agent = start_agent(script_env, db_url)
    try:
        wait_until(lambda: status(bad)[0] == st.FAILED, 60, what="the second experiment to fail")
    finally:
        stop_agent(agent)
    assert status(good)[:2] == (st.COMPLETED, "")
    lines = console(good)
    assert ("info", "plain out") in lines and ("error", "plain err") in lines
    assert status(bad)[1] == "exit code 3: ValueError: boom"
    assert ("info", "about to fail") in console(bad)


@pytest.mark.both_backends
def test_abort_reaches_the_agent_and_it_takes_the_next_entry(db, db_url, script_env, make_spec):
    looping = create_from_spec(make_spec("loop.py", name="loop"))
    following = create_from_spec(make_spec("plain.py", name="next"))
    actions.enqueue([looping, following], "default")
    agent = start_agent(script_env, db_url)
    try:
        wait_until(lambda: "tick 3" in console_text(looping), 60, what="the loop to print")
        started = time.monotonic()
        actions.abort([looping])
        wait_until(lambda: status(looping)[0] == st.ABORTED, 10, what="the abort")
        assert time.monotonic() - started < 2.0
        wait_until(lambda: status(following)[0] == st.COMPLETED, 60, what="the next entry")
    finally:
        stop_agent(agent)
    assert status(looping)[1] == "Aborted by user"
    assert "process stopped (aborted)" in console_text(looping)


def test_abort_escalates_to_sigkill_for_a_script_that_ignores_signals(db, db_url, script_env, make_spec):
    stubborn = create_from_spec(make_spec("stubborn.py", name="stubborn"))
    actions.enqueue([stubborn], "default")
    agent = start_agent(script_env, db_url, "--once", "--grace", "0.3")
    try:
        wait_until(lambda: "ignoring SIGINT" in console_text(stubborn), 60, what="the script to start")
        actions.abort([stubborn])
        assert agent.wait(20) == 0
    finally:
        stop_agent(agent)
    assert status(stubborn)[:2] == (st.ABORTED, "Aborted by user")


@pytest.mark.slow
def test_failures_are_recorded_and_the_agent_goes_on(db, db_url, script_env, repo, make_spec, tmp_path):
    not_executable = tmp_path / "python-but-not-executable"
    not_executable.write_text("")
    cases = {
        create_from_spec(make_spec(name="unreachable", repository=(tmp_path / "gone.git").as_uri()),
                         validate=False): f"cannot clone {(tmp_path / 'gone.git').as_uri()}: "
                                          f"'{tmp_path / 'gone.git'}' does not appear to be a git repository",
        create_from_spec(make_spec(name="commit", repository=repo.url, commit="f" * 40),
                         validate=False): f"commit {'f' * 40} not found in {repo.url}",
        create_from_spec(make_spec("nothing.py", name="script", repository=repo.url, branch="feature"),
                         validate=False): f"script nothing.py not found in {repo.url} at feature",
        create_from_spec(make_spec(name="python", python=str(tmp_path / "no-python"))):
            f"Python binary {tmp_path / 'no-python'} not found",
        create_from_spec(make_spec(name="start", python=str(not_executable))):
            f"could not start {not_executable}: Permission denied",
        create_from_spec(make_spec(name="requirements", packages_mode="packages",
                                   packages=["not a requirement ((("])):
            "installing the packages failed (exit code 1); its log is in the console",
    }
    last = create_from_spec(make_spec("plain.py", name="after the failures"))
    actions.enqueue([*cases, last], "default")
    agent = start_agent(script_env, db_url)
    try:
        wait_until(lambda: status(last)[0] == st.COMPLETED, 180, interval=0.2, what="the last experiment")
    finally:
        out, err = stop_agent(agent)
    assert agent.returncode == 0 and "Traceback" not in err, err
    for exp_id, reason in cases.items():
        assert status(exp_id)[:2] == (st.FAILED, reason), console_text(exp_id)
    pip_log = console_text(next(e for e, r in cases.items() if r.startswith("installing")))
    assert "making the environment" in pip_log and "not a requirement" in pip_log


def test_dequeue_of_an_entry_the_agent_runs_is_refused(db, db_url, script_env, make_spec):
    looping = create_from_spec(make_spec("loop.py", name="loop"))
    actions.enqueue([looping], "default")
    agent = start_agent(script_env, db_url, "--name", "runner", "--once", "--grace", "0.2")
    try:
        wait_until(lambda: "tick 1" in console_text(looping), 60, what="the loop to print")
        assert queues.remove_entries([looping]).skipped == {looping: "Experiment is already running on worker runner"}
        assert actions.dequeue([looping]).skipped == {looping: "Experiment is Running, not Pending"}
        actions.abort([looping])
        agent.wait(20)
    finally:
        stop_agent(agent)


def test_a_queued_experiment_starts_within_a_second_with_an_idle_agent(db, db_url, script_env, make_spec):
    exp_id = create_from_spec(make_spec("plain.py"))
    agent = start_agent(script_env, db_url, "--once")
    try:
        wait_until(lambda: queues.live_workers_for_queue("default"), 30, what="the agent to register")
        time.sleep(0.6)  # the agent is idle, between two polls
        enqueued = time.monotonic()
        actions.enqueue([exp_id], "default")
        wait_until(lambda: status(exp_id)[0] != st.PENDING, 5, interval=0.01, what="the claim")
        started = time.monotonic() - enqueued
        wait_until(lambda: "plain out" in console_text(exp_id), 10, interval=0.02, what="the first line")
        first_line = time.monotonic() - enqueued
        agent.wait(30)
    finally:
        stop_agent(agent)
    assert started < 1.0, started
    assert first_line < 3.0, first_line


@pytest.mark.slow
@pytest.mark.both_backends
def test_a_killed_agent_leaves_the_worker_list_and_its_run_to_stale_detection(db, db_url, script_env, make_spec,
                                                                              monkeypatch):
    from exptable_desktop.core.liveness import mark_stale_runs

    monkeypatch.setenv("EXPTABLE_HEARTBEAT_INTERVAL", "1")  # stale after 3 s, for this process and the agent
    env = dict(script_env, EXPTABLE_HEARTBEAT_INTERVAL="1")
    exp_id = create_from_spec(make_spec("until_orphaned.py"))
    actions.enqueue([exp_id], "default")
    agent = start_agent(env, db_url, "--name", "doomed")
    try:
        wait_until(lambda: "waiting for the agent" in console_text(exp_id), 60, what="the script to start")
        time.sleep(3.5)  # longer than a run may stay silent: the script itself never beats
        assert queues.live_workers_for_queue("default") == ["doomed"]
        assert mark_stale_runs() == []  # the live worker vouches for its run
        os.kill(agent.pid, signal.SIGKILL)
        agent.wait(10)
        killed = time.monotonic()
        wait_until(lambda: not queues.live_workers_for_queue("default"), 10, what="the worker to go")
        assert 1.0 < time.monotonic() - killed < 5.0
        wait_until(lambda: mark_stale_runs() == [exp_id], 10, interval=0.2, what="stale detection")
    finally:
        stop_agent(agent)
    assert status(exp_id)[:2] == (st.ABORTED, "Forced stop (no heartbeat)")
    assert [w.name for w in queues.list_workers(include_gone=True) if not w.live] == ["doomed"]


def test_stopping_the_agent_aborts_its_run_and_a_reset_run_is_left_as_reset(db, db_url, script_env, make_spec):
    reset_me = create_from_spec(make_spec("loop.py", name="reset under the agent"))
    stopped = create_from_spec(make_spec("loop.py", name="agent stopped"))
    actions.enqueue([reset_me, stopped], "default")
    agent = start_agent(script_env, db_url, "--name", "short-lived", "--grace", "0.5")
    try:
        wait_until(lambda: "tick 1" in console_text(reset_me), 60, what="the first loop")
        actions.reset([reset_me])
        wait_until(lambda: "tick 1" in console_text(stopped), 60, what="the second loop, after the reset")
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(20) == 0
    finally:
        out, _err = stop_agent(agent)
    assert status(reset_me)[0] == st.DRAFT and console_text(reset_me) == ""  # its run left no trace
    assert any(line.startswith(f"exptable agent short-lived: {reset_me}: ") and "reset" in line
               and line.endswith("nothing more recorded") for line in out.splitlines()), out
    assert status(stopped)[:2] == (st.ABORTED, "worker short-lived was stopped")
    assert Worker.get_by_id("short-lived").status == "stopped"
