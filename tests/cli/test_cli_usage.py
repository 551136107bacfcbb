"""How ``exptable`` answers a wrong command line and where it finds its database, as a person meets it:
real subprocesses. A usage error (wrong whatever the database holds) exits 2 with argparse's
"exptable <command>: error: ..."; a failure of the work (nothing at that id, no database there)
exits 1 with "exptable: error: ..."; both are one line."""
from __future__ import annotations

import argparse
import json

import pytest

from cli_support import assert_one_line_error, run_cli
from exptable_desktop import cli

HUNDRED_AND_ONE_IDS = [f"{i:032x}" for i in range(101)]

# (command, its arguments, what the one line says); --db names a file that must never appear.
USAGE_ERRORS = [
    ("ls", ["--limit", "-5"], "argument --limit: must be at least 1, not -5"),
    ("ls", ["--limit", "many"], "argument --limit: invalid int value: 'many'"),
    ("ls", ["--status", "sleeping"], "argument --status: unknown status 'sleeping'; expected one of Draft"),
    ("ls", ["--project", "/"], "argument --project: '/' names no project"),
    ("demo", ["--detailed", "-1"], "argument --detailed: must be at least 0, not -1"),
    ("show", [], "the following arguments are required: id"),
    ("tag", ["abcdef01"], "give --add TAG and/or --remove TAG"),
    ("tag", ["abcdef01", "--add", " "], "argument --add: cannot be empty"),
    ("enqueue", ["-"], "no experiment ids given"),
    ("enqueue", ["abcdef01", "--queue", ""], "argument --queue: cannot be empty"),
    ("move", ["abcdef01", "--project", " / "], "argument --project: ' / ' names no project"),
    ("rename", ["abcdef01", "x"], "argument name: a name needs at least 2 characters"),
    ("compare", ["abcdef01"], "say what to write: --html FILE and/or --csv FILE"),
    ("compare", [*HUNDRED_AND_ONE_IDS, "--html", "never.html"], "at most 100 experiments can be compared; 101 given"),
    ("agent", ["--poll", "0"], "argument --poll: must be more than zero seconds, not 0"),
    ("agent", ["--grace", "-1"], "argument --grace: must be zero or more seconds, not -1"),
    ("agent", ["--gpus", "x,y"], "argument --gpus: takes device numbers like 0,1 (or all), not 'x,y'"),
    ("agent", ["--queue", " "], "argument --queue: cannot be empty"),
    ("export csv", ["--columns", "bogus"], "unknown column 'bogus'"),
    ("export csv", ["--query", "status:("], "--query: expected a value (at character 8)"),
    ("import", ["clearml", ".", "--project", "/"], "argument --project: '/' names no project"),
    ("open", ["exptable://nowhere"], "unknown link exptable://nowhere"),
    ("create", ["--name", "x", "--repo", ".", "--script", "train.py"],
     "argument --name: a name needs at least 2 characters"),
    ("create", ["--name", "run", "--repo", ".", "--script", "train.py", "--type", "dreaming"],
     "argument --type: unknown type 'dreaming'"),
    ("create", ["--name", "run", "--repo", ".", "--script", "train.py", "--args", "novalue"],
     "argument --args: 'novalue' is not name=value"),
]


def assert_usage_error(result, command: str, fragment: str) -> None:
    assert_one_line_error(result, fragment)
    line = result.stderr.strip()
    assert line.startswith(f"exptable {command}: error: "), line
    assert line.endswith(f"(see exptable {command} --help)"), line
    assert result.returncode == 2, line


@pytest.mark.parametrize("command, arguments, fragment", USAGE_ERRORS,
                         ids=[f"{c} {' '.join(a)[:40]}" for c, a, _ in USAGE_ERRORS])
def test_usage_errors_exit_2_in_argparse_style_before_the_database_opens(tmp_path, command, arguments, fragment):
    never = tmp_path / "never.db"
    result = run_cli(*command.split(), *arguments, "--db", str(never), cwd=tmp_path)
    assert_usage_error(result, command, fragment)
    assert not never.exists()
    assert not (tmp_path / "never.html").exists()


@pytest.mark.parametrize("db, fragment", [
    ("", "argument --db: give a database URL or an SQLite file path"),
    ("mysql://me@host/db", "argument --db: unsupported database URL mysql://me@host/db"),
    ("mysql://me:s3cret@host/db", "argument --db: unsupported database URL mysql://me:***@host/db"),
    ("host=127.0.0.1 password=s3cret dbname=db", "argument --db: a libpq connection string is not supported"),
])
def test_a_db_value_that_is_no_database_is_a_usage_error(tmp_path, db, fragment):
    folder = tmp_path / "here"
    folder.mkdir()
    result = run_cli("demo", "--db", db, cwd=folder)
    assert_usage_error(result, "demo", fragment)
    assert "s3cret" not in result.stderr
    assert not list(folder.iterdir())  # no file named after the text


def test_install_desktop_refuses_a_password_in_the_launcher_as_a_usage_error(tmp_path):
    result = run_cli("install-desktop", "--db", "postgresql://me:s3cret@host/db",
                     env={"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")})
    assert_usage_error(result, "install-desktop", "the --db URL holds a password")
    assert "s3cret" not in result.stderr
    assert not (tmp_path / "data").exists() and not (tmp_path / "config").exists()


def test_usage_errors_before_the_command_name_the_program():
    result = run_cli("--db", "mysql://host/db", "ls")
    line = result.stderr.strip()
    assert result.returncode == 2
    assert line.startswith("exptable: error: argument --db: unsupported database URL mysql://host/db"), line
    assert line.endswith("(see exptable --help)"), line


# ---- failures of the work: exit 1, "exptable: error: " --------------------------------------------

def assert_runtime_error(result, fragment: str) -> None:
    assert_one_line_error(result, fragment)
    line = result.stderr.strip()
    assert line.startswith("exptable: error: "), line
    assert "--help" not in line
    assert result.returncode == 1, line


def test_an_unknown_id_is_a_runtime_error(demo_db):
    assert_runtime_error(run_cli("show", "0123456789abcdef", "--db", demo_db), "no experiment with id 0123456789abcdef")


def test_an_unknown_project_is_a_runtime_error(demo_db):
    assert_runtime_error(run_cli("ls", "--project", "No/Such", "--db", demo_db), "no project named 'No/Such'")
    assert_runtime_error(run_cli("export", "csv", "--project", "No/Such", "--db", demo_db), "no project named")


def test_a_query_naming_a_field_the_database_lacks_is_a_runtime_error(demo_db):
    result = run_cli("export", "csv", "--query", "nosuchparam>1", "--db", demo_db)
    assert_runtime_error(result, "--query: unknown field 'nosuchparam'")


def test_a_missing_repository_folder_is_a_runtime_error(tmp_path):
    result = run_cli("create", "--db", str(tmp_path / "runs.db"), "--name", "run", "--repo", str(tmp_path / "gone"),
                     "--script", "train.py")
    assert_runtime_error(result, f"repository: no folder {tmp_path / 'gone'}")


# ---- --db takes a file path as people type it -----------------------------------------------------

def test_db_takes_a_relative_sqlite_file_path(tmp_path):
    made = run_cli("demo", "--db", "./runs.db", "--experiments", "3", "--detailed", "0", cwd=tmp_path,
                   env={"EXPTABLE_FILES": ""})
    assert made.returncode == 0, made.stderr
    database = tmp_path / "runs.db"
    assert database.read_bytes()[:16] == b"SQLite format 3\x00"
    assert f"sqlite:///{database}" in made.stdout  # the absolute path: the URL travels to other folders

    listed = run_cli("ls", "--db", "runs.db", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    ids = {row["id"] for row in json.loads(listed.stdout)}
    assert len(ids) == 3
    sub = tmp_path / "sub"
    sub.mkdir()
    for db, cwd, env in ((str(database), None, None), ("../runs.db", sub, None),
                         ("~/runs.db", None, {"HOME": str(tmp_path)})):
        listed = run_cli("ls", "--db", db, "--json", cwd=cwd, env=env)
        assert listed.returncode == 0, (db, listed.stderr)
        assert {row["id"] for row in json.loads(listed.stdout)} == ids, db


def test_db_file_path_that_is_not_there_is_not_created_by_ls(tmp_path):
    result = run_cli("ls", "--db", "missing.db", cwd=tmp_path)
    assert_runtime_error(result, f"no database at {tmp_path / 'missing.db'}")
    assert not (tmp_path / "missing.db").exists()


# ---- help ------------------------------------------------------------------------------------------

def _parsers(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()):
    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            listed = {choice.dest: choice.help for choice in action._choices_actions}
            for name, sub in action.choices.items():
                yield path + (name,), listed.get(name)  # the line in the parent's list of commands
                yield from _parsers(sub, path + (name,))


def test_every_command_and_argument_has_help_text():
    missing = []
    for path, item in _parsers(cli.build_parser()):
        where = " ".join(("exptable",) + path)
        if not isinstance(item, argparse.ArgumentParser):
            if not (item or "").strip():
                missing.append(f"{where} (in its parent's list)")
            continue
        for action in item._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not (action.help or "").strip() or action.help == argparse.SUPPRESS:
                missing.append(f"{where} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, "arguments without help: " + ", ".join(missing)


def test_help_lists_the_file_path_form_of_db():
    result = run_cli("ls", "--help")
    assert result.returncode == 0
    assert "--db URL|FILE" in result.stdout and "./runs.db" in result.stdout
