"""A Published experiment cannot be changed from any menu, and core refuses if asked anyway."""
from __future__ import annotations

import pytest
from actions_support import make_experiment, snapshot
from PySide6.QtCore import QPoint

from exptable_desktop.core import actions as core
from exptable_desktop.core import states as st

# What Publish freezes: the life cycle and outputs. Archive, tags, move and
# clone stay allowed, as in the reference system (feature inventory 2.2).
STATE_CHANGES = ("enqueue", "retry", "dequeue", "reset", "abort", "abort_children", "publish")


@pytest.fixture
def published(make_window):
    exp = make_experiment("final", st.PUBLISHED)
    window = make_window("demo")
    return window, exp


def test_menu_and_bar_entries_are_disabled(published, qtbot):
    window, exp = published
    window.show()
    window.set_checked([exp], True)
    controller = window.action_controller
    controller.show_context_menu(QPoint(3, 3), exp)
    enabled = {a.objectName()[len("action_"):]: a.isEnabled() for a in controller.last_menu.actions()
               if a.objectName().startswith("action_")}
    for key in STATE_CHANGES:
        assert enabled[key] is False, key
    bar = controller.batch_bar
    qtbot.waitUntil(bar.isVisible)
    for key in STATE_CHANGES:
        assert not bar.buttons[key].isEnabled(), key

    # Through the details panel's menu too (same object).
    menu = controller.build_menu([exp])
    assert not any(a.isEnabled() for a in menu.actions() if a.objectName()[len("action_"):] in STATE_CHANGES)


@pytest.mark.parametrize("key", STATE_CHANGES)
def test_running_the_action_anyway_changes_nothing(published, answers, key):
    window, exp = published
    before = snapshot([exp])
    window.action_controller.run(key, [exp])
    assert snapshot([exp]) == before
    text, _undo, details = window.messages[-1]
    assert text == ("0 children aborted" if key == "abort_children" else f"0 of 1 experiment {core.VERBS[key]}")
    assert "final" in details


@pytest.mark.parametrize("call", [
    lambda ids: core.enqueue(ids, "default"), lambda ids: core.retry(ids, "default"), core.dequeue, core.reset,
    core.abort, core.publish])
def test_core_refuses(published, call):
    _window, exp = published
    result = call([exp])
    assert result.succeeded == [] and "Published" in result.skipped[exp]
