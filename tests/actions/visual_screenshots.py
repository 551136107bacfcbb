"""Screenshots of the action dialogs, the experiment menu, the batch bar and the tags filter (offscreen).

    QT_QPA_PLATFORM=offscreen python tests/actions/visual_screenshots.py OUT_DIR

Not a test: run by hand to look at the visual pass (issue 14). The real main window is made on demo
data as tests/table/make_screenshots.py does; each dialog is built by the same controller code a
click runs, shown, grabbed and cancelled.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from screenshot_support import scratch_home  # noqa: E402

EXPERIMENTS = 240


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=820)
    args = parser.parse_args()
    out = Path(args.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with scratch_home() as (folder, url):
        from exptable_desktop.io.demo import make_demo
        from exptable_desktop.store import close_database, open_database
        open_database(url)
        make_demo(EXPERIMENTS, seed=1, detailed=0, images=0)
        close_database()
        shoot(url, out, args.width, args.height)
    print(f"screenshots in {out}")
    return 0


def shoot(url: str, out: Path, width: int, height: int) -> None:
    from PySide6.QtCore import QPoint, Qt
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QApplication, QDialog

    app = QApplication.instance() or QApplication([])
    from exptable_desktop.core import states as st
    from exptable_desktop.ui import create_main_window
    from exptable_desktop.ui.actions import dialogs
    from exptable_desktop.ui.roles import ColumnKeyRole

    window = create_main_window(url)
    window.auto_refresh_toggle.setChecked(False)
    window.resize(width, height)
    window.show()
    while window.is_loading():
        app.processEvents()

    def settle() -> None:
        for _ in range(10):
            app.processEvents()

    def grab_dialog(dialog: QDialog, name: str) -> None:
        dialog.show()
        dialog.adjustSize()
        settle()
        dialog.grab().save(str(out / name))
        dialog.reject()

    def over_window(popup, name: str, at: QPoint) -> None:
        settle()
        shot = window.grab()
        painter = QPainter(shot)
        painter.drawPixmap(at, popup.grab())
        painter.end()
        shot.save(str(out / name))
        popup.close()

    controller = window.action_controller
    rows = window.rows_info(window.visible_ids())
    resettable = [r["id"] for r in rows if r["status"] in (st.COMPLETED, st.FAILED, st.ABORTED)]

    # The confirmations, built by the controller's own flows and cancelled.
    pending_shot: list[str] = []
    real_confirm = dialogs.confirm

    def confirm(parent, title, text, **kwargs):
        dialog = dialogs.ConfirmDialog(parent, title, text, **kwargs)
        grab_dialog(dialog, pending_shot.pop())
        return dialogs.Confirmation(False)

    def confirmation(name: str, key: str, ids: list[str]) -> None:
        pending_shot.append(name)
        controller.run(key, ids)
        if pending_shot:
            raise RuntimeError(f"{key} on {len(ids)} experiments asked nothing; no {name}")

    dialogs.confirm = confirm
    try:
        confirmation("reset_1.png", "reset", resettable[:1])
        confirmation("reset_3.png", "reset", resettable[:3])
        abortable = [r["id"] for r in rows if r["status"] in (st.RUNNING, st.PENDING)]
        confirmation("abort_1.png", "abort", abortable[:1])
        confirmation("abort_3.png", "abort", abortable[:3])
        window.archive_toggle.setChecked(True)
        while window.is_loading():
            app.processEvents()
        archived = window.visible_ids()
        confirmation("delete_1.png", "delete", archived[:1])
        confirmation("delete_3.png", "delete", archived[:3])
        window.archive_toggle.setChecked(False)
        while window.is_loading():
            app.processEvents()
    finally:
        dialogs.confirm = real_confirm

    move = dialogs.ProjectDialog(window, 3, ["demo", "vision/cifar10"], None)
    grab_dialog(move, "move_empty.png")
    move = dialogs.ProjectDialog(window, 3, ["demo", "vision/cifar10"], None)
    move.project_combo.setEditText("vision/cifar10")
    grab_dialog(move, "move_valid.png")
    clone = dialogs.CloneDialog(window, "resnet50 baseline", 1, ["demo"], "demo")
    grab_dialog(clone, "clone_1.png")
    queue = dialogs.QueueDialog(window, ["default", "gpu"], "gpu", count=3, retry=False, has_workers=lambda n: False)
    grab_dialog(queue, "enqueue_3.png")

    # The batch bar: three rows checked.
    window.set_checked(resettable[:3], True)
    controller.batch_bar.update_state()  # not after its 30 ms timer
    settle()
    window.grab().save(str(out / "batch_bar_window.png"))
    bar = controller.batch_bar
    bar.grab().save(str(out / "batch_bar.png"))

    # The experiment menu, as the row's "⋮" button opens it.
    view = window.table_view
    model = view.model()
    name_column = next(c for c in range(model.columnCount())
                       if model.headerData(c, Qt.Orientation.Horizontal, ColumnKeyRole) == "name")
    row = window.visible_ids().index(resettable[0])
    controller.row_menu.follow(view.visualRect(model.index(row, name_column)).center())
    cell = controller.row_menu.button.geometry().bottomLeft()
    menu = controller.show_context_menu(view.viewport().mapToGlobal(cell), resettable[0])
    settle()
    menu.grab().save(str(out / "row_menu.png"))
    over_window(menu, "row_menu_window.png", view.viewport().mapTo(window, cell))
    tags = controller.tag_menu(resettable[:3])
    tags.popup(window.mapToGlobal(QPoint(200, 200)))
    settle()
    tags.grab().save(str(out / "tag_menu.png"))
    tags.close()
    window.set_checked(resettable[:3], False)

    # The top bar's drop-down buttons.
    window.top_bar.grab().save(str(out / "top_bar.png"))

    # The tags filter.
    popup = window.open_filter_popup("tags")
    settle()
    popup.grab().save(str(out / "tags_filter.png"))
    over_window(popup, "tags_filter_window.png", window.mapFromGlobal(popup.pos()))
    popup = window.open_filter_popup("status")
    settle()
    popup.grab().save(str(out / "status_filter.png"))
    popup.close()
    window.shutdown()


if __name__ == "__main__":
    sys.exit(main())
