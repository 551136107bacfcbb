"""The compare page's core: palette, statistics, best step, bulk readers (no Qt)."""
from __future__ import annotations

import math

import numpy as np
import pytest

from exptable_desktop.core import compare_data, compare_stats, recording
from exptable_desktop.core import compare_palette as palette
from exptable_desktop.store.schema import Preference
from exptable_desktop.store.series import list_series_many, read_series, read_series_many

from comparison_helpers import make_experiment, make_rich_experiment


# ---- Palette -------------------------------------------------------------------------------

def _lab(hex_colour: str) -> np.ndarray:
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)]) / 255.0
    linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ linear
    xyz /= np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_palette_has_100_distinct_readable_colours_with_neighbours_far_apart():
    colours = [palette.palette_colour(n) for n in range(palette.MAX_EXPERIMENTS)]
    assert len(set(colours)) == 100
    labs = [_lab(c) for c in colours]
    # Readable on white: no near-white or near-black.
    assert all(30 <= lab[0] <= 80 for lab in labs)
    # Adjacent experiments are clearly different (CIE76 distance; ~2.3 is "just noticeable").
    adjacent = [np.linalg.norm(labs[n] - labs[n + 1]) for n in range(99)]
    assert min(adjacent) > 17
    # The first 20 (all solid) are pairwise well apart.
    first = [np.linalg.norm(labs[a] - labs[b]) for a in range(20) for b in range(a + 1, 20)]
    assert min(first) > 30


def test_dash_style_changes_every_twenty_so_colour_and_dash_tell_100_apart():
    styles = [palette.dash_style(n) for n in range(100)]
    assert styles[:20] == [palette.SOLID] * 20
    assert styles[20] == palette.DASH and styles[40] == palette.DOT
    assert len({(palette.palette_colour(n), styles[n]) for n in range(100)}) == 100
    assert len(set(styles)) == 5


def test_assign_keeps_each_experiments_colour_when_others_come_and_go():
    first, slots = palette.assign([("a", "A"), ("b", "B"), ("c", "C")])
    assert [e.colour for e in first] == [palette.PALETTE[0], palette.PALETTE[1], palette.PALETTE[2]]
    # b removed, d added, order changed: a and c keep theirs, d takes the freed slot.
    second, slots = palette.assign([("c", "C"), ("d", "D"), ("a", "A")], previous=slots)
    colours = {e.id: e.colour for e in second}
    assert colours == {"a": palette.PALETTE[0], "c": palette.PALETTE[2], "d": palette.PALETTE[1]}
    custom, _ = palette.assign([("a", "A")], {"a": "#123456"}, hidden_ids={"a"}, previous=slots)
    assert custom[0].colour == "#123456" and custom[0].hidden and custom[0].dash == palette.SOLID


@pytest.mark.both_backends
def test_custom_colours_are_saved_per_user_in_the_preference_table(db, monkeypatch):
    palette.save_custom_colour("exp1", "#AbCdEf")
    assert palette.load_custom_colours() == {"exp1": "#abcdef"}
    row = Preference.get((Preference.key == palette.COLOUR_PREFERENCE_KEY))
    assert row.user == "tester" and "exp1" in row.value
    monkeypatch.setenv("EXPTABLE_USER", "someone else")
    assert palette.load_custom_colours() == {}
    monkeypatch.setenv("EXPTABLE_USER", "tester")
    palette.save_custom_colour("exp1", None)
    assert palette.load_custom_colours() == {}
    with pytest.raises(ValueError, match="not a #rrggbb colour"):
        palette.save_custom_colour("exp1", "red")


# ---- Group statistics ------------------------------------------------------------------------

def test_group_statistics_match_numpy_on_a_shared_grid():
    x = np.arange(0, 50, 5)
    runs = [(x, np.sin(x / 7.0) + k) for k in (0.0, 0.5, 2.0)]
    stats = compare_stats.group_statistics(runs, compare_stats.BAND_MIN_MAX)
    stack = np.vstack([y for _, y in runs])
    np.testing.assert_array_equal(stats.grid, x)
    np.testing.assert_allclose(stats.mean, stack.mean(axis=0))
    np.testing.assert_allclose(stats.low, stack.min(axis=0))
    np.testing.assert_allclose(stats.high, stack.max(axis=0))
    np.testing.assert_allclose(stats.std, stack.std(axis=0))
    assert (stats.count == 3).all()
    band = compare_stats.group_statistics(runs, compare_stats.BAND_STD)
    np.testing.assert_allclose(band.low, stack.mean(axis=0) - stack.std(axis=0))
    np.testing.assert_allclose(band.high, stack.mean(axis=0) + stack.std(axis=0))


def test_group_statistics_interpolate_onto_the_union_and_stop_each_run_at_its_end():
    a = (np.array([0, 10, 20]), np.array([0.0, 10.0, 20.0]))
    b = (np.array([0, 5, 10]), np.array([4.0, 4.0, 4.0]))  # shorter run
    stats = compare_stats.group_statistics([a, b])
    np.testing.assert_array_equal(stats.grid, [0, 5, 10, 20])
    # At 5, run a is interpolated to 5.0; at 20 only run a is left.
    np.testing.assert_allclose(stats.mean, [2.0, 4.5, 7.0, 20.0])
    np.testing.assert_array_equal(stats.count, [2, 2, 2, 1])
    np.testing.assert_allclose(stats.low, [0.0, 4.0, 4.0, 20.0])
    np.testing.assert_allclose(stats.high, [4.0, 5.0, 10.0, 20.0])


def test_group_statistics_skip_nan_and_unsorted_points_and_reject_unknown_bands():
    run = (np.array([2, 0, 1, 3]), np.array([2.0, 0.0, np.nan, 3.0]))
    stats = compare_stats.group_statistics([run])
    np.testing.assert_array_equal(stats.grid, [0, 2, 3])
    np.testing.assert_allclose(stats.mean, [0.0, 2.0, 3.0])
    assert len(compare_stats.group_statistics([]).grid) == 0
    with pytest.raises(ValueError, match="unknown band"):
        compare_stats.group_statistics([run], "iqr")


def test_group_statistics_resample_a_huge_union_evenly():
    runs = [(np.arange(0, 30_000, 1 + k), np.ones(len(range(0, 30_000, 1 + k)))) for k in range(3)]
    stats = compare_stats.group_statistics(runs, max_points=1000)
    assert len(stats.grid) == 1000 and stats.grid[0] == 0 and stats.grid[-1] == 29_999
    np.testing.assert_allclose(stats.mean, 1.0)


def test_grouping_by_all_parameters_but_one_and_by_tags():
    params = {"a": {"Args/lr": "0.1", "Args/seed": "1"}, "b": {"Args/lr": "0.1", "Args/seed": "2"},
              "c": {"Args/lr": "0.2", "Args/seed": "1"}, "d": {"Args/lr": "0.2", "Args/seed": "3"},
              "e": {"Args/lr": "0.1", "Args/seed": "9", "Args/extra": "x"}}
    groups = compare_stats.group_by_ignoring(list(params), params, "Args/seed")
    assert [g.members for g in groups] == [["a", "b"], ["c", "d"], ["e"]]
    assert groups[0].label == "extra=-, lr=0.1"
    assert groups[2].label == "extra=x, lr=0.1"
    tags = {"a": ["x", "y"], "b": ["y", "x"], "c": []}
    by_tags = compare_stats.group_by_tags(["a", "b", "c"], tags)
    assert [(g.label, g.members) for g in by_tags] == [("x, y", ["a", "b"]), ("(no tags)", ["c"])]


# ---- Best step ---------------------------------------------------------------------------------

def test_value_at_best_step_hand_computed():
    loss = (np.array([0, 10, 20, 30, 40]), np.array([5.0, 3.0, 1.0, 1.0, 2.0]))
    acc = (np.array([0, 10, 20, 30, 40]), np.array([0.1, 0.5, 0.7, 0.8, 0.6]))
    # min loss first reached at 20 (tie at 30: the first wins) -> acc 0.7
    assert compare_stats.value_at_best_step(loss, acc, "min") == (20, 0.7)
    # max acc at 30 -> loss 1.0
    assert compare_stats.value_at_best_step(acc, loss, "max") == (30, 1.0)
    # Reported less often: the last value at or before the step.
    sparse = (np.array([0, 25, 50]), np.array([9.0, 8.0, 7.0]))
    assert compare_stats.value_at_best_step(loss, sparse, "min") == (20, 9.0)
    late = (np.array([30, 40]), np.array([1.0, 2.0]))
    assert compare_stats.value_at_best_step(loss, late, "min") is None
    assert compare_stats.value_at_best_step((np.array([1]), np.array([np.nan])), acc) is None
    # An iteration reported twice: the later report wins.
    assert compare_stats.value_at(np.array([0, 5, 5]), np.array([1.0, 2.0, 3.0]), 5) == (5, 3.0)
    with pytest.raises(ValueError):
        compare_stats.best_iteration(*loss, mode="median")


def test_row_extremes_and_identical_rows():
    assert compare_stats.row_extremes([3.0, None, 1.0, 3.0, float("nan")]) == ({2}, {0, 3})
    assert compare_stats.row_extremes([2.0, 2.0]) == (set(), set())
    assert compare_stats.row_extremes([1.0]) == (set(), set())
    assert compare_stats.is_identical([1.0, 1.0, 1.0])
    assert not compare_stats.is_identical([1.0, None])
    assert compare_stats.is_identical([float("nan"), float("nan")])


# ---- Bulk reads (SQLite and PostgreSQL) ---------------------------------------------------------

class QueryCounter:
    def __init__(self, database):
        self.database = database
        self.statements: list[str] = []

    def __enter__(self):
        original = self.database.execute_sql

        def counting(sql, params=None, *args, **kwargs):
            self.statements.append(sql)
            return original(sql, params, *args, **kwargs)
        self._original = original
        self.database.execute_sql = counting
        return self

    def __exit__(self, *exc):
        self.database.execute_sql = self._original


@pytest.mark.both_backends
def test_series_are_read_in_bulk_one_query_per_series_name(db):
    ids = [make_experiment(f"run {n}", n) for n in range(5)]
    partial = make_experiment("partial", 7, metrics={("loss", "train")})
    with QueryCounter(db) as counter:
        many = read_series_many(ids + [partial], "accuracy", "validation")
    assert len([s for s in counter.statements if "scalar_chunk" in s.lower()]) == 1
    assert set(many) == set(ids)  # the partial run has no accuracy
    for exp_id in ids:
        single = read_series(exp_id, "accuracy", "validation")
        np.testing.assert_array_equal(many[exp_id].iterations, single.iterations)
        np.testing.assert_array_equal(many[exp_id].values, single.values)
        np.testing.assert_array_equal(many[exp_id].timestamps, single.timestamps)
    without_time = read_series_many(ids, "loss", "train", timestamps=False)
    assert len(without_time[ids[0]].timestamps) == 0
    keys = list_series_many(ids + [partial])
    assert sorted(keys[("loss", "train")]) == sorted(ids + [partial])
    assert sorted(keys[("accuracy", "validation")]) == sorted(ids)


@pytest.mark.both_backends
def test_values_at_best_step_read_from_the_database_hand_computed(db):
    def record(name, loss, acc, acc_iterations=None):
        exp_id = recording.create_experiment("p", name)
        points = [("val", "loss", i * 10, v, 1.0) for i, v in enumerate(loss)]
        its = acc_iterations or [i * 10 for i in range(len(acc))]
        points += [("val", "acc", it, v, 1.0) for it, v in zip(its, acc)]
        recording.record_batch(exp_id, scalars=points)
        return exp_id
    a = record("a", [3.0, 1.0, 2.0], [0.2, 0.9, 0.5])  # best loss at 10 -> acc 0.9
    b = record("b", [3.0, 2.0, 0.5], [0.1, 0.3], acc_iterations=[0, 15])  # best at 20 -> acc from 15: 0.3
    c = record("c", [1.0, 2.0], [0.4], acc_iterations=[5])  # best at 0, acc starts at 5 -> none
    best, values = compare_data.values_at_best_step([a, b, c], ("val", "loss"), "min")
    assert best == {a: 10, b: 20, c: 0}
    assert values[("val", "acc")] == {a: 0.9, b: 0.3}
    assert values[("val", "loss")] == {a: 1.0, b: 0.5, c: 1.0}
    best_max, at_max = compare_data.values_at_best_step([a, b], ("val", "acc"), "max")
    assert best_max == {a: 10, b: 15}
    assert at_max[("val", "loss")] == {a: 1.0, b: 2.0}


@pytest.mark.both_backends
def test_values_at_best_step_find_a_step_in_an_earlier_chunk(db):
    from exptable_desktop.store.series import CHUNK_POINTS
    exp_id = recording.create_experiment("p", "long")
    n = CHUNK_POINTS + 100
    loss = np.linspace(10, 1, n)
    loss[50] = 0.0  # best in the first chunk
    points = {("val", "loss"): (np.arange(n), loss, np.ones(n)),
              ("val", "acc"): (np.arange(n), np.arange(n) / n, np.ones(n))}
    recording.record_batch(exp_id, scalars=points)
    best, values = compare_data.values_at_best_step([exp_id], ("val", "loss"))
    assert best == {exp_id: 50}
    assert values[("val", "acc")][exp_id] == pytest.approx(50 / n)


@pytest.mark.both_backends
def test_summaries_single_values_plots_and_samples_in_bulk(db):
    ids = [make_rich_experiment(f"rich {n}", n) for n in range(3)]
    with QueryCounter(db) as counter:
        summaries = compare_data.summaries(ids)
    assert len(counter.statements) == 1
    cell = summaries[("loss", "train")][ids[1]]
    stored = read_series(ids[1], "loss", "train")
    assert cell.last == stored.values[-1] and cell.min == stored.values.min() and cell.max == stored.values.max()
    singles = compare_data.single_values(ids)
    assert singles["test/accuracy"][ids[2]] == pytest.approx(0.84)
    plots = compare_data.latest_plots(ids)
    assert set(plots) == {("class counts", "val"), ("confusion", "val"), ("latency", "ms"), ("report", "val"),
                          ("roc", "val")}
    assert plots[("latency", "ms")][ids[0]]["figure"]["kind"] == "box"
    assert plots[("class counts", "val")][ids[0]]["figure"]["kind"] == "bar"
    samples = compare_data.debug_samples(ids)
    assert [s["iteration"] for s in samples[ids[0]]] == [59, 59, 10, 10]
    contents = compare_data.debug_sample_bytes_many([s["id"] for s in samples[ids[0]]])
    assert all(raw.startswith(b"\x89PNG") for raw in contents.values()) and len(contents) == 4
    assert compare_data.varying_parameters(ids) == ["Args/seed"]
    rows = compare_data.experiment_rows([ids[2], "missing", ids[0]])
    assert [r["id"] for r in rows] == [ids[2], ids[0]]


@pytest.mark.both_backends
def test_picker_search_by_name_or_id_with_archived_optional(db):
    from exptable_desktop.core import actions
    keep = recording.create_experiment("vision", "ResNet baseline")
    gone = recording.create_experiment("vision", "resnet old")
    other = recording.create_experiment("nlp", "bert")
    actions.archive([gone])
    assert [r["id"] for r in compare_data.search_experiments("RESNET")] == [keep]
    found = {r["id"] for r in compare_data.search_experiments("resnet", include_archived=True)}
    assert found == {keep, gone}
    assert [r["id"] for r in compare_data.search_experiments(other[:6])] == [other]
    assert [r["id"] for r in compare_data.search_experiments("", project="nlp")] == [other]
    assert compare_data.search_experiments("", project="no such project") == []
    assert math.isfinite(compare_data.search_experiments("bert")[0]["last_update"])
