"""Model files a framework saves become the experiment's output models, pointing at the file.

``torch.save``, ``joblib.dump``, ``pickle.dump`` of a scikit-learn object and
Keras ``Model.save``/``save_weights`` are wrapped. A model is named after its
file, so saving the same file again (a checkpoint per epoch) updates one model
with the new size and iteration, as the reference's automatic models do. The
model points at the file where the script put it (with an output destination,
``Task.init(output_uri=...)``, a copy goes there, as the reference uploads it);
saving to a stream (BytesIO) records nothing.
"""
from __future__ import annotations

import functools
import os
import threading
from pathlib import Path

from exptable_desktop.sdk.bindings import active_task, script_iteration, wanted_model_file, warn_once

PYTORCH, SCIKIT, JOBLIB, KERAS = "PyTorch", "ScikitLearn", "Joblib", "Keras"

_lock = threading.Lock()
_models: dict[tuple[str, str], object] = {}  # (task id, file) -> its OutputModel


def _file_path(target) -> Path | None:
    """The file a save went to: a path, or an open file with a real name; None for a stream."""
    if isinstance(target, (str, bytes, os.PathLike)):
        path = os.fsdecode(os.fspath(target))
    else:
        name = getattr(target, "name", None)
        if not isinstance(name, (str, bytes)) or isinstance(name, str) and name.startswith("<"):
            return None
        try:
            target.flush()  # the size below is the saved model's, not what reached the disk so far
        except Exception:
            pass
        path = os.fsdecode(name)
    return Path(path).absolute()


def record_model(task, target, framework: str, saved_by: str, key: str) -> None:
    path = _file_path(target)
    if path is None or not path.is_file() or not wanted_model_file(key, path.name):
        return
    iteration = script_iteration(task)
    from exptable_desktop.sdk.model import OutputModel

    with _lock:
        model = _models.get((task.id, str(path)))
        if model is None:
            model = OutputModel(task=task, name=path.name, framework=framework, comment=f"saved by {saved_by}")
            model.set_metadata("saved_by", saved_by)
            _models[(task.id, str(path))] = model
    # The script's file stays where it is (copied when the task has an output destination).
    model.update_weights(weights_filename=str(path), auto_delete_file=False, iteration=iteration,
                         update_comment=False)


def _after_save(original, framework_of, saved_by: str, key: str, target_of):
    """``original`` wrapped so that, once it returned, the file it wrote is recorded."""
    @functools.wraps(original)
    def save(*args, **kwargs):
        result = original(*args, **kwargs)
        task = active_task(key)
        if task is not None:
            try:
                framework = framework_of(args, kwargs)
                if framework is not None:
                    record_model(task, target_of(args, kwargs, result), framework, saved_by, key)
            except Exception as exc:
                warn_once(f"the model saved by {saved_by}", exc)
        return result

    save._exptable = True
    return save


def _argument(position: int, name: str):
    def get(args, kwargs, result=None):
        return args[position] if len(args) > position else kwargs.get(name)
    return get


def _is_sklearn(obj) -> bool:
    return type(obj).__module__.partition(".")[0] == "sklearn"


def patch_torch(module) -> None:
    if getattr(module.save, "_exptable", False):
        return
    module.save = _after_save(module.save, lambda a, k: PYTORCH, "torch.save", "pytorch", _argument(1, "f"))


def patch_joblib(module) -> None:
    if getattr(module.dump, "_exptable", False):
        return

    def framework(args, kwargs):
        obj = args[0] if args else kwargs.get("value")
        if _is_sklearn(obj):
            return SCIKIT if active_task("scikit") is not None else None
        return JOBLIB

    def target(args, kwargs, result):
        filename = args[1] if len(args) > 1 else kwargs.get("filename")
        return filename if isinstance(filename, (str, os.PathLike)) else (result[0] if result else filename)

    module.dump = _after_save(module.dump, framework, "joblib.dump", "joblib", target)


def patch_pickle(module) -> None:
    """Once scikit-learn is imported, ``pickle.dump`` of one of its objects to a file is a model."""
    import pickle

    if getattr(pickle.dump, "_exptable", False):
        return
    pickle.dump = _after_save(pickle.dump, lambda a, k: SCIKIT if a and _is_sklearn(a[0]) else None,
                              "pickle.dump", "scikit", _argument(1, "file"))


def patch_keras(module) -> None:
    model_class = getattr(module, "Model", None)
    if model_class is None:
        return
    for method in ("save", "save_weights"):
        original = getattr(model_class, method, None)
        if original is None or getattr(original, "_exptable", False):
            continue
        setattr(model_class, method, _after_save(original, lambda a, k: KERAS, f"keras Model.{method}",
                                                 "tensorflow", _argument(1, "filepath")))
