"""``exptable`` on databases it must not change: read-only files and folders (run as user
nobody, since root writes through chmod), empty files, missing folders, and URLs with passwords."""
from __future__ import annotations

import json
import sqlite3

import pytest
from cli_support import assert_one_line_error, run_cli
from read_only_support import can_drop_privileges, listing, nobody_cli, shared_folder

needs_nobody = pytest.mark.skipif(not can_drop_privileges(), reason="running as root without a user 'nobody'")


@pytest.fixture
def read_only_demo(request):
    """A small demo database, then made read-only as ``request.param`` says: the file or its folder."""
    with shared_folder() as folder:
        data = folder / "data"
        data.mkdir(mode=0o755)
        url = f"sqlite:///{data / 'demo.db'}"
        made = run_cli("demo", "--db", url, "--experiments", "40", "--detailed", "2", "--seed", "3",
                       env={"HOME": str(folder), "EXPTABLE_FILES": None})
        assert made.returncode == 0, made.stderr
        conn = sqlite3.connect(data / "demo.db")
        ids = [row[0] for row in conn.execute("SELECT id FROM experiment WHERE NOT archived ORDER BY id")]
        conn.close()
        data.chmod(0o755)
        if request.param == "file":
            (data / "demo.db").chmod(0o444)
        else:
            (data / "demo.db").chmod(0o666)  # writable itself: only the folder stops SQLite
            data.chmod(0o555)
        yield url, ids, data, folder / "home"


@needs_nobody
@pytest.mark.parametrize("read_only_demo", ["file", "folder"], indirect=True)
def test_ls_and_show_read_a_read_only_database_without_writing(read_only_demo):
    url, ids, data, home = read_only_demo
    before = listing(data)

    listed = nobody_cli("ls", "--db", url, "--json", home=home)
    assert listed.returncode == 0, listed.stderr
    assert sorted(row["id"] for row in json.loads(listed.stdout)) == ids
    text = nobody_cli("ls", "--db", url, "--limit", "3", home=home)
    assert text.returncode == 0 and text.stdout.splitlines()[0].split()[:2] == ["ID", "STATUS"]
    shown = nobody_cli("show", ids[0][:8], "--db", url, "--json", home=home)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == ids[0]

    assert listing(data) == before  # not one byte, and no -wal or -shm beside it


@needs_nobody
@pytest.mark.parametrize("read_only_demo", ["file", "folder"], indirect=True)
def test_changes_to_a_read_only_database_are_refused_with_the_reason(read_only_demo):
    url, ids, data, home = read_only_demo
    before = listing(data)

    archived = nobody_cli("archive", *ids[:2], "--db", url, home=home)
    assert_one_line_error(archived, "skipped 2: The database is read-only")
    assert archived.stdout.strip() == "0 of 2 experiments archived"
    tagged = nobody_cli("tag", ids[0], "--add", "x", "--db", url, home=home)
    assert_one_line_error(tagged, "skipped 1: The database is read-only")
    demo = nobody_cli("demo", "--db", url, "--experiments", "5", "--seed", "11", home=home)
    assert_one_line_error(demo, "read-only", "nothing was changed")

    assert listing(data) == before


@pytest.mark.parametrize("command", [("ls",), ("show", "0123456789abcdef")])
def test_read_commands_do_not_turn_an_empty_file_into_a_database(command, tmp_path):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    assert_one_line_error(run_cli(*command, "--db", f"sqlite:///{path}"), "empty", str(path))
    assert path.read_bytes() == b""
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["empty.db"]


def test_demo_fills_an_empty_file(tmp_path):
    path = tmp_path / "empty.db"
    path.write_bytes(b"")
    result = run_cli("demo", "--db", f"sqlite:///{path}", "--experiments", "5", "--detailed", "0",
                     env={"EXPTABLE_FILES": str(tmp_path / "files")})
    assert result.returncode == 0, result.stderr
    assert run_cli("ls", "--db", f"sqlite:///{path}", "--json").returncode == 0


@pytest.mark.parametrize("command", ["demo", "gui"])
def test_a_typo_in_the_folder_is_an_error_naming_it(command, tmp_path):
    missing = tmp_path / "exprements"
    result = run_cli(command, "--db", f"sqlite:///{missing / 'team.db'}",
                     env={"QT_QPA_PLATFORM": "offscreen"})
    assert_one_line_error(result, f"folder {missing} does not exist")
    assert not missing.exists()


@pytest.mark.parametrize("url", [
    "postgresql://alice:s3cret@127.0.0.1:1/",
    "postgresql+psycopg2://alice:s3cret@127.0.0.1:1/db",
    "postgresql://alice:s3cret@127.0.0.1:1/db",
    "postgresql://alice@127.0.0.1:1/db?password=s3cret",
])
@pytest.mark.parametrize("command", ["ls", "demo"])
def test_no_message_shows_the_password(command, url):
    result = run_cli(command, "--db", url)
    assert_one_line_error(result)
    assert "s3cret" not in result.stderr + result.stdout
    assert "***" in result.stderr


def test_an_empty_postgresql_database_is_not_filled_by_ls():
    from cli_support import drop_pg_database, new_pg_database, pg_support

    if not pg_support.server_url():
        pytest.skip("EXPTABLE_TEST_PG_URL not set")
    url = new_pg_database()
    try:
        assert_one_line_error(run_cli("ls", "--db", url), "holds no ExpTable data")
        import psycopg2
        conn = psycopg2.connect(url)
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'")
                assert cur.fetchone()[0] == 0
        finally:
            conn.close()
        assert run_cli("demo", "--db", url, "--experiments", "5", "--detailed", "0").returncode == 0
        assert run_cli("ls", "--db", url, "--json").returncode == 0
    finally:
        drop_pg_database(url)


def test_the_nobody_subprocess_really_cannot_write():
    """The read-only tests above mean something only if their subprocess cannot write a 0444 file
    (root could: it would fill this empty file with a new database)."""
    with shared_folder() as folder:
        target = folder / "f.db"
        target.write_bytes(b"")
        target.chmod(0o444)
        result = nobody_cli("demo", "--db", f"sqlite:///{target}", "--experiments", "1", home=folder)
        assert_one_line_error(result, "read-only")
        assert target.read_bytes() == b""
