"""Editing an experiment's configuration, with the read-only rules applied for every caller.

Execution, hyperparameters and configuration objects change only in Draft;
user properties in any state but Published (the documented, safer rule of
feature inventory 2.3 item 10).
"""
from __future__ import annotations

import time
from typing import Any, Iterable, Mapping

from exptable_desktop.core import states as st
from exptable_desktop.core.actions import ActionResult, _unique
from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.db import run_write
from exptable_desktop.store.schema import ConfigObject, Execution, Experiment, HyperParam

PROPERTIES = "properties"
EXECUTION_FIELDS = tuple(f for f in Execution._meta.sorted_field_names if f != "experiment")


class ReadOnlyError(Exception):
    """Raised by single-experiment edits that the experiment's state forbids."""


def _editable(ids: Iterable[str], what: str, action: str) -> tuple[ActionResult, list[str]]:
    result = ActionResult(action)
    ids = _unique(ids)
    statuses: dict[str, str] = {}
    for chunk in chunked(ids):
        statuses.update(Experiment.select(Experiment.id, Experiment.status).where(Experiment.id.in_(chunk)).tuples())
    ok = []
    for exp_id in ids:
        if exp_id not in statuses:
            result.skipped[exp_id] = "No such experiment"
            continue
        reason = st.why_not_editable(statuses[exp_id], what)
        if reason:
            result.skipped[exp_id] = reason
        else:
            ok.append(exp_id)
    return result, ok


def _finish(result: ActionResult, ok: list[str]) -> ActionResult:
    now = time.time()
    for chunk in chunked(ok):
        Experiment.update(last_update=now).where(Experiment.id.in_(chunk)).execute()
    result.succeeded = ok
    return result


def update_execution(ids: Iterable[str], **fields: Any) -> ActionResult:
    unknown = set(fields) - set(EXECUTION_FIELDS)
    if unknown:
        raise ValueError(f"unknown execution fields: {', '.join(sorted(unknown))}")

    def work():
        result, ok = _editable(ids, "execution", "edit_execution")
        for chunk in chunked(ok):
            have = {e for (e,) in Execution.select(Execution.experiment).where(Execution.experiment.in_(chunk)).tuples()}
            if fields and have:
                Execution.update(**fields).where(Execution.experiment.in_(list(have))).execute()
            missing = [{"experiment": e, **fields} for e in chunk if e not in have]
            if missing:
                Execution.insert_many(missing).execute()
        return _finish(result, ok)
    return run_write(work)


def _param_row(exp_id: str, section: str, name: str, value: Any) -> dict:
    if isinstance(value, Mapping):
        return {"experiment": exp_id, "section": section, "name": name,
                "value": str(value.get("value", "")), "type": str(value.get("type", "") or ""),
                "description": str(value.get("description", "") or ""), "default": value.get("default")}
    return {"experiment": exp_id, "section": section, "name": name, "value": "" if value is None else str(value),
            "type": type(value).__name__ if value is not None and not isinstance(value, str) else "str",
            "description": "", "default": None}


def _upsert_params(ok: list[str], section: str, values: Mapping[str, Any], keep_meta: bool) -> None:
    rows = [_param_row(e, section, n, v) for e in ok for n, v in values.items()]
    preserve = [HyperParam.value] if keep_meta else [HyperParam.value, HyperParam.type, HyperParam.description,
                                                     HyperParam.default]
    for chunk in chunked(rows):
        (HyperParam.insert_many(chunk)
         .on_conflict(conflict_target=[HyperParam.experiment, HyperParam.section, HyperParam.name],
                      preserve=preserve).execute())


def set_hyperparams(ids: Iterable[str], section: str, values: Mapping[str, Any], *, keep_meta: bool = True) -> ActionResult:
    """Set (add or change) hyperparameters of one section; ``properties`` follows the user-property rule."""
    what = "properties" if section == PROPERTIES else "hyperparams"

    def work():
        result, ok = _editable(ids, what, "edit_hyperparams")
        _upsert_params(ok, section, values, keep_meta)
        return _finish(result, ok)
    return run_write(work)


def delete_hyperparams(ids: Iterable[str], section: str, names: Iterable[str] | None = None) -> ActionResult:
    what = "properties" if section == PROPERTIES else "hyperparams"
    names = list(names) if names is not None else None

    def work():
        result, ok = _editable(ids, what, "edit_hyperparams")
        for chunk in chunked(ok):
            condition = HyperParam.experiment.in_(chunk) & (HyperParam.section == section)
            if names is not None:
                condition &= HyperParam.name.in_(names)
            HyperParam.delete().where(condition).execute()
        return _finish(result, ok)
    return run_write(work)


def set_user_properties(ids: Iterable[str], values: Mapping[str, Any]) -> ActionResult:
    return set_hyperparams(ids, PROPERTIES, values, keep_meta=False)


def delete_user_properties(ids: Iterable[str], names: Iterable[str]) -> ActionResult:
    return delete_hyperparams(ids, PROPERTIES, names)


def set_configuration(ids: Iterable[str], name: str, value: str, *, description: str | None = None,
                      content_type: str = "") -> ActionResult:
    def work():
        result, ok = _editable(ids, "configuration", "edit_configuration")
        # An existing object keeps its description and type unless new ones are given.
        preserve = [ConfigObject.value]
        if description is not None:
            preserve.append(ConfigObject.description)
        if content_type:
            preserve.append(ConfigObject.content_type)
        rows = [{"experiment": e, "name": name, "value": value, "description": description or "",
                 "content_type": content_type} for e in ok]
        for chunk in chunked(rows):
            (ConfigObject.insert_many(chunk)
             .on_conflict(conflict_target=[ConfigObject.experiment, ConfigObject.name], preserve=preserve)
             .execute())
        return _finish(result, ok)
    return run_write(work)


def delete_configuration(ids: Iterable[str], name: str) -> ActionResult:
    def work():
        result, ok = _editable(ids, "configuration", "edit_configuration")
        for chunk in chunked(ok):
            ConfigObject.delete().where(ConfigObject.experiment.in_(chunk) & (ConfigObject.name == name)).execute()
        return _finish(result, ok)
    return run_write(work)


def require(result: ActionResult) -> ActionResult:
    """For single-experiment callers (SDK, details panel): turn a skip into an error."""
    if result.skipped:
        raise ReadOnlyError("; ".join(sorted(set(result.skipped.values()))))
    return result
