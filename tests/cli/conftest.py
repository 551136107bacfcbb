"""A demo database made once by ``exptable demo`` for the read-only tests, and private copies."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from cli_support import DEMO_EXPERIMENTS, DEMO_SEED, run_cli


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> str:
    """Shared: tests must not change it (use ``demo_copy``)."""
    folder = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{folder / 'demo.db'}"
    home = folder / "home"
    home.mkdir()
    result = run_cli("demo", "--db", url, "--experiments", str(DEMO_EXPERIMENTS), "--seed", str(DEMO_SEED),
                     env={"HOME": str(home), "XDG_DATA_HOME": str(home / "data"), "EXPTABLE_USER": "tester",
                          "EXPTABLE_FILES": ""})  # files beside the database
    assert result.returncode == 0, result.stderr
    return url


@pytest.fixture
def demo_copy(demo_db, tmp_path) -> str:
    """A private copy of the demo database, for tests that change it."""
    source = Path(demo_db[len("sqlite:///"):])
    target = tmp_path / "copy.db"
    shutil.copyfile(source, target)
    wal = source.with_name(source.name + "-wal")
    if wal.exists():
        shutil.copyfile(wal, target.with_name(target.name + "-wal"))
    return f"sqlite:///{target}"
