"""The window's File menu (Import…, Export CSV…) and the experiment menu's Export / Share entries."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from pathlib import Path

import pytest

from exptable_desktop.core import states as st
from exptable_desktop.core.filters import ValueSetFilter
from exptable_desktop.core.recording import create_experiment, record_batch, record_lifecycle
from exptable_desktop.store.schema import Experiment

from io_support import EXPERIMENT_ID, SESSION_ZIP

main_window = pytest.importorskip("exptable_desktop.ui.main_window")
from exptable_desktop.ui import export_dialogs  # noqa: E402


@pytest.fixture
def window(db, db_url, qtbot):
    from exptable_desktop.ui.actions import install_actions

    for n in range(6):
        exp_id = create_experiment("vision", f"run {n}", status=st.RUNNING, tags=["=x"] if n == 0 else [])
        record_batch(exp_id, scalars=[("loss", "train", 0, -0.123456789 * (n + 1), 1.0)])
        record_lifecycle(exp_id, status=st.COMPLETED if n % 2 else st.FAILED)
    win = main_window.MainWindow(db_url)
    qtbot.addWidget(win)
    install_actions(win)
    export_dialogs.install_io(win)
    win.resize(1300, 600)
    win.show()
    qtbot.waitExposed(win)
    return win


def _wait(qtbot, controller):
    qtbot.waitUntil(lambda: not controller.runner.busy() and controller.runner.job is None, timeout=20_000)


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_bytes().decode("utf-8-sig"), newline="")))


def test_file_menu_entries(window):
    names = {a.objectName() for a in window.file_menu.actions() if a.objectName()}
    assert "action_export_csv" in names
    imports = window.file_menu.findChild(type(window.file_menu), "importMenu")
    assert [a.objectName() for a in imports.actions()] == [
        "action_import_clearml", "action_import_mlflow", "action_import_tensorboard", "action_import_bundle"]


def test_export_csv_on_screen_takes_the_displayed_columns_in_their_order(window, qtbot, tmp_path, monkeypatch):
    header = window.table_view.horizontalHeader()
    keys = window.model.keys
    header.moveSection(header.visualIndex(keys.index("status")), header.visualIndex(keys.index("name")))
    window.set_column_visible("user", False)
    window.set_sort([("name", True)])
    window.set_filter("status", ValueSetFilter(frozenset({st.COMPLETED})))
    target = tmp_path / "on screen.csv"
    asked = {}

    def answer(parent, on_screen, default_path, still_loading=False):
        asked.update(on_screen=on_screen, default=default_path)
        return export_dialogs.CsvChoice(all_rows=False, precise=False, bom=True, path=str(target))
    monkeypatch.setattr(export_dialogs, "ask_csv_export", answer)
    controller = window.io_controller
    controller.export_csv()
    _wait(qtbot, controller)
    assert asked["on_screen"] == 3 and asked["default"].endswith("ExpTable All Experiments-table.csv")
    assert target.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = _rows(target)
    expected_keys = controller.displayed_keys()
    assert "user" not in expected_keys and expected_keys.index("status") < expected_keys.index("name")
    titles = [export_dialogs.csv_export.header_titles([k])[0] for k in expected_keys]
    assert rows[0] == titles
    names = [r[rows[0].index("NAME")] for r in rows[1:]]
    assert names == ["run 5", "run 3", "run 1"]
    assert "exported 3 experiments" in window.status_message.label.text().lower()


def test_export_csv_all_matching_reads_the_database_at_full_precision(window, qtbot, tmp_path, monkeypatch):
    from exptable_desktop.core import columns as C
    window.add_custom_columns([C.metric_key("loss", "train", "last")])
    window.set_filter("status", ValueSetFilter(frozenset({st.FAILED})))
    target = tmp_path / "all.csv"
    monkeypatch.setattr(export_dialogs, "ask_csv_export", lambda *a, **k: export_dialogs.CsvChoice(
        all_rows=True, precise=True, bom=False, path=str(target)))
    window.io_controller.export_csv()
    _wait(qtbot, window.io_controller)
    rows = _rows(target)
    column = rows[0].index("loss › train (Last)")
    values = sorted(float(r[column]) for r in rows[1:])
    assert values == sorted(-0.123456789 * (n + 1) for n in (0, 2, 4))  # exact, and negative numbers stay numbers
    name = rows[0].index("NAME")
    assert {r[name] for r in rows[1:]} == {"run 0", "run 2", "run 4"}


def test_a_cancelled_export_writes_no_file(window, qtbot, tmp_path, monkeypatch):
    target = tmp_path / "cancelled.csv"
    monkeypatch.setattr(export_dialogs, "ask_csv_export", lambda *a, **k: export_dialogs.CsvChoice(
        all_rows=False, precise=False, bom=False, path=str(target)))
    monkeypatch.setattr(export_dialogs.Job, "progress", lambda self, *args: False)  # Cancel pressed at once
    window.io_controller.export_csv()
    _wait(qtbot, window.io_controller)
    assert not target.exists() and not list(tmp_path.glob(".*partial"))
    assert "cancelled" in window.status_message.label.text()


def test_the_progress_dialogs_cancel_reaches_the_job(window, qtbot):
    import threading
    release = threading.Event()

    def work(progress):
        release.wait(5)
        return progress(1, 2)
    results = []
    job = window.io_controller.runner.start("Waiting", work, lambda result, error: results.append(result))
    from PySide6.QtWidgets import QPushButton
    window.io_controller.runner.dialog.findChild(QPushButton).click()  # the dialog's Cancel
    assert job.cancelled
    release.set()
    qtbot.waitUntil(lambda: results == [False], timeout=10_000)


def test_context_menu_export_json_and_bundle(window, qtbot, tmp_path, monkeypatch):
    ids = window.visible_ids()[:2]
    window.set_checked(ids, True)
    menu = window.action_controller.build_menu(ids)
    actions = {a.objectName(): a for a in menu.actions() if a.objectName()}
    assert actions["action_export_json"].text() == "Export (2)"
    share = menu.findChild(type(menu), "menu_share")
    [bundle_action] = share.actions()
    assert bundle_action.text() == "Export bundle… (2)"

    monkeypatch.setattr(export_dialogs, "ask_save_path", lambda *a: str(tmp_path / "two.json"))
    actions["action_export_json"].trigger()
    _wait(qtbot, window.io_controller)
    document = json.loads((tmp_path / "two.json").read_text())
    assert sorted(e["id"] for e in document["experiments"]) == sorted(ids)

    monkeypatch.setattr(export_dialogs, "ask_save_path", lambda *a: str(tmp_path / "two.etb"))
    bundle_action.trigger()
    _wait(qtbot, window.io_controller)
    with zipfile.ZipFile(tmp_path / "two.etb") as archive:
        manifest = json.loads(archive.read("manifest.json"))
    assert sorted(e["id"] for e in manifest["experiments"]) == sorted(ids)


def test_file_import_brings_a_session_into_the_table(window, qtbot, monkeypatch):
    reports = []
    monkeypatch.setattr(export_dialogs, "ask_import", lambda parent, source: export_dialogs.ImportChoice(
        source, str(SESSION_ZIP), "imported"))
    monkeypatch.setattr(export_dialogs, "show_report", lambda *args: reports.append(args))
    next(a for a in window.file_menu.findChild(type(window.file_menu), "importMenu").actions()
         if a.objectName() == "action_import_clearml").trigger()
    _wait(qtbot, window.io_controller)
    assert EXPERIMENT_ID in window.visible_ids()
    [(_parent, title, summary, details)] = reports
    assert "1 created" in summary and any("status Completed" in line for line in details)
    assert "imported" in window.project_panel.model.paths.values()
    assert Experiment.get_by_id(EXPERIMENT_ID).status == st.COMPLETED


def test_import_dialog_choices(qtbot):
    dialog = export_dialogs.ImportDialog(None, "bundle")
    qtbot.addWidget(dialog)
    assert not dialog.ok_button.isEnabled() and not dialog.project.isEnabled()
    dialog.location.setText("/x/runs.etb")
    assert dialog.ok_button.isEnabled()
    assert dialog.choice() == export_dialogs.ImportChoice("bundle", "/x/runs.etb", None)
    dialog.source.setCurrentIndex(1)
    dialog.project.setText(" team/mlflow ")
    assert dialog.choice() == export_dialogs.ImportChoice("mlflow", "/x/runs.etb", "team/mlflow")


def test_csv_dialog_choices(qtbot):
    dialog = export_dialogs.CsvExportDialog(None, 1234, "/tmp/x.csv", still_loading=True)
    qtbot.addWidget(dialog)
    assert "1,234" in dialog.on_screen.text() and dialog.all_rows.isChecked()  # loading: all is the default
    dialog.precise.setChecked(True)
    dialog.bom.setChecked(True)
    assert dialog.choice() == export_dialogs.CsvChoice(True, True, True, "/tmp/x.csv")
    dialog.path.setText("  ")
    assert not dialog.ok_button.isEnabled()
