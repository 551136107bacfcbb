"""absl flags: the flags the script itself defines, after parsing, go to section ``TF_DEFINE``.

Flags that absl and other libraries define (``--verbosity``, ``--logtostderr``...)
are not the script's and are left out. Parsing is seen in ``FlagValues.__call__``;
flags parsed before ``Task.init`` (``app.run(main)`` with ``Task.init`` inside
``main``) are recorded at ``Task.init``. Under an agent the stored values are set
on the flags, which the script reads when it uses them.
"""
from __future__ import annotations

import functools
import sys

from exptable_desktop.sdk.bindings import active_task, warn_once
from exptable_desktop.sdk.params import cast, type_name

SECTION = "TF_DEFINE"


def patch_absl(module) -> None:
    flag_values = module.FlagValues
    if not getattr(flag_values.__call__, "_exptable", False):
        original_call = flag_values.__call__

        @functools.wraps(original_call)
        def parse(self, *args, **kwargs):
            result = original_call(self, *args, **kwargs)
            task = active_task("tfdefines")
            if task is not None:
                try:
                    record_flags(task, self)
                except Exception as exc:
                    warn_once("absl flags", exc)
            return result

        parse._exptable = True
        flag_values.__call__ = parse
    task = active_task("tfdefines")
    if task is not None and module.FLAGS.is_parsed():
        record_flags(task, module.FLAGS)


def _script_module(name: str) -> bool:
    if name in ("__main__", sys.argv[0] if sys.argv else "__main__"):
        return True
    module = sys.modules.get(name)
    filename = getattr(module, "__file__", None)
    if not filename:
        return False
    try:
        from exptable_desktop.sdk.task_argparse import script_owned
    except ImportError:
        return False
    return script_owned(filename)


def record_flags(task, flag_values) -> None:
    flags = {}
    for module_name, module_flags in flag_values.flags_by_module_dict().items():
        if _script_module(module_name):
            for flag in module_flags:
                flags[flag.name] = flag
    if not flags:
        return
    if task._remote:
        stored = task._stored_section(SECTION)
        for name, flag in flags.items():
            if name in stored:
                text, kind = stored[name]
                try:
                    setattr(flag_values, name, cast(text, kind, flag.value))
                except (ValueError, SyntaxError) as exc:
                    raise ValueError(f"flag {name}: {exc}") from None
    values = {name: flag.value for name, flag in flags.items()}
    types = {name: type_name(value) for name, value in values.items()}
    helps = {name: str(flag.help or "") for name, flag in flags.items()}
    task._record_section(SECTION, values, types, helps)
