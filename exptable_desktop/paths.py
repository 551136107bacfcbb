"""Where things live on disk: the user's data folder and bundled resources.

This is the only module that knows about PyInstaller's ``sys._MEIPASS``.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "ExpTable"


def user_data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def resources_root() -> Path:
    frozen_root = getattr(sys, "_MEIPASS", None)
    if frozen_root:
        return Path(frozen_root) / "resources"
    package = Path(__file__).resolve().parent
    installed = package / "resources"  # a wheel maps resources/ into the package
    if installed.is_dir():
        return installed
    return package.parent / "resources"  # the source tree, editable installs included


def resource_path(*parts: str) -> Path:
    """Absolute path of a bundled resource, from source or from the packaged build."""
    path = resources_root().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(f"resource not found: {'/'.join(parts)} (looked in {resources_root()})")
    return path


def current_user() -> str:
    for var in ("EXPTABLE_USER", "USER", "LOGNAME", "USERNAME"):
        if os.environ.get(var):
            return os.environ[var]
    try:
        import getpass
        return getpass.getuser()
    except Exception:
        return "unknown"
