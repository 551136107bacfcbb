"""The search box in the window: queries filter the table, errors show where they are, completion."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from exptable_desktop.core.columns import hyperparam_key, metric_key
from exptable_desktop.core.editing import set_hyperparams
from exptable_desktop.core.recording import create_experiment
from views_support import shown_names

# A test run leaves the repository alone; EXPTABLE_UPDATE_SCREENSHOTS=1 re-makes README's pictures.
SCREENSHOTS = (Path(__file__).resolve().parents[2] / "docs" / "screenshots" if os.environ.get("EXPTABLE_UPDATE_SCREENSHOTS")
               else Path(tempfile.gettempdir()) / "exptable-screenshots")


def test_a_query_filters_the_table_and_reads_hidden_columns_in_bulk(window, qtbot):
    assert metric_key("accuracy", "val", "max") not in window.model.keys
    window.search_box.setText("user:alice|bob metric:accuracy/val.max>=0.7 -tag:debug")
    assert sorted(shown_names(window)) == ["b-resnet18", "h-late"]
    # Read for the query, not shown as a column.
    assert metric_key("accuracy", "val", "max") in window.model.table.metrics
    assert metric_key("accuracy", "val", "max") not in window.model.keys
    assert window.search_box.property("invalid") is False
    assert not window.query_box.message.isVisible()


def test_plain_words_still_search_as_one_phrase(window):
    window.search_box.setText("about b-")
    assert shown_names(window) == ["b-resnet18"]


def test_a_wrong_query_shows_where_and_keeps_the_rows(window, qtbot):
    window.search_box.setText("tag:best")
    before = sorted(shown_names(window))
    window.search_box.setText("tag:best colour:red")
    assert window.search_box.property("invalid") is True
    assert sorted(shown_names(window)) == before
    box = window.query_box
    assert box.error.position == 9 and "unknown field 'colour'" in box.error.message
    assert box.underline.isVisible() and box.underline.span == (9, 15)
    rect = box.underline.span_rect()
    # Under "colour", not under "tag:best".
    assert rect.left() > box.underline.x_of(8) and rect.right() <= box.underline.x_of(16)
    assert box.message.isVisible() and "Character 10: unknown field 'colour'" in box.message.text()
    assert box.message.y() >= window.search_box.mapTo(window, window.search_box.rect().bottomLeft()).y()
    window.search_box.setText("tag:best (")
    assert box.error.position == 9 and "never closed" in box.error.message
    window.search_box.setText("tag:best")
    assert not box.message.isVisible() and not box.underline.isVisible()
    assert window.search_box.property("invalid") is False


def test_the_regex_toggle_keeps_the_old_meaning(window):
    window.regex_action.setChecked(True)
    window.search_box.setText("^(a|h)-")
    assert sorted(shown_names(window)) == ["a-baseline", "h-late"]
    window.search_box.setText("(")
    assert window.search_box.property("invalid") is True and window.query_box.message.isVisible()


def test_a_refresh_keeps_a_query_on_a_hidden_column_true(window, qtbot):
    window.search_box.setText("lr>=0.5")
    assert shown_names(window) == []
    exp_id = create_experiment("vision", "new-high-lr", user="alice")
    set_hyperparams([exp_id], "Args", {"lr": 0.7})
    window.refresh_now()
    assert shown_names(window) == ["new-high-lr"]
    assert hyperparam_key("Args", "lr") in window.model.table.hyperparams


def test_a_field_that_appears_after_the_first_query_is_found(window):
    window.search_box.setText("status:running")
    exp_id = create_experiment("vision", "momentum-run", user="alice")
    set_hyperparams([exp_id], "Args", {"momentum": 0.9})
    window.refresh_now()
    window.search_box.setText("momentum:0.9")
    assert window.search_box.property("invalid") is False, window.query_box.error
    assert shown_names(window) == ["momentum-run"]


def test_completion_offers_fields_then_their_values(window, qtbot):
    box, helper = window.search_box, window.query_box
    box.setFocus()
    qtbot.keyClicks(box, "sta")
    qtbot.waitUntil(lambda: helper.completer.popup().isVisible())
    assert helper.completions.stringList()[:1] == ["status:"]
    helper.completer.activated.emit("status:")
    assert box.text() == "status:" and box.cursorPosition() == 7
    qtbot.waitUntil(lambda: "running" in helper.completions.stringList())
    assert helper.completer.popup().isVisible()
    qtbot.keyClicks(box, "ru")
    qtbot.waitUntil(lambda: helper.completions.stringList() == ["running"])
    helper.completer.activated.emit("running")
    assert box.text() == "status:running"
    assert sorted(shown_names(window)) == ["c-vit", "g-resnet50", "h-late", "z-nlp"]
    qtbot.keyClicks(box, " user:")
    qtbot.waitUntil(lambda: helper.completions.stringList() == ["alice", "bob", "carol", "dave"])
    qtbot.keyClicks(box, " lr:")
    qtbot.waitUntil(lambda: "0.001" in helper.completions.stringList())
    helper.completer.popup().hide()


def test_query_box_screenshot(window, qtbot):
    """docs/screenshots/query_box.png: a query with a mistake, underlined, with its message."""
    window.resize(1280, 420)
    window.search_box.setMinimumWidth(520)
    window.search_box.setText("tag:best user:alice|bob metric:accuracy/val.max>=0.8")
    good = sorted(shown_names(window))
    window.search_box.setText("tag:best user:alice|bob metric:acuracy/val.max>=0.8")
    qtbot.wait(50)
    assert sorted(shown_names(window)) == good
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert window.grab().save(str(SCREENSHOTS / "query_box.png"))
