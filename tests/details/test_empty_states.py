"""Empty states of the details panel: each says what is going on and what to do, and the code it
offers works when pasted into a script."""
from __future__ import annotations

import subprocess
import sys

import pytest

from details_helpers import experiment_ids
from exptable_desktop.core import recording
from exptable_desktop.store.schema import MetricSummary
from exptable_desktop.ui.empty_state import SDK_START, EmptyState

# What the snippets leave to the person: the values they report.
SCRIPT_PRELUDE = """
import numpy as np
loss, step, counts = 0.25, 3, [1.0, 4.0, 2.0]
array = np.zeros((8, 8, 3), dtype=np.uint8)
"""



def test_with_nothing_selected_the_panel_says_how_to_get_an_experiment(panel):
    panel.show_experiment(None)
    assert panel.is_empty() and panel.empty_state.isVisible()
    assert not panel.header.isVisible() and not panel.tabs.isVisible()
    assert panel.empty_state.title() == "No experiment selected"
    assert "Choose an experiment in the list" in panel.empty_state.body()
    assert panel.empty_state.code() == SDK_START.strip()
    assert panel.empty_state.action_button.isHidden()  # the list is beside the panel
    panel.set_full_screen(True)
    assert not panel.empty_state.action_button.isHidden()  # in full screen, the way back
    panel.set_full_screen(False)


def test_a_draft_without_outputs_shows_what_to_report_in_scalars_plots_and_debug_samples(panel, draft_experiment):
    panel.show_experiment(draft_experiment)
    assert not panel.is_empty()
    expected = {"SCALARS": ("No scalars reported yet", "report_scalar("),
                "PLOTS": ("No plots reported yet", "report_histogram("),
                "DEBUG SAMPLES": ("No debug samples reported yet", "report_image(")}
    for title, (headline, call) in expected.items():
        panel.select_tab(title)
        tab = panel.current_tab()
        assert isinstance(tab.empty_label, EmptyState) and tab.empty_label.isVisible(), title
        assert tab.empty_label.title() == headline
        assert tab.empty_label.code().startswith(SDK_START) and call in tab.empty_label.code()
    # No plots with empty 0-1 axes behind it.
    assert panel.scalars_tab.plot_grid.keys() == []


def test_summaries_without_stored_points_say_so_instead_of_empty_axes(panel, draft_experiment):
    MetricSummary.create(experiment=draft_experiment, metric="loss", variant="train", first=1.0, last=0.1,
                         min=0.1, max=1.0, total=5.0, finite_count=10, count=10, last_iteration=9)
    panel.show_experiment(draft_experiment)
    panel.select_tab("SCALARS")
    tab = panel.scalars_tab
    assert tab.is_empty() and tab.empty_label.title() == "No points stored for these scalars"
    assert "1 scalar series" in tab.empty_label.body()
    assert tab.plot_grid.keys() == [] and tab.plot_widget("loss") is None
    tab.values_button.click()  # the summaries themselves are still there
    assert tab.stack.currentWidget() is tab.values_view and tab.values_model.rowCount() == 1


def test_a_search_matching_no_plot_says_so(panel, draft_experiment):
    recording.record_batch(draft_experiment, scalars=[("loss", "train", i, 1.0 / (i + 1), 1.0) for i in range(5)])
    panel.show_experiment(draft_experiment)
    panel.select_tab("SCALARS")
    tab = panel.scalars_tab
    assert not tab.is_empty()
    tab.settings_bar.search_box.setText("accuracy")
    assert tab.is_empty() and tab.empty_label.title() == "No plot matches “accuracy”"
    tab.settings_bar.search_box.clear()
    tab.set_plot_hidden("loss", True)
    assert tab.is_empty() and tab.empty_label.title() == "Every plot is hidden"
    tab.set_plot_hidden("loss", False)
    assert not tab.is_empty() and tab.plot_grid.shown_keys() == ["loss"]


def test_the_offered_lines_record_what_the_tabs_then_show(panel, draft_experiment, script_env, tmp_path, qtbot):
    panel.show_experiment(draft_experiment)
    codes = {}
    for title in ("SCALARS", "PLOTS", "DEBUG SAMPLES"):
        panel.select_tab(title)
        codes[title] = panel.current_tab().empty_label.code()
    # One script: the two lines once, then each tab's report call, as a person would paste them.
    calls = [code[len(SDK_START):] for code in codes.values()]
    script = tmp_path / "pasted.py"
    script.write_text(SCRIPT_PRELUDE + SDK_START + "\n".join(calls) + "\n")
    done = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=script_env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    recorded = [i for i in experiment_ids() if i != draft_experiment]
    assert len(recorded) == 1
    panel.show_experiment(recorded[0])
    panel.select_tab("SCALARS")
    scalars = panel.scalars_tab
    assert not scalars.is_empty() and scalars.plot_keys() == ["loss"]
    x, y = scalars.curves(("loss", "train"))[1].getOriginalDataset()
    assert list(x) == [3.0] and list(y) == [0.25]
    panel.select_tab("PLOTS")
    assert panel.plots_tab.stack.currentWidget() is not panel.plots_tab.empty_label
    assert [s["metric"] for s in panel.plots_tab.samples] == ["weights"]
    panel.select_tab("DEBUG SAMPLES")
    assert [b.text() for b in panel.debug_samples_tab.thumbnails] == ["samples / input"]
