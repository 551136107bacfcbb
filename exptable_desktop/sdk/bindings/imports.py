"""Run a function right after a module finishes importing, without importing it ourselves.

A finder at the front of ``sys.meta_path`` answers only for the module names
someone waits for: it asks the finders behind it for the module's spec and
wraps that loader's ``exec_module``, so the callbacks run once the module's
code has run (its names exist) and before the importing statement goes on.
Every other import costs one dict lookup. A module already imported runs its
callbacks at once.
"""
from __future__ import annotations

import sys
import threading
from types import ModuleType
from typing import Callable

Callback = Callable[[ModuleType], None]

_waiting: dict[str, list[Callback]] = {}
_lock = threading.RLock()
_finder: "_PostImportFinder | None" = None


def _ready(name: str) -> ModuleType | None:
    """The module if it is imported and its code has finished running."""
    module = sys.modules.get(name)
    if module is None:
        return None
    spec = getattr(module, "__spec__", None)
    if spec is not None and getattr(spec, "_initializing", False):
        return None
    return module


def when_imported(name: str, callback: Callback) -> None:
    """Call ``callback(module)`` now if ``name`` is imported, else right after it is."""
    module = _ready(name)
    if module is not None:
        callback(module)
        return
    with _lock:
        _waiting.setdefault(name, []).append(callback)
        _install_finder()


def forget_all() -> None:
    """Drop every waiting callback and take the finder out of ``sys.meta_path``."""
    global _finder
    with _lock:
        _waiting.clear()
        if _finder is not None:
            try:
                sys.meta_path.remove(_finder)
            except ValueError:
                pass
            _finder = None


def _install_finder() -> None:
    global _finder
    if _finder is None or _finder not in sys.meta_path:
        _finder = _PostImportFinder()
        sys.meta_path.insert(0, _finder)


def _fire(name: str, module: ModuleType) -> None:
    with _lock:
        callbacks = _waiting.pop(name, [])
    for callback in callbacks:
        callback(module)


class _PostImportFinder:
    """Finds nothing itself; wraps the loader of a module someone waits for."""

    def __init__(self) -> None:
        self._searching: set[str] = set()  # imports of one name are serialised by its module lock

    def find_spec(self, fullname, path=None, target=None):
        if fullname not in _waiting or fullname in self._searching:
            return None
        self._searching.add(fullname)
        try:
            spec = None
            for finder in list(sys.meta_path):
                find = getattr(finder, "find_spec", None)
                if finder is self or find is None:
                    continue
                spec = find(fullname, path, target)
                if spec is not None:
                    break
        finally:
            self._searching.discard(fullname)
        if spec is None:
            return None
        loader = spec.loader
        exec_module = getattr(loader, "exec_module", None)
        if exec_module is None or isinstance(loader, type):
            return spec  # a built-in or frozen importer: nothing we wait for is one

        def exec_then_notify(module):
            if getattr(module, "__name__", None) != fullname:
                return exec_module(module)  # a loader shared by several modules (zipimport): not ours
            try:
                exec_module(module)
            finally:
                try:
                    del loader.exec_module  # the loader is the module's own: put it back as it was
                except AttributeError:
                    pass
            _fire(fullname, module)

        try:
            loader.exec_module = exec_then_notify
        except AttributeError:
            return spec  # a loader with __slots__: cannot wait for this one
        return spec

    def invalidate_caches(self) -> None:
        pass
