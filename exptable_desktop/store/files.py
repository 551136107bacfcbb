"""The folder where ExpTable keeps files it owns (artifacts, debug samples), and how user text
becomes a file name in it."""
from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

from exptable_desktop.paths import user_data_dir
from exptable_desktop.store.db import current_url, sqlite_path

ENV_FILES = "EXPTABLE_FILES"
MAX_COMPONENT_BYTES = 200  # file systems allow 255 bytes a name; the hash suffix needs 9
# Names Windows gives to devices in every folder (with any extension).
_WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                              *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))})
_UNSAFE_CHARS = re.compile(r"[^\w .,+=@()-]+")
_DRIVE = re.compile(r"^[A-Za-z]:")
_EXPERIMENT_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def safe_component(text: str) -> str:
    """``text`` as one file or folder name that stays inside the folder it is joined to, on any OS.

    Text that is already such a name comes back unchanged. Anything else has its unsafe characters
    replaced and a hash of the original appended, so two different texts never share a name.
    """
    text = str(text)
    name = _UNSAFE_CHARS.sub("_", text)
    # Windows drops trailing dots and spaces, so "x." and "x" would be one file there.
    name = name.strip(" ").rstrip(".")
    name = name.encode("utf-8")[:MAX_COMPONENT_BYTES].decode("utf-8", "ignore").rstrip(" .")
    if not name.strip("."):
        name = "_"
    elif name.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_DEVICES:
        name = "_" + name
    if name != text:
        name = f"{name}-{hashlib.sha1(text.encode('utf-8', 'surrogatepass')).hexdigest()[:8]}"
    return name


def require_plain_name(name: str, what: str) -> str:
    """``name`` itself when it can name a file of its own; a one-line ValueError saying why not otherwise.

    Refused are the names a path would read as somewhere else: "." and "..", separators of
    either OS, a drive ("C:"), NUL, and blank names.
    """
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a string, not {type(name).__name__}")
    if not name.strip():
        raise ValueError(f"{what} {name!r} is blank")
    if "\0" in name:
        raise ValueError(f"{what} {name!r} contains a NUL character")
    if "/" in name or "\\" in name:
        raise ValueError(f"{what} {name!r} contains a path separator ('/' or '\\')")
    if _DRIVE.match(name):
        raise ValueError(f"{what} {name!r} starts with a drive letter")
    if not name.strip(". "):
        raise ValueError(f"{what} {name!r} names a folder ('.' or '..'), not a file of its own")
    return name


def storage_root() -> Path:
    """Beside an SQLite file, so a database and its files travel together."""
    if os.environ.get(ENV_FILES):
        return Path(os.environ[ENV_FILES])
    path = sqlite_path(current_url())
    if path is not None:
        return path.with_name(path.name + ".files")
    return user_data_dir() / "files"


def experiment_folder(experiment_id: str) -> Path:
    if not _EXPERIMENT_ID.match(str(experiment_id)):
        raise ValueError(f"experiment id {experiment_id!r} cannot name a folder")
    return storage_root() / experiment_id[:2] / experiment_id


def names_something_in(uri: str, folder: str | Path) -> bool:
    """Whether ``uri`` (a path or file:// URL) names ``folder`` or something in it.

    Judged by the text alone, without file system calls (Reset and Delete ask it inside their
    transaction, once per file): a row may name any path, and one that names another
    experiment's files, or anything else, is not this experiment's to remove.
    """
    if not uri:
        return False
    folder = os.path.abspath(folder)
    path = os.path.abspath(uri[len("file://"):] if uri.startswith("file://") else uri)
    return path == folder or path.startswith(folder + os.sep)


def _inside_an_experiment_folder(path: Path, root: Path) -> bool:
    """``root/<id[:2]>/<id>`` or below: never the root itself, nor a folder shared by experiments."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return False
    return (len(parts) >= 2 and _EXPERIMENT_ID.match(parts[1]) is not None
            and parts[0] == parts[1][:2])


def remove_owned_file(uri: str) -> bool:
    """Delete a file or folder only if it lies in an experiment's folder under our storage root.

    Symbolic links are resolved first, so a link inside the root that points elsewhere is refused.
    """
    if not uri:
        return False
    path = Path(uri[len("file://"):] if uri.startswith("file://") else uri)
    try:
        root = storage_root().resolve()
        resolved = path.resolve()
    except (OSError, RuntimeError):
        return False
    if not _inside_an_experiment_folder(resolved, root):
        return False
    if resolved.is_dir():
        shutil.rmtree(resolved, ignore_errors=True)
        return True
    if resolved.exists():
        resolved.unlink()
        return True
    return False


def sha256_of(path: Path) -> str:
    """The file's SHA-256, read in 1 MB blocks (artifacts of any size)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
