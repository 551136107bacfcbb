"""The saved layout of the experiments table: a versioned dict keyed by column key.

One per user and project view (flat or with sub-projects), stored as the
SavedView row with name "". Unknown columns and malformed parts are dropped on
load, so an old or hand-edited state never stops the table from opening.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from exptable_desktop.core.columns import BUILTIN_COLUMNS, DEFAULT_SORT, PROJECT_KEY, is_valid_key, spec_for
from exptable_desktop.core.filters import AnyFilter, filter_from_dict

STATE_VERSION = 1
MIN_WIDTH = 24
MAX_WIDTH = 2000


def scope_name(project_id: int | None, deep: bool) -> str:
    """The SavedView scope of a project view; flat and with-sub-projects views are separate."""
    if project_id is None:
        return "all"
    return f"project:{project_id}:{'deep' if deep else 'flat'}"


@dataclass
class TableState:
    """The experiments table's layout for one project view: columns, widths, sort, filters."""
    order: list[str] = field(default_factory=list)  # visual order of every column shown in the menu
    widths: dict[str, int] = field(default_factory=dict)
    hidden: list[str] = field(default_factory=list)
    custom: list[str] = field(default_factory=list)
    sort: list[tuple[str, bool]] = field(default_factory=lambda: list(DEFAULT_SORT))
    filters: dict[str, AnyFilter] = field(default_factory=dict)
    precise: list[str] = field(default_factory=list)
    # The star column (core.stars): starred rows first, whatever the sort; only starred rows.
    starred_first: bool = False
    starred_only: bool = False

    def to_dict(self) -> dict:
        return {
            "version": STATE_VERSION,
            "order": list(self.order),
            "widths": dict(self.widths),
            "hidden": list(self.hidden),
            "custom": list(self.custom),
            "sort": [[k, bool(d)] for k, d in self.sort],
            "filters": {k: f.to_dict() for k, f in self.filters.items() if f.active},
            "precise": list(self.precise),
            "starred_first": bool(self.starred_first),
            "starred_only": bool(self.starred_only),
        }


# Built-in columns added after layouts were first saved: placed by the default order, not last.
NEWER_COLUMNS = ("star",)


def default_order() -> list[str]:
    """Built-in columns in their default visual order: the star right after the checkbox."""
    keys = [c.key for c in BUILTIN_COLUMNS if c.key != "star"]
    return keys[:1] + ["star"] + keys[1:]


def default_state(multi_project: bool) -> TableState:
    hidden = [c.key for c in BUILTIN_COLUMNS if not c.default_visible]
    if not multi_project:
        hidden.append(PROJECT_KEY)
    return TableState(order=default_order(), hidden=hidden)


def state_from_dict(data: dict | None, multi_project: bool) -> TableState:
    """A TableState from saved JSON, falling back to the defaults part by part."""
    state = default_state(multi_project)
    if not isinstance(data, dict) or data.get("version") != STATE_VERSION:
        return state
    custom = [k for k in data.get("custom", []) if isinstance(k, str) and is_valid_key(k) and spec_for(k).is_custom]
    state.custom = list(dict.fromkeys(custom))
    known = [c.key for c in BUILTIN_COLUMNS] + state.custom
    order = list(dict.fromkeys(k for k in data.get("order", []) if k in known))
    defaults = default_order()
    for key in NEWER_COLUMNS:
        # A built-in column newer than the saved layout goes where the default order has it.
        if order and key not in order:
            index = defaults.index(key)
            before = next((k for k in reversed(defaults[:index]) if k in order), None)
            order.insert(order.index(before) + 1 if before is not None else 0, key)
    state.order = list(dict.fromkeys(order + known))
    widths = data.get("widths", {})
    if isinstance(widths, dict):
        state.widths = {k: max(MIN_WIDTH, min(MAX_WIDTH, int(w))) for k, w in widths.items()
                        if k in known and isinstance(w, (int, float))}
    hidden = data.get("hidden")
    if isinstance(hidden, list):
        state.hidden = [k for k in hidden if k in known]
    sort = []
    for item in data.get("sort", []):
        if isinstance(item, (list, tuple)) and len(item) == 2 and item[0] in known and spec_for(item[0]).sortable:
            sort.append((item[0], bool(item[1])))
    if isinstance(data.get("sort"), list):
        state.sort = sort
    filters = data.get("filters", {})
    if isinstance(filters, dict):
        for key, value in filters.items():
            if key in known and spec_for(key).filter_kind:
                try:
                    state.filters[key] = filter_from_dict(value)
                except (ValueError, TypeError):
                    continue
    state.precise = [k for k in data.get("precise", []) if k in state.custom]
    state.starred_first = bool(data.get("starred_first", False))
    state.starred_only = bool(data.get("starred_only", False))
    return state
