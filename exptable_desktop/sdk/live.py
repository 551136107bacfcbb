"""What a script keeps changing after handing it over: ``task.connect(dict)``'s live dict and
``task.register_artifact``'s DataFrames.

A write to the dict returned by ``connect`` only notes the new value in memory; the reporter's
writer thread records the noted values every ``SYNC_PERIOD_S`` (one transaction per section,
however many writes), and the run's end records what is left. So a training loop that writes
``params["lr"] = ...`` each step costs a dict store, not a database write.
"""
from __future__ import annotations

import copy
import threading
import time
from typing import Any, Callable

from exptable_desktop.sdk.params import flatten

SYNC_PERIOD_S = 1.0
REGISTERED_CHECK_S = 2.0  # how often a registered DataFrame is hashed to see whether it changed


class LiveDict(dict):
    """A dict whose writes (new keys, changed values, at any depth) are recorded on the task.

    Copies, deep copies and pickles of it are plain dicts: they are not connected.
    """

    def __init__(self, note: Callable[[str, Any], None], data: dict, prefix: str = ""):
        super().__init__()
        self._note = note
        self._prefix = prefix
        for key, value in data.items():
            dict.__setitem__(self, key, self._wrap(key, value))

    def _wrap(self, key: Any, value: Any) -> Any:
        if isinstance(value, dict) and not isinstance(value, LiveDict):
            return LiveDict(self._note, value, f"{self._prefix}{key}/")
        return value

    def __setitem__(self, key, value) -> None:
        value = self._wrap(key, value)
        dict.__setitem__(self, key, value)
        name = f"{self._prefix}{key}"
        if isinstance(value, dict) and value:
            for sub, sub_value in flatten(value, name + "/").items():
                self._note(sub, sub_value)
        else:
            self._note(name, value)

    def update(self, *args, **kwargs) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def __ior__(self, other):
        self.update(other)
        return self

    def to_dict(self) -> dict:
        return {k: (v.to_dict() if isinstance(v, LiveDict) else v) for k, v in self.items()}

    def __copy__(self) -> dict:
        return dict(self)

    def __deepcopy__(self, memo) -> dict:
        return copy.deepcopy(self.to_dict(), memo)

    def __reduce__(self):
        return dict, (self.to_dict(),)


class LiveObjects:
    """The pending parameter writes and registered artifacts of one live task."""

    def __init__(self, record_section: Callable[[str, dict], None], warn: Callable[[str], None]):
        self._record_section = record_section
        self._warn = warn
        self._pending: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._sync_lock = threading.Lock()
        self.registered = None  # artifact_objects.RegisteredArtifacts, made by the first register_artifact
        self._registered_checked = 0.0
        self._failed = False

    def noter(self, section: str) -> Callable[[str, Any], None]:
        def note(name: str, value: Any) -> None:
            with self._lock:
                self._pending.setdefault(section, {})[name] = value
        return note

    def connect_dict(self, section: str, values: dict) -> LiveDict:
        return LiveDict(self.noter(section), values)

    def sync(self, force: bool = True) -> None:
        """Record the noted writes, and the registered artifacts that changed (looked at every
        ``REGISTERED_CHECK_S`` unless ``force``: hashing a big DataFrame is not free)."""
        with self._sync_lock:
            with self._lock:
                pending, self._pending = self._pending, {}
            try:
                for section, values in pending.items():
                    self._record_section(section, values)
                now = time.monotonic()
                if self.registered is not None and (force or now - self._registered_checked >= REGISTERED_CHECK_S):
                    self._registered_checked = now
                    self.registered.sync()
                self._failed = False
            except Exception as exc:
                with self._lock:  # kept for the next try, newer writes winning
                    for section, values in pending.items():
                        self._pending[section] = {**values, **self._pending.get(section, {})}
                if not self._failed:
                    self._warn(f"exptable: could not record connected values yet: {type(exc).__name__}: {exc}")
                self._failed = True


__all__ = ["LiveDict", "LiveObjects", "SYNC_PERIOD_S"]
