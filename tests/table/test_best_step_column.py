"""The "at best step" table column: one metric's value at the iteration where another is best.

Every expected value below is worked out by hand from the points written; the column must give the
same through each way the table reads it (the whole scope, a project's scope, a few ids for a refresh,
the column cache), on SQLite and PostgreSQL.
"""
from __future__ import annotations

import csv
import io
import math

import numpy as np
import pytest

from exptable_desktop.core import columns as C
from exptable_desktop.core import states as st
from exptable_desktop.core.filters import RangeFilter
from exptable_desktop.core.recording import create_experiment, record_batch, set_status
from exptable_desktop.store import bulk
from exptable_desktop.store.bulk import Scope

ACC_AT_MIN_LOSS = C.best_step_key("val", "acc", "min", "val", "loss")
ACC_AT_MAX_LOSS = C.best_step_key("val", "acc", "max", "val", "loss")
NAN = float("nan")


def _run(project: str, name: str, loss=(), acc=(), flushes: int = 1) -> str:
    """An experiment reporting ``loss`` and ``acc`` as (iteration, value) points, over ``flushes`` writes."""
    exp_id = create_experiment(project, name, user="tester")
    set_status(exp_id, st.RUNNING)
    points = [("val", "loss", i, v, 1000.0 + i) for i, v in loss] + [("val", "acc", i, v, 1000.0 + i) for i, v in acc]
    points.sort(key=lambda p: p[2])
    step = max(1, math.ceil(len(points) / flushes))
    for start in range(0, len(points), step):
        record_batch(exp_id, scalars=points[start:start + step])
    return exp_id


@pytest.fixture
def runs(db):
    """Experiments whose expected cells (acc at min loss, acc at max loss) are worked out in the comments."""
    ids = {}
    # Loss is lowest (0.5) at iterations 1 and 3: the first, 1, counts -> acc 0.6.
    # Highest (1.0) at 0 -> acc 0.1.
    ids["tie"] = _run("best", "tie", loss=[(0, 1.0), (1, 0.5), (2, 0.7), (3, 0.5)],
                      acc=[(0, 0.1), (1, 0.6), (2, 0.7), (3, 0.9)])
    # Lowest loss at 10, where acc has no point: its last point before, at 5 -> 0.55.
    # Highest at 0 -> acc 0.3. Written in three flushes (several stored chunks).
    ids["gap"] = _run("best", "gap", loss=[(0, 0.9), (10, 0.2), (20, 0.4)],
                      acc=[(0, 0.3), (5, 0.55), (15, 0.8)], flushes=3)
    # Lowest loss at 2, acc starts at 5: nothing at or before 2 -> blank. Highest at 6 -> acc 0.8.
    ids["late"] = _run("best", "late", loss=[(2, 0.1), (6, 0.3)], acc=[(5, 0.7), (6, 0.8)])
    # No loss at all -> blank in both columns.
    ids["no-loss"] = _run("best", "no-loss", acc=[(0, 0.4), (1, 0.5)])
    # Loss NaN except at 4 (0.3) and 7 (0.3): min and max are both 0.3, first at 4 -> acc 0.45 in both.
    ids["nan"] = _run("best", "nan", loss=[(1, NAN), (4, 0.3), (7, 0.3), (9, NAN)],
                      acc=[(3, 0.4), (4, 0.45), (8, 0.5)])
    # Highest loss 0.9 at 0 and again at 4: first, 0 -> acc 0.2; lowest 0.1 at 2 -> acc 0.25.
    ids["max-tie"] = _run("other", "max-tie", loss=[(0, 0.9), (2, 0.1), (4, 0.9)],
                          acc=[(0, 0.2), (2, 0.25), (4, 0.3)])
    # No acc -> blank.
    ids["no-acc"] = _run("other", "no-acc", loss=[(0, 0.5), (1, 0.4)])
    return ids


EXPECTED_MIN = {"tie": 0.6, "gap": 0.55, "late": None, "no-loss": None, "nan": 0.45, "max-tie": 0.25, "no-acc": None}
EXPECTED_MAX = {"tie": 0.1, "gap": 0.3, "late": 0.8, "no-loss": None, "nan": 0.45, "max-tie": 0.2, "no-acc": None}


def _cells(table, key, ids):
    out = {}
    for name, exp_id in ids.items():
        value = table.value(table.id_to_slot[exp_id], key)
        out[name] = None if math.isnan(value) else round(float(value), 10)
    return out


def _load(scope, keys, **kwargs):
    from exptable_desktop.core.table_loading import load_base_table, load_custom_columns

    table = load_base_table(scope)
    for key, values in load_custom_columns(scope, keys, expected_rows=table.n, **kwargs):
        table.add_custom_column(key, values)
    return table


def test_key_title_and_parsing():
    key = C.best_step_key("val/x", "acc@1", "max", "train:a", "loss")
    spec = C.spec_for(key)
    assert spec.kind == C.METRIC and spec.at_best_step and spec.is_custom and spec.sortable
    assert spec.filter_kind == C.FILTER_RANGE
    assert spec.source == ("val/x", "acc@1", "best", "train:a", "loss", "max")
    assert spec.title == "val/x › acc@1 (at max train:a › loss)"
    assert "last point before" in spec.description
    assert not C.spec_for(C.metric_key("val", "acc", "last")).at_best_step
    for bad in ("best:a/b@mid:c/d", "best:a/b", "best:a@min:c/d", "best:a/b@min:c", "best:a/b/c@min:d/e"):
        assert not C.is_valid_key(bad), bad
    with pytest.raises(ValueError, match="min or max"):
        C.best_step_key("a", "b", "last", "c", "d")


@pytest.mark.both_backends
def test_hand_computed_values_through_every_read(runs):
    from exptable_desktop.core.projects import find_project
    from exptable_desktop.core.table_loading import read_custom_values

    keys = [ACC_AT_MIN_LOSS, ACC_AT_MAX_LOSS]
    everything = Scope(None, False)
    for whole_db in (True, False):
        table = _load(everything, keys, whole_db=whole_db, keep_cache=False)
        assert _cells(table, ACC_AT_MIN_LOSS, runs) == EXPECTED_MIN
        assert _cells(table, ACC_AT_MAX_LOSS, runs) == EXPECTED_MAX
    # One project's scope: the other project's experiments are not in it.
    project = Scope((find_project("best").id,), False)
    table = _load(project, keys, whole_db=False)
    best_only = {k: v for k, v in runs.items() if k not in ("max-tie", "no-acc")}
    assert set(table.alive_ids()) == set(best_only.values())
    assert _cells(table, ACC_AT_MIN_LOSS, best_only) == {k: EXPECTED_MIN[k] for k in best_only}
    # A few ids, as a refresh tick reads them.
    values = read_custom_values([runs["gap"], runs["late"], runs["max-tie"]], keys)
    got = dict(zip(*values[ACC_AT_MIN_LOSS]))
    assert got == {runs["gap"]: pytest.approx(0.55), runs["max-tie"]: pytest.approx(0.25)}
    got = dict(zip(*values[ACC_AT_MAX_LOSS]))
    assert got == {runs["gap"]: pytest.approx(0.3), runs["late"]: pytest.approx(0.8),
                   runs["max-tie"]: pytest.approx(0.2)}


@pytest.mark.both_backends
def test_same_as_the_compare_page(runs):
    """The compare page's "At best step" (series read whole) and the column (summaries, one chunk) agree."""
    from exptable_desktop.core.compare_data import values_at_best_step

    ids = list(runs.values())
    for best, expected in (("min", EXPECTED_MIN), ("max", EXPECTED_MAX)):
        _steps, values = values_at_best_step(ids, ("val", "loss"), best, keys=[("val", "acc")])
        page = values.get(("val", "acc"), {})
        assert {name: (None if runs[name] not in page else round(page[runs[name]], 10)) for name in runs} == expected


@pytest.mark.both_backends
def test_long_series_picks_the_chunk_holding_the_step(db):
    """10,000 points of acc in several stored chunks; loss is lowest at 7,001 and highest at 9,999."""
    from exptable_desktop.store.schema import ScalarChunk

    exp_id = create_experiment("long", "long", user="tester")
    its = np.arange(10_000)
    loss = np.abs(its - 7001) / 10_000 + 0.01
    for start in range(0, 10_000, 2_500):  # four flushes
        part = slice(start, start + 2_500)
        record_batch(exp_id, scalars={("val", "loss"): (its[part], loss[part], its[part] * 1.0),
                                      ("val", "acc"): (its[part], its[part] / 10_000, its[part] * 1.0)})
    assert ScalarChunk.select().where((ScalarChunk.experiment == exp_id) & (ScalarChunk.variant == "acc")).count() > 1
    table = _load(Scope(None, False), [ACC_AT_MIN_LOSS, ACC_AT_MAX_LOSS], whole_db=True, keep_cache=False)
    assert _cells(table, ACC_AT_MIN_LOSS, {"long": exp_id}) == {"long": 0.7001}
    assert _cells(table, ACC_AT_MAX_LOSS, {"long": exp_id}) == {"long": 0.0}  # |0 - 7001| is the largest


@pytest.mark.both_backends
def test_summary_without_the_best_iteration_reads_the_series(runs):
    """Summaries written by older writers lack min_iteration/max_iteration: the series decides instead."""
    from exptable_desktop.store.schema import MetricSummary

    MetricSummary.update(min_iteration=None, max_iteration=None).where(MetricSummary.variant == "loss").execute()
    table = _load(Scope(None, False), [ACC_AT_MIN_LOSS, ACC_AT_MAX_LOSS], whole_db=True, keep_cache=False)
    assert _cells(table, ACC_AT_MIN_LOSS, runs) == EXPECTED_MIN
    assert _cells(table, ACC_AT_MAX_LOSS, runs) == EXPECTED_MAX


@pytest.mark.both_backends
def test_sorts_filters_exports_and_refreshes_like_a_metric(runs):
    from exptable_desktop.core.table_loading import fetch_changes
    from exptable_desktop.io.csv_export import table_for_export, write_csv

    table = _load(Scope(None, False), [ACC_AT_MIN_LOSS], whole_db=True, keep_cache=False)
    table.set_sort([(ACC_AT_MIN_LOSS, True)])
    names = {v: k for k, v in runs.items()}
    # Descending, blanks last (in their slot order).
    assert [names[i] for i in table.visible_ids()][:4] == ["tie", "gap", "nan", "max-tie"]
    table.set_filter(ACC_AT_MIN_LOSS, RangeFilter(0.4, 0.56))
    assert sorted(names[i] for i in table.visible_ids()) == ["gap", "nan"]

    export = table_for_export(Scope(None, False), ["name", ACC_AT_MIN_LOSS], sort=[("name", False)])
    out = io.StringIO(newline="")
    write_csv(out, export, ["name", ACC_AT_MIN_LOSS])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["NAME", "val › acc (at min val › loss)"]
    assert dict(rows[1:])["gap"] == "0.55" and dict(rows[1:])["late"] == ""

    # A new lowest loss at 30, where acc is 0.95: the next refresh tick shows it.
    since = bulk.current_change_seq()
    record_batch(runs["gap"], scalars=[("val", "loss", 30, 0.05, 1030.0), ("val", "acc", 30, 0.95, 1030.0)])
    changes = fetch_changes(since, [ACC_AT_MIN_LOSS])
    table.apply_changes(changes, Scope(None, False))
    assert _cells(table, ACC_AT_MIN_LOSS, {"gap": runs["gap"]}) == {"gap": 0.95}


def test_the_key_survives_layouts_views_and_links():
    from exptable_desktop.core.links import parse_link, view_link
    from exptable_desktop.core.named_views import ViewSpec
    from exptable_desktop.core.viewstate import default_state, state_from_dict

    key = C.best_step_key("val", "acc/top-1", "min", "val", "loss")
    state = default_state(True)
    state.custom = [key]
    state.sort = [(key, True)]
    state.widths[key] = 210
    state.filters[key] = RangeFilter(0.5, None)
    again = state_from_dict(state.to_dict(), True)
    assert again.custom == [key] and again.sort == [(key, True)] and again.widths[key] == 210
    assert again.filters[key] == RangeFilter(0.5, None)
    spec = ViewSpec(table=state)
    assert ViewSpec.from_dict(spec.to_dict()).table.custom == [key]
    state.order = list(state.order) + [key]
    link = parse_link(view_link(spec))
    assert key in link.spec.table.custom and link.spec.table.widths[key] == 210


@pytest.mark.both_backends
def test_chooser_offers_it_and_adding_it_fills_the_column(qtbot, db_url, runs):
    from PySide6.QtCore import Qt

    from exptable_desktop.ui import create_main_window
    from exptable_desktop.ui.column_dialogs import BestStepPanel

    win = create_main_window(db_url)
    qtbot.addWidget(win)
    win.auto_refresh_toggle.setChecked(False)
    win.resize(1400, 700)
    win.show()
    qtbot.waitExposed(win)
    try:
        dialog = win.metrics_dialog()
        panel = dialog.findChild(BestStepPanel, "bestStepPanel")
        assert panel is not None
        offered = [panel.shown_box.itemText(i) for i in range(panel.shown_box.count())]
        assert offered == ["val › acc", "val › loss"]
        assert panel.best_box.itemData(0) == "min" and panel.best_box.itemData(1) == "max"
        # A name that is no series cannot be added.
        panel.shown_box.setCurrentText("val › nothing")
        assert not panel.add_button.isEnabled()
        panel.add("val", "acc", "min", "val", "loss")
        assert panel.selected_keys() == [ACC_AT_MIN_LOSS]
        assert not panel.add_button.isEnabled()  # the same column twice: no
        assert ACC_AT_MIN_LOSS in dialog.selected_keys()
        assert not dialog.grab().isNull()  # it paints (a child named like a QWidget method would not)
        win._apply_dialog_choice(C.METRIC, dialog.selected_keys())
        dialog.deleteLater()

        model = win.model
        col = model.column_of(ACC_AT_MIN_LOSS)
        assert col >= 0
        assert model.headerData(col, Qt.Orientation.Horizontal) == "val › acc (at min val › loss)"
        cells = {name: model.index(model.row_of_id(exp_id), col).data() for name, exp_id in runs.items()}
        assert cells == {"tie": "0.6", "gap": "0.55", "late": "", "no-loss": "", "nan": "0.45", "max-tie": "0.25",
                         "no-acc": ""}
        # Reopened, the dialog lists it checked; unchecking it removes the column.
        dialog = win.metrics_dialog()
        assert dialog.best_step.selected_keys() == [ACC_AT_MIN_LOSS]
        dialog.best_step.columns_list.item(0).setCheckState(Qt.CheckState.Unchecked)
        win._apply_dialog_choice(C.METRIC, dialog.selected_keys())
        dialog.deleteLater()
        assert model.column_of(ACC_AT_MIN_LOSS) < 0
    finally:
        win._stop_loader()
        win.refresh_timer.stop()
        win._stop_fetcher(wait=True)


def test_many_series_at_once_agree_with_one_at_a_time():
    from exptable_desktop.core.compare_stats import value_at, values_at_many

    # By hand: a repeated iteration (the later report wins), a gap, nothing before, an empty series,
    # iterations out of order.
    series = [([0, 5, 5, 9], [1.0, 2.0, 2.5, 3.0], 5, 2.5), ([0, 5, 5, 9], [1.0, 2.0, 2.5, 3.0], 7, 2.5),
              ([3, 4], [1.0, 2.0], 2, None), ([], [], 4, None), ([4, 2, 8], [1.0, 2.0, 3.0], 3, 2.0),
              ([4, 2, 8], [1.0, 2.0, 3.0], 9, 3.0)]
    its = np.array([i for s in series for i in s[0]], dtype=np.int64)
    vals = np.array([v for s in series for v in s[1]], dtype=np.float64)
    starts = np.cumsum([0] + [len(s[0]) for s in series[:-1]])
    found, values = values_at_many(its, vals, starts, np.array([s[2] for s in series]))
    assert [None if not f else float(v) for f, v in zip(found, values)] == [s[3] for s in series]
    # And against value_at on many random ones.
    rng = np.random.default_rng(3)
    for _ in range(200):
        parts = [(rng.integers(0, 10, int(rng.integers(0, 7))), None) for _ in range(int(rng.integers(1, 6)))]
        parts = [(a if rng.random() < 0.5 else np.sort(a), rng.normal(size=len(a))) for a, _ in parts]
        steps = rng.integers(-1, 11, len(parts))
        starts = np.cumsum([0] + [len(a) for a, _ in parts[:-1]])
        found, values = values_at_many(np.concatenate([a for a, _ in parts]), np.concatenate([b for _, b in parts]),
                                       starts, steps)
        for k, (a, b) in enumerate(parts):
            one = value_at(a, b, int(steps[k]))
            assert found[k] == (one is not None) and (one is None or values[k] == one[1])
