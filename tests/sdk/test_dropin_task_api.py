"""Scripts written for the reference SDK: live connected dicts, objects and parameter classes, parameters as
dicts, packages, label enumerations, status calls, and init arguments that are not supported here.
"""
from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest

from exptable_desktop.core import states as st
from exptable_desktop.store.schema import Execution, Experiment
from sdk_scripts import run


def _script(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "work" / "train.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


CONNECT = """
    import argparse
    import copy
    import pickle
    import time
    from exptable_desktop import Task
    from exptable_desktop.task_parameters import TaskParameters, param, percent_param

    class Optimizer:
        lr = 0.1
        momentum = 0.9

    class Schedule:
        def __init__(self):
            self.warmup = 5
            self.kind = "cosine"

    class Params(TaskParameters):
        iterations = param(type=int, range=(0, 1000), desc="steps", default=10)
        keep = percent_param(default=0.5)

    task = Task.init(project_name="dropin", task_name="connect")
    config = task.connect({"batch": 32, "aug": {"flip": True}})
    for step in range(10000):          # a training loop writing to the dict: no database write per step
        config["step"] = step
    config["batch"] = 64
    config["aug"]["crop"] = 0.8
    config["aug"]["flip"] = False
    config["extra"] = {"seed": 7}
    config.update(tag="late")
    task.connect(Optimizer, name="Optimizer")
    task.connect(Schedule(), name="Schedule")
    task.connect(argparse.Namespace(depth=3, name="resnet"), name="Model")
    params = task.connect(Params(iterations=20), name="Params")
    assert type(copy.deepcopy(config)) is dict and pickle.loads(pickle.dumps(config)) == config
    reader = Task.get_task(task_id=task.id)
    deadline = time.time() + 15
    while time.time() < deadline and reader.get_parameters().get("General/batch") != "64":
        time.sleep(0.1)
    print("WHILE RUNNING", reader.get_parameters().get("General/batch"), flush=True)
    config["batch"] = 128              # the last write before the end is recorded at exit
    """


def test_connected_dict_is_live_and_objects_have_sections(tmp_path, script_env):
    from exptable_desktop import Task

    done = run(_script(tmp_path, CONNECT), script_env)
    assert done.returncode == 0, done.stderr
    assert "WHILE RUNNING 64" in done.stdout
    task = Task.get_task(project_name="dropin", task_name="connect")
    params = task.get_parameters()
    assert params["General/batch"] == "128" and params["General/step"] == "9999"
    assert params["General/aug/flip"] == "False" and params["General/aug/crop"] == "0.8"
    assert params["General/extra/seed"] == "7" and params["General/tag"] == "late"
    assert params["Optimizer/lr"] == "0.1" and params["Optimizer/momentum"] == "0.9"
    assert params["Schedule/warmup"] == "5" and params["Schedule/kind"] == "cosine"
    assert params["Model/depth"] == "3" and params["Params/iterations"] == "20" and params["Params/keep"] == "0.5"
    nested = task.get_parameters_as_dict()
    assert nested["General"]["aug"] == {"crop": "0.8", "flip": "False"}
    assert task.get_parameters_as_dict(cast=True)["General"]["batch"] == 128


def test_live_dict_writes_are_noted_and_recorded_once_per_sync():
    """Many writes between two syncs cost one recording per section, with the last values."""
    from exptable_desktop.sdk.live import LiveObjects

    recorded = []
    state = LiveObjects(lambda section, values: recorded.append((section, dict(values))), warn=print)
    live = state.connect_dict("General", {"lr": 0.1, "opt": {"beta": 0.9}})
    for i in range(1000):
        live["lr"] = i
    live["opt"]["beta"] = 0.5
    live.setdefault("new", "x")
    state.sync()
    assert recorded == [("General", {"lr": 999, "opt/beta": 0.5, "new": "x"})]
    state.sync()
    assert len(recorded) == 1  # nothing new: nothing written


def test_a_failed_sync_keeps_the_writes_for_the_next_one():
    from exptable_desktop.sdk.live import LiveObjects

    calls, warnings = [], []

    def record(section, values):
        calls.append(dict(values))
        if len(calls) == 1:
            raise OSError("disk is full")
    state = LiveObjects(record, warn=warnings.append)
    live = state.connect_dict("General", {})
    live["a"] = 1
    state.sync()
    live["b"] = 2
    state.sync()
    assert calls == [{"a": 1}, {"a": 1, "b": 2}] and len(warnings) == 1


def test_task_parameters_check_their_values():
    from exptable_desktop.task_parameters import TaskParameters, param, percent_param

    class Params(TaskParameters):
        iterations = param(type=int, range=(0, 100), desc="steps")
        keep = percent_param(default=0.5)

    params = Params(iterations=3)
    assert params.to_dict() == {"iterations": 3, "keep": 0.5}
    with pytest.raises(ValueError, match=r"iterations must be in range \[0, 100\], got 101"):
        params.iterations = 101
    with pytest.raises(TypeError, match="keep must be float, got str"):
        Params(iterations=1, keep="high")
    with pytest.raises(TypeError, match="needs a value for 'iterations'"):
        Params()
    with pytest.raises(ValueError, match="Unknown key depth"):
        params.update_from_dict({"depth": 2})


PACKAGES = """
    import sys
    from exptable_desktop import Task

    Task.add_requirements("tqdm", "4.66.0")
    Task.add_requirements("numpy")          # its installed version
    Task.add_requirements("torch", ">=2.0")
    task = Task.init(project_name="dropin", task_name=sys.argv[1])
    if sys.argv[1] == "set":
        task.set_packages(["scikit-learn>=1.3", "pandas"])
    task.set_parameters_as_dict({"Args": {"lr": 0.5}, "General": {"nested": {"a": 1}}})
    print("NESTED", task.get_parameters_as_dict())
    print("LABELS", task.connect_label_enumeration({"cat": 0, "dog": 1}))
    """


def test_packages_added_or_set_and_parameters_as_dict(tmp_path, script_env):
    from exptable_desktop import Task

    script = _script(tmp_path, PACKAGES)
    for name in ("added", "set"):
        done = run(script, script_env, name)
        assert done.returncode == 0, done.stderr
    added = Execution.get_by_id(Task.get_task(project_name="dropin", task_name="added").id).requirements
    lines = added.splitlines()
    assert "tqdm == 4.66.0" in lines and f"numpy == {np.__version__}" in lines and "torch>=2.0" in lines
    assert not any(line.startswith(("peewee", "psutil")) for line in lines)
    chosen = Execution.get_by_id(Task.get_task(project_name="dropin", task_name="set").id).requirements
    assert chosen == "scikit-learn>=1.3\npandas\n"  # set_packages replaces what was captured, at exit too
    assert "NESTED {'Args': {'lr': '0.5'}, 'General': {'nested': {'a': '1'}}}" in done.stdout
    assert "LABELS {'cat': 0, 'dog': 1}" in done.stdout
    assert Task.get_task(project_name="dropin", task_name="set").get_labels_enumeration() == {"cat": 0, "dog": 1}


@pytest.mark.parametrize("call, status, reason", [
    ("mark_completed()", st.COMPLETED, ""),
    ("mark_failed(status_reason='diverged')", st.FAILED, "diverged"),
    ("mark_stopped(status_message='enough')", st.ABORTED, "enough"),
])
def test_mark_status_calls(tmp_path, script_env, call, status, reason):
    from exptable_desktop import Task

    script = _script(tmp_path, f"""
        from exptable_desktop import Task
        task = Task.init(project_name="dropin", task_name="marked")
        task.get_logger().report_scalar("loss", "train", 0.5, iteration=1)
        task.{call}
        print("still running after the call")
        """)
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    assert "still running after the call" in done.stdout
    exp = Experiment.get_by_id(Task.get_task(project_name="dropin", task_name="marked").id)
    assert exp.status == status and (exp.status_reason == reason or reason == "")
    assert exp.last_iteration == 1  # flushed before the status changed


def test_unsupported_init_arguments_warn_once(tmp_path, script_env):
    script = _script(tmp_path, """
        from exptable_desktop import Task
        task = Task.init(project_name="dropin", task_name="args", continue_last_task=True,
                         reuse_last_task_id="0123", deferred_init=True)
        assert Task.init(project_name="dropin", task_name="args", continue_last_task=True) is task
        """)
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("continue_last_task=True is not supported") == 1
    assert done.stderr.count("reuse_last_task_id='0123' is not supported") == 1


def test_tags_and_offline_calls(tmp_path, script_env):
    from exptable_desktop import Task

    script = _script(tmp_path, """
        from exptable_desktop import Task
        Task.set_offline(True)
        assert not Task.is_offline()
        task = Task.init(project_name="dropin", task_name="tags", tags=["a", "b"])
        task.remove_tags("a")
        task.add_tags(["c"])
        print("TAGS", task.get_tags())
        task.set_tags(["c", "d"])
        """)
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    assert "TAGS ['b', 'c']" in done.stdout
    assert done.stderr.count("Task.set_offline(True) changes nothing") == 1
    assert Task.get_task(project_name="dropin", task_name="tags").get_tags() == ["c", "d"]
