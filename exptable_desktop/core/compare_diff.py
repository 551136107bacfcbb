"""What the compare page's DETAILS and HYPERPARAMETERS tabs compare, read in bulk, and the diff.

Reading: a handful of queries for all compared experiments together (one per
table: experiments, executions, artifacts, configuration objects, tags,
hyperparameters, metric summaries), never one per experiment or per cell.

Each experiment becomes a *record*: ``{FieldKey: value}`` where a value is a
``str`` (compared whole) or a ``tuple`` of lines (long texts: packages,
uncommitted changes, configuration objects, set-up scripts; compared line by
line). ``compare_rows`` aligns the records of several experiments into rows,
the first record being the base: a row per field, the lines of long texts
aligned to the base's lines (difflib), and per cell whether it differs from the
base (feature inventory 4.5).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Sequence

from exptable_desktop.core import details as det
from exptable_desktop.core import states as st
from exptable_desktop.core.columns import hyperparam_key
from exptable_desktop.core.projects import project_paths
from exptable_desktop.store.chunking import chunked
from exptable_desktop.store.schema import (
    Artifact,
    ConfigObject,
    Execution,
    Experiment,
    ExperimentTag,
    HyperParam,
    MetricSummary,
    Queue,
    Tag,
)

# Past this many lines a text is cut (with a closing "... N more lines"): the aligner is
# quadratic in the worst case, and nobody reads a 50,000-line diff in a table cell.
MAX_TEXT_LINES = 2000
MAX_PREVIEW_LINES = 40
ABSENT = None

SECTION = "section"
VALUE = "value"
LINE = "line"

USER_PROPERTIES = "User Properties"

# Section ranks keep the cards in the reference's order whatever fields exist.
RANK_SOURCE, RANK_DIFF, RANK_PACKAGES, RANK_CONTAINER, RANK_OUTPUT = 10, 11, 12, 13, 14
RANK_INPUT_MODELS, RANK_OUTPUT_MODELS, RANK_ARTIFACT = 20, 21, 22
RANK_CONFIG = 30
RANK_INFO, RANK_RUNTIME = 40, 41
RANK_TAGS = 50
RANK_HYPERPARAMS, RANK_PROPERTIES = 60, 61

SOURCE_FIELDS = ("repository", "commit", "branch", "tag", "entry_point", "working_dir", "binary")
CONTAINER_FIELDS = ("container_image", "container_args", "container_setup")


@dataclass(frozen=True, order=True)
class FieldKey:
    """A field's place in the aligned cards: sections by rank then title, fields by rank then label."""
    section_rank: int
    section: str
    field_rank: int
    label: str


@dataclass
class DiffRow:
    """One aligned row. ``values`` and ``differs`` are per experiment, base first.

    A section row carries no values; ``diff_count`` counts the differing rows under it.
    """
    kind: str
    section: str
    label: str
    values: tuple[str | None, ...]
    differs: tuple[bool, ...]
    diff_count: int = 0

    @property
    def any_differs(self) -> bool:
        return any(self.differs)


Record = dict  # FieldKey -> str | tuple[str, ...]


def text_lines(text: str | None, cap: int = MAX_TEXT_LINES) -> tuple[str, ...]:
    """A long text as lines, cut at ``cap`` lines (the last line says how many were left out)."""
    if not text:
        return ()
    lines = text.replace("\r\n", "\n").rstrip("\n").split("\n")
    if len(lines) > cap:
        return tuple(lines[:cap]) + (f"... {len(lines) - cap} more lines",)
    return tuple(lines)


def _text(value) -> str:
    return det.NOT_AVAILABLE if value in (None, "") else str(value)


# ---- Bulk reads ------------------------------------------------------------------------

def load_details(ids: Sequence[str]) -> dict[str, Record]:
    """The DETAILS cards of every experiment in ``ids`` (unknown ids are left out)."""
    ids = list(dict.fromkeys(ids))
    experiments = {}
    for chunk in chunked(ids):
        experiments.update({e.id: e for e in Experiment.select().where(Experiment.id.in_(chunk))})
    if not experiments:
        return {}
    found = [i for i in ids if i in experiments]
    executions, artifacts, configs, tags = {}, {i: [] for i in found}, {i: [] for i in found}, {i: [] for i in found}
    for chunk in chunked(found):
        executions.update({x.experiment_id: x for x in Execution.select().where(Execution.experiment.in_(chunk))})
        for a in Artifact.select().where(Artifact.experiment.in_(chunk)).order_by(Artifact.name):
            artifacts[a.experiment_id].append(a)
        for c in ConfigObject.select().where(ConfigObject.experiment.in_(chunk)).order_by(ConfigObject.name):
            configs[c.experiment_id].append(c)
        for exp_id, name in (ExperimentTag.select(ExperimentTag.experiment, Tag.name).join(Tag)
                             .where(ExperimentTag.experiment.in_(chunk)).tuples()):
            tags[exp_id].append(name)
    queue_ids = {e.queue_id for e in experiments.values() if e.queue_id}
    queues = dict(Queue.select(Queue.id, Queue.name).where(Queue.id.in_(list(queue_ids))).tuples()) \
        if queue_ids else {}
    parent_ids = list({e.parent_id for e in experiments.values() if e.parent_id})
    parents = {}
    for chunk in chunked(parent_ids):
        parents.update(Experiment.select(Experiment.id, Experiment.name).where(Experiment.id.in_(chunk)).tuples())
    paths = project_paths()
    return {exp_id: _details_record(experiments[exp_id], executions.get(exp_id), artifacts[exp_id],
                                    configs[exp_id], tags[exp_id], queues, parents, paths)
            for exp_id in found}


def _details_record(exp, execution, artifacts, configs, tags, queues, parents, paths) -> Record:
    record: Record = {}

    def put(rank: int, section: str, field_rank: int, label: str, value) -> None:
        record[FieldKey(rank, section, field_rank, label)] = value

    ex = execution
    for n, name in enumerate(SOURCE_FIELDS):
        put(RANK_SOURCE, "EXECUTION › SOURCE", n, det.EXECUTION_LABELS[name], str(getattr(ex, name, "") or ""))
    put(RANK_DIFF, "EXECUTION › UNCOMMITTED CHANGES", 0, "DIFF", text_lines(ex.diff if ex is not None else "") or "")
    requirements = ex.requirements if ex is not None else None
    put(RANK_PACKAGES, "EXECUTION › INSTALLED PACKAGES", 0, "ENVIRONMENT", ex.environment if ex is not None else "")
    packages, empty_message = det.packages_text(requirements)
    put(RANK_PACKAGES, "EXECUTION › INSTALLED PACKAGES", 1, "PACKAGES",
        text_lines(packages) if empty_message is None else (empty_message,))
    for n, name in enumerate(CONTAINER_FIELDS):
        value = str(getattr(ex, name, "") or "")
        put(RANK_CONTAINER, "EXECUTION › CONTAINER", n, det.EXECUTION_LABELS[name],
            text_lines(value) if name == "container_setup" and value else value)
    put(RANK_OUTPUT, "EXECUTION › OUTPUT", 0, det.EXECUTION_LABELS["output_uri"], ex.output_uri if ex is not None else "")

    for a in artifacts:
        if a.kind == "model":
            input_model = a.mode == "input"
            put(RANK_INPUT_MODELS if input_model else RANK_OUTPUT_MODELS,
                "ARTIFACTS › INPUT MODELS" if input_model else "ARTIFACTS › OUTPUT MODELS", 0, a.name, a.uri or "")
            continue
        section = f"ARTIFACTS › {a.name}"
        try:
            metadata = json.loads(a.metadata or "{}")
        except ValueError:
            metadata = a.metadata
        fields = [("FILE PATH", a.uri or ""), ("FILE SIZE", det.format_size(a.size)), ("FILE HASH", a.hash or ""),
                  ("CONTENT TYPE", a.content_type or ""),
                  ("PREVIEW", text_lines(a.preview, MAX_PREVIEW_LINES) or ""),
                  ("METADATA", text_lines(json.dumps(metadata, indent=1, sort_keys=True)) if metadata else "")]
        for n, (label, value) in enumerate(fields):
            put(RANK_ARTIFACT, section, n, label, value)

    for c in configs:
        put(RANK_CONFIG, f"CONFIGURATION › {c.name}", 0, "CONTENT", text_lines(c.value) or "")

    info = [
        ("STATUS", st.status_label(exp.status)),
        ("ARCHIVED", "Yes" if exp.archived else "No"),
        ("CHANGED AT", det.format_datetime(exp.status_changed)),
        ("LAST ITERATION", _text(exp.last_iteration)),
        ("STATUS MESSAGE", _text(exp.status_message)),
        ("STATUS REASON", _text(exp.status_reason)),
        ("CREATED AT", det.format_datetime(exp.created)),
        ("STARTED AT", det.format_datetime(exp.started)),
        ("LAST UPDATED AT", det.format_datetime(exp.last_update)),
        ("COMPLETED AT", det.format_datetime(exp.completed)),
        ("RUN TIME", det.format_duration(exp.run_time)),
        ("QUEUE", queues.get(exp.queue_id, det.NOT_AVAILABLE) if exp.queue_id else det.NOT_AVAILABLE),
        ("WORKER", _text(exp.worker)),
        ("CREATED BY", _text(exp.user)),
        ("PARENT TASK", f"{parents[exp.parent_id]} ({exp.parent_id})" if exp.parent_id in parents
         else _text(exp.parent_id)),
        ("PROJECT", paths.get(exp.project_id, det.NOT_AVAILABLE)),
        ("TYPE", exp.type),
        ("ID", exp.id),
    ]
    for n, (label, value) in enumerate(info):
        put(RANK_INFO, "GENERAL INFO", n, label, value)
    put(RANK_INFO, "GENERAL INFO", len(info), "DESCRIPTION", text_lines(exp.description) or "")
    try:
        runtime = json.loads(exp.runtime or "{}")
    except ValueError:
        runtime = {}
    if isinstance(runtime, dict):
        for key in sorted(k for k in runtime if not str(k).startswith("_")):
            value = runtime[key]
            shown = json.dumps(value, sort_keys=True) if isinstance(value, (dict, list)) else _text(value)
            put(RANK_RUNTIME, "GENERAL INFO › RUNTIME", 0, str(key), shown)

    for tag in tags:
        put(RANK_TAGS, "TAGS", 0, tag, tag)
    return record


HyperparamTable = dict  # (section, name) -> {experiment id: value}


def load_hyperparameters(ids: Sequence[str]) -> HyperparamTable:
    """Every hyperparameter (user properties included) of the experiments, in one query per 500 ids."""
    table: HyperparamTable = {}
    for chunk in chunked(dict.fromkeys(ids)):
        for exp_id, section, name, value in (HyperParam.select(HyperParam.experiment, HyperParam.section,
                                                               HyperParam.name, HyperParam.value)
                                             .where(HyperParam.experiment.in_(chunk)).tuples()):
            table.setdefault((section, name), {})[exp_id] = value
    return dict(sorted(table.items(), key=lambda kv: (_section_rank(kv[0][0]), section_title(kv[0][0]).lower(),
                                                      kv[0][1].lower(), kv[0][1])))


def section_title(section: str) -> str:
    return USER_PROPERTIES if section == det.PROPERTIES else det.section_label(section)


def _section_rank(section: str) -> int:
    return RANK_PROPERTIES if section == det.PROPERTIES else RANK_HYPERPARAMS


def hyperparameter_records(table: HyperparamTable, ids: Sequence[str]) -> dict[str, Record]:
    """The hyperparameter table as one record per experiment (for ``compare_rows``)."""
    records: dict[str, Record] = {exp_id: {} for exp_id in ids}
    for (section, name), values in table.items():
        key = FieldKey(_section_rank(section), section_title(section), 0, name)
        for exp_id, value in values.items():
            if exp_id in records:
                records[exp_id][key] = value
    return records


def differing_hyperparameters(table: HyperparamTable, ids: Sequence[str]) -> list[tuple[str, str]]:
    """(section, name) of every hyperparameter whose value is not the same in all ``ids``
    (missing in some counts as different), in the table's order; user properties included."""
    out = []
    for key, values in table.items():
        seen = {values.get(exp_id, ABSENT) for exp_id in ids}
        if len(seen) > 1:
            out.append(key)
    return out


def differing_hyperparameter_columns(table: HyperparamTable, ids: Sequence[str]) -> list[str]:
    """The experiments table's column keys (``hp:section/name``) of the differing hyperparameters."""
    return [hyperparam_key(section, name) for section, name in differing_hyperparameters(table, ids)]


MetricTable = dict  # (metric, variant) -> {experiment id: (last, min, max)}
METRIC_FIELDS = ("last", "min", "max")


def load_metric_values(ids: Sequence[str]) -> MetricTable:
    """LAST / MIN / MAX of every scalar series of the experiments, from the summaries (no points read)."""
    table: MetricTable = {}
    for chunk in chunked(dict.fromkeys(ids)):
        for exp_id, metric, variant, last, low, high in (
                MetricSummary.select(MetricSummary.experiment, MetricSummary.metric, MetricSummary.variant,
                                     MetricSummary.last, MetricSummary.min, MetricSummary.max)
                .where(MetricSummary.experiment.in_(chunk)).tuples()):
            table.setdefault((metric, variant), {})[exp_id] = (last, low, high)
    return dict(sorted(table.items()))


# ---- Aligning and diffing ---------------------------------------------------------------

def align_lines(texts: Sequence[tuple[str, ...] | None]) -> list[tuple[str | None, ...]]:
    """Rows of lines, one cell per text, the first text being the base.

    Lines equal to the base's share its row; a replaced block pairs line by line
    with the base's, its surplus lines getting rows of their own; lines a text
    inserts get rows between the base's lines; None where a text has no line.
    """
    base = tuple(texts[0] or ())
    count = len(texts)
    at_base: list[list[str | None]] = [[None] * count for _ in base]
    # gaps[g][e]: lines of text e placed before the base's line g (g == len(base): at the end)
    gaps: list[list[list[str]]] = [[[] for _ in range(count)] for _ in range(len(base) + 1)]
    for e, text in enumerate(texts):
        if text is None:
            continue
        text = tuple(text)
        if text == base:
            for i, line in enumerate(base):
                at_base[i][e] = line
            continue
        matcher = SequenceMatcher(None, base, text, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal" or tag == "replace":
                paired = min(i2 - i1, j2 - j1)
                for k in range(paired):
                    at_base[i1 + k][e] = text[j1 + k]
                gaps[i2][e].extend(text[j1 + paired:j2])
            elif tag == "insert":
                gaps[i1][e].extend(text[j1:j2])
    rows: list[tuple[str | None, ...]] = []
    for g in range(len(base) + 1):
        height = max((len(lines) for lines in gaps[g]), default=0)
        for r in range(height):
            rows.append(tuple(lines[r] if r < len(lines) else None for lines in gaps[g]))
        if g < len(base):
            rows.append(tuple(at_base[g]))
    return rows


def _differs(values: tuple[str | None, ...]) -> tuple[bool, ...]:
    base = values[0]
    return tuple(v != base for v in values)


def compare_rows(records: Sequence[Record]) -> list[DiffRow]:
    """Aligned rows for ``records`` (one per experiment, the base first): a section row,
    then its fields in order; long texts one row per aligned line."""
    keys = sorted(set().union(*[r.keys() for r in records])) if records else []
    rows: list[DiffRow] = []
    section_row: DiffRow | None = None
    empty = tuple(None for _ in records)
    no_diff = tuple(False for _ in records)
    for key in keys:
        if section_row is None or section_row.section != key.section:
            section_row = DiffRow(SECTION, key.section, key.section, empty, no_diff)
            rows.append(section_row)
        raw = [r.get(key, ABSENT) for r in records]
        if any(isinstance(v, tuple) for v in raw):
            # A text in some and a one-line value (typically "") in others: the value is its one line.
            texts = [v if isinstance(v, tuple) or v is None else ((v,) if v else ()) for v in raw]
            aligned = align_lines(texts)
            if not aligned:
                aligned = [tuple("" if t is not None else None for t in texts)]
            for n, values in enumerate(aligned):
                differs = _differs(values)
                rows.append(DiffRow(LINE if n else VALUE, key.section, key.label if n == 0 else "", values, differs))
        else:
            values = tuple(raw)
            rows.append(DiffRow(VALUE, key.section, key.label, values, _differs(values)))
    _count_section_diffs(rows)
    return rows


def _count_section_diffs(rows: list[DiffRow]) -> None:
    current: DiffRow | None = None
    for row in rows:
        if row.kind == SECTION:
            current = row
        elif current is not None and row.any_differs:
            current.diff_count += 1


def visible_rows(rows: Sequence[DiffRow], hide_identical: bool) -> list[DiffRow]:
    """``rows`` without identical ones when asked; a section stays while something under it shows."""
    if not hide_identical:
        return list(rows)
    out: list[DiffRow] = []
    pending: DiffRow | None = None
    for row in rows:
        if row.kind == SECTION:
            pending = row
            continue
        if not row.any_differs:
            continue
        if pending is not None:
            out.append(pending)
            pending = None
        out.append(row)
    return out


# ---- Axes for parallel coordinates and scatter plots ----------------------------------------

def as_number(value) -> float | None:
    """A finite float for a number or a numeric text ("0.01", "1e-3", "true" is not), else None."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = str(value).strip()
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            return None
    return number if math.isfinite(number) else None


# A numeric axis whose positive values span this many decades or more is drawn in log scale
# (a learning-rate sweep 1e-4 .. 1e-1 would otherwise crowd all but one run at the bottom).
LOG_AXIS_DECADES = 2.0


@dataclass
class Axis:
    """One axis of a parallel-coordinates plot (or the x of a scatter plot).

    ``positions`` maps each experiment with a value to its place on the axis:
    the number itself for a numeric axis, the category's index for a
    categorical one (``categories`` in order). ``log``: placed by log10.
    """
    label: str
    categorical: bool
    positions: dict[str, float]
    raw: dict[str, str] = field(default_factory=dict)
    categories: list[str] = field(default_factory=list)
    log: bool = False

    def _scaled(self, value: float) -> float:
        return math.log10(value) if self.log else value

    def bounds(self) -> tuple[float, float]:
        """The (scaled) values at the bottom and the top of the axis."""
        if self.categorical:
            return (0.0, float(max(len(self.categories) - 1, 1)))
        values = [self._scaled(v) for v in self.positions.values()]
        if not values:
            return (0.0, 1.0)
        low, high = min(values), max(values)
        if low == high:
            pad = abs(low) * 0.5 or 0.5
            return (low - pad, high + pad)
        return (low, high)

    def normalised(self, exp_id: str) -> float | None:
        """The experiment's place on the axis, 0 (bottom) to 1 (top); None without a value.
        A categorical axis with one category puts it in the middle."""
        if exp_id not in self.positions:
            return None
        if self.categorical and len(self.categories) == 1:
            return 0.5
        low, high = self.bounds()
        return (self._scaled(self.positions[exp_id]) - low) / (high - low)

    def tick_labels(self, count: int = 5) -> list[tuple[float, str]]:
        """(0..1 place, text) of the axis's ticks: every category, or ``count`` evenly spaced values."""
        if self.categorical:
            if len(self.categories) == 1:
                return [(0.5, self.categories[0])]
            return [(n / (len(self.categories) - 1), c) for n, c in enumerate(self.categories)]
        low, high = self.bounds()
        ticks = []
        for n in range(count):
            scaled = low + (high - low) * n / (count - 1)
            value = 10 ** scaled if self.log else scaled
            ticks.append((n / (count - 1), f"{value:.3g}" if self.log else det.format_value(value)))
        return ticks


def _category_sort_key(text: str):
    number = as_number(text)
    return (0, number, "") if number is not None else (1, 0.0, text.lower())


def make_axis(label: str, values: dict[str, object]) -> Axis:
    """An axis over ``values`` (experiment id -> value): numeric when every value is a number,
    else categorical with the distinct values sorted (numbers first, by value)."""
    present = {k: v for k, v in values.items() if v is not None}
    numbers = {k: as_number(v) for k, v in present.items()}
    raw = {k: str(v) for k, v in present.items()}
    if present and all(n is not None for n in numbers.values()):
        values = [float(n) for n in numbers.values()]
        log = min(values) > 0 and math.log10(max(values) / min(values)) >= LOG_AXIS_DECADES
        return Axis(label, False, {k: float(n) for k, n in numbers.items()}, raw, log=log)
    categories = sorted({str(v) for v in present.values()}, key=_category_sort_key)
    index = {c: float(n) for n, c in enumerate(categories)}
    return Axis(label, True, {k: index[str(v)] for k, v in present.items()}, raw, categories)


def metric_label(metric: str, variant: str, which: str) -> str:
    return f"{metric} / {variant} ({which.upper()})"


def metric_axis(table: MetricTable, metric: str, variant: str, which: str) -> Axis:
    """The LAST, MIN or MAX of one series as an axis (experiments without it have no place)."""
    slot = METRIC_FIELDS.index(which)
    values = {exp_id: triple[slot] for exp_id, triple in table.get((metric, variant), {}).items()
              if triple[slot] is not None and math.isfinite(triple[slot])}
    return make_axis(metric_label(metric, variant, which), values)


def hyperparameter_axis(table: HyperparamTable, section: str, name: str) -> Axis:
    return make_axis(hyperparameter_label(section, name), dict(table.get((section, name), {})))


def hyperparameter_label(section: str, name: str) -> str:
    return f"{section_title(section)}.{name}"


def search_matches(rows: Sequence[DiffRow], needle: str) -> list[tuple[int, int]]:
    """(row, column) of every cell matching ``needle`` case-insensitively; column -1 is the
    field's name, 0.. the experiments' values."""
    needle = needle.strip().lower()
    if not needle:
        return []
    out = []
    for r, row in enumerate(rows):
        if needle in row.label.lower():
            out.append((r, -1))
        for c, value in enumerate(row.values):
            if value is not None and needle in value.lower():
                out.append((r, c))
    return out
