"""Fixtures for the agent tests: a real git repository (tag, branch, uncommitted change) per test."""
from __future__ import annotations

import sys

import pytest

from agent_support import make_repo


@pytest.fixture
def repo(tmp_path):
    return make_repo(tmp_path)


@pytest.fixture
def make_spec(repo):
    """An ExecutionSpec for a script of the test repository, run with this Python and no packages."""
    from exptable_desktop.core.create import ExecutionSpec

    def make(script: str = "plain.py", *, name: str = "run", repository: str | None = None, **fields):
        fields.setdefault("python", sys.executable)
        return ExecutionSpec(name=name, project="agent-tests", repository=repository or str(repo.path),
                             script=script, **fields)
    return make
