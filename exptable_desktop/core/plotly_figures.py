"""Plotly JSON (``{"data": [trace, ...], "layout": {...}}``) as the figures the PLOTS tabs draw.

The reference SDK stores every plot as Plotly JSON, and ``report_plotly`` takes any figure, so
every trace kind may arrive. What can be drawn in 2-D is:

* ``scatter`` / ``scattergl`` traces: "line" or "scatter" (all markers); ``bar``: "bar";
  ``histogram`` (raw values): binned here, "histogram"; a mixture of these: "mixed", one
  series per trace with its ``style`` (lines, markers, lines+markers, bar, histogram);
* ``heatmap`` / ``surface`` / ``contour`` / ``histogram2d`` (a z matrix): "heatmap";
* ``scatter3d``: "scatter" seen from above (x, y), each series keeping ``z`` for its colours;
* a ``table`` trace: "table".

Anything else (pie, box, sunburst, maps...) becomes a "table" of the traces' data, so the
numbers are never hidden.
"""
from __future__ import annotations

import base64
import json
from typing import Any

import numpy as np

LINE_TRACES = {"scatter", "scattergl"}
GRID_TRACES = {"heatmap", "heatmapgl", "surface", "contour", "histogram2d", "histogram2dcontour"}
POINT_3D_TRACES = {"scatter3d"}
DATA_KEYS = ("x", "y", "z", "labels", "values", "text", "r", "theta", "lat", "lon", "open", "high", "low", "close",
             "ids", "parents", "a", "b", "c", "u", "v", "w")
TABLE_ROW_LIMIT = 10_000


def array(value: Any) -> list:
    """A trace's data array as a list, decoding Plotly's typed arrays ({"dtype", "bdata", "shape"})."""
    if isinstance(value, dict) and "bdata" in value:
        try:
            decoded = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value.get("dtype", "f8")))
            shape = value.get("shape")
            if shape:
                dims = [int(d) for d in (shape.split(",") if isinstance(shape, str) else shape)]
                decoded = decoded.reshape(dims)
            return decoded.tolist()
        except (ValueError, TypeError):
            return []
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


def numbers(seq) -> list[float]:
    out = []
    for v in seq or []:
        try:
            out.append(float(v))
        except (TypeError, ValueError):
            out.append(float("nan"))
    return out


def _title(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("text", ""))
    return "" if value is None else str(value)


def _axis_title(layout: dict, name: str) -> str:
    axis = layout.get(name) or (layout.get("scene") or {}).get(name) or {}
    return _title(axis.get("title")) if isinstance(axis, dict) else ""


def _style(trace: dict) -> str:
    kind = str(trace.get("type") or "scatter").lower()
    if kind == "bar":
        return "bar"
    if kind == "histogram":
        return "histogram"
    mode = str(trace.get("mode") or "lines")
    return "markers" if mode == "markers" else ("lines+markers" if "markers" in mode else "lines")


def _histogram(trace: dict) -> tuple[list[float], list[float]]:
    """(bin edges, counts) of a histogram trace's raw values (its ``nbinsx`` if given)."""
    values = np.asarray(numbers(array(trace.get("x")) or array(trace.get("y"))), dtype=np.float64)
    values = values[np.isfinite(values)]
    if not len(values):
        return [0.0, 1.0], [0.0]
    bins = int(trace.get("nbinsx") or 0) or "auto"
    counts, edges = np.histogram(values, bins=bins)
    return edges.tolist(), counts.astype(float).tolist()


def _grid(trace: dict, base: dict) -> dict:
    z = array(trace.get("z"))
    matrix = [numbers(array(row)) for row in z] if z and isinstance(z[0], (list, tuple, dict)) else [numbers(z)]
    return {**base, "kind": "heatmap", "z": matrix, "x": [str(v) for v in array(trace.get("x"))],
            "y": [str(v) for v in array(trace.get("y"))], "trace": str(trace.get("type") or "heatmap")}


def _series(trace: dict, index: int) -> dict:
    name = str(trace.get("name") or f"trace {index}")
    style = _style(trace)
    if style == "histogram":
        edges, counts = _histogram(trace)
        return {"name": name, "style": style, "bins": edges, "counts": counts}
    y = array(trace.get("y"))
    x = array(trace.get("x")) or list(range(len(y)))
    if style == "bar" and trace.get("orientation") == "h":
        x, y = y, x
    return {"name": name, "style": style, "x": x if style == "bar" else numbers(x), "y": numbers(y)}


def traces_table(traces: list[dict], base: dict) -> dict:
    """Every trace's data arrays as rows: trace, type, then one column per data key."""
    keys = [k for k in DATA_KEYS if any(array(t.get(k)) for t in traces)]
    rows = []
    for index, trace in enumerate(traces):
        columns = {k: array(trace.get(k)) for k in keys}
        length = max((len(v) for v in columns.values()), default=0)
        name = str(trace.get("name") or f"trace {index}")
        for i in range(length):
            if len(rows) >= TABLE_ROW_LIMIT:
                break
            cells = [columns[k][i] if i < len(columns[k]) else None for k in keys]
            rows.append([name, str(trace.get("type") or "scatter")]
                        + [json.dumps(c) if isinstance(c, (list, dict)) else c for c in cells])
    return {**base, "kind": "table", "columns": ["trace", "type", *keys], "rows": rows}


def normalize_plotly(data: dict) -> dict[str, Any]:
    traces = [t for t in data.get("data") or [] if isinstance(t, dict)]
    layout = data.get("layout") if isinstance(data.get("layout"), dict) else {}
    base = {"title": _title(layout.get("title")), "xaxis": _axis_title(layout, "xaxis"),
            "yaxis": _axis_title(layout, "yaxis")}
    if not traces:
        return {**base, "kind": "text", "text": json.dumps(data, indent=2)[:100_000]}
    kinds = [str(t.get("type") or "scatter").lower() for t in traces]
    if kinds[0] == "table":
        first = traces[0]
        header = array((first.get("header") or {}).get("values"))
        columns_major = [array(c) for c in array((first.get("cells") or {}).get("values"))]
        rows = [list(r) for r in zip(*columns_major)] if columns_major else []
        return {**base, "kind": "table", "columns": [str(h) for h in header], "rows": rows}
    grid = next((t for t, k in zip(traces, kinds) if k in GRID_TRACES), None)
    if grid is not None:
        return _grid(grid, base)
    if all(k in POINT_3D_TRACES for k in kinds):
        series = [{"name": str(t.get("name") or f"trace {i}"), "x": numbers(array(t.get("x"))),
                   "y": numbers(array(t.get("y"))), "z": numbers(array(t.get("z")))} for i, t in enumerate(traces)]
        return {**base, "kind": "scatter", "series": series, "projection": "x-y",
                "zaxis": _axis_title(layout, "zaxis")}
    if not all(k in LINE_TRACES | {"bar", "histogram"} for k in kinds):
        return traces_table(traces, base)
    series = [_series(t, i) for i, t in enumerate(traces)]
    styles = {s["style"] for s in series}
    if styles == {"bar"}:
        return {**base, "kind": "bar", "series": [{"name": s["name"], "x": s["x"], "y": s["y"]} for s in series]}
    if styles == {"histogram"} and len(series) == 1:
        return {**base, "kind": "histogram", "bins": series[0]["bins"], "counts": series[0]["counts"]}
    if styles <= {"lines", "markers", "lines+markers"}:
        markers_only = styles == {"markers"}
        return {**base, "kind": "scatter" if markers_only else "line",
                "series": [{"name": s["name"], "x": s["x"], "y": s["y"],
                            "mode": "markers" if s["style"] == "markers" else "lines"} for s in series]}
    return {**base, "kind": "mixed", "series": series}


__all__ = ["normalize_plotly", "array", "numbers", "traces_table"]
