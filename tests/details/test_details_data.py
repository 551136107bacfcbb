"""The Qt-free side of the panel: smoothing, plot shapes, console windows, series tails."""
from __future__ import annotations

import json
import re
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from exptable_desktop.core import details as data
from exptable_desktop.core import recording, smoothing


def ema_reference(x, alpha):
    out, y = [], 0.0
    for t, v in enumerate(x):
        y = alpha * y + (1 - alpha) * v
        out.append(y / (1 - alpha ** (t + 1)))
    return np.array(out)


@settings(max_examples=60, deadline=None)
@given(hs.lists(hs.floats(-1e6, 1e6), min_size=1, max_size=400), hs.floats(0.0, 0.999))
def test_ema_matches_the_recursion(values, alpha):
    x = np.array(values)
    np.testing.assert_allclose(smoothing.exponential_moving_average(x, alpha), ema_reference(x, alpha),
                               rtol=1e-7, atol=1e-6)


def test_ema_starts_at_the_first_value_and_is_fast_for_a_million_points():
    x = np.random.default_rng(1).normal(size=1_000_000)
    start = time.perf_counter()
    y = smoothing.exponential_moving_average(x, 0.5)
    assert time.perf_counter() - start < 2.0
    assert y[0] == pytest.approx(x[0])
    np.testing.assert_allclose(y[:300], ema_reference(x[:300], 0.5), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("window", [3, 5, 35])
def test_running_average_is_a_centred_mean_shrinking_at_the_ends(window):
    x = np.arange(50, dtype=float) ** 1.5
    half = window // 2
    expected = [x[max(0, i - half):i + half + 1].mean() for i in range(len(x))]
    np.testing.assert_allclose(smoothing.running_average(x, window), expected)


def test_gaussian_renormalises_at_the_ends_and_keeps_constants():
    x = np.full(40, 3.5)
    np.testing.assert_allclose(smoothing.gaussian(x, 7, 1.0), x)
    y = np.arange(40, dtype=float)
    kernel = smoothing.gaussian_kernel(7, 1.5)
    middle = np.dot(y[17:24], kernel)
    assert smoothing.gaussian(y, 7, 1.5)[20] == pytest.approx(middle)


def test_smoothing_skips_non_finite_values():
    x = np.array([np.nan, 1.0, 2.0, np.inf, 4.0])
    for method in (smoothing.EMA, smoothing.RUNNING_AVERAGE, smoothing.GAUSSIAN):
        assert np.isfinite(smoothing.smooth(x, method, alpha=0.5, window=3, kernel_size=3, sigma=1.0)).all()
    with pytest.raises(ValueError, match="unknown smoothing"):
        smoothing.smooth(x, "median")


def test_plot_shapes_from_the_sdk_the_simple_forms_and_plotly():
    line = data.normalize_plot("line", {"mode": "lines", "series": [{"name": "a", "x": [0, 1], "y": [2, None]}]})
    assert line["kind"] == "line" and line["series"][0]["y"][0] == 2 and np.isnan(line["series"][0]["y"][1])
    assert data.normalize_plot("scatter", {"x": [1, 2], "y": [3, 4]})["kind"] == "scatter"
    assert data.normalize_plot("bar", {"labels": ["a", "b"], "values": [1, 2]})["series"][0]["x"] == ["a", "b"]
    hist = data.normalize_plot("histogram", {"bins": [0, 1, 2], "counts": [5, 6]})
    assert hist["kind"] == "histogram" and hist["bins"] == [0, 1, 2]
    sdk_hist = data.normalize_plot("histogram", {"series": [{"name": "h", "x": [0, 1], "y": [4, 5]}]})
    assert sdk_hist["kind"] == "bar" and sdk_hist["series"][0]["y"] == [4, 5]
    table = data.normalize_plot("table", {"columns": ["a", "b"], "rows": [[1, 2]]})
    assert table["columns"] == ["a", "b"] and table["rows"] == [[1, 2]]
    confusion = data.normalize_plot("confusion", {"labels": ["x", "y"], "matrix": [[1, 2], [3, 4]]})
    assert confusion["xlabels"] == ["x", "y"] and confusion["matrix"][1] == [3, 4]
    plotly = data.normalize_plot("", json.dumps({"data": [{"type": "table", "header": {"values": ["h1", "h2"]},
                                                           "cells": {"values": [[1, 2], [3, 4]]}}]}))
    assert plotly["kind"] == "table" and plotly["rows"] == [[1, 3], [2, 4]]
    assert data.normalize_plot("line", "not json {")["kind"] == "text"
    assert data.normalize_plot("weird", {"a": 1})["kind"] == "text"


@pytest.mark.both_backends
def test_console_window_reads_any_range_across_chunks(db):
    exp = recording.create_experiment("p", "log", status="in_progress")
    now = time.time()
    for start in range(0, 5000, 700):  # several flushes, levels alternate within each
        lines = [(now, "error" if i % 3 == 0 else "info", f"line {i}") for i in range(start, min(start + 700, 5000))]
        recording.record_batch(exp, console=lines)
    assert data.console_line_count(exp) == 5000
    window = data.console_window(exp, 1234, 1000)
    assert [t for _, t in window] == [f"line {i}" for i in range(1234, 2234)]
    assert window[2][0] == "error" and window[0][0] == "info"  # line 1236 = 3 * 412
    assert [t for _, t in data.console_window(exp, 4990, 100)] == [f"line {i}" for i in range(4990, 5000)]
    assert data.console_window(exp, 6000, 10) == []
    matches = data.console_matches(exp, re.compile(r"line 4\d\d\d$"))
    assert matches.tolist() == list(range(4000, 5000))
    assert data.console_matches(exp, re.compile("line 49"), start_line=4950).tolist() == list(range(4950, 5000))


@pytest.mark.both_backends
def test_series_since_returns_only_new_points(db):
    exp = recording.create_experiment("p", "scalars", status="in_progress")
    n = 10_000
    recording.record_batch(exp, scalars={("loss", "train"): (np.arange(n), np.arange(n) * 0.5, np.full(n, 1.0))})
    its, vals, _, cursor = data.series_since(exp, "loss", "train", data.SeriesCursor())
    assert len(its) == n and vals[-1] == (n - 1) * 0.5
    recording.record_batch(exp, scalars=[("loss", "train", n + i, 1.0, 2.0) for i in range(7)])
    its, vals, _, cursor2 = data.series_since(exp, "loss", "train", cursor)
    assert its.tolist() == list(range(n, n + 7))
    its, _, _, _ = data.series_since(exp, "loss", "train", cursor2)
    assert len(its) == 0
    its, vals, stamps, cursor3 = data.series_since(exp, "loss", "train", data.SeriesCursor(), timestamps=False)
    assert stamps is None and len(vals) == n + 7 and cursor3 == cursor2
    assert data.series_counts(exp) == {("loss", "train"): n + 7}


@pytest.mark.both_backends
def test_info_lists_every_field_and_public_runtime_keys(db):
    parent = recording.create_experiment("p", "parent")
    child = recording.create_experiment("p/sub", "child", parent=parent,
                                        runtime={"hostname": "gpu-1", "_secret": 1, "gpus": {"count": 2}})
    content = data.info(child)
    labels = [f[0] for f in content["fields"]]
    assert labels == ["ARCHIVED", "CHANGED AT", "LAST ITERATION", "STATUS MESSAGE", "STATUS REASON", "CREATED AT",
                      "STARTED AT", "LAST UPDATED AT", "COMPLETED AT", "RUN TIME", "QUEUE", "WORKER", "CREATED BY",
                      "PARENT TASK", "PROJECT", "ID"]
    fields = {f[0]: f for f in content["fields"]}
    assert fields["PARENT TASK"][2] == parent and "parent" in fields["PARENT TASK"][1]
    assert fields["PROJECT"][1] == "p/sub" and fields["STARTED AT"][1] == "N/A"
    assert content["runtime"] == [("gpus", '{"count": 2}'), ("hostname", "gpu-1")]


def test_packages_empty_states_follow_null_versus_empty():
    assert data.packages_text(None) == ("", data.PACKAGES_FROM_REPOSITORY)
    assert data.packages_text("  ") == ("", data.PACKAGES_EMPTY)
    assert data.packages_text("numpy\n") == ("numpy\n", None)


@pytest.mark.both_backends
def test_preferences_round_trip_per_user(db):
    assert data.load_preference("details.x", "default") == "default"
    data.save_preference("details.x", {"a": 1})
    data.save_preference("details.x", {"a": 2})
    assert data.load_preference("details.x") == {"a": 2}
