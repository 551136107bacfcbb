"""TensorBoard: what a ``SummaryWriter`` writes is recorded too (tensorboardX and torch.utils.tensorboard).

The writers' ``FileWriter.add_event`` is wrapped, so every summary is seen
whichever ``add_*`` call made it, and the event file is still written:

- scalars (``simple_value``, or a new-style ``scalars`` tensor) -> scalars;
- images (``add_image``/``add_images``/``add_figure``/``add_video``) -> debug samples, the
  encoded bytes kept as written (PNG, or GIF for video);
- histograms -> a ``histogram`` plot per step (the PLOTS tab's slider walks the steps);
- text -> a console line ``<tag> (step N): <text>``.

Names follow the reference: a tag's last ``/`` part is the series and the rest the
title (``loss`` alone is title and series), images and text keep up to three parts
as the series; ``add_scalars(main, {name: v})`` is title ``main``, series ``name``.
Two writers (logdirs) using the same title and series are told apart by the part
of their logdir that differs. A step that starts again from the beginning (a step
counter reset each epoch) carries on from where it was, as in the reference.
Summaries store float32: a scalar is recorded as the shortest decimal that float32
holds, so ``add_scalar('lr', 0.1)`` reads back as 0.1.
"""
from __future__ import annotations

import functools
import importlib
import os
import tempfile
import threading

import numpy as np

from exptable_desktop.sdk.bindings import active_task, warn_once

TEXT_SUFFIX = "/text_summary"
_DT_FLOAT, _DT_STRING = 1, 7  # tensorflow DataType enum values in TensorProto.dtype

_guard = threading.local()  # inside add_scalars, whose own events are recorded by name
_lock = threading.RLock()
_owner: dict[tuple[str, str], str] = {}  # (title, series) -> logdir of the writer that used it first
_renamed: dict[tuple[str, str, str], tuple[str, str]] = {}
_wrap: dict[tuple[str, str], dict[str, int]] = {}


def reset() -> None:
    with _lock:
        _owner.clear()
        _renamed.clear()
        _wrap.clear()


def patch_tensorboardx(module) -> None:
    _patch(importlib.import_module("tensorboardX.writer"))


def patch_torch_tensorboard(module) -> None:
    _patch(importlib.import_module("torch.utils.tensorboard.writer"))


def _patch(writer) -> None:
    for name in ("FileWriter", "DummyFileWriter"):
        cls = getattr(writer, name, None)
        if cls is not None and "add_event" in vars(cls) and not getattr(cls.add_event, "_exptable", False):
            cls.add_event = _wrap_add_event(cls.add_event)
    summary_writer = writer.SummaryWriter
    if not getattr(summary_writer.add_scalars, "_exptable", False):
        summary_writer.add_scalars = _wrap_add_scalars(summary_writer.add_scalars)


def _wrap_add_event(original):
    @functools.wraps(original)
    def add_event(self, event, step=None, walltime=None, *args, **kwargs):
        result = original(self, event, step, walltime, *args, **kwargs)
        if not getattr(_guard, "in_add_scalars", False):
            task = active_task("tensorboard")
            if task is not None:
                try:
                    _record_event(task, _logdir(self), event, step)
                except Exception as exc:
                    warn_once("a TensorBoard summary", exc)
        return result

    add_event._exptable = True
    return add_event


def _wrap_add_scalars(original):
    @functools.wraps(original)
    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None, *args, **kwargs):
        task = active_task("tensorboard")
        if task is None:
            return original(self, main_tag, tag_scalar_dict, global_step, walltime, *args, **kwargs)
        _guard.in_add_scalars = True
        try:
            result = original(self, main_tag, tag_scalar_dict, global_step, walltime, *args, **kwargs)
        finally:
            _guard.in_add_scalars = False
        try:
            step = int(global_step or 0)
            logger = task.get_logger()
            for name, value in tag_scalar_dict.items():
                title, series = str(main_tag), str(name)
                logger.report_scalar(title, series, _float(value), _fix_step(title, series, step))
        except Exception as exc:
            warn_once("TensorBoard add_scalars", exc)
        return result

    add_scalars._exptable = True
    return add_scalars


def _logdir(writer) -> str:
    try:
        return str(writer.get_logdir())
    except Exception:
        return ""


def _float(value) -> float:
    return float(value.item() if hasattr(value, "item") else value)


def _f32(value) -> float:
    """A float32 summary value as the shortest decimal float32 holds (0.1, not 0.10000000149)."""
    single = np.float32(value)
    return float(str(single)) if np.isfinite(single) else float(single)


def _record_event(task, logdir: str, event, step) -> None:
    if not event.HasField("summary"):
        return
    step = int(event.step if step is None else step)
    logger = task.get_logger()
    for value in event.summary.value:
        kind = value.WhichOneof("value")
        plugin = value.metadata.plugin_data.plugin_name if value.HasField("metadata") else ""
        tag = value.tag
        if kind == "simple_value":
            _scalar(logger, logdir, tag, _f32(value.simple_value), step)
        elif kind == "image":
            _image(logger, logdir, tag, value.image.encoded_image_string, step)
        elif kind == "histo":
            _histogram(logger, logdir, tag, value.histo, step)
        elif kind == "tensor":
            tensor = value.tensor
            if plugin == "text" or (tensor.dtype == _DT_STRING and plugin not in ("audio",)):
                texts = [b.decode("utf-8", errors="replace") for b in tensor.string_val]
                _text(logger, tag, "\n".join(texts), step)
            elif plugin == "scalars" and tensor.dtype == _DT_FLOAT:
                numbers = list(tensor.float_val) or np.frombuffer(tensor.tensor_content, dtype=np.float32).tolist()
                if numbers:
                    _scalar(logger, logdir, tag, _f32(numbers[0]), step)


def _split(tag: str, parts: int, default_title: str, logdir: str, header: str) -> tuple[str, str]:
    pieces = tag.split("/")
    if parts > 1 and parts > len(pieces) - 1:
        parts = max(1, len(pieces) - 1)
    series = "_".join(pieces[-parts:])
    title = "_".join(pieces[:-parts]) or default_title
    key = (title, series, logdir)
    with _lock:
        if key in _renamed:
            return _renamed[key]
        first = _owner.setdefault((title, series), logdir)
        if first != logdir:
            mine, theirs = logdir.replace("\\", "/").split("/"), set(first.replace("\\", "/").split("/"))
            unique = "/".join(p for p in mine if p not in theirs) or logdir
            if header == "series_last":
                series = f"{unique}: {series}"
            elif header == "series":
                series = f"{series} :{unique}"
            else:
                title = f"{title} {unique}"
            _owner.setdefault((title, series), logdir)
        _renamed[key] = (title, series)
        return title, series


def _fix_step(title: str, series: str, step: int) -> int:
    """A step far below the last one (under 90% of it) starts a new round: it continues the count."""
    with _lock:
        state = _wrap.get((title, series))
        if state is None:
            _wrap[(title, series)] = {"last": step, "offset": 0}
            return step
        if step < state["last"] and step < 0.9 * state["last"]:
            state["offset"] += state["last"] + (1 if step <= 0 else step)
        state["last"] = step
        return step + state["offset"]


def _scalar(logger, logdir: str, tag: str, value: float, step: int) -> None:
    title, series = _split(tag, 1, tag, logdir, "series_last")
    logger.report_scalar(title, series, value, _fix_step(title, series, step))


def _image(logger, logdir: str, tag: str, data: bytes, step: int) -> None:
    title, series = _split(tag, 3, "Images", logdir, "title")
    suffix = ".gif" if data[:4] == b"GIF8" else ".jpg" if data[:2] == b"\xff\xd8" else ".png"
    handle, path = tempfile.mkstemp(prefix="exptable_tb_", suffix=suffix)
    with os.fdopen(handle, "wb") as out:
        out.write(data)
    logger.report_image(title, series, iteration=_fix_step(title, series, step), local_path=path,
                        delete_after_upload=True)


def _histogram(logger, logdir: str, tag: str, histo, step: int) -> None:
    title, series = _split(tag, 1, "Histograms", logdir, "series")
    limits = [float(v) for v in histo.bucket_limit]
    counts = [float(v) for v in histo.bucket]
    if not limits:
        return
    # bucket_limit holds right edges; TensorFlow's last one may be DBL_MAX.
    limits = [min(v, float(histo.max)) if abs(v) > 1e300 else v for v in limits]
    first = limits[0]
    width = (limits[1] - limits[0]) if len(limits) > 1 else 1.0
    low = float(histo.min) if float(histo.min) < first else first - width
    logger._plot("histogram", title, series, _fix_step(title, series, step),
                 {"bins": [low] + limits, "counts": counts})


def _text(logger, tag: str, text: str, step: int) -> None:
    if tag.endswith(TEXT_SUFFIX):
        tag = tag[:-len(TEXT_SUFFIX)]
    logger.report_text(f"{tag} (step {step}): {text}", print_console=False)
