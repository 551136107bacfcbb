"""The visual pass of issue 14 for dialogs, menus, the batch bar, the top bar and the filter pop-ups."""
from __future__ import annotations

import pytest
from actions_support import make_experiment
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QProxyStyle, QStyle, QStyleFactory

from exptable_desktop.core import actions as core
from exptable_desktop.core import states as st
from exptable_desktop.ui import icons
from exptable_desktop.ui.actions import dialogs
from exptable_desktop.ui.actions.batch_bar import BAR_LABELS

# The offscreen platform's notes on showing a window (no window manager to tell), not our warnings.
pytestmark = pytest.mark.qt_log_ignore(r"This plugin does not support")

# ---- Dialog buttons ---------------------------------------------------------------------------------------


class ButtonsWithIcons(QProxyStyle):
    """A desktop style that puts its stock icons on dialog buttons (as KDE and some GTK themes do)."""

    def styleHint(self, hint, option=None, widget=None, data=None):  # noqa: N802
        if hint == QStyle.StyleHint.SH_DialogButtonBox_ButtonsHaveIcons:
            return 1
        return super().styleHint(hint, option, widget, data)


@pytest.fixture
def icon_style():
    app = QApplication.instance()
    before = app.style().name()
    app.setStyle(ButtonsWithIcons(QStyleFactory.create("Fusion")))
    yield
    app.setStyle(QStyleFactory.create(before))


def test_confirmation_buttons_carry_no_stock_icons_even_where_the_style_adds_them(qtbot, icon_style):
    dialog = dialogs.ConfirmDialog(None, "Reset", "Reset 3 experiments?", ok_text="Reset", destructive=True)
    qtbot.addWidget(dialog)
    box = dialog.buttons
    assert set(box.buttons()) == {box.action_button, box.cancel_button}
    for button in box.buttons():
        assert box.standardButton(button) == QDialogButtonBox.StandardButton.NoButton
        assert button.icon().isNull(), button.text()


def test_destructive_button_is_red_and_not_the_default(qtbot):
    dialog = dialogs.ConfirmDialog(None, "Delete", "Delete?", ok_text="Delete", destructive=True)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    action, cancel = dialog.buttons.action_button, dialog.buttons.cancel_button
    assert action.objectName() == "destructiveButton"
    assert action.property("buttonRole") == dialogs.DESTRUCTIVE
    assert not action.isDefault() and not action.autoDefault()
    assert cancel.isDefault()
    # Drawn red, from the dialog's style sheet.
    pixel = action.grab().toImage().pixelColor(action.width() // 2, 4)
    assert pixel.red() > 150 and pixel.green() < 90 and pixel.blue() < 90, pixel.name()

    plain = dialogs.ConfirmDialog(None, "Publish", "Publish?", ok_text="Publish")
    qtbot.addWidget(plain)
    plain.show()
    assert plain.buttons.action_button.objectName() == "primaryButton"
    assert plain.buttons.action_button.isDefault()


def test_enter_in_a_destructive_confirmation_cancels(qtbot):
    dialog = dialogs.ConfirmDialog(None, "Reset", "Reset?", ok_text="Reset", destructive=True,
                                   checkbox="Also remove files")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClick(dialog, Qt.Key.Key_Return)
    assert dialog.result() == dialogs.QDialog.DialogCode.Rejected


def test_a_short_list_of_names_shows_whole(qtbot):
    dialog = dialogs.ConfirmDialog(None, "Abort", "Abort 3 experiments?", items=["a", "b", "c"], ok_text="Abort",
                                   destructive=True)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    view = dialog.item_list
    assert view.verticalScrollBar().maximum() == 0
    assert all(view.viewport().rect().contains(view.visualItemRect(view.item(i))) for i in range(3))


@pytest.mark.parametrize("key", ["reset", "delete", "abort"])
def test_destructive_actions_ask_with_a_destructive_confirmation(make_window, answers, key):
    exp = make_experiment("e", st.RUNNING if key == "abort" else st.COMPLETED)
    window = make_window("demo")
    if key == "delete":
        core.archive([exp])
        window.set_archive_mode(True)
    answers.confirm_answer = False
    window.action_controller.run(key, [exp])
    (_, _args, kwargs), = answers.named("confirm")
    assert kwargs["destructive"] is True


def test_publish_and_dequeue_are_not_destructive(make_window, answers):
    done = make_experiment("done", st.COMPLETED)
    queued = make_experiment("queued", st.PENDING)
    window = make_window("demo")
    answers.confirm_answer = False
    window.action_controller.run("publish", [done])
    window.action_controller.run("dequeue", [queued])
    assert [kwargs.get("destructive", False) for _, _, kwargs in answers.named("confirm")] == [False, False]


# ---- Wording for one and for many ------------------------------------------------------------------------

def confirmation_text(window, answers, key, ids) -> tuple[str, list[str]]:
    answers.calls.clear()
    window.action_controller.run(key, ids)
    (_, args, kwargs), = answers.named("confirm")
    return args[2], list(kwargs.get("items", ()))


def test_reset_text_for_one_and_for_three(make_window, answers):
    ids = [make_experiment(name, st.COMPLETED) for name in ("alpha", "beta", "gamma")]
    window = make_window("demo")
    answers.confirm_answer = False

    text, items = confirmation_text(window, answers, "reset", ids[:1])
    assert text == ('Reset experiment "alpha"? Its logs, scalars, plots, debug samples, console output and '
                    'output artifacts will be deleted, and it returns to Draft.')
    assert items == []
    text, items = confirmation_text(window, answers, "reset", ids)
    assert text == ("Reset 3 experiments? Their logs, scalars, plots, debug samples, console output and "
                    "output artifacts will be deleted, and they return to Draft.")
    assert sorted(items) == ["alpha", "beta", "gamma"]


def test_delete_abort_publish_and_dequeue_texts_agree_with_their_number(make_window, answers):
    done = [make_experiment(f"done {i}", st.COMPLETED) for i in range(3)]
    running = [make_experiment(f"run {i}", st.RUNNING) for i in range(3)]
    queued = [make_experiment(f"queued {i}", st.PENDING) for i in range(3)]
    window = make_window("demo")
    answers.confirm_answer = False

    one, _ = confirmation_text(window, answers, "abort", running[:1])
    three, _ = confirmation_text(window, answers, "abort", running)
    assert one.startswith('Abort experiment "run 0"? It will be stopped, and its models')
    assert three.startswith("Abort 3 experiments? They will be stopped, and their models")

    one, _ = confirmation_text(window, answers, "publish", done[:1])
    three, _ = confirmation_text(window, answers, "publish", done)
    assert one.startswith('Publish experiment "done 0"? It becomes read-only') and "its outputs" in one
    assert three.startswith("Publish 3 experiments? They become read-only") and "their outputs" in three

    one, _ = confirmation_text(window, answers, "dequeue", queued[:1])
    three, _ = confirmation_text(window, answers, "dequeue", queued)
    assert one.startswith('Dequeue experiment "queued 0"? It will be removed from')
    assert three == "Dequeue 3 experiments? They will be removed from their execution queues."

    core.archive(done)
    window.set_archive_mode(True)
    one, _ = confirmation_text(window, answers, "delete", done[:1])
    three, _ = confirmation_text(window, answers, "delete", done)
    assert one == ('Are you sure you want to delete experiment "done 0"? This also removes its captured logs, '
                   "results, artifacts and debug samples, and cannot be undone.")
    assert three.startswith("Are you sure you want to delete 3 experiments? This also removes their captured")


def test_abort_all_children_counts_one_child_in_the_singular(make_window, answers):
    parent = make_experiment("optimizer", st.COMPLETED, task_type="optimizer")
    make_experiment("trial", st.RUNNING, parent=parent)
    window = make_window("demo")
    answers.confirm_answer = False
    text, _ = confirmation_text(window, answers, "abort_children", [parent])
    assert text == "This Pending or Running child experiment will be aborted:"


# ---- Buttons disabled until the input is valid -----------------------------------------------------------

def test_move_is_disabled_until_a_project_is_typed(qtbot):
    dialog = dialogs.ProjectDialog(None, 3, ["demo", "vision/cifar"], None)
    qtbot.addWidget(dialog)
    move = dialog.buttons.action_button
    assert dialog.project_combo.currentText() == ""
    assert not move.isEnabled()
    dialog.project_combo.setEditText("vision/cifar")
    assert move.isEnabled()
    for unusable in (" ", "//", " / "):
        dialog.project_combo.setEditText(unusable)
        assert not move.isEnabled(), unusable
    dialog.project_combo.setEditText("a/" + "x" * 256)
    assert not move.isEnabled() and "255 characters" in dialog.error.text()
    dialog.project_combo.setEditText("new/place")
    assert move.isEnabled() and dialog.error.text() == ""


def test_enqueue_and_clone_start_disabled_without_input(qtbot):
    queue = dialogs.QueueDialog(None, ["gpu"], "", count=1, retry=False, has_workers=lambda name: True)
    qtbot.addWidget(queue)
    assert not queue.buttons.action_button.isEnabled()
    queue.queue_combo.setEditText("gpu")
    assert queue.buttons.action_button.isEnabled()

    clone = dialogs.CloneDialog(None, "a", 2, ["demo"], None)
    qtbot.addWidget(clone)
    assert not clone.buttons.action_button.isEnabled()
    clone.project_combo.setEditText("demo")
    assert clone.buttons.action_button.isEnabled()


# ---- Menu and batch bar ------------------------------------------------------------------------------------

def test_every_menu_entry_has_an_icon(make_window):
    ids = [make_experiment("a", st.COMPLETED), make_experiment("b")]
    window = make_window("demo")
    menu = window.action_controller.build_menu(ids)
    entries = [a for a in menu.actions() if not a.isSeparator()]
    assert entries
    assert [a.text() for a in entries if a.icon().isNull()] == []
    tags = window.action_controller.tag_menu(ids)
    tags.populate()
    assert not tags.colors_action.icon().isNull()


def test_batch_bar_entries_have_icons_and_keep_their_ellipsis(make_window, qtbot):
    ids = [make_experiment("a", st.COMPLETED), make_experiment("b")]
    window = make_window("demo")
    window.resize(1600, 500)
    window.show()
    qtbot.waitExposed(window)
    window.set_checked(ids, True)
    bar = window.action_controller.batch_bar
    bar.update_state()
    assert bar.isVisible()
    for key, button in bar.buttons.items():
        assert not button.icon().isNull(), key
        assert button.toolButtonStyle() == Qt.ToolButtonStyle.ToolButtonTextBesideIcon
    assert bar.buttons["move"].text() == "Move to…"
    assert all(button.text() == BAR_LABELS[key] for key, button in bar.buttons.items())


def test_icons_named_for_actions_exist():
    missing = [key for key in icons.ACTION_ICONS if icons.action_icon(key).isNull()
               or icons.action_icon(key).pixmap(16, 16).isNull()]
    assert missing == []


def test_dialog_sheet_takes_its_colours_from_the_palette():
    from exptable_desktop.ui import palette, style
    before = palette.current()
    try:
        for scheme in (palette.LIGHT, palette.DARK):
            palette.set_current(scheme)
            sheet = style.dialog_sheet()
            assert scheme.danger in sheet and scheme.accent in sheet and scheme.surface in sheet
            assert "$" not in sheet  # every role was filled in
    finally:
        palette.set_current(before)


# ---- Filter pop-ups ---------------------------------------------------------------------------------------

def shown_popup(qtbot, popup):
    qtbot.addWidget(popup)
    popup.show_at(popup.parentWidget().mapToGlobal(popup.parentWidget().rect().topLeft())
                  if popup.parentWidget() else popup.pos())
    qtbot.waitExposed(popup)
    return popup


def test_filter_lists_have_the_tables_row_height_and_fit_their_entries(make_window, qtbot):
    from exptable_desktop.ui.filter_popups import ValueSetPopup
    window = make_window("demo")
    window.table_view.verticalHeader().setDefaultSectionSize(34)
    values = [(f"v{i}", label, i + 1) for i, label in enumerate(
        ["Draft", "Pending", "Running", "Completed", "a rather longer value than the others here"])]
    popup = shown_popup(qtbot, ValueSetPopup("status", "STATUS", values, None, window))
    view = popup.list
    assert [view.visualItemRect(view.item(i)).height() for i in range(view.count())] == [34] * 5
    # Every entry shows: no scrolling, nothing cut.
    assert view.verticalScrollBar().maximum() == 0
    assert view.viewport().height() >= 5 * 34
    assert view.viewport().height() < 6 * 34  # no empty rows below them either
    delegate = view.itemDelegate()
    for i in range(view.count()):
        needed = view.fontMetrics().horizontalAdvance(view.item(i).text()) + delegate.count_width()
        assert needed < view.viewport().width(), view.item(i).text()


def test_a_long_filter_list_scrolls_after_its_maximum_rows(make_window, qtbot):
    from exptable_desktop.ui.filter_popups import MAX_VISIBLE_ROWS, ValueSetPopup
    window = make_window("demo")
    row = window.table_view.verticalHeader().defaultSectionSize()
    values = [(f"v{i}", f"value {i}", 1) for i in range(40)]
    popup = shown_popup(qtbot, ValueSetPopup("user", "USER", values, None, window))
    assert popup.list.viewport().height() == MAX_VISIBLE_ROWS * row
    assert popup.list.verticalScrollBar().maximum() > 0


def test_tags_filter_lists_system_tags_under_their_own_header(qtbot, qtmodeltester):
    from exptable_desktop.core.filters import TagFilter
    from exptable_desktop.ui.filter_popups import SYSTEM_SECTION, SectionRole, SystemTagRole, TagPopup
    popup = TagPopup("tags", "TAGS", [("best", 3), ("development", 1), ("", 2)], None,
                     system_tags=[("archived", 4), ("development", 2)])
    qtbot.addWidget(popup)
    model = popup.list.model()
    qtmodeltester.check(model)
    rows = [(model.index(r, 0).data(Qt.ItemDataRole.UserRole), bool(model.index(r, 0).data(SystemTagRole)),
             bool(model.index(r, 0).data(SectionRole))) for r in range(model.rowCount())]
    assert rows == [("best", False, False), ("development", False, False), ("", False, False),
                    (None, False, True), ("archived", True, False), ("development", True, False)]
    header = model.index(3, 0)
    assert header.data() == SYSTEM_SECTION
    assert not model.flags(header) & Qt.ItemFlag.ItemIsUserCheckable
    assert not model.flags(header) & Qt.ItemFlag.ItemIsSelectable

    changes = []
    popup.sig_changed.connect(lambda key, flt: changes.append(flt))
    popup.cycle(popup.list.item(3))  # the header is no tag
    assert changes == []
    popup.cycle(popup.item_for("development", system=True))
    assert changes[-1] == TagFilter("any", system_include=frozenset({"development"}))
    popup.cycle(popup.item_for("best"))
    popup.cycle(popup.item_for("archived", system=True))
    popup.cycle(popup.item_for("archived", system=True))
    assert changes[-1] == TagFilter("any", frozenset({"best"}), system_include=frozenset({"development"}),
                                    system_exclude=frozenset({"archived"}))
    qtmodeltester.check(model)

    popup.search.setText("arch")
    assert not popup.list.item(3).isHidden() and popup.item_for("best").isHidden()
    popup.search.setText("best")
    assert popup.list.item(3).isHidden()  # no system tag matches: no header either


def test_tags_filter_without_system_tags_has_no_header(qtbot):
    from exptable_desktop.ui.filter_popups import SectionRole, TagPopup
    popup = TagPopup("tags", "TAGS", [("best", 3)], None)
    qtbot.addWidget(popup)
    assert not any(popup.list.item(i).data(SectionRole) for i in range(popup.list.count()))


def test_tags_filter_shows_the_current_system_tag_choice(qtbot):
    from exptable_desktop.core.filters import TagFilter
    from exptable_desktop.ui.filter_popups import TagPopup
    current = TagFilter("all", system_include=frozenset({"development"}), system_exclude=frozenset({"archived"}))
    popup = TagPopup("tags", "TAGS", [("development", 1)], current, system_tags=[("archived", 1), ("development", 1)])
    qtbot.addWidget(popup)
    assert popup.item_for("development").text().startswith("☐")  # the user tag of that name is not chosen
    assert popup.item_for("development", system=True).text().startswith("☑")
    assert popup.item_for("archived", system=True).text().startswith("☒")
    assert popup.current_filter() == current


# ---- In the real window ---------------------------------------------------------------------------------------

@pytest.fixture
def styled_window(db, db_url, qtbot):
    """The main window as the app makes it (style sheet included)."""
    from exptable_desktop.ui import create_main_window

    def make(width: int = 1400, height: int = 820):
        window = create_main_window(db_url)
        qtbot.addWidget(window)
        window.auto_refresh_toggle.setChecked(False)
        window.resize(width, height)
        window.show()
        qtbot.waitExposed(window)
        qtbot.waitUntil(lambda: not window.is_loading())
        return window
    yield make


def arrow_box(button) -> tuple[int, int, int, int]:
    """(gap to the right edge, vertical centre, width, height) of the drawn arrow: the dark pixels in
    the button's right-most 15 pixels (beside its text)."""
    image = button.grab().toImage()
    ratio = image.devicePixelRatio()
    width, height = image.width(), image.height()
    xs, ys = [], []
    for x in range(width - int(15 * ratio), width):
        for y in range(height):
            if image.pixelColor(x, y).lightness() < 170:
                xs.append(x)
                ys.append(y)
    assert xs, f"no arrow drawn on {button.objectName()}"
    return (round((width - 1 - max(xs)) / ratio), round((min(ys) + max(ys)) / 2 / ratio),
            round((max(xs) - min(xs)) / ratio), round((max(ys) - min(ys)) / ratio))


def test_top_bar_drop_down_arrows_are_one_and_the_same(styled_window):
    window = styled_window()
    boxes = {name: arrow_box(button) for name, button in (
        ("auto-refresh", window.auto_refresh_toggle), ("columns", window.columns_button))}
    refresh, columns = boxes["auto-refresh"], boxes["columns"]
    assert abs(refresh[2] - columns[2]) <= 1 and abs(refresh[3] - columns[3]) <= 1, boxes  # the same glyph
    assert abs(refresh[1] - columns[1]) <= 1, boxes  # at the same height: centred, not in a corner
    assert refresh[3] <= 8, boxes  # a small chevron, no framed segment around it


def test_batch_bar_drops_labels_before_hiding_entries(styled_window, qtbot):
    from exptable_desktop.ui.actions.batch_bar import COMPACT_ORDER
    ids = [make_experiment(f"e{i}", st.COMPLETED) for i in range(3)]
    window = styled_window(1900, 820)
    window.set_checked(ids, True)
    bar = window.action_controller.batch_bar
    bar.update_state()
    qtbot.waitUntil(bar.isVisible)
    assert bar.compacted_keys() == [] and bar.overflowed_keys() == []

    window.resize(1400, 820)  # the default window: every entry in view, some as icons only
    qtbot.waitUntil(lambda: bar.compacted_keys() != [])
    qtbot.waitUntil(lambda: all(button.isVisible() for button in bar.buttons.values()))
    assert bar.overflowed_keys() == []
    compacted = bar.compacted_keys()
    assert set(compacted) <= set(COMPACT_ORDER)
    assert sorted(compacted, key=COMPACT_ORDER.index) == list(COMPACT_ORDER[:len(compacted)])
    for key in compacted:
        assert bar.buttons[key].toolTip().startswith(f"{bar.actions_by_key[key].text()}:")
    assert bar.buttons["move"].text() == "Move to…"


def test_window_filter_popup_rows_match_the_table(styled_window, qtbot):
    make_experiment("a", tags=["best"])
    make_experiment("b", tags=["debug"])
    window = styled_window()
    popup = window.open_filter_popup("tags")
    qtbot.waitExposed(popup)
    row_height = window.table_view.verticalHeader().defaultSectionSize()
    view = popup.list
    assert {view.visualItemRect(view.item(i)).height() for i in range(view.count())} == {row_height}
    assert view.verticalScrollBar().maximum() == 0
    popup.close()
