"""What the details panel reads, without Qt: one experiment's sections, its
outputs in the shapes the tabs draw, cheap "what changed" polls for live
following, and the formats of feature inventory 5.6.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
from peewee import fn

from exptable_desktop.core import formatting
from exptable_desktop.core import states as st
from exptable_desktop.core.projects import project_paths
from exptable_desktop.core.plotly_figures import normalize_plotly, numbers as _plot_numbers
from exptable_desktop.core.queries import tags_of
from exptable_desktop.paths import current_user
from exptable_desktop.core import editing
from exptable_desktop.store import bulk
from exptable_desktop.store.db import run_write
from exptable_desktop.store.schema import (
    Artifact,
    ConfigObject,
    ConsoleChunk,
    DebugSample,
    Execution,
    Experiment,
    HyperParam,
    MetricSummary,
    Plot,
    Queue,
    SingleValue,
    Tag,
    database_proxy,
)
from exptable_desktop.store.series import read_series_from

NOT_AVAILABLE = "N/A"
PROPERTIES = "properties"
# The reference stores Task.connect() without a name as "_legacy" and shows "General".
SECTION_LABELS = {"_legacy": "General"}


# ---- Formats (feature inventory 5.6) ------------------------------------------------

def format_datetime(ts: float | None) -> str:
    """``MMM d yyyy H:mm`` (the table's tooltip format); N/A when unknown, as INFO shows it."""
    return formatting.exact_date(ts) or NOT_AVAILABLE


def format_duration(seconds: float | None) -> str:
    return NOT_AVAILABLE if seconds is None else formatting.compact_duration(seconds)


def format_size(size: int | None) -> str:
    if size is None:
        return NOT_AVAILABLE
    value = float(size)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if value < 1024 or unit == "TB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def format_ago(ts: float | None, now: float | None = None) -> str:
    return formatting.relative_time(ts, now)


def format_value(value: float | None) -> str:
    """Six decimals at most, as the table's metric cells."""
    return formatting.rounded_float(value)


def section_label(section: str) -> str:
    return SECTION_LABELS.get(section, section)


# ---- The header and the live poll --------------------------------------------------

@dataclass(frozen=True)
class LiveState:
    """What a poll compares to decide what to reload; equal states mean nothing changed."""
    last_update: float
    status: str
    progress: int | None
    last_iteration: int | None


def live_state(experiment_id: str) -> LiveState | None:
    row = (Experiment.select(Experiment.last_update, Experiment.status, Experiment.progress,
                             Experiment.last_iteration)
           .where(Experiment.id == experiment_id).tuples().first())
    return LiveState(*row) if row else None


@dataclass(frozen=True)
class PollResult:
    """One poll of the panel: the experiment's live state (None: it is gone) and, only when that
    state differs from the one the panel knew, its header."""
    state: LiveState | None
    header: dict[str, Any] | None


def poll(experiment_id: str, known: LiveState | None) -> PollResult:
    """What the details panel's live poll reads (off the UI thread): one small row, and the header
    only when that row moved since ``known``."""
    state = live_state(experiment_id)
    if state is None or state == known:
        return PollResult(state, None)
    return PollResult(state, header(experiment_id))


def database_open() -> bool:
    """Whether a database is open (the panel reads its preferences only then)."""
    return database_proxy.obj is not None


def header(experiment_id: str) -> dict[str, Any] | None:
    exp = Experiment.get_or_none(Experiment.id == experiment_id)
    if exp is None:
        return None
    tag_names = tags_of([exp.id])[exp.id]
    colours = {t.name: (t.background, t.foreground) for t in Tag.select().where(Tag.name.in_(tag_names))} \
        if tag_names else {}
    return {
        "id": exp.id, "name": exp.name, "type": exp.type, "status": st.normalize_status(exp.status),
        "status_label": st.status_label(exp.status), "progress": exp.progress,
        "tags": [(t, *colours.get(t, (None, None))) for t in tag_names],
        "description": exp.description, "user": exp.user, "last_update": exp.last_update,
        "last_iteration": exp.last_iteration, "archived": exp.archived,
    }


def all_tag_names() -> list[str]:
    return [n for (n,) in Tag.select(Tag.name).order_by(Tag.name).tuples()]


# ---- INFO --------------------------------------------------------------------------

def info(experiment_id: str) -> dict[str, Any] | None:
    """The INFO tab: ``fields`` as (label, text, link-id or None) in the reference's order,
    then ``runtime`` as (key, text) for every runtime key not starting with ``_``."""
    exp = Experiment.get_or_none(Experiment.id == experiment_id)
    if exp is None:
        return None
    queue = Queue.get_or_none(Queue.id == exp.queue_id) if exp.queue_id else None
    parent = None
    if exp.parent_id:
        parent = Experiment.select(Experiment.id, Experiment.name).where(Experiment.id == exp.parent_id).first()

    def text(value) -> str:
        return NOT_AVAILABLE if value in (None, "") else str(value)

    fields = [
        ("ARCHIVED", "Yes" if exp.archived else "No", None),
        ("CHANGED AT", format_datetime(exp.status_changed), None),
        ("LAST ITERATION", text(exp.last_iteration), None),
        ("STATUS MESSAGE", text(exp.status_message), None),
        ("STATUS REASON", text(exp.status_reason), None),
        ("CREATED AT", format_datetime(exp.created), None),
        ("STARTED AT", format_datetime(exp.started), None),
        ("LAST UPDATED AT", format_datetime(exp.last_update), None),
        ("COMPLETED AT", format_datetime(exp.completed), None),
        ("RUN TIME", format_duration(exp.run_time), None),
        ("QUEUE", queue.name if queue else NOT_AVAILABLE, None),
        ("WORKER", text(exp.worker), None),
        ("CREATED BY", text(exp.user), None),
        ("PARENT TASK", f"{parent.name} ({parent.id})" if parent else text(exp.parent_id),
         parent.id if parent else None),
        ("PROJECT", project_paths().get(exp.project_id, NOT_AVAILABLE), None),
        ("ID", exp.id, None),
    ]
    try:
        runtime = json.loads(exp.runtime or "{}")
    except ValueError:
        runtime = {}
    runtime_rows = []
    for key in sorted(k for k in runtime if not str(k).startswith("_")):
        value = runtime[key]
        if isinstance(value, (dict, list)):
            shown = json.dumps(value, sort_keys=True)
        elif _is_epoch(key, value):
            shown = format_datetime(value)
        else:
            shown = text(value)
        runtime_rows.append((str(key), shown))
    return {"fields": fields, "runtime": runtime_rows, "description": exp.description}


def _is_epoch(key, value) -> bool:
    """A runtime time stamp (``started``, ``boot_time``...), shown as a date rather than seconds."""
    name = str(key).lower()
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and 1e9 < value < 1e10
            and (name.endswith(("time", "started", "_at")) or name in ("started", "created")))


# ---- EXECUTION ---------------------------------------------------------------------

EXECUTION_SECTIONS = {
    "source": ("repository", "commit", "branch", "tag", "entry_point", "working_dir", "binary"),
    "diff": ("diff",),
    "packages": ("requirements",),
    "container": ("container_image", "container_args", "container_setup"),
    "output": ("output_uri",),
}
EXECUTION_LABELS = {
    "repository": "REPOSITORY", "commit": "COMMIT ID", "branch": "BRANCH", "tag": "TAG",
    "entry_point": "SCRIPT PATH", "working_dir": "WORKING DIRECTORY", "binary": "BINARY",
    "container_image": "IMAGE", "container_args": "ARGUMENTS", "container_setup": "SETUP SHELL SCRIPT",
    "output_uri": "DESTINATION",
}
PACKAGES_EMPTY = "No packages will be installed"
PACKAGES_FROM_REPOSITORY = "Packages will be installed from repository requirements.txt"


def execution(experiment_id: str) -> dict[str, Any]:
    row = Execution.get_or_none(Execution.experiment == experiment_id)
    names = [f for f in Execution._meta.sorted_field_names if f != "experiment"]
    if row is None:
        return {f: "" for f in names}
    return {f: getattr(row, f) for f in names}


def packages_text(requirements: str | None) -> tuple[str, str | None]:
    """(text, empty-state message or None), following the reference's null vs. "" distinction."""
    if requirements is None:
        return "", PACKAGES_FROM_REPOSITORY
    if not requirements.strip():
        return "", PACKAGES_EMPTY
    return requirements, None


def status_of(experiment_id: str) -> str | None:
    return Experiment.select(Experiment.status).where(Experiment.id == experiment_id).scalar()


# ---- CONFIGURATION ---------------------------------------------------------------------

@dataclass
class Param:
    """A hyperparameter as the details panel shows it: value, and type, description and default for its tooltip."""
    name: str
    value: str
    type: str = ""
    description: str = ""
    default: str | None = None

    def tooltip(self) -> str:
        parts = []
        if self.type:
            parts.append(f"Type: {self.type}")
        if self.description:
            parts.append(f"Description: {self.description}")
        if self.default is not None:
            parts.append(f"Default: {self.default}")
        return "\n".join(parts)


def configuration(experiment_id: str) -> dict[str, Any]:
    """``properties`` (list of Param), ``sections`` {section: [Param]} sorted, ``objects`` {name: dict}."""
    sections: dict[str, list[Param]] = {}
    for p in (HyperParam.select().where(HyperParam.experiment == experiment_id)
              .order_by(HyperParam.section, HyperParam.name)):
        sections.setdefault(p.section, []).append(Param(p.name, p.value, p.type, p.description, p.default))
    properties = sections.pop(PROPERTIES, [])
    objects = {c.name: {"value": c.value, "description": c.description, "content_type": c.content_type}
               for c in ConfigObject.select().where(ConfigObject.experiment == experiment_id)
               .order_by(ConfigObject.name)}
    return {"properties": properties, "sections": dict(sorted(sections.items(), key=lambda kv: section_label(kv[0]).lower())),
            "objects": objects}


def save_parameter_section(experiment_id: str, section: str, changed: dict[str, str], removed: list[str]) -> None:
    """CONFIGURATION's Save of one section: set ``changed``, delete ``removed``, in one transaction, so
    a refused delete leaves the changes unsaved too. Raises ``editing.ReadOnlyError``,
    ``actions.ActionError`` or ``ValueError`` saying why not."""
    def work():
        if changed:
            editing.require(editing.set_hyperparams([experiment_id], section, changed))
        if removed:
            editing.require(editing.delete_hyperparams([experiment_id], section, removed))
    run_write(work)


# ---- ARTIFACTS -----------------------------------------------------------------------

def local_path(uri: str) -> str | None:
    """The local file a URI names, or None for a remote one (s3://, http://, ...)."""
    if not uri:
        return None
    if uri.startswith("file://"):
        return uri[len("file://"):]
    if re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", uri):
        return None
    return uri


def artifacts(experiment_id: str) -> dict[str, list[dict[str, Any]]]:
    """Grouped as the reference's left nav: input models, output models, other artifacts."""
    groups: dict[str, list[dict[str, Any]]] = {"INPUT MODELS": [], "OUTPUT MODELS": [], "OTHER": []}
    for a in Artifact.select().where(Artifact.experiment == experiment_id).order_by(Artifact.name):
        try:
            metadata = json.loads(a.metadata or "{}")
        except ValueError:
            metadata = {"metadata": a.metadata}
        entry = {"name": a.name, "kind": a.kind, "mode": a.mode, "uri": a.uri, "size": a.size, "hash": a.hash,
                 "content_type": a.content_type, "preview": a.preview, "metadata": metadata,
                 "created": a.created, "local_path": local_path(a.uri)}
        if a.kind == "model":
            groups["INPUT MODELS" if a.mode == "input" else "OUTPUT MODELS"].append(entry)
        else:
            groups["OTHER"].append(entry)
    return groups


# ---- CONSOLE -----------------------------------------------------------------------

def console_line_count(experiment_id: str) -> int:
    last = (ConsoleChunk.select(ConsoleChunk.first_line, ConsoleChunk.line_count)
            .where(ConsoleChunk.experiment == experiment_id).order_by(ConsoleChunk.seq.desc()).first())
    return last.first_line + last.line_count if last else 0


def console_window(experiment_id: str, start: int, count: int) -> list[tuple[str, str]]:
    """Lines ``[start, start+count)`` as (level, text).

    Seeks the chunk holding ``start`` through the (experiment, first_line)
    index, so reading the end of a million-line log costs the same as its
    beginning.
    """
    if count <= 0:
        return []
    anchor = (ConsoleChunk.select(ConsoleChunk.first_line)
              .where((ConsoleChunk.experiment == experiment_id) & (ConsoleChunk.first_line <= start))
              .order_by(ConsoleChunk.first_line.desc()).limit(1).scalar())
    lower = anchor if anchor is not None else 0
    rows = (ConsoleChunk.select(ConsoleChunk.first_line, ConsoleChunk.level, ConsoleChunk.text)
            .where((ConsoleChunk.experiment == experiment_id) & (ConsoleChunk.first_line >= lower)
                   & (ConsoleChunk.first_line < start + count))
            .order_by(ConsoleChunk.first_line).tuples())
    out: list[tuple[str, str]] = []
    end = start + count
    for first, level, text in rows:
        lines = text.split("\n")
        lo = max(0, start - first)
        hi = min(len(lines), end - first)
        out.extend((level, line) for line in lines[lo:hi])
    return out


def console_matches(experiment_id: str, pattern: re.Pattern, start_line: int = 0) -> np.ndarray:
    """Indices (>= ``start_line``) of the lines ``pattern`` finds something in, ascending."""
    found: list[int] = []
    query = (ConsoleChunk.select(ConsoleChunk.first_line, ConsoleChunk.text)
             .where((ConsoleChunk.experiment == experiment_id)
                    & (ConsoleChunk.first_line + ConsoleChunk.line_count > start_line))
             .order_by(ConsoleChunk.first_line).tuples())
    search = pattern.search
    for first, text in query:
        if not search(text):
            continue
        for i, line in enumerate(text.split("\n")):
            if first + i >= start_line and search(line):
                found.append(first + i)
    return np.asarray(found, dtype=np.int64)


def console_text(experiment_id: str) -> Iterable[str]:
    """The whole log as text pieces, chunk by chunk (for Save to file)."""
    for (text,) in (ConsoleChunk.select(ConsoleChunk.text).where(ConsoleChunk.experiment == experiment_id)
                    .order_by(ConsoleChunk.first_line).tuples()):
        yield text + "\n"


def console_hostname(experiment_id: str) -> str:
    raw = Experiment.select(Experiment.runtime).where(Experiment.id == experiment_id).scalar()
    try:
        runtime = json.loads(raw or "{}")
    except ValueError:
        return ""
    return str(runtime.get("hostname") or runtime.get("host") or "")


# ---- SCALARS -----------------------------------------------------------------------

@dataclass
class SeriesCursor:
    """How far a series has been read: the number of its points read so far.

    A point count, not a stored row: the store merges a growing series' small rows
    (``store.series``), but a point keeps its position."""
    points: int = 0


def series_since(experiment_id: str, metric: str, variant: str, cursor: SeriesCursor, *,
                 timestamps: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, SeriesCursor]:
    """Points appended since ``cursor`` (all points for a fresh cursor), and the new cursor.

    Only chunks from the cursor's on are read, so following a growing
    million-point series costs the new points, not the whole series. Without
    ``timestamps`` (an iterations axis) a third less is read, and None returned.
    """
    new = read_series_from(experiment_id, metric, variant, cursor.points, timestamps=timestamps)
    return (new.iterations, new.values, new.timestamps if timestamps else None,
            SeriesCursor(cursor.points + len(new)))


def series_counts(experiment_id: str) -> dict[tuple[str, str], int]:
    """Points per (metric, variant): a live poll compares these to know which curves grew."""
    return {(m, v): c for m, v, c in MetricSummary.select(MetricSummary.metric, MetricSummary.variant,
                                                          MetricSummary.count)
            .where(MetricSummary.experiment == experiment_id).tuples()}


def metric_values(experiment_id: str) -> list[dict[str, Any]]:
    """One row per metric/variant: first, last, min, max, mean, and whether all values are equal."""
    rows = []
    for m in (MetricSummary.select().where(MetricSummary.experiment == experiment_id)
              .order_by(MetricSummary.metric, MetricSummary.variant)):
        mean = m.total / m.finite_count if m.finite_count else None
        rows.append({"metric": m.metric, "variant": m.variant, "first": m.first, "last": m.last,
                     "min": m.min, "max": m.max, "mean": mean, "count": m.count,
                     "all_equal": m.count > 0 and m.min is not None and m.min == m.max
                     and m.finite_count == m.count})
    return rows


def single_values(experiment_id: str) -> list[tuple[str, float | None]]:
    return list(SingleValue.select(SingleValue.name, SingleValue.value)
                .where(SingleValue.experiment == experiment_id).order_by(SingleValue.name).tuples())


@dataclass
class ScalarNews:
    """What changed in an experiment's scalars since a look: its point counts, the points of the series
    that grew (iterations, values, time stamps or None, the new cursor), the metric-values rows (None
    when no count moved) and the single values."""
    counts: dict[tuple[str, str], int]
    points: dict[tuple[str, str], tuple[np.ndarray, np.ndarray, np.ndarray | None, SeriesCursor]]
    metric_rows: list[dict[str, Any]] | None
    singles: list[tuple[str, float | None]]


def scalar_news(experiment_id: str, seen: dict[tuple[str, str], tuple[SeriesCursor, int]],
                known_counts: dict[tuple[str, str], int], *, timestamps: bool) -> ScalarNews:
    """The scalars reported since a look that had read ``seen`` (per series: its cursor and how many
    points) and counted ``known_counts``. Reads only new points; plain data, so a worker thread can
    read it for the UI."""
    counts = series_counts(experiment_id)
    singles = single_values(experiment_id)
    if counts == known_counts:
        return ScalarNews(counts, {}, None, singles)
    points = {}
    for key, count in counts.items():
        cursor, have = seen.get(key, (SeriesCursor(), -1))
        if count != have:
            points[key] = series_since(experiment_id, *key, cursor, timestamps=timestamps)
    return ScalarNews(counts, points, metric_values(experiment_id), singles)


def experiment_start(experiment_id: str) -> float | None:
    return Experiment.select(Experiment.started).where(Experiment.id == experiment_id).scalar()


# ---- PLOTS -------------------------------------------------------------------------

def plot_iterations(experiment_id: str) -> list[int]:
    return [i for (i,) in Plot.select(Plot.iteration).distinct().where(Plot.experiment == experiment_id)
            .order_by(Plot.iteration).tuples()]


def latest_plots(experiment_id: str, iteration: int | None = None) -> list[dict[str, Any]]:
    """Per metric/variant, the newest sample at or before ``iteration`` (None = newest of all)."""
    query = Plot.select(Plot.metric, Plot.variant, fn.MAX(Plot.iteration)).where(Plot.experiment == experiment_id)
    if iteration is not None:
        query = query.where(Plot.iteration <= iteration)
    wanted = list(query.group_by(Plot.metric, Plot.variant).tuples())
    out = []
    for metric, variant, it in sorted(wanted):
        row = (Plot.select().where((Plot.experiment == experiment_id) & (Plot.metric == metric)
                                   & (Plot.variant == variant) & (Plot.iteration == it))
               .order_by(Plot.id.desc()).first())
        out.append({"metric": metric, "variant": variant, "iteration": it, "kind": row.kind,
                    "figure": normalize_plot(row.kind, row.data)})
    return out


def normalize_plot(kind: str, raw: str | dict) -> dict[str, Any]:
    """One shape for every plot a tab draws, whatever wrote it.

    Accepts the simple shapes ({"x","y"}, {"labels","values"}, {"bins","counts"},
    {"columns","rows"}, {"labels","matrix"}, optionally {"series": [...]}) and
    Plotly JSON ({"data": [...], "layout": {...}}). Returns a dict with "kind"
    in line | scatter | bar | histogram | table | confusion | text, plus the
    kind's fields; anything unreadable becomes "text" holding the raw JSON.
    """
    try:
        data = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {"kind": "text", "text": str(raw), "title": ""}
    if not isinstance(data, dict):
        return {"kind": "text", "text": json.dumps(data)[:100_000], "title": ""}
    kind = (kind or data.get("kind") or "").lower()
    base = {"title": str(data.get("title", "")), "xaxis": str(data.get("xaxis", data.get("xlabel", ""))),
            "yaxis": str(data.get("yaxis", data.get("ylabel", "")))}
    try:
        if "data" in data and isinstance(data["data"], list):
            return normalize_plotly(data)
        if kind in ("bar", "histogram", "vector") and "series" in data:
            # The SDK's bar and histogram: bar heights per series (sdk/logger.py).
            return {**base, "kind": "bar", "series": [
                {"name": str(s.get("name", "")), "x": [str(x) for x in (s.get("x") or range(len(s.get("y") or [])))],
                 "y": _plot_numbers(s.get("y"))} for s in data["series"]]}
        if kind in ("line", "scatter", "scatter2d", "lines"):
            markers = str(data.get("mode", "")) == "markers"
            plot_kind = "scatter" if kind.startswith("scatter") or markers else "line"
            if "series" in data:
                series = [{"name": str(s.get("name", "")), "x": _plot_numbers(s.get("x") or range(len(s.get("y") or []))),
                           "y": _plot_numbers(s.get("y"))} for s in data["series"]]
            elif "points" in data:
                points = data["points"] or []
                series = [{"name": "", "x": _plot_numbers(p[0] for p in points), "y": _plot_numbers(p[1] for p in points)}]
            else:
                ys = data.get("y") or data.get("values") or []
                series = [{"name": "", "x": _plot_numbers(data.get("x") or range(len(ys))), "y": _plot_numbers(ys)}]
            return {**base, "kind": plot_kind, "series": series}
        if kind == "bar":
            values = data.get("values", data.get("y")) or []
            labels = data.get("labels", data.get("x")) or list(range(len(values)))
            return {**base, "kind": "bar", "series": [{"name": "", "x": [str(l) for l in labels],
                                                       "y": _plot_numbers(values)}]}
        if kind in ("histogram", "hist"):
            counts = _plot_numbers(data.get("counts", data.get("values")) or [])
            bins = _plot_numbers(data.get("bins", data.get("edges")) or range(len(counts) + 1))
            if len(bins) == len(counts):
                bins = bins + [bins[-1] + (bins[-1] - bins[-2] if len(bins) > 1 else 1.0)]
            return {**base, "kind": "histogram", "bins": bins, "counts": counts}
        if kind == "table":
            columns = [str(c) for c in data.get("columns", data.get("header")) or []]
            rows = [list(r) for r in data.get("rows", data.get("cells")) or []]
            if not columns and rows:
                columns = [str(i + 1) for i in range(max(len(r) for r in rows))]
            return {**base, "kind": "table", "columns": columns, "rows": rows}
        if kind in ("confusion", "confusion_matrix", "matrix", "heatmap"):
            matrix = data.get("matrix", data.get("z")) or []
            labels = [str(l) for l in data.get("labels") or []]
            xlabels = [str(l) for l in data.get("xlabels") or labels]
            ylabels = [str(l) for l in data.get("ylabels") or labels]
            return {**base, "kind": "confusion", "matrix": [_plot_numbers(r) for r in matrix],
                    "xlabels": xlabels, "ylabels": ylabels}
    except (TypeError, ValueError, IndexError, AttributeError, KeyError):
        pass
    return {**base, "kind": "text", "text": json.dumps(data, indent=2)[:100_000]}


# ---- DEBUG SAMPLES -------------------------------------------------------------------

def debug_samples(experiment_id: str) -> list[dict[str, Any]]:
    """Every sample without its bytes: newest iteration first, then metric and variant."""
    return [{"id": i, "metric": m, "variant": v, "iteration": it, "path": p, "content_type": ct, "timestamp": ts}
            for i, m, v, it, p, ct, ts in
            DebugSample.select(DebugSample.id, DebugSample.metric, DebugSample.variant, DebugSample.iteration,
                               DebugSample.path, DebugSample.content_type, DebugSample.timestamp)
            .where(DebugSample.experiment == experiment_id)
            .order_by(DebugSample.iteration.desc(), DebugSample.metric, DebugSample.variant, DebugSample.id.desc())
            .tuples()]


def debug_sample_bytes(sample_id: int) -> bytes | None:
    """The sample's content: inline bytes, else the local file it points to; None if unreadable."""
    row = DebugSample.select(DebugSample.data, DebugSample.path).where(DebugSample.id == sample_id).first()
    if row is None:
        return None
    if row.data:
        return bytes(row.data)
    path = local_path(row.path)
    if not path:
        return None
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def debug_sample_count(experiment_id: str) -> int:
    return DebugSample.select(fn.COUNT(DebugSample.id)).where(DebugSample.experiment == experiment_id).scalar()


def plot_count(experiment_id: str) -> int:
    return Plot.select(fn.COUNT(Plot.id)).where(Plot.experiment == experiment_id).scalar()


# ---- Preferences of the panel (last tab, scalar settings) ---------------------------------

def load_preference(key: str, default: Any = None) -> Any:
    return bulk.get_preference(current_user(), key, default)


def save_preference(key: str, value: Any) -> None:
    bulk.set_preference(current_user(), key, value)
