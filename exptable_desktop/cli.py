"""The ``exptable`` command line.

Nothing here imports Qt: ``exptable gui`` loads the UI only when it runs, so
``ls``, ``show``, ``demo`` and the actions work on a machine without a display
(or without its graphics libraries).

Exit codes: 0 done; 2 the command line is wrong whatever the database holds (argparse's own
errors, and values a command rejects before it opens the database: ``--limit 0``, an unknown
``--status``, a malformed link, ``tag`` with neither ``--add`` nor ``--remove``), one line
"exptable <command>: error: ..." on stderr; 1 the work failed: the database (unreachable, newer,
read-only), something it should hold is not there (an id, a project, a file, a repository's branch)
or an action skipped some experiments, one line "exptable: error: ..." (skips: one line per
reason); 130 interrupted.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from typing import Any, Sequence

from exptable_desktop import __version__

PROG = "exptable"
GUI_DEMO_EXPERIMENTS = 300
DEFAULT_QUEUE = "default"


class CliError(Exception):
    """Bad input a person can fix; shown as one line."""


class UsageError(CliError):
    """A command line that is wrong whatever the database holds: exit 2, worded like argparse's errors."""


def _usage_error_line(prog: str, message: str) -> str:
    return f"{prog}: error: {message} (see {prog} --help)"


class _Parser(argparse.ArgumentParser):
    """Errors in one line, not the usage block. Each parser leaves its name on the namespace (the
    innermost sub-command's wins), so a UsageError a command raises after parsing names the
    command as argparse's own errors do."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.set_defaults(command_prog=self.prog)

    def error(self, message: str):
        self.exit(2, _usage_error_line(self.prog, message) + "\n")


# ---- Argument types: values argparse rejects with exit 2 ----------------------------------------

def whole_number(minimum: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid int value: {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, not {value}")
        return value
    return parse


def seconds(*, zero_allowed: bool):
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"invalid number of seconds: {text!r}") from None
        if not math.isfinite(value) or value < 0 or (value == 0 and not zero_allowed):
            raise argparse.ArgumentTypeError(
                f"must be {'zero or more' if zero_allowed else 'more than zero'} seconds, not {text}")
        return value
    return parse


def non_blank(text: str) -> str:
    if not text.strip():
        raise argparse.ArgumentTypeError("cannot be empty")
    return text


def project_path(text: str) -> str:
    if not any(part.strip() for part in text.split("/")):
        raise argparse.ArgumentTypeError(f"{text!r} names no project; give a path like Vision/Detection")
    return text


def experiment_name(text: str) -> str:
    if len(text.strip()) < 2:  # the rule of core.actions.rename, checked before the database opens
        raise argparse.ArgumentTypeError("a name needs at least 2 characters")
    return text


def status_name(text: str) -> str:
    from exptable_desktop.core import states as st

    if not any(text.lower() in (s, label.lower()) for s, label in st.STATUS_LABELS.items()):
        raise argparse.ArgumentTypeError(
            f"unknown status {text!r}; expected one of "
            + ", ".join(st.STATUS_LABELS[s] for s in st.FILTER_STATUSES))
    return text


_LIBPQ_KEYWORD = re.compile(r"(?:^|\s)(?:host|hostaddr|port|dbname|user|password|sslmode)\s*=")


def database_url(text: str) -> str:
    """``--db``: a URL, or a path to an SQLite file as people type it (``./runs.db``, ``~/exp.db``).
    A relative path is made absolute now, in the folder it was typed in: the URL goes on to agents'
    children, the window's title and the desktop launcher, which run elsewhere."""
    from exptable_desktop.store.db import url_for_display

    if not text.strip():
        raise argparse.ArgumentTypeError("give a database URL or an SQLite file path")
    if "://" not in text:
        if _LIBPQ_KEYWORD.search(text):  # not a file name: it would be created, password and all
            raise argparse.ArgumentTypeError("a libpq connection string is not supported; "
                                             "give postgresql://user:pass@host:port/db")
        return "sqlite:///" + os.path.abspath(os.path.expanduser(text))
    if not text.startswith(("sqlite:///", "postgresql://", "postgres://")):
        raise argparse.ArgumentTypeError(f"unsupported database URL {url_for_display(text)}; use an SQLite "
                                         "file path, sqlite:///path or postgresql://user:pass@host:port/db")
    return text


# ---- Helpers -----------------------------------------------------------------------------

def _open(args, *, create: bool) -> str:
    """Open the database the command names. Only ``demo`` and ``gui`` may create a new
    database at an explicit path (nor fill an empty file or server database): a typo
    elsewhere should not leave empty databases around."""
    from exptable_desktop.store.db import default_db_url, open_database, resolve_db_url, sqlite_path

    url = resolve_db_url(args.db)
    path = sqlite_path(url)
    create = create or url == default_db_url()
    if not create and path is not None and not path.exists():
        raise CliError(f"no database at {path}; create one with `{PROG} demo --db {_display(url)}` "
                       "or give another --db")
    open_database(url, create=create)
    return url


def _display(url: str) -> str:
    from exptable_desktop.store.db import url_for_display
    return url_for_display(url)


def _when(epoch: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch)) if epoch else "-"


def _duration(seconds: float | None) -> str:
    from exptable_desktop.core.formatting import compact_duration  # the table's format

    return compact_duration(seconds) or "-"


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _read_ids(raw: Sequence[str]) -> list[str]:
    """Ids from the command line; ``-`` reads more from stdin (``exptable ls --json | jq ...``)."""
    ids: list[str] = []
    for item in raw:
        if item == "-":
            ids.extend(sys.stdin.read().split())
        else:
            ids.extend(part for part in item.replace(",", " ").split() if part)
    if not ids:
        raise UsageError("no experiment ids given")
    return ids


def _resolve_ids(ids: Sequence[str]) -> list[str]:
    """Full ids for unique prefixes of at least 6 characters (what ``ls`` users copy)."""
    from exptable_desktop.store.schema import Experiment

    out = []
    for exp_id in ids:
        if 6 <= len(exp_id) < 32 and not Experiment.select().where(Experiment.id == exp_id).exists():
            matches = [row.id for row in Experiment.select(Experiment.id)
                       .where(Experiment.id.startswith(exp_id)).limit(2)]
            if len(matches) > 1:
                raise CliError(f"id prefix {exp_id} matches several experiments; give more characters")
            if len(matches) == 1:
                exp_id = matches[0]
        out.append(exp_id)
    return out


def _report(result) -> int:
    print(result.summary())
    for original, new in result.created.items():
        print(f"created {new} (clone of {original})")
    for reason, ids in result.reasons().items():
        shown = ", ".join(ids[:5]) + (f" and {len(ids) - 5} more" if len(ids) > 5 else "")
        print(f"{PROG}: skipped {len(ids)}: {reason}: {shown}", file=sys.stderr)
    return 1 if result.skipped else 0


def _table(rows: list[list[str]], headers: list[str], max_widths: dict[int, int]) -> str:
    cells = [headers] + rows
    widths = []
    for col in range(len(headers)):
        width = max(len(r[col]) for r in cells)
        widths.append(min(width, max_widths.get(col, width)))

    def fit(text: str, width: int) -> str:
        return text if len(text) <= width else text[:max(width - 1, 0)] + "…"
    lines = ["  ".join(fit(r[c], widths[c]).ljust(widths[c]) for c in range(len(headers))).rstrip() for r in cells]
    return "\n".join(lines)


# ---- Commands ------------------------------------------------------------------------------

def _check_display() -> None:
    """Qt aborts the process (no message a person can act on) when it finds no display."""
    if (sys.platform.startswith("linux") and not os.environ.get("QT_QPA_PLATFORM")
            and not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY")):
        raise CliError("no display to open a window on (DISPLAY and WAYLAND_DISPLAY are unset); "
                       "the other commands work without one, see `exptable --help`")


def cmd_gui(args) -> int:
    from exptable_desktop.store.db import ENV_DB, close_database, is_read_only, resolve_db_url

    _check_display()
    url = resolve_db_url(args.db)
    uses_default = not args.db and not os.environ.get(ENV_DB)
    _open(args, create=True)
    if uses_default:
        from exptable_desktop.io.demo import database_is_empty, make_demo
        if database_is_empty() and not is_read_only():
            print(f"{PROG}: {_display(url)} is new; adding {GUI_DEMO_EXPERIMENTS} demo experiments to explore "
                  f"(Remove sample data in the project list's menu takes them away again; or use --db for "
                  f"another database)", file=sys.stderr)
            from exptable_desktop.core.projects import mark_sample_data
            from exptable_desktop.store.db import write_transaction
            with write_transaction():  # the demo and the note of what it added ("Remove sample data")
                make_demo(GUI_DEMO_EXPERIMENTS, seed=1)
                mark_sample_data()
    close_database()
    try:
        from exptable_desktop.ui.app import run_gui
    except ImportError as exc:
        raise CliError(f"the desktop window cannot start: {exc}") from exc
    return int(run_gui(url) or 0)


def cmd_demo(args) -> int:
    from exptable_desktop.io.demo import make_demo

    url = _open(args, create=True)
    show_progress = sys.stderr.isatty() and args.experiments >= 20_000

    def progress(done: int, total: int) -> None:
        if show_progress:
            print(f"\r{PROG}: {done:,} of {total:,} experiments", end="", file=sys.stderr, flush=True)
    stats = make_demo(args.experiments, args.seed, detailed=args.detailed, on_progress=progress)
    if show_progress:
        print(file=sys.stderr)
    print(f"added {stats.experiments:,} demo experiments to {_display(url)} in {stats.seconds:.1f} s "
          f"({stats.metric_summaries:,} metric summaries, {stats.scalar_points:,} scalar points, "
          f"{stats.detailed} with full outputs)")
    return 0


def cmd_ls(args) -> int:
    from exptable_desktop.core.liveness import mark_stale_runs
    from exptable_desktop.core.queries import list_experiments

    _open(args, create=False)
    mark_stale_runs()
    rows = list_experiments(project=args.project, status=args.status, archived=args.archived, limit=args.limit)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    if not rows:
        print(f"{PROG}: no experiments", file=sys.stderr)
        return 0
    table = [[r["id"], r["status_label"], r["type"], r["user"], _when(r["last_update"])[:16], r["project"], r["name"],
              ",".join(r["tags"])] for r in rows]
    print(_table(table, ["ID", "STATUS", "TYPE", "USER", "UPDATED", "PROJECT", "NAME", "TAGS"],
                 {5: 40, 6: 60, 7: 40}))
    return 0


def cmd_show(args) -> int:
    from exptable_desktop.core import states as st
    from exptable_desktop.core.liveness import mark_stale_runs
    from exptable_desktop.core.queries import experiment_detail

    _open(args, create=False)
    mark_stale_runs()
    detail = experiment_detail(_resolve_ids([args.id])[0])
    if args.json:
        json.dump(detail, sys.stdout, indent=2)
        sys.stdout.write("\n")
        return 0
    print(_format_detail(detail, st))
    return 0


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line for line in text.rstrip("\n").splitlines())


def _format_detail(d: dict, st) -> str:
    out: list[str] = []
    add = out.append
    add(f"{d['name']}")
    add(f"  id:             {d['id']}")
    status = d["status_label"] + (f" ({d['progress']}%)" if d.get("progress") is not None else "")
    add(f"  status:         {status}{'  [archived]' if d['archived'] else ''}")
    add(f"  type:           {st.type_label(d['type'])}")
    add(f"  project:        {d['project']}")
    add(f"  user:           {d['user']}")
    add(f"  tags:           {', '.join(d['tags']) or '-'}")
    add(f"  parent:         {d['parent'] or '-'}")
    add(f"  queue:          {d.get('queue') or '-'}")
    add(f"  worker:         {d['worker'] or '-'}")
    add(f"  created:        {_when(d['created'])}")
    add(f"  started:        {_when(d['started'])}")
    add(f"  last update:    {_when(d['last_update'])}")
    add(f"  completed:      {_when(d['completed'])}")
    add(f"  run time:       {_duration(d['run_time'])}")
    add(f"  last iteration: {_number(d['last_iteration'])}")
    if d["status_message"] or d["status_reason"]:
        add(f"  status message: {d['status_message'] or '-'}  (reason: {d['status_reason'] or '-'})")
    if d["description"]:
        add("  description:")
        add(_indent(d["description"]))

    ex = d.get("execution") or {}
    add("")
    add("EXECUTION")
    if ex:
        version = ex.get("commit") or ex.get("tag") or ex.get("branch") or "-"
        add(f"  repository:     {ex.get('repository') or '-'}")
        add(f"  branch:         {ex.get('branch') or '-'}")
        add(f"  version:        {version}")
        add(f"  entry point:    {ex.get('entry_point') or '-'} ({ex.get('entry_kind')})")
        add(f"  working dir:    {ex.get('working_dir') or '-'}")
        add(f"  binary:         {ex.get('binary') or '-'}")
        add(f"  container:      {ex.get('container_image') or '-'} {ex.get('container_args') or ''}".rstrip())
        add(f"  output:         {ex.get('output_uri') or '-'}")
        if ex.get("diff"):
            add("  uncommitted changes:")
            add(_indent(ex["diff"]))
        if ex.get("requirements") is None:
            add("  packages:       from the repository's requirements.txt")
        elif ex.get("requirements"):
            add(f"  packages ({ex.get('environment')}):")
            add(_indent(ex["requirements"]))
        else:
            add("  packages:       none")
    else:
        add("  -")

    add("")
    add("HYPERPARAMETERS")
    if not d["hyperparameters"]:
        add("  -")
    for section, params in d["hyperparameters"].items():
        add(f"  {'User properties' if section == 'properties' else section}")
        for name, p in params.items():
            kind = f"  ({p['type']})" if p.get("type") else ""
            add(f"    {name} = {p['value']}{kind}")

    add("")
    add("CONFIGURATION")
    if not d["configuration"]:
        add("  -")
    for name, c in d["configuration"].items():
        add(f"  {name}" + (f" ({c['type']})" if c.get("type") else ""))
        if c.get("value"):
            add(_indent(c["value"]))

    add("")
    add("METRICS")
    if d["metrics"]:
        rows = [[f"{m['metric']}/{m['variant']}", _number(m["last"]), _number(m["min"]), _number(m["max"]),
                 _number(m["mean"]), _number(m["count"]), _number(m["last_iteration"])] for m in d["metrics"]]
        add(_indent(_table(rows, ["METRIC/VARIANT", "LAST", "MIN", "MAX", "MEAN", "POINTS", "LAST ITER"], {}), "  "))
    else:
        add("  -")
    if d.get("single_values"):
        add("  single values: " + ", ".join(f"{k}={_number(v)}" for k, v in sorted(d["single_values"].items())))

    add("")
    add("ARTIFACTS")
    if not d["artifacts"]:
        add("  -")
    for a in d["artifacts"]:
        size = f"  {a['size']:,} bytes" if a.get("size") is not None else ""
        add(f"  [{a['kind']}, {a['mode']}] {a['name']}: {a['uri'] or '-'}{size}")

    if d.get("runtime"):
        add("")
        add("RUNTIME")
        for key, value in sorted(d["runtime"].items()):
            if key.startswith("_"):
                continue
            if key == "started" and isinstance(value, (int, float)):
                value = _when(value)
            add(f"  {key}: {value if not isinstance(value, (dict, list)) else json.dumps(value)}")
    return "\n".join(out)


def _action(name: str):
    def run(args) -> int:
        from exptable_desktop.core import actions, queues

        ids = _read_ids(args.ids)
        _open(args, create=False)
        ids = _resolve_ids(ids)
        if name in ("enqueue", "retry"):
            result = getattr(actions, name)(ids, args.queue)
            if result.succeeded and not queues.live_workers_for_queue(args.queue):
                print(f"{PROG}: no live worker listens to queue {args.queue!r}; the experiments wait until one does",
                      file=sys.stderr)
        else:
            result = getattr(actions, name)(ids)
        return _report(result)
    return run


def cmd_clone(args) -> int:
    from exptable_desktop.core import actions

    _open(args, create=False)
    ids = _resolve_ids([args.id])
    return _report(actions.clone(ids, project=args.project, name=args.name, set_parent=args.parent))


def cmd_move(args) -> int:
    from exptable_desktop.core import actions

    ids = _read_ids(args.ids)
    _open(args, create=False)
    return _report(actions.move(_resolve_ids(ids), args.project))


def cmd_tag(args) -> int:
    from exptable_desktop.core import actions

    if not args.add and not args.remove:
        raise UsageError("give --add TAG and/or --remove TAG")
    ids = _read_ids(args.ids)
    _open(args, create=False)
    ids = _resolve_ids(ids)
    status = 0
    if args.add:
        status |= _report(actions.add_tags(ids, args.add))
    if args.remove:
        status |= _report(actions.remove_tags(ids, args.remove))
    return status


def cmd_rename(args) -> int:
    from exptable_desktop.core import actions

    _open(args, create=False)
    return _report(actions.rename(_resolve_ids([args.id]), args.name))


# ---- Parser ------------------------------------------------------------------------------------

ACTION_HELP = {
    "enqueue": "put Draft or Aborted experiments in a queue",
    "retry": "put Failed experiments back in a queue",
    "dequeue": "take Pending experiments out of their queue",
    "reset": "clear outputs and return experiments to Draft",
    "abort": "stop Pending or Running experiments",
    "abort-children": "abort the Pending and Running children of controller/optimizer experiments",
    "publish": "publish Completed, Aborted or Failed experiments (then read-only)",
    "archive": "move experiments to the archive",
    "restore": "bring archived experiments back",
    "delete": "delete archived experiments and everything they own",
}


def build_parser() -> argparse.ArgumentParser:
    db_help = "the database: an SQLite file (./runs.db, ~/experiments.db), sqlite:///path or " \
              "postgresql://user:pass@host:port/db (default: $EXPTABLE_DB, else exptable.db in the user data folder)"
    parser = _Parser(prog=PROG, description="ExpTable Desktop: a local-first experiment manager.")
    parser.add_argument("--db", metavar="URL|FILE", type=database_url, help=db_help)
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.set_defaults(func=cmd_gui)
    # --db is also accepted after the command; SUPPRESS keeps the global value when it is not.
    common = _Parser(add_help=False)
    common.add_argument("--db", metavar="URL|FILE", type=database_url, default=argparse.SUPPRESS, help=db_help)
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)

    p = sub.add_parser("gui", parents=[common], help="open the main window (the default)")
    p.set_defaults(func=cmd_gui)

    p = sub.add_parser("demo", parents=[common], help="fill a database with realistic demo experiments")
    p.add_argument("--experiments", type=whole_number(1), default=1000, metavar="N", help="how many (default 1000)")
    p.add_argument("--seed", type=int, default=1, metavar="S", help="random seed; the same seed gives the same data")
    p.add_argument("--detailed", type=whole_number(0), default=200, metavar="N",
                   help="how many get full curves, console, plots and files (default 200)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("ls", parents=[common], help="list experiments, newest update first")
    p.add_argument("--project", metavar="NAME", type=project_path,
                   help="project path like Vision/Detection (sub-projects included)")
    p.add_argument("--status", metavar="S", type=status_name,
                   help="Draft, Pending, Running, Completed, Aborted, Failed or Published")
    p.add_argument("--archived", action="store_true", help="list the archive instead")
    p.add_argument("--limit", type=whole_number(1), metavar="N", help="at most N experiments")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_ls)

    p = sub.add_parser("show", parents=[common], help="print one experiment whole")
    p.add_argument("id", help="experiment id (or a unique prefix of 6+ characters)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_show)

    for command, help_text in ACTION_HELP.items():
        p = sub.add_parser(command, parents=[common], help=help_text)
        p.add_argument("ids", nargs="+", metavar="ID", help="experiment ids; - reads them from stdin")
        if command in ("enqueue", "retry"):
            p.add_argument("--queue", default=DEFAULT_QUEUE, type=non_blank, help=f"queue name (default {DEFAULT_QUEUE!r})")
        p.set_defaults(func=_action(command.replace("-", "_")))

    p = sub.add_parser("clone", parents=[common], help="copy an experiment's configuration into a new Draft")
    p.add_argument("id", help="the experiment to clone (id or a unique prefix of 6+ characters)")
    p.add_argument("--name", type=experiment_name, help='name of the clone (default "Clone Of <name>")')
    p.add_argument("--project", type=project_path, help="project path for the clone (created if missing)")
    p.add_argument("--parent", action="store_true", help="set a parent on the clone: the original's parent, or the original itself if it has none")
    p.set_defaults(func=cmd_clone)

    p = sub.add_parser("move", parents=[common], help="move experiments to another project")
    p.add_argument("ids", nargs="+", metavar="ID", help="experiment ids; - reads them from stdin")
    p.add_argument("--project", required=True, type=project_path, help="project path (created if missing)")
    p.set_defaults(func=cmd_move)

    p = sub.add_parser("tag", parents=[common], help="add or remove tags")
    p.add_argument("ids", nargs="+", metavar="ID", help="experiment ids; - reads them from stdin")
    p.add_argument("--add", nargs="+", metavar="TAG", default=[], type=non_blank, help="tags to add")
    p.add_argument("--remove", nargs="+", metavar="TAG", default=[], type=non_blank, help="tags to remove")
    p.set_defaults(func=cmd_tag)

    p = sub.add_parser("rename", parents=[common], help="rename an experiment")
    p.add_argument("id", help="experiment id (or a unique prefix of 6+ characters)")
    p.add_argument("name", type=experiment_name, help="the new name (2 characters or more)")
    p.set_defaults(func=cmd_rename)

    from exptable_desktop.cli_run import add_run_commands  # create, agent, queues, workers
    add_run_commands(sub, common)
    from exptable_desktop.cli_links import add_link_commands  # open, install-desktop
    add_link_commands(sub, common)
    from exptable_desktop.cli_io import add_io_commands  # export, import, bundle
    add_io_commands(sub, common)
    from exptable_desktop.cli_compare import add_compare_command  # compare --html
    add_compare_command(sub, common)
    return parser


def _known_errors() -> tuple[type[BaseException], ...]:
    from peewee import DatabaseError

    from exptable_desktop.core.actions import ActionError
    from exptable_desktop.core.editing import ReadOnlyError
    from exptable_desktop.core.projects import ProjectError
    from exptable_desktop.core.queries import NotFound
    from exptable_desktop.core.recording import UnknownExperiment
    from exptable_desktop.io.demo import DemoError
    from exptable_desktop.store.db import StoreError
    return (CliError, StoreError, NotFound, ActionError, ProjectError, ReadOnlyError, UnknownExperiment,
            DemoError, DatabaseError)


def _one_line(exc: BaseException) -> str:
    text = (str(exc).strip() or type(exc).__name__).splitlines()[0]
    if isinstance(exc, LookupError) and len(text) > 2 and text[0] == text[-1] == "'":
        text = text[1:-1]  # KeyError-style quoting
    return text


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except UsageError as exc:
        print(_usage_error_line(args.command_prog, _one_line(exc)), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `exptable ls | head`: the reader left; not an error worth a message.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:
        if os.environ.get("EXPTABLE_DEBUG"):
            raise
        if isinstance(exc, _known_errors()):
            print(f"{PROG}: error: {_one_line(exc)}", file=sys.stderr)
        else:
            print(f"{PROG}: internal error: {type(exc).__name__}: {_one_line(exc)} "
                  f"(set EXPTABLE_DEBUG=1 to see the traceback)", file=sys.stderr)
        return 1
