"""Files stay inside the folder they belong to; credentials in a git remote are never stored or shown."""
from __future__ import annotations

import textwrap
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

from exptable_desktop.core import actions, details, editing, queries, recording
from exptable_desktop.core import states as st
from exptable_desktop.sdk import capture
from exptable_desktop.sdk.logger import Logger
from exptable_desktop.sdk.reporter import Reporter
from exptable_desktop.sdk.task import Task
from exptable_desktop.store import files as store_files
from exptable_desktop.store.remote_urls import without_credentials
from exptable_desktop.store.schema import Artifact, Execution, database_proxy
from sdk_scripts import git, only_experiment_id, run

SECRET = "s3cr3t-t0ken"


def _task(project: str = "files", name: str = "run") -> Task:
    return Task(recording.create_experiment(project, name, status=st.RUNNING), live=False)


def _tree(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*")} if folder.exists() else set()


# ---- artifact names -------------------------------------------------------------------

@pytest.mark.parametrize("name", [".", "..", "...", "a/b", "../x", "a\\b", "..\\x", "C:", "c:x", "a\0b", "", "  ",
                                  "\t"])
def test_artifact_names_that_read_as_paths_are_refused_and_nothing_is_removed(db, name):
    task = _task()
    task.upload_artifact("keep", {"a": 1})
    beside = task._storage_folder() / "inputs" / "data.csv"
    beside.parent.mkdir(parents=True)
    beside.write_text("x")
    before = _tree(store_files.storage_root())
    with pytest.raises(ValueError, match="artifact name"):
        task.upload_artifact(name, {"b": 2})
    assert _tree(store_files.storage_root()) == before
    assert set(task.artifacts) == {"keep"}


def test_a_refused_upload_keeps_the_previous_version_of_the_artifact(db):
    task = _task()
    task.upload_artifact("model", "version one")
    stored = Path(task.artifacts["model"]["uri"])
    with pytest.raises(TypeError, match="cannot store a lock: it cannot be pickled"):
        task.upload_artifact("model", threading.Lock())
    with pytest.raises(ValueError, match="no files match"):
        task.upload_artifact("model", Path(store_files.storage_root()) / "nowhere" / "*.bin")
    assert stored.read_text() == "version one"


def test_odd_but_harmless_artifact_names_are_stored_inside_the_artifacts_folder(db):
    task = _task()
    artifacts = task._storage_folder() / "artifacts"
    for name in ("CON", "best:val", "x.", " lead", "损失", "a" * 300):
        task.upload_artifact(name, "text")
        stored = Path(task.artifacts[name]["uri"]).resolve()
        assert stored.parent.parent == artifacts.resolve(), name
        assert stored.read_text() == "text"
    assert len({Path(a["uri"]).parent for a in task.artifacts.values()}) == 6


# ---- the output destination's layout ---------------------------------------------------

def test_names_cannot_move_artifacts_out_of_the_output_destination(db, tmp_path):
    out = tmp_path / "a" / "b" / "c" / "d" / "out"
    task = _task(project="../../../..", name="../../../../escaped")
    task._output_folder = out
    out.mkdir(parents=True)
    before = _tree(tmp_path)
    task.upload_artifact("weights", {"w": 1})
    new = {tmp_path / p for p in _tree(tmp_path) - before}
    assert new and all(p == out or out in p.parents for p in new), sorted(map(str, new))
    relative = Path(task.artifacts["weights"]["uri"]).relative_to(out).parts
    assert len(relative) == 4 + 1 + 3  # four project levels, <name>.<id>, artifacts/<artifact>/<file>
    assert relative[4].endswith(f".{task.id}") and relative[5:7] == ("artifacts", "weights")


def test_the_output_destination_keeps_the_reference_layout_for_ordinary_names(db, tmp_path):
    task = _task(project="team/vision", name="baseline")
    task._output_folder = tmp_path / "out"
    task.upload_artifact("notes", "hello")
    expected = tmp_path / "out" / "team" / "vision" / f"baseline.{task.id}" / "artifacts" / "notes" / "notes.txt"
    assert Path(task.artifacts["notes"]["uri"]) == expected
    assert Artifact.get(Artifact.experiment == task.id).in_storage is False


# ---- debug samples ------------------------------------------------------------------------

def test_debug_sample_titles_and_series_stay_in_the_experiments_debug_folder(db):
    task = _task()
    task._reporter = Reporter(task.id)
    logger = Logger(task)
    image = np.zeros((2, 2, 3), dtype=np.uint8)
    pairs = [("..", ".."), ("../../..", "x"), ("a/b", "s"), ("a_b", "s"), ("C:", "NUL"), ("损失", "s"), ("准确率", "s")]
    for i, (title, series) in enumerate(pairs):
        logger.report_image(title, series, iteration=i, image=image)
    debug = (task._storage_folder() / "debug").resolve()
    paths = [Path(s["path"]).resolve() for s in task._reporter.debug_samples]
    assert all(debug in p.parents and len(p.relative_to(debug).parts) == 3 for p in paths), paths
    assert len({p.parent for p in paths}) == len(pairs)  # different titles never share a folder
    written = [p for p in store_files.storage_root().rglob("*") if p.is_file()]
    assert len(written) == len(pairs) and all(debug in p.resolve().parents for p in written), written


# ---- wildcards ----------------------------------------------------------------------------

@pytest.fixture
def data_folder(tmp_path, monkeypatch):
    data = tmp_path / "work" / "data"
    (data / "sub").mkdir(parents=True)
    for name in ("a.jpg", "b.jpg", "sub/c.jpg", "notes.txt", "sub/d.txt"):
        (data / name).write_text(name)
    monkeypatch.chdir(tmp_path / "work")
    return data


@pytest.mark.parametrize("pattern, expected", [
    ("data/*.jpg", ["a.jpg", "b.jpg", "sub/c.jpg"]),  # as the reference: any depth below data/
    ("data/**/*.txt", ["notes.txt", "sub/d.txt"]),
    ("data/**", ["a.jpg", "b.jpg", "notes.txt", "sub/c.jpg", "sub/d.txt"]),
    ("data/sub/?.jpg", ["c.jpg"]),
])
def test_a_wildcard_stores_a_zip_of_the_matching_files(db, data_folder, pattern, expected):
    task = _task()
    for given in (pattern, Path(pattern)):
        task.upload_artifact("images", given)
        row = task.artifacts["images"]
        with zipfile.ZipFile(row["uri"]) as archive:
            assert sorted(archive.namelist()) == expected
            assert all(archive.read(n).decode().endswith(n) for n in expected)  # each file holds its own path
        assert row["uri"].endswith(".zip") and row.type == "archive"  # the reference's type for a zip
        stored = Artifact.get(Artifact.experiment == task.id)
        assert stored.content_type == "application/zip" and '"_type": "wildcard"' in stored.metadata


@pytest.mark.parametrize("pattern", ["data/*.png", "missing/*.jpg", "*.none"])
def test_a_wildcard_matching_nothing_is_refused(db, data_folder, pattern):
    task = _task()
    with pytest.raises(ValueError, match="no files match"):
        task.upload_artifact("images", pattern)
    assert task.artifacts == {}


def test_text_that_happens_to_hold_a_star_is_still_text(db, data_folder):
    task = _task()
    task.upload_artifact("question", "What is 2*3?")
    assert Path(task.artifacts["question"]["uri"]).read_text() == "What is 2*3?"


# ---- what removal may touch --------------------------------------------------------------

def test_removal_refuses_everything_but_an_experiments_own_files(db, tmp_path):
    root = store_files.storage_root()
    mine = store_files.experiment_folder("ab" + "1" * 30)
    other = store_files.experiment_folder("ab" + "2" * 30)
    for folder in (mine, other):
        (folder / "artifacts").mkdir(parents=True)
        (folder / "artifacts" / "f.txt").write_text("x")
    outside = tmp_path / "outside.txt"
    outside.write_text("keep")
    (mine / "link").symlink_to(outside)
    (mine / "folder-link").symlink_to(tmp_path)
    refused = [str(root), str(root / "ab"), str(mine / ".." / ".."), str(outside), str(mine / "link"),
               str(mine / "folder-link"), f"file://{root / 'ab'}", str(mine / ".." / other.name / ".." / "..")]
    for uri in refused:
        assert store_files.remove_owned_file(uri) is False, uri
    assert outside.read_text() == "keep" and (other / "artifacts" / "f.txt").exists()
    assert store_files.remove_owned_file(str(mine / "artifacts" / "f.txt")) is True
    assert store_files.remove_owned_file(f"file://{mine}") is True
    assert not mine.exists() and other.exists() and outside.exists()


@pytest.mark.both_backends
@pytest.mark.parametrize("action", ["reset", "delete"])
def test_a_row_pointing_at_another_experiments_files_removes_nothing_there(db, tmp_path, action):
    """A debug sample recorded by URL, or a stored artifact row, may name any path; Reset and
    Delete remove only what lies in the experiment's own folder."""
    victim = _task(name="victim")
    victim.upload_artifact("weights", {"w": 1})
    kept_tree = _tree(victim._storage_folder())
    outside = tmp_path / "outside" / "notes.txt"
    outside.parent.mkdir()
    outside.write_text("keep")
    pointer = Task(recording.create_experiment("files", "pointer", status=st.COMPLETED), live=False)
    pointer._reporter = Reporter(pointer.id)
    logger = Logger(pointer)
    logger.report_image("own", "image", 0, image=np.zeros((2, 2), dtype=np.uint8))
    pointed = [victim._storage_folder(), Path(victim.artifacts["weights"]["uri"]), outside.parent,
               pointer._storage_folder() / ".." / victim.id]
    for i, path in enumerate(pointed):
        logger.report_image("elsewhere", "image", i, url=str(path))
    assert pointer._reporter.flush() is not None
    recording.record_batch(pointer.id, artifacts=[{"name": "stolen", "uri": f"file://{victim._storage_folder()}",
                                                   "in_storage": True}])
    own_sample = pointer._storage_folder() / "debug" / "own" / "image" / "00000000.png"
    assert own_sample.is_file()

    if action == "reset":
        assert actions.reset([pointer.id]).succeeded == [pointer.id]
    else:
        actions.archive([pointer.id])
        assert actions.delete([pointer.id]).succeeded == [pointer.id]

    assert not own_sample.exists()  # its own files go
    assert _tree(victim._storage_folder()) == kept_tree and outside.read_text() == "keep"


@pytest.mark.parametrize("bad_id", ["..", "../x", "a/b", "", "x\\..\\.."])
def test_an_experiment_folder_needs_an_id_that_is_one_plain_name(db, bad_id):
    with pytest.raises(ValueError, match="cannot name a folder"):
        store_files.experiment_folder(bad_id)


@pytest.mark.parametrize("text", ["..", ".", "", " ", "a/b", "a\\b", "C:", "C:\\x", "x.", "x ", "CON", "nul.txt",
                                  "com1", "a\0b", "\n", "~", "损失", "é" * 200])
def test_safe_component_is_always_one_name_inside_its_folder(tmp_path, text):
    name = store_files.safe_component(text)
    assert name not in ("", ".", "..") and "/" not in name and "\\" not in name and ":" not in name
    assert "\0" not in name and not name.endswith((" ", ".")) and len(name.encode()) <= 255
    assert name.split(".")[0].upper() not in {"CON", "PRN", "AUX", "NUL", "COM1", "LPT1"}
    assert (tmp_path / name).resolve().parent == tmp_path.resolve()


def test_safe_component_keeps_plain_names_and_never_merges_two_texts():
    for plain in ("loss", "train loss", "val_acc-top1", "损失", "v1.2"):
        assert store_files.safe_component(plain) == plain
    texts = ["a/b", "a_b", "a\\b", "a:b", "a?b", "..", ".", "_", "x.", "x"]
    assert len({store_files.safe_component(t) for t in texts}) == len(texts)


# ---- credentials in git remotes ---------------------------------------------------------

@pytest.mark.parametrize("url, expected", [
    (f"https://user:{SECRET}@example.com/team/repo.git", "https://example.com/team/repo.git"),
    (f"https://{SECRET}@github.com/team/repo.git", "https://github.com/team/repo.git"),
    (f"http://oauth2:{SECRET}@gitlab.local:8443/g/r.git", "http://gitlab.local:8443/g/r.git"),
    (f"https://user%40mail.com:{SECRET}%40x@host/r", "https://host/r"),
    (f"ssh://git:{SECRET}@host:22/r.git", "ssh://git@host:22/r.git"),
    (f"user:{SECRET}@host.com:team/r.git", "user@host.com:team/r.git"),
    ("git@github.com:team/repo.git", "git@github.com:team/repo.git"),
    ("ssh://git@host/r.git", "ssh://git@host/r.git"),
    ("https://github.com/team/repo.git", "https://github.com/team/repo.git"),
    ("/home/me/repo", "/home/me/repo"),
    ("", ""),
])
def test_credentials_are_cut_from_a_url_and_host_and_path_kept(url, expected):
    assert without_credentials(url) == expected


def _repo_with_remote(folder: Path, url: str) -> Path:
    folder.mkdir(parents=True)
    git(folder, "init", "-q", "-b", "main")
    git(folder, "config", "user.email", "dev@example.com")
    git(folder, "config", "user.name", "Dev")
    git(folder, "remote", "add", "origin", url)
    (folder / "train.py").write_text("print('hi')\n")
    git(folder, "add", ".")
    git(folder, "commit", "-q", "-m", "first")
    return folder / "train.py"


@pytest.mark.parametrize("url", [f"https://user:{SECRET}@example.com/team/repo.git",
                                 f"https://{SECRET}@example.com/team/repo.git"])
def test_code_facts_store_the_remote_without_its_credentials(tmp_path, url):
    script = _repo_with_remote(tmp_path / "repo", url)
    facts = capture.code_facts(script, None, script.parent)
    assert facts["repository"] == "https://example.com/team/repo.git"
    assert SECRET not in repr(facts)


def test_a_recorded_run_never_stores_the_remotes_token(tmp_path, script_env):
    script = _repo_with_remote(tmp_path / "repo", f"https://user:{SECRET}@example.com/team/repo.git")
    script.write_text(textwrap.dedent("""
        from exptable_desktop import Task
        task = Task.init(project_name="secrets", task_name="run")
        """))
    done = run(script, script_env)
    assert done.returncode == 0, done.stderr
    exp_id = only_experiment_id()
    assert queries.experiment_detail(exp_id)["execution"]["repository"] == "https://example.com/team/repo.git"
    assert SECRET not in repr(_raw_execution(exp_id)) and SECRET not in done.stdout + done.stderr


def _raw_execution(exp_id: str) -> tuple:
    """The row as the database holds it, read past the ORM's conversions."""
    placeholder = "?" if "sqlite" in type(database_proxy.obj).__name__.lower() else "%s"
    cursor = database_proxy.obj.execute_sql(f'SELECT * FROM "execution" WHERE "experiment_id" = {placeholder}',
                                            (exp_id,))
    return cursor.fetchone()


def _write_raw_repository(exp_id: str, url: str) -> None:
    placeholder = "?" if "sqlite" in type(database_proxy.obj).__name__.lower() else "%s"
    database_proxy.obj.execute_sql(
        f'UPDATE "execution" SET "repository" = {placeholder} WHERE "experiment_id" = {placeholder}', (url, exp_id))


@pytest.mark.both_backends
def test_every_writer_stores_the_repository_without_credentials(db):
    secret_url = f"https://user:{SECRET}@example.com/team/repo.git"
    created = recording.create_experiment("secrets", "created", execution={"repository": secret_url})
    recorded = recording.create_experiment("secrets", "recorded", status=st.RUNNING)
    recording.record_execution(recorded, repository=secret_url)
    edited = recording.create_experiment("secrets", "edited")
    editing.require(editing.update_execution([edited], repository=secret_url))
    for exp_id in (created, recorded, edited):
        assert SECRET not in repr(_raw_execution(exp_id)), exp_id
        assert Execution.get_by_id(exp_id).repository == "https://example.com/team/repo.git"


@pytest.mark.both_backends
def test_a_token_stored_before_the_cleaning_is_not_shown_nor_copied(db):
    exp_id = recording.create_experiment("secrets", "old row", execution={"repository": "x"})
    _write_raw_repository(exp_id, f"https://{SECRET}@example.com/team/repo.git")
    assert SECRET in repr(_raw_execution(exp_id))
    assert details.execution(exp_id)["repository"] == "https://example.com/team/repo.git"
    assert queries.experiment_detail(exp_id)["execution"]["repository"] == "https://example.com/team/repo.git"
    clone = actions.clone([exp_id]).created[exp_id]
    assert SECRET not in repr(_raw_execution(clone))
