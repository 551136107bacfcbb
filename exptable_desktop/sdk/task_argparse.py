"""Recording the command-line arguments a script parses with argparse (section ``Args``).

Hooked only while a Task records (``Task.init`` to its end): importing the SDK changes nothing,
so the app, the CLI and libraries parse untouched. What the script parsed before ``Task.init``
is found at init in the script's own frames. Only parsers the script's own code parses are
recorded; a library parsing its private flags (Fire, a launcher) is not the script's Args.
"""
from __future__ import annotations

import argparse
import functools
import os
import site
import sys
import sysconfig
import threading
from pathlib import Path
from typing import Any, Callable

from exptable_desktop.sdk.params import type_name

_parse_depth = threading.local()
# What ArgumentParser.parse_known_args was when the hook went in; kept after the hook is
# removed, because a wrapper installed over ours may still call into it.
_unhooked_parse_known_args = argparse.ArgumentParser.parse_known_args
_ARGPARSE_FILE = os.path.normcase(os.path.abspath(argparse.__file__))
_HOOK_FILE = os.path.normcase(os.path.abspath(__file__))
# Told about every parse the script's own code makes while the hook is in (the recording Task).
_on_parsed: Callable[[argparse.ArgumentParser, argparse.Namespace], None] | None = None


@functools.lru_cache(maxsize=None)
def _library_roots() -> tuple[str, ...]:
    """Folders holding code that is not the script's: the standard library, installed packages, ExpTable."""
    paths = sysconfig.get_paths()
    roots = {paths.get(name) for name in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots.update(site.getsitepackages() if hasattr(site, "getsitepackages") else ())
    roots.add(site.getusersitepackages() if hasattr(site, "getusersitepackages") else None)
    roots.add(str(Path(__file__).resolve().parents[1]))
    return tuple(os.path.join(os.path.normcase(os.path.realpath(r)), "") for r in roots if r)


@functools.lru_cache(maxsize=None)
def script_owned(filename: str) -> bool:
    """Whether code in ``filename`` is the script's own: its entry file, or a file outside every library folder."""
    if filename.startswith("<"):
        return not filename.startswith("<frozen")  # "<string>" and "<stdin>" are code the user typed
    path = os.path.normcase(os.path.realpath(filename))
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    if main_file and path == os.path.normcase(os.path.realpath(main_file)):
        return True
    parts = {part.lower() for part in Path(path).parts}
    if "site-packages" in parts or "dist-packages" in parts:
        return False
    return not path.startswith(_library_roots())


def _parse_called_by_script() -> bool:
    frame = sys._getframe(2)
    while frame is not None:
        filename = os.path.normcase(os.path.abspath(frame.f_code.co_filename))
        if filename not in (_ARGPARSE_FILE, _HOOK_FILE):  # parse_args calls parse_known_args
            return script_owned(frame.f_code.co_filename)
        frame = frame.f_back
    return False


def _patched_parse_known_args(self, args=None, namespace=None):
    depth = getattr(_parse_depth, "value", 0)
    _parse_depth.value = depth + 1
    try:
        result = _unhooked_parse_known_args(self, args, namespace)
    finally:
        _parse_depth.value = depth
    on_parsed = _on_parsed
    # Subparsers call this again from inside; the outer call sees everything.
    if depth == 0 and on_parsed is not None and _parse_called_by_script():
        on_parsed(self, result[0])
    return result


def install_hook(on_parsed: Callable[[argparse.ArgumentParser, argparse.Namespace], None]) -> None:
    """From now on, ``on_parsed(parser, namespace)`` after each parse the script's own code makes."""
    global _unhooked_parse_known_args, _on_parsed
    _on_parsed = on_parsed
    current = argparse.ArgumentParser.parse_known_args
    if current is not _patched_parse_known_args:
        _unhooked_parse_known_args = current
        argparse.ArgumentParser.parse_known_args = _patched_parse_known_args


def remove_hook() -> None:
    global _on_parsed
    _on_parsed = None
    if argparse.ArgumentParser.parse_known_args is _patched_parse_known_args:
        argparse.ArgumentParser.parse_known_args = _unhooked_parse_known_args


def _argument_dests(parser: argparse.ArgumentParser) -> set[str]:
    return {a.dest for a in parser._actions if a.dest not in (argparse.SUPPRESS, None)
            and not isinstance(a, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction))}


def parsed_before_init() -> list[tuple[argparse.ArgumentParser, argparse.Namespace]]:
    """(parser, namespace) pairs the script holds in its own frames and ``__main__``'s globals.

    A namespace is paired with the script's parser whose arguments it has (for types and help);
    one parsed inside a helper whose parser is gone is paired with an empty parser.
    """
    scopes = []
    frame = sys._getframe(1)
    while frame is not None:
        if script_owned(frame.f_code.co_filename):
            scopes.append(frame.f_locals)
        frame = frame.f_back
    del frame
    main = sys.modules.get("__main__")
    if main is not None:
        scopes.append(vars(main))
    parsers: dict[int, argparse.ArgumentParser] = {}
    namespaces: dict[int, argparse.Namespace] = {}
    for scope in scopes:
        for value in list(scope.values()):
            if isinstance(value, argparse.ArgumentParser):
                parsers.setdefault(id(value), value)
            elif isinstance(value, argparse.Namespace):
                namespaces.setdefault(id(value), value)
    dests = [(parser, _argument_dests(parser)) for parser in parsers.values()]
    pairs = []
    for namespace in namespaces.values():
        names = set(vars(namespace))
        fitting = [(len(d), i) for i, (_, d) in enumerate(dests) if d and d <= names]
        parser = dests[max(fitting)[1]][0] if fitting else argparse.ArgumentParser(add_help=False)
        pairs.append((parser, namespace))
    return pairs


def argument_type(action: argparse.Action, value: Any) -> str:
    """The type name recorded for one parsed argument: its ``type=``, else its default's, else its value's."""
    if isinstance(value, (list, tuple)):
        return "list"
    if action.type is not None and hasattr(action.type, "__name__"):
        return action.type.__name__
    if value is None and action.default is not None:
        return type_name(action.default)
    return type_name(value)
