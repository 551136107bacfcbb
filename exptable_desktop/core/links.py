"""``exptable://`` links: to an experiment, to a comparison and to a table view.

    exptable://experiment/<id>
    exptable://compare?ids=<id>,<id>,...
    exptable://view?project=3&path=vision/cnn&deep=1&columns=type&columns=name&order=-last_update&q=...

A view link carries the whole view (as the reference's URL does, feature inventory 5.5), so it
opens the same table for anyone on the same database without a saved view: ``columns`` lists the
visible columns in display order (built-in keys, or custom column keys), ``widths`` their widths
(``key:px`` comma-separated), ``order`` the sort keys (``-`` = descending), ``filters`` the column
filters as JSON, ``q``/``qreg`` the search and its regex flag, ``archive`` and ``deep`` the scope,
``project`` the project id with ``path`` to find it again by name, and ``name`` the saved view's
name when it came from one. Links never hold a database URL (which may hold a password).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from exptable_desktop.core.columns import BUILTIN_COLUMNS, BUILTIN_BY_KEY, is_valid_key, spec_for
from exptable_desktop.core.filters import filter_from_dict
from exptable_desktop.core.named_views import ViewSpec
from exptable_desktop.core.viewstate import MAX_WIDTH, MIN_WIDTH, default_state

SCHEME = "exptable"
_ID = re.compile(r"^[0-9A-Za-z_-]{1,64}$")
MAX_COMPARE = 100


class LinkError(ValueError):
    """A link that is not an ExpTable link, or not a well-formed one; one line for a person."""


@dataclass(frozen=True)
class ExperimentLink:
    """A parsed ``exptable://experiment/<id>`` link."""
    experiment_id: str


@dataclass(frozen=True)
class CompareLink:
    """A parsed ``exptable://compare?ids=...`` link: the experiments to compare, in order."""
    ids: tuple[str, ...]


@dataclass
class ViewLink:
    """A parsed ``exptable://view?...`` link: the whole table view it carries, and its saved view's name if any."""
    spec: ViewSpec
    name: str = ""


Link = ExperimentLink | CompareLink | ViewLink


def _check_id(text: str) -> str:
    if not _ID.match(text):
        raise LinkError(f"{text!r} is not an experiment id")
    return text


def experiment_link(experiment_id: str) -> str:
    return f"{SCHEME}://experiment/{quote(_check_id(experiment_id), safe='')}"


def compare_link(ids) -> str:
    ids = [_check_id(i) for i in dict.fromkeys(ids)]
    if len(ids) < 2:
        raise LinkError("a comparison needs at least 2 experiments")
    return f"{SCHEME}://compare?" + urlencode({"ids": ",".join(ids)})


def view_link(spec: ViewSpec, name: str = "") -> str:
    table = spec.table
    visible = [k for k in table.order if k not in table.hidden and k != "check"]
    params: list[tuple[str, str]] = []
    if spec.project_id is not None:
        params.append(("project", str(spec.project_id)))
    if spec.project_path:
        params.append(("path", spec.project_path))
    params.append(("deep", "1" if spec.deep else "0"))
    if spec.archive:
        params.append(("archive", "1"))
    params += [("columns", key) for key in visible]
    widths = ",".join(f"{key}:{int(table.widths[key])}" for key in visible if key in table.widths)
    if widths:
        params.append(("widths", widths))
    params += [("order", ("-" if descending else "") + key) for key, descending in table.sort]
    filters = {k: f.to_dict() for k, f in table.filters.items() if f.active}
    if filters:
        params.append(("filters", json.dumps(filters, sort_keys=True, separators=(",", ":"))))
    params += [("precise", key) for key in table.precise]
    if table.starred_first:
        params.append(("starred_first", "1"))
    if table.starred_only:
        params.append(("starred_only", "1"))
    if spec.search:
        params.append(("q", spec.search))
        if spec.regex:
            params.append(("qreg", "1"))
    if name:
        params.append(("name", name))
    return f"{SCHEME}://view?" + urlencode(params, quote_via=quote)


def _flag(values: dict, key: str, default: bool) -> bool:
    raw = values.get(key, [None])[-1]
    if raw is None:
        return default
    if raw.lower() in ("1", "true", "yes"):
        return True
    if raw.lower() in ("0", "false", "no"):
        return False
    raise LinkError(f"{key}={raw!r} should be 1 or 0")


def _view_from_params(values: dict) -> ViewLink:
    project = values.get("project", [None])[-1]
    project_id = None
    if project not in (None, ""):
        if not project.isdigit():
            raise LinkError(f"project={project!r} should be a project id")
        project_id = int(project)
    deep = _flag(values, "deep", True)
    spec = ViewSpec(project_id=project_id, project_path=values.get("path", [""])[-1], deep=deep,
                    archive=_flag(values, "archive", False), search=values.get("q", [""])[-1],
                    regex=_flag(values, "qreg", False))
    table = default_state(spec.multi_project)
    columns = values.get("columns")
    if columns:
        unknown = [key for key in columns if not is_valid_key(key)]
        if unknown:
            raise LinkError(f"unknown column {unknown[0]!r} in the link")
        custom = [key for key in dict.fromkeys(columns) if spec_for(key).is_custom]
        builtin = [c.key for c in BUILTIN_COLUMNS]
        shown = ["check"] + [key for key in dict.fromkeys(columns) if key != "check"]
        table.custom = custom
        table.order = shown + [key for key in builtin if key not in shown]
        table.hidden = [key for key in builtin if key not in shown and BUILTIN_BY_KEY[key].hideable]
    for item in (values.get("widths", [""])[-1] or "").split(","):
        if not item:
            continue
        key, _, px = item.rpartition(":")
        if not key or not px.isdigit() or not is_valid_key(key):
            raise LinkError(f"widths item {item!r} should be <column>:<pixels>")
        table.widths[key] = max(MIN_WIDTH, min(MAX_WIDTH, int(px)))
    if "order" in values:
        sort = []
        for item in values["order"]:
            key = item[1:] if item.startswith("-") else item
            if is_valid_key(key) and spec_for(key).sortable:  # unknown sort keys fall back, as the reference does
                sort.append((key, item.startswith("-")))
        table.sort = sort or table.sort
    raw_filters = values.get("filters", [""])[-1]
    if raw_filters:
        try:
            decoded = json.loads(raw_filters)
            if not isinstance(decoded, dict):
                raise ValueError("not an object")
            table.filters = {key: filter_from_dict(value) for key, value in decoded.items()
                             if is_valid_key(key) and spec_for(key).filter_kind}
        except (ValueError, TypeError) as exc:
            raise LinkError(f"the link's filters cannot be read: {exc}") from None
    table.precise = [k for k in values.get("precise", []) if k in table.custom]
    table.starred_first = _flag(values, "starred_first", False)
    table.starred_only = _flag(values, "starred_only", False)
    spec.table = table
    return ViewLink(spec, values.get("name", [""])[-1])


def parse_link(url: str) -> Link:
    """What ``url`` links to; LinkError (one line) for anything else."""
    text = (url or "").strip()
    parts = urlsplit(text)
    if parts.scheme.lower() != SCHEME:
        raise LinkError(f"not an {SCHEME}:// link: {text[:80]!r}")
    kind = parts.netloc.lower()
    try:
        values = parse_qs(parts.query, keep_blank_values=True, strict_parsing=False)
    except ValueError as exc:
        raise LinkError(f"the link's query cannot be read: {exc}") from None
    if kind == "experiment":
        path = parts.path.strip("/")
        if not path or "/" in path:
            raise LinkError(f"{SCHEME}://experiment/ needs one experiment id")
        return ExperimentLink(_check_id(path))
    if kind == "compare":
        ids = [i for raw in values.get("ids", []) for i in raw.split(",") if i]
        ids = list(dict.fromkeys(_check_id(i) for i in ids))
        if len(ids) < 2:
            raise LinkError(f"{SCHEME}://compare needs ids=<id>,<id> (at least 2)")
        if len(ids) > MAX_COMPARE:
            raise LinkError(f"a comparison takes at most {MAX_COMPARE} experiments")
        return CompareLink(tuple(ids))
    if kind == "view":
        return _view_from_params(values)
    raise LinkError(f"unknown link {SCHEME}://{parts.netloc}; expected experiment, compare or view")


__all__ = ["CompareLink", "ExperimentLink", "Link", "LinkError", "SCHEME", "ViewLink",
           "compare_link", "experiment_link", "parse_link", "view_link"]
