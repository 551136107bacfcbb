"""Creating a Draft from an execution spec: core, validation helpers, ``exptable create`` and ``Task.create``."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from exptable_desktop.core import states as st
from exptable_desktop.core.create import (
    FORCE_TASK_INIT_ARG,
    Argument,
    DetectedArgument,
    ExecutionSpec,
    SpecError,
    create_from_spec,
    detect_arguments,
    detect_arguments_at,
    validate_spec,
)
from exptable_desktop.core.repos import RepoError, resolve_version, script_exists, script_source
from exptable_desktop.store.schema import Execution, Experiment, HyperParam, Project, QueueEntry


def _execution(exp_id: str) -> dict:
    return Execution.select().where(Execution.experiment == exp_id).dicts().first()


@pytest.mark.both_backends
def test_every_field_of_the_spec_is_stored(db, repo):
    spec = ExecutionSpec(
        name="full spec", project="team/vision", repository=repo.url, branch="feature", working_dir="src",
        script="job.py", arguments=[Argument("lr", "0.01", type="float", description="learning rate"),
                                    Argument("depth", "3", section="Model")],
        python="python3.11", packages_mode="packages", packages=["numpy==2.0", "six"],
        container_image="python:3.11-slim", container_args="--shm-size 1g", container_setup="apt-get update",
        output_uri="/mnt/share/out", queue="gpu", task_type="testing", add_task_init_call=True,
        description="made by the test", tags=["a", "b"])
    exp_id = create_from_spec(spec)
    exp = Experiment.get_by_id(exp_id)
    assert (exp.name, exp.type, exp.status, exp.description) == ("full spec", "testing", st.PENDING, "made by the test")
    assert Project.get_by_id(exp.project_id).name == "vision"
    ex = _execution(exp_id)
    assert ex["repository"] == repo.url
    assert (ex["branch"], ex["tag"], ex["commit"]) == ("feature", "", "")
    assert (ex["working_dir"], ex["entry_point"], ex["entry_kind"]) == ("src", "job.py", "script")
    assert (ex["binary"], ex["environment"]) == ("python3.11", "pip")
    assert ex["requirements"] == "numpy==2.0\nsix\n"
    assert ex["container_image"] == "python:3.11-slim"
    assert ex["container_args"] == f"--shm-size 1g {FORCE_TASK_INIT_ARG}"
    assert ex["container_setup"] == "apt-get update"
    assert ex["output_uri"] == "/mnt/share/out"
    assert ex["diff"] == ""
    params = {(p.section, p.name): (p.value, p.type, p.description)
              for p in HyperParam.select().where(HyperParam.experiment == exp_id)}
    assert params == {("Args", "lr"): ("0.01", "float", "learning rate"), ("Model", "depth"): ("3", "", "")}
    entry = QueueEntry.get(QueueEntry.experiment == exp_id)
    assert entry.queue.name == "gpu"
    from exptable_desktop.core.queries import tags_of
    assert sorted(tags_of([exp_id])[exp_id]) == ["a", "b"]


def test_packages_choices_and_venv_are_stored_as_the_agent_reads_them(db, repo, make_spec):
    none = _execution(create_from_spec(make_spec()))
    assert (none["environment"], none["requirements"]) == ("none", "")
    text = _execution(create_from_spec(make_spec(packages_mode="requirements", requirements="six\n# c\n")))
    assert (text["environment"], text["requirements"]) == ("pip", "six\n# c\n")
    from_repo = _execution(create_from_spec(make_spec(packages_mode="repository")))
    assert (from_repo["environment"], from_repo["requirements"]) == ("pip", None)
    venv = _execution(create_from_spec(make_spec(python="", venv="/opt/venvs/ml")))
    assert (venv["environment"], venv["binary"]) == ("venv", "/opt/venvs/ml")


def test_a_local_folder_without_version_pins_its_commit_branch_and_uncommitted_diff(db, repo, make_spec):
    ex = _execution(create_from_spec(make_spec("train.py")))
    assert ex["repository"] == str(repo.path)
    assert (ex["commit"], ex["branch"]) == (repo.main, "main")
    assert '-VERSION = "main"' in ex["diff"] and '+VERSION = "uncommitted"' in ex["diff"]
    short = _execution(create_from_spec(make_spec("train.py", commit=repo.v1[:8])))
    assert (short["commit"], short["diff"]) == (repo.v1, "")  # an explicit version is the committed code


def test_resolve_version_on_a_url_and_a_local_repository(repo):
    for repository in (repo.url, str(repo.path)):
        assert resolve_version(repository, branch="feature") == repo.feature
        assert resolve_version(repository, tag="v1") == repo.v1  # the annotated tag's commit
        assert resolve_version(repository, commit=repo.feature[:10]) == repo.feature
        assert resolve_version(repository) == repo.main
        with pytest.raises(RepoError, match="branch 'nope' not found"):
            resolve_version(repository, branch="nope")
        with pytest.raises(RepoError, match="tag 'v9' not found"):
            resolve_version(repository, tag="v9")
    # Not a ref tip: found in a local repository; a URL takes a full hash on trust, not a short one.
    assert resolve_version(str(repo.path), commit=repo.wip[:7]) == repo.wip
    assert resolve_version(repo.url, commit=repo.wip) == repo.wip
    with pytest.raises(RepoError, match="full 40-character hash"):
        resolve_version(repo.url, commit=repo.wip[:7])
    with pytest.raises(RepoError, match="commit deadbeef not found"):
        resolve_version(str(repo.path), commit="deadbeef")
    with pytest.raises(RepoError, match="not a commit hash"):
        resolve_version(str(repo.path), commit="zz-top")


def test_resolve_version_reports_what_is_wrong_in_one_line(tmp_path, repo):
    with pytest.raises(RepoError, match="cannot read repository") as unreachable:
        resolve_version((tmp_path / "missing.git").as_uri(), branch="main")
    assert "\n" not in str(unreachable.value)
    plain = tmp_path / "plain_folder"
    plain.mkdir()
    assert resolve_version(str(plain)) == ""
    with pytest.raises(RepoError, match="not a git repository"):
        resolve_version(str(plain), branch="main")
    with pytest.raises(RepoError, match="no folder"):
        resolve_version(str(tmp_path / "nowhere"))
    with pytest.raises(RepoError, match="not both"):
        resolve_version(str(repo.path), branch="main", tag="v1")


def test_script_exists_at_a_version(repo):
    for repository in (repo.url, str(repo.path)):
        assert script_exists(repository, repo.feature, "feature_only.py")
        assert not script_exists(repository, repo.main, "feature_only.py")
        assert script_exists(repository, repo.main, "job.py", "src")
        assert not script_exists(repository, repo.v1, "plain.py")
    assert 'VERSION = "feature"' in script_source(repo.url, repo.feature, "train.py")
    # No version on a local folder: the folder as it is, uncommitted changes included.
    assert 'VERSION = "uncommitted"' in script_source(str(repo.path), "", "train.py")
    with pytest.raises(RepoError, match="outside the repository"):
        script_exists(str(repo.path), "", "../outside.py")


def test_validate_spec_names_each_wrong_field(db, repo, make_spec):
    assert validate_spec(make_spec()) == {}
    errors = validate_spec(ExecutionSpec(name="x", python="py", venv="/v", packages_mode="packages",
                                         container_args="--rm"))
    assert set(errors) >= {"name", "project", "repository", "script", "venv", "packages", "container_image"}
    assert all("\n" not in message for message in errors.values())
    assert validate_spec(make_spec(branch="nope")) == {"branch": f"branch 'nope' not found in {repo.path}"}
    assert validate_spec(make_spec(tag="v9", repository=repo.url)) == {"tag": f"tag 'v9' not found in {repo.url}"}
    assert validate_spec(make_spec("feature_only.py", repository=repo.url)) == {
        "script": f"no file feature_only.py in the repository at {repo.main[:12]}"}
    assert validate_spec(make_spec("feature_only.py", repository=repo.url, branch="feature")) == {}
    assert validate_spec(make_spec("plain.py", tag="v1"))["script"] == "no file plain.py in the repository at v1"
    assert validate_spec(make_spec("", module="src.job")) == {}
    assert "module" in validate_spec(make_spec("", module="src.nothing"))
    assert validate_spec(make_spec(venv="/opt/v", python="", packages_mode="packages", packages=["six"])) == {
        "packages_mode": "a pre-installed venv is used as it is; choose no packages"}
    assert validate_spec(make_spec(arguments=[Argument("a"), Argument("a")])) == {"arguments": "Args/a is given twice"}
    # Without reading the repository: only the fields themselves.
    assert validate_spec(make_spec(branch="nope"), check_repository=False) == {}


def test_create_refuses_an_invalid_spec_and_writes_nothing(db, make_spec):
    with pytest.raises(SpecError) as caught:
        create_from_spec(make_spec("missing.py"))
    assert caught.value.errors == {"script": "no file missing.py in the repository"}
    assert Experiment.select().count() == 0


def test_detect_arguments_reads_argparse_without_running_the_script(tmp_path):
    marker = tmp_path / "ran"
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(f'''\
        import argparse, os
        open({str(marker)!r}, "w").close()
        parser = argparse.ArgumentParser()
        parser.add_argument("--lr", type=float, default=0.1, help="learning rate")
        parser.add_argument("-e", "--num-epochs", type=int, default=10)
        parser.add_argument("--name", default="run")
        parser.add_argument("--fast", action="store_true", help="skip checks")
        parser.add_argument("--layers", nargs="+", type=int, default=[64, 32])
        parser.add_argument("--workers", default=os.cpu_count())
        parser.add_argument("data", help="input folder")
        parser.add_argument("-v", dest="verbosity", action="count", default=0)
        parser.parse_args()
        '''))
    found = detect_arguments(script)
    assert not marker.exists()
    assert found == [
        DetectedArgument("Args", "lr", "0.1", "float", "learning rate"),
        DetectedArgument("Args", "num_epochs", "10", "int", ""),
        DetectedArgument("Args", "name", "run", "str", ""),
        DetectedArgument("Args", "fast", "False", "bool", "skip checks"),
        DetectedArgument("Args", "layers", "[64, 32]", "list/int", ""),
        DetectedArgument("Args", "workers", "os.cpu_count()", "", ""),
        DetectedArgument("Args", "data", "", "", "input folder"),
        DetectedArgument("Args", "verbosity", "0", "int", ""),
    ]
    assert detect_arguments(str(script)) == found  # a path given as text
    assert detect_arguments(script.read_text()) == found  # the source itself
    assert detect_arguments("def broken(:\n") == []


def test_detect_arguments_at_a_repository_version(repo):
    names = [a.name for a in detect_arguments_at(repo.url, repo.v1, "train.py")]
    assert names == ["lr", "epochs"]


def _cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "exptable_desktop", *args], capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.mark.both_backends
def test_cli_create_prints_the_id_and_enqueues(db, db_url, repo, script_env, tmp_path):
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six\n")
    setup = tmp_path / "setup.sh"
    setup.write_text("echo ready\n")
    done = _cli("create", "--db", db_url, "--name", "from cli", "--project", "cli", "--repo", repo.url,
                "--tag", "v1", "--script", "train.py", "--args", "lr=0.5", "Model/depth=4",
                "--requirements", str(requirements), "--python", "python3", "--image", "python:3.11",
                "--docker-args=--ipc=host", "--setup-script", str(setup), "--output", "/tmp/out",
                "--queue", "cpu", env=script_env)
    assert done.returncode == 0, done.stderr
    exp_id = done.stdout.strip()
    assert len(exp_id) == 32
    exp = Experiment.get_by_id(exp_id)
    assert (exp.name, exp.status) == ("from cli", st.PENDING)
    ex = _execution(exp_id)
    assert (ex["tag"], ex["entry_point"], ex["requirements"], ex["binary"]) == ("v1", "train.py", "six\n", "python3")
    assert (ex["container_image"], ex["container_args"], ex["container_setup"], ex["output_uri"]) == (
        "python:3.11", "--ipc=host", "echo ready\n", "/tmp/out")
    params = {(p.section, p.name): p.value for p in HyperParam.select().where(HyperParam.experiment == exp_id)}
    assert params == {("Args", "lr"): "0.5", ("Model", "depth"): "4"}
    assert "no live worker listens to queue 'cpu'" in done.stderr


def test_cli_create_reports_a_bad_spec_in_one_line(db, db_url, repo, script_env):
    done = _cli("create", "--db", db_url, "--name", "bad", "--repo", repo.url, "--branch", "nope",
                "--script", "train.py", env=script_env)
    assert done.returncode == 1
    assert done.stderr.strip() == f"exptable: error: branch: branch 'nope' not found in {repo.url}"
    done = _cli("create", "--db", db_url, "--name", "bad", "--repo", str(repo.path), "--script", "t.py",
                "--args", "novalue", env=script_env)
    assert (done.returncode, done.stderr.strip()) == (
        2, "exptable create: error: argument --args: 'novalue' is not name=value (see exptable create --help)")
    assert Experiment.select().count() == 0


def test_task_create_uses_the_same_function(db, repo):
    from exptable_desktop import Task

    task = Task.create(project_name="sdk", task_name="made by Task.create", repo=repo.url, branch="feature",
                       script="train.py", argparse_args=[("lr", "0.3")], packages=["six"], docker="python:3.11",
                       docker_args="--ipc=host")
    assert task.status == st.DRAFT and task.name == "made by Task.create"
    ex = _execution(task.id)
    assert (ex["repository"], ex["branch"], ex["requirements"]) == (repo.url, "feature", "six\n")
    assert ex["container_args"] == f"--ipc=host {FORCE_TASK_INIT_ARG}"  # add_task_init_call defaults on
    assert task.get_parameters() == {"Args/lr": "0.3"}
    # A local script with no repo: its repository and the path inside it are found.
    local = Task.create(project_name="sdk", task_name="local", script=str(repo.path / "src" / "job.py"),
                        add_task_init_call=False)
    ex = _execution(local.id)
    assert (ex["repository"], ex["working_dir"], ex["entry_point"], ex["commit"]) == (
        str(repo.path), "src", "job.py", repo.main)
    with pytest.raises(ValueError, match="script: no file nothing.py"):
        Task.create(project_name="sdk", task_name="bad", repo=str(repo.path), script="nothing.py")


def test_create_module_and_json_roundtrip_through_show(db, db_url, repo, script_env, make_spec):
    exp_id = create_from_spec(make_spec("", module="src.job", working_dir="."))
    done = _cli("show", "--db", db_url, exp_id, "--json", env=script_env)
    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)["execution"]
    assert (shown["entry_point"], shown["entry_kind"]) == ("src.job", "module")


def test_repository_errors_never_show_the_token_in_the_url():
    url = "https://alice:s3cr3t-token@127.0.0.1:9/team/code.git"  # nothing listens on port 9
    with pytest.raises(RepoError) as caught:
        resolve_version(url, branch="main")
    message = str(caught.value)
    assert "s3cr3t-token" not in message
    assert "127.0.0.1:9/team/code.git" in message
