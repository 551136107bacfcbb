"""The tags filter's system tags ("archived", "development"): what the table holds, counts and selects."""
from __future__ import annotations

import pytest

from exptable_desktop.core.filters import TagFilter
from exptable_desktop.core.recording import create_experiment
from exptable_desktop.core.table_loading import load_base_table
from exptable_desktop.store.bulk import Scope


def experiments():
    """name -> id: two scripts run by hand ("development"), two run by an agent; one of each tagged "best"."""
    return {name: create_experiment("p", name, development=dev, tags=tags) for name, dev, tags in (
        ("by hand", True, ["best"]), ("by hand 2", True, []), ("agent", False, ["best"]), ("agent 2", False, []))}


def visible_names(table, ids):
    names = {v: k for k, v in ids.items()}
    return sorted(names[i] for i in table.visible_ids())


@pytest.mark.both_backends
def test_filter_by_a_system_tag_selects_exactly_the_experiments_carrying_it(db):
    ids = experiments()
    table = load_base_table(Scope(None, False))
    assert table.distinct_system_tags() == [("development", 2)]

    table.set_filter("tags", TagFilter(system_include=frozenset({"development"})))
    assert visible_names(table, ids) == ["by hand", "by hand 2"]
    table.set_filter("tags", TagFilter(system_exclude=frozenset({"development"})))
    assert visible_names(table, ids) == ["agent", "agent 2"]
    table.set_filter("tags", TagFilter("all", frozenset({"best"}), system_include=frozenset({"development"})))
    assert visible_names(table, ids) == ["by hand"]
    table.set_filter("tags", TagFilter("any", frozenset({"best"}), system_include=frozenset({"development"})))
    assert visible_names(table, ids) == ["agent", "by hand", "by hand 2"]


@pytest.mark.both_backends
def test_the_archive_carries_the_archived_system_tag(db):
    from exptable_desktop.core import actions

    ids = experiments()
    actions.archive([ids["by hand"], ids["agent"]])
    archive = load_base_table(Scope(None, True))
    assert archive.distinct_system_tags() == [("archived", 2), ("development", 1)]
    archive.set_filter("tags", TagFilter("all", system_include=frozenset({"archived", "development"})))
    assert visible_names(archive, ids) == ["by hand"]


@pytest.mark.qt_log_ignore(r"This plugin does not support")  # the offscreen platform on showing a window
def test_the_window_tags_filter_lists_and_applies_system_tags(db, db_url, qtbot):
    from exptable_desktop.ui import create_main_window
    from exptable_desktop.ui.filter_popups import SYSTEM_SECTION

    ids = experiments()
    window = create_main_window(db_url)
    qtbot.addWidget(window)
    window.auto_refresh_toggle.setChecked(False)
    window.show()
    qtbot.waitUntil(lambda: not window.is_loading())
    popup = window.open_filter_popup("tags")
    texts = [popup.list.item(i).text() for i in range(popup.list.count())]
    assert SYSTEM_SECTION in texts
    popup.cycle(popup.item_for("development", system=True))
    assert sorted(window.visible_ids()) == sorted([ids["by hand"], ids["by hand 2"]])
    popup.close()

    # A script started by hand afterwards comes in with the next refresh, already filtered.
    late = create_experiment("p", "late by hand", development=True)
    create_experiment("p", "late agent")
    window.refresh_now()
    qtbot.waitUntil(lambda: late in window.visible_ids())
    assert sorted(window.visible_ids()) == sorted([ids["by hand"], ids["by hand 2"], late])
    window.shutdown()
