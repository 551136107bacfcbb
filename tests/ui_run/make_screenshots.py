"""Make the New Experiment wizard and Workers & Queues screenshots in docs/screenshots (offscreen).

    QT_QPA_PLATFORM=offscreen python3 tests/ui_run/make_screenshots.py [OUT_FOLDER]

wizard_code.png, wizard_arguments.png, wizard_environment.png, wizard_container.png, wizard_run.png,
wizard_code_errors.png, workers_queues.png (Workers), workers_queues_queues.png and the narrow
workers_queues_narrow.png / workers_queues_narrow_workers.png.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
ROOT = Path(__file__).resolve().parents[2]


def settle(app, rounds: int = 5) -> None:
    from exptable_desktop.ui.new_experiment_wizard import wait_for_checks
    for _ in range(rounds):
        wait_for_checks()
        app.processEvents()
        time.sleep(0.02)


def wizard_shots(app, folder: Path, out: Path) -> None:
    from ui_run_support import make_repo

    from exptable_desktop.ui.new_experiment_wizard import NewExperimentWizard
    repo = make_repo(folder)
    wizard = NewExperimentWizard(None, "vision/cifar10")
    wizard.show()
    code = wizard.code_page
    code.name_edit.setText("resnet50 lr sweep")
    code.repo_edit.setText(str(repo.path))
    code.version_kind.setCurrentIndex(1)
    code.version_edit.setText("v1.0")
    code.working_dir_edit.setText(".")
    code.entry_edit.setText("train.py")
    code.task_init_box.setChecked(True)
    wizard.wait_until_checked()
    settle(app)
    wizard.grab().save(str(out / "wizard_code.png"))

    wizard.next()
    wizard.arguments_page.detect_button.click()
    settle(app)
    wizard.grab().save(str(out / "wizard_arguments.png"))

    wizard.next()
    env = wizard.environment_page
    env.python_edit.setText("python3.11")
    env.packages_listed.setChecked(True)
    env.packages_edit.setPlainText("numpy>=1.24\ntorch==2.3.1\ntorchvision")
    settle(app)
    wizard.grab().save(str(out / "wizard_environment.png"))

    wizard.next()
    box = wizard.container_page
    box.image_edit.setText("nvcr.io/nvidia/pytorch:24.05-py3")
    box.args_edit.setText("--ipc=host --shm-size=8g")
    box.setup_edit.setPlainText("apt-get update && apt-get install -y libgl1")
    settle(app)
    wizard.grab().save(str(out / "wizard_container.png"))

    wizard.next()
    wizard.run_page.queue_combo.setEditText("gpu")
    wizard.run_page.output_edit.setText("/mnt/share/models")
    settle(app)
    wizard.grab().save(str(out / "wizard_run.png"))

    errors = NewExperimentWizard(None, "vision/cifar10")
    errors.show()
    code = errors.code_page
    code.name_edit.setText("r")
    code.repo_edit.setText(str(repo.path))
    code.version_kind.setCurrentIndex(2)
    code.version_edit.setText("deadbeef")
    code.entry_edit.setText("tools/extra.py")
    errors.wait_until_checked()
    settle(app)
    errors.grab().save(str(out / "wizard_code_errors.png"))
    wizard.close()
    errors.close()


def workers_queues_shots(app, out: Path) -> None:
    from ui_run_support import add_worker, queued

    from exptable_desktop.core.recording import create_experiment
    from exptable_desktop.ui.workers_queues import WorkersQueuesWindow
    queued([f"resnet50 lr={lr}" for lr in ("0.1", "0.05", "0.01", "0.005", "0.001")], "gpu", "vision/cifar10")
    queued(["tokenizer stats", "dedupe shards"], "cpu", "nlp/data")
    from exptable_desktop.store.db import run_write
    from exptable_desktop.store.schema import QueueEntry
    # Waiting a while, as a real queue's entries do.
    run_write(lambda: QueueEntry.update(added=QueueEntry.added - 60 * (20 + QueueEntry.id * 3)).execute())
    running = create_experiment("vision/cifar10", "vit-small distill")
    add_worker("gpu-box:0", ["gpu"], resources={"cpu_usage": 64, "memory_usage": 71, "gpu_usage": 93},
               history=240, running=running, started_ago=5 * 3600 + 420)
    add_worker("gpu-box:1", ["gpu", "cpu"], resources={"cpu_usage": 8, "memory_usage": 35, "gpu_usage": 0},
               history=240, started_ago=5 * 3600 + 400)
    add_worker("laptop:0", ["cpu"], resources={"cpu_usage": 23, "memory_usage": 58}, history=120,
               started_ago=1500)
    window = WorkersQueuesWindow()
    window.show()
    window.refresh_timer.stop()
    window.select_worker("gpu-box:0")
    settle(app)
    window.grab().save(str(out / "workers_queues.png"))
    window.select_queue("gpu")
    window.entries_view.selectRow(2)
    settle(app)
    window.grab().save(str(out / "workers_queues_queues.png"))
    window.resize(640, 620)
    settle(app)
    window.grab().save(str(out / "workers_queues_narrow.png"))
    window.tabs.setCurrentIndex(0)
    settle(app)
    window.grab().save(str(out / "workers_queues_narrow_workers.png"))
    window.close()


def main() -> int:
    from PySide6.QtWidgets import QApplication

    from exptable_desktop.store import open_database
    from exptable_desktop.ui.style import apply_style
    app = QApplication.instance() or QApplication([])
    apply_style()
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "screenshots"
    out.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp())
    os.environ["EXPTABLE_FILES"] = str(folder / "files")
    open_database(f"sqlite:///{folder / 'shots.db'}")
    wizard_shots(app, folder, out)
    workers_queues_shots(app, out)
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
