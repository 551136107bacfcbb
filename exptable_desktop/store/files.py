"""The folder where ExpTable keeps files it owns (artifacts, debug samples)."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from exptable_desktop.paths import user_data_dir
from exptable_desktop.store.db import current_url, sqlite_path

ENV_FILES = "EXPTABLE_FILES"


def storage_root() -> Path:
    """Beside an SQLite file, so a database and its files travel together."""
    if os.environ.get(ENV_FILES):
        return Path(os.environ[ENV_FILES])
    path = sqlite_path(current_url())
    if path is not None:
        return path.with_name(path.name + ".files")
    return user_data_dir() / "files"


def experiment_folder(experiment_id: str) -> Path:
    return storage_root() / experiment_id[:2] / experiment_id


def remove_owned_file(uri: str) -> bool:
    """Delete a file or folder only if it lies inside our storage root."""
    if not uri:
        return False
    path = Path(uri[len("file://"):] if uri.startswith("file://") else uri)
    try:
        root = storage_root().resolve()
        resolved = path.resolve()
    except OSError:
        return False
    if root not in resolved.parents:
        return False
    if resolved.is_dir():
        shutil.rmtree(resolved, ignore_errors=True)
        return True
    if resolved.exists():
        resolved.unlink()
        return True
    return False
