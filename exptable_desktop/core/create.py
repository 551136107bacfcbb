"""A new Draft from an execution spec: the one function behind the wizard, ``exptable create`` and ``Task.create``.

How a spec is stored (the Execution row and hyperparameters the agent reads back):

=====================  ===========================================================
spec                   stored as
=====================  ===========================================================
repository             ``Execution.repository``: the URL, or the absolute folder path
branch / tag / commit  ``branch`` / ``tag`` / ``commit`` as given; a local git folder
                       with no version pins ``commit`` to HEAD, ``branch`` to the
                       current branch and ``diff`` to its uncommitted changes
working_dir            ``working_dir`` (relative to the repository root, "." default)
script / module        ``entry_point`` with ``entry_kind`` "script" / "module"
arguments              hyperparameters (section, default ``Args``)
python                 ``binary`` (an interpreter: "python3.11" or a path)
venv                   ``environment`` = "venv" and ``binary`` = the venv folder
packages_mode          "none": ``environment`` "none", ``requirements`` "";
                       "requirements"/"packages": ``environment`` "pip" and the text;
                       "repository": ``requirements`` NULL (the repo's requirements.txt)
container_*            ``container_image`` / ``container_args`` / ``container_setup``
add_task_init_call     `` -e EXPTABLE_FORCE_TASK_INIT=1`` appended to ``container_args``
                       (as the reference wizard does); the agent honours it in
                       every mode by inserting a ``Task.init()`` call into its copy
output_uri             ``output_uri``
queue                  enqueued in the same transaction
=====================  ===========================================================

Validation never runs the code: argparse definitions are read with ``ast``.
"""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from exptable_desktop.core import states as st
from exptable_desktop.core.repos import (
    RepoError,
    current_branch,
    is_git_folder,
    is_url,
    local_folder,
    module_path_candidates,
    resolve_version,
    script_exists,
    script_source,
    uncommitted_diff,
)

ARGS_SECTION = "Args"
PACKAGES_MODES = ("none", "requirements", "packages", "repository")
FORCE_TASK_INIT_ARG = "-e EXPTABLE_FORCE_TASK_INIT=1"
_MODULE_NAME = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")


class SpecError(ValueError):
    """A spec that cannot be created. ``errors`` maps field name -> message; ``str()`` is one line."""

    def __init__(self, errors: dict[str, str]):
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


@dataclass
class Argument:
    """One hyperparameter of the new experiment (``--args lr=0.1`` is Argument("lr", "0.1"))."""
    name: str
    value: str = ""
    section: str = ARGS_SECTION
    type: str = ""
    description: str = ""


@dataclass
class ExecutionSpec:
    """Everything the New Experiment wizard asks. Only ``name``, ``project``, ``repository`` and
    one of ``script``/``module`` are required."""
    name: str
    project: str = ""
    repository: str = ""  # URL (https, ssh, file, git@host:...) or a local folder
    branch: str = ""
    tag: str = ""
    commit: str = ""
    working_dir: str = "."
    script: str = ""  # path relative to working_dir
    module: str = ""  # run as ``python -m module``
    arguments: list[Argument] = field(default_factory=list)
    python: str = ""  # interpreter for the run (or the venv the agent makes)
    venv: str = ""  # a pre-installed virtual environment, used as it is
    packages_mode: str = "none"  # none | requirements | packages | repository
    requirements: str = ""  # requirements file text (packages_mode "requirements")
    packages: list[str] = field(default_factory=list)  # one requirement each (packages_mode "packages")
    container_image: str = ""
    container_args: str = ""
    container_setup: str = ""  # bash run in the container before the entry point
    output_uri: str = ""
    queue: str = ""  # enqueue at once when given
    task_type: str = "training"
    add_task_init_call: bool = False
    diff: str = ""  # uncommitted changes to apply after checkout; a local folder's own when empty
    capture_local_changes: bool = True  # local git folder, no version: store its uncommitted diff
    description: str = ""
    tags: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DetectedArgument:
    """An argparse argument found in a script's source."""
    section: str
    name: str
    default: str
    type: str
    help: str


# ---- validation ---------------------------------------------------------------------------

def version_of(spec: ExecutionSpec) -> str:
    """The commit the spec's branch/tag/commit names (see ``repos.resolve_version``); RepoError if none."""
    return resolve_version(spec.repository, branch=spec.branch, tag=spec.tag, commit=spec.commit)


def validate_spec(spec: ExecutionSpec, *, check_repository: bool = True) -> dict[str, str]:
    """``{field: message}`` for every problem, empty when the spec can be created.

    Field names are ExecutionSpec attribute names (``"branch"`` holds the
    version error whichever of branch/tag/commit was given, unless only tag or
    commit was). ``check_repository`` reads the repository (``git ls-remote``
    for a URL, which can take a few seconds): the wizard runs it off the UI
    thread; pass False for an instant check of the fields alone.
    """
    errors: dict[str, str] = {}
    if len((spec.name or "").strip()) < 2:
        errors["name"] = "a name needs at least 2 characters"
    if not [p for p in (spec.project or "").split("/") if p.strip()]:
        errors["project"] = "choose a project"
    if spec.task_type not in st.TASK_TYPES:
        errors["task_type"] = f"unknown type {spec.task_type!r}"
    repository = (spec.repository or "").strip()
    if not repository:
        errors["repository"] = "give a repository URL or a local folder"
    script, module = (spec.script or "").strip(), (spec.module or "").strip()
    if script and module:
        errors["script"] = "give a script or a module, not both"
    elif not script and not module:
        errors["script"] = "give the script to run (or a module)"
    elif module and not _MODULE_NAME.match(module):
        errors["module"] = f"{module!r} is not a module name like package.train"
    elif script and (Path(script).is_absolute() or script.replace("\\", "/").startswith("../")):
        errors["script"] = "the script is a path relative to the working directory"
    version_field = "tag" if spec.tag and not spec.branch else ("commit" if spec.commit and not spec.branch else "branch")
    if spec.tag and (spec.branch or spec.commit):
        errors[version_field] = "give a tag, or a branch and/or commit, not both"
    if (spec.working_dir or ".").replace("\\", "/").startswith(("/", "../")) or Path(spec.working_dir or ".").is_absolute():
        errors["working_dir"] = "the working directory is relative to the repository root"
    _validate_arguments(spec.arguments, errors)
    _validate_environment(spec, errors)
    if (spec.container_args.strip() or spec.container_setup.strip()) and not spec.container_image.strip():
        errors["container_image"] = "container arguments and set-up script need an image"
    if spec.queue and not spec.queue.strip():
        errors["queue"] = "a queue needs a name"
    if check_repository and repository and not ({"repository", "branch", "tag", "commit", "working_dir"} & set(errors)):
        _validate_code(spec, errors, version_field)
    return errors


def _validate_arguments(arguments: Sequence[Argument], errors: dict[str, str]) -> None:
    seen: set[tuple[str, str]] = set()
    for arg in arguments:
        name, section = (arg.name or "").strip(), (arg.section or ARGS_SECTION).strip()
        if not name:
            errors["arguments"] = "every argument needs a name"
            return
        if "/" in section:
            errors["arguments"] = f"section {section!r} cannot contain '/'"
            return
        if (section, name) in seen:
            errors["arguments"] = f"{section}/{name} is given twice"
            return
        seen.add((section, name))


def _validate_environment(spec: ExecutionSpec, errors: dict[str, str]) -> None:
    if spec.python.strip() and spec.venv.strip():
        errors["venv"] = "give a Python binary or a pre-installed venv, not both"
    mode = spec.packages_mode
    if mode not in PACKAGES_MODES:
        errors["packages_mode"] = f"unknown packages choice {mode!r}; expected one of {', '.join(PACKAGES_MODES)}"
        return
    if mode == "requirements" and not spec.requirements.strip():
        errors["requirements"] = "the requirements file is empty"
    if mode == "packages" and not [p for p in spec.packages if p.strip()]:
        errors["packages"] = "list at least one package"
    if spec.venv.strip() and mode != "none":
        errors["packages_mode"] = "a pre-installed venv is used as it is; choose no packages"


def _validate_code(spec: ExecutionSpec, errors: dict[str, str], version_field: str) -> None:
    """The version exists and so does the script at that version."""
    repository = spec.repository.strip()
    if not is_url(repository) and not local_folder(repository).is_dir():
        errors["repository"] = f"no folder {local_folder(repository)}"
        return
    try:
        version = version_of(spec)
    except RepoError as exc:
        field_name = version_field if (spec.branch or spec.tag or spec.commit) and not str(exc).startswith(
            ("cannot read", "git ", "no folder")) else "repository"
        errors[field_name] = str(exc)
        return
    # A local folder with no version is read as it is now, uncommitted changes included.
    if not is_url(repository) and not (spec.branch or spec.tag or spec.commit):
        version = ""
    try:
        if spec.script.strip():
            if not script_exists(repository, version, spec.script.strip(), spec.working_dir or "."):
                errors["script"] = f"no file {spec.script.strip()} in {_where(spec, version)}"
        elif spec.module.strip() and _MODULE_NAME.match(spec.module.strip()):
            candidates = module_path_candidates(spec.module.strip())
            if not any(script_exists(repository, version, c, spec.working_dir or ".") for c in candidates):
                errors["module"] = f"no {' or '.join(candidates)} in {_where(spec, version)}"
    except RepoError as exc:
        errors["script" if spec.script.strip() else "module"] = str(exc)


def _where(spec: ExecutionSpec, version: str) -> str:
    wd = (spec.working_dir or ".").strip()
    place = f"{wd}/ of the repository" if wd not in ("", ".") else "the repository"
    ref = spec.tag or spec.branch or (version[:12] if version else "")
    return f"{place} at {ref}" if ref else place


# ---- argparse detection ----------------------------------------------------------------------

def detect_arguments(script: str | Path) -> list[DetectedArgument]:
    """The arguments a script declares with ``add_argument``, read from its source with ``ast``.

    ``script`` is a path to a file or the source text itself. The script is
    never run: a default that is not a literal is shown as written. Returns []
    for a script that does not parse.
    """
    source = _source_of(script)
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found: dict[str, DetectedArgument] = {}
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add_argument"):
            continue
        arg = _argument_of(node)
        if arg is not None and arg.name not in found:
            found[arg.name] = arg
    return list(found.values())


def _source_of(script: str | Path) -> str:
    if isinstance(script, Path):
        return script.read_text(encoding="utf-8", errors="replace")
    if "\n" not in script and len(script) < 4096:
        try:
            path = Path(script)
            if path.is_file():
                return path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            pass
    return script


def _literal(node: ast.AST | None) -> Any:
    if node is None:
        return None
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return _Unparsed(ast.unparse(node))


class _Unparsed(str):
    """A keyword value that is not a literal (``default=os.cpu_count()``): kept as source text."""


def _argument_of(call: ast.Call) -> DetectedArgument | None:
    flags = [a.value for a in call.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
    if not flags:
        return None
    keywords = {k.arg: k.value for k in call.keywords if k.arg}
    dest = _literal(keywords.get("dest"))
    if isinstance(dest, str) and not isinstance(dest, _Unparsed):
        name = dest
    else:
        longs = [f for f in flags if f.startswith("--")]
        shorts = [f for f in flags if f.startswith("-") and not f.startswith("--")]
        chosen = longs[0] if longs else (shorts[0] if shorts else flags[0])
        name = chosen.lstrip("-").replace("-", "_")
    if not name or name in ("h", "help"):
        return None
    action = _literal(keywords.get("action"))
    default = _literal(keywords.get("default")) if "default" in keywords else None
    kind = ""
    if action in ("store_true", "store_false"):
        kind = "bool"
        if "default" not in keywords:
            default = action == "store_false"
    elif "type" in keywords:
        type_node = keywords["type"]
        kind = type_node.id if isinstance(type_node, ast.Name) else ast.unparse(type_node)
    elif default is not None and not isinstance(default, _Unparsed):
        kind = type(default).__name__
    elif action in ("count",):
        kind = "int"
    if _literal(keywords.get("nargs")) in ("*", "+") or action in ("append", "extend"):
        kind = f"list/{kind}" if kind and not kind.startswith("list") else (kind or "list")
    help_text = _literal(keywords.get("help"))
    help_text = "" if help_text is None else str(help_text)
    return DetectedArgument(ARGS_SECTION, name, "" if default is None else _text(default), kind, help_text)


def _text(value: Any) -> str:
    if isinstance(value, _Unparsed):
        return str(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_text(v) if not isinstance(v, str) else repr(v) for v in value) + "]"
    return str(value)


def detect_arguments_at(repository: str, version: str, path: str, working_dir: str = ".") -> list[DetectedArgument]:
    """:func:`detect_arguments` for a script in a repository at a version (the wizard's "Detect")."""
    return detect_arguments(script_source(repository, version, path, working_dir))


# ---- creation --------------------------------------------------------------------------------

def execution_fields(spec: ExecutionSpec) -> dict[str, Any]:
    """The Execution row a spec becomes (reads a local git folder's branch, commit and diff)."""
    repository = spec.repository.strip()
    branch, tag, commit, diff = spec.branch.strip(), spec.tag.strip(), spec.commit.strip(), spec.diff
    if not is_url(repository):
        folder = local_folder(repository)
        repository = str(folder)
        if is_git_folder(folder):
            if commit:
                commit = resolve_version(repository, commit=commit)  # a short hash is stored in full
            elif not (branch or tag):
                # The folder as it is now: its commit, plus its uncommitted changes.
                commit = resolve_version(repository)
                branch = current_branch(folder)
                if not diff and spec.capture_local_changes:
                    diff = uncommitted_diff(folder)
    if spec.venv.strip():
        binary, environment = str(Path(spec.venv.strip()).expanduser()), "venv"
    else:
        binary = spec.python.strip()
        environment = "none" if spec.packages_mode == "none" else "pip"
    if spec.packages_mode == "requirements":
        requirements: str | None = spec.requirements if spec.requirements.endswith("\n") else spec.requirements + "\n"
    elif spec.packages_mode == "packages":
        requirements = "".join(p.strip() + "\n" for p in spec.packages if p.strip())
    elif spec.packages_mode == "repository":
        requirements = None
    else:
        requirements = ""
    container_args = spec.container_args.strip()
    if spec.add_task_init_call and FORCE_TASK_INIT_ARG not in container_args:
        container_args = (container_args + " " + FORCE_TASK_INIT_ARG).strip()
    return {
        "repository": repository, "branch": branch, "tag": tag, "commit": commit,
        "entry_point": spec.module.strip() or spec.script.strip().replace("\\", "/"),
        "entry_kind": "module" if spec.module.strip() else "script",
        "working_dir": (spec.working_dir or ".").strip().replace("\\", "/") or ".",
        "binary": binary, "diff": diff or "", "requirements": requirements, "environment": environment,
        "container_image": spec.container_image.strip(), "container_args": container_args,
        "container_setup": spec.container_setup, "output_uri": spec.output_uri.strip(),
    }


def create_from_spec(spec: ExecutionSpec, *, validate: bool = True, check_repository: bool = True,
                     user: str | None = None) -> str:
    """Create the Draft (and enqueue it when ``spec.queue`` is set) in one transaction; returns its id.

    Raises SpecError (``.errors`` per field) when the spec is not valid, before
    anything is written.
    """
    from exptable_desktop.core import actions, recording
    from exptable_desktop.core.editing import require, set_hyperparams
    from exptable_desktop.store.db import run_write

    if validate:
        errors = validate_spec(spec, check_repository=check_repository)
        if errors:
            raise SpecError(errors)
    try:
        execution = execution_fields(spec)
    except RepoError as exc:
        raise SpecError({"repository": str(exc)}) from None
    sections: dict[str, dict[str, Any]] = {}
    for arg in spec.arguments:
        sections.setdefault((arg.section or ARGS_SECTION).strip(), {})[arg.name.strip()] = {
            "value": arg.value, "type": arg.type, "description": arg.description}

    def work() -> str:
        exp_id = recording.create_experiment(
            spec.project.strip(), spec.name.strip(), task_type=spec.task_type, status=st.DRAFT, user=user,
            tags=[t for t in spec.tags if t.strip()], description=spec.description, execution=execution)
        for section, values in sections.items():
            require(set_hyperparams([exp_id], section, values, keep_meta=False))
        if spec.queue.strip():
            result = actions.enqueue([exp_id], spec.queue.strip())
            if result.skipped:
                raise actions.ActionError(next(iter(result.skipped.values())))
        return exp_id
    return run_write(work)


def parse_argument(text: str) -> Argument:
    """``name=value`` or ``Section/name=value`` (the CLI's ``--args``)."""
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise SpecError({"arguments": f"{text!r} is not name=value"})
    section, slash, name = key.strip().rpartition("/")
    return Argument(name=name.strip(), value=value, section=section.strip() if slash else ARGS_SECTION)
