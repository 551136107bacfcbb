"""matplotlib: every figure shown or saved to a file is recorded, as the reference does.

A figure with one plain axes holding lines, scatter points or bars is stored
as vector data in our plot JSON (``line``/``scatter``/``bar``/``histogram``,
see ``sdk.logger``) so the PLOTS tab draws it; anything else (several axes,
images, log or date axes, annotations, filled areas) is stored as a PNG debug
sample with series ``plot image``.

Titles and iterations follow the reference: the title is the figure's
suptitle, else its axes' title, else ``untitled NN`` (a new one per figure,
wrapping at 100). The iteration is the last one the script reported scalars
at; a script that reports none gets a counter per title (0, 1, 2, ...), so the
PLOTS tab's slider steps through successive versions of a figure. The same
title twice at one iteration becomes ``title/1``, ``title/2``...
"""
from __future__ import annotations

import functools
import importlib
import io
import os
import tempfile
import threading
from typing import Any

import numpy as np

from exptable_desktop.sdk.bindings import active_task, script_iteration, warn_once

UNTITLED_HISTORY = 100
PLOT_SERIES = "plot"
IMAGE_SERIES = "plot image"

_guard = threading.local()  # our own renders (savefig into memory) are not reports
_lock = threading.RLock()
_per_title_count: dict[str, int] = {}
_title_at_iteration: dict[str, tuple[int, int]] = {}
_untitled = [-1]


def reset() -> None:
    with _lock:
        _per_title_count.clear()
        _title_at_iteration.clear()
        _untitled[0] = -1


def _busy() -> bool:
    return getattr(_guard, "busy", False)


# ---- patches -------------------------------------------------------------------------------

def patch_figure(module) -> None:
    figure_class = module.Figure
    if getattr(figure_class.savefig, "_exptable", False):
        return
    original_savefig = figure_class.savefig
    original_show = figure_class.show

    @functools.wraps(original_savefig)
    def savefig(self, *args, **kwargs):
        result = original_savefig(self, *args, **kwargs)
        target = args[0] if args else kwargs.get("fname")
        if not _busy() and isinstance(target, (str, os.PathLike)):
            task = active_task("matplotlib")
            if task is not None:
                _auto_report(task, self)
        return result

    @functools.wraps(original_show)
    def show(self, *args, **kwargs):
        task = None if _busy() else active_task("matplotlib")
        if task is not None:
            _auto_report(task, self)
        return original_show(self, *args, **kwargs)

    savefig._exptable = show._exptable = True
    figure_class.savefig = savefig
    figure_class.show = show


def patch_pyplot(module) -> None:
    if getattr(module.show, "_exptable", False):
        return
    original_show = module.show

    @functools.wraps(original_show)
    def show(*args, **kwargs):
        task = None if _busy() else active_task("matplotlib")
        if task is not None:
            _pylab_helpers = importlib.import_module("matplotlib._pylab_helpers")

            for manager in list(_pylab_helpers.Gcf.get_all_fig_managers()):
                figure = manager.canvas.figure
                # Shown again unchanged (a non-interactive backend keeps figures open): not a new report.
                if figure.stale or not getattr(figure, "_exptable_reported", False):
                    _auto_report(task, figure)
        return original_show(*args, **kwargs)

    show._exptable = True
    module.show = show


# ---- reporting ------------------------------------------------------------------------------

def _auto_report(task, figure) -> None:
    if getattr(figure, "_exptable_explicit", False):
        return  # the script reports this figure itself (report_matplotlib_figure)
    try:
        report_figure(task.get_logger(), None, None, figure, None)
    except Exception as exc:
        warn_once("a matplotlib figure", exc)
    figure._exptable_reported = True
    if not importlib.import_module("matplotlib").is_interactive():
        # Saving leaves a figure marked changed; unchanged, the next plt.show() is not a new
        # version. Any change marks it again (an interactive backend redraws on its own).
        figure.stale = False


def report_matplotlib_figure(logger, title: str, series: str, figure: Any, iteration: int | None = None,
                             report_image: bool = False, report_interactive: bool = True) -> None:
    """``Logger.report_matplotlib_figure``: ``figure`` is a Figure or the pyplot module (its current figure)."""
    if hasattr(figure, "gcf") and not hasattr(figure, "savefig_kwargs"):
        figure = figure.gcf()
    if not hasattr(figure, "savefig") or not hasattr(figure, "axes"):
        raise TypeError(f"report_matplotlib_figure needs a matplotlib Figure or pyplot, not {type(figure).__name__}")
    figure._exptable_explicit = True
    report_figure(logger, title, series, figure, iteration, as_image=report_image)


def report_figure(logger, title: str | None, series: str | None, figure, iteration: int | None,
                  as_image: bool = False) -> None:
    plot = None if as_image else figure_to_plot(figure)
    with _lock:
        if iteration is None:
            iteration = script_iteration(logger._task)
            if title is None:
                title = _figure_title(figure)
                if title is None:
                    title = getattr(figure, "_exptable_untitled", None)
                    if title is None:  # one name per figure, kept while it changes
                        _untitled[0] += 1
                        title = figure._exptable_untitled = f"untitled {_untitled[0] % UNTITLED_HISTORY:02d}"
                elif iteration is not None:
                    title = _unique_at(title, iteration)
            if iteration is None:
                iteration = _per_title_count.get(title, 0)
                _per_title_count[title] = iteration + 1
        elif title is None:
            title = _figure_title(figure) or "untitled"
    if plot is not None:
        kind, body, xaxis, yaxis = plot
        logger._plot(kind, title, series or PLOT_SERIES, iteration, body, xaxis or None, yaxis or None)
        return
    _report_png(logger, title, series or IMAGE_SERIES, iteration, figure)


def _report_png(logger, title: str, series: str, iteration: int, figure) -> None:
    buffer = io.BytesIO()
    _guard.busy = True
    try:
        figure.savefig(buffer, format="png", bbox_inches="tight")
    finally:
        _guard.busy = False
    handle, path = tempfile.mkstemp(prefix="exptable_figure_", suffix=".png")
    with os.fdopen(handle, "wb") as out:
        out.write(buffer.getvalue())
    logger.report_image(title, series, iteration=iteration, local_path=path, delete_after_upload=True)


def _figure_title(figure) -> str | None:
    suptitle = getattr(figure, "_suptitle", None)
    if suptitle is not None and suptitle.get_text():
        return suptitle.get_text()
    for text in getattr(figure, "texts", ()):
        if text.get_text():
            return text.get_text()
    for axes in figure.axes:
        if axes.get_title():
            return axes.get_title()
    return None


def _unique_at(title: str, iteration: int) -> str:
    """The reference's rule: the n-th figure titled ``title`` at one iteration is ``title/n``."""
    seen_iteration, count = _title_at_iteration.get(title, (None, -1))
    count = count + 1 if seen_iteration == iteration else 0
    _title_at_iteration[title] = (iteration, count)
    return f"{title}/{count}" if count else title


# ---- figure -> vector data ----------------------------------------------------------------------

def figure_to_plot(figure) -> tuple[str, dict, str, str] | None:
    """(kind, body, x label, y label) for a figure simple enough to draw from its data, else None."""
    axes = [a for a in figure.axes if a.get_visible()]
    if len(axes) != 1:
        return None
    ax = axes[0]
    if (ax.name != "rectilinear" or ax.images or ax.texts or ax.tables or ax.artists
            or ax.get_xscale() != "linear" or ax.get_yscale() != "linear"):
        return None
    try:
        bars = _bars(ax)
        if bars is not None:
            kind, body = bars
        else:
            lines = _lines(ax)
            if lines is None:
                return None
            kind, body = lines
    except (TypeError, ValueError):
        return None
    return kind, body, ax.get_xlabel(), ax.get_ylabel()


def _name(artist, index: int) -> str:
    label = str(artist.get_label() or "")
    return label if label and not label.startswith("_") else f"series {index + 1}"


def _floats(values) -> list:
    array = np.asarray(np.ma.filled(np.ma.asarray(values, dtype=np.float64), np.nan), dtype=np.float64)
    return [float(v) if np.isfinite(v) else None for v in array.ravel()]


def _lines(ax) -> tuple[str, dict] | None:
    PathCollection = importlib.import_module("matplotlib.collections").PathCollection

    if ax.patches or ax.containers or ax.xaxis.get_units() is not None or ax.yaxis.get_units() is not None:
        return None
    if any(not isinstance(c, PathCollection) for c in ax.collections):
        return None
    series, modes = [], set()
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        if line.get_transform() is not ax.transData:
            return None  # axhline and friends live in axes coordinates
        xy = np.asarray(line.get_xydata(), dtype=np.float64).reshape(-1, 2)
        has_line = line.get_linestyle() not in ("None", "none", "", " ")
        has_marker = line.get_marker() not in (None, "None", "none", "", " ")
        modes.add("lines+markers" if has_line and has_marker else ("markers" if has_marker else "lines"))
        series.append({"name": _name(line, len(series)), "x": _floats(xy[:, 0]), "y": _floats(xy[:, 1]),
                       "labels": None})
    for collection in ax.collections:
        if not collection.get_visible():
            continue
        if collection.get_offset_transform() is not ax.transData:
            return None
        points = np.asarray(np.ma.filled(collection.get_offsets(), np.nan), dtype=np.float64).reshape(-1, 2)
        modes.add("markers")
        series.append({"name": _name(collection, len(series)), "x": _floats(points[:, 0]),
                       "y": _floats(points[:, 1]), "labels": None})
    if not series:
        return None
    mode = modes.pop() if len(modes) == 1 else "lines+markers"
    kind = "scatter" if mode == "markers" else "line"
    return kind, {"mode": mode, "series": series}


def _bars(ax) -> tuple[str, dict] | None:
    BarContainer = importlib.import_module("matplotlib.container").BarContainer

    if not ax.containers:
        return None
    if (ax.get_lines() or ax.collections or ax.yaxis.get_units() is not None
            or not all(isinstance(c, BarContainer) for c in ax.containers)
            or any(getattr(c, "orientation", "vertical") != "vertical" for c in ax.containers)):
        return None
    in_bars = {id(p) for c in ax.containers for p in c.patches}
    if any(id(p) not in in_bars for p in ax.patches):
        return None
    units = ax.xaxis.get_units()
    categories = {float(v): str(k) for k, v in getattr(units, "_mapping", {}).items()} if units is not None else None
    if units is not None and not categories:
        return None
    if len(ax.containers) == 1 and categories is None:
        patches = list(ax.containers[0].patches)
        lefts = [p.get_x() for p in patches]
        widths = [p.get_width() for p in patches]
        touching = all(abs(lefts[i] + widths[i] - lefts[i + 1]) <= 1e-9 * max(1.0, abs(lefts[i + 1]))
                       for i in range(len(patches) - 1))
        if patches and touching:  # plt.hist: drawn as a histogram from its bin edges
            return "histogram", {"bins": _floats(lefts + [lefts[-1] + widths[-1]]),
                                 "counts": _floats([p.get_height() for p in patches])}
    series = []
    for container in ax.containers:
        xs = []
        for patch in container.patches:
            centre = patch.get_x() + patch.get_width() / 2
            xs.append(categories.get(round(centre, 9), categories.get(float(round(centre)), f"{centre:g}"))
                      if categories is not None else f"{centre:g}")
        series.append({"name": _name(container, len(series)), "x": xs,
                       "y": _floats([p.get_height() for p in container.patches])})
    return "bar", {"series": series}
