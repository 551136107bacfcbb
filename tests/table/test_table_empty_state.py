"""The table's empty states: a search or filter nothing passes, an empty project, a brand-new
database and an empty archive each say so over the table's rows, with the step that helps; the
message goes as soon as there are rows again."""
from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from exptable_desktop.core import actions, recording
from exptable_desktop.core.filters import ValueSetFilter
from exptable_desktop.core.projects import create_project
from exptable_desktop.ui.empty_state import SDK_START
from exptable_desktop.ui.new_experiment_wizard import NewExperimentWizard
from exptable_desktop.ui.table_empty_state import EMPTY_ARCHIVE, EMPTY_DATABASE, EMPTY_PROJECT, NO_MATCH


def _overlay(window):
    return window.table_empty_state.view


def _covers_the_rows(window) -> bool:
    """Over the rows' area exactly: the header (columns, filter marks) stays in view above it."""
    view = _overlay(window)
    return view.isVisible() and view.geometry() == window.table_view.viewport().geometry()


def _open(qtbot, db_url):
    from exptable_desktop.ui import create_main_window

    window = create_main_window(db_url)
    qtbot.addWidget(window)
    window.resize(1400, 820)
    window.show()
    qtbot.waitExposed(window)
    window.auto_refresh_toggle.setChecked(False)
    return window


def test_a_search_nothing_matches_says_so_and_clearing_it_brings_the_rows_back(window, populated):
    assert window.table_empty_state.kind() is None and not _overlay(window).isVisible()
    window.search_box.setText("no-such-experiment")
    assert window.visible_ids() == []
    assert window.table_empty_state.kind() == NO_MATCH and _covers_the_rows(window)
    view = _overlay(window)
    assert view.title() == "No experiments match"
    assert "“no-such-experiment”" in view.body() and "9 experiments" in view.body()
    assert view.action_button.isVisible() and view.action_button.text() == "Clear search and filters"
    window.search_box.setText("b-res")  # typing on: the rows come back, the message goes
    assert window.visible_ids() == [populated["b-resnet"]] and not view.isVisible()
    window.search_box.setText("no-such-experiment")
    view.action_button.click()
    assert window.search_box.text() == ""
    assert sorted(window.visible_ids()) == sorted(populated.values())
    assert window.table_empty_state.kind() is None and not view.isVisible()


def test_filters_nothing_passes_say_so_and_the_button_clears_them_and_the_search(window, populated):
    window.search_box.setText("vit")
    window.set_filter("status", ValueSetFilter(frozenset({"failed"})))
    view = _overlay(window)
    assert window.table_empty_state.kind() == NO_MATCH and _covers_the_rows(window)
    assert "the search “vit” and the column filters" in view.body()
    view.action_button.click()
    assert window.search_box.text() == "" and not window.model.table.active_filter_keys()
    assert not window.clear_filters_button.isVisible()
    assert len(window.visible_ids()) == len(populated) and not view.isVisible()


def test_show_only_checked_with_nothing_checked_offers_the_same_way_back(window, populated):
    window.set_show_only_checked(True)
    assert window.table_empty_state.kind() == NO_MATCH and "“Show only checked”" in _overlay(window).body()
    _overlay(window).action_button.click()
    assert not window.is_show_only_checked() and len(window.visible_ids()) == len(populated)


def test_an_empty_project_says_how_to_make_its_first_experiment(window, qtbot, populated):
    project_id = create_project("speech")
    window.project_panel.model.rebuild(False)
    window.open_project(project_id)
    view = _overlay(window)
    assert window.table_empty_state.kind() == EMPTY_PROJECT and _covers_the_rows(window)
    assert view.title() == "This project has no experiments yet"
    assert "New Experiment" in view.body()
    # The two lines, recording into this very project.
    assert view.code() == SDK_START.rstrip("\n").replace('"examples"', '"speech"')
    assert view.code().count("\n") == 1
    assert view.action_button.isVisible() and view.action_button.text() == "New Experiment…"
    view.action_button.click()
    wizard = window.findChild(NewExperimentWizard)
    assert wizard is not None and wizard.isVisible()
    wizard.close()
    first = recording.create_experiment("speech", "first words")
    window.refresh_now()
    assert window.visible_ids() == [first]
    assert window.table_empty_state.kind() is None and not view.isVisible()
    window.open_project(None)  # another scope with rows: nothing to say
    assert not view.isVisible()


def test_a_project_whose_experiments_are_all_archived_says_where_they_are(window, populated):
    nlp = populated["z-nlp"]
    actions.archive([nlp])
    window.refresh_now()
    project_id = next(pid for pid, path in window.project_panel.model.paths.items() if path == "nlp")
    window.open_project(project_id)
    view = _overlay(window)
    assert window.table_empty_state.kind() == EMPTY_PROJECT
    assert view.title() == "This project has only archived experiments"
    assert view.body().startswith("One experiment is in the archive.")


def test_an_empty_archive_says_so_and_closes(window, populated):
    window.archive_toggle.setChecked(True)
    view = _overlay(window)
    assert window.table_empty_state.kind() == EMPTY_ARCHIVE and _covers_the_rows(window)
    assert view.title() == "The archive is empty"
    view.action_button.click()
    assert not window.is_archive_mode() and len(window.visible_ids()) == len(populated)
    assert not view.isVisible()


@pytest.mark.both_backends
def test_a_brand_new_database_says_how_to_record_the_first_experiment(qtbot, db, db_url):
    window = _open(qtbot, db_url)
    try:
        view = _overlay(window)
        assert window.table_empty_state.kind() == EMPTY_DATABASE and _covers_the_rows(window)
        assert view.title() == "This database has no experiments yet"
        assert "New Experiment" in view.body() and "two lines" in view.body()
        assert view.code() == SDK_START.rstrip("\n")
        assert view.action_button.text() == "New Experiment…"
        view.copy_button.click()
        assert QApplication.clipboard().text() == view.code()
        # Resized with the table: still over the rows exactly.
        window.resize(1600, 1000)
        qtbot.waitUntil(lambda: _covers_the_rows(window) and view.width() > 1100)
        exp_id = recording.create_experiment("first", "hello")
        window.refresh_now()
        assert window.visible_ids() == [exp_id]
        assert window.table_empty_state.kind() is None and not view.isVisible()
    finally:
        window.shutdown()
