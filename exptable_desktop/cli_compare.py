"""``exptable compare IDS --html out.html``: the compare page's report, without the window.

Registered by ``cli.build_parser``; a wrong command line is ``cli.UsageError`` (exit 2), other errors
a person can fix are ``cli.CliError`` (exit 1); each is one line on stderr.
"""
from __future__ import annotations

import sys

from exptable_desktop import cli

MAX_EXPERIMENTS = 100


def cmd_compare(args) -> int:
    from exptable_desktop.core import compare_export as ce
    from exptable_desktop.core import compare_palette as palette
    from exptable_desktop.store.bulk import experiment_names

    if not args.html and not args.csv:
        raise cli.UsageError("say what to write: --html FILE and/or --csv FILE")
    ids = list(dict.fromkeys(cli._read_ids(args.ids)))
    if len(ids) > MAX_EXPERIMENTS:  # resolving prefixes below can only merge ids, never add any
        raise cli.UsageError(f"at most {MAX_EXPERIMENTS} experiments can be compared; {len(ids)} given")
    cli._open(args, create=False)
    ids = list(dict.fromkeys(cli._resolve_ids(ids)))
    names = experiment_names(ids)
    unknown = [i for i in ids if i not in names]
    if unknown:
        raise cli.CliError(f"no experiment {unknown[0]}" + (f" (and {len(unknown) - 1} more)" if len(unknown) > 1 else ""))
    experiments, _slots = palette.assign([(i, names[i]) for i in ids], palette.load_custom_colours())
    try:
        if args.html:
            path = ce.write_html_report(args.html, experiments, hide_identical=args.hide_identical)
            print(f"{cli.PROG}: wrote {path}", file=sys.stderr)
        if args.csv:
            path = _write_values_csv(args.csv, experiments, args.values)
            print(f"{cli.PROG}: wrote {path}", file=sys.stderr)
    except ce.ExportError as exc:
        raise cli.CliError(str(exc)) from None
    return 0


def _write_values_csv(target: str, experiments, which: str):
    from pathlib import Path

    from exptable_desktop.core import compare_diff as cd
    from exptable_desktop.core import compare_export as ce

    path = Path(target).expanduser()
    table = cd.load_metric_values([e.id for e in experiments])
    try:
        with open(path, "w", encoding="utf-8", newline="") as out:
            ce.write_metric_values_csv(out, experiments, table, which)
    except OSError as exc:
        raise ce.ExportError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


def add_compare_command(sub, common) -> None:
    """Add ``compare`` to ``exptable``'s sub-command parser."""
    p = sub.add_parser("compare", parents=[common],
                       help="write a comparison of experiments as an HTML report (and/or a CSV of values)")
    p.add_argument("ids", nargs="+", metavar="ID", help="up to 100 experiment ids (or unique prefixes of 6+ characters); - reads stdin")
    p.add_argument("--html", metavar="FILE", help="write the whole comparison as one self-contained HTML file")
    p.add_argument("--csv", metavar="FILE", help="write the scalar values table (metric/variant x experiment)")
    p.add_argument("--values", choices=("last", "min", "max"), default="last",
                   help="which values --csv writes (default last)")
    p.add_argument("--hide-identical", action="store_true",
                   help="leave out hyperparameters and details that are the same in every experiment")
    p.set_defaults(func=cmd_compare)
