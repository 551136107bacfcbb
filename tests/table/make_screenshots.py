"""Screenshots of the experiments table for the docs (not a test; run by hand).

    python tests/table/make_screenshots.py [out_dir] [--width 1400 --height 820]    # default docs/screenshots

A temporary database gets demo data (``exptable_desktop.io.demo.make_demo``); the real main
window is grabbed offscreen: the table, checked rows (tinted) beside the selected one, the
table scrolled to its right end, a status + tags filter, the tag and PARENT filter pop-ups
(drawn where they open) and the archive.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from screenshot_support import scratch_home  # noqa: E402

EXPERIMENTS = 382


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", default=str(HERE.parents[1] / "docs" / "screenshots"))
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=820)
    args = parser.parse_args()
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with scratch_home() as (folder, url):
        from exptable_desktop.io.demo import make_demo
        from exptable_desktop.store import close_database, open_database
        open_database(url)
        make_demo(EXPERIMENTS, seed=1, detailed=0, images=0)
        close_database()

        from PySide6.QtGui import QPainter
        from PySide6.QtWidgets import QApplication
        app = QApplication.instance() or QApplication([])
        from exptable_desktop.core.filters import TagFilter, ValueSetFilter
        from exptable_desktop.ui import create_main_window

        window = create_main_window(url)
        window.auto_refresh_toggle.setChecked(False)
        window.resize(args.width, args.height)
        window.show()
        while window.is_loading():
            app.processEvents()

        def settle() -> None:
            for _ in range(10):
                app.processEvents()

        def save(name: str, popup=None) -> None:
            settle()
            shot = window.grab()
            if popup is not None:
                painter = QPainter(shot)
                painter.drawPixmap(window.mapFromGlobal(popup.pos()), popup.grab())
                painter.end()
                popup.close()
            shot.save(str(out_dir / name))

        save("table.png")
        ids = window.visible_ids()
        window.set_checked(ids[2:5] + ids[8:9], True)
        window.select_experiment(ids[6])
        save("table-checked.png")
        window.set_checked(ids, False)
        bar = window.table_view.horizontalScrollBar()
        bar.setValue(bar.maximum())
        save("table-scrolled-right.png")
        bar.setValue(0)
        window.set_filter("status", ValueSetFilter(frozenset({"in_progress", "completed"})))
        window.set_filter("tags", TagFilter("any", frozenset({"best", "baseline"})))
        save("table-filtered.png")
        window.clear_filters()
        save("table-tag-filter.png", window.open_filter_popup("tags"))
        save("table-parent-filter.png", window.open_filter_popup("parent"))
        window.archive_toggle.setChecked(True)
        while window.is_loading():
            app.processEvents()
        save("table-archive.png")
        window.archive_toggle.setChecked(False)
        window.shutdown()
    print(f"screenshots in {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
