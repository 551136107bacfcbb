"""ClearML offline sessions (``Task.set_offline(True)``): a session's zip, its folder, or a folder of sessions.

The format (sdk_agent_reference.md §2): ``task.json`` (the task object in API 2.9 field
names), ``metrics.jsonl`` and ``log.jsonl`` (one JSON array of events per line) and
``data/`` (the offline files server: artifacts and debug images). Sessions in the wild are
messy: files missing, no ``script`` section, an empty or half-written ``task.json``, a line
cut short by a crash. Whatever can be read is imported and what could not is reported.

The format stores no status, so it is inferred and the experiment's status reason says so:
Failed when the log shows a traceback, Completed when the session's zip exists (the SDK
writes it on a normal close), Aborted when there is only the folder (it stopped mid-way).
"""
from __future__ import annotations

import json
import re
import stat
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from exptable_desktop.core import states as st
from exptable_desktop.io.importers.common import (
    PROPERTIES,
    ImportReport,
    SourceError,
    SourceRun,
    experiment_id_for,
    import_runs,
    series,
)

SOURCE = "clearml"
SUMMARY_ITERATION = -2147483648  # report_single_value's marker iteration
_OFFLINE_ID = re.compile(r"^offline-([0-9a-f]{32})$")
TRACEBACK = "Traceback (most recent call last):"
CONFIG_TYPES = {"dictionary": "hocon", "yaml": "yaml", "json": "json", "text": "text", "hocon": "hocon"}
PLOT_KINDS = {"scatter": "scatter", "scattergl": "scatter", "bar": "bar", "histogram": "histogram",
              "table": "table", "heatmap": "confusion", "surface": "confusion"}


@dataclass
class Session:
    """One session on disk: its files under ``root`` (a folder, or a zip unpacked to a temporary folder)."""
    root: Path
    name: str          # folder or zip name, for messages
    closed: bool       # a zip exists: the SDK closed the session
    fallback_task: Path | None = None  # the folder's task.json, when the zip's is unreadable


def _safe_members(archive: zipfile.ZipFile, label: str) -> list[zipfile.ZipInfo]:
    members = []
    for info in archive.infolist():
        path = PurePosixPath(info.filename.replace("\\", "/"))
        mode = info.external_attr >> 16
        if path.is_absolute() or ".." in path.parts or re.match(r"^[A-Za-z]:", info.filename) \
                or stat.S_ISLNK(mode):
            raise SourceError(f"{label}: member {info.filename!r} would be written outside the session folder")
        members.append(info)
    return members


def _unpack(zip_path: Path, into: Path) -> Path:
    try:
        with zipfile.ZipFile(zip_path) as archive:
            members = _safe_members(archive, zip_path.name)
            for info in members:
                if info.is_dir():
                    continue
                target = into / info.filename.replace("\\", "/")
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, open(target, "wb") as dst:
                    while chunk := src.read(1 << 20):
                        dst.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SourceError(f"{zip_path.name}: not a readable zip ({exc})") from None
    return into


def _is_session_folder(path: Path) -> bool:
    return path.is_dir() and any((path / name).exists() for name in ("task.json", "metrics.jsonl", "log.jsonl"))


def find_sessions(location: Path) -> list[tuple[Path | None, Path | None]]:
    """(zip, folder) pairs of the sessions at ``location``, one per session id; either may be None."""
    if location.is_file():
        if location.suffix.lower() != ".zip":
            raise SourceError(f"{location} is neither a session zip nor a session folder")
        folder = location.with_suffix("")
        return [(location, folder if folder.is_dir() else None)]
    if not location.is_dir():
        raise SourceError(f"no ClearML offline session at {location}")
    if _is_session_folder(location):
        zip_path = location.with_name(location.name + ".zip")
        return [(zip_path if zip_path.is_file() else None, location)]
    found: dict[str, list[Path | None]] = {}
    for child in sorted(location.iterdir()):
        if child.is_file() and child.suffix.lower() == ".zip":
            found.setdefault(child.stem, [None, None])[0] = child
        elif _is_session_folder(child):
            found.setdefault(child.name, [None, None])[1] = child
    if not found:
        raise SourceError(f"no ClearML offline session in {location} (expected a session zip or folder "
                          "holding task.json, metrics.jsonl or log.jsonl)")
    return [(z, f) for z, f in found.values()]


# ---- Reading the files -------------------------------------------------------------------------

def _read_task(path: Path, missing: list[str]) -> dict[str, Any]:
    if not path.exists():
        missing.append("task.json (name, project, parameters, configuration, script): not in the session")
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        missing.append(f"task.json: cannot read it ({exc.strerror or exc})")
        return {}
    if not text.strip():
        missing.append("task.json is empty (name, project, parameters, configuration, script)")
        return {}
    try:
        task = json.loads(text)
    except ValueError as exc:
        missing.append(f"task.json is not valid JSON ({exc}); its fields were not imported")
        return {}
    if not isinstance(task, dict):
        missing.append("task.json does not hold a task object")
        return {}
    return task


def _events(path: Path, label: str, missing: list[str]) -> list[dict[str, Any]]:
    """The events of a .jsonl file (one JSON array per line), in file order; bad lines reported."""
    if not path.exists():
        return []
    events = []
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        missing.append(f"{label}: cannot read it ({exc.strerror or exc})")
        return []
    bad = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            batch = json.loads(line)
        except ValueError:
            bad.append(number)
            continue
        for event in batch if isinstance(batch, list) else [batch]:
            if isinstance(event, dict):
                events.append(event)
    if bad:
        missing.append(f"{label}: line{'s' if len(bad) > 1 else ''} {', '.join(map(str, bad[:10]))} "
                       f"{'are' if len(bad) > 1 else 'is'} not valid JSON (cut short?) and "
                       f"{'were' if len(bad) > 1 else 'was'} skipped")
    return events


def _stamp(event: dict[str, Any]) -> float | None:
    value = event.get("timestamp")
    return float(value) / 1000.0 if isinstance(value, (int, float)) else None


def _data_file(root: Path, relative: str) -> Path | None:
    """``data/<relative>`` inside the session, or None when it would lie outside it."""
    rel = PurePosixPath(relative.replace("\\", "/"))
    if rel.is_absolute() or ".." in rel.parts:
        return None
    return root / "data" / Path(*rel.parts)


def _artifact_relative(uri: str, offline_folder: str) -> str | None:
    """The artifact's path under the session's ``data/`` (what Task.import_offline_session does)."""
    uri = uri[len("file://"):] if uri.startswith("file://") else uri
    prefix = offline_folder.rstrip("/\\") + "/data/" if offline_folder else ""
    if prefix and uri.replace("\\", "/").startswith(prefix.replace("\\", "/")):
        return uri.replace("\\", "/")[len(prefix.replace("\\", "/")):]
    marker = "/data/"
    index = uri.replace("\\", "/").find(marker)
    return uri.replace("\\", "/")[index + len(marker):] if index >= 0 else None


def _parameters(task: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]]:
    out: dict[str, dict[str, dict[str, Any]]] = {}
    hyperparams = task.get("hyperparams")
    if not isinstance(hyperparams, dict):
        return out
    for section, params in hyperparams.items():
        if not isinstance(params, dict):
            continue
        for name, param in params.items():
            if not isinstance(param, dict):
                param = {"value": param}
            description = str(param.get("description") or "")
            out.setdefault(str(section), {})[str(param.get("name") or name)] = {
                "value": "" if param.get("value") is None else str(param.get("value")),
                "type": str(param.get("type") or ""),
                # argparse without help= is stored as the text "None"
                "description": "" if description == "None" else description,
            }
    return out


def _configuration(task: dict[str, Any]) -> dict[str, dict[str, str]]:
    config = task.get("configuration")
    if not isinstance(config, dict):
        return {}
    out = {}
    for name, obj in config.items():
        if not isinstance(obj, dict):
            obj = {"value": obj}
        kind = str(obj.get("type") or "")
        out[str(obj.get("name") or name)] = {"value": "" if obj.get("value") is None else str(obj.get("value")),
                                             "content_type": CONFIG_TYPES.get(kind, kind or "text"),
                                             "description": str(obj.get("description") or "")}
    return out


def _execution(task: dict[str, Any], missing: list[str]) -> dict[str, Any]:
    script = task.get("script")
    execution: dict[str, Any] = {}
    if not isinstance(script, dict):
        if task:
            missing.append("script section (repository, commit, entry point, uncommitted changes, packages): "
                           "the session has none (repository detection may have timed out)")
    else:
        requirements = script.get("requirements")
        pip = requirements.get("pip") if isinstance(requirements, dict) else requirements
        execution = {"repository": script.get("repository") or "", "branch": script.get("branch") or "",
                     "tag": script.get("tag") or "", "commit": script.get("version_num") or "",
                     "entry_point": script.get("entry_point") or "", "working_dir": script.get("working_dir") or "",
                     "binary": script.get("binary") or "", "diff": script.get("diff") or "",
                     "requirements": pip if isinstance(pip, str) else None}
    docker = (task.get("execution") or {}).get("docker_cmd") if isinstance(task.get("execution"), dict) else None
    if docker:
        image, _, args = str(docker).partition(" ")
        execution.update(container_image=image, container_args=args.strip())
    return execution


def _plot(event: dict[str, Any]) -> dict[str, Any] | None:
    raw = event.get("plot_str")
    if not isinstance(raw, str):
        return None
    try:
        figure = json.loads(raw)
        first = (figure.get("data") or [{}])[0] if isinstance(figure, dict) else {}
        trace = str(first.get("type") or "scatter") if isinstance(first, dict) else "scatter"
    except ValueError:
        return None
    kind = PLOT_KINDS.get(trace, "plotly")
    if kind == "scatter" and "lines" in str(first.get("mode", "lines")):
        kind = "line"
    return {"metric": str(event.get("metric", "")), "variant": str(event.get("variant", "")),
            "iteration": int(event.get("iter") or 0), "kind": kind, "data": raw,
            "timestamp": _stamp(event)}


def read_session(session: Session) -> SourceRun:
    root = session.root
    missing: list[str] = []
    notes: list[str] = []
    task = _read_task(root / "task.json", missing)
    if not task and session.fallback_task is not None:
        fallback = _read_task(session.fallback_task, [])
        if fallback:
            task = fallback
            missing = [m for m in missing if not m.startswith("task.json")]
            notes.append("the zip's task.json was unreadable; the session folder's was used")
    folder_id = session.name[:-4] if session.name.lower().endswith(".zip") else session.name
    source_id = str(task.get("id") or folder_id)
    match = _OFFLINE_ID.match(source_id)
    experiment_id = match.group(1) if match else experiment_id_for(SOURCE, source_id)

    metric_events = _events(root / "metrics.jsonl", "metrics.jsonl", missing)
    log_events = _events(root / "log.jsonl", "log.jsonl", missing)
    if not (root / "metrics.jsonl").exists():
        notes.append("no metrics.jsonl: the session reported no scalars, plots or debug samples")
    if not (root / "log.jsonl").exists():
        missing.append("log.jsonl (console output): not in the session")

    # Events within a batch are not strictly time-ordered; a stable sort keeps file order on ties.
    order = sorted(range(len(metric_events)), key=lambda i: (_stamp(metric_events[i]) or 0.0, i))
    points: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    single_values: dict[str, float] = {}
    plots, samples = [], []
    unknown: dict[str, int] = {}
    for i in order:
        event = metric_events[i]
        kind = event.get("type")
        metric, variant = str(event.get("metric", "")), str(event.get("variant", ""))
        if kind == "training_stats_scalar":
            try:
                value = float(event.get("value"))
                iteration = int(event.get("iter") or 0)
            except (TypeError, ValueError):
                unknown["scalar without a number"] = unknown.get("scalar without a number", 0) + 1
                continue
            if iteration == SUMMARY_ITERATION:
                single_values[variant] = value
            else:
                points.setdefault((metric, variant), []).append((iteration, value, _stamp(event) or 0.0))
        elif kind == "plot":
            plot = _plot(event)
            if plot is None:
                unknown["plot that is not Plotly JSON"] = unknown.get("plot that is not Plotly JSON", 0) + 1
            else:
                plots.append(plot)
        elif kind == "training_debug_image":
            key = str(event.get("key") or "")
            path = _data_file(root, key) if key else None
            iteration = int(event.get("iter") or 0)
            if path is None or not path.is_file():
                missing.append(f"debug sample {metric}/{variant} iteration {iteration}: "
                               f"file data/{key} is not in the session")
                continue
            samples.append({"metric": metric, "variant": variant, "iteration": iteration,
                            "timestamp": _stamp(event), "source": path, "file_name": path.name})
        else:
            unknown[f"event type {kind!r}"] = unknown.get(f"event type {kind!r}", 0) + 1
    for what, count in unknown.items():
        notes.append(f"{count} {what} skipped")

    log_order = sorted(range(len(log_events)), key=lambda i: (_stamp(log_events[i]) or 0.0, i))
    console = []
    crashed = False
    hosts = set()
    for i in log_order:
        event = log_events[i]
        if event.get("type", "log") != "log":
            continue
        msg = event.get("msg")
        if not isinstance(msg, str):
            continue
        level = str(event.get("level") or "info")
        if level == "error" and TRACEBACK in msg:
            crashed = True
        if event.get("worker"):
            hosts.add(str(event["worker"]))
        stamp = _stamp(event) or 0.0
        console.extend((stamp, level, line) for line in msg.split("\n"))

    stamps = [s for s in (_stamp(e) for e in metric_events + log_events) if s is not None]
    if crashed:
        status, reason = st.FAILED, "Inferred: the session's log shows a crash (a traceback)"
    elif session.closed:
        status, reason = st.COMPLETED, "Inferred: the session was closed normally (its zip exists)"
    else:
        status, reason = st.ABORTED, "Inferred: the session stops mid-way (it has no zip)"
    notes.append(f"status {st.status_label(status)}: {reason[len('Inferred: '):]}; "
                 "offline sessions store no status")

    artifacts = []
    offline_folder = str(task.get("offline_folder") or "")
    execution_section = task.get("execution") if isinstance(task.get("execution"), dict) else {}
    for art in execution_section.get("artifacts") or []:
        if not isinstance(art, dict) or not art.get("key"):
            continue
        type_data = art.get("type_data") if isinstance(art.get("type_data"), dict) else {}
        entry = {"name": str(art["key"]), "kind": "artifact", "mode": str(art.get("mode") or "output"),
                 "content_type": str(type_data.get("content_type") or ""),
                 "preview": str(type_data.get("preview") or ""), "hash": str(art.get("hash") or ""),
                 "size": art.get("content_size"),
                 "metadata": {"_type": art.get("type"), "_source_uri": art.get("uri")}}
        relative = _artifact_relative(str(art.get("uri") or ""), offline_folder)
        path = _data_file(root, relative) if relative else None
        if path is not None and path.is_file():
            entry["source"] = path
        elif re.match(r"^[a-z][a-z0-9+.-]*://", str(art.get("uri") or "")) and not str(art["uri"]).startswith("file://"):
            entry["uri"] = str(art["uri"])  # stored remotely: the address is kept
        else:
            missing.append(f"artifact {art['key']}: its file ({relative or art.get('uri')}) is not in the session")
            continue
        artifacts.append(entry)
    if task.get("offline_output_models"):
        notes.append(f"{len(task['offline_output_models'])} offline output model(s) not imported "
                     "(the offline format does not keep their files)")

    parameters = _parameters(task)
    task_type = str(task.get("type") or "training")
    return SourceRun(
        source=SOURCE, source_id=source_id, experiment_id=experiment_id,
        project=str(task.get("project_name") or "ClearML offline"),
        name=str(task.get("name") or source_id), task_type=task_type if task_type in st.TASK_TYPES else "custom",
        status=status, status_reason=reason, description=str(task.get("comment") or ""),
        tags=[str(t) for t in task.get("tags") or [] if t],
        created=min(stamps) if stamps else None, started=min(stamps) if stamps else None,
        completed=max(stamps) if stamps else None, last_update=max(stamps) if stamps else None,
        execution=_execution(task, missing), runtime={"hostname": sorted(hosts)[0]} if hosts else {},
        parameters=parameters, configuration=_configuration(task),
        scalars={key: series(rows) for key, rows in points.items()}, console=console,
        single_values=single_values, plots=plots, debug_samples=samples, artifacts=artifacts,
        missing=missing, notes=notes)


def _sessions(pairs, scratch: Path) -> Iterator[SourceRun | Exception]:
    for n, (zip_path, folder) in enumerate(pairs):
        label = (zip_path or folder).name
        try:
            if zip_path is not None:
                root = _unpack(zip_path, scratch / f"s{n}")
                fallback = folder / "task.json" if folder is not None and (folder / "task.json").exists() else None
                session = Session(root, zip_path.name, closed=True, fallback_task=fallback)
            else:
                session = Session(folder, folder.name, closed=False)
            yield read_session(session)
        except SourceError as exc:
            yield exc
        except OSError as exc:
            yield SourceError(f"{label}: cannot read it ({exc.strerror or exc})")


def import_clearml_offline(location: str | Path, *, project: str | None = None, on_progress=None) -> ImportReport:
    """Import the session(s) at ``location``: a session zip, a session folder, or a folder of them."""
    location = Path(location).expanduser()
    pairs = find_sessions(location)
    with tempfile.TemporaryDirectory(prefix="exptable-clearml-") as scratch:
        def runs():
            for run in _sessions(pairs, Path(scratch)):
                if project and isinstance(run, SourceRun):
                    run.project = project
                yield run
        return import_runs(runs(), source=SOURCE, location=str(location), total=len(pairs), on_progress=on_progress)


__all__ = ["import_clearml_offline", "find_sessions", "read_session", "PROPERTIES"]
