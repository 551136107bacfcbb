"""The scratch home the screenshot scripts render in: a temporary folder holding the database,
the files and the user's settings, so a script never touches the real ones."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def scratch_home():
    """Yield (folder, SQLite URL) with HOME, XDG folders and EXPTABLE_FILES pointing inside it."""
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for var, sub in (("HOME", ""), ("XDG_DATA_HOME", "data"), ("XDG_CONFIG_HOME", "config"),
                         ("EXPTABLE_FILES", "files")):
            os.environ[var] = str(folder / sub)
        yield folder, f"sqlite:///{folder / 'shots.db'}"
