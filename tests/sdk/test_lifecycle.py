"""Life cycle of a real script: Completed, Failed, Aborted by signal or from the app, killed, under an agent."""
from __future__ import annotations

import json
import signal
import sqlite3
import time

import numpy as np
import pytest

from exptable_desktop.core import actions, editing, queries, recording
from exptable_desktop.core import states as st
from exptable_desktop.store.schema import Experiment, MetricSummary
from exptable_desktop.store.series import read_series
from sdk_scripts import only_experiment_id, run, start, wait_for_line

LOOPING_SCRIPT = """
    import time
    from exptable_desktop import Task
    task = Task.init("life", "looping")
    logger = task.get_logger()
    i = 0
    while True:
        logger.report_scalar("loss", "train", 1.0 / (i + 1), i)
        if i == 5:
            print("ready", flush=True)
        i += 1
        time.sleep(0.01)
    """


def _wait_running_with_points(timeout: float = 20) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        exp = Experiment.select().first()
        if exp is not None and exp.status == st.RUNNING and exp.heartbeat and MetricSummary.select().where(
                MetricSummary.experiment == exp.id).exists():
            return exp.id
        time.sleep(0.1)
    raise AssertionError("the script never showed up Running with points")


def test_uncaught_exception_marks_failed_with_traceback(make_repo, script_env):
    script = make_repo("""
        from exptable_desktop import Task
        task = Task.init("life", "crash")
        task.get_logger().report_scalar("loss", "train", 0.5, 0)
        def step():
            raise RuntimeError("boom at step 3")
        step()
        """)
    done = run(script, script_env)
    assert done.returncode == 1
    assert "RuntimeError: boom at step 3" in done.stderr
    exp_id = only_experiment_id()
    detail = queries.experiment_detail(exp_id)
    assert detail["status"] == st.FAILED
    assert detail["status_reason"] == "RuntimeError: boom at step 3"
    console = recording.read_console(exp_id)
    errors = [text for level, text in console if level == "error"]
    assert errors[0] == "Traceback (most recent call last):"
    assert any("in step" in line for line in errors)
    assert errors[-1] == "RuntimeError: boom at step 3"
    assert detail["metrics"][0]["last"] == 0.5


def test_nonzero_sys_exit_marks_failed_and_zero_completes(make_repo, script_env):
    script = make_repo("""
        import sys
        from exptable_desktop import Task
        Task.init("life", "exit-" + sys.argv[1])
        sys.exit(int(sys.argv[1]))
        """)
    assert run(script, script_env, "3").returncode == 3
    assert run(script, script_env, "0").returncode == 0
    by_name = {e["name"]: e for e in queries.list_experiments()}
    assert by_name["exit-3"]["status"] == st.FAILED and by_name["exit-3"]["status_reason"] == "exit code 3"
    assert by_name["exit-0"]["status"] == st.COMPLETED


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "ctrl-c"])
def test_sigterm_and_ctrl_c_mark_aborted_and_keep_points(make_repo, script_env, signum):
    script = make_repo(LOOPING_SCRIPT)
    proc = start(script, script_env)
    try:
        wait_for_line(proc, "ready")
        time.sleep(0.3)
        proc.send_signal(signum)
        proc.wait(timeout=10)
    finally:
        proc.kill()
    exp_id = only_experiment_id()
    detail = queries.experiment_detail(exp_id)
    assert detail["status"] == st.ABORTED
    assert detail["status_reason"] in ("terminated (SIGTERM)", "interrupted (Ctrl-C)")
    series = read_series(exp_id, "loss", "train")
    # Everything reported up to the signal arrived, in order, without gaps.
    assert len(series) > 6
    assert series.iterations.tolist() == list(range(len(series)))
    assert detail["metrics"][0]["count"] == len(series)


@pytest.mark.both_backends
def test_abort_from_the_app_ends_the_script_within_five_seconds(make_repo, script_env):
    script = make_repo(LOOPING_SCRIPT)
    proc = start(script, script_env)
    try:
        wait_for_line(proc, "ready")
        exp_id = _wait_running_with_points()
        result = actions.abort([exp_id])
        assert result.succeeded == [exp_id]
        assert Experiment.get_by_id(exp_id).status_message == "stopping"
        asked = time.time()
        proc.wait(timeout=10)
        took = time.time() - asked
    finally:
        proc.kill()
    assert took < 5.0, took
    exp = Experiment.get_by_id(exp_id)
    assert exp.status == st.ABORTED
    assert exp.status_message == "aborted"
    series = read_series(exp_id, "loss", "train")
    assert series.iterations.tolist() == list(range(len(series)))
    assert ("error", "KeyboardInterrupt") in recording.read_console(exp_id)


def test_abort_when_the_script_swallows_the_interrupt(make_repo, script_env):
    script = make_repo("""
        import time
        from exptable_desktop import Task
        task = Task.init("life", "stubborn")
        task.get_logger().report_scalar("loss", "train", 1.0, 0)
        print("ready", flush=True)
        while True:
            try:
                time.sleep(0.05)
            except KeyboardInterrupt:
                pass
        """)
    proc = start(script, script_env)
    try:
        wait_for_line(proc, "ready")
        exp_id = _wait_running_with_points()
        actions.abort([exp_id])
        asked = time.time()
        proc.wait(timeout=10)
        took = time.time() - asked
    finally:
        proc.kill()
    assert took < 5.0, took
    assert Experiment.get_by_id(exp_id).status == st.ABORTED


def test_kill_9_loses_at_most_the_last_interval_and_leaves_a_consistent_db(make_repo, script_env, db_url):
    script = make_repo("""
        import time
        from exptable_desktop import Task
        task = Task.init("life", "killed")
        logger = task.get_logger()
        start = time.time()
        i = 0
        while True:
            logger.report_scalar("loss", "train", float(i), i)
            logger.report_scalar("loss", "val", float(-i), i)
            if i == 100:
                print("ready", flush=True)
            i += 1
            if i % 100 == 0:
                time.sleep(0.01)
        """)
    proc = start(script, script_env)
    try:
        wait_for_line(proc, "ready")
        time.sleep(2.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        killed_at = time.time()
    finally:
        proc.kill()
    conn = sqlite3.connect(db_url[len("sqlite:///"):])
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    exp = Experiment.select().first()
    assert exp.status == st.RUNNING  # nobody was left to say otherwise; the app sees a stale heartbeat
    assert killed_at - exp.heartbeat < 2.5
    for variant in ("train", "val"):
        series = read_series(exp.id, "loss", variant)
        assert len(series) > 100
        assert series.iterations.tolist() == list(range(len(series)))
        assert killed_at - series.timestamps[-1] < 2.5
        summary = MetricSummary.get((MetricSummary.experiment == exp.id) & (MetricSummary.variant == variant))
        assert summary.count == len(series)
        assert summary.last_iteration == len(series) - 1
    assert exp.last_iteration == len(read_series(exp.id, "loss", "train")) - 1


AGENT_SCRIPT = """
    import argparse
    import json
    from pathlib import Path
    from exptable_desktop import Task

    parser = argparse.ArgumentParser()
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--use-aug", action="store_true")
    parser.add_argument("--layers", type=int, nargs="+", default=[64, 64])
    args = parser.parse_args()
    task = Task.init("ignored project", "ignored name")
    params = task.connect({"batch_size": 32, "opt": {"name": "sgd", "momentum": 0.9}})
    config = task.connect_configuration({"data": {"root": "/data"}}, name="data")
    Path("model.json").write_text('{"depth": 18}')
    model_path = task.connect_configuration(Path("model.json"), name="model")
    task.get_logger().report_scalar("loss", "train", 0.25, 0)
    print("RESULT " + json.dumps({
        "lr": args.lr, "epochs": args.epochs, "use_aug": args.use_aug, "layers": args.layers,
        "params": params, "config": config, "model": Path(model_path).read_text(),
        "types": [type(args.lr).__name__, type(args.epochs).__name__, type(params["batch_size"]).__name__,
                  type(params["opt"]["momentum"]).__name__],
    }))
    """


@pytest.mark.both_backends
def test_agent_mode_attaches_and_overrides_with_the_stored_values(make_repo, script_env):
    exp_id = recording.create_experiment("agent-proj", "edited draft")
    editing.require(editing.set_hyperparams([exp_id], "Args", {
        "lr": {"value": "0.5", "type": "float"}, "epochs": {"value": "7", "type": "int"},
        "use_aug": {"value": "true", "type": "bool"}, "layers": {"value": "[8, 16, 32]", "type": "list"}}))
    editing.require(editing.set_hyperparams([exp_id], "General", {
        "batch_size": {"value": "128", "type": "int"}, "opt/momentum": {"value": "0.5", "type": "float"}}))
    editing.require(editing.set_configuration([exp_id], "data", json.dumps({"data": {"root": "/mnt"}, "n": 2}),
                                              content_type="json"))
    editing.require(editing.set_configuration([exp_id], "model", '{"depth": 50}', content_type="json"))
    assert actions.enqueue([exp_id], "default").succeeded == [exp_id]  # only a queued experiment is attached to
    script = make_repo(AGENT_SCRIPT)
    env = dict(script_env, EXPTABLE_TASK_ID=exp_id)
    done = run(script, env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.split("RESULT ", 1)[1])
    assert result["lr"] == 0.5 and result["epochs"] == 7 and result["use_aug"] is True
    assert result["layers"] == [8, 16, 32]
    assert result["params"] == {"batch_size": 128, "opt": {"name": "sgd", "momentum": 0.5}}
    assert result["types"] == ["float", "int", "int", "float"]
    assert result["config"] == {"data": {"root": "/mnt"}, "n": 2}
    assert result["model"] == '{"depth": 50}'
    assert Experiment.select().count() == 1  # attached, nothing new created
    detail = queries.experiment_detail(exp_id)
    assert detail["name"] == "edited draft" and detail["project"] == "agent-proj"
    assert detail["status"] == st.COMPLETED
    assert detail["hyperparameters"]["Args"]["lr"]["value"] == "0.5"
    assert detail["hyperparameters"]["General"]["opt/name"]["value"] == "sgd"
    assert detail["metrics"][0]["last"] == 0.25


def test_agent_mode_with_an_unknown_id_says_so(make_repo, script_env):
    script = make_repo("from exptable_desktop import Task\nTask.init('p', 'n')\n")
    done = run(script, dict(script_env, EXPTABLE_TASK_ID="0" * 32))
    assert done.returncode == 1
    assert f"EXPTABLE_TASK_ID={'0' * 32} names no experiment" in done.stderr


WRITER_SCRIPT = """
    import sys
    import time
    from exptable_desktop import Task
    n = int(sys.argv[1])
    task = Task.init("swarm", "writer-" + sys.argv[2])
    logger = task.get_logger()
    for burst in range(30):
        for i in range(burst * n, (burst + 1) * n):
            logger.report_scalar("loss", "train", i * 0.5, i)
            logger.report_scalar("loss", "val", float("nan") if i % 7 == 0 else -i, i)
        print(f"burst {burst}")
        time.sleep(0.05)
    logger.report_single_value("done", 1.0)
    """


@pytest.mark.both_backends
def test_eight_concurrent_writers_lose_nothing(make_repo, script_env):
    script = make_repo(WRITER_SCRIPT)
    per_burst = 1000
    procs = [start(script, script_env, str(per_burst), str(k)) for k in range(8)]
    outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
        assert "locked" not in err.lower() and "exptable:" not in err, err
        assert out.count("burst ") == 30
    total = 30 * per_burst
    experiments = list(Experiment.select())
    assert len(experiments) == 8
    for exp in experiments:
        assert exp.status == st.COMPLETED
        train = read_series(exp.id, "loss", "train")
        assert len(train) == total
        assert np.array_equal(train.iterations, np.arange(total))
        assert np.array_equal(train.values, np.arange(total) * 0.5)
        val = read_series(exp.id, "loss", "val")
        assert len(val) == total and int(np.isnan(val.values).sum()) == len(range(0, total, 7))
        summary = {m["variant"]: m for m in queries.experiment_detail(exp.id)["metrics"]}
        assert summary["train"]["count"] == total and summary["train"]["max"] == (total - 1) * 0.5
        assert summary["val"]["min"] == -(total - 1) and summary["val"]["max"] == -1
        assert summary["val"]["max_iteration"] == 1
        assert recording.console_line_count(exp.id) == 30


def _act_on_a_live_script(make_repo, script_env, action):
    """Start the looping script, apply ``action`` to its experiment once it reports, wait for its end."""
    proc = start(make_repo(LOOPING_SCRIPT), script_env)
    try:
        wait_for_line(proc, "ready")
        exp_id = _wait_running_with_points()
        assert action([exp_id]).succeeded == [exp_id]
        proc.wait(timeout=10)
    finally:
        proc.kill()
    return exp_id, proc.stderr.read()


def test_reset_of_a_live_script_stops_it_and_keeps_the_draft_clean(make_repo, script_env):
    exp_id, stderr = _act_on_a_live_script(make_repo, script_env, actions.reset)
    exp = Experiment.get_by_id(exp_id)
    # The old run's later reports were refused, and its end did not overwrite the Draft.
    assert exp.status == st.DRAFT and exp.last_iteration is None
    assert len(read_series(exp_id, "loss", "train")) == 0
    assert recording.read_console(exp_id) == []
    assert "reset" in stderr


def test_archive_of_a_live_script_ends_aborted_not_stopping(make_repo, script_env):
    exp_id, _ = _act_on_a_live_script(make_repo, script_env, actions.archive)
    exp = Experiment.get_by_id(exp_id)
    assert exp.archived and exp.status == st.ABORTED
    assert exp.status_message == "aborted"
