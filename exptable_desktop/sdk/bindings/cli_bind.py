"""click and Fire: the command's own parameters, after parsing, go to section ``Args``.

As in the reference, a sub-command's parameters are ``<command>/<name>`` and the
chosen sub-command is itself a parameter ``<command>`` = True (type
``click.Command`` / ``fire.Command``); the top command's parameters have their
plain names. Fire's own flags (``--help``, ``--verbose``, ``--separator``...)
are not the script's and are not recorded: only what Fire binds to the
called function or class is.

Under an agent the script runs without command-line arguments: the values
stored on the experiment (edited or not) are turned back into the command
line click or Fire parses, so the edited values reach the script.
A command parsed before ``Task.init`` (``Task.init`` inside the command) is
recorded at ``Task.init``; its values were already handed to the script, so
edits cannot reach it then (call ``Task.init`` before the command runs).
"""
from __future__ import annotations

import functools
import importlib
import inspect
import sys
import threading
from typing import Any

from exptable_desktop.sdk.bindings import arguments_task, warn_once
from exptable_desktop.sdk.params import type_name

SECTION = "Args"
CLICK_COMMAND = "click.Command"
FIRE_COMMAND = "fire.Command"

_fire_state = threading.local()


def _record(task, values: dict[str, Any], types: dict[str, str] | None = None,
            helps: dict[str, str] | None = None) -> None:
    default_on = task._argparse_filter.get("*", True)
    kept = {k: v for k, v in values.items() if task._argparse_filter.get(k.rpartition("/")[2], default_on)}
    if kept:
        task._record_section(SECTION, kept, types, helps)


def _stored_args(task) -> dict[str, tuple[str, str]]:
    return task._stored_section(SECTION) if task._remote else {}


def _chosen_command(stored: dict[str, tuple[str, str]], command_type: str) -> list[str]:
    chosen = [name for name, (value, kind) in stored.items()
              if kind == command_type and value.strip().lower() in ("true", "1", "yes")]
    return max(chosen, key=lambda n: n.count("/")).split("/") if chosen else []


# ---- click ----------------------------------------------------------------------------------

def patch_click(module) -> None:
    core = importlib.import_module("click.core")
    command = core.Command
    if not getattr(command.parse_args, "_exptable", False):
        original_parse = command.parse_args
        original_main = command.main

        @functools.wraps(original_parse)
        def parse_args(self, ctx, args):
            result = original_parse(self, ctx, args)
            task = arguments_task()
            if task is not None and not ctx.resilient_parsing:
                try:
                    _record_click_context(task, ctx)
                except Exception as exc:
                    warn_once("click parameters", exc)
            return result

        @functools.wraps(original_main)
        def main(self, args=None, *rest, **kwargs):
            task = arguments_task()
            if args is None and task is not None and task._remote:
                try:
                    rebuilt = _click_argv(self, _stored_args(task))
                except Exception as exc:
                    warn_once("the edited click parameters", exc)
                    rebuilt = None
                if rebuilt is not None:
                    args = rebuilt
            return original_main(self, args, *rest, **kwargs)

        parse_args._exptable = main._exptable = True
        command.parse_args = parse_args
        command.main = main
    task = arguments_task()
    if task is not None:  # Task.init inside a command: record what was parsed already
        ctx = module.get_current_context(silent=True)
        chain = []
        while ctx is not None:
            chain.insert(0, ctx)
            ctx = ctx.parent
        for ctx in chain:
            _record_click_context(task, ctx)


def _click_path(ctx) -> list[str]:
    names = []
    while ctx.parent is not None:
        names.insert(0, ctx.info_name or ctx.command.name)
        ctx = ctx.parent
    return names


def _record_click_context(task, ctx) -> None:
    core = importlib.import_module("click.core")

    path = _click_path(ctx)
    prefix = "/".join(path) + "/" if path else ""
    values, types, helps = {}, {}, {}
    if path:
        values["/".join(path)], types["/".join(path)] = True, CLICK_COMMAND
    params = {p.name: p for p in ctx.command.params}
    for name, value in ctx.params.items():
        param = params.get(name)
        if param is None or not getattr(param, "expose_value", True):
            continue
        key = prefix + name
        values[key] = list(value) if isinstance(value, tuple) else value
        types[key] = "list" if isinstance(value, tuple) else type_name(value)
        text = getattr(param, "help", None)
        helps[key] = str(text) if text and isinstance(param, core.Option) else ""
    _record(task, values, types, helps)


def _click_argv(command, stored: dict[str, tuple[str, str]]) -> list[str] | None:
    """The command line giving ``command`` the stored values, or None when nothing is stored for it."""
    if not stored:
        return None
    from exptable_desktop.sdk.params import cast

    path = _chosen_command(stored, CLICK_COMMAND)
    argv: list[str] = []
    current, prefix = command, ""
    for depth in range(len(path) + 1):
        argv += _click_params(current, prefix, stored, cast)
        if depth == len(path):
            break
        current = getattr(current, "commands", {}).get(path[depth])
        if current is None:
            break
        argv.append(path[depth])
        prefix = "/".join(path[:depth + 1]) + "/"
    return argv


def _click_params(command, prefix: str, stored, cast) -> list[str]:
    core = importlib.import_module("click.core")

    options, positional = [], []
    for param in command.params:
        entry = stored.get(prefix + (param.name or ""))
        if entry is None or not getattr(param, "expose_value", True):
            continue
        text, kind = entry
        value = cast(text, kind)
        values = list(value) if isinstance(value, (list, tuple)) else [value]
        if isinstance(param, core.Argument):
            positional += [str(v) for v in values if v is not None]
            continue
        if getattr(param, "is_flag", False) and not getattr(param, "count", False):
            if value:
                options.append(param.opts[0])
            elif param.secondary_opts:
                options.append(param.secondary_opts[0])
            continue
        if getattr(param, "count", False):
            options += [param.opts[0]] * int(value or 0)
            continue
        if value is None:
            continue
        if getattr(param, "multiple", False) or getattr(param, "nargs", 1) == 1:
            for item in values:
                options += [param.opts[0]] + ([str(v) for v in item] if isinstance(item, (list, tuple))
                                              else [str(item)])
        else:
            options += [param.opts[0]] + [str(v) for v in values]
    return options + (["--"] + positional if positional else [])


# ---- Fire -----------------------------------------------------------------------------------

def patch_fire(module) -> None:
    core = importlib.import_module("fire.core")
    if not getattr(core._MakeParseFn, "_exptable", False):
        original_fire = core._Fire
        original_call = core._CallAndUpdateTrace
        original_make = core._MakeParseFn

        @functools.wraps(original_fire)
        def fire_(component, args, parsed_flag_args, context, name=None):
            task = arguments_task()
            if task is not None and task._remote and not args:
                try:
                    args = _fire_argv(_stored_args(task)) or args
                except Exception as exc:
                    warn_once("the edited Fire arguments", exc)
            return original_fire(component, args, parsed_flag_args, context, name)

        @functools.wraps(original_call)
        def call_and_update_trace(component, args, component_trace, treatment="class", target=None):
            previous = getattr(_fire_state, "path", None)
            _fire_state.path = _fire_path(component_trace)
            try:
                return original_call(component, args, component_trace, treatment, target)
            finally:
                _fire_state.path = previous

        @functools.wraps(original_make)
        def make_parse_fn(fn, metadata):
            parse = original_make(fn, metadata)
            path = getattr(_fire_state, "path", None)
            if path is None:
                return parse  # not a call Fire makes for the command line (completion, help)

            def parse_and_record(args):
                result = parse(args)
                task = arguments_task()
                if task is not None:
                    try:
                        (varargs, kwargs), *_ = result
                        _record_fire_call(task, fn, varargs, kwargs, path)
                    except Exception as exc:
                        warn_once("Fire arguments", exc)
                return result
            return parse_and_record

        fire_._exptable = call_and_update_trace._exptable = make_parse_fn._exptable = True
        core._Fire = fire_
        core._CallAndUpdateTrace = call_and_update_trace
        core._MakeParseFn = make_parse_fn
    task = arguments_task()
    if task is not None:  # Task.init inside the fired function: its call is on the stack
        _record_fire_calls_on_stack(task, _original_code(core))


def _original_code(core):
    function = core._CallAndUpdateTrace
    while hasattr(function, "__wrapped__"):
        function = function.__wrapped__
    return function.__code__


def _fire_path(component_trace) -> list[str]:
    trace = importlib.import_module("fire.trace")

    return [str(e._target) for e in getattr(component_trace, "elements", ())
            if getattr(e, "_action", None) == trace.ACCESSED_PROPERTY and e._target is not None]


def _record_fire_calls_on_stack(task, code) -> None:
    frame = sys._getframe(1)
    calls = []
    while frame is not None:
        if frame.f_code is code and "varargs" in frame.f_locals and "fn" in frame.f_locals:
            local = frame.f_locals
            calls.insert(0, (local["fn"], local["varargs"], local["kwargs"],
                             _fire_path(local.get("component_trace"))))
        frame = frame.f_back
    del frame
    for fn, varargs, kwargs, path in calls:
        _record_fire_call(task, fn, varargs, kwargs, path)


def _record_fire_call(task, fn, varargs, kwargs, path: list[str]) -> None:
    values: dict[str, Any] = {}
    types: dict[str, str] = {}
    try:
        signature = inspect.signature(fn)
        bound = signature.bind_partial(*varargs, **kwargs)
        bound.apply_defaults()
        arguments = dict(bound.arguments)
        kinds = {n: p.kind for n, p in signature.parameters.items()}
    except (TypeError, ValueError):
        arguments = {**{f"arg{i}": v for i, v in enumerate(varargs)}, **kwargs}
        kinds = {}
    for name, value in arguments.items():
        if kinds.get(name) == inspect.Parameter.VAR_KEYWORD:
            values.update(value)
        elif kinds.get(name) == inspect.Parameter.VAR_POSITIONAL:
            values[name] = list(value)
        else:
            values[name] = value
    values.pop("self", None)
    prefix = "/".join(path) + "/" if path else ""
    out = {prefix + k: v for k, v in values.items()}
    if path:
        out["/".join(path)] = True
        types["/".join(path)] = FIRE_COMMAND
    _record(task, out, types)


def _fire_argv(stored: dict[str, tuple[str, str]]) -> list[str]:
    """``[--init=..., command, --arg=...]`` from the stored Args of a Fire command."""
    path = _chosen_command(stored, FIRE_COMMAND)
    commands = {"/".join(path[:i]) for i in range(1, len(path) + 1)}
    argv: list[str] = []
    for depth in range(len(path) + 1):
        prefix = "/".join(path[:depth])
        for name, (value, kind) in stored.items():
            head, _, leaf = name.rpartition("/")
            if head == prefix and name not in commands and kind != FIRE_COMMAND:
                argv.append(f"--{leaf}={value}")
        if depth < len(path):
            argv.append(path[depth])
    return argv
