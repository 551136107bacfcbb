"""Artifacts as the reference SDK hands them out: ``task.artifacts[name]`` is an ``Artifact``, and
``task.register_artifact(name, dataframe)`` keeps a live DataFrame stored as it changes.

``Artifact.get()`` rebuilds the object from its file by type (DataFrame, numpy array, dict,
PIL image, text, unpickled object); anything else is the ``Path`` of a local copy.
"""
from __future__ import annotations

import hashlib
import json
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from exptable_desktop.sdk.storage import StorageManager

# Our file kinds (metadata "_type", see sdk/artifacts.py) as the reference's artifact types.
REFERENCE_TYPES = {"wildcard": "archive", "folder": "archive", "file": "custom", "str": "string", "dict": "dict",
                   "numpy": "numpy", "pandas": "pandas", "image": "image", "pickle": "pickle"}
# The dict keys ``task.artifacts[name]`` had before it held objects, still readable by subscript.
_LEGACY_KEYS = {"uri": "url", "size": "size", "hash": "hash", "preview": "preview", "metadata": "metadata"}


class Artifact:
    """One stored artifact, read-only (the reference's ``clearml.binding.artifacts.Artifact``)."""

    _NOT_LOADED = object()

    def __init__(self, row):
        try:
            metadata = json.loads(row.metadata or "{}")
        except ValueError:
            metadata = {}
        self._name = row.name
        self._url = row.uri
        self._size = row.size
        self._hash = row.hash
        self._mode = row.mode
        self._content_type = row.content_type
        self._preview = row.preview
        self._timestamp = datetime.fromtimestamp(row.created or 0)
        self._kind = str(metadata.get("_type", ""))
        self._type = REFERENCE_TYPES.get(self._kind, self._kind or "custom")
        self._metadata = {k: v for k, v in metadata.items() if not str(k).startswith("_")}
        self._object = self._NOT_LOADED

    name = property(lambda self: self._name)
    url = property(lambda self: self._url)
    size = property(lambda self: self._size)
    hash = property(lambda self: self._hash)
    type = property(lambda self: self._type)
    mode = property(lambda self: self._mode)
    timestamp = property(lambda self: self._timestamp)
    metadata = property(lambda self: dict(self._metadata))
    preview = property(lambda self: self._preview)

    def __getitem__(self, key: str) -> Any:
        if key not in _LEGACY_KEYS:
            raise KeyError(key)
        return getattr(self, _LEGACY_KEYS[key])

    def get_local_copy(self, extract_archive: bool = True, raise_on_error: bool = False,
                       force_download: bool = False) -> str | None:
        """The file's path (a remote one downloaded first); a zipped folder extracted when ``extract_archive``."""
        try:
            local = StorageManager.get_local_copy(self._url, extract_archive=extract_archive and self._type == "archive",
                                                  name=self._name, force_download=force_download)
        except ValueError:
            if raise_on_error:
                raise
            return None
        if local is None and raise_on_error:
            raise ValueError(f"could not get a local copy of artifact {self._name!r} from {self._url}")
        return local

    def get(self, force_download: bool = False, deserialization_function=None) -> Any:
        if self._object is not self._NOT_LOADED and not force_download:
            return self._object
        local = self.get_local_copy(extract_archive=True, raise_on_error=True, force_download=force_download)
        path = Path(local)
        if deserialization_function is not None:
            self._object = deserialization_function(path.read_bytes())
            return self._object
        loaded = _load(path, self._type, self._name, self._hash)
        self._object = path if loaded is None else loaded
        return self._object

    def __repr__(self) -> str:
        return repr({"name": self.name, "size": self.size, "type": self.type, "mode": self.mode, "url": self.url,
                     "hash": self.hash, "timestamp": self.timestamp, "metadata": self.metadata,
                     "preview": self.preview})


def _load(path: Path, kind: str, name: str, expected_hash: str) -> Any:
    if kind == "numpy":
        import numpy as np

        if path.suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return archive[name] if name in archive.files else archive[archive.files[0]]
        return np.load(path, allow_pickle=False)
    if kind == "pandas":
        import pandas as pd

        return pd.read_csv(path, index_col=[0])
    if kind == "image":
        from PIL import Image

        return Image.open(path)
    if kind == "dict":
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    if kind == "string":
        return path.read_text(encoding="utf-8")
    if kind == "pickle":
        import pickle

        data = path.read_bytes()
        if expected_hash and hashlib.sha256(data).hexdigest() != expected_hash:
            raise ValueError(f"artifact {name!r}: the pickle file does not match its recorded hash; not loading it")
        return pickle.loads(data)
    return None


class ArtifactsView(Mapping[str, Artifact]):
    """``task.artifacts``: read-only, name -> ``Artifact``, read from the database when asked."""

    def __init__(self, rows: Sequence):
        self._items = {row.name: Artifact(row) for row in rows}

    def __getitem__(self, name: str) -> Artifact:
        try:
            return self._items[name]
        except KeyError:
            from exptable_desktop.store.schema import Artifact as Row

            stored = Row.name.db_value(name)  # a name as the database keeps it (over-long names are cut)
            if stored in self._items:
                return self._items[stored]
            raise

    def __contains__(self, name: object) -> bool:
        try:
            self[name]
        except (KeyError, TypeError):
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return repr(self._items)


def dataframe_signature(frame: Any) -> tuple:
    """Changes when the frame's shape, columns, index or any value changes."""
    import pandas as pd

    hashed = pd.util.hash_pandas_object(frame, index=True)
    return (tuple(frame.shape), tuple(map(str, frame.columns)), int(hashed.sum()) if len(hashed) else 0)


class RegisteredArtifacts:
    """The DataFrames ``register_artifact`` watches; stored when first registered, when changed
    (looked at by the writer thread, see ``sdk.live``), when unregistered and at exit."""

    def __init__(self, upload):
        self._upload = upload  # (name, frame, metadata) -> None
        self._entries: dict[str, dict] = {}
        self._lock = threading.Lock()

    def register(self, name: str, frame: Any, metadata: Mapping | None, uniqueness_columns) -> None:
        if not (type(frame).__name__ == "DataFrame" and hasattr(frame, "to_csv")):
            raise TypeError(f"register_artifact takes a pandas DataFrame, not {type(frame).__name__} "
                            "(use upload_artifact for other objects)")
        with self._lock:
            self._entries[name] = {"frame": frame, "metadata": dict(metadata or {}), "signature": None}
        self.sync(only=name)

    def unregister(self, name: str) -> None:
        self.sync(only=name)
        with self._lock:
            self._entries.pop(name, None)

    def objects(self) -> dict[str, Any]:
        with self._lock:
            return {name: entry["frame"] for name, entry in self._entries.items()}

    def sync(self, only: str | None = None) -> list[str]:
        """Store each changed frame; returns the names stored. A frame the script is changing at this
        very moment may fail to read: it is tried again next time."""
        with self._lock:
            entries = [(n, e) for n, e in self._entries.items() if only is None or n == only]
        stored = []
        for name, entry in entries:
            frame = entry["frame"]
            try:
                signature = dataframe_signature(frame)
            except Exception:
                continue
            if signature == entry["signature"]:
                continue
            self._upload(name, frame, entry["metadata"])
            entry["signature"] = signature
            stored.append(name)
        return stored


__all__ = ["Artifact", "ArtifactsView", "RegisteredArtifacts", "REFERENCE_TYPES"]
