"""Exports of a comparison, without Qt: value tables and graph data as CSV, and the whole
comparison as one self-contained HTML file (tables as HTML, plots as inline SVG drawn here).

The HTML report holds the experiments with their colours, the scalars (LAST / MIN /
MAX tables and one line chart per metric and variant), the hyperparameter diff and
the details diff. It needs no network, script or font: a browser, a mail client or
an archive shows it as written. ``exptable compare IDS --html out.html`` writes it
too (cli_compare.py).
"""
from __future__ import annotations

import csv
import html
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence, TextIO

import numpy as np

from exptable_desktop.core import compare_diff as cd
from exptable_desktop.core.compare_data import single_values
from exptable_desktop.core import details as det
from exptable_desktop.core.compare_palette import ComparedExperiment
from exptable_desktop.core.compare_stats import row_extremes
from exptable_desktop.store.series import read_series_many

SVG_WIDTH = 640
SVG_HEIGHT = 300
SVG_MARGIN_LEFT = 70
SVG_MARGIN_RIGHT = 16
SVG_MARGIN_TOP = 30
SVG_MARGIN_BOTTOM = 40
# Each curve is cut to this many points (minimum and maximum kept per bucket, so spikes survive):
# 100 curves of 10,000 points would otherwise make a chart of megabytes.
SVG_MAX_POINTS = 400
DASH_ARRAYS = {"solid": "", "dash": "6 3", "dot": "1.5 2.5", "dashdot": "6 3 1.5 3", "dashdotdot": "6 2 1.5 2 1.5 2"}
EXPORT_VERSION = 1


class ExportError(Exception):
    """An export that cannot be written (nothing to compare, unwritable file); one line."""


def experiment_header(experiment: ComparedExperiment) -> str:
    return f"{experiment.name} ({experiment.id})"


def cell_text(value) -> str:
    return "" if value is None else str(value)


def number_text(value) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return ""
    return repr(float(value))


# ---- CSV --------------------------------------------------------------------------------

def write_diff_csv(out: TextIO, experiments: Sequence[ComparedExperiment], rows: Iterable[cd.DiffRow]) -> int:
    """The DETAILS or HYPERPARAMETERS diff: section, field, differs, then one column per
    experiment (base first). Absent values are empty cells. Returns the rows written."""
    writer = csv.writer(out)
    writer.writerow(["section", "field", "differs", *[experiment_header(e) for e in experiments]])
    count = 0
    for row in rows:
        if row.kind == cd.SECTION:
            continue
        writer.writerow([row.section, row.label, "yes" if row.any_differs else "no",
                         *[cell_text(v) for v in row.values]])
        count += 1
    return count


def write_metric_values_csv(out: TextIO, experiments: Sequence[ComparedExperiment], table: cd.MetricTable,
                            which: str = "last") -> int:
    """LAST, MIN or MAX of every metric/variant: a row per series, a column per experiment."""
    slot = cd.METRIC_FIELDS.index(which)
    writer = csv.writer(out)
    writer.writerow(["metric", "variant", *[experiment_header(e) for e in experiments]])
    for (metric, variant), values in table.items():
        writer.writerow([metric, variant, *[number_text(values[e.id][slot]) if e.id in values else ""
                                            for e in experiments]])
    return len(table)


def write_axes_csv(out: TextIO, experiments: Sequence[ComparedExperiment], axes: Sequence[cd.Axis]) -> int:
    """The data behind a parallel-coordinates or scatter plot: a row per experiment, a column per axis
    (the raw value; empty where the experiment has none)."""
    writer = csv.writer(out)
    writer.writerow(["experiment", "id", *[a.label for a in axes]])
    for e in experiments:
        writer.writerow([e.name, e.id, *[axis.raw.get(e.id, "") for axis in axes]])
    return len(experiments)


def write_series_csv(out: TextIO, experiments: Sequence[ComparedExperiment],
                     keys: Sequence[tuple[str, str]]) -> int:
    """Every point of the given series: metric, variant, experiment, id, iteration, value, timestamp."""
    writer = csv.writer(out)
    writer.writerow(["metric", "variant", "experiment", "id", "iteration", "value", "timestamp"])
    count = 0
    ids = [e.id for e in experiments]
    for metric, variant in keys:
        series = read_series_many(ids, metric, variant)
        for e in experiments:
            s = series.get(e.id)
            if s is None:
                continue
            for it, value, stamp in zip(s.iterations.tolist(), s.values.tolist(), s.timestamps.tolist()):
                writer.writerow([metric, variant, e.name, e.id, it, number_text(value), repr(stamp)])
                count += 1
    return count


# ---- SVG --------------------------------------------------------------------------------

def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values inside [low, high], 1, 2, 2.5 or 5 times a power of ten apart,
    the spacing giving the number of ticks closest to ``count``."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return []
    if high <= low:
        high = low + (abs(low) or 1.0)
    power = 10 ** math.floor(math.log10((high - low) / max(count - 1, 1)))
    best: list[float] = []
    for step in (m * power for m in (0.5, 1, 2, 2.5, 5, 10)):
        first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
        digits = max(0, 2 - math.floor(math.log10(step)))
        ticks = [round(k * step, digits) + 0.0 for k in range(first, last + 1)]
        if not best or abs(len(ticks) - count) < abs(len(best) - count):
            best = ticks
    return best


def tick_text(value: float) -> str:
    if value == 0:
        return "0"
    magnitude = abs(value)
    if magnitude >= 1e5 or magnitude < 1e-3:
        return f"{value:.2e}"
    return f"{value:.6g}"


def downsample(x: np.ndarray, y: np.ndarray, max_points: int = SVG_MAX_POINTS) -> tuple[np.ndarray, np.ndarray]:
    """At most ``max_points`` points: per bucket the lowest and highest (in x order), so peaks stay."""
    n = len(x)
    if n <= max_points:
        return x, y
    buckets = max(1, max_points // 2)
    size = math.ceil(n / buckets)
    pad = buckets * size - n
    yy = np.concatenate([y, np.full(pad, np.nan)]).reshape(buckets, size)
    low = np.where(np.isnan(yy), np.inf, yy).argmin(axis=1)
    high = np.where(np.isnan(yy), -np.inf, yy).argmax(axis=1)
    base = np.arange(buckets) * size
    picks = np.unique(np.concatenate([base + np.minimum(low, high), base + np.maximum(low, high)]))
    picks = picks[picks < n]
    return x[picks], y[picks]


@dataclass
class Curve:
    """One experiment's line in an exported SVG chart: its legend name, colour, dash and points."""
    name: str
    colour: str
    dash: str
    x: np.ndarray
    y: np.ndarray


def svg_line_chart(title: str, curves: Sequence[Curve], *, x_label: str = "Iterations",
                   width: int = SVG_WIDTH, height: int = SVG_HEIGHT) -> str:
    """A line chart as an ``<svg>`` element: axes with round ticks, a grid, one polyline per curve
    (broken at NaN), each with a ``<title>`` so a browser names it on hover. No legend inside:
    the report's experiment list is the legend, so nothing covers the data."""
    esc = html.escape
    left, right = SVG_MARGIN_LEFT, width - SVG_MARGIN_RIGHT
    top, bottom = SVG_MARGIN_TOP, height - SVG_MARGIN_BOTTOM
    finite = [(c.x[np.isfinite(c.y)], c.y[np.isfinite(c.y)]) for c in curves]
    xs = [x for x, _ in finite if len(x)]
    ys = [y for _, y in finite if len(y)]
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">',
             f'<text x="{width / 2:.0f}" y="18" text-anchor="middle" class="chart-title">{esc(title)}</text>']
    if not xs:
        parts.append(f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" class="empty">'
                     f'no finite values</text></svg>')
        return "".join(parts)
    x_low, x_high = float(min(x.min() for x in xs)), float(max(x.max() for x in xs))
    y_low, y_high = float(min(y.min() for y in ys)), float(max(y.max() for y in ys))
    if x_high == x_low:
        x_low, x_high = x_low - 0.5, x_high + 0.5
    if y_high == y_low:
        pad = abs(y_low) * 0.1 or 0.5
        y_low, y_high = y_low - pad, y_high + pad
    x_ticks = nice_ticks(x_low, x_high)
    y_ticks = nice_ticks(y_low, y_high)
    y_low, y_high = min([y_low] + y_ticks), max([y_high] + y_ticks)

    def px(value: float) -> float:
        return left + (value - x_low) / (x_high - x_low) * (right - left)

    def py(value: float) -> float:
        return bottom - (value - y_low) / (y_high - y_low) * (bottom - top)

    parts.append(f'<rect x="{left}" y="{top}" width="{right - left}" height="{bottom - top}" class="plot-area"/>')
    for tick in y_ticks:
        y = py(tick)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{tick_text(tick)}</text>')
    for tick in x_ticks:
        if not (x_low <= tick <= x_high):
            continue
        x = px(tick)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{bottom}" class="grid"/>'
                     f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle" class="tick">{tick_text(tick)}</text>')
    parts.append(f'<text x="{(left + right) / 2:.0f}" y="{height - 6}" text-anchor="middle" class="axis-label">'
                 f'{esc(x_label)}</text>')
    for curve in curves:
        x, y = downsample(np.asarray(curve.x, dtype=np.float64), np.asarray(curve.y, dtype=np.float64))
        dash = DASH_ARRAYS.get(curve.dash, "")
        style = f' stroke-dasharray="{dash}"' if dash else ""
        segments: list[list[str]] = [[]]
        for xv, yv in zip(x.tolist(), y.tolist()):
            if math.isfinite(xv) and math.isfinite(yv):
                segments[-1].append(f"{px(xv):.1f},{py(yv):.1f}")
            elif segments[-1]:
                segments.append([])
        points = [s for s in segments if s]
        if not points:
            continue
        parts.append(f'<g class="curve" stroke="{esc(curve.colour)}"{style}><title>{esc(curve.name)}</title>')
        for segment in points:
            if len(segment) == 1:
                cx, cy = segment[0].split(",")
                parts.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{esc(curve.colour)}"/>')
            else:
                parts.append(f'<polyline fill="none" points="{" ".join(segment)}"/>')
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


# ---- HTML report --------------------------------------------------------------------------

REPORT_CSS = """
body { font-family: -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #1f2328;
       margin: 24px; font-size: 13px; }
h1 { font-size: 20px; margin: 0 0 4px; } h2 { font-size: 16px; margin: 28px 0 8px; border-bottom: 1px solid #d0d7de;
       padding-bottom: 4px; } h3 { font-size: 13px; margin: 16px 0 6px; color: #57606a; text-transform: uppercase; }
.meta { color: #57606a; margin: 0 0 12px; }
.scroll { overflow-x: auto; max-width: 100%; border: 1px solid #d0d7de; border-radius: 4px; }
table { border-collapse: collapse; font-size: 12px; }
th, td { border-bottom: 1px solid #eaeef2; padding: 3px 8px; text-align: left; vertical-align: top;
         white-space: pre; max-width: 320px; overflow: hidden; text-overflow: ellipsis; }
thead th { background: #f6f8fa; position: sticky; top: 0; }
th.field, td.field { position: sticky; left: 0; background: #fff; font-weight: 600; z-index: 1; min-width: 160px; }
thead th.field { background: #f6f8fa; z-index: 2; }
tr.section td { background: #eef1f5; font-weight: 700; color: #3b4350; }
tr.section td.field { background: #eef1f5; }
td.diff { background: #ffe8b3; } tr.differs td.field { background: #fff4d6; }
td.absent { color: #a0a7b1; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
td.row-min { color: #0a58ca; font-weight: 600; } td.row-max { color: #b42318; font-weight: 600; }
.swatch { display: inline-block; width: 12px; height: 12px; border-radius: 3px; vertical-align: -2px; margin-right: 6px; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
figure { margin: 0; border: 1px solid #d0d7de; border-radius: 4px; background: #fff; }
svg.chart .chart-title { font-size: 13px; font-weight: 600; fill: #343a40; }
svg.chart .tick { font-size: 10px; fill: #57606a; } svg.chart .axis-label { font-size: 11px; fill: #57606a; }
svg.chart .grid { stroke: #eaeef2; stroke-width: 1; } svg.chart .plot-area { fill: #fff; stroke: #d0d7de; }
svg.chart .curve { stroke-width: 1.4; fill: none; } svg.chart .empty { fill: #8c959f; }
"""


def _swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{html.escape(colour)}"></span>'


def _experiment_th(e: ComparedExperiment, base: bool = False) -> str:
    title = html.escape(f"{e.name} ({e.id})")
    label = ("BASE · " if base else "") + e.name
    return f'<th title="{title}">{_swatch(e.colour)}{html.escape(label)}</th>'


def diff_table_html(experiments: Sequence[ComparedExperiment], rows: Sequence[cd.DiffRow], field_title: str) -> str:
    esc = html.escape
    out = ['<div class="scroll"><table class="diff-table"><thead><tr>',
           f'<th class="field">{esc(field_title)}</th>',
           *[_experiment_th(e, n == 0) for n, e in enumerate(experiments)], "</tr></thead><tbody>"]
    for row in rows:
        if row.kind == cd.SECTION:
            note = f" ({row.diff_count} differ{'s' if row.diff_count == 1 else ''})" if row.diff_count else ""
            out.append(f'<tr class="section"><td class="field">{esc(row.label + note)}</td>'
                       f'<td colspan="{len(experiments)}"></td></tr>')
            continue
        out.append(f'<tr class="{"differs" if row.any_differs else "same"}"><td class="field">{esc(row.label)}</td>')
        for value, differs in zip(row.values, row.differs):
            classes = (["diff"] if differs else []) + (["absent"] if value is None else [])
            attr = f' class="{" ".join(classes)}"' if classes else ""
            out.append(f"<td{attr}>{esc('–' if value is None else value)}</td>")
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def metric_table_html(experiments: Sequence[ComparedExperiment], table: cd.MetricTable, which: str) -> str:
    esc = html.escape
    slot = cd.METRIC_FIELDS.index(which)
    out = ['<div class="scroll"><table class="values-table" data-values="', which, '"><thead><tr>',
           '<th class="field">METRIC / VARIANT</th>', *[_experiment_th(e) for e in experiments],
           "</tr></thead><tbody>"]
    for (metric, variant), per in table.items():
        values = [per[e.id][slot] if e.id in per else None for e in experiments]
        lows, highs = row_extremes(values)
        out.append(f'<tr><td class="field">{esc(metric)} / {esc(variant)}</td>')
        for n, value in enumerate(values):
            classes = ["num"] + (["row-min"] if n in lows else []) + (["row-max"] if n in highs else [])
            if value is None:
                classes.append("absent")
            shown = "–" if value is None else det.format_value(value)
            full = "" if value is None else f' title="{esc(repr(float(value)))}"'
            out.append(f'<td class="{" ".join(classes)}"{full}>{esc(shown)}</td>')
        out.append("</tr>")
    out.append("</tbody></table></div>")
    return "".join(out)


def html_report(experiments: Sequence[ComparedExperiment], *, hide_identical: bool = False,
                title: str | None = None, now: float | None = None) -> str:
    """The whole comparison as one HTML document (see the module's doc)."""
    if not experiments:
        raise ExportError("nothing to export: no experiments to compare")
    esc = html.escape
    ids = [e.id for e in experiments]
    count = len(experiments)
    title = title or f"Comparison of {count} experiment{'' if count == 1 else 's'}"
    stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(now if now is not None else time.time()))
    out = ["<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
           f'<meta name="generator" content="ExpTable Desktop compare report v{EXPORT_VERSION}">',
           f"<title>{esc(title)}</title><style>{REPORT_CSS}</style></head><body>",
           f"<h1>{esc(title)}</h1><p class=\"meta\">Written {esc(stamp)}. The first experiment is the base of "
           f"the diffs; highlighted cells differ from it."
           f"{' Identical rows are left out.' if hide_identical else ''}</p>"]

    out.append('<h2 id="experiments">Experiments</h2><div class="scroll"><table class="legend"><thead><tr>'
               '<th></th><th>NAME</th><th>ID</th></tr></thead><tbody>')
    for n, e in enumerate(experiments):
        out.append(f'<tr><td>{_swatch(e.colour)}</td><td>{esc(e.name)}{" (base)" if n == 0 else ""}</td>'
                   f'<td>{esc(e.id)}</td></tr>')
    out.append("</tbody></table></div>")

    metrics = cd.load_metric_values(ids)
    out.append('<h2 id="scalars">Scalars</h2>')
    if not metrics:
        out.append('<p class="meta">No scalars reported.</p>')
    for which in cd.METRIC_FIELDS:
        out.append(f"<h3>{which.upper()} values</h3>")
        if metrics:
            out.append(metric_table_html(experiments, metrics, which))
    summary = single_values(ids)
    if summary:
        out.append("<h3>Single values (summary)</h3>")
        out.append(metric_table_html(experiments, {(name, ""): {k: (v, v, v) for k, v in per.items()}
                                                   for name, per in summary.items()}, "last"))
    if metrics:
        out.append('<h3>Charts</h3><div class="charts">')
        for metric, variant in metrics:
            series = read_series_many(ids, metric, variant, timestamps=False)
            curves = [Curve(e.name, e.colour, e.dash, series[e.id].iterations.astype(np.float64),
                            series[e.id].values) for e in experiments if e.id in series]
            out.append(f'<figure data-series="{esc(metric)} / {esc(variant)}">'
                       f"{svg_line_chart(f'{metric} / {variant}', curves)}</figure>")
        out.append("</div>")

    records = cd.hyperparameter_records(cd.load_hyperparameters(ids), ids)
    out.append('<h2 id="hyperparameters">Hyperparameters</h2>')
    rows = cd.visible_rows(cd.compare_rows([records[i] for i in ids]), hide_identical)
    out.append(diff_table_html(experiments, rows, "PARAMETER") if rows else
               '<p class="meta">No hyperparameters' + (" differ." if hide_identical else ".") + "</p>")

    details = cd.load_details(ids)
    present = [e for e in experiments if e.id in details]
    out.append('<h2 id="details">Details</h2>')
    rows = cd.visible_rows(cd.compare_rows([details[e.id] for e in present]), hide_identical)
    out.append(diff_table_html(present, rows, "FIELD") if rows else '<p class="meta">Nothing differs.</p>')
    out.append("</body></html>\n")
    return "".join(out)


def write_html_report(path: str | Path, experiments: Sequence[ComparedExperiment], **options) -> Path:
    """Write the report to ``path`` through a temporary file, so a failed export leaves no half file."""
    path = Path(path).expanduser()
    text = html_report(experiments, **options)
    temporary = path.with_name(f".{path.name}.part")
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path
