"""The app runs on PySide6-Essentials, without the Add-ons, and the packaged build carries just the
Qt modules it loads (pyproject.toml, exptable.spec)."""
from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]

# Every module of the package imported in a fresh interpreter (so pytest-qt's own imports do not
# count), with pyqtgraph's exporters the comparison page registers; prints each PySide6 module
# loaded and its file.
PROBE = """
import importlib, json, pkgutil, sys
import exptable_desktop
for info in pkgutil.walk_packages(exptable_desktop.__path__, "exptable_desktop."):
    importlib.import_module(info.name)
import pyqtgraph.exporters
print(json.dumps({name: module.__file__ for name, module in sys.modules.items()
                  if name.startswith("PySide6.Qt") and getattr(module, "__file__", None)}))
"""


def _loaded_qt_modules() -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


def _spec_qt_modules() -> set[str]:
    tree = ast.parse((ROOT / "exptable.spec").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "QT_MODULES_USED" for t in node.targets):
            return set(ast.literal_eval(node.value))
    raise AssertionError("exptable.spec has no QT_MODULES_USED")


def test_every_qt_module_the_app_loads_is_in_pyside6_essentials_and_in_the_bundle():
    loaded = _loaded_qt_modules()
    essentials = {str(f) for f in importlib.metadata.files("PySide6_Essentials") or []}
    site = Path(importlib.metadata.distribution("PySide6_Essentials").locate_file(""))
    outside = {name: path for name, path in loaded.items()
               if Path(path).resolve().relative_to(site.resolve()).as_posix() not in essentials}
    assert not outside, f"Qt modules the app loads that PySide6-Essentials lacks (an Add-on): {outside}"
    # QtTest is pyqtgraph's optional import (a test helper); the bundle leaves it out.
    short = {name.split(".", 1)[1] for name in loaded} - {"QtTest"}
    missing = short - _spec_qt_modules()
    assert not missing, f"the app loads {sorted(missing)}, which exptable.spec leaves out of the bundle"


def test_the_package_requires_pyside6_essentials_with_the_pin_against_6_12_0():
    requirements = [Requirement(text) for text in
                    tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]]
    names = {r.name.lower() for r in requirements}
    assert "pyside6" not in names, "the full PySide6 brings ~400 MB of Add-ons the app never loads"
    essentials = [r for r in requirements if r.name.lower() == "pyside6-essentials"]
    old_python = {"python_version": "3.11"}
    pinned = [r for r in essentials if r.marker is None or r.marker.evaluate(old_python)]
    assert pinned and all(not r.specifier.contains("6.12.0") and r.specifier.contains("6.11.3") for r in pinned)
