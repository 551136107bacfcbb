"""Every tab's content, for an experiment recorded by a real script through the SDK."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pytest

from exptable_desktop.ui import palette
from exptable_desktop.core import details as data
from exptable_desktop.core import smoothing
from exptable_desktop.ui.details import DetailsPanel



def open_tab(panel, experiment_id, title):
    panel.show_experiment(experiment_id)
    panel.select_tab(title)
    return panel.current_tab()


def test_header_shows_type_name_id_status_tags_and_description(panel, sdk_experiment):
    panel.show_experiment(sdk_experiment)
    header = panel.header
    assert header.name_edit.text() == "resnet50 baseline"
    assert header.id_label.toolTip() == sdk_experiment
    assert header.status_label.text() == "Completed"
    assert header.tag_names() == ["baseline", "gpu"]
    assert header.description_label.text() == "First baseline run on the mini dataset"
    assert "199 iterations" in header.updated_label.text()
    assert not header.type_label.pixmap().isNull()
    assert header.menu_button.isHidden()  # no factory set


def test_execution_tab_shows_source_diff_and_packages(panel, sdk_experiment):
    tab = open_tab(panel, sdk_experiment, "EXECUTION")
    assert tab.line_edits["repository"].text() == "https://example.com/team/vision.git"
    assert len(tab.line_edits["commit"].text()) == 40
    assert tab.line_edits["branch"].text() == "main"
    assert tab.line_edits["entry_point"].text() == "train.py"
    assert tab.line_edits["binary"].text().startswith("python")
    assert "+# tuned the learning rate" in tab.text_edits["diff"].toPlainText()
    assert "numpy" in tab.text_edits["requirements"].toPlainText()
    # Coloured diff: the added line carries the addition format.
    block = tab.text_edits["diff"].document().findBlockByLineNumber(
        tab.text_edits["diff"].toPlainText().splitlines().index("+# tuned the learning rate"))
    colours = {r.format.foreground().color().name() for r in block.layout().formats()}
    assert palette.current().success in colours
    # Completed: read-only, with the reason shown instead of Edit.
    section = tab.sections["source"]
    assert section.edit_button.isHidden() and "only a Draft can be edited" in section.reason_label.text()


def test_configuration_tab_shows_properties_sections_and_objects(panel, sdk_experiment):
    tab = open_tab(panel, sdk_experiment, "CONFIGURATION")
    page = tab.params_page
    assert page.rows() == [("dataset", "imagenet-mini"), ("owner", "alice")]
    assert not page.section_box.edit_button.isHidden()  # user properties: editable when Completed
    assert tab.select("params", "Args")
    assert dict(page.rows()) == {"epochs": "5", "lr": "0.01"}
    epochs_row = [n for n, _ in page.rows()].index("epochs")
    assert "Type: int" in page.table.item(epochs_row, 0).toolTip()
    assert "Description: passes over the data" in page.table.item(epochs_row, 0).toolTip()
    assert page.section_box.edit_button.isHidden()  # hyperparameters: Draft only
    page.search_box.setText("lr")
    assert page.match_label.text() == "1 of 1" and page.table.currentRow() == [n for n, _ in page.rows()].index("lr")
    assert tab.select("params", "Model")
    assert dict(page.rows()) == {"batch_size": "64", "optimizer": "adam"}
    assert tab.select("object", "architecture")
    assert '"dropout": 0.1' in tab.object_page.text.toPlainText()


def test_artifacts_tab_shows_path_size_hash_metadata_and_preview(panel, sdk_experiment, qapp):
    tab = open_tab(panel, sdk_experiment, "ARTIFACTS")
    assert tab.current["name"] == "metrics_summary"
    assert tab.path_label.text().endswith("metrics_summary.json")
    assert tab.size_label.text() == f"{tab.current['size']} B"
    assert len(tab.hash_label.text()) == 64
    assert '"best": 0.931' in tab.preview.toPlainText()
    keys = [tab.metadata_table.item(r, 0).text() for r in range(tab.metadata_table.rowCount())]
    assert "split" in keys
    assert tab.open_button.isEnabled() and tab.folder_button.isEnabled()
    tab.copy_path()
    assert qapp.clipboard().text() == tab.current["local_path"]


def test_info_tab_shows_every_field_and_the_parent_link_selects_it(panel, sdk_experiment, qtbot):
    from exptable_desktop.core import actions
    clone = actions.clone([sdk_experiment]).created[sdk_experiment]
    from exptable_desktop.store.schema import Experiment
    Experiment.update(parent=sdk_experiment).where(Experiment.id == clone).execute()
    tab = open_tab(panel, clone, "INFO")
    assert tab.value_text("ARCHIVED") == "No"
    assert tab.value_text("PROJECT") == "vision/resnet"
    assert tab.value_text("ID") == clone
    assert tab.value_text("CREATED BY") == "tester"
    with qtbot.waitSignal(panel.sig_experiment_link_activated) as blocker:
        tab.values["PARENT TASK"].linkActivated.emit(sdk_experiment)
    assert blocker.args == [sdk_experiment]
    original = open_tab(panel, sdk_experiment, "INFO")
    assert original.value_text("RUN TIME") != "N/A" and original.value_text("COMPLETED AT") != "N/A"
    assert original.value_text("python_version").count(".") == 2  # runtime properties follow the fields


def test_console_tab_shows_stdout_and_stderr_filters_and_saves(panel, sdk_experiment, qtbot, tmp_path):
    tab = open_tab(panel, sdk_experiment, "CONSOLE")
    model = tab.model
    texts = [model.data(model.index(r)) for r in range(model.rowCount())]
    assert "training finished with loss 0.0123" in texts and "a warning line" in texts
    warning_row = texts.index("a warning line")
    from PySide6.QtCore import Qt
    assert model.data(model.index(warning_row), Qt.ItemDataRole.ForegroundRole).color().name() == palette.current().danger
    assert tab.host_label.text().startswith("Hostname:")
    tab.filter_box.setText(r"loss \d")
    tab.apply_filter()
    assert [model.data(model.index(r)) for r in range(model.rowCount())] == ["training finished with loss 0.0123"]
    tab.filter_box.setText("([")
    tab.apply_filter()
    assert "Invalid regex" in tab.status_label.text()
    assert model.rowCount() == 1  # the last good filter stays
    out = tmp_path / "log.txt"
    tab.save_to(str(out))
    assert out.read_text().splitlines() == texts


def test_scalars_tab_plots_metrics_summary_and_values(panel, sdk_experiment, qtbot, qtmodeltester):
    tab = open_tab(panel, sdk_experiment, "SCALARS")
    assert tab.plot_keys() == ["accuracy", "loss"]
    loss = tab.plot_widget("loss")
    names = sorted(item.name() for item in loss.plot_item.listDataItems() if item.name())
    assert names == ["train", "validation"]
    _, smoothed = tab.curves(("loss", "train"))
    x, y = smoothed.getOriginalDataset()
    assert len(x) == 200 and x[0] == 0 and y[0] == pytest.approx(1.0)
    summary = {tab.summary_table.item(r, 0).text(): tab.summary_table.item(r, 1).text()
               for r in range(tab.summary_table.rowCount())}
    assert summary == {"best_accuracy": "0.931", "parameters": "25557032"}
    qtmodeltester.check(tab.values_model)
    rows = {(tab.values_model.index(r, 1).data(), tab.values_model.index(r, 2).data()): r
            for r in range(tab.values_model.rowCount())}
    first_val = tab.values_model.index(rows[("loss", "validation")], 3).data()
    assert first_val == "1.2"
    tab.values_button.click()
    assert tab.stack.currentWidget() is tab.values_view


def test_scalar_settings_smoothing_axis_log_grouping_and_hiding(panel, sdk_experiment, qtbot):
    tab = open_tab(panel, sdk_experiment, "SCALARS")
    bar = tab.settings_bar
    bar.smoothing_combo.setCurrentIndex(bar.smoothing_combo.findData(smoothing.EMA))
    bar.alpha_spin.setValue(0.9)
    original, smoothed = tab.curves(("loss", "train"))
    raw = data.series_since(sdk_experiment, "loss", "train", data.SeriesCursor())[1]
    np.testing.assert_allclose(smoothed.getOriginalDataset()[1], smoothing.exponential_moving_average(raw, 0.9))
    assert original.isVisible() and original.getOriginalDataset()[1][5] == raw[5]
    bar.originals_check.setChecked(False)
    assert not tab.curves(("loss", "train"))[0].isVisible()
    bar.width_spin.setValue(3.0)
    assert tab.curves(("loss", "train"))[1].opts["pen"].widthF() == 3.0
    bar.log_check.setChecked(True)
    assert tab.plot_widget("loss").plot_item.ctrl.logYCheck.isChecked()
    bar.axis_combo.setCurrentIndex(bar.axis_combo.findData("iso_time"))
    assert isinstance(tab.plot_widget("loss").plot_item.getAxis("bottom"), pg.DateAxisItem)
    x = tab.curves(("loss", "train"))[1].getOriginalDataset()[0]
    assert x[0] > 1e9  # wall clock
    bar.axis_combo.setCurrentIndex(bar.axis_combo.findData("timestamp"))
    x = tab.curves(("loss", "train"))[1].getOriginalDataset()[0]
    assert 0 <= x[0] < 60
    bar.group_combo.setCurrentIndex(bar.group_combo.findData("none"))
    assert tab.plot_keys() == [("accuracy", "top1"), ("loss", "train"), ("loss", "validation")]
    bar.search_box.setText("loss")
    assert tab.visible_plot_keys() == [("loss", "train"), ("loss", "validation")]
    tab.set_plot_hidden("loss / train", True)
    assert tab.visible_plot_keys() == [("loss", "validation")]
    assert not tab.plot_widget(("loss", "train")).isVisible()
    # Settings are remembered for the next panel.
    tab._save_settings()
    other = DetailsPanel()
    qtbot.addWidget(other)
    other.show_experiment(sdk_experiment)
    other.select_tab("SCALARS")
    restored = other.scalars_tab
    assert restored.settings.group_by == "none" and restored.settings.log_y
    assert restored.settings_bar.group_combo.currentData() == "none"
    assert restored.settings_bar.axis_combo.currentData() == "timestamp"
    assert restored.settings_bar.alpha_spin.value() == 0.9 and not restored.settings_bar.alpha_spin.isHidden()
    assert restored.plot_keys() == [("accuracy", "top1"), ("loss", "train"), ("loss", "validation")]


def test_plots_tab_shows_latest_sample_of_each_kind_and_steps_back(panel, sdk_experiment):
    tab = open_tab(panel, sdk_experiment, "PLOTS")
    assert tab.iterations == [0, 100]
    assert sorted(tab.kinds_shown()) == ["bar", "confusion", "line", "scatter", "table"]
    assert all(s["iteration"] == 100 for s in tab.samples)
    confusion = next(s for s in tab.samples if s["figure"]["kind"] == "confusion")
    assert confusion["figure"]["matrix"][2][2] == 50
    tab.set_iteration(0)
    assert all(s["iteration"] == 0 for s in tab.samples)
    confusion = next(s for s in tab.samples if s["figure"]["kind"] == "confusion")
    assert confusion["figure"]["matrix"][2][2] == 40
    assert tab.iteration_label.text() == "0"
    tab.search_box.setText("confusion")
    visible = [key for key, card in tab.cards if not card.isHidden()]
    assert visible == ["confusion", "confusion val"]


def test_debug_samples_tab_newest_first_and_viewer_steps(panel, sdk_experiment, qtbot):
    tab = open_tab(panel, sdk_experiment, "DEBUG SAMPLES")
    assert [s["iteration"] for s in tab.samples] == [100, 100, 0, 0]
    assert [b.text() for b in tab.thumbnails] == ["samples / input", "samples / prediction"] * 2
    assert not tab.thumbnails[0].icon().isNull()
    viewer = tab.open_viewer(tab.samples[0])
    qtbot.addWidget(viewer)
    assert viewer.caption.text().startswith("samples / input") and viewer.image.pixmap() is not None
    viewer.step_sample(1)
    assert viewer.current["variant"] == "prediction" and viewer.current["iteration"] == 100
    viewer.slider.setValue(0)
    assert viewer.current["variant"] == "prediction" and viewer.current["iteration"] == 0
    tab.metric_combo.setCurrentText("samples")
    assert len(tab.thumbnails) == 4


def test_last_tab_is_remembered(qtbot, sdk_experiment):
    first = DetailsPanel()
    qtbot.addWidget(first)
    first.show_experiment(sdk_experiment)
    first.select_tab("PLOTS")
    second = DetailsPanel()
    qtbot.addWidget(second)
    assert second.current_tab().title == "PLOTS"


def test_only_the_visible_tab_loads(qtbot, sdk_experiment):
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.select_tab("INFO")
    panel.show_experiment(sdk_experiment)
    assert panel.info_tab.experiment_id == sdk_experiment
    assert panel.scalars_tab.experiment_id is None and panel.console_tab.experiment_id is None
    panel.select_tab("CONSOLE")
    assert panel.console_tab.experiment_id == sdk_experiment
    panel.show_experiment(None)
    assert not panel.tabs.isEnabled() and panel.header.name_edit.text() == ""
