"""``store.chunking.chunked`` is the one way the package splits long id lists into statements."""
from __future__ import annotations

import ast
import sqlite3
from pathlib import Path

import pytest

from exptable_desktop.store.chunking import chunked

PACKAGE = Path(__file__).resolve().parent.parent / "exptable_desktop"

# Slicing loops that may stay: the helper itself, and mini-batches of training data in the example script.
ALLOWED = {"store/chunking.py", "sdk/example_train.py"}
# Loops not yet moved to the helper (their files are being rewritten by their owners); remove an
# entry as its file moves over, and the test keeps it from coming back.
NOT_YET = {"core/recording.py"}


def test_chunks_keep_order_and_size():
    assert list(chunked(range(7), 3)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(chunked([], 3)) == []
    assert list(chunked(["a", "b"], 3)) == [["a", "b"]]


def test_any_iterable_is_read_once_up_front():
    generator = (i for i in range(5))
    assert list(chunked(generator, 2)) == [[0, 1], [2, 3], [4]]
    assert list(chunked({"x": 1, "y": 2}, 1)) == [["x"], ["y"]]


def test_default_chunks_fit_the_parameter_limit_of_older_sqlite():
    # SQLite before 3.32 binds at most 999 parameters a statement: an IN (...) chunk plus the
    # statement's other parameters must fit, whatever the SQLite this Python was built with.
    conn = sqlite3.connect(":memory:")
    conn.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, kind TEXT)")
    conn.executemany("INSERT INTO t VALUES (?, 'a')", [(i,) for i in range(2500)])
    found = 0
    for chunk in chunked(range(2500)):
        marks = ", ".join("?" * len(chunk))
        found += conn.execute(f"SELECT COUNT(*) FROM t WHERE kind = ? AND id IN ({marks})", ["a", *chunk]).fetchone()[0]
    assert found == 2500
    with pytest.raises(sqlite3.OperationalError, match="too many SQL variables"):
        conn.execute(f"SELECT COUNT(*) FROM t WHERE id IN ({', '.join('?' * 1000)})", list(range(1000)))


def test_a_size_below_one_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        list(chunked([1, 2], 0))


def _slicing_loops(path: Path) -> list[int]:
    """Lines of ``range(0, len(x), n)`` calls: the hand-written chunk loop the helper replaces."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"
                and len(node.args) == 3 and isinstance(node.args[0], ast.Constant) and node.args[0].value == 0
                and isinstance(node.args[1], ast.Call) and getattr(node.args[1].func, "id", None) == "len"):
            lines.append(node.lineno)
    return lines


def test_the_scan_sees_a_hand_written_chunk_loop(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("for start in range(0, len(ids), 500):\n    chunk = ids[start:start + 500]\n"
                      "for i in range(len(ids)):\n    pass\n")
    assert _slicing_loops(sample) == [1]


def test_no_module_chunks_by_hand():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in ALLOWED | NOT_YET:
            continue
        offenders += [f"exptable_desktop/{relative}:{line}" for line in _slicing_loops(path)]
    assert not offenders, "use store.chunking.chunked instead of:\n" + "\n".join(offenders)
