"""Custom experiment actions: commands and HTTP requests a person adds to the experiment menu.

Each action has a name, the statuses and types it applies to (none listed: all), and either

- a command: an argument list run without a shell (``subprocess`` with a list). A placeholder is
  replaced inside its argument (``--run={id}`` stays one argument) and ``{ids}`` standing alone
  becomes one argument per experiment; or
- an HTTP request: method, URL (placeholders percent-encoded) and an optional JSON body template
  where each placeholder becomes its value JSON-encoded (``{"run": {id}}`` → ``{"run": "3fa…"}``,
  ``{ids}`` a JSON list), so experiment text cannot break out of its string.

Placeholders: ``{id}``, ``{ids}``, ``{name}``, ``{project}``, ``{db}`` (the database URL, password
hidden); any other brace is literal (a JSON body is mostly braces), and ``{word}`` with an unknown
word is refused as a typo. An action naming ``{id}``, ``{name}`` or ``{project}`` runs once per
experiment; otherwise once for all of them. Experiment text is never seen by a shell: a command
whose shell or Python script (``sh -c``, ``python -c``) holds a placeholder is refused.

Actions are kept per person in ``custom_actions.json`` in the user's config folder
(platformdirs), written atomically.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Mapping, Sequence
from urllib.parse import quote, urlsplit

import platformdirs

from exptable_desktop.core import states as st

FILE_NAME = "custom_actions.json"
FILE_VERSION = 1
PLACEHOLDERS = ("id", "ids", "name", "project", "db")
PER_EXPERIMENT = frozenset({"id", "name", "project"})
KINDS = ("command", "http")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_TIMEOUT = 60.0
MAX_OUTPUT = 200_000  # characters of output kept per run
_PLACEHOLDER = re.compile(r"\{(\w+)\}")


class CustomActionError(ValueError):
    """An action that is not well defined, or that cannot be stored; one line for a person."""


@dataclass
class CustomAction:
    """A user-defined row-menu entry: a command or web request with {placeholders} filled per experiment."""
    name: str
    kind: str = "command"
    command: list[str] = field(default_factory=list)
    method: str = "POST"
    url: str = ""
    body: str = ""
    statuses: list[str] = field(default_factory=list)  # API values (core.states); empty: every status
    types: list[str] = field(default_factory=list)  # task types; empty: every type
    timeout: float = DEFAULT_TIMEOUT

    def templates(self) -> list[str]:
        return list(self.command) if self.kind == "command" else [self.url, self.body]

    @property
    def per_experiment(self) -> bool:
        return any(name in PER_EXPERIMENT for text in self.templates() for name in placeholders_in(text))

    def applies_to(self, status: str, task_type: str) -> bool:
        status = st.normalize_status(status)
        return (not self.statuses or status in self.statuses) and (not self.types or task_type in self.types)

    def to_dict(self) -> dict:
        return asdict(self)


def placeholders_in(text: str) -> list[str]:
    return [m.group(1) for m in _PLACEHOLDER.finditer(text)]


def _check_template(text: str, where: str) -> None:
    for match in _PLACEHOLDER.finditer(text):
        if match.group(1) not in PLACEHOLDERS:
            raise CustomActionError(f"{where}: unknown placeholder {{{match.group(1)}}}; "
                                    f"use {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")


def validate(action: CustomAction) -> CustomAction:
    """``action`` with its parts cleaned; CustomActionError for the first thing wrong."""
    action.name = " ".join(str(action.name or "").split())
    if not action.name:
        raise CustomActionError("a custom action needs a name")
    if action.kind not in KINDS:
        raise CustomActionError(f"kind must be 'command' or 'http', not {action.kind!r}")
    unknown = [s for s in action.statuses if s not in st.ALL_STATUSES]
    if unknown:
        raise CustomActionError(f"unknown status {unknown[0]!r}")
    unknown = [t for t in action.types if t not in st.TASK_TYPES]
    if unknown:
        raise CustomActionError(f"unknown type {unknown[0]!r}")
    try:
        action.timeout = float(action.timeout)
    except (TypeError, ValueError):
        raise CustomActionError("the timeout must be a number of seconds") from None
    if not 0 < action.timeout <= 24 * 3600:
        raise CustomActionError("the timeout must be between 0 and 86400 seconds")
    if action.kind == "command":
        action.command = [str(a) for a in action.command]
        if not action.command or not action.command[0].strip():
            raise CustomActionError(f'"{action.name}": the command is empty')
        for index, argument in enumerate(action.command):
            _check_template(argument, f'"{action.name}", argument {index + 1}')
        if placeholders_in(action.command[0]):
            raise CustomActionError(f'"{action.name}": the program itself cannot be a placeholder')
        _refuse_placeholders_in_shell_scripts(action)
    else:
        action.method = str(action.method or "POST").upper()
        if action.method not in METHODS:
            raise CustomActionError(f"method must be one of {', '.join(METHODS)}")
        _check_template(action.url, f'"{action.name}", URL')
        scheme = urlsplit(action.url.strip()).scheme.lower()
        if scheme not in ("http", "https"):
            raise CustomActionError(f'"{action.name}": the URL must start with http:// or https://')
        if action.body.strip():
            _check_template(action.body, f'"{action.name}", body')
            sample = {"id": "x", "ids": ["x"], "name": "x", "project": "x", "db": "x"}
            try:
                json.loads(_expand_json(action.body, sample))
            except ValueError as exc:
                raise CustomActionError(f'"{action.name}": the body is not JSON once filled in ({exc})') from None
    return action


SHELLS = frozenset({"sh", "bash", "dash", "zsh", "ksh", "fish", "csh", "tcsh", "cmd", "cmd.exe", "powershell",
                    "powershell.exe", "pwsh", "pwsh.exe"})
SCRIPT_FLAGS = frozenset({"-c", "/c", "/k", "-command", "-Command", "-e"})


def _refuse_placeholders_in_shell_scripts(action: CustomAction) -> None:
    """``sh -c "echo {name}"`` would hand experiment text to a shell as code: refused. The script may
    read it as an argument instead: ``sh -c 'echo "$1"' sh {name}``."""
    program = Path(action.command[0]).name.lower()
    if program not in SHELLS and not program.startswith("python"):
        return
    for index, argument in enumerate(action.command[1:-1], start=1):
        script = action.command[index + 1]
        if argument in SCRIPT_FLAGS and placeholders_in(script):
            raise CustomActionError(
                f'"{action.name}": a placeholder inside the {program} script of argument {index + 2} would run '
                f"experiment text as code; pass it as an argument after the script instead (sh -c 'echo \"$1\"' "
                "sh {name})")


# ---- Storage -------------------------------------------------------------------------------------------

def config_path() -> Path:
    return Path(platformdirs.user_config_dir("ExpTable", appauthor=False)) / FILE_NAME


def action_from_dict(data: Mapping) -> CustomAction:
    if not isinstance(data, Mapping):
        raise CustomActionError("an action must be a JSON object")
    known = {k: data[k] for k in CustomAction.__dataclass_fields__ if k in data}
    try:
        action = CustomAction(**known)
    except TypeError as exc:
        raise CustomActionError(str(exc)) from None
    action.command = list(action.command or [])
    action.statuses = list(action.statuses or [])
    action.types = list(action.types or [])
    return validate(action)


def load_actions(path: Path | None = None) -> list[CustomAction]:
    """The person's actions; CustomActionError (naming the file) when it cannot be read."""
    path = path or config_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise CustomActionError(f"cannot read {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise CustomActionError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("actions"), list):
        raise CustomActionError(f"{path} is not a custom actions file")
    try:
        return [action_from_dict(item) for item in data["actions"]]
    except CustomActionError as exc:
        raise CustomActionError(f"{path}: {exc}") from None


def save_actions(actions: Sequence[CustomAction], path: Path | None = None) -> Path:
    path = path or config_path()
    cleaned = [validate(a) for a in actions]
    names = [a.name.lower() for a in cleaned]
    duplicate = next((a.name for a in cleaned if names.count(a.name.lower()) > 1), None)
    if duplicate:
        raise CustomActionError(f'two actions are named "{duplicate}"')
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps({"version": FILE_VERSION, "actions": [a.to_dict() for a in cleaned]},
                                    indent=2), encoding="utf-8")
    os.replace(temporary, path)
    return path


# ---- Filling in placeholders ---------------------------------------------------------------------------

def _fill(text: str, values: Mapping[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def _values(rows: Sequence[Mapping], db: str) -> dict[str, str]:
    one = rows[0]
    return {"id": one["id"], "ids": ",".join(r["id"] for r in rows), "name": one.get("name", ""),
            "project": one.get("project", "") or "", "db": db}


def expand_command(command: Sequence[str], rows: Sequence[Mapping], db: str) -> list[str]:
    """The argument list for ``rows`` (one experiment, or several for an action without per-experiment
    placeholders): each argument stays one argument, except a bare ``{ids}``, which becomes one per id."""
    values = _values(rows, db)
    argv: list[str] = []
    for argument in command:
        if argument == "{ids}":
            argv.extend(r["id"] for r in rows)
        else:
            argv.append(_fill(argument, values))
    return argv


def _expand_json(body: str, values: Mapping) -> str:
    return _PLACEHOLDER.sub(lambda match: json.dumps(values[match.group(1)]), body)


def expand_request(action: CustomAction, rows: Sequence[Mapping], db: str) -> tuple[str, bytes | None]:
    """(URL with percent-encoded values, JSON body bytes or None)."""
    values = _values(rows, db)
    url = _fill(action.url.strip(), {k: quote(v, safe="") for k, v in values.items()})
    if not action.body.strip():
        return url, None
    json_values = dict(values, ids=[r["id"] for r in rows])
    return url, _expand_json(action.body, json_values).encode("utf-8")


# ---- Running ------------------------------------------------------------------------------------------------

@dataclass
class RunResult:
    """One run of an action (for one experiment, or for all of them)."""
    label: str  # the command line or "METHOD URL", for the output panel
    ok: bool
    status: str  # "exit status 0", "HTTP 201", "timed out after 60 s", "not found: tool"
    output: str = ""
    seconds: float = 0.0


@dataclass
class ActionReport:
    """What running a custom action did: one result per run, and how many experiments it skipped."""
    action: str
    results: list[RunResult]
    skipped: int = 0  # experiments the action does not apply to

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)

    def summary(self) -> str:
        """One line: what happened, or the first failure."""
        failed = [r for r in self.results if not r.ok]
        runs = len(self.results)
        skipped = f"; {self.skipped} skipped (it does not apply to them)" if self.skipped else ""
        if not runs:
            return f'"{self.action}" applies to none of them'
        if failed:
            first = failed[0]
            more = f" ({len(failed)} of {runs} runs failed)" if runs > 1 else ""
            return f'"{self.action}" failed: {first.status}{more}{skipped}'
        return f'"{self.action}" done' + (f" ({runs} runs)" if runs > 1 else "") + skipped


def _clip(text: str) -> str:
    return text if len(text) <= MAX_OUTPUT else text[:MAX_OUTPUT] + f"\n… ({len(text) - MAX_OUTPUT} more characters)"


def run_command(argv: Sequence[str], timeout: float) -> RunResult:
    import shlex

    label = shlex.join(argv)
    started = time.monotonic()
    try:
        done = subprocess.run(list(argv), shell=False, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=timeout, check=False)
    except FileNotFoundError:
        return RunResult(label, False, f"command not found: {argv[0]}")
    except PermissionError:
        return RunResult(label, False, f"not allowed to run {argv[0]}")
    except subprocess.TimeoutExpired as exc:
        output = (exc.stdout or b"").decode("utf-8", "replace")
        return RunResult(label, False, f"timed out after {timeout:g} s", _clip(output), time.monotonic() - started)
    except OSError as exc:
        return RunResult(label, False, f"cannot run {argv[0]}: {exc.strerror or exc}")
    output = done.stdout.decode("utf-8", "replace")
    return RunResult(label, done.returncode == 0, f"exit status {done.returncode}", _clip(output),
                     time.monotonic() - started)


def run_request(method: str, url: str, body: bytes | None, timeout: float) -> RunResult:
    label = f"{method} {url}"
    started = time.monotonic()
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("User-Agent", "ExpTable custom action")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (http/https checked)
            text = response.read(MAX_OUTPUT + 1).decode("utf-8", "replace")
            return RunResult(label, True, f"HTTP {response.status}", _clip(text), time.monotonic() - started)
    except urllib.error.HTTPError as exc:
        text = exc.read(MAX_OUTPUT + 1).decode("utf-8", "replace") if exc.fp else ""
        return RunResult(label, False, f"HTTP {exc.code} {exc.reason}", _clip(text), time.monotonic() - started)
    except urllib.error.URLError as exc:
        return RunResult(label, False, f"cannot reach {urlsplit(url).netloc}: {exc.reason}")
    except (TimeoutError, OSError) as exc:
        return RunResult(label, False, f"request failed: {exc}")


def run_action(action: CustomAction, rows: Sequence[Mapping], db: str) -> ActionReport:
    """Run ``action`` for the experiments ``rows`` (dicts with id, name, project, status, type) it
    applies to: once per experiment, or once for all (see the module docstring)."""
    targets = [r for r in rows if action.applies_to(r.get("status", ""), r.get("type") or "training")]
    report = ActionReport(action.name, [], len(rows) - len(targets))
    if not targets:
        return report
    groups = [[r] for r in targets] if action.per_experiment else [list(targets)]
    for group in groups:
        if action.kind == "command":
            report.results.append(run_command(expand_command(action.command, group, db), action.timeout))
        else:
            url, body = expand_request(action, group, db)
            report.results.append(run_request(action.method, url, body, action.timeout))
    return report


def eligible_count(action: CustomAction, rows: Sequence[Mapping]) -> int:
    return sum(1 for r in rows if action.applies_to(r.get("status", ""), r.get("type") or "training"))
