"""TensorBoard log directories: each folder holding event files is one run, one experiment.

Scalars keep their steps and wall times; images become debug samples, histograms become
plots (one per step), text becomes console lines. Both the legacy summaries (tensorboardX,
``tf.compat.v1``) and TF2's tensor summaries are read. A tag ``a/b`` is metric ``a``, variant
``b``; a tag without ``/`` is both, as the reference's TensorBoard binding shows it.

The reader is TensorBoard's own (``tensorboard.backend.event_processing``), an optional extra
(``pip install 'exptable-desktop[tensorboard]'``). Event files store no status or id: a run is
imported as Completed (said in its status reason) and known by its folder's path inside the log
folder together with its first event file's name (which holds the writer's start time and host),
so moving the log folder elsewhere does not make it a new run.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from exptable_desktop.core import states as st
from exptable_desktop.io.importers.common import ImportReport, SourceError, SourceRun, import_runs

SOURCE = "tensorboard"
INSTALL_HINT = "pip install 'exptable-desktop[tensorboard]'"
EVENT_FILE_MARK = "tfevents"
STATUS_REASON = "Inferred: TensorBoard logs store no status; imported as Completed"
_PNG = b"\x89PNG"
_JPEG = b"\xff\xd8"


def _reader():
    try:
        from tensorboard.backend.event_processing import event_accumulator
        from tensorboard.util import tensor_util
    except ImportError as exc:
        raise SourceError(f"importing TensorBoard logs needs the tensorboard package ({INSTALL_HINT}): {exc}") from None
    return event_accumulator, tensor_util


def split_tag(tag: str) -> tuple[str, str]:
    metric, sep, variant = tag.partition("/")
    return (metric, variant) if sep and metric and variant else (tag, tag)


def event_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_file() and EVENT_FILE_MARK in p.name)


def find_runs(logdir: Path) -> list[Path]:
    """Every folder at or under ``logdir`` that holds event files, in path order."""
    if not logdir.is_dir():
        raise SourceError(f"no TensorBoard log folder at {logdir}")
    runs = [logdir] if event_files(logdir) else []
    runs += sorted(p for p in logdir.rglob("*") if p.is_dir() and event_files(p))
    if not runs:
        raise SourceError(f"no TensorBoard event files (events.out.tfevents.*) in {logdir}")
    return runs


def _image_type(data: bytes) -> tuple[str, str]:
    if data.startswith(_PNG):
        return "image/png", ".png"
    if data.startswith(_JPEG):
        return "image/jpeg", ".jpg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif", ".gif"
    return "application/octet-stream", ".bin"


def _histogram_plot(tag: str, step: int, wall: float, left: list[float], right: list[float],
                    counts: list[float]) -> dict[str, Any]:
    bins = [float(left[0])] + [float(r) for r in right] if left else []
    data = {"kind": "histogram", "title": tag, "bins": bins, "counts": [float(c) for c in counts]}
    metric, variant = split_tag(tag)
    return {"metric": metric, "variant": variant, "iteration": int(step), "kind": "histogram",
            "data": json.dumps(data, sort_keys=True), "timestamp": float(wall)}


def read_run(folder: Path, logdir: Path, project: str | None) -> SourceRun:
    event_accumulator, tensor_util = _reader()
    files = event_files(folder)
    guidance = {event_accumulator.SCALARS: 0, event_accumulator.IMAGES: 0, event_accumulator.HISTOGRAMS: 0,
                event_accumulator.TENSORS: 0, event_accumulator.COMPRESSED_HISTOGRAMS: 0,
                event_accumulator.AUDIO: 0}
    accumulator = event_accumulator.EventAccumulator(str(folder), size_guidance=guidance)
    accumulator.Reload()
    tags = accumulator.Tags()
    missing: list[str] = []
    notes: list[str] = [f"status Completed: {STATUS_REASON[len('Inferred: '):]}"]
    walls: list[float] = []
    scalars = {}
    samples: list[dict[str, Any]] = []
    plots: list[dict[str, Any]] = []
    console: list[tuple[float, str, str]] = []

    def add_scalar(tag: str, events: list[tuple[int, float, float]]) -> None:
        if not events:
            return
        array = np.array(events, dtype=np.float64)
        scalars[split_tag(tag)] = (array[:, 0].astype(np.int64), array[:, 1], array[:, 2])
        walls.extend((float(array[:, 2].min()), float(array[:, 2].max())))

    images_at: dict[tuple[str, int], int] = {}

    def add_image(tag: str, step: int, wall: float, data: bytes) -> None:
        # Several images of one tag and step (max_outputs > 1, or logged twice) get their own files.
        index = images_at[(tag, step)] = images_at.get((tag, step), -1) + 1
        content_type, suffix = _image_type(data)
        metric, variant = split_tag(tag)
        samples.append({"metric": metric, "variant": variant, "iteration": int(step), "timestamp": float(wall),
                        "data": data, "content_type": content_type, "file_name": f"{index}{suffix}"})
        walls.append(float(wall))

    for tag in tags.get("scalars", []):
        add_scalar(tag, [(e.step, e.value, e.wall_time) for e in accumulator.Scalars(tag)])
    for tag in tags.get("images", []):
        for event in accumulator.Images(tag):
            add_image(tag, event.step, event.wall_time, bytes(event.encoded_image_string))
    for tag in tags.get("histograms", []):
        for event in accumulator.Histograms(tag):
            h = event.histogram_value
            # Bucket i holds the values up to bucket_limit[i] (bucket 0 from -inf, the last to DBL_MAX):
            # edges are clipped to the data's range so the plot has finite, ordered bins.
            edges = np.clip(np.array([h.min] + list(h.bucket_limit), np.float64), h.min, h.max).tolist()
            plots.append(_histogram_plot(tag, event.step, event.wall_time, edges[:-1], edges[1:], list(h.bucket)))
            walls.append(float(event.wall_time))
    skipped: dict[str, int] = {}
    for tag in tags.get("tensors", []):
        plugin = accumulator.SummaryMetadata(tag).plugin_data.plugin_name
        events = accumulator.Tensors(tag)
        if plugin == "scalars":
            add_scalar(tag, [(e.step, float(tensor_util.make_ndarray(e.tensor_proto).item()), e.wall_time)
                             for e in events])
        elif plugin == "images":
            for event in events:
                # TF2 image summaries: [width, height, image bytes...]
                for data in event.tensor_proto.string_val[2:]:
                    add_image(tag, event.step, event.wall_time, bytes(data))
        elif plugin == "histograms":
            for event in events:
                array = tensor_util.make_ndarray(event.tensor_proto)
                if array.ndim == 2 and array.shape[1] == 3 and len(array):
                    plots.append(_histogram_plot(tag, event.step, event.wall_time, array[:, 0].tolist(),
                                                 array[:, 1].tolist(), array[:, 2].tolist()))
                    walls.append(float(event.wall_time))
        elif plugin == "text":
            for event in events:
                array = tensor_util.make_ndarray(event.tensor_proto)
                texts = [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                         for v in np.asarray(array).reshape(-1).tolist()]
                name = tag[:-len("/text_summary")] if tag.endswith("/text_summary") else tag
                for text in texts:
                    for line in text.split("\n"):
                        console.append((float(event.wall_time), "info", f"[{name} step {event.step}] {line}"))
                walls.append(float(event.wall_time))
        else:
            skipped[plugin or "unknown"] = skipped.get(plugin or "unknown", 0) + 1
    for plugin, count in sorted(skipped.items()):
        notes.append(f"{count} tag(s) of the {plugin!r} plugin not imported")
    if tags.get("audio"):
        notes.append(f"{len(tags['audio'])} audio tag(s) not imported")
    console.sort(key=lambda row: row[0])
    relative = folder.relative_to(logdir).as_posix()
    name = logdir.name if relative == "." else relative
    return SourceRun(
        source=SOURCE, source_id=f"{relative}/{files[0].name}", project=project or logdir.resolve().name or "TensorBoard",
        name=name, status=st.COMPLETED, status_reason=STATUS_REASON,
        created=min(walls) if walls else None, started=min(walls) if walls else None,
        completed=max(walls) if walls else None, last_update=max(walls) if walls else None,
        parameters={"properties": {"tensorboard_run": {"value": name, "description": "folder in the log directory"}}},
        scalars=scalars, plots=plots, debug_samples=samples, console=console, missing=missing, notes=notes)


def import_tensorboard(location: str | Path, *, project: str | None = None, on_progress=None) -> ImportReport:
    """Import every run under the log directory ``location``."""
    _reader()
    logdir = Path(location).expanduser()
    folders = find_runs(logdir)

    def runs() -> Iterator[SourceRun | Exception]:
        for folder in folders:
            try:
                yield read_run(folder, logdir, project)
            except Exception as exc:  # a damaged event file costs its run, not the import
                yield SourceError(f"{folder}: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}")
    return import_runs(runs(), source=SOURCE, location=str(logdir), total=len(folders), on_progress=on_progress)
