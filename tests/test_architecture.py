"""Only ``exptable_desktop.ui`` may use Qt: the CLI, SDK, agent and store run on machines
without a display or Qt's system libraries, and a training script must not pay for Qt."""
from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "exptable_desktop"
QT_MODULES = ("PySide6", "shiboken6", "pyqtgraph", "PyQt5", "PyQt6", "PySide2")


def _is_qt(name: str | None) -> bool:
    return bool(name) and name.split(".")[0] in QT_MODULES


def qt_imports(path: Path) -> list[str]:
    """Every Qt import in a file, wherever it is (module level, functions, try blocks),
    including ``importlib.import_module("PySide6...")`` and ``__import__`` with a literal name."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [f"line {node.lineno}: import {a.name}" for a in node.names if _is_qt(a.name)]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and _is_qt(node.module):
            found.append(f"line {node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("import_module", "__import__") and _is_qt(str(node.args[0].value)):
                found.append(f"line {node.lineno}: {name}({node.args[0].value!r})")
    return found


def test_the_checker_sees_every_kind_of_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import os\n"
        "def f():\n    from PySide6.QtWidgets import QLabel\n"
        "try:\n    import pyqtgraph as pg\nexcept ImportError:\n    pass\n"
        "import importlib\nmod = importlib.import_module('PySide6.QtCore')\n"
        "from . import sibling\n")
    assert [hit.split(":")[0] for hit in qt_imports(sample)] == ["line 3", "line 5", "line 9"]


def test_only_ui_imports_qt():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "ui":
            continue
        offenders += [f"exptable_desktop/{relative.as_posix()} {hit}" for hit in qt_imports(path)]
    assert not offenders, "Qt imported outside exptable_desktop/ui:\n" + "\n".join(offenders)


def test_importing_the_non_ui_layers_loads_no_qt():
    code = (
        "import sys\n"
        "import exptable_desktop.cli, exptable_desktop.core, exptable_desktop.store, exptable_desktop.sdk\n"
        "import exptable_desktop.io.demo, exptable_desktop.core.actions, exptable_desktop.core.queries\n"
        f"loaded = sorted(m for m in sys.modules if m.split('.')[0] in {QT_MODULES!r})\n"
        "print(','.join(loaded))\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(PACKAGE.parent), os.environ.get("PYTHONPATH")])))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"Qt modules loaded: {result.stdout.strip()}"
