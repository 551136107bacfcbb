"""The column registry: every column the experiments table can show, by stable key.

Built-in keys are plain words; custom columns encode what they show:
``metric:<metric>/<variant>/<last|min|max>``, ``hp:<section>/<name>`` and
``best:<metric>/<variant>@<min|max>:<metric>/<variant>`` (the first metric's
value at the step where the second is best), with each name percent-quoted,
so a "/" inside a name cannot split it. Saved table layouts refer to columns
only by these keys.
"""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, unquote

# What a column holds, which decides how it is stored, sorted, shown and filtered.
CHECK = "check"
TYPE = "type"
TEXT = "text"
TAGS = "tags"
STATUS = "status"
CATEGORY = "category"
DATE = "date"
NUMBER = "number"
DURATION = "duration"
METRIC = "metric"
HYPERPARAM = "hyperparam"

# Filter kinds (feature inventory 5.3).
FILTER_VALUES = "values"
FILTER_TAGS = "tags"
FILTER_RANGE = "range"
FILTER_DATES = "dates"
FILTER_DURATION = "duration"

METRIC_FIELD_LABELS = {"last": "Last", "min": "Min", "max": "Max"}
# "At best step" columns: the reference metric is best at its lowest or highest value.
BEST_MODES = ("min", "max")
BEST_STEP_PREFIX = "best:"
# What an "at best step" column shows when the two metrics' steps differ; the chooser and README say it too.
BEST_STEP_RULE = ("Each cell is the shown metric at the first iteration where the other one reaches its min "
                  "(or max); if the shown metric has no point at that iteration, its last point before it; "
                  "blank when the experiment does not report the other metric or has no such point.")


@dataclass(frozen=True)
class ColumnSpec:
    """One column the experiments table can show: its stable key, what it holds, and how it is sorted, filtered
    and laid out by default; built-in ones are BUILTIN_COLUMNS, custom ones come from their key (``spec_for``)."""

    key: str
    title: str
    kind: str
    default_visible: bool = True
    default_width: int = 120
    sortable: bool = True
    filter_kind: str | None = None
    align_right: bool = False
    # The selection checkbox and NAME identify a row: they cannot be hidden.
    hideable: bool = True
    # A default-width layout narrower than the window's table shrinks these columns, not below this.
    shrink_to: int = 0
    # Custom-column identity: (metric, variant, field), (section, name), or for a metric at the best
    # step (metric, variant, "best", reference metric, reference variant, "min" | "max").
    source: tuple[str, ...] = ()
    # A longer explanation than the title, for tooltips ("" when the title says it all).
    description: str = ""

    @property
    def is_custom(self) -> bool:
        return self.kind in (METRIC, HYPERPARAM)

    @property
    def at_best_step(self) -> bool:
        """A METRIC column whose values are another metric's best step, not a summary field."""
        return self.key.startswith(BEST_STEP_PREFIX)


BUILTIN_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("check", "", CHECK, default_width=34, sortable=False, hideable=False),
    ColumnSpec("type", "TYPE", TYPE, default_width=120, shrink_to=105, filter_kind=FILTER_VALUES),
    ColumnSpec("name", "NAME", TEXT, default_width=300, hideable=False, shrink_to=180),
    ColumnSpec("tags", "TAGS", TAGS, default_width=160, shrink_to=90, sortable=False, filter_kind=FILTER_TAGS),
    ColumnSpec("status", "STATUS", STATUS, default_width=140, filter_kind=FILTER_VALUES),
    ColumnSpec("project", "PROJECT", CATEGORY, default_width=180, shrink_to=110, filter_kind=FILTER_VALUES),
    ColumnSpec("user", "USER", CATEGORY, default_width=80, filter_kind=FILTER_VALUES),
    ColumnSpec("started", "STARTED", DATE, default_width=120, shrink_to=105, filter_kind=FILTER_DATES),
    ColumnSpec("last_update", "UPDATED", DATE, default_width=120, shrink_to=105, filter_kind=FILTER_DATES),
    ColumnSpec("last_iteration", "ITERATION", NUMBER, default_width=90, filter_kind=FILTER_RANGE,
               align_right=True),
    ColumnSpec("description", "DESCRIPTION", TEXT, default_visible=False, default_width=240),
    ColumnSpec("run_time", "RUN TIME", DURATION, default_visible=False, default_width=90,
               filter_kind=FILTER_DURATION, align_right=True),
    ColumnSpec("parent", "PARENT", CATEGORY, default_width=150, shrink_to=100, filter_kind=FILTER_VALUES),
    ColumnSpec("id", "ID", TEXT, default_visible=False, default_width=250),
    # Last here (logical indexes stay), beside the checkbox on screen (viewstate.default_state). Not sorted
    # or filtered from its header (a narrow column): "Starred first" and "Starred only" do that, and
    # they are TableState flags.
    ColumnSpec("star", "★", CATEGORY, default_width=28, sortable=False),
)
BUILTIN_BY_KEY = {c.key: c for c in BUILTIN_COLUMNS}
DEFAULT_SORT = (("last_update", True),)
# Shown only when several projects are on screen (all experiments, or with sub-projects).
PROJECT_KEY = "project"


def metric_key(metric: str, variant: str, field: str) -> str:
    if field not in METRIC_FIELD_LABELS:
        raise ValueError(f"unknown metric field {field!r}; expected last, min or max")
    return f"metric:{quote(metric, safe='')}/{quote(variant, safe='')}/{field}"


def hyperparam_key(section: str, name: str) -> str:
    return f"hp:{quote(section, safe='')}/{quote(name, safe='')}"


def best_step_key(metric: str, variant: str, best: str, ref_metric: str, ref_variant: str) -> str:
    """The column of ``metric/variant`` at the iteration where ``ref_metric/ref_variant`` is ``best``
    (min or max)."""
    if best not in BEST_MODES:
        raise ValueError(f"best means min or max, not {best!r}")
    return (f"{BEST_STEP_PREFIX}{quote(metric, safe='')}/{quote(variant, safe='')}"
            f"@{best}:{quote(ref_metric, safe='')}/{quote(ref_variant, safe='')}")


def _best_step_spec(key: str) -> ColumnSpec | None:
    shown, at, reference = key[len(BEST_STEP_PREFIX):].partition("@")
    best, colon, ref = reference.partition(":")
    shown_parts, ref_parts = shown.split("/"), ref.split("/")
    if not (at and colon and best in BEST_MODES and len(shown_parts) == 2 and len(ref_parts) == 2):
        return None
    metric, variant = unquote(shown_parts[0]), unquote(shown_parts[1])
    ref_metric, ref_variant = unquote(ref_parts[0]), unquote(ref_parts[1])
    return ColumnSpec(key, f"{metric} › {variant} (at {best} {ref_metric} › {ref_variant})", METRIC,
                      default_width=190, filter_kind=FILTER_RANGE, align_right=True,
                      source=(metric, variant, "best", ref_metric, ref_variant, best),
                      description=f"{metric} › {variant} where {ref_metric} › {ref_variant} is at its {best}. "
                                  + BEST_STEP_RULE)


def spec_for(key: str) -> ColumnSpec:
    """The spec of a built-in or custom column key; ValueError for anything else."""
    if key in BUILTIN_BY_KEY:
        return BUILTIN_BY_KEY[key]
    if key.startswith("metric:"):
        parts = key[len("metric:"):].split("/")
        if len(parts) == 3 and parts[2] in METRIC_FIELD_LABELS:
            metric, variant, field = unquote(parts[0]), unquote(parts[1]), parts[2]
            return ColumnSpec(key, f"{metric} › {variant} ({METRIC_FIELD_LABELS[field]})", METRIC,
                              default_width=150, filter_kind=FILTER_RANGE, align_right=True,
                              source=(metric, variant, field))
    if key.startswith("hp:"):
        parts = key[len("hp:"):].split("/")
        if len(parts) == 2:
            section, name = unquote(parts[0]), unquote(parts[1])
            return ColumnSpec(key, f"{section}.{name}", HYPERPARAM, default_width=130,
                              filter_kind=FILTER_VALUES, source=(section, name))
    if key.startswith(BEST_STEP_PREFIX):
        spec = _best_step_spec(key)
        if spec is not None:
            return spec
    raise ValueError(f"unknown column {key!r}")


def is_valid_key(key: str) -> bool:
    try:
        spec_for(key)
    except ValueError:
        return False
    return True
