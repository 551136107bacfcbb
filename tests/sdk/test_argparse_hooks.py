"""argparse is hooked only while a Task records, and only the script's own parsers become its Args."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from exptable_desktop.core import editing, queries, recording
from exptable_desktop.core import states as st
from sdk_scripts import only_experiment_id, run

LIBRARY = """
    import argparse

    def parse_own_flags(argv):
        parser = argparse.ArgumentParser(prog="fakelib")
        parser.add_argument("--lib-flag", type=int, default=0)
        namespace, _ = parser.parse_known_args(argv)
        return namespace.lib_flag
    """


def _script(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "train.py"
    script.write_text(textwrap.dedent(text))
    return script


def _result(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.split("RESULT ", 1)[1])


def test_importing_the_sdk_leaves_argparse_alone(script_env):
    code = ("import argparse\n"
            "before = argparse.ArgumentParser.parse_known_args\n"
            "import exptable_desktop.sdk, exptable_desktop.cli\n"
            "from exptable_desktop import Task\n"
            "print(argparse.ArgumentParser.parse_known_args is before)\n")
    done = subprocess.run([sys.executable, "-c", code], env=script_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "True"


def test_a_librarys_own_parser_is_not_recorded_and_the_hook_goes_at_close(tmp_path, script_env):
    packages = tmp_path / "env" / "lib" / "python3" / "site-packages"
    packages.mkdir(parents=True)
    (packages / "fakelib.py").write_text(textwrap.dedent(LIBRARY))
    script = _script(tmp_path / "project", """
        import argparse
        import json
        import fakelib
        from exptable_desktop import Task

        original = argparse.ArgumentParser.parse_known_args
        fakelib.parse_own_flags(["--lib-flag", "1"])
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
        args = parser.parse_args()
        task = Task.init(project_name="hooks", task_name="library")
        hooked = argparse.ArgumentParser.parse_known_args is not original
        fakelib.parse_own_flags(["--lib-flag", "2"])
        late = argparse.ArgumentParser()
        late.add_argument("--batch", type=int, default=32, help="batch size")
        late.parse_args([])
        task.close()
        restored = argparse.ArgumentParser.parse_known_args is original
        print("RESULT " + json.dumps({"hooked": hooked, "restored": restored}))
        """)
    env = dict(script_env, PYTHONPATH=f"{packages}{os.pathsep}{script_env['PYTHONPATH']}")
    assert _result(run(script, env, "--lr", "0.01")) == {"hooked": True, "restored": True}
    args = queries.experiment_detail(only_experiment_id())["hyperparameters"]["Args"]
    assert set(args) == {"lr", "batch"}
    assert args["lr"] == {"value": "0.01", "type": "float", "description": "learning rate"}
    assert args["batch"] == {"value": "32", "type": "int", "description": "batch size"}


HELPER_SCRIPT = """
    import argparse
    import json
    from exptable_desktop import Task

    def get_args():
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.1)
        parser.add_argument("--layers", type=int, nargs="+", default=[64])
        return parser.parse_args()

    def main():
        args = get_args()
        Task.init(project_name="hooks", task_name="helper")
        print("RESULT " + json.dumps(vars(args)))

    main()
    """


def test_arguments_parsed_in_a_helper_before_init_are_recorded(tmp_path, script_env):
    script = _script(tmp_path / "project", HELPER_SCRIPT)
    assert _result(run(script, script_env, "--lr", "0.02")) == {"lr": 0.02, "layers": [64]}
    args = queries.experiment_detail(only_experiment_id())["hyperparameters"]["Args"]
    assert {k: (v["value"], v["type"]) for k, v in args.items()} == {"lr": ("0.02", "float"),
                                                                     "layers": ("[64]", "list")}


@pytest.mark.both_backends
def test_under_an_agent_a_namespace_parsed_before_init_takes_the_edited_values(tmp_path, script_env):
    exp_id = recording.create_experiment("hooks", "edited")
    editing.require(editing.set_hyperparams([exp_id], "Args", {"lr": {"value": "0.5", "type": "float"},
                                                               "layers": {"value": "[8, 16]", "type": "list"}}))
    assert recording.set_status(exp_id, st.PENDING, force=True)
    script = _script(tmp_path / "project", HELPER_SCRIPT)
    assert _result(run(script, dict(script_env, EXPTABLE_TASK_ID=exp_id))) == {"lr": 0.5, "layers": [8, 16]}
