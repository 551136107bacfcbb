"""The PLOTS tab draws what ``report_plotly`` / ``report_surface`` / ``report_scatter3d`` stored."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtWidgets import QTableWidget

from exptable_desktop.core.details import normalize_plot
from exptable_desktop.ui.details.plots_tab import render_figure


def _items(widget, kind):
    return [i for i in widget.getPlotItem().items if isinstance(i, kind)]


def test_mixed_traces_are_drawn_in_one_plot(qtbot):
    figure = normalize_plot("plotly", {"data": [
        {"type": "scatter", "mode": "lines+markers", "name": "loss", "x": [0, 1, 2], "y": [3, 2, 1]},
        {"type": "bar", "name": "count", "x": ["a", "b", "c"], "y": [1, 2, 3]},
        {"type": "histogram", "name": "spread", "x": [0.1, 0.2, 0.2, 0.9]},
    ]})
    widget = render_figure(figure)
    qtbot.addWidget(widget)
    assert figure["kind"] == "mixed"
    assert len(_items(widget, pg.BarGraphItem)) == 1
    assert len(_items(widget, pg.PlotDataItem)) == 2  # the line and the histogram's steps
    ticks = widget.getPlotItem().getAxis("bottom")._tickLevels
    assert [label for _, label in ticks[0]] == ["a", "b", "c"]


def test_surfaces_and_heatmaps_are_images(qtbot):
    z = np.arange(12.0).reshape(3, 4)
    figure = normalize_plot("surface", {"data": [{"type": "surface", "z": z.tolist(), "x": list("abcd")}]})
    widget = render_figure(figure)
    qtbot.addWidget(widget)
    (image,) = _items(widget, pg.ImageItem)
    assert image.image.shape == (4, 3) and image.image[3, 2] == 11.0  # [x, y]
    assert image.levels[0] == 0.0 and image.levels[1] == 11.0


def test_3d_points_are_seen_from_above_coloured_by_z(qtbot):
    figure = normalize_plot("scatter3d", {"data": [{"type": "scatter3d", "x": [0, 1, 2], "y": [2, 1, 0],
                                                     "z": [0.0, 5.0, 10.0]}],
                                          "layout": {"scene": {"zaxis": {"title": {"text": "depth"}}}}})
    widget = render_figure(figure)
    qtbot.addWidget(widget)
    (points,) = _items(widget, pg.PlotDataItem)
    xs, ys = points.getData()
    assert xs.tolist() == [0, 1, 2] and ys.tolist() == [2, 1, 0]
    brushes = points.scatter.data["brush"]
    assert brushes[0].color() != brushes[2].color()  # lowest and highest z differ in colour
    assert "colour is z (depth)" in widget.getPlotItem().titleLabel.text


@pytest.mark.parametrize("trace", [
    {"type": "pie", "labels": ["a", "b"], "values": [1, 2]},
    {"type": "box", "y": [1, 2, 3], "name": "b"},
])
def test_other_trace_kinds_show_their_data_as_a_table(qtbot, trace):
    figure = normalize_plot("plotly", {"data": [trace]})
    widget = render_figure(figure)
    qtbot.addWidget(widget)
    assert isinstance(widget, QTableWidget) and widget.rowCount() in (2, 3)
    assert widget.horizontalHeaderItem(1).text() == "type" and widget.item(0, 1).text() == trace["type"]
