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


# ---- The layer table in README ---------------------------------------------------------------------

README = PACKAGE.parent / "README.md"
# Modules at the package's top level that every layer may use: the version and where files live.
SHARED_MODULES = ("__init__", "paths")


def readme_layer_table() -> dict[str, set[str]]:
    """README's "| layer | package | may import |" table as {package: the packages it may import},
    where a row's packages may import each other and everything its third column names."""
    lines = README.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.replace(" ", "") == "|layer|package|mayimport|")
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        _, packages, may_import = (cell.strip() for cell in line.strip("|").split("|"))
        names = [name.strip().removeprefix("exptable_desktop.") for name in packages.replace("`", "").split(",")]
        ours = [name.strip().removeprefix("exptable_desktop.") for name in may_import.split(",")
                if name.strip().startswith("`")]
        rows.append((names, [name.strip("`") for name in ours]))
    by_package = {name: names for names, _ in rows for name in names}
    table = {}
    for names, ours in rows:
        allowed = set(names)
        for other in ours:
            allowed.update(by_package.get(other, [other]))
        table.update({name: allowed for name in names})
    return table


def layer_of(module: str, table: dict[str, set[str]]) -> str | None:
    """The table's package a top-level module or package of ours belongs to (``cli_io`` -> ``cli_*``)."""
    if module in table:
        return module
    return next((name for name in table if name.endswith("*") and module.startswith(name[:-1])), None)


def _top_level(dotted: str) -> str | None:
    """``exptable_desktop.core.x`` -> ``core``; a name defined in the package's __init__ -> ``__init__``."""
    parts = dotted.split(".")
    if parts[0] != "exptable_desktop" or len(parts) < 2:
        return None
    first = parts[1]
    if (PACKAGE / first).is_dir() or (PACKAGE / f"{first}.py").is_file():
        return first
    return "__init__"


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module or package of ours) for every import of our own package in ``path``."""
    found = []
    relative = path.relative_to(PACKAGE)
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = ".".join(["exptable_desktop", *relative.parts[: len(relative.parts) - node.level]])
                names = ([f"{anchor}.{node.module}"] if node.module
                         else [f"{anchor}.{a.name}" for a in node.names])
            elif node.module == "exptable_desktop":
                names = [f"exptable_desktop.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
        else:
            continue
        found += [(node.lineno, top) for top in map(_top_level, names) if top]
    return found


def test_the_readme_layer_table_is_read():
    table = readme_layer_table()
    assert table["store"] == {"store"}
    assert "store" in table["core"] and "ui" not in table["core"]
    assert "store" not in table["ui"] and {"core", "io"} <= table["ui"]
    assert layer_of("cli_io", table) == "cli_*" and "cli_*" in table["cli"]


def test_every_layer_imports_only_what_the_readme_table_allows():
    table = readme_layer_table()
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE)
        top = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        if top in SHARED_MODULES:
            continue
        layer = layer_of(top, table)
        if layer is None:
            offenders.append(f"exptable_desktop/{relative.as_posix()} is in no row of README's layer table")
            continue
        allowed = table[layer] | set(SHARED_MODULES)
        for line, target in imported_modules(path):
            if target not in allowed and layer_of(target, table) not in allowed:
                offenders.append(f"exptable_desktop/{relative.as_posix()} line {line}: imports {target}")
    assert not offenders, "imports README's layer table does not allow:\n" + "\n".join(offenders)
