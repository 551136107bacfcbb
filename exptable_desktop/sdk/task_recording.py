"""What a script records on its experiment besides scalars and console: parameters, configuration,
tags and other fields, artifacts, packages and model labels (under an agent, the values edited on
the experiment come back instead of the script's own)."""
from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from exptable_desktop.core import actions, editing, recording
from exptable_desktop.sdk import capture, task_argparse
from exptable_desktop.sdk.artifacts import SerializedBytes as _SerializedBytes, store_artifact
from exptable_desktop.sdk.logger import Logger
from exptable_desktop.sdk.params import apply_flat, cast as cast_value, flatten, public_attributes, to_text, type_name
from exptable_desktop.sdk.task_shared import ARGS_SECTION, GENERAL_SECTION, LABELS_CONFIGURATION
from exptable_desktop.store import files as store_files
from exptable_desktop.store.schema import ConfigObject, Experiment, HyperParam, Project


class TaskRecording:
    """The part of ``Task`` that writes what a script tells it onto the experiment."""

    # Requirements forced by Task.add_requirements (before Task.init), name -> version spec or None.
    _forced_requirements: dict[str, str | None] = {}

    def get_logger(self) -> Logger:
        """This run's Logger; for a task read with ``Task.get_task``, one reporting into that experiment."""
        if self._logger is None:
            from exptable_desktop.sdk.logger import reporting_logger

            self._logger = reporting_logger(self)
        return self._logger

    @property
    def logger(self) -> Logger:
        return self.get_logger()

    # ---- parameters --------------------------------------------------------------------

    def _stored_section(self, section: str) -> dict[str, tuple[str, str]]:
        return {name: (value, kind) for name, value, kind in
                HyperParam.select(HyperParam.name, HyperParam.value, HyperParam.type)
                .where((HyperParam.experiment == self.id) & (HyperParam.section == section)).tuples()}

    def _override(self, section: str, flat: dict[str, Any]) -> dict[str, Any]:
        """Under an agent, the values edited on the experiment replace the script's own, cast to type."""
        if not self._remote:
            return flat
        stored = self._stored_section(section)
        out = dict(flat)
        for name, original in flat.items():
            if name in stored:
                text, kind = stored[name]
                try:
                    out[name] = cast_value(text, kind, original)
                except (ValueError, SyntaxError) as exc:
                    raise ValueError(f"parameter {section}/{name}: {exc}") from None
        return out

    def _record_section(self, section: str, values: Mapping[str, Any],
                        types: Mapping[str, str] | None = None, help_texts: Mapping[str, str] | None = None) -> None:
        types = types or {}
        help_texts = help_texts or {}
        recording.record_parameters(self.id, section, {
            name: {"value": to_text(value), "type": types.get(name) or type_name(value),
                   "description": help_texts.get(name, "")}
            for name, value in values.items()})

    def _connect_argparse(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace) -> None:
        values, types, helps = {}, {}, {}
        default_on = self._argparse_filter.get("*", True)
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._VersionAction, argparse._SubParsersAction)):
                continue
            dest = action.dest
            if dest in (argparse.SUPPRESS, None) or not hasattr(namespace, dest):
                continue
            if not self._argparse_filter.get(dest, default_on):
                continue
            value = getattr(namespace, dest)
            values[dest] = value
            types[dest] = task_argparse.argument_type(action, value)
            helps[dest] = "" if action.help in (None, argparse.SUPPRESS) else str(action.help)
        # Arguments of the chosen sub-command live on the same namespace.
        for dest, value in vars(namespace).items():
            if dest not in values and self._argparse_filter.get(dest, default_on):
                values[dest], types[dest] = value, type_name(value)
        if self._remote:
            stored = self._stored_section(ARGS_SECTION)
            for dest in list(values):
                if dest in stored:
                    text, kind = stored[dest]
                    kind = kind or types[dest]
                    try:
                        new = cast_value(text, kind, values[dest])
                    except (ValueError, SyntaxError) as exc:
                        raise ValueError(f"argument {dest}: {exc}") from None
                    setattr(namespace, dest, new)
                    values[dest] = new
        self._record_section(ARGS_SECTION, values, types, helps)

    def connect(self, mutable: Any, name: str | None = None, ignore_remote_overrides: bool = False) -> Any:
        """Record a dict, Namespace or object as parameters; under an agent, return the edited values.

        A dict comes back as a live dict: later writes to it are recorded too (see ``sdk.live``).
        An ``OutputModel`` / ``InputModel`` is recorded as the run's model, a ``TaskParameters`` as parameters.
        """
        from exptable_desktop.sdk.model import BaseModel
        from exptable_desktop.task_parameters import TaskParameters

        if isinstance(mutable, BaseModel):
            if hasattr(mutable, "_task"):
                mutable.connect(self, name)
            else:
                mutable.connect(self, name, ignore_remote_overrides=ignore_remote_overrides)
            return mutable
        if isinstance(mutable, TaskParameters):
            section = name or GENERAL_SECTION
            values = self._override(section, mutable.to_dict()) if not ignore_remote_overrides else mutable.to_dict()
            mutable.update_from_dict(values)
            self._record_section(section, values)
            return mutable
        remote, self._remote = self._remote, self._remote and not ignore_remote_overrides
        try:
            if isinstance(mutable, argparse.ArgumentParser):
                raise TypeError("connect(parser) is automatic: parse_args() is recorded into section Args")
            if isinstance(mutable, argparse.Namespace):
                section = name or ARGS_SECTION
                flat = self._override(section, dict(vars(mutable)))
                for key, value in flat.items():
                    setattr(mutable, key, value)
            elif isinstance(mutable, dict):
                section = name or GENERAL_SECTION
                flat = self._override(section, flatten(mutable))
                apply_flat(mutable, flat)
            else:
                section = name or GENERAL_SECTION
                flat = self._override(section, public_attributes(mutable))
                for key, value in flat.items():
                    setattr(mutable, key, value)
            self._record_section(section, flat)
        finally:
            self._remote = remote
        if isinstance(mutable, dict) and self._live and not self._finished:
            return self._live_state().connect_dict(section, mutable)
        return mutable

    def connect_configuration(self, configuration: Any, name: str | None = None, description: str | None = None,
                              ignore_remote_overrides: bool = False) -> Any:
        name = name or GENERAL_SECTION
        stored = None
        if self._remote and not ignore_remote_overrides:
            stored = ConfigObject.get_or_none((ConfigObject.experiment == self.id) & (ConfigObject.name == name))
        if isinstance(configuration, (dict, list)):
            if stored is not None:
                try:
                    loaded = json.loads(stored.value)
                except ValueError as exc:
                    raise ValueError(f"configuration {name!r} stored on the experiment is not JSON: {exc}") from None
                if isinstance(configuration, dict):
                    configuration.clear()
                    configuration.update(loaded)
                else:
                    configuration[:] = loaded
                return configuration
            recording.record_configuration(self.id, name, json.dumps(configuration, indent=2, default=str),
                                           content_type="json", description=description or "")
            return configuration
        path = Path(configuration) if isinstance(configuration, Path) or (
            isinstance(configuration, str) and "\n" not in configuration and len(configuration) < 4096
            and Path(configuration).is_file()) else None
        if path is not None:
            suffix = path.suffix.lstrip(".").lower()
            if stored is not None:
                handle, temp = tempfile.mkstemp(prefix="exptable_config_", suffix=path.suffix)
                with os.fdopen(handle, "w", encoding="utf-8") as out:
                    out.write(stored.value)
                return Path(temp) if isinstance(configuration, Path) else temp
            recording.record_configuration(self.id, name, path.read_text(encoding="utf-8", errors="replace"),
                                           content_type=suffix or "file", description=description or "")
            return configuration
        if isinstance(configuration, str):
            if stored is not None:
                return stored.value
            recording.record_configuration(self.id, name, configuration, content_type="text",
                                           description=description or "")
            return configuration
        raise TypeError(f"connect_configuration takes a dict, list, path or text, not {type(configuration).__name__}")

    def set_parameter(self, name: str, value: Any, description: str | None = None,
                      value_type: Any = None) -> None:
        # "Section/a/b": the section is the first part, as in set_parameters and connect.
        section, _, key = name.partition("/") if "/" in name else (GENERAL_SECTION, "", name)
        kind = value_type.__name__ if isinstance(value_type, type) else (value_type or type_name(value))
        recording.record_parameters(self.id, section, {key: {"value": to_text(value), "type": kind,
                                                              "description": description or ""}})

    def set_parameters(self, *args: Mapping[str, Any], **kwargs: Any) -> None:
        merged: dict[str, Any] = {}
        for mapping in args:
            merged.update(mapping)
        merged.update(kwargs)
        by_section: dict[str, dict] = {}
        for name, value in merged.items():
            section, _, key = name.partition("/") if "/" in name else (GENERAL_SECTION, "", name)
            by_section.setdefault(section, {})[key] = {"value": to_text(value), "type": type_name(value)}
        for section, params in by_section.items():
            recording.record_parameters(self.id, section, params)

    def set_parameters_as_dict(self, dictionary: Mapping[str, Any]) -> None:
        """Parameters from a nested dict (``{"Args": {"lr": 0.1}}``), once: later changes are not followed."""
        self.set_parameters(flatten(dict(dictionary)))

    def set_user_properties(self, *iterables: Iterable, **properties: Any) -> bool:
        values: dict[str, Any] = {}
        for iterable in iterables:
            items = iterable.items() if isinstance(iterable, Mapping) else iterable
            for item in items:
                if isinstance(item, Mapping):
                    values[str(item["name"])] = {"value": str(item.get("value", "")),
                                                 "description": str(item.get("description") or ""),
                                                 "type": str(item.get("type") or "")}
                else:
                    key, value = item
                    values[str(key)] = {"value": str(value), "description": "", "type": ""}
        for key, value in properties.items():
            values[key] = {"value": str(value), "description": "", "type": ""}
        editing.require(editing.set_user_properties([self.id], values))
        return True

    # ---- other fields ------------------------------------------------------------------

    def add_tags(self, tags: Sequence[str] | str) -> None:
        actions.add_tags([self.id], [tags] if isinstance(tags, str) else list(tags))

    def remove_tags(self, tags: Sequence[str] | str) -> None:
        actions.remove_tags([self.id], [tags] if isinstance(tags, str) else list(tags))

    def set_tags(self, tags: Sequence[str]) -> None:
        """Exactly these tags."""
        wanted = [tags] if isinstance(tags, str) else list(tags)
        unwanted = [t for t in self.get_tags() if t not in wanted]
        if unwanted:
            self.remove_tags(unwanted)
        if wanted:
            self.add_tags(wanted)

    def set_comment(self, comment: str) -> None:
        actions.set_description([self.id], comment)

    def set_name(self, name: str) -> None:
        actions.rename([self.id], name)

    def set_progress(self, progress: int) -> None:
        if self._reporter is None:
            raise RuntimeError("this Task was read with Task.get_task; only Task.init can report progress")
        self._reporter.progress = max(0, min(100, int(progress)))

    # ---- artifacts ---------------------------------------------------------------------

    @property
    def output_uri(self) -> str:
        return str(self._output_folder) if self._output_folder else str(self._storage_folder())

    def _storage_folder(self) -> Path:
        return store_files.experiment_folder(self.id)

    def _artifacts_folder(self) -> Path:
        """``<output_uri>/<project path>/<name>.<id>/artifacts`` (the reference's layout) or the storage folder.

        Project and experiment names are user text: each becomes one safe folder name, so
        a name such as "../../x" stays inside the destination.
        """
        if self._output_folder is None:
            return self._storage_folder() / "artifacts"
        exp = Experiment.get_by_id(self.id)
        project_path, project_id = [], exp.project_id
        while project_id is not None:  # projects nest: "team/vision" is "vision" inside "team"
            project = Project.get_by_id(project_id)
            project_path.insert(0, store_files.safe_component(project.name))
            project_id = project.parent_id
        return (self._output_folder.joinpath(*project_path)
                / f"{store_files.safe_component(exp.name)}.{self.id}" / "artifacts")

    def upload_artifact(self, name: str, artifact_object: Any, metadata: Mapping[str, Any] | None = None,
                        delete_after_upload: bool = False, auto_pickle: bool | None = None,
                        preview: Any = None, wait_on_upload: bool = False, extension_name: str | None = None,
                        serialization_function=None, retries: int = 0, sort_keys: bool = True) -> bool:
        """Copy a file, a folder or the files a wildcard matches ("data/*.jpg", zipped), a dict (JSON),
        str, numpy array (.npz), DataFrame (.csv.gz) or PIL image; anything else is pickled (as the
        reference) unless ``auto_pickle=False``. ``serialization_function(obj) -> bytes`` stores its bytes
        (named ``<name><extension_name>``). Uploads finish before the call returns."""
        if serialization_function is not None:
            artifact_object = _SerializedBytes(serialization_function(artifact_object), extension_name or "")
        elif extension_name:
            self._warn_once("extension_name", "exptable: upload_artifact(extension_name=...) is applied only with "
                            "serialization_function; the file type follows the object")
        row = store_artifact(name, artifact_object, self._artifacts_folder(), dict(metadata or {}),
                             auto_pickle=auto_pickle)
        row["in_storage"] = self._output_folder is None
        if preview is not None:
            row["preview"] = str(preview)[:1000]
        recording.record_batch(self.id, artifacts=[row], heartbeat=False)
        if delete_after_upload and isinstance(artifact_object, (str, Path)) and Path(artifact_object).is_file():
            Path(artifact_object).unlink()
        return True

    def register_artifact(self, name: str, artifact: Any, metadata: Mapping[str, Any] | None = None,
                          uniqueness_columns: Any = True) -> None:
        """Keep a pandas DataFrame stored as it changes: now, on every change (looked at every
        ``live.REGISTERED_CHECK_S``), when unregistered and when the run ends."""
        from exptable_desktop.sdk.artifact_objects import RegisteredArtifacts

        state = self._live_state()
        if state.registered is None:
            state.registered = RegisteredArtifacts(
                lambda n, frame, meta: self.upload_artifact(n, frame, metadata=meta))
        state.registered.register(name, artifact, metadata, uniqueness_columns)

    def unregister_artifact(self, name: str) -> None:
        if self._live_objects is not None and self._live_objects.registered is not None:
            self._live_objects.registered.unregister(name)

    # ---- packages and model labels -------------------------------------------------------

    @classmethod
    def add_requirements(cls, package_name: str, package_version: str | None = None) -> None:
        """Add a package to the recorded packages (``None``: its installed version; "" no version; ">=2" a
        spec), or every line of a requirements file. Call it before ``Task.init``, as the reference."""
        if os.path.isfile(package_name):
            TaskRecording._forced_requirements.update(capture.requirement_specs(Path(package_name)))
            return
        current = cls.current_task()
        if current is not None and not current._finished:
            current._warn_once("add_requirements", "exptable: Task.add_requirements is meant to be called "
                               "before Task.init; recorded anyway")
        TaskRecording._forced_requirements[package_name] = package_version

    def set_packages(self, packages: str | Path | Sequence[str] | None) -> None:
        """Replace the recorded packages: a list of requirement lines, a requirements file, or "" for none."""
        if packages is None or self._remote:
            return
        if isinstance(packages, (str, Path)) and str(packages) and Path(packages).is_file():
            text = Path(packages).read_text(encoding="utf-8")
        elif isinstance(packages, str):
            text = packages
        else:
            text = "\n".join(str(p).strip() for p in packages) + "\n"
        self._packages_override = text
        recording.record_execution(self.id, requirements=text)

    def _requirements_text(self) -> str:
        if self._packages_override is not None:
            return self._packages_override
        return capture.requirements_with(capture.imported_packages(), TaskRecording._forced_requirements)

    def set_model_label_enumeration(self, enumeration: Mapping[str, int] | None = None) -> None:
        """The labels of this run's models (``{"cat": 0, "dog": 1}``); a new ``OutputModel`` takes them."""
        labels = {str(k): int(v) for k, v in dict(enumeration or {}).items()}
        recording.record_configuration(self.id, LABELS_CONFIGURATION, json.dumps(labels, indent=2),
                                       content_type="json", description="label enumeration of the models")

    def connect_label_enumeration(self, enumeration: dict[str, int],
                                  ignore_remote_overrides: bool = False) -> dict[str, int]:
        """Record the labels; under an agent, the labels stored on the experiment replace them (in place)."""
        if self._remote and not ignore_remote_overrides:
            stored = self.get_labels_enumeration()
            if stored:
                enumeration.clear()
                enumeration.update(stored)
                return enumeration
        self.set_model_label_enumeration(enumeration)
        return enumeration
