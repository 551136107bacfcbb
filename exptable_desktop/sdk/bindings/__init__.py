"""Automatic capture from the libraries a script uses (``Task.init(auto_connect_frameworks=...)``).

What the reference SDK records without being asked, recorded the same way
(key of the ``auto_connect_frameworks`` dict: what is recorded; bound when):

- ``matplotlib``: every figure shown (``plt.show``) or saved (``savefig``), as a
  plot (vector data for line/scatter/bar axes), else as a PNG debug sample;
  matplotlib.figure / matplotlib.pyplot.
- ``tensorboard``: ``SummaryWriter`` scalars, images, histograms and text;
  tensorboardX / torch.utils.tensorboard.
- ``pytorch``: ``torch.save`` to a file, an output model; torch.
- ``joblib`` (and ``scikit`` for scikit-learn objects): ``joblib.dump``, an output
  model; joblib. ``scikit``: ``pickle.dump`` of a scikit-learn object; sklearn.
- ``tensorflow``: Keras ``Model.save``/``save_weights``, an output model; keras, tf_keras.
- ``tfdefines``: absl flags the script defines, after parsing (section
  ``TF_DEFINE``); absl.flags.
- ``hydra``: the composed Hydra config (configuration object ``OmegaConf``) and
  its overrides (section ``Hydra``); hydra.

click and Fire belong to ``auto_connect_arg_parser`` as in the reference: the
command's parameters after parsing go to section ``Args``.

A dict turns parts off (a missing key is on; ``{}`` turns everything off). A
model key may hold a wildcard or a list of them (``{'pytorch': '*.pt'}``):
only files matching one are recorded.

Nothing is imported or patched for a library the script does not use: a
binding's module is loaded only once its library is imported (see
``imports.when_imported``). Patches stay for the life of the process and do
nothing once the task has finished.
"""
from __future__ import annotations

import fnmatch
import importlib
import sys
import threading
from typing import Any, Callable, Mapping

from exptable_desktop.sdk.bindings import imports

# (module name to wait for, binding module, its patch function, the keys that must all be on)
_BINDINGS: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (
    ("matplotlib.figure", "matplotlib_bind", "patch_figure", ("matplotlib",)),
    ("matplotlib.pyplot", "matplotlib_bind", "patch_pyplot", ("matplotlib",)),
    ("tensorboardX", "tensorboard_bind", "patch_tensorboardx", ("tensorboard",)),
    ("torch.utils.tensorboard", "tensorboard_bind", "patch_torch_tensorboard", ("tensorboard",)),
    ("torch", "model_bind", "patch_torch", ("pytorch",)),
    ("joblib", "model_bind", "patch_joblib", ("joblib",)),
    ("sklearn", "model_bind", "patch_pickle", ("scikit",)),
    ("keras", "model_bind", "patch_keras", ("tensorflow",)),
    ("tf_keras", "model_bind", "patch_keras", ("tensorflow",)),
    ("absl.flags", "absl_bind", "patch_absl", ("tfdefines",)),
    ("hydra", "hydra_bind", "patch_hydra", ("hydra",)),
)
# Argument parsers other than argparse: on with auto_connect_arg_parser, as in the reference.
_PARSER_BINDINGS: tuple[tuple[str, str, str], ...] = (
    ("click", "cli_bind", "patch_click"),
    ("fire", "cli_bind", "patch_fire"),
)


class _State:
    def __init__(self) -> None:
        self.task = None
        self.settings: Any = True
        self.warned: set[str] = set()
        self.lock = threading.RLock()


_state = _State()


def install(task, auto_connect_frameworks: bool | Mapping[str, Any] = True) -> None:
    """Bind the frameworks ``auto_connect_frameworks`` leaves on to ``task`` (called by ``Task.init``)."""
    with _state.lock:
        _state.task = task
        _state.settings = auto_connect_frameworks
        _state.warned = set()
    for name, module in list(sys.modules.items()):  # counters and names start again for a new task
        if name.startswith(f"{__name__}.") and hasattr(module, "reset"):
            module.reset()
    for module_name, binding, function, keys in _BINDINGS:
        if all(should_connect(key) for key in keys):
            imports.when_imported(module_name, _patcher(binding, function))
    for module_name, binding, function in _PARSER_BINDINGS:
        imports.when_imported(module_name, _patcher(binding, function))


def uninstall() -> None:
    """Stop waiting for imports; patches already made stay and do nothing without a task."""
    with _state.lock:
        _state.task = None
    imports.forget_all()


def should_connect(*keys: str) -> bool:
    """The reference's rule: each key is looked up in the dict below the previous one; missing is on."""
    setting = _state.settings
    for key in keys:
        if not isinstance(setting, Mapping):
            return bool(setting)
        if not setting:
            return False
        setting = setting.get(key, True)
    return bool(setting)


def model_patterns(key: str) -> list[str] | None:
    """The file-name wildcards a model key holds (``{'pytorch': '*.pt'}``), or None for every file."""
    setting = _state.settings.get(key) if isinstance(_state.settings, Mapping) else None
    if isinstance(setting, str):
        return [setting]
    if isinstance(setting, (list, tuple)):
        return [str(p) for p in setting]
    return None


def wanted_model_file(key: str, filename: str) -> bool:
    patterns = model_patterns(key)
    return patterns is None or any(fnmatch.fnmatch(filename, p) for p in patterns)


def active_task(*keys: str):
    """The task recording now, if it is still running and every key is on; else None (patches pass through)."""
    task = _state.task
    if task is None or task._finished:
        return None
    if keys and not all(should_connect(key) for key in keys):
        return None
    return task


def arguments_task():
    """The task recording now if it records command-line arguments (``auto_connect_arg_parser``)."""
    task = active_task()
    if task is None or not getattr(task, "_argparse_enabled", False):
        return None
    return task


def script_iteration(task) -> int | None:
    """The last iteration the script reported scalars at, or None when it reported none."""
    scalars = task._reporter.scalars if task._reporter is not None else []
    pending = scalars[-3] if len(scalars) >= 5 else None  # (title, series, iteration, value, time) per point
    from exptable_desktop.store.schema import Experiment

    try:
        stored = Experiment.select(Experiment.last_iteration).where(Experiment.id == task.id).scalar()
    except Exception:
        stored = None
    known = [int(i) for i in (pending, stored) if i is not None]
    return max(known) if known else None


def warn_once(what: str, exc: BaseException) -> None:
    """A binding never breaks the script: what it could not record is said once, on stderr."""
    task = _state.task
    if what in _state.warned or task is None:
        return
    _state.warned.add(what)
    task._warn(f"exptable: could not record {what}: {type(exc).__name__}: {exc}")


def _patcher(binding: str, function: str) -> Callable:
    def patch(module) -> None:
        try:
            getattr(importlib.import_module(f"{__name__}.{binding}"), function)(module)
        except Exception as exc:  # a library version we do not know: the script runs on unrecorded
            warn_once(f"{module.__name__} ({binding})", exc)
    return patch


__all__ = ["install", "uninstall", "should_connect", "active_task", "arguments_task"]
