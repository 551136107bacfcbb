"""Column filters and the search query, as plain values that save to and load from JSON.

The table (core.tableview) turns each into a boolean mask over its arrays.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

# The value-set entry that matches rows with no value (shown as "(no value)").
NO_VALUE = ""
TAG_MODES = ("any", "all")


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

    Conditions: has each tag of ``include``, lacks each of ``exclude``,
    and has no tags at all when ``no_tags``.
    """
    mode: str = "any"
    include: frozenset[str] = field(default_factory=frozenset)
    exclude: frozenset[str] = field(default_factory=frozenset)
    no_tags: bool = False

    kind = "tags"

    def __post_init__(self):
        if self.mode not in TAG_MODES:
            raise ValueError(f"tag filter mode must be 'any' or 'all', not {self.mode!r}")

    @property
    def active(self) -> bool:
        return bool(self.include or self.exclude or self.no_tags)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "mode": self.mode, "include": sorted(self.include),
                "exclude": sorted(self.exclude), "no_tags": self.no_tags}


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
                         frozenset(map(str, data.get("exclude", ()))), bool(data.get("no_tags", False)))
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
