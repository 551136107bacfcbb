"""``exptable export``, ``exptable import`` and ``exptable bundle``: data in and out.

Registered by ``cli.build_parser``; a wrong command line is ``cli.UsageError`` (exit 2), other errors
a person can fix are ``cli.CliError`` (exit 1); each is one line on stderr.
Formats are described in docs/formats.md.
"""
from __future__ import annotations

import io
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, TextIO

from exptable_desktop import cli


@contextmanager
def _output(path: str | None, *, encoding: str = "utf-8") -> Iterator[TextIO]:
    """Standard output, or ``path`` written whole or not at all (a temporary file renamed at the end)."""
    if not path or path == "-":
        out = io.TextIOWrapper(sys.stdout.buffer, encoding=encoding, newline="", write_through=False)
        try:
            yield out
            out.flush()
        finally:
            out.detach()
        return
    target = Path(path).expanduser()
    if target.is_dir():
        raise cli.CliError(f"{target} is a folder; give a file name with -o")
    partial = target.with_name(f".{target.name}.partial")
    try:
        with open(partial, "w", encoding=encoding, newline="") as out:
            yield out
        os.replace(partial, target)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise cli.CliError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def _progress(label: str):
    """A one-line progress counter on a terminal's stderr; nothing when stderr is a file or pipe."""
    if not sys.stderr.isatty():
        return None

    def show(done: int, total: int, *_rest) -> None:
        print(f"\r{cli.PROG}: {label} {done:,} of {total:,}", end="", file=sys.stderr, flush=True)
        if done >= total:
            print(file=sys.stderr)
    return show


# ---- export csv ---------------------------------------------------------------------------------

def resolve_columns(raw: list[str]) -> list[str]:
    """Column keys from ``--columns``: keys (``name``, ``metric:loss/train/last``, ``hp:Args/lr``) or
    the built-in columns' titles, comma or space separated."""
    from exptable_desktop.core import columns as C

    by_title = {c.title.lower(): c.key for c in C.BUILTIN_COLUMNS if c.title}
    keys = []
    for item in raw:
        for part in item.split(","):
            part = part.strip()
            if not part:
                continue
            key = part if C.is_valid_key(part) else by_title.get(part.lower())
            if key is None or key == "check":
                known = ", ".join(c.key for c in C.BUILTIN_COLUMNS if c.key != "check")
                raise cli.UsageError(f"unknown column {part!r}; use {known}, metric:METRIC/VARIANT/last|min|max, "
                                     "hp:SECTION/NAME or best:METRIC/VARIANT@min|max:REF_METRIC/REF_VARIANT")
            keys.append(key)
    return list(dict.fromkeys(keys))


def _scope(project: str | None, archived: bool):
    from exptable_desktop.core.projects import descendant_ids, find_project
    from exptable_desktop.core.viewstate import scope_name
    from exptable_desktop.store.bulk import Scope

    if not project:
        return Scope(None, archived), scope_name(None, True), None
    found = find_project(project)
    if found is None:
        raise cli.CliError(f"no project named {project!r}")
    return Scope(tuple(descendant_ids(found.id)), archived), scope_name(found.id, True), found


def _parse_query(text: str | None):
    """The ``--query`` text read as the search box reads it, before the database opens: its syntax
    does not depend on what the database holds."""
    from exptable_desktop.core import query as q

    if not text:
        return None
    try:
        return q.parse(text)
    except q.QueryError as exc:
        raise cli.UsageError(f"--query: {exc}") from None


def _query(text: str | None, parsed, scope):
    """The search for a parsed ``--query``: plain text matches name, id and description; anything
    else is the query language of core.query (status:failed lr>0.01 ...), whose fields are the
    scope's columns, hyperparameters and metrics."""
    from exptable_desktop.core import query as q
    from exptable_desktop.core.filters import SearchQuery

    if parsed is None:
        return None
    if parsed.is_plain_text:
        return SearchQuery(text)
    try:
        return q.QuerySearch(q.compile_query(parsed, q.catalogue_for(scope)))
    except q.QueryError as exc:
        raise cli.CliError(f"--query: {exc}") from None


def cmd_export_csv(args) -> int:
    from exptable_desktop.core import columns as C
    from exptable_desktop.core.viewstate import state_from_dict
    from exptable_desktop.io.csv_export import CsvOptions, table_for_export, write_csv
    from exptable_desktop.paths import current_user
    from exptable_desktop.store import bulk

    chosen_keys = resolve_columns(args.columns) if args.columns else None
    parsed_query = _parse_query(args.query)
    cli._open(args, create=False)
    scope, scope_key, project = _scope(args.project, args.archived)
    state = state_from_dict(bulk.load_saved_view(current_user(), scope_key), project is None or len(scope.project_ids) > 1)
    if chosen_keys is not None:
        keys = chosen_keys
    else:
        hidden = set(state.hidden)
        keys = [k for k in state.order if k not in hidden and k != "check"]
    search = _query(args.query, parsed_query, scope)
    sort = [(k, d) for k, d in state.sort if k in keys or not C.spec_for(k).is_custom]
    table = table_for_export(scope, keys, sort=sort, search=search, user=current_user())
    options = CsvOptions(precise=args.precise, bom=args.bom, precise_keys=frozenset(state.precise))
    with _output(args.output) as out:
        rows = write_csv(out, table, keys, options=options)
    if args.output:
        print(f"wrote {rows:,} experiments x {len(keys)} columns to {args.output}", file=sys.stderr)
    return 0


# ---- export json ------------------------------------------------------------------------------

def cmd_export_json(args) -> int:
    from exptable_desktop.io.json_export import write_json

    ids = cli._read_ids(args.ids)
    cli._open(args, create=False)
    ids = cli._resolve_ids(ids)
    with _output(args.output) as out:
        count = write_json(out, ids)
    if args.output:
        print(f"wrote {count} experiment{'s' if count != 1 else ''} to {args.output}", file=sys.stderr)
    return 0


# ---- import -----------------------------------------------------------------------------------

def cmd_import(args) -> int:
    from exptable_desktop.io.importers import run_import
    from exptable_desktop.io.importers.common import ImportCancelled, SourceError

    cli._open(args, create=True)
    try:
        report = run_import(args.source, args.location, project=args.project,
                            on_progress=_progress(f"importing {args.source} runs:"))
    except SourceError as exc:
        raise cli.CliError(str(exc)) from None
    except ImportCancelled as exc:
        raise cli.CliError(str(exc)) from None
    print(report.summary())
    for line in report.details():
        print(line, file=sys.stderr if line.startswith(("problem", "failed", "skipped")) else sys.stdout)
    return 1 if report.failed else 0


# ---- bundles ------------------------------------------------------------------------------------

def cmd_bundle_export(args) -> int:
    from exptable_desktop.io.bundle import BundleError, export_bundle

    ids = cli._read_ids(args.ids)
    cli._open(args, create=False)
    ids = cli._resolve_ids(ids)
    target = Path(args.output).expanduser()
    if target.is_dir():
        raise cli.CliError(f"{target} is a folder; give a file name with -o")
    try:
        stats = export_bundle(ids, target, on_progress=_progress("bundling experiments:"))
    except BundleError as exc:
        raise cli.CliError(str(exc)) from None
    except OSError as exc:
        raise cli.CliError(f"cannot write {target}: {exc.strerror or exc}") from None
    print(stats.summary(str(target)))
    return 0


def cmd_bundle_import(args) -> int:
    from exptable_desktop.io.bundle import BundleError, import_bundle

    if not Path(args.bundle).expanduser().is_file():
        raise cli.CliError(f"no bundle at {args.bundle}")
    cli._open(args, create=True)
    try:
        stats = import_bundle(Path(args.bundle).expanduser(), on_progress=_progress("unpacking experiments:"))
    except BundleError as exc:
        raise cli.CliError(str(exc)) from None
    print(stats.summary(args.bundle))
    if stats.skipped:
        shown = ", ".join(stats.skipped[:5]) + (f" and {len(stats.skipped) - 5} more" if len(stats.skipped) > 5 else "")
        print(f"{cli.PROG}: already present, not imported: {shown}", file=sys.stderr)
    for note in stats.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


# ---- Parser -------------------------------------------------------------------------------------

def add_io_commands(sub, common) -> None:
    """Add ``export``, ``import`` and ``bundle`` to ``exptable``'s sub-command parser."""

    p = sub.add_parser("export", parents=[common], help="write experiments as CSV (the table) or JSON")
    kinds = p.add_subparsers(title="formats", metavar="FORMAT", parser_class=cli._Parser, required=True)
    c = kinds.add_parser("csv", parents=[common], help="the table's columns as CSV (stdout without -o)")
    c.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    c.add_argument("--project", metavar="P", type=cli.project_path,
                   help="project path (sub-projects included); default: all")
    c.add_argument("--archived", action="store_true", help="the archive instead")
    c.add_argument("--query", metavar="Q", help="only experiments matching Q: text in name, id or description, or "
                   "a query as in the search box (status:failed tag:best lr>0.01 ...)")
    c.add_argument("--columns", nargs="+", metavar="KEY",
                   help="columns in this order (default: the columns shown for the project in the app); "
                   "best:val/acc@min:val/loss is val/acc at the step of min val/loss")
    c.add_argument("--precise", action="store_true",
                   help="full precision (exact floats, seconds, ISO 8601 UTC times) instead of values as shown")
    c.add_argument("--bom", action="store_true", help="start with a UTF-8 byte order mark (for Excel on Windows)")
    c.set_defaults(func=cmd_export_csv)
    j = kinds.add_parser("json", parents=[common], help="experiments whole as JSON (stdout without -o)")
    j.add_argument("ids", nargs="+", metavar="ID", help="experiment ids; - reads them from stdin")
    j.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of standard output")
    j.set_defaults(func=cmd_export_json)

    p = sub.add_parser("import", parents=[common],
                       help="bring runs in from ClearML offline sessions, MLflow or TensorBoard")
    p.add_argument("source", choices=("clearml", "mlflow", "tensorboard"), help="the tool that recorded the runs")
    p.add_argument("location", metavar="SOURCE",
                   help="clearml: a session zip or folder (or a folder of them); mlflow: ./mlruns or a tracking "
                        "URI such as sqlite:///mlflow.db; tensorboard: a log folder")
    p.add_argument("--project", metavar="P", type=cli.project_path,
                   help="put every run in project P (default: the source's own)")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("bundle", parents=[common], help="share experiments between machines as one .etb file")
    actions = p.add_subparsers(title="actions", metavar="ACTION", parser_class=cli._Parser, required=True)
    e = actions.add_parser("export", parents=[common], help="write experiments and all they own to a bundle")
    e.add_argument("ids", nargs="+", metavar="ID", help="experiment ids; - reads them from stdin")
    e.add_argument("-o", "--output", required=True, metavar="FILE", help="the bundle to write (runs.etb)")
    e.set_defaults(func=cmd_bundle_export)
    i = actions.add_parser("import", parents=[common], help="add a bundle's experiments (ids kept)")
    i.add_argument("bundle", metavar="FILE", help="the bundle to read (runs.etb)")
    i.set_defaults(func=cmd_bundle_import)
