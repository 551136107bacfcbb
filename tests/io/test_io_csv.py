"""CSV export: displayed columns and order, hostile cells, numbers, precision, BOM, the command."""
from __future__ import annotations

import csv
import io
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from exptable_desktop.core import columns as C
from exptable_desktop.core import formatting as fmt
from exptable_desktop.core import states as st
from exptable_desktop.core.filters import RangeFilter, SearchQuery, ValueSetFilter
from exptable_desktop.core.recording import create_experiment, record_batch, record_lifecycle, record_parameters
from exptable_desktop.core.experiment_table import ExperimentTable
from exptable_desktop.core.table_loading import load_table
from exptable_desktop.io import csv_export
from exptable_desktop.io.csv_export import CsvOptions, ExportCancelled, neutralize, table_for_export, write_csv
from exptable_desktop.store.bulk import BASE_FIELDS, Scope

HOSTILE = ["=1+2", "+SUM(A1:A2)", "-2+3+cmd|' /C calc'!A0", "@SUM(1,2)", "\tlead tab", "\rlead cr",
           'quote "x", comma', "line\nbreak", "ünïcödé ✓", "plain"]
LR = C.hyperparam_key("Args", "lr")
FLAG = C.hyperparam_key("Args", "flag")
LOSS = C.metric_key("loss", "train", "last")


def _read(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _export(table, keys, **options) -> str:
    out = io.StringIO(newline="")
    write_csv(out, table, keys, options=CsvOptions(**options))
    return out.getvalue()


@pytest.fixture
def hostile(db):
    """One experiment per hostile name; metric values include negatives, hyperparameters numbers and text."""
    ids = []
    for n, name in enumerate(HOSTILE):
        exp_id = create_experiment("hostile", name, status=st.RUNNING, tags=["=tag" if n == 0 else "ok"],
                                   description=HOSTILE[-1 - n])
        record_parameters(exp_id, "Args", {"lr": {"value": "-0.01" if n % 2 else "1e-3"},
                                           "flag": {"value": "-rf" if n % 2 else "=cmd()"}})
        record_batch(exp_id, scalars=[("loss", "train", 0, -0.5 - n, time.time())])
        record_lifecycle(exp_id, status=st.COMPLETED)
        ids.append(exp_id)
    return ids


def test_hostile_cells_round_trip_through_the_csv_module_neutralised_and_numbers_stay_numbers(hostile):
    table = load_table(Scope(None, False), [LR, FLAG, LOSS])
    table.set_sort([("name", False)])
    keys = ["name", "description", "tags", LR, FLAG, LOSS, "id"]
    rows = _read(_export(table, keys))
    assert rows[0] == ["NAME", "DESCRIPTION", "TAGS", "Args.lr", "Args.flag", "loss › train (Last)", "ID"]
    body = rows[1:]
    assert len(body) == len(HOSTILE)
    by_name = {row[0].lstrip("'"): row for row in body}
    for name in HOSTILE:
        row = by_name[name]
        # Formula starters get a leading quote; the rest of the text survives byte for byte.
        expected = "'" + name if name[0] in "=+-@\t\r" else name
        assert row[0] == expected
    for row in body:
        assert row[3] in ("-0.01", "1e-3")   # numbers, negative ones too, are not neutralised
        assert row[4] in ("'-rf", "'=cmd()")  # text that looks like a formula is
        assert float(row[5]) <= -0.5 and not row[5].startswith("'")
        assert row[2] in ("'=tag", "ok")
    assert by_name["line\nbreak"][0] == "line\nbreak"
    assert by_name['quote "x", comma'][0] == 'quote "x", comma'


@pytest.mark.parametrize("text, expected", [
    ("=1", "'=1"), ("+1a", "'+1a"), ("-", "'-"), ("@x", "'@x"), ("\tx", "'\tx"), ("\rx", "'\rx"),
    ("-0.5", "-0.5"), ("+3", "+3"), ("-1e-9", "-1e-9"), ("1.5E+3", "1.5E+3"), ("-.5", "-.5"),
    ("-inf", "'-inf"), ("-1-1", "'-1-1"), ("", ""), ("a=b", "a=b"), ("'=", "'="),
])
def test_neutralize(text, expected):
    assert neutralize(text) == expected


@settings(max_examples=200, deadline=None)
@given(hs.lists(hs.one_of(hs.floats(allow_nan=True, allow_infinity=True), hs.integers(-10**17, 10**17).map(float),
                          hs.sampled_from([0.0, -0.0, 1e-7, -1e-7, 0.5e-6, 123456.0000004, 1e15, -1e15 + 0.5])),
                max_size=30))
def test_vectorised_number_formats_match_the_tables_cell_formats(values):
    array = np.array(values, dtype=np.float64)
    assert csv_export._rounded(array) == [fmt.rounded_float(v) for v in values]
    assert csv_export._precise(array) == [fmt.precise_float(v) for v in values]


@settings(max_examples=100, deadline=None)
@given(hs.lists(hs.one_of(hs.none(), hs.floats(0, 4e9)), max_size=20))
def test_vectorised_dates_and_durations_match_the_tables_formats(values):
    array = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    assert csv_export._exact_dates(array) == [fmt.exact_date(v) for v in values]
    assert csv_export._durations(array) == [fmt.compact_duration(v) for v in values]
    iso = csv_export._iso_utc(array)
    for v, text in zip(values, iso):
        if v is None:
            assert text == ""
        else:
            parsed = np.datetime64(text[:-1], "us").astype(np.int64) / 1e6
            assert abs(parsed - v) < 1e-6


def test_full_precision_and_as_shown_differ_where_they_should(db):
    exp_id = create_experiment("p", "precise", status=st.RUNNING)
    record_batch(exp_id, scalars=[("m", "v", 3, 0.123456789012, 1_790_000_000.25)])
    record_lifecycle(exp_id, status=st.COMPLETED, started=1_790_000_000.5, completed=1_790_003_700.75,
                     run_time=3700.25, last_update=1_790_003_700.75)
    key = C.metric_key("m", "v", "last")
    table = load_table(Scope(None, False), [key])
    keys = ["name", "started", "run_time", "last_iteration", key]
    shown = _read(_export(table, keys))[1]
    assert shown == ["precise", fmt.exact_date(1_790_000_000.5), "1:01h", "3", "0.123457"]
    precise = _read(_export(table, keys, precise=True))[1]
    assert precise == ["precise", "2026-09-21T14:13:20.500000Z", "3700.25", "3", "0.123456789012"]
    # A column the table shows at full precision is exported that way "as shown" too.
    assert _read(_export(table, keys, precise_keys=frozenset({key})))[1][4] == "0.123456789012"


def test_bom_only_when_asked(db):
    create_experiment("p", "x")
    table = load_table(Scope(None, False))
    assert not _export(table, ["name"]).startswith("\ufeff")
    text = _export(table, ["name"], bom=True)
    assert text.startswith("\ufeffNAME\r\n")


def _big_table(n: int, metrics: int, params: int) -> tuple[ExperimentTable, list[str]]:
    """A table built in memory (no database) the way a load fills it."""
    rng = np.random.default_rng(1)
    now = time.time()
    table = ExperimentTable(capacity=n)
    table.project_paths = {1: "team/vision", 2: "team/nlp"}
    rows = []
    for i in range(n):
        row = {"id": f"{i:032x}", "name": f"run-{i}", "type": "training", "status": "completed", "project": 1 + i % 2,
               "user": "alice", "parent": None, "started": now - i, "last_update": now - i / 2,
               "last_iteration": i, "progress": None, "description": "", "run_time": float(i), "archived": False,
               "created": now - i, "development": False}
        rows.append(tuple(row[f] for f in BASE_FIELDS))
    table.write_base_rows(rows)
    ids = [r[0] for r in rows]
    keys = [c.key for c in C.BUILTIN_COLUMNS if c.key not in ("check", "star")]
    for m in range(metrics):
        key = C.metric_key(f"metric{m}", "val", "last")
        table.add_custom_column(key, list(zip(ids, (rng.standard_normal(n) * 10).tolist())))
        keys.append(key)
    for p in range(params):
        key = C.hyperparam_key("Args", f"p{p}")
        table.add_custom_column(key, list(zip(ids, [str(v) for v in rng.choice([0.1, 0.01, 32, "adam"], n)])))
        keys.append(key)
    table.recompute_mask()
    table.resort()
    return table, keys


@pytest.mark.slow
def test_100k_rows_by_40_columns_in_under_3_seconds_of_cpu():
    table, keys = _big_table(100_000, 14, 13)
    assert len(keys) == 40
    out = io.StringIO(newline="")
    start = time.process_time()
    rows = write_csv(out, table, keys)
    cpu = time.process_time() - start
    assert rows == 100_000
    assert out.getvalue().count("\r\n") == 100_001
    assert cpu < 3.0, f"{cpu:.2f} s of CPU"


def test_rows_in_the_tables_order_columns_in_the_given_order_and_cancel():
    table, keys = _big_table(25_000, 2, 1)
    table.set_sort([("name", False)])
    progress = []
    out = io.StringIO(newline="")
    write_csv(out, table, ["id", "name"], on_progress=lambda done, total: progress.append((done, total)))
    rows = _read(out.getvalue())
    assert rows[0] == ["ID", "NAME"]
    assert [r[1] for r in rows[1:]] == sorted(f"run-{i}" for i in range(25_000))
    assert progress[-1] == (25_000, 25_000) and len(progress) == 3
    with pytest.raises(ExportCancelled):
        write_csv(io.StringIO(), table, ["name"], on_progress=lambda done, total: done < 10_000)
    with pytest.raises(ValueError, match="unknown column"):
        write_csv(io.StringIO(), table, ["name", "no-such-column"])


def test_all_matching_the_filters_has_no_1000_cap(db):
    from table_data import generate  # benchmarks/: bulk rows keep this test fast
    generate(2_600, n_metrics=1, n_params=1, projects=1)
    table = table_for_export(Scope(None, False), ["name", "status"],
                             filters={"status": ValueSetFilter(frozenset({st.COMPLETED}))},
                             search=SearchQuery("train"), sort=[("name", True)])
    out = io.StringIO(newline="")
    count = write_csv(out, table, ["name", "status"])
    rows = _read(out.getvalue())[1:]
    assert count == len(rows) > 1000
    assert {r[1] for r in rows} == {"Completed"}
    assert [r[0] for r in rows] == sorted((r[0] for r in rows), key=str.lower, reverse=True)
    metric = C.metric_key("metric0", "var0", "last")
    narrowed = table_for_export(Scope(None, False), ["name", metric], filters={metric: RangeFilter(0.5, None)})
    values = [float(r[1]) for r in _read(_export(narrowed, ["name", metric]))[1:]]
    assert values and min(values) >= 0.5


def test_default_file_name_follows_the_reference():
    assert csv_export.default_file_name("vision/detection") == "ExpTable detection Experiments-table.csv"
    assert csv_export.default_file_name(None) == "ExpTable All Experiments-table.csv"
    assert len(csv_export.default_file_name("x" * 200)) == len("ExpTable  Experiments-table.csv") + 60


def test_precise_floats_never_lose_a_bit():
    values = np.array([0.1 + 0.2, 1 / 3, -2.5e-300, 1e308, math.pi])
    assert [float(t) for t in csv_export._precise(values)] == values.tolist()
