"""``task.get_logger()``: scalars, single values, text, plots and debug images.

Plots are stored in ``Plot.data`` as JSON (``Plot.metric`` = title,
``Plot.variant`` = series, ``Plot.kind`` = the ``kind`` below). Every object
has ``kind``, ``title``, ``variant`` (the reported series name) and optional ``xaxis``/``yaxis``/``comment``
strings, plus per kind:

``line`` / ``scatter``
    ``{"mode": "lines"|"markers"|"lines+markers",
       "series": [{"name": str, "x": [float], "y": [float], "labels": [str] | null}]}``
``bar`` / ``histogram`` (``report_vector`` / ``report_histogram``: the values are bar heights)
    ``{"series": [{"name": str, "x": [str|float], "y": [float]}]}``
``table``
    ``{"columns": [str], "rows": [[cell, ...], ...]}`` (row-major; cells are str/float/int/null)
``confusion``
    ``{"matrix": [[float]] (rows = y, columns = x), "xlabels": [str] | null, "ylabels": [str] | null,
       "yaxis_reversed": bool}``

``plotly`` / ``surface`` / ``scatter3d`` (``report_plotly``, ``report_surface``, ``report_scatter3d``)
    Plotly JSON as the reference stores every plot: ``{"data": [trace, ...], "layout": {...}}``.

Non-finite floats are written as ``null`` so the text is strict JSON.
Debug samples are files under the storage root
(``<experiment folder>/debug/<title>/<series>/<iteration>.<ext>``; a numpy image is
written as PNG, a file or a PIL image keeps its format), recorded as ``DebugSample.path``.
"""
from __future__ import annotations

import json
import logging
import math
import mimetypes
import shutil
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from exptable_desktop.core.recording import NAME_MAX_CHARS, storable_name, storable_text
from exptable_desktop.sdk.png import write_png
from exptable_desktop.store.files import safe_component

_now = time.time
_LEVELS = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warning", logging.ERROR: "error",
           logging.CRITICAL: "error"}
_INT64_MIN, _INT64_MAX = -2**63, 2**63 - 1
# Names given to report_scalar, as recorded; cleared when a script invents names without end.
_NAME_CACHE_SIZE = 10_000


def _iteration(value: Any) -> int:
    iteration = int(value)
    if not _INT64_MIN <= iteration <= _INT64_MAX:
        raise ValueError(f"iteration {iteration} is outside the 64-bit integer range")
    return iteration


def _clean(value: Any, plotly: bool = False) -> Any:
    """JSON-safe: numpy to Python, NaN/inf to None, other objects as text. With ``plotly`` (a figure's
    parts) dicts are kept, dates become ISO text and pandas Series / Index become lists."""
    if plotly and isinstance(value, dict):
        return {str(k): _clean(v, plotly) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_clean(v, plotly) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if plotly:
        if hasattr(value, "isoformat"):
            return value.isoformat()
        if hasattr(value, "tolist"):  # pandas Series / Index
            return _clean(value.tolist(), plotly)
    return str(value)


def plotly_json(figure: Any) -> dict:
    """``figure`` (a dict, or a plotly ``Figure`` without needing plotly here) as a Plotly JSON dict."""
    if hasattr(figure, "to_plotly_json"):
        figure = figure.to_plotly_json()
    elif hasattr(figure, "to_dict") and not isinstance(figure, dict):
        figure = figure.to_dict()
    if not isinstance(figure, dict):
        raise TypeError(f"report_plotly takes a dict or a plotly Figure, not {type(figure).__name__}")
    data = figure.get("data", [])
    if isinstance(data, (dict,)) or not isinstance(data, (list, tuple)):
        data = [data]
    return {"data": _clean(list(data), plotly=True), "layout": _clean(dict(figure.get("layout") or {}), plotly=True)}


def _layout(title: str, comment: str | None, axes: dict[str, str | None], scene: bool = False) -> dict:
    layout: dict[str, Any] = {"title": {"text": str(title)}}
    axis_titles = {name: {"title": {"text": str(text)}} for name, text in axes.items() if text}
    if scene:
        layout["scene"] = axis_titles
    else:
        layout.update(axis_titles)
    if comment:
        layout["annotations"] = [{"text": str(comment), "showarrow": False}]
    return layout


def _merged(layout: dict, extra_layout: Any) -> dict:
    if isinstance(extra_layout, dict):
        layout = {**layout, **_clean(extra_layout, plotly=True)}
    return layout


def _encode_pil(image) -> tuple[bytes, str]:
    """A PIL image as (bytes, extension): a JPEG re-saved with its own quantisation ("keep"), so it stays
    about the size it was; PNG, GIF and WebP in their own format; anything else as PNG."""
    import io

    buffer = io.BytesIO()
    kind = (getattr(image, "format", None) or "").upper()
    if kind == "JPEG":
        try:
            image.save(buffer, format="JPEG", quality="keep")
            return buffer.getvalue(), ".jpg"
        except (ValueError, OSError):
            buffer = io.BytesIO()
    if kind in ("GIF", "WEBP"):
        image.save(buffer, format=kind)
        return buffer.getvalue(), f".{kind.lower()}"
    image.save(buffer, format="PNG")
    return buffer.getvalue(), ".png"


def _read_csv_url(url: str):
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("report_table(url=...) reads the CSV with pandas: pip install pandas") from None
    from exptable_desktop.sdk.storage import StorageManager, scheme

    source = str(url)
    if scheme(source) not in ("", "http", "https"):
        source = StorageManager.get_local_copy(source, extract_archive=False)
    elif source.startswith("file://"):
        from exptable_desktop.sdk.storage import local_path

        source = str(local_path(source))
    return pd.read_csv(source)


def reporting_logger(task) -> "Logger":
    """A Logger reporting into an experiment read with ``Task.get_task`` (the reference lets a testing script
    report into its training run). Its writer runs until the process exits."""
    import atexit

    from exptable_desktop.sdk.reporter import Reporter

    class _OtherRunReporter(Reporter):
        @staticmethod
        def _aborted(result: dict) -> bool:
            return False  # that experiment's status is not this process's to follow

    reporter = _OtherRunReporter(task.id, warn=task._warn)
    task._reporter = reporter
    reporter.start()
    atexit.register(reporter.stop)
    return Logger(task)


class Logger:
    """Reports go to the task's in-memory buffer; nothing here waits for the database."""

    def __init__(self, task):
        self._task = task
        self._reporter = task._reporter
        self._names: dict[str, str] = {}

    @classmethod
    def current_logger(cls) -> "Logger | None":
        from exptable_desktop.sdk.task import Task

        task = Task.current_task()
        return task.get_logger() if task is not None else None

    # ---- scalars -------------------------------------------------------------------

    def report_scalar(self, title: str, series: str, value: float, iteration: int) -> None:
        # The hot path: two dict hits for names already seen, and one len() for the buffer's bound.
        names = self._names
        try:
            title = names[title]
            series = names[series]
        except (KeyError, TypeError):
            title, series = self._name(title, "title"), self._name(series, "series")
        iteration = int(iteration)
        if iteration > 9223372036854775807 or iteration < -9223372036854775808:  # int64, as literals: cheapest
            raise ValueError(f"iteration {iteration} is outside the 64-bit integer range")
        reporter = self._reporter
        scalars = reporter.scalars
        scalars.extend((title, series, iteration, float(value), _now()))
        if len(scalars) > reporter.room:
            reporter.make_room()

    def _name(self, value: Any, what: str) -> str:
        """``value`` as recorded (see ``recording.storable_name``); says once when that changes it."""
        name = storable_name(value)
        if type(value) is str:  # only text as a key: 1, 1.0 and True are one key but three names
            if name != value:
                changes = [change for change, applies in (
                    ("without its NUL characters", "\0" in value),
                    (f"cut to its first {NAME_MAX_CHARS} characters", len(value.replace("\0", "")) > NAME_MAX_CHARS),
                ) if applies] or ["with its unencodable characters replaced"]
                shown = value[:60] + ("..." if len(value) > 60 else "")
                self._task._warn(f"exptable: {what} {shown!r} is recorded {' and '.join(changes)}")
            if len(self._names) >= _NAME_CACHE_SIZE:
                self._names.clear()
            self._names[value] = name
        return name

    def report_single_value(self, name: str, value: float) -> None:
        self._reporter.single_values.append((self._name(name, "name"), float(value)))

    def report_text(self, msg: str, level: int = logging.INFO, print_console: bool = True, *args, **_) -> None:
        text = str(msg)
        level_name = _LEVELS.get(level, "info") if isinstance(level, int) else str(level).lower()
        if print_console:
            # Straight to the terminal: through sys.stdout the console capture would record it twice.
            stream = self._task._original_stream("stderr" if level_name == "error" else "stdout")
            stream.write(text + "\n")
            stream.flush()
        level_name = storable_text(level_name)[:16]
        now = time.time()
        for line in text.split("\n"):
            self._reporter.console.append((now, level_name, storable_text(line)))

    # ---- plots ---------------------------------------------------------------------

    def _plot(self, kind: str, title: str, series: str, iteration: int | None, body: dict,
              xaxis=None, yaxis=None, comment=None) -> None:
        title, series = self._name(title, "title"), self._name(series, "series")
        data = {"kind": kind, "title": title, "variant": series}
        for key, value in (("xaxis", xaxis), ("yaxis", yaxis), ("comment", comment)):
            if value:
                data[key] = str(value)
        data.update(body)
        # Serialised here, so a plot that is not JSON fails at the call, and the buffer knows its size.
        self._reporter.plots.append({"metric": title, "variant": series,
                                     "iteration": _iteration(iteration or 0), "kind": kind,
                                     "data": json.dumps(data), "timestamp": time.time()})

    def report_histogram(self, title: str, series: str, values: Sequence[float], iteration: int | None = None,
                         labels: Sequence[str] | None = None, xlabels: Sequence[str] | None = None,
                         xaxis: str | None = None, yaxis: str | None = None, mode: str | None = None,
                         data_args=None, extra_layout=None) -> None:
        self._bars("histogram", title, series, values, iteration, labels, xlabels, xaxis, yaxis)

    def report_vector(self, title: str, series: str, values: Sequence[float], iteration: int | None = None,
                      labels: Sequence[str] | None = None, xlabels: Sequence[str] | None = None,
                      xaxis: str | None = None, yaxis: str | None = None, mode: str | None = None,
                      extra_layout=None) -> None:
        self._bars("bar", title, series, values, iteration, labels, xlabels, xaxis, yaxis)

    def _bars(self, kind, title, series, values, iteration, labels, xlabels, xaxis, yaxis) -> None:
        array = np.asarray(values, dtype=np.float64)
        rows = array.reshape(len(array), -1) if array.ndim > 0 else array.reshape(1, 1)
        x = _clean(list(xlabels)) if xlabels is not None else list(range(rows.shape[0]))
        names = list(labels) if labels is not None else [str(series)] * rows.shape[1]
        body = {"series": [{"name": str(names[j] if j < len(names) else series), "x": x,
                            "y": _clean(rows[:, j])} for j in range(rows.shape[1])]}
        self._plot(kind, title, series, iteration, body, xaxis, yaxis)

    def report_scatter2d(self, title: str, series: str, scatter, iteration: int | None = None,
                         xaxis: str | None = None, yaxis: str | None = None,
                         labels: Sequence[str] | None = None, mode: str = "lines", comment: str | None = None,
                         extra_layout=None) -> None:
        points = np.asarray(scatter, dtype=np.float64).reshape(-1, 2)
        body = {"mode": mode, "series": [{"name": str(series), "x": _clean(points[:, 0]), "y": _clean(points[:, 1]),
                                          "labels": list(map(str, labels)) if labels is not None else None}]}
        self._plot("scatter", title, series, iteration, body, xaxis, yaxis, comment)

    def report_line_plot(self, title: str, series: Sequence, xaxis: str, yaxis: str, mode: str = "lines",
                         iteration: int | None = None, reverse_xaxis: bool = False, comment: str | None = None,
                         extra_layout=None) -> None:
        """``series``: SeriesInfo-like objects (``name``, ``data`` Nx2, ``labels``) or dicts with those keys."""
        out = []
        for item in series:
            get = item.get if isinstance(item, dict) else (lambda k, d=None, o=item: getattr(o, k, d))
            points = np.asarray(get("data"), dtype=np.float64).reshape(-1, 2)
            labels = get("labels")
            out.append({"name": str(get("name", "")), "x": _clean(points[:, 0]), "y": _clean(points[:, 1]),
                        "labels": list(map(str, labels)) if labels is not None else None})
        body = {"mode": mode, "series": out, "reverse_xaxis": bool(reverse_xaxis)}
        self._plot("line", title, title, iteration, body, xaxis, yaxis, comment)

    def report_table(self, title: str, series: str, iteration: int | None = None, table_plot=None,
                     csv: str | None = None, url: str | None = None, extra_layout=None, extra_data=None) -> None:
        """Rows (the first is the header), a DataFrame, a CSV file (``csv``) or a CSV at ``url`` (read with pandas)."""
        if table_plot is None and csv is None and url is not None:
            table_plot = _read_csv_url(url)
        if table_plot is None and csv is not None:
            import csv as csv_module
            with open(csv, newline="", encoding="utf-8") as handle:
                table_plot = list(csv_module.reader(handle))
        if table_plot is None:
            raise ValueError("report_table needs table_plot (rows or a DataFrame), csv or url")
        if hasattr(table_plot, "columns") and hasattr(table_plot, "itertuples"):
            columns = [str(table_plot.index.name or "")] + [str(c) for c in table_plot.columns]
            rows = [[_clean(v) for v in row] for row in table_plot.itertuples(index=True, name=None)]
        else:
            all_rows = [list(r) for r in table_plot]
            columns = [str(c) for c in all_rows[0]] if all_rows else []
            rows = [[_clean(v) for v in r] for r in all_rows[1:]]
        self._plot("table", title, series, iteration, {"columns": columns, "rows": rows})

    def report_confusion_matrix(self, title: str, series: str, matrix, iteration: int | None = None,
                                xaxis: str | None = None, yaxis: str | None = None,
                                xlabels: Sequence[str] | None = None, ylabels: Sequence[str] | None = None,
                                yaxis_reversed: bool = False, comment: str | None = None,
                                extra_layout=None) -> None:
        array = np.asarray(matrix, dtype=np.float64)
        if array.ndim != 2:
            raise ValueError(f"a confusion matrix must be 2-D, got shape {array.shape}")
        body = {"matrix": _clean(array), "xlabels": list(map(str, xlabels)) if xlabels is not None else None,
                "ylabels": list(map(str, ylabels)) if ylabels is not None else None,
                "yaxis_reversed": bool(yaxis_reversed)}
        self._plot("confusion", title, series, iteration, body, xaxis, yaxis, comment)

    report_matrix = report_confusion_matrix

    def report_matplotlib_figure(self, title: str, series: str, figure, iteration: int | None = None,
                                 report_image: bool = False, report_interactive: bool = True) -> None:
        """A matplotlib Figure (or pyplot): vector data when simple, else a PNG debug sample."""
        from exptable_desktop.sdk.bindings.matplotlib_bind import report_matplotlib_figure

        report_matplotlib_figure(self, title, series, figure, iteration, report_image, report_interactive)

    # ---- plotly figures -------------------------------------------------------------

    def report_plotly(self, title: str, series: str, figure: Any, iteration: int | None = None) -> None:
        """A Plotly figure (a dict with "data" and "layout", or a plotly ``Figure``), stored as Plotly JSON."""
        self._plot_figure("plotly", title, series, iteration, plotly_json(figure))

    def report_surface(self, title: str, series: str, matrix, iteration: int | None = None,
                       xaxis: str | None = None, yaxis: str | None = None, zaxis: str | None = None,
                       xlabels: Sequence[str] | None = None, ylabels: Sequence[str] | None = None,
                       camera=None, comment: str | None = None, extra_layout=None) -> None:
        array = np.asarray(matrix, dtype=np.float64)
        if array.ndim != 2:
            raise ValueError(f"a surface must be a 2-D matrix, got shape {array.shape}")
        trace: dict[str, Any] = {"type": "surface", "name": str(series), "z": _clean(array)}
        if xlabels is not None:
            trace["x"] = _clean(list(xlabels))
        if ylabels is not None:
            trace["y"] = _clean(list(ylabels))
        layout = _layout(title, comment, {"xaxis": xaxis, "yaxis": yaxis, "zaxis": zaxis}, scene=True)
        if camera is not None:
            layout.setdefault("scene", {})["camera"] = _clean(camera, plotly=True)
        self._plot_figure("surface", title, series, iteration, {"data": [trace], "layout": _merged(layout, extra_layout)})

    def report_scatter3d(self, title: str, series: str, scatter, iteration: int | None = None,
                         xaxis: str | None = None, yaxis: str | None = None, zaxis: str | None = None,
                         labels: Sequence[str] | None = None, mode: str = "markers", fill: bool = False,
                         comment: str | None = None, extra_layout=None) -> None:
        """Points (N x 3), or a list of such arrays (one trace each, as the reference)."""
        groups = scatter if isinstance(scatter, (list, tuple)) and scatter and np.ndim(scatter[0]) == 2 else [scatter]
        traces = []
        for index, group in enumerate(groups):
            points = np.asarray(group, dtype=np.float64).reshape(-1, 3)
            trace = {"type": "scatter3d", "mode": mode, "name": str(series) if len(groups) == 1 else f"{series} {index}",
                     "x": _clean(points[:, 0]), "y": _clean(points[:, 1]), "z": _clean(points[:, 2])}
            if labels is not None:
                trace["text"] = list(map(str, labels))
            if fill:
                trace["surfaceaxis"] = 2
            traces.append(trace)
        layout = _layout(title, comment, {"xaxis": xaxis, "yaxis": yaxis, "zaxis": zaxis}, scene=True)
        self._plot_figure("scatter3d", title, series, iteration, {"data": traces, "layout": _merged(layout, extra_layout)})

    def _plot_figure(self, kind: str, title: str, series: str, iteration: int | None, figure: dict) -> None:
        title, series = self._name(title, "title"), self._name(series, "series")
        self._reporter.plots.append({"metric": title, "variant": series, "iteration": _iteration(iteration or 0),
                                     "kind": kind, "data": json.dumps(figure), "timestamp": time.time()})

    # ---- debug samples ------------------------------------------------------------

    def report_image(self, title: str, series: str, iteration: int | None = None, local_path: str | None = None,
                     image=None, matrix=None, max_image_history: int | None = None,
                     delete_after_upload: bool = False, url: str | None = None) -> None:
        """An image from a file (its bytes kept as they are), a numpy array (PNG) or a PIL image (in its
        own format: a JPEG stays a JPEG), or a URL recorded as it is."""
        iteration = _iteration(iteration or 0)
        self._history_not_applied(max_image_history)
        if image is None and matrix is not None:
            image = matrix
        if url is not None:
            self._sample(title, series, iteration, url, mimetypes.guess_type(url)[0] or "image/png")
        elif local_path is not None:
            self._copy_sample(title, series, iteration, local_path, delete_after_upload, "report_image")
        elif image is not None:
            folder = self._sample_folder(title, series)
            if not isinstance(image, np.ndarray) and hasattr(image, "save") and hasattr(image, "mode"):
                data, extension = _encode_pil(image)
                target = folder / f"{iteration:08d}{extension}"
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
                content_type = mimetypes.guess_type(target.name)[0] or "image/png"
            else:
                target = folder / f"{iteration:08d}.png"
                write_png(target, np.asarray(image))
                content_type = "image/png"
            self._sample(title, series, iteration, str(target), content_type)
        else:
            raise ValueError("report_image needs local_path, image or url")

    def report_media(self, title: str, series: str, iteration: int | None = None, local_path: str | None = None,
                     stream=None, file_extension: str | None = None, max_history: int | None = None,
                     delete_after_upload: bool = False, url: str | None = None) -> None:
        """Any file (audio, video, HTML...) as a debug sample: a file copied, a stream (bytes or text,
        e.g. ``io.BytesIO``) stored with ``file_extension``, or a URL recorded as it is."""
        iteration = _iteration(iteration or 0)
        self._history_not_applied(max_history)
        if url is not None:
            self._sample(title, series, iteration, url, mimetypes.guess_type(url)[0] or "application/octet-stream")
        elif local_path is not None:
            self._copy_sample(title, series, iteration, local_path, delete_after_upload, "report_media")
        elif stream is not None:
            data = stream.read() if hasattr(stream, "read") else stream
            if isinstance(data, str):
                data = data.encode("utf-8")
            if not isinstance(data, (bytes, bytearray, memoryview)):
                raise TypeError(f"report_media: the stream gave {type(data).__name__}, not bytes or text")
            extension = file_extension or Path(str(getattr(stream, "name", "") or "")).suffix or ".bin"
            extension = extension if extension.startswith(".") else f".{extension}"
            target = self._sample_folder(title, series) / f"{iteration:08d}{safe_component(extension.lower())}"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(bytes(data))
            self._sample(title, series, iteration, str(target),
                         mimetypes.guess_type(target.name)[0] or "application/octet-stream")
        else:
            raise ValueError("report_media needs local_path, stream or url")

    def _sample_folder(self, title: str, series: str) -> Path:
        return self._task._storage_folder() / "debug" / safe_component(title) / safe_component(series)

    def _copy_sample(self, title, series, iteration: int, local_path, delete_after_upload: bool, what: str) -> None:
        source = Path(local_path)
        if not source.is_file():
            raise FileNotFoundError(f"{what}: no file {local_path}")
        target = self._sample_folder(title, series) / f"{iteration:08d}{source.suffix.lower() or '.png'}"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        if delete_after_upload:
            source.unlink()
        self._sample(title, series, iteration, str(target),
                     mimetypes.guess_type(target.name)[0] or "application/octet-stream")

    def _sample(self, title, series, iteration: int, path: str, content_type: str) -> None:
        self._reporter.debug_samples.append({"metric": self._name(title, "title"),
                                             "variant": self._name(series, "series"), "iteration": iteration,
                                             "path": storable_text(str(path)),
                                             "content_type": content_type[:64], "timestamp": time.time()})

    def _history_not_applied(self, limit: int | None) -> None:
        if limit is not None and not getattr(self, "_history_warned", False):
            self._history_warned = True
            self._task._warn("exptable: max_image_history/max_history is not applied: every debug sample is kept "
                             "(one file per title, series and iteration)")

    # ---- flushing -----------------------------------------------------------------

    def flush(self, wait: bool = False) -> bool:
        if wait:
            return self._reporter.flush() is not None
        self._reporter.request_flush()
        return True

    def set_flush_period(self, period: float) -> None:
        self._reporter.flush_period = max(0.05, float(period))

    def get_flush_period(self) -> float:
        return self._reporter.flush_period
