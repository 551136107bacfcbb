"""core.filters' system tags: the filter value, its JSON form and its conditions over rows."""
from __future__ import annotations

import numpy as np
import pytest

from exptable_desktop.core.filters import (
    SYSTEM_TAGS,
    TagFilter,
    filter_from_dict,
    system_tag_conditions,
    system_tag_counts,
)


def test_a_system_tag_choice_is_an_active_filter_and_round_trips_through_json():
    flt = TagFilter("all", frozenset({"best"}), system_include=frozenset({"development"}),
                    system_exclude=frozenset({"archived"}))
    assert flt.active and TagFilter(system_exclude=frozenset({"archived"})).active
    assert filter_from_dict(flt.to_dict()) == flt
    # A filter without system tags keeps the JSON form saved views already hold.
    assert set(TagFilter("any", frozenset({"x"})).to_dict()) == {"kind", "mode", "include", "exclude", "no_tags"}


def test_an_unknown_system_tag_is_one_clear_error():
    with pytest.raises(ValueError, match="unknown system tag 'shared'; the system tags are archived, development"):
        TagFilter(system_include=frozenset({"shared"}))
    with pytest.raises(ValueError, match="unknown system tag"):
        filter_from_dict({"kind": "tags", "system_exclude": ["nope"]})


def test_conditions_select_exactly_the_rows_carrying_a_system_tag():
    flags = {"archived": np.array([False, False, True, True]), "development": np.array([True, False, True, False])}
    (has,) = system_tag_conditions(TagFilter(system_include=frozenset({"development"})), flags)
    assert has.tolist() == [True, False, True, False]
    (lacks,) = system_tag_conditions(TagFilter(system_exclude=frozenset({"development"})), flags)
    assert lacks.tolist() == [False, True, False, True]
    both = system_tag_conditions(TagFilter("all", system_include=frozenset(SYSTEM_TAGS)), flags)
    assert np.logical_and.reduce(both).tolist() == [False, False, True, False]
    assert system_tag_conditions(TagFilter("any", frozenset({"best"})), flags) == []


def test_counts_list_only_the_system_tags_some_row_carries():
    flags = {"archived": np.zeros(3, bool), "development": np.array([True, False, True])}
    assert system_tag_counts(flags) == [("development", 2)]
