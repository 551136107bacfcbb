"""Screenshots of the details view for the docs (not a test; run by hand).

    python tests/details/make_screenshots.py [out_dir]    # default docs/screenshots

A temporary database gets a dozen experiments in various states plus one run
recorded by a real script through the SDK; the main window shows that run in Details mode, one
PNG per tab, then full screen, then Details mode at laptop size.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
sys.path.insert(0, str(HERE))

from details_helpers import RICH_SCRIPT, write_repo_script  # noqa: E402

SIZE = (1400, 820)  # the main window's default size
NARROW_SIZE = (1100, 700)


def add_neighbours() -> None:
    """Other rows for the list beside the panel."""
    import time

    from exptable_desktop.core import recording
    from exptable_desktop.core import states as st
    from exptable_desktop.store.schema import Experiment
    rows = [("vision/resnet", "resnet18 cifar10 lr=0.01", "training", st.COMPLETED, ["best"], 147),
            ("vision/resnet", "resnet18 cifar100 lr=0.003", "training", st.RUNNING, [], 29000),
            ("vision/vit", "eval vit_b16 on cifar10", "testing", st.PUBLISHED, ["release"], 23000),
            ("speech", "batch inference whisper-small", "inference", st.RUNNING, ["needs-review"], 221800),
            ("nlp", "bert-base finetune sst2", "training", st.FAILED, ["fp16"], 8100),
            ("nlp", "tokenizer stats", "data_processing", st.COMPLETED, [], None),
            ("rl", "sac atari-breakout sweep", "optimizer", st.ABORTED, ["sweep"], 581),
            ("vision/vit", "convnext_tiny imagenet-1k", "training", st.PENDING, ["fp16", "sweep"], None),
            ("vision/resnet", "resnet50 draft copy", "training", st.DRAFT, [], None)]
    now = time.time()
    for n, (project, name, kind, status, tags, last) in enumerate(rows):
        exp_id = recording.create_experiment(project, name, task_type=kind, status=status, tags=tags,
                                             user=("alice", "bob", "carol")[n % 3])
        Experiment.update(last_update=now - 3600 * (n + 1) * 5, last_iteration=last).where(
            Experiment.id == exp_id).execute()


def main() -> int:
    out_dir = Path(sys.argv[1] if len(sys.argv) > 1 else HERE.parents[1] / "docs" / "screenshots")
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        url = f"sqlite:///{folder / 'shots.db'}"
        os.environ["EXPTABLE_FILES"] = str(folder / "files")
        os.environ["HOME"] = str(folder)
        os.environ["XDG_DATA_HOME"] = str(folder / "data")
        os.environ["XDG_CONFIG_HOME"] = str(folder / "config")
        from exptable_desktop.store import close_database, open_database
        from exptable_desktop.store.schema import Experiment

        open_database(url)
        add_neighbours()
        env = dict(os.environ, EXPTABLE_DB=url, PYTHONPATH=str(HERE.parents[1]))
        script = write_repo_script(folder, RICH_SCRIPT)
        subprocess.run([sys.executable, str(script)], cwd=script.parent, env=env, check=True, capture_output=True)
        run_id = Experiment.get(Experiment.name == "resnet50 baseline").id
        close_database()

        from PySide6.QtWidgets import QApplication
        app = QApplication.instance() or QApplication([])
        from exptable_desktop.ui import create_main_window
        from exptable_desktop.ui.details import install_details

        window = create_main_window(url)
        controller = install_details(window)
        window.resize(*SIZE)
        window.show()
        while len(window.visible_ids()) < 10:  # the table loads its rows in the background
            app.processEvents()
        window.table_view.activate_handler(run_id)
        panel = controller.panel

        def settle():
            for _ in range(20):
                app.processEvents()

        for tab in panel.all_tabs():
            panel.select_tab(tab.title)
            if tab is panel.configuration_tab:
                tab.select("params", "Args")
            settle()
            name = tab.title.lower().replace(" ", "_")
            window.grab().save(str(out_dir / f"details_{name}.png"))
        panel.select_tab("SCALARS")
        controller.set_full_screen(True)
        settle()
        window.grab().save(str(out_dir / "details_fullscreen.png"))
        controller.set_full_screen(False)
        panel.select_tab("INFO")
        settle()
        window.grab().save(str(out_dir / "details_mode.png"))
        window.resize(*NARROW_SIZE)  # a laptop-sized window: the list and the header must still fit
        settle()
        window.grab().save(str(out_dir / "details_narrow.png"))
        window.close()
        close_database()
    print(f"screenshots in {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
