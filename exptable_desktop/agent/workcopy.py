"""A fresh working copy of an experiment's code: clone (or copy), checkout, the stored diff applied."""
from __future__ import annotations

import ast
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from exptable_desktop.agent.console import ConsoleSink
from exptable_desktop.agent.process import Outcome, SetupStopped
from exptable_desktop.core.repos import is_git_folder, is_url, local_folder, module_path_candidates, run_git

# What "Add Task.init call" inserts into the agent's copy of the entry point (never into the repository).
TASK_INIT_LINES = ('from exptable_desktop import Task as _ExpTableTask\n'
                   '(__name__ != "__main__") or _ExpTableTask.init()\n')


class CodeError(Exception):
    """The code cannot be made ready; the text is one line for the experiment's status reason."""


@dataclass
class WorkingCopy:
    """The folder an experiment runs in: the checked-out repository (or copied folder), where to run and what."""
    root: Path  # the repository (or folder) root
    cwd: Path  # where the entry point runs: root / working_dir
    entry: list[str]  # ["train.py"] or ["-m", "pkg.train"]
    commit: str  # what was checked out ("" for a copied folder or a stored script)


Runner = Callable[[list[str], str], Outcome]


def looks_like_diff(text: str) -> bool:
    head = text.lstrip()[:200]
    return head.startswith(("diff --git", "diff ", "--- ", "Index: ", "submodule ")) or "\n+++ " in text[:2000]


class _Steps:
    def __init__(self, run: Runner, sink: ConsoleSink):
        self.run, self.sink = run, sink

    def git(self, args: list[str], cwd: Path, failure: str, *, git_says: bool = True) -> None:
        """Run one git step; on failure raise CodeError(failure), with git's own reason when ``git_says``."""
        self.sink.last_error_lines.clear()
        outcome = self.run(["git", *args], str(cwd))
        if outcome.stop is not None:
            raise SetupStopped(outcome.stop)
        if outcome.start_error:
            raise CodeError(outcome.start_error)
        if outcome.returncode != 0:
            if not git_says:
                raise CodeError(failure)
            detail = next((ln for ln in self.sink.last_error_lines
                           if ln.lower().startswith(("fatal:", "error:"))), None) \
                or (self.sink.last_error_lines[-1] if self.sink.last_error_lines else f"exit code {outcome.returncode}")
            detail = detail.split(":", 1)[1].strip() if detail.lower().startswith(("fatal:", "error:")) else detail
            raise CodeError(f"{failure}: {detail}")


def make_working_copy(execution: dict, dest: Path, *, run: Runner, sink: ConsoleSink,
                      force_task_init: bool = False) -> WorkingCopy:
    """Put the experiment's code in ``dest/code`` and say how to run it. Raises CodeError."""
    repository = (execution.get("repository") or "").strip()
    diff = execution.get("diff") or ""
    entry_point = (execution.get("entry_point") or "").strip()
    kind = execution.get("entry_kind") or "script"
    working_dir = (execution.get("working_dir") or ".").strip() or "."
    if not entry_point:
        raise CodeError("the experiment has no entry point (script or module) to run")
    root = dest / "code"
    steps = _Steps(run, sink)
    commit = ""
    if not repository:
        if not diff.strip() or looks_like_diff(diff):
            raise CodeError("the experiment names no repository and stores no script")
        # A script recorded outside any repository: the SDK stored its text.
        root.mkdir(parents=True)
        name = Path(entry_point).name if kind == "script" else "script.py"
        (root / name).write_text(diff, encoding="utf-8")
        sink.agent(f"running the script stored on the experiment as {name}")
        cwd, entry = root, [name] if kind == "script" else ["-m", entry_point]
        working_dir, diff = ".", ""
    elif is_url(repository) or is_git_folder(local_folder(repository)):
        source = repository if is_url(repository) else str(local_folder(repository))
        sink.agent(f"cloning {repository}")
        steps.git(["clone", "--quiet", "--no-checkout", source, str(root)], dest, f"cannot clone {repository}")
        commit = _checkout(execution, root, steps, repository)
    else:
        folder = local_folder(repository)
        if not folder.is_dir():
            raise CodeError(f"cannot copy {repository}: no such folder")
        sink.agent(f"copying {folder}")
        try:
            shutil.copytree(folder, root, symlinks=True, ignore=shutil.ignore_patterns("__pycache__", ".venv"))
        except (OSError, shutil.Error) as exc:
            raise CodeError(f"cannot copy {folder}: {exc}") from None
    if diff.strip():
        if not looks_like_diff(diff):
            sink.agent("the stored uncommitted changes are not a diff; ignored")
        else:
            patch = dest / "uncommitted.diff"
            patch.write_text(diff if diff.endswith("\n") else diff + "\n", encoding="utf-8")
            sink.agent("applying the stored uncommitted changes")
            steps.git(["apply", "--whitespace=nowarn", str(patch)], root,
                      "could not apply the stored uncommitted changes")
    cwd = (root / working_dir).resolve()
    if root.resolve() not in (cwd, *cwd.parents):
        raise CodeError(f"working directory {working_dir} is outside the repository")
    where = f"{repository} at {execution.get('tag') or execution.get('branch') or commit[:12] or 'its default branch'}"
    if not cwd.is_dir():
        raise CodeError(f"working directory {working_dir} not found in {where}")
    if kind == "module":
        entry = ["-m", entry_point]
        target = next((cwd / c for c in module_path_candidates(entry_point) if (cwd / c).is_file()), None)
    else:
        script = (cwd / entry_point).resolve()
        if not script.is_file():
            raise CodeError(f"script {entry_point} not found in {where}"
                            + (f" (working directory {working_dir})" if working_dir != "." else ""))
        entry, target = [entry_point], script
    if force_task_init:
        if target is None:
            sink.agent(f"module {entry_point} is not a file of the repository; no Task.init call added")
        else:
            add_task_init_call(target)
            sink.agent(f"added a Task.init call to {target.relative_to(root)}")
    return WorkingCopy(root, cwd, entry, commit)


def _checkout(execution: dict, root: Path, steps: _Steps, repository: str) -> str:
    commit = (execution.get("commit") or "").strip()
    tag = (execution.get("tag") or "").strip()
    branch = (execution.get("branch") or "").strip()
    if commit:
        if run_git(["cat-file", "-e", f"{commit}^{{commit}}"], root).returncode != 0:
            # Not on any branch or tag the clone brought: ask for it by hash.
            run_git(["fetch", "--quiet", "origin", commit], root, timeout=300)
        steps.git(["checkout", "--quiet", "--detach", commit], root, f"commit {commit} not found in {repository}",
                  git_says=False)
    elif tag:
        steps.git(["checkout", "--quiet", "--detach", f"refs/tags/{tag}"], root, f"tag {tag!r} not found in {repository}",
                  git_says=False)
    elif branch:
        steps.git(["checkout", "--quiet", "-B", branch, f"refs/remotes/origin/{branch}"], root,
                  f"branch {branch!r} not found in {repository}", git_says=False)
    else:
        steps.git(["checkout", "--quiet"], root, f"cannot check out the default branch of {repository}")
    done = run_git(["rev-parse", "HEAD"], root)
    head = done.stdout.strip() if done.returncode == 0 else ""
    steps.sink.agent(f"checked out {head[:12] or '?'}" + (f" ({tag or branch})" if tag or branch else ""))
    return head


def task_init_insert_line(source: str) -> int:
    """The 0-based line after which the Task.init call goes: after ``from __future__`` imports, else
    after the module docstring, else after leading comments (shebang, encoding)."""
    lines = source.splitlines()
    try:
        tree = ast.parse(source)
    except SyntaxError:
        tree = None
    if tree is not None:
        futures = [n.end_lineno for n in tree.body if isinstance(n, ast.ImportFrom) and n.module == "__future__"]
        if futures:
            return max(futures)
        if (tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(tree.body[0].value, ast.Constant)
                and isinstance(tree.body[0].value.value, str)):
            return tree.body[0].end_lineno
    count = 0
    for line in lines:
        if line.startswith("#") or not line.strip():
            count += 1
        else:
            break
    return count


def add_task_init_call(path: Path) -> None:
    source = path.read_text(encoding="utf-8", errors="replace")
    lines = source.splitlines(keepends=True)
    at = task_init_insert_line(source)
    if at and not lines[at - 1].endswith("\n"):
        lines[at - 1] += "\n"
    lines.insert(at, TASK_INIT_LINES)
    path.write_text("".join(lines), encoding="utf-8")
