"""The numpy table without Qt: sort order, missing values, filters, search, incremental changes."""
from __future__ import annotations

import numpy as np
import pytest

from exptable_desktop.core import columns as C
from exptable_desktop.core import formatting as fmt
from exptable_desktop.core.filters import RangeFilter, SearchQuery, TagFilter, ValueSetFilter, filter_from_dict
from exptable_desktop.core.table_loading import fetch_changes, load_table
from exptable_desktop.core.viewstate import TableState, state_from_dict
from exptable_desktop.store import bulk
from exptable_desktop.store.bulk import Scope

ACC = C.metric_key("val", "accuracy", "last")


def names(table):
    return [table.text["name"][s] for s in table.order]


def test_metric_sort_puts_missing_last_both_ways(populated):
    table = load_table(Scope(None, False), [ACC])
    table.set_sort([(ACC, True)])
    got = names(table)
    assert got[:3] == ["b-resnet", "h-late", "c-vit"]
    assert set(got[-2:]) == {"d-untagged", "f-draft"}
    table.set_sort([(ACC, False)])
    got = names(table)
    assert got[0] == "e-failed" and set(got[-2:]) == {"d-untagged", "f-draft"}


def test_status_sorts_in_life_cycle_order_and_ties_break_on_second_key(populated):
    table = load_table(Scope(None, False))
    table.set_sort([("status", False), ("name", False)])
    statuses = [table.status_at(s) for s in table.order]
    ranks = [["created", "queued", "in_progress", "completed", "stopped", "failed"].index(s) for s in statuses]
    assert ranks == sorted(ranks)
    drafts = [table.text["name"][s] for s in table.order if table.status_at(s) == "created"]
    assert drafts == sorted(drafts)


def test_filters_of_each_kind(populated):
    table = load_table(Scope(None, False), [ACC, C.hyperparam_key("Args", "lr")])
    table.set_filter("type", ValueSetFilter(frozenset({"testing", "optimizer"})))
    assert sorted(names(table)) == ["c-vit", "g-sweep"]
    table.clear_filters()
    table.set_filter("tags", TagFilter("all", frozenset({"best", "baseline"})))
    assert names(table) == ["h-late"]
    table.set_filter("tags", TagFilter("any", frozenset({"sweep"}), no_tags=True))
    assert sorted(names(table)) == ["d-untagged", "f-draft", "g-sweep", "z-nlp"]
    table.set_filter("tags", TagFilter("all", exclude=frozenset({"best"})))
    assert "b-resnet" not in names(table) and "a-baseline" in names(table)
    table.clear_filters()
    table.set_filter(ACC, RangeFilter(0.7, 0.9))
    assert sorted(names(table)) == ["c-vit", "h-late"]
    table.clear_filters()
    table.set_filter(C.hyperparam_key("Args", "lr"), ValueSetFilter(frozenset({"0.01", ""})))
    assert sorted(names(table)) == ["a-baseline", "d-untagged", "e-failed", "f-draft", "z-nlp"]


def test_search_plain_and_regex(populated):
    table = load_table(Scope(None, False))
    table.set_search(SearchQuery("RESNET"))
    assert names(table) == ["b-resnet"]
    table.set_search(SearchQuery("^[ab]-", regex=True))
    assert sorted(names(table)) == ["a-baseline", "b-resnet"]
    with pytest.raises(ValueError):
        SearchQuery("(", regex=True)


def test_apply_changes_updates_inserts_and_removes(populated):
    from exptable_desktop.core import actions
    from exptable_desktop.core.recording import create_experiment

    scope = Scope(None, False)
    since = bulk.current_change_seq()
    table = load_table(scope)
    actions.rename([populated["c-vit"]], "c-vit-renamed")
    actions.archive([populated["d-untagged"]])
    new_id = create_experiment("vision", "i-new")
    result = table.apply_changes(fetch_changes(since, []), scope)
    assert table.ids[result.inserted].tolist() == [new_id]
    assert table.ids[result.removed].tolist() == [populated["d-untagged"]]
    assert table.ids[result.updated].tolist() == [populated["c-vit"]]
    assert "c-vit-renamed" in names(table) and "d-untagged" not in names(table)


def test_formats():
    assert fmt.compact_duration(2 * 86400 + 5 * 3600) == "2:05d"
    assert fmt.compact_duration(3 * 3600 + 7 * 60) == "3:07h"
    assert fmt.compact_duration(12 * 60 + 30) == "12:30m"
    assert fmt.compact_duration(45) == "45s"
    assert fmt.rounded_float(0.123456789) == "0.123457"
    assert fmt.precise_float(0.123456789) == "0.123456789"
    assert fmt.relative_time(1000.0, now=1000.0 + 5 * 60) == "5 minutes ago"
    assert fmt.default_tag_colors("ab") == (fmt.TAG_PALETTE[(97 + 98) % 20], "#ffffff")
    # Missing values reach the formatters as NaN from the table's numpy columns: an empty cell, not "nan".
    for formatter in (fmt.relative_time, fmt.exact_date, fmt.compact_duration, fmt.rounded_float, fmt.precise_float):
        assert formatter(np.float64("nan")) == "", formatter.__name__
    assert fmt.rounded_float(float("-inf")) == "-inf"


def test_view_state_round_trip_drops_unknown_parts():
    state = TableState(order=["name", "check"], widths={"name": 333}, hidden=["user"], custom=[ACC],
                       sort=[(ACC, True), ("name", False)], filters={"status": ValueSetFilter(frozenset({"failed"}))},
                       precise=[ACC])
    data = state.to_dict()
    data["widths"]["bogus"] = 5
    data["sort"].append(["tags", True])
    back = state_from_dict(data, multi_project=False)
    assert back.custom == [ACC] and back.widths == {"name": 333} and back.sort == [(ACC, True), ("name", False)]
    assert back.filters["status"] == ValueSetFilter(frozenset({"failed"}))
    assert back.order[:2] == ["name", "check"]
    assert filter_from_dict(TagFilter("all", frozenset({"x"})).to_dict()) == TagFilter("all", frozenset({"x"}))
    assert state_from_dict({"version": 99}, True).custom == []


def test_tag_filters_agree_with_and_without_the_tag_bit_index(populated):
    from exptable_desktop.core import experiment_table

    filters = [TagFilter("any", frozenset({"best"}), frozenset({"resnet"})),
               TagFilter("all", frozenset({"best"}), frozenset({"resnet"})),
               TagFilter("any", frozenset({"sweep"}), no_tags=True),
               TagFilter("all", frozenset({"nonexistent"}))]
    fast = load_table(Scope(None, False))
    assert fast._tag_bits_ok
    answers = []
    for flt in filters:
        fast.set_filter("tags", flt)
        answers.append(sorted(names(fast)))
    # ANY: has "best" or lacks "resnet" -- everyone but e-failed (resnet only).
    assert answers[0] == ["a-baseline", "b-resnet", "c-vit", "d-untagged", "f-draft", "g-sweep", "h-late", "z-nlp"]
    assert answers[1] == ["c-vit", "h-late"]
    assert answers[2] == ["d-untagged", "f-draft", "g-sweep", "z-nlp"]
    assert answers[3] == []
    counts = fast.distinct_tags()
    original_bits = experiment_table.TAG_BITS
    experiment_table.TAG_BITS = 2  # fewer bits than tags: the table falls back to the tag tuples
    try:
        slow = load_table(Scope(None, False))
    finally:
        experiment_table.TAG_BITS = original_bits
    assert not slow._tag_bits_ok
    for flt, expected in zip(filters, answers):
        slow.set_filter("tags", flt)
        assert sorted(names(slow)) == expected
    assert slow.distinct_tags() == counts


@pytest.mark.parametrize("sort", [[("last_update", True)], [("status", False)], [("name", True)],
                                  [("last_iteration", False)], [("user", True), ("name", False)]])
def test_refresh_merge_sort_gives_the_same_order_as_a_full_sort(sort):
    import random

    from exptable_desktop.core.experiment_table import ChangeSet, ExperimentTable
    from exptable_desktop.store.bulk import BASE_FIELDS

    rng = random.Random(5)

    def row(i, t):
        values = dict(id=f"e{i:04d}", name=rng.choice(["a", "b", "c", ""]) + str(rng.randrange(5)),
                      type="training", status=rng.choice(["created", "completed", "failed", "in_progress"]),
                      project=1, user=rng.choice(["ann", "bob", ""]), parent=None, started=None,
                      last_update=rng.choice([t, 100.0, 200.0]), last_iteration=rng.choice([None, 1, 2, 3]),
                      progress=None, description="", run_time=None, archived=False, created=1.0,
                      development=False)
        return tuple(values[f] for f in BASE_FIELDS)

    table = ExperimentTable()
    table.write_base_rows([row(i, float(i)) for i in range(400)])
    table.recompute_mask()
    table.set_sort(sort)
    scope = Scope(None, False)
    for tick in range(5):
        changed = [row(rng.randrange(450), 1000.0 + tick) for _ in range(12)]
        gone = [f"e{rng.randrange(400):04d}" for _ in range(3)]
        table.apply_changes(ChangeSet(since=0, cursor=0, rows=changed, deleted=gone, tag_links=[],
                                      tag_table={}, custom_values={}, parent_names={}, project_paths={}), scope)
        merged = table.order.copy()
        table.resort()
        assert np.array_equal(merged, table.order)
