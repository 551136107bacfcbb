"""Models as the reference SDK has them: ``OutputModel`` (what a run makes), ``InputModel`` (what it
starts from), ``Model`` (read one back), ``task.models``.

There is no model registry apart from experiments: a model is a row of the experiment that made it
(``Artifact.kind == "model"``, mode ``output``) or used it (mode ``input``), shown in its ARTIFACTS
tab. Its id (``model.id``) is kept in the row's metadata, so ``InputModel(model_id)`` finds it in
any experiment. What the reference keeps on the model lives in the row:

* ``uri``: the weights file (or package zip); ``preview``: the design (configuration text);
* metadata ``_model_id``, ``_framework``, ``_tags``, ``_labels``, ``_comment``, ``_iteration``,
  ``_published``, ``_package``, ``_design_kind`` ("dict" | "text"); the user's ``set_metadata``
  entries are the keys without "_", shown in the tab's METADATA table.

Weights, as the reference does: with no output destination (``Task.init(output_uri=...)`` or
``upload_uri``) the local file is registered where it is; with one, it is copied to
``<destination>/<project>/<task name>.<task id>/models/<model>/`` and, with ``auto_delete_file``
(the default), the local file is then removed.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
import zipfile
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from exptable_desktop.core import recording
from exptable_desktop.sdk.storage import StorageManager, extract_archive, local_path, scheme
from exptable_desktop.store.db import run_write
from exptable_desktop.store.files import safe_component
from exptable_desktop.store.schema import Artifact, Experiment

KIND = "model"


class Framework:
    """The framework names a model can be given (``OutputModel(framework=...)``), spelt as the reference SDK
    spells them; kept in the model row's ``_framework`` metadata."""

    tensorflow = "TensorFlow"
    tensorflowjs = "TensorFlow_js"
    tensorflowlite = "TensorFlow_Lite"
    pytorch = "PyTorch"
    torchscript = "TorchScript"
    caffe = "Caffe"
    caffe2 = "Caffe2"
    onnx = "ONNX"
    keras = "Keras"
    mknet = "MXNet"
    cntk = "CNTK"
    torch = "Torch"
    darknet = "Darknet"
    paddlepaddle = "PaddlePaddle"
    scikitlearn = "ScikitLearn"
    xgboost = "XGBoost"
    lightgbm = "LightGBM"
    parquet = "Parquet"
    megengine = "MegEngine"
    catboost = "CatBoost"
    tensorrt = "TensorRT"
    openvino = "OpenVINO"
    custom = "Custom"


def _ensure_database() -> None:
    from exptable_desktop.sdk.task_shared import ensure_database as ensure

    ensure()


def _metadata(row: Artifact) -> dict[str, Any]:
    try:
        value = json.loads(row.metadata or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def rows_of_model(model_id: str) -> list[Artifact]:
    """Every row recording the model ``model_id``: the experiment that made it first, then those using it."""
    _ensure_database()
    candidates = Artifact.select().where((Artifact.kind == KIND) & Artifact.metadata.contains(str(model_id)))
    rows = [row for row in candidates if _metadata(row).get("_model_id") == str(model_id)]
    return sorted(rows, key=lambda row: (row.mode != "output", row.created))


def _design_text(config_text: str | None, config_dict: Mapping | None) -> tuple[str, str]:
    if config_text is not None and config_dict is not None:
        raise ValueError("give config_text or config_dict, not both")
    if config_dict is not None:
        return json.dumps(config_dict, indent=2, sort_keys=True, default=str), "dict"
    return (str(config_text), "text") if config_text is not None else ("", "")


class BaseModel:
    """What every model offers for reading; ``self._row`` is its database row as a dict."""

    _row: dict[str, Any]
    _experiment_id: str | None

    @property
    def id(self) -> str:
        return self._row["metadata"]["_model_id"]

    @property
    def name(self) -> str:
        return self._row["name"]

    @property
    def comment(self) -> str:
        return self._row["metadata"].get("_comment", "")

    @property
    def tags(self) -> list[str]:
        return list(self._row["metadata"].get("_tags") or [])

    @property
    def config_text(self) -> str:
        return self._row.get("preview") or ""

    @property
    def config_dict(self) -> dict:
        text = self.config_text
        if not text:
            return {}
        try:
            value = json.loads(text)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    @property
    def labels(self) -> dict[str, int]:
        return dict(self._row["metadata"].get("_labels") or {})

    @property
    def task(self) -> str | None:
        """The id of the experiment that made the model."""
        return self._row["metadata"].get("_task", self._experiment_id)

    @property
    def url(self) -> str:
        return self._row.get("uri") or ""

    @property
    def published(self) -> bool:
        return bool(self._row["metadata"].get("_published"))

    @property
    def framework(self) -> str:
        return self._row["metadata"].get("_framework") or ""

    @property
    def project(self) -> str | None:
        task = self.task
        if not task:
            return None
        exp = Experiment.get_or_none(Experiment.id == task)
        return exp.project.name if exp is not None else None

    def get_metadata(self, key: str) -> str | None:
        entry = self._row["metadata"].get(str(key))
        return None if entry is None else str(entry.get("value") if isinstance(entry, dict) else entry)

    def get_all_metadata(self) -> dict[str, dict[str, str]]:
        return {k: (v if isinstance(v, dict) else {"key": k, "value": str(v), "type": "str"})
                for k, v in self._row["metadata"].items() if not str(k).startswith("_")}

    def _is_package(self) -> bool:
        return bool(self._row["metadata"].get("_package"))

    def get_weights(self, raise_on_error: bool = False, force_download: bool = False,
                    extract_archive: bool = False) -> str | None:
        """A local path to the weights file (a remote one downloaded first)."""
        if not self.url:
            if raise_on_error:
                raise ValueError(f"model {self.name!r} has no weights")
            return None
        try:
            path = StorageManager.get_local_copy(self.url, extract_archive=extract_archive,
                                                 force_download=force_download)
        except ValueError:
            if raise_on_error:
                raise
            return None
        if path is None and raise_on_error:
            raise ValueError(f"model {self.name!r}: no file at {self.url}")
        return path

    def get_weights_package(self, return_path: bool = False, raise_on_error: bool = False,
                            force_download: bool = False, extract_archive: bool = True) -> str | list[Path] | None:
        """The package's extracted folder (``return_path``) or the files in it."""
        if not self._is_package():
            return None
        archive = self.get_weights(raise_on_error=raise_on_error, force_download=force_download)
        if archive is None:
            return None
        if not extract_archive:
            return archive
        folder = extract_archive_folder(Path(archive))
        return str(folder) if return_path else sorted(p for p in folder.rglob("*") if p.is_file())

    def get_local_copy(self, extract_archive: bool | None = None, raise_on_error: bool = False,
                       force_download: bool = False) -> str | None:
        if self._is_package():
            return self.get_weights_package(return_path=True, raise_on_error=raise_on_error,
                                            force_download=force_download,
                                            extract_archive=True if extract_archive is None else extract_archive)
        return self.get_weights(raise_on_error=raise_on_error, force_download=force_download,
                                extract_archive=bool(extract_archive))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r} id={self.id}>"


def extract_archive_folder(archive: Path) -> Path:
    return extract_archive(archive, "models")


class Model(BaseModel):
    """A stored model, read-only, found by its id."""

    def __init__(self, model_id: str):
        rows = rows_of_model(model_id)
        if not rows:
            raise ValueError(f"no model with id {model_id}")
        self._load(rows[0])

    def _load(self, row: Artifact) -> None:
        self._experiment_id = row.experiment_id
        self._row = {"name": row.name, "kind": KIND, "mode": row.mode, "uri": row.uri, "in_storage": row.in_storage,
                     "size": row.size, "hash": row.hash, "content_type": row.content_type, "preview": row.preview,
                     "metadata": _metadata(row)}

    @classmethod
    def _from_row(cls, row: Artifact) -> "Model":
        model = cls.__new__(cls)
        model._load(row)
        return model

    @classmethod
    def query_models(cls, project_name: str | None = None, model_name: str | None = None,
                     tags: Sequence[str] | None = None, only_published: bool = False,
                     include_archived: bool = False, max_results: int | None = None,
                     metadata: Mapping[str, str] | None = None) -> list["Model"]:
        """Output models, newest first, filtered by project, name (part of it), tags (any), metadata values."""
        _ensure_database()
        query = Artifact.select().join(Experiment).where((Artifact.kind == KIND) & (Artifact.mode == "output"))
        if project_name:
            from exptable_desktop.core.projects import find_project

            project = find_project(project_name)
            if project is None:
                return []
            query = query.where(Experiment.project == project.id)
        if not include_archived:
            query = query.where(Experiment.archived == False)  # noqa: E712
        out = []
        for row in query.order_by(Artifact.created.desc()):
            model = cls._from_row(row)
            if model_name and model_name not in model.name:
                continue
            if tags and not set(tags) & set(model.tags):
                continue
            if only_published and not model.published:
                continue
            if metadata and any(model.get_metadata(k) != str(v) for k, v in metadata.items()):
                continue
            out.append(model)
            if max_results and len(out) >= max_results:
                break
        return out


class InputModel(Model):
    """A model a run starts from: by id, or imported from a weights file or URL."""

    def __init__(self, model_id: str | None = None, name: str | None = None, project: str | None = None,
                 tags: Sequence[str] | None = None, only_published: bool = False):
        if model_id:
            super().__init__(model_id)
            return
        found = self.query_models(project_name=project, model_name=name, tags=tags, only_published=only_published,
                                  max_results=1)
        if not found:
            raise ValueError("InputModel needs model_id, or a name/project/tags some stored model matches")
        self._load_from(found[0])

    def _load_from(self, model: BaseModel) -> None:
        self._experiment_id = model._experiment_id
        self._row = {**model._row, "metadata": dict(model._row["metadata"])}

    @classmethod
    def import_model(cls, weights_url: str, config_text: str | None = None, config_dict: Mapping | None = None,
                     label_enumeration: Mapping[str, int] | None = None, name: str | None = None,
                     project: str | None = None, tags: Sequence[str] | None = None, comment: str | None = None,
                     is_package: bool = False, create_as_published: bool = False,
                     framework: str | None = None) -> "InputModel":
        """A model from weights outside ExpTable; recorded once a task connects it. A URL some stored model
        already has gives that model (as the reference)."""
        _ensure_database()
        for row in Artifact.select().where((Artifact.kind == KIND) & (Artifact.uri == str(weights_url))):
            if _metadata(row).get("_model_id"):
                return cls._from_row(row)
        design, design_kind = _design_text(config_text, config_dict)
        model = cls.__new__(cls)
        model._experiment_id = None
        path = local_path(weights_url) if not scheme(str(weights_url)) else None
        model._row = {"name": name or Path(str(weights_url).rstrip("/")).name or "Imported model", "kind": KIND,
                      "mode": "input", "uri": str(path.resolve()) if path is not None else str(weights_url),
                      "in_storage": False, "size": path.stat().st_size if path is not None and path.is_file() else None,
                      "hash": "", "content_type": "", "preview": design,
                      "metadata": {"_model_id": uuid.uuid4().hex, "_framework": str(framework or ""),
                                   "_tags": list(tags or ()), "_labels": dict(label_enumeration or {}),
                                   "_comment": comment or "", "_published": bool(create_as_published),
                                   "_package": bool(is_package), "_design_kind": design_kind,
                                   "_project": project or ""}}
        return model

    @classmethod
    def load_model(cls, weights_url: str, load_archived: bool = False) -> "InputModel | None":
        for row in Artifact.select().where((Artifact.kind == KIND) & (Artifact.uri == str(weights_url))):
            return cls._from_row(row)
        return None

    @classmethod
    def empty(cls, config_text: str | None = None, config_dict: Mapping | None = None,
              label_enumeration: Mapping[str, int] | None = None) -> "InputModel":
        model = cls.import_model("", config_text=config_text, config_dict=config_dict,
                                 label_enumeration=label_enumeration, name="Empty model")
        return model

    def connect(self, task, name: str | None = None, ignore_remote_overrides: bool = False) -> None:
        """Record this model as an input of ``task``. Under an agent, a model chosen on the experiment
        (its input model row of that name) replaces this one, unless ``ignore_remote_overrides``."""
        entry = name or self.name
        if getattr(task, "_remote", False) and not ignore_remote_overrides:
            stored = Artifact.get_or_none((Artifact.experiment == task.id) & (Artifact.kind == KIND)
                                          & (Artifact.mode == "input") & (Artifact.name == entry))
            if stored is not None:
                self._load(stored)
                return
        row = {**self._row, "name": entry, "mode": "input", "in_storage": False,
               "metadata": {**self._row["metadata"], "_task": self.task}}
        recording.record_batch(task.id, artifacts=[row], heartbeat=False)
        if not task.get_labels_enumeration() and self.labels:
            task.set_model_label_enumeration(self.labels)


class OutputModel(BaseModel):
    """A model this run makes; recorded (without weights) as soon as it is created."""

    def __init__(self, task=None, config_text: str | None = None, config_dict: Mapping | None = None,
                 label_enumeration: Mapping[str, int] | None = None, name: str | None = None,
                 tags: Sequence[str] | None = None, comment: str | None = None, framework: str | None = None,
                 base_model_id: str | None = None):
        if task is None:
            from exptable_desktop.sdk.task import Task

            task = Task.current_task()
            if task is None:
                raise ValueError("OutputModel needs a task: call Task.init first or pass task=")
        self._task = task
        self._experiment_id = task.id
        design, design_kind = _design_text(config_text, config_dict)
        labels = dict(label_enumeration or {}) or task.get_labels_enumeration()
        model_id = base_model_id or uuid.uuid4().hex
        self._row = {"name": name or self._free_name(task.name or "Output Model"), "kind": KIND, "mode": "output",
                     "uri": "", "in_storage": False, "size": None, "hash": "", "content_type": "",
                     "preview": design,
                     "metadata": {"_model_id": model_id, "_framework": _framework_name(framework),
                                  "_tags": list(tags or ()), "_labels": labels, "_comment": comment or "",
                                  "_published": False, "_package": False, "_design_kind": design_kind,
                                  "_task": task.id}}
        self._upload_uri: str | None = None
        self._save()

    def _free_name(self, base: str) -> str:
        taken = {name for (name,) in Artifact.select(Artifact.name).where(
            (Artifact.experiment == self._experiment_id) & (Artifact.kind == KIND)
            & (Artifact.mode == "output")).tuples()}
        if base not in taken:
            return base
        return next(f"{base} #{n}" for n in range(2, len(taken) + 3) if f"{base} #{n}" not in taken)

    def _save(self) -> None:
        recording.record_batch(self._experiment_id, artifacts=[self._row], heartbeat=False)

    def _require_changeable(self) -> None:
        if self.published:
            raise ValueError(f"model {self.name!r} is published and cannot be changed")

    @property
    def upload_storage_uri(self) -> str | None:
        return self._upload_uri or (str(self._task._output_folder) if self._task._output_folder else None)

    def set_upload_destination(self, uri: str) -> None:
        self._upload_uri = str(uri)

    def connect(self, task, name: str | None = None, **_: Any) -> None:
        if task.id != self._experiment_id:
            raise ValueError("an OutputModel belongs to the task it was made for; connect it to that task")
        if name and name != self.name:
            old = self.name

            def rename():
                Artifact.delete().where((Artifact.experiment == self._experiment_id) & (Artifact.kind == KIND)
                                        & (Artifact.mode == "output") & (Artifact.name == old)).execute()
            run_write(rename)
            self._row["name"] = name
            self._save()

    def _destination(self, upload_uri: str | None) -> tuple[str | None, Path | None]:
        """(remote URL prefix or None, local folder or None) where weights are copied; (None, None): register in place."""
        uri = upload_uri or self.upload_storage_uri
        if not uri:
            return None, None
        relative = self._task._artifacts_folder()
        if self._task._output_folder is not None and not upload_uri:
            return None, relative.parent / "models" / safe_component(self.name)
        suffix = f"{safe_component(self._task.get_project_name() or 'project')}/" \
                 f"{safe_component(self._task.name)}.{self._experiment_id}/models/{safe_component(self.name)}"
        if scheme(uri):
            return f"{uri.rstrip('/')}/{suffix}", None
        return None, local_path(uri).resolve() / suffix

    def update_weights(self, weights_filename: str | None = None, upload_uri: str | None = None,
                       target_filename: str | None = None, auto_delete_file: bool = True,
                       register_uri: str | None = None, iteration: int | None = None, update_comment: bool = True,
                       is_package: bool = False, async_enable: bool = True, weights_path: str | None = None) -> str:
        """Record the weights file (see the module text for where it goes); returns its URI."""
        self._require_changeable()
        weights_filename = weights_filename or weights_path
        if bool(weights_filename) == bool(register_uri):
            raise ValueError("update_weights needs a local weights file or register_uri, not both")
        if weights_filename and Path(weights_filename).is_dir():
            return self.update_weights_package(weights_path=weights_filename, upload_uri=upload_uri,
                                               target_filename=target_filename, auto_delete_file=auto_delete_file,
                                               iteration=iteration)
        meta = self._row["metadata"]
        if register_uri:
            uri, in_storage, size = str(register_uri), False, None
            source = local_path(register_uri) if not scheme(str(register_uri)) else None
            if source is not None and source.is_file():
                uri, size = str(source.resolve()), source.stat().st_size
        else:
            source = Path(weights_filename).expanduser()
            if not source.is_file():
                raise FileNotFoundError(f"update_weights: no file {weights_filename}")
            size = source.stat().st_size
            remote, folder = self._destination(upload_uri)
            target_name = target_filename or source.name
            if remote is not None:
                uri = StorageManager.upload_file(str(source), f"{remote}/{target_name}")
                in_storage = False
            elif folder is not None:
                folder.mkdir(parents=True, exist_ok=True)
                target = folder / safe_component(target_name)
                if source.resolve() != target.resolve():
                    shutil.copyfile(source, target)
                uri, in_storage = str(target), False  # the destination is the user's folder, not ExpTable's
            else:
                uri, in_storage, auto_delete_file = str(source.resolve()), False, False
            if auto_delete_file and uri != str(source.resolve()):
                source.unlink()
        last = iteration if iteration is not None else self._task.get_last_iteration()
        meta.update({"_iteration": last, "_package": bool(is_package)})
        if update_comment:
            meta["_comment"] = f"snapshot {weights_filename or register_uri} stored" + (
                f"\n{meta['_comment']}" if meta.get("_comment") and not meta["_comment"].startswith("snapshot ")
                else "")
        self._row.update(uri=uri, in_storage=in_storage, size=size,
                         content_type="application/zip" if is_package else "application/octet-stream")
        self._save()
        return uri

    def update_weights_package(self, weights_filenames: Sequence[str] | None = None, weights_path: str | None = None,
                               upload_uri: str | None = None, target_filename: str | None = None,
                               auto_delete_file: bool = True, iteration: int | None = None,
                               async_enable: bool = True) -> str:
        """Zip a folder (``weights_path``) or files (``weights_filenames``) and record the zip as the weights."""
        self._require_changeable()
        if bool(weights_filenames) == bool(weights_path):
            raise ValueError("update_weights_package needs weights_filenames or weights_path, not both")
        if weights_path:
            base = Path(weights_path).expanduser()
            if not base.is_dir():
                raise FileNotFoundError(f"update_weights_package: no folder {weights_path}")
            files = sorted(p for p in base.rglob("*") if p.is_file())
        else:
            files = [Path(f).expanduser() for f in weights_filenames]
            missing = [str(f) for f in files if not f.is_file()]
            if missing:
                raise FileNotFoundError(f"update_weights_package: no file {missing[0]}")
            base = Path(os.path.commonpath([str(f.resolve().parent) for f in files]))
        name = target_filename or f"{safe_component(self.name)}.zip"
        if not name.endswith(".zip"):
            name += ".zip"
        remote, folder = self._destination(upload_uri)
        in_storage = remote is None and folder is None
        if in_storage:  # no destination: the package is ExpTable's to keep, in the experiment's folder
            folder = self._task._storage_folder() / "models" / safe_component(self.name)
        handle, temp = tempfile.mkstemp(suffix=".zip")
        os.close(handle)
        try:
            with zipfile.ZipFile(temp, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in files:
                    archive.write(path, path.resolve().relative_to(base.resolve()).as_posix())
            size = os.path.getsize(temp)
            if remote is not None:
                uri = StorageManager.upload_file(temp, f"{remote}/{name}")
            else:
                folder.mkdir(parents=True, exist_ok=True)
                uri = str(folder / name)
                shutil.move(temp, uri)
        finally:
            if os.path.exists(temp):
                os.unlink(temp)
        last = iteration if iteration is not None else self._task.get_last_iteration()
        self._row["metadata"].update({"_iteration": last, "_package": True})
        self._row.update(uri=uri, in_storage=in_storage, size=size, content_type="application/zip")
        self._save()
        return uri  # the zip was a temporary file (what auto_delete_file is about): the sources stay

    def update_design(self, config_text: str | None = None, config_dict: Mapping | None = None) -> bool:
        self._require_changeable()
        design, kind = _design_text(config_text, config_dict)
        self._row["preview"] = design
        self._row["metadata"]["_design_kind"] = kind
        self._save()
        return True

    def update_labels(self, labels: Mapping[str, int]) -> None:
        self._require_changeable()
        self._row["metadata"]["_labels"] = {str(k): int(v) for k, v in dict(labels).items()}
        self._save()

    def set_metadata(self, key: str, value: Any, v_type: str | None = None) -> bool:
        if str(key).startswith("_"):
            raise ValueError(f"metadata key {key!r}: keys starting with '_' are ExpTable's own")
        kind = v_type.__name__ if isinstance(v_type, type) else (v_type or type(value).__name__)
        self._row["metadata"][str(key)] = {"key": str(key), "value": str(value), "type": str(kind)}
        self._save()
        return True

    def set_all_metadata(self, metadata: Mapping[str, Any], replace: bool = True) -> bool:
        if replace:
            self._row["metadata"] = {k: v for k, v in self._row["metadata"].items() if str(k).startswith("_")}
        for key, value in metadata.items():
            if isinstance(value, Mapping):
                self.set_metadata(key, value.get("value"), value.get("type"))
            else:
                self.set_metadata(key, value)
        return True

    def publish(self) -> None:
        self._row["metadata"]["_published"] = True
        self._save()

    @property
    def tags(self) -> list[str]:
        return super().tags

    @tags.setter
    def tags(self, value: Iterable[str]) -> None:
        self._row["metadata"]["_tags"] = list(value)
        self._save()

    @property
    def comment(self) -> str:
        return super().comment

    @comment.setter
    def comment(self, value: str) -> None:
        self._row["metadata"]["_comment"] = str(value)
        self._save()

    @classmethod
    def wait_for_uploads(cls, timeout: float | None = None, max_num_uploads: int | None = None) -> None:
        """Uploads finish before ``update_weights`` returns: nothing to wait for."""


def _framework_name(framework: Any) -> str:
    return str(getattr(framework, "value", framework) or "")


class ModelList(list):
    """``task.models["output"]``: a list (``[-1]`` is the newest) that is also indexable by model name."""

    def __getitem__(self, key):
        if isinstance(key, str):
            for model in self:
                if model.name == key:
                    return model
            raise KeyError(key)
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return [m.name for m in self]


class TaskModels(dict):
    """``task.models``: ``{"input": ModelList, "output": ModelList}``, also as attributes."""

    @property
    def input(self) -> ModelList:
        return self["input"]

    @property
    def output(self) -> ModelList:
        return self["output"]


def task_models(experiment_id: str) -> TaskModels:
    rows = (Artifact.select().where((Artifact.experiment == experiment_id) & (Artifact.kind == KIND))
            .order_by(Artifact.created, Artifact.id))
    out = TaskModels(input=ModelList(), output=ModelList())
    for row in rows:
        model = Model._from_row(row)
        if not _metadata(row).get("_model_id"):
            # A model row written by something other than this SDK (an importer, the demo): an id of its own.
            model._row["metadata"]["_model_id"] = f"{experiment_id}:{row.mode}:{row.name}"
        out["input" if row.mode == "input" else "output"].append(model)
    return out


__all__ = ["Framework", "Model", "InputModel", "OutputModel", "ModelList", "TaskModels", "task_models"]
