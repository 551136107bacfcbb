"""Experiments as JSON: what the details panel shows, in a documented, versioned shape.

The schema is described in docs/formats.md ("JSON export"); ``SCHEMA_VERSION`` changes
whenever a field changes meaning or goes away (new fields may appear without a change).
Times are ISO 8601 in UTC with microseconds; durations are seconds.
"""
from __future__ import annotations

import json
import math
from datetime import datetime, timezone
from typing import Any, Callable, Iterable, TextIO

from exptable_desktop import __version__
from exptable_desktop.core import details
from exptable_desktop.core import states as st
from exptable_desktop.core.projects import project_paths
from exptable_desktop.core.queries import NotFound, tags_of
from exptable_desktop.store.schema import (
    DebugSample,
    Experiment,
    Plot,
    Queue,
    ScalarChunk,
    Tag,
)
from peewee import fn

FORMAT = "exptable-experiments"
SCHEMA_VERSION = 1


def iso_time(epoch: float | None) -> str | None:
    if epoch is None or (isinstance(epoch, float) and not math.isfinite(epoch)):
        return None
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _number(value: float | None) -> float | str | None:
    """JSON has no NaN or infinity: those become the strings "NaN", "Infinity", "-Infinity"."""
    if value is None:
        return None
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _finite(value: Any) -> Any:
    """``value`` with every float JSON cannot hold replaced as ``_number`` does, at any depth."""
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    return value


def _json_or_text(raw: str) -> Any:
    try:
        return _finite(json.loads(raw or "{}"))
    except ValueError:
        return raw


def experiment_document(experiment_id: str, paths: dict[int, str] | None = None) -> dict[str, Any]:
    """One experiment as the export's ``experiments[]`` entry (NotFound for an unknown id)."""
    exp = Experiment.get_or_none(Experiment.id == experiment_id)
    if exp is None:
        raise NotFound(f"no experiment with id {experiment_id}")
    paths = project_paths() if paths is None else paths
    tag_names = tags_of([exp.id])[exp.id]
    colours = {t.name: (t.background, t.foreground) for t in Tag.select().where(Tag.name.in_(tag_names))} \
        if tag_names else {}
    parent = (Experiment.select(Experiment.id, Experiment.name).where(Experiment.id == exp.parent_id).first()
              if exp.parent_id else None)
    queue = Queue.get_or_none(Queue.id == exp.queue_id) if exp.queue_id else None
    configuration = details.configuration(exp.id)
    execution = details.execution(exp.id)
    artifact_groups = details.artifacts(exp.id)
    counts = {
        "console_lines": details.console_line_count(exp.id),
        "scalar_points": int(ScalarChunk.select(fn.COALESCE(fn.SUM(ScalarChunk.count), 0))
                             .where(ScalarChunk.experiment == exp.id).scalar() or 0),
        "plots": Plot.select(fn.COUNT(Plot.id)).where(Plot.experiment == exp.id).scalar(),
        "debug_samples": DebugSample.select(fn.COUNT(DebugSample.id)).where(DebugSample.experiment == exp.id).scalar(),
    }
    return {
        "id": exp.id,
        "name": exp.name,
        "type": exp.type,
        "status": st.normalize_status(exp.status),
        "status_label": st.status_label(exp.status),
        "status_message": exp.status_message,
        "status_reason": exp.status_reason,
        "progress": exp.progress,
        "archived": bool(exp.archived),
        "project": paths.get(exp.project_id, ""),
        "user": exp.user,
        "description": exp.description,
        "tags": [{"name": t, "background": colours.get(t, (None, None))[0],
                  "foreground": colours.get(t, (None, None))[1]} for t in tag_names],
        "parent": {"id": parent.id, "name": parent.name} if parent else (
            {"id": exp.parent_id, "name": None} if exp.parent_id else None),
        "queue": queue.name if queue else None,
        "worker": exp.worker,
        "times": {
            "created": iso_time(exp.created), "started": iso_time(exp.started),
            "last_update": iso_time(exp.last_update), "completed": iso_time(exp.completed),
            "status_changed": iso_time(exp.status_changed),
        },
        "run_time_seconds": _number(exp.run_time),
        "last_iteration": exp.last_iteration,
        "runtime": _json_or_text(exp.runtime),
        "execution": execution,
        "hyperparameters": {
            section: {p.name: {"value": p.value, "type": p.type, "description": p.description,
                               "default": p.default} for p in params}
            for section, params in configuration["sections"].items()},
        "user_properties": {p.name: {"value": p.value, "type": p.type, "description": p.description}
                            for p in configuration["properties"]},
        "configuration": {name: {"value": obj["value"], "content_type": obj["content_type"],
                                 "description": obj["description"]}
                          for name, obj in configuration["objects"].items()},
        "metrics": [
            {"metric": m["metric"], "variant": m["variant"], "first": _number(m["first"]),
             "last": _number(m["last"]), "min": _number(m["min"]), "max": _number(m["max"]),
             "mean": _number(m["mean"]), "count": m["count"]}
            for m in details.metric_values(exp.id)],
        "single_values": {name: _number(value) for name, value in details.single_values(exp.id)},
        "artifacts": [
            {"name": a["name"], "kind": a["kind"], "mode": a["mode"], "uri": a["uri"], "size": a["size"],
             "hash": a["hash"], "content_type": a["content_type"], "preview": a["preview"],
             "metadata": _finite(a["metadata"]), "created": iso_time(a["created"])}
            for group in artifact_groups.values() for a in group],
        "outputs": counts,
    }


def export_document(experiment_ids: Iterable[str],
                    on_progress: Callable[[int, int], bool | None] | None = None) -> dict[str, Any]:
    """``{"format", "schema_version", "exported_at", "exptable_version", "experiments": [...]}``."""
    ids = list(dict.fromkeys(experiment_ids))
    paths = project_paths()
    out = []
    for n, exp_id in enumerate(ids, 1):
        out.append(experiment_document(exp_id, paths))
        if on_progress is not None and on_progress(n, len(ids)) is False:
            from exptable_desktop.io.csv_export import ExportCancelled
            raise ExportCancelled(f"export cancelled after {n} of {len(ids)} experiments")
    return {"format": FORMAT, "schema_version": SCHEMA_VERSION, "exported_at": iso_time(datetime.now(
        timezone.utc).timestamp()), "exptable_version": __version__, "experiments": out}


def write_json(out: TextIO, experiment_ids: Iterable[str], **kwargs) -> int:
    document = export_document(experiment_ids, **kwargs)
    json.dump(document, out, indent=2, ensure_ascii=False, allow_nan=False)
    out.write("\n")
    return len(document["experiments"])
