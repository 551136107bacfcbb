"""Every Qt signal declared in ``ui`` is named ``sig_`` plus what happened, so a reader can tell
a signal from a method or a widget attribute at the connect site."""
from __future__ import annotations

import ast
from pathlib import Path

UI = Path(__file__).resolve().parents[1] / "exptable_desktop" / "ui"


def _is_signal_call(node: ast.AST | None) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
    return name == "Signal"


def declared_signals(source: str) -> list[tuple[str, str, int]]:
    """(class name, attribute name, line) of each ``name = Signal(...)`` class attribute."""
    found = []
    for cls in ast.walk(ast.parse(source)):
        if not isinstance(cls, ast.ClassDef):
            continue
        for statement in cls.body:
            if isinstance(statement, ast.Assign) and _is_signal_call(statement.value):
                targets = statement.targets
            elif isinstance(statement, ast.AnnAssign) and _is_signal_call(statement.value):
                targets = [statement.target]
            else:
                continue
            found += [(cls.name, target.id, statement.lineno) for target in targets if isinstance(target, ast.Name)]
    return found


def test_the_scan_finds_signals_and_outliers():
    source = "class A:\n    sig_done = Signal()\n    changed = Signal(str)\n    typed: object = QtCore.Signal()\n    x = 3\n"
    assert declared_signals(source) == [("A", "sig_done", 2), ("A", "changed", 3), ("A", "typed", 4)]


def test_every_ui_signal_is_named_sig_what_happened():
    signals, outliers = 0, []
    for path in sorted(UI.rglob("*.py")):
        for cls, name, line in declared_signals(path.read_text(encoding="utf-8")):
            signals += 1
            if not name.startswith("sig_"):
                outliers.append(f"{path.relative_to(UI.parent)}:{line} {cls}.{name}")
    assert signals > 40, "the scan no longer sees the ui signals"
    assert outliers == []
