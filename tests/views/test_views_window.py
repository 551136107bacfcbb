"""The Views menu, links, stars, the project tree's menu and custom actions in the real window."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QPainter
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMenu, QToolButton

from exptable_desktop.core import named_views as nv
from exptable_desktop.core import projects as pr
from exptable_desktop.core.filters import ValueSetFilter
from exptable_desktop.core.links import compare_link, experiment_link, parse_link
from exptable_desktop.ui import custom_actions_ui, project_tree, views_menu
from exptable_desktop.ui.link_server import install_link_server, open_link, server_name
from views_support import close_window, open_window, shown_names

REPO = Path(__file__).resolve().parents[2]
# A test run leaves the repository alone; EXPTABLE_UPDATE_SCREENSHOTS=1 re-makes README's pictures.
SCREENSHOTS = (REPO / "docs" / "screenshots" if os.environ.get("EXPTABLE_UPDATE_SCREENSHOTS")
               else Path(tempfile.gettempdir()) / "exptable-screenshots")


def _menu_actions(menu: QMenu) -> dict:
    menu.aboutToShow.emit()
    return {a.objectName(): a for a in menu.actions() if a.objectName()}


def _answer_name(monkeypatch, name: str, shared: bool = False):
    monkeypatch.setattr(views_menu, "ask_view_name", lambda *a, **k: (name, shared))


# ---- Views -------------------------------------------------------------------------------------------------

def test_the_views_button_sits_in_the_top_bar(window):
    button = window.top_bar.findChild(QToolButton, "viewsButton")
    assert button is not None and button.isVisible() and button.menu() is window.views_menu.menu


def test_save_a_view_change_everything_and_open_it_again(window, qtbot, monkeypatch, populated):
    vision = pr.find_project("vision").id
    window.open_project(vision, True)
    window.set_sort([("name", False)])
    window.set_filter("status", ValueSetFilter(frozenset({"in_progress"})))
    window.set_column_visible("user", False)
    window.search_box.setText("tag:best")
    expected = shown_names(window)
    assert expected == ["c-vit", "h-late"]
    _answer_name(monkeypatch, "Running best", shared=True)
    window.views_menu.menu.aboutToShow.emit()
    _menu_actions(window.views_menu.menu)["viewSaveAs"].trigger()
    saved = nv.get_view(window.user, window.user, "Running best")
    assert saved.shared and saved.spec.project_id == vision and saved.spec.search == "tag:best"

    window.open_project(None, True)
    window.clear_filters()
    window.search_box.setText("")
    window.set_sort([("last_update", True)])
    window.set_column_visible("user", True)
    assert len(shown_names(window)) == 9

    actions = _menu_actions(window.views_menu.menu)
    elsewhere = window.views_menu.menu.findChild(QMenu, "viewsElsewhere")
    entry = next(a for a in elsewhere.actions() if a.objectName() == f"view:{window.user}/Running best")
    entry.trigger()
    assert window.current_scope() == (vision, True)
    assert shown_names(window) == expected
    assert window.search_box.text() == "tag:best"
    assert window.model.table.sort == [("name", False)]
    header = window.table_view.horizontalHeader()
    assert header.isSectionHidden(window.model.column_of("user"))
    actions = _menu_actions(window.views_menu.menu)  # the opened view's own entries show now
    assert {"viewRename", "viewDelete", "viewShared", "viewDefault", "viewCopyLink", "viewUpdate"} <= set(actions)


def test_rename_delete_and_my_default_for_a_project(window, qtbot, monkeypatch, populated):
    vision = pr.find_project("vision").id
    nlp = pr.find_project("nlp").id
    window.open_project(vision, True)
    window.search_box.setText("user:bob")
    _answer_name(monkeypatch, "Bob's runs")
    window.views_menu.save_as()
    window.search_box.setText("")
    actions = _menu_actions(window.views_menu.menu)
    actions["viewDefault"].setChecked(True)
    assert nv.default_view(window.user, vision).name == "Bob's runs"
    # Picking the project in the tree opens the default view.
    window.project_panel.select_project(nlp)
    window.project_panel.sig_project_chosen.emit(nlp)
    assert shown_names(window) == ["z-nlp"]
    window.project_panel.sig_project_chosen.emit(vision)
    assert sorted(shown_names(window)) == ["b-resnet18", "e-failed", "h-late"]
    assert window.search_box.text() == "user:bob"

    _answer_name(monkeypatch, "Bob only")
    _menu_actions(window.views_menu.menu)["viewRename"].trigger()
    assert [v.name for v in nv.list_views(window.user)] == ["Bob only"]
    assert nv.default_view(window.user, vision).name == "Bob only"
    monkeypatch.setattr(views_menu, "confirm", lambda *a, **k: True)
    _menu_actions(window.views_menu.menu)["viewDelete"].trigger()
    assert nv.list_views(window.user) == [] and nv.default_view(window.user, vision) is None
    assert "deleted" in window.status_message.label.text()


def test_someone_elses_shared_view_shows_its_owner_and_stays_theirs(window, populated):
    spec = window.views_menu.current_spec()
    spec.search = "user:carol"
    nv.save_view("carol", "Carol's board", spec, shared=True)
    nv.save_view("carol", "Carol's secret", spec, shared=False)
    menu = window.views_menu.menu
    actions = _menu_actions(menu)
    assert "view:carol/Carol's secret" not in actions
    entry = actions["view:carol/Carol's board"]
    assert "Carol's board — carol" in entry.text()
    entry.trigger()
    assert sorted(shown_names(window)) == ["d-untagged", "g-resnet50"]
    actions = _menu_actions(menu)
    assert not actions["viewRename"].isEnabled() and not actions["viewDelete"].isEnabled()
    assert "only they can change it" in actions["viewRename"].toolTip()
    assert "viewUpdate" not in actions and actions["viewCopyLink"].isEnabled()


def test_the_real_save_dialog_validates_its_name(qtbot):
    dialog = views_menu.ViewNameDialog(None, "Save view as", "", True, taken={"Existing"})
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not ok.isEnabled()
    dialog.name_edit.setText("  existing ")
    assert ok.isEnabled() and "Replaces" in dialog.note.text()
    dialog.name_edit.setText("New   one")
    assert dialog.value() == ("New one", True) and dialog.note.text() == ""


def test_views_menu_screenshot(window, qtbot, monkeypatch, populated):
    """docs/screenshots/views_menu.png: the Views menu open over the window."""
    window.resize(1280, 560)
    vision = pr.find_project("vision").id
    window.open_project(vision, True)
    window.search_box.setText("tag:best")
    _answer_name(monkeypatch, "Leaderboard", shared=True)
    window.views_menu.save_as()
    window.search_box.setText("status:running")
    _answer_name(monkeypatch, "Running now")
    window.views_menu.save_as()
    spec = window.views_menu.current_spec()
    nv.save_view("carol", "Carol's sweep", spec, shared=True)
    window.open_project(pr.find_project("nlp").id, True)
    nv.save_view(window.user, "NLP overview", window.views_menu.current_spec())
    window.open_project(vision, True)
    window.views_menu.open_view(nv.get_view(window.user, window.user, "Leaderboard"))
    button = window.views_menu.button
    menu = window.views_menu.menu
    menu.popup(button.mapToGlobal(QPoint(0, button.height())))
    qtbot.waitUntil(menu.isVisible)
    image = window.grab()
    painter = QPainter(image)
    painter.drawPixmap(window.mapFromGlobal(menu.pos()), menu.grab())
    painter.end()
    menu.hide()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert image.save(str(SCREENSHOTS / "views_menu.png"))


# ---- Links ------------------------------------------------------------------------------------------------

def test_copy_link_from_the_experiment_menu_and_open_it(window, populated):
    controller = window.action_controller
    menu = controller.build_menu([populated["z-nlp"]], clicked=populated["z-nlp"])
    copy = next(a for a in menu.actions() if a.objectName() == "experimentCopyLink")
    copy.trigger()
    link = QApplication.clipboard().text()
    assert link == experiment_link(populated["z-nlp"])
    window.open_project(pr.find_project("vision").id, True)
    window.search_box.setText("something else")
    assert open_link(window, link) == 'experiment "z-nlp"'
    assert window.current_experiment_id() == populated["z-nlp"]
    assert window.view_mode() == "details"


def test_an_archived_experiments_link_opens_the_archive(window, populated):
    from exptable_desktop.core import actions

    actions.archive([populated["e-failed"]])
    open_link(window, experiment_link(populated["e-failed"]))
    assert window.is_archive_mode() and window.current_experiment_id() == populated["e-failed"]


def test_compare_and_view_links_open_what_they_hold(window, populated):
    ids = [populated["b-resnet18"], populated["z-nlp"]]
    window.open_project(pr.find_project("vision").id, True)
    assert "2 experiments" in open_link(window, compare_link(ids + ["0" * 32]))
    assert window.view_mode() == "comparison" and sorted(window.checked_ids()) == sorted(ids)
    menu = window.action_controller.build_menu(ids, clicked=ids[0])
    entry = next(a for a in menu.actions() if a.objectName() == "experimentCopyCompareLink")
    entry.trigger()
    assert parse_link(QApplication.clipboard().text()).ids == tuple(ids)

    window.set_view_mode("table")
    window.search_box.setText("metric:accuracy/val.max>0.6")
    window.set_sort([("name", True)])
    link = window.views_menu.copy_screen_link()
    want = shown_names(window)
    window.open_project(None, True)
    window.search_box.setText("")
    window.set_sort([("last_update", True)])
    open_link(window, link)
    assert shown_names(window) == want == ["h-late", "g-resnet50", "c-vit", "b-resnet18"]


def test_a_link_to_a_missing_experiment_is_a_message_not_a_crash(window):
    from exptable_desktop.ui.link_server import open_link_reporting

    reply = open_link_reporting(window, experiment_link("f" * 32))
    assert reply.startswith("error no experiment")
    assert "Cannot open the link" in window.status_message.label.text()


def test_exptable_open_hands_the_link_to_the_running_window(window, qtbot, db_url, populated, tmp_path):
    server = install_link_server(window)
    assert server is not None and server.name == server_name(window.db_url, window.user)
    assert install_link_server(window) is None  # a second window on the same database leaves it to the first
    env = dict(os.environ, PYTHONPATH=str(REPO), EXPTABLE_USER=window.user)
    link = experiment_link(populated["g-resnet50"])
    process = subprocess.Popen([sys.executable, "-m", "exptable_desktop", "open", link, "--db", db_url], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    qtbot.waitUntil(lambda: process.poll() is not None, timeout=30000)
    out, err = process.communicate()
    assert process.returncode == 0, err
    assert out.strip() == 'opened experiment "g-resnet50" in the running window'
    assert server.received == [link]
    assert window.current_experiment_id() == populated["g-resnet50"]
    server.close()


def test_exptable_open_refuses_a_bad_link_in_one_line(db_url, capsys):
    from exptable_desktop import cli

    assert cli.main(["open", "exptable://compare?ids=abc", "--db", db_url]) == 2
    err = capsys.readouterr().err
    assert err.strip() == ("exptable open: error: exptable://compare needs ids=<id>,<id> (at least 2) "
                           "(see exptable open --help)")


def test_install_desktop_registers_the_scheme_in_xdg_folders(tmp_path, capsys):
    from exptable_desktop import cli

    config = Path(os.environ["XDG_CONFIG_HOME"])
    config.mkdir(parents=True, exist_ok=True)
    (config / "mimeapps.list").write_text("[Default Applications]\ntext/html=firefox.desktop\n"
                                          "x-scheme-handler/exptable=old.desktop\n\n[Added Associations]\n"
                                          "image/png=gimp.desktop\n", encoding="utf-8")
    assert cli.main(["install-desktop"]) == 0
    data = Path(os.environ["XDG_DATA_HOME"])
    assert str(data).startswith(str(tmp_path))
    entry = (data / "applications" / "exptable.desktop").read_text(encoding="utf-8")
    assert "MimeType=x-scheme-handler/exptable;" in entry and "Icon=exptable" in entry
    exec_line = next(line for line in entry.splitlines() if line.startswith("Exec="))
    assert exec_line.endswith(" open %u")
    assert (data / "icons" / "hicolor" / "256x256" / "apps" / "exptable.png").stat().st_size > 0
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "exptable.svg").exists()
    mimeapps = (config / "mimeapps.list").read_text(encoding="utf-8")
    assert "x-scheme-handler/exptable=exptable.desktop" in mimeapps and "old.desktop" not in mimeapps
    assert "text/html=firefox.desktop" in mimeapps and "image/png=gimp.desktop" in mimeapps
    assert mimeapps.index("exptable.desktop") < mimeapps.index("[Added Associations]")
    validate = subprocess.run(["desktop-file-validate", str(data / "applications" / "exptable.desktop")],
                              capture_output=True, text=True) if _have("desktop-file-validate") else None
    assert validate is None or validate.returncode == 0, validate.stdout
    assert "wrote" in capsys.readouterr().out
    assert cli.main(["install-desktop", "--db", "postgresql://me:secret@host/db"]) == 2
    assert "holds a password" in capsys.readouterr().err


def _have(tool: str) -> bool:
    from shutil import which
    return which(tool) is not None


# ---- Stars -------------------------------------------------------------------------------------------------

def _click_star(window, exp_id):
    view = window.table_view
    row = window.model.row_of_id(exp_id)
    rect = view.visualRect(window.model.index(row, window.model.column_of("star")))
    for kind in (QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease):
        event = QMouseEvent(kind, QPointF(rect.center()), QPointF(view.viewport().mapToGlobal(rect.center())),
                            Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(view.viewport(), event)


def test_stars_click_menu_filter_first_and_persist(window, qtbot, db_url, populated):
    star_column = window.model.column_of("star")
    header = window.table_view.horizontalHeader()
    assert not header.isSectionHidden(star_column) and header.visualIndex(star_column) == 1
    _click_star(window, populated["c-vit"])
    cell = window.model.index(window.model.row_of_id(populated["c-vit"]), star_column)
    assert cell.data() == "★"
    menu = window.action_controller.build_menu([populated["z-nlp"]], clicked=populated["z-nlp"])
    next(a for a in menu.actions() if a.objectName() == "experimentStar").trigger()
    stars_ui = window.star_support
    assert stars_ui.starred == {populated["c-vit"], populated["z-nlp"]}
    actions = _menu_actions(window.views_menu.menu)
    actions["viewStarredFirst"].setChecked(True)
    assert shown_names(window)[:2] in (["c-vit", "z-nlp"], ["z-nlp", "c-vit"])
    window.set_sort([("name", False)])  # a header click keeps starred rows first
    assert shown_names(window)[:3] == ["c-vit", "z-nlp", "a-baseline"]
    window._on_sort_clicked(window.model.column_of("name"), False)  # the same column again: descending
    assert shown_names(window)[:3] == ["z-nlp", "c-vit", "h-late"]
    _menu_actions(window.views_menu.menu)["viewStarredOnly"].setChecked(True)
    assert sorted(shown_names(window)) == ["c-vit", "z-nlp"]
    assert window.clear_filters_button.isVisible()
    window.search_box.setText("is:starred user:dave")
    assert shown_names(window) == ["z-nlp"]
    window.search_box.setText("")
    _click_star(window, populated["z-nlp"])  # unstarred: it leaves the "Starred only" table
    assert shown_names(window) == ["c-vit"]

    window._save_table_state()
    close_window(window)
    window.close()
    again = open_window(qtbot, db_url)
    try:
        assert again.star_support.starred_only() and again.star_support.starred_first()
        assert shown_names(again) == ["c-vit"]
        again.clear_filters()
        assert not again.star_support.starred_only() and len(shown_names(again)) == 9
        assert shown_names(again)[0] == "c-vit"
    finally:
        close_window(again)


def test_a_new_starred_experiment_arrives_starred_after_a_refresh(window, populated):
    from exptable_desktop.core import stars
    from exptable_desktop.core.recording import create_experiment

    window.star_support.set_starred_only(True)
    new = create_experiment("vision", "brand-new")
    stars.set_starred(window.user, [new], True)
    window.star_support.starred.add(new)  # starred elsewhere in this session (another window of mine)
    window.refresh_now()
    assert shown_names(window) == ["brand-new"]


# ---- The project tree ---------------------------------------------------------------------------------------

def test_project_menu_create_rename_move_delete(window, qtbot, monkeypatch, populated, qtmodeltester):
    panel_menu = window.project_menu
    monkeypatch.setattr(project_tree, "ask_text", lambda *a, **k: "experiments 2026")
    new_id = panel_menu.create(None)
    assert window.current_scope()[0] == new_id and window.project_panel.model.paths[new_id] == "experiments 2026"
    vision = pr.find_project("vision").id
    monkeypatch.setattr(project_tree, "ask_text", lambda *a, **k: "computer vision")
    window.open_project(vision, True)
    assert panel_menu.rename(vision)
    assert window.project_panel.model.paths[vision] == "computer vision"
    column = window.model.column_of("project")
    assert window.model.index(window.model.row_of_id(populated["b-resnet18"]), column).data() == \
        "computer vision/cnn"
    # Drag "computer vision" onto "experiments 2026".
    model = window.project_panel.model
    data = model.mimeData([model.items[vision].index()])
    assert model.dropMimeData(data, Qt.DropAction.MoveAction, -1, -1, model.items[new_id].index()) is False
    qtbot.waitUntil(lambda: window.project_panel.model.paths[vision] == "experiments 2026/computer vision")
    qtmodeltester.check(window.project_panel.model)
    # Onto "All experiments": back to the top level.
    model = window.project_panel.model
    model.dropMimeData(model.mimeData([model.items[vision].index()]), Qt.DropAction.MoveAction, -1, -1,
                       model.items[project_tree.ALL_ID].index())
    qtbot.waitUntil(lambda: window.project_panel.model.paths[vision] == "computer vision")
    # A project into its own sub-project: refused with a message.
    cnn = pr.find_project("computer vision/cnn").id
    assert not panel_menu.move(vision, cnn)
    assert "into itself" in window.status_message.label.text()

    menu = panel_menu.build_menu(vision)
    names = {a.objectName() for a in menu.actions() if a.objectName()}
    assert {"projectNewChild", "projectRename", "projectDelete", "projectNew"} <= names
    monkeypatch.setattr(project_tree, "ask_delete", lambda parent, path, contents: None)
    assert not panel_menu.delete(vision)
    seen = {}

    def archive_all(parent, path, contents):
        seen["contents"] = contents
        return "archive_and_delete"
    monkeypatch.setattr(project_tree, "ask_delete", archive_all)
    assert panel_menu.delete(vision)
    assert seen["contents"].experiments == 8
    assert shown_names(window) == ["z-nlp"] and vision not in window.project_panel.model.items
    monkeypatch.setattr(project_tree, "ask_delete", lambda parent, path, contents: "delete")
    assert panel_menu.delete(new_id)
    assert new_id not in window.project_panel.model.items


def test_remove_sample_data_from_the_tree(qtbot, db, db_url, monkeypatch):
    from exptable_desktop.io.demo import make_demo
    from exptable_desktop.store.db import write_transaction

    with write_transaction():
        make_demo(25, seed=3, detailed=2, images=1)
        pr.mark_sample_data()
    win = open_window(qtbot, db_url)
    try:
        menu = win.project_menu.build_menu(None)
        assert "projectRemoveSample" in {a.objectName() for a in menu.actions()}
        monkeypatch.setattr(project_tree, "confirm_remove_sample", lambda parent, sample: True)
        assert win.project_menu.remove_sample()
        assert shown_names(win) == [] and list(win.project_panel.model.items) == [project_tree.ALL_ID]
        assert "Removed 25 sample experiments" in win.status_message.label.text()
        assert "projectRemoveSample" not in {a.objectName() for a in win.project_menu.build_menu(None).actions()}
    finally:
        close_window(win)


# ---- Custom actions -----------------------------------------------------------------------------------------

def test_custom_actions_in_the_menu_and_the_bar_run_and_report(window, qtbot, populated, tmp_path):
    from exptable_desktop.core import custom_actions as ca

    marker = tmp_path / "pwned"
    ca.save_actions([
        ca.CustomAction("Echo name", command=[sys.executable, "-c", "import sys; print(sys.argv[1])", "{name}"],
                        statuses=["in_progress"]),
        ca.CustomAction("Fail", command=[sys.executable, "-c", "import sys; sys.exit(4)"]),
    ])
    from exptable_desktop.core.actions import rename
    hostile = f"$(touch {marker}); rm -rf x"
    rename([populated["c-vit"]], hostile)
    window.refresh_now()
    ids = [populated["c-vit"], populated["a-baseline"]]
    menu = window.action_controller.build_menu(ids, clicked=ids[0])
    sub = menu.findChild(QMenu, "customActionsMenu")
    entries = {a.objectName(): a for a in sub.actions() if a.objectName()}
    assert entries["custom_Echo name"].text() == "Echo name (1)" and entries["custom_Fail"].text() == "Fail (2)"
    done = []
    window.custom_actions.sig_finished.connect(done.append)
    entries["custom_Echo name"].trigger()
    qtbot.waitUntil(lambda: len(done) == 1, timeout=15000)
    assert done[0].ok and done[0].skipped == 1
    panel = window.custom_actions.panel
    assert panel.isVisible() and hostile in panel.text.toPlainText()
    assert not marker.exists()

    window.set_checked(ids, True)
    bar = window.action_controller.batch_bar
    bar.update_state()
    button = bar.buttons["custom:Fail"]
    assert button.isEnabled() and "applies to 2 of 2" in button.toolTip()
    echo = bar.buttons["custom:Echo name"]
    assert echo.isEnabled() and "applies to 1 of 2" in echo.toolTip()  # only c-vit is running
    bar.actions_by_key["custom:Fail"].trigger()
    qtbot.waitUntil(lambda: len(done) == 2, timeout=15000)
    assert window.status_message.label.text() == '"Fail" failed: exit status 4 (see Action output)'  # once for all


def test_the_settings_dialog_adds_edits_and_removes_actions(window, qtbot, monkeypatch):
    from exptable_desktop.core import custom_actions as ca

    dialog = custom_actions_ui.CustomActionsDialog([])
    qtbot.addWidget(dialog)
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    dialog.add_action()
    dialog.name_edit.setText("Notify CI")
    dialog.kind_combo.setCurrentIndex(1)
    dialog.url_edit.setText("https://ci.example.com/hook?run={id}")
    dialog.body_edit.setPlainText('{"run": {id}, "name": {nmae}}')
    assert not save.isEnabled() and "unknown placeholder {nmae}" in dialog.error_label.text()
    dialog.body_edit.setPlainText('{"run": {id}, "name": {name}}')
    dialog.statuses.choose(["failed"])
    dialog.statuses.itemChanged.emit(dialog.statuses.item(0))
    assert save.isEnabled(), dialog.error_label.text()
    dialog.add_action()
    dialog.command_edit.setText("notify-send 'Run finished' {name}")
    dialog.remove_action()
    chosen = dialog.result_actions()
    assert [(a.name, a.kind, a.statuses) for a in chosen] == [("Notify CI", "http", ["failed"])]
    monkeypatch.setattr(custom_actions_ui, "edit_actions", lambda parent, actions: chosen)
    assert window.custom_actions.edit()
    assert [a.name for a in ca.load_actions()] == ["Notify CI"]
    assert "custom:Notify CI" in window.action_controller.batch_bar.actions_by_key
    assert json.loads(ca.config_path().read_text())["actions"][0]["url"] == "https://ci.example.com/hook?run={id}"


def test_exptable_open_without_a_running_window_starts_one_there(db, db_url, monkeypatch):
    from exptable_desktop import cli

    started = {}
    monkeypatch.setattr("exptable_desktop.ui.app.run_gui", lambda url, link=None: started.update(url=url, link=link))
    link = compare_link(["a" * 32, "b" * 32])
    assert cli.main(["open", link, "--db", db_url]) == 0
    assert started == {"url": db_url, "link": link}
