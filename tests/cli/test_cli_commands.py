"""``exptable`` as a person uses it: real subprocesses on real SQLite files."""
from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from pathlib import Path

import pytest

from exptable_desktop import __version__
from cli_support import (DEMO_EXPERIMENTS, DEMO_SEED, assert_one_line_error, cli_env, drop_pg_database,
                         ls_json, new_pg_database, run_cli)


USUAL_HEARTBEAT = {"EXPTABLE_HEARTBEAT_INTERVAL": None}


def first(url: str, *, status: str | None = None, type_: str | None = None, archived: bool = False) -> dict:
    rows = ls_json(url, *(["--archived"] if archived else []))
    for row in rows:
        if (status is None or row["status"] == status) and (type_ is None or row["type"] == type_):
            return row
    raise AssertionError(f"no {status or ''} {type_ or ''} experiment in the demo")


# ---- version and entry points ---------------------------------------------------------------

def test_python_m_prints_the_version():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"exptable {__version__}"


def test_console_script_is_the_same_command():
    script = Path(sys.executable).with_name("exptable")
    if not script.exists():
        pytest.skip("the package is not installed in this environment (no `exptable` script)")
    import subprocess
    result = subprocess.run([str(script), "--version"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.strip() == f"exptable {__version__}"


# ---- ls and show ---------------------------------------------------------------------------------

def test_ls_json_lists_unarchived_experiments_newest_first(demo_db):
    rows = ls_json(demo_db)
    archived = ls_json(demo_db, "--archived")
    assert len(rows) + len(archived) == DEMO_EXPERIMENTS
    assert archived and all(r["archived"] for r in archived)
    assert not any(r["archived"] for r in rows)
    expected_keys = {"id", "name", "type", "status", "status_label", "project", "user", "parent", "created",
                     "started", "last_update", "completed", "last_iteration", "progress", "tags", "archived",
                     "run_time"}
    assert expected_keys <= set(rows[0])
    updates = [r["last_update"] for r in rows]
    assert updates == sorted(updates, reverse=True)
    assert all(len(r["id"]) == 32 for r in rows)


def test_ls_filters_by_status_project_and_limit(demo_db):
    failed = ls_json(demo_db, "--status", "Failed")
    assert failed and {r["status"] for r in failed} == {"failed"}
    completed = ls_json(demo_db, "--status", "completed")
    # Completed includes the legacy "closed" status, shown as Completed.
    assert completed and {r["status_label"] for r in completed} == {"Completed"}
    vision = ls_json(demo_db, "--project", "Vision")
    assert vision and all(r["project"].startswith("Vision/") for r in vision)
    assert {r["project"].count("/") for r in vision} >= {1, 2, 3}
    assert len(ls_json(demo_db, "--limit", "5")) == 5


def test_ls_text_has_a_header_and_a_line_per_experiment(demo_db):
    result = run_cli("ls", "--db", demo_db, "--status", "Aborted")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["ID", "STATUS", "TYPE"]
    aborted = ls_json(demo_db, "--status", "Aborted")
    assert aborted and len(lines) == 1 + len(aborted)
    assert all(" Aborted " in line for line in lines[1:])


def test_show_prints_every_part_of_an_experiment(demo_db):
    exp = first(demo_db, status="completed", type_="training")
    result = run_cli("show", exp["id"], "--db", demo_db)
    assert result.returncode == 0, result.stderr
    text = result.stdout
    for heading in ("EXECUTION", "HYPERPARAMETERS", "CONFIGURATION", "METRICS", "ARTIFACTS"):
        assert f"\n{heading}\n" in text
    assert exp["id"] in text and exp["name"] in text
    assert "repository:" in text and "learning_rate = " in text and "loss/train" in text


def test_show_json_and_id_prefix(demo_db):
    exp = first(demo_db, status="completed", type_="training")
    result = run_cli("show", exp["id"][:10], "--json", "--db", demo_db)
    assert result.returncode == 0, result.stderr
    detail = json.loads(result.stdout)
    assert detail["id"] == exp["id"]
    assert {"execution", "hyperparameters", "configuration", "metrics", "artifacts", "tags"} <= set(detail)
    assert detail["execution"]["repository"].startswith("https://")
    assert "Args" in detail["hyperparameters"]
    assert {(m["metric"], m["variant"]) for m in detail["metrics"]} >= {("loss", "train"), ("accuracy", "val")}


def test_db_comes_from_environment_when_not_given(demo_db):
    result = run_cli("ls", "--json", "--limit", "1", env={"EXPTABLE_DB": demo_db})
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 1


def test_db_option_is_accepted_before_the_command(demo_db):
    result = run_cli("--db", demo_db, "ls", "--json", "--limit", "2")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)) == 2


# ---- bad input: one line on stderr, non-zero, no traceback ------------------------------------------

# Unknown ids, projects, statuses and URL schemes, and the exit code of each kind of error:
# test_cli_usage.py.

def test_unreachable_server():
    assert_one_line_error(run_cli("ls", "--db", "postgresql://nobody@127.0.0.1:9/none"), "cannot open database")


def test_missing_database_file_is_not_created(tmp_path):
    path = tmp_path / "typo.db"
    assert_one_line_error(run_cli("ls", "--db", f"sqlite:///{path}"), "no database at")
    assert not path.exists()


def test_unreadable_database(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("these are my notes, not a database\n" * 100)
    assert_one_line_error(run_cli("ls", "--db", f"sqlite:///{path}"), "file is not a database")
    assert path.read_text().startswith("these are my notes")


def test_another_programs_sqlite_file_is_refused_untouched(tmp_path):
    import sqlite3

    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (body TEXT)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    assert_one_line_error(run_cli("ls", "--db", f"sqlite:///{path}"), "not an ExpTable database")
    assert path.read_bytes() == before


def test_ambiguous_id_prefix_says_so(tmp_path):
    import time

    from exptable_desktop.store import close_database, open_database
    from exptable_desktop.store.schema import Experiment, Project

    url = f"sqlite:///{tmp_path / 'ids.db'}"
    open_database(url)
    try:
        project = Project.create(name="p", created=time.time())
        for suffix in ("01", "02"):
            Experiment.create(id="abcdef" + suffix * 13, name=f"run {suffix}", project=project,
                              created=time.time(), last_update=time.time())
    finally:
        close_database()
    assert_one_line_error(run_cli("show", "abcdef", "--db", url), "matches several experiments")
    assert run_cli("show", "abcdef01", "--db", url).returncode == 0


def test_newer_database_is_refused_untouched(demo_copy):
    path = Path(demo_copy[len("sqlite:///"):])
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE schema_version SET version = 999")
    conn.close()  # the last connection to close checkpoints the WAL into the file
    before = path.read_bytes()
    assert_one_line_error(run_cli("ls", "--db", demo_copy), "newer than this program")
    assert path.read_bytes() == before


def test_malformed_command_line():
    result = run_cli("ls", "--limit", "many")
    assert_one_line_error(result, "invalid int value")
    assert result.returncode == 2


def test_unknown_command():
    assert_one_line_error(run_cli("frobnicate"), "invalid choice")


# ---- actions ------------------------------------------------------------------------------------

def test_enqueue_and_dequeue_a_draft(demo_copy):
    draft = first(demo_copy, status="created")
    result = run_cli("enqueue", draft["id"], "--queue", "gpu-t4", "--db", demo_copy)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "1 of 1 experiment enqueued"
    shown = json.loads(run_cli("show", draft["id"], "--json", "--db", demo_copy).stdout)
    assert shown["status"] == "queued" and shown["queue"] == "gpu-t4"
    result = run_cli("dequeue", draft["id"], "--db", demo_copy)
    assert result.returncode == 0
    assert json.loads(run_cli("show", draft["id"], "--json", "--db", demo_copy).stdout)["status"] == "created"


def test_action_reports_skipped_experiments_with_reasons(demo_copy):
    completed = first(demo_copy, status="completed")
    draft = first(demo_copy, status="created")
    result = run_cli("enqueue", completed["id"], draft["id"], "--db", demo_copy)
    assert result.returncode == 1
    assert result.stdout.splitlines()[0] == "1 of 2 experiments enqueued"
    assert "Traceback" not in result.stderr
    assert "only Draft or Aborted can be enqueued" in result.stderr
    assert completed["id"] in result.stderr


def test_action_on_unknown_id_is_one_line(demo_copy):
    result = run_cli("publish", "ffffffffffffffffffffffffffffffff", "--db", demo_copy)
    assert result.returncode == 1
    assert result.stdout.strip() == "0 of 1 experiment published"
    assert_one_line_error(result, "No such experiment")


def test_ids_from_stdin(demo_copy):
    drafts = [r["id"] for r in ls_json(demo_copy, "--status", "Draft")][:3]
    result = run_cli("tag", "-", "--add", "from-stdin", "--db", demo_copy, stdin="\n".join(drafts) + "\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"{len(drafts)} of {len(drafts)} experiments tagged"
    for exp_id in drafts:
        assert "from-stdin" in json.loads(run_cli("show", exp_id, "--json", "--db", demo_copy).stdout)["tags"]


def test_tag_add_and_remove(demo_copy):
    exp = first(demo_copy, status="completed")
    assert run_cli("tag", exp["id"], "--add", "cli-tag", "other", "--db", demo_copy).returncode == 0
    tags = json.loads(run_cli("show", exp["id"], "--json", "--db", demo_copy).stdout)["tags"]
    assert {"cli-tag", "other"} <= set(tags)
    assert run_cli("tag", exp["id"], "--remove", "cli-tag", "--db", demo_copy).returncode == 0
    tags = json.loads(run_cli("show", exp["id"], "--json", "--db", demo_copy).stdout)["tags"]
    assert "cli-tag" not in tags and "other" in tags
    assert_one_line_error(run_cli("tag", exp["id"], "--db", demo_copy), "--add")


def test_abort_publish_and_reset(demo_copy):
    from exptable_desktop.core.recording import create_experiment
    from exptable_desktop.store import close_database, open_database
    from exptable_desktop.store.schema import Experiment

    open_database(demo_copy)
    try:  # the demo has no Running experiment (nothing would beat for it): one silent for ten minutes
        running = create_experiment("Examples", "a run nothing beats for", status="in_progress")
        Experiment.update(heartbeat=time.time() - 600).where(Experiment.id == running).execute()
    finally:
        close_database()
    # At the usual heartbeat interval the run is silent: Abort ends it at once.
    assert run_cli("abort", running, "--db", demo_copy, env=USUAL_HEARTBEAT).returncode == 0
    assert json.loads(run_cli("show", running, "--json", "--db", demo_copy).stdout)["status"] == "stopped"

    completed = first(demo_copy, status="completed")
    assert run_cli("publish", completed["id"], "--db", demo_copy).returncode == 0
    assert json.loads(run_cli("show", completed["id"], "--json", "--db", demo_copy).stdout)["status"] == "published"
    result = run_cli("reset", completed["id"], "--db", demo_copy)
    assert result.returncode == 1 and "Published" in result.stderr

    failed = first(demo_copy, status="failed")
    assert run_cli("reset", failed["id"], "--db", demo_copy).returncode == 0
    detail = json.loads(run_cli("show", failed["id"], "--json", "--db", demo_copy).stdout)
    assert detail["status"] == "created" and detail["metrics"] == []
    assert detail["hyperparameters"], "reset keeps the configuration"


def test_clone_move_rename(demo_copy):
    exp = first(demo_copy, status="completed", type_="training")
    result = run_cli("clone", exp["id"], "--project", "Sandbox/Clones", "--db", demo_copy)
    assert result.returncode == 0, result.stderr
    created = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("created ")]
    assert len(created) == 1
    clone = json.loads(run_cli("show", created[0], "--json", "--db", demo_copy).stdout)
    assert clone["name"] == f"Clone Of {exp['name']}"
    assert clone["status"] == "created" and clone["project"] == "Sandbox/Clones"
    assert clone["metrics"] == []

    assert run_cli("move", created[0], "--project", "Sandbox/Moved", "--db", demo_copy).returncode == 0
    assert run_cli("rename", created[0], "my clone", "--db", demo_copy).returncode == 0
    moved = json.loads(run_cli("show", created[0], "--json", "--db", demo_copy).stdout)
    assert moved["project"] == "Sandbox/Moved" and moved["name"] == "my clone"


def test_archive_restore_delete(demo_copy):
    exp = first(demo_copy, status="failed")
    result = run_cli("delete", exp["id"], "--db", demo_copy)
    assert result.returncode == 1 and "Only archived experiments can be deleted" in result.stderr
    assert run_cli("archive", exp["id"], "--db", demo_copy).returncode == 0
    assert exp["id"] in {r["id"] for r in ls_json(demo_copy, "--archived")}
    assert run_cli("restore", exp["id"], "--db", demo_copy).returncode == 0
    assert exp["id"] not in {r["id"] for r in ls_json(demo_copy, "--archived")}
    assert run_cli("archive", exp["id"], "--db", demo_copy).returncode == 0
    result = run_cli("delete", exp["id"], "--db", demo_copy)
    assert result.returncode == 0 and result.stdout.strip() == "1 of 1 experiment deleted"
    assert_one_line_error(run_cli("show", exp["id"], "--db", demo_copy), "no experiment")


def test_demo_refuses_the_same_seed_twice(demo_copy):
    result = run_cli("demo", "--db", demo_copy, "--experiments", "10", "--seed", str(DEMO_SEED))
    assert_one_line_error(result, "already in this database")
    assert len(ls_json(demo_copy)) + len(ls_json(demo_copy, "--archived")) == DEMO_EXPERIMENTS


# ---- gui: the first start fills the default database --------------------------------------------------

# The window itself is the UI's business (and blocks in the event loop); here a
# stand-in for ``exptable_desktop.ui.app`` records the URL it would open.
GUI_STAND_IN = """
import sys, types
module = types.ModuleType("exptable_desktop.ui.app")
module.run_gui = lambda url: print("window for", url) or 0
sys.modules["exptable_desktop.ui.app"] = module
from exptable_desktop.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_gui_stand_in(*args: str, env: dict | None = None):
    import subprocess
    return subprocess.run([sys.executable, "-c", GUI_STAND_IN, *args], capture_output=True, text=True,
                          env=cli_env(env), timeout=120)


def test_first_gui_start_fills_the_new_default_database(tmp_path):
    result = run_gui_stand_in()
    assert result.returncode == 0, result.stderr
    assert "adding 300 demo experiments" in result.stderr
    url = result.stdout.split("window for ", 1)[1].strip()
    assert url.startswith("sqlite:///") and str(tmp_path) in url
    assert len(ls_json(url)) + len(ls_json(url, "--archived")) == 300

    again = run_gui_stand_in("gui")
    assert again.returncode == 0 and "demo" not in again.stderr
    assert len(ls_json(url)) + len(ls_json(url, "--archived")) == 300


def test_gui_on_an_explicit_database_adds_nothing(tmp_path):
    url = f"sqlite:///{tmp_path / 'mine.db'}"
    result = run_gui_stand_in("gui", "--db", url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"window for {url}"
    assert ls_json(url) == []


def test_gui_without_a_display_explains_instead_of_crashing(tmp_path):
    result = run_gui_stand_in("gui", "--db", f"sqlite:///{tmp_path / 'x.db'}",
                              env={"DISPLAY": None, "WAYLAND_DISPLAY": None, "QT_QPA_PLATFORM": None})
    assert_one_line_error(result, "no display")
    assert "window for" not in result.stdout


def test_every_command_has_help():
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("gui", "demo", "ls", "show", "enqueue", "dequeue", "reset", "abort", "publish", "archive",
                    "restore", "delete", "clone", "move", "tag"):
        assert command in result.stdout
        assert run_cli(command, "--help").returncode == 0


@pytest.mark.skipif(not os.environ.get("EXPTABLE_TEST_PG_URL"), reason="EXPTABLE_TEST_PG_URL not set")
@pytest.mark.pg
def test_demo_and_ls_on_postgresql():
    url = new_pg_database()
    try:
        result = run_cli("demo", "--db", url, "--experiments", "120", "--detailed", "20")
        assert result.returncode == 0, result.stderr
        rows = ls_json(url) + ls_json(url, "--archived")
        assert len(rows) == 120
        detail = json.loads(run_cli("show", rows[0]["id"], "--json", "--db", url).stdout)
        assert detail["id"] == rows[0]["id"]
    finally:
        drop_pg_database(url)


def test_retry_a_failed_experiment(demo_copy):
    failed = first(demo_copy, status="failed")
    result = run_cli("retry", failed["id"], "--queue", "cpu", "--db", demo_copy)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == "1 of 1 experiment enqueued"
    detail = json.loads(run_cli("show", failed["id"], "--json", "--db", demo_copy).stdout)
    assert detail["status"] == "queued" and detail["enqueue_status"] == "failed"


def test_abort_children_of_a_stopped_pipeline(demo_copy):
    """The demo's pipeline was stopped with steps still queued: Abort all children ends those."""
    rows = ls_json(demo_copy)
    pipeline = next(r for r in rows if r["type"] in ("controller", "optimizer") and r["status"] == "stopped"
                    and any(c["parent"] == r["id"] and c["status"] == "queued" for c in rows))
    live = [c["id"] for c in rows if c["parent"] == pipeline["id"] and c["status"] in ("queued", "in_progress")]
    assert live
    result = run_cli("abort-children", pipeline["id"], "--db", demo_copy, env=USUAL_HEARTBEAT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"{len(live)} of {len(live)} experiment{'s' if len(live) > 1 else ''} aborted"
    after = {r["id"]: r["status"] for r in ls_json(demo_copy)}
    assert all(after[c] == "stopped" for c in live)
    assert after[pipeline["id"]] == "stopped"


@pytest.mark.parametrize("args, message", [(["--experiments", "0"], "--experiments: must be at least 1"),
                                           (["--detailed", "-3"], "--detailed: must be at least 0")])
def test_demo_rejects_bad_counts(tmp_path, args, message):
    path = tmp_path / "never.db"
    result = run_cli("demo", "--db", f"sqlite:///{path}", *args)
    assert_one_line_error(result, "exptable demo: error: ", message)
    assert result.returncode == 2
    assert not path.exists()


def test_enqueue_warns_by_the_same_live_worker_rule_as_the_workers_window(demo_copy):
    from exptable_desktop.core import queues
    from exptable_desktop.store import close_database, open_database

    draft, other = [e["id"] for e in ls_json(demo_copy, "--status", "Draft")[:2]]
    open_database(demo_copy)
    try:
        queues.register_worker("box:0", ["gpu-live"])
        queues.register_worker("box:1", ["gpu-silent"])
        silent_since = time.time() - 60  # alive by the old 120 s rule, gone by the window's
        from exptable_desktop.store.schema import Worker
        Worker.update(last_seen=silent_since).where(Worker.name == "box:1").execute()
    finally:
        close_database()
    usual = {"EXPTABLE_HEARTBEAT_INTERVAL": None}
    warned = run_cli("enqueue", draft, "--queue", "gpu-silent", "--db", demo_copy, env=usual)
    assert warned.returncode == 0 and "no live worker listens to queue 'gpu-silent'" in warned.stderr
    quiet = run_cli("enqueue", other, "--queue", "gpu-live", "--db", demo_copy, env=usual)
    assert quiet.returncode == 0 and "no live worker" not in quiet.stderr
