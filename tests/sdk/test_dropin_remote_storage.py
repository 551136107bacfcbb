"""``execute_remotely`` hands the run to a real ``exptable agent``; ``StorageManager`` on local paths and file://."""
from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from exptable_desktop.core import recording
from exptable_desktop.core import states as st
from exptable_desktop.store.schema import Experiment, QueueEntry
from sdk_scripts import git, only_experiment_id, run

REMOTE = """
    import sys
    from exptable_desktop import Task

    task = Task.init(project_name="dropin", task_name="remote")
    print("where", "here" if task.running_locally() else "agent", flush=True)
    task.execute_remotely(queue_name="gpu")
    task.get_logger().report_scalar("loss", "train", 0.25, iteration=3)
    print("trained under the agent", flush=True)
    """


def test_execute_remotely_stops_here_and_an_agent_runs_the_rest(make_repo, script_env, db_url):
    script = make_repo(REMOTE)
    bare = script.parent.parent / "origin.git"  # a remote the agent can clone
    subprocess.run(["git", "clone", "-q", "--bare", str(script.parent), str(bare)], check=True, capture_output=True)
    git(script.parent, "remote", "set-url", "origin", bare.resolve().as_uri())
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    assert "where here" in done.stdout and "trained under the agent" not in done.stdout
    exp_id = only_experiment_id()
    exp = Experiment.get_by_id(exp_id)
    assert exp.status == st.PENDING and QueueEntry.get(QueueEntry.experiment == exp_id).queue.name == "gpu"
    assert exp.last_iteration is None  # nothing after execute_remotely ran here
    # The experiment records the script's packages; the test environment has them already.
    recording.record_execution(exp_id, requirements="")
    agent = subprocess.run([sys.executable, "-m", "exptable_desktop", "agent", "--db", db_url, "--queue", "gpu",
                            "--once"], env=script_env, capture_output=True, text=True, timeout=120)
    assert agent.returncode == 0, agent.stderr
    exp = Experiment.get_by_id(exp_id)
    text = "\n".join(line for _, line in recording.read_console(exp_id))
    assert exp.status == st.COMPLETED and exp.last_iteration == 3, (exp.status_reason, text)
    text = "\n".join(line for _, line in recording.read_console(exp_id))
    assert "where agent" in text and "trained under the agent" in text


def test_execute_remotely_with_clone_enqueues_a_copy_and_goes_on(tmp_path, script_env):
    from exptable_desktop import Task

    script = tmp_path / "work" / "train.py"
    script.parent.mkdir(parents=True)
    script.write_text(
        "from exptable_desktop import Task\n"
        "task = Task.init(project_name='dropin', task_name='original')\n"
        "copy = task.execute_remotely(queue_name='cpu', clone=True, exit_process=False)\n"
        "print('copy', copy.id, flush=True)\n")
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    original = Task.get_task(project_name="dropin", task_name="original")
    copy_id = done.stdout.split("copy ")[1].split()[0]
    assert original.status == st.COMPLETED
    assert Experiment.get_by_id(copy_id).status == st.PENDING and Task.get_task(task_id=copy_id).parent == original.id


def test_storage_manager_on_local_paths_and_file_urls(tmp_path, db):
    from exptable_desktop import StorageManager

    source = tmp_path / "data.csv"
    source.write_text("a,b\n1,2\n")
    assert StorageManager.get_local_copy(str(source)) == str(source)  # a local file is used where it is
    assert StorageManager.get_local_copy(source.as_uri()) == str(source)
    assert StorageManager.get_local_copy(str(tmp_path / "missing.csv")) is None
    stored = StorageManager.upload_file(str(source), (tmp_path / "bucket" / "x" / "data.csv").as_uri())
    assert stored.startswith("file://") and (tmp_path / "bucket" / "x" / "data.csv").read_text() == "a,b\n1,2\n"
    copied = StorageManager.download_file(stored, local_folder=str(tmp_path / "down"))
    assert Path(copied).read_text() == "a,b\n1,2\n" and Path(copied).parent == tmp_path / "down"
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("inner/w.txt", "w")
    folder = Path(StorageManager.get_local_copy(str(archive)))
    assert (folder / "inner" / "w.txt").read_text() == "w"
    assert StorageManager.get_local_copy(str(archive), extract_archive=False) == str(archive)
    assert StorageManager.list(str(tmp_path / "bucket")) == ["x/data.csv"]


def test_cloud_urls_name_the_extra_to_install(db):
    from exptable_desktop import StorageManager
    from exptable_desktop.sdk.storage import StorageError

    for url, extra in (("s3://bucket/key.bin", "s3"), ("gs://bucket/key.bin", "gs"),
                       ("azure://acct.blob.core.windows.net/c/key.bin", "azure")):
        module = {"s3": "boto3", "gs": "google.cloud.storage", "azure": "azure.storage.blob"}[extra]
        try:
            __import__(module)
            continue  # installed here: the URL would really be fetched
        except ImportError:
            pass
        with pytest.raises(StorageError, match=rf"exptable-desktop\[{extra}\]"):
            StorageManager.get_local_copy(url)


def test_a_zip_member_leaving_its_folder_is_refused(tmp_path, db):
    from exptable_desktop import StorageManager
    from exptable_desktop.sdk.storage import StorageError

    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("../../escaped.txt", "x")
    with pytest.raises(StorageError, match="would land outside the extraction folder"):
        StorageManager.get_local_copy(str(archive))
    assert not (tmp_path / "escaped.txt").exists()
