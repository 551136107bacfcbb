"""Fixtures for the SDK tests: a temp database and file folder, temp git repositories."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from sdk_scripts import git


@pytest.fixture
def make_repo(tmp_path):
    """A git repository holding ``train.py``: committed, then changed without committing."""
    def make(script: str, name: str = "train.py", subdir: str = "") -> Path:
        repo = tmp_path / "repo"
        work = repo / subdir if subdir else repo
        work.mkdir(parents=True, exist_ok=True)
        git(repo, "init", "-q", "-b", "main")
        git(repo, "config", "user.email", "dev@example.com")
        git(repo, "config", "user.name", "Dev")
        git(repo, "remote", "add", "origin", "https://example.com/team/train-repo.git")
        (work / name).write_text(textwrap.dedent(script))
        git(repo, "add", ".")
        git(repo, "commit", "-q", "-m", "first")
        with open(work / name, "a") as handle:
            handle.write("# an uncommitted change\n")
        return work / name
    return make
