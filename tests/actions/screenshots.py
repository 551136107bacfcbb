"""Make docs/screenshots/actions_menu.png, actions_bar.png and actions_bar_narrow.png (offscreen).

    QT_QPA_PLATFORM=offscreen python3 tests/actions/screenshots.py

The real main window as ``exptable`` opens it, at its default size 1400x820 (the narrow one at 1000x600).
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "screenshots"
SIZE = (1400, 820)  # the main window's default size
NARROW_SIZE = (1000, 600)


def populate() -> None:
    from actions_support import make_experiment

    from exptable_desktop.core import states as st
    for name, status, tags in (
        ("resnet50 baseline", st.COMPLETED, ["baseline"]), ("resnet50 lr=0.1", st.DRAFT, []),
        ("resnet50 lr=0.01", st.DRAFT, ["sweep"]), ("resnet50 augment", st.RUNNING, ["sweep"]),
        ("vit-small", st.PUBLISHED, ["best"]), ("vit-small distill", st.FAILED, []),
        ("efficientnet b0", st.PENDING, []), ("efficientnet b3", st.ABORTED, ["sweep"]),
    ):
        make_experiment(name, status, project="vision/cifar10", tags=tags)


def main() -> int:
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPainter
    from PySide6.QtWidgets import QApplication

    from exptable_desktop.store import open_database
    from exptable_desktop.ui.roles import ColumnKeyRole
    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp())
    os.environ["EXPTABLE_FILES"] = str(folder / "files")
    url = f"sqlite:///{folder / 'shots.db'}"
    open_database(url)
    populate()
    from exptable_desktop.ui import create_main_window
    # The window as the app builds it: its style, menus and details/comparison wiring included.
    window = create_main_window(url)
    window.auto_refresh_toggle.setChecked(False)
    window.resize(*SIZE)
    window.show()
    app.processEvents()
    ids = window.visible_ids()
    rows = {r["name"]: r["id"] for r in window.rows_info(ids)}
    checked = [rows[n] for n in ("resnet50 lr=0.1", "resnet50 lr=0.01", "resnet50 augment", "vit-small")]
    window.set_checked(checked, True)
    for _ in range(5):
        app.processEvents()
    import time
    time.sleep(0.1)
    app.processEvents()

    OUT.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(OUT / "actions_bar.png"))

    # Narrow: the entries that do not fit are in the bar's ">>" menu.
    window.resize(*NARROW_SIZE)
    for _ in range(5):
        app.processEvents()
    window.grab().save(str(OUT / "actions_bar_narrow.png"))
    window.resize(*SIZE)
    for _ in range(5):
        app.processEvents()

    # The menu of the hovered row's "⋮" button, over the window where it pops up.
    controller = window.action_controller
    view = window.table_view
    row = window.visible_ids().index(rows["resnet50 augment"])
    name_column = next(c for c in range(view.model().columnCount())
                       if view.model().headerData(c, Qt.Orientation.Horizontal, ColumnKeyRole) == "name")
    controller.row_menu.follow(view.visualRect(view.model().index(row, name_column)).center())
    button = controller.row_menu.button
    cell = button.geometry().bottomLeft()
    menu = controller.show_context_menu(view.viewport().mapToGlobal(cell), rows["resnet50 augment"])
    app.processEvents()
    shot = window.grab()
    painter = QPainter(shot)
    painter.drawPixmap(view.viewport().mapTo(window, cell), menu.grab())
    painter.end()
    shot.save(str(OUT / "actions_menu.png"))
    menu.close()
    print(OUT / "actions_bar.png", OUT / "actions_bar_narrow.png", OUT / "actions_menu.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
