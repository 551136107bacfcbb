"""Tags: the Add Tag menu (search, scope toggle, create, remove) and tag colours."""
from __future__ import annotations

import pytest
from actions_support import make_experiment

from exptable_desktop.core.queries import tags_of
from exptable_desktop.store.schema import Tag
from exptable_desktop.ui.actions.dialogs import TagColorsDialog
from exptable_desktop.core.lookups import all_tags
from exptable_desktop.core.formatting import TAG_PALETTE, default_tag_colors


def add_tag_menu(window, ids):
    menu = window.action_controller.build_menu(ids)
    action = next(a for a in menu.actions() if a.objectName() == "action_add_tags")
    tag_menu = action.menu()
    tag_menu.populate()
    return tag_menu


@pytest.mark.both_backends
def test_add_existing_create_new_and_remove(make_window, answers):
    a = make_experiment("a", tags=["baseline", "shared"])
    b = make_experiment("b", tags=["shared"])
    make_experiment("other", project="elsewhere", tags=["foreign"])
    window = make_window("demo")

    menu = add_tag_menu(window, [a, b])
    assert menu.tag_entries() == [("baseline", False), ("shared", True)]  # common tag checked
    assert "baseline  (1 of 2)" in [x.text() for x in menu.actions()]

    menu.project_only.setChecked(False)
    assert [name for name, _ in menu.tag_entries()] == ["baseline", "shared", "foreign"]

    menu.search_edit.setText("fore")
    assert menu.tag_entries() == [("foreign", False)]
    assert menu.create_action.isVisible()  # "fore" itself is not a tag yet
    menu.search_edit.setText("foreign")
    assert not menu.create_action.isVisible()
    menu._tag_actions[0].trigger()
    assert tags_of([a, b]) == {a: ["baseline", "foreign", "shared"], b: ["foreign", "shared"]}
    assert window.messages[-1][0] == '2 of 2 experiments tagged "foreign"'

    menu = add_tag_menu(window, [a, b])
    menu.search_edit.setText("brand new")
    assert menu.tag_entries() == []
    assert menu.create_action.isVisible() and menu.create_action.text() == '"brand new" (Create New)'
    menu.create_action.trigger()
    assert "brand new" in tags_of([a])[a] and "brand new" in tags_of([b])[b]

    menu = add_tag_menu(window, [a, b])
    menu.choose("shared")  # checked (on every target): removes it
    assert tags_of([a, b]) == {a: ["baseline", "brand new", "foreign"], b: ["brand new", "foreign"]}

    menu = add_tag_menu(window, [b])
    menu.choose("baseline")  # on some targets only: adds it
    assert "baseline" in tags_of([b])[b]


def test_enter_in_the_search_box_creates(make_window, qtbot, answers):
    from PySide6.QtCore import Qt
    a = make_experiment("a")
    window = make_window("demo")
    menu = add_tag_menu(window, [a])
    qtbot.keyClicks(menu.search_edit, "typed")
    qtbot.keyClick(menu.search_edit, Qt.Key.Key_Return)
    assert tags_of([a])[a] == ["typed"]


def test_default_palette_is_deterministic():
    # Names whose characters add up to 20 consecutive sums get 20 different colours.
    assert len({default_tag_colors(chr(65 + n))[0] for n in range(20)}) == 20
    assert default_tag_colors("abc") == (TAG_PALETTE[(97 + 98 + 99) % 20], "#ffffff")
    assert default_tag_colors("abc") == default_tag_colors("cba")  # same characters, same sum
    assert default_tag_colors("a") != default_tag_colors("b")


def test_tag_colours_dialog_and_persistence(make_window, qtbot, answers):
    make_experiment("a", tags=["red", "blue"])
    window = make_window("demo")

    dialog = TagColorsDialog(None, all_tags())
    qtbot.addWidget(dialog)
    assert dialog.changes() == {}
    dialog.set_colors("red", "#aa0000", "#ffffee")
    assert dialog.changes() == {"red": ("#aa0000", "#ffffee")}
    assert "#aa0000" in dialog._chips["red"].styleSheet()

    answers.tag_colors = dialog.changes()
    window.action_controller.edit_tag_colors()
    red = Tag.get(Tag.name == "red")
    assert (red.background, red.foreground) == ("#aa0000", "#ffffee")
    assert Tag.get(Tag.name == "blue").background is None  # untouched tags keep the default palette

    dialog = TagColorsDialog(None, all_tags())  # reopened: shows what was stored, resets to default
    qtbot.addWidget(dialog)
    dialog.set_colors("red", None, None)
    answers.tag_colors = dialog.changes()
    window.action_controller.edit_tag_colors()
    assert Tag.get(Tag.name == "red").background is None


def test_tag_colours_entry_in_the_tag_menu(make_window, answers):
    make_experiment("a", tags=["x"])
    window = make_window("demo")
    menu = add_tag_menu(window, window.scope_ids())
    answers.tag_colors = {"x": ("#123456", None)}
    menu.colors_action.trigger()
    assert Tag.get(Tag.name == "x").background == "#123456"
    assert [t.name for t in answers.named("ask_tag_colors")[0][1][1]] == ["x"]
