"""Column filters and the search query, as plain values that save to and load from JSON.

The table (core.experiment_table) turns each into a boolean mask over its arrays.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

# The value-set entry that matches rows with no value (shown as "(no value)").
NO_VALUE = ""
TAG_MODES = ("any", "all")
# Tags the program sets, not a person (the reference's ``system_tags``): "archived" on an archived
# experiment, "development" on one whose script was run by hand rather than by an agent.
SYSTEM_TAGS = ("archived", "development")


@dataclass(frozen=True)
class ValueSetFilter:
    """Rows whose value is one of ``values`` (value keys as strings; NO_VALUE = missing)."""
    values: frozenset[str]

    kind = "values"

    @property
    def active(self) -> bool:
        return bool(self.values)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "values": sorted(self.values)}


@dataclass(frozen=True)
class TagFilter:
    """ANY: a row matches one of the conditions; ALL: every condition.

    Conditions: has each tag of ``include``, lacks each of ``exclude``, has no tags at all when
    ``no_tags``; and has each system tag (SYSTEM_TAGS) of ``system_include``, lacks each of
    ``system_exclude``. One ANY/ALL joins them all, as the one toggle over the pop-up's two lists.
    """
    mode: str = "any"
    include: frozenset[str] = field(default_factory=frozenset)
    exclude: frozenset[str] = field(default_factory=frozenset)
    no_tags: bool = False
    system_include: frozenset[str] = field(default_factory=frozenset)
    system_exclude: frozenset[str] = field(default_factory=frozenset)

    kind = "tags"

    def __post_init__(self):
        if self.mode not in TAG_MODES:
            raise ValueError(f"tag filter mode must be 'any' or 'all', not {self.mode!r}")
        unknown = sorted((self.system_include | self.system_exclude) - set(SYSTEM_TAGS))
        if unknown:
            raise ValueError(f"unknown system tag {unknown[0]!r}; the system tags are {', '.join(SYSTEM_TAGS)}")

    @property
    def active(self) -> bool:
        return bool(self.include or self.exclude or self.no_tags or self.system_include or self.system_exclude)

    def to_dict(self) -> dict:
        data = {"kind": self.kind, "mode": self.mode, "include": sorted(self.include),
                "exclude": sorted(self.exclude), "no_tags": self.no_tags}
        if self.system_include or self.system_exclude:  # views saved without them read the same
            data["system_include"] = sorted(self.system_include)
            data["system_exclude"] = sorted(self.system_exclude)
        return data


def system_tag_conditions(flt: TagFilter, flags: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    """The system-tag conditions of ``flt`` over some rows, one boolean array each.

    ``flags`` maps each system tag to whether each of those rows carries it. The table joins these
    with its user-tag conditions by ``flt.mode``.
    """
    import numpy as np  # here: saved views and links read filters without loading numpy
    return ([np.asarray(flags[tag], bool) for tag in sorted(flt.system_include)]
            + [~np.asarray(flags[tag], bool) for tag in sorted(flt.system_exclude)])


def system_tag_counts(flags: Mapping[str, np.ndarray]) -> list[tuple[str, int]]:
    """(system tag, how many rows carry it) for the system tags some row carries, in SYSTEM_TAGS order."""
    import numpy as np
    counts = ((tag, int(np.count_nonzero(flags[tag]))) for tag in SYSTEM_TAGS if tag in flags)
    return [(tag, count) for tag, count in counts if count]


@dataclass(frozen=True)
class RangeFilter:
    """``low <= value <= high``; either end may be open (None). Missing values never match.

    Numbers, epoch-second dates and durations in seconds all use this one filter.
    """
    low: float | None = None
    high: float | None = None

    kind = "range"

    @property
    def active(self) -> bool:
        return self.low is not None or self.high is not None

    def to_dict(self) -> dict:
        return {"kind": self.kind, "low": self.low, "high": self.high}


AnyFilter = ValueSetFilter | TagFilter | RangeFilter


def _number(value) -> float | None:
    if value is None:
        return None
    number = float(value)
    if math.isnan(number):
        raise ValueError("a range bound cannot be NaN")
    return number


def filter_from_dict(data: dict) -> AnyFilter:
    """Inverse of ``to_dict``; ValueError for anything malformed."""
    if not isinstance(data, dict):
        raise ValueError("a filter must be a JSON object")
    kind = data.get("kind")
    if kind == "values":
        return ValueSetFilter(frozenset(str(v) for v in data.get("values", ())))
    if kind == "tags":
        return TagFilter(str(data.get("mode", "any")), frozenset(map(str, data.get("include", ()))),
                         frozenset(map(str, data.get("exclude", ()))), bool(data.get("no_tags", False)),
                         frozenset(map(str, data.get("system_include", ()))),
                         frozenset(map(str, data.get("system_exclude", ()))))
    if kind == "range":
        return RangeFilter(_number(data.get("low")), _number(data.get("high")))
    raise ValueError(f"unknown filter kind {kind!r}")


@dataclass(frozen=True)
class SearchQuery:
    """The search box: a case-insensitive match on name, id and description."""
    text: str
    regex: bool = False

    def __post_init__(self):
        if self.regex:
            try:
                re.compile(self.text)
            except re.error as exc:
                raise ValueError(f"invalid regular expression: {exc}") from exc

    @property
    def active(self) -> bool:
        return bool(self.text)
