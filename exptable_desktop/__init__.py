"""ExpTable Desktop: a local-first experiment manager."""
import sys as _sys

# What was imported before this package: the SDK tells the script's packages from its own by it.
_MODULES_BEFORE = frozenset(_sys.modules)

__version__ = "0.1.0"

# The reference SDK's top-level names (``from clearml import Task, OutputModel``), each loaded on
# first use so a CLI start does not pay for the SDK.
_SDK_NAMES = {
    "Task": "exptable_desktop.sdk", "Logger": "exptable_desktop.sdk", "TaskTypes": "exptable_desktop.sdk",
    "TaskStatusEnum": "exptable_desktop.sdk", "OutputModel": "exptable_desktop.sdk.model",
    "InputModel": "exptable_desktop.sdk.model", "Model": "exptable_desktop.sdk.model",
    "StorageManager": "exptable_desktop.sdk.storage",
}


def __getattr__(name):
    module = _SDK_NAMES.get(name)
    if module is None:
        raise AttributeError(name)
    import importlib

    return getattr(importlib.import_module(module), name)
