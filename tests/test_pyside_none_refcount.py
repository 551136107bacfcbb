"""Guard against the PySide6 release that kills the app slowly.

PySide6 6.12.0 on CPython 3.11 drops one reference to ``None`` on every Qt
call that returns nothing (``setText``, ``processEvents``, ``QTimer.start``...).
``None`` is an ordinary refcounted object before Python 3.12, so after enough
void calls its count reaches zero and the interpreter aborts with "Fatal Python
error: none_dealloc: deallocating None" — minutes into a session, far from the
cause. pyproject.toml pins PySide6 < 6.12 on Python < 3.12; these tests fail if
the pin is lost or a future release brings the bug back. On Python >= 3.12
``None`` is immortal, its reported count never changes, and the check passes.
"""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

VOID_CALLS = 20_000

PROBE = f"""
import sys
from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtWidgets import QApplication, QLabel

app = QApplication([])
label = QLabel()
timer = QTimer()
before = sys.getrefcount(None)
for i in range({VOID_CALLS} // 4):
    QCoreApplication.processEvents()
    label.setText("x")
    timer.start(1000)
    timer.stop()
after = sys.getrefcount(None)
print(before, after)
"""


def test_void_qt_calls_keep_none_alive():
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, f"the probe died ({result.returncode}): {result.stderr[-500:]}"
    before, after = map(int, result.stdout.split())
    # A few references come and go with the interpreter's own work; the bug costs one per call.
    assert before - after < VOID_CALLS // 10, f"None lost {before - after} references in {VOID_CALLS} Qt calls"


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3] if part.isdigit())


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from Python 3.12")
def test_the_broken_release_is_not_installed():
    import PySide6
    assert _version_tuple(PySide6.__version__) != (6, 12, 0), (
        "PySide6 6.12.0 leaks references to None on Python < 3.12; install PySide6<6.12")
