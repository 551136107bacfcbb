"""The column registry: every column the experiments table can show, by stable key.

Built-in keys are plain words; custom columns encode what they show:
``metric:<metric>/<variant>/<last|min|max>`` and ``hp:<section>/<name>``
with each name percent-quoted, so a "/" inside a name cannot split it.
Saved table layouts refer to columns only by these keys.
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


@dataclass(frozen=True)
class ColumnSpec:
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
    # Custom-column identity: (metric, variant, field) or (section, name).
    source: tuple[str, ...] = ()

    @property
    def is_custom(self) -> bool:
        return self.kind in (METRIC, HYPERPARAM)


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
    raise ValueError(f"unknown column {key!r}")


def is_valid_key(key: str) -> bool:
    try:
        spec_for(key)
    except ValueError:
        return False
    return True
