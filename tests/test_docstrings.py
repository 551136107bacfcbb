"""Every public module-level class has a docstring saying what it is for (the issue's "Public classes
get a docstring"), so a reader meeting one at an import knows its role without reading its body."""
from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "exptable_desktop"


def undocumented_classes(source: str) -> list[tuple[str, int]]:
    """(name, line) of each module-level class not starting with "_" that has no docstring."""
    return [(node.name, node.lineno) for node in ast.parse(source).body
            if isinstance(node, ast.ClassDef) and not node.name.startswith("_") and ast.get_docstring(node) is None]


def test_the_scan_finds_undocumented_public_classes_only():
    source = ('class Documented:\n    """What it is for."""\n\n'
              "class Bare:\n    x = 1\n\n"
              "@dataclass\nclass Fields:\n    # a comment is no docstring\n    y: int\n\n"
              "class _Private:\n    pass\n\n"
              "def outer():\n    class Inner:\n        pass\n")
    assert undocumented_classes(source) == [("Bare", 4), ("Fields", 8)]


def test_every_public_module_level_class_has_a_docstring():
    classes, offenders = 0, []
    for path in sorted(PACKAGE.rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        classes += sum(isinstance(node, ast.ClassDef) for node in ast.parse(source).body)
        offenders += [f"{path.relative_to(PACKAGE.parent)}:{line} {name}" for name, line in undocumented_classes(source)]
    assert classes > 100, "the scan no longer sees the package's classes"
    assert not offenders, "public classes without a docstring:\n" + "\n".join(offenders)
