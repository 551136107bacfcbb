"""The compare page's DETAILS and HYPERPARAMETERS tabs (VALUES, PARALLEL COORDINATES, SCATTER):
the diff rules on hand-made cases, the bulk reads on both backends, and the tabs at 2, 10 and
100 experiments."""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from exptable_desktop.core import compare_diff as cd
from exptable_desktop.core import recording
from exptable_desktop.core.columns import spec_for
from exptable_desktop.store.schema import Artifact, Queue
from exptable_desktop.ui.comparison.details_tab import (
    BASE_PREFIX,
    DIFF_BACKGROUND,
    DetailsTab,
    DiffModel,
    DiffRole,
)
from exptable_desktop.ui.comparison.hyperparams_tab import PARALLEL, SCATTER, VALUES, HyperparamsTab
from exptable_desktop.ui.comparison.parallel_tab import DIM_OPACITY, ParallelTab
from exptable_desktop.ui.comparison.scatter_tab import ScatterTab

from diff_support import compared, make_sweep

K = cd.FieldKey
# 100 experiments take ~2 s to record (the real recording path), hence slow; still run.
COUNTS = [2, 10, pytest.param(100, marks=pytest.mark.slow)]


# ---- Diff rules (no database) -------------------------------------------------------------

def test_align_lines_pairs_equal_replaced_inserted_and_missing_lines_with_the_base():
    base = ("numpy==1.26", "torch==2.3", "tqdm")
    rows = cd.align_lines([
        base,
        ("numpy==1.26", "torch==2.4", "tqdm"),              # a replaced line shares the base's row
        ("numpy==1.26", "torch==2.3", "scipy", "tqdm"),     # an inserted line gets a row of its own
        ("torch==2.3",),                                      # missing lines are None
        None,                                                 # no text at all
        ("numpy==1.26", "torch==2.3", "tqdm", "wandb", "rich"),  # appended lines after the last
    ])
    assert rows == [
        ("numpy==1.26", "numpy==1.26", "numpy==1.26", None, None, "numpy==1.26"),
        ("torch==2.3", "torch==2.4", "torch==2.3", "torch==2.3", None, "torch==2.3"),
        (None, None, "scipy", None, None, None),
        ("tqdm", "tqdm", "tqdm", None, None, "tqdm"),
        (None, None, None, None, None, "wandb"),
        (None, None, None, None, None, "rich"),
    ]


def test_align_lines_puts_the_surplus_of_a_longer_replacement_after_the_paired_lines():
    rows = cd.align_lines([("a", "b", "z"), ("a", "x1", "x2", "x3", "z")])
    assert rows == [("a", "a"), ("b", "x1"), (None, "x2"), (None, "x3"), ("z", "z")]


def test_compare_rows_flags_cells_that_differ_from_the_base_and_counts_them_per_section():
    src = "EXECUTION › SOURCE"
    records = [
        {K(1, src, 0, "COMMIT"): "abc", K(1, src, 1, "BRANCH"): "main", K(2, "PKG", 0, "PACKAGES"): ("a", "b")},
        {K(1, src, 0, "COMMIT"): "abc", K(1, src, 1, "BRANCH"): "dev", K(2, "PKG", 0, "PACKAGES"): ("a", "c")},
        {K(1, src, 0, "COMMIT"): "def", K(2, "PKG", 0, "PACKAGES"): ("a", "b")},
    ]
    rows = cd.compare_rows(records)
    assert [(r.kind, r.label) for r in rows] == [
        (cd.SECTION, src), (cd.VALUE, "COMMIT"), (cd.VALUE, "BRANCH"),
        (cd.SECTION, "PKG"), (cd.VALUE, "PACKAGES"), (cd.LINE, "")]
    section, commit, branch, _pkg, line_a, line_b = rows
    assert commit.values == ("abc", "abc", "def") and commit.differs == (False, False, True)
    # A field the third lacks is absent (None), which differs from the base's "main".
    assert branch.values == ("main", "dev", None) and branch.differs == (False, True, True)
    assert line_a.values == ("a", "a", "a") and not line_a.any_differs
    assert line_b.values == ("b", "c", "b") and line_b.differs == (False, True, False)
    assert section.diff_count == 2 and rows[3].diff_count == 1


def test_compare_rows_is_relative_to_the_first_record():
    records = [{K(0, "S", 0, "x"): "1"}, {K(0, "S", 0, "x"): "2"}, {K(0, "S", 0, "x"): "2"}]
    assert cd.compare_rows(records)[1].differs == (False, True, True)
    assert cd.compare_rows(records[1:] + records[:1])[1].differs == (False, False, True)


def test_compare_rows_keeps_an_empty_text_as_one_row_and_orders_sections_by_rank():
    records = [{K(5, "Later", 0, "x"): "1", K(1, "First", 0, "DIFF"): ()},
               {K(5, "Later", 0, "x"): "1", K(1, "First", 0, "DIFF"): ""}]
    rows = cd.compare_rows(records)
    assert [r.label for r in rows] == ["First", "DIFF", "Later", "x"]
    assert rows[1].values == ("", "") and not rows[1].any_differs


def test_visible_rows_hides_identical_rows_and_sections_left_empty():
    records = [{K(0, "A", 0, "same"): "1", K(1, "B", 0, "same"): "x", K(1, "B", 1, "other"): "y"},
               {K(0, "A", 0, "same"): "1", K(1, "B", 0, "same"): "x", K(1, "B", 1, "other"): "z"}]
    rows = cd.compare_rows(records)
    assert [r.label for r in cd.visible_rows(rows, False)] == ["A", "same", "B", "same", "other"]
    assert [r.label for r in cd.visible_rows(rows, True)] == ["B", "other"]


def test_differing_hyperparameters_count_a_missing_value_as_different():
    table = {("Args", "lr"): {"a": "0.1", "b": "0.01"}, ("Args", "bs"): {"a": "32", "b": "32"},
             ("Args", "extra"): {"a": "1"}, ("properties", "owner"): {"a": "me", "b": "you"}}
    assert cd.differing_hyperparameters(table, ["a", "b"]) == [("Args", "lr"), ("Args", "extra"),
                                                              ("properties", "owner")]
    assert cd.differing_hyperparameters(table, ["a"]) == []
    keys = cd.differing_hyperparameter_columns(table, ["a", "b"])
    assert [spec_for(k).source for k in keys] == [("Args", "lr"), ("Args", "extra"), ("properties", "owner")]


def test_axes_numeric_log_and_categorical():
    numeric = cd.make_axis("bs", {"a": "32", "b": "64", "c": None})
    assert not numeric.categorical and not numeric.log
    assert numeric.normalised("a") == 0.0 and numeric.normalised("b") == 1.0 and numeric.normalised("c") is None
    lr = cd.make_axis("lr", {"a": "0.001", "b": "0.01", "c": "0.1"})
    assert lr.log and lr.normalised("b") == pytest.approx(0.5)
    assert [t for _p, t in lr.tick_labels(3)] == ["0.001", "0.01", "0.1"]
    mixed = cd.make_axis("opt", {"a": "sgd", "b": "adam", "c": "10", "d": "2"})
    assert mixed.categorical and mixed.categories == ["2", "10", "adam", "sgd"]
    assert mixed.normalised("a") == 1.0 and mixed.normalised("d") == 0.0
    single = cd.make_axis("one", {"a": "x", "b": "x"})
    assert single.normalised("a") == 0.5 and single.tick_labels() == [(0.5, "x")]
    same = cd.make_axis("flat", {"a": 3.0, "b": 3.0})
    assert same.normalised("a") == pytest.approx(0.5)


def test_search_matches_names_and_values_case_insensitively():
    rows = cd.compare_rows([{K(0, "S", 0, "learning_rate"): "0.1", K(0, "S", 1, "model"): "ResNet"},
                            {K(0, "S", 0, "learning_rate"): "0.01", K(0, "S", 1, "model"): "vit"}])
    assert cd.search_matches(rows, "RATE") == [(1, -1)]
    assert cd.search_matches(rows, "0.1") == [(1, 0)]
    assert cd.search_matches(rows, "resnet") == [(2, 0)]
    assert cd.search_matches(rows, "  ") == []


def test_long_texts_are_cut_with_a_closing_line():
    lines = cd.text_lines("\n".join(str(n) for n in range(cd.MAX_TEXT_LINES + 5)))
    assert len(lines) == cd.MAX_TEXT_LINES + 1 and lines[-1] == "... 5 more lines"
    assert cd.text_lines("a\r\nb\n") == ("a", "b") and cd.text_lines("") == ()


# ---- Bulk reads, SQLite and PostgreSQL ---------------------------------------------------------

@contextmanager
def counted_statements():
    statements: list[str] = []

    class Counter(logging.Handler):
        def emit(self, record):
            statements.append(str(record.msg))

    logger = logging.getLogger("peewee")
    handler, level = Counter(logging.DEBUG), logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield statements
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


@pytest.mark.both_backends
def test_details_are_read_in_a_fixed_number_of_queries_whatever_the_count(db):
    ids = make_sweep(12)
    with counted_statements() as few:
        cd.load_details(ids[:2])
    with counted_statements() as many:
        details = cd.load_details(ids)
    assert len(many) == len(few) <= 10
    with counted_statements() as hp_queries:
        cd.load_hyperparameters(ids)
        cd.load_metric_values(ids)
    assert len(hp_queries) == 2
    assert set(details) == set(ids)


@pytest.mark.both_backends
def test_details_record_holds_every_card_section(db):
    queue = Queue.create(name="gpu", created=0.0, last_update=0.0)
    parent = recording.create_experiment("p", "the parent")
    child = recording.create_experiment("p/sub", "child", parent=parent, tags=["b-tag", "a-tag"],
                                        execution={"repository": "https://git/x.git", "commit": "c0ffee",
                                                   "requirements": "numpy==2.0\ntorch==2.4",
                                                   "diff": "+ added\n- removed",
                                                   "container_setup": "apt-get update\napt-get install -y git"},
                                        runtime={"hostname": "box", "_internal": 1})
    from exptable_desktop.store.schema import Experiment
    Experiment.update(queue=queue.id).where(Experiment.id == child).execute()
    recording.record_configuration(child, "config", "a: 1\nb: 2")
    Artifact.create(experiment=child, name="weights.pt", kind="model", mode="output", uri="s3://b/w.pt", created=0.0)
    Artifact.create(experiment=child, name="data.csv", kind="artifact", mode="output", uri="/tmp/d.csv",
                    size=2048, hash="h1", content_type="text/csv", preview="x,y\n1,2", metadata='{"rows": 2}',
                    created=0.0)
    record = cd.load_details([child, "no-such-id"])
    assert list(record) == [child]
    fields = {(k.section, k.label): v for k, v in record[child].items()}
    assert fields[("EXECUTION › SOURCE", "REPOSITORY")] == "https://git/x.git"
    assert fields[("EXECUTION › SOURCE", "COMMIT ID")] == "c0ffee"
    assert fields[("EXECUTION › INSTALLED PACKAGES", "PACKAGES")] == ("numpy==2.0", "torch==2.4")
    assert fields[("EXECUTION › UNCOMMITTED CHANGES", "DIFF")] == ("+ added", "- removed")
    assert fields[("EXECUTION › CONTAINER", "SETUP SHELL SCRIPT")] == ("apt-get update", "apt-get install -y git")
    assert fields[("ARTIFACTS › OUTPUT MODELS", "weights.pt")] == "s3://b/w.pt"
    assert fields[("ARTIFACTS › data.csv", "FILE SIZE")] == "2.0 KB"
    assert fields[("ARTIFACTS › data.csv", "PREVIEW")] == ("x,y", "1,2")
    assert fields[("CONFIGURATION › config", "CONTENT")] == ("a: 1", "b: 2")
    assert fields[("GENERAL INFO", "QUEUE")] == "gpu"
    assert fields[("GENERAL INFO", "PARENT TASK")] == f"the parent ({parent})"
    assert fields[("GENERAL INFO", "PROJECT")] == "p/sub"
    assert fields[("GENERAL INFO › RUNTIME", "hostname")] == "box"
    assert ("GENERAL INFO › RUNTIME", "_internal") not in fields
    assert [k.label for k in sorted(record[child]) if k.section == "TAGS"] == ["a-tag", "b-tag"]
    # Without requirements the packages row says where they come from, as the details panel does.
    bare = recording.create_experiment("p", "bare")
    bare_fields = {(k.section, k.label): v for k, v in cd.load_details([bare])[bare].items()}
    assert bare_fields[("EXECUTION › INSTALLED PACKAGES", "PACKAGES")] == \
        ("Packages will be installed from repository requirements.txt",)


@pytest.mark.both_backends
def test_hyperparameters_and_metric_values_are_read_for_all_experiments(db):
    ids = make_sweep(4)
    hp = cd.load_hyperparameters(ids)
    assert hp[("Args", "learning_rate")] == {ids[0]: "0.1", ids[1]: "0.03", ids[2]: "0.01", ids[3]: "0.003"}
    assert ("properties", "owner") in hp and list(hp)[-1] == ("properties", "owner")
    assert hp[("General", "warmup_steps")] == {ids[0]: "500", ids[3]: "1000"}
    metrics = cd.load_metric_values(ids)
    assert set(metrics) == {("accuracy", "top1"), ("loss", "train"), ("loss", "validation")}
    last, low, high = metrics[("loss", "train")][ids[0]]
    assert low <= last <= high


# ---- The diff model -----------------------------------------------------------------------------

def test_diff_model_passes_the_model_tester_through_base_change_and_hide_identical(db, qtmodeltester):
    ids = make_sweep(3)
    model = DiffModel()
    qtmodeltester.check(model)  # empty
    experiments = compared(ids)
    model.set_comparison(experiments, cd.load_details(ids))
    qtmodeltester.check(model)
    model.set_order([ids[2], ids[0], ids[1]])
    model.set_hide_identical(True)
    model.set_matches([(1, 1)], (1, 1))
    model.set_experiment_looks([e.with_hidden(True) for e in experiments])
    qtmodeltester.check(model)
    hp = cd.load_hyperparameters(ids)
    hp_model = DiffModel("PARAMETER")
    hp_model.set_comparison(experiments, cd.hyperparameter_records(hp, ids))
    qtmodeltester.check(hp_model)


def details_tab(qtbot, experiments) -> DetailsTab:
    tab = DetailsTab()
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.show()
    tab.set_experiments(experiments)
    return tab


@pytest.mark.parametrize("count", COUNTS)
def test_details_tab_shows_every_experiment_as_a_column_beside_fixed_field_names(qtbot, db, count):
    ids = make_sweep(count)
    experiments = compared(ids)
    started = time.perf_counter()
    tab = details_tab(qtbot, experiments)
    elapsed = time.perf_counter() - started
    model = tab.table.model
    assert model.columnCount() == count + 1
    assert model.experiment_ids() == ids
    names, values = tab.table.names_view, tab.table.values_view
    assert not names.isColumnHidden(0) and all(names.isColumnHidden(c) for c in range(1, count + 1))
    assert values.isColumnHidden(0) and not any(values.isColumnHidden(c) for c in range(1, count + 1))
    assert model.headerData(1, Qt.Orientation.Horizontal) == BASE_PREFIX + experiments[0].name
    assert model.headerData(count, Qt.Orientation.Horizontal) == experiments[-1].name
    # The names stay put while the values scroll sideways; rows stay level when scrolled down.
    values.horizontalScrollBar().setValue(values.horizontalScrollBar().maximum())
    assert names.horizontalScrollBar().value() == 0
    values.verticalScrollBar().setValue(5)
    assert names.verticalScrollBar().value() == 5
    commit = next(r for r, row in enumerate(model.rows()) if row.label == "COMMIT ID")
    assert model.data(model.index(commit, 0)) == "COMMIT ID"
    # Runs 0 and 1 share a commit, run 2 has another (see diff_support).
    assert model.data(model.index(commit, 2), DiffRole) is False
    if count > 2:
        assert model.data(model.index(commit, 3), DiffRole) is True
        assert model.data(model.index(commit, 3), Qt.ItemDataRole.BackgroundRole).color() == DIFF_BACKGROUND
    assert elapsed < 3.0, f"{count} experiments took {elapsed:.2f} s"


def test_hide_identical_leaves_only_differing_rows_and_their_sections(qtbot, db):
    ids = make_sweep(4)
    tab = details_tab(qtbot, compared(ids))
    model = tab.table.model
    all_labels = [r.label for r in model.rows()]
    assert "REPOSITORY" in all_labels and "WORKING DIRECTORY" in all_labels
    tab.hide_identical(True)
    assert tab.table.hide_check.isChecked()
    rows = model.rows()
    assert all(r.any_differs for r in rows if r.kind != cd.SECTION)
    assert "REPOSITORY" not in [r.label for r in rows] and "BRANCH" in [r.label for r in rows]
    assert "EXECUTION › OUTPUT" not in [r.label for r in rows if r.kind == cd.SECTION]
    tab.table.hide_check.setChecked(False)
    assert [r.label for r in model.rows()] == all_labels


def test_set_as_base_compares_everything_to_the_new_base(qtbot, db):
    ids = make_sweep(3)
    experiments = compared(ids)
    tab = details_tab(qtbot, experiments)
    model = tab.table.model
    branch_row = lambda: next(r for r in model.rows() if r.label == "BRANCH")  # noqa: E731
    # Run 0 is on feature/aug, runs 1 and 2 on main.
    assert branch_row().differs == (False, True, True)
    with qtbot.waitSignal(tab.sig_order_changed) as signal:
        tab.set_base(ids[1])
    assert signal.args == [[ids[1], ids[0], ids[2]]]
    assert model.base_id() == ids[1]
    assert model.headerData(1, Qt.Orientation.Horizontal) == BASE_PREFIX + experiments[1].name
    assert branch_row().values == ("main", "feature/aug", "main") and branch_row().differs == (False, True, False)
    # The page sends its order back: nothing is re-read, the order stays.
    tab.set_experiments([experiments[1], experiments[0], experiments[2]])
    assert model.experiment_ids() == [ids[1], ids[0], ids[2]]


def test_dragging_a_column_leftmost_makes_it_the_base(qtbot, db):
    ids = make_sweep(3)
    tab = details_tab(qtbot, compared(ids))
    header = tab.table.values_view.horizontalHeader()
    with qtbot.waitSignal(tab.sig_order_changed):
        header.moveSection(header.visualIndex(3), header.visualIndex(1))
    assert tab.table.model.experiment_ids() == [ids[2], ids[0], ids[1]]
    # The header's own mapping is reset: logical and visual columns agree again.
    assert [header.visualIndex(n) for n in range(header.count())] == list(range(header.count()))


def test_previous_and_next_difference_walk_the_differing_rows_and_wrap(qtbot, db):
    ids = make_sweep(3)
    tab = details_tab(qtbot, compared(ids))
    table = tab.table
    differing = table.model.difference_rows()
    assert len(differing) > 3
    assert table.next_difference() == differing[0]
    assert table.current_row() == differing[0]
    assert table.next_difference() == differing[1]
    assert table.previous_difference() == differing[0]
    assert table.previous_difference() == differing[-1]  # wraps
    assert table.next_difference() == differing[0]
    assert table.names_view.selectionModel().isRowSelected(differing[0])


def test_search_finds_names_and_values_and_steps_through_matches(qtbot, db):
    ids = make_sweep(3)
    tab = details_tab(qtbot, compared(ids))
    table = tab.table
    table.search_box.setText("torch==2.3")
    matches = table.matches()
    rows = table.model.rows()
    assert matches and all(rows[r].values[c - 1] == "torch==2.3.1" for r, c in matches)
    assert table.current_match() == matches[0]
    assert table.match_label.text() == f"1 of {len(matches)}"
    assert table.model.data(table.model.index(*matches[0]), Qt.ItemDataRole.BackgroundRole) is not None
    table.next_match()
    assert table.current_match() == matches[1 % len(matches)]
    table.search_box.setText("working dir")
    assert [rows[r].label for r, c in table.matches()] == ["WORKING DIRECTORY"] and table.matches()[0][1] == 0
    table.search_box.setText("no such text anywhere")
    assert table.matches() == [] and table.match_label.text() == "no match"


# ---- HYPERPARAMETERS ------------------------------------------------------------------------------

def hyperparams_tab(qtbot, experiments) -> HyperparamsTab:
    tab = HyperparamsTab()
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.show()
    tab.set_experiments(experiments)
    return tab


@pytest.mark.parametrize("count", COUNTS)
def test_hyperparameter_values_side_by_side_per_section(qtbot, db, count):
    ids = make_sweep(count)
    tab = hyperparams_tab(qtbot, compared(ids))
    model = tab.values.model
    assert model.columnCount() == count + 1
    sections = [r.label for r in model.rows() if r.kind == cd.SECTION]
    assert sections == ["Args", "General", "User Properties"]
    lr = next(r for r in model.rows() if r.label == "learning_rate")
    assert lr.values[:2] == ("0.1", "0.03") and lr.differs[:2] == (False, True)
    owner = next(r for r in model.rows() if r.label == "owner")
    assert not owner.any_differs
    tab.hide_identical(True)
    labels = [r.label for r in model.rows()]
    assert "owner" not in labels and "batch_size" not in labels and "learning_rate" in labels
    for view in (PARALLEL, SCATTER, VALUES):
        tab.show_view(view)
        assert tab.current_view() == view


def test_show_differing_adds_those_columns_to_the_experiments_table(qtbot, db_url, db):
    from comparison_helpers import open_window

    ids = make_sweep(3)
    window = open_window(qtbot, db_url, 3)
    tab = hyperparams_tab(qtbot, compared(ids))
    tab.sig_table_columns_requested.connect(window.add_custom_columns)
    keys = tab.show_differing_in_table()
    sources = {spec_for(k).source for k in keys}
    # Three runs share the model and the batch size (diff_support): those stay out.
    assert sources == {("Args", "learning_rate"), ("Args", "optimizer"), ("Args", "seed"), ("Args", "dropout"),
                       ("Args", "epochs"), ("General", "warmup_steps")}
    assert tab.table_button.text() == "Show 6 differing in the table"
    assert set(keys) <= set(window.model.keys)
    column = window.model.column_of(next(k for k in keys if "learning_rate" in k))
    shown = {window.model.index(r, column).data() for r in range(window.model.rowCount())}
    assert shown == {"0.1", "0.03", "0.01"}


def test_show_differing_is_off_when_all_parameters_agree(qtbot, db):
    ids = [recording.create_experiment("p", f"same {n}") for n in range(2)]
    for exp_id in ids:
        recording.record_parameters(exp_id, "Args", {"lr": {"value": "0.1"}})
    tab = hyperparams_tab(qtbot, compared(ids))
    assert not tab.table_button.isEnabled()
    with qtbot.assertNotEmitted(tab.sig_table_columns_requested):
        assert tab.show_differing_in_table() == []


# ---- PARALLEL COORDINATES -------------------------------------------------------------------------

def parallel_tab(qtbot, experiments) -> ParallelTab:
    tab = ParallelTab()
    qtbot.addWidget(tab)
    tab.resize(1200, 700)
    tab.show()
    tab.set_experiments(experiments)
    qtbot.waitExposed(tab)
    return tab


@pytest.mark.parametrize("count", COUNTS)
def test_parallel_coordinates_draw_a_line_per_experiment_in_its_colour(qtbot, db, count):
    ids = make_sweep(count)
    experiments = compared(ids)
    tab = parallel_tab(qtbot, experiments)
    tab.choose(metrics=[("loss", "validation", "min"), ("accuracy", "top1", "last")],
               params=[("Args", "learning_rate"), ("Args", "optimizer")])
    axes = tab.axes()
    # Parameters first, then the metrics (in the metrics' order): the outcome reads last.
    assert [a.label for a in axes] == ["Args.learning_rate", "Args.optimizer", "accuracy / top1 (LAST)",
                                       "loss / validation (MIN)"]
    assert axes[1].categorical and axes[1].categories == (["adam", "sgd"] if count == 2 else ["adam", "adamw", "sgd"])
    curves = tab.curves()
    assert list(curves) == ids
    for experiment in experiments:
        curve = curves[experiment.id]
        assert curve.opts["pen"].color().name() == experiment.colour
        _x, y = curve.getData()
        assert np.all((0 <= y) & (y <= 1))
    # The MIN axis places each run by its stored minimum.
    metrics = cd.load_metric_values(ids)
    lows = {i: metrics[("loss", "validation")][i][1] for i in ids}
    best = min(lows, key=lows.get)
    assert curves[best].getData()[1][3] == pytest.approx(0.0)


def test_hovering_a_line_focuses_it_and_clicking_hides_it(qtbot, db):
    ids = make_sweep(5)
    experiments = compared(ids)
    tab = parallel_tab(qtbot, experiments)
    tab.choose(metrics=[("accuracy", "top1", "last")], params=[("Args", "learning_rate")])
    point = tab.scene_point(ids[2], 0)
    # Halfway along the first segment, the line is unambiguous (axes are shared at their ends).
    end = tab.scene_point(ids[2], 1)
    middle = QPointF((point.x() + end.x()) / 2, (point.y() + end.y()) / 2)
    assert tab.experiment_at(middle) == ids[2]
    tab._mouse_moved(middle)
    assert tab.focused() == ids[2]
    curves = tab.curves()
    assert curves[ids[2]].opacity() == 1.0 and curves[ids[0]].opacity() == DIM_OPACITY
    assert experiments[2].name in tab.hover_label.text() and "Args.learning_rate = 0.01" in tab.hover_label.text()
    # Left of the first axis no line passes.
    assert tab.experiment_at(QPointF(point.x() - 60, point.y())) is None
    tab.focus(None)
    assert curves[ids[0]].opacity() == 1.0
    with qtbot.waitSignal(tab.sig_visibility_requested) as signal:
        tab.hide_experiment(ids[2])
    assert signal.args == [ids[2], True]
    assert ids[2] not in tab.curves() and tab.show_hidden_button.isVisible()
    # The page answers with the hidden flag; showing all asks it to show them again.
    tab.set_experiments([e.with_hidden(e.id == ids[2]) for e in experiments])
    assert ids[2] not in tab.curves()
    with qtbot.waitSignal(tab.sig_visibility_requested) as signal:
        tab.show_all_hidden()
    assert signal.args == [ids[2], False] and ids[2] in tab.curves()


def test_hide_identical_offers_only_differing_parameters_as_axes(qtbot, db):
    ids = make_sweep(4)
    tab = parallel_tab(qtbot, compared(ids))
    labels = lambda: [tab.param_list.item(n).text() for n in range(tab.param_list.count())]  # noqa: E731
    assert "Args.batch_size" in labels()
    tab.choose(params=[("Args", "batch_size"), ("Args", "seed")])
    tab.hide_identical(True)
    assert "Args.batch_size" not in labels() and "Args.seed" in labels()
    assert [a.label for a in tab.axes() if a.label.startswith("Args")] == ["Args.seed"]
    tab.hide_identical(False)
    assert "Args.batch_size" in [a.label for a in tab.axes()]


def test_parallel_without_axes_or_experiments_says_so(qtbot, db):
    tab = parallel_tab(qtbot, [])
    assert tab.curves() == {} and tab.empty_text.toPlainText() == "No experiments to compare"
    ids = make_sweep(2)
    tab.set_experiments(compared(ids))
    tab.choose(metrics=[], params=[])
    assert tab.curves() == {} and "Choose parameters" in tab.empty_text.toPlainText()


# ---- SCATTER ----------------------------------------------------------------------------------------

def scatter_tab(qtbot, experiments) -> ScatterTab:
    tab = ScatterTab()
    qtbot.addWidget(tab)
    tab.resize(1000, 600)
    tab.show()
    tab.set_experiments(experiments)
    qtbot.waitExposed(tab)
    return tab


@pytest.mark.parametrize("count", COUNTS)
def test_scatter_puts_a_point_per_experiment_and_names_it_on_hover(qtbot, db, count):
    ids = make_sweep(count)
    experiments = compared(ids)
    tab = scatter_tab(qtbot, experiments)
    # The default X is a parameter that differs, not one every run shares.
    assert tab.axes()[0].label != "Args.batch_size"
    tab.choose(metric=("loss", "train"), which="max", param=("Args", "learning_rate"))
    x_axis, y_axis = tab.axes()
    assert x_axis.label == "Args.learning_rate" and y_axis.label == "loss / train (MAX)"
    assert tab.spot_count() == count
    brushes = {spot.data(): spot.brush().color().name() for spot in tab.points.points()}
    assert brushes == {e.id: e.colour for e in experiments}
    tab.set_extra(("param", "Args", "optimizer"), True)
    tab.set_extra(("metric", "accuracy", "top1", "last"), True)
    target = ids[min(1, count - 1)]
    tab._mouse_moved(tab.scene_point(target))
    assert tab.focused() == target
    text = tab.hover_label.text()
    name = next(e.name for e in experiments if e.id == target)
    lr = cd.load_hyperparameters([target])[("Args", "learning_rate")][target]
    assert text.startswith(name) and f"Args.learning_rate = {lr}" in text
    assert "Args.optimizer = " in text and "accuracy / top1 (LAST) = " in text


def test_scatter_against_a_text_parameter_uses_categories(qtbot, db):
    ids = make_sweep(3)
    tab = scatter_tab(qtbot, compared(ids))
    tab.choose(metric=("accuracy", "top1"), which="last", param=("Args", "optimizer"))
    x_axis, _ = tab.axes()
    assert x_axis.categorical and x_axis.categories == ["adam", "adamw", "sgd"]
    assert not tab.log_x_check.isEnabled()
    positions = {spot.data(): spot.pos().x() for spot in tab.points.points()}
    assert positions == {ids[0]: 0.0, ids[1]: 2.0, ids[2]: 1.0}
    ticks = tab.plot.getPlotItem().getAxis("bottom")._tickLevels
    assert [t for _v, t in ticks[0]] == ["adam", "adamw", "sgd"]


def test_scatter_leaves_hidden_experiments_out(qtbot, db):
    ids = make_sweep(3)
    experiments = compared(ids)
    tab = scatter_tab(qtbot, [e.with_hidden(e.id == ids[0]) for e in experiments])
    assert {s.data() for s in tab.points.points()} == set(ids[1:])


def test_log_ticks_name_a_sweeps_values_or_its_decades():
    from exptable_desktop.ui.comparison.scatter_tab import log_ticks

    assert log_ticks([0.001, 0.01, 0.003, 0.01]) == [(pytest.approx(-3), "0.001"), (pytest.approx(np.log10(0.003)),
                                                                                    "0.003"), (pytest.approx(-2), "0.01")]
    many = [10.0 ** (k / 10) for k in range(-30, 1)]
    assert [t for _p, t in log_ticks(many)] == ["0.001", "0.01", "0.1", "1"]


# ---- On the compare page ------------------------------------------------------------------------

def test_the_tabs_on_the_compare_page_share_order_hiding_and_the_toggle(qtbot, db):
    from exptable_desktop.ui.comparison.page import ComparePage

    ids = make_sweep(3)
    page = ComparePage()
    qtbot.addWidget(page)
    page.resize(1300, 800)
    page.show()
    page.set_experiments(ids)
    page.show_tab("DETAILS")
    details = page.tab("DETAILS")
    assert details.table.model.experiment_ids() == ids
    page.hide_identical_check.setChecked(True)
    assert details.table.model.hides_identical()
    # A new base here is the page's new order, so every tab compares to it.
    details.set_base(ids[2])
    assert page.experiment_ids() == [ids[2], ids[0], ids[1]]
    page.show_tab("HYPERPARAMETERS")
    hyper = page.tab("HYPERPARAMETERS")
    assert hyper.values.model.base_id() == ids[2] and hyper.values.model.hides_identical()
    hyper.show_view(PARALLEL)
    hyper.parallel.hide_experiment(ids[0])
    assert page.experiment(ids[0]).hidden and ids[0] not in hyper.parallel.curves()
    with qtbot.waitSignal(page.sig_table_columns_requested) as signal:
        hyper.show_differing_in_table()
    assert signal.args[0] == hyper.differing_columns()


def test_show_differing_in_the_table_from_the_window_adds_the_columns_and_shows_the_table(qtbot, db_url, db):
    from comparison_helpers import open_window

    ids = make_sweep(3)
    window = open_window(qtbot, db_url, 3)
    window.set_checked(ids, True)
    window.set_view_mode("comparison")
    page = window.comparison_controller.view
    page.show_tab("HYPERPARAMETERS")
    hyper = page.tab("HYPERPARAMETERS")
    keys = hyper.show_differing_in_table()
    assert len(keys) == 6 and set(keys) <= set(window.model.keys)
    assert window.view_mode() == "table" and window.table_view.isVisible()


def test_alt_down_walks_the_differences_of_the_table_it_is_pressed_in(qtbot, db):
    """DETAILS and HYPERPARAMETERS each have the shortcut; in one window both must still work."""
    from PySide6.QtWidgets import QVBoxLayout, QWidget

    ids = make_sweep(3)
    host = QWidget()
    qtbot.addWidget(host)
    layout = QVBoxLayout(host)
    details, hyper = DetailsTab(), HyperparamsTab()
    layout.addWidget(details)
    layout.addWidget(hyper)
    host.resize(1000, 900)
    with qtbot.waitActive(host):
        host.show()
        host.activateWindow()
    details.set_experiments(compared(ids))
    hyper.set_experiments(compared(ids))
    hyper.values.values_view.setFocus()
    qtbot.keyClick(hyper.values.values_view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert hyper.values.current_row() == hyper.values.model.difference_rows()[0]
    assert details.table.current_row() == -1
    details.table.values_view.setFocus()
    qtbot.keyClick(details.table.values_view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)
    assert details.table.current_row() == details.table.model.difference_rows()[0]
