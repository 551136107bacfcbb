"""Exports of a comparison: CSV of the diff tables, the values and the graph data, and the whole
comparison as one HTML report (in the window and from ``exptable compare``), each parsed back."""
from __future__ import annotations

import csv
import io
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

from exptable_desktop.core import compare_diff as cd
from exptable_desktop.core import compare_export as ce
from exptable_desktop.core import recording
from exptable_desktop.store.series import read_series
from exptable_desktop.ui.comparison import export as ui_export
from exptable_desktop.ui.comparison.details_tab import DetailsTab
from exptable_desktop.ui.comparison.hyperparams_tab import HyperparamsTab

from diff_support import compared, make_sweep


class ReportParser(HTMLParser):
    """The parts of the report a test checks: tables (with cell classes), figures and their curves."""

    def __init__(self):
        super().__init__()
        self.tables: list[dict] = []
        self.figures: list[dict] = []
        self.headings: list[str] = []
        self._table = self._row = self._cell = None
        self._figure = None
        self._curve = None
        self._heading = None
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = {"class": attrs.get("class", ""), "values": attrs.get("data-values"), "rows": []}
            self.tables.append(self._table)
        elif tag == "tr" and self._table is not None:
            self._row = {"class": attrs.get("class", ""), "cells": []}
            self._table["rows"].append(self._row)
        elif tag in ("td", "th") and self._row is not None:
            self._cell = {"text": "", "class": attrs.get("class", ""), "title": attrs.get("title")}
            self._row["cells"].append(self._cell)
        elif tag == "figure":
            self._figure = {"series": attrs.get("data-series"), "curves": [], "svg": 0}
            self.figures.append(self._figure)
        elif tag == "svg" and self._figure is not None:
            self._figure["svg"] += 1
        elif tag == "g" and self._figure is not None and "curve" in attrs.get("class", ""):
            self._curve = {"stroke": attrs.get("stroke"), "name": "", "points": []}
            self._figure["curves"].append(self._curve)
        elif tag == "title" and self._curve is not None:
            self._in_title = True
        elif tag == "polyline" and self._curve is not None:
            self._curve["points"].append(attrs["points"])
        elif tag in ("h2", "h3"):
            self._heading = ""

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag == "tr":
            self._row = None
        elif tag in ("td", "th"):
            self._cell = None
        elif tag == "figure":
            self._figure = None
        elif tag == "g":
            self._curve = None
        elif tag == "title":
            self._in_title = False
        elif tag in ("h2", "h3") and self._heading is not None:
            self.headings.append(self._heading)
            self._heading = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell["text"] += data
        if self._in_title and self._curve is not None:
            self._curve["name"] += data
        if self._heading is not None:
            self._heading += data


def parse_report(text: str) -> ReportParser:
    parser = ReportParser()
    parser.feed(text)
    parser.close()
    return parser


def table_rows(table: dict) -> list[list[str]]:
    return [[c["text"] for c in row["cells"]] for row in table["rows"]]


# ---- CSV ------------------------------------------------------------------------------------

def test_details_csv_has_a_row_per_field_and_a_column_per_experiment(qtbot, db):
    ids = make_sweep(3)
    experiments = compared(ids)
    tab = DetailsTab()
    qtbot.addWidget(tab)
    tab.set_experiments(experiments)
    out = io.StringIO()
    written = tab.write_csv(out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["section", "field", "differs", *[f"{e.name} ({e.id})" for e in experiments]]
    assert len(rows) == written + 1
    by_field = {(r[0], r[1]): r for r in rows[1:] if r[1]}
    branch = by_field[("EXECUTION › SOURCE", "BRANCH")]
    assert branch[2:] == ["yes", "feature/aug", "main", "main"]
    assert by_field[("EXECUTION › SOURCE", "REPOSITORY")][2] == "no"
    # Run 0 has no uncommitted changes: its cells are empty where the others have lines.
    diff = by_field[("EXECUTION › UNCOMMITTED CHANGES", "DIFF")]
    assert diff[3] == "" and diff[4] == "--- a/train.py"
    tab.hide_identical(True)
    out = io.StringIO()
    tab.write_csv(out)
    hidden_rows = list(csv.reader(io.StringIO(out.getvalue())))[1:]
    assert hidden_rows and all(r[2] == "yes" for r in hidden_rows)


def test_hyperparameters_csv_follows_the_base_chosen_in_the_tab(qtbot, db):
    ids = make_sweep(3)
    experiments = compared(ids)
    tab = HyperparamsTab()
    qtbot.addWidget(tab)
    tab.set_experiments(experiments)
    tab.set_base(ids[2])
    out = io.StringIO()
    tab.write_csv(out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0][3:] == [f"{experiments[i].name} ({ids[i]})" for i in (2, 0, 1)]
    lr = next(r for r in rows if r[1] == "learning_rate")
    assert lr == ["Args", "learning_rate", "yes", "0.01", "0.1", "0.03"]


def test_metric_values_csv_parses_back_to_the_stored_summaries(db):
    ids = make_sweep(3)
    experiments = compared(ids)
    table = cd.load_metric_values(ids)
    for which, slot in (("last", 0), ("min", 1), ("max", 2)):
        out = io.StringIO()
        assert ce.write_metric_values_csv(out, experiments, table, which) == 3
        rows = list(csv.reader(io.StringIO(out.getvalue())))
        assert rows[0][:2] == ["metric", "variant"] and len(rows) == 4
        for row in rows[1:]:
            key = (row[0], row[1])
            assert [float(v) for v in row[2:]] == [table[key][i][slot] for i in ids]
    series = read_series(ids[1], "loss", "train")
    assert table[("loss", "train")][ids[1]][0] == series.values[-1]


def test_graph_data_csv_of_parallel_coordinates_and_scatter(qtbot, db):
    ids = make_sweep(3)
    experiments = compared(ids)
    tab = HyperparamsTab()
    qtbot.addWidget(tab)
    tab.set_experiments(experiments)
    tab.parallel.choose(metrics=[("loss", "train", "min")], params=[("Args", "optimizer")])
    out = io.StringIO()
    tab.parallel.write_csv(out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["experiment", "id", "Args.optimizer", "loss / train (MIN)"]
    lows = cd.load_metric_values(ids)[("loss", "train")]
    assert [(r[1], r[2], float(r[3])) for r in rows[1:]] == [(i, opt, lows[i][1]) for i, opt in
                                                              zip(ids, ["adam", "sgd", "adamw"])]
    tab.scatter.choose(metric=("accuracy", "top1"), which="last", param=("Args", "learning_rate"))
    out = io.StringIO()
    tab.scatter.write_csv(out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == ["experiment", "id", "Args.learning_rate", "accuracy / top1 (LAST)"]
    assert [r[2] for r in rows[1:]] == ["0.1", "0.03", "0.01"]


def test_series_csv_holds_every_point(db):
    ids = make_sweep(2)
    out = io.StringIO()
    count = ce.write_series_csv(out, compared(ids), [("loss", "train")])
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert count == len(rows) - 1 == 2 * 40
    stored = read_series(ids[1], "loss", "train")
    mine = [r for r in rows[1:] if r[3] == ids[1]]
    np.testing.assert_array_equal([float(r[5]) for r in mine], stored.values)
    np.testing.assert_array_equal([int(r[4]) for r in mine], stored.iterations)


def test_csv_export_through_the_menu_writes_the_chosen_file(qtbot, db, tmp_path, monkeypatch):
    ids = make_sweep(2)
    tab = DetailsTab()
    qtbot.addWidget(tab)
    tab.set_experiments(compared(ids))
    target = tmp_path / "details.csv"
    monkeypatch.setattr(ui_export.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    actions = {a.text(): a for a in tab.export_button.menu().actions()}
    actions["Details as CSV…"].trigger()
    rows = list(csv.reader(target.open(encoding="utf-8")))
    assert rows[0][0] == "section" and len(rows[0]) == 5
    html_target = tmp_path / "report.html"
    monkeypatch.setattr(ui_export.QFileDialog, "getSaveFileName", lambda *a, **k: (str(html_target), ""))
    actions["Whole comparison as HTML report…"].trigger()
    assert len(parse_report(html_target.read_text(encoding="utf-8")).figures) == 3


def test_a_csv_that_cannot_be_written_is_one_clear_error_and_no_half_file(tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    missing = folder / "no-such-dir" / "x.csv"
    with pytest.raises(ce.ExportError, match="cannot write .*x.csv"):
        ui_export.save_csv(missing, lambda out: out.write("a"))
    assert not missing.parent.exists()

    def failing(out):
        out.write("half")
        raise OSError(28, "No space left on device")
    target = folder / "y.csv"
    with pytest.raises(ce.ExportError, match="No space left"):
        ui_export.save_csv(target, failing)
    assert list(folder.iterdir()) == []


# ---- SVG ------------------------------------------------------------------------------------

def test_downsampling_keeps_each_buckets_extremes():
    x = np.arange(10_000, dtype=float)
    y = np.sin(x / 300.0)
    y[1234] = 50.0
    y[7777] = -50.0
    y[5000] = np.nan
    dx, dy = ce.downsample(x, y, 400)
    assert len(dx) <= 400 and np.all(np.diff(dx) > 0)
    assert 50.0 in dy and -50.0 in dy
    small_x, small_y = ce.downsample(x[:10], y[:10], 400)
    assert np.array_equal(small_x, x[:10])


def test_nice_ticks_are_round_and_inside_the_range():
    assert ce.nice_ticks(0.28, 2.35) == [0.5, 1.0, 1.5, 2.0]
    assert ce.nice_ticks(0, 10_000) == [0.0, 2500.0, 5000.0, 7500.0, 10000.0]
    assert ce.nice_ticks(-1e-5, 3e-5) == [-1e-5, 0.0, 1e-5, 2e-5, 3e-5]
    assert ce.nice_ticks(float("nan"), 1.0) == []


def test_line_chart_breaks_at_gaps_and_names_each_curve():
    curves = [ce.Curve("a <run>", "#1f77b4", "solid", np.array([0.0, 1, 2, 3]), np.array([1.0, np.nan, 2, 3])),
              ce.Curve("b", "#ff7f0e", "dash", np.array([0.0, 1]), np.array([0.5, 0.7]))]
    svg = ce.svg_line_chart("loss / train", curves)
    parsed = parse_report(f"<figure>{svg}</figure>")
    first, second = parsed.figures[0]["curves"]
    assert first["name"] == "a <run>" and first["stroke"] == "#1f77b4"
    assert len(first["points"]) == 1  # the lone point before the gap is a dot, the rest one line
    assert '<circle' in svg and 'stroke-dasharray="6 3"' in svg
    assert len(second["points"]) == 1 and len(second["points"][0].split()) == 2
    empty = ce.svg_line_chart("nothing", [ce.Curve("x", "#000000", "solid", np.array([0.0]), np.array([np.nan]))])
    assert "no finite values" in empty


# ---- HTML report -----------------------------------------------------------------------------

def test_html_report_holds_values_charts_and_both_diffs(db):
    ids = make_sweep(4)
    recording.create_experiment("p", "unrelated")
    experiments = compared(ids)
    text = ce.html_report(experiments, now=0)
    assert "<script" not in text and "http://" not in text.split("<body>")[0]  # self-contained
    report = parse_report(text)
    assert report.headings[:6] == ["Experiments", "Scalars", "LAST values", "MIN values", "MAX values", "Charts"]
    assert report.headings[-2:] == ["Hyperparameters", "Details"]

    legend = next(t for t in report.tables if t["class"] == "legend")
    assert [r[2] for r in table_rows(legend)[1:]] == ids

    metrics = cd.load_metric_values(ids)
    for which, slot in (("last", 0), ("min", 1), ("max", 2)):
        table = next(t for t in report.tables if t["values"] == which)
        rows = table_rows(table)
        assert rows[0][0] == "METRIC / VARIANT" and len(rows) == 1 + len(metrics)
        for row, cells in zip(table["rows"][1:], rows[1:]):
            metric, variant = cells[0].split(" / ")
            exact = [float(c["title"]) for c in row["cells"][1:]]
            assert exact == [metrics[(metric, variant)][i][slot] for i in ids]
        # Row extremes are marked.
        first = table["rows"][1]["cells"][1:]
        assert sum("row-min" in c["class"] for c in first) >= 1 and sum("row-max" in c["class"] for c in first) >= 1

    assert [f["series"] for f in report.figures] == [f"{m} / {v}" for m, v in metrics]
    for figure in report.figures:
        assert figure["svg"] == 1
        assert [c["name"] for c in figure["curves"]] == [e.name for e in experiments]
        assert [c["stroke"] for c in figure["curves"]] == [e.colour for e in experiments]
        assert all(len(c["points"][0].split()) == 40 for c in figure["curves"])

    hp, details = [t for t in report.tables if t["class"] == "diff-table"]
    hp_rows = {cells[0]: (row, cells) for row, cells in zip(hp["rows"], table_rows(hp))}
    lr_row, lr_cells = hp_rows["learning_rate"]
    assert lr_cells[1:] == ["0.1", "0.03", "0.01", "0.003"]
    assert ["diff" in c["class"] for c in lr_row["cells"][1:]] == [False, True, True, True]
    assert lr_row["class"] == "differs" and hp_rows["batch_size"][0]["class"] == "same"
    assert hp["rows"][1]["class"] == "section" and table_rows(hp)[1][0] == "Args (6 differ)"
    detail_cells = {cells[0]: cells for cells in table_rows(details)}
    assert detail_cells["BRANCH"][1:] == ["feature/aug", "main", "main", "feature/aug"]
    assert detail_cells["REPOSITORY"][1:] == ["https://github.com/example/vision.git"] * 4


def test_html_report_escapes_names_and_can_leave_identical_rows_out(db):
    ids = make_sweep(2)
    from exptable_desktop.store.schema import Experiment
    Experiment.update(name="<b>bold</b> & co").where(Experiment.id == ids[0]).execute()
    experiments = compared(ids)
    text = ce.html_report(experiments, hide_identical=True)
    assert "<b>bold</b>" not in text and "&lt;b&gt;bold&lt;/b&gt; &amp; co" in text
    report = parse_report(text)
    legend = next(t for t in report.tables if t["class"] == "legend")
    assert table_rows(legend)[1][1] == "<b>bold</b> & co (base)"
    hp, details = [t for t in report.tables if t["class"] == "diff-table"]
    for table in (hp, details):
        for row in table["rows"][1:]:
            assert row["class"] in ("differs", "section")
    assert "batch_size" not in [cells[0] for cells in table_rows(hp)]


def test_html_report_of_nothing_is_refused():
    with pytest.raises(ce.ExportError, match="no experiments"):
        ce.html_report([])


# ---- exptable compare ------------------------------------------------------------------------

def run_exptable(env, *args):
    return subprocess.run([sys.executable, "-m", "exptable_desktop", *args], capture_output=True, text=True,
                          env=env, timeout=120)


@pytest.mark.both_backends
def test_exptable_compare_writes_the_html_report_and_values_csv(script_env, db_url, tmp_path):
    ids = make_sweep(3)
    html_path = tmp_path / "out.html"
    csv_path = tmp_path / "values.csv"
    result = run_exptable(script_env, "compare", ids[0], ids[1][:8], ids[2], "--db", db_url,
                          "--html", str(html_path), "--csv", str(csv_path), "--values", "min")
    assert result.returncode == 0, result.stderr
    assert f"wrote {html_path}" in result.stderr
    report = parse_report(html_path.read_text(encoding="utf-8"))
    legend = next(t for t in report.tables if t["class"] == "legend")
    assert [r[2] for r in table_rows(legend)[1:]] == ids
    assert len(report.figures) == 3
    rows = list(csv.reader(csv_path.open(encoding="utf-8")))
    lows = cd.load_metric_values(ids)
    assert [float(v) for v in rows[1][2:]] == [lows[(rows[1][0], rows[1][1])][i][1] for i in ids]


def test_exptable_compare_errors_are_one_line(script_env, db_url, db, tmp_path):
    ids = make_sweep(1)
    for args, fragment, exit_code in (
            (["compare", ids[0], "--db", db_url], "--html FILE", 2),  # a usage error
            (["compare", ids[0], "nosuchexperiment", "--db", db_url, "--html", str(tmp_path / "a.html")],
             "no experiment nosuchexperiment", 1),
            (["compare", ids[0], "--db", db_url, "--html", str(tmp_path / "missing" / "a.html")], "cannot write", 1)):
        result = run_exptable(script_env, *args)
        assert result.returncode == exit_code
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "a.html").exists()
    assert list(Path(tmp_path).glob("*.part")) == []
