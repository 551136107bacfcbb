"""Hydra: the composed configuration and the command-line overrides, as the reference records them.

- configuration object ``OmegaConf``: the job's config as OmegaConf YAML (not
  resolved, so ``${...}`` interpolations stay as written);
- hyperparameter section ``Hydra``: each override (``trainer.lr=0.1``) as a
  parameter, plus ``_allow_omegaconf_edit_`` (False).

Under an agent the stored ``Hydra`` values are applied to the job's config (the
same object the script holds), and with ``_allow_omegaconf_edit_`` True the
stored ``OmegaConf`` text is merged over it. ``Task.init`` inside the Hydra app
(the usual place) records the running job; ``Task.init`` before it records the
job when Hydra starts it. With ``Task.init`` inside the app each job is its own
experiment, ended when the job ends (a multirun ``-m`` makes one per job).
"""
from __future__ import annotations

import functools
import importlib
import sys

from exptable_desktop.sdk.bindings import active_task, warn_once

CONFIG_NAME = "OmegaConf"
SECTION = "Hydra"
ALLOW_EDIT = "_allow_omegaconf_edit_"


def patch_hydra(module) -> None:
    utils = importlib.import_module("hydra.core.utils")

    if not getattr(utils.run_job, "_exptable", False):
        original_run_job = utils.run_job

        @functools.wraps(original_run_job)
        def run_job(task_function, config, *args, **kwargs):
            task = active_task("hydra")
            if task is not None and getattr(task, "_exptable_hydra_job", False) and not task._remote:
                task.close()  # the last job's Task.init (inside the app): its experiment ends with it
                task = None
            if task is not None:
                task_function = _recording(task_function)
            result = original_run_job(task_function, config, *args, **kwargs)
            started = active_task("hydra")
            if task is None and started is not None and not started._remote:
                _end_job(started, result)
            return result

        run_job._exptable = True
        # Launchers import run_job by name: each module's reference is replaced.
        for name in ("hydra.core.utils", "hydra._internal.hydra",
                     "hydra._internal.core_plugins.basic_launcher"):
            holder = sys.modules.get(name)
            if holder is not None and getattr(holder, "run_job", None) is original_run_job:
                holder.run_job = run_job
    task = active_task("hydra")
    if task is not None:  # Task.init inside the Hydra app: the running job is on the stack
        config = _running_job_config(utils.run_job)
        if config is not None:
            task._exptable_hydra_job = True
            record_config(task, config)


def _end_job(task, result) -> None:
    """Task.init inside the app: one experiment per job (a multirun makes several), as the reference."""
    status = getattr(getattr(result, "status", None), "name", "")
    if status == "FAILED":
        error = getattr(result, "_return_value", None)
        task.mark_failed(status_reason=f"Hydra job failed: {type(error).__name__}: {error}"[:500])
    else:
        task.close()


def _recording(task_function):
    @functools.wraps(task_function)
    def run(config, *args, **kwargs):
        task = active_task("hydra")
        if task is not None:
            try:
                record_config(task, config)
            except Exception as exc:
                warn_once("the Hydra configuration", exc)
        return task_function(config, *args, **kwargs)
    return run


def _running_job_config(run_job):
    while hasattr(run_job, "__wrapped__"):
        run_job = run_job.__wrapped__
    frame = sys._getframe(1)
    try:
        while frame is not None:
            if frame.f_code is run_job.__code__ and "task_cfg" in frame.f_locals:
                return frame.f_locals["task_cfg"]
            frame = frame.f_back
    finally:
        del frame
    return None


def _overrides() -> list[str]:
    HydraConfig = importlib.import_module("hydra.core.hydra_config").HydraConfig

    try:
        return [str(o) for o in HydraConfig.get().overrides.task]
    except ValueError:  # no Hydra job running
        return []


def record_config(task, config) -> None:
    omegaconf = importlib.import_module("omegaconf")
    OmegaConf, open_dict, read_write = omegaconf.OmegaConf, omegaconf.open_dict, omegaconf.read_write

    overrides = dict(o.split("=", 1) for o in _overrides() if "=" in o)
    if task._remote:
        stored = task._stored_section(SECTION)
        allow_edit = stored.pop(ALLOW_EDIT, ("False", "bool"))[0].strip().lower() in ("true", "1", "yes")
        with read_write(config), open_dict(config):
            for key, (text, _) in stored.items():
                OmegaConf.update(config, key.lstrip("+~"), _yaml_value(text), merge=True)
                overrides[key] = text
            if allow_edit:
                edited = task.get_configuration_object(CONFIG_NAME)
                if edited:
                    config.merge_with(OmegaConf.create(edited))
    values = dict(overrides)
    values[ALLOW_EDIT] = False
    task._record_section(SECTION, values, {k: "str" for k in overrides} | {ALLOW_EDIT: "bool"})
    from exptable_desktop.core import recording

    recording.record_configuration(
        task.id, CONFIG_NAME, OmegaConf.to_yaml(config, resolve=False), content_type="yaml",
        description=f"Full OmegaConf YAML configuration. Read-only, unless '{SECTION}/{ALLOW_EDIT}' is True")


def _yaml_value(text: str):
    yaml = importlib.import_module("yaml")

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text
