"""Bundled files: everything the code asks ``resource_path`` for exists, and the
PyInstaller spec ships all of ``resources/`` under the same relative paths."""
from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from exptable_desktop.paths import resources_root

ROOT = Path(__file__).resolve().parent.parent
RESOURCES = resources_root()  # in the source tree, wherever paths.py says it is


def resource_requests() -> list[tuple[str, int, tuple[str, ...], bool]]:
    """(file, line, leading literal path parts, whether every part is literal) per ``resource_path(...)`` call."""
    requests = []
    for path in sorted((ROOT / "exptable_desktop").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name != "resource_path":
                continue
            parts = []
            for arg in node.args:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    parts.append(arg.value)
                else:
                    break
            requests.append((str(path.relative_to(ROOT)), node.lineno, tuple(parts), len(parts) == len(node.args)))
    return requests


def test_every_requested_resource_exists():
    missing = []
    for file, line, parts, literal in resource_requests():
        target = RESOURCES.joinpath(*parts)
        # A computed name (f"icons/{status}.svg") can only be checked up to its literal folder.
        ok = target.is_file() if literal else target.exists()
        if not ok:
            missing.append(f"{file}:{line}: resources/{'/'.join(parts)}")
    assert not missing, "missing resources:\n" + "\n".join(missing)


def test_app_icon():
    svg = (RESOURCES / "app" / "exptable.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<svg") and "viewBox" in svg
    assert (RESOURCES / "app" / "exptable.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def _spec_datas() -> list[tuple[str, str]]:
    tree = ast.parse((ROOT / "exptable.spec").read_text(encoding="utf-8"))
    datas = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "DATAS" for t in node.targets):
            datas = ast.literal_eval(node.value)
    assert datas is not None, "exptable.spec has no DATAS list"
    analysis = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Analysis"]
    assert len(analysis) == 1
    datas_arg = next(k.value for k in analysis[0].keywords if k.arg == "datas")
    assert any(isinstance(n, ast.Name) and n.id == "DATAS" for n in ast.walk(datas_arg)), \
        "Analysis(datas=...) does not use DATAS"
    return datas


def test_spec_ships_every_resource_at_its_own_path():
    """resource_path() looks in <bundle>/resources/..., so each file must land there."""
    datas = [(ROOT / source, Path(dest)) for source, dest in _spec_datas()]
    files = [p for p in RESOURCES.rglob("*") if p.is_file()]
    assert files
    uncovered = []
    for path in files:
        wanted = Path("resources") / path.relative_to(RESOURCES)
        if not any(source in path.parents and dest / path.relative_to(source) == wanted
                   for source, dest in datas):
            uncovered.append(wanted.as_posix())
    assert not uncovered, "not shipped (or not at the same path) by exptable.spec: " + ", ".join(uncovered)


def _can_build_wheels_offline() -> bool:
    import importlib.util

    import setuptools
    major, minor = (int(x) for x in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1) or importlib.util.find_spec("wheel") is not None


@pytest.mark.skipif(not _can_build_wheels_offline(),
                    reason="building a wheel without network needs setuptools>=70.1 or the wheel package")
def test_an_installed_package_carries_its_resources(tmp_path):
    """``pip install .`` (README's first command) must bring the icons and styles along;
    a wheel is what that command installs."""
    source = tmp_path / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        if (ROOT / name).exists():
            shutil.copy(ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "exptable_desktop", source / "exptable_desktop", ignore=ignore)
    if (ROOT / "resources").is_dir():
        shutil.copytree(ROOT / "resources", source / "resources", ignore=ignore)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w",
         str(tmp_path / "wheel"), str(source)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    names = zipfile.ZipFile(next((tmp_path / "wheel").glob("*.whl"))).namelist()
    missing = [p.relative_to(RESOURCES).as_posix() for p in RESOURCES.rglob("*") if p.is_file()
               and not any(n.endswith("/resources/" + p.relative_to(RESOURCES).as_posix()) for n in names)]
    assert not missing, f"the wheel lacks {len(missing)} resource files, e.g. {missing[:3]}"


def test_every_subpackage_is_listed_for_the_wheel():
    """pyproject lists packages by hand (resources/ is mapped in); a new one must not be left out."""
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+

    root = Path(__file__).resolve().parents[1]
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(root).parts)
               for p in (root / "exptable_desktop").rglob("__init__.py")}
    assert on_disk <= listed, f"add to [tool.setuptools] packages: {sorted(on_disk - listed)}"
